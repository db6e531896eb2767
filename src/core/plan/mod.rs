//! The decision: event + policy in, a plan out. Pure: no I/O, so every branch is testable
//! with `cargo test`, and `explain` prints the very plan the Action carries out.
//!
//! `matching` tells which rules hold for an event, `decide` merges their effects into a
//! [`Decision`], `steps` orders it into the [`Step`]s the bindings carry out, and `markers`
//! keeps the pending/done lists that make failed or once-only work resumable. Everything is
//! re-exported here: `core::plan::…` is the one import path.

use crate::core::text::cat;
#[allow(unused_imports)]
use crate::prelude::*;

mod decide;
mod markers;
mod matching;
mod orgs;
mod steps;

pub use decide::{decide, merged, missing_roles, needs_management_api, role_changes, roles_after};
pub use markers::{done_after, granted_after, is_role, pending_after, rules_where, same_names};
pub use matching::{
    check_when, not_evaluable, OFFLINE_AFTER_STOP, OFFLINE_CONNECTION, OFFLINE_LOGIN_ONLY, UNKNOWN,
};
pub use orgs::org_key;
pub use steps::{
    assume_success, claims_after, metadata_writes, steps, Changes, Progress, Step, Via,
};

use super::json::Json;
use super::policy::{Mfa, OrgRef, Permission, RoleRef, Ticket};

/// How one rule fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOutcome {
    /// Rule name.
    pub name: String,
    /// Whether its effects apply.
    pub matched: bool,
    /// Why: the failing condition, or how it matched.
    pub reason: &'static str,
}

/// A role the plan adds or removes, with the rules asking for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedRole {
    /// The role as written in the policy.
    pub role: RoleRef,
    /// Names of the matched rules that ask for it.
    pub rules: Vec<String>,
}

/// Organization access the plan gives in one organization: what is not recorded as given
/// yet (`app_metadata.provisioning_orgs`), so a given membership or role is never asked again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgGrant {
    /// The organization (`$current` is the login's organization id by now).
    pub org: OrgRef,
    /// How it is recorded: the organization as the policy names it.
    pub key: String,
    /// Whether the membership is still to be made.
    pub join: bool,
    /// Roles to give in it.
    pub roles: Vec<RoleRef>,
    /// Names of the matched rules asking.
    pub rules: Vec<String>,
    /// A `retract` rule asks for a membership not recorded yet: the executor reads the
    /// user's memberships first, since only one the policy made may be retracted later.
    pub retract: bool,
}

impl OrgGrant {
    /// The `provisioning_orgs` entries this grant records once carried out. `owned`: the
    /// membership was made here for a `retract` rule (the user was not a member before), so it
    /// and the roles given with it are recorded `+org`, `+org/Role` — retractable. Anything
    /// else is recorded plain and never retracted (it may have been given by hand).
    pub fn records(&self, owned: bool) -> Vec<String> {
        let own = |e: String| if owned { cat(&[OWNED, &e]) } else { e };
        let mut out = vec![own(self.key.clone())];
        out.extend(self.roles.iter().map(|r| own(org_role_key(&self.key, r))));
        out
    }
}

/// The prefix of a `provisioning_orgs` entry the policy made for a `retract` rule.
pub const OWNED: &str = "+";

/// Whether `entry` (plain) is recorded, plain or owned.
pub fn org_recorded(records: &[String], entry: &str) -> bool {
    records
        .iter()
        .any(|r| r == entry || r.strip_prefix(OWNED) == Some(entry))
}

/// Organization access a `retract` rule gave and no longer gives: the membership (with
/// everything recorded in that organization), or only some of its roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgLeave {
    /// The organization, as the policy names it.
    pub org: OrgRef,
    /// How it is recorded.
    pub key: String,
    /// Whether the membership goes (`DELETE /organizations/{id}/members`).
    pub leave: bool,
    /// Otherwise, the roles that go (`DELETE …/members/{user_id}/roles`).
    pub roles: Vec<RoleRef>,
    /// Names of the retract rules that no longer match.
    pub rules: Vec<String>,
}

/// The `provisioning_orgs` entries that go with `d`'s retractions (all of them: a
/// membership already gone is only un-recorded).
pub fn orgs_removed(d: &Decision, ev: &super::event::Event) -> Vec<String> {
    d.org_leaves
        .iter()
        .flat_map(|l| l.records(&ev.orgs))
        .collect()
}

impl OrgLeave {
    /// The `provisioning_orgs` entries (of `records`) that go once this is carried out.
    pub fn records(&self, records: &[String]) -> Vec<String> {
        let plain = |r: &str| r.strip_prefix(OWNED).unwrap_or(r).to_owned();
        records
            .iter()
            .filter(|r| {
                let p = plain(r);
                if self.leave {
                    p == self.key
                        || p.strip_prefix(self.key.as_str())
                            .is_some_and(|t| t.starts_with('/'))
                } else {
                    r.starts_with(OWNED)
                        && self.roles.iter().any(|x| p == org_role_key(&self.key, x))
                }
            })
            .cloned()
            .collect()
    }
}

/// The `provisioning_orgs` entry of a role given in an organization.
pub fn org_role_key(org: &str, role: &RoleRef) -> String {
    cat(&[org, "/", role.as_str()])
}

/// Everything one execution should do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// Every rule, in policy order.
    pub rules: Vec<RuleOutcome>,
    /// Roles to assign (first-mention order, no repeats); held ones are filtered later.
    pub roles: Vec<WantedRole>,
    /// Roles to remove; only held ones are sent.
    pub remove: Vec<WantedRole>,
    /// Permissions to grant, with the rule asking (rules already done are left out).
    pub permissions: Vec<(Permission, String)>,
    /// `app_metadata` keys whose value changes (unchanged ones are left out).
    pub app_metadata: Vec<(String, Json)>,
    /// `user_metadata` keys whose value changes.
    pub user_metadata: Vec<(String, Json)>,
    /// Custom claims (full names) and their values.
    pub claims: Vec<(String, Json)>,
    /// MFA to require.
    pub mfa: Option<Mfa>,
    /// Tickets to create, with the rule asking.
    pub tickets: Vec<(Ticket, String)>,
    /// Denial reason and the rule that denies.
    pub deny: Option<(String, String)>,
    /// Organization memberships and roles to give.
    pub organizations: Vec<OrgGrant>,
    /// Organization memberships and roles to retract.
    pub org_leaves: Vec<OrgLeave>,
}

/// Helpers for the tests of the submodules.
#[cfg(test)]
mod testing {
    pub use super::decide;
    pub use crate::core::event::{parse_event, Event, Trigger};
    pub use crate::core::json::Json;
    pub use crate::core::policy::{parse_policy, Policy};

    pub fn policy(s: &str) -> Policy {
        parse_policy(&serde_json::from_str(s).unwrap()).unwrap()
    }
    pub fn event_in(s: &str, t: Trigger) -> Event {
        parse_event(&serde_json::from_str(s).unwrap(), t).unwrap()
    }
    pub fn event(s: &str) -> Event {
        event_in(s, Trigger::PostLogin)
    }
    pub fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }
    pub const SEED: &str = r#"{"claims_namespace":"https://example.com/","rules":[
        {"name":"premium-for-google","when":{"provider":["google-oauth2"]},"assign_roles":["Premium User"]}]}"#;
    pub const RICH: &str = r#"{"user":{"user_id":"u","email":"a@example.com","email_verified":true,
        "app_metadata":{"plan":"pro","billing":{"tier":2}},"user_metadata":{"beta":true}},
        "connection":{"name":"corp","strategy":"samlp"},"client":{"client_id":"app1"},"stats":{"logins_count":3},
        "organization":{"id":"org_1","name":"acme"},"authorization":{"roles":["Admin"]},
        "transaction":{"protocol":"oidc-basic-profile"}}"#;

    pub fn google() -> Event {
        event(
            r#"{"user":{"user_id":"google-oauth2|1"},"connection":{"name":"google-oauth2","strategy":"google-oauth2"},"stats":{"logins_count":1}}"#,
        )
    }

    pub fn reason(when: &str, ev: &Event) -> &'static str {
        let p = policy(&format!(
            r#"{{"rules":[{{"name":"r","when":{when},"assign_roles":["X"]}}]}}"#
        ));
        decide(&p, ev).rules[0].reason
    }
}
