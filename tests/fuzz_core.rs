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
//! The first 100,000-case run found seven defects in the core (a panic on a multi-byte
//! character after `[::1]`, a path taken for a port, an empty error path, an unbounded
//! policy error, a date overflow, two NaN waits); they are fixed, and their reproducers
//! are the regression tests at the end of this file.

use auth0_provision::core::config::{self, ConfigError};
use auth0_provision::core::encode;
use auth0_provision::core::error::{clip, Call, Error};
use auth0_provision::core::event::{self, Event, EventError, Trigger};
use auth0_provision::core::json::Json;
use auth0_provision::core::mgmt::{self, Body, Lookup, ResolvedRole, MAX_ROLE_PAGES};
use auth0_provision::core::plan::{self, Decision};
use auth0_provision::core::policy::{
    self, ClaimValue, Expect, OnError, Permission, Policy, PolicyError, PolicyErrorKind, RoleRef,
    Rule, Ticket, TicketKind, When,
};
use auth0_provision::core::redact::{self, MIN_FRAGMENT};
use auth0_provision::core::retry::{self, BASE_BACKOFF_MS, MAX_WAIT_MS};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

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
    ("clip", 3),
    ("error_display", 4),
    ("redact", 3),
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
    "stop",
    "remove_roles",
    "assign_permissions",
    "set_app_metadata",
    "set_user_metadata",
    "claims",
    "require_mfa",
    "password_reset_ticket",
    "mfa_enrollment_ticket",
    "deny",
    "trigger",
    "organization",
    "user_metadata",
    "has_role",
    "lacks_role",
    "protocol",
    "not",
    "exists",
    "from",
    "store",
    "result_url",
    "ttl_sec",
    "resource_server_identifier",
    "permission_name",
    "provisioning_done",
    "transaction",
    "ticket",
    "ticket_url",
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
    "https://AUTH0.COM./",
    "https://x@auth0.com:443/",
    "https://sandbox.webtask.run/",
    "https://example.com",
    "roles",
];
const USER_IDS: &[&str] = &["auth0|1", "google-oauth2|123", "samlp|corp|a/../b", ".."];
const TRIGGERS: &[&str] = &["post-login", "post-user-registration"];
const ORGS: &[&str] = &["org_1", "acme", "ACME"];
const PROTOCOLS: &[&str] = &["oidc-basic-profile", "oauth2-refresh-token"];
const META_PATHS: &[&str] = &[
    "plan",
    "billing.tier",
    "invite",
    "provisioning_pending",
    "a..b",
];
const META_KEYS: &[&str] = &["plan", "billing", "invite", "tier"];
const CLAIM_NAMES: &[&str] = &[
    "tier",
    "plan",
    "https://example.com/x",
    "http://o.io/y",
    "roles",
];

fn str_or_list(pool: &'static [&'static str]) -> BoxedStrategy<Json> {
    prop_oneof![
        pick(pool).prop_map(Json::Str),
        prop::collection::vec(pick(pool), 1..4).prop_map(|v| strs(&v)),
    ]
    .boxed()
}

/// Small metadata values, with pairs equal by value (`1` and `1.0`, `0` and `-0`).
fn meta_value() -> BoxedStrategy<Json> {
    prop_oneof![
        4 => prop::sample::select(&["pro", "free", "", "Pro"][..]).prop_map(s),
        2 => prop::sample::select(&[0.0, 1.0, -0.0, f64::NAN][..]).prop_map(Json::Num),
        1 => any::<bool>().prop_map(Json::Bool),
        1 => Just(Json::Null),
        1 => Just(obj(vec![("tier", Some(s("gold")))])),
        1 => arb_json(),
    ]
    .boxed()
}

fn meta_object(keys: &'static [&'static str], len: std::ops::Range<usize>) -> BoxedStrategy<Json> {
    prop::collection::vec((pick(keys), meta_value()), len)
        .prop_map(Json::Obj)
        .boxed()
}

/// `{path: value | {"exists": bool}}` metadata conditions.
fn meta_conditions() -> BoxedStrategy<Json> {
    let expect = prop_oneof![
        3 => meta_value(),
        1 => any::<bool>().prop_map(|b| obj(vec![("exists", Some(Json::Bool(b)))])),
    ];
    prop::collection::vec((pick(META_PATHS), expect), 1..3)
        .prop_map(Json::Obj)
        .boxed()
}

fn when_json(nested: bool) -> BoxedStrategy<Json> {
    let basic = (
        prop::option::weighted(0.3, str_or_list(PROVIDERS)),
        prop::option::weighted(0.25, str_or_list(CONNECTIONS)),
        prop::option::weighted(0.35, str_or_list(DOMAINS)),
        prop::option::weighted(0.2, str_or_list(CLIENTS)),
        prop::option::weighted(0.25, any::<bool>()),
        prop::option::weighted(0.2, str_or_list(TRIGGERS)),
        prop::option::weighted(0.1, any::<bool>()),
    );
    let not = if nested {
        prop::option::weighted(0.1, when_json(false)).boxed()
    } else {
        Just(None).boxed()
    };
    let extra = (
        prop::option::weighted(0.1, str_or_list(ORGS)),
        prop::option::weighted(0.1, meta_conditions()),
        prop::option::weighted(0.1, meta_conditions()),
        prop::option::weighted(0.1, str_or_list(ROLES)),
        prop::option::weighted(0.1, str_or_list(ROLES)),
        prop::option::weighted(0.1, str_or_list(PROTOCOLS)),
        not,
    );
    (basic, extra)
        .prop_map(|(basic, extra)| {
            let (p, c, d, id, first, trigger, verified) = basic;
            let (org, app, user, has, lacks, protocol, not) = extra;
            obj(vec![
                ("trigger", trigger),
                ("provider", p),
                ("connection", c),
                ("email_domain", d),
                ("email_verified", verified.map(Json::Bool)),
                ("client_id", id),
                ("first_login", first.map(Json::Bool)),
                ("organization", org),
                ("app_metadata", app),
                ("user_metadata", user),
                ("has_role", has),
                ("lacks_role", lacks),
                ("protocol", protocol),
                ("not", not),
            ])
        })
        .boxed()
}

fn claims_json() -> BoxedStrategy<Json> {
    let from = pick(&[
        "app_metadata.plan",
        "user_metadata.plan",
        "app_metadata.billing.tier",
        "app_metadata.invite",
        "other.x",
    ])
    .prop_map(|src| obj(vec![("from", Some(s(&src)))]));
    let value = prop_oneof![2 => meta_value(), 1 => from];
    prop::collection::vec((pick(CLAIM_NAMES), value), 1..3)
        .prop_map(Json::Obj)
        .boxed()
}

fn effects_json() -> BoxedStrategy<Vec<(&'static str, Option<Json>)>> {
    let permission = (
        pick(&["https://api.example.com/", "urn:api"]),
        pick(&["read", "write"]),
    )
        .prop_map(|(rs, p)| {
            obj(vec![
                ("resource_server_identifier", Some(s(&rs))),
                ("permission_name", Some(s(&p))),
            ])
        });
    let ticket = (
        pick(&[
            "log",
            "app_metadata.invite",
            "app_metadata.plan",
            "app_metadata.a.b",
        ]),
        prop::option::weighted(0.3, pick(&["https://example.com/welcome", "http://x"])),
        prop::option::weighted(0.3, num()),
    )
        .prop_map(|(store, url, ttl)| {
            obj(vec![
                ("store", Some(s(&store))),
                ("result_url", url.map(|u| s(&u))),
                ("ttl_sec", ttl.map(Json::Num)),
            ])
        });
    let mfa = prop_oneof![
        Just(Json::Bool(true)),
        Just(Json::Bool(false)),
        Just(obj(vec![("provider", Some(s("duo")))])),
        Just(obj(vec![
            ("provider", Some(s("any"))),
            ("allow_remember_browser", Some(Json::Bool(true))),
        ])),
    ];
    let deny = prop_oneof![
        Just(Json::Bool(true)),
        Just(Json::Bool(false)),
        pick(&["Access denied.", "Not allowed"]).prop_map(Json::Str),
    ];
    let first = (
        prop::option::weighted(0.85, prop::collection::vec(pick(ROLES), 1..4)),
        prop::option::weighted(0.25, prop::collection::vec(pick(ROLES), 1..3)),
        prop::option::weighted(0.15, any::<bool>()),
        prop::option::weighted(0.15, meta_object(META_KEYS, 1..3)),
        prop::option::weighted(0.1, meta_object(META_KEYS, 1..3)),
        prop::option::weighted(0.15, claims_json()),
    );
    let second = (
        prop::option::weighted(0.1, mfa),
        prop::option::weighted(0.1, prop::collection::vec(permission, 1..3)),
        prop::option::weighted(0.06, ticket.clone()),
        prop::option::weighted(0.06, ticket),
        prop::option::weighted(0.08, deny),
    );
    (first, second)
        .prop_map(|(first, second)| {
            let (assign, remove, stop, app, user, claims) = first;
            let (mfa, perms, reset, enroll, deny) = second;
            vec![
                ("stop", stop.map(Json::Bool)),
                ("assign_roles", assign.map(|r| strs(&r))),
                ("remove_roles", remove.map(|r| strs(&r))),
                ("assign_permissions", perms.map(Json::Arr)),
                ("set_app_metadata", app),
                ("set_user_metadata", user),
                ("claims", claims),
                ("require_mfa", mfa),
                ("password_reset_ticket", reset),
                ("mfa_enrollment_ticket", enroll),
                ("deny", deny),
            ]
        })
        .boxed()
}

/// A policy of the documented shape. `clean`: rule names unique, a usable namespace, some
/// role assignment in every rule and post-login-only effects limited to post-login, so
/// that most policies parse (for `decide`).
fn policy_json(clean: bool) -> BoxedStrategy<Json> {
    let rule = (
        pick(RULE_NAMES),
        prop::option::weighted(0.7, when_json(true)),
        effects_json(),
    )
        .prop_map(move |(name, mut when, mut effects)| {
            if clean {
                let login_only = effects
                    .iter()
                    .any(|(k, v)| ["claims", "require_mfa", "deny"].contains(k) && v.is_some());
                if login_only {
                    let mut members = match when {
                        Some(Json::Obj(m)) => m,
                        _ => Vec::new(),
                    };
                    members.retain(|(k, _)| k != "trigger");
                    members.push(("trigger".into(), s("post-login")));
                    when = Some(Json::Obj(members));
                }
                if effects[1].1.is_none() {
                    effects[1].1 = Some(strs(&["Admin".to_owned()]));
                }
            }
            let mut members = vec![("name", Some(s(&name))), ("when", when)];
            members.extend(effects);
            let mut rule = obj(members);
            if clean {
                scrub(&mut rule);
            }
            rule
        });
    (
        prop::option::of(pick(NAMESPACES)),
        prop::option::of(prop::sample::select(&["allow", "deny"][..])),
        prop::option::weighted(0.2, Just(1.0)),
        prop::collection::vec(rule, 0..5),
    )
        .prop_map(move |(ns, on_error, version, mut rules)| {
            let ns = if clean {
                Some("https://example.com/".to_owned())
            } else {
                ns
            };
            if clean {
                let mut seen: Vec<String> = Vec::new();
                for (i, rule) in rules.iter_mut().enumerate() {
                    if let Json::Obj(members) = rule {
                        let mut name = members[0].1.as_str().unwrap_or("").trim().to_owned();
                        if name.is_empty() || seen.contains(&name) {
                            name = format!("rule{i}");
                        }
                        seen.push(name.clone());
                        members[0].1 = Json::Str(name);
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

/// Drops the values of the pools that are invalid on purpose (clean policies only).
fn scrub(rule: &mut Json) {
    let Json::Obj(members) = rule else { return };
    for (k, v) in members.iter_mut() {
        match (k.as_str(), v) {
            ("claims", Json::Obj(claims)) => claims.retain(|(name, _)| name != "roles"),
            ("password_reset_ticket" | "mfa_enrollment_ticket", Json::Obj(t)) => {
                t.retain(|(f, _)| f == "store");
                t.iter_mut()
                    .for_each(|(_, store)| *store = s("app_metadata.invite"));
            }
            ("when", w) => scrub_when(w),
            _ => {}
        }
    }
}

fn scrub_when(when: &mut Json) {
    let Json::Obj(members) = when else { return };
    for (k, v) in members.iter_mut() {
        match (k.as_str(), v) {
            ("app_metadata" | "user_metadata", Json::Obj(conds)) => {
                conds.retain(|(path, _)| path.split('.').all(|p| !p.is_empty()));
                if conds.is_empty() {
                    conds.push(("plan".into(), s("pro")));
                }
            }
            ("not", w) => scrub_when(w),
            _ => {}
        }
    }
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
    let app_metadata = (
        prop::option::weighted(0.4, prop::collection::vec(pick(RULE_NAMES), 0..3)),
        prop::option::weighted(0.2, prop::collection::vec(pick(RULE_NAMES), 0..3)),
        prop::collection::vec((pick(META_KEYS), meta_value()), 0..3),
    )
        .prop_map(|(pending, done, mut others)| {
            others.extend(pending.map(|p| ("provisioning_pending".to_owned(), strs(&p))));
            others.extend(done.map(|d| ("provisioning_done".to_owned(), strs(&d))));
            Json::Obj(others)
        });
    let user = (
        user_id(),
        prop::option::weighted(0.8, pick(EMAILS)),
        prop::option::weighted(0.8, prop::bool::weighted(0.6)),
        prop::option::weighted(0.5, app_metadata),
        prop::option::weighted(0.2, meta_object(META_KEYS, 0..3)),
        prop::option::weighted(0.2, pick(PROVIDERS)),
    )
        .prop_map(|(id, email, verified, app, user, identity)| {
            obj(vec![
                ("user_id", Some(s(&id))),
                ("email", email.map(|e| s(&e))),
                ("email_verified", verified.map(Json::Bool)),
                ("app_metadata", app),
                ("user_metadata", user),
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
    let organization =
        (prop::option::of(pick(ORGS)), prop::option::of(pick(ORGS))).prop_map(|(id, name)| {
            obj(vec![
                ("id", id.map(|v| s(&v))),
                ("name", name.map(|v| s(&v))),
            ])
        });
    (
        user,
        prop::option::weighted(0.9, connection),
        prop::option::weighted(0.7, pick(CLIENTS)),
        prop::option::weighted(0.8, num()),
        prop::option::weighted(0.5, prop::collection::vec(pick(ROLES), 0..3)),
        prop::option::weighted(0.2, organization),
        prop::option::weighted(0.2, pick(PROTOCOLS)),
    )
        .prop_map(|(user, connection, client, logins, roles, org, protocol)| {
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
                ("organization", org),
                (
                    "transaction",
                    protocol.map(|p| obj(vec![("protocol", Some(s(&p)))])),
                ),
            ])
        })
        .boxed()
}

/// Keeps the first of repeated object keys, as a JS object (hence every real input) has
/// no repeated keys.
fn dedup_keys(j: &mut Json) {
    match j {
        Json::Arr(items) => items.iter_mut().for_each(dedup_keys),
        Json::Obj(members) => {
            let mut seen: Vec<String> = Vec::new();
            members.retain(|(k, _)| {
                let first = !seen.contains(k);
                seen.push(k.clone());
                first
            });
            members.iter_mut().for_each(|(_, v)| dedup_keys(v));
        }
        _ => {}
    }
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
    prop_assert!(!text.is_empty());
    prop_assert!(text.len() <= 300, "{} bytes: {:?}", text.len(), e);
    Ok(())
}

fn is_marker(k: &str) -> bool {
    k == event::PENDING_KEY || k == event::DONE_KEY
}

fn check_policy(doc: &Json) -> Check {
    let result = policy::parse_policy(doc);
    match &result {
        Err(errs) => {
            prop_assert!(!errs.is_empty(), "Err with no errors");
            for e in errs {
                prop_assert!(!e.message().is_empty(), "empty message: {:?}", e);
                prop_assert!(!e.help().is_empty(), "no help: {:?}", e);
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
                prop_assert!(ns.ends_with('/'), "namespace {:?}", ns);
                // Auth0 drops claims under its own domains, however the host is written.
                let authority = ns.split("://").nth(1).unwrap_or_default();
                let authority = authority.split(['/', '\\']).next().unwrap_or_default();
                let host = authority.rsplit('@').next().unwrap_or_default();
                let host = host.split(':').next().unwrap_or_default();
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                for d in ["auth0.com", "webtask.io", "webtask.run"] {
                    prop_assert!(host != d && !host.ends_with(&format!(".{d}")), "{:?}", ns);
                }
            }
            for (i, r) in p.rules.iter().enumerate() {
                prop_assert!(!r.name.trim().is_empty(), "blank rule name {:?}", r.name);
                prop_assert!(
                    p.rules[..i].iter().all(|o| o.name != r.name),
                    "duplicate rule name {:?}",
                    r.name
                );
                check_when_parsed(&r.when)?;
                let e = &r.effects;
                for role in e.assign_roles.iter().chain(&e.remove_roles) {
                    prop_assert!(!role.as_str().is_empty());
                    prop_assert_eq!(
                        matches!(role, RoleRef::Id(_)),
                        role.as_str().starts_with("rol_")
                    );
                }
                if let Some(effect) = e.post_login_only() {
                    let login_only = r
                        .when
                        .trigger
                        .as_ref()
                        .is_some_and(|t| !t.contains(&Trigger::PostUserRegistration));
                    prop_assert!(login_only, "{} may run at registration: {:?}", effect, r);
                }
                for (k, _) in e.set_app_metadata.iter().chain(&e.set_user_metadata) {
                    prop_assert!(!k.is_empty() && !is_marker(k), "metadata key {:?}", k);
                }
                for (name, _) in &e.claims {
                    prop_assert!(
                        name.starts_with("https://") || name.starts_with("http://"),
                        "claim {:?}",
                        name
                    );
                }
                for t in &e.tickets {
                    if let Some(k) = &t.store_key {
                        prop_assert!(!k.is_empty() && !k.contains('.') && !is_marker(k));
                    }
                }
                if let Some(reason) = &e.deny {
                    prop_assert!(!reason.trim().is_empty() && reason.len() <= 200);
                }
            }
        }
    }
    Ok(())
}

fn check_when_parsed(w: &When) -> Check {
    for list in [
        &w.provider,
        &w.connection,
        &w.client_id,
        &w.email_domain,
        &w.organization,
        &w.has_role,
        &w.lacks_role,
        &w.protocol,
    ]
    .into_iter()
    .flatten()
    {
        prop_assert!(!list.is_empty() && list.iter().all(|x| !x.is_empty()));
    }
    for d in w.email_domain.iter().flatten() {
        prop_assert!(
            *d == d.to_ascii_lowercase() && !d.contains('@') && !d.contains(char::is_whitespace),
            "unnormalised domain {:?}",
            d
        );
    }
    for (path, _) in w.app_metadata.iter().chain(&w.user_metadata) {
        prop_assert!(path.split('.').all(|k| !k.is_empty()), "path {:?}", path);
    }
    if let Some(not) = &w.not {
        check_when_parsed(not)?;
    }
    Ok(())
}

fn check_event(doc: &Json, trigger: Trigger) -> Result<Option<Event>, TestCaseError> {
    match event::parse_event(doc, trigger) {
        Err(e) => {
            prop_assert!(e.field.starts_with("event"), "field {:?}", e.field);
            prop_assert!(!e.message.is_empty());
            check_display(&Error::Event(e))?;
            Ok(None)
        }
        Ok(ev) => {
            prop_assert!(!ev.user_id.is_empty() && ev.user_id.len() <= 1024);
            prop_assert!(ev.user_id != "." && ev.user_id != "..");
            prop_assert_eq!(
                doc.path("user.user_id").and_then(Json::as_str),
                Some(ev.user_id.as_str())
            );
            prop_assert_eq!(ev.trigger, trigger);
            prop_assert_eq!(
                ev.email_verified,
                doc.path("user.email_verified").and_then(Json::as_bool) == Some(true)
            );
            prop_assert!(matches!(ev.app_metadata, Json::Obj(_)));
            prop_assert!(matches!(ev.user_metadata, Json::Obj(_)));
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

// ----- the decision: an independent re-derivation of every part of the plan -------------

/// JSON equality by value, objects as maps (inputs have no repeated keys: `dedup_keys`).
fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Obj(x), Json::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, w)| k == k2 && json_eq(v, w)))
        }
        (Json::Arr(x), Json::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        _ => a == b,
    }
}

fn lookup<'a>(j: &'a Json, dotted: &str) -> Option<&'a Json> {
    let mut cur = j;
    for k in dotted.split('.') {
        cur = match cur {
            Json::Obj(m) => &m.iter().find(|(mk, _)| mk == k)?.1,
            _ => return None,
        };
    }
    Some(cur)
}

fn non_null(v: Option<&Json>) -> Option<&Json> {
    v.filter(|v| !matches!(v, Json::Null))
}

/// Whether the conditions hold, re-derived independently of `plan::check_when`.
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
    let meta = |conds: &[(String, Expect)], m: &Json| {
        conds.iter().all(|(path, expect)| {
            let v = non_null(lookup(m, path));
            match expect {
                Expect::Exists(b) => v.is_some() == *b,
                Expect::Equals(want) => match v {
                    None => matches!(want, Json::Null),
                    Some(v) => json_eq(v, want),
                },
            }
        })
    };
    let domain = match (&ev.email, ev.email_verified) {
        (Some(e), true) => e
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .filter(|d| !d.is_empty()),
        _ => None,
    };
    let holds_some = |rs: &Option<Vec<String>>, want: bool| {
        rs.as_ref()
            .is_none_or(|rs| rs.iter().any(|r| ev.roles.contains(r) == want))
    };
    w.trigger.as_ref().is_none_or(|t| t.contains(&ev.trigger))
        && any(&w.provider, ev.strategy.as_deref(), true)
        && any(&w.connection, ev.connection.as_deref(), false)
        && any(&w.email_domain, domain.as_deref(), false)
        && w.email_verified.is_none_or(|v| v == ev.email_verified)
        && any(&w.client_id, ev.client_id.as_deref(), false)
        // A registration counts as the first login (its event has no stats).
        && w.first_login.is_none_or(|first| {
            (ev.logins_count == Some(1.0) || ev.trigger == Trigger::PostUserRegistration) == first
        })
        && w.organization
            .as_ref()
            .is_none_or(|os| os.iter().any(|o| ev.organization.iter().flatten().any(|e| e == o)))
        && meta(&w.app_metadata, &ev.app_metadata)
        && meta(&w.user_metadata, &ev.user_metadata)
        && holds_some(&w.has_role, true)
        && holds_some(&w.lacks_role, false)
        && any(&w.protocol, ev.protocol.as_deref(), false)
        && w.not.as_ref().is_none_or(|n| !oracle_holds(n, ev))
}

/// Roles with the names of the rules asking for them.
type Asked = Vec<(RoleRef, Vec<String>)>;

/// Roles to assign and to remove: for each role, the kind of its last mention wins, with
/// the rules of the trailing run of that kind, ordered by where that run began.
fn expected_roles(matched: &[&Rule]) -> (Asked, Asked) {
    let mut mentions: Vec<(&RoleRef, bool, &str)> = Vec::new();
    for r in matched {
        mentions.extend(
            r.effects
                .assign_roles
                .iter()
                .map(|x| (x, true, r.name.as_str())),
        );
        mentions.extend(
            r.effects
                .remove_roles
                .iter()
                .map(|x| (x, false, r.name.as_str())),
        );
    }
    let mut runs: Vec<(usize, RoleRef, bool, Vec<String>)> = Vec::new();
    for (i, (role, _, _)) in mentions.iter().enumerate() {
        if mentions[..i].iter().any(|m| m.0 == *role) {
            continue;
        }
        let mine: Vec<(usize, bool, &str)> = mentions
            .iter()
            .enumerate()
            .filter(|(_, m)| m.0 == *role)
            .map(|(j, m)| (j, m.1, m.2))
            .collect();
        let kind = mine[mine.len() - 1].1;
        let start = mine.iter().rposition(|m| m.1 != kind).map_or(0, |k| k + 1);
        let names = mine[start..].iter().map(|m| m.2.to_owned()).collect();
        runs.push((mine[start].0, (*role).clone(), kind, names));
    }
    runs.sort_by_key(|r| r.0);
    let pick = |kind: bool| {
        runs.iter()
            .filter(|r| r.2 == kind)
            .map(|r| (r.1.clone(), r.3.clone()))
            .collect()
    };
    (pick(true), pick(false))
}

/// `changes` applied to `base` (null deletes), as Auth0 merges first-level metadata keys.
fn merge(base: &Json, changes: &[(String, Json)]) -> Json {
    let mut members = match base {
        Json::Obj(m) => m.clone(),
        _ => Vec::new(),
    };
    for (k, v) in changes {
        members.retain(|(mk, _)| mk != k);
        if !matches!(v, Json::Null) {
            members.push((k.clone(), v.clone()));
        }
    }
    Json::Obj(members)
}

/// The last value written to each key, in order of last write.
fn last_writes<'a>(lists: impl Iterator<Item = &'a Vec<(String, Json)>>) -> Vec<(String, Json)> {
    let writes: Vec<&(String, Json)> = lists.flatten().collect();
    writes
        .iter()
        .enumerate()
        .filter(|(i, (k, _))| writes[i + 1..].iter().all(|(k2, _)| k2 != k))
        .map(|(_, w)| (*w).clone())
        .collect()
}

/// Debug text as the comparison, so NaN values compare equal to themselves.
fn same_debug(a: &impl Debug, b: &impl Debug) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn check_decision(p: &Policy, ev: &Event, d: &Decision, mask: u32) -> Check {
    prop_assert_eq!(d.rules.len(), p.rules.len());
    let mut stopped = false;
    let mut matched: Vec<&Rule> = Vec::new();
    for (rule, out) in p.rules.iter().zip(&d.rules) {
        prop_assert_eq!(&out.name, &rule.name);
        let holds = oracle_holds(&rule.when, ev);
        prop_assert_eq!(
            plan::check_when(&rule.when, ev).is_ok(),
            holds,
            "{:?}",
            rule.when
        );
        if rule.when.email_domain.is_some() && !ev.email_verified {
            // An email_domain condition never holds for an unverified email, and a pending
            // marker does not widen it: such a rule never matches.
            prop_assert!(plan::check_when(&rule.when, ev).is_err());
            prop_assert!(!out.matched, "{:?} -> {:?}", rule, out);
        }
        if stopped {
            prop_assert!(!out.matched && out.reason.starts_with("not evaluated"));
            continue;
        }
        // A pending marker lifts first_login, and in post-login the trigger too (a failed
        // registration rule completes at the next login); everything else must still hold.
        let relaxed = When {
            first_login: None,
            trigger: if ev.trigger == Trigger::PostLogin {
                None
            } else {
                rule.when.trigger.clone()
            },
            ..rule.when.clone()
        };
        let owed = ev.pending.contains(&rule.name) && oracle_holds(&relaxed, ev);
        prop_assert_eq!(out.matched, holds || owed, "{:?} -> {:?}", rule, out);
        if out.matched {
            matched.push(rule);
            stopped = rule.stop;
        }
    }
    let matched_names: Vec<String> = matched.iter().map(|r| r.name.clone()).collect();
    prop_assert_eq!(plan::rules_where(d, |_| true), matched_names.clone());

    // Roles: every wanted (or removed) role comes from a matched rule asking for it, once.
    for (list, assign) in [(&d.roles, true), (&d.remove, false)] {
        for (i, w) in list.iter().enumerate() {
            prop_assert!(list[..i].iter().all(|o| o.role != w.role), "dup {:?}", w);
            prop_assert!(!w.rules.is_empty());
            for name in &w.rules {
                let asks = matched.iter().any(|r| {
                    &r.name == name && {
                        let e = &r.effects;
                        if assign {
                            &e.assign_roles
                        } else {
                            &e.remove_roles
                        }
                        .contains(&w.role)
                    }
                });
                prop_assert!(asks, "{:?} not asked by a matched rule", w);
            }
        }
    }
    prop_assert!(d
        .roles
        .iter()
        .all(|w| d.remove.iter().all(|x| x.role != w.role)));
    let got = |l: &[plan::WantedRole]| -> Asked {
        l.iter()
            .map(|w| (w.role.clone(), w.rules.clone()))
            .collect()
    };
    let (want_assign, want_remove) = expected_roles(&matched);
    prop_assert_eq!(got(&d.roles), want_assign);
    prop_assert_eq!(got(&d.remove), want_remove);

    // Once-only effects (permissions, tickets) of rules not yet done; first asker wins.
    let fresh: Vec<&&Rule> = matched
        .iter()
        .filter(|r| !ev.done.contains(&r.name))
        .collect();
    let mut perms: Vec<(policy::Permission, String)> = Vec::new();
    for r in &fresh {
        for q in &r.effects.assign_permissions {
            if perms.iter().all(|(x, _)| x != q) {
                perms.push((q.clone(), r.name.clone()));
            }
        }
    }
    prop_assert_eq!(&d.permissions, &perms);
    let tickets: Vec<(policy::Ticket, String)> = fresh
        .iter()
        .flat_map(|r| {
            r.effects
                .tickets
                .iter()
                .map(|t| (t.clone(), r.name.clone()))
        })
        .filter(|(t, _)| {
            t.store_key
                .as_ref()
                .is_none_or(|k| non_null(ev.app_metadata.get(k)).is_none())
        })
        .collect();
    prop_assert_eq!(&d.tickets, &tickets);

    // Deny: the first matched rule that denies; MFA: the last that requires it.
    let deny = matched
        .iter()
        .find_map(|r| r.effects.deny.clone().map(|why| (why, r.name.clone())));
    prop_assert_eq!(&d.deny, &deny);
    let mfa = matched
        .iter()
        .rev()
        .find_map(|r| r.effects.require_mfa.clone());
    prop_assert_eq!(&d.mfa, &mfa);

    // Metadata: the last write per key, only where it changes the current value.
    let app_writes = last_writes(matched.iter().map(|r| &r.effects.set_app_metadata));
    let user_writes = last_writes(matched.iter().map(|r| &r.effects.set_user_metadata));
    let changes = |writes: &[(String, Json)], current: &Json| -> Vec<(String, Json)> {
        writes
            .iter()
            .filter(|(k, v)| match non_null(current.get(k)) {
                None => !matches!(v, Json::Null),
                Some(cur) => !json_eq(cur, v),
            })
            .cloned()
            .collect()
    };
    let app_changes = changes(&app_writes, &ev.app_metadata);
    let user_changes = changes(&user_writes, &ev.user_metadata);
    prop_assert!(
        same_debug(&d.app_metadata, &app_changes),
        "{:?} vs {:?}",
        d.app_metadata,
        app_changes
    );
    prop_assert!(
        same_debug(&d.user_metadata, &user_changes),
        "{:?} vs {:?}",
        d.user_metadata,
        user_changes
    );

    // Claims: last definition per name; `from` reads metadata as it will be after this run.
    let app_after = merge(&ev.app_metadata, &app_writes);
    let user_after = merge(&ev.user_metadata, &user_writes);
    let defs: Vec<(String, ClaimValue)> = {
        let all: Vec<&(String, ClaimValue)> = matched
            .iter()
            .flat_map(|r| r.effects.claims.iter())
            .collect();
        all.iter()
            .enumerate()
            .filter(|(i, (n, _))| all[i + 1..].iter().all(|(m, _)| m != n))
            .map(|(_, c)| (*c).clone())
            .collect()
    };
    let claims: Vec<(String, Json)> = defs
        .into_iter()
        .filter_map(|(name, value)| {
            let v = match value {
                ClaimValue::Fixed(v) => Some(v),
                ClaimValue::From(src) => {
                    let (head, path) = src.split_once('.')?;
                    let m = if head == "app_metadata" {
                        &app_after
                    } else {
                        &user_after
                    };
                    lookup(m, path).cloned()
                }
            };
            non_null(v.as_ref()).map(|v| (name, v.clone()))
        })
        .collect();
    prop_assert!(
        same_debug(&d.claims, &claims),
        "{:?} vs {:?}",
        d.claims,
        claims
    );
    for (i, (n, v)) in d.claims.iter().enumerate() {
        prop_assert!(!matches!(v, Json::Null) && d.claims[..i].iter().all(|(m, _)| m != n));
    }

    // done_after: earlier ∪ completed, once-only rules of the policy only, no repeats.
    let completed: Vec<String> = matched_names
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << (i % 32)) != 0)
        .map(|(_, n)| n.clone())
        .collect();
    let done = plan::done_after(p, &ev.done, &completed);
    for (i, n) in done.iter().enumerate() {
        prop_assert!(!done[..i].contains(n));
        prop_assert!(p
            .rules
            .iter()
            .any(|r| &r.name == n && r.effects.once_only()));
    }
    for n in ev.done.iter().chain(&completed) {
        let once = p
            .rules
            .iter()
            .any(|r| &r.name == n && r.effects.once_only());
        prop_assert_eq!(done.contains(n), once);
    }

    // missing_roles / roles_after over resolved roles (ids may collide on purpose).
    let resolve = |l: &[plan::WantedRole], salt: usize| -> Vec<ResolvedRole> {
        l.iter()
            .enumerate()
            .map(|(i, w)| ResolvedRole {
                id: format!("rol_{}", (i + salt) % 3),
                name: w.role.as_str().to_owned(),
            })
            .collect()
    };
    let (to_add, to_remove) = (resolve(&d.roles, 0), resolve(&d.remove, 1));
    let missing = plan::missing_roles(&to_add, &ev.roles);
    for (i, m) in missing.iter().enumerate() {
        prop_assert!(!ev.roles.contains(&m.name));
        prop_assert!(missing[..i].iter().all(|o| o.id != m.id));
    }
    let removed: Vec<&ResolvedRole> = to_remove.iter().collect();
    let after = plan::roles_after(&ev.roles, &missing, &removed);
    for n in ev.roles.iter().chain(missing.iter().map(|m| &m.name)) {
        prop_assert_eq!(after.contains(n), removed.iter().all(|r| &r.name != n));
    }
    for (i, n) in after.iter().enumerate() {
        prop_assert!(!after[..i].contains(n));
    }
    prop_assert!(plan::same_names(&after, &after));
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
    fuzz("decide", input, |(mut pdoc, mut edoc, t, mask)| {
        dedup_keys(&mut pdoc);
        dedup_keys(&mut edoc);
        check_policy(&pdoc)?;
        let ev = check_event(&edoc, t)?;
        if let (Ok(p), Some(ev)) = (policy::parse_policy(&pdoc), ev) {
            let d = plan::decide(&p, &ev);
            check_decision(&p, &ev, &d, mask)?;
            reached.fetch_add(1, Ordering::Relaxed);
            wanted.fetch_add((d.roles.len() + d.remove.len()) as u64, Ordering::Relaxed);
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
         email_domain condition, {} as pending); {} roles to assign or remove",
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

/// The JSON body of a request, as the host's `JSON.stringify` would send it.
fn json_body(r: &mgmt::Request) -> Option<serde_json::Value> {
    match &r.body {
        Some(Body::Json(j)) => {
            let text = serde_json::to_string(j).expect("serialisable");
            Some(serde_json::from_str(&text).expect("body is JSON"))
        }
        _ => None,
    }
}

#[test]
fn fuzz_mgmt_requests() {
    let ids = prop::collection::vec(pick(&["rol_1", "rol_2", "rol_x\"y"]), 0..5);
    let input = (user_id(), hostile(), ids, 0..MAX_ROLE_PAGES + 5);
    fuzz("mgmt_requests", input, |(uid, other, ids, page)| {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        for user_id in [&uid, &other] {
            // Every /api/v2/users/{id}… path keeps the id one segment, whatever it is.
            let enc = check_segment(user_id)?;
            let user_path = |tail: &[&'static str]| {
                let mut v = vec!["", "api", "v2", "users", enc.as_str()];
                v.extend_from_slice(tail);
                v
            };
            let split =
                |r: &mgmt::Request| r.path.split('/').map(str::to_owned).collect::<Vec<_>>();
            let assign = mgmt::assign_roles_request(user_id, &ids);
            let remove = mgmt::remove_roles_request(user_id, &ids);
            // The last guard: exactly the ids a URL parser would fold are refused.
            let foldable = matches!(user_id.as_str(), "" | "." | "..");
            for r in [&assign, &remove] {
                prop_assert_eq!(mgmt::check_path(r).is_err(), foldable, "{:?}", r.path);
            }
            for (r, call, method) in [
                (&assign, Call::AssignRoles, "POST"),
                (&remove, Call::RemoveRoles, "DELETE"),
            ] {
                prop_assert_eq!((r.call, r.method), (call, method));
                prop_assert_eq!(split(r), user_path(&["roles"]));
                prop_assert!(!r.path.contains(['?', '#']));
                prop_assert_eq!(json_body(r), Some(serde_json::json!({ "roles": ids })));
            }
            let perms: Vec<Permission> = ids
                .iter()
                .map(|id| Permission {
                    resource_server_identifier: other.clone(),
                    permission_name: (*id).to_owned(),
                })
                .collect();
            let perm_refs: Vec<&Permission> = perms.iter().collect();
            let r = mgmt::assign_permissions_request(user_id, &perm_refs);
            prop_assert_eq!((r.call, r.method), (Call::AssignPermissions, "POST"));
            prop_assert_eq!(split(&r), user_path(&["permissions"]));
            let want: Vec<serde_json::Value> = ids
                .iter()
                .map(|id| {
                    serde_json::json!({
                        "resource_server_identifier": other,
                        "permission_name": id,
                    })
                })
                .collect();
            prop_assert_eq!(
                json_body(&r),
                Some(serde_json::json!({ "permissions": want }))
            );
            let app = vec![(other.clone(), Json::Str(uid.clone()))];
            let r = mgmt::update_user_request(user_id, &app, &[]);
            prop_assert_eq!((r.call, r.method), (Call::UpdateUser, "PATCH"));
            prop_assert_eq!(split(&r), user_path(&[]));
            let mut meta = serde_json::Map::new();
            meta.insert(other.clone(), serde_json::Value::String(uid.clone()));
            prop_assert_eq!(
                json_body(&r),
                Some(serde_json::json!({ "app_metadata": meta }))
            );
            // Tickets carry the user id in the body, never in the path.
            let t = Ticket {
                kind: TicketKind::PasswordReset,
                store_key: None,
                result_url: Some(other.clone()),
                ttl_sec: Some(page),
            };
            let r = mgmt::ticket_request(user_id, &t);
            prop_assert_eq!(
                (r.call, r.method, r.path.as_str()),
                (
                    Call::PasswordTicket,
                    "POST",
                    "/api/v2/tickets/password-change"
                )
            );
            prop_assert_eq!(
                json_body(&r),
                Some(
                    serde_json::json!({ "user_id": user_id, "result_url": other, "ttl_sec": f64::from(page) })
                )
            );
        }
        // GET /api/v2/roles/{id}: one segment whatever the id.
        let g = mgmt::get_role_request(&other);
        let enc = check_segment(&other)?;
        let parts: Vec<&str> = g.path.split('/').collect();
        prop_assert_eq!(parts, vec!["", "api", "v2", "roles", enc.as_str()]);
        prop_assert!(g.body.is_none());
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
        prop_assert!(mgmt::check_path(&l).is_ok());
        prop_assert_eq!(
            mgmt::check_path(&g).is_err(),
            matches!(other.as_str(), "" | "." | "..")
        );
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
    Call::RemoveRoles,
    Call::AssignPermissions,
    Call::PasswordTicket,
    Call::MfaTicket,
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
                match mgmt::parse_ticket_url(call, b) {
                    Ok(url) => {
                        prop_assert!(url.starts_with("https://") || url.starts_with("http://"));
                    }
                    Err(e) => {
                        let typed = matches!(e, Error::BadResponse { call: c, .. } if c == call);
                        prop_assert!(typed, "{:?}", e);
                        check_display(&e)?;
                    }
                }
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
            || !(1970..=9999).contains(&self.year)
        {
            // IMF-fixdate years only (four digits, not before the epoch).
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

/// Jitter values, NaN and out-of-range ones included.
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
        let w = retry::backoff_ms(attempt, ra.as_deref(), reset.as_deref(), now, jitter);
        prop_assert!((0.0..=MAX_WAIT_MS).contains(&w), "wait {}", w);
        // Retry-After in delta-seconds (RFC 9110: digits only, no sign, any length) wins over
        // everything else.
        let delta = ra
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
        if let Some(v) = delta {
            let secs = v.bytes().fold(0.0, |n, b| n * 10.0 + f64::from(b - b'0'));
            prop_assert_eq!(w, (secs * 1000.0).min(MAX_WAIT_MS));
        }
        // No hint at all: jittered exponential backoff.
        if ra.is_none() && reset.is_none() {
            let exp = BASE_BACKOFF_MS * 2f64.powi(attempt.saturating_sub(1).min(8) as i32);
            // A NaN jitter counts as the middle of the range.
            let j = if jitter.is_nan() {
                0.5
            } else {
                jitter.clamp(0.0, 1.0)
            };
            let want = (exp * (0.5 + j / 2.0)).min(MAX_WAIT_MS);
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
        let got = retry::http_date_ms(&text);
        if let Some(ms) = got {
            prop_assert!(ms.is_finite());
        }
        if let Some(d) = parts {
            let want = d.oracle_ms();
            prop_assert_eq!(got, want, "{}", text);
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
            // After `]` only `:port` is accepted.
            prop_assert!(bracket_separator(domain).is_none(), "{} -> {}", domain, o);
            {
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

// ----- redaction -------------------------------------------------------------------------

/// The ways a server or an encoder may write `s` back: raw, percent-encoded (upper and lower
/// hex), form-encoded (`+` for a space), JSON-escaped (with and without `\/`).
fn echo_forms(s: &str) -> Vec<String> {
    let pct = |plus: bool, hex: fn(u8) -> String| -> String {
        s.bytes()
            .map(|b| match b {
                b' ' if plus => "+".to_owned(),
                b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => (b as char).to_string(),
                b => hex(b),
            })
            .collect()
    };
    let json = serde_json::to_string(s).expect("a string");
    let json = &json[1..json.len() - 1];
    vec![
        s.to_owned(),
        pct(false, |b| format!("%{b:02X}")),
        pct(false, |b| format!("%{b:02x}")),
        pct(true, |b| format!("%{b:02X}")),
        json.to_owned(),
        json.replace('/', "\\/"),
    ]
}

#[test]
fn fuzz_redact() {
    // Gaps between echoes are characters no secret here holds, so that one echo's last byte
    // cannot start an escape that reads into the next.
    let piece = (0..6usize, any::<Index>(), any::<Index>(), "[,:=]{1,3}");
    let input = (
        "[A-Za-z0-9+/ %\"\\\\.~_-]{0,48}",
        "[A-Za-z0-9+/ %\"\\\\.~_-]{8,24}",
        "[a-z ,:=]{0,16}",
        prop::collection::vec(piece, 0..4),
    );
    fuzz("redact", input, |(secret, other, lead, pieces)| {
        let mut text = lead.clone();
        for (form, a, b, gap) in &pieces {
            let (i, j) = (a.index(secret.len() + 1), b.index(secret.len() + 1));
            text.push_str(&echo_forms(&secret[i.min(j)..i.max(j)])[*form]);
            text.push_str(gap);
        }
        let prepared = [redact::Secret::new(&secret), redact::Secret::new(&other)];
        let out = redact::redact(&text, prepared.iter());
        // No run of MIN_FRAGMENT bytes of either secret is left, in any form.
        for s in [&secret, &other] {
            for w in 0..(s.len() + 1).saturating_sub(MIN_FRAGMENT) {
                for f in echo_forms(&s[w..w + MIN_FRAGMENT]) {
                    prop_assert!(
                        !out.contains(&f),
                        "{:?} left in {:?} (from {:?})",
                        f,
                        out,
                        text
                    );
                }
            }
        }
        // Only whole runs are replaced: what is left is the text's, in order.
        let mut at = 0;
        for kept in out.split(redact::MARK) {
            let found = text[at..].find(kept);
            prop_assert!(found.is_some(), "{:?} not from {:?}", kept, text);
            at += found.unwrap_or_default() + kept.len();
        }
        // Text sharing no such run with a secret (space and `+` alike) is untouched.
        let norm = |s: &str| s.replace(' ', "+");
        let shares = [&secret, &other].iter().any(|s| {
            let (s, t) = (norm(s), norm(&text));
            let k = s.len().min(MIN_FRAGMENT);
            k > 0 && (0..=s.len() - k).any(|w| t.contains(&s[w..w + k]))
        });
        if pieces.is_empty() && !shares {
            prop_assert_eq!(&out, &text);
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
                    .map(|(path, why)| PolicyError {
                        path,
                        // The one kind that carries free text (a JSON parser's reason).
                        kind: PolicyErrorKind::NotJson { baked: false, why },
                    })
                    .collect(),
            ),
        ];
        check_display(&Error::Deferred)?;
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
// Regression tests: the defects the first 100,000-case run found.
// ---------------------------------------------------------------------------------------

fn panics<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).is_err()
}

#[test]
fn fixed_origin_bracket_panic() {
    assert!(!panics(|| config::parse_origin("[::1]é1")));
    assert!(!panics(|| config::parse_origin("http://[::1]🙂")));
}

#[test]
fn fixed_origin_bracket_separator() {
    assert!(config::parse_origin("https://[::1]/8080").is_err());
    assert!(config::parse_origin("http://[::1]x80").is_err());
}

#[test]
fn fixed_policy_empty_path() {
    let doc = Json::Obj(vec![
        (String::new(), Json::Num(1.0)),
        ("rules".into(), Json::Arr(Vec::new())),
    ]);
    let errs = policy::parse_policy(&doc).unwrap_err();
    assert!(errs.iter().all(|e| !e.path.is_empty()), "{errs:?}");
}

#[test]
fn fixed_policy_display_unbounded() {
    let doc = Json::Obj(vec![
        ("k".repeat(400), Json::Null),
        ("rules".into(), Json::Arr(Vec::new())),
    ]);
    let e = Error::Policy(policy::parse_policy(&doc).unwrap_err());
    assert!(e.to_string().len() <= 300, "{} bytes", e.to_string().len());
}

#[test]
fn fixed_http_date_overflow() {
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
fn fixed_token_ttl_nan() {
    let body = Json::Obj(vec![
        ("access_token".into(), s("t")),
        ("expires_in".into(), Json::Num(1e308)),
    ]);
    let t = mgmt::parse_token(&body).expect("accepted");
    let ttl = mgmt::token_ttl_ms(t.expires_in);
    assert!((0.0..=86_400_000.0).contains(&ttl), "{ttl}");
}

#[test]
fn fixed_backoff_nan_jitter() {
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
