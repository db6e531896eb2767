//! The entry point the JS shim calls: one Action execution, from `event` and `api` to
//! role assignments, claims, pending markers and the `on_error` outcome. Never throws.

use super::cache::Cache;
use super::client::Client;
use super::convert::{describe, parse_json_text, str_array, to_json};
use super::log::log;
use super::raw::Api;
use crate::core::config::{tenant, timeout_ms};
use crate::core::decide::{
    decide, missing_roles, pending_after, roles_after, same_names, Decision, ResolvedRole,
};
use crate::core::event::{parse_event, Event, Trigger, PENDING_KEY};
use crate::core::json::Json;
use crate::core::mgmt::assign_roles_request;
use crate::core::policy::{on_error_of, parse_policy, OnError, PolicyError, RoleRef};
use crate::error::{clip, Error};
use js_sys::{Date, Object, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The reason given to `api.access.deny` when provisioning fails under `on_error: deny`.
pub const DENY_REASON: &str = "Access could not be provisioned. Please try again later.";

/// What one execution did, returned to the shim (and to tests and the demo).
#[derive(Default)]
struct Outcome {
    user_id: String,
    matched: Vec<String>,
    assigned: Vec<String>,
    roles_claim: Option<Vec<String>>,
    pending: Option<Vec<String>>,
    requests: u32,
    throttled: u32,
    error: Option<String>,
    denied: bool,
}

fn put(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

impl Outcome {
    fn to_js(&self, ms: f64) -> JsValue {
        let o = Object::new();
        put(&o, "user_id", &self.user_id.as_str().into());
        put(&o, "matched", &str_array(&self.matched));
        put(&o, "assigned", &str_array(&self.assigned));
        if let Some(c) = &self.roles_claim {
            put(&o, "roles_claim", &str_array(c));
        }
        if let Some(p) = &self.pending {
            put(&o, "pending", &str_array(p));
        }
        put(&o, "requests", &self.requests.into());
        put(&o, "throttled", &self.throttled.into());
        put(
            &o,
            "error",
            &self
                .error
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        );
        put(&o, "denied", &self.denied.into());
        put(&o, "ms", &ms.into());
        o.into()
    }
}

/// Runs the policy for one execution of `trigger` (`post-login` | `post-user-registration`).
/// `baked_policy` is the policy compiled into the Action; a `POLICY` secret overrides it.
#[wasm_bindgen]
pub async fn execute(
    trigger: String,
    event: JsValue,
    api: Api,
    baked_policy: Option<String>,
) -> JsValue {
    let t0 = Date::now();
    let trigger = Trigger::from_id(&trigger).unwrap_or(Trigger::PostLogin);
    let mut out = Outcome::default();
    // A non-plain event still yields a precise "event: expected an object" below.
    let ev_json = to_json(&event).unwrap_or(Json::Null);
    let secrets = ev_json.get("secrets").cloned().unwrap_or(Json::Null);
    let doc = policy_document(&secrets, baked_policy.as_deref());
    let on_error = doc.as_ref().map(on_error_of).unwrap_or(OnError::Allow);
    let result = run(trigger, &ev_json, &secrets, doc, &api, t0, &mut out).await;
    let ms = Date::now() - t0;
    match result {
        Ok(()) if !out.assigned.is_empty() => {
            let mut line = String::from("provision ok: user=");
            line.push_str(clip(&out.user_id, 64));
            line.push_str(" assigned=");
            line.push_str(&out.assigned.join(","));
            line.push_str(" rules=");
            line.push_str(&out.matched.join(","));
            line.push_str(" requests=");
            line.push_str(&out.requests.to_string());
            log(&line);
        }
        Ok(()) => {}
        Err(e) => {
            let deny = on_error == OnError::Deny && trigger == Trigger::PostLogin;
            let mut line = String::from("provision error: user=");
            line.push_str(if out.user_id.is_empty() {
                "?"
            } else {
                clip(&out.user_id, 64)
            });
            if !out.matched.is_empty() {
                line.push_str(" rules=");
                line.push_str(clip(&out.matched.join(","), 48));
            }
            line.push_str(if deny {
                " on_error=deny"
            } else {
                " on_error=allow"
            });
            if out.pending.as_ref().is_some_and(|p| !p.is_empty()) {
                line.push_str(" (retried next login)");
            }
            line.push_str(": ");
            line.push_str(&e.to_string());
            log(&line);
            if deny {
                if let Some(access) = api.access() {
                    out.denied = access.deny(DENY_REASON).is_ok();
                }
            }
            out.error = Some(e.to_string());
        }
    }
    out.to_js(ms)
}

/// The policy text: the `POLICY` secret when set, else the baked-in one, parsed by the host.
fn policy_document(secrets: &Json, baked: Option<&str>) -> Result<Json, Error> {
    let (text, source) = match secrets.get("POLICY").and_then(Json::as_str) {
        Some(s) if !s.trim().is_empty() => (s, "POLICY secret"),
        _ => match baked {
            Some(b) => (b, "baked-in policy"),
            None => {
                return Err(policy_error(
                    "$",
                    "no policy: set the POLICY secret or build with --policy FILE",
                ))
            }
        },
    };
    match parse_json_text(text) {
        Ok(Some(doc)) => Ok(doc),
        Ok(None) => Err(policy_error("$", "is empty")),
        Err(why) => {
            let mut m = String::from("the ");
            m.push_str(source);
            m.push_str(" is not valid JSON (");
            m.push_str(clip(&why, 80));
            m.push(')');
            Err(policy_error("$", &m))
        }
    }
}

fn policy_error(path: &str, message: &str) -> Error {
    Error::Policy(vec![PolicyError {
        path: path.into(),
        message: message.into(),
    }])
}

async fn run(
    trigger: Trigger,
    ev_json: &Json,
    secrets: &Json,
    doc: Result<Json, Error>,
    api: &Api,
    t0: f64,
    out: &mut Outcome,
) -> Result<(), Error> {
    #[cfg(feature = "test-hooks")]
    if secrets.get("TEST_PANIC").and_then(Json::as_str) == Some("start") {
        panic!("TEST_PANIC: deliberate panic (test-hooks build)");
    }
    let ev = parse_event(ev_json, trigger)?;
    out.user_id = ev.user_id.clone();
    let policy = parse_policy(&doc?)?;
    let decision = decide(&policy, &ev);
    out.matched = decision
        .rules
        .iter()
        .filter(|r| r.matched)
        .map(|r| r.name.clone())
        .collect();

    // Roles held by name need no request at all.
    let todo: Vec<RoleRef> = decision
        .roles
        .iter()
        .map(|w| w.role.clone())
        .filter(|r| !matches!(r, RoleRef::Name(n) if ev.roles.contains(n)))
        .collect();
    let (assigned, failed, error) = if todo.is_empty() {
        (Vec::new(), Vec::new(), None)
    } else {
        ensure_roles(&todo, &ev, secrets, api, t0, out).await
    };
    out.assigned = assigned.iter().map(|r| r.name.clone()).collect();

    if trigger == Trigger::PostLogin {
        if let Some(ns) = &policy.claims_namespace {
            let roles = roles_after(&ev.roles, &assigned.iter().collect::<Vec<_>>());
            set_roles_claim(api, ns, &roles)?;
            out.roles_claim = Some(roles);
        }
    }
    record_pending(&decision, &failed, &ev, api, out)?;
    error.map_or(Ok(()), Err)
}

/// Resolves and assigns the roles not known to be held. Returns what was assigned, which
/// roles failed, and the first error.
async fn ensure_roles(
    todo: &[RoleRef],
    ev: &Event,
    secrets: &Json,
    api: &Api,
    t0: f64,
    out: &mut Outcome,
) -> (Vec<ResolvedRole>, Vec<RoleRef>, Option<Error>) {
    let setup = tenant(secrets)
        .map_err(Error::from)
        .and_then(|t| Ok((t, timeout_ms(secrets)?)));
    let (tenant, timeout) = match setup {
        Ok(x) => x,
        Err(e) => return (Vec::new(), todo.to_vec(), Some(e)),
    };
    let client = Client::new(tenant, Rc::new(Cache::new(api.cache())), t0 + timeout);
    let mut failed = Vec::new();
    let mut first_error = None;
    let mut resolved: Vec<(RoleRef, ResolvedRole)> = Vec::new();
    for role in todo {
        match client.resolve(role).await {
            Ok(r) => resolved.push((role.clone(), r)),
            Err(e) => {
                failed.push(role.clone());
                first_error.get_or_insert(e);
            }
        }
    }
    let wanted: Vec<ResolvedRole> = resolved.iter().map(|(_, r)| r.clone()).collect();
    let missing: Vec<ResolvedRole> = missing_roles(&wanted, &ev.roles)
        .into_iter()
        .cloned()
        .collect();
    let mut assigned = Vec::new();
    if !missing.is_empty() {
        let ids: Vec<&str> = missing.iter().map(|r| r.id.as_str()).collect();
        match client.call(&assign_roles_request(&ev.user_id, &ids)).await {
            Ok(_) => assigned = missing,
            Err(e) => {
                if matches!(
                    e,
                    Error::Api {
                        status: 400 | 404,
                        ..
                    }
                ) {
                    // A cached id may point at a deleted role: resolve afresh next time.
                    missing.iter().for_each(|r| client.forget_role(r));
                }
                failed.extend(
                    resolved
                        .iter()
                        .filter(|(_, r)| missing.iter().any(|m| m.id == r.id))
                        .map(|(rr, _)| rr.clone()),
                );
                first_error.get_or_insert(e);
            }
        }
    }
    let stats = *client.stats.borrow();
    out.requests = stats.requests;
    out.throttled = stats.throttled;
    (assigned, failed, first_error)
}

fn set_roles_claim(api: &Api, ns: &str, roles: &[String]) -> Result<(), Error> {
    let mut name = String::from(ns);
    name.push_str("roles");
    let value = str_array(roles);
    for setter in [api.id_token(), api.access_token()].into_iter().flatten() {
        setter.set_custom_claim(&name, &value)?;
    }
    Ok(())
}

/// Keeps `app_metadata.provisioning_pending` true to what is still owed, so a failed
/// provisioning is completed at the user's next login whatever its conditions were.
fn record_pending(
    decision: &Decision,
    failed: &[RoleRef],
    ev: &Event,
    api: &Api,
    out: &mut Outcome,
) -> Result<(), Error> {
    let pending = pending_after(decision, failed);
    if !same_names(&pending, &ev.pending) {
        if let Some(user) = api.user() {
            let value = if pending.is_empty() {
                JsValue::NULL
            } else {
                str_array(&pending)
            };
            user.set_app_metadata(PENDING_KEY, &value)
                .map_err(|e| Error::Js(describe(&e)))?;
        }
        out.pending = Some(pending);
    }
    Ok(())
}
