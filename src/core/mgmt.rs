//! The Management API wire protocol, without I/O: request construction and defensive
//! response parsing. The bindings layer only moves these bytes.

use super::config::Tenant;
use super::encode::{form, segment};
use super::error::{Call, Error};
use super::json::{obj, Json};
use super::policy::{Permission, Ticket, TicketKind};

/// Roles per page when looking a role up by name (the API's maximum).
pub const ROLES_PER_PAGE: u32 = 100;
/// Upper bound on pages read for one name look-up (bounds the requests a login can make).
pub const MAX_ROLE_PAGES: u32 = 10;

/// One HTTP request to the tenant.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Which call this is (for errors and logs).
    pub call: Call,
    /// HTTP method.
    pub method: &'static str,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Body, when any.
    pub body: Option<Body>,
}

/// A request body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `application/x-www-form-urlencoded`.
    Form(String),
    /// `application/json` (serialised by the host's `JSON.stringify`).
    Json(Json),
}

/// A Management API access token with its lifetime.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The bearer token (never logged).
    pub access_token: String,
    /// Lifetime in seconds (`expires_in`).
    pub expires_in: f64,
}

/// `POST /oauth/token` with the client-credentials grant (form-encoded, as RFC 6749 says).
pub fn token_request(t: &Tenant) -> Request {
    let audience = t.audience();
    Request {
        call: Call::Token,
        method: "POST",
        path: "/oauth/token".into(),
        body: Some(Body::Form(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.client_id),
            ("client_secret", &t.client_secret),
            ("audience", &audience),
        ]))),
    }
}

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

/// `GET /api/v2/roles?name_filter=…&per_page=100&page=N&include_totals=true`.
pub fn list_roles_request(name: &str, page: u32) -> Request {
    let mut path = String::from("/api/v2/roles?");
    path.push_str(&form(&[
        ("name_filter", name),
        ("per_page", &ROLES_PER_PAGE.to_string()),
        ("page", &page.to_string()),
        ("include_totals", "true"),
    ]));
    Request {
        call: Call::ListRoles,
        method: "GET",
        path,
        body: None,
    }
}

/// A role resolved against the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRole {
    /// Role id (`rol_…`).
    pub id: String,
    /// Role name.
    pub name: String,
}

/// One page of roles.
#[derive(Clone, Debug, PartialEq)]
pub struct RolesPage {
    /// Roles on this page.
    pub roles: Vec<ResolvedRole>,
    /// `total` when the server sent totals.
    pub total: Option<f64>,
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

/// What to do after reading page `page` while looking for `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Found the role with exactly this name.
    Found(ResolvedRole),
    /// Read the next page.
    Next(u32),
    /// No role has exactly this name.
    NotFound,
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

/// `GET /api/v2/roles/{id}`.
pub fn get_role_request(id: &str) -> Request {
    let mut path = String::from("/api/v2/roles/");
    path.push_str(&segment(id));
    Request {
        call: Call::GetRole,
        method: "GET",
        path,
        body: None,
    }
}

/// Reads a `{id, name, description}` role.
pub fn parse_role(body: &Json) -> Result<ResolvedRole, Error> {
    parse_role_obj(Call::GetRole, body)
}

fn user_path(user_id: &str, tail: &str) -> String {
    ["/api/v2/users/", &segment(user_id), tail].concat()
}

fn strs(items: &[&str]) -> Json {
    Json::Arr(items.iter().map(|s| Json::Str((*s).to_owned())).collect())
}

/// `POST /api/v2/users/{id}/roles` with `{"roles": [ids]}` (the 204 reply has no body).
pub fn assign_roles_request(user_id: &str, role_ids: &[&str]) -> Request {
    Request {
        call: Call::AssignRoles,
        method: "POST",
        path: user_path(user_id, "/roles"),
        body: Some(Body::Json(obj(&[("roles", strs(role_ids))]))),
    }
}

/// `DELETE /api/v2/users/{id}/roles` with `{"roles": [ids]}`.
pub fn remove_roles_request(user_id: &str, role_ids: &[&str]) -> Request {
    Request {
        call: Call::RemoveRoles,
        method: "DELETE",
        path: user_path(user_id, "/roles"),
        body: Some(Body::Json(obj(&[("roles", strs(role_ids))]))),
    }
}

/// `POST /api/v2/users/{id}/permissions` with `{"permissions": [{resource_server_identifier, permission_name}]}`.
pub fn assign_permissions_request(user_id: &str, perms: &[&Permission]) -> Request {
    let list = perms
        .iter()
        .map(|p| {
            obj(&[
                (
                    "resource_server_identifier",
                    Json::Str(p.resource_server_identifier.clone()),
                ),
                ("permission_name", Json::Str(p.permission_name.clone())),
            ])
        })
        .collect();
    Request {
        call: Call::AssignPermissions,
        method: "POST",
        path: user_path(user_id, "/permissions"),
        body: Some(Body::Json(obj(&[("permissions", Json::Arr(list))]))),
    }
}

/// `PATCH /api/v2/users/{id}` merging first-level metadata keys (null deletes).
pub fn update_user_request(
    user_id: &str,
    app: &[(String, Json)],
    user: &[(String, Json)],
) -> Request {
    let mut body = Vec::new();
    if !app.is_empty() {
        body.push(("app_metadata".to_owned(), Json::Obj(app.to_vec())));
    }
    if !user.is_empty() {
        body.push(("user_metadata".to_owned(), Json::Obj(user.to_vec())));
    }
    Request {
        call: Call::UpdateUser,
        method: "PATCH",
        path: user_path(user_id, ""),
        body: Some(Body::Json(Json::Obj(body))),
    }
}

/// The ticket-creating request for `t`.
pub fn ticket_request(user_id: &str, t: &Ticket) -> Request {
    let mut body = vec![("user_id".to_owned(), Json::Str(user_id.to_owned()))];
    let (call, path) = match t.kind {
        TicketKind::PasswordReset => {
            if let Some(u) = &t.result_url {
                body.push(("result_url".into(), Json::Str(u.clone())));
            }
            if let Some(ttl) = t.ttl_sec {
                body.push(("ttl_sec".into(), Json::Num(f64::from(ttl))));
            }
            (Call::PasswordTicket, "/api/v2/tickets/password-change")
        }
        TicketKind::MfaEnrollment => {
            // The URL goes where the policy says, not to the user's inbox.
            body.push(("send_mail".into(), Json::Bool(false)));
            (Call::MfaTicket, "/api/v2/guardian/enrollments/ticket")
        }
    };
    Request {
        call,
        method: "POST",
        path: path.into(),
        body: Some(Body::Json(Json::Obj(body))),
    }
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

/// Refuses a request whose path does not keep its template's segments (`call.label()`):
/// every literal segment as written, every `{id}` one non-empty segment that a URL parser
/// keeps — not `.` or `..`, however spelled (`%2E`, `%2e`, `.%2E`…), since `fetch` resolves
/// `/users/%2E%2E/roles` to `/roles`. The last guard before a request leaves.
pub fn check_path(req: &Request) -> Result<(), Error> {
    let path = req.path.split('?').next().unwrap_or_default();
    let template = req.call.label().split(' ').nth(1).unwrap_or_default();
    let dots = |s: &str| {
        let s = s.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    };
    let keeps = path.split('/').count() == template.split('/').count()
        && path
            .split('/')
            .zip(template.split('/'))
            .all(|(p, t)| p == t || (t == "{id}" && !p.is_empty() && !dots(p)));
    if keeps {
        Ok(())
    } else {
        Err(Error::UnsafePath { call: req.call })
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
    Error::Api {
        call,
        status,
        code: field("errorCode").or_else(|| field("error")),
        message: field("message").or_else(|| field("error_description")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    fn body_text(r: &Request) -> String {
        match &r.body {
            Some(Body::Json(b)) => serde_json::to_string(b).unwrap(),
            other => panic!("not a JSON body: {other:?}"),
        }
    }

    #[test]
    fn effect_requests_match_the_api() {
        let p = Permission {
            resource_server_identifier: "https://api.example.com".into(),
            permission_name: "read:reports".into(),
        };
        let r = assign_permissions_request("auth0|x", &[&p]);
        assert_eq!(r.path, "/api/v2/users/auth0%7Cx/permissions");
        assert_eq!(
            body_text(&r),
            r#"{"permissions":[{"resource_server_identifier":"https://api.example.com","permission_name":"read:reports"}]}"#
        );
        let r = remove_roles_request("auth0|x", &["rol_1"]);
        assert_eq!(
            (r.method, body_text(&r).as_str()),
            ("DELETE", r#"{"roles":["rol_1"]}"#)
        );
        let r = update_user_request("auth0|x", &[("plan".into(), Json::Str("pro".into()))], &[]);
        assert_eq!(
            (r.method, r.path.as_str(), body_text(&r).as_str()),
            (
                "PATCH",
                "/api/v2/users/auth0%7Cx",
                r#"{"app_metadata":{"plan":"pro"}}"#
            )
        );
        let t = Ticket {
            kind: TicketKind::PasswordReset,
            store_key: None,
            result_url: Some("https://app/x".into()),
            ttl_sec: Some(3600),
        };
        assert_eq!(
            body_text(&ticket_request("auth0|x", &t)),
            r#"{"user_id":"auth0|x","result_url":"https://app/x","ttl_sec":3600.0}"#
        );
        let t = Ticket {
            kind: TicketKind::MfaEnrollment,
            store_key: None,
            result_url: None,
            ttl_sec: None,
        };
        let r = ticket_request("auth0|x", &t);
        assert_eq!(
            (r.path.as_str(), body_text(&r).as_str()),
            (
                "/api/v2/guardian/enrollments/ticket",
                r#"{"user_id":"auth0|x","send_mail":false}"#
            )
        );
        assert_eq!(
            parse_ticket_url(
                Call::MfaTicket,
                Some(&j(r#"{"ticket_id":"t","ticket_url":"https://t/1"}"#))
            ),
            Ok("https://t/1".into())
        );
        assert!(parse_ticket_url(
            Call::PasswordTicket,
            Some(&j(r#"{"ticket":"javascript:x"}"#))
        )
        .is_err());
        assert!(parse_ticket_url(Call::PasswordTicket, None).is_err());
    }

    #[test]
    fn token_request_is_a_client_credentials_form() {
        let t = Tenant {
            origin: "https://t.auth0.com".into(),
            client_id: "cid".into(),
            client_secret: "s&c=ret".into(),
        };
        let r = token_request(&t);
        assert_eq!(r.path, "/oauth/token");
        assert_eq!(
            r.body,
            Some(Body::Form("grant_type=client_credentials&client_id=cid&client_secret=s%26c%3Dret&audience=https%3A%2F%2Ft.auth0.com%2Fapi%2Fv2%2F".into()))
        );
    }

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
    fn paths_keep_their_template_or_are_refused() {
        for id in ["auth0|1", "a/../b", "...", ".a", "%2E", "%2e%2E", "a.b"] {
            for r in [
                assign_roles_request(id, &["rol_1"]),
                remove_roles_request(id, &["rol_1"]),
                update_user_request(id, &[], &[]),
                get_role_request(id),
                list_roles_request(id, 3),
                ticket_request(
                    id,
                    &Ticket {
                        kind: TicketKind::MfaEnrollment,
                        store_key: None,
                        result_url: None,
                        ttl_sec: None,
                    },
                ),
            ] {
                assert_eq!(check_path(&r), Ok(()), "{id:?} {}", r.path);
            }
        }
        for id in ["", ".", ".."] {
            for r in [
                assign_roles_request(id, &["rol_1"]),
                assign_permissions_request(id, &[]),
                update_user_request(id, &[], &[]),
                get_role_request(id),
            ] {
                assert_eq!(
                    check_path(&r),
                    Err(Error::UnsafePath { call: r.call }),
                    "{id:?}"
                );
            }
        }
        // Whatever built the path: dot segments in any spelling, extra or missing segments.
        for (call, path) in [
            (Call::AssignRoles, "/api/v2/users/%2e%2E/roles"),
            (Call::AssignRoles, "/api/v2/users/.%2e/roles"),
            (Call::AssignRoles, "/api/v2/users/%2E./roles"),
            (Call::UpdateUser, "/api/v2/users/%2E"),
            (Call::AssignRoles, "/api/v2/users/a/b/roles"),
            (Call::AssignRoles, "/api/v2/users//roles"),
            (Call::UpdateUser, "/api/v2/users/a/"),
            (Call::ListRoles, "/api/v2/../roles?x=1"),
            (Call::Token, "oauth/token"),
        ] {
            let r = Request {
                call,
                method: "POST",
                path: path.into(),
                body: None,
            };
            assert!(check_path(&r).is_err(), "{path}");
        }
        assert_eq!(
            Error::UnsafePath {
                call: Call::AssignRoles
            }
            .to_string(),
            "POST /api/v2/users/{id}/roles not sent: an id in its path is empty, \".\" or \"..\""
        );
    }

    #[test]
    fn assignment_encodes_the_user_id() {
        let r = assign_roles_request("auth0|a/../b", &["rol_1"]);
        assert_eq!(r.path, "/api/v2/users/auth0%7Ca%2F..%2Fb/roles");
        assert_eq!(body_text(&r), r#"{"roles":["rol_1"]}"#);
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
