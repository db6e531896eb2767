//! `check_secrets`: a whole set of Action secrets checked with the Action's own functions,
//! for the host tooling (deploy, export), which keeps no rules of its own.

use crate::core::decimal::parse_u32_plus;
#[allow(unused_imports)]
use crate::prelude::*;

use super::{parse_origin, secret, timeout_ms, unresolved_keyword, MAX_TIMEOUT_MS, SECRET_NAMES};
use crate::core::json::Json;
use crate::core::policy::{parse_policy, SECRET_MAX_CHARS};

/// One finding of [`check_secrets`]: which secret and what about it, never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretProblem {
    /// The secret's name.
    pub secret: String,
    /// For `POLICY`: the JSON path inside the policy.
    pub path: Option<String>,
    /// What is wrong (or, for a note, worth knowing).
    pub message: String,
    /// For `POLICY`: how to fix it ([`crate::core::policy::PolicyError::help`]).
    pub help: Option<&'static str>,
}

/// What [`check_secrets`] found, and what the Action will use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretsReport {
    /// Errors: the Action would refuse these secrets (at every login).
    pub problems: Vec<SecretProblem>,
    /// Not errors (a capped deadline, a secret the Action does not read).
    pub notes: Vec<SecretProblem>,
    /// The origin `AUTH0_DOMAIN` becomes.
    pub origin: Option<String>,
    /// The run deadline `TIMEOUT_MS` gives (the default when absent).
    pub timeout_ms: Option<f64>,
    /// The number of rules of a valid `POLICY`.
    pub policy_rules: Option<usize>,
}

fn problem(secret: &str, path: Option<String>, message: String) -> SecretProblem {
    SecretProblem {
        secret: secret.to_owned(),
        path,
        message,
        help: None,
    }
}

/// Checks a set of Action secrets (`{NAME: value}`) with the functions the Action itself
/// runs, for the host tooling (`policy check-secrets`, and through it deploy and export), so
/// that what they accept is exactly what the Action accepts. `require_credentials`: the
/// tenant and client secrets must be present (an export leaves them to the Deploy CLI or
/// Terraform and passes false). `parse_json` parses the POLICY text as the Action's host does.
pub fn check_secrets(
    secrets: &Json,
    require_credentials: bool,
    parse_json: impl Fn(&str) -> Result<Json, String>,
) -> SecretsReport {
    let mut r = SecretsReport::default();
    let Json::Obj(members) = secrets else {
        r.problems.push(problem(
            "$",
            None,
            "expected a JSON object of secret names to values".into(),
        ));
        return r;
    };
    // A secret already reported is not checked again: one clear error per secret.
    let mut reported: Vec<&str> = Vec::new();
    for (i, (name, value)) in members.iter().enumerate() {
        let mut bad = |message: String| {
            r.problems.push(problem(name, None, message));
            reported.push(name);
        };
        if members[..i].iter().any(|(n, _)| n == name) {
            bad("is given twice".into());
            continue;
        }
        match value {
            Json::Str(s) => {
                if let Some(keyword) = unresolved_keyword(s) {
                    bad(format!(
                        "is an unresolved Deploy CLI keyword: add {keyword} to AUTH0_KEYWORD_REPLACE_MAPPINGS"
                    ));
                } else if s.chars().count() > SECRET_MAX_CHARS {
                    let mut m = format!(
                        "is {} characters; an Action secret holds at most {SECRET_MAX_CHARS}",
                        s.chars().count()
                    );
                    if name == "POLICY" {
                        m.push_str(": bake the policy into the code instead (npm run build -- --policy FILE) and leave POLICY unset");
                    }
                    bad(m);
                }
            }
            _ => bad("must be a string (Action secrets are strings)".into()),
        }
        if !SECRET_NAMES.contains(&name.as_str()) {
            r.notes.push(problem(
                name,
                None,
                "is not read by the Action (ignored)".into(),
            ));
        }
    }
    let wanted = |name: &str| {
        !reported.contains(&name) && (require_credentials || secrets.get(name).is_some())
    };
    if wanted("AUTH0_DOMAIN") {
        match secret(secrets, "AUTH0_DOMAIN").and_then(parse_origin) {
            Ok(origin) => r.origin = Some(origin),
            Err(e) => r.problems.push(problem(e.secret, None, e.message)),
        }
    }
    for name in ["AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"] {
        if wanted(name) {
            if let Err(e) = secret(secrets, name) {
                r.problems.push(problem(e.secret, None, e.message));
            }
        }
    }
    if !reported.contains(&"TIMEOUT_MS") {
        match timeout_ms(secrets) {
            Ok(ms) => {
                r.timeout_ms = Some(ms);
                let raw = secrets.get("TIMEOUT_MS").and_then(Json::as_str);
                if raw.and_then(|s| parse_u32_plus(s.trim())).map(f64::from) > Some(ms) {
                    r.notes.push(problem(
                        "TIMEOUT_MS",
                        None,
                        format!("is above {MAX_TIMEOUT_MS} ms, so the Action caps it at {MAX_TIMEOUT_MS} ms"),
                    ));
                }
            }
            Err(e) => r.problems.push(problem(e.secret, None, e.message)),
        }
    }
    // A blank POLICY is no POLICY to the Action: it falls back to the baked-in one.
    let policy_text = secrets
        .get("POLICY")
        .and_then(Json::as_str)
        .filter(|s| !s.trim().is_empty());
    if let Some(text) = policy_text.filter(|_| !reported.contains(&"POLICY")) {
        match parse_json(text) {
            Err(why) => r.problems.push(problem(
                "POLICY",
                None,
                format!("is not valid JSON ({why})"),
            )),
            Ok(doc) => match parse_policy(&doc) {
                Ok(p) => r.policy_rules = Some(p.rules.len()),
                Err(errors) => r.problems.extend(errors.into_iter().map(|e| SecretProblem {
                    help: Some(e.help()),
                    message: e.message(),
                    ..problem("POLICY", Some(e.path), String::new())
                })),
            },
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::super::DEFAULT_TIMEOUT_MS;
    use super::*;

    fn parse_json(text: &str) -> Result<Json, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    fn report(secrets: &str, require_credentials: bool) -> SecretsReport {
        check_secrets(
            &parse_json(secrets).unwrap(),
            require_credentials,
            parse_json,
        )
    }

    fn named(r: &SecretsReport) -> Vec<(&str, &str)> {
        r.problems
            .iter()
            .map(|p| (p.secret.as_str(), p.message.as_str()))
            .collect()
    }

    #[test]
    fn check_secrets_accepts_what_the_action_runs_with() {
        let r = report(
            r#"{"AUTH0_DOMAIN":"Example.eu.auth0.com","AUTH0_CLIENT_ID":"cid","AUTH0_CLIENT_SECRET":"s3cr3t",
                "POLICY":"{\"rules\":[{\"name\":\"g\",\"assign_roles\":[\"Premium\"]}]}","TIMEOUT_MS":"20000"}"#,
            true,
        );
        assert_eq!(named(&r), vec![]);
        assert_eq!(r.origin.as_deref(), Some("https://example.eu.auth0.com"));
        assert_eq!(r.timeout_ms, Some(MAX_TIMEOUT_MS), "capped, not refused");
        assert_eq!(r.policy_rules, Some(1));
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].message.contains("caps it at 15000 ms"));
        let none = report("{}", false);
        assert_eq!(none.problems, vec![]);
        assert_eq!(none.timeout_ms, Some(DEFAULT_TIMEOUT_MS));
        assert_eq!(none.origin, None);
    }

    #[test]
    fn check_secrets_reports_every_problem_by_name_never_by_value() {
        let r = report(
            r###"{"AUTH0_DOMAIN":"http://tenant-value.example.com","AUTH0_CLIENT_SECRET":"##PROVISION_CLIENT_SECRET##",
                "TIMEOUT_MS":"1","POLICY":"{\"rules\":[{\"name\":\"g\",\"when\":{\"providr\":\"x\"},\"assign_roles\":[\"R\"]}]}",
                "TIMEOUT":"5000","EXTRA":5}"###,
            true,
        );
        let got = named(&r);
        assert!(got.contains(&(
            "AUTH0_CLIENT_SECRET",
            "is an unresolved Deploy CLI keyword: add PROVISION_CLIENT_SECRET to AUTH0_KEYWORD_REPLACE_MAPPINGS"
        )));
        assert!(got.contains(&("EXTRA", "must be a string (Action secrets are strings)")));
        assert!(got.contains(&(
            "AUTH0_DOMAIN",
            "http:// is only allowed for loopback hosts; use https://"
        )));
        assert!(got.contains(&(
            "AUTH0_CLIENT_ID",
            "is missing; add it to the Action's secrets"
        )));
        assert!(got
            .iter()
            .any(|(n, m)| *n == "TIMEOUT_MS" && m.contains("at least 100")));
        let policy = r.problems.iter().find(|p| p.secret == "POLICY").unwrap();
        assert_eq!(policy.path.as_deref(), Some("rules[0].when.providr"));
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(r.notes.iter().filter(|n| n.secret == "TIMEOUT").count(), 1);
        for p in &r.problems {
            assert!(!p.message.contains("tenant-value"), "{p:?}");
        }
        // Without required credentials only what is given is checked.
        let partial = report(r#"{"TIMEOUT_MS":"0","POLICY":"{\"rules\": ["}"#, false);
        let got = named(&partial);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].1.starts_with("is not valid JSON ("), "{got:?}");
        let long = format!(r#"{{"POLICY":"{}"}}"#, "x".repeat(SECRET_MAX_CHARS + 1));
        assert!(named(&report(&long, false))[0]
            .1
            .contains("npm run build -- --policy FILE"));
    }
}
