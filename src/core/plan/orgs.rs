//! Organization access in the plan: what of a rule's memberships and organization roles is
//! not recorded as given yet (`app_metadata.provisioning_orgs`).

#[allow(unused_imports)]
use crate::prelude::*;

use super::{org_role_key, OrgGrant};
use crate::core::event::Event;
use crate::core::policy::{OrgRef, RoleRef};

/// Adds what is not recorded yet of membership in `org` (and `role` in it) to the plan. The
/// login's organization (`$current`) is known by id only at login; offline it gives nothing.
pub(super) fn grant_org(
    list: &mut Vec<OrgGrant>,
    ev: &Event,
    org: &OrgRef,
    role: Option<&RoleRef>,
    rule: &str,
) {
    let (org, key) = match org {
        OrgRef::Name(k) | OrgRef::Id(k) => (org.clone(), k.clone()),
        OrgRef::Current => match &ev.organization[0] {
            Some(id) if ev.offline.is_none() => (OrgRef::Id(id.clone()), id.clone()),
            _ => return,
        },
    };
    let join = !ev.orgs.contains(&key);
    let role = role.filter(|r| !ev.orgs.contains(&org_role_key(&key, r)));
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
            });
            list.len() - 1
        }
    };
    let g = &mut list[i];
    // A role is given to a member only, and the record may be stale (a member removed by
    // hand): the idempotent join goes first whenever a role is asked.
    g.join |= join || role.is_some();
    if let Some(r) = role {
        if !g.roles.contains(r) {
            g.roles.push(r.clone());
        }
    }
    if !g.rules.iter().any(|n| n == rule) {
        g.rules.push(rule.to_owned());
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
}
