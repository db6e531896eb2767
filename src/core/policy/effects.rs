//! Parsing a rule's effects: what it does when it matches.

use crate::core::text::cat;
#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{index, join, Errors, PolicyErrorKind};
use super::namespace::claim_host;
use super::organizations::{parse_join, parse_org_roles};
use super::parse::string_list;
use super::{ClaimValue, Effects, Mfa, Permission, RoleRef, Ticket, TicketKind};
use crate::core::event::is_marker;
use crate::core::json::Json;

/// Keys of a rule that are effects (a rule needs at least one).
pub const EFFECT_KEYS: &[&str] = &[
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
/// Keys of a ticket effect.
pub const TICKET_KEYS: &[&str] = &["store", "result_url", "ttl_sec"];
/// Keys of `require_mfa` when it is an object.
pub const MFA_KEYS: &[&str] = &["provider", "allow_remember_browser"];
/// Keys of a permission.
pub const PERMISSION_KEYS: &[&str] = &["resource_server_identifier", "permission_name"];

pub(super) fn parse_effects(
    path: &str,
    item: &Json,
    ns: Option<&str>,
    errs: &mut Errors,
) -> Effects {
    let roles = |key: &str, errs: &mut Errors| {
        item.get(key)
            .filter(|v| !v.is_null())
            .and_then(|v| string_list(&join(path, key), v, errs, false))
            .map(|l| l.iter().map(|s| RoleRef::parse(s)).collect())
            .unwrap_or_default()
    };
    let assign_roles = roles("assign_roles", errs);
    let remove_roles = roles("remove_roles", errs);
    let assign_permissions = match item.get("assign_permissions") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Arr(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                parse_permission(&index(&join(path, "assign_permissions"), i), p, errs)
            })
            .collect(),
        Some(v) => {
            errs.wrong_type_at(
                path,
                "assign_permissions",
                "a non-empty list of {resource_server_identifier, permission_name}",
                v,
            );
            Vec::new()
        }
    };
    let set_app_metadata = metadata_changes(
        &join(path, "set_app_metadata"),
        item.get("set_app_metadata"),
        errs,
    );
    let set_user_metadata = metadata_changes(
        &join(path, "set_user_metadata"),
        item.get("set_user_metadata"),
        errs,
    );
    let claims = parse_claims(&join(path, "claims"), item.get("claims"), ns, errs);
    let require_mfa = parse_mfa(&join(path, "require_mfa"), item.get("require_mfa"), errs);
    let mut tickets = Vec::new();
    for (key, kind) in [
        ("password_reset_ticket", TicketKind::PasswordReset),
        ("mfa_enrollment_ticket", TicketKind::MfaEnrollment),
    ] {
        if let Some(t) = parse_ticket(&join(path, key), item.get(key), kind, errs) {
            tickets.push(t);
        }
    }
    let deny = match item.get("deny") {
        None | Some(Json::Null) | Some(Json::Bool(false)) => None,
        Some(Json::Bool(true)) => Some("Access denied.".to_owned()),
        Some(Json::Str(s)) if !s.trim().is_empty() && s.len() <= 200 => Some(s.clone()),
        Some(v) => {
            errs.wrong_type_at(path, "deny", "true or a reason of 1 to 200 characters", v);
            None
        }
    };
    let join_organizations = parse_join(
        &join(path, "join_organization"),
        item.get("join_organization"),
        errs,
    );
    let organization_roles = parse_org_roles(
        &join(path, "organization_roles"),
        item.get("organization_roles"),
        errs,
    );
    Effects {
        join_organizations,
        organization_roles,
        assign_roles,
        remove_roles,
        assign_permissions,
        set_app_metadata,
        set_user_metadata,
        claims,
        require_mfa,
        tickets,
        deny,
    }
}

fn parse_permission(path: &str, v: &Json, errs: &mut Errors) -> Option<Permission> {
    if !matches!(v, Json::Obj(_)) {
        errs.wrong_type(path, "{resource_server_identifier, permission_name}", v);
        return None;
    }
    errs.unknown_keys(path, v, PERMISSION_KEYS);
    let field = |k: &str, errs: &mut Errors| match v.get(k) {
        Some(Json::Str(s)) if !s.is_empty() => Some(s.clone()),
        other => {
            errs.wrong_type_at(path, k, "a non-empty string", other.unwrap_or(&Json::Null));
            None
        }
    };
    let rs = field("resource_server_identifier", errs);
    let name = field("permission_name", errs);
    Some(Permission {
        resource_server_identifier: rs?,
        permission_name: name?,
    })
}

fn metadata_changes(path: &str, v: Option<&Json>, errs: &mut Errors) -> Vec<(String, Json)> {
    match v {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Obj(members)) if !members.is_empty() => {
            for (k, _) in members {
                if k.is_empty() || is_marker(k) {
                    errs.add_at(path, k, PolicyErrorKind::ReservedKey);
                }
            }
            members.clone()
        }
        Some(v) => {
            errs.wrong_type(
                path,
                "a non-empty object of first-level keys (null deletes a key)",
                v,
            );
            Vec::new()
        }
    }
}

fn parse_claims(
    path: &str,
    v: Option<&Json>,
    ns: Option<&str>,
    errs: &mut Errors,
) -> Vec<(String, ClaimValue)> {
    let members = match v {
        None | Some(Json::Null) => return Vec::new(),
        Some(Json::Obj(m)) if !m.is_empty() => m,
        Some(v) => {
            errs.wrong_type(path, "a non-empty object of claim names to values", v);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (k, value) in members {
        let p = join(path, k);
        let full = if k.starts_with("https://") || k.starts_with("http://") {
            if let Err(problem) = claim_host(k) {
                errs.add(&p, PolicyErrorKind::Namespace(problem));
            }
            k.clone()
        } else if let Some(ns) = ns {
            cat(&[ns, k])
        } else {
            errs.add(&p, PolicyErrorKind::ClaimWithoutNamespace);
            continue;
        };
        // Set after the policy's claims, it would silently overwrite this one.
        if ns.is_some_and(|ns| full == cat(&[ns, "roles"])) {
            errs.add(&p, PolicyErrorKind::RolesClaim);
        }
        let from = match value {
            Json::Obj(m) if m.len() == 1 && m[0].0 == "from" => Some(&m[0].1),
            _ => None,
        };
        let cv = match from {
            Some(Json::Str(src))
                if src.starts_with("app_metadata.")
                    || src.starts_with("user_metadata.")
                    || src == "organization.id"
                    || src == "organization.name" =>
            {
                ClaimValue::From(src.clone())
            }
            Some(_) => {
                errs.add_at(
                    &p,
                    "from",
                    PolicyErrorKind::Invalid {
                        expected: "\"app_metadata.<path>\", \"user_metadata.<path>\", \"organization.id\" or \"organization.name\"",
                    },
                );
                continue;
            }
            None => ClaimValue::Fixed(value.clone()),
        };
        out.push((full, cv));
    }
    out
}

fn parse_mfa(path: &str, v: Option<&Json>, errs: &mut Errors) -> Option<Mfa> {
    let mut mfa = Mfa {
        provider: "any".into(),
        allow_remember_browser: false,
    };
    match v {
        None | Some(Json::Null) | Some(Json::Bool(false)) => return None,
        Some(Json::Bool(true)) => {}
        Some(o @ Json::Obj(_)) => {
            errs.unknown_keys(path, o, MFA_KEYS);
            match o.get("provider") {
                None => {}
                Some(Json::Str(p)) if !p.is_empty() => mfa.provider = p.clone(),
                Some(v) => {
                    errs.wrong_type_at(path, "provider", "a provider such as \"any\" or \"duo\"", v)
                }
            }
            match o.get("allow_remember_browser") {
                None => {}
                Some(Json::Bool(b)) => mfa.allow_remember_browser = *b,
                Some(v) => errs.wrong_type_at(path, "allow_remember_browser", "true or false", v),
            }
        }
        Some(v) => {
            errs.wrong_type(path, "true or {provider, allow_remember_browser}", v);
            return None;
        }
    }
    Some(mfa)
}

fn parse_ticket(
    path: &str,
    v: Option<&Json>,
    kind: TicketKind,
    errs: &mut Errors,
) -> Option<Ticket> {
    let o = match v {
        None | Some(Json::Null) | Some(Json::Bool(false)) => return None,
        Some(o @ Json::Obj(_)) => o,
        Some(v) => {
            errs.wrong_type(
                path,
                "{\"store\": \"app_metadata.<key>\" | \"log\", ...}",
                v,
            );
            return None;
        }
    };
    errs.unknown_keys(path, o, TICKET_KEYS);
    let store_key = match o.get("store").and_then(Json::as_str) {
        Some("log") => None,
        Some(s) => match s.strip_prefix("app_metadata.") {
            Some(k) if !k.is_empty() && !k.contains('.') && !is_marker(k) => Some(k.to_owned()),
            _ => {
                errs.add_at(
                    path,
                    "store",
                    PolicyErrorKind::Invalid {
                        expected: "\"log\" or \"app_metadata.<first-level key>\"",
                    },
                );
                None
            }
        },
        None => {
            errs.add_at(
                path,
                "store",
                PolicyErrorKind::Missing {
                    expected: "\"log\" or \"app_metadata.<key>\" (tickets never go into tokens)",
                },
            );
            None
        }
    };
    let result_url = match o.get("result_url") {
        None => None,
        Some(Json::Str(u)) if kind == TicketKind::PasswordReset && u.starts_with("https://") => {
            Some(u.clone())
        }
        Some(_) => {
            errs.add_at(
                path,
                "result_url",
                PolicyErrorKind::Invalid {
                    expected: "an https:// URL (password reset tickets only)",
                },
            );
            None
        }
    };
    let ttl_sec = match o.get("ttl_sec") {
        None => None,
        Some(Json::Num(n)) if *n >= 0.0 && *n <= 2_592_000.0 && f64::from(*n as u32) == *n => {
            Some(*n as u32)
        }
        Some(v) => {
            errs.wrong_type_at(path, "ttl_sec", "whole seconds (0 to 2592000)", v);
            None
        }
    };
    Some(Ticket {
        kind,
        store_key,
        result_url,
        ttl_sec,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::kinds;
    use super::super::PolicyErrorKind as K;

    #[test]
    fn effect_errors_name_their_path() {
        let wrong = |expected, got| K::WrongType { expected, got };
        let invalid = |expected| K::Invalid { expected };
        let cases = [
            (
                r#"{"name":"r","deny":"x"}"#,
                "rules[0].deny",
                K::PostLoginOnly { effect: "deny" },
            ),
            (
                r#"{"name":"r","when":{"trigger":["post-login","post-user-registration"]},"require_mfa":true}"#,
                "rules[0].require_mfa",
                K::PostLoginOnly {
                    effect: "require_mfa",
                },
            ),
            (
                r#"{"name":"r","when":{"trigger":"post-login"},"claims":{"x":1}}"#,
                "rules[0].claims.x",
                K::ClaimWithoutNamespace,
            ),
            (
                r#"{"name":"r","set_app_metadata":{"provisioning_pending":1}}"#,
                "rules[0].set_app_metadata.provisioning_pending",
                K::ReservedKey,
            ),
            (
                r#"{"name":"r","set_user_metadata":[]}"#,
                "rules[0].set_user_metadata",
                wrong(
                    "a non-empty object of first-level keys (null deletes a key)",
                    "an array",
                ),
            ),
            (
                r#"{"name":"r","assign_permissions":[{"permission_name":"x"}]}"#,
                "rules[0].assign_permissions[0].resource_server_identifier",
                wrong("a non-empty string", "null"),
            ),
            (
                r#"{"name":"r","password_reset_ticket":{"store":"id_token"}}"#,
                "rules[0].password_reset_ticket.store",
                invalid("\"log\" or \"app_metadata.<first-level key>\""),
            ),
            (
                r#"{"name":"r","mfa_enrollment_ticket":{}}"#,
                "rules[0].mfa_enrollment_ticket.store",
                K::Missing {
                    expected: "\"log\" or \"app_metadata.<key>\" (tickets never go into tokens)",
                },
            ),
            (
                r#"{"name":"r","mfa_enrollment_ticket":{"store":"log","result_url":"https://x"}}"#,
                "rules[0].mfa_enrollment_ticket.result_url",
                invalid("an https:// URL (password reset tickets only)"),
            ),
            (
                r#"{"name":"r","stop":1,"assign_roles":["A"]}"#,
                "rules[0].stop",
                wrong("true or false", "a number"),
            ),
            (
                r#"{"name":"r","when":{"trigger":"post-login"},"deny":""}"#,
                "rules[0].deny",
                wrong("true or a reason of 1 to 200 characters", "a string"),
            ),
        ];
        for (rule, path, kind) in cases {
            let errs = kinds(&format!(r#"{{"rules":[{rule}]}}"#));
            assert!(
                errs.iter().any(|(p, k)| p == path && *k == kind),
                "{rule}: missing {path}: {kind:?} in {errs:#?}"
            );
        }
        let errs = kinds(
            r#"{"claims_namespace":"https://e.com/","rules":[{"name":"r","when":{"trigger":"post-login"},"claims":{"roles":1}}]}"#,
        );
        assert_eq!(errs, [("rules[0].claims.roles".into(), K::RolesClaim)]);
    }
}
