//! Parsing a rule's `when`: the conditions it matches on.

use crate::core::text::{split_byte, trim_start_byte};
#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{index, join, Errors, PolicyErrorKind};
use super::parse::string_list;
use super::{Expect, When};
use crate::core::event::Trigger;
use crate::core::json::Json;

/// Keys of a `when`.
pub const WHEN_KEYS: &[&str] = &[
    "trigger",
    "provider",
    "connection",
    "email_domain",
    "email_verified",
    "client_id",
    "first_login",
    "organization",
    "app_metadata",
    "user_metadata",
    "has_role",
    "lacks_role",
    "protocol",
    "not",
];

pub(super) fn parse_when(path: &str, w: &Json, errs: &mut Errors) -> When {
    errs.unknown_keys(path, w, WHEN_KEYS);
    let list = |key: &str, errs: &mut Errors| {
        w.get(key)
            .filter(|v| !v.is_null())
            .and_then(|v| string_list(&join(path, key), v, errs, true))
    };
    let flag = |key: &str, errs: &mut Errors| match w.get(key) {
        None | Some(Json::Null) => None,
        Some(Json::Bool(b)) => Some(*b),
        Some(v) => {
            errs.wrong_type_at(path, key, "true or false", v);
            None
        }
    };
    let trigger = list("trigger", errs).map(|ts| {
        ts.iter()
            .filter_map(|t| {
                let parsed = Trigger::from_id(t);
                if parsed.is_none() {
                    errs.add_at(
                        path,
                        "trigger",
                        PolicyErrorKind::Invalid {
                            expected: "\"post-login\" or \"post-user-registration\"",
                        },
                    );
                }
                parsed
            })
            .collect()
    });
    let email_domain = list("email_domain", errs).map(|ds| {
        ds.iter()
            .map(|d| trim_start_byte(d, b'@').to_ascii_lowercase())
            .collect::<Vec<_>>()
    });
    if let Some(ds) = &email_domain {
        for (i, d) in ds.iter().enumerate() {
            if d.is_empty() || d.contains('@') || d.contains(char::is_whitespace) {
                errs.add(
                    &index(&join(path, "email_domain"), i),
                    PolicyErrorKind::Invalid {
                        expected: "a domain such as example.com",
                    },
                );
            }
        }
    }
    let not = match w.get("not") {
        None | Some(Json::Null) => None,
        Some(n @ Json::Obj(_)) => Some(Box::new(parse_when(&join(path, "not"), n, errs))),
        Some(v) => {
            errs.wrong_type_at(path, "not", "a nested when object", v);
            None
        }
    };
    When {
        trigger,
        provider: list("provider", errs),
        connection: list("connection", errs),
        email_domain,
        email_verified: flag("email_verified", errs),
        client_id: list("client_id", errs),
        first_login: flag("first_login", errs),
        organization: list("organization", errs),
        app_metadata: metadata_conditions(&join(path, "app_metadata"), w.get("app_metadata"), errs),
        user_metadata: metadata_conditions(
            &join(path, "user_metadata"),
            w.get("user_metadata"),
            errs,
        ),
        has_role: list("has_role", errs),
        lacks_role: list("lacks_role", errs),
        protocol: list("protocol", errs),
        not,
    }
}

fn metadata_conditions(path: &str, v: Option<&Json>, errs: &mut Errors) -> Vec<(String, Expect)> {
    match v {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Obj(members)) if !members.is_empty() => members
            .iter()
            .filter_map(|(k, v)| {
                if k.is_empty() || split_byte(k, b'.').any(str::is_empty) {
                    errs.add_at(
                        path,
                        k,
                        PolicyErrorKind::Invalid {
                            expected: "a dotted path such as plan or billing.tier",
                        },
                    );
                    return None;
                }
                let exists = match v {
                    Json::Obj(m) if m.len() == 1 && m[0].0 == "exists" => Some(&m[0].1),
                    _ => None,
                };
                match exists {
                    Some(Json::Bool(b)) => Some((k.clone(), Expect::Exists(*b))),
                    Some(other) => {
                        errs.wrong_type(&join(&join(path, k), "exists"), "true or false", other);
                        None
                    }
                    None => Some((k.clone(), Expect::Equals(v.clone()))),
                }
            })
            .collect(),
        Some(v) => {
            errs.wrong_type(
                path,
                "an object of dotted paths to values or {\"exists\": bool}",
                v,
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{doc, kinds};
    use super::super::*;
    use crate::core::event::Trigger;
    use crate::core::json::Json;
    use PolicyErrorKind as K;

    #[test]
    fn parses_every_condition_and_effect() {
        let p = parse_policy(&doc(
            r#"{"claims_namespace":"https://example.com/","rules":[{
              "name":"all","stop":true,
              "when":{"trigger":"post-login","provider":"auth0","connection":["db"],"email_domain":"@Example.COM",
                      "email_verified":true,"client_id":"app","first_login":false,"organization":["org_1","acme"],
                      "app_metadata":{"plan":"pro","billing.tier":{"exists":true}},"user_metadata":{"beta":true},
                      "has_role":"Admin","lacks_role":["Premium User"],"protocol":"oidc-basic-profile",
                      "not":{"connection":"legacy"}},
              "assign_roles":["A"],"remove_roles":["rol_B"],
              "assign_permissions":[{"resource_server_identifier":"https://api/","permission_name":"read:x"}],
              "set_app_metadata":{"plan":"pro","old":null},"set_user_metadata":{"theme":"dark"},
              "claims":{"plan":{"from":"app_metadata.plan"},"https://other.example/tier":3,"fixed":{"a":1}},
              "require_mfa":{"provider":"duo","allow_remember_browser":true},
              "password_reset_ticket":{"store":"app_metadata.invite_url","result_url":"https://app/welcome","ttl_sec":86400},
              "mfa_enrollment_ticket":{"store":"log"},
              "deny":"Not today"}]}"#,
        ))
        .unwrap();
        let r = &p.rules[0];
        assert!(r.stop);
        let w = &r.when;
        assert_eq!(w.trigger, Some(vec![Trigger::PostLogin]));
        assert_eq!(w.email_domain, Some(vec!["example.com".to_string()]));
        assert_eq!(w.email_verified, Some(true));
        assert_eq!(w.organization.as_ref().map(Vec::len), Some(2));
        assert_eq!(
            w.app_metadata[1],
            ("billing.tier".to_string(), Expect::Exists(true))
        );
        assert_eq!(
            w.user_metadata[0],
            ("beta".to_string(), Expect::Equals(Json::Bool(true)))
        );
        assert_eq!(
            w.not.as_ref().unwrap().connection,
            Some(vec!["legacy".to_string()])
        );
        let e = &r.effects;
        assert_eq!(e.remove_roles, vec![RoleRef::Id("rol_B".into())]);
        assert_eq!(e.assign_permissions[0].permission_name, "read:x");
        assert_eq!(e.set_app_metadata[1], ("old".to_string(), Json::Null));
        assert_eq!(
            e.claims[0],
            (
                "https://example.com/plan".to_string(),
                ClaimValue::From("app_metadata.plan".into())
            )
        );
        assert_eq!(e.claims[1].0, "https://other.example/tier");
        assert_eq!(
            e.require_mfa,
            Some(Mfa {
                provider: "duo".into(),
                allow_remember_browser: true
            })
        );
        assert_eq!(e.tickets.len(), 2);
        assert_eq!(e.tickets[0].store_key.as_deref(), Some("invite_url"));
        assert_eq!(
            e.tickets[1],
            Ticket {
                kind: TicketKind::MfaEnrollment,
                store_key: None,
                result_url: None,
                ttl_sec: None
            }
        );
        assert_eq!(e.deny.as_deref(), Some("Not today"));
    }

    #[test]
    fn condition_errors_name_their_path() {
        let wrong = |expected, got| K::WrongType { expected, got };
        let invalid = |expected| K::Invalid { expected };
        let cases = [
            (
                r#"{"name":"r","when":{"trigger":"login"},"assign_roles":["A"]}"#,
                "rules[0].when.trigger",
                invalid("\"post-login\" or \"post-user-registration\""),
            ),
            (
                r#"{"name":"r","when":{"app_metadata":{"a..b":1}},"assign_roles":["A"]}"#,
                "rules[0].when.app_metadata.a..b",
                invalid("a dotted path such as plan or billing.tier"),
            ),
            (
                r#"{"name":"r","when":{"user_metadata":{"a":{"exists":"yes"}}},"assign_roles":["A"]}"#,
                "rules[0].when.user_metadata.a.exists",
                wrong("true or false", "a string"),
            ),
            (
                r#"{"name":"r","when":{"not":"x"},"assign_roles":["A"]}"#,
                "rules[0].when.not",
                wrong("a nested when object", "a string"),
            ),
            (
                r#"{"name":"r","when":{"not":{"bogus":1}},"assign_roles":["A"]}"#,
                "rules[0].when.not.bogus",
                K::UnknownKey { allowed: WHEN_KEYS },
            ),
        ];
        for (rule, path, kind) in cases {
            let errs = kinds(&format!(r#"{{"rules":[{rule}]}}"#));
            assert!(
                errs.iter().any(|(p, k)| p == path && *k == kind),
                "{rule}: missing {path}: {kind:?} in {errs:#?}"
            );
        }
    }
}
