//! Parsing a rule's `when`: the conditions it matches on.

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
            errs.wrong_type(&join(path, key), "true or false", v);
            None
        }
    };
    let trigger = list("trigger", errs).map(|ts| {
        ts.iter()
            .filter_map(|t| {
                let parsed = Trigger::from_id(t);
                if parsed.is_none() {
                    errs.add(
                        &join(path, "trigger"),
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
            .map(|d| d.trim_start_matches('@').to_ascii_lowercase())
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
            errs.wrong_type(&join(path, "not"), "a nested when object", v);
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
                if k.is_empty() || k.split('.').any(str::is_empty) {
                    errs.add(
                        &join(path, k),
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
