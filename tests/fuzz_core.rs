#![cfg(not(target_arch = "wasm32"))]
//! Property-based fuzzing of the pure core (`src/core`, `src/error.rs`) with proptest.
//!
//! Inputs are either arbitrary [`Json`] trees or, more usefully, *valid shapes that are then
//! mutated* (fields replaced, deleted, retyped, shadowed) and filled with hostile strings.
//! Every property is a real check (an oracle or an invariant), and nothing may panic.
//!
//! * `FUZZ_CASES` (default 2000): generated inputs in total, split across the properties
//!   by weight (rounded up, so the total run is at least `FUZZ_CASES`).
//! * `FUZZ_SEED`: replay a run; by default a fresh seed is drawn and printed.
//!
//! Known defects of the core are not fixed here (this file only tests). Each one is named
//! in [`KNOWN`], kept out of the strict checks by a predicate that describes it exactly
//! (so every other input is still checked strictly), counted in the summary, and pinned
//! by an `#[ignore]`d reproducer at the end (`cargo test --test fuzz_core -- --ignored`).
//! When a defect is fixed, drop its predicate and un-ignore its reproducer.

use auth0_provision::core::config::{self, ConfigError};
use auth0_provision::core::decide::{self, Decision, ResolvedRole};
use auth0_provision::core::encode;
use auth0_provision::core::event::{self, Event, EventError, Trigger};
use auth0_provision::core::json::Json;
use auth0_provision::core::mgmt::{self, Lookup, MAX_ROLE_PAGES};
use auth0_provision::core::policy::{self, OnError, Policy, PolicyError, RoleRef, When};
use auth0_provision::core::retry::{self, BASE_BACKOFF_MS, MAX_WAIT_MS};
use auth0_provision::error::{clip, Call, Error};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

type Check = Result<(), TestCaseError>;

// ---------------------------------------------------------------------------------------
// Budget, seeding, reporting
// ---------------------------------------------------------------------------------------

/// Share of `FUZZ_CASES` per property (percent); one entry per `#[test]` below.
const WEIGHTS: &[(&str, u64)] = &[
    ("policy", 14),
    ("event", 11),
    ("decide", 18),
    ("segment", 7),
    ("mgmt_requests", 7),
    ("mgmt_responses", 10),
    ("retry", 9),
    ("http_date", 5),
    ("origin", 9),
    ("clip", 4),
    ("error_display", 6),
];
const _: () = {
    let mut sum = 0;
    let mut i = 0;
    while i < WEIGHTS.len() {
        sum += WEIGHTS[i].1;
        i += 1;
    }
    assert!(sum == 100);
};

/// Defects found in the core, kept out of the strict checks (see the module docs).
const KNOWN: &[(&str, &str)] = &[
    (
        "origin-bracket-panic",
        "config::parse_origin/split_port panics (byte index not a char boundary) when a \
         multi-byte char follows `]` of a bracketed host, e.g. \"[::1]é1\"",
    ),
    (
        "origin-bracket-separator",
        "config::parse_origin/split_port takes ANY char after `]` as the port separator: \
         \"https://[::1]/8080\" and \"[::1]x80\" become \"https://[::1]:8080\" / \":80\"",
    ),
    (
        "policy-empty-path",
        "policy::parse_policy reports an unknown top-level key \"\" with an empty path",
    ),
    (
        "policy-display-unbounded",
        "Error::Policy's Display joins every error and echoes unknown keys in full: \
         it is not bounded by 300 bytes",
    ),
    (
        "http-date-overflow",
        "retry::http_date_ms (days_from_civil / days * 86_400) overflows i64 for huge years \
         (|year| > ~2.9e11): a panic with overflow checks, a wrapped time without",
    ),
    (
        "token-ttl-nan",
        "mgmt::token_ttl_ms returns NaN when expires_in * 1000 overflows to infinity \
         (expires_in > ~1.8e305, which parse_token accepts as finite and positive)",
    ),
    (
        "backoff-nan-jitter",
        "retry::backoff_ms returns NaN (outside 0..=MAX_WAIT_MS) when jitter is NaN",
    ),
];

fn total_budget() -> u64 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2000)
}

fn cases_for(name: &str) -> u32 {
    let w = WEIGHTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, w)| *w)
        .expect("property listed in WEIGHTS");
    let n = (total_budget() * w).div_ceil(100).max(1);
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let s = std::env::var("FUZZ_SEED")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0);
                splitmix(t ^ u64::from(std::process::id()))
            });
        eprintln!(
            "fuzz_core: FUZZ_CASES={} FUZZ_SEED={s} (set FUZZ_SEED to replay this run)",
            total_budget()
        );
        s
    })
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn rng_for(name: &str) -> TestRng {
    let mut x = seed();
    for b in name.bytes() {
        x = splitmix(x ^ u64::from(b));
    }
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        x = splitmix(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

static TOTAL: AtomicU64 = AtomicU64::new(0);
static FINISHED: AtomicUsize = AtomicUsize::new(0);
static HITS: Mutex<BTreeMap<&'static str, (u64, String)>> = Mutex::new(BTreeMap::new());

/// Records that a generated input hit the known defect `id` (keeps the shortest example).
fn known(id: &'static str, example: impl Debug) {
    assert!(KNOWN.iter().any(|(k, _)| *k == id), "unlisted defect {id}");
    let ex = format!("{example:?}");
    let mut hits = HITS.lock().unwrap_or_else(|e| e.into_inner());
    let e = hits.entry(id).or_insert((0, ex.clone()));
    e.0 += 1;
    if ex.len() < e.1.len() {
        e.1 = ex;
    }
}

/// Runs one property for its share of the budget; panics with the shrunk input on failure.
fn fuzz<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Check)
where
    S: Strategy,
    S::Value: Debug,
{
    let cases = cases_for(name);
    let config = Config {
        cases,
        failure_persistence: None, // no proptest-regressions/ files in the tree
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng_for(name));
    let ran = AtomicU64::new(0);
    let start = std::time::Instant::now();
    let result = runner.run(&strategy, |v| {
        ran.fetch_add(1, Ordering::Relaxed);
        test(v)
    });
    let n = ran.load(Ordering::Relaxed);
    eprintln!(
        "fuzz_core: {name:<15} {n:>8} cases in {:>6.2}s",
        start.elapsed().as_secs_f64()
    );
    let total = TOTAL.fetch_add(n, Ordering::Relaxed) + n;
    if FINISHED.fetch_add(1, Ordering::Relaxed) + 1 == WEIGHTS.len() {
        eprintln!(
            "fuzz_core: TOTAL {total} cases across {} properties",
            WEIGHTS.len()
        );
        let hits = HITS.lock().unwrap_or_else(|e| e.into_inner());
        for (id, what) in KNOWN {
            if let Some((count, ex)) = hits.get(id) {
                eprintln!("fuzz_core: known defect {id} hit {count}x ({what}); e.g. {ex}");
            }
        }
    }
    if let Err(e) = result {
        panic!(
            "fuzz_core: property `{name}` failed (replay: FUZZ_SEED={} FUZZ_CASES={})\n{e}",
            seed(),
            total_budget()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Generators: strings and JSON
// ---------------------------------------------------------------------------------------

const HOSTILE: &[&str] = &[
    "",
    " ",
    "/",
    ".",
    "..",
    "../..",
    "?",
    "#",
    "%",
    "%2F",
    "%2e%2e",
    "|",
    "\0",
    "\u{1}",
    "\u{1f}",
    "\u{7f}",
    "\n",
    "\r\n",
    "\t",
    "é",
    "ü",
    "ß",
    "İ",
    "🙂",
    "👩‍👩‍👧",
    "\u{202e}",
    "\u{feff}",
    "\u{2028}",
    "\u{a0}",
    "\u{ffff}",
    "\u{10ffff}",
    "a@evil.com@example.com",
    "a@example.com@evil.com",
    "@example.com",
    "a@",
    "@",
    "@@",
    "user@EXAMPLE.COM",
    "rol_",
    "rol_1",
    "auth0|63d1",
    "google-oauth2|1",
    "https://",
    "http://",
    "https://example.com/",
    "[::1]",
    "[::1]/8080",
    "[::1]é1",
    "localhost",
    "127.0.0.1",
    "0",
    "-1",
    "+5",
    "4294967296",
    "1e3",
    "NaN",
    "null",
    "true",
    "\"",
    "\\",
    "{}",
    "[]",
    "\u{0}\u{0}",
    "a\u{0}b",
    "a/../b?c#d%e",
    "Sun, 06 Nov 1994 08:49:37 GMT",
];

/// Single characters worth mixing: URL and JSON syntax, controls, boundary code points.
const ALPHABET: &[char] = &[
    'a',
    'Z',
    '0',
    '9',
    '-',
    '_',
    '.',
    '~',
    '/',
    '?',
    '#',
    '%',
    '|',
    '@',
    ' ',
    ':',
    '[',
    ']',
    '"',
    '\\',
    '+',
    ',',
    '&',
    '=',
    '\0',
    '\u{1}',
    '\u{1f}',
    '\u{7f}',
    '\n',
    '\r',
    '\t',
    'é',
    'Ä',
    '\u{80}',
    '\u{7ff}',
    '\u{800}',
    '\u{ffff}',
    '\u{10000}',
    '🙂',
    '\u{202e}',
    '\u{feff}',
    '\u{2028}',
    '\u{a0}',
    '\u{3000}',
];

fn atom() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(HOSTILE).prop_map(str::to_owned),
        3 => any::<char>().prop_map(String::from),
        4 => prop::sample::select(ALPHABET).prop_map(String::from),
        3 => "[a-zA-Z0-9]{1,10}",
    ]
    .boxed()
}

fn hostile() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(HOSTILE).prop_map(str::to_owned),
        6 => prop::collection::vec(atom(), 0..8).prop_map(|v| v.concat()),
        1 => (atom(), 0..700usize).prop_map(|(a, n)| a.repeat(n)),
        1 => prop::sample::select(&[
            ("a", 1023usize),
            ("a", 1024),
            ("a", 1025),
            ("é", 512),
            ("é", 513),
            ("🙂", 256),
            ("/", 2000),
            ("%", 4096),
        ][..])
        .prop_map(|(s, n)| s.repeat(n)),
    ]
    .boxed()
}

/// A value from `pool` most of the time, else a hostile string.
fn pick(pool: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        5 => prop::sample::select(pool).prop_map(str::to_owned),
        1 => hostile(),
    ]
    .boxed()
}

fn num() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => prop::sample::select(&[
            0.0,
            -0.0,
            1.0,
            2.0,
            -1.0,
            0.5,
            1.000_000_000_1,
            100.0,
            250.0,
            86_400.0,
            4_294_967_296.0,
            1e308,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ][..]),
        1 => any::<f64>(),
        2 => (-1000i32..1000).prop_map(f64::from),
    ]
    .boxed()
}

/// Keys the core reads, so random objects and shadowing mutations hit real fields.
const KEYS: &[&str] = &[
    "version",
    "claims_namespace",
    "on_error",
    "rules",
    "name",
    "when",
    "assign_roles",
    "provider",
    "connection",
    "email_domain",
    "client_id",
    "first_login",
    "user",
    "user_id",
    "email",
    "email_verified",
    "app_metadata",
    "provisioning_pending",
    "identities",
    "strategy",
    "client",
    "stats",
    "logins_count",
    "authorization",
    "roles",
    "id",
    "total",
    "access_token",
    "expires_in",
    "errorCode",
    "error",
    "message",
    "error_description",
    "AUTH0_DOMAIN",
    "AUTH0_CLIENT_ID",
    "AUTH0_CLIENT_SECRET",
    "TIMEOUT_MS",
    "",
];

fn key() -> BoxedStrategy<String> {
    prop_oneof![3 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => hostile()].boxed()
}

fn arb_json() -> BoxedStrategy<Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        num().prop_map(Json::Num),
        hostile().prop_map(Json::Str),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Arr),
            prop::collection::vec((key(), inner), 0..6).prop_map(Json::Obj),
        ]
    })
    .boxed()
}

fn s(v: &str) -> Json {
    Json::Str(v.to_owned())
}

fn strs(v: &[String]) -> Json {
    Json::Arr(v.iter().map(|x| s(x)).collect())
}

/// An object of the members that are present.
fn obj(members: Vec<(&str, Option<Json>)>) -> Json {
    Json::Obj(
        members
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Mutations of valid shapes
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    /// Replace the node by an arbitrary value.
    Replace(Json),
    /// Remove it from its parent (the root becomes null).
    Delete,
    /// Change its type while keeping its content (`"a"` → `["a"]`, `1` → `"1"`...).
    Retype,
    /// `""`, `[]`, `{}` or null.
    Empty,
    /// Replace by a hostile string.
    Hostile(String),
    /// Insert a member in front (so it shadows an existing key of the same name).
    Shadow(String, Json),
}

#[derive(Clone, Debug)]
struct Mutation {
    target: usize,
    op: Op,
}

fn mutation() -> BoxedStrategy<Mutation> {
    let op = prop_oneof![
        2 => arb_json().prop_map(Op::Replace),
        2 => Just(Op::Delete),
        2 => Just(Op::Retype),
        1 => Just(Op::Empty),
        2 => hostile().prop_map(Op::Hostile),
        1 => (key(), arb_json()).prop_map(|(k, v)| Op::Shadow(k, v)),
    ];
    (any::<usize>(), op)
        .prop_map(|(target, op)| Mutation { target, op })
        .boxed()
}

fn count_nodes(j: &Json) -> usize {
    1 + match j {
        Json::Arr(items) => items.iter().map(count_nodes).sum(),
        Json::Obj(members) => members.iter().map(|(_, v)| count_nodes(v)).sum(),
        _ => 0,
    }
}

fn apply(root: &mut Json, m: &Mutation) {
    let mut idx = m.target % count_nodes(root);
    if visit(root, &mut idx, &m.op) {
        *root = Json::Null;
    }
}

/// Walks to the `idx`-th node in pre-order; true when that node must be removed.
fn visit(node: &mut Json, idx: &mut usize, op: &Op) -> bool {
    if *idx == 0 {
        return mutate(node, op);
    }
    *idx -= 1;
    let children: Vec<&mut Json> = match node {
        Json::Arr(items) => items.iter_mut().collect(),
        Json::Obj(members) => members.iter_mut().map(|(_, v)| v).collect(),
        _ => return false,
    };
    let mut remove = None;
    for (i, child) in children.into_iter().enumerate() {
        let size = count_nodes(child);
        if *idx < size {
            if visit(child, idx, op) {
                remove = Some(i);
            }
            break;
        }
        *idx -= size;
    }
    if let Some(i) = remove {
        match node {
            Json::Arr(items) => {
                items.remove(i);
            }
            Json::Obj(members) => {
                members.remove(i);
            }
            _ => {}
        }
    }
    false
}

fn mutate(node: &mut Json, op: &Op) -> bool {
    match op {
        Op::Delete => return true,
        Op::Replace(v) => *node = v.clone(),
        Op::Hostile(h) => *node = s(h),
        Op::Empty => {
            *node = match node {
                Json::Str(_) => s(""),
                Json::Arr(_) => Json::Arr(Vec::new()),
                Json::Obj(_) => Json::Obj(Vec::new()),
                _ => Json::Null,
            }
        }
        Op::Retype => {
            *node = match std::mem::replace(node, Json::Null) {
                Json::Null => s("null"),
                Json::Bool(b) => s(if b { "true" } else { "false" }),
                Json::Num(n) => s(&n.to_string()),
                Json::Str(x) if x.is_empty() => Json::Num(0.0),
                Json::Str(x) => Json::Arr(vec![Json::Str(x)]),
                Json::Arr(mut items) if !items.is_empty() => items.swap_remove(0),
                Json::Arr(_) => Json::Obj(Vec::new()),
                Json::Obj(members) => Json::Arr(members.into_iter().map(|(_, v)| v).collect()),
            }
        }
        Op::Shadow(k, v) => match node {
            Json::Obj(members) => members.insert(0, (k.clone(), v.clone())),
            other => *other = Json::Obj(vec![(k.clone(), v.clone())]),
        },
    }
    false
}

/// `base`, unchanged about `keep` times in `keep + 3`, else with 1–4 mutations.
fn mutated(base: BoxedStrategy<Json>, keep: u32) -> BoxedStrategy<Json> {
    let muts = prop_oneof![
        keep => Just(Vec::new()),
        3 => prop::collection::vec(mutation(), 1..5),
    ];
    (base, muts)
        .prop_map(|(mut j, ms)| {
            for m in &ms {
                apply(&mut j, m);
            }
            j
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Structured policies and events (overlapping pools, so rules really match)
// ---------------------------------------------------------------------------------------

const RULE_NAMES: &[&str] = &["r0", "r1", "r2", "premium-for-google", "welcome", " r0"];
const PROVIDERS: &[&str] = &["google-oauth2", "GOOGLE-OAUTH2", "auth0", "samlp", "Auth0"];
const CONNECTIONS: &[&str] = &["google-oauth2", "Username-Password-Authentication", "corp"];
const DOMAINS: &[&str] = &[
    "example.com",
    "Example.COM",
    "@example.com",
    "evil.com",
    "ample.com",
    "exämple.com",
];
const EMAILS: &[&str] = &[
    "a@example.com",
    "a@EXAMPLE.com",
    "b@Example.Com",
    "c@example.com",
    "a@evil.com@example.com",
    "a@example.com@evil.com",
    "a@evilexample.com",
    "a@exämple.com",
    "a@",
    "@example.com",
    "example.com",
    "",
];
const CLIENTS: &[&str] = &["app1", "app2", "APP1"];
const ROLES: &[&str] = &["Premium User", "Admin", "premium user", "rol_1", "rol_2"];
const NAMESPACES: &[&str] = &[
    "https://example.com/",
    "https://example.com/claims/",
    "http://localhost/",
    "https://x.auth0.com/",
    "roles",
];
const USER_IDS: &[&str] = &["auth0|1", "google-oauth2|123", "samlp|corp|a/../b"];

fn str_or_list(pool: &'static [&'static str]) -> BoxedStrategy<Json> {
    prop_oneof![
        pick(pool).prop_map(Json::Str),
        prop::collection::vec(pick(pool), 1..4).prop_map(|v| strs(&v)),
    ]
    .boxed()
}

fn when_json() -> BoxedStrategy<Json> {
    (
        prop::option::weighted(0.35, str_or_list(PROVIDERS)),
        prop::option::weighted(0.3, str_or_list(CONNECTIONS)),
        prop::option::weighted(0.4, str_or_list(DOMAINS)),
        prop::option::weighted(0.25, str_or_list(CLIENTS)),
        prop::option::weighted(0.25, any::<bool>()),
    )
        .prop_map(|(p, c, d, id, first)| {
            obj(vec![
                ("provider", p),
                ("connection", c),
                ("email_domain", d),
                ("client_id", id),
                ("first_login", first.map(Json::Bool)),
            ])
        })
        .boxed()
}

/// A policy of the documented shape. `clean`: rule names made unique and namespaces kept
/// only when acceptable, so that most policies parse (for `decide`).
fn policy_json(clean: bool) -> BoxedStrategy<Json> {
    let rule = (
        pick(RULE_NAMES),
        prop::option::weighted(0.8, when_json()),
        prop::collection::vec(pick(ROLES), 1..4),
    )
        .prop_map(|(name, when, roles)| {
            obj(vec![
                ("name", Some(s(&name))),
                ("when", when),
                ("assign_roles", Some(strs(&roles))),
            ])
        });
    (
        prop::option::of(pick(NAMESPACES)),
        prop::option::of(prop::sample::select(&["allow", "deny"][..])),
        prop::option::weighted(0.2, Just(1.0)),
        prop::collection::vec(rule, 0..5),
    )
        .prop_map(move |(ns, on_error, version, mut rules)| {
            let ns = ns.filter(|n| {
                !clean || (n.starts_with("https://example.com/") && !n.contains(char::is_control))
            });
            if clean {
                let mut seen: Vec<String> = Vec::new();
                for (i, rule) in rules.iter_mut().enumerate() {
                    if let Some(Json::Str(name)) = rule.get("name").cloned() {
                        let mut name = name.trim().to_owned();
                        if name.is_empty() || seen.contains(&name) {
                            name = format!("rule{i}");
                        }
                        seen.push(name.clone());
                        if let Json::Obj(members) = rule {
                            members[0].1 = Json::Str(name);
                        }
                    }
                }
            }
            obj(vec![
                ("version", version.map(Json::Num)),
                ("claims_namespace", ns.map(|n| s(&n))),
                ("on_error", on_error.map(s)),
                ("rules", Some(Json::Arr(rules))),
            ])
        })
        .boxed()
}

fn user_id() -> BoxedStrategy<String> {
    prop_oneof![
        6 => pick(USER_IDS),
        1 => prop::sample::select(&[1usize, 1023, 1024, 1025][..]).prop_map(|n| "u".repeat(n)),
        1 => prop::sample::select(&[511usize, 512, 513][..]).prop_map(|n| "é".repeat(n)),
    ]
    .boxed()
}

fn event_json() -> BoxedStrategy<Json> {
    let user = (
        user_id(),
        prop::option::weighted(0.8, pick(EMAILS)),
        prop::option::weighted(0.8, prop::bool::weighted(0.6)),
        prop::option::weighted(0.3, prop::collection::vec(pick(RULE_NAMES), 0..3)),
        prop::option::weighted(0.2, pick(PROVIDERS)),
    )
        .prop_map(|(id, email, verified, pending, identity)| {
            obj(vec![
                ("user_id", Some(s(&id))),
                ("email", email.map(|e| s(&e))),
                ("email_verified", verified.map(Json::Bool)),
                (
                    "app_metadata",
                    pending.map(|p| obj(vec![("provisioning_pending", Some(strs(&p)))])),
                ),
                (
                    "identities",
                    identity.map(|p| Json::Arr(vec![obj(vec![("provider", Some(s(&p)))])])),
                ),
            ])
        });
    let connection = (
        prop::option::weighted(0.9, pick(CONNECTIONS)),
        prop::option::weighted(0.8, pick(PROVIDERS)),
    )
        .prop_map(|(name, strategy)| {
            obj(vec![
                ("name", name.map(|n| s(&n))),
                ("strategy", strategy.map(|n| s(&n))),
            ])
        });
    (
        user,
        prop::option::weighted(0.9, connection),
        prop::option::weighted(0.7, pick(CLIENTS)),
        prop::option::weighted(0.8, num()),
        prop::option::weighted(0.5, prop::collection::vec(pick(ROLES), 0..3)),
    )
        .prop_map(|(user, connection, client, logins, roles)| {
            obj(vec![
                ("user", Some(user)),
                ("connection", connection),
                (
                    "client",
                    client.map(|c| obj(vec![("client_id", Some(s(&c)))])),
                ),
                (
                    "stats",
                    logins.map(|n| obj(vec![("logins_count", Some(Json::Num(n)))])),
                ),
                (
                    "authorization",
                    roles.map(|r| obj(vec![("roles", Some(strs(&r)))])),
                ),
            ])
        })
        .boxed()
}

fn trigger() -> BoxedStrategy<Trigger> {
    prop::sample::select(&[Trigger::PostLogin, Trigger::PostUserRegistration][..]).boxed()
}

// ---------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------

/// `Error`'s Display stays short (it ends up in logs and in the execution's result).
fn check_display(e: &Error) -> Check {
    let text = e.to_string();
    if let Error::Policy(_) = e {
        if text.len() > 300 {
            known("policy-display-unbounded", text.len());
            return Ok(());
        }
    }
    prop_assert!(!text.is_empty());
    prop_assert!(text.len() <= 300, "{} bytes: {:?}", text.len(), e);
    Ok(())
}

fn check_policy(doc: &Json) -> Check {
    let result = policy::parse_policy(doc);
    match &result {
        Err(errs) => {
            prop_assert!(!errs.is_empty(), "Err with no errors");
            for e in errs {
                prop_assert!(!e.message.is_empty(), "empty message: {:?}", e);
                if e.path.is_empty()
                    && e.message.starts_with("unknown key")
                    && doc.get("").is_some()
                {
                    known("policy-empty-path", e);
                    continue;
                }
                prop_assert!(!e.path.is_empty(), "empty path: {:?}", e);
            }
            check_display(&Error::Policy(errs.clone()))?;
        }
        Ok(p) => {
            prop_assert_eq!(p.on_error, policy::on_error_of(doc));
            let items = doc.get("rules").and_then(Json::as_array);
            prop_assert_eq!(items.map(<[Json]>::len), Some(p.rules.len()));
            if let Some(ns) = &p.claims_namespace {
                prop_assert!(ns.starts_with("https://") || ns.starts_with("http://"));
            }
            for (i, r) in p.rules.iter().enumerate() {
                prop_assert!(!r.name.trim().is_empty(), "blank rule name {:?}", r.name);
                prop_assert!(
                    p.rules[..i].iter().all(|o| o.name != r.name),
                    "duplicate rule name {:?}",
                    r.name
                );
                let w = &r.when;
                for list in [&w.provider, &w.connection, &w.client_id, &w.email_domain]
                    .into_iter()
                    .flatten()
                {
                    prop_assert!(!list.is_empty() && list.iter().all(|x| !x.is_empty()));
                }
                for d in w.email_domain.iter().flatten() {
                    prop_assert!(
                        *d == d.to_ascii_lowercase()
                            && !d.contains('@')
                            && !d.contains(char::is_whitespace),
                        "unnormalised domain {:?}",
                        d
                    );
                }
                for role in &r.assign_roles {
                    prop_assert!(!role.as_str().is_empty());
                    prop_assert_eq!(
                        matches!(role, RoleRef::Id(_)),
                        role.as_str().starts_with("rol_")
                    );
                }
            }
        }
    }
    Ok(())
}

fn check_event(doc: &Json, trigger: Trigger) -> Result<Option<Event>, TestCaseError> {
    match event::parse_event(doc, trigger) {
        Err(e) => {
            prop_assert!(e.field.starts_with("event") || e.field == "pending");
            prop_assert!(!e.message.is_empty());
            check_display(&Error::Event(e))?;
            Ok(None)
        }
        Ok(ev) => {
            prop_assert!(!ev.user_id.is_empty() && ev.user_id.len() <= 1024);
            prop_assert_eq!(
                doc.path("user.user_id").and_then(Json::as_str),
                Some(ev.user_id.as_str())
            );
            prop_assert_eq!(ev.trigger, trigger);
            prop_assert_eq!(
                ev.email_verified,
                doc.path("user.email_verified").and_then(Json::as_bool) == Some(true)
            );
            if let Some(d) = ev.verified_email_domain() {
                prop_assert!(ev.email_verified && !d.is_empty() && !d.contains('@'));
            }
            Ok(Some(ev))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

#[test]
fn fuzz_policy() {
    let doc = prop_oneof![
        4 => mutated(policy_json(false), 1),
        1 => arb_json(),
    ];
    fuzz("policy", doc, |doc| check_policy(&doc));
}

#[test]
fn fuzz_event() {
    let doc = prop_oneof![
        4 => mutated(event_json(), 1),
        1 => arb_json(),
    ];
    fuzz("event", (doc, trigger()), |(doc, t)| {
        check_event(&doc, t).map(drop)
    });
}

/// The rule's conditions, re-derived independently of `decide::check_when`.
fn oracle_holds(w: &When, ev: &Event) -> bool {
    let any = |list: &Option<Vec<String>>, v: Option<&str>, fold: bool| match list {
        None => true,
        Some(items) => v.is_some_and(|v| {
            items.iter().any(|i| {
                if fold {
                    // Deliberately not eq_ignore_ascii_case: the oracle differs from the core.
                    #[allow(clippy::manual_ignore_case_cmp)]
                    let same = i.to_ascii_lowercase() == v.to_ascii_lowercase();
                    same
                } else {
                    i == v
                }
            })
        }),
    };
    let domain = match (&ev.email, ev.email_verified) {
        (Some(e), true) => e
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .filter(|d| !d.is_empty()),
        _ => None,
    };
    any(&w.provider, ev.strategy.as_deref(), true)
        && any(&w.connection, ev.connection.as_deref(), false)
        && any(&w.email_domain, domain.as_deref(), false)
        && any(&w.client_id, ev.client_id.as_deref(), false)
        && w.first_login
            .is_none_or(|first| (ev.logins_count == Some(1.0)) == first)
}

fn check_decision(p: &Policy, ev: &Event, d: &Decision, failed_mask: u32) -> Check {
    prop_assert_eq!(d.rules.len(), p.rules.len());
    let mut expected: Vec<(RoleRef, Vec<String>)> = Vec::new();
    for (rule, out) in p.rules.iter().zip(&d.rules) {
        prop_assert_eq!(&out.name, &rule.name);
        let holds = oracle_holds(&rule.when, ev);
        let pending = ev.pending.contains(&rule.name);
        prop_assert_eq!(
            decide::check_when(&rule.when, ev).is_ok(),
            holds,
            "{:?}",
            rule
        );
        prop_assert_eq!(out.matched, holds || pending, "{:?} -> {:?}", rule, out);
        if rule.when.email_domain.is_some() && !ev.email_verified {
            // An email_domain condition never holds for an unverified email; the rule can
            // still match, but only as a pending rule owed from an earlier login.
            prop_assert!(decide::check_when(&rule.when, ev).is_err());
            if out.matched {
                prop_assert!(pending && out.reason == "pending from an earlier login");
            }
        }
        if out.matched {
            for role in &rule.assign_roles {
                match expected.iter_mut().find(|(r, _)| r == role) {
                    Some((_, names)) => names.push(rule.name.clone()),
                    None => expected.push((role.clone(), vec![rule.name.clone()])),
                }
            }
        }
    }
    // Every wanted role comes from a matched rule's assign_roles, once, in order.
    for (i, w) in d.roles.iter().enumerate() {
        prop_assert!(d.roles[..i].iter().all(|o| o.role != w.role), "dup {:?}", w);
        prop_assert!(!w.rules.is_empty());
        for name in &w.rules {
            let rule = p.rules.iter().position(|r| &r.name == name);
            prop_assert!(rule
                .is_some_and(|i| d.rules[i].matched && p.rules[i].assign_roles.contains(&w.role)));
        }
    }
    let got: Vec<(RoleRef, Vec<String>)> = d
        .roles
        .iter()
        .map(|w| (w.role.clone(), w.rules.clone()))
        .collect();
    prop_assert_eq!(got, expected);

    // pending_after: exactly the matched rules that want a failed role, no repeats.
    let failed: Vec<RoleRef> = d
        .roles
        .iter()
        .enumerate()
        .filter(|(i, _)| failed_mask & (1 << (i % 32)) != 0)
        .map(|(_, w)| w.role.clone())
        .collect();
    let owed = decide::pending_after(d, &failed);
    for (i, n) in owed.iter().enumerate() {
        prop_assert!(!owed[..i].contains(n));
    }
    for out in &d.rules {
        let want = d
            .roles
            .iter()
            .any(|w| failed.contains(&w.role) && w.rules.contains(&out.name));
        prop_assert_eq!(owed.contains(&out.name), want);
    }

    // missing_roles / roles_after over resolved roles (ids may collide on purpose).
    let resolved: Vec<ResolvedRole> = d
        .roles
        .iter()
        .enumerate()
        .map(|(i, w)| ResolvedRole {
            id: format!("rol_{}", i % 3),
            name: w.role.as_str().to_owned(),
        })
        .collect();
    let missing = decide::missing_roles(&resolved, &ev.roles);
    for (i, m) in missing.iter().enumerate() {
        prop_assert!(!ev.roles.contains(&m.name));
        prop_assert!(missing[..i].iter().all(|o| o.id != m.id));
    }
    let after = decide::roles_after(&ev.roles, &missing);
    for n in ev.roles.iter().chain(missing.iter().map(|m| &m.name)) {
        prop_assert!(after.contains(n));
    }
    for (i, n) in after.iter().enumerate() {
        prop_assert!(!after[..i].contains(n));
    }
    prop_assert!(decide::same_names(&after, &after));
    Ok(())
}

#[test]
fn fuzz_decide() {
    // Coverage counters: valid inputs, matched rules, matches through each path.
    let [reached, matched, by_domain, by_pending, wanted] =
        std::array::from_fn::<AtomicU64, 5, _>(|_| AtomicU64::new(0));
    let input = (
        mutated(policy_json(true), 12),
        mutated(event_json(), 12),
        trigger(),
        any::<u32>(),
    );
    fuzz("decide", input, |(pdoc, edoc, t, mask)| {
        check_policy(&pdoc)?;
        let ev = check_event(&edoc, t)?;
        if let (Ok(p), Some(ev)) = (policy::parse_policy(&pdoc), ev) {
            let d = decide::decide(&p, &ev);
            check_decision(&p, &ev, &d, mask)?;
            reached.fetch_add(1, Ordering::Relaxed);
            wanted.fetch_add(d.roles.len() as u64, Ordering::Relaxed);
            for (rule, out) in p.rules.iter().zip(&d.rules).filter(|(_, o)| o.matched) {
                matched.fetch_add(1, Ordering::Relaxed);
                if out.reason != "conditions hold" {
                    by_pending.fetch_add(1, Ordering::Relaxed);
                } else if rule.when.email_domain.is_some() {
                    by_domain.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    });
    let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
    eprintln!(
        "fuzz_core: decide: {} valid policy+event pairs; {} rules matched ({} with an \
         email_domain condition, {} as pending); {} wanted roles",
        n(&reached),
        n(&matched),
        n(&by_domain),
        n(&by_pending),
        n(&wanted)
    );
}

fn percent_decode(e: &str) -> Option<Vec<u8>> {
    let b = e.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = e.get(i + 1..i + 3)?;
            if !hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
            {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

fn check_segment(raw: &str) -> Result<String, TestCaseError> {
    let e = encode::segment(raw);
    prop_assert!(
        e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)),
        "{:?} -> {:?}",
        raw,
        e
    );
    prop_assert!(e != "." && e != "..", "{:?} -> {:?}", raw, e);
    prop_assert_eq!(percent_decode(&e), Some(raw.as_bytes().to_vec()));
    prop_assert_eq!(e.is_empty(), raw.is_empty());
    Ok(e)
}

#[test]
fn fuzz_segment() {
    let input = (hostile(), hostile(), hostile());
    fuzz("segment", input, |(a, b, c)| {
        check_segment(&a)?;
        // form(): one `=` per pair, pairs split on `&`, both sides decode back.
        let f = encode::form(&[(&a, &b), (&b, &c)]);
        let pairs: Vec<&str> = f.split('&').collect();
        prop_assert_eq!(pairs.len(), 2);
        for (pair, (k, v)) in pairs.iter().zip([(&a, &b), (&b, &c)]) {
            let (ek, ev) = pair.split_once('=').expect("one =");
            prop_assert!(!ev.contains('='));
            prop_assert_eq!(percent_decode(ek), Some(k.as_bytes().to_vec()));
            prop_assert_eq!(percent_decode(ev), Some(v.as_bytes().to_vec()));
        }
        Ok(())
    });
}

#[test]
fn fuzz_mgmt_requests() {
    let ids = prop::collection::vec(pick(&["rol_1", "rol_2", "rol_x\"y"]), 0..5);
    let input = (user_id(), hostile(), ids, 0..MAX_ROLE_PAGES + 5);
    fuzz("mgmt_requests", input, |(uid, other, ids, page)| {
        for user_id in [&uid, &other] {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let r = mgmt::assign_roles_request(user_id, &ids);
            prop_assert_eq!((r.call, r.method), (Call::AssignRoles, "POST"));
            prop_assert_eq!(r.content_type, "application/json");
            let enc = check_segment(user_id)?;
            let parts: Vec<&str> = r.path.split('/').collect();
            prop_assert_eq!(parts, vec!["", "api", "v2", "users", enc.as_str(), "roles"]);
            prop_assert!(!r.path.contains(['?', '#']));
            let body: serde_json::Value =
                serde_json::from_str(r.body.as_deref().unwrap_or("")).expect("body is JSON");
            prop_assert_eq!(body, serde_json::json!({ "roles": ids }));
        }
        // GET /api/v2/roles/{id}: one segment whatever the id.
        let g = mgmt::get_role_request(&other);
        let enc = check_segment(&other)?;
        let parts: Vec<&str> = g.path.split('/').collect();
        prop_assert_eq!(parts, vec!["", "api", "v2", "roles", enc.as_str()]);
        // GET /api/v2/roles?…: exactly four parameters, the name decodes back.
        let l = mgmt::list_roles_request(&other, page);
        let query = l.path.strip_prefix("/api/v2/roles?").expect("roles path");
        prop_assert!(!query.contains(['/', '?', '#']));
        let params: Vec<(&str, &str)> = query
            .split('&')
            .map(|p| p.split_once('=').expect("k=v"))
            .collect();
        prop_assert_eq!(params.len(), 4);
        prop_assert_eq!(params[0].0, "name_filter");
        prop_assert_eq!(percent_decode(params[0].1), Some(other.as_bytes().to_vec()));
        let page_s = page.to_string();
        prop_assert_eq!(params[2], ("page", page_s.as_str()));
        Ok(())
    });
}

fn role_json() -> BoxedStrategy<Json> {
    (
        pick(&["rol_1", "rol_2", "rol_3", ""]),
        pick(ROLES),
        prop::option::weighted(0.3, hostile()),
    )
        .prop_map(|(id, name, desc)| {
            obj(vec![
                ("id", Some(s(&id))),
                ("name", Some(s(&name))),
                ("description", desc.map(|d| s(&d))),
            ])
        })
        .boxed()
}

fn mgmt_body() -> BoxedStrategy<Json> {
    let roles = prop_oneof![
        3 => prop::collection::vec(role_json(), 0..4),
        1 => prop::collection::vec(role_json(), 99..=101),
    ];
    let page = (roles, any::<bool>(), prop::option::of(num())).prop_map(|(roles, bare, total)| {
        if bare {
            Json::Arr(roles)
        } else {
            obj(vec![
                ("roles", Some(Json::Arr(roles))),
                ("start", Some(Json::Num(0.0))),
                ("limit", Some(Json::Num(100.0))),
                ("total", total.map(Json::Num)),
            ])
        }
    });
    let token = (pick(&["eyJ.token", ""]), prop::option::of(num())).prop_map(|(t, exp)| {
        obj(vec![
            ("access_token", Some(s(&t))),
            ("expires_in", exp.map(Json::Num)),
            ("token_type", Some(s("Bearer"))),
        ])
    });
    let error = (
        prop::option::of(pick(&["too_many_requests", "insufficient_scope"])),
        prop::option::of(pick(&["Too Many Requests", "access_denied"])),
        prop::option::of(hostile()),
        prop::option::of(hostile()),
    )
        .prop_map(|(code, err, msg, desc)| {
            obj(vec![
                ("errorCode", code.map(|c| s(&c))),
                ("error", err.map(|c| s(&c))),
                ("message", msg.map(|c| s(&c))),
                ("error_description", desc.map(|c| s(&c))),
            ])
        });
    prop_oneof![
        3 => mutated(page.boxed(), 2),
        1 => mutated(role_json(), 2),
        2 => mutated(token.boxed(), 2),
        2 => mutated(error.boxed(), 2),
        2 => arb_json(),
    ]
    .boxed()
}

const CALLS: &[Call] = &[
    Call::Token,
    Call::ListRoles,
    Call::GetRole,
    Call::AssignRoles,
    Call::UpdateUser,
];

#[test]
fn fuzz_mgmt_responses() {
    let page_no = prop_oneof![3 => 0..MAX_ROLE_PAGES + 3, 1 => 0..u32::MAX];
    let input = (
        mgmt_body(),
        pick(ROLES),
        page_no,
        any::<u16>(),
        prop::sample::select(CALLS),
    );
    fuzz(
        "mgmt_responses",
        input,
        |(body, name, page, status, call)| {
            match mgmt::parse_roles_page(&body) {
                Ok(p) => {
                    let items = match &body {
                        Json::Arr(items) => items.as_slice(),
                        _ => body.get("roles").and_then(Json::as_array).expect("roles"),
                    };
                    prop_assert_eq!(p.roles.len(), items.len());
                    prop_assert!(p.roles.iter().all(|r| !r.id.is_empty()));
                    match mgmt::lookup_step(&name, page, &p) {
                        Lookup::Found(r) => {
                            prop_assert_eq!(p.roles.iter().find(|x| x.name == name), Some(&r));
                        }
                        Lookup::Next(next) => {
                            prop_assert!(next < MAX_ROLE_PAGES, "Next({})", next);
                            prop_assert_eq!(next, page + 1);
                            prop_assert!(!p.roles.is_empty());
                            prop_assert!(p.roles.iter().all(|x| x.name != name));
                        }
                        Lookup::NotFound => {
                            prop_assert!(p.roles.iter().all(|x| x.name != name));
                        }
                    }
                }
                Err(e) => {
                    let typed = matches!(
                        e,
                        Error::BadResponse {
                            call: Call::ListRoles,
                            ..
                        }
                    );
                    prop_assert!(typed, "{:?}", e);
                    check_display(&e)?;
                }
            }
            match mgmt::parse_token(&body) {
                Ok(t) => {
                    prop_assert!(!t.access_token.is_empty());
                    prop_assert!(t.expires_in.is_finite() && t.expires_in > 0.0);
                    let ttl = mgmt::token_ttl_ms(t.expires_in);
                    if ttl.is_nan() && (t.expires_in * 1000.0).is_infinite() {
                        known("token-ttl-nan", t.expires_in);
                        return Ok(());
                    }
                    prop_assert!((0.0..=86_400_000.0).contains(&ttl), "ttl {}", ttl);
                    prop_assert!(ttl < t.expires_in * 1000.0);
                }
                Err(e) => {
                    let typed = matches!(
                        e,
                        Error::BadResponse {
                            call: Call::Token,
                            ..
                        }
                    );
                    prop_assert!(typed, "{:?}", e);
                    check_display(&e)?;
                }
            }
            match mgmt::parse_role(&body) {
                Ok(r) => {
                    prop_assert!(!r.id.is_empty());
                    prop_assert_eq!(body.get("id").and_then(Json::as_str), Some(r.id.as_str()));
                }
                Err(e) => check_display(&e)?,
            }
            for b in [Some(&body), None] {
                let e = mgmt::api_error(call, status, b);
                let field = |k: &str| b.and_then(|b| b.get(k)).and_then(Json::as_str);
                match &e {
                    Error::Api {
                        call: c,
                        status: st,
                        code,
                        message,
                    } => {
                        prop_assert_eq!((*c, *st), (call, status));
                        prop_assert_eq!(code.as_deref(), field("errorCode").or(field("error")));
                        prop_assert_eq!(
                            message.as_deref(),
                            field("message").or(field("error_description"))
                        );
                    }
                    other => prop_assert!(false, "not an Api error: {:?}", other),
                }
                prop_assert_eq!(e.is_transient(), status == 429 || status >= 500);
                check_display(&e)?;
            }
            Ok(())
        },
    );
}

// ----- retry ---------------------------------------------------------------------------

const WEEKDAYS: &[&str] = &["Sun", "Mon", "Wed", "Xyz", ""];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[derive(Clone, Debug)]
struct Date {
    weekday: String,
    day: u32,
    month: usize, // index into MONTHS; 12 = an invalid month name
    year: i64,
    hms: (u32, u32, u32),
    zone: String,
}

impl Date {
    fn text(&self) -> String {
        let month = MONTHS.get(self.month).copied().unwrap_or("Foo");
        let (h, m, s) = self.hms;
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} {}",
            self.weekday, self.day, month, self.year, h, m, s, self.zone
        )
    }

    /// Epoch ms by an independent computation (i128 day counting), when the date is valid.
    fn oracle_ms(&self) -> Option<f64> {
        let (h, m, s) = self.hms;
        if self.zone != "GMT"
            || self.month >= 12
            || !(1..=31).contains(&self.day)
            || h > 23
            || m > 59
            || s > 60
        {
            return None;
        }
        let leaps = |n: i128| n.div_euclid(4) - n.div_euclid(100) + n.div_euclid(400);
        let days_before = |y: i128| 365 * (y - 1) + leaps(y - 1);
        let y = i128::from(self.year);
        let leap = y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0);
        const CUM: [i128; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let doy = CUM[self.month] + i128::from(self.month >= 2 && leap) + i128::from(self.day) - 1;
        let days = days_before(y) - days_before(1970) + doy;
        let secs = days * 86_400 + i128::from(h * 3600 + m * 60 + s);
        Some(secs as f64 * 1000.0)
    }
}

fn date() -> BoxedStrategy<Date> {
    (
        prop::sample::select(WEEKDAYS).prop_map(str::to_owned),
        prop_oneof![8 => 1..=31u32, 1 => 0..=40u32],
        prop_oneof![8 => 0..12usize, 1 => Just(12)],
        prop_oneof![
            6 => 1900..2200i64,
            2 => -100_000..100_000i64,
            1 => any::<i64>(),
            1 => prop::sample::select(&[0, -1, 299_999_999_999, 300_000_000_000, i64::MAX, i64::MIN][..]),
        ],
        prop_oneof![8 => (0..24u32, 0..60u32, 0..61u32), 1 => (0..40u32, 0..80u32, 0..80u32)],
        prop_oneof![8 => Just("GMT".to_owned()), 1 => pick(&["UTC", "gmt", "GMT "])],
    )
        .prop_map(|(weekday, day, month, year, hms, zone)| Date {
            weekday,
            day,
            month,
            year,
            hms,
            zone,
        })
        .boxed()
}

/// Header values: integers, dates, dates with a hostile insertion, hostile strings.
fn header() -> BoxedStrategy<String> {
    prop_oneof![
        3 => (0u64..5_000_000_000).prop_map(|n| n.to_string()),
        1 => (pick(&["", " ", "+", "-", "0"]), 0u32..100, pick(&["", " ", ".5", "s"]))
            .prop_map(|(a, n, b)| format!("{a}{n}{b}")),
        3 => date().prop_map(|d| d.text()),
        1 => (date(), any::<Index>(), atom()).prop_map(|(d, i, a)| insert_at(&d.text(), i, &a)),
        2 => hostile(),
    ]
    .boxed()
}

/// `text` with `extra` inserted at a char boundary chosen by `at`.
fn insert_at(text: &str, at: Index, extra: &str) -> String {
    let bounds: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let i = bounds[at.index(bounds.len())];
    let mut out = text.to_owned();
    out.insert_str(i, extra);
    out
}

/// Known defect `http-date-overflow`: would `http_date_ms(v)` reach the day arithmetic
/// with a year far beyond what i64 seconds (or milliseconds as f64) can hold?
fn overflowing_http_date(v: &str) -> bool {
    let Some((_, rest)) = v.split_once(", ") else {
        return false;
    };
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" || !MONTHS.contains(&parts[1]) {
        return false;
    }
    let day_ok = parts[0].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
    let hms: Option<Vec<u32>> = parts[3].split(':').map(|x| x.parse().ok()).collect();
    let hms_ok = hms.is_some_and(|h| h.len() == 3 && h[0] <= 23 && h[1] <= 59 && h[2] <= 60);
    let huge = parts[2]
        .parse::<i64>()
        .is_ok_and(|y| y.unsigned_abs() > 100_000_000_000);
    day_ok && hms_ok && huge
}

fn jitter() -> BoxedStrategy<f64> {
    prop_oneof![
        4 => 0.0..=1.0f64,
        1 => num(),
    ]
    .boxed()
}

#[test]
fn fuzz_retry() {
    let now = prop_oneof![
        3 => 0.0..4e12f64,
        1 => Just(1_700_000_000_000.0),
        1 => any::<f64>().prop_filter("finite", |x| x.is_finite()),
    ];
    let attempt = prop_oneof![4 => 0..12u32, 1 => any::<u32>()];
    let input = (
        attempt,
        prop::option::of(header()),
        prop::option::of(header()),
        now,
        jitter(),
    );
    fuzz("retry", input, |(attempt, ra, reset, now, jitter)| {
        if ra
            .as_deref()
            .is_some_and(|v| overflowing_http_date(v.trim()))
        {
            known("http-date-overflow", &ra);
            return Ok(());
        }
        let w = retry::backoff_ms(attempt, ra.as_deref(), reset.as_deref(), now, jitter);
        if w.is_nan() && jitter.is_nan() {
            known("backoff-nan-jitter", (attempt, &ra, &reset, now, jitter));
            return Ok(());
        }
        prop_assert!((0.0..=MAX_WAIT_MS).contains(&w), "wait {}", w);
        // Retry-After in delta-seconds wins over everything else.
        if let Some(secs) = ra.as_deref().and_then(|v| v.trim().parse::<u32>().ok()) {
            prop_assert_eq!(w, (f64::from(secs) * 1000.0).min(MAX_WAIT_MS));
        }
        // No hint at all: jittered exponential backoff.
        if ra.is_none() && reset.is_none() {
            let exp = BASE_BACKOFF_MS * 2f64.powi(attempt.saturating_sub(1).min(8) as i32);
            let want = (exp * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)).min(MAX_WAIT_MS);
            prop_assert_eq!(w, want);
        }
        let deadline = now + 10_000.0;
        if retry::may_retry(attempt, w, now, deadline) {
            prop_assert!(attempt < retry::MAX_ATTEMPTS);
        }
        Ok(())
    });
}

#[test]
fn fuzz_http_date() {
    let input = prop_oneof![
        3 => date().prop_map(|d| (d.text(), Some(d))),
        1 => header().prop_map(|h| (h, None)),
    ];
    fuzz("http_date", input, |(text, parts)| {
        if overflowing_http_date(&text) {
            known("http-date-overflow", &text);
            return Ok(());
        }
        let got = retry::http_date_ms(&text);
        if let Some(ms) = got {
            prop_assert!(ms.is_finite());
        }
        if let Some(d) = parts {
            let want = d.oracle_ms();
            if d.year.unsigned_abs() <= 200_000 || want.is_none() {
                prop_assert_eq!(got, want, "{}", text);
            } else {
                prop_assert!(got.is_some());
            }
        }
        Ok(())
    });
}

// ----- config ----------------------------------------------------------------------------

const SCHEMES: &[&str] = &[
    "", "https://", "http://", "HTTPS://", "ftp://", "//", "https:/",
];
const HOSTS: &[&str] = &[
    "example.eu.auth0.com",
    "Example.EU.auth0.com",
    "localhost",
    "LocalHost",
    "127.0.0.1",
    "127.255.255.255",
    "127.0.0.256",
    "127.1",
    "127.0.0.1.evil.com",
    "128.0.0.1",
    "[::1]",
    "[::1]/8080",
    "[::2]",
    "[::1",
    "x",
    "a..b",
    "-",
    "a_b.com",
    "exämple.com",
];
const PORTS: &[&str] = &[
    "", ":443", ":0", ":1", ":65535", ":65536", ":", ":08080", ":99999",
];
const TAILS: &[&str] = &[
    "",
    "/",
    "//",
    "/api",
    "?q=1",
    "#f",
    "@evil.com",
    "\\@evil",
    " ",
];

fn domain() -> BoxedStrategy<String> {
    let structured = (
        pick(&["", " ", "\t", "\u{a0}"]),
        pick(SCHEMES),
        pick(&["", "", "", "user@", "user:pw@"]),
        pick(HOSTS),
        pick(PORTS),
        pick(TAILS),
    )
        .prop_map(|(a, b, c, d, e, f)| [a, b, c, d, e, f].concat());
    prop_oneof![
        4 => structured.clone(),
        2 => (structured, any::<Index>(), atom()).prop_map(|(d, i, a)| insert_at(&d, i, &a)),
        1 => hostile(),
    ]
    .boxed()
}

/// Known defects `origin-bracket-*`: the text after the scheme starts with `[`, and the
/// character after the first `]` is neither absent nor `:`.
fn bracket_separator(domain: &str) -> Option<char> {
    let d = domain.trim();
    let rest = d
        .strip_prefix("https://")
        .or_else(|| d.strip_prefix("http://"))
        .unwrap_or(d);
    let hp = rest.strip_suffix('/').unwrap_or(rest);
    if !hp.starts_with('[') {
        return None;
    }
    let close = hp.find(']')?;
    hp[close + 1..].chars().next().filter(|&c| c != ':')
}

fn is_loopback(host: &str) -> bool {
    let octets: Vec<&str> = host.split('.').collect();
    host == "localhost"
        || host == "[::1]"
        || (octets.len() == 4
            && octets[0] == "127"
            && octets
                .iter()
                .all(|o| (1..=3).contains(&o.len()) && o.parse::<u8>().is_ok()))
}

fn check_origin(domain: &str) -> Result<Option<String>, TestCaseError> {
    if let Some(c) = bracket_separator(domain) {
        if c.len_utf8() > 1 {
            known("origin-bracket-panic", domain);
            return Ok(None);
        }
    }
    match config::parse_origin(domain) {
        Err(e) => {
            check_display(&Error::Config(e))?;
            Ok(None)
        }
        Ok(o) => {
            let (scheme, authority) = o.split_once("://").expect("scheme");
            prop_assert!(
                scheme == "https" || scheme == "http",
                "{:?} -> {:?}",
                domain,
                o
            );
            let host = match authority.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
                _ => authority,
            };
            if scheme == "http" {
                prop_assert!(is_loopback(host), "{:?} -> {:?}", domain, o);
            }
            prop_assert!(
                !authority.contains(['@', '?', '#', '/', '\\'])
                    && !o.contains(char::is_whitespace)
                    && !authority.is_empty(),
                "{:?} -> {:?}",
                domain,
                o
            );
            prop_assert_eq!(authority, authority.to_ascii_lowercase());
            // Idempotent: the origin is its own canonical form.
            let again = config::parse_origin(&o);
            prop_assert_eq!(again.as_deref(), Ok(o.as_str()));
            // Nothing is invented: host and port are taken verbatim from the input.
            if bracket_separator(domain).is_some() {
                known("origin-bracket-separator", (domain, &o));
            } else {
                prop_assert!(
                    domain.to_ascii_lowercase().contains(authority),
                    "{:?} -> {:?}",
                    domain,
                    o
                );
            }
            Ok(Some(o))
        }
    }
}

#[test]
fn fuzz_origin() {
    let secrets = (
        domain(),
        prop::option::of(pick(&["cid", " cid ", ""])),
        prop::option::of(pick(&["secret", " "])),
        prop::option::of(prop_oneof![
            pick(&["100", "99", "15000", "99999", " 8000 ", "1e3"]).prop_map(Json::Str),
            arb_json(),
        ]),
    );
    fuzz("origin", secrets, |(domain, cid, secret, timeout)| {
        let origin = check_origin(&domain)?;
        if bracket_separator(&domain).is_some_and(|c| c.len_utf8() > 1) {
            return Ok(()); // tenant() would hit origin-bracket-panic too
        }
        let secrets = obj(vec![
            ("AUTH0_DOMAIN", Some(s(&domain))),
            ("AUTH0_CLIENT_ID", cid.map(|c| s(&c))),
            ("AUTH0_CLIENT_SECRET", secret.map(|c| s(&c))),
            ("TIMEOUT_MS", timeout),
        ]);
        match config::tenant(&secrets) {
            Ok(t) => {
                prop_assert_eq!(Some(&t.origin), origin.as_ref());
                prop_assert!(!t.client_id.is_empty() && t.client_id == t.client_id.trim());
                prop_assert_eq!(t.audience(), format!("{}/api/v2/", t.origin));
            }
            Err(ConfigError { secret, message }) => {
                prop_assert!(secret.starts_with("AUTH0_") && !message.is_empty());
            }
        }
        match config::timeout_ms(&secrets) {
            Ok(ms) => prop_assert!((100.0..=config::MAX_TIMEOUT_MS).contains(&ms)),
            Err(e) => check_display(&Error::Config(e))?,
        }
        Ok(())
    });
}

// ----- error -----------------------------------------------------------------------------

#[test]
fn fuzz_clip() {
    let max = prop_oneof![3 => any::<Index>().prop_map(Some), 1 => Just(None)];
    fuzz("clip", (hostile(), max), |(text, max)| {
        let max = max.map_or(usize::MAX, |i| i.index(text.len() + 6));
        let c = clip(&text, max);
        prop_assert!(c.len() <= max);
        prop_assert!(text.starts_with(c) && text.is_char_boundary(c.len()));
        // Longest such prefix: the next char would not have fitted.
        if let Some(next) = text[c.len()..].chars().next() {
            prop_assert!(c.len() + next.len_utf8() > max);
        }
        Ok(())
    });
}

#[test]
fn fuzz_error_display() {
    let input = (
        prop::sample::select(CALLS),
        hostile(),
        hostile(),
        any::<u16>(),
        prop::collection::vec((hostile(), hostile()), 0..3),
    );
    fuzz("error_display", input, |(call, a, b, status, perrs)| {
        let errors = [
            Error::RoleNotFound(a.clone()),
            Error::Js(a.clone()),
            Error::Network {
                call,
                message: b.clone(),
            },
            Error::Timeout { call },
            Error::BadResponse {
                call,
                message: "no roles array",
            },
            Error::Api {
                call,
                status,
                code: Some(a.clone()),
                message: Some(b.clone()),
            },
            Error::Event(EventError {
                field: "event.user.user_id",
                message: "expected a string, got an object".into(),
            }),
            Error::Policy(
                perrs
                    .into_iter()
                    .map(|(path, message)| PolicyError { path, message })
                    .collect(),
            ),
        ];
        for e in &errors {
            check_display(e)?;
            let names_call = matches!(
                e,
                Error::Network { .. } | Error::Timeout { .. } | Error::Api { .. }
            );
            prop_assert!(!names_call || e.to_string().contains(call.label()), "{}", e);
        }
        prop_assert_eq!(
            errors.iter().filter(|e| e.is_transient()).count(),
            2 + usize::from(status == 429 || status >= 500)
        );
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Reproducers of the known defects: they fail today (hence ignored); un-ignore on fixing.
// ---------------------------------------------------------------------------------------

fn panics<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).is_err()
}

#[test]
#[ignore = "known defect origin-bracket-panic (src/core/config.rs split_port)"]
fn known_origin_bracket_panic() {
    assert!(!panics(|| config::parse_origin("[::1]é1")));
    assert!(!panics(|| config::parse_origin("http://[::1]🙂")));
}

#[test]
#[ignore = "known defect origin-bracket-separator (src/core/config.rs split_port)"]
fn known_origin_bracket_separator() {
    assert!(config::parse_origin("https://[::1]/8080").is_err());
    assert!(config::parse_origin("http://[::1]x80").is_err());
}

#[test]
#[ignore = "known defect policy-empty-path (src/core/policy.rs Errors::unknown_keys/join)"]
fn known_policy_empty_path() {
    let doc = Json::Obj(vec![
        (String::new(), Json::Num(1.0)),
        ("rules".into(), Json::Arr(Vec::new())),
    ]);
    let errs = policy::parse_policy(&doc).unwrap_err();
    assert!(errs.iter().all(|e| !e.path.is_empty()), "{errs:?}");
}

#[test]
#[ignore = "known defect policy-display-unbounded (src/error.rs Display for Error::Policy)"]
fn known_policy_display_unbounded() {
    let doc = Json::Obj(vec![
        ("k".repeat(400), Json::Null),
        ("rules".into(), Json::Arr(Vec::new())),
    ]);
    let e = Error::Policy(policy::parse_policy(&doc).unwrap_err());
    assert!(e.to_string().len() <= 300, "{} bytes", e.to_string().len());
}

#[test]
#[ignore = "known defect http-date-overflow (src/core/retry.rs http_date_ms/days_from_civil)"]
fn known_http_date_overflow() {
    for v in [
        "Sun, 06 Nov 999999999999 08:49:37 GMT",
        "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",
        "Sun, 06 Nov -9223372036854775808 08:49:37 GMT",
    ] {
        let r = std::panic::catch_unwind(|| retry::http_date_ms(v));
        // Without overflow checks it wraps: a date ~1e12 years away must not come back
        // as a time within the next century or so.
        assert!(
            matches!(r, Ok(None)) || matches!(r, Ok(Some(ms)) if ms.abs() > 1e18),
            "{v}: {r:?}"
        );
    }
}

#[test]
#[ignore = "known defect token-ttl-nan (src/core/mgmt.rs token_ttl_ms)"]
fn known_token_ttl_nan() {
    let body = Json::Obj(vec![
        ("access_token".into(), s("t")),
        ("expires_in".into(), Json::Num(1e308)),
    ]);
    let t = mgmt::parse_token(&body).expect("accepted");
    let ttl = mgmt::token_ttl_ms(t.expires_in);
    assert!((0.0..=86_400_000.0).contains(&ttl), "{ttl}");
}

#[test]
#[ignore = "known defect backoff-nan-jitter (src/core/retry.rs backoff_ms)"]
fn known_backoff_nan_jitter() {
    let w = retry::backoff_ms(1, None, None, 1_700_000_000_000.0, f64::NAN);
    assert!((0.0..=MAX_WAIT_MS).contains(&w), "{w}");
}

/// Sanity of the generators themselves (cheap, deterministic).
#[test]
fn mutations_reach_every_node() {
    let doc = obj(vec![
        ("a", Some(Json::Arr(vec![s("x"), s("y")]))),
        ("b", Some(obj(vec![("c", Some(Json::Num(1.0)))]))),
    ]);
    assert_eq!(count_nodes(&doc), 6);
    for target in 0..6 {
        let mut d = doc.clone();
        apply(
            &mut d,
            &Mutation {
                target,
                op: Op::Delete,
            },
        );
        assert_eq!(
            count_nodes(&d),
            if target == 0 {
                1
            } else {
                6 - count_nodes_at(&doc, target)
            }
        );
    }
    assert!(policy::parse_policy(&obj(vec![("rules", Some(Json::Arr(vec![])))])).is_ok());
    assert!(matches!(
        policy::on_error_of(&obj(vec![("on_error", Some(s("deny")))])),
        OnError::Deny
    ));
}

fn count_nodes_at(j: &Json, target: usize) -> usize {
    fn walk(j: &Json, idx: &mut usize) -> Option<usize> {
        if *idx == 0 {
            return Some(count_nodes(j));
        }
        *idx -= 1;
        let kids: Vec<&Json> = match j {
            Json::Arr(items) => items.iter().collect(),
            Json::Obj(m) => m.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        kids.into_iter().find_map(|k| walk(k, idx))
    }
    walk(j, &mut target.clone()).expect("target in range")
}
