//! `npm run policy -- check POLICY.json`, `npm run policy -- explain POLICY.json EVENT.json
//! [--trigger post-login|post-user-registration]` and `npm run policy -- check-secrets
//! [--partial] [--json] [SECRETS.json|-]`: validate a policy, explain a decision and check the
//! Action's secrets with the same Rust core the Action runs, compiled for the host.

use auth0_provision::core::config::{check_secrets, SecretProblem, SecretsReport};
use auth0_provision::core::encode::policy_hash;
use auth0_provision::core::event::{parse_event, Trigger};
use auth0_provision::core::explain::{explain, trace};
use auth0_provision::core::json::Json;
use auth0_provision::core::plan::decide;
use auth0_provision::core::policy::{parse_policy, Policy, SECRET_MAX_CHARS};
use std::process::ExitCode;

#[path = "policy/reconcile.rs"]
mod reconcile;

const USAGE: &str = "usage: policy check POLICY.json\n       policy explain POLICY.json EVENT.json [--trigger post-login|post-user-registration] [--json]\n       policy check-secrets [--partial] [--json] [SECRETS.json|-]   ({NAME: value} or [{name, value}]; stdin when no file)\n       policy reconcile-roles POLICY.json   (the role names and ids the policy names, as JSON)\n       policy reconcile-plan POLICY.json --roles ROLES.json [--explain]   (NDJSON users on stdin, plans on stdout)";

fn read_json(path: &str) -> Result<(String, Json), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let json = serde_json::from_str(&text).map_err(|e| format!("{path}: not valid JSON: {e}"))?;
    Ok((text, json))
}

fn load_policy(path: &str) -> Result<Policy, ExitCode> {
    let (_, doc) = read_json(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    parse_policy(&doc).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {}: {}\n  hint: {}", e.path, e.message(), e.help());
        }
        eprintln!("{path}: {} error(s)", errors.len());
        ExitCode::FAILURE
    })
}

fn check(path: &str) -> ExitCode {
    let policy = match load_policy(path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // The POLICY secret holds the compact form; Auth0 caps a secret at 4096 characters.
    let compact = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|v| v.to_string())
        .unwrap_or_default();
    let chars = compact.chars().count();
    // The hash the Action logs (`policy=…`): whitespace outside strings does not count, so the
    // file and its compact secret agree.
    let hash = policy_hash(&std::fs::read_to_string(path).unwrap_or_default());
    println!("{path}: valid, {} rule(s); {chars} characters as a POLICY secret (limit {SECRET_MAX_CHARS}); policy={hash}", policy.rules.len());
    if chars > SECRET_MAX_CHARS {
        eprintln!(
            "error: too long for the POLICY secret; bake it into the Action instead: npm run build -- --policy {path}"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn explain_cmd(policy_path: &str, event_path: &str, trigger: Trigger, json: bool) -> ExitCode {
    let policy = match load_policy(policy_path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let ev = match read_json(event_path).map(|(_, j)| j).and_then(|j| {
        parse_event(&j, trigger).map_err(|e| format!("{event_path}: {} {}", e.field, e.message))
    }) {
        Ok(ev) => ev,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let d = decide(&policy, &ev);
    if json {
        // What a cold container does if every step succeeds (tests compare it with the Action).
        let (requests, calls) = trace(&policy, &d, &ev);
        println!(
            "{}",
            serde_json::json!({ "requests": requests, "api": calls })
        );
        return ExitCode::SUCCESS;
    }
    for line in explain(&policy, &d, &ev, |j| {
        serde_json::to_string(j).unwrap_or_default()
    }) {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

/// `{NAME: value}` as is; `[{name, value}]` (the Management API's and the Deploy CLI's form)
/// as an object in the same order, a name given twice kept twice so the check reports it.
fn secrets_object(doc: Json) -> Option<Json> {
    match doc {
        Json::Arr(items) => items
            .into_iter()
            .map(|item| {
                let name = item.get("name")?.as_str()?.to_owned();
                Some((name, item.get("value").cloned().unwrap_or(Json::Null)))
            })
            .collect::<Option<Vec<_>>>()
            .map(Json::Obj),
        obj @ Json::Obj(_) => Some(obj),
        _ => None,
    }
}

fn report_json(r: &SecretsReport) -> String {
    let item = |p: &SecretProblem| {
        let mut o = serde_json::json!({ "secret": p.secret, "message": p.message });
        if let Some(path) = &p.path {
            o["path"] = path.as_str().into();
        }
        if let Some(help) = p.help {
            o["hint"] = help.into();
        }
        o
    };
    serde_json::json!({
        "ok": r.problems.is_empty(),
        "errors": r.problems.iter().map(item).collect::<Vec<_>>(),
        "notes": r.notes.iter().map(item).collect::<Vec<_>>(),
        "origin": r.origin,
        "timeout_ms": r.timeout_ms,
        "policy_rules": r.policy_rules,
    })
    .to_string()
}

/// Validates the Action's secrets with the functions the Action runs (deploy and export call
/// this instead of keeping rules of their own). Names and paths are printed, never a value.
fn check_secrets_cmd(args: &[&str]) -> ExitCode {
    let mut require_credentials = true;
    let mut as_json = false;
    let mut file = None;
    for a in args {
        match *a {
            "--partial" => require_credentials = false,
            "--json" => as_json = true,
            f if file.is_none() && (f == "-" || !f.starts_with('-')) => file = Some(f),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (source, text) = match file.filter(|f| *f != "-") {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => (path, t),
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        },
        None => {
            let mut t = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut t) {
                eprintln!("stdin: {e}");
                return ExitCode::from(2);
            }
            ("stdin", t)
        }
    };
    // serde_json's messages name a position, never the text, so a secret cannot leak here.
    let secrets = match serde_json::from_str::<Json>(&text).map(secrets_object) {
        Ok(Some(s)) => s,
        Ok(None) => {
            eprintln!(
                "{source}: expected a JSON object {{NAME: value}} or an array of {{name, value}}"
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{source}: not valid JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let r = check_secrets(&secrets, require_credentials, |t| {
        serde_json::from_str(t).map_err(|e| e.to_string())
    });
    if as_json {
        println!("{}", report_json(&r));
    } else {
        for p in &r.problems {
            match &p.path {
                Some(path) => eprintln!(
                    "error: {}: {path}: {}\n  hint: {}",
                    p.secret,
                    p.message,
                    p.help.unwrap_or_default()
                ),
                None => eprintln!("error: {}: {}", p.secret, p.message),
            }
        }
        for n in &r.notes {
            println!("note: {}: {}", n.secret, n.message);
        }
        if r.problems.is_empty() {
            let mut said = vec![format!("deadline {} ms", r.timeout_ms.unwrap_or_default())];
            if let Some(n) = r.policy_rules {
                said.insert(0, format!("POLICY {n} rule(s)"));
            }
            println!(
                "{source}: the Action accepts these secrets ({})",
                said.join(", ")
            );
        } else {
            eprintln!("{source}: {} error(s)", r.problems.len());
        }
    }
    if r.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `policy explain … | head` closes stdout early: `println!` then panics with "failed printing
/// to stdout: Broken pipe" (or another reason stdout is gone). That is the reader's choice,
/// not a crash: exit as a shell tool does on SIGPIPE (141), quietly; every other panic keeps
/// the default report.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        // A pipe says "Broken pipe"; a socket pair (Node's stdio) "Connection reset by peer".
        if text.contains("failed printing to stdout") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_broken_pipe();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let trigger = match args.iter().position(|a| a == "--trigger") {
        Some(i) => match args.get(i + 1).and_then(|t| Trigger::from_id(t)) {
            Some(t) => t,
            None => {
                eprintln!("--trigger takes post-login or post-user-registration\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        None => Trigger::PostLogin,
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["check-secrets", rest @ ..] => check_secrets_cmd(rest),
        ["reconcile-roles", path] => match load_policy(path) {
            Ok(p) => reconcile::roles_cmd(&p),
            Err(code) => code,
        },
        ["reconcile-plan", path, "--roles", roles, rest @ ..] => match load_policy(path) {
            Ok(p) => reconcile::plan_cmd(&p, roles, rest.contains(&"--explain")),
            Err(code) => code,
        },
        ["check", path, ..] => check(path),
        ["explain", policy, event, rest @ ..] => {
            explain_cmd(policy, event, trigger, rest.contains(&"--json"))
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
