//! The Management API client: cached token with one shared in-flight refresh, role
//! resolution by exact name or id with caching, and calls bounded by the run's deadline.

use super::cache::Cache;
use super::http::{send, Reply};
use super::log::register_sensitive;
use super::raw::set_timeout;
use crate::core::config::Tenant;
use crate::core::decide::ResolvedRole;
use crate::core::encode::fnv_hex;
use crate::core::json::Json;
use crate::core::mgmt::{
    api_error, get_role_request, list_roles_request, lookup_step, parse_role, parse_roles_page,
    parse_token, token_request, token_ttl_ms, Lookup, Request,
};
use crate::core::policy::RoleRef;
use crate::core::retry::{backoff_ms, may_retry};
use crate::error::{Call, Error};
use js_sys::{Date, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// How long a resolved role id/name is trusted (roles are rarely renamed or recreated).
pub const ROLE_TTL_MS: f64 = 3_600_000.0;
/// Longest wait for one request; the run's deadline may cut it shorter.
pub const REQUEST_TIMEOUT_MS: f64 = 5_000.0;

type Slot = Rc<RefCell<Option<Result<String, Error>>>>;

thread_local! {
    /// The refresh in flight, shared by concurrent executions: (cache key, done, result).
    static INFLIGHT: RefCell<Option<(String, Promise, Slot)>> = const { RefCell::new(None) };
}

/// What one execution's requests cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Management API requests sent (token requests and retries included).
    pub requests: u32,
    /// 429 replies received.
    pub throttled: u32,
}

type Counter = Rc<RefCell<Stats>>;

/// A client for one execution.
pub struct Client {
    tenant: Tenant,
    cache: Rc<Cache>,
    deadline: f64,
    /// This execution's request counts.
    pub stats: Counter,
}

/// Resolves after `ms` milliseconds.
async fn sleep(ms: f64) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

/// Sends `req`, retrying 429, 5xx, network errors and timeouts (never other 4xx) as long
/// as a retry can finish before `deadline`. Returns the last reply or error.
async fn send_retrying(
    origin: &str,
    req: &Request,
    bearer: Option<&str>,
    deadline: f64,
    stats: &Counter,
) -> Result<Reply, Error> {
    let mut attempt = 1;
    loop {
        let result = send(origin, req, bearer, remaining(deadline)).await;
        stats.borrow_mut().requests += 1;
        let (error, retry_after, reset) = match result {
            Ok(reply) if reply.status == 429 || reply.status >= 500 => {
                if reply.status == 429 {
                    stats.borrow_mut().throttled += 1;
                }
                let e = api_error(req.call, reply.status, reply.body.as_ref());
                (e, reply.retry_after, reply.ratelimit_reset)
            }
            Ok(reply) => return Ok(reply),
            Err(e) if e.is_transient() => (e, None, None),
            Err(e) => return Err(e),
        };
        let now = Date::now();
        let wait = backoff_ms(
            attempt,
            retry_after.as_deref(),
            reset.as_deref(),
            now,
            js_sys::Math::random(),
        );
        if !may_retry(attempt, wait, now, deadline) {
            return Err(error);
        }
        sleep(wait).await;
        attempt += 1;
    }
}

fn key(kind: &str, parts: &[&str]) -> String {
    // "a0p:" + kind + ":" + 16 hex digits: well under api.cache's 64-byte key limit.
    let mut k = String::from("a0p:");
    k.push_str(kind);
    k.push(':');
    k.push_str(&fnv_hex(parts));
    k
}

async fn fetch_token(
    tenant: Tenant,
    cache: Rc<Cache>,
    deadline: f64,
    stats: Counter,
) -> Result<String, Error> {
    let req = token_request(&tenant);
    let reply = send_retrying(&tenant.origin, &req, None, deadline, &stats).await?;
    if !(200..300).contains(&reply.status) {
        return Err(api_error(Call::Token, reply.status, reply.body.as_ref()));
    }
    let body = reply.body.ok_or(Error::BadResponse {
        call: Call::Token,
        message: "empty body",
    })?;
    let token = parse_token(&body)?;
    register_sensitive(&token.access_token);
    let k = token_key(&tenant);
    cache.set(
        &k,
        &token.access_token,
        token_ttl_ms(token.expires_in),
        Date::now(),
    );
    Ok(token.access_token)
}

fn remaining(deadline: f64) -> f64 {
    (deadline - Date::now()).min(REQUEST_TIMEOUT_MS)
}

fn token_key(t: &Tenant) -> String {
    key("t", &[&t.origin, &t.client_id])
}

impl Client {
    /// A client for `tenant` whose calls must finish by `deadline` (epoch ms).
    pub fn new(tenant: Tenant, cache: Rc<Cache>, deadline: f64) -> Client {
        register_sensitive(&tenant.client_secret);
        Client {
            tenant,
            cache,
            deadline,
            stats: Rc::new(RefCell::new(Stats::default())),
        }
    }

    /// A valid token: cached, or from the refresh in flight, or from a new refresh.
    pub async fn token(&self) -> Result<String, Error> {
        let k = token_key(&self.tenant);
        if let Some(t) = self.cache.get(&k, Date::now()) {
            register_sensitive(&t);
            return Ok(t);
        }
        let joined = INFLIGHT.with(|f| {
            f.borrow()
                .as_ref()
                .filter(|(key, _, _)| *key == k)
                .map(|(_, p, s)| (p.clone(), s.clone()))
        });
        let (done, slot) = match joined {
            Some(x) => x,
            None => {
                let slot: Slot = Rc::new(RefCell::new(None));
                let fut = fetch_token(
                    self.tenant.clone(),
                    self.cache.clone(),
                    self.deadline,
                    self.stats.clone(),
                );
                let (s2, k2) = (slot.clone(), k.clone());
                let done = future_to_promise(async move {
                    let r = fut.await;
                    *s2.borrow_mut() = Some(r);
                    INFLIGHT.with(|f| {
                        let mut f = f.borrow_mut();
                        if f.as_ref().is_some_and(|(key, _, _)| *key == k2) {
                            *f = None;
                        }
                    });
                    Ok(JsValue::UNDEFINED)
                });
                INFLIGHT.with(|f| *f.borrow_mut() = Some((k, done.clone(), slot.clone())));
                (done, slot)
            }
        };
        // The shared promise never rejects; its outcome is in the slot.
        let _ = JsFuture::from(done).await;
        let result = slot.borrow().clone();
        result.unwrap_or(Err(Error::Js("token refresh did not complete".into())))
    }

    /// Forgets the cached token (after a 401).
    pub fn drop_token(&self) {
        self.cache.delete(&token_key(&self.tenant));
    }

    /// Sends an authenticated request (with retries); a 401 drops the token and retries once
    /// with a new one.
    /// Returns the parsed body (`None` for 204 / empty).
    pub async fn call(&self, req: &Request) -> Result<Option<Json>, Error> {
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let reply = send_retrying(
                &self.tenant.origin,
                req,
                Some(&token),
                self.deadline,
                &self.stats,
            )
            .await?;
            if reply.status == 401 && !refreshed {
                refreshed = true;
                self.drop_token();
                continue;
            }
            if (200..300).contains(&reply.status) {
                return Ok(reply.body);
            }
            return Err(api_error(req.call, reply.status, reply.body.as_ref()));
        }
    }

    fn role_key(&self, kind: &str, s: &str) -> String {
        key(kind, &[&self.tenant.origin, s])
    }

    /// The cached resolution of `role`, if any (no request).
    pub fn cached_role(&self, role: &RoleRef) -> Option<ResolvedRole> {
        let now = Date::now();
        match role {
            RoleRef::Name(n) => {
                self.cache
                    .get(&self.role_key("n", n), now)
                    .map(|id| ResolvedRole {
                        id,
                        name: n.clone(),
                    })
            }
            RoleRef::Id(id) => {
                self.cache
                    .get(&self.role_key("i", id), now)
                    .map(|name| ResolvedRole {
                        id: id.clone(),
                        name,
                    })
            }
        }
    }

    /// Forgets a resolution (e.g. the role was deleted and the assignment failed).
    pub fn forget_role(&self, r: &ResolvedRole) {
        self.cache.delete(&self.role_key("n", &r.name));
        self.cache.delete(&self.role_key("i", &r.id));
    }

    fn remember_role(&self, r: &ResolvedRole) {
        let now = Date::now();
        self.cache
            .set(&self.role_key("n", &r.name), &r.id, ROLE_TTL_MS, now);
        self.cache
            .set(&self.role_key("i", &r.id), &r.name, ROLE_TTL_MS, now);
    }

    /// Resolves a role to id and name: cache first, else the Management API (paging through
    /// `name_filter` results, which are case-insensitive substrings, for an exact match).
    pub async fn resolve(&self, role: &RoleRef) -> Result<ResolvedRole, Error> {
        if let Some(r) = self.cached_role(role) {
            return Ok(r);
        }
        let found = match role {
            RoleRef::Id(id) => match self.call(&get_role_request(id)).await {
                Ok(Some(body)) => parse_role(&body)?,
                Ok(None) => {
                    return Err(Error::BadResponse {
                        call: Call::GetRole,
                        message: "empty body",
                    })
                }
                Err(Error::Api { status: 404, .. }) => return Err(Error::RoleNotFound(id.clone())),
                Err(e) => return Err(e),
            },
            RoleRef::Name(name) => {
                let mut page = 0;
                loop {
                    let body = self.call(&list_roles_request(name, page)).await?.ok_or(
                        Error::BadResponse {
                            call: Call::ListRoles,
                            message: "empty body",
                        },
                    )?;
                    match lookup_step(name, page, &parse_roles_page(&body)?) {
                        Lookup::Found(r) => break r,
                        Lookup::Next(p) => page = p,
                        Lookup::NotFound => return Err(Error::RoleNotFound(name.clone())),
                    }
                }
            }
        };
        self.remember_role(&found);
        Ok(found)
    }
}
