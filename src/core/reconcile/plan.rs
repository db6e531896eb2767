//! One user's reconcile plan: the writes that make the tenant hold what the policy says, in
//! the phases a killed run can safely resume from.

#[allow(unused_imports)]
use crate::prelude::*;

use super::describe::describe;
use super::snapshot::snapshot_event;
use crate::core::event::{EventError, DONE_KEY, ORGS_KEY, PENDING_KEY};
use crate::core::json::Json;
use crate::core::mgmt::ResolvedRole;
use crate::core::plan::{
    decide, is_role, metadata_writes, orgs_removed, role_changes, rules_where, Changes, Progress,
    RuleOutcome, WantedRole,
};
use crate::core::policy::Policy;

/// A role to assign or remove, resolved in the tenant, with the rules asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRole {
    /// The tenant's role.
    pub role: ResolvedRole,
    /// The rules asking (for a retraction: the retract rule no longer matched).
    pub rules: Vec<String>,
}

/// Organization access to give one user (phase 3, with the roles): `organization` as the
/// policy names it (the executor resolves names), batched by organization for membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOrg {
    /// The organization name or id, as in the policy (and in `provisioning_orgs`).
    pub organization: String,
    /// Whether membership is to be made (`POST /organizations/{id}/members`, ≤ 10 a batch).
    pub join: bool,
    /// Roles to give in it (`POST /organizations/{id}/members/{user_id}/roles`).
    pub roles: Vec<ResolvedRole>,
    /// The rules asking.
    pub rules: Vec<String>,
}

/// Organization access to retract from one user (phase 1, with the role removals): the
/// membership (`DELETE /organizations/{id}/members`, ≤ 10 a batch) or roles in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedLeave {
    /// The organization name or id, as in the policy (and in `provisioning_orgs`).
    pub organization: String,
    /// Whether the membership goes (its roles with it).
    pub leave: bool,
    /// Otherwise the roles that go (`DELETE …/members/{user_id}/roles`).
    pub roles: Vec<ResolvedRole>,
    /// The retract rules that no longer match.
    pub rules: Vec<String>,
}

/// The writes for one user, phase by phase. The executor carries out every user's phase 1,
/// then 2, then 3, then 4 (or at least that order per user):
/// 1. `remove`: one `DELETE /users/{id}/roles` — before the record drops the role, so a kill
///    in between leaves a recorded role that is not held, which the next run un-records;
/// 2. `patch`: one `PATCH /users/{id}` — the policy's metadata and `provisioning_roles`,
///    recorded before the grant, so a kill before phase 3 leaves a recorded role not yet
///    held, which the next run grants;
/// 3. `assign`: batched `POST /roles/{id}/users`, and `orgs`: memberships batched by
///    organization, then organization roles;
/// 4. `patch_after`: the markers (`provisioning_pending`/`done`), only once this user's
///    grants succeeded, so a kill never clears a marker for work not done.
#[derive(Clone, Debug, PartialEq)]
pub struct UserPlan {
    /// The user.
    pub user_id: String,
    /// Every rule's outcome, in policy order.
    pub rules: Vec<RuleOutcome>,
    /// Matched rules and the conditions that held.
    pub why: Vec<(String, Vec<String>)>,
    /// Phase 1.
    pub remove: Vec<PlannedRole>,
    /// Phase 1: organization access retracted (un-recorded in phase 2, or 4 with grants).
    pub leave: Vec<PlannedLeave>,
    /// Phase 2: `app_metadata` and `user_metadata` first-level changes.
    pub patch: (Changes, Changes),
    /// Phase 3.
    pub assign: Vec<PlannedRole>,
    /// Phase 3: organization access.
    pub orgs: Vec<PlannedOrg>,
    /// Phase 4: `app_metadata` marker changes.
    pub patch_after: Changes,
}

impl UserPlan {
    /// Changes counted against `--max-changes`: roles assigned and removed, metadata keys.
    pub fn changes(&self) -> usize {
        self.remove.len()
            + self
                .leave
                .iter()
                .map(|l| usize::from(l.leave) + l.roles.len())
                .sum::<usize>()
            + self.assign.len()
            + self
                .orgs
                .iter()
                .map(|o| usize::from(o.join) + o.roles.len())
                .sum::<usize>()
            + self.patch.0.len()
            + self.patch.1.len()
            + self.patch_after.len()
    }
}

fn resolve<'a>(
    wanted: &[&WantedRole],
    table: &'a [ResolvedRole],
) -> Result<Vec<(&'a ResolvedRole, Vec<String>)>, String> {
    let mut out: Vec<(&ResolvedRole, Vec<String>)> = Vec::new();
    for w in wanted {
        let r = table.iter().find(|x| is_role(&w.role, x)).ok_or_else(|| {
            [
                "role \"",
                w.role.as_str(),
                "\" is not in the tenant's roles table",
            ]
            .concat()
        })?;
        match out.iter_mut().find(|(o, _)| o.id == r.id) {
            Some((_, rules)) => rules.extend(w.rules.iter().cloned()),
            None => out.push((r, w.rules.clone())),
        }
    }
    Ok(out)
}

/// Organization memberships a user holds: the organization as the policy names it, and the
/// role ids held in it.
pub type HeldOrgs = [(String, Vec<String>)];

/// The plan for the user `record` holding the roles `held` (ids) and, when the executor read
/// them, the memberships `held_orgs` (of the organizations the policy names), `table` being the
/// tenant's roles the policy names. `Err` names what is wrong with the record or the table.
pub fn plan_user(
    policy: &Policy,
    record: &Json,
    held: &[String],
    held_orgs: Option<&HeldOrgs>,
    table: &[ResolvedRole],
    render: &dyn Fn(&Json) -> String,
) -> Result<UserPlan, String> {
    let names: Vec<String> = table
        .iter()
        .filter(|r| held.contains(&r.id))
        .map(|r| r.name.clone())
        .collect();
    let ev = snapshot_event(record, &names)
        .map_err(|EventError { field, message }| [field, " ", &message].concat())?;
    let d = decide(policy, &ev);
    let (assign, remove) = role_changes(&d, Some(&names));
    let planned = |(r, rules): (&ResolvedRole, Vec<String>)| PlannedRole {
        role: r.clone(),
        rules,
    };
    let assign: Vec<PlannedRole> = resolve(&assign, table)?
        .into_iter()
        .filter(|(r, _)| !held.contains(&r.id))
        .map(planned)
        .collect();
    let remove: Vec<PlannedRole> = resolve(&remove, table)?
        .into_iter()
        .filter(|(r, _)| held.contains(&r.id))
        .map(planned)
        .collect();
    // Once-only work (permissions, tickets) is the login's: its pending marker stays.
    let owed = rules_where(&d, |n| {
        ev.pending.iter().any(|p| p == n)
            && policy
                .rules
                .iter()
                .any(|r| r.name == n && r.effects.once_only())
    });
    let mut orgs = Vec::new();
    for g in &d.organizations {
        // What the tenant already has is recorded, not written again (a run killed after its
        // grants but before their record re-plans them: the memberships read say they are done).
        let has = held_orgs.and_then(|h| h.iter().find(|(k, _)| k == &g.key));
        let wanted: Vec<WantedRole> = g
            .roles
            .iter()
            .map(|r| WantedRole {
                role: r.clone(),
                rules: g.rules.clone(),
            })
            .collect();
        let wanted: Vec<&WantedRole> = wanted.iter().collect();
        let roles: Vec<ResolvedRole> = resolve(&wanted, table)?
            .into_iter()
            .filter(|(r, _)| !has.is_some_and(|(_, ids)| ids.contains(&r.id)))
            .map(|(r, _)| r.clone())
            .collect();
        // The core plans a join with every role (`grant_org`); a member read here is not joined.
        let join = g.join && has.is_none();
        if join || !roles.is_empty() {
            orgs.push(PlannedOrg {
                organization: g.key.clone(),
                join,
                roles,
                rules: g.rules.clone(),
            });
        }
    }
    // Retraction: a membership the members read say is gone already is only un-recorded.
    let mut leave = Vec::new();
    for l in &d.org_leaves {
        let has = held_orgs.and_then(|h| h.iter().find(|(k, _)| k == &l.key));
        if held_orgs.is_some() && has.is_none() {
            continue;
        }
        let wanted: Vec<WantedRole> = l
            .roles
            .iter()
            .map(|r| WantedRole {
                role: r.clone(),
                rules: l.rules.clone(),
            })
            .collect();
        let wanted: Vec<&WantedRole> = wanted.iter().collect();
        let roles: Vec<ResolvedRole> = resolve(&wanted, table)?
            .into_iter()
            .filter(|(r, _)| has.is_none_or(|(_, ids)| ids.contains(&r.id)))
            .map(|(r, _)| r.clone())
            .collect();
        if l.leave || !roles.is_empty() {
            leave.push(PlannedLeave {
                organization: l.key.clone(),
                leave: l.leave,
                roles,
                rules: l.rules.clone(),
            });
        }
    }
    let progress = Progress {
        failed: owed,
        assigned: assign.iter().map(|p| p.role.clone()).collect(),
        removed: remove.iter().map(|p| p.role.clone()).collect(),
        // A membership this run makes for a retract rule is the policy's (`+org`) only when the
        // members read say the user was not one; unread, it is recorded plain (never retracted).
        orgs: d
            .organizations
            .iter()
            .flat_map(|g| {
                let member = held_orgs.map(|h| h.iter().any(|(k, _)| k == &g.key));
                g.records(g.retract && member == Some(false))
            })
            .collect(),
        orgs_removed: orgs_removed(&d, &ev),
        ..Progress::default()
    };
    let (mut app, user) = metadata_writes(policy, &d, &ev, &progress);
    let mut after = Vec::new();
    if !assign.is_empty() || !orgs.is_empty() {
        // The organization record too: written only once the access is given.
        let (markers, rest) = app
            .into_iter()
            .partition(|(k, _)| k == PENDING_KEY || k == DONE_KEY || k == ORGS_KEY);
        after = markers;
        app = rest;
    }
    let why = policy
        .rules
        .iter()
        .zip(&d.rules)
        .filter(|(_, o)| o.matched)
        .map(|(r, o)| {
            let mut lines = describe(&r.when, render);
            if o.reason != "conditions hold" {
                lines.insert(0, o.reason.to_owned());
            }
            (r.name.clone(), lines)
        })
        .collect();
    Ok(UserPlan {
        user_id: ev.user_id.clone(),
        rules: d.rules,
        why,
        remove,
        leave,
        patch: (app, user),
        assign,
        orgs,
        patch_after: after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::GRANTED_KEY;
    use crate::core::policy::parse_policy;

    fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }
    fn table() -> Vec<ResolvedRole> {
        [
            ("rol_p", "Premium User"),
            ("rol_a", "Admin"),
            ("rol_t", "Trial"),
        ]
        .iter()
        .map(|(id, name)| ResolvedRole {
            id: (*id).into(),
            name: (*name).into(),
        })
        .collect()
    }
    fn plan(policy: &str, user: &str, held: &[&str]) -> UserPlan {
        let p = parse_policy(&j(policy)).unwrap();
        let held: Vec<String> = held.iter().map(|s| s.to_string()).collect();
        plan_user(&p, &j(user), &held, None, &table(), &|v| {
            serde_json::to_string(v).unwrap()
        })
        .unwrap()
    }
    fn ids(rs: &[PlannedRole]) -> Vec<&str> {
        rs.iter().map(|r| r.role.id.as_str()).collect()
    }
    const RETRACT: &str = r#"{"rules":[{"name":"g","when":{"provider":"google-oauth2"},
        "assign_roles":["Premium User"],"retract":true}]}"#;
    const GOOGLE: &str = r#"{"user_id":"google-oauth2|1","identities":[{"provider":"google-oauth2","connection":"google-oauth2"}]"#;
    const DB: &str =
        r#"{"user_id":"auth0|1","identities":[{"provider":"auth0","connection":"db"}]"#;

    #[test]
    fn a_retract_rule_records_before_it_grants_and_retracts_only_what_it_recorded() {
        // Granted: recorded in phase 2, assigned in phase 3.
        let p = plan(RETRACT, &[GOOGLE, "}"].concat(), &[]);
        assert_eq!(ids(&p.assign), vec!["rol_p"]);
        assert_eq!(
            p.patch.0,
            vec![(GRANTED_KEY.to_string(), j(r#"["Premium User"]"#))]
        );
        assert_eq!(p.changes(), 2);
        // Held by hand when the rule matched: nothing to do, nothing recorded.
        let p = plan(RETRACT, &[GOOGLE, "}"].concat(), &["rol_p"]);
        assert_eq!(p.changes(), 0);
        // No longer matching, recorded and held: removed in phase 1, un-recorded in phase 2.
        let rec = r#","app_metadata":{"provisioning_roles":["Premium User"]}}"#;
        let p = plan(RETRACT, &[DB, rec].concat(), &["rol_p"]);
        assert_eq!(ids(&p.remove), vec!["rol_p"]);
        assert_eq!(p.remove[0].rules, vec!["g"]);
        assert_eq!(p.patch.0, vec![(GRANTED_KEY.to_string(), Json::Null)]);
        // Given by hand (held, not recorded): never removed.
        let p = plan(RETRACT, &[DB, "}"].concat(), &["rol_p"]);
        assert_eq!(p.changes(), 0);
        // Recorded but no longer held (a killed run between phases 1 and 2, or removed by
        // hand): only the record goes, so a later hand grant is not taken for the policy's.
        let p = plan(RETRACT, &[DB, rec].concat(), &[]);
        assert!(p.remove.is_empty());
        assert_eq!(p.patch.0, vec![(GRANTED_KEY.to_string(), Json::Null)]);
        // Recorded, not held, matching again (killed between phases 2 and 3): granted.
        let p = plan(RETRACT, &[GOOGLE, rec].concat(), &[]);
        assert_eq!(ids(&p.assign), vec!["rol_p"]);
        assert!(p.patch.0.is_empty(), "already recorded");
        // Without retract a role is never removed for not matching.
        let keep = RETRACT.replace(r#","retract":true"#, "");
        assert_eq!(plan(&keep, &[DB, rec].concat(), &["rol_p"]).remove.len(), 0);
    }

    #[test]
    fn login_only_conditions_are_skipped_never_guessed() {
        let policy = r#"{"rules":[
            {"name":"app","when":{"client_id":"web"},"assign_roles":["Admin"],"stop":true},
            {"name":"g","when":{"provider":"google-oauth2"},"assign_roles":["Premium User"],"retract":true}]}"#;
        let p = plan(policy, &[GOOGLE, "}"].concat(), &[]);
        let reasons: Vec<&str> = p.rules.iter().map(|r| r.reason).collect();
        assert!(
            reasons
                .iter()
                .all(|r| r.starts_with("not evaluable offline")),
            "{reasons:?}"
        );
        assert_eq!(p.changes(), 0);
        // A recorded role a not-evaluable rule also assigns is not retracted: that rule may
        // match at the next login.
        let both = r#"{"rules":[
            {"name":"app","when":{"client_id":"web"},"assign_roles":["Premium User"]},
            {"name":"g","when":{"provider":"google-oauth2"},"assign_roles":["Premium User"],"retract":true}]}"#;
        let rec = r#","app_metadata":{"provisioning_roles":["Premium User"]}}"#;
        assert_eq!(plan(both, &[DB, rec].concat(), &["rol_p"]).changes(), 0);
        // Linked identities: a rule reading the provider is not evaluable for that user.
        let linked = r#"{"user_id":"auth0|1","identities":[{"provider":"auth0","connection":"db"},
            {"provider":"google-oauth2","connection":"google-oauth2"}]}"#;
        let p = plan(RETRACT, linked, &[]);
        assert_eq!(p.rules[0].reason, crate::core::plan::OFFLINE_CONNECTION);
        // Login-only effects are the login's: a deny rule does not stop a grant offline.
        let deny = r#"{"rules":[{"name":"d","when":{"trigger":"post-login"},"deny":"no"},
            {"name":"g","when":{"trigger":"post-login"},"assign_roles":["Trial"],"claims":{"https://e.com/x":1}}]}"#;
        assert_eq!(
            ids(&plan(deny, &[DB, "}"].concat(), &[]).assign),
            vec!["rol_t"]
        );
    }

    #[test]
    fn pending_markers_clear_after_the_grant_and_once_only_work_stays_owed() {
        let policy = r#"{"rules":[
            {"name":"welcome","when":{"first_login":true,"provider":"auth0"},"assign_roles":["Trial"]},
            {"name":"perm","when":{"provider":"auth0"},"assign_permissions":[{"resource_server_identifier":"https://api/","permission_name":"r"}]}]}"#;
        let user = [
            DB,
            r#","app_metadata":{"provisioning_pending":["welcome","perm"]}}"#,
        ]
        .concat();
        let p = plan(policy, &user, &[]);
        assert_eq!(p.rules[0].reason, "pending from an earlier login");
        assert_eq!(ids(&p.assign), vec!["rol_t"]);
        assert!(p.patch.0.is_empty());
        assert_eq!(
            p.patch_after,
            vec![("provisioning_pending".to_string(), j(r#"["perm"]"#))],
            "welcome is done once granted; perm's permissions are left to the login"
        );
        // Not pending, first_login cannot be known offline.
        let p = plan(policy, &[DB, "}"].concat(), &[]);
        assert_eq!(p.rules[0].reason, crate::core::plan::OFFLINE_LOGIN_ONLY);
        assert_eq!(p.changes(), 0);
    }

    #[test]
    fn a_role_missing_from_the_table_is_an_error() {
        let p = parse_policy(&j(r#"{"rules":[{"name":"x","assign_roles":["Nope"]}]}"#)).unwrap();
        let e = plan_user(&p, &j(r#"{"user_id":"u"}"#), &[], None, &table(), &|_| {
            String::new()
        })
        .unwrap_err();
        assert_eq!(e, "role \"Nope\" is not in the tenant's roles table");
    }

    #[test]
    fn organization_access_is_phase_3_and_recorded_after_it() {
        let policy = r#"{"rules":[{"name":"b2b","when":{"email_domain":"acme.com"},
            "join_organization":"org_9","organization_roles":{"organization":"acme","roles":["Admin"]}}]}"#;
        let user = r#"{"user_id":"auth0|1","email":"a@acme.com","email_verified":true"#;
        let p = plan(policy, &[user, "}"].concat(), &[]);
        let orgs: Vec<(&str, bool, usize)> = p
            .orgs
            .iter()
            .map(|o| (o.organization.as_str(), o.join, o.roles.len()))
            .collect();
        assert_eq!(orgs, vec![("org_9", true, 0), ("acme", true, 1)]);
        assert_eq!(p.orgs[1].roles[0].id, "rol_a");
        assert!(p.patch.0.is_empty(), "nothing is recorded before the grant");
        assert_eq!(
            p.patch_after,
            vec![(ORGS_KEY.to_string(), j(r#"["org_9","acme","acme/Admin"]"#))]
        );
        assert_eq!(p.changes(), 4);
        let done = [
            user,
            r#","app_metadata":{"provisioning_orgs":["org_9","acme","acme/Admin"]}}"#,
        ]
        .concat();
        assert_eq!(plan(policy, &done, &[]).changes(), 0);
    }

    #[test]
    fn memberships_read_from_the_tenant_are_recorded_not_written_again() {
        let policy = parse_policy(&j(
            r#"{"rules":[{"name":"b2b","when":{"email_domain":"acme.com"},
            "organization_roles":{"organization":"acme","roles":["Admin","Trial"]}}]}"#,
        ))
        .unwrap();
        let user = j(r#"{"user_id":"auth0|1","email":"a@acme.com","email_verified":true}"#);
        let run = |orgs: Option<&HeldOrgs>| {
            plan_user(&policy, &user, &[], orgs, &table(), &|v| {
                serde_json::to_string(v).unwrap()
            })
            .unwrap()
        };
        let all = [("acme".to_string(), vec!["rol_a".into(), "rol_t".into()])];
        let p = run(Some(&all));
        assert!(p.orgs.is_empty(), "{:?}", p.orgs);
        assert!(p.patch_after.is_empty());
        assert_eq!(
            p.patch.0,
            vec![(
                ORGS_KEY.to_string(),
                j(r#"["acme","acme/Admin","acme/Trial"]"#)
            )],
            "recorded in one PATCH, nothing granted twice"
        );
        let some = [("acme".to_string(), vec!["rol_a".into()])];
        let p = run(Some(&some));
        assert_eq!(p.orgs.len(), 1);
        assert!(!p.orgs[0].join, "a member is not joined again");
        assert_eq!(p.orgs[0].roles[0].id, "rol_t");
        let p = run(Some(&[]));
        assert!(p.orgs[0].join && p.orgs[0].roles.len() == 2);
        assert_eq!(
            run(None).orgs,
            p.orgs,
            "not read: planned from the record alone"
        );
    }
}
