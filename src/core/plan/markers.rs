//! The `provisioning_pending` and `provisioning_done` markers in `app_metadata`: which
//! rules still owe work, and which once-only rules are done.

#[allow(unused_imports)]
use crate::prelude::*;

use super::Decision;
use crate::core::event::Event;
use crate::core::mgmt::ResolvedRole;
use crate::core::policy::{Policy, RoleRef};

/// Rule names in policy order for which `pred` holds, no repeats.
pub fn rules_where(decision: &Decision, pred: impl Fn(&str) -> bool) -> Vec<String> {
    decision
        .rules
        .iter()
        .filter(|r| r.matched && pred(&r.name))
        .map(|r| r.name.clone())
        .collect()
}

/// Whether two name lists hold the same names, ignoring order and repeats.
pub fn same_names(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// The `provisioning_pending` list after this execution: earlier markers of rules still in the
/// policy that did not run successfully now (they did not match, or were not evaluated), plus
/// the rules that failed now. Only a success clears a marker.
pub fn pending_after(
    policy: &Policy,
    decision: &Decision,
    earlier: &[String],
    failed: &[String],
) -> Vec<String> {
    let succeeded = |n: &String| {
        decision.rules.iter().any(|r| &r.name == n && r.matched) && !failed.contains(n)
    };
    let mut out: Vec<String> = Vec::new();
    for r in &policy.rules {
        let owed = failed.contains(&r.name) || (earlier.contains(&r.name) && !succeeded(&r.name));
        if owed && !out.contains(&r.name) {
            out.push(r.name.clone());
        }
    }
    out
}

/// The `provisioning_done` list after this execution: the earlier one plus the rules whose
/// once-only effects just succeeded, minus rules no longer in the policy.
pub fn done_after(policy: &Policy, earlier: &[String], completed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in earlier.iter().chain(completed) {
        if !out.contains(n)
            && policy
                .rules
                .iter()
                .any(|r| &r.name == n && r.effects.once_only())
        {
            out.push(n.clone());
        }
    }
    out
}

/// Whether a resolved role is the one the policy names.
pub fn is_role(r: &RoleRef, x: &ResolvedRole) -> bool {
    match r {
        RoleRef::Name(n) => &x.name == n,
        RoleRef::Id(i) => &x.id == i,
    }
}

/// The `provisioning_roles` list after this execution: the earlier one minus the roles
/// removed and, when the event says which roles are held, minus names no longer held (a
/// stale entry would make a role later given by hand look like the policy's); plus the
/// roles just assigned for a matched rule with `retract`. A role already held when its rule
/// matched is not recorded: it was not the policy's to give.
pub fn granted_after(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    assigned: &[ResolvedRole],
    removed: &[ResolvedRole],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in &ev.granted {
        let r = RoleRef::parse(g);
        let gone = removed.iter().any(|x| is_role(&r, x));
        let stale = matches!(r, RoleRef::Name(_))
            && ev.roles_known
            && !ev.roles.contains(g)
            && !assigned.iter().any(|x| is_role(&r, x));
        if !gone && !stale && !out.contains(g) {
            out.push(g.clone());
        }
    }
    for w in &d.roles {
        let by_retract = w
            .rules
            .iter()
            .any(|n| policy.rules.iter().any(|r| &r.name == n && r.retract));
        let name = w.role.as_str();
        if by_retract
            && assigned.iter().any(|x| is_role(&w.role, x))
            && !out.iter().any(|o| o == name)
        {
            out.push(name.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;
    use super::*;

    #[test]
    fn pending_rules_match_again_but_only_in_their_trigger() {
        let p = policy(
            r#"{"rules":[{"name":"welcome","when":{"first_login":true},"assign_roles":["New"]},
                                    {"name":"pl","when":{"trigger":"post-login","first_login":true},"assign_roles":["Y"]}]}"#,
        );
        let pending = r#"{"user":{"user_id":"u","app_metadata":{"provisioning_pending":["welcome","pl","removed"]}},"stats":{"logins_count":2}}"#;
        let d = decide(&p, &event(pending));
        assert_eq!(d.rules[0].reason, "pending from an earlier login");
        assert!(d.rules[1].matched);
        let d = decide(&p, &event_in(pending, Trigger::PostUserRegistration));
        assert!(d.rules[0].matched);
        assert_eq!(d.rules[1].reason, "trigger does not match");
        let failed = |names: &[&str]| rules_where(&d, |r| names.contains(&r));
        assert_eq!(failed(&["welcome"]), vec!["welcome"]);
        assert_eq!(failed(&[]), Vec::<String>::new());
        // Markers: only a success clears one; "pl" did not run here and stays owed; "removed"
        // left the policy.
        let earlier: Vec<String> = ["welcome", "pl", "removed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pending_after(&p, &d, &earlier, &[]), vec!["pl"]);
        assert_eq!(
            pending_after(&p, &d, &earlier, &["welcome".into()]),
            vec!["welcome", "pl"]
        );
        // A registration-only rule that failed at sign-up is completed at the next login.
        let reg = policy(
            r#"{"rules":[{"name":"trial","when":{"trigger":"post-user-registration","provider":"auth0"},"assign_roles":["T"]}]}"#,
        );
        let login = event(
            r#"{"user":{"user_id":"u","app_metadata":{"provisioning_pending":["trial"]}},"connection":{"strategy":"auth0"}}"#,
        );
        assert_eq!(
            decide(&reg, &login).rules[0].reason,
            "pending from an earlier login"
        );
        let elsewhere = event(
            r#"{"user":{"user_id":"u","app_metadata":{"provisioning_pending":["trial"]}},"connection":{"strategy":"samlp"}}"#,
        );
        assert!(
            !decide(&reg, &elsewhere).rules[0].matched,
            "the provider must still match"
        );
    }
}
