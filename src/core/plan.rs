//! The decision: event + policy in, a plan of effects out. Pure: no I/O, so every branch is
//! testable with `cargo test`, and `explain` can print a plan without sending anything.

use super::event::{Event, Trigger};
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

fn metadata_holds(conds: &[(String, Expect)], meta: &Json) -> bool {
    conds.iter().all(|(path, expect)| {
        let v = meta.path(path).filter(|v| !v.is_null());
        match expect {
            Expect::Exists(b) => v.is_some() == *b,
            Expect::Equals(want) => {
                v.is_some_and(|v| same(v, want)) || (want.is_null() && v.is_none())
            }
        }
    })
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
    if when
        .first_login
        .is_some_and(|first| (ev.logins_count == Some(1.0)) != first)
    {
        return Err("first_login does not match");
    }
    if let Some(orgs) = &when.organization {
        if !orgs.iter().any(|o| ev.organization.contains(o)) {
            return Err("organization does not match");
        }
    }
    if !metadata_holds(&when.app_metadata, &ev.app_metadata) {
        return Err("app_metadata does not match");
    }
    if !metadata_holds(&when.user_metadata, &ev.user_metadata) {
        return Err("user_metadata does not match");
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
        if check_when(not, ev).is_ok() {
            return Err("not: the negated conditions hold");
        }
    }
    Ok(())
}

fn evaluate(rule: &Rule, ev: &Event) -> RuleOutcome {
    let triggers_ok = rule
        .when
        .trigger
        .as_ref()
        .is_none_or(|t| t.contains(&ev.trigger));
    let (matched, reason) = match check_when(&rule.when, ev) {
        Ok(()) => (true, "conditions hold"),
        // A rule that matched at an earlier login whose provisioning failed stays owed, even
        // when a condition such as first_login no longer holds (but never in a trigger the
        // rule does not run in).
        Err(_) if triggers_ok && ev.pending.iter().any(|p| p == &rule.name) => {
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
            ClaimValue::From(src) => match src.split_once('.') {
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

/// Whether this trigger can run the plan's effects through `api` alone (post-login) or
/// needs the Management API for metadata (post-user-registration has no `api.user`).
pub fn metadata_via_api(trigger: Trigger) -> bool {
    trigger == Trigger::PostLogin
}
