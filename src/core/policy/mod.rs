//! The declarative policy (version 1): its types here; parsing and validation, with an error
//! per bad field named by its JSON path, in the submodules. Everything is re-exported here,
//! so `core::policy::…` is the one import path.
//!
//! Hand-written (not serde derive) so that messages name the exact field and the wasm stays
//! small.

#[allow(unused_imports)]
use crate::prelude::*;

mod effects;
mod error;
mod namespace;
mod organizations;
mod parse;
mod when;

pub use effects::{EFFECT_KEYS, MFA_KEYS, PERMISSION_KEYS, TICKET_KEYS};
pub use error::{NamespaceProblem, PolicyError, PolicyErrorKind};
pub use organizations::{
    is_public_email_domain, OrgRef, OrgRoles, CURRENT, ORG_ROLES_KEYS, PUBLIC_EMAIL_DOMAINS,
    PUBLIC_EMAIL_FAMILIES,
};
pub use parse::{on_error_of, parse_policy, RULE_KEYS, TOP_KEYS};
pub use when::WHEN_KEYS;

use super::event::Trigger;
use super::json::Json;

/// The maximum length of an Action secret value (the `POLICY` secret).
pub const SECRET_MAX_CHARS: usize = 4096;

/// What to do when provisioning fails (Management API error, bad policy, bad event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Log one line and let the login proceed (the default).
    Allow,
    /// Deny the login with a short reason (post-login only).
    Deny,
}

/// A role named in a policy: by exact name, or by id (`rol_…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleRef {
    /// A role name, matched exactly (case-sensitive).
    Name(String),
    /// A role id such as `rol_123`.
    Id(String),
}

impl RoleRef {
    /// Classifies a policy string: ids start with `rol_`.
    pub fn parse(s: &str) -> RoleRef {
        if s.starts_with("rol_") {
            RoleRef::Id(s.to_owned())
        } else {
            RoleRef::Name(s.to_owned())
        }
    }

    /// The name or id as written in the policy.
    pub fn as_str(&self) -> &str {
        match self {
            RoleRef::Name(s) | RoleRef::Id(s) => s,
        }
    }
}

/// What a metadata condition expects at a dotted path.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// The value equals this JSON value.
    Equals(Json),
    /// The path exists (`true`) or not (`false`), written `{"exists": bool}`.
    Exists(bool),
}

/// Conditions of a rule; every given key must match, a list means "any of".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct When {
    /// Triggers the rule runs in (default: both).
    pub trigger: Option<Vec<Trigger>>,
    /// Connection strategy / identity provider, e.g. `google-oauth2`, `auth0`.
    pub provider: Option<Vec<String>>,
    /// Connection name, e.g. `Username-Password-Authentication`.
    pub connection: Option<Vec<String>>,
    /// Email domains (lower-case); only verified emails count.
    pub email_domain: Option<Vec<String>>,
    /// `event.user.email_verified`.
    pub email_verified: Option<bool>,
    /// Application client ids.
    pub client_id: Option<Vec<String>>,
    /// `true`: only the first login (`logins_count == 1`); `false`: only later ones.
    pub first_login: Option<bool>,
    /// Organization ids or names.
    pub organization: Option<Vec<String>>,
    /// `app_metadata` dotted paths and what they must hold (all must match).
    pub app_metadata: Vec<(String, Expect)>,
    /// `user_metadata` dotted paths and what they must hold (all must match).
    pub user_metadata: Vec<(String, Expect)>,
    /// Role names of which the user holds at least one.
    pub has_role: Option<Vec<String>>,
    /// Role names of which the user lacks at least one.
    pub lacks_role: Option<Vec<String>>,
    /// `event.transaction.protocol` values, e.g. `oauth2-refresh-token`.
    pub protocol: Option<Vec<String>>,
    /// Conditions that must not all hold.
    pub not: Option<Box<When>>,
}

/// A permission of an API (resource server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    /// The API identifier (audience).
    pub resource_server_identifier: String,
    /// The permission (scope) name.
    pub permission_name: String,
}

/// A claim's value: fixed, or copied from the user's metadata.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimValue {
    /// This JSON value.
    Fixed(Json),
    /// The value at `app_metadata.…` or `user_metadata.…` (after this execution's changes).
    From(String),
}

/// `api.multifactor.enable(provider, {allowRememberBrowser})`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mfa {
    /// MFA provider, default `any`.
    pub provider: String,
    /// Lets the user skip MFA on a remembered browser.
    pub allow_remember_browser: bool,
}

/// Which ticket to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketKind {
    /// `POST /api/v2/tickets/password-change` (invite flows).
    PasswordReset,
    /// `POST /api/v2/guardian/enrollments/ticket`.
    MfaEnrollment,
}

/// A ticket effect: where its URL goes (never into a token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// Which ticket.
    pub kind: TicketKind,
    /// `Some(key)`: store the URL in `app_metadata[key]`; `None`: write it to the log.
    pub store_key: Option<String>,
    /// Password reset only: where the user lands afterwards.
    pub result_url: Option<String>,
    /// Lifetime in seconds (Auth0's default when absent).
    pub ttl_sec: Option<u32>,
}

/// What a matched rule does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    /// Roles to make sure the user holds.
    pub assign_roles: Vec<RoleRef>,
    /// Roles to make sure the user does not hold.
    pub remove_roles: Vec<RoleRef>,
    /// Permissions to grant directly.
    pub assign_permissions: Vec<Permission>,
    /// First-level `app_metadata` keys to set (`null` deletes).
    pub set_app_metadata: Vec<(String, Json)>,
    /// First-level `user_metadata` keys to set (`null` deletes).
    pub set_user_metadata: Vec<(String, Json)>,
    /// Token claims: full (namespaced) name and value.
    pub claims: Vec<(String, ClaimValue)>,
    /// Require MFA (post-login).
    pub require_mfa: Option<Mfa>,
    /// Tickets to create.
    pub tickets: Vec<Ticket>,
    /// Deny the login with this reason (post-login).
    pub deny: Option<String>,
    /// Organizations to make the user a member of.
    pub join_organizations: Vec<OrgRef>,
    /// Roles to give the user in an organization (membership implied).
    pub organization_roles: Vec<OrgRoles>,
}

impl Effects {
    /// Effects that only exist in post-login (tokens, MFA, denial).
    pub fn post_login_only(&self) -> Option<&'static str> {
        if self.deny.is_some() {
            Some("deny")
        } else if self.require_mfa.is_some() {
            Some("require_mfa")
        } else if !self.claims.is_empty() {
            Some("claims")
        } else {
            None
        }
    }

    /// Effects that cannot be observed in the next event (permissions, tickets): done once
    /// per user and remembered in `app_metadata.provisioning_done`.
    pub fn once_only(&self) -> bool {
        !self.assign_permissions.is_empty() || !self.tickets.is_empty()
    }

    /// Whether the rule grants organization access (membership or organization roles).
    pub fn organizations(&self) -> bool {
        !self.join_organizations.is_empty() || !self.organization_roles.is_empty()
    }
}

/// One rule: a name, its conditions and its effects.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Unique rule name, used in logs and pending markers.
    pub name: String,
    /// Conditions (empty: always matches).
    pub when: When,
    /// What it does when it matches.
    pub effects: Effects,
    /// Stop evaluating later rules after this one matches.
    pub stop: bool,
    /// When the user no longer matches, remove the roles this rule granted (recorded in
    /// `app_metadata.provisioning_roles`; a role given by hand is never removed).
    pub retract: bool,
    /// The rule may grant organization access on a public email provider's domain.
    pub allow_public_email_domains: bool,
}

/// A validated policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Claim namespace (URL-like); when set, `<ns>roles` is added to both tokens.
    pub claims_namespace: Option<String>,
    /// Failure behaviour.
    pub on_error: OnError,
    /// Rules, in order.
    pub rules: Vec<Rule>,
}

/// Helpers for the parser's tests in the submodules.
#[cfg(test)]
mod testing {
    use super::{parse_policy, PolicyErrorKind};
    use crate::core::json::Json;

    pub fn doc(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    /// Every error of an invalid policy, as `(path, kind)`.
    pub fn kinds(s: &str) -> Vec<(String, PolicyErrorKind)> {
        parse_policy(&doc(s))
            .unwrap_err()
            .into_iter()
            .map(|e| (e.path, e.kind))
            .collect()
    }
}

/// The JSON Schema (`pkg-scripts/policy.schema.json`) lists exactly the keys the parser
/// accepts, object by object, so the two cannot drift.
#[cfg(test)]
mod schema_drift {
    use super::*;

    fn keys(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
        let obj = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{pointer} missing"));
        assert_eq!(
            obj.get("additionalProperties"),
            Some(&serde_json::Value::Bool(false)),
            "{pointer}"
        );
        let mut k: Vec<String> = obj["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn schema_keys_match_the_parser() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/pkg-scripts/policy.schema.json"
        ))
        .unwrap();
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(keys(&schema, ""), sorted(TOP_KEYS));
        assert_eq!(keys(&schema, "/$defs/rule"), sorted(RULE_KEYS));
        assert_eq!(keys(&schema, "/$defs/when"), sorted(WHEN_KEYS));
        assert_eq!(keys(&schema, "/$defs/ticket"), sorted(TICKET_KEYS));
        assert_eq!(keys(&schema, "/$defs/permission"), sorted(PERMISSION_KEYS));
        assert_eq!(keys(&schema, "/$defs/mfa/oneOf/1"), sorted(MFA_KEYS));
        assert_eq!(
            keys(&schema, "/$defs/organization_roles"),
            sorted(ORG_ROLES_KEYS)
        );
    }
}
