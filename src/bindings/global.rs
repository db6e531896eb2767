//! Container-wide state without `thread_local!`. The Action's wasm has no threads (built
//! without the `atomics` target feature), so a plain `static` is only ever touched by one
//! thread. `LocalKey::with` would also link its "accessed after destruction" panic, whose
//! `Debug` formatting pulls in `core::fmt` builders, for a case that cannot happen here.

#[allow(unused_imports)]
use crate::prelude::*;

use ::core::cell::RefCell;

#[cfg(target_feature = "atomics")]
compile_error!("bindings::global assumes a single-threaded wasm (no atomics)");

/// A `RefCell` in a `static`, with the `with` of a thread-local key.
pub struct Global<T>(RefCell<T>);

// SAFETY: without the `atomics` feature (checked above) the wasm runs on one thread only,
// so no two threads can ever reach the `RefCell`.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global holding `value`.
    pub const fn new(value: T) -> Self {
        Global(RefCell::new(value))
    }

    /// Calls `f` with the cell, like `LocalKey::with`.
    pub fn with<R>(&'static self, f: impl FnOnce(&RefCell<T>) -> R) -> R {
        f(&self.0)
    }
}
