//! One in-flight computation per key, shared by concurrent executions in the container:
//! the first caller starts it, later callers await the same result (node-auth0's token
//! provider does this for tokens; we also do it for role look-ups).

use super::global::Global;
use crate::core::error::Error;
use js_sys::Promise;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

type Slot = Rc<RefCell<Option<Result<String, Error>>>>;

static INFLIGHT: Global<Vec<(String, Promise, Slot)>> = Global::new(Vec::new());

/// Runs `work` unless a run for `key` is already in flight, in which case its result is
/// shared. (A joiner arrives after the leader, so the leader's deadline, which bounds the
/// run, is never later than the joiner's.)
pub async fn shared(key: &str, work: Work) -> Result<String, Error> {
    led(key, work).await.0
}

/// Work that may be shared: created by every caller (an unpolled future costs nothing),
/// run by the first; boxed so one copy of the sharing code serves every kind of work.
pub type Work = Pin<Box<dyn Future<Output = Result<String, Error>>>>;

/// Once-only effects that succeeded here recently: key, result, expiry (epoch ms).
static DONE: Global<Vec<(String, String, f64)>> = Global::new(Vec::new());

/// How long a once-only success is remembered: concurrent logins of one user carry events
/// read before the first one's done marker was saved.
const ONCE_TTL_MS: f64 = 600_000.0;
const ONCE_MAX: usize = 256;

/// A once-only effect (a ticket, permissions) for one user: in this container it runs at
/// most once at a time per `key`, and a success is reused for [`ONCE_TTL_MS`]. The flag is
/// true only for the caller whose `work` ran (the one that reports it, e.g. logs a URL).
pub async fn once(key: &str, work: Work) -> (Result<String, Error>, bool) {
    let now = js_sys::Date::now();
    let hit = DONE.with(|d| {
        let mut d = d.borrow_mut();
        d.retain(|(_, _, exp)| *exp > now);
        d.iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.clone())
    });
    if let Some(v) = hit {
        return (Ok(v), false);
    }
    let (result, ran) = led(key, work).await;
    if let (Ok(v), true) = (&result, ran) {
        DONE.with(|d| {
            let mut d = d.borrow_mut();
            if d.len() >= ONCE_MAX {
                d.remove(0);
            }
            d.push((key.to_owned(), v.clone(), now + ONCE_TTL_MS));
        });
    }
    (result, ran)
}

/// [`shared`], also telling whether this caller started the run.
async fn led(key: &str, work: Work) -> (Result<String, Error>, bool) {
    let joined = INFLIGHT.with(|f| {
        f.borrow()
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, p, s)| (p.clone(), s.clone()))
    });
    let leader = joined.is_none();
    let (done, slot) = match joined {
        Some(x) => x,
        None => {
            let slot: Slot = Rc::new(RefCell::new(None));
            let fut = work;
            let (s2, k2) = (slot.clone(), key.to_owned());
            let done = future_to_promise(async move {
                let r = fut.await;
                *s2.borrow_mut() = Some(r);
                INFLIGHT.with(|f| f.borrow_mut().retain(|(k, _, _)| *k != k2));
                Ok(JsValue::UNDEFINED)
            });
            INFLIGHT.with(|f| {
                f.borrow_mut()
                    .push((key.to_owned(), done.clone(), slot.clone()))
            });
            (done, slot)
        }
    };
    // The shared promise never rejects; its outcome is in the slot.
    let _ = JsFuture::from(done).await;
    let result = slot.borrow().clone();
    (
        result.unwrap_or(Err(Error::Js("shared request did not complete".into()))),
        leader,
    )
}
