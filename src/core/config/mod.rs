//! The Action's configuration contract (its secrets), checked before anything is sent.

use crate::core::decimal::{parse_u32, parse_u32_plus};
use crate::core::text::{find_byte, rfind_byte, split_byte};
#[allow(unused_imports)]
use crate::prelude::*;

mod secrets;

pub use secrets::{check_secrets, SecretProblem, SecretsReport};

use super::json::Json;

/// Per-run deadline default and ceiling (ms): the whole login flow has 20 s.
pub const DEFAULT_TIMEOUT_MS: f64 = 8000.0;
/// Ceiling for `TIMEOUT_MS`.
pub const MAX_TIMEOUT_MS: f64 = 15000.0;
/// The secrets the Action reads; any other is ignored.
pub const SECRET_NAMES: &[&str] = &[
    "AUTH0_DOMAIN",
    "AUTH0_CLIENT_ID",
    "AUTH0_CLIENT_SECRET",
    "POLICY",
    "TIMEOUT_MS",
];

/// Where and as whom the Management API is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Origin such as `https://example.eu.auth0.com` (no trailing slash).
    pub origin: String,
    /// Machine-to-machine client id.
    pub client_id: String,
    /// Machine-to-machine client secret (never logged).
    pub client_secret: String,
}

impl Tenant {
    /// The Management API audience, `https://{domain}/api/v2/`.
    pub fn audience(&self) -> String {
        let mut a = self.origin.clone();
        a.push_str("/api/v2/");
        a
    }
}

/// A configuration problem: which secret, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The secret's name.
    pub secret: &'static str,
    /// What is wrong (never the value of a credential).
    pub message: String,
}

fn err(secret: &'static str, message: &str) -> ConfigError {
    ConfigError {
        secret,
        message: message.into(),
    }
}

/// The error for a secret still holding a Deploy CLI placeholder: it names the mapping to
/// add (the keyword is a name, never a credential).
pub fn keyword_err(secret: &'static str, keyword: &str) -> ConfigError {
    let mut message = String::from("is an unresolved Deploy CLI keyword: add ");
    message.push_str(super::error::clip(keyword, 64));
    message.push_str(" to AUTH0_KEYWORD_REPLACE_MAPPINGS");
    ConfigError { secret, message }
}

/// Turns `AUTH0_DOMAIN` into an origin: bare hosts imply https; http only for loopback;
/// no path, query, user-info or fragment, so requests can only go to this origin.
pub fn parse_origin(domain: &str) -> Result<String, ConfigError> {
    const S: &str = "AUTH0_DOMAIN";
    let d = domain.trim();
    let (scheme, rest) = if let Some(r) = d.strip_prefix("https://") {
        ("https", r)
    } else if let Some(r) = d.strip_prefix("http://") {
        ("http", r)
    } else if super::encode::find_str(d, "://").is_some() {
        return Err(err(S, "only https:// (or http:// on loopback) is allowed"));
    } else {
        ("https", d)
    };
    let host_port = rest.strip_suffix('/').unwrap_or(rest);
    if host_port.is_empty() {
        return Err(err(
            S,
            "is empty; expected a host such as example.eu.auth0.com",
        ));
    }
    let (host, port) = split_port(host_port).ok_or(err(S, "has an invalid port"))?;
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner == "::1]"
    } else {
        !host.is_empty()
            && host.len() <= 253
            && split_byte(host, b'.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    if !host_ok {
        return Err(err(
            S,
            "must be a plain host name (no path, query, credentials or spaces)",
        ));
    }
    if scheme == "http" && !is_loopback(host) {
        return Err(err(
            S,
            "http:// is only allowed for loopback hosts; use https://",
        ));
    }
    let mut origin = String::from(scheme);
    origin.push_str("://");
    origin.push_str(&host.to_ascii_lowercase());
    if let Some(p) = port {
        origin.push(':');
        origin.push_str(p);
    }
    Ok(origin)
}

fn split_port(hp: &str) -> Option<(&str, Option<&str>)> {
    let colon = if hp.starts_with('[') {
        // After a bracketed host only `:port` may follow (byte index: `]` is ASCII).
        let close = find_byte(hp, b']')?;
        match hp.as_bytes().get(close + 1) {
            None => None,
            Some(b':') => Some(close + 1),
            Some(_) => return None,
        }
    } else {
        rfind_byte(hp, b':')
    };
    match colon {
        None => Some((hp, None)),
        Some(i) => {
            let (host, port) = (
                hp.get(..i).unwrap_or_default(),
                hp.get(i + 1..).unwrap_or_default(),
            );
            // Digits only (no sign), at most five of them.
            let valid =
                port.len() <= 5 && parse_u32(port).is_some_and(|p| (1..=65535).contains(&p));
            valid.then_some((host, Some(port)))
        }
    }
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = split_byte(host, b'.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| o.len() <= 3 && parse_u32(o).is_some_and(|n| n <= 255))
}

fn secret<'a>(secrets: &'a Json, name: &'static str) -> Result<&'a str, ConfigError> {
    match secrets.get(name) {
        Some(Json::Str(s)) if unresolved_keyword(s).is_some() => {
            Err(keyword_err(name, unresolved_keyword(s).unwrap_or_default()))
        }
        Some(Json::Str(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(err(name, "is missing; add it to the Action's secrets")),
    }
}

/// Reads the Management API credentials from `event.secrets`.
pub fn tenant(secrets: &Json) -> Result<Tenant, ConfigError> {
    let origin = parse_origin(secret(secrets, "AUTH0_DOMAIN")?)?;
    Ok(Tenant {
        origin,
        client_id: secret(secrets, "AUTH0_CLIENT_ID")?.trim().to_owned(),
        client_secret: secret(secrets, "AUTH0_CLIENT_SECRET")?.to_owned(),
    })
}

/// The run deadline from `TIMEOUT_MS` (clamped to 15 s; default 8 s).
pub fn timeout_ms(secrets: &Json) -> Result<f64, ConfigError> {
    match secrets.get("TIMEOUT_MS") {
        None | Some(Json::Null) => Ok(DEFAULT_TIMEOUT_MS),
        // Integer parsing only: float parsing would add kilobytes to the wasm.
        Some(Json::Str(s)) if unresolved_keyword(s).is_some() => Err(keyword_err(
            "TIMEOUT_MS",
            unresolved_keyword(s).unwrap_or_default(),
        )),
        Some(Json::Str(s)) => match parse_u32_plus(s.trim()) {
            Some(ms) if ms >= 100 => Ok(f64::from(ms).min(MAX_TIMEOUT_MS)),
            // "capped", not "100 to 15000": a larger value is not an error.
            _ => Err(err(
                "TIMEOUT_MS",
                "must be a whole number of milliseconds, at least 100 (above 15000 is capped)",
            )),
        },
        Some(_) => Err(err("TIMEOUT_MS", "must be a string")),
    }
}

/// The keyword of a value that is still an Auth0 Deploy CLI placeholder (`##NAME##`, or
/// `@@NAME@@`): the import ran without NAME in `AUTH0_KEYWORD_REPLACE_MAPPINGS`, so the
/// Action would get the placeholder itself as its secret.
pub fn unresolved_keyword(value: &str) -> Option<&str> {
    let v = value.trim();
    ["##", "@@"].iter().find_map(|mark| {
        let inner = v.strip_prefix(mark)?.strip_suffix(mark)?;
        let ok = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        ok.then_some(inner)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let ok = [
            ("example.eu.auth0.com", "https://example.eu.auth0.com"),
            (
                "https://Example.eu.auth0.com/",
                "https://example.eu.auth0.com",
            ),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://localhost:8080/", "http://localhost:8080"),
            ("http://[::1]:9000", "http://[::1]:9000"),
            ("login.example.com:8443", "https://login.example.com:8443"),
        ];
        for (d, o) in ok {
            assert_eq!(parse_origin(d).as_deref(), Ok(o), "{d}");
        }
        let bad = [
            "",
            "http://example.com",
            "ftp://x.com",
            "https://x.com/api",
            "x.com?a=1",
            "user@x.com",
            "x.com#f",
            "https://x.com:99999",
            "https://x.com:",
            "http://127.0.0.1.evil.com",
            "http://128.0.0.1",
            "x .com",
            "https://[::2]",
            "https://x.com\\@evil",
        ];
        for d in bad {
            assert!(parse_origin(d).is_err(), "{d} accepted");
        }
    }

    #[test]
    fn tenant_and_timeout_from_secrets() {
        let s: Json = serde_json::from_str(
            r#"{"AUTH0_DOMAIN":"t.auth0.com","AUTH0_CLIENT_ID":"cid","AUTH0_CLIENT_SECRET":"sec","TIMEOUT_MS":"99999"}"#,
        )
        .unwrap();
        let t = tenant(&s).unwrap();
        assert_eq!(t.audience(), "https://t.auth0.com/api/v2/");
        assert_eq!(timeout_ms(&s), Ok(MAX_TIMEOUT_MS));
        let missing: Json = serde_json::from_str(r#"{"AUTH0_DOMAIN":"t.auth0.com"}"#).unwrap();
        assert_eq!(tenant(&missing).unwrap_err().secret, "AUTH0_CLIENT_ID");
        assert_eq!(timeout_ms(&missing), Ok(DEFAULT_TIMEOUT_MS));
        let bad: Json = serde_json::from_str(r#"{"TIMEOUT_MS":"soon"}"#).unwrap();
        assert!(timeout_ms(&bad).is_err());
    }

    /// The vectors deploy and export are tested on too (tests/secrets-rules.test.js).
    #[test]
    fn timeout_ms_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/vectors/timeout_ms.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let input = &case["input"];
            let secrets = match input.as_str() {
                Some(v) => Json::Obj(vec![("TIMEOUT_MS".into(), Json::Str(v.into()))]),
                None => Json::Obj(vec![]),
            };
            let got = timeout_ms(&secrets);
            if case["error"] == true {
                assert!(got.is_err(), "{input} accepted as {got:?}");
            } else {
                assert_eq!(got, Ok(case["ms"].as_f64().unwrap()), "{input}");
            }
        }
    }

    #[test]
    fn unresolved_keywords() {
        for (v, k) in [
            ("##PROVISION_DOMAIN##", Some("PROVISION_DOMAIN")),
            (" @@POLICY_JSON@@ ", Some("POLICY_JSON")),
            ("####", None),
            ("##a b##", None),
            ("##X", None),
            ("x##X##", None),
            ("s3cr3t##", None),
        ] {
            assert_eq!(unresolved_keyword(v), k, "{v}");
        }
    }
}
