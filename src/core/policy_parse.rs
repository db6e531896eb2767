//! Policy validation: JSON in, a `Policy` or every error found, each with its JSON path and
//! a hint. Hand-written (not serde derive) so messages name the exact field and the wasm
//! stays small.

use super::event::{Trigger, DONE_KEY, PENDING_KEY};
use super::json::Json;
use super::policy::{
    ClaimValue, Effects, Expect, Mfa, OnError, Permission, Policy, RoleRef, Rule, Ticket,
    TicketKind, When,
};

/// One validation error: where (`rules[0].when.provider`), what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path of the offending value (`$` for the whole document).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// Keys of the policy document (kept in sync with `pkg-scripts/policy.schema.json` by a test).
pub const TOP_KEYS: &[&str] = &["version", "claims_namespace", "on_error", "rules"];
/// Keys of a rule.
pub const RULE_KEYS: &[&str] = &[
    "name",
    "when",
    "stop",
    "assign_roles",
    "remove_roles",
    "assign_permissions",
    "set_app_metadata",
    "set_user_metadata",
    "claims",
    "require_mfa",
    "password_reset_ticket",
    "mfa_enrollment_ticket",
    "deny",
];
/// Keys of a `when`.
pub const WHEN_KEYS: &[&str] = &[
    "trigger",
    "provider",
    "connection",
    "email_domain",
    "email_verified",
    "client_id",
    "first_login",
    "organization",
    "app_metadata",
    "user_metadata",
    "has_role",
    "lacks_role",
    "protocol",
    "not",
];
/// Keys of a ticket effect.
pub const TICKET_KEYS: &[&str] = &["store", "result_url", "ttl_sec"];
/// Keys of `require_mfa` when it is an object.
pub const MFA_KEYS: &[&str] = &["provider", "allow_remember_browser"];
/// Keys of a permission.
pub const PERMISSION_KEYS: &[&str] = &["resource_server_identifier", "permission_name"];

struct Errors(Vec<PolicyError>);

impl Errors {
    fn add(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(PolicyError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn kind(&mut self, path: &str, expected: &str, got: &Json) {
        let mut s = String::from(expected);
        s.push_str(", got ");
        s.push_str(got.kind());
        self.add(path, s);
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
    // An empty key is shown as `""` so that no error has an empty path.
    let key = if key.is_empty() { "\"\"" } else { key };
    if path.is_empty() {
        key.to_owned()
    } else {
        [path, ".", key].concat()
    }
}

fn index(path: &str, i: usize) -> String {
    [path, "[", &i.to_string(), "]"].concat()
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
        errs.kind("$", "expected a JSON object", doc);
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
            errs.kind(
                "claims_namespace",
                "expected a string such as \"https://example.com/\"",
                v,
            );
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
    let mut rules: Vec<Rule> = Vec::new();
    match doc.get("rules") {
        Some(Json::Arr(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = index("rules", i);
                if let Some(rule) = parse_rule(&path, item, claims_namespace.as_deref(), &mut errs)
                {
                    if rules.iter().any(|r| r.name == rule.name) {
                        errs.add(
                            &join(&path, "name"),
                            "duplicate rule name; names must be unique",
                        );
                    }
                    rules.push(rule);
                }
            }
        }
        None => errs.add("rules", "missing; expected a list of rules"),
        Some(v) => errs.kind("rules", "expected a list of rules", v),
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

/// The host a namespace or full claim name puts claims under, read as a URL parser reads it
/// (lower case, without userinfo, port or trailing dot), so that `https://x@AUTH0.COM.:443/`
/// is recognised as the restricted domain it is; or why it has none we can trust.
fn claim_host(url: &str) -> Result<String, &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must be a URL-like namespace starting with https:// (Auth0 drops other claims)")?;
    // For http(s) a URL parser ends the authority at `\` too.
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host_port,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("must name a host, e.g. https://example.com/");
    }
    // Escapes, IDNs and IP literals could be read as another host: only plain names pass.
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err("the host must be a plain DNS name (letters, digits, '-' and '.')");
    }
    if ["auth0.com", "webtask.io", "webtask.run"]
        .iter()
        .any(|d| host == *d || host.ends_with(&[".", d].concat()))
    {
        return Err("auth0.com, webtask.io and webtask.run namespaces are restricted by Auth0");
    }
    Ok(host)
}

fn check_namespace(ns: &str) -> Result<(), &'static str> {
    claim_host(ns)?;
    if !ns.ends_with('/') {
        return Err("must end with \"/\": claim names are appended to it as they are");
    }
    Ok(())
}

fn parse_rule(path: &str, item: &Json, ns: Option<&str>, errs: &mut Errors) -> Option<Rule> {
    if !matches!(item, Json::Obj(_)) {
        errs.kind(path, "expected a rule object", item);
        return None;
    }
    errs.unknown_keys(path, item, RULE_KEYS);
    let name = match item.get("name") {
        Some(Json::Str(s)) if !s.trim().is_empty() => s.clone(),
        Some(v) => {
            errs.kind(&join(path, "name"), "expected a non-empty string", v);
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
            errs.kind(&join(path, "when"), "expected an object", v);
            When::default()
        }
    };
    let stop = match item.get("stop") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(v) => {
            errs.kind(&join(path, "stop"), "expected true or false", v);
            false
        }
    };
    let effects = parse_effects(path, item, ns, errs);
    if effects == Effects::default() && RULE_KEYS[3..].iter().all(|k| item.get(k).is_none()) {
        errs.add(
            path,
            "rule has no effect; add assign_roles, remove_roles, assign_permissions, set_app_metadata, \
             set_user_metadata, claims, require_mfa, a ticket or deny",
        );
    }
    let in_registration = when
        .trigger
        .as_ref()
        .is_none_or(|t| t.contains(&Trigger::PostUserRegistration));
    if let (true, Some(effect)) = (in_registration, effects.post_login_only()) {
        let mut m = String::from(effect);
        m.push_str(
            " is impossible in post-user-registration; add \"trigger\": \"post-login\" to this rule's when",
        );
        errs.add(&join(path, effect), m);
    }
    Some(Rule {
        name,
        when,
        effects,
        stop,
    })
}

fn parse_effects(path: &str, item: &Json, ns: Option<&str>, errs: &mut Errors) -> Effects {
    let roles = |key: &str, errs: &mut Errors| {
        item.get(key)
            .filter(|v| !v.is_null())
            .and_then(|v| string_list(&join(path, key), v, errs, false))
            .map(|l| l.iter().map(|s| RoleRef::parse(s)).collect())
            .unwrap_or_default()
    };
    let assign_roles = roles("assign_roles", errs);
    let remove_roles = roles("remove_roles", errs);
    let assign_permissions = match item.get("assign_permissions") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Arr(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                parse_permission(&index(&join(path, "assign_permissions"), i), p, errs)
            })
            .collect(),
        Some(v) => {
            errs.kind(
                &join(path, "assign_permissions"),
                "expected a non-empty list of {resource_server_identifier, permission_name}",
                v,
            );
            Vec::new()
        }
    };
    let set_app_metadata = metadata_changes(
        &join(path, "set_app_metadata"),
        item.get("set_app_metadata"),
        errs,
    );
    let set_user_metadata = metadata_changes(
        &join(path, "set_user_metadata"),
        item.get("set_user_metadata"),
        errs,
    );
    let claims = parse_claims(&join(path, "claims"), item.get("claims"), ns, errs);
    let require_mfa = parse_mfa(&join(path, "require_mfa"), item.get("require_mfa"), errs);
    let mut tickets = Vec::new();
    for (key, kind) in [
        ("password_reset_ticket", TicketKind::PasswordReset),
        ("mfa_enrollment_ticket", TicketKind::MfaEnrollment),
    ] {
        if let Some(t) = parse_ticket(&join(path, key), item.get(key), kind, errs) {
            tickets.push(t);
        }
    }
    let deny = match item.get("deny") {
        None | Some(Json::Null) | Some(Json::Bool(false)) => None,
        Some(Json::Bool(true)) => Some("Access denied.".to_owned()),
        Some(Json::Str(s)) if !s.trim().is_empty() && s.len() <= 200 => Some(s.clone()),
        Some(v) => {
            errs.kind(
                &join(path, "deny"),
                "expected true or a reason of 1 to 200 characters",
                v,
            );
            None
        }
    };
    Effects {
        assign_roles,
        remove_roles,
        assign_permissions,
        set_app_metadata,
        set_user_metadata,
        claims,
        require_mfa,
        tickets,
        deny,
    }
}

fn parse_permission(path: &str, v: &Json, errs: &mut Errors) -> Option<Permission> {
    if !matches!(v, Json::Obj(_)) {
        errs.kind(
            path,
            "expected {resource_server_identifier, permission_name}",
            v,
        );
        return None;
    }
    errs.unknown_keys(path, v, PERMISSION_KEYS);
    let field = |k: &str, errs: &mut Errors| match v.get(k) {
        Some(Json::Str(s)) if !s.is_empty() => Some(s.clone()),
        other => {
            errs.kind(
                &join(path, k),
                "expected a non-empty string",
                other.unwrap_or(&Json::Null),
            );
            None
        }
    };
    let rs = field("resource_server_identifier", errs);
    let name = field("permission_name", errs);
    Some(Permission {
        resource_server_identifier: rs?,
        permission_name: name?,
    })
}

fn metadata_changes(path: &str, v: Option<&Json>, errs: &mut Errors) -> Vec<(String, Json)> {
    match v {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Obj(members)) if !members.is_empty() => {
            for (k, _) in members {
                if k.is_empty() || k == PENDING_KEY || k == DONE_KEY {
                    errs.add(
                        &join(path, k),
                        "empty or reserved key (used by the Action's own markers)",
                    );
                }
            }
            members.clone()
        }
        Some(v) => {
            errs.kind(
                path,
                "expected a non-empty object of first-level keys (null deletes a key)",
                v,
            );
            Vec::new()
        }
    }
}

fn parse_claims(
    path: &str,
    v: Option<&Json>,
    ns: Option<&str>,
    errs: &mut Errors,
) -> Vec<(String, ClaimValue)> {
    let members = match v {
        None | Some(Json::Null) => return Vec::new(),
        Some(Json::Obj(m)) if !m.is_empty() => m,
        Some(v) => {
            errs.kind(
                path,
                "expected a non-empty object of claim names to values",
                v,
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (k, value) in members {
        let p = join(path, k);
        let full = if k.starts_with("https://") || k.starts_with("http://") {
            if let Err(msg) = claim_host(k) {
                errs.add(&p, msg);
            }
            k.clone()
        } else if let Some(ns) = ns {
            [ns, k].concat()
        } else {
            errs.add(
                &p,
                "claims need a namespace: set claims_namespace or use a full https:// claim name",
            );
            continue;
        };
        // Set after the policy's claims, it would silently overwrite this one.
        if ns.is_some_and(|ns| full == [ns, "roles"].concat()) {
            errs.add(
                &p,
                "\"roles\" is the Action's own roles claim under claims_namespace; pick another name",
            );
        }
        let from = match value {
            Json::Obj(m) if m.len() == 1 && m[0].0 == "from" => Some(&m[0].1),
            _ => None,
        };
        let cv = match from {
            Some(Json::Str(src))
                if src.starts_with("app_metadata.") || src.starts_with("user_metadata.") =>
            {
                ClaimValue::From(src.clone())
            }
            Some(_) => {
                errs.add(
                    &join(&p, "from"),
                    "expected \"app_metadata.<path>\" or \"user_metadata.<path>\"",
                );
                continue;
            }
            None => ClaimValue::Fixed(value.clone()),
        };
        out.push((full, cv));
    }
    out
}

fn parse_mfa(path: &str, v: Option<&Json>, errs: &mut Errors) -> Option<Mfa> {
    let mut mfa = Mfa {
        provider: "any".into(),
        allow_remember_browser: false,
    };
    match v {
        None | Some(Json::Null) | Some(Json::Bool(false)) => return None,
        Some(Json::Bool(true)) => {}
        Some(o @ Json::Obj(_)) => {
            errs.unknown_keys(path, o, MFA_KEYS);
            match o.get("provider") {
                None => {}
                Some(Json::Str(p)) if !p.is_empty() => mfa.provider = p.clone(),
                Some(v) => errs.kind(
                    &join(path, "provider"),
                    "expected a provider such as \"any\" or \"duo\"",
                    v,
                ),
            }
            match o.get("allow_remember_browser") {
                None => {}
                Some(Json::Bool(b)) => mfa.allow_remember_browser = *b,
                Some(v) => errs.kind(
                    &join(path, "allow_remember_browser"),
                    "expected true or false",
                    v,
                ),
            }
        }
        Some(v) => {
            errs.kind(
                path,
                "expected true or {provider, allow_remember_browser}",
                v,
            );
            return None;
        }
    }
    Some(mfa)
}

fn parse_ticket(
    path: &str,
    v: Option<&Json>,
    kind: TicketKind,
    errs: &mut Errors,
) -> Option<Ticket> {
    let o = match v {
        None | Some(Json::Null) | Some(Json::Bool(false)) => return None,
        Some(o @ Json::Obj(_)) => o,
        Some(v) => {
            errs.kind(
                path,
                "expected {\"store\": \"app_metadata.<key>\" | \"log\", ...}",
                v,
            );
            return None;
        }
    };
    errs.unknown_keys(path, o, TICKET_KEYS);
    let store_key = match o.get("store").and_then(Json::as_str) {
        Some("log") => None,
        Some(s) => match s.strip_prefix("app_metadata.") {
            Some(k) if !k.is_empty() && !k.contains('.') && k != PENDING_KEY && k != DONE_KEY => {
                Some(k.to_owned())
            }
            _ => {
                errs.add(
                    &join(path, "store"),
                    "expected \"log\" or \"app_metadata.<first-level key>\"",
                );
                None
            }
        },
        None => {
            errs.add(&join(path, "store"), "missing; expected \"log\" or \"app_metadata.<key>\" (tickets never go into tokens)");
            None
        }
    };
    let result_url = match o.get("result_url") {
        None => None,
        Some(Json::Str(u)) if kind == TicketKind::PasswordReset && u.starts_with("https://") => {
            Some(u.clone())
        }
        Some(_) => {
            errs.add(
                &join(path, "result_url"),
                "expected an https:// URL (password reset tickets only)",
            );
            None
        }
    };
    let ttl_sec = match o.get("ttl_sec") {
        None => None,
        Some(Json::Num(n)) if n.fract() == 0.0 && *n >= 0.0 && *n <= 2_592_000.0 => Some(*n as u32),
        Some(v) => {
            errs.kind(
                &join(path, "ttl_sec"),
                "expected whole seconds (0 to 2592000)",
                v,
            );
            None
        }
    };
    Some(Ticket {
        kind,
        store_key,
        result_url,
        ttl_sec,
    })
}

fn parse_when(path: &str, w: &Json, errs: &mut Errors) -> When {
    errs.unknown_keys(path, w, WHEN_KEYS);
    let list = |key: &str, errs: &mut Errors| {
        w.get(key)
            .filter(|v| !v.is_null())
            .and_then(|v| string_list(&join(path, key), v, errs, true))
    };
    let flag = |key: &str, errs: &mut Errors| match w.get(key) {
        None | Some(Json::Null) => None,
        Some(Json::Bool(b)) => Some(*b),
        Some(v) => {
            errs.kind(&join(path, key), "expected true or false", v);
            None
        }
    };
    let trigger = list("trigger", errs).map(|ts| {
        ts.iter()
            .filter_map(|t| {
                let parsed = Trigger::from_id(t);
                if parsed.is_none() {
                    errs.add(
                        &join(path, "trigger"),
                        "expected \"post-login\" or \"post-user-registration\"",
                    );
                }
                parsed
            })
            .collect()
    });
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
    let not = match w.get("not") {
        None | Some(Json::Null) => None,
        Some(n @ Json::Obj(_)) => Some(Box::new(parse_when(&join(path, "not"), n, errs))),
        Some(v) => {
            errs.kind(&join(path, "not"), "expected a nested when object", v);
            None
        }
    };
    When {
        trigger,
        provider: list("provider", errs),
        connection: list("connection", errs),
        email_domain,
        email_verified: flag("email_verified", errs),
        client_id: list("client_id", errs),
        first_login: flag("first_login", errs),
        organization: list("organization", errs),
        app_metadata: metadata_conditions(&join(path, "app_metadata"), w.get("app_metadata"), errs),
        user_metadata: metadata_conditions(
            &join(path, "user_metadata"),
            w.get("user_metadata"),
            errs,
        ),
        has_role: list("has_role", errs),
        lacks_role: list("lacks_role", errs),
        protocol: list("protocol", errs),
        not,
    }
}

fn metadata_conditions(path: &str, v: Option<&Json>, errs: &mut Errors) -> Vec<(String, Expect)> {
    match v {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Obj(members)) if !members.is_empty() => members
            .iter()
            .filter_map(|(k, v)| {
                if k.is_empty() || k.split('.').any(str::is_empty) {
                    errs.add(
                        &join(path, k),
                        "expected a dotted path such as plan or billing.tier",
                    );
                    return None;
                }
                let exists = match v {
                    Json::Obj(m) if m.len() == 1 && m[0].0 == "exists" => Some(&m[0].1),
                    _ => None,
                };
                match exists {
                    Some(Json::Bool(b)) => Some((k.clone(), Expect::Exists(*b))),
                    Some(other) => {
                        errs.kind(
                            &join(&join(path, k), "exists"),
                            "expected true or false",
                            other,
                        );
                        None
                    }
                    None => Some((k.clone(), Expect::Equals(v.clone()))),
                }
            })
            .collect(),
        Some(v) => {
            errs.kind(
                path,
                "expected an object of dotted paths to values or {\"exists\": bool}",
                v,
            );
            Vec::new()
        }
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
                    other => errs.kind(&index(path, i), "expected a non-empty string", other),
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
            errs.kind(path, expected, other);
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
            r.effects.assign_roles,
            vec![
                RoleRef::Name("Premium User".into()),
                RoleRef::Id("rol_42".into())
            ]
        );
    }

    #[test]
    fn parses_every_condition_and_effect() {
        let p = parse_policy(&doc(
            r#"{"claims_namespace":"https://example.com/","rules":[{
              "name":"all","stop":true,
              "when":{"trigger":"post-login","provider":"auth0","connection":["db"],"email_domain":"@Example.COM",
                      "email_verified":true,"client_id":"app","first_login":false,"organization":["org_1","acme"],
                      "app_metadata":{"plan":"pro","billing.tier":{"exists":true}},"user_metadata":{"beta":true},
                      "has_role":"Admin","lacks_role":["Premium User"],"protocol":"oidc-basic-profile",
                      "not":{"connection":"legacy"}},
              "assign_roles":["A"],"remove_roles":["rol_B"],
              "assign_permissions":[{"resource_server_identifier":"https://api/","permission_name":"read:x"}],
              "set_app_metadata":{"plan":"pro","old":null},"set_user_metadata":{"theme":"dark"},
              "claims":{"plan":{"from":"app_metadata.plan"},"https://other.example/tier":3,"fixed":{"a":1}},
              "require_mfa":{"provider":"duo","allow_remember_browser":true},
              "password_reset_ticket":{"store":"app_metadata.invite_url","result_url":"https://app/welcome","ttl_sec":86400},
              "mfa_enrollment_ticket":{"store":"log"},
              "deny":"Not today"}]}"#,
        ))
        .unwrap();
        let r = &p.rules[0];
        assert!(r.stop);
        let w = &r.when;
        assert_eq!(w.trigger, Some(vec![Trigger::PostLogin]));
        assert_eq!(w.email_domain, Some(vec!["example.com".to_string()]));
        assert_eq!(w.email_verified, Some(true));
        assert_eq!(w.organization.as_ref().map(Vec::len), Some(2));
        assert_eq!(
            w.app_metadata[1],
            ("billing.tier".to_string(), Expect::Exists(true))
        );
        assert_eq!(
            w.user_metadata[0],
            ("beta".to_string(), Expect::Equals(Json::Bool(true)))
        );
        assert_eq!(
            w.not.as_ref().unwrap().connection,
            Some(vec!["legacy".to_string()])
        );
        let e = &r.effects;
        assert_eq!(e.remove_roles, vec![RoleRef::Id("rol_B".into())]);
        assert_eq!(e.assign_permissions[0].permission_name, "read:x");
        assert_eq!(e.set_app_metadata[1], ("old".to_string(), Json::Null));
        assert_eq!(
            e.claims[0],
            (
                "https://example.com/plan".to_string(),
                ClaimValue::From("app_metadata.plan".into())
            )
        );
        assert_eq!(e.claims[1].0, "https://other.example/tier");
        assert_eq!(
            e.require_mfa,
            Some(Mfa {
                provider: "duo".into(),
                allow_remember_browser: true
            })
        );
        assert_eq!(e.tickets.len(), 2);
        assert_eq!(e.tickets[0].store_key.as_deref(), Some("invite_url"));
        assert_eq!(
            e.tickets[1],
            Ticket {
                kind: TicketKind::MfaEnrollment,
                store_key: None,
                result_url: None,
                ttl_sec: None
            }
        );
        assert_eq!(e.deny.as_deref(), Some("Not today"));
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
    fn effect_errors_name_their_path() {
        let cases = [
            (r#"{"name":"r","deny":"x"}"#, "rules[0].deny: deny is impossible in post-user-registration"),
            (r#"{"name":"r","when":{"trigger":["post-login","post-user-registration"]},"require_mfa":true}"#, "rules[0].require_mfa: require_mfa is impossible"),
            (r#"{"name":"r","when":{"trigger":"post-login"},"claims":{"x":1}}"#, "rules[0].claims.x: claims need a namespace"),
            (r#"{"name":"r","when":{"trigger":"login"},"assign_roles":["A"]}"#, "rules[0].when.trigger: expected \"post-login\""),
            (r#"{"name":"r","set_app_metadata":{"provisioning_pending":1}}"#, "rules[0].set_app_metadata.provisioning_pending: empty or reserved key"),
            (r#"{"name":"r","set_user_metadata":[]}"#, "rules[0].set_user_metadata: expected a non-empty object"),
            (r#"{"name":"r","assign_permissions":[{"permission_name":"x"}]}"#, "rules[0].assign_permissions[0].resource_server_identifier: expected a non-empty string"),
            (r#"{"name":"r","password_reset_ticket":{"store":"id_token"}}"#, "rules[0].password_reset_ticket.store: expected \"log\""),
            (r#"{"name":"r","mfa_enrollment_ticket":{}}"#, "rules[0].mfa_enrollment_ticket.store: missing"),
            (r#"{"name":"r","mfa_enrollment_ticket":{"store":"log","result_url":"https://x"}}"#, "rules[0].mfa_enrollment_ticket.result_url: expected an https:// URL (password reset tickets only)"),
            (r#"{"name":"r","when":{"app_metadata":{"a..b":1}},"assign_roles":["A"]}"#, "rules[0].when.app_metadata.a..b: expected a dotted path"),
            (r#"{"name":"r","when":{"user_metadata":{"a":{"exists":"yes"}}},"assign_roles":["A"]}"#, "rules[0].when.user_metadata.a.exists: expected true or false"),
            (r#"{"name":"r","when":{"not":"x"},"assign_roles":["A"]}"#, "rules[0].when.not: expected a nested when object"),
            (r#"{"name":"r","when":{"not":{"bogus":1}},"assign_roles":["A"]}"#, "rules[0].when.not.bogus: unknown key"),
            (r#"{"name":"r","stop":1,"assign_roles":["A"]}"#, "rules[0].stop: expected true or false"),
            (r#"{"name":"r","when":{"trigger":"post-login"},"deny":""}"#, "rules[0].deny: expected true or a reason"),
        ];
        for (rule, want) in cases {
            let errs = errors(&format!(r#"{{"rules":[{rule}]}}"#));
            assert!(
                errs.iter().any(|e| e.starts_with(want)),
                "{rule}: missing {want:?} in {errs:#?}"
            );
        }
        let errs = errors(
            r#"{"claims_namespace":"https://e.com/","rules":[{"name":"r","when":{"trigger":"post-login"},"claims":{"roles":1}}]}"#,
        );
        assert!(
            errs[0].starts_with("rules[0].claims.roles: \"roles\" is the Action's own roles claim")
        );
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

    fn namespace_errors(ns: &str) -> Vec<String> {
        let text = serde_json::json!({ "claims_namespace": ns, "rules": [] }).to_string();
        match parse_policy(&doc(&text)) {
            Ok(_) => Vec::new(),
            Err(_) => errors(&text),
        }
    }

    #[test]
    fn restricted_hosts_are_recognised_however_written() {
        for ns in [
            "https://auth0.com/",
            "https://AUTH0.COM./",
            "https://auth0.com:443/",
            "https://x@auth0.com/",
            "https://user:pw@Tenant.EU.Auth0.com.:8443/",
            "https://auth0.com\\@example.com/",
            "https://webtask.io./",
            "https://x.WEBTASK.run:443/",
            "http://y@sandbox.webtask.io/",
        ] {
            let errs = namespace_errors(ns);
            assert_eq!(errs.len(), 1, "{ns}: {errs:?}");
            assert!(
                errs[0].starts_with("claims_namespace: ") && errs[0].contains("restricted"),
                "{ns}: {errs:?}"
            );
        }
        // Escaped or non-ASCII hosts could be read as a restricted one: refused as such.
        for ns in [
            "https://auth0%2Ecom/",
            "https://\u{ff41}uth0.com/",
            "https://auth0.com:x/",
            "https://[::1]/",
            "https://./",
            "https://@/",
        ] {
            let errs = namespace_errors(ns);
            assert_eq!(errs.len(), 1, "{ns}: {errs:?}");
            assert!(errs[0].starts_with("claims_namespace: "), "{ns}: {errs:?}");
        }
        for ns in [
            "https://example.com/",
            "https://example.com/ns/",
            "https://auth0.com.example.com/",
            "https://myauth0.com/",
            "http://localhost:3000/",
            "https://Example.COM./",
        ] {
            assert_eq!(namespace_errors(ns), Vec::<String>::new(), "{ns}");
        }
    }

    #[test]
    fn the_namespace_ends_with_a_slash() {
        // Names are appended as is: "https://example.com" + "plan" would be one glued name.
        for ns in [
            "https://example.com",
            "https://example.com/ns",
            "https://example.com/#",
        ] {
            let errs = namespace_errors(ns);
            assert_eq!(errs.len(), 1, "{ns}: {errs:?}");
            assert!(errs[0].contains("end with \"/\""), "{ns}: {errs:?}");
        }
    }

    #[test]
    fn full_claim_names_are_checked_like_namespaces() {
        let claims = |ns: &str, name: &str| {
            let text = serde_json::json!({ "claims_namespace": ns, "rules": [
                { "name": "r", "when": { "trigger": "post-login" }, "claims": { name: 1 } }
            ] })
            .to_string();
            errors(&text)
        };
        for name in [
            "https://AUTH0.com./plan",
            "https://x@auth0.com/plan",
            "https://a.webtask.run:443/p",
        ] {
            let errs = claims("https://example.com/", name);
            assert_eq!(errs.len(), 1, "{name}: {errs:?}");
            assert!(
                errs[0].starts_with(&["rules[0].claims.", name, ": "].concat())
                    && errs[0].contains("restricted"),
                "{name}: {errs:?}"
            );
        }
        // The roles claim, whether named short or in full, is the Action's own.
        for name in ["roles", "https://example.com/roles"] {
            let errs = claims("https://example.com/", name);
            assert_eq!(errs.len(), 1, "{name}: {errs:?}");
            assert!(
                errs[0].starts_with(&["rules[0].claims.", name, ": "].concat())
                    && errs[0].contains("roles claim"),
                "{name}: {errs:?}"
            );
        }
        let ok = parse_policy(&doc(
            r#"{"claims_namespace":"https://example.com/","rules":[{"name":"r","when":{"trigger":"post-login"},
                "claims":{"https://other.example/roles":1,"https://example.com/plan":2,"role":3}}]}"#,
        ))
        .unwrap();
        let names: Vec<&str> = ok.rules[0]
            .effects
            .claims
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "https://other.example/roles",
                "https://example.com/plan",
                "https://example.com/role"
            ]
        );
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

/// The JSON Schema (`pkg-scripts/policy.schema.json`) lists exactly the keys the parser
/// accepts, object by object, so the two cannot drift.
#[cfg(test)]
mod schema_drift {
    use super::*;

    fn keys(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
        let obj = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{pointer} missing"));
        assert_eq!(
            obj.get("additionalProperties"),
            Some(&serde_json::Value::Bool(false)),
            "{pointer}"
        );
        let mut k: Vec<String> = obj["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn schema_keys_match_the_parser() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/pkg-scripts/policy.schema.json"
        ))
        .unwrap();
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(keys(&schema, ""), sorted(TOP_KEYS));
        assert_eq!(keys(&schema, "/$defs/rule"), sorted(RULE_KEYS));
        assert_eq!(keys(&schema, "/$defs/when"), sorted(WHEN_KEYS));
        assert_eq!(keys(&schema, "/$defs/ticket"), sorted(TICKET_KEYS));
        assert_eq!(keys(&schema, "/$defs/permission"), sorted(PERMISSION_KEYS));
        assert_eq!(keys(&schema, "/$defs/mfa/oneOf/1"), sorted(MFA_KEYS));
    }
}
