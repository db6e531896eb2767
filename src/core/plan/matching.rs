//! Whether a rule's conditions hold for an event, and why not.

use crate::core::text::cat;
#[allow(unused_imports)]
use crate::prelude::*;

use super::RuleOutcome;
use crate::core::event::{is_under, Event, Trigger};
use crate::core::json::{same, Json};
use crate::core::policy::{Expect, Rule, When};

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
pub(super) fn unreadable_at(ev: &Event, root: &str, path: &str) -> bool {
    let full = cat(&[root, ".", path]);
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

/// What a rule is held to: every condition, or (a pending rule, see [`evaluate`]) not
/// `first_login` any more and, in post-login, not its trigger (a registration-only rule is
/// completed at the next login). Only the rule's own `when`: a `not` inside is held in full.
#[derive(Clone, Copy)]
struct Held {
    trigger: bool,
    first_login: bool,
}

/// Every condition.
const IN_FULL: Held = Held {
    trigger: true,
    first_login: true,
};

/// A pending rule's conditions at `ev`.
fn pending_at(ev: &Event) -> Held {
    Held {
        trigger: ev.trigger != Trigger::PostLogin,
        first_login: false,
    }
}

/// `Ok(())` when every condition holds, else the first one that does not.
pub fn check_when(when: &When, ev: &Event) -> Result<(), &'static str> {
    check_held(when, ev, IN_FULL)
}

/// [`check_when`] for the conditions `held` keeps.
fn check_held(when: &When, ev: &Event, held: Held) -> Result<(), &'static str> {
    if held.trigger
        && when
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
    if held.first_login && when.first_login.is_some_and(|first| first_session != first) {
        return Err("first_login does not match");
    }
    if let Some(orgs) = &when.organization {
        if !orgs
            .iter()
            .any(|o| ev.organization.iter().flatten().any(|e| e == o))
        {
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

/// Why a rule is skipped offline: a condition only a login has.
pub const OFFLINE_LOGIN_ONLY: &str = "not evaluable offline: a condition exists only at login (trigger, client_id, protocol, first_login or organization)";
/// Why a rule is skipped offline: the user's identities disagree on the login connection.
pub const OFFLINE_CONNECTION: &str = "not evaluable offline: the user has several identities and the rule reads provider or connection";
/// Why a rule is skipped offline: an earlier rule with `stop` could not be evaluated.
pub const OFFLINE_AFTER_STOP: &str =
    "not evaluable offline: an earlier rule with stop is not evaluable";

/// Whether `reason` says a rule was skipped offline (never guessed). Never in the Action's
/// build, which has no offline events (`Event::offline`).
pub fn not_evaluable(reason: &str) -> bool {
    !cfg!(feature = "bare") && reason.starts_with("not evaluable offline")
}

/// Whether `when`, as `held`, reads something only a login has (a snapshot cannot tell).
fn login_only(when: &When, held: Held) -> bool {
    (held.trigger
        && when
            .trigger
            .as_ref()
            .is_some_and(|t| !t.contains(&Trigger::PostLogin)))
        || when.client_id.is_some()
        || when.protocol.is_some()
        || (held.first_login && when.first_login.is_some())
        || when.organization.is_some()
        || when.not.as_deref().is_some_and(|n| login_only(n, IN_FULL))
}

fn reads_connection(when: &When) -> bool {
    when.provider.is_some()
        || when.connection.is_some()
        || when.not.as_deref().is_some_and(reads_connection)
}

pub(super) fn evaluate(rule: &Rule, ev: &Event) -> RuleOutcome {
    let pending = ev.pending.iter().any(|p| p == &rule.name);
    if let Some(o) = ev.offline() {
        let when = &rule.when;
        let held = if pending { pending_at(ev) } else { IN_FULL };
        let skip = if login_only(when, held) {
            Some(OFFLINE_LOGIN_ONLY)
        } else if o.ambiguous_connection && reads_connection(when) {
            Some(OFFLINE_CONNECTION)
        } else {
            None
        };
        if let Some(reason) = skip {
            return RuleOutcome {
                name: rule.name.clone(),
                matched: false,
                reason,
            };
        }
    }
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
        Err(why) if pending => match check_held(&rule.when, ev, pending_at(ev)) {
            Ok(()) => (true, "pending from an earlier login"),
            Err(_) => (false, why),
        },
        Err(why) => (false, why),
    };
    RuleOutcome {
        name: rule.name.clone(),
        matched,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;
    use super::*;

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
}
