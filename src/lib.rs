//! An Auth0 Action that provisions access from a declarative policy, in Rust compiled to wasm.
//!
//! Layers, arrows pointing one way: the JS shim → [`bindings`] (JS types, `fetch`, `api`) →
//! [`core`] (pure decisions, wire formats and the crate's one error type).

#![warn(missing_docs)]
#![cfg_attr(feature = "bare", no_std)]

extern crate alloc as std_alloc;

/// What std's prelude gives, from `alloc`, for the `no_std` build (`bare`).
#[allow(unused_imports)]
mod prelude {
    pub use std_alloc::borrow::ToOwned;
    pub use std_alloc::boxed::Box;
    pub use std_alloc::format;
    pub use std_alloc::string::{String, ToString};
    pub use std_alloc::vec;
    pub use std_alloc::vec::Vec;
}

/// A panic traps at once (`panic = "abort"` anyway): no message is formatted, so none of
/// std's panic machinery is linked. The shim reports the trap and replaces the instance.
#[cfg(all(feature = "bare", target_arch = "wasm32"))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

#[cfg(target_arch = "wasm32")]
pub mod alloc;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::ClassAlloc = alloc::ClassAlloc::new();
