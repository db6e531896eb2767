//! The replies: each Management API response read defensively into a typed value or a
//! typed error.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Lookup, ResolvedRole, RolesPage, Token, MAX_ROLE_PAGES, ROLES_PER_PAGE};
use crate::core::error::{Call, Error};
use crate::core::json::Json;

fn bad(call: Call, message: &'static str) -> Error {
    Error::BadResponse { call, message }
}

/// Reads `{access_token, expires_in}`; a missing `expires_in` means Auth0's default, 24 h.
pub fn parse_token(body: &Json) -> Result<Token, Error> {
    let access_token = match body.get("access_token") {
        Some(Json::Str(s)) if !s.is_empty() => s.clone(),
        _ => return Err(bad(Call::Token, "no access_token")),
    };
    let expires_in = match body.get("expires_in") {
        None | Some(Json::Null) => 86400.0,
        Some(Json::Num(n)) if n.is_finite() && *n > 0.0 => *n,
        Some(_) => return Err(bad(Call::Token, "expires_in is not a positive number")),
    };
    Ok(Token {
        access_token,
        expires_in,
    })
}

/// How long (ms) a token may be reused: its lifetime minus a leeway of 10%, at most 60 s
/// (proportional, so that even a token living 30 s serves the login that fetched it),
/// capped at api.cache's 24 h maximum. 0 means "do not cache".
pub fn token_ttl_ms(expires_in_s: f64) -> f64 {
    // Bounded first: a huge expires_in would otherwise make inf - inf = NaN.
    if expires_in_s.is_nan() || expires_in_s <= 0.0 {
        return 0.0;
    }
    let life = expires_in_s.min(1e9) * 1000.0;
    let ttl = life - (life / 10.0).min(60_000.0);
    ttl.clamp(0.0, 86_400_000.0)
}

fn parse_role_obj(call: Call, v: &Json) -> Result<ResolvedRole, Error> {
    match (
        v.get("id").and_then(Json::as_str),
        v.get("name").and_then(Json::as_str),
    ) {
        (Some(id), Some(name)) if !id.is_empty() => Ok(ResolvedRole {
            id: id.to_owned(),
            name: name.to_owned(),
        }),
        _ => Err(bad(call, "a role lacks a string id or name")),
    }
}

/// Accepts both documented shapes: a bare array, or `{roles, start, limit, total}`.
pub fn parse_roles_page(body: &Json) -> Result<RolesPage, Error> {
    let (items, total) = match body {
        Json::Arr(items) => (items.as_slice(), None),
        Json::Obj(_) => match body.get("roles").and_then(Json::as_array) {
            Some(items) => (items, body.get("total").and_then(Json::as_f64)),
            None => return Err(bad(Call::ListRoles, "no roles array")),
        },
        _ => return Err(bad(Call::ListRoles, "expected an array or an object")),
    };
    let roles = items
        .iter()
        .map(|r| parse_role_obj(Call::ListRoles, r))
        .collect::<Result<_, _>>()?;
    Ok(RolesPage { roles, total })
}

/// Exact, case-sensitive match (name_filter is a case-insensitive substring filter).
pub fn lookup_step(name: &str, page: u32, p: &RolesPage) -> Lookup {
    if let Some(r) = p.roles.iter().find(|r| r.name == name) {
        return Lookup::Found(r.clone());
    }
    let seen = f64::from(page + 1) * f64::from(ROLES_PER_PAGE);
    let more = match p.total {
        Some(total) => seen < total,
        None => p.roles.len() as u32 >= ROLES_PER_PAGE,
    };
    if more && !p.roles.is_empty() && page + 1 < MAX_ROLE_PAGES {
        Lookup::Next(page + 1)
    } else {
        Lookup::NotFound
    }
}

/// Reads a `{id, name, description}` role.
pub fn parse_role(body: &Json) -> Result<ResolvedRole, Error> {
    parse_role_obj(Call::GetRole, body)
}

/// The id of an organization reply (`{id, name, display_name}`).
pub fn parse_org_id(body: Option<&Json>) -> Result<String, Error> {
    match body.and_then(|b| b.get("id")).and_then(Json::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(bad(Call::OrgByName, "no organization id")),
    }
}

/// The organization ids of a page of `GET /users/{id}/organizations` (an array of
/// `{id, name, display_name}`).
pub fn parse_org_ids(body: Option<&Json>) -> Result<Vec<String>, Error> {
    let page = body
        .and_then(Json::as_array)
        .ok_or(bad(Call::UserOrgs, "expected a list of organizations"))?;
    page.iter()
        .map(|o| match o.get("id").and_then(Json::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(bad(Call::UserOrgs, "no organization id")),
        })
        .collect()
}

/// The ticket URL of a ticket reply (`ticket` or `ticket_url`).
pub fn parse_ticket_url(call: Call, body: Option<&Json>) -> Result<String, Error> {
    let b = body.ok_or(bad(call, "empty body"))?;
    match b
        .get("ticket")
        .or_else(|| b.get("ticket_url"))
        .and_then(Json::as_str)
    {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(u.to_owned()),
        _ => Err(bad(call, "no ticket URL")),
    }
}

/// Builds the typed error for a non-2xx reply from Auth0's `{statusCode, error, message,
/// errorCode}` or OAuth's `{error, error_description}`; any other body is ignored.
pub fn api_error(call: Call, status: u16, body: Option<&Json>) -> Error {
    let field = |k: &str| {
        body.and_then(|b| b.get(k))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    // Auth0's 409 text here is terse; the cause is the entity limit.
    let message = if call == Call::AddOrgMemberRoles && status == 409 {
        Some("the member would exceed 50 roles in this organization (Auth0's limit)".into())
    } else {
        field("message").or_else(|| field("error_description"))
    };
    Error::Api {
        call,
        status,
        code: field("errorCode").or_else(|| field("error")),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;
    use super::*;

    #[test]
    fn token_parsing_and_ttl() {
        let t = parse_token(&j(
            r#"{"access_token":"abc","expires_in":86400,"token_type":"Bearer"}"#,
        ))
        .unwrap();
        assert_eq!(t.expires_in, 86400.0);
        // The leeway is 10% of the lifetime, at most 60 s: short-lived tokens are reused.
        assert_eq!(token_ttl_ms(86400.0), 86_340_000.0);
        assert_eq!(token_ttl_ms(30.0), 27_000.0);
        assert_eq!(token_ttl_ms(60.0), 54_000.0);
        assert_eq!(token_ttl_ms(600.0), 540_000.0);
        assert_eq!(token_ttl_ms(3600.0), 3_540_000.0);
        assert_eq!(token_ttl_ms(1.0), 900.0);
        for s in [1.0, 30.0, 66.0, 601.0, 86400.0, 200_000.0] {
            let (life, ttl) = (s * 1000.0, token_ttl_ms(s));
            assert!(ttl >= life * 0.9 || ttl == 86_400_000.0, "{s}: {ttl}");
            assert!(ttl >= life - 60_000.0 || ttl == 86_400_000.0, "{s}: {ttl}");
            assert!(ttl < life, "{s}: {ttl}");
        }
        assert_eq!(token_ttl_ms(1e308), 86_400_000.0);
        assert_eq!(token_ttl_ms(f64::NAN), 0.0);
        assert!(parse_token(&j(r#"{"expires_in":1}"#)).is_err());
        assert!(parse_token(&j(r#"{"access_token":"a","expires_in":"soon"}"#)).is_err());
        assert_eq!(
            parse_token(&j(r#"{"access_token":"a"}"#))
                .unwrap()
                .expires_in,
            86400.0
        );
    }

    #[test]
    fn role_lookup_is_exact_and_pages() {
        let r = list_roles_request("Premium User", 2);
        assert_eq!(
            r.path,
            "/api/v2/roles?name_filter=Premium%20User&per_page=100&page=2&include_totals=true"
        );
        let page = parse_roles_page(&j(r#"{"roles":[{"id":"rol_L","name":"Premium User (Legacy)"},{"id":"rol_l","name":"premium user"}],"start":0,"limit":100,"total":250}"#)).unwrap();
        assert_eq!(lookup_step("Premium User", 0, &page), Lookup::Next(1));
        assert_eq!(lookup_step("Premium User", 2, &page), Lookup::NotFound);
        let found = parse_roles_page(&j(
            r#"[{"id":"rol_P","name":"Premium User","description":"d"}]"#,
        ))
        .unwrap();
        assert_eq!(
            lookup_step("Premium User", 0, &found),
            Lookup::Found(ResolvedRole {
                id: "rol_P".into(),
                name: "Premium User".into()
            })
        );
        let short =
            parse_roles_page(&j(r#"[{"id":"rol_L","name":"Premium User (Legacy)"}]"#)).unwrap();
        assert_eq!(lookup_step("Premium User", 0, &short), Lookup::NotFound);
    }

    #[test]
    fn garbage_role_pages_are_typed_errors() {
        for body in [
            r#"{"roles":"x"}"#,
            r#"[{"id":1,"name":"a"}]"#,
            r#""str""#,
            r#"{"total":3}"#,
            r#"[{"name":"a"}]"#,
        ] {
            assert!(
                matches!(
                    parse_roles_page(&j(body)),
                    Err(Error::BadResponse {
                        call: Call::ListRoles,
                        ..
                    })
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn error_bodies() {
        let e = api_error(
            Call::ListRoles,
            429,
            Some(&j(
                r#"{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}"#,
            )),
        );
        assert_eq!(
            e.to_string(),
            "GET /api/v2/roles failed: HTTP 429 too_many_requests (Global limit has been reached)"
        );
        let e = api_error(
            Call::Token,
            401,
            Some(&j(
                r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
            )),
        );
        assert_eq!(
            e.to_string(),
            "POST /oauth/token failed: HTTP 401 access_denied (Unauthorized)"
        );
        assert_eq!(
            api_error(Call::GetRole, 502, None).to_string(),
            "GET /api/v2/roles/{id} failed: HTTP 502"
        );
    }
}
