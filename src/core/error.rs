//! The one error type of the crate. Pure (no JS types); the bindings add `From<JsValue>`
//! conversions both ways so `?` crosses the JS boundary.

use super::config::ConfigError;
use super::event::EventError;
use super::policy::PolicyError;
use std::fmt;

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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(c) => write!(f, "config: secret {} {}", c.secret, c.message),
            Error::Policy(errs) => {
                // Bounded: the first two errors, clipped (`npm run policy -- check` lists all).
                f.write_str("invalid policy: ")?;
                for (i, e) in errs.iter().take(2).enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{}: {}", clip(&e.path, 48), clip(&e.message(), 80))?;
                }
                if errs.len() > 2 {
                    write!(f, " (+{} more)", errs.len() - 2)?;
                }
                Ok(())
            }
            Error::Event(e) => write!(f, "malformed event: {} {}", e.field, e.message),
            Error::Api {
                call,
                status,
                code,
                message,
            } => {
                write!(f, "{} failed: HTTP {}", call.label(), status)?;
                if let Some(c) = code {
                    write!(f, " {}", clip(c, 40))?;
                }
                if let Some(m) = message {
                    write!(f, " ({})", clip(m, 80))?;
                }
                Ok(())
            }
            Error::Network { call, message } => {
                write!(
                    f,
                    "{} failed: network error ({})",
                    call.label(),
                    clip(message, 80)
                )
            }
            Error::Timeout { call } => write!(f, "{} timed out", call.label()),
            Error::BadResponse { call, message } => {
                write!(
                    f,
                    "{} returned a malformed response: {}",
                    call.label(),
                    message
                )
            }
            Error::UnsafePath { call } => write!(
                f,
                "{} not sent: an id in its path is empty, \".\" or \"..\"",
                call.label()
            ),
            Error::Deferred => {
                f.write_str("rate limited: deferred, no request slot before the deadline")
            }
            Error::RoleNotFound(name) => {
                write!(f, "no role is named exactly \"{}\"", clip(name, 60))
            }
            Error::OrgNotFound(name) => {
                write!(f, "no organization is named \"{}\"", clip(name, 60))
            }
            Error::Js(m) => write!(f, "host error: {}", clip(m, 120)),
        }
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
