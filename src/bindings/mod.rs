//! The JS side: raw `extern` bindings, thin idiomatic wrappers over them, and the exported
//! entry point. Everything here is wasm-only; decisions live in [`crate::core`].

#[allow(unused_imports)]
use crate::prelude::*;

mod apply;
mod cache;
mod client;
pub mod convert;
mod execute;
mod global;
mod http;
pub mod log;
pub mod raw;
pub mod read;
mod shared;
mod tape;
#[cfg(test)]
mod tests;
mod throttle;

pub use execute::{execute, forget, resume};
