//! The one error type of the crate. Pure (no JS types); the bindings add `From<JsValue>`
//! conversions both ways so `?` crosses the JS boundary.

#[allow(unused_imports)]
use crate::prelude::*;

use super::config::ConfigError;
use super::decimal::push_decimal;
use super::event::EventError;
use super::policy::PolicyError;
use ::core::fmt;

/// Which Management API call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// `POST /oauth/token` (client credentials).
    Token,
    /// `GET /api/v2/roles` (role id by name).
    ListRoles,
    /// `GET /api/v2/roles/{id}` (role name by id).
    GetRole,
    /// `POST /api/v2/users/{id}/roles`.
    AssignRoles,
    /// `PATCH /api/v2/users/{id}`.
    UpdateUser,
    /// `DELETE /api/v2/users/{id}/roles`.
    RemoveRoles,
    /// `POST /api/v2/users/{id}/permissions`.
    AssignPermissions,
    /// `POST /api/v2/tickets/password-change`.
    PasswordTicket,
    /// `POST /api/v2/guardian/enrollments/ticket`.
    MfaTicket,
    /// `GET /api/v2/organizations/name/{name}` (organization id by name).
    OrgByName,
    /// `POST /api/v2/organizations/{id}/members`.
    AddOrgMembers,
    /// `POST /api/v2/organizations/{id}/members/{user_id}/roles`.
    AddOrgMemberRoles,
    /// `GET /api/v2/users/{id}/organizations` (memberships before a retract rule joins).
    UserOrgs,
    /// `DELETE /api/v2/organizations/{id}/members` (retraction).
    RemoveOrgMembers,
    /// `DELETE /api/v2/organizations/{id}/members/{user_id}/roles` (retraction).
    RemoveOrgMemberRoles,
}

impl Call {
    /// Method and path template, for logs.
    pub fn label(self) -> &'static str {
        match self {
            Call::Token => "POST /oauth/token",
            Call::ListRoles => "GET /api/v2/roles",
            Call::GetRole => "GET /api/v2/roles/{id}",
            Call::AssignRoles => "POST /api/v2/users/{id}/roles",
            Call::UpdateUser => "PATCH /api/v2/users/{id}",
            Call::RemoveRoles => "DELETE /api/v2/users/{id}/roles",
            Call::AssignPermissions => "POST /api/v2/users/{id}/permissions",
            Call::PasswordTicket => "POST /api/v2/tickets/password-change",
            Call::MfaTicket => "POST /api/v2/guardian/enrollments/ticket",
            Call::OrgByName => "GET /api/v2/organizations/name/{name}",
            Call::AddOrgMembers => "POST /api/v2/organizations/{id}/members",
            Call::AddOrgMemberRoles => "POST /api/v2/organizations/{id}/members/{user_id}/roles",
            Call::UserOrgs => "GET /api/v2/users/{id}/organizations",
            Call::RemoveOrgMembers => "DELETE /api/v2/organizations/{id}/members",
            Call::RemoveOrgMemberRoles => {
                "DELETE /api/v2/organizations/{id}/members/{user_id}/roles"
            }
        }
    }
}

/// Everything that can go wrong in one execution.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A secret is missing or invalid.
    Config(ConfigError),
    /// The policy is invalid (every error found).
    Policy(Vec<PolicyError>),
    /// The event lacks or mistypes a field we need.
    Event(EventError),
    /// The Management API answered with an error status.
    Api {
        /// The failed call.
        call: Call,
        /// HTTP status.
        status: u16,
        /// Auth0's `errorCode` (or OAuth `error`), when present.
        code: Option<String>,
        /// Auth0's `message` (or `error_description`), shortened.
        message: Option<String>,
    },
    /// The request never got a response (refused, reset, DNS...).
    Network {
        /// The failed call.
        call: Call,
        /// The runtime's description.
        message: String,
    },
    /// The request took longer than its timeout, or the run's deadline was reached.
    Timeout {
        /// The call that was cut off.
        call: Call,
    },
    /// A 2xx response whose body is not what the API documents.
    BadResponse {
        /// The call whose response was malformed.
        call: Call,
        /// What was wrong with it.
        message: &'static str,
    },
    /// A request whose path would not keep its template's segments once a URL parser
    /// resolved it (an id that is empty, `.` or `..`): not sent.
    UnsafePath {
        /// The call that was refused.
        call: Call,
    },
    /// Rate limited: no request slot would come before the run's deadline, so the work is
    /// deferred (to the user's next login) without sending a doomed request.
    Deferred,
    /// No role has exactly this name.
    RoleNotFound(String),
    /// No organization has this name.
    OrgNotFound(String),
    /// A JS exception from the host (e.g. an `api` method threw).
    Js(String),
}

impl Error {
    /// Whether retrying the same request could succeed (429, 5xx, network, timeout).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status == 429 || *status >= 500,
            Error::Network { .. } | Error::Timeout { .. } => true,
            _ => false,
        }
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary.
pub fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

impl Error {
    /// The one-line message (logs, `api.access.deny`, thrown errors). Built by hand rather
    /// than with `write!`: in the wasm, `core::fmt` with integer formatting costs kB.
    pub fn message(&self) -> String {
        let mut s = String::new();
        let label = |s: &mut String, call: &Call, rest: &str| {
            s.push_str(call.label());
            s.push_str(rest);
        };
        match self {
            Error::Config(c) => {
                s.push_str("config: secret ");
                s.push_str(c.secret);
                s.push(' ');
                s.push_str(&c.message);
            }
            Error::Policy(errs) => {
                // Bounded: the first two errors, clipped (`npm run policy -- check` lists all).
                s.push_str("invalid policy: ");
                for (i, e) in errs.iter().take(2).enumerate() {
                    if i > 0 {
                        s.push_str("; ");
                    }
                    s.push_str(clip(&e.path, 48));
                    s.push_str(": ");
                    s.push_str(clip(&e.message(), 80));
                }
                if errs.len() > 2 {
                    s.push_str(" (+");
                    push_decimal(&mut s, u32::try_from(errs.len() - 2).unwrap_or(u32::MAX));
                    s.push_str(" more)");
                }
            }
            Error::Event(e) => {
                s.push_str("malformed event: ");
                s.push_str(e.field);
                s.push(' ');
                s.push_str(&e.message);
            }
            Error::Api {
                call,
                status,
                code,
                message,
            } => {
                label(&mut s, call, " failed: HTTP ");
                push_decimal(&mut s, u32::from(*status));
                if let Some(c) = code {
                    s.push(' ');
                    s.push_str(clip(c, 40));
                }
                if let Some(m) = message {
                    s.push_str(" (");
                    s.push_str(clip(m, 80));
                    s.push(')');
                }
            }
            Error::Network { call, message } => {
                label(&mut s, call, " failed: network error (");
                s.push_str(clip(message, 80));
                s.push(')');
            }
            Error::Timeout { call } => label(&mut s, call, " timed out"),
            Error::BadResponse { call, message } => {
                label(&mut s, call, " returned a malformed response: ");
                s.push_str(message);
            }
            Error::UnsafePath { call } => label(
                &mut s,
                call,
                " not sent: an id in its path is empty, \".\" or \"..\"",
            ),
            Error::Deferred => {
                s.push_str("rate limited: deferred, no request slot before the deadline")
            }
            Error::RoleNotFound(name) => {
                s.push_str("no role is named exactly \"");
                s.push_str(clip(name, 60));
                s.push('"');
            }
            Error::OrgNotFound(name) => {
                s.push_str("no organization is named \"");
                s.push_str(clip(name, 60));
                s.push('"');
            }
            Error::Js(m) => {
                s.push_str("host error: ");
                s.push_str(clip(m, 120));
            }
        }
        s
    }
}

/// For the host (CLI, tests): the wasm calls [`Error::message`] directly so that this impl,
/// and `core::fmt` with it, stays out of the Action.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<EventError> for Error {
    fn from(e: EventError) -> Self {
        Error::Event(e)
    }
}

impl From<Vec<PolicyError>> for Error {
    fn from(e: Vec<PolicyError>) -> Self {
        Error::Policy(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_short_and_name_the_call() {
        let e = Error::Api {
            call: Call::AssignRoles,
            status: 403,
            code: Some("insufficient_scope".into()),
            message: Some("x".repeat(500)),
        };
        let s = e.to_string();
        assert!(
            s.starts_with("POST /api/v2/users/{id}/roles failed: HTTP 403 insufficient_scope (")
        );
        assert!(s.len() < 160, "{}", s.len());
        assert!(!e.is_transient());
        assert!(Error::Timeout { call: Call::Token }.is_transient());
        assert!(Error::Api {
            call: Call::ListRoles,
            status: 503,
            code: None,
            message: None
        }
        .is_transient());
        assert_eq!(clip("héllo", 2), "h");
    }
}
