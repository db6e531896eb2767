//! `policy reconcile-plan POLICY.json --roles ROLES.json [--explain]` and `policy
//! reconcile-roles POLICY.json`: the core's side of `npm run reconcile`. The executor
//! (pkg-scripts/reconcile) streams user snapshots in, one NDJSON line each, and carries out
//! the plan lines that come back; it decides nothing itself.

use auth0_provision::core::json::Json;
use auth0_provision::core::mgmt::ResolvedRole;
use auth0_provision::core::plan::{not_evaluable, Changes, RuleOutcome};
use auth0_provision::core::policy::{OrgRef, Policy, RoleRef};
use auth0_provision::core::reconcile::{
    plan_user, PlannedLeave, PlannedOrg, PlannedRole, UserPlan,
};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::process::ExitCode;

fn render(j: &Json) -> String {
    serde_json::to_string(j).unwrap_or_default()
}

/// Role names and ids the policy names (assign, remove, has_role, lacks_role): what the
/// executor resolves and reads the members of.
pub fn roles_cmd(policy: &Policy) -> ExitCode {
    let (mut names, mut ids): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let mut add = |s: &str| {
        let list = match RoleRef::parse(s) {
            RoleRef::Id(_) => &mut ids,
            RoleRef::Name(_) => &mut names,
        };
        if !list.iter().any(|x| x == s) {
            list.push(s.to_owned());
        }
    };
    let mut orgs: Vec<String> = Vec::new();
    // Whether a retract rule gives organization access: the delete scopes are asked for only then.
    let org_retract = policy
        .rules
        .iter()
        .any(|r| r.retract && r.effects.organizations());
    // Whether any organization role is given: its scopes are asked for only then.
    let org_roles = policy
        .rules
        .iter()
        .any(|r| !r.effects.organization_roles.is_empty());
    for r in &policy.rules {
        let e = &r.effects;
        for role in e.assign_roles.iter().chain(&e.remove_roles) {
            add(role.as_str());
        }
        for o in &e.organization_roles {
            o.roles.iter().for_each(|role| add(role.as_str()));
        }
        let named = e.join_organizations.iter();
        for o in named.chain(e.organization_roles.iter().map(|o| &o.organization)) {
            if let OrgRef::Name(s) | OrgRef::Id(s) = o {
                if !orgs.contains(s) {
                    orgs.push(s.clone());
                }
            }
        }
        let mut when = Some(&r.when);
        while let Some(w) = when {
            for role in w.has_role.iter().chain(&w.lacks_role).flatten() {
                add(role);
            }
            when = w.not.as_deref();
        }
    }
    println!(
        "{}",
        json!({ "names": names, "ids": ids, "organizations": orgs, "organization_roles": org_roles,
            "organization_retract": org_retract })
    );
    ExitCode::SUCCESS
}

fn status(o: &RuleOutcome) -> &'static str {
    if o.matched {
        "matched"
    } else if not_evaluable(o.reason) {
        "not_evaluable"
    } else {
        "not_matched"
    }
}

fn roles_json(roles: &[PlannedRole]) -> Value {
    roles
        .iter()
        .map(|p| json!({ "id": p.role.id, "name": p.role.name, "rules": p.rules }))
        .collect()
}

fn orgs_json(orgs: &[PlannedOrg]) -> Value {
    orgs.iter()
        .map(|o| {
            let roles: Vec<Value> = o
                .roles
                .iter()
                .map(|r| json!({ "id": r.id, "name": r.name }))
                .collect();
            json!({ "organization": o.organization, "join": o.join, "roles": roles, "rules": o.rules })
        })
        .collect()
}

fn leave_json(leave: &[PlannedLeave]) -> Value {
    leave
        .iter()
        .map(|l| {
            let roles: Vec<Value> = l
                .roles
                .iter()
                .map(|r| json!({ "id": r.id, "name": r.name }))
                .collect();
            json!({ "organization": l.organization, "leave": l.leave, "roles": roles, "rules": l.rules })
        })
        .collect()
}

fn changes_json(c: &Changes) -> Value {
    serde_json::to_value(Json::Obj(c.clone())).unwrap_or(Value::Null)
}

/// The phase-2 PATCH body (`app_metadata`/`user_metadata`, each only when it changes), or
/// `None` when nothing is written.
fn patch_body((app, user): &(Changes, Changes)) -> Option<Value> {
    let mut body = serde_json::Map::new();
    if !app.is_empty() {
        body.insert("app_metadata".into(), changes_json(app));
    }
    if !user.is_empty() {
        body.insert("user_metadata".into(), changes_json(user));
    }
    (!body.is_empty()).then_some(Value::Object(body))
}

fn explain_lines(p: &UserPlan) -> Vec<String> {
    let mut out = vec![["user ", &p.user_id].concat()];
    for o in &p.rules {
        let mark = match status(o) {
            "matched" => "✔",
            "not_evaluable" => "–",
            _ => "✘",
        };
        let mut line = format!("  {mark} {}: {}", o.name, o.reason);
        if let Some((_, why)) = p.why.iter().find(|(n, _)| n == &o.name) {
            line.push_str(" (");
            line.push_str(&why.join("; "));
            line.push(')');
        }
        out.push(line);
    }
    let id = &p.user_id;
    let names = |rs: &[PlannedRole]| {
        rs.iter()
            .map(|r| format!("{} ({})", r.role.name, r.rules.join(", ")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut n = 0;
    let mut step = |out: &mut Vec<String>, text: String| {
        n += 1;
        out.push(format!("  {n}. {text}"));
    };
    if !p.remove.is_empty() {
        step(
            &mut out,
            format!("DELETE /api/v2/users/{id}/roles: {}", names(&p.remove)),
        );
    }
    for l in &p.leave {
        let org = &l.organization;
        let why = l.rules.join(", ");
        if l.leave {
            step(
                &mut out,
                format!("DELETE /api/v2/organizations/{org}/members (retract: {why})"),
            );
        } else {
            let roles: Vec<&str> = l.roles.iter().map(|r| r.name.as_str()).collect();
            step(
                &mut out,
                format!(
                    "DELETE /api/v2/organizations/{org}/members/{id}/roles: {} (retract: {why})",
                    roles.join(", ")
                ),
            );
        }
    }
    if let Some(body) = patch_body(&p.patch) {
        step(&mut out, format!("PATCH /api/v2/users/{id} {body}"));
    }
    for r in &p.assign {
        step(
            &mut out,
            format!(
                "POST /api/v2/roles/{}/users: {} ({})",
                r.role.id,
                r.role.name,
                r.rules.join(", ")
            ),
        );
    }
    for o in &p.orgs {
        let org = &o.organization;
        if o.join {
            step(
                &mut out,
                format!(
                    "POST /api/v2/organizations/{org}/members ({})",
                    o.rules.join(", ")
                ),
            );
        }
        if !o.roles.is_empty() {
            let roles: Vec<&str> = o.roles.iter().map(|r| r.name.as_str()).collect();
            step(
                &mut out,
                format!(
                    "POST /api/v2/organizations/{org}/members/{id}/roles: {} ({})",
                    roles.join(", "),
                    o.rules.join(", ")
                ),
            );
        }
    }
    if !p.patch_after.is_empty() {
        step(
            &mut out,
            format!(
                "PATCH /api/v2/users/{id} {} (after the grants)",
                json!({ "app_metadata": changes_json(&p.patch_after) })
            ),
        );
    }
    if n == 0 {
        out.push("  nothing to change".into());
    }
    out
}

fn plan_json(p: &UserPlan, explain: bool) -> Value {
    let rules: Vec<Value> = p
        .rules
        .iter()
        .map(|o| json!({ "name": o.name, "status": status(o), "reason": o.reason }))
        .collect();
    let why: serde_json::Map<String, Value> =
        p.why.iter().map(|(n, w)| (n.clone(), json!(w))).collect();
    let patch = patch_body(&p.patch).unwrap_or(Value::Null);
    let after = if p.patch_after.is_empty() {
        Value::Null
    } else {
        json!({ "app_metadata": changes_json(&p.patch_after) })
    };
    let mut v = json!({
        "user_id": p.user_id, "rules": rules, "why": why, "remove": roles_json(&p.remove),
        "patch": patch, "assign": roles_json(&p.assign), "orgs": orgs_json(&p.orgs), "leave": leave_json(&p.leave),
        "patch_after": after, "changes": p.changes(),
    });
    if explain {
        v["explain"] = json!(explain_lines(p));
    }
    v
}

fn read_table(path: &str) -> Result<Vec<ResolvedRole>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{path}: not valid JSON: {e}"))?;
    let items = v
        .as_array()
        .ok_or(format!("{path}: expected [{{\"id\", \"name\"}}, …]"))?;
    items
        .iter()
        .map(|i| match (i["id"].as_str(), i["name"].as_str()) {
            (Some(id), Some(name)) => Ok(ResolvedRole {
                id: id.into(),
                name: name.into(),
            }),
            _ => Err(format!("{path}: each role needs a string id and name")),
        })
        .collect()
}

/// The user record and held role ids of one input line.
/// One input line: the user record, the role ids held and, when read, the memberships.
type Line = (Json, Vec<String>, Option<Vec<(String, Vec<String>)>>);

fn ids(v: &Json, what: &'static str) -> Result<Vec<String>, String> {
    v.as_array()
        .ok_or(what)?
        .iter()
        .map(|r| r.as_str().map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| what.to_owned())
}

fn parse_line(line: &str) -> Result<Line, String> {
    // Read straight into the core's value and move the record out: one parse, no copy, for
    // every user of the tenant.
    let members = match serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))? {
        Json::Obj(m) => m,
        _ => Vec::new(), // no user: the snapshot says what is missing
    };
    let (mut user, mut held, mut orgs) = (Json::Null, Vec::new(), None);
    const ORGS: &str = "orgs: expected {organization: [role ids held in it]}";
    for (k, v) in members {
        match (k.as_str(), v) {
            ("user", u) => user = u,
            ("roles", Json::Null) | ("orgs", Json::Null) => {}
            ("roles", v) => held = ids(&v, "roles: expected a list of role ids")?,
            ("orgs", Json::Obj(m)) => {
                let mut list = Vec::with_capacity(m.len());
                for (org, roles) in &m {
                    list.push((org.clone(), ids(roles, ORGS)?));
                }
                orgs = Some(list);
            }
            ("orgs", _) => return Err(ORGS.into()),
            _ => {}
        }
    }
    Ok((user, held, orgs))
}

/// One line in: `{"user": record, "roles": [held ids]}`; one line out: the plan, or
/// `{"user_id", "error"}` for a line the core refuses (the stream goes on).
fn plan_line(policy: &Policy, table: &[ResolvedRole], line: &str, explain: bool) -> Value {
    let (user, held, orgs) = match parse_line(line) {
        Ok(x) => x,
        Err(e) => return json!({ "user_id": null, "error": e }),
    };
    match plan_user(policy, &user, &held, orgs.as_deref(), table, &render) {
        Ok(p) => plan_json(&p, explain),
        Err(e) => json!({ "user_id": user.get("user_id").and_then(Json::as_str), "error": e }),
    }
}

/// Streams plans: the output is flushed whenever the input has no more buffered lines, so
/// the executor (which writes as it reads) never waits on a line held back here.
pub fn plan_cmd(policy: &Policy, roles_path: &str, explain: bool) -> ExitCode {
    let table = match read_table(roles_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut input = std::io::BufReader::new(std::io::stdin().lock());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: stdin: {e}");
                return ExitCode::from(2);
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        let v = plan_line(policy, &table, &line, explain);
        if writeln!(out, "{v}").is_err() {
            return ExitCode::from(2); // the executor went away
        }
        if input.buffer().is_empty() && out.flush().is_err() {
            return ExitCode::from(2);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
