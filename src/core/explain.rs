//! A readable account of a decision: which rules matched and why the others did not, and
//! the exact plan (Management API requests and `api` calls) without sending anything.

use super::event::{Event, Trigger};
use super::json::Json;
use super::mgmt::{list_roles_request, ticket_request};
use super::plan::{needs_management_api, role_changes, Decision, WantedRole};
use super::policy::{Policy, RoleRef};

fn role_list(ws: &[&WantedRole]) -> String {
    ws.iter()
        .map(|w| w.role.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn lookups(out: &mut Vec<String>, ws: &[&WantedRole]) {
    for w in ws {
        out.push(match &w.role {
            RoleRef::Name(n) => [
                "  GET ",
                &list_roles_request(n, 0).path,
                "  (role id; skipped when cached)",
            ]
            .concat(),
            RoleRef::Id(id) => [
                "  GET /api/v2/roles/",
                id,
                "  (role name; skipped when cached)",
            ]
            .concat(),
        });
    }
}

/// Lines describing `d` for `ev` (`json` renders JSON values, e.g. serde_json).
pub fn explain(
    policy: &Policy,
    d: &Decision,
    ev: &Event,
    json: impl Fn(&Json) -> String,
) -> Vec<String> {
    let mut out = vec![
        ["trigger ", ev.trigger.id(), ", user ", &ev.user_id].concat(),
        "rules:".to_owned(),
    ];
    for r in &d.rules {
        let mark = if r.matched { "  ✔ " } else { "  ✘ " };
        out.push([mark, &r.name, ": ", r.reason].concat());
    }
    out.push("plan:".into());
    let before = out.len();
    if let Some((reason, rule)) = &d.deny {
        out.push(
            [
                "  api.access.deny(",
                &json(&Json::Str(reason.clone())),
                ")  [",
                rule,
                "]; nothing else is done",
            ]
            .concat(),
        );
        return out;
    }
    let (assign, remove) = role_changes(d, ev.held_roles());
    let post_login = ev.trigger == Trigger::PostLogin;
    if needs_management_api(d, ev) {
        out.push(
            "  POST /oauth/token  (client credentials; skipped when a token is cached)".into(),
        );
    }
    lookups(&mut out, &assign);
    if !assign.is_empty() {
        out.push(
            [
                "  POST /api/v2/users/{id}/roles  {roles: [",
                &role_list(&assign),
                "]}  (only roles not held)",
            ]
            .concat(),
        );
    }
    lookups(&mut out, &remove);
    if !remove.is_empty() {
        out.push(
            [
                "  DELETE /api/v2/users/{id}/roles  {roles: [",
                &role_list(&remove),
                "]}  (only roles held)",
            ]
            .concat(),
        );
    }
    if !d.permissions.is_empty() {
        let perms: Vec<String> = d
            .permissions
            .iter()
            .map(|(p, _)| [&p.resource_server_identifier, " ", &p.permission_name].concat())
            .collect();
        out.push(
            [
                "  POST /api/v2/users/{id}/permissions  [",
                &perms.join(", "),
                "]",
            ]
            .concat(),
        );
    }
    for (t, rule) in &d.tickets {
        let req = ticket_request(&ev.user_id, t);
        let dest = t
            .store_key
            .as_ref()
            .map_or("the log".to_owned(), |k| ["app_metadata.", k].concat());
        out.push(
            [
                "  ",
                req.method,
                " ",
                &req.path,
                "  → URL into ",
                &dest,
                "  [",
                rule,
                "]",
            ]
            .concat(),
        );
    }
    let meta_target = if post_login {
        "  api.user.set"
    } else {
        "  PATCH /api/v2/users/{id} "
    };
    for (label, changes) in [
        ("AppMetadata", &d.app_metadata),
        ("UserMetadata", &d.user_metadata),
    ] {
        for (k, v) in changes {
            out.push(
                [
                    meta_target,
                    label,
                    "(",
                    &json(&Json::Str(k.clone())),
                    ", ",
                    &json(v),
                    ")",
                ]
                .concat(),
            );
        }
    }
    if post_login {
        let mut claims: Vec<(String, String)> =
            d.claims.iter().map(|(k, v)| (k.clone(), json(v))).collect();
        if let Some(ns) = &policy.claims_namespace {
            claims.push((
                [ns.as_str(), "roles"].concat(),
                "[roles held after this login]".into(),
            ));
        }
        for (k, v) in claims {
            out.push(
                [
                    "  api.idToken / api.accessToken .setCustomClaim(\"",
                    &k,
                    "\", ",
                    &v,
                    ")",
                ]
                .concat(),
            );
        }
        if let Some(m) = &d.mfa {
            let remember = if m.allow_remember_browser {
                "true"
            } else {
                "false"
            };
            out.push(
                [
                    "  api.multifactor.enable(\"",
                    &m.provider,
                    "\", {allowRememberBrowser: ",
                    remember,
                    "})",
                ]
                .concat(),
            );
        }
    }
    if out.len() == before {
        out.push("  nothing to do: no Management API request, no api call".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::parse_event;
    use crate::core::plan::decide;
    use crate::core::policy::parse_policy;

    fn run(policy: &str, event: &str, trigger: Trigger) -> String {
        let p = parse_policy(&serde_json::from_str(policy).unwrap()).unwrap();
        let ev = parse_event(&serde_json::from_str(event).unwrap(), trigger).unwrap();
        explain(&p, &decide(&p, &ev), &ev, |j| {
            serde_json::to_string(j).unwrap()
        })
        .join("\n")
    }

    #[test]
    fn explains_matches_and_the_plan() {
        let policy = r#"{"claims_namespace":"https://e.com/","rules":[
            {"name":"g","when":{"provider":"google-oauth2"},"assign_roles":["Premium User"],"set_app_metadata":{"plan":"pro"}},
            {"name":"db","when":{"provider":"auth0"},"assign_roles":["X"]}]}"#;
        let ev =
            r#"{"user":{"user_id":"google-oauth2|1"},"connection":{"strategy":"google-oauth2"}}"#;
        let text = run(policy, ev, Trigger::PostLogin);
        for want in [
            "  ✔ g: conditions hold",
            "  ✘ db: provider does not match",
            "  POST /oauth/token",
            "  GET /api/v2/roles?name_filter=Premium%20User&per_page=100&page=0&include_totals=true",
            "  POST /api/v2/users/{id}/roles  {roles: [Premium User]}",
            "  api.user.setAppMetadata(\"plan\", \"pro\")",
            "setCustomClaim(\"https://e.com/roles\"",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        let text = run(policy, ev, Trigger::PostUserRegistration);
        assert!(
            text.contains("  PATCH /api/v2/users/{id} AppMetadata(\"plan\", \"pro\")"),
            "{text}"
        );
        assert!(!text.contains("setCustomClaim"));
        let held = r#"{"user":{"user_id":"u","app_metadata":{"plan":"pro"}},"connection":{"strategy":"google-oauth2"},"authorization":{"roles":["Premium User"]}}"#;
        let text = run(
            r#"{"rules":[{"name":"g","assign_roles":["Premium User"],"set_app_metadata":{"plan":"pro"}}]}"#,
            held,
            Trigger::PostLogin,
        );
        assert!(
            text.ends_with("  nothing to do: no Management API request, no api call"),
            "{text}"
        );
    }
}
