//! The entry point the JS shim calls: one Action execution, from `event` and `api` to the
//! applied plan and the `on_error` outcome. Never throws.

use crate::core::text::join_with;
#[allow(unused_imports)]
use crate::prelude::*;

use super::apply::{apply, apply_local, Host, Outcome};
use super::convert::{parse_json_text, str_array};
use super::global::Global;
use super::http::reply_of;
use super::log::{pin_sensitive, sanitize};
use super::raw::Api;
use super::read::{read_event, ReadEvent};
use super::shared::{abandon, woken};
use super::tape::{run_pass, Ask, Ev, Tape};
use crate::core::config::unresolved_keyword;
use crate::core::decimal::push_decimal;
use crate::core::encode::policy_hash;
use crate::core::error::{clip, Error};
use crate::core::event::Event;
use crate::core::event::{parse_event_with, Trigger};
use crate::core::json::{write_str, write_str_array, Json};
use crate::core::plan::{decide, needs_management_api, Decision};
use crate::core::policy::{
    on_error_of, parse_policy, OnError, Policy, PolicyError, PolicyErrorKind,
};
use js_sys::{Date, Object, Reflect};
use std_alloc::rc::Rc;
use wasm_bindgen::prelude::*;

/// The reason given to `api.access.deny` when provisioning fails under `on_error: deny`.
pub const DENY_REASON: &str = "Access could not be provisioned. Please try again later.";

/// `,"k":` (the outcome text always has a member before).
fn key(o: &mut String, k: &str) {
    o.push_str(",\"");
    o.push_str(k);
    o.push_str("\":");
}

fn put(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

impl Outcome {
    /// The outcome as JSON text, which the shim parses: one string crossing instead of a
    /// dozen `Reflect.set` calls with keys decoded from wasm memory (measured: the largest
    /// single cost of a warm no-network login).
    fn to_js(&self, ms: f64) -> JsValue {
        let mut o = String::from("{\"user_id\":");
        write_str(&mut o, &self.user_id);
        let lists = [
            ("matched", Some(&self.matched)),
            ("assigned", Some(&self.assigned)),
            ("removed", Some(&self.removed)),
            ("roles_claim", self.roles_claim.as_ref()),
            ("pending", self.pending.as_ref()),
            // Only when there are any: the shim deletes the member once it has logged the
            // lines, and a `delete` makes V8 rebuild the object (a twentieth of a warm login).
            ("logs", (!self.logs.is_empty()).then_some(&self.logs)),
        ];
        for (k, items) in lists {
            if let Some(items) = items {
                key(&mut o, k);
                write_str_array(&mut o, items);
            }
        }
        for (k, n) in [
            ("requests", self.requests),
            ("throttled", self.throttled),
            // Whole milliseconds (`Date.now()` differences); a clock set back reads 0.
            ("ms", ms as u32),
        ] {
            key(&mut o, k);
            push_decimal(&mut o, n);
        }
        key(&mut o, "error");
        match &self.error {
            Some(e) => write_str(&mut o, e),
            None => o.push_str("null"),
        }
        key(&mut o, "denied");
        o.push_str(if self.denied { "true}" } else { "false}" });
        JsValue::from_str(&o)
    }

    /// One line summing up what changed, `None` when nothing did.
    fn summary(&self) -> Option<String> {
        let mut parts = String::new();
        for (label, items) in [
            ("assigned", &self.assigned),
            ("removed", &self.removed),
            ("did", &self.did),
        ] {
            if !items.is_empty() {
                parts.push(' ');
                parts.push_str(label);
                parts.push('=');
                parts.push_str(&join_with(items, ","));
            }
        }
        if parts.is_empty() {
            return None;
        }
        // The policy hash first: a clipped line still says which policy version decided.
        let mut line = String::from("provision ok: policy=");
        line.push_str(&self.policy);
        line.push_str(" user=");
        line.push_str(clip(&self.user_id, 64));
        line.push_str(&parts);
        line.push_str(" rules=");
        line.push_str(&join_with(&self.matched, ","));
        line.push_str(" requests=");
        push_decimal(&mut line, self.requests);
        Some(line)
    }
}

/// Runs the policy for one execution of `trigger` (`post-login` | `post-user-registration`).
/// `baked_policy` is the policy compiled into the Action; a `POLICY` secret overrides it;
///
/// Returns the outcome (as JSON text) at once when the plan needs no Management API request (a
/// returning user: the request code is neither run nor, V8 compiling wasm lazily,
/// compiled), else `{run, ask, woken}`: what the shim must do before [`resume`]. Never
/// throws.
#[wasm_bindgen]
pub fn execute(trigger: String, event: JsValue, api: Api, baked_policy: Option<String>) -> JsValue {
    let host = Host {
        api,
        t0: Date::now(),
    };
    let trigger = Trigger::from_id(&trigger).unwrap_or(Trigger::PostLogin);
    let mut out = Outcome::default();
    // Only what the core uses is read, secrets first; a non-object event still yields a
    // precise "event: expected an object" below.
    let mut read = read_event(&event);
    let secrets = take_secrets(&mut read.event);
    // Known to redaction from the start, so even a login that never builds a client (denied,
    // misconfigured) cannot print it.
    // (A Deploy CLI placeholder is a keyword name, not a secret: its error names it.)
    if let Some(s) = secrets.get("AUTH0_CLIENT_SECRET").and_then(Json::as_str) {
        if unresolved_keyword(s).is_none() {
            pin_sensitive(s);
        }
    }
    let (policy, on_error) = load_policy(&secrets, &read, baked_policy.as_deref(), &mut out);
    // The event first: a login that cannot be read says so (and whose it is) even when the
    // policy is broken too. Errors are passed on by reference: the policy's is never copied.
    let ev = match parse_event_with(&read.event, trigger, read.unreadable) {
        Ok(ev) => ev,
        Err(e) => return conclude(Err(&Error::from(e)), trigger, on_error, &host, out),
    };
    out.user_id = ev.user_id.clone();
    let d = match policy.as_ref() {
        Ok(p) => plan(p, &ev, &secrets, &mut out),
        Err(e) => return conclude(Err(e), trigger, on_error, &host, out),
    };
    if !needs_management_api(&d, &ev) {
        let result = match policy.as_ref() {
            Ok(p) => apply_local(p, &d, &ev, &host, &mut out),
            Err(_) => Ok(()),
        };
        return conclude(result.as_ref().map(|_| ()), trigger, on_error, &host, out);
    }
    let run = Run {
        id: next_id(),
        policy,
        d,
        ev,
        secrets,
        host,
        trigger,
        on_error,
        base: out,
        tape: Tape::default(),
        pending: None,
    };
    step_run(run)
}

/// `event.secrets`, moved out of the event (the core's event parser does not read it; a
/// copy would duplicate the policy text at every login).
fn take_secrets(event: &mut Json) -> Json {
    match event {
        Json::Obj(members) => match members.iter().position(|(k, _)| k == "secrets") {
            Some(at) => members.swap_remove(at).1,
            None => Json::Null,
        },
        _ => Json::Null,
    }
}

/// An execution waiting for the network: what a pass needs, and its tape.
struct Run {
    id: u32,
    policy: Rc<Result<Policy, Error>>,
    d: Decision,
    ev: Event,
    secrets: Json,
    host: Host,
    trigger: Trigger,
    on_error: OnError,
    /// The outcome before any step (the matched rules, the policy hash).
    base: Outcome,
    tape: Tape,
    /// What the last pass waits for.
    pending: Option<Ask>,
}

/// Executions waiting for the shim's answer.
static RUNS: Global<Vec<Run>> = Global::new(Vec::new());
static LAST_ID: Global<u32> = Global::new(0);

fn next_id() -> u32 {
    LAST_ID.with(|n| {
        let mut n = n.borrow_mut();
        *n = n.checked_add(1).unwrap_or(1);
        *n
    })
}

/// One pass over the steps (`tape`): the outcome when it finishes, else the run is kept
/// and the shim is told what to do, `{run, ask, woken}`.
fn step_run(mut run: Run) -> JsValue {
    run.tape.run = run.id;
    let tape = ::core::mem::take(&mut run.tape);
    let (tape, r) = run_pass(tape, || {
        // A trap while other executions on the instance are in flight.
        #[cfg(feature = "test-hooks")]
        if run.secrets.get("TEST_PANIC").and_then(Json::as_str) == Some("late") {
            super::tape::ask(|| Ask::Sleep(300.0))?;
            panic!("TEST_PANIC: deliberate late panic (test-hooks build)");
        }
        let mut out = run.base.clone();
        // (The policy is `Ok` here: its error returned before a run exists.)
        let result = match run.policy.as_ref() {
            Ok(p) => apply(p, &run.d, &run.ev, &run.secrets, &run.host, &mut out)?,
            Err(_) => Ok(()),
        };
        Ok((result, out))
    });
    run.tape = tape;
    match r {
        Ok((result, out)) => conclude(
            result.as_ref().map(|_| ()),
            run.trigger,
            run.on_error,
            &run.host,
            out,
        ),
        Err(ask) => {
            let o = Object::new();
            put(&o, "run", &run.id.into());
            put(&o, "ask", &ask_js(&ask));
            put(&o, "woken", &str_array(&woken()));
            run.pending = Some(ask);
            RUNS.with(|r| r.borrow_mut().push(run));
            o.into()
        }
    }
}

fn ask_js(ask: &Ask) -> JsValue {
    let (k, v): (&str, JsValue) = match ask {
        Ask::Fetch(init, _) => return init.clone(),
        Ask::Sleep(ms) => ("sleep", (*ms).into()),
        Ask::Queue(ms) => ("queue", (*ms).into()),
        Ask::Wait(key) => ("wait", key.as_str().into()),
    };
    let o = Object::new();
    put(&o, k, &v);
    o.into()
}

/// The shim's answer to what execution `run` waited for; the next pass's result (as from
/// [`execute`]), or `null` for an execution that is not waiting.
#[wasm_bindgen]
pub fn resume(run: u32, answer: JsValue) -> JsValue {
    let Some(mut r) = RUNS.with(|rs| {
        let mut rs = rs.borrow_mut();
        let at = rs.iter().position(|r| r.id == run)?;
        Some(rs.swap_remove(at))
    }) else {
        return JsValue::NULL;
    };
    let ev = match r.pending.take() {
        Some(Ask::Fetch(_, call)) => Ev::Reply(reply_of(call, &answer)),
        Some(Ask::Queue(_)) => Ev::Done(answer == JsValue::TRUE),
        _ => Ev::Done(true),
    };
    r.tape.answer(ev);
    step_run(r)
}

/// Drops execution `run` (it ended, however it ended): shared work it led and left
/// unfinished is settled with an error. Returns the keys whose waiters may go on.
#[wasm_bindgen]
pub fn forget(run: u32) -> JsValue {
    RUNS.with(|rs| rs.borrow_mut().retain(|r| r.id != run));
    abandon(run);
    str_array(&woken())
}

/// The outcome (JSON text), after the summary or error line and `on_error`.
fn conclude(
    result: Result<(), &Error>,
    trigger: Trigger,
    on_error: OnError,
    host: &Host,
    mut out: Outcome,
) -> JsValue {
    let ms = Date::now() - host.t0;
    match result {
        Ok(()) => {
            if let Some(line) = out.summary() {
                out.log(&line);
            }
        }
        Err(e) => {
            let deny = on_error == OnError::Deny && trigger == Trigger::PostLogin;
            let mut line = String::from("provision error: policy=");
            line.push_str(if out.policy.is_empty() {
                "none"
            } else {
                &out.policy
            });
            line.push_str(" user=");
            line.push_str(if out.user_id.is_empty() {
                "?"
            } else {
                clip(&out.user_id, 64)
            });
            line.push_str(if deny {
                " on_error=deny"
            } else {
                " on_error=allow"
            });
            if out.pending.as_ref().is_some_and(|p| !p.is_empty()) {
                line.push_str(" (retried next login)");
            }
            let why = e.message();
            line.push_str(": ");
            line.push_str(&why);
            // The rules last: of Auth0's 256 characters, a long list is what gets clipped,
            // never the error (a keyword error names the mapping to add at its end).
            if !out.matched.is_empty() {
                line.push_str("; rules=");
                line.push_str(clip(&join_with(&out.matched, ","), 48));
            }
            out.log(&line);
            if deny && !out.denied {
                if let Some(access) = host.api.access() {
                    out.denied = access.deny(DENY_REASON).is_ok();
                }
            }
            out.error = Some(sanitize(&why));
        }
    }
    out.to_js(ms)
}

/// A parsed policy and the `on_error` it asks for.
type Loaded = (Rc<Result<Policy, Error>>, OnError);

/// The last policy parsed: the secret rarely changes, so a warm container skips JSON
/// parsing and validation (measured: most of a no-op login).
struct CachedPolicy {
    from_secret: bool,
    text: String,
    /// The event reader's generation of `text` (see `ReadEvent::generation`): the same one
    /// means the same text, without comparing kilobytes at every login.
    generation: Option<u32>,
    /// Kept: hashing the text again was a tenth of a warm login.
    hash: String,
    loaded: Loaded,
}

static POLICY: Global<Option<CachedPolicy>> = Global::new(None);

/// The policy: the `POLICY` secret when set, else the baked-in one (parsed by the host's
/// JSON.parse, validated by the core), cached per container.
fn load_policy(secrets: &Json, read: &ReadEvent, baked: Option<&str>, out: &mut Outcome) -> Loaded {
    let (text, from_secret) = match secrets.get("POLICY").and_then(Json::as_str) {
        Some(s) if !s.trim().is_empty() => (s, true),
        _ => match baked {
            Some(b) => (b, false),
            None => {
                let e = policy_error(PolicyErrorKind::NoPolicy);
                return (Rc::new(Err(e)), OnError::Allow);
            }
        },
    };
    let generation = read.generation(text);
    let hit = POLICY.with(|c| {
        let mut c = c.borrow_mut();
        let c = c.as_mut().filter(|c| c.from_secret == from_secret)?;
        if generation.is_none() || c.generation != generation {
            if c.text != text {
                return None;
            }
            // The same text under a new generation (another long string was read in
            // between): matched by it from now on, not by the text at every login.
            c.generation = generation;
        }
        Some((c.hash.clone(), c.loaded.0.clone(), c.loaded.1))
    });
    if let Some((hash, policy, on_error)) = hit {
        out.policy = hash;
        return (policy, on_error);
    }
    out.policy = policy_hash(text);
    let doc = if let Some(k) = unresolved_keyword(text) {
        // A Deploy CLI import without this keyword's mapping stored the placeholder itself.
        Err(policy_error(PolicyErrorKind::UnresolvedKeyword {
            keyword: k.to_owned(),
        }))
    } else {
        match parse_json_text(text) {
            Ok(Some(doc)) => Ok(doc),
            Ok(None) => Err(policy_error(PolicyErrorKind::Empty)),
            Err(why) => Err(policy_error(PolicyErrorKind::NotJson {
                baked: !from_secret,
                why,
            })),
        }
    };
    let on_error = match &doc {
        Ok(d) => on_error_of(d),
        Err(_) => shallow_on_error(text),
    };
    let policy = Rc::new(doc.and_then(|d| parse_policy(&d).map_err(Error::from)));
    POLICY.with(|c| {
        *c.borrow_mut() = Some(CachedPolicy {
            from_secret,
            text: text.to_owned(),
            generation,
            hash: out.policy.clone(),
            loaded: (policy.clone(), on_error),
        })
    });
    (policy, on_error)
}

/// `on_error` of a policy that parses as JSON but cannot be read in full (nested too
/// deeply): its own choice still applies.
fn shallow_on_error(text: &str) -> OnError {
    let v = js_sys::JSON::parse(text)
        .and_then(|p| Reflect::get(&p, &"on_error".into()))
        .unwrap_or(JsValue::NULL);
    let j = super::read::read_value(&v).0;
    on_error_of(&Json::Obj(vec![("on_error".into(), j)]))
}

fn policy_error(kind: PolicyErrorKind) -> Error {
    Error::Policy(vec![PolicyError::document(kind)])
}

/// The decision for the event (sync: no I/O), and the rules it matched in `out`.
fn plan(policy: &Policy, ev: &Event, secrets: &Json, out: &mut Outcome) -> Decision {
    #[cfg(feature = "test-hooks")]
    if secrets.get("TEST_PANIC").and_then(Json::as_str) == Some("start") {
        panic!("TEST_PANIC: deliberate panic (test-hooks build)");
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = secrets;
    let decision = decide(policy, ev);
    out.matched = decision
        .rules
        .iter()
        .filter(|r| r.matched)
        .map(|r| r.name.clone())
        .collect();
    decision
}
