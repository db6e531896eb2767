//! The Management API wire protocol, without I/O: the requests (`requests`) and the
//! defensive reading of replies (`replies`). The bindings layer only moves these bytes.
//! Everything is re-exported here: `core::mgmt::…` is the one import path.

#[allow(unused_imports)]
use crate::prelude::*;

mod replies;
mod requests;

pub use replies::{
    api_error, lookup_step, parse_org_id, parse_org_ids, parse_role, parse_roles_page,
    parse_ticket_url, parse_token, token_ttl_ms,
};
pub use requests::{
    add_org_member_roles_request, add_org_members_request, assign_permissions_request,
    assign_roles_request, check_path, get_role_request, list_roles_request, org_by_name_request,
    remove_org_member_roles_request, remove_org_members_request, remove_roles_request,
    ticket_request, token_request, update_user_request, user_orgs_request,
};

use super::error::Call;
use super::json::Json;

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

#[cfg(test)]
mod testing {
    pub use super::{Body, Request};
    pub use crate::core::json::Json;

    pub fn j(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    pub fn body_text(r: &Request) -> String {
        match &r.body {
            Some(Body::Json(b)) => serde_json::to_string(b).unwrap(),
            other => panic!("not a JSON body: {other:?}"),
        }
    }
}
