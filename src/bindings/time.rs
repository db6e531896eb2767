//! Timers over the host's `setTimeout`.

use super::raw::set_timeout;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A promise that resolves (to `undefined`) after `ms` milliseconds. A `guard` timer is
/// unref'd: it bounds a wait but does not keep the process alive on its own.
pub fn sleep_promise(ms: f64, guard: bool) -> Promise {
    Promise::new(&mut |resolve, _| {
        let timer = set_timeout(&resolve, ms);
        if guard {
            if let Ok(unref) = Reflect::get(&timer, &JsValue::from_str("unref")) {
                if let Some(f) = unref.dyn_ref::<Function>() {
                    let _ = f.call0(&timer);
                }
            }
        }
    })
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let _ = JsFuture::from(sleep_promise(ms, false)).await;
}
