//! A container-wide gate in front of the Management API. Normally open; after a 429 it
//! lets requests through one at a time, in arrival order, each waiting for the server's
//! reset hint, so a burst of executions does not answer one 429 with a stampede of doomed
//! requests. It closes again once a reply shows spare rate-limit capacity. The queue itself
//! is the shim's (`{queue: ms}` asks, first come first served, a place held until the
//! request that took it is answered); when and how long to hold is decided here.

use crate::core::decimal::parse_u32_plus;
#[allow(unused_imports)]
use crate::prelude::*;

use super::global::Global;
use super::tape::{self, Ask, Ev, Suspend};
use crate::core::error::Error;
use crate::core::retry::{MAX_WAIT_MS, MIN_ATTEMPT_MS};

struct Gate {
    /// Throttled: requests queue.
    active: bool,
    /// No request before this (epoch ms).
    hold_until: f64,
}

static GATE: Global<Gate> = Global::new(Gate {
    active: false,
    hold_until: 0.0,
});

/// Waits for this request's turn. `Err(Deferred)` when the turn would come too late for
/// the request to finish before `deadline`.
pub fn enter(deadline: f64) -> Result<Result<(), Error>, Suspend> {
    let now = tape::now();
    let open = tape::num(|| {
        GATE.with(|g| {
            let g = g.borrow();
            f64::from(u8::from(!g.active && g.hold_until <= now))
        })
    });
    if open == 1.0 {
        return Ok(Ok(()));
    }
    let budget = (deadline - now - MIN_ATTEMPT_MS).max(0.0);
    if !matches!(tape::ask(|| Ask::Queue(budget))?, Ev::Done(true)) {
        // The shim keeps our place until the one before is done: no overtaking.
        return Ok(Err(Error::Deferred));
    }
    let now = tape::now();
    let hold = tape::num(|| GATE.with(|g| g.borrow().hold_until)) - now;
    if hold > 0.0 {
        if now + hold + MIN_ATTEMPT_MS > deadline {
            return Ok(Err(Error::Deferred));
        }
        tape::ask(|| Ask::Sleep(hold))?;
    }
    Ok(Ok(()))
}

/// Records a 429 and the wait its headers ask for: requests queue and hold until then.
pub fn throttled(wait_ms: f64) {
    GATE.with(|g| {
        let mut g = g.borrow_mut();
        g.active = true;
        g.hold_until = g.hold_until.max(js_sys::Date::now() + wait_ms);
    });
}

/// Records the rate-limit headers of a successful reply, before any 429: one request or
/// none left queues requests; none left also holds them for the time one request's worth
/// of capacity takes to come back (the time to a full bucket, `x-ratelimit-reset`, over
/// its size, `x-ratelimit-limit`); two or more left opens the gate again.
pub fn observe(remaining: Option<&str>, reset: Option<&str>, limit: Option<&str>) {
    let num = |h: Option<&str>| h.and_then(|v| parse_u32_plus(v.trim()));
    let Some(left) = num(remaining) else {
        // No rate-limit headers (a proxy strips them): reopen once the hold has passed, so
        // one 429 cannot serialise the container for the rest of its life.
        GATE.with(|g| {
            let mut g = g.borrow_mut();
            if js_sys::Date::now() >= g.hold_until {
                g.active = false;
            }
        });
        return;
    };
    GATE.with(|g| {
        let mut g = g.borrow_mut();
        g.active = left < 2;
        if let (0, Some(at)) = (left, num(reset)) {
            let now = js_sys::Date::now();
            let to_full = (f64::from(at) * 1000.0 - now).clamp(0.0, MAX_WAIT_MS);
            let per_request = to_full / f64::from(num(limit).unwrap_or(1).max(1));
            g.hold_until = g.hold_until.max(now + per_request);
        }
    });
}
