//! A readable account of a decision: which rules matched and why the others did not, and
//! the plan's steps — the ones the Action carries out — without sending anything.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::Call;
use super::event::{Event, PENDING_KEY};
use super::json::Json;
use super::mgmt::list_roles_request;
use super::plan::{
    assume_success, claims_after, metadata_writes, steps, Decision, Step, Via, WantedRole,
};
use super::policy::{OrgRef, Policy, RoleRef};

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

/// Lines describing `d` for `ev`: the rules, then each step of `core::plan::steps` — the
/// same list the Action carries out — with what it writes if every step succeeds (`json`
/// renders JSON values, e.g. serde_json).
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
    let all = steps(policy, d, ev);
    if all.is_empty() {
        out.push("  nothing to do: no Management API request, no api call".into());
    }
    let success = assume_success(d, ev);
    for step in &all {
        match step {
            Step::Deny { reason, rule } => out.push(
                [
                    "  api.access.deny(",
                    &json(&Json::Str(reason.clone())),
                    ")  [",
                    rule,
                    "]; nothing else is done",
                ]
                .concat(),
            ),
            Step::Token => out.push(
                "  POST /oauth/token  (client credentials; skipped when a token is cached)".into(),
            ),
            Step::AssignRoles(ws) | Step::RemoveRoles(ws) => {
                let ws: Vec<&WantedRole> = ws.iter().collect();
                lookups(&mut out, &ws);
                let (line, only) = if matches!(step, Step::AssignRoles(_)) {
                    (
                        "  POST /api/v2/users/{id}/roles  {roles: [",
                        "]}  (only roles not held)",
                    )
                } else {
                    (
                        "  DELETE /api/v2/users/{id}/roles  {roles: [",
                        "]}  (only roles held)",
                    )
                };
                out.push([line, &role_list(&ws), only].concat());
            }
            Step::LeaveOrganizations(leaves) => {
                for l in leaves {
                    if let OrgRef::Name(n) = &l.org {
                        out.push(
                            [
                                "  GET /api/v2/organizations/name/",
                                n,
                                "  (skipped when cached)",
                            ]
                            .concat(),
                        );
                    }
                    let why = ["  (retract: ", &l.rules.join(", "), " no longer matches)"].concat();
                    if l.leave {
                        out.push(
                            [
                                "  DELETE /api/v2/organizations/{",
                                &l.key,
                                "}/members",
                                &why,
                            ]
                            .concat(),
                        );
                    } else {
                        let names: Vec<&str> = l.roles.iter().map(RoleRef::as_str).collect();
                        out.push(
                            [
                                "  DELETE /api/v2/organizations/{",
                                &l.key,
                                "}/members/{id}/roles  {roles: [",
                                &names.join(", "),
                                "]}",
                                &why,
                            ]
                            .concat(),
                        );
                    }
                }
            }
            Step::Organizations(grants) => {
                for g in grants {
                    if let OrgRef::Name(n) = &g.org {
                        out.push(
                            [
                                "  GET /api/v2/organizations/name/",
                                n,
                                "  (skipped when cached)",
                            ]
                            .concat(),
                        );
                    }
                    let org = &g.key;
                    if g.retract {
                        out.push(
                            "  GET /api/v2/users/{id}/organizations  (a membership found is not the policy's: never retracted)"
                                .into(),
                        );
                    }
                    if g.join {
                        out.push(
                            [
                                "  POST /api/v2/organizations/{",
                                org,
                                "}/members  (",
                                &g.rules.join(", "),
                                ")",
                            ]
                            .concat(),
                        );
                    }
                    if !g.roles.is_empty() {
                        let names: Vec<&str> = g.roles.iter().map(RoleRef::as_str).collect();
                        out.push(
                            [
                                "  POST /api/v2/organizations/{",
                                org,
                                "}/members/{id}/roles  {roles: [",
                                &names.join(", "),
                                "]}",
                            ]
                            .concat(),
                        );
                    }
                }
            }
            Step::AssignPermissions { request, .. } => {
                let perms: Vec<String> = d
                    .permissions
                    .iter()
                    .map(|(p, _)| [&p.resource_server_identifier, " ", &p.permission_name].concat())
                    .collect();
                out.push(
                    [
                        "  ",
                        request.method,
                        " ",
                        &request.path,
                        "  [",
                        &perms.join(", "),
                        "]",
                    ]
                    .concat(),
                );
            }
            Step::Ticket {
                request,
                store_key,
                rule,
            } => {
                let dest = store_key
                    .as_ref()
                    .map_or("the log".to_owned(), |k| ["app_metadata.", k].concat());
                out.push(
                    [
                        "  ",
                        request.method,
                        " ",
                        &request.path,
                        "  → URL into ",
                        &dest,
                        "  [",
                        rule,
                        "]",
                    ]
                    .concat(),
                );
            }
            Step::RequireMfa(m) => {
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
            Step::Metadata(via) => {
                let target = match via {
                    Via::Api => "  api.user.set",
                    Via::Patch => "  PATCH /api/v2/users/{id} ",
                };
                let (app, user) = metadata_writes(policy, d, ev, &success);
                for (label, changes) in [("AppMetadata", &app), ("UserMetadata", &user)] {
                    for (k, v) in changes {
                        out.push(
                            [
                                target,
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
                out.push(
                    [
                        "  (markers: a rule whose request fails is added to ",
                        PENDING_KEY,
                        ")",
                    ]
                    .concat(),
                );
            }
            Step::Claims => {
                for (k, v) in claims_after(policy, d, ev, &success) {
                    let shown = match &policy.claims_namespace {
                        Some(ns) if k == [ns.as_str(), "roles"].concat() => {
                            ["[roles held after this login: ", &json(&v), "]"].concat()
                        }
                        _ => json(&v),
                    };
                    out.push(
                        [
                            "  api.idToken / api.accessToken .setCustomClaim(\"",
                            &k,
                            "\", ",
                            &shown,
                            ")",
                        ]
                        .concat(),
                    );
                }
            }
        }
    }
    out
}

/// What carrying out the steps does on a cold container if every step succeeds: the
/// Management API calls in order (method and path template) and the `api` calls as
/// `[method, args...]` — the form the tests compare with the emulator's request log and the
/// runner's api recorder, so explain and the Action can never drift apart.
pub fn trace(policy: &Policy, d: &Decision, ev: &Event) -> (Vec<&'static str>, Vec<Json>) {
    let (mut requests, mut calls) = (Vec::new(), Vec::new());
    let success = assume_success(d, ev);
    let call = |name: &str, args: Vec<Json>| {
        let mut v = vec![Json::Str(name.into())];
        v.extend(args);
        Json::Arr(v)
    };
    for step in steps(policy, d, ev) {
        match &step {
            Step::Deny { reason, .. } => calls.push(call("deny", vec![Json::Str(reason.clone())])),
            Step::Token => requests.push(Call::Token.label()),
            Step::AssignRoles(ws) | Step::RemoveRoles(ws) => {
                for w in ws {
                    requests.push(match w.role {
                        RoleRef::Name(_) => Call::ListRoles.label(),
                        RoleRef::Id(_) => Call::GetRole.label(),
                    });
                }
                requests.push(if matches!(step, Step::AssignRoles(_)) {
                    Call::AssignRoles.label()
                } else {
                    Call::RemoveRoles.label()
                });
            }
            Step::LeaveOrganizations(leaves) => {
                for l in leaves {
                    if let OrgRef::Name(_) = l.org {
                        requests.push(Call::OrgByName.label());
                    }
                    if l.leave {
                        requests.push(Call::RemoveOrgMembers.label());
                    } else {
                        for r in &l.roles {
                            requests.push(match r {
                                RoleRef::Name(_) => Call::ListRoles.label(),
                                RoleRef::Id(_) => Call::GetRole.label(),
                            });
                        }
                        requests.push(Call::RemoveOrgMemberRoles.label());
                    }
                }
            }
            Step::Organizations(grants) => {
                for g in grants {
                    if let OrgRef::Name(_) = g.org {
                        requests.push(Call::OrgByName.label());
                    }
                    if g.retract {
                        requests.push(Call::UserOrgs.label());
                    }
                    if g.join {
                        requests.push(Call::AddOrgMembers.label());
                    }
                    for r in &g.roles {
                        requests.push(match r {
                            RoleRef::Name(_) => Call::ListRoles.label(),
                            RoleRef::Id(_) => Call::GetRole.label(),
                        });
                    }
                    if !g.roles.is_empty() {
                        requests.push(Call::AddOrgMemberRoles.label());
                    }
                }
            }
            Step::AssignPermissions { request, .. } | Step::Ticket { request, .. } => {
                requests.push(request.call.label())
            }
            Step::RequireMfa(m) => calls.push(call("mfa", vec![Json::Str(m.provider.clone())])),
            Step::Metadata(via) => {
                let (app, user) = metadata_writes(policy, d, ev, &success);
                match via {
                    Via::Patch if !app.is_empty() || !user.is_empty() => {
                        requests.push(Call::UpdateUser.label())
                    }
                    Via::Patch => {}
                    Via::Api => {
                        for (name, changes) in [("setAppMetadata", app), ("setUserMetadata", user)]
                        {
                            for (k, v) in changes {
                                calls.push(call(name, vec![Json::Str(k), v]));
                            }
                        }
                    }
                }
            }
            Step::Claims => {
                for (k, v) in claims_after(policy, d, ev, &success) {
                    calls.push(call("setCustomClaim", vec![Json::Str(k), v]));
                }
            }
        }
    }
    (requests, calls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{parse_event, Trigger};
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
