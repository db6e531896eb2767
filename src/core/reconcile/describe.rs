//! The conditions of a rule, in words: the "why" of a reconcile change.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::core::json::Json;
use crate::core::policy::{Expect, When};

fn list(out: &mut Vec<String>, what: &str, items: &Option<Vec<String>>) {
    if let Some(items) = items {
        let mut line = String::from(what);
        line.push_str(if items.len() == 1 {
            " is "
        } else {
            " is one of "
        });
        line.push_str(&items.join(", "));
        out.push(line);
    }
}

fn metadata(
    out: &mut Vec<String>,
    root: &str,
    conds: &[(String, Expect)],
    render: &dyn Fn(&Json) -> String,
) {
    for (path, expect) in conds {
        let mut line = [root, ".", path].concat();
        match expect {
            Expect::Exists(true) => line.push_str(" exists"),
            Expect::Exists(false) => line.push_str(" does not exist"),
            Expect::Equals(v) => {
                line.push_str(" = ");
                line.push_str(&render(v));
            }
        }
        out.push(line);
    }
}

/// One line per condition of `when` (`render` writes a JSON value); a rule without
/// conditions holds for every user.
pub fn describe(when: &When, render: &dyn Fn(&Json) -> String) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = &when.trigger {
        let ids: Vec<String> = t.iter().map(|t| t.id().to_owned()).collect();
        list(&mut out, "trigger", &Some(ids));
    }
    list(&mut out, "provider", &when.provider);
    list(&mut out, "connection", &when.connection);
    list(&mut out, "verified email domain", &when.email_domain);
    if let Some(v) = when.email_verified {
        out.push(["email_verified is ", if v { "true" } else { "false" }].concat());
    }
    list(&mut out, "client_id", &when.client_id);
    if let Some(f) = when.first_login {
        out.push(["first_login is ", if f { "true" } else { "false" }].concat());
    }
    list(&mut out, "organization", &when.organization);
    metadata(&mut out, "app_metadata", &when.app_metadata, render);
    metadata(&mut out, "user_metadata", &when.user_metadata, render);
    if let Some(r) = &when.has_role {
        out.push(["holds one of ", &r.join(", ")].concat());
    }
    if let Some(r) = &when.lacks_role {
        out.push(["lacks one of ", &r.join(", ")].concat());
    }
    list(&mut out, "protocol", &when.protocol);
    if let Some(n) = &when.not {
        out.push(["not (", &describe(n, render).join("; "), ")"].concat());
    }
    if out.is_empty() {
        out.push("no conditions (every user)".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::parse_policy;

    #[test]
    fn each_condition_is_a_line() {
        let p = parse_policy(
            &serde_json::from_str(
                r#"{"rules":[{"name":"r","when":{"provider":"google-oauth2","email_domain":["a.com","b.com"],
                "app_metadata":{"plan":"pro","x":{"exists":false}},"not":{"has_role":["Admin"]}},"assign_roles":["P"]},
                {"name":"all","assign_roles":["Q"]}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let render = |j: &Json| serde_json::to_string(j).unwrap();
        assert_eq!(
            describe(&p.rules[0].when, &render),
            vec![
                "provider is google-oauth2",
                "verified email domain is one of a.com, b.com",
                "app_metadata.plan = \"pro\"",
                "app_metadata.x does not exist",
                "not (holds one of Admin)",
            ]
        );
        assert_eq!(
            describe(&p.rules[1].when, &render),
            vec!["no conditions (every user)"]
        );
    }
}
