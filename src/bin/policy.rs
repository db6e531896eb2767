//! `npm run policy -- check POLICY.json` and `npm run policy -- explain POLICY.json EVENT.json
//! [--trigger post-login|post-user-registration]`: validate a policy and explain a decision
//! with the same Rust core the Action runs, compiled for the host.

use auth0_provision::core::event::{parse_event, Trigger};
use auth0_provision::core::explain::explain;
use auth0_provision::core::json::Json;
use auth0_provision::core::plan::decide;
use auth0_provision::core::policy::{parse_policy, Policy, SECRET_MAX_CHARS};
use std::process::ExitCode;

const USAGE: &str = "usage: policy check POLICY.json\n       policy explain POLICY.json EVENT.json [--trigger post-login|post-user-registration]";

fn read_json(path: &str) -> Result<(String, Json), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let json = serde_json::from_str(&text).map_err(|e| format!("{path}: not valid JSON: {e}"))?;
    Ok((text, json))
}

fn hint(path: &str, message: &str) -> &'static str {
    if message.starts_with("unknown key") {
        "check the spelling; pkg-scripts/policy.schema.json gives your editor completion"
    } else if message.contains("impossible in post-user-registration") {
        "that trigger has no tokens, no MFA and cannot deny"
    } else if path.contains("claims") {
        "claims must be namespaced URLs so Auth0 keeps them"
    } else if path.ends_with(".name") {
        "rule names appear in logs and in app_metadata markers"
    } else {
        "see README.md, section Policy"
    }
}

fn load_policy(path: &str) -> Result<Policy, ExitCode> {
    let (_, doc) = read_json(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    parse_policy(&doc).map_err(|errors| {
        for e in &errors {
            eprintln!(
                "error: {}: {}\n  hint: {}",
                e.path,
                e.message,
                hint(&e.path, &e.message)
            );
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
    println!("{path}: valid, {} rule(s); {chars} characters as a POLICY secret (limit {SECRET_MAX_CHARS})", policy.rules.len());
    if chars > SECRET_MAX_CHARS {
        eprintln!(
            "error: too long for the POLICY secret; bake it into the Action instead: npm run build -- --policy {path}"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn explain_cmd(policy_path: &str, event_path: &str, trigger: Trigger) -> ExitCode {
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
    for line in explain(&policy, &d, &ev, |j| {
        serde_json::to_string(j).unwrap_or_default()
    }) {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
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
        ["check", path, ..] => check(path),
        ["explain", policy, event, ..] => explain_cmd(policy, event, trigger),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
