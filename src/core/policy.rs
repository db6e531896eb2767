//! The declarative policy (version 1): parsed from JSON by hand so every error names its JSON path.

use super::json::Json;

/// What to do when provisioning fails (Management API error, bad policy, bad event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Log one line and let the login proceed (the default).
    Allow,
    /// Deny the login with a short reason (post-login only).
    Deny,
}

/// A role named in a policy: by exact name, or by id (`rol_…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleRef {
    /// A role name, matched exactly (case-sensitive).
    Name(String),
    /// A role id such as `rol_123`.
    Id(String),
}

impl RoleRef {
    /// Classifies a policy string: ids start with `rol_`.
    pub fn parse(s: &str) -> RoleRef {
        if s.starts_with("rol_") {
            RoleRef::Id(s.to_owned())
        } else {
            RoleRef::Name(s.to_owned())
        }
    }

    /// The name or id as written in the policy.
    pub fn as_str(&self) -> &str {
        match self {
            RoleRef::Name(s) | RoleRef::Id(s) => s,
        }
    }
}

/// Conditions of a rule; every given key must match, a list means "any of".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct When {
    /// Connection strategy / identity provider, e.g. `google-oauth2`, `auth0`.
    pub provider: Option<Vec<String>>,
    /// Connection name, e.g. `Username-Password-Authentication`.
    pub connection: Option<Vec<String>>,
    /// Email domains (lower-case); only verified emails count.
    pub email_domain: Option<Vec<String>>,
    /// Application client ids.
    pub client_id: Option<Vec<String>>,
    /// `true`: only the first login (`logins_count == 1`); `false`: only later ones.
    pub first_login: Option<bool>,
}

/// One rule: a name, its conditions and its effects.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Unique rule name, used in logs and pending markers.
    pub name: String,
    /// Conditions (empty: always matches).
    pub when: When,
    /// Roles to make sure the user holds.
    pub assign_roles: Vec<RoleRef>,
}

/// A validated policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Claim namespace (URL-like); when set, `<ns>roles` is added to both tokens.
    pub claims_namespace: Option<String>,
    /// Failure behaviour.
    pub on_error: OnError,
    /// Rules, in order.
    pub rules: Vec<Rule>,
}

/// One validation error: where (`rules[0].when.provider`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path of the offending value.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// The maximum length of an Action secret value (the `POLICY` secret).
pub const SECRET_MAX_CHARS: usize = 4096;

const TOP_KEYS: &[&str] = &["version", "claims_namespace", "on_error", "rules"];
const RULE_KEYS: &[&str] = &["name", "when", "assign_roles"];
const WHEN_KEYS: &[&str] = &[
    "provider",
    "connection",
    "email_domain",
    "client_id",
    "first_login",
];

struct Errors(Vec<PolicyError>);

impl Errors {
    fn add(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(PolicyError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn unknown_keys(&mut self, path: &str, obj: &Json, allowed: &[&str]) {
        if let Json::Obj(members) = obj {
            for (k, _) in members {
                if !allowed.contains(&k.as_str()) {
                    let mut msg = String::from("unknown key; expected one of: ");
                    msg.push_str(&allowed.join(", "));
                    self.add(&join(path, k), msg);
                }
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        let mut p = String::with_capacity(path.len() + key.len() + 1);
        p.push_str(path);
        p.push('.');
        p.push_str(key);
        p
    }
}

fn index(path: &str, i: usize) -> String {
    let mut p = path.to_owned();
    p.push('[');
    p.push_str(&i.to_string());
    p.push(']');
    p
}

/// The `on_error` a policy asks for, read leniently so that even an invalid policy's
/// failure follows its author's intent: absent → allow; anything but "allow" → deny.
pub fn on_error_of(doc: &Json) -> OnError {
    match doc.get("on_error") {
        None | Some(Json::Null) => OnError::Allow,
        Some(v) if v.as_str() == Some("allow") => OnError::Allow,
        Some(_) => OnError::Deny,
    }
}

/// Validates and converts a parsed policy document; returns every error found.
pub fn parse_policy(doc: &Json) -> Result<Policy, Vec<PolicyError>> {
    let mut errs = Errors(Vec::new());
    if !matches!(doc, Json::Obj(_)) {
        errs.add("$", format_kind("expected a JSON object", doc));
        return Err(errs.0);
    }
    errs.unknown_keys("", doc, TOP_KEYS);
    match doc.get("version") {
        None | Some(Json::Null) => {}
        Some(Json::Num(n)) if *n == 1.0 => {}
        Some(_) => errs.add("version", "unsupported version; this Action understands 1"),
    }
    let claims_namespace = match doc.get("claims_namespace") {
        None | Some(Json::Null) => None,
        Some(Json::Str(ns)) => {
            if let Err(msg) = check_namespace(ns) {
                errs.add("claims_namespace", msg);
            }
            Some(ns.clone())
        }
        Some(v) => {
            errs.add("claims_namespace", format_kind("expected a string", v));
            None
        }
    };
    let on_error = match doc.get("on_error") {
        None | Some(Json::Null) => OnError::Allow,
        Some(v) => match v.as_str() {
            Some("allow") => OnError::Allow,
            Some("deny") => OnError::Deny,
            _ => {
                errs.add("on_error", "expected \"allow\" or \"deny\"");
                OnError::Deny
            }
        },
    };
    let mut rules = Vec::new();
    match doc.get("rules") {
        Some(Json::Arr(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(rule) = parse_rule(&index("rules", i), item, &mut errs) {
                    if rules.iter().any(|r: &Rule| r.name == rule.name) {
                        errs.add(&join(&index("rules", i), "name"), "duplicate rule name");
                    }
                    rules.push(rule);
                }
            }
        }
        None => errs.add("rules", "missing; expected a list of rules"),
        Some(v) => errs.add("rules", format_kind("expected a list of rules", v)),
    }
    if errs.0.is_empty() {
        Ok(Policy {
            claims_namespace,
            on_error,
            rules,
        })
    } else {
        Err(errs.0)
    }
}

fn format_kind(expected: &str, got: &Json) -> String {
    let mut s = String::from(expected);
    s.push_str(", got ");
    s.push_str(got.kind());
    s
}

fn check_namespace(ns: &str) -> Result<(), &'static str> {
    let rest = ns
        .strip_prefix("https://")
        .or_else(|| ns.strip_prefix("http://"))
        .ok_or("must be a URL-like namespace starting with https:// (Auth0 drops other claims)")?;
    let host = rest.split('/').next().unwrap_or("").to_ascii_lowercase();
    if host.is_empty() {
        return Err("must name a host, e.g. https://example.com/");
    }
    if ["auth0.com", "webtask.io", "webtask.run"]
        .iter()
        .any(|d| host == *d || host.ends_with(&[".", d].concat()))
    {
        return Err("auth0.com, webtask.io and webtask.run namespaces are restricted by Auth0");
    }
    Ok(())
}

fn parse_rule(path: &str, item: &Json, errs: &mut Errors) -> Option<Rule> {
    if !matches!(item, Json::Obj(_)) {
        errs.add(path, format_kind("expected a rule object", item));
        return None;
    }
    errs.unknown_keys(path, item, RULE_KEYS);
    let name = match item.get("name") {
        Some(Json::Str(s)) if !s.trim().is_empty() => s.clone(),
        Some(v) => {
            errs.add(
                &join(path, "name"),
                format_kind("expected a non-empty string", v),
            );
            String::new()
        }
        None => {
            errs.add(
                &join(path, "name"),
                "missing; every rule needs a unique name",
            );
            String::new()
        }
    };
    let when = match item.get("when") {
        None | Some(Json::Null) => When::default(),
        Some(w @ Json::Obj(_)) => parse_when(&join(path, "when"), w, errs),
        Some(v) => {
            errs.add(&join(path, "when"), format_kind("expected an object", v));
            When::default()
        }
    };
    let roles_path = join(path, "assign_roles");
    let assign_roles = match item.get("assign_roles") {
        None | Some(Json::Null) => Vec::new(),
        Some(v) => string_list(&roles_path, v, errs, false)
            .unwrap_or_default()
            .iter()
            .map(|s| RoleRef::parse(s))
            .collect(),
    };
    if assign_roles.is_empty() && item.get("assign_roles").is_none() {
        errs.add(path, "rule has no effect; add assign_roles");
    }
    Some(Rule {
        name,
        when,
        assign_roles,
    })
}

fn parse_when(path: &str, w: &Json, errs: &mut Errors) -> When {
    errs.unknown_keys(path, w, WHEN_KEYS);
    let list = |key: &str, errs: &mut Errors| {
        w.get(key)
            .and_then(|v| string_list(&join(path, key), v, errs, true))
    };
    let provider = list("provider", errs);
    let connection = list("connection", errs);
    let client_id = list("client_id", errs);
    let email_domain = list("email_domain", errs).map(|ds| {
        ds.iter()
            .map(|d| d.trim_start_matches('@').to_ascii_lowercase())
            .collect::<Vec<_>>()
    });
    if let Some(ds) = &email_domain {
        for (i, d) in ds.iter().enumerate() {
            if d.is_empty() || d.contains('@') || d.contains(char::is_whitespace) {
                errs.add(
                    &index(&join(path, "email_domain"), i),
                    "expected a domain such as example.com",
                );
            }
        }
    }
    let first_login = match w.get("first_login") {
        None | Some(Json::Null) => None,
        Some(Json::Bool(b)) => Some(*b),
        Some(v) => {
            errs.add(
                &join(path, "first_login"),
                format_kind("expected true or false", v),
            );
            None
        }
    };
    When {
        provider,
        connection,
        email_domain,
        client_id,
        first_login,
    }
}

/// A string or a non-empty list of non-empty strings (`one_ok`: a bare string is allowed).
fn string_list(path: &str, v: &Json, errs: &mut Errors, one_ok: bool) -> Option<Vec<String>> {
    match v {
        Json::Str(s) if one_ok && !s.is_empty() => Some(vec![s.clone()]),
        Json::Arr(items) if !items.is_empty() => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::Str(s) if !s.is_empty() => out.push(s.clone()),
                    other => errs.add(
                        &index(path, i),
                        format_kind("expected a non-empty string", other),
                    ),
                }
            }
            Some(out)
        }
        Json::Arr(_) => {
            errs.add(path, "expected at least one value");
            None
        }
        other => {
            let expected = if one_ok {
                "expected a string or a list of strings"
            } else {
                "expected a list of strings"
            };
            errs.add(path, format_kind(expected, other));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    fn errors(s: &str) -> Vec<String> {
        parse_policy(&doc(s))
            .unwrap_err()
            .into_iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect()
    }

    #[test]
    fn parses_the_seed_policy() {
        let p = parse_policy(&doc(
            r#"{"claims_namespace":"https://example.com/","on_error":"allow","rules":[
              {"name":"premium-for-google","when":{"provider":["google-oauth2"]},"assign_roles":["Premium User","rol_42"]}]}"#,
        ))
        .unwrap();
        assert_eq!(p.on_error, OnError::Allow);
        assert_eq!(p.claims_namespace.as_deref(), Some("https://example.com/"));
        let r = &p.rules[0];
        assert_eq!(r.when.provider, Some(vec!["google-oauth2".to_string()]));
        assert_eq!(
            r.assign_roles,
            vec![
                RoleRef::Name("Premium User".into()),
                RoleRef::Id("rol_42".into())
            ]
        );
    }

    #[test]
    fn single_values_and_no_when_are_accepted() {
        let p = parse_policy(&doc(
            r#"{"rules":[{"name":"a","when":{"email_domain":"@Example.COM","first_login":true},"assign_roles":["X"]},
                         {"name":"b","assign_roles":["Y"]}]}"#,
        ))
        .unwrap();
        assert_eq!(
            p.rules[0].when.email_domain,
            Some(vec!["example.com".to_string()])
        );
        assert_eq!(p.rules[0].when.first_login, Some(true));
        assert_eq!(p.rules[1].when, When::default());
        assert_eq!(p.on_error, OnError::Allow);
    }

    #[test]
    fn every_error_names_its_path() {
        let errs = errors(
            r#"{"on_error":"block","claims_namespace":"roles","extra":1,"rules":[
                 {"name":"a","when":{"provider":5,"colour":"red","first_login":"yes"},"assign_roles":[""]},
                 {"name":"a","assign_roles":"Premium"},
                 {"when":{}},
                 7]}"#,
        );
        let want = [
            "extra: unknown key",
            "claims_namespace: must be a URL-like namespace",
            "on_error: expected \"allow\" or \"deny\"",
            "rules[0].when.colour: unknown key",
            "rules[0].when.provider: expected a string or a list of strings, got a number",
            "rules[0].when.first_login: expected true or false, got a string",
            "rules[0].assign_roles[0]: expected a non-empty string",
            "rules[1].assign_roles: expected a list of strings, got a string",
            "rules[1].name: duplicate rule name",
            "rules[2].name: missing",
            "rules[2]: rule has no effect",
            "rules[3]: expected a rule object, got a number",
        ];
        for w in want {
            assert!(
                errs.iter().any(|e| e.starts_with(w)),
                "missing {w:?} in {errs:#?}"
            );
        }
        assert_eq!(errs.len(), want.len(), "{errs:#?}");
    }

    #[test]
    fn rejects_restricted_namespaces_and_non_objects() {
        assert!(
            errors(r#"{"claims_namespace":"https://x.auth0.com/","rules":[]}"#)[0]
                .contains("restricted")
        );
        assert!(errors("[1]")[0].starts_with("$: expected a JSON object"));
        assert!(errors(r#"{"rules":{}}"#)[0].starts_with("rules: expected a list"));
        assert!(errors(r#"{}"#)[0].starts_with("rules: missing"));
        assert!(errors(r#"{"version":2,"rules":[]}"#)[0].starts_with("version:"));
    }

    #[test]
    fn on_error_is_read_even_from_invalid_policies() {
        assert_eq!(
            on_error_of(&doc(r#"{"on_error":"deny","rules":5}"#)),
            OnError::Deny
        );
        assert_eq!(on_error_of(&doc(r#"{"rules":5}"#)), OnError::Allow);
        assert_eq!(on_error_of(&doc(r#"{"on_error":"Deny"}"#)), OnError::Deny);
        assert_eq!(on_error_of(&doc("3")), OnError::Allow);
    }
}
