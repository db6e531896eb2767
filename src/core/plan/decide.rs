//! The matched rules' effects merged into one [`Decision`], and what of it needs the
//! Management API.

use crate::core::text::split_once_byte;
#[allow(unused_imports)]
use crate::prelude::*;

use super::matching::{evaluate, not_evaluable, unreadable_at, OFFLINE_AFTER_STOP, UNKNOWN};
use super::orgs::{grant_org, retract_orgs};
use super::{Decision, RuleOutcome, WantedRole};
use crate::core::event::{Event, Trigger};
use crate::core::json::{same, Json};
use crate::core::mgmt::ResolvedRole;
use crate::core::policy::{ClaimValue, Policy, RoleRef};

fn upsert(list: &mut Vec<(String, Json)>, key: &str, value: &Json) {
    list.retain(|(k, _)| k != key);
    list.push((key.to_owned(), value.clone()));
}

/// Applies first-level changes to a metadata object (null deletes), as Auth0 does.
pub fn merged(base: &Json, changes: &[(String, Json)]) -> Json {
    let mut members = match base {
        Json::Obj(m) => m.clone(),
        _ => Vec::new(),
    };
    for (k, v) in changes {
        members.retain(|(mk, _)| mk != k);
        if !v.is_null() {
            members.push((k.clone(), v.clone()));
        }
    }
    Json::Obj(members)
}

/// Keeps only the changes that differ from `current`.
fn effective(current: &Json, changes: Vec<(String, Json)>) -> Vec<(String, Json)> {
    changes
        .into_iter()
        .filter(|(k, v)| match current.get(k) {
            None | Some(Json::Null) => !v.is_null(),
            Some(cur) => !same(cur, v),
        })
        .collect()
}

fn want(list: &mut Vec<WantedRole>, role: &RoleRef, rule: &str) {
    match list.iter_mut().find(|w| &w.role == role) {
        Some(w) => w.rules.push(rule.to_owned()),
        None => list.push(WantedRole {
            role: role.clone(),
            rules: vec![rule.to_owned()],
        }),
    }
}

/// Evaluates every rule in order (until a matched rule with `stop`) into a plan.
pub fn decide(policy: &Policy, ev: &Event) -> Decision {
    let mut d = Decision::default();
    let mut app_changes: Vec<(String, Json)> = Vec::new();
    let mut user_changes: Vec<(String, Json)> = Vec::new();
    let mut claims: Vec<(String, ClaimValue)> = Vec::new();
    let mut stopped = false;
    // Offline, a rule with stop that cannot be evaluated leaves every later rule unknown.
    let mut stop_unknown = false;
    // Login-only effects (deny, MFA, claims) and once-only ones are left to the login.
    let login = ev.offline().is_none();
    for rule in &policy.rules {
        if stopped || stop_unknown {
            d.rules.push(RuleOutcome {
                name: rule.name.clone(),
                matched: false,
                reason: if stopped {
                    "not evaluated: an earlier rule has stop"
                } else {
                    OFFLINE_AFTER_STOP
                },
            });
            continue;
        }
        let outcome = evaluate(rule, ev);
        stop_unknown = rule.stop && not_evaluable(outcome.reason);
        if outcome.matched {
            let e = &rule.effects;
            let name = &rule.name;
            for r in &e.assign_roles {
                d.remove.retain(|w| &w.role != r); // a later rule wins
                want(&mut d.roles, r, name);
            }
            for r in &e.remove_roles {
                d.roles.retain(|w| &w.role != r);
                want(&mut d.remove, r, name);
            }
            let done = ev.done.contains(name);
            if !done && login {
                for p in &e.assign_permissions {
                    if !d.permissions.iter().any(|(q, _)| q == p) {
                        d.permissions.push((p.clone(), name.clone()));
                    }
                }
                for t in &e.tickets {
                    // An invite already stored is not issued again.
                    let stored = t
                        .store_key
                        .as_ref()
                        .is_some_and(|k| ev.app_metadata.get(k).is_some_and(|v| !v.is_null()));
                    if !stored {
                        d.tickets.push((t.clone(), name.clone()));
                    }
                }
            }
            for o in &e.join_organizations {
                grant_org(&mut d.organizations, ev, o, None, name, rule.retract);
            }
            for o in &e.organization_roles {
                for r in &o.roles {
                    grant_org(
                        &mut d.organizations,
                        ev,
                        &o.organization,
                        Some(r),
                        name,
                        rule.retract,
                    );
                }
            }
            for (k, v) in &e.set_app_metadata {
                upsert(&mut app_changes, k, v);
            }
            for (k, v) in &e.set_user_metadata {
                upsert(&mut user_changes, k, v);
            }
            if login {
                for (k, v) in &e.claims {
                    claims.retain(|(c, _)| c != k);
                    claims.push((k.clone(), v.clone()));
                }
                if e.require_mfa.is_some() {
                    d.mfa = e.require_mfa.clone();
                }
                if let (None, Some(reason)) = (&d.deny, &e.deny) {
                    d.deny = Some((reason.clone(), name.clone()));
                }
            }
            stopped = rule.stop;
        }
        d.rules.push(outcome);
    }
    retract(policy, ev, &mut d);
    let uncertain = |o: &RuleOutcome| o.reason == UNKNOWN || not_evaluable(o.reason);
    let mut leaves = Vec::new();
    retract_orgs(
        policy,
        ev,
        &d.rules,
        |o| o.matched || uncertain(o),
        &mut leaves,
    );
    d.org_leaves = leaves;
    // Claims copy metadata as it will be after this execution.
    let app_after = merged(&ev.app_metadata, &app_changes);
    let user_after = merged(&ev.user_metadata, &user_changes);
    for (name, value) in claims {
        let v = match value {
            ClaimValue::Fixed(v) => Some(v),
            // A claim never carries a value that could not be read in full.
            ClaimValue::From(src) => match split_once_byte(&src, b'.') {
                _ if unreadable_at(ev, "user", &src) => None,
                Some(("app_metadata", p)) => app_after.path(p).cloned(),
                Some(("user_metadata", p)) => user_after.path(p).cloned(),
                Some((_, p)) => ev.organization[usize::from(p == "name")]
                    .clone()
                    .map(Json::Str),
                None => None,
            },
        };
        if let Some(v) = v.filter(|v| !v.is_null()) {
            d.claims.push((name, v));
        }
    }
    d.app_metadata = effective(&ev.app_metadata, app_changes);
    d.user_metadata = effective(&ev.user_metadata, user_changes);
    d
}

/// Retraction: a role a retract rule granted (recorded in `provisioning_roles`) is removed
/// when that rule no longer matches and no matched rule wants it. Never on a guess: not when
/// the rule's outcome is unknown, nor while a rule that could not be evaluated (unreadable
/// metadata, offline) also assigns it. Only held roles are then sent (`role_changes`).
fn retract(policy: &Policy, ev: &Event, d: &mut Decision) {
    if ev.granted.is_empty() {
        return;
    }
    let uncertain = |o: &RuleOutcome| o.reason == UNKNOWN || not_evaluable(o.reason);
    let mut retracted = Vec::new();
    for (rule, outcome) in policy.rules.iter().zip(&d.rules) {
        if !rule.retract || outcome.matched || uncertain(outcome) {
            continue;
        }
        for role in &rule.effects.assign_roles {
            let granted = ev.granted.iter().any(|g| g == role.as_str());
            let wanted = d.roles.iter().any(|w| &w.role == role);
            let maybe = policy
                .rules
                .iter()
                .zip(&d.rules)
                .any(|(r, o)| uncertain(o) && r.effects.assign_roles.contains(role));
            if granted && !wanted && !maybe {
                retracted.push((role, &rule.name));
            }
        }
    }
    for (role, rule) in retracted {
        want(&mut d.remove, role, rule);
    }
}

/// The role changes that need the Management API: assigned roles not already held by name,
/// and removed roles not known (by name) to be absent. Roles named by id are always
/// included: only their resolution tells whether the user holds them. `held` is `None` when
/// the event did not say (no `event.authorization`): every removal is then sent.
pub fn role_changes<'a>(
    d: &'a Decision,
    held: Option<&[String]>,
) -> (Vec<&'a WantedRole>, Vec<&'a WantedRole>) {
    let by_name = |w: &WantedRole, want_held: bool| match (&w.role, held) {
        (RoleRef::Name(n), Some(held)) => held.contains(n) == want_held,
        (RoleRef::Name(_), None) => true,
        (RoleRef::Id(_), _) => true,
    };
    let assign = d.roles.iter().filter(|w| by_name(w, false)).collect();
    let remove = d.remove.iter().filter(|w| by_name(w, true)).collect();
    (assign, remove)
}

/// Whether carrying out `d` for `ev` needs the Management API: role changes not known to be
/// unnecessary, once-only effects, and in post-user-registration (no `api.user`) any metadata
/// or marker write. The Action and `explain` both ask this.
pub fn needs_management_api(d: &Decision, ev: &Event) -> bool {
    if d.deny.is_some() {
        return false;
    }
    let (assign, remove) = role_changes(d, ev.held_roles());
    let registration = ev.trigger == Trigger::PostUserRegistration;
    !assign.is_empty()
        || !remove.is_empty()
        || !d.organizations.is_empty()
        || !d.org_leaves.is_empty()
        || !d.permissions.is_empty()
        || !d.tickets.is_empty()
        || (registration
            && (!d.app_metadata.is_empty()
                || !d.user_metadata.is_empty()
                || !ev.pending.is_empty()))
}

/// Roles among `wanted` that the user does not hold yet (by name), deduplicated by id.
pub fn missing_roles<'a>(wanted: &'a [ResolvedRole], held: &[String]) -> Vec<&'a ResolvedRole> {
    let mut out: Vec<&ResolvedRole> = Vec::new();
    for r in wanted {
        if !held.iter().any(|h| h == &r.name) && !out.iter().any(|o| o.id == r.id) {
            out.push(r);
        }
    }
    out
}

/// Role names the user holds after this login: held ones minus the removed, then the newly
/// assigned, no repeats.
pub fn roles_after(
    held: &[String],
    assigned: &[&ResolvedRole],
    removed: &[&ResolvedRole],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(held.len() + assigned.len());
    for n in held.iter().chain(assigned.iter().map(|r| &r.name)) {
        if !out.contains(n) && !removed.iter().any(|r| &r.name == n) {
            out.push(n.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;
    use super::*;
    use crate::core::policy::Mfa;

    #[test]
    fn google_sign_up_wants_premium_and_a_database_one_nothing() {
        let d = decide(&policy(SEED), &google());
        assert!(d.rules[0].matched);
        assert_eq!(
            d.roles,
            vec![WantedRole {
                role: RoleRef::Name("Premium User".into()),
                rules: vec!["premium-for-google".into()]
            }]
        );
        let db = event(
            r#"{"user":{"user_id":"auth0|1"},"connection":{"name":"Username-Password-Authentication","strategy":"auth0"}}"#,
        );
        let d = decide(&policy(SEED), &db);
        assert_eq!(d.rules[0].reason, "provider does not match");
        assert!(d.roles.is_empty());
    }

    #[test]
    fn roles_are_deduplicated_later_rules_win_and_stop_stops() {
        let p = policy(
            r#"{"rules":[{"name":"a","assign_roles":["X","Y"]},{"name":"b","assign_roles":["Y"],"remove_roles":["Z"]},
                                    {"name":"c","remove_roles":["X"],"stop":true},{"name":"d","assign_roles":["Z"]}]}"#,
        );
        let d = decide(&p, &google());
        let names = |ws: &[WantedRole]| {
            ws.iter()
                .map(|w| w.role.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&d.roles), vec!["Y"]);
        assert_eq!(d.roles[0].rules, vec!["a", "b"]);
        assert_eq!(names(&d.remove), vec!["Z", "X"]);
        let (assign, remove) = role_changes(&d, Some(&["Y".to_string(), "X".to_string()]));
        assert!(assign.is_empty(), "Y is held");
        assert_eq!(
            remove.iter().map(|w| w.role.as_str()).collect::<Vec<_>>(),
            vec!["X"],
            "Z is not held"
        );
        // Without event.authorization nothing is known to be held: every change is sent.
        let (assign, remove) = role_changes(&d, None);
        assert_eq!(assign.len(), 1);
        assert_eq!(remove.len(), 2);
        assert_eq!(d.rules[3].reason, "not evaluated: an earlier rule has stop");
        let resolved = vec![
            ResolvedRole {
                id: "rol_x".into(),
                name: "X".into(),
            },
            ResolvedRole {
                id: "rol_y".into(),
                name: "Y".into(),
            },
        ];
        let held = vec!["X".to_string(), "Admin".to_string()];
        let missing = missing_roles(&resolved, &held);
        assert_eq!(
            missing.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["rol_y"]
        );
        assert_eq!(
            roles_after(&held, &missing, &[&resolved[0]]),
            vec!["Admin", "Y"]
        );
    }

    #[test]
    fn metadata_changes_only_when_different_and_claims_see_them() {
        let p = policy(
            r#"{"claims_namespace":"https://e.com/","rules":[{"name":"m","when":{"trigger":"post-login"},
            "set_app_metadata":{"plan":"pro","tier":"gold","gone":null,"never":null},"set_user_metadata":{"beta":true},
            "claims":{"plan":{"from":"app_metadata.tier"},"flag":{"from":"user_metadata.beta"},"none":{"from":"app_metadata.nope"},"fixed":[1,"a"]}}]}"#,
        );
        let ev = event(
            r#"{"user":{"user_id":"u","app_metadata":{"plan":"pro","gone":1},"user_metadata":{"beta":true}}}"#,
        );
        let d = decide(&p, &ev);
        assert_eq!(
            d.app_metadata,
            vec![
                ("tier".to_string(), j(r#""gold""#)),
                ("gone".to_string(), Json::Null)
            ]
        );
        assert!(d.user_metadata.is_empty(), "beta is already true");
        assert_eq!(
            d.claims,
            vec![
                ("https://e.com/plan".to_string(), j(r#""gold""#)),
                ("https://e.com/flag".to_string(), Json::Bool(true)),
                ("https://e.com/fixed".to_string(), j(r#"[1,"a"]"#)),
            ]
        );
    }

    #[test]
    fn once_only_effects_skip_done_rules_and_stored_tickets() {
        let p = policy(
            r#"{"rules":[{"name":"perm","assign_permissions":[{"resource_server_identifier":"https://api/","permission_name":"r"}]},
            {"name":"invite","password_reset_ticket":{"store":"app_metadata.invite_url"}},
            {"name":"mfa","mfa_enrollment_ticket":{"store":"log"}}]}"#,
        );
        let d = decide(&p, &event(r#"{"user":{"user_id":"u"}}"#));
        assert_eq!((d.permissions.len(), d.tickets.len()), (1, 2));
        let d = decide(
            &p,
            &event(
                r#"{"user":{"user_id":"u","app_metadata":{"provisioning_done":["perm","mfa"],"invite_url":"https://x"}}}"#,
            ),
        );
        assert_eq!((d.permissions.len(), d.tickets.len()), (0, 0));
        assert_eq!(
            done_after(&p, &["perm".into(), "gone".into()], &["mfa".into()]),
            vec!["perm", "mfa"]
        );
    }

    #[test]
    fn mfa_and_the_first_deny_win() {
        let p = policy(
            r#"{"rules":[{"name":"a","when":{"trigger":"post-login"},"require_mfa":true},
            {"name":"b","when":{"trigger":"post-login"},"deny":"first"},{"name":"c","when":{"trigger":"post-login"},"deny":true}]}"#,
        );
        let d = decide(&p, &google());
        assert_eq!(
            d.mfa,
            Some(Mfa {
                provider: "any".into(),
                allow_remember_browser: false
            })
        );
        assert_eq!(d.deny, Some(("first".to_string(), "b".to_string())));
        assert!(same_names(
            &["a".into(), "b".into()],
            &["b".into(), "a".into(), "a".into()]
        ));
        assert!(!same_names(&["a".into()], &["b".into()]));
        assert_eq!(
            merged(
                &j(r#"{"a":1,"b":2}"#),
                &[("a".into(), Json::Null), ("c".into(), j("3"))]
            ),
            j(r#"{"b":2,"c":3}"#)
        );
    }
}
