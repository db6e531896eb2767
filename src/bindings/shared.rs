//! One in-flight computation per key, shared by concurrent executions in the container:
//! the first caller starts it, later callers await the same result (node-auth0's token
//! provider does this for tokens; we also do it for role look-ups).

use crate::error::Error;
use js_sys::Promise;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

type Slot = Rc<RefCell<Option<Result<String, Error>>>>;

thread_local! {
    static INFLIGHT: RefCell<Vec<(String, Promise, Slot)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `make()` unless a run for `key` is already in flight, in which case its result is
/// shared. (A joiner arrives after the leader, so the leader's deadline, which bounds the
/// run, is never later than the joiner's.)
pub async fn shared<F>(key: &str, make: impl FnOnce() -> F) -> Result<String, Error>
where
    F: Future<Output = Result<String, Error>> + 'static,
{
    let joined = INFLIGHT.with(|f| {
        f.borrow()
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, p, s)| (p.clone(), s.clone()))
    });
    let (done, slot) = match joined {
        Some(x) => x,
        None => {
            let slot: Slot = Rc::new(RefCell::new(None));
            let fut = make();
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
    result.unwrap_or(Err(Error::Js("shared request did not complete".into())))
}
