//! Organization effects (`join_organization`, `organization_roles`) and their guardrail: a
//! rule that grants organization access on the strength of an email domain must not name a
//! public email provider, where anyone can have an address.

use crate::core::text::split_once_byte;
#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{index, join, Errors, PolicyErrorKind};
use super::parse::string_list;
use super::{RoleRef, When};
use crate::core::json::Json;

/// An organization named in a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgRef {
    /// An organization name (`GET /organizations/name/{name}` resolves it).
    Name(String),
    /// An organization id such as `org_123`.
    Id(String),
    /// `$current`: the organization of this login (post-login, `event.organization`).
    Current,
}

impl OrgRef {
    /// Classifies a policy string: ids start with `org_`, `$current` is the login's one.
    pub fn parse(s: &str) -> OrgRef {
        if s == CURRENT {
            OrgRef::Current
        } else if s.starts_with("org_") {
            OrgRef::Id(s.to_owned())
        } else {
            OrgRef::Name(s.to_owned())
        }
    }
}

/// `organization_roles`: roles to give the user in one organization (membership implied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRoles {
    /// The organization.
    pub organization: OrgRef,
    /// The roles, by name or id.
    pub roles: Vec<RoleRef>,
}

/// The policy's word for the login's organization.
pub const CURRENT: &str = "$current";
/// Keys of one `organization_roles` entry.
pub const ORG_ROLES_KEYS: &[&str] = &["organization", "roles"];

/// Domains of public email providers (anyone can sign up there), plus provider families
/// matched under any top-level domain (`gmx.*`, `yahoo.*`…). Hand-compiled from the issue's
/// list and the large free-mail providers that Stytch/WorkOS-style "no common email
/// providers" guardrails name; not exhaustive: the rule's author still owns their domains.
pub const PUBLIC_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "tuta.io",
    "qq.com",
    "163.com",
    "126.com",
    "web.de",
    "t-online.de",
    "libero.it",
    "orange.fr",
    "free.fr",
    "naver.com",
];
/// Provider families: the first label of a public domain under any suffix (`yahoo.co.uk`).
pub const PUBLIC_EMAIL_FAMILIES: &[&str] = &["gmx", "yahoo", "hotmail", "outlook", "live"];

/// Whether `domain` (lower-case) belongs to a public email provider.
pub fn is_public_email_domain(domain: &str) -> bool {
    PUBLIC_EMAIL_DOMAINS.contains(&domain)
        || split_once_byte(domain, b'.')
            .is_some_and(|(first, _)| PUBLIC_EMAIL_FAMILIES.contains(&first))
}

fn org_ref(path: &str, s: &str, current_ok: bool, errs: &mut Errors) -> Option<OrgRef> {
    let r = OrgRef::parse(s);
    if r == OrgRef::Current && !current_ok {
        errs.add(
            path,
            PolicyErrorKind::Invalid {
                expected: "an organization name or id (\"$current\" only in organization_roles)",
            },
        );
        return None;
    }
    Some(r)
}

/// `join_organization`: a name or id, or a list of them.
pub(super) fn parse_join(path: &str, v: Option<&Json>, errs: &mut Errors) -> Vec<OrgRef> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(list) = string_list(path, v, errs, true) else {
        return Vec::new();
    };
    let one = list.len() == 1 && matches!(v, Json::Str(_));
    let mut out: Vec<OrgRef> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let p = if one { path.to_owned() } else { index(path, i) };
        if let Some(r) = org_ref(&p, s, false, errs) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// `organization_roles`: `{organization, roles}` or a list of them.
pub(super) fn parse_org_roles(path: &str, v: Option<&Json>, errs: &mut Errors) -> Vec<OrgRoles> {
    let items: Vec<(String, &Json)> = match v {
        None | Some(Json::Null) => return Vec::new(),
        Some(o @ Json::Obj(_)) => vec![(path.to_owned(), o)],
        Some(Json::Arr(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, o)| (index(path, i), o))
            .collect(),
        Some(v) => {
            errs.wrong_type(path, "{organization, roles} or a non-empty list of them", v);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (p, o) in items {
        if !matches!(o, Json::Obj(_)) {
            errs.wrong_type(&p, "{organization, roles}", o);
            continue;
        }
        errs.unknown_keys(&p, o, ORG_ROLES_KEYS);
        let org = match o.get("organization") {
            Some(Json::Str(s)) if !s.is_empty() => {
                org_ref(&join(&p, "organization"), s, true, errs)
            }
            other => {
                errs.wrong_type_at(
                    &p,
                    "organization",
                    "an organization name, id or \"$current\"",
                    other.unwrap_or(&Json::Null),
                );
                None
            }
        };
        let roles = match o.get("roles") {
            Some(r) => string_list(&join(&p, "roles"), r, errs, false),
            None => {
                errs.add_at(
                    &p,
                    "roles",
                    PolicyErrorKind::Missing {
                        expected: "a list of role names or ids",
                    },
                );
                None
            }
        };
        if let (Some(organization), Some(roles)) = (org, roles) {
            out.push(OrgRoles {
                organization,
                roles: roles.iter().map(|s| RoleRef::parse(s)).collect(),
            });
        }
    }
    out
}

/// The guardrail: every public email domain in `when.email_domain` of a rule that grants
/// organization access is an error at its own path.
pub(super) fn check_public_domains(path: &str, item: &Json, when: &When, errs: &mut Errors) {
    let Some(domains) = &when.email_domain else {
        return;
    };
    let p = join(&join(path, "when"), "email_domain");
    let listed = matches!(item.path("when.email_domain"), Some(Json::Arr(_)));
    for (i, d) in domains.iter().enumerate() {
        if is_public_email_domain(d) {
            let at = if listed { index(&p, i) } else { p.clone() };
            errs.add(&at, PolicyErrorKind::PublicEmailDomain);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{doc, kinds};
    use super::super::{parse_policy, PolicyErrorKind as K};
    use super::*;

    #[test]
    fn public_domains_and_families() {
        for d in [
            "gmail.com",
            "proton.me",
            "gmx.de",
            "gmx.net",
            "yahoo.co.uk",
            "live.fr",
        ] {
            assert!(is_public_email_domain(d), "{d}");
        }
        for d in ["acme.com", "gmail.acme.com", "mygmx.de", "example.org"] {
            assert!(!is_public_email_domain(d), "{d}");
        }
    }

    #[test]
    fn org_effects_parse_with_names_ids_and_current() {
        let p = parse_policy(&doc(
            r#"{"rules":[{"name":"b2b","when":{"email_domain":"acme.com"},"join_organization":["acme","org_9","acme"],
                "organization_roles":{"organization":"acme","roles":["Member","rol_1"]}},
                {"name":"cur","when":{"trigger":"post-login","organization":"acme"},
                "organization_roles":[{"organization":"$current","roles":["Viewer"]}]}]}"#,
        ))
        .unwrap();
        let e = &p.rules[0].effects;
        assert_eq!(
            e.join_organizations,
            vec![OrgRef::Name("acme".into()), OrgRef::Id("org_9".into())]
        );
        assert_eq!(
            e.organization_roles[0].roles[1],
            RoleRef::Id("rol_1".into())
        );
        assert_eq!(
            p.rules[1].effects.organization_roles[0].organization,
            OrgRef::Current
        );
    }

    #[test]
    fn guardrails_name_the_path() {
        let errs = kinds(
            r#"{"rules":[{"name":"a","when":{"email_domain":["acme.com","gmail.com","GMX.de"]},"join_organization":"acme"},
            {"name":"b","when":{"email_domain":"outlook.com"},"organization_roles":{"organization":"acme","roles":["X"]}},
            {"name":"c","when":{"email_domain":"gmail.com"},"assign_roles":["X"]},
            {"name":"d","when":{"email_domain":"gmail.com"},"allow_public_email_domains":true,"join_organization":"acme"},
            {"name":"e","allow_public_email_domains":true,"assign_roles":["X"]},
            {"name":"f","join_organization":"$current"},
            {"name":"g","organization_roles":{"organization":"$current","roles":["X"]}},
            {"name":"h","organization_roles":[{"organization":"acme"},{"organization":5,"roles":["X"],"x":1}]}]}"#,
        );
        let has = |path: &str, kind: &K| errs.iter().any(|(p, k)| p == path && k == kind);
        assert!(
            has("rules[0].when.email_domain[1]", &K::PublicEmailDomain),
            "{errs:#?}"
        );
        assert!(
            has("rules[0].when.email_domain[2]", &K::PublicEmailDomain),
            "{errs:#?}"
        );
        assert!(
            has("rules[1].when.email_domain", &K::PublicEmailDomain),
            "{errs:#?}"
        );
        assert!(!errs
            .iter()
            .any(|(p, _)| p.starts_with("rules[2]") || p.starts_with("rules[3]")));
        assert!(errs
            .iter()
            .any(|(p, _)| p == "rules[4].allow_public_email_domains"));
        assert!(errs.iter().any(|(p, _)| p == "rules[5].join_organization"));
        assert!(has(
            "rules[6].organization_roles",
            &K::PostLoginOnly {
                effect: "organization_roles"
            }
        ));
        assert!(errs
            .iter()
            .any(|(p, _)| p == "rules[7].organization_roles[0].roles"));
        assert!(errs
            .iter()
            .any(|(p, _)| p == "rules[7].organization_roles[1].organization"));
        assert!(errs
            .iter()
            .any(|(p, _)| p == "rules[7].organization_roles[1].x"));
    }
}
