//! Carries out a plan: role and permission changes and tickets through the Management API,
//! metadata through `api.user` (post-login) or `PATCH /users/{id}` (post-user-registration),
//! claims, MFA and denial through `api`, and the pending/done markers that make a failed
//! provisioning complete at the next login and once-only effects happen once.

use super::cache::Cache;
use super::client::Client;
use super::convert::{describe, from_json, str_array, stringify};
use super::log::sanitize;
use super::raw::Api;
use super::shared::once;
use crate::core::config::{tenant, timeout_ms};
use crate::core::event::{Event, Trigger, DONE_KEY, PENDING_KEY};
use crate::core::json::Json;
use crate::core::mgmt::{
    assign_permissions_request, assign_roles_request, parse_ticket_url, remove_roles_request,
    ticket_request, update_user_request, Body, Request,
};
use crate::core::plan::{
    done_after, missing_roles, pending_after, role_changes, roles_after, rules_where, same_names,
    Decision, ResolvedRole, WantedRole,
};
use crate::core::policy::Policy;
use crate::error::{clip, Error};
use js_sys::{Object, Reflect};
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// What one execution did (returned to the shim, tests and the demo).
#[derive(Default)]
pub struct Outcome {
    /// `event.user.user_id` (empty when the event had none).
    pub user_id: String,
    /// Names of the matched rules.
    pub matched: Vec<String>,
    /// Role names assigned.
    pub assigned: Vec<String>,
    /// Role names removed.
    pub removed: Vec<String>,
    /// Other effects carried out (`permissions`, `ticket`, `metadata`), for the log line.
    pub did: Vec<String>,
    /// The roles claim set, when a claims namespace is configured.
    pub roles_claim: Option<Vec<String>>,
    /// The pending marker written, when it changed.
    pub pending: Option<Vec<String>>,
    /// Management API requests sent.
    pub requests: u32,
    /// 429 replies received.
    pub throttled: u32,
    /// The error, when provisioning failed.
    pub error: Option<String>,
    /// Whether the login was denied.
    pub denied: bool,
    /// Log lines (sanitized), written by the shim only while the execution is live, so a
    /// line can never land outside the execution that wrote it.
    pub logs: Vec<String>,
}

impl Outcome {
    /// Queues one log line, redacted and clipped.
    pub fn log(&mut self, line: &str) {
        self.logs.push(sanitize(line));
    }
}

/// The host's side of one execution.
pub struct Host {
    /// This execution's (revocable) `api`.
    pub api: Api,
    /// When the execution started (epoch ms): its deadline counts from here.
    pub t0: f64,
    /// Aborted by the shim once the execution has ended.
    pub ended: JsValue,
}

/// What carrying out a plan has done so far: failures and completions (for the markers),
/// metadata still to write, roles changed (for the roles claim).
#[derive(Default)]
struct Tally {
    failed: Vec<String>,
    completed: Vec<String>,
    error: Option<Error>,
    app_changes: Vec<(String, Json)>,
    assigned: Vec<ResolvedRole>,
    removed: Vec<ResolvedRole>,
}

impl Tally {
    fn start(d: &Decision) -> Tally {
        Tally {
            app_changes: d.app_metadata.clone(),
            ..Tally::default()
        }
    }

    fn fail(&mut self, rules: &[String], e: Error) {
        self.failed.extend(rules.iter().cloned());
        self.error.get_or_insert(e);
    }
}

fn rules_of(w: &[&WantedRole]) -> Vec<String> {
    w.iter().flat_map(|w| w.rules.iter().cloned()).collect()
}

/// `api.access.deny` for a plan that denies: a denied login gets nothing provisioned.
fn deny(host: &Host, reason: &str, out: &mut Outcome) -> Result<(), Error> {
    if let Some(access) = host.api.access() {
        access.deny(&sanitize(reason))?;
        out.denied = true;
    }
    Ok(())
}

/// Applies a plan that needs no Management API request (`core::plan::needs_management_api`
/// is false), synchronously: a returning user's login creates no future, so the async code
/// is neither run nor (V8 compiles wasm lazily) compiled.
pub fn apply_local(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    host: &Host,
    out: &mut Outcome,
) -> Result<(), Error> {
    if let Some((reason, _rule)) = &d.deny {
        return deny(host, reason, out);
    }
    let mut tally = Tally::start(d);
    markers(policy, d, ev, &mut tally, out);
    if ev.trigger == Trigger::PostLogin {
        local_effects(policy, d, ev, host, &mut tally, out);
    }
    tally.error.map_or(Ok(()), Err)
}

/// Applies `d` for `ev` with the Management API; returns the first error after doing
/// everything that could be done.
pub async fn apply(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    secrets: &Json,
    host: &Host,
    out: &mut Outcome,
) -> Result<(), Error> {
    let api = &host.api;
    let post_login = ev.trigger == Trigger::PostLogin;
    if let Some((reason, _rule)) = &d.deny {
        return deny(host, reason, out);
    }
    let mut tally = Tally::start(d);
    let (to_assign, to_remove) = role_changes(d, ev.held_roles());
    let client = match tenant(secrets)
        .map_err(Error::from)
        .and_then(|t| Ok((t, timeout_ms(secrets)?)))
    {
        Ok((t, timeout)) => Some(Client::new(
            t,
            Rc::new(Cache::new(api.cache())),
            host.t0 + timeout,
            host.ended.clone(),
        )),
        Err(e) => {
            let all: Vec<String> = d
                .rules
                .iter()
                .filter(|r| r.matched)
                .map(|r| r.name.clone())
                .collect();
            tally.fail(&all, e);
            None
        }
    };
    if let Some(c) = &client {
        tally.assigned = change_roles(c, &to_assign, ev, true, &mut tally).await;
        tally.removed = change_roles(c, &to_remove, ev, false, &mut tally).await;
        if !d.permissions.is_empty() {
            let perms: Vec<_> = d.permissions.iter().map(|(p, _)| p).collect();
            let rules: Vec<String> = d.permissions.iter().map(|(_, r)| r.clone()).collect();
            let req = assign_permissions_request(&ev.user_id, &perms);
            let call = c.call_owned(req.clone());
            match once(
                &once_key(&req),
                Box::pin(async move { call.await.map(|_| String::new()) }),
            )
            .await
            {
                (Ok(_), ran) => {
                    tally.completed.extend(rules);
                    if ran {
                        out.did.push("permissions".into());
                    }
                }
                (Err(e), _) => tally.fail(&rules, e),
            }
        }
        for (t, rule) in &d.tickets {
            let req = ticket_request(&ev.user_id, t);
            let (kind, call) = (req.call, c.call_owned(req.clone()));
            let issue = Box::pin(async move { parse_ticket_url(kind, call.await?.as_ref()) });
            // Concurrent logins of one user share one ticket; only its issuer reports it.
            match once(&once_key(&req), issue).await {
                (Ok(url), ran) => {
                    // Another execution issued it and logs it; that one marks it done (so a
                    // URL lost with a trapped issuer is issued again at a later login).
                    if !ran && t.store_key.is_none() {
                        continue;
                    }
                    match &t.store_key {
                        Some(k) => tally.app_changes.push((k.clone(), Json::Str(url))),
                        // The URL first, so the user id and rule name never push it past
                        // Auth0's 256-character log line (long URLs: store them instead).
                        None => out.log(
                            &[
                                "provision ticket url=",
                                &url,
                                " user=",
                                clip(&ev.user_id, 64),
                                " rule=",
                                clip(rule, 40),
                            ]
                            .concat(),
                        ),
                    }
                    tally.completed.push(rule.clone());
                    out.did.push("ticket".into());
                }
                (Err(e), _) => tally.fail(std::slice::from_ref(rule), e),
            }
        }
    }
    out.assigned = tally.assigned.iter().map(|r| r.name.clone()).collect();
    out.removed = tally.removed.iter().map(|r| r.name.clone()).collect();

    markers(policy, d, ev, &mut tally, out);
    if post_login {
        local_effects(policy, d, ev, host, &mut tally, out);
    } else if !tally.app_changes.is_empty() || !d.user_metadata.is_empty() {
        // Without a client the configuration error is already in the tally.
        if let Some(c) = &client {
            let req = update_user_request(&ev.user_id, &tally.app_changes, &d.user_metadata);
            match c.call(&req).await {
                Ok(_) => out.did.push("metadata".into()),
                Err(e) => {
                    let rules = rules_where(d, |_| true);
                    tally.fail(&rules, e);
                }
            }
        }
    }
    if let Some(c) = &client {
        let stats = *c.stats.borrow();
        out.requests = stats.requests;
        out.throttled = stats.throttled;
    }
    tally.error.map_or(Ok(()), Err)
}

/// The pending/done markers after this execution: what is still owed, and which once-only
/// effects are done (added to the metadata to write).
fn markers(policy: &Policy, d: &Decision, ev: &Event, tally: &mut Tally, out: &mut Outcome) {
    let pending = pending_after(policy, d, &ev.pending, &tally.failed);
    if !same_names(&pending, &ev.pending) {
        let v = if pending.is_empty() {
            Json::Null
        } else {
            strs(&pending)
        };
        tally.app_changes.push((PENDING_KEY.into(), v));
        out.pending = Some(pending);
    }
    // A rule is done only when all its once-only effects succeeded.
    tally.completed.retain(|r| !tally.failed.contains(r));
    let done = done_after(policy, &ev.done, &tally.completed);
    if !same_names(&done, &ev.done) {
        tally.app_changes.push((
            DONE_KEY.into(),
            if done.is_empty() {
                Json::Null
            } else {
                strs(&done)
            },
        ));
    }
}

/// The post-login effects through `api` (no request): MFA, metadata, claims.
fn local_effects(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    host: &Host,
    tally: &mut Tally,
    out: &mut Outcome,
) {
    let api = &host.api;
    // MFA first: a failing metadata or claim call must not let a login skip it.
    if let Some(m) = &d.mfa {
        let opts = Object::new();
        let _ = Reflect::set(
            &opts,
            &"allowRememberBrowser".into(),
            &m.allow_remember_browser.into(),
        );
        if let Some(mfa) = api.multifactor() {
            if let Err(e) = mfa.enable(&m.provider, &opts) {
                tally.error.get_or_insert(e.into());
            }
        }
    }
    if let Err(e) = write_metadata(api, &tally.app_changes, &d.user_metadata) {
        tally.error.get_or_insert(e);
    }
    if let Err(e) = set_claims(api, policy, d, ev, &tally.assigned, &tally.removed, out) {
        tally.error.get_or_insert(e);
    }
}

/// The key of a once-only request: its path (which names the user) and body.
fn once_key(req: &Request) -> String {
    let mut k = String::from(req.call.label());
    k.push_str(&req.path);
    if let Some(Body::Json(j)) = &req.body {
        k.push_str(&stringify(j));
    }
    k
}

fn strs(items: &[String]) -> Json {
    Json::Arr(items.iter().map(|s| Json::Str(s.clone())).collect())
}

/// Resolves `wanted` and assigns (or removes) the ones that need it, in one request.
async fn change_roles(
    c: &Client,
    wanted: &[&WantedRole],
    ev: &Event,
    assign: bool,
    tally: &mut Tally,
) -> Vec<ResolvedRole> {
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut resolved: Vec<(&WantedRole, ResolvedRole)> = Vec::new();
    for w in wanted {
        match c.resolve(&w.role).await {
            Ok(r) => resolved.push((w, r)),
            Err(e) => tally.fail(&w.rules, e),
        }
    }
    let all: Vec<ResolvedRole> = resolved.iter().map(|(_, r)| r.clone()).collect();
    let targets: Vec<ResolvedRole> = if assign {
        missing_roles(&all, &ev.roles)
            .into_iter()
            .cloned()
            .collect()
    } else {
        all.into_iter()
            .filter(|r| !ev.roles_known || ev.roles.contains(&r.name))
            .collect()
    };
    if targets.is_empty() {
        return targets;
    }
    let ids: Vec<&str> = targets.iter().map(|r| r.id.as_str()).collect();
    let req = if assign {
        assign_roles_request(&ev.user_id, &ids)
    } else {
        remove_roles_request(&ev.user_id, &ids)
    };
    match c.call(&req).await {
        Ok(_) => targets,
        Err(e) => {
            if matches!(
                e,
                Error::Api {
                    status: 400 | 404,
                    ..
                }
            ) {
                // A cached id may point at a deleted role: resolve afresh next time.
                targets.iter().for_each(|r| c.forget_role(r));
            }
            let ws: Vec<&WantedRole> = resolved
                .iter()
                .filter(|(_, r)| targets.iter().any(|t| t.id == r.id))
                .map(|(w, _)| *w)
                .collect();
            tally.fail(&rules_of(&ws), e);
            Vec::new()
        }
    }
}

fn write_metadata(api: &Api, app: &[(String, Json)], user: &[(String, Json)]) -> Result<(), Error> {
    if app.is_empty() && user.is_empty() {
        return Ok(());
    }
    let u = api
        .user()
        .ok_or_else(|| Error::Js("api.user is missing".into()))?;
    for (k, v) in app {
        u.set_app_metadata(k, &from_json(v))
            .map_err(|e| Error::Js(describe(&e)))?;
    }
    for (k, v) in user {
        u.set_user_metadata(k, &from_json(v))
            .map_err(|e| Error::Js(describe(&e)))?;
    }
    Ok(())
}

fn set_claims(
    api: &Api,
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    assigned: &[ResolvedRole],
    removed: &[ResolvedRole],
    out: &mut Outcome,
) -> Result<(), Error> {
    let mut claims: Vec<(String, JsValue)> = d
        .claims
        .iter()
        .map(|(k, v)| (k.clone(), from_json(v)))
        .collect();
    if let Some(ns) = &policy.claims_namespace {
        let a: Vec<&ResolvedRole> = assigned.iter().collect();
        let r: Vec<&ResolvedRole> = removed.iter().collect();
        let roles = roles_after(&ev.roles, &a, &r);
        claims.push(([ns.as_str(), "roles"].concat(), str_array(&roles)));
        out.roles_claim = Some(roles);
    }
    for setter in [api.id_token(), api.access_token()].into_iter().flatten() {
        for (name, value) in &claims {
            setter.set_custom_claim(name, value)?;
        }
    }
    Ok(())
}
