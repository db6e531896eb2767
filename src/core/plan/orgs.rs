//! Organization access in the plan: what of a rule's memberships and organization roles is
//! not recorded as given yet (`app_metadata.provisioning_orgs`).

#[allow(unused_imports)]
use crate::prelude::*;

use super::{org_recorded, org_role_key, OrgGrant, OrgLeave, RuleOutcome, OWNED};
use crate::core::event::Event;
use crate::core::policy::{OrgRef, Policy, RoleRef, Rule};

/// How an organization is recorded: as the policy names it (`None` for `$current`).
pub fn org_key(o: &OrgRef) -> Option<&str> {
    match o {
        OrgRef::Name(k) | OrgRef::Id(k) => Some(k),
        OrgRef::Current => None,
    }
}

/// Adds what is not recorded yet of membership in `org` (and `role` in it) to the plan. The
/// login's organization (`$current`) is known by id only at login; offline it gives nothing.
pub(super) fn grant_org(
    list: &mut Vec<OrgGrant>,
    ev: &Event,
    org: &OrgRef,
    role: Option<&RoleRef>,
    rule: &str,
    retract: bool,
) {
    let (org, key) = match org {
        OrgRef::Name(k) | OrgRef::Id(k) => (org.clone(), k.clone()),
        OrgRef::Current => match &ev.organization[0] {
            Some(id) if ev.offline().is_none() => (OrgRef::Id(id.clone()), id.clone()),
            _ => return,
        },
    };
    let join = !org_recorded(&ev.orgs, &key);
    let role = role.filter(|r| !org_recorded(&ev.orgs, &org_role_key(&key, r)));
    if !join && role.is_none() {
        return;
    }
    let i = match list.iter().position(|g| g.key == key) {
        Some(i) => i,
        None => {
            list.push(OrgGrant {
                org,
                key,
                join: false,
                roles: Vec::new(),
                rules: Vec::new(),
                retract: false,
            });
            list.len() - 1
        }
    };
    let g = &mut list[i];
    // A role is given to a member only, and the record may be stale (a member removed by
    // hand): the idempotent join goes first whenever a role is asked.
    g.join |= join || role.is_some();
    // Only a membership not recorded at all is checked (and may become the policy's).
    g.retract |= retract && join;
    if let Some(r) = role {
        if !g.roles.contains(r) {
            g.roles.push(r.clone());
        }
    }
    if !g.rules.iter().any(|n| n == rule) {
        g.rules.push(rule.to_owned());
    }
}

/// Whether `rule` names organization `key` (a membership or roles in it).
fn names_org(rule: &Rule, key: &str) -> bool {
    let e = &rule.effects;
    e.join_organizations.iter().any(|o| org_key(o) == Some(key))
        || e.organization_roles
            .iter()
            .any(|o| org_key(&o.organization) == Some(key))
}

/// Whether `rule` gives `role` in organization `key`.
fn gives_org_role(rule: &Rule, key: &str, role: &RoleRef) -> bool {
    rule.effects
        .organization_roles
        .iter()
        .any(|o| org_key(&o.organization) == Some(key) && o.roles.contains(role))
}

/// Retraction of organization access: what a `retract` rule that definitely no longer
/// matches gave (recorded `+org`, `+org/Role`) goes, unless a rule that matches or might
/// (`live`) still names it. A membership goes with everything recorded in it.
pub(super) fn retract_orgs(
    policy: &Policy,
    ev: &Event,
    outcomes: &[RuleOutcome],
    live: impl Fn(&RuleOutcome) -> bool,
    out: &mut Vec<OrgLeave>,
) {
    if !ev.orgs.iter().any(|r| r.starts_with(OWNED)) {
        return;
    }
    let owned = |entry: &str| ev.orgs.iter().any(|r| r.strip_prefix(OWNED) == Some(entry));
    // Generic, not `&dyn Fn`: an indirect call of the (i32, i32) → i32 shape would keep
    // every `Display::fmt` in the table reachable for wasm-opt, and with them `core::fmt`.
    fn still(
        policy: &Policy,
        outcomes: &[RuleOutcome],
        live: &impl Fn(&RuleOutcome) -> bool,
        f: impl Fn(&Rule) -> bool,
    ) -> bool {
        policy
            .rules
            .iter()
            .zip(outcomes)
            .any(|(r, o)| live(o) && f(r))
    }
    for (rule, o) in policy.rules.iter().zip(outcomes) {
        if !rule.retract || live(o) {
            continue;
        }
        let e = &rule.effects;
        let named = e
            .join_organizations
            .iter()
            .chain(e.organization_roles.iter().map(|r| &r.organization));
        for org in named {
            let Some(key) = org_key(org) else { continue };
            let leave = owned(key) && !still(policy, outcomes, &live, |r| names_org(r, key));
            let roles: Vec<RoleRef> = e
                .organization_roles
                .iter()
                .filter(|x| org_key(&x.organization) == Some(key))
                .flat_map(|x| x.roles.iter())
                .filter(|r| {
                    owned(&org_role_key(key, r))
                        && !still(policy, outcomes, &live, |x| gives_org_role(x, key, r))
                })
                .cloned()
                .collect();
            if !leave && roles.is_empty() {
                continue;
            }
            let i = match out.iter().position(|l| l.key == key) {
                Some(i) => i,
                None => {
                    out.push(OrgLeave {
                        org: org.clone(),
                        key: key.to_owned(),
                        leave: false,
                        roles: Vec::new(),
                        rules: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let l = &mut out[i];
            l.leave |= leave;
            for r in roles {
                if !l.roles.contains(&r) {
                    l.roles.push(r);
                }
            }
            if l.leave {
                l.roles.clear();
            }
            if !l.rules.contains(&rule.name) {
                l.rules.push(rule.name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;
    use crate::core::event::ORGS_KEY;
    use crate::core::policy::{OrgRef, RoleRef};

    const B2B: &str = r#"{"claims_namespace":"https://e.com/","rules":[
        {"name":"join","when":{"email_domain":"acme.com"},"join_organization":["acme","org_9"],
         "organization_roles":{"organization":"acme","roles":["Member"]}},
        {"name":"cur","when":{"trigger":"post-login","organization":"acme"},
         "organization_roles":{"organization":"$current","roles":["Viewer"]},
         "claims":{"org":{"from":"organization.name"},"org_id":{"from":"organization.id"}}}]}"#;

    fn user(meta: &str, org: bool) -> Event {
        let org = if org {
            r#","organization":{"id":"org_1","name":"acme"}"#
        } else {
            ""
        };
        event(&format!(
            r#"{{"user":{{"user_id":"auth0|1","email":"a@acme.com","email_verified":true,"app_metadata":{meta}}}{org}}}"#
        ))
    }

    #[test]
    fn joins_and_roles_are_planned_once_then_recorded() {
        let p = policy(B2B);
        let ev = user("{}", false);
        let d = decide(&p, &ev);
        assert_eq!(d.organizations.len(), 2);
        let acme = &d.organizations[0];
        assert_eq!((acme.key.as_str(), acme.join), ("acme", true));
        assert_eq!(acme.roles, vec![RoleRef::Name("Member".into())]);
        assert_eq!(d.organizations[1].org, OrgRef::Id("org_9".into()));
        assert!(needs_management_api(&d, &ev));
        assert!(matches!(steps(&p, &d, &ev)[1], Step::Organizations(_)));
        let (app, _) = metadata_writes(&p, &d, &ev, &assume_success(&d, &ev));
        let rec = app.iter().find(|(k, _)| k == ORGS_KEY).unwrap();
        assert_eq!(rec.1, j(r#"["acme","acme/Member","org_9"]"#));
        // Recorded: nothing is asked again, nothing is written again.
        let ev = user(
            r#"{"provisioning_orgs":["acme","acme/Member","org_9"]}"#,
            false,
        );
        let d = decide(&p, &ev);
        assert!(d.organizations.is_empty());
        assert!(!needs_management_api(&d, &ev));
        // A role recorded without its membership: the membership is asked again, not the role.
        let ev = user(r#"{"provisioning_orgs":["acme/Member","org_9"]}"#, false);
        let d = decide(&p, &ev);
        assert_eq!(
            (d.organizations[0].join, d.organizations[0].roles.len()),
            (true, 0)
        );
    }

    #[test]
    fn current_is_the_login_organization_and_never_offline() {
        let p = policy(B2B);
        let ev = user(
            r#"{"provisioning_orgs":["acme","acme/Member","org_9"]}"#,
            true,
        );
        let d = decide(&p, &ev);
        let g = &d.organizations[0];
        assert_eq!(
            (g.org.clone(), g.key.as_str()),
            (OrgRef::Id("org_1".into()), "org_1")
        );
        assert_eq!(g.roles, vec![RoleRef::Name("Viewer".into())]);
        assert_eq!(g.rules, vec!["cur"]);
        assert_eq!(
            d.claims,
            vec![
                ("https://e.com/org".to_string(), j(r#""acme""#)),
                ("https://e.com/org_id".to_string(), j(r#""org_1""#)),
            ]
        );
        let mut offline = ev.clone();
        offline.offline = Some(Default::default());
        assert!(decide(&p, &offline).organizations.is_empty());
    }

    const RETRACT: &str = r#"{"rules":[
        {"name":"staff","when":{"email_domain":"acme.com"},"retract":true,
         "join_organization":"acme","organization_roles":{"organization":"beta","roles":["Member"]}},
        {"name":"beta-admins","when":{"app_metadata":{"beta_admin":true}},
         "organization_roles":{"organization":"beta","roles":["Admin"]}}]}"#;

    fn at(email: &str, meta: &str) -> Event {
        event(&format!(
            r#"{{"user":{{"user_id":"auth0|1","email":"{email}","email_verified":true,"app_metadata":{meta}}}}}"#
        ))
    }

    #[test]
    fn a_retract_rule_checks_memberships_and_records_only_what_it_made() {
        let p = policy(RETRACT);
        let d = decide(&p, &at("a@acme.com", "{}"));
        assert!(d.organizations.iter().all(|g| g.retract && g.join));
        // Made here: retractable; found (owned false): plain, never retracted.
        assert_eq!(d.organizations[0].records(true), vec!["+acme"]);
        assert_eq!(
            d.organizations[1].records(false),
            vec!["beta", "beta/Member"]
        );
        // Recorded either way: nothing asked again.
        let d = decide(
            &p,
            &at(
                "a@acme.com",
                r#"{"provisioning_orgs":["+acme","beta","beta/Member"]}"#,
            ),
        );
        assert!(d.organizations.is_empty() && d.org_leaves.is_empty());
    }

    #[test]
    fn what_the_policy_made_is_retracted_when_its_rule_stops_matching() {
        let p = policy(RETRACT);
        let recs = r#"{"provisioning_orgs":["+acme","+beta","+beta/Member","beta/Admin"]}"#;
        let ev = at("a@other.com", recs);
        let d = decide(&p, &ev);
        let keys: Vec<(&str, bool)> = d
            .org_leaves
            .iter()
            .map(|l| (l.key.as_str(), l.leave))
            .collect();
        assert_eq!(keys, vec![("acme", true), ("beta", true)]);
        assert!(needs_management_api(&d, &ev));
        assert!(matches!(steps(&p, &d, &ev)[1], Step::LeaveOrganizations(_)));
        let (app, _) = metadata_writes(&p, &d, &ev, &assume_success(&d, &ev));
        let rec = app.iter().find(|(k, _)| k == ORGS_KEY).unwrap();
        assert_eq!(rec.1, Json::Null, "leaving takes every entry of the org");
        // Another rule still gives a role in beta: the membership stays, only Member goes.
        let ev = at("a@other.com", &recs.replace('}', r#","beta_admin":true}"#));
        let d = decide(&p, &ev);
        assert_eq!(d.org_leaves.len(), 2);
        let beta = &d.org_leaves[1];
        assert_eq!(
            (beta.leave, beta.roles.clone()),
            (false, vec![RoleRef::Name("Member".into())])
        );
        assert_eq!(beta.records(&ev.orgs), vec!["+beta/Member"]);
        // Given by hand (recorded plain): never retracted.
        let d = decide(
            &p,
            &at(
                "a@other.com",
                r#"{"provisioning_orgs":["acme","beta","beta/Member"]}"#,
            ),
        );
        assert!(d.org_leaves.is_empty());
        // Still matching: nothing goes.
        assert!(decide(&p, &at("a@acme.com", recs)).org_leaves.is_empty());
    }

    #[test]
    fn no_retraction_on_a_guess() {
        let p = policy(
            r#"{"rules":[{"name":"paid","when":{"app_metadata":{"plan":"pro"}},"retract":true,
                "join_organization":"acme"}]}"#,
        );
        let mut ev = at("a@x.com", r#"{"provisioning_orgs":["+acme"]}"#);
        assert_eq!(decide(&p, &ev).org_leaves.len(), 1);
        ev.offline = Some(Default::default());
        ev.unreadable.push("user.app_metadata.plan".into());
        assert!(
            decide(&p, &ev).org_leaves.is_empty(),
            "unreadable metadata: unknown, not unmatched"
        );
    }
}
