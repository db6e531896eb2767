//! Claim namespaces and full claim names: which host they put claims under, and whether
//! Auth0 would keep claims there.

use crate::core::text::{before_any, cat, rsplit_once_byte, trim_end_byte};
#[allow(unused_imports)]
use crate::prelude::*;

use super::error::NamespaceProblem;

/// The host a namespace or full claim name puts claims under, read as a URL parser reads it
/// (lower case, without userinfo, port or trailing dot), so that `https://x@AUTH0.COM.:443/`
/// is recognised as the restricted domain it is; or why it has none we can trust.
pub(super) fn claim_host(url: &str) -> Result<String, NamespaceProblem> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(NamespaceProblem::NotUrl)?;
    // For http(s) a URL parser ends the authority at `\` too.
    let authority = before_any(rest, b"/\\?#");
    let host_port = rsplit_once_byte(authority, b'@').map_or(authority, |(_, h)| h);
    let host = match rsplit_once_byte(host_port, b':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host_port,
    };
    let host = trim_end_byte(host, b'.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(NamespaceProblem::NoHost);
    }
    // Escapes, IDNs and IP literals could be read as another host: only plain names pass.
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(NamespaceProblem::NotPlainHost);
    }
    if ["auth0.com", "webtask.io", "webtask.run"]
        .iter()
        .any(|d| host == *d || host.ends_with(&cat(&[".", d])))
    {
        return Err(NamespaceProblem::Restricted);
    }
    Ok(host)
}

pub(super) fn check_namespace(ns: &str) -> Result<(), NamespaceProblem> {
    claim_host(ns)?;
    if !ns.ends_with('/') {
        return Err(NamespaceProblem::NoTrailingSlash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{doc, kinds};
    use super::super::{parse_policy, PolicyErrorKind};
    use super::NamespaceProblem::{self, *};

    /// The problems found with a namespace (all of them at `claims_namespace`).
    fn namespace_errors(ns: &str) -> Vec<NamespaceProblem> {
        let text = serde_json::json!({ "claims_namespace": ns, "rules": [] }).to_string();
        match parse_policy(&doc(&text)) {
            Ok(_) => Vec::new(),
            Err(_) => kinds(&text)
                .into_iter()
                .map(|(path, kind)| match kind {
                    PolicyErrorKind::Namespace(p) if path == "claims_namespace" => p,
                    other => panic!("{ns}: {path}: {other:?}"),
                })
                .collect(),
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
            assert_eq!(namespace_errors(ns), [Restricted], "{ns}");
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
            assert!(matches!(errs[0], NotPlainHost | NoHost), "{ns}: {errs:?}");
        }
        for ns in [
            "https://example.com/",
            "https://example.com/ns/",
            "https://auth0.com.example.com/",
            "https://myauth0.com/",
            "http://localhost:3000/",
            "https://Example.COM./",
        ] {
            assert_eq!(namespace_errors(ns), [], "{ns}");
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
            assert_eq!(namespace_errors(ns), [NoTrailingSlash], "{ns}");
        }
    }

    #[test]
    fn full_claim_names_are_checked_like_namespaces() {
        let claims = |ns: &str, name: &str| {
            let text = serde_json::json!({ "claims_namespace": ns, "rules": [
                { "name": "r", "when": { "trigger": "post-login" }, "claims": { name: 1 } }
            ] })
            .to_string();
            kinds(&text)
        };
        for name in [
            "https://AUTH0.com./plan",
            "https://x@auth0.com/plan",
            "https://a.webtask.run:443/p",
        ] {
            assert_eq!(
                claims("https://example.com/", name),
                [(
                    ["rules[0].claims.", name].concat(),
                    PolicyErrorKind::Namespace(Restricted)
                )]
            );
        }
        // The roles claim, whether named short or in full, is the Action's own.
        for name in ["roles", "https://example.com/roles"] {
            assert_eq!(
                claims("https://example.com/", name),
                [(
                    ["rules[0].claims.", name].concat(),
                    PolicyErrorKind::RolesClaim
                )]
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
}
