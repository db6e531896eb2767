//! One in-flight computation per key, shared by concurrent executions in the container:
//! the first caller leads it (its requests are its own), later callers wait until it has
//! settled and take its result (node-auth0's token provider does this for tokens; we also
//! do it for role and organization look-ups, and once-only effects).

#[allow(unused_imports)]
use crate::prelude::*;

use super::global::Global;
use super::tape::{self, Ask, Suspend};
use crate::core::error::Error;

/// Keys in flight and the execution leading each.
static INFLIGHT: Global<Vec<(String, u32)>> = Global::new(Vec::new());
/// Results settled recently (key, result, expiry in epoch ms), for the ones that waited.
static SETTLED: Global<Vec<Settled>> = Global::new(Vec::new());
type Settled = (String, Result<String, Error>, f64);
/// Keys settled since the shim last asked ([`woken`]): it wakes their waiters.
static WOKEN: Global<Vec<String>> = Global::new(Vec::new());

/// How long a settled result waits for its waiters (they resume within a tick).
const SETTLED_TTL_MS: f64 = 30_000.0;
const SETTLED_MAX: usize = 64;

/// A result shared with this caller and whether this caller led the work.
pub type Led = Result<(Result<String, Error>, bool), Suspend>;

/// Runs `work` unless another execution already leads it for `key`, in which case this one
/// waits and takes its result. (A waiter arrives after the leader, so the leader's
/// deadline, which bounds the work, is never later than the waiter's.)
pub fn led(key: &str, work: impl FnOnce() -> Result<Result<String, Error>, Suspend>) -> Led {
    // The generic part stays this small: `follow` and `finish` are one copy each, not one
    // per caller's `work`.
    if let Some(r) = follow(key)? {
        return Ok((r, false));
    }
    let r = work()?;
    finish(key, &r);
    Ok((r, true))
}

/// The leader's result when another execution leads `key` (waiting for it), else `None`
/// with this execution recorded as the leader.
#[inline(never)]
fn follow(key: &str) -> Result<Option<Result<String, Error>>, Suspend> {
    let me = tape::run_id();
    let leader = tape::id(|| {
        INFLIGHT.with(|f| {
            f.borrow()
                .iter()
                .find(|(k, _)| k == key)
                .map_or(0, |(_, r)| *r)
        })
    });
    if leader != 0 && leader != me {
        tape::ask(|| Ask::Wait(key.to_owned()))?;
        let r = tape::shared(|| {
            SETTLED.with(|s| {
                s.borrow()
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, r, _)| r.clone())
            })
        });
        let r = r.unwrap_or_else(|| Err(Error::Js("shared request did not complete".into())));
        return Ok(Some(r));
    }
    tape::effect(|| INFLIGHT.with(|f| f.borrow_mut().push((key.to_owned(), me))));
    Ok(None)
}

#[inline(never)]
fn finish(key: &str, r: &Result<String, Error>) {
    tape::effect(|| settle(key, r.clone()));
}

/// [`led`] without telling who led.
pub fn shared(
    key: &str,
    work: impl FnOnce() -> Result<Result<String, Error>, Suspend>,
) -> Result<Result<String, Error>, Suspend> {
    Ok(led(key, work)?.0)
}

fn settle(key: &str, r: Result<String, Error>) {
    INFLIGHT.with(|f| f.borrow_mut().retain(|(k, _)| k != key));
    let now = js_sys::Date::now();
    SETTLED.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|(k, _, exp)| *exp > now && k != key);
        if s.len() >= SETTLED_MAX {
            drop(s.remove(0));
        }
        s.push((key.to_owned(), r, now + SETTLED_TTL_MS));
    });
    WOKEN.with(|w| w.borrow_mut().push(key.to_owned()));
}

/// Settles, with an error, whatever execution `run` led and left unfinished (it ended).
pub fn abandon(run: u32) {
    let keys: Vec<String> = INFLIGHT.with(|f| {
        f.borrow()
            .iter()
            .filter(|(_, r)| *r == run)
            .map(|(k, _)| k.clone())
            .collect()
    });
    for k in keys {
        settle(&k, Err(Error::Js("shared request did not complete".into())));
    }
}

/// The keys settled since the last call, for the shim to wake their waiters.
pub fn woken() -> Vec<String> {
    WOKEN.with(|w| ::core::mem::take(&mut *w.borrow_mut()))
}

/// Once-only effects that succeeded here recently: key, result, expiry (epoch ms).
static DONE: Global<Vec<(String, String, f64)>> = Global::new(Vec::new());

/// How long a once-only success is remembered: concurrent logins of one user carry events
/// read before the first one's done marker was saved.
const ONCE_TTL_MS: f64 = 600_000.0;
const ONCE_MAX: usize = 256;

/// A once-only effect (a ticket, permissions) for one user: in this container it runs at
/// most once at a time per `key`, and a success is reused for [`ONCE_TTL_MS`]. The flag is
/// true only for the caller whose `work` ran (the one that reports it, e.g. logs a URL).
pub fn once(key: &str, work: impl FnOnce() -> Result<Result<String, Error>, Suspend>) -> Led {
    let now = tape::now();
    if let Some(v) = done_before(key, now) {
        return Ok((Ok(v), false));
    }
    let (result, ran) = led(key, work)?;
    if let (Ok(v), true) = (&result, ran) {
        remember_done(key, v, now);
    }
    Ok((result, ran))
}

/// A success of `key` remembered here (and not expired at `now`).
#[inline(never)]
fn done_before(key: &str, now: f64) -> Option<String> {
    tape::text(|| {
        DONE.with(|d| {
            let mut d = d.borrow_mut();
            d.retain(|(_, _, exp)| *exp > now);
            d.iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, v, _)| v.clone())
        })
    })
}

#[inline(never)]
fn remember_done(key: &str, v: &str, now: f64) {
    tape::effect(|| {
        DONE.with(|d| {
            let mut d = d.borrow_mut();
            if d.len() >= ONCE_MAX {
                d.remove(0);
            }
            d.push((key.to_owned(), v.to_owned(), now + ONCE_TTL_MS));
        })
    });
}
