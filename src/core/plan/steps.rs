//! The plan as data: the ordered steps an execution carries out, and the pure functions that
//! say what a step writes given what the steps before it did. The Action's bindings carry
//! the steps out and `explain` prints them; neither decides anything of its own.

use crate::core::text::cat;
#[allow(unused_imports)]
use crate::prelude::*;

use super::{
    done_after, granted_after, needs_management_api, org_recorded, orgs_removed, pending_after,
    role_changes, roles_after, same_names, Decision, WantedRole, OWNED,
};
use crate::core::event::{Event, Trigger, DONE_KEY, GRANTED_KEY, ORGS_KEY, PENDING_KEY};
use crate::core::json::Json;
use crate::core::mgmt::{assign_permissions_request, ticket_request, Request, ResolvedRole};
use crate::core::policy::{Mfa, Policy, RoleRef};

/// First-level metadata changes (`null` deletes a key).
pub type Changes = Vec<(String, Json)>;

/// Where metadata (and the markers) are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `api.user.setAppMetadata` / `setUserMetadata` (post-login; Auth0 saves them after the
    /// execution, no request).
    Api,
    /// One `PATCH /api/v2/users/{id}` (post-user-registration has no `api.user`).
    Patch,
}

/// One step, in the order the Action carries the steps out.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `api.access.deny(reason)`: a denied login's only step.
    Deny {
        /// The reason given to Auth0.
        reason: String,
        /// The rule that denies.
        rule: String,
    },
    /// A Management API token (`POST /oauth/token`; skipped when one is cached).
    Token,
    /// Role look-ups (skipped when cached), then one request for the roles not held.
    AssignRoles(Vec<WantedRole>),
    /// Role look-ups, then one request for the roles held.
    RemoveRoles(Vec<WantedRole>),
    /// Organization memberships and roles: name look-ups (skipped when cached), then per
    /// organization one membership request and one roles request.
    Organizations(Vec<super::OrgGrant>),
    /// Organization access a retract rule no longer gives: per organization one
    /// membership removal, or one removal of some of its roles.
    LeaveOrganizations(Vec<super::OrgLeave>),
    /// One permissions grant (once-only).
    AssignPermissions {
        /// `POST /api/v2/users/{id}/permissions`.
        request: Request,
        /// The rules asking.
        rules: Vec<String>,
    },
    /// A ticket (once-only): its URL into `app_metadata.<key>` or the log.
    Ticket {
        /// The ticket request.
        request: Request,
        /// The app_metadata key for the URL; `None`: the log.
        store_key: Option<String>,
        /// The rule asking.
        rule: String,
    },
    /// `api.multifactor.enable` (before metadata and claims, so their failure cannot skip it).
    RequireMfa(Mfa),
    /// Metadata and the pending/done markers: [`metadata_writes`] says what, from the steps'
    /// results.
    Metadata(Via),
    /// Custom claims on the ID and access tokens: [`claims_after`] says which.
    Claims,
}

/// What the steps carried out so far did: the input of [`metadata_writes`] and
/// [`claims_after`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Rules whose effects failed (still owed: `provisioning_pending`).
    pub failed: Vec<String>,
    /// Rules whose once-only effects succeeded (`provisioning_done`, unless also failed).
    pub completed: Vec<String>,
    /// Ticket URLs to store, by app_metadata key.
    pub stored: Vec<(String, Json)>,
    /// Roles assigned.
    pub assigned: Vec<ResolvedRole>,
    /// Roles removed.
    pub removed: Vec<ResolvedRole>,
    /// `provisioning_orgs` entries of the organization access given.
    pub orgs: Vec<String>,
    /// `provisioning_orgs` entries of the organization access retracted.
    pub orgs_removed: Vec<String>,
}

/// The steps of `d` for `ev`, in order (empty: nothing to do).
pub fn steps(policy: &Policy, d: &Decision, ev: &Event) -> Vec<Step> {
    if let Some((reason, rule)) = &d.deny {
        return vec![Step::Deny {
            reason: reason.clone(),
            rule: rule.clone(),
        }];
    }
    let mut out = Vec::new();
    let network = needs_management_api(d, ev);
    if network {
        out.push(Step::Token);
        let (assign, remove) = role_changes(d, ev.held_roles());
        if !assign.is_empty() {
            out.push(Step::AssignRoles(assign.into_iter().cloned().collect()));
        }
        if !remove.is_empty() {
            out.push(Step::RemoveRoles(remove.into_iter().cloned().collect()));
        }
        if !d.org_leaves.is_empty() {
            out.push(Step::LeaveOrganizations(d.org_leaves.clone()));
        }
        if !d.organizations.is_empty() {
            out.push(Step::Organizations(d.organizations.clone()));
        }
        if !d.permissions.is_empty() {
            let perms: Vec<_> = d.permissions.iter().map(|(p, _)| p).collect();
            out.push(Step::AssignPermissions {
                request: assign_permissions_request(&ev.user_id, &perms),
                rules: d.permissions.iter().map(|(_, r)| r.clone()).collect(),
            });
        }
        for (t, rule) in &d.tickets {
            out.push(Step::Ticket {
                request: ticket_request(&ev.user_id, t),
                store_key: t.store_key.clone(),
                rule: rule.clone(),
            });
        }
    }
    let post_login = ev.trigger == Trigger::PostLogin;
    if post_login {
        if let Some(m) = &d.mfa {
            out.push(Step::RequireMfa(m.clone()));
        }
    }
    // Markers can change whenever a request can fail (pending) or a once-only effect can
    // complete (done), and whenever earlier markers are there to clear.
    let writes = metadata_writes(policy, d, ev, &assume_success(d, ev));
    if !writes.0.is_empty() || !writes.1.is_empty() || network {
        out.push(Step::Metadata(if post_login {
            Via::Api
        } else {
            Via::Patch
        }));
    }
    if post_login && !claims_after(policy, d, ev, &Progress::default()).is_empty() {
        out.push(Step::Claims);
    }
    out
}

/// The progress if every step succeeds (for `explain`): role changes as planned by name,
/// once-only effects completed, ticket URLs stored as a placeholder.
pub fn assume_success(d: &Decision, ev: &Event) -> Progress {
    let (assign, remove) = role_changes(d, ev.held_roles());
    // Not resolved yet: a role named by id keeps it as its id, and shows it as its name.
    let by_name = |w: &&WantedRole| ResolvedRole {
        id: match &w.role {
            RoleRef::Id(i) => i.clone(),
            RoleRef::Name(_) => String::new(),
        },
        name: w.role.as_str().to_owned(),
    };
    Progress {
        failed: Vec::new(),
        completed: d
            .permissions
            .iter()
            .map(|(_, r)| r.clone())
            .chain(d.tickets.iter().map(|(_, r)| r.clone()))
            .collect(),
        stored: d
            .tickets
            .iter()
            .filter_map(|(t, _)| t.store_key.clone())
            .map(|k| (k, Json::Str("<ticket URL>".into())))
            .collect(),
        assigned: assign.iter().map(by_name).collect(),
        removed: remove.iter().map(by_name).collect(),
        orgs: d
            .organizations
            .iter()
            .flat_map(|g| g.records(g.retract))
            .collect(),
        orgs_removed: orgs_removed(d, ev),
    }
}

fn strs(items: &[String]) -> Json {
    if items.is_empty() {
        Json::Null
    } else {
        Json::Arr(items.iter().map(|s| Json::Str(s.clone())).collect())
    }
}

/// The app_metadata and user_metadata writes after the steps that made `p`: the policy's
/// changes, stored ticket URLs, and the markers (`null` deletes a key).
pub fn metadata_writes(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    p: &Progress,
) -> (Changes, Changes) {
    let mut app = d.app_metadata.clone();
    app.extend(p.stored.iter().cloned());
    let pending = pending_after(policy, d, &ev.pending, &p.failed);
    if !same_names(&pending, &ev.pending) {
        app.push((PENDING_KEY.into(), strs(&pending)));
    }
    // A rule is done only when all its once-only effects succeeded.
    let completed: Vec<String> = p
        .completed
        .iter()
        .filter(|r| !p.failed.contains(r))
        .cloned()
        .collect();
    let done = done_after(policy, &ev.done, &completed);
    if !same_names(&done, &ev.done) {
        app.push((DONE_KEY.into(), strs(&done)));
    }
    let granted = granted_after(policy, d, ev, &p.assigned, &p.removed);
    if !same_names(&granted, &ev.granted) {
        app.push((GRANTED_KEY.into(), strs(&granted)));
    }
    let mut orgs: Vec<String> = ev
        .orgs
        .iter()
        .filter(|o| !p.orgs_removed.contains(o))
        .cloned()
        .collect();
    for o in &p.orgs {
        if !org_recorded(&orgs, o.strip_prefix(OWNED).unwrap_or(o)) {
            orgs.push(o.clone());
        }
    }
    if orgs != ev.orgs {
        app.push((ORGS_KEY.into(), strs(&orgs)));
    }
    (app, d.user_metadata.clone())
}

/// The custom claims to set after the steps that made `p`: the policy's, then the roles
/// claim (roles held after this login) when a claims namespace is set.
pub fn claims_after(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    p: &Progress,
) -> Vec<(String, Json)> {
    let mut claims = d.claims.clone();
    if let Some(ns) = &policy.claims_namespace {
        let a: Vec<&ResolvedRole> = p.assigned.iter().collect();
        let r: Vec<&ResolvedRole> = p.removed.iter().collect();
        let roles = roles_after(&ev.roles, &a, &r);
        claims.push((
            cat(&[ns.as_str(), "roles"]),
            Json::Arr(roles.into_iter().map(Json::Str).collect()),
        ));
    }
    claims
}
