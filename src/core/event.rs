//! The parts of Auth0's `event` object the policy reads, extracted and checked.

use crate::core::text::rfind_byte;
#[allow(unused_imports)]
use crate::prelude::*;

use super::json::Json;

/// Which Action trigger is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `post-login` (v3): blocking, has `api.access`, tokens and `api.user`.
    PostLogin,
    /// `post-user-registration` (v2): non-blocking, `api.cache` only.
    PostUserRegistration,
}

impl Trigger {
    /// Auth0's trigger id.
    pub fn id(self) -> &'static str {
        match self {
            Trigger::PostLogin => "post-login",
            Trigger::PostUserRegistration => "post-user-registration",
        }
    }

    /// Parses an Auth0 trigger id.
    pub fn from_id(id: &str) -> Option<Trigger> {
        match id {
            "post-login" => Some(Trigger::PostLogin),
            "post-user-registration" => Some(Trigger::PostUserRegistration),
            _ => None,
        }
    }
}

/// The app_metadata key holding rule names whose provisioning has not completed yet.
pub const PENDING_KEY: &str = "provisioning_pending";
/// The app_metadata key holding rule names whose once-only effects (permissions, tickets)
/// are done, so neither a later login nor the other trigger repeats them.
pub const DONE_KEY: &str = "provisioning_done";

/// The app_metadata key holding the roles (as the policy names them) that rules with
/// `"retract": true` granted: only these are ever retracted, so a role given by hand is not.
pub const GRANTED_KEY: &str = "provisioning_roles";

/// The app_metadata key holding the organization access the policy gave: `<org>` for a
/// membership, `<org>/<role>` for an organization role, the org as the policy names it (or
/// the login's org id for `$current`). Auth0 organization names and ids never hold `/`.
/// Granted once, never asked again (the Management API cannot be asked cheaply at login).
pub const ORGS_KEY: &str = "provisioning_orgs";

/// Whether a marker key is one of the Action's own (policies may not write them).
pub fn is_marker(key: &str) -> bool {
    key == PENDING_KEY || key == DONE_KEY || key == GRANTED_KEY || key == ORGS_KEY
}

/// How an offline snapshot (reconcile) differs from a login: login-time conditions are not
/// evaluable, and a user with several identities has no one login connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offline {
    /// The identities differ in provider or connection: a rule reading them is not evaluable.
    pub ambiguous_connection: bool,
}

/// What a policy can see of one execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The running trigger.
    pub trigger: Trigger,
    /// `event.user.user_id`.
    pub user_id: String,
    /// `event.user.email`, if any.
    pub email: Option<String>,
    /// `event.user.email_verified` (false when absent).
    pub email_verified: bool,
    /// `event.connection.name`.
    pub connection: Option<String>,
    /// `event.connection.strategy` (or the first identity's provider).
    pub strategy: Option<String>,
    /// `event.client.client_id` (post-login only).
    pub client_id: Option<String>,
    /// `event.stats.logins_count`.
    pub logins_count: Option<f64>,
    /// Role names held at the start of this login (`event.authorization.roles`).
    pub roles: Vec<String>,
    /// Whether the event said which roles are held (`event.authorization.roles` present);
    /// when it did not, a removal cannot be known to be unnecessary.
    pub roles_known: bool,
    /// Rule names left pending by an earlier failed execution (`app_metadata.provisioning_pending`).
    pub pending: Vec<String>,
    /// Rule names whose once-only effects are done (`app_metadata.provisioning_done`).
    pub done: Vec<String>,
    /// Roles retract rules granted (`app_metadata.provisioning_roles`).
    pub granted: Vec<String>,
    /// Organization access the policy gave (`app_metadata.provisioning_orgs`, see [`ORGS_KEY`]).
    pub orgs: Vec<String>,
    /// `Some` for a user snapshot evaluated outside a login (reconcile).
    pub offline: Option<Offline>,
    /// `event.organization.id` and `.name`, when the login is in an organization.
    pub organization: [Option<String>; 2],
    /// `event.transaction.protocol`, e.g. `oidc-basic-profile`, `oauth2-refresh-token`.
    pub protocol: Option<String>,
    /// `event.user.app_metadata` (an empty object when absent).
    pub app_metadata: Json,
    /// `event.user.user_metadata` (an empty object when absent).
    pub user_metadata: Json,
    /// Dotted paths (from the event root, e.g. `user.user_metadata.a.b`) of metadata values
    /// the host could not read (nested too deeply, too large, a getter that threw). They
    /// read as `null`; a condition on or under one of them is unknown, never true or false.
    pub unreadable: Vec<String>,
}

/// A malformed event: which field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    /// Dotted path, e.g. `event.user.user_id`.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn bad(field: &'static str, message: &str, got: Option<&Json>) -> EventError {
    let mut m = String::from(message);
    if let Some(v) = got {
        m.push_str(", got ");
        m.push_str(v.kind());
    }
    EventError { field, message: m }
}

/// An optional string field: absent/null → None, string → Some, anything else → error.
fn opt_str(v: Option<&Json>, field: &'static str) -> Result<Option<String>, EventError> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(field, "expected a string", Some(other))),
    }
}

fn str_list(v: Option<&Json>, field: &'static str) -> Result<Vec<String>, EventError> {
    match v {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Arr(items)) => items
            .iter()
            .map(|i| match i {
                Json::Str(s) => Ok(s.clone()),
                other => Err(bad(field, "expected a list of strings", Some(other))),
            })
            .collect(),
        Some(other) => Err(bad(field, "expected a list of strings", Some(other))),
    }
}

/// Extracts and checks the fields the policy uses, from a fully read event.
pub fn parse_event(ev: &Json, trigger: Trigger) -> Result<Event, EventError> {
    parse_event_with(ev, trigger, Vec::new())
}

/// Where metadata lives in the event; an unreadable value elsewhere is an event error.
pub const METADATA_ROOTS: [&str; 2] = ["user.app_metadata", "user.user_metadata"];

/// Whether `path` is `root` or lies under it (dotted paths).
pub fn is_under(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// [`parse_event`] for an event read in part: `unreadable` lists the paths the host could
/// not read. Inside metadata they are kept (conditions on them are unknown); anywhere else
/// the event is refused, naming the path.
pub fn parse_event_with(
    ev: &Json,
    trigger: Trigger,
    unreadable: Vec<String>,
) -> Result<Event, EventError> {
    if let Some(p) = unreadable
        .iter()
        .find(|p| !METADATA_ROOTS.iter().any(|r| is_under(p, r)))
    {
        let mut message = String::from("cannot be read at event.");
        message.push_str(super::error::clip(p, 80));
        return Err(EventError {
            field: "event",
            message,
        });
    }
    if !matches!(ev, Json::Obj(_)) {
        return Err(bad("event", "expected an object", Some(ev)));
    }
    let user = match ev.get("user") {
        Some(u @ Json::Obj(_)) => u,
        other => return Err(bad("event.user", "expected an object", other)),
    };
    let user_id = match user.get("user_id") {
        // "." and ".." are path operations: fetch would resolve /users/%2E%2E/roles to /roles.
        Some(Json::Str(s)) if s == "." || s == ".." => {
            return Err(bad(
                "event.user.user_id",
                "is \".\" or \"..\", which would change a request's path",
                None,
            ))
        }
        Some(Json::Str(s)) if !s.is_empty() && s.len() <= 1024 => s.clone(),
        Some(Json::Str(_)) => {
            return Err(bad(
                "event.user.user_id",
                "expected 1 to 1024 characters",
                None,
            ))
        }
        other => return Err(bad("event.user.user_id", "expected a string", other)),
    };
    let email = opt_str(user.get("email"), "event.user.email")?;
    let email_verified = match user.get("email_verified") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(bad(
                "event.user.email_verified",
                "expected a boolean",
                Some(other),
            ))
        }
    };
    let connection = ev.get("connection");
    let conn_name = opt_str(
        connection.and_then(|c| c.get("name")),
        "event.connection.name",
    )?;
    let mut strategy = opt_str(
        connection.and_then(|c| c.get("strategy")),
        "event.connection.strategy",
    )?;
    if strategy.is_none() {
        // post-user-registration events on older tenants may lack connection.strategy.
        strategy = user
            .path("identities")
            .and_then(Json::as_array)
            .and_then(|ids| ids.first())
            .and_then(|i| i.get("provider"))
            .and_then(Json::as_str)
            .map(str::to_owned);
    }
    let client_id = opt_str(ev.path("client.client_id"), "event.client.client_id")?;
    let logins_count = match ev.path("stats.logins_count") {
        None | Some(Json::Null) => None,
        Some(Json::Num(n)) => Some(*n),
        Some(other) => {
            return Err(bad(
                "event.stats.logins_count",
                "expected a number",
                Some(other),
            ))
        }
    };
    let roles_at = ev.path("authorization.roles");
    let roles_known = roles_at.is_some_and(|r| !r.is_null());
    let roles = str_list(roles_at, "event.authorization.roles")?;
    let metadata = |key: &'static str| match user.get(key.get(11..).unwrap_or_default()) {
        None | Some(Json::Null) => Ok(Json::Obj(Vec::new())),
        Some(m @ Json::Obj(_)) => Ok(m.clone()),
        Some(other) => Err(bad(key, "expected an object", Some(other))),
    };
    let app_metadata = metadata("event.user.app_metadata")?;
    let user_metadata = metadata("event.user.user_metadata")?;
    // A hand-edited marker must not break logins: anything but a list of strings is ignored.
    let marker = |key: &str| str_list(app_metadata.get(key), "marker").unwrap_or_default();
    let (pending, done, granted) = (marker(PENDING_KEY), marker(DONE_KEY), marker(GRANTED_KEY));
    let orgs = marker(ORGS_KEY);
    let org = |field: &str| ev.path(field).and_then(Json::as_str).map(str::to_owned);
    let organization = [org("organization.id"), org("organization.name")];
    let protocol = opt_str(
        ev.path("transaction.protocol"),
        "event.transaction.protocol",
    )?;
    Ok(Event {
        trigger,
        user_id,
        email,
        email_verified,
        connection: conn_name,
        strategy,
        client_id,
        logins_count,
        roles,
        roles_known,
        pending,
        done,
        granted,
        orgs,
        offline: None,
        organization,
        protocol,
        app_metadata,
        user_metadata,
        unreadable,
    })
}

impl Event {
    /// The roles held, when the event said.
    pub fn held_roles(&self) -> Option<&[String]> {
        self.roles_known.then_some(&self.roles[..])
    }

    /// How this snapshot is offline (`None` at a login). The Action's own build (`bare`)
    /// only ever reads logins (`parse_event` sets `None`; snapshots are reconcile's, a host
    /// tool), so there it is a constant `None` and the offline branches are not linked.
    pub fn offline(&self) -> Option<Offline> {
        if cfg!(feature = "bare") {
            None
        } else {
            self.offline
        }
    }

    /// The domain after the last `@` of a verified email, lower-cased.
    pub fn verified_email_domain(&self) -> Option<String> {
        if !self.email_verified {
            return None;
        }
        let email = self.email.as_deref()?;
        let at = rfind_byte(email, b'@')?;
        let domain = email.get(at + 1..).unwrap_or_default();
        (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> Result<Event, EventError> {
        parse_event(&serde_json::from_str(s).unwrap(), Trigger::PostLogin)
    }

    #[test]
    fn reads_a_google_login() {
        let e = ev(
            r#"{"user":{"user_id":"google-oauth2|1","email":"a@Example.com","email_verified":true,
              "app_metadata":{"provisioning_pending":["r1"]}},
              "connection":{"name":"google-oauth2","strategy":"google-oauth2"},
              "client":{"client_id":"abc"},"stats":{"logins_count":1},
              "authorization":{"roles":["Admin"]}}"#,
        )
        .unwrap();
        assert_eq!(e.user_id, "google-oauth2|1");
        assert_eq!(e.strategy.as_deref(), Some("google-oauth2"));
        assert_eq!(e.client_id.as_deref(), Some("abc"));
        assert_eq!(e.logins_count, Some(1.0));
        assert_eq!(e.roles, vec!["Admin"]);
        assert_eq!(e.pending, vec!["r1"]);
        assert_eq!(e.verified_email_domain().as_deref(), Some("example.com"));
    }

    #[test]
    fn malformed_events_name_the_field() {
        let cases = [
            ("5", "event"),
            (r#"{}"#, "event.user"),
            (r#"{"user":{}}"#, "event.user.user_id"),
            (r#"{"user":{"user_id":""}}"#, "event.user.user_id"),
            (r#"{"user":{"user_id":"."}}"#, "event.user.user_id"),
            (r#"{"user":{"user_id":".."}}"#, "event.user.user_id"),
            (r#"{"user":{"user_id":7}}"#, "event.user.user_id"),
            (r#"{"user":{"user_id":"x","email":1}}"#, "event.user.email"),
            (
                r#"{"user":{"user_id":"x","email_verified":"yes"}}"#,
                "event.user.email_verified",
            ),
            (
                r#"{"user":{"user_id":"x"},"authorization":{"roles":"Admin"}}"#,
                "event.authorization.roles",
            ),
            (
                r#"{"user":{"user_id":"x"},"stats":{"logins_count":"1"}}"#,
                "event.stats.logins_count",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(ev(json).unwrap_err().field, field, "{json}");
        }
        for id in ["...", ".a", "%2E%2E", "a/.."] {
            let json = [r#"{"user":{"user_id":""#, id, r#""}}"#].concat();
            assert_eq!(ev(&json).unwrap().user_id, id);
        }
    }

    #[test]
    fn unverified_or_odd_emails_have_no_domain() {
        let e = ev(r#"{"user":{"user_id":"x","email":"a@b.com","email_verified":false}}"#).unwrap();
        assert_eq!(e.verified_email_domain(), None);
        let e = ev(
            r#"{"user":{"user_id":"x","email":"a@evil.com@example.com","email_verified":true}}"#,
        )
        .unwrap();
        assert_eq!(e.verified_email_domain().as_deref(), Some("example.com"));
        let e =
            ev(r#"{"user":{"user_id":"x","email":"nodomain@","email_verified":true}}"#).unwrap();
        assert_eq!(e.verified_email_domain(), None);
    }

    #[test]
    fn strategy_falls_back_to_identities_and_bad_pending_is_ignored() {
        let e = ev(
            r#"{"user":{"user_id":"x","identities":[{"provider":"auth0"}],
                     "app_metadata":{"provisioning_pending":"oops"}}}"#,
        )
        .unwrap();
        assert_eq!(e.strategy.as_deref(), Some("auth0"));
        assert!(e.pending.is_empty());
    }
}
