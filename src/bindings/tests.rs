//! Binding tests, run in Node by `wasm-pack test --node`: JS values in, typed results out.

#[allow(unused_imports)]
use crate::prelude::*;

use super::cache::Cache;
use super::convert::{parse_json_text, to_json, MAX_DEPTH};
use super::execute::execute;
use super::log::{pin_sensitive, register_sensitive, sanitize, scrub};
use super::raw::{Api, ApiCache};
use crate::core::error::{Call, Error};
use crate::core::json::Json;
use js_sys::{Function, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn js(src: &str) -> JsValue {
    Function::new_no_args(&["return (", src, ");"].concat())
        .call0(&JsValue::NULL)
        .unwrap()
}

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.')
        .fold(v.clone(), |v, k| Reflect::get(&v, &k.into()).unwrap())
}

#[wasm_bindgen_test]
fn js_values_become_json() {
    let v = js(r#"{a: [1, "x", true, null, undefined], b: {c: 2.5}, f() {}, s: Symbol("s")}"#);
    let j = to_json(&v).unwrap();
    assert_eq!(j.path("b.c").and_then(Json::as_f64), Some(2.5));
    let a = j.get("a").and_then(Json::as_array).unwrap();
    assert_eq!(
        a,
        &[
            Json::Num(1.0),
            Json::Str("x".into()),
            Json::Bool(true),
            Json::Null,
            Json::Null
        ]
    );
    assert_eq!(j.get("f"), Some(&Json::Null));
    assert_eq!(j.get("s"), Some(&Json::Null));
}

#[wasm_bindgen_test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let depth = MAX_DEPTH as usize + 5;
    let text = ["[".repeat(depth), "]".repeat(depth)].concat();
    assert!(to_json(&JSON::parse(&text).unwrap())
        .unwrap_err()
        .contains("nested too deeply"));
    let deeper = ["[".repeat(100_000), "]".repeat(100_000)].concat();
    assert!(parse_json_text(&deeper).is_err());
}

#[wasm_bindgen_test]
fn response_bodies_parse_defensively() {
    assert_eq!(parse_json_text(""), Ok(None));
    assert_eq!(parse_json_text("  \n"), Ok(None));
    assert!(parse_json_text(r#"{"roles":[{"id":"rol_"#).is_err());
    assert!(parse_json_text("<html><body>502</body></html>").is_err());
    assert_eq!(parse_json_text("[]"), Ok(Some(Json::Arr(vec![]))));
}

#[wasm_bindgen_test]
fn errors_cross_the_boundary_both_ways() {
    let thrown: JsValue = js_sys::Error::new("boom").into();
    assert_eq!(Error::from(thrown), Error::Js("Error: boom".into()));
    assert_eq!(
        Error::from(JsValue::from_str("plain")),
        Error::Js("plain".into())
    );
    let back: JsValue = Error::Timeout { call: Call::Token }.into();
    let e: &js_sys::Error = back.dyn_ref().unwrap();
    assert_eq!(String::from(e.message()), "POST /oauth/token timed out");
}

#[wasm_bindgen_test]
fn clipped_fragments_of_secrets_are_redacted_too() {
    register_sensitive("emu.abcdefghijklmnopqrstuvwxyz0123");
    let line = sanitize("Headers.append: \"Bearer emu.abcdefghijkl\r\nevil\" is invalid (emu.abcdefghijklmnopqrstuvwxyz0123)");
    assert!(!line.contains("abcdefgh"), "{line}");
    assert_eq!(line.matches("[redacted]").count(), 2, "{line}");
    assert!(
        line.contains(" evil"),
        "control characters become spaces: {line}"
    );
}

#[wasm_bindgen_test]
fn the_client_secret_outlives_any_number_of_tokens() {
    pin_sensitive("pinned-Cl1ent+Secret/value");
    for i in 0..40 {
        let n = (i * 7919).to_string();
        register_sensitive(&["emu.rotating-token-", &i.to_string(), "-", &n].concat());
    }
    let line = sanitize(
        "error_description: client_secret=pinned-Cl1ent%2BSecret%2Fvalue; token emu.rotating-token-39-308841",
    );
    assert_eq!(
        line,
        "error_description: client_secret=[redacted]; token [redacted]"
    );
    let e = scrub(Error::Api {
        call: Call::Token,
        status: 401,
        code: Some("access_denied".into()),
        message: Some("bad client_secret \"pinned-Cl1ent+Secret\\/value\"".into()),
    });
    assert_eq!(
        e.to_string(),
        "POST /oauth/token failed: HTTP 401 access_denied (bad client_secret \"[redacted]\")"
    );
}

#[wasm_bindgen_test]
fn log_lines_are_redacted_and_clipped() {
    register_sensitive("s3cr3t-value");
    let line = sanitize(&["token s3cr3t-value\nforged: line ", &"x".repeat(400)].concat());
    assert!(line.starts_with("token [redacted] forged: line "));
    assert_eq!(line.len(), 256);
}

/// A fake api.cache with Auth0's record shape.
fn fake_cache() -> ApiCache {
    js(r#"(() => { const m = new Map(); return {
        get: (k) => m.get(k),
        set: (k, v, o) => { m.set(k, { value: v, expires_at: Date.now() + o.ttl }); return { type: 'success' }; },
        delete: (k) => { m.delete(k); return { type: 'success' }; },
        raw: m,
    }; })()"#)
    .unchecked_into()
}

#[wasm_bindgen_test]
fn cache_reads_through_to_api_cache() {
    let api = fake_cache();
    let now = js_sys::Date::now();
    Cache::new(Some(api.clone().unchecked_into())).set("k1", "v1", 60_000.0, now);
    let raw = get(&api, "raw");
    let rec = raw.unchecked_ref::<js_sys::Map>().get(&"k1".into());
    assert_eq!(get(&rec, "value").as_string().as_deref(), Some("v1"));
    // Another module scope (a fresh container) finds it through api.cache.
    Cache::new(Some(api.clone().unchecked_into())).delete("k1");
    assert_eq!(
        Cache::new(Some(api.clone().unchecked_into())).get("k1", now),
        None
    );
    api.set("k2", "v2", &js("{ttl: 1000}")).unwrap();
    assert_eq!(
        Cache::new(Some(api.clone().unchecked_into()))
            .get("k2", now)
            .as_deref(),
        Some("v2")
    );
    // Expired records are ignored.
    api.set("k3", "v3", &js("{ttl: -60000}")).unwrap();
    assert_eq!(Cache::new(Some(api)).get("k3", now), None);
}

fn recording_api() -> Api {
    js(
        r#"(() => { const rec = { claims: {}, denied: null, meta: {} }; return {
        rec,
        access: { deny: (r) => { rec.denied = r; } },
        idToken: { setCustomClaim: (k, v) => { rec.claims[k] = v; } },
        accessToken: { setCustomClaim: (k, v) => { rec.claims['at:' + k] = v; } },
        user: { setAppMetadata: (k, v) => { rec.meta[k] = v; } },
        cache: { get: () => undefined, set: () => ({ type: 'success' }), delete: () => ({}) },
    }; })()"#,
    )
    .unchecked_into()
}

const POLICY: &str = r#"{"claims_namespace":"https://example.com/","on_error":"deny","rules":[{"name":"g","when":{"provider":"google-oauth2"},"assign_roles":["Premium User"]}]}"#;

#[wasm_bindgen_test]
async fn execute_without_network_for_a_returning_user() {
    let api = recording_api();
    let event = js(
        r#"{user: {user_id: "google-oauth2|1"}, connection: {name: "google-oauth2", strategy: "google-oauth2"},
        authorization: {roles: ["Premium User"]}, stats: {logins_count: 4}, secrets: {}}"#,
    );
    let out = execute(
        "post-login".into(),
        event,
        api.clone().unchecked_into(),
        Some(POLICY.into()),
    );
    // No request needed: the outcome itself (JSON text), synchronously (no ask).
    let out = JSON::parse(&out.as_string().expect("the outcome as text")).unwrap();
    assert!(get(&out, "ask").is_undefined());
    assert_eq!(get(&out, "requests").as_f64(), Some(0.0));
    assert!(get(&out, "error").is_null());
    let claim = get(&api, "rec.claims").unchecked_into::<js_sys::Object>();
    let roles = Reflect::get(&claim, &"https://example.com/roles".into()).unwrap();
    assert_eq!(JSON::stringify(&roles).unwrap(), r#"["Premium User"]"#);
}

#[wasm_bindgen_test]
async fn execute_applies_on_error_for_a_config_error() {
    let api = recording_api();
    let event = js(
        r#"{user: {user_id: "google-oauth2|2"}, connection: {strategy: "google-oauth2"}, secrets: {}}"#,
    );
    // The configuration error is found before any request: the outcome, synchronously.
    let out = execute(
        "post-login".into(),
        event,
        api.clone().unchecked_into(),
        Some(POLICY.into()),
    );
    let out = JSON::parse(&out.as_string().expect("the outcome as text")).unwrap();
    let err = get(&out, "error").as_string().unwrap();
    assert!(err.contains("AUTH0_DOMAIN is missing"), "{err}");
    assert!(get(&api, "rec.denied").is_string());
    assert_eq!(
        JSON::stringify(&get(&api, "rec.meta")).unwrap(),
        r#"{"provisioning_pending":["g"]}"#
    );
}

/// A pass reads the clock and a cache value, makes an effect, then waits; the next pass
/// reads back the same values, does not repeat the effect, and goes on past the answer.
#[wasm_bindgen_test]
fn a_replayed_pass_reads_back_its_inputs_and_repeats_no_effect() {
    use super::tape::{self, run_pass, Ask, Ev, Tape};
    use ::core::cell::Cell;
    let effects = Cell::new(0);
    let seen = ::core::cell::RefCell::new(Vec::new());
    let pass = || {
        let t = tape::now();
        let v = tape::text(|| Some(format!("v{}", effects.get())));
        tape::effect(|| effects.set(effects.get() + 1));
        seen.borrow_mut().push((t, v.clone()));
        match tape::ask(|| Ask::Sleep(5.0))? {
            Ev::Done(true) => Ok(v),
            _ => Ok(None),
        }
    };
    let (mut t, first) = run_pass(Tape::default(), pass);
    assert!(matches!(first, Err(Ask::Sleep(ms)) if ms == 5.0));
    t.answer(Ev::Done(true));
    let (_, second) = run_pass(t, pass);
    assert_eq!(second.ok().flatten().as_deref(), Some("v0"));
    assert_eq!(effects.get(), 1, "the effect was made once");
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0], seen[1],
        "the second pass read the first one's inputs"
    );
}
