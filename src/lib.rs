//! An Auth0 Action that provisions access from a declarative policy, in Rust compiled to wasm.
//!
//! Layers, arrows pointing one way: the JS shim → [`bindings`] (JS types, `fetch`, `api`) →
//! [`core`] (pure decisions and wire formats) and [`error`].

pub mod core;
pub mod error;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

// Single-threaded wasm (no atomics target feature): no other thread can enter the allocator.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
