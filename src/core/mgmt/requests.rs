//! The requests: method, path and body of each Management API call the Action makes.

use crate::core::text::cat;
use crate::core::text::{before_any, split_byte};
#[allow(unused_imports)]
use crate::prelude::*;

use super::{Body, Request, ROLES_PER_PAGE};
use crate::core::config::Tenant;
use crate::core::decimal::decimal;
use crate::core::encode::{form, segment};
use crate::core::error::{Call, Error};
use crate::core::json::{obj, Json};
use crate::core::policy::{Permission, Ticket, TicketKind};

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

/// `GET /api/v2/roles?name_filter=…&per_page=100&page=N&include_totals=true`.
pub fn list_roles_request(name: &str, page: u32) -> Request {
    let mut path = String::from("/api/v2/roles?");
    path.push_str(&form(&[
        ("name_filter", name),
        ("per_page", &decimal(ROLES_PER_PAGE)),
        ("page", &decimal(page)),
        ("include_totals", "true"),
    ]));
    Request {
        call: Call::ListRoles,
        method: "GET",
        path,
        body: None,
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

fn user_path(user_id: &str, tail: &str) -> String {
    cat(&["/api/v2/users/", &segment(user_id), tail])
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

/// `GET /api/v2/organizations/name/{name}`.
pub fn org_by_name_request(name: &str) -> Request {
    Request {
        call: Call::OrgByName,
        method: "GET",
        path: cat(&["/api/v2/organizations/name/", &segment(name)]),
        body: None,
    }
}

fn org_path(org_id: &str, tail: &str) -> String {
    cat(&["/api/v2/organizations/", &segment(org_id), tail])
}

/// `POST /api/v2/organizations/{id}/members` with `{"members": [user ids]}` (≤ 10, 204).
pub fn add_org_members_request(org_id: &str, user_ids: &[&str]) -> Request {
    Request {
        call: Call::AddOrgMembers,
        method: "POST",
        path: org_path(org_id, "/members"),
        body: Some(Body::Json(obj(&[("members", strs(user_ids))]))),
    }
}

/// `POST /api/v2/organizations/{id}/members/{user_id}/roles` with `{"roles": [ids]}` (204).
pub fn add_org_member_roles_request(org_id: &str, user_id: &str, role_ids: &[&str]) -> Request {
    Request {
        call: Call::AddOrgMemberRoles,
        method: "POST",
        path: org_path(org_id, &cat(&["/members/", &segment(user_id), "/roles"])),
        body: Some(Body::Json(obj(&[("roles", strs(role_ids))]))),
    }
}

/// `DELETE /api/v2/organizations/{id}/members` with `{"members": [user ids]}` (≤ 10, 204).
pub fn remove_org_members_request(org_id: &str, user_ids: &[&str]) -> Request {
    Request {
        call: Call::RemoveOrgMembers,
        method: "DELETE",
        path: org_path(org_id, "/members"),
        body: Some(Body::Json(obj(&[("members", strs(user_ids))]))),
    }
}

/// `DELETE /api/v2/organizations/{id}/members/{user_id}/roles` with `{"roles": [ids]}` (204).
pub fn remove_org_member_roles_request(org_id: &str, user_id: &str, role_ids: &[&str]) -> Request {
    Request {
        call: Call::RemoveOrgMemberRoles,
        method: "DELETE",
        path: org_path(org_id, &cat(&["/members/", &segment(user_id), "/roles"])),
        body: Some(Body::Json(obj(&[("roles", strs(role_ids))]))),
    }
}

/// Page `page` (100 a page) of `GET /api/v2/users/{id}/organizations`: the user's
/// memberships, read before a retract rule joins (a membership found is not the policy's).
pub fn user_orgs_request(user_id: &str, page: u32) -> Request {
    let mut path = cat(&[
        "/api/v2/users/",
        &segment(user_id),
        "/organizations?per_page=100&page=",
    ]);
    crate::core::decimal::push_decimal(&mut path, page);
    Request {
        call: Call::UserOrgs,
        method: "GET",
        path,
        body: None,
    }
}

/// Refuses a request whose path does not keep its template's segments (`call.label()`):
/// every literal segment as written, every `{id}` one non-empty segment that a URL parser
/// keeps — not `.` or `..`, however spelled (`%2E`, `%2e`, `.%2E`…), since `fetch` resolves
/// `/users/%2E%2E/roles` to `/roles`. The last guard before a request leaves.
pub fn check_path(req: &Request) -> Result<(), Error> {
    let path = before_any(&req.path, b"?");
    let template = split_byte(req.call.label(), b' ')
        .nth(1)
        .unwrap_or_default();
    let dots = |s: &str| {
        let s = crate::core::encode::replace_str(&s.to_ascii_lowercase(), "%2e", ".");
        s == "." || s == ".."
    };
    let keeps = split_byte(path, b'/').count() == split_byte(template, b'/').count()
        && split_byte(path, b'/')
            .zip(split_byte(template, b'/'))
            .all(|(p, t)| p == t || (t.starts_with('{') && !p.is_empty() && !dots(p)));
    if keeps {
        Ok(())
    } else {
        Err(Error::UnsafePath { call: req.call })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;
    use super::*;

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
}
