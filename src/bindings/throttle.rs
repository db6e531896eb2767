//! A container-wide gate in front of the Management API. Normally open; after a 429 it
//! lets requests through one at a time, in arrival order, each waiting for the server's
//! reset hint, so a burst of executions does not answer one 429 with a stampede of doomed
//! requests. It closes again once a reply shows spare rate-limit capacity.

use super::global::Global;
use super::time::{sleep, sleep_promise};
use crate::core::error::Error;
use crate::core::retry::{MAX_WAIT_MS, MIN_ATTEMPT_MS};
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

struct Gate {
    /// Throttled: requests queue behind `tail`.
    active: bool,
    /// No request before this (epoch ms).
    hold_until: f64,
    /// Resolves when the last queued request is done.
    tail: Option<Promise>,
}

static GATE: Global<Gate> = Global::new(Gate {
    active: false,
    hold_until: 0.0,
    tail: None,
});

/// A place in the queue; dropping it lets the next request go.
pub struct Ticket(Option<Function>);

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            let _ = release.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
        }
    }
}

impl Ticket {
    /// Releases this place in the queue when `prev` resolves instead of now.
    fn release_after(mut self, prev: Promise) {
        if let Some(release) = self.0.take() {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(prev).await;
                let _ = release.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
            });
        }
    }
}

/// Waits for this request's turn. `Err(Deferred)` when the turn would come too late for
/// the request to finish before `deadline`.
pub async fn enter(deadline: f64) -> Result<Ticket, Error> {
    let now = js_sys::Date::now();
    let (queued, ticket) = GATE.with(|g| {
        let mut g = g.borrow_mut();
        if !g.active && g.hold_until <= now {
            return (None, Ticket(None));
        }
        let mut release = None;
        let mine = Promise::new(&mut |resolve, _| release = Some(resolve));
        (g.tail.replace(mine), Ticket(release))
    });
    if let Some(prev) = queued {
        let budget = deadline - js_sys::Date::now() - MIN_ATTEMPT_MS;
        let race = js_sys::Array::of2(&prev, &sleep_promise(budget.max(0.0), true));
        let first = JsFuture::from(Promise::race(&race))
            .await
            .unwrap_or(JsValue::NULL);
        // `prev` resolves with `true` (see `release`); the timer with `undefined`.
        if first.as_bool() != Some(true) {
            // Giving up must not let the next in line overtake `prev`: our place is
            // released only once `prev` is done.
            ticket.release_after(prev);
            return Err(Error::Deferred);
        }
    }
    let hold = GATE.with(|g| g.borrow().hold_until) - js_sys::Date::now();
    if hold > 0.0 {
        if js_sys::Date::now() + hold + MIN_ATTEMPT_MS > deadline {
            return Err(Error::Deferred);
        }
        sleep(hold).await;
    }
    Ok(ticket)
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
    let num = |h: Option<&str>| h.and_then(|v| v.trim().parse::<u32>().ok());
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
