//! The pure decision core: no JS types, no I/O. Event + policy in, a plan out.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod config;
pub mod decimal;
pub mod encode;
pub mod error;
pub mod event;
pub mod explain;
pub mod json;
pub mod mgmt;
pub mod plan;
pub mod policy;
pub mod reconcile;
pub mod redact;
pub mod retry;
pub mod text;
