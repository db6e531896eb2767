//! An Auth0 Action that provisions access from a declarative policy, in Rust compiled to wasm.
//!
//! Layers, arrows pointing one way: the JS shim → [`bindings`] (JS types, `fetch`, `api`) →
//! [`core`] (pure decisions, wire formats and the crate's one error type).

#![warn(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

#[cfg(target_arch = "wasm32")]
pub mod alloc;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::ClassAlloc = alloc::ClassAlloc::new();
