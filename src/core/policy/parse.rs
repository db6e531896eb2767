//! Parsing a policy document: the top level and each rule, delegating `when` and the
//! effects to their own modules.

#[allow(unused_imports)]
use crate::prelude::*;

use super::effects::{parse_effects, EFFECT_KEYS};
use super::error::{index, join, Errors, PolicyError, PolicyErrorKind};
use super::namespace::check_namespace;
use super::organizations::check_public_domains;
use super::when::parse_when;
use super::{OnError, OrgRef, Policy, Rule, When};
use crate::core::event::Trigger;
use crate::core::json::Json;

/// Keys of the policy document (kept in sync with `pkg-scripts/policy.schema.json` by a test).
pub const TOP_KEYS: &[&str] = &["version", "claims_namespace", "on_error", "rules"];
/// Keys of a rule.
pub const RULE_KEYS: &[&str] = &[
    "name",
    "when",
    "stop",
    "retract",
    "allow_public_email_domains",
    "assign_roles",
    "remove_roles",
    "assign_permissions",
    "set_app_metadata",
    "set_user_metadata",
    "claims",
    "require_mfa",
    "password_reset_ticket",
    "mfa_enrollment_ticket",
    "deny",
    "join_organization",
    "organization_roles",
];

/// The `on_error` a policy asks for, read leniently so that even an invalid policy's
/// failure follows its author's intent: absent → allow; anything but "allow" → deny.
pub fn on_error_of(doc: &Json) -> OnError {
    match doc.get("on_error") {
        None | Some(Json::Null) => OnError::Allow,
        Some(v) if v.as_str() == Some("allow") => OnError::Allow,
        Some(_) => OnError::Deny,
    }
}

/// Validates and converts a parsed policy document; returns every error found.
pub fn parse_policy(doc: &Json) -> Result<Policy, Vec<PolicyError>> {
    let mut errs = Errors(Vec::new());
    if !matches!(doc, Json::Obj(_)) {
        errs.wrong_type("$", "a JSON object", doc);
        return Err(errs.0);
    }
    errs.unknown_keys("", doc, TOP_KEYS);
    match doc.get("version") {
        None | Some(Json::Null) => {}
        Some(Json::Num(n)) if *n == 1.0 => {}
        Some(_) => errs.add("version", PolicyErrorKind::UnsupportedVersion),
    }
    let claims_namespace = match doc.get("claims_namespace") {
        None | Some(Json::Null) => None,
        Some(Json::Str(ns)) => {
            if let Err(problem) = check_namespace(ns) {
                errs.add("claims_namespace", PolicyErrorKind::Namespace(problem));
            }
            Some(ns.clone())
        }
        Some(v) => {
            errs.wrong_type(
                "claims_namespace",
                "a string such as \"https://example.com/\"",
                v,
            );
            None
        }
    };
    let on_error = match doc.get("on_error") {
        None | Some(Json::Null) => OnError::Allow,
        Some(v) => match v.as_str() {
            Some("allow") => OnError::Allow,
            Some("deny") => OnError::Deny,
            _ => {
                errs.add(
                    "on_error",
                    PolicyErrorKind::Invalid {
                        expected: "\"allow\" or \"deny\"",
                    },
                );
                OnError::Deny
            }
        },
    };
    let mut rules: Vec<Rule> = Vec::new();
    match doc.get("rules") {
        Some(Json::Arr(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = index("rules", i);
                if let Some(rule) = parse_rule(&path, item, claims_namespace.as_deref(), &mut errs)
                {
                    if rules.iter().any(|r| r.name == rule.name) {
                        errs.add_at(&path, "name", PolicyErrorKind::DuplicateName);
                    }
                    rules.push(rule);
                }
            }
        }
        None => errs.add(
            "rules",
            PolicyErrorKind::Missing {
                expected: "a list of rules",
            },
        ),
        Some(v) => errs.wrong_type("rules", "a list of rules", v),
    }
    if errs.0.is_empty() {
        Ok(Policy {
            claims_namespace,
            on_error,
            rules,
        })
    } else {
        Err(errs.0)
    }
}

fn parse_rule(path: &str, item: &Json, ns: Option<&str>, errs: &mut Errors) -> Option<Rule> {
    if !matches!(item, Json::Obj(_)) {
        errs.wrong_type(path, "a rule object", item);
        return None;
    }
    errs.unknown_keys(path, item, RULE_KEYS);
    let name = match item.get("name") {
        Some(Json::Str(s)) if !s.trim().is_empty() => s.clone(),
        Some(v) => {
            errs.wrong_type_at(path, "name", "a non-empty string", v);
            String::new()
        }
        None => {
            errs.add_at(path, "name", PolicyErrorKind::MissingName);
            String::new()
        }
    };
    let when = match item.get("when") {
        None | Some(Json::Null) => When::default(),
        Some(w @ Json::Obj(_)) => parse_when(&join(path, "when"), w, errs),
        Some(v) => {
            errs.wrong_type_at(path, "when", "an object", v);
            When::default()
        }
    };
    let flag = |key: &str, errs: &mut Errors| match item.get(key) {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(v) => {
            errs.wrong_type_at(path, key, "true or false", v);
            false
        }
    };
    let stop = flag("stop", errs);
    let retract = flag("retract", errs);
    let allow_public_email_domains = flag("allow_public_email_domains", errs);
    let effects = parse_effects(path, item, ns, errs);
    if effects.organizations() && !allow_public_email_domains {
        check_public_domains(path, item, &when, errs);
    }
    if allow_public_email_domains && !effects.organizations() {
        errs.add_at(
            path,
            "allow_public_email_domains",
            PolicyErrorKind::Invalid {
                expected: "true only in a rule with join_organization or organization_roles",
            },
        );
    }
    if retract && effects.assign_roles.is_empty() && !effects.organizations() {
        errs.add_at(
            path, "retract",
            PolicyErrorKind::Invalid {
                expected: "true only in a rule with assign_roles, join_organization or organization_roles (it removes what the rule granted)",
            },
        );
    }
    // Every effect is read from one of these keys, so with none present the effects are
    // empty (no `Effects` comparison, whose derived `eq` is ~0.5 kB of wasm).
    if EFFECT_KEYS.iter().all(|k| item.get(k).is_none()) {
        debug_assert!(effects == super::Effects::default());
        errs.add(path, PolicyErrorKind::NoEffect);
    }
    let in_registration = when
        .trigger
        .as_ref()
        .is_none_or(|t| t.contains(&Trigger::PostUserRegistration));
    let current = effects
        .organization_roles
        .iter()
        .any(|o| o.organization == OrgRef::Current);
    if in_registration && current {
        let effect = "organization_roles";
        errs.add_at(path, effect, PolicyErrorKind::PostLoginOnly { effect });
    }
    if let (true, Some(effect)) = (in_registration, effects.post_login_only()) {
        errs.add_at(path, effect, PolicyErrorKind::PostLoginOnly { effect });
    }
    Some(Rule {
        name,
        when,
        effects,
        stop,
        retract,
        allow_public_email_domains,
    })
}

/// A string or a non-empty list of non-empty strings (`one_ok`: a bare string is allowed).
pub(super) fn string_list(
    path: &str,
    v: &Json,
    errs: &mut Errors,
    one_ok: bool,
) -> Option<Vec<String>> {
    match v {
        Json::Str(s) if one_ok && !s.is_empty() => Some(vec![s.clone()]),
        Json::Arr(items) if !items.is_empty() => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::Str(s) if !s.is_empty() => out.push(s.clone()),
                    other => errs.wrong_type(&index(path, i), "a non-empty string", other),
                }
            }
            Some(out)
        }
        Json::Arr(_) => {
            errs.add(
                path,
                PolicyErrorKind::Invalid {
                    expected: "at least one value",
                },
            );
            None
        }
        other => {
            let expected = if one_ok {
                "a string or a list of strings"
            } else {
                "a list of strings"
            };
            errs.wrong_type(path, expected, other);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{doc, kinds};
    use super::super::*;
    use super::*;

    #[test]
    fn parses_the_seed_policy() {
        let p = parse_policy(&doc(
            r#"{"claims_namespace":"https://example.com/","on_error":"allow","rules":[
              {"name":"premium-for-google","when":{"provider":["google-oauth2"]},"assign_roles":["Premium User","rol_42"]}]}"#,
        ))
        .unwrap();
        assert_eq!(p.on_error, OnError::Allow);
        assert_eq!(p.claims_namespace.as_deref(), Some("https://example.com/"));
        let r = &p.rules[0];
        assert_eq!(r.when.provider, Some(vec!["google-oauth2".to_string()]));
        assert_eq!(
            r.effects.assign_roles,
            vec![
                RoleRef::Name("Premium User".into()),
                RoleRef::Id("rol_42".into())
            ]
        );
    }

    #[test]
    fn every_error_names_its_path() {
        use PolicyErrorKind as K;
        let wrong = |expected, got| K::WrongType { expected, got };
        let errs = kinds(
            r#"{"on_error":"block","claims_namespace":"roles","extra":1,"rules":[
                 {"name":"a","when":{"provider":5,"colour":"red","first_login":"yes"},"assign_roles":[""]},
                 {"name":"a","assign_roles":"Premium"},
                 {"when":{}},
                 7]}"#,
        );
        let want = [
            ("extra", K::UnknownKey { allowed: TOP_KEYS }),
            ("claims_namespace", K::Namespace(NamespaceProblem::NotUrl)),
            (
                "on_error",
                K::Invalid {
                    expected: "\"allow\" or \"deny\"",
                },
            ),
            ("rules[0].when.colour", K::UnknownKey { allowed: WHEN_KEYS }),
            (
                "rules[0].when.provider",
                wrong("a string or a list of strings", "a number"),
            ),
            (
                "rules[0].when.first_login",
                wrong("true or false", "a string"),
            ),
            (
                "rules[0].assign_roles[0]",
                wrong("a non-empty string", "a string"),
            ),
            (
                "rules[1].assign_roles",
                wrong("a list of strings", "a string"),
            ),
            ("rules[1].name", K::DuplicateName),
            ("rules[2].name", K::MissingName),
            ("rules[2]", K::NoEffect),
            ("rules[3]", wrong("a rule object", "a number")),
        ];
        for (path, kind) in &want {
            assert!(
                errs.iter().any(|(p, k)| p == path && k == kind),
                "missing {path}: {kind:?} in {errs:#?}"
            );
        }
        assert_eq!(errs.len(), want.len(), "{errs:#?}");
    }

    #[test]
    fn rejects_restricted_namespaces_and_non_objects() {
        use PolicyErrorKind as K;
        let first = |s: &str| kinds(s).remove(0);
        assert_eq!(
            first(r#"{"claims_namespace":"https://x.auth0.com/","rules":[]}"#).1,
            K::Namespace(NamespaceProblem::Restricted)
        );
        let not_object = K::WrongType {
            expected: "a JSON object",
            got: "an array",
        };
        assert_eq!(first("[1]"), ("$".into(), not_object));
        let not_list = K::WrongType {
            expected: "a list of rules",
            got: "an object",
        };
        assert_eq!(first(r#"{"rules":{}}"#), ("rules".into(), not_list));
        let missing = K::Missing {
            expected: "a list of rules",
        };
        assert_eq!(first(r#"{}"#), ("rules".into(), missing));
        assert_eq!(
            first(r#"{"version":2,"rules":[]}"#),
            ("version".into(), K::UnsupportedVersion)
        );
    }

    #[test]
    fn a_rule_is_a_name_when_stop_and_retract_plus_its_effects() {
        let flags = [
            "name",
            "when",
            "stop",
            "retract",
            "allow_public_email_domains",
        ];
        assert_eq!(RULE_KEYS[..5], flags);
        assert_eq!(RULE_KEYS[5..], *EFFECT_KEYS);
    }

    #[test]
    fn on_error_is_read_even_from_invalid_policies() {
        assert_eq!(
            on_error_of(&doc(r#"{"on_error":"deny","rules":5}"#)),
            OnError::Deny
        );
        assert_eq!(on_error_of(&doc(r#"{"rules":5}"#)), OnError::Allow);
        assert_eq!(on_error_of(&doc(r#"{"on_error":"Deny"}"#)), OnError::Deny);
        assert_eq!(on_error_of(&doc("3")), OnError::Allow);
    }
}
