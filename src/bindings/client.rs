//! The Management API client: a cached token with one shared in-flight refresh, role
//! resolution by exact name or id (cached, and shared while in flight), retries within the
//! run's deadline, and a container-wide gate after 429s.

#[allow(unused_imports)]
use crate::prelude::*;

use super::cache::Cache;
use super::http::{ask_for, Reply};
use super::log::{pin_sensitive, register_sensitive, scrub};
use super::shared::shared;
use super::tape::{self, Ask, Ev, Io};
use super::throttle;
use crate::core::config::Tenant;
use crate::core::encode::fnv_hex;
use crate::core::error::{Call, Error};
use crate::core::json::Json;
use crate::core::mgmt::ResolvedRole;
use crate::core::mgmt::{
    api_error, get_role_request, list_roles_request, lookup_step, org_by_name_request,
    parse_org_id, parse_role, parse_roles_page, parse_token, token_request, token_ttl_ms, Lookup,
    Request,
};
use crate::core::policy::{OrgRef, RoleRef, CURRENT};
use crate::core::retry::{backoff_ms, may_retry};
use ::core::cell::RefCell;
use std_alloc::rc::Rc;

/// How long a resolved role id/name is trusted (roles are rarely renamed or recreated).
pub const ROLE_TTL_MS: f64 = 3_600_000.0;
/// Longest wait for one request; the run's deadline may cut it shorter.
pub const REQUEST_TIMEOUT_MS: f64 = 5_000.0;

/// What one execution's requests cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Management API requests sent (token requests and retries included).
    pub requests: u32,
    /// 429 replies received.
    pub throttled: u32,
}

type Counter = Rc<RefCell<Stats>>;

/// Where requests go and by when they must be done.
struct Conn {
    tenant: Rc<Tenant>,
    cache: Rc<Cache>,
    deadline: f64,
    stats: Counter,
}

/// A client for one execution.
pub struct Client {
    conn: Conn,
    /// This execution's request counts.
    pub stats: Counter,
}

fn remaining(deadline: f64) -> f64 {
    (deadline - tape::now()).min(REQUEST_TIMEOUT_MS)
}

fn key(kind: &str, parts: &[&str]) -> String {
    // "a0p:" + kind + ":" + 16 hex digits: well under api.cache's 64-byte key limit.
    let mut k = String::from("a0p:");
    k.push_str(kind);
    k.push(':');
    k.push_str(&fnv_hex(parts));
    k
}

fn token_key(t: &Tenant) -> String {
    key("t", &[&t.origin, &t.client_id])
}

fn role_key(t: &Tenant, kind: &str, s: &str) -> String {
    key(kind, &[&t.origin, s])
}

fn empty(call: Call) -> Error {
    Error::BadResponse {
        call,
        message: "empty body",
    }
}

/// The typed error of an error reply, with whatever the server echoed back redacted.
fn reply_error(call: Call, reply: &Reply) -> Error {
    scrub(api_error(call, reply.status, reply.body.as_ref()))
}

/// `?` for the inner (call) error of an [`Io`]: returns it as the call's result.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

impl Conn {
    /// Sends `req` once (a turn at the gate first), counting it.
    fn send(&self, req: &Request, bearer: Option<&str>) -> Io<Reply> {
        tri!(throttle::enter(self.deadline)?);
        self.stats.borrow_mut().requests += 1;
        let timeout = remaining(self.deadline);
        if timeout < 1.0 {
            return Ok(Err(Error::Timeout { call: req.call }));
        }
        let ask = tri!(ask_for(&self.tenant.origin, req, bearer, timeout));
        match tape::ask(|| Ask::Fetch(ask, req.call))? {
            Ev::Reply(r) => Ok(r.map_err(scrub)),
            _ => Ok(Err(Error::Js("replay out of step".into()))),
        }
    }

    /// Sends `req`, retrying 429, 5xx, network errors and timeouts (never other 4xx) as
    /// long as a retry can finish before the deadline. Returns the last reply or error.
    fn send_retrying(&self, req: &Request, bearer: Option<&str>) -> Io<Reply> {
        let mut attempt = 1;
        loop {
            let (error, retry_after, reset) = match self.send(req, bearer)? {
                Ok(reply) if reply.status == 429 || reply.status >= 500 => {
                    let e = reply_error(req.call, &reply);
                    (e, reply.retry_after, reply.ratelimit_reset)
                }
                Ok(reply) => {
                    tape::effect(|| {
                        throttle::observe(
                            reply.ratelimit_remaining.as_deref(),
                            reply.ratelimit_reset.as_deref(),
                            reply.ratelimit_limit.as_deref(),
                        )
                    });
                    return Ok(Ok(reply));
                }
                Err(e) if e.is_transient() => (e, None, None),
                Err(e) => return Ok(Err(e)),
            };
            let now = tape::now();
            let jitter = tape::num(js_sys::Math::random);
            let wait = backoff_ms(
                attempt,
                retry_after.as_deref(),
                reset.as_deref(),
                now,
                jitter,
            );
            if let Error::Api { status: 429, .. } = error {
                self.stats.borrow_mut().throttled += 1;
                tape::effect(|| throttle::throttled(wait));
            }
            if !may_retry(attempt, wait, now, self.deadline) {
                return Ok(Err(error));
            }
            tape::ask(|| Ask::Sleep(wait))?;
            attempt += 1;
        }
    }

    /// A new token from `/oauth/token`, stored in both cache levels.
    fn fetch_token(&self) -> Io<String> {
        let reply = tri!(self.send_retrying(&token_request(&self.tenant), None)?);
        if !(200..300).contains(&reply.status) {
            return Ok(Err(reply_error(Call::Token, &reply)));
        }
        let token = tri!(parse_token(&tri!(reply.body.ok_or(empty(Call::Token)))));
        register_sensitive(&token.access_token);
        let ttl = token_ttl_ms(token.expires_in);
        self.cache.set(
            &token_key(&self.tenant),
            &token.access_token,
            ttl,
            tape::now(),
        );
        Ok(Ok(token.access_token))
    }

    /// A valid token: cached, or from the refresh in flight, or from a new refresh.
    fn token(&self) -> Io<String> {
        let k = token_key(&self.tenant);
        if let Some(t) = self.cache.get(&k, tape::now()) {
            register_sensitive(&t);
            return Ok(Ok(t));
        }
        let r = shared(&k, || self.fetch_token())?;
        // A waiter learns the token from the leader's result: redact it here too.
        if let Ok(t) = &r {
            register_sensitive(t);
        }
        Ok(r)
    }

    /// Sends an authenticated request (with retries); a 401 drops the token and retries
    /// once with a new one. Returns the parsed body (`None` for 204 / empty).
    fn call(&self, req: &Request) -> Io<Option<Json>> {
        let mut refreshed = false;
        loop {
            let token = tri!(self.token()?);
            let reply = tri!(self.send_retrying(req, Some(&token))?);
            if reply.status == 401 && !refreshed {
                refreshed = true;
                self.cache.delete(&token_key(&self.tenant));
                continue;
            }
            if (200..300).contains(&reply.status) {
                return Ok(Ok(reply.body));
            }
            return Ok(Err(reply_error(req.call, &reply)));
        }
    }

    fn remember_role(&self, r: &ResolvedRole) {
        let now = tape::now();
        let t = &self.tenant;
        self.cache
            .set(&role_key(t, "n", &r.name), &r.id, ROLE_TTL_MS, now);
        self.cache
            .set(&role_key(t, "i", &r.id), &r.name, ROLE_TTL_MS, now);
    }

    /// The id of the role named exactly `name`, paging through `name_filter` results
    /// (a case-insensitive substring filter).
    fn look_up_name(&self, name: &str) -> Io<String> {
        let mut page = 0;
        loop {
            let body = tri!(self.call(&list_roles_request(name, page))?);
            let body = tri!(body.ok_or(empty(Call::ListRoles)));
            match lookup_step(name, page, &tri!(parse_roles_page(&body))) {
                Lookup::Found(r) => {
                    self.remember_role(&r);
                    return Ok(Ok(r.id));
                }
                Lookup::Next(p) => page = p,
                Lookup::NotFound => return Ok(Err(Error::RoleNotFound(name.to_owned()))),
            }
        }
    }

    /// The id of the organization named `name` (cached like role ids: the by-name endpoint
    /// allows 100 requests a minute on most plans).
    fn look_up_org(&self, name: &str) -> Io<String> {
        Ok(match self.call(&org_by_name_request(name))? {
            Ok(body) => parse_org_id(body.as_ref()).inspect(|id| {
                let k = role_key(&self.tenant, "o", name);
                self.cache.set(&k, id, ROLE_TTL_MS, tape::now());
            }),
            Err(Error::Api { status: 404, .. }) => Err(Error::OrgNotFound(name.to_owned())),
            Err(e) => Err(e),
        })
    }

    /// The name of the role with id `id`.
    fn look_up_id(&self, id: &str) -> Io<String> {
        Ok(match self.call(&get_role_request(id))? {
            Ok(Some(body)) => parse_role(&body).map(|r| {
                self.remember_role(&r);
                r.name
            }),
            Ok(None) => Err(empty(Call::GetRole)),
            Err(Error::Api { status: 404, .. }) => Err(Error::RoleNotFound(id.to_owned())),
            Err(e) => Err(e),
        })
    }
}

impl Client {
    /// A client for `tenant` whose calls must finish by `deadline` (epoch ms).
    pub fn new(tenant: Tenant, cache: Rc<Cache>, deadline: f64) -> Client {
        pin_sensitive(&tenant.client_secret);
        let stats: Counter = Rc::default();
        Client {
            conn: Conn {
                tenant: Rc::new(tenant),
                cache,
                deadline,
                stats: stats.clone(),
            },
            stats,
        }
    }

    /// Sends an authenticated request; see `Conn::call`.
    pub fn call(&self, req: &Request) -> Io<Option<Json>> {
        self.conn.call(req)
    }

    /// Forgets a resolution (e.g. the role was deleted and the assignment failed).
    pub fn forget_role(&self, r: &ResolvedRole) {
        let t = &self.conn.tenant;
        self.conn.cache.delete(&role_key(t, "n", &r.name));
        self.conn.cache.delete(&role_key(t, "i", &r.id));
    }

    /// The id of an organization: an id as written, a name from the caches or the
    /// Management API (one look-up shared by concurrent executions).
    pub fn resolve_org(&self, org: &OrgRef) -> Io<String> {
        let c = &self.conn;
        match org {
            OrgRef::Name(name) => {
                let k = role_key(&c.tenant, "o", name);
                match c.cache.get(&k, tape::now()) {
                    Some(id) => Ok(Ok(id)),
                    None => shared(&k, || c.look_up_org(name)),
                }
            }
            OrgRef::Id(id) => Ok(Ok(id.clone())),
            // The core turns `$current` into the login's id before a step exists.
            OrgRef::Current => Ok(Err(Error::OrgNotFound(CURRENT.into()))),
        }
    }

    /// Forgets an organization's resolved id (the request with it failed with 404).
    pub fn forget_org(&self, org: &OrgRef) {
        if let OrgRef::Name(n) = org {
            self.conn.cache.delete(&role_key(&self.conn.tenant, "o", n));
        }
    }

    /// Resolves a role to id and name: from the caches, else from the Management API, with
    /// one look-up per role shared by concurrent executions.
    pub fn resolve(&self, role: &RoleRef) -> Io<ResolvedRole> {
        let c = &self.conn;
        // One path for both: a name is looked up for its id, an id for its name.
        let (by_name, known) = match role {
            RoleRef::Name(name) => (true, name),
            RoleRef::Id(id) => (false, id),
        };
        let k = role_key(&c.tenant, if by_name { "n" } else { "i" }, known);
        let other = match c.cache.get(&k, tape::now()) {
            Some(v) => v,
            None => tri!(shared(&k, || if by_name {
                c.look_up_name(known)
            } else {
                c.look_up_id(known)
            })?),
        };
        let known = known.clone();
        Ok(Ok(if by_name {
            ResolvedRole {
                id: other,
                name: known,
            }
        } else {
            ResolvedRole {
                id: known,
                name: other,
            }
        }))
    }
}
