//! Reconcile: the policy applied to a user snapshot (an exported user record and the roles
//! it holds) outside any login, by the same `decide` as the Action. `snapshot` turns the
//! record into an offline [`Event`](crate::core::event::Event), `plan` orders the writes
//! that converge the user, `describe` says why a rule held.
//!
//! Offline, conditions only a login has make a rule not evaluable (skipped and counted,
//! never guessed) and login-only effects (deny, MFA, claims, tickets, permissions) are left
//! to the login. The writes come in four phases whose order makes a killed run safe to
//! re-run (see [`UserPlan`]).

#[allow(unused_imports)]
use crate::prelude::*;

mod describe;
mod plan;
mod snapshot;

pub use describe::describe;
pub use plan::{plan_user, HeldOrgs, PlannedLeave, PlannedOrg, PlannedRole, UserPlan};
pub use snapshot::snapshot_event;
