//! A user record (as `GET /users` or the json users export gives it) as the event its next
//! login would bring, minus what only a login has.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::core::event::{parse_event, Event, EventError, Offline, Trigger};
use crate::core::json::{obj, Json};

/// The offline event of `record` holding the roles named `held`. The login connection is the
/// identities' one when they agree; when they differ (linked accounts) or are missing, a rule
/// reading provider or connection is not evaluable for this user.
pub fn snapshot_event(record: &Json, held: &[String]) -> Result<Event, EventError> {
    let identities = record
        .get("identities")
        .and_then(Json::as_array)
        .unwrap_or(&[]);
    let of = |i: &Json, k: &str| i.get(k).and_then(Json::as_str).map(str::to_owned);
    let first = identities.first();
    let provider = first.and_then(|i| of(i, "provider"));
    let connection = first.and_then(|i| of(i, "connection"));
    let ambiguous = provider.is_none()
        || identities
            .iter()
            .any(|i| of(i, "provider") != provider || of(i, "connection") != connection);
    let text = |s: Option<String>| s.map_or(Json::Null, Json::Str);
    let mut members = vec![
        ("user", record.clone()),
        (
            "connection",
            obj(&[("name", text(connection)), ("strategy", text(provider))]),
        ),
        (
            "authorization",
            obj(&[(
                "roles",
                Json::Arr(held.iter().map(|r| Json::Str(r.clone())).collect()),
            )]),
        ),
    ];
    if let Some(n) = record.get("logins_count") {
        members.push(("stats", obj(&[("logins_count", n.clone())])));
    }
    let mut ev = parse_event(&obj(&members), Trigger::PostLogin)?;
    ev.offline = Some(Offline {
        ambiguous_connection: ambiguous,
    });
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn a_record_reads_as_its_next_login() {
        let ev = snapshot_event(
            &j(r#"{"user_id":"google-oauth2|1","email":"a@x.com","email_verified":true,"logins_count":4,
                "identities":[{"provider":"google-oauth2","connection":"google-oauth2","user_id":"1"}],
                "app_metadata":{"provisioning_roles":["Premium User"]}}"#),
            &["Admin".into()],
        )
        .unwrap();
        assert_eq!(ev.strategy.as_deref(), Some("google-oauth2"));
        assert_eq!(ev.connection.as_deref(), Some("google-oauth2"));
        assert_eq!(ev.roles, vec!["Admin"]);
        assert!(ev.roles_known);
        assert_eq!(ev.granted, vec!["Premium User"]);
        assert_eq!(ev.logins_count, Some(4.0));
        assert_eq!(
            ev.offline,
            Some(Offline {
                ambiguous_connection: false
            })
        );
    }

    #[test]
    fn linked_or_missing_identities_are_ambiguous_and_bad_records_name_the_field() {
        let linked = j(
            r#"{"user_id":"auth0|1","identities":[{"provider":"auth0","connection":"db"},
            {"provider":"google-oauth2","connection":"google-oauth2"}]}"#,
        );
        let ev = snapshot_event(&linked, &[]).unwrap();
        assert!(ev.offline.unwrap().ambiguous_connection);
        let none = snapshot_event(&j(r#"{"user_id":"auth0|1"}"#), &[]).unwrap();
        assert!(none.offline.unwrap().ambiguous_connection);
        let err = snapshot_event(&j(r#"{"user_id":".."}"#), &[]).unwrap_err();
        assert_eq!(err.field, "event.user.user_id");
        let err = snapshot_event(&j(r#"{"user_id":"u","app_metadata":[]}"#), &[]).unwrap_err();
        assert_eq!(err.field, "event.user.app_metadata");
    }
}
