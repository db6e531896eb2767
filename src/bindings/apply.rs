//! Carries out a plan's steps (`core::plan::steps`), one `match` per step: role and permission
//! changes and tickets through the Management API, metadata through `api.user` (post-login)
//! or `PATCH /users/{id}` (post-user-registration), claims, MFA and denial through `api`.
//! What a step writes (markers included) is the core's to say, from the steps' results.

use crate::core::text::cat;
#[allow(unused_imports)]
use crate::prelude::*;

use super::cache::Cache;
use super::client::Client;
use super::convert::{describe, from_json, stringify};
use super::log::sanitize;
use super::raw::Api;
use super::shared::once;
use super::tape::{self, Io, Suspend};
use crate::core::config::{tenant, timeout_ms};
use crate::core::error::{clip, Error};
use crate::core::event::{Event, PENDING_KEY};
use crate::core::json::Json;
use crate::core::mgmt::ResolvedRole;
use crate::core::mgmt::{
    add_org_member_roles_request, add_org_members_request, assign_roles_request, parse_org_ids,
    parse_ticket_url, remove_org_member_roles_request, remove_org_members_request,
    remove_roles_request, update_user_request, user_orgs_request, Body, Request,
};
use crate::core::plan::{
    claims_after, metadata_writes, missing_roles, rules_where, steps, Decision, OrgGrant, OrgLeave,
    Progress, Step, Via, WantedRole,
};
use crate::core::policy::Policy;
use js_sys::{Object, Reflect};
use std_alloc::rc::Rc;
use wasm_bindgen::JsValue;

/// What one execution did (returned to the shim, tests and the demo).
#[derive(Clone, Default)]
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
    /// Hash of the policy in force (`core::encode::policy_hash`), for the log line.
    pub policy: String,
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
}

/// What the steps did so far (the core's `Progress`) and the first error.
#[derive(Default)]
struct Tally {
    progress: Progress,
    error: Option<Error>,
}

impl Tally {
    fn fail(&mut self, rules: &[String], e: Error) {
        self.progress.failed.extend(rules.iter().cloned());
        self.error.get_or_insert(e);
    }
}

fn rules_of(w: &[&WantedRole]) -> Vec<String> {
    w.iter().flat_map(|w| w.rules.iter().cloned()).collect()
}

fn matched(d: &Decision) -> Vec<String> {
    rules_where(d, |_| true)
}

/// Carries out a step that needs no request; `false` for one that does. Auth0's `api` is
/// changed once, by the pass that reaches the step live; later passes read back from the
/// tape what that did (`Ok("d")`: the login was denied).
fn local_step(
    step: &Step,
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    host: &Host,
    tally: &mut Tally,
    out: &mut Outcome,
) -> bool {
    let api = &host.api;
    let effect: Box<dyn FnOnce() -> Result<bool, Error> + '_> = match step {
        Step::Deny { reason, .. } => Box::new(move || match api.access() {
            Some(access) => access
                .deny(&sanitize(reason))
                .map(|_| true)
                .map_err(Error::from),
            None => Ok(false),
        }),
        Step::RequireMfa(m) => Box::new(move || {
            let opts = Object::new();
            let _ = Reflect::set(
                &opts,
                &"allowRememberBrowser".into(),
                &m.allow_remember_browser.into(),
            );
            match api.multifactor() {
                Some(mfa) => mfa
                    .enable(&m.provider, &opts)
                    .map(|_| false)
                    .map_err(Error::from),
                None => Ok(false),
            }
        }),
        Step::Metadata(Via::Api) => {
            let (app, user) = metadata_writes(policy, d, ev, &tally.progress);
            note_pending(&app, out);
            Box::new(move || write_metadata(api, &app, &user).map(|_| false))
        }
        Step::Claims => {
            let claims = claims_after(policy, d, ev, &tally.progress);
            note_roles_claim(policy, &claims, out);
            Box::new(move || set_claims(api, &claims).map(|_| false).map_err(Error::from))
        }
        _ => return false,
    };
    let done = tape::shared(|| Some(effect().map(|denied| if denied { "d" } else { "" }.into())));
    match done {
        Some(Ok(d)) => out.denied |= d == "d",
        Some(Err(e)) => {
            tally.error.get_or_insert(e);
        }
        None => {}
    }
    true
}

/// Records the pending marker written (for the outcome and the error line).
fn note_pending(app: &[(String, Json)], out: &mut Outcome) {
    if let Some((_, v)) = app.iter().find(|(k, _)| k == PENDING_KEY) {
        out.pending = Some(
            v.as_array()
                .unwrap_or_default()
                .iter()
                .filter_map(|j| j.as_str().map(str::to_owned))
                .collect(),
        );
    }
}

/// Carries out steps that need no request (`core::plan::needs_management_api` is false),
/// synchronously: a returning user's login creates no future, so the async code is neither
/// run nor (V8 compiles wasm lazily) compiled.
pub fn apply_local(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    host: &Host,
    out: &mut Outcome,
) -> Result<(), Error> {
    let mut tally = Tally::default();
    for step in steps(policy, d, ev) {
        local_step(&step, policy, d, ev, host, &mut tally, out);
    }
    tally.error.map_or(Ok(()), Err)
}

/// Carries out every step of `d` for `ev`; returns the first error after doing everything
/// that could be done. One pass of the replay (`tape`): `Err(Suspend)` when it must wait.
pub fn apply(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    secrets: &Json,
    host: &Host,
    out: &mut Outcome,
) -> Result<Result<(), Error>, Suspend> {
    let mut tally = Tally::default();
    let mut client: Option<Client> = None;
    for step in steps(policy, d, ev) {
        if local_step(&step, policy, d, ev, host, &mut tally, out) {
            continue;
        }
        if let Step::Token = step {
            match tenant(secrets)
                .map_err(Error::from)
                .and_then(|t| Ok((t, timeout_ms(secrets)?)))
            {
                Ok((t, timeout)) => {
                    let cache = Rc::new(Cache::new(host.api.cache()));
                    let deadline = host.t0 + timeout;
                    client = Some(Client::new(t, cache, deadline));
                }
                Err(e) => tally.fail(&matched(d), e),
            }
            continue;
        }
        // Without a client the configuration error is already in the tally.
        let Some(c) = &client else { continue };
        match &step {
            Step::AssignRoles(ws) | Step::RemoveRoles(ws) => {
                let assign = matches!(step, Step::AssignRoles(_));
                let ws: Vec<&WantedRole> = ws.iter().collect();
                let done = change_roles(c, &ws, ev, assign, &mut tally)?;
                let (names, into) = if assign {
                    (&mut out.assigned, &mut tally.progress.assigned)
                } else {
                    (&mut out.removed, &mut tally.progress.removed)
                };
                names.extend(done.iter().map(|r| r.name.clone()));
                into.extend(done);
            }
            Step::LeaveOrganizations(leaves) => {
                for l in leaves {
                    match leave_org(c, l, ev)? {
                        Ok(()) => {
                            tally.progress.orgs_removed.extend(l.records(&ev.orgs));
                            out.did.push("organization-removed".into());
                        }
                        Err(e) => {
                            if matches!(e, Error::Api { status: 404, .. }) {
                                c.forget_org(&l.org);
                            }
                            tally.fail(&l.rules, e);
                        }
                    }
                }
            }
            Step::Organizations(grants) => {
                for g in grants {
                    match give_org(c, g, ev)? {
                        Ok(owned) => {
                            tally.progress.orgs.extend(g.records(owned));
                            out.did.push("organization".into());
                        }
                        Err(e) => {
                            if matches!(e, Error::Api { status: 404, .. }) {
                                c.forget_org(&g.org);
                            }
                            tally.fail(&g.rules, e);
                        }
                    }
                }
            }
            Step::AssignPermissions { request, rules } => {
                let grant = || Ok(c.call(request)?.map(|_| String::new()));
                match once(&once_key(request), grant)? {
                    (Ok(_), ran) => {
                        tally.progress.completed.extend(rules.iter().cloned());
                        if ran {
                            out.did.push("permissions".into());
                        }
                    }
                    (Err(e), _) => tally.fail(rules, e),
                }
            }
            Step::Ticket {
                request,
                store_key,
                rule,
            } => {
                let issue = || {
                    Ok(c.call(request)?
                        .and_then(|body| parse_ticket_url(request.call, body.as_ref())))
                };
                // Concurrent logins of one user share one ticket; only its issuer reports it.
                match once(&once_key(request), issue)? {
                    // Another execution issued it and logs it; that one marks it done (so a
                    // URL lost with a trapped issuer is issued again at a later login).
                    (Ok(_), false) if store_key.is_none() => {}
                    (Ok(url), _) => {
                        match store_key {
                            Some(k) => tally.progress.stored.push((k.clone(), Json::Str(url))),
                            // The URL first, so the user id and rule name never push it past
                            // Auth0's 256-character log line (long URLs: store them instead).
                            None => out.log(&cat(&[
                                "provision ticket url=",
                                &url,
                                " user=",
                                clip(&ev.user_id, 64),
                                " rule=",
                                clip(rule, 40),
                            ])),
                        }
                        tally.progress.completed.push(rule.clone());
                        out.did.push("ticket".into());
                    }
                    (Err(e), _) => tally.fail(::core::slice::from_ref(rule), e),
                }
            }
            Step::Metadata(Via::Patch) => {
                let (app, user) = metadata_writes(policy, d, ev, &tally.progress);
                note_pending(&app, out);
                if !app.is_empty() || !user.is_empty() {
                    match c.call(&update_user_request(&ev.user_id, &app, &user))? {
                        Ok(_) => out.did.push("metadata".into()),
                        Err(e) => tally.fail(&matched(d), e),
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(c) = &client {
        let stats = *c.stats.borrow();
        out.requests = stats.requests;
        out.throttled = stats.throttled;
    }
    Ok(tally.error.map_or(Ok(()), Err))
}

/// `?` for the inner (call) error of an [`Io`].
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

/// Makes the user a member of `g`'s organization (when not recorded yet) and gives the roles:
/// an "already a member" 409 is the state wanted, so it counts as success.
/// For a `retract` rule the user's memberships are read first: a membership found is not
/// the policy's (`owned` false, never retracted) and is not asked again. Returns `owned`.
fn give_org(c: &Client, g: &OrgGrant, ev: &Event) -> Io<bool> {
    let org = tri!(c.resolve_org(&g.org)?);
    let member = if g.retract {
        tri!(is_member(c, &org, ev)?)
    } else {
        None
    };
    if g.join && member != Some(true) {
        match c.call(&add_org_members_request(&org, &[&ev.user_id]))? {
            Ok(_) | Err(Error::Api { status: 409, .. }) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    let owned = member == Some(false);
    if g.roles.is_empty() {
        return Ok(Ok(owned));
    }
    let mut ids: Vec<String> = Vec::new();
    for r in &g.roles {
        ids.push(tri!(c.resolve(r)?).id);
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    Ok(
        c.call(&add_org_member_roles_request(&org, &ev.user_id, &ids))?
            .map(|_| owned),
    )
}

/// Whether the user is a member of organization `org_id` (`GET /users/{id}/organizations`,
/// 100 a page); `None` past 50 full pages (then joined, never recorded as the policy's).
fn is_member(c: &Client, org_id: &str, ev: &Event) -> Io<Option<bool>> {
    let mut page = 0;
    loop {
        let body = tri!(c.call(&user_orgs_request(&ev.user_id, page))?);
        let ids = tri!(parse_org_ids(body.as_ref()));
        if ids.iter().any(|id| id == org_id) {
            return Ok(Ok(Some(true)));
        }
        // A short page is the last; 50 pages (5,000 memberships) bound a hostile reply.
        if ids.len() < 100 {
            return Ok(Ok(Some(false)));
        }
        if page >= 50 {
            return Ok(Ok(None));
        }
        page += 1;
    }
}

/// Retracts what `l` says: the membership (its roles go with it), or some roles in it. A
/// membership or role already gone is the state wanted (Auth0 answers 204 either way).
fn leave_org(c: &Client, l: &OrgLeave, ev: &Event) -> Io<()> {
    let org = tri!(c.resolve_org(&l.org)?);
    if l.leave {
        return Ok(c
            .call(&remove_org_members_request(&org, &[&ev.user_id]))?
            .map(|_| ()));
    }
    let mut ids: Vec<String> = Vec::new();
    for r in &l.roles {
        ids.push(tri!(c.resolve(r)?).id);
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    Ok(
        c.call(&remove_org_member_roles_request(&org, &ev.user_id, &ids))?
            .map(|_| ()),
    )
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

/// Resolves `wanted` and assigns (or removes) the ones that need it, in one request.
fn change_roles(
    c: &Client,
    wanted: &[&WantedRole],
    ev: &Event,
    assign: bool,
    tally: &mut Tally,
) -> Result<Vec<ResolvedRole>, Suspend> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut resolved: Vec<(&WantedRole, ResolvedRole)> = Vec::new();
    for w in wanted {
        match c.resolve(&w.role)? {
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
        return Ok(targets);
    }
    let ids: Vec<&str> = targets.iter().map(|r| r.id.as_str()).collect();
    let req = if assign {
        assign_roles_request(&ev.user_id, &ids)
    } else {
        remove_roles_request(&ev.user_id, &ids)
    };
    Ok(match c.call(&req)? {
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
    })
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

/// The roles claim the claims set, for the outcome.
fn note_roles_claim(policy: &Policy, claims: &[(String, Json)], out: &mut Outcome) {
    if let Some(ns) = &policy.claims_namespace {
        let name = cat(&[ns.as_str(), "roles"]);
        if let Some((_, Json::Arr(roles))) = claims.iter().find(|(k, _)| *k == name) {
            out.roles_claim = Some(
                roles
                    .iter()
                    .filter_map(|j| j.as_str().map(str::to_owned))
                    .collect(),
            );
        }
    }
}

fn set_claims(api: &Api, claims: &[(String, Json)]) -> Result<(), JsValue> {
    for setter in [api.id_token(), api.access_token()].into_iter().flatten() {
        for (name, value) in claims {
            setter.set_custom_claim(name, &from_json(value))?;
        }
    }
    Ok(())
}
