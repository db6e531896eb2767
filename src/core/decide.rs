//! The decision: event + policy in, which rules match and which roles are wanted out.
//! Pure: no I/O, so every branch is testable with `cargo test`.

use super::event::Event;
use super::policy::{Policy, RoleRef, Rule, When};

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

/// A role the policy wants the user to hold, with the rules asking for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedRole {
    /// The role as written in the policy.
    pub role: RoleRef,
    /// Names of the matched rules that assign it.
    pub rules: Vec<String>,
}

/// The outcome of evaluating a policy against one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Every rule, in policy order.
    pub rules: Vec<RuleOutcome>,
    /// Roles wanted by matched rules, deduplicated, in first-mention order.
    pub roles: Vec<WantedRole>,
}

fn any_eq(list: &Option<Vec<String>>, value: Option<&str>, ignore_case: bool) -> bool {
    match list {
        None => true,
        Some(items) => value.is_some_and(|v| {
            items.iter().any(|i| {
                if ignore_case {
                    i.eq_ignore_ascii_case(v)
                } else {
                    i == v
                }
            })
        }),
    }
}

/// `Ok(())` when every condition holds, else the name of the first one that does not.
pub fn check_when(when: &When, ev: &Event) -> Result<(), &'static str> {
    if !any_eq(&when.provider, ev.strategy.as_deref(), true) {
        return Err("provider does not match");
    }
    if !any_eq(&when.connection, ev.connection.as_deref(), false) {
        return Err("connection does not match");
    }
    if when.email_domain.is_some()
        && !any_eq(
            &when.email_domain,
            ev.verified_email_domain().as_deref(),
            false,
        )
    {
        return Err("email_domain does not match (or email not verified)");
    }
    if !any_eq(&when.client_id, ev.client_id.as_deref(), false) {
        return Err("client_id does not match");
    }
    if let Some(first) = when.first_login {
        if (ev.logins_count == Some(1.0)) != first {
            return Err("first_login does not match");
        }
    }
    Ok(())
}

fn evaluate(rule: &Rule, ev: &Event) -> RuleOutcome {
    let (matched, reason) = match check_when(&rule.when, ev) {
        Ok(()) => (true, "conditions hold"),
        // A rule that matched on an earlier login whose provisioning failed stays owed,
        // even when a condition such as first_login no longer holds.
        Err(_) if ev.pending.iter().any(|p| p == &rule.name) => {
            (true, "pending from an earlier login")
        }
        Err(why) => (false, why),
    };
    RuleOutcome {
        name: rule.name.clone(),
        matched,
        reason,
    }
}

/// Evaluates every rule in order.
pub fn decide(policy: &Policy, ev: &Event) -> Decision {
    let mut rules = Vec::with_capacity(policy.rules.len());
    let mut roles: Vec<WantedRole> = Vec::new();
    for rule in &policy.rules {
        let outcome = evaluate(rule, ev);
        if outcome.matched {
            for role in &rule.assign_roles {
                match roles.iter_mut().find(|w| &w.role == role) {
                    Some(w) => w.rules.push(rule.name.clone()),
                    None => roles.push(WantedRole {
                        role: role.clone(),
                        rules: vec![rule.name.clone()],
                    }),
                }
            }
        }
        rules.push(outcome);
    }
    Decision { rules, roles }
}

/// A role resolved against the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRole {
    /// Role id (`rol_…`).
    pub id: String,
    /// Role name.
    pub name: String,
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

/// Role names the user holds after this login: held ones, then the newly assigned, no repeats.
pub fn roles_after(held: &[String], assigned: &[&ResolvedRole]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(held.len() + assigned.len());
    for n in held.iter().chain(assigned.iter().map(|r| &r.name)) {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

/// Rule names still owed after this execution: the matched rules wanting a role whose
/// provisioning failed (policy order, no repeats). Pending names of rules that ran and
/// succeeded, or that left the policy, are thereby dropped.
pub fn pending_after(decision: &Decision, failed: &[RoleRef]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &decision.rules {
        let owed = decision
            .roles
            .iter()
            .any(|w| failed.contains(&w.role) && w.rules.contains(&r.name));
        if owed {
            out.push(r.name.clone());
        }
    }
    out
}

/// Whether two name lists hold the same names, ignoring order and repeats.
pub fn same_names(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{parse_event, Trigger};
    use crate::core::policy::parse_policy;

    fn policy(s: &str) -> Policy {
        parse_policy(&serde_json::from_str(s).unwrap()).unwrap()
    }
    fn event(s: &str) -> Event {
        parse_event(&serde_json::from_str(s).unwrap(), Trigger::PostLogin).unwrap()
    }
    const SEED: &str = r#"{"claims_namespace":"https://example.com/","rules":[
        {"name":"premium-for-google","when":{"provider":["google-oauth2"]},"assign_roles":["Premium User"]}]}"#;

    fn google(extra: &str) -> Event {
        event(&format!(
            r#"{{"user":{{"user_id":"google-oauth2|1"{extra}}},"connection":{{"name":"google-oauth2","strategy":"google-oauth2"}},"stats":{{"logins_count":1}}}}"#
        ))
    }

    #[test]
    fn google_sign_up_wants_premium() {
        let d = decide(&policy(SEED), &google(""));
        assert!(d.rules[0].matched);
        assert_eq!(d.roles.len(), 1);
        assert_eq!(d.roles[0].role, RoleRef::Name("Premium User".into()));
        assert_eq!(d.roles[0].rules, vec!["premium-for-google"]);
    }

    #[test]
    fn database_sign_up_matches_nothing() {
        let ev = event(
            r#"{"user":{"user_id":"auth0|1"},"connection":{"name":"Username-Password-Authentication","strategy":"auth0"}}"#,
        );
        let d = decide(&policy(SEED), &ev);
        assert!(!d.rules[0].matched);
        assert_eq!(d.rules[0].reason, "provider does not match");
        assert!(d.roles.is_empty());
    }

    #[test]
    fn each_condition_can_fail_alone() {
        let p = |when: &str| {
            policy(&format!(
                r#"{{"rules":[{{"name":"r","when":{when},"assign_roles":["X"]}}]}}"#
            ))
        };
        let ev = event(
            r#"{"user":{"user_id":"u","email":"a@example.com","email_verified":true},
            "connection":{"name":"corp","strategy":"samlp"},"client":{"client_id":"app1"},"stats":{"logins_count":3}}"#,
        );
        let cases = [
            (
                r#"{"provider":"SAMLP","connection":"corp","email_domain":"example.com","client_id":"app1","first_login":false}"#,
                "conditions hold",
            ),
            (r#"{"connection":"Corp"}"#, "connection does not match"),
            (
                r#"{"email_domain":"ample.com"}"#,
                "email_domain does not match (or email not verified)",
            ),
            (
                r#"{"email_domain":"evilexample.com"}"#,
                "email_domain does not match (or email not verified)",
            ),
            (
                r#"{"client_id":["app2","app3"]}"#,
                "client_id does not match",
            ),
            (r#"{"first_login":true}"#, "first_login does not match"),
        ];
        for (when, reason) in cases {
            assert_eq!(decide(&p(when), &ev).rules[0].reason, reason, "{when}");
        }
    }

    #[test]
    fn pending_rules_match_even_when_first_login_no_longer_holds() {
        let p = policy(
            r#"{"rules":[{"name":"welcome","when":{"first_login":true},"assign_roles":["New"]},
                                    {"name":"gone","assign_roles":["Y"]}]}"#,
        );
        let later = event(
            r#"{"user":{"user_id":"u","app_metadata":{"provisioning_pending":["welcome","removed"]}},"stats":{"logins_count":2}}"#,
        );
        let d = decide(&p, &later);
        assert!(d.rules[0].matched);
        assert_eq!(d.rules[0].reason, "pending from an earlier login");
        // "removed" is no longer in the policy and is dropped; failure of New keeps "welcome".
        assert_eq!(pending_after(&d, &[]), Vec::<String>::new());
        assert_eq!(
            pending_after(&d, &[RoleRef::Name("New".into())]),
            vec!["welcome"]
        );
    }

    #[test]
    fn roles_are_deduplicated_across_rules_and_held_ones_skipped() {
        let p = policy(
            r#"{"rules":[{"name":"a","assign_roles":["X","Y"]},{"name":"b","assign_roles":["Y"]}]}"#,
        );
        let d = decide(&p, &google(""));
        assert_eq!(d.roles.len(), 2);
        assert_eq!(d.roles[1].rules, vec!["a", "b"]);
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
        assert_eq!(roles_after(&held, &missing), vec!["X", "Admin", "Y"]);
    }
}
