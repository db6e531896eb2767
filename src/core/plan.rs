//! The decision: event + policy in, a plan of effects out. Pure: no I/O, so every branch is
//! testable with `cargo test`, and `explain` can print a plan without sending anything.

use super::event::{is_under, Event, Trigger};
use super::json::{same, Json};
use super::policy::{ClaimValue, Expect, Mfa, Permission, Policy, RoleRef, Rule, Ticket, When};

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

/// Why a rule did not match when a condition reads a value the host could not read.
pub const UNKNOWN: &str = "unknown: a condition reads a metadata value that could not be read";

/// Whether a metadata value at `root.path` may be affected by an unreadable one: the
/// unreadable path lies on it, above it (a cut ancestor) or below it (a cut descendant).
fn unreadable_at(ev: &Event, root: &str, path: &str) -> bool {
    let full = [root, ".", path].concat();
    ev.unreadable
        .iter()
        .any(|u| is_under(u, &full) || is_under(&full, u))
}

/// Three-valued: `Some(false)` if a condition fails, else `None` if one cannot be known,
/// else `Some(true)`.
fn metadata_holds(conds: &[(String, Expect)], meta: &Json, ev: &Event, root: &str) -> Option<bool> {
    let mut known = true;
    for (path, expect) in conds {
        if unreadable_at(ev, root, path) {
            known = false;
            continue;
        }
        let v = meta.path(path).filter(|v| !v.is_null());
        let holds = match expect {
            Expect::Exists(b) => v.is_some() == *b,
            Expect::Equals(want) => {
                v.is_some_and(|v| same(v, want)) || (want.is_null() && v.is_none())
            }
        };
        if !holds {
            return Some(false);
        }
    }
    known.then_some(true)
}

/// `Ok(())` when every condition holds, else the first one that does not.
pub fn check_when(when: &When, ev: &Event) -> Result<(), &'static str> {
    if when
        .trigger
        .as_ref()
        .is_some_and(|t| !t.contains(&ev.trigger))
    {
        return Err("trigger does not match");
    }
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
    if when.email_verified.is_some_and(|v| v != ev.email_verified) {
        return Err("email_verified does not match");
    }
    if !any_eq(&when.client_id, ev.client_id.as_deref(), false) {
        return Err("client_id does not match");
    }
    // A registration is the start of the user's first session (its event has no stats).
    let first_session = ev.logins_count == Some(1.0) || ev.trigger == Trigger::PostUserRegistration;
    if when.first_login.is_some_and(|first| first_session != first) {
        return Err("first_login does not match");
    }
    if let Some(orgs) = &when.organization {
        if !orgs.iter().any(|o| ev.organization.contains(o)) {
            return Err("organization does not match");
        }
    }
    // An unknown metadata condition is decided last: a condition that plainly fails
    // makes the rule not match whatever the unknown value is.
    let mut unknown = false;
    match metadata_holds(
        &when.app_metadata,
        &ev.app_metadata,
        ev,
        "user.app_metadata",
    ) {
        Some(false) => return Err("app_metadata does not match"),
        None => unknown = true,
        Some(true) => {}
    }
    match metadata_holds(
        &when.user_metadata,
        &ev.user_metadata,
        ev,
        "user.user_metadata",
    ) {
        Some(false) => return Err("user_metadata does not match"),
        None => unknown = true,
        Some(true) => {}
    }
    if when
        .has_role
        .as_ref()
        .is_some_and(|rs| !rs.iter().any(|r| ev.roles.contains(r)))
    {
        return Err("has_role: the user holds none of these roles");
    }
    if when
        .lacks_role
        .as_ref()
        .is_some_and(|rs| rs.iter().all(|r| ev.roles.contains(r)))
    {
        return Err("lacks_role: the user holds all of these roles");
    }
    if !any_eq(&when.protocol, ev.protocol.as_deref(), false) {
        return Err("protocol does not match");
    }
    if let Some(not) = &when.not {
        match check_when(not, ev) {
            Ok(()) => return Err("not: the negated conditions hold"),
            Err(UNKNOWN) => unknown = true,
            Err(_) => {}
        }
    }
    if unknown {
        return Err(UNKNOWN);
    }
    Ok(())
}

fn evaluate(rule: &Rule, ev: &Event) -> RuleOutcome {
    let pending = ev.pending.iter().any(|p| p == &rule.name);
    let (matched, reason) = match check_when(&rule.when, ev) {
        Ok(()) => (true, "conditions hold"),
        // Fail closed: a deny rule that cannot be ruled out denies; any other rule does
        // not match (nothing is granted on a value nobody could read).
        Err(UNKNOWN) if rule.effects.deny.is_some() => (
            true,
            "deny: a condition could not be evaluated (fail closed)",
        ),
        // A rule whose provisioning failed at an earlier execution stays owed although
        // `first_login` no longer holds, and a registration-only rule is completed at the
        // next login (every registration effect is valid there). Every other condition
        // (verified email domain, roles...) must still hold, so a marker never widens who
        // is provisioned.
        Err(why) if pending => {
            let relaxed = When {
                first_login: None,
                trigger: if ev.trigger == Trigger::PostLogin {
                    None
                } else {
                    rule.when.trigger.clone()
                },
                ..rule.when.clone()
            };
            match check_when(&relaxed, ev) {
                Ok(()) => (true, "pending from an earlier login"),
                Err(_) => (false, why),
            }
        }
        Err(why) => (false, why),
    };
    RuleOutcome {
        name: rule.name.clone(),
        matched,
        reason,
    }
}

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
    for rule in &policy.rules {
        if stopped {
            d.rules.push(RuleOutcome {
                name: rule.name.clone(),
                matched: false,
                reason: "not evaluated: an earlier rule has stop",
            });
            continue;
        }
        let outcome = evaluate(rule, ev);
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
            if !done {
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
            for (k, v) in &e.set_app_metadata {
                upsert(&mut app_changes, k, v);
            }
            for (k, v) in &e.set_user_metadata {
                upsert(&mut user_changes, k, v);
            }
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
            stopped = rule.stop;
        }
        d.rules.push(outcome);
    }
    // Claims copy metadata as it will be after this execution.
    let app_after = merged(&ev.app_metadata, &app_changes);
    let user_after = merged(&ev.user_metadata, &user_changes);
    for (name, value) in claims {
        let v = match value {
            ClaimValue::Fixed(v) => Some(v),
            // A claim never carries a value that could not be read in full.
            ClaimValue::From(src) => match src.split_once('.') {
                _ if ev.unreadable.iter().any(|u| {
                    let full = ["user.", src.as_str()].concat();
                    is_under(u, &full) || is_under(&full, u)
                }) =>
                {
                    None
                }
                Some(("app_metadata", p)) => app_after.path(p).cloned(),
                Some((_, p)) => user_after.path(p).cloned(),
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
        || !d.permissions.is_empty()
        || !d.tickets.is_empty()
        || (registration
            && (!d.app_metadata.is_empty()
                || !d.user_metadata.is_empty()
                || !ev.pending.is_empty()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{parse_event, Trigger};
    use crate::core::policy::parse_policy;

    fn policy(s: &str) -> Policy {
        parse_policy(&serde_json::from_str(s).unwrap()).unwrap()
    }
    fn event_in(s: &str, t: Trigger) -> Event {
        parse_event(&serde_json::from_str(s).unwrap(), t).unwrap()
    }
    fn event(s: &str) -> Event {
        event_in(s, Trigger::PostLogin)
    }
    fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }
    const SEED: &str = r#"{"claims_namespace":"https://example.com/","rules":[
        {"name":"premium-for-google","when":{"provider":["google-oauth2"]},"assign_roles":["Premium User"]}]}"#;
    const RICH: &str = r#"{"user":{"user_id":"u","email":"a@example.com","email_verified":true,
        "app_metadata":{"plan":"pro","billing":{"tier":2}},"user_metadata":{"beta":true}},
        "connection":{"name":"corp","strategy":"samlp"},"client":{"client_id":"app1"},"stats":{"logins_count":3},
        "organization":{"id":"org_1","name":"acme"},"authorization":{"roles":["Admin"]},
        "transaction":{"protocol":"oidc-basic-profile"}}"#;

    fn google() -> Event {
        event(
            r#"{"user":{"user_id":"google-oauth2|1"},"connection":{"name":"google-oauth2","strategy":"google-oauth2"},"stats":{"logins_count":1}}"#,
        )
    }

    fn reason(when: &str, ev: &Event) -> &'static str {
        let p = policy(&format!(
            r#"{{"rules":[{{"name":"r","when":{when},"assign_roles":["X"]}}]}}"#
        ));
        decide(&p, ev).rules[0].reason
    }

    #[test]
    fn unreadable_metadata_makes_conditions_unknown_and_fails_closed() {
        let mut ev = google();
        ev.user_metadata = j(r#"{"blocked":true,"deep":{"n":null}}"#);
        ev.unreadable = vec!["user.user_metadata.deep.n".into()];
        let p = policy(
            r#"{"rules":[
            {"name":"on","when":{"user_metadata":{"deep.n.x":"v"}},"assign_roles":["A"]},
            {"name":"above","when":{"user_metadata":{"deep":{"exists":false}}},"assign_roles":["B"]},
            {"name":"not","when":{"not":{"user_metadata":{"deep.n":{"exists":true}}}},"assign_roles":["C"]},
            {"name":"false-wins","when":{"trigger":"post-login","provider":["samlp"],"user_metadata":{"deep.n":"v"}},"deny":"x"},
            {"name":"elsewhere","when":{"user_metadata":{"blocked":true}},"assign_roles":["D"]},
            {"name":"deny","when":{"trigger":"post-login","user_metadata":{"deep.n":"v"}},"deny":"fail closed"}]}"#,
        );
        let d = decide(&p, &ev);
        let got: Vec<(&str, bool, &str)> = d
            .rules
            .iter()
            .map(|r| (r.name.as_str(), r.matched, r.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                ("on", false, UNKNOWN),
                ("above", false, UNKNOWN),
                ("not", false, UNKNOWN),
                ("false-wins", false, "provider does not match"),
                ("elsewhere", true, "conditions hold"),
                (
                    "deny",
                    true,
                    "deny: a condition could not be evaluated (fail closed)"
                ),
            ]
        );
        assert_eq!(
            d.deny.as_ref().map(|(r, _)| r.as_str()),
            Some("fail closed")
        );
        // A claim is never copied from a value that could not be read in full.
        let p = policy(
            r#"{"claims_namespace":"https://e.com/","rules":[{"name":"c","when":{"trigger":"post-login"},
            "claims":{"https://e.com/d":{"from":"user_metadata.deep"},"https://e.com/b":{"from":"user_metadata.blocked"}}}]}"#,
        );
        let d = decide(&p, &ev);
        assert_eq!(
            d.claims,
            vec![("https://e.com/b".to_string(), Json::Bool(true))]
        );
    }

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
    fn every_condition_can_hold_and_fail() {
        let ev = event(RICH);
        let holds = r#"{"trigger":"post-login","provider":"SAMLP","connection":"corp","email_domain":"example.com",
            "email_verified":true,"client_id":"app1","first_login":false,"organization":"acme",
            "app_metadata":{"plan":"pro","billing.tier":2,"missing":{"exists":false}},"user_metadata":{"beta":{"exists":true}},
            "has_role":["Root","Admin"],"lacks_role":["Admin","Premium User"],"protocol":"oidc-basic-profile",
            "not":{"connection":"legacy"}}"#;
        assert_eq!(reason(holds, &ev), "conditions hold");
        let cases = [
            (
                r#"{"trigger":"post-user-registration"}"#,
                "trigger does not match",
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
                r#"{"email_verified":false}"#,
                "email_verified does not match",
            ),
            (
                r#"{"client_id":["app2","app3"]}"#,
                "client_id does not match",
            ),
            (r#"{"first_login":true}"#, "first_login does not match"),
            (r#"{"organization":"org_2"}"#, "organization does not match"),
            (
                r#"{"app_metadata":{"plan":"free"}}"#,
                "app_metadata does not match",
            ),
            (
                r#"{"app_metadata":{"billing.tier":"2"}}"#,
                "app_metadata does not match",
            ),
            (
                r#"{"app_metadata":{"plan":{"exists":false}}}"#,
                "app_metadata does not match",
            ),
            (
                r#"{"user_metadata":{"beta":false}}"#,
                "user_metadata does not match",
            ),
            (
                r#"{"has_role":"Premium User"}"#,
                "has_role: the user holds none of these roles",
            ),
            (
                r#"{"lacks_role":"Admin"}"#,
                "lacks_role: the user holds all of these roles",
            ),
            (
                r#"{"protocol":"oauth2-refresh-token"}"#,
                "protocol does not match",
            ),
            (
                r#"{"not":{"connection":"corp","client_id":"app1"}}"#,
                "not: the negated conditions hold",
            ),
        ];
        for (when, why) in cases {
            assert_eq!(reason(when, &ev), why, "{when}");
        }
    }

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

    #[test]
    fn a_registration_is_a_first_login() {
        let p = policy(
            r#"{"rules":[{"name":"new","when":{"first_login":true},"assign_roles":["N"]},
                                    {"name":"old","when":{"first_login":false},"assign_roles":["O"]}]}"#,
        );
        let d = decide(
            &p,
            &event_in(r#"{"user":{"user_id":"u"}}"#, Trigger::PostUserRegistration),
        );
        assert!(d.rules[0].matched && !d.rules[1].matched);
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
