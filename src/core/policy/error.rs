//! Policy errors: where (the JSON path of the value at fault) and what (a small enum), with
//! the line the Action logs (`message`) and the CLI's hint (`help`) derived from the kind.
//! Hand-written rather than miette-style diagnostics: the wasm has a tight size budget.

use crate::core::text::{cat, join_with};
#[allow(unused_imports)]
use crate::prelude::*;

use crate::core::config::keyword_err;
use crate::core::decimal::decimal;
use crate::core::error::clip;
use crate::core::json::Json;

/// One validation error: where (`rules[0].when.provider`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path of the offending value (`$` for the whole document).
    pub path: String,
    /// What is wrong with it.
    pub kind: PolicyErrorKind,
}

/// What is wrong with a policy value. The `&'static str`s are the parser's own wording of
/// what it accepts there, so the kinds stay few while messages stay specific.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyErrorKind {
    /// A value of the wrong JSON type: what is accepted there, and the type found.
    WrongType {
        /// What is accepted, e.g. `a list of strings`.
        expected: &'static str,
        /// The JSON type found (`a number`, `null`…).
        got: &'static str,
    },
    /// A value of the right type that is not one of those accepted.
    Invalid {
        /// What is accepted, e.g. `"allow" or "deny"`.
        expected: &'static str,
    },
    /// A required key is absent.
    Missing {
        /// What is accepted there.
        expected: &'static str,
    },
    /// A rule without a `name`.
    MissingName,
    /// A key the object does not have.
    UnknownKey {
        /// The keys it has.
        allowed: &'static [&'static str],
    },
    /// `version` is not 1.
    UnsupportedVersion,
    /// A second rule with the same name.
    DuplicateName,
    /// A rule without any effect.
    NoEffect,
    /// A post-login-only effect in a rule that may run in post-user-registration.
    PostLoginOnly {
        /// The effect's key (`deny`, `require_mfa`, `claims`).
        effect: &'static str,
    },
    /// A namespace or full claim name under which Auth0 would not keep claims.
    Namespace(NamespaceProblem),
    /// A short claim name with no `claims_namespace` to put it under.
    ClaimWithoutNamespace,
    /// The `roles` claim under the namespace, which the Action sets itself.
    RolesClaim,
    /// An empty metadata key, or one of the Action's own markers.
    ReservedKey,
    /// A public email provider's domain in a rule that grants organization access.
    PublicEmailDomain,
    /// No POLICY secret and no baked-in policy.
    NoPolicy,
    /// The policy text is empty.
    Empty,
    /// The policy text is not JSON.
    NotJson {
        /// The baked-in policy (else the POLICY secret).
        baked: bool,
        /// The JSON parser's reason.
        why: String,
    },
    /// The POLICY secret is still a Deploy CLI placeholder (`##KEYWORD##`).
    UnresolvedKeyword {
        /// The placeholder's keyword.
        keyword: String,
    },
}

/// Why a namespace or full claim name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceProblem {
    /// Not `http(s)://…`: Auth0 drops such claims.
    NotUrl,
    /// No host after the scheme.
    NoHost,
    /// A host that escapes, IDNs or IP literals could make another one.
    NotPlainHost,
    /// Under auth0.com, webtask.io or webtask.run.
    Restricted,
    /// A namespace that does not end with `/` (names are appended as they are).
    NoTrailingSlash,
}

impl NamespaceProblem {
    fn message(self) -> &'static str {
        match self {
            NamespaceProblem::NotUrl => {
                "must be a URL-like namespace starting with https:// (Auth0 drops other claims)"
            }
            NamespaceProblem::NoHost => "must name a host, e.g. https://example.com/",
            NamespaceProblem::NotPlainHost => {
                "the host must be a plain DNS name (letters, digits, '-' and '.')"
            }
            NamespaceProblem::Restricted => {
                "auth0.com, webtask.io and webtask.run namespaces are restricted by Auth0"
            }
            NamespaceProblem::NoTrailingSlash => {
                "must end with \"/\": claim names are appended to it as they are"
            }
        }
    }
}

const CLAIMS_HELP: &str = "claims must be namespaced URLs so Auth0 keeps them";
const NAMES_HELP: &str = "rule names appear in logs and in app_metadata markers";

impl PolicyError {
    /// An error at the document itself (`$`).
    pub fn document(kind: PolicyErrorKind) -> PolicyError {
        PolicyError {
            path: "$".into(),
            kind,
        }
    }

    /// What is wrong, as one line (the Action logs it after the path).
    pub fn message(&self) -> String {
        use PolicyErrorKind as K;
        match &self.kind {
            K::WrongType { expected, got } => cat(&["expected ", expected, ", got ", got]),
            K::Invalid { expected } => cat(&["expected ", expected]),
            K::Missing { expected } => cat(&["missing; expected ", expected]),
            K::MissingName => "missing; every rule needs a unique name".into(),
            K::UnknownKey { allowed } => {
                cat(&["unknown key; expected one of: ", &join_with(allowed, ", ")])
            }
            K::UnsupportedVersion => "unsupported version; this Action understands 1".into(),
            K::DuplicateName => "duplicate rule name; names must be unique".into(),
            K::NoEffect => "rule has no effect; add assign_roles, remove_roles, assign_permissions, \
                set_app_metadata, set_user_metadata, claims, require_mfa, a ticket, deny, \
                join_organization or organization_roles"
                .into(),
            K::PostLoginOnly { effect } => cat(&[
                effect,
                " is impossible in post-user-registration; add \"trigger\": \"post-login\" to this rule's when",
            ]),
            K::Namespace(p) => p.message().into(),
            K::ClaimWithoutNamespace => {
                "claims need a namespace: set claims_namespace or use a full https:// claim name"
                    .into()
            }
            K::RolesClaim => {
                "\"roles\" is the Action's own roles claim under claims_namespace; pick another name"
                    .into()
            }
            K::ReservedKey => "empty or reserved key (used by the Action's own markers)".into(),
            K::PublicEmailDomain => "a public email provider's domain: anyone can have an address \
                there and join; name your own domains or set \"allow_public_email_domains\": true"
                .into(),
            K::NoPolicy => "no policy: set the POLICY secret or build with --policy FILE".into(),
            K::Empty => "is empty".into(),
            K::NotJson { baked, why } => {
                let source = if *baked {
                    "baked-in policy"
                } else {
                    "POLICY secret"
                };
                cat(&["the ", source, " is not valid JSON (", clip(why, 80), ")"])
            }
            K::UnresolvedKeyword { keyword } => {
                cat(&["the POLICY secret ", &keyword_err("POLICY", keyword).message])
            }
        }
    }

    /// How to fix it, for the CLI (`policy check`, `check-secrets`); the Action never
    /// prints it, so it costs the wasm nothing.
    pub fn help(&self) -> &'static str {
        use PolicyErrorKind as K;
        match self.kind {
            K::UnknownKey { .. } => {
                "check the spelling; pkg-scripts/policy.schema.json gives your editor completion"
            }
            K::PostLoginOnly {
                effect: "organization_roles",
            } => "\"$current\" is the login's organization: post-user-registration has none",
            K::PostLoginOnly { .. } => "that trigger has no tokens, no MFA and cannot deny",
            K::Namespace(_) | K::ClaimWithoutNamespace | K::RolesClaim => CLAIMS_HELP,
            K::MissingName | K::DuplicateName => NAMES_HELP,
            K::PublicEmailDomain => {
                "the list of public providers is PUBLIC_EMAIL_DOMAINS in src/core/policy/organizations.rs"
            }
            // A generic kind is told apart by where it is.
            _ if crate::core::encode::find_str(&self.path, "claims").is_some() => CLAIMS_HELP,
            _ if self.path.ends_with(".name") => NAMES_HELP,
            _ => "see README.md, section Policy",
        }
    }
}

pub(super) struct Errors(pub(super) Vec<PolicyError>);

impl Errors {
    pub(super) fn add(&mut self, path: &str, kind: PolicyErrorKind) {
        self.0.push(PolicyError {
            path: path.to_owned(),
            kind,
        });
    }

    /// [`Errors::add`] at `path.key` (see [`join`]): one string built, none copied.
    pub(super) fn add_at(&mut self, path: &str, key: &str, kind: PolicyErrorKind) {
        self.0.push(PolicyError {
            path: join(path, key),
            kind,
        });
    }

    /// [`Errors::wrong_type`] at `path.key`.
    pub(super) fn wrong_type_at(
        &mut self,
        path: &str,
        key: &str,
        expected: &'static str,
        got: &Json,
    ) {
        self.add_at(
            path,
            key,
            PolicyErrorKind::WrongType {
                expected,
                got: got.kind(),
            },
        );
    }

    /// A value of the wrong type; `expected` says what is accepted (without "expected").
    pub(super) fn wrong_type(&mut self, path: &str, expected: &'static str, got: &Json) {
        self.add(
            path,
            PolicyErrorKind::WrongType {
                expected,
                got: got.kind(),
            },
        );
    }

    pub(super) fn unknown_keys(
        &mut self,
        path: &str,
        obj: &Json,
        allowed: &'static [&'static str],
    ) {
        if let Json::Obj(members) = obj {
            for (k, _) in members {
                if !allowed.contains(&k.as_str()) {
                    self.add_at(path, k, PolicyErrorKind::UnknownKey { allowed });
                }
            }
        }
    }
}
pub(super) fn join(path: &str, key: &str) -> String {
    // An empty key is shown as `""` so that no error has an empty path.
    let key = if key.is_empty() { "\"\"" } else { key };
    if path.is_empty() {
        key.to_owned()
    } else {
        cat(&[path, ".", key])
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    cat(&[
        path,
        "[",
        &decimal(u32::try_from(i).unwrap_or(u32::MAX)),
        "]",
    ])
}

#[cfg(test)]
mod tests {
    use super::super::{TOP_KEYS, WHEN_KEYS};
    use super::NamespaceProblem::*;
    use super::PolicyErrorKind as K;
    use super::*;

    fn at(path: &str, kind: PolicyErrorKind) -> PolicyError {
        PolicyError {
            path: path.into(),
            kind,
        }
    }

    /// The Action logs these lines (tests/*.test.js match some): each kind's wording is fixed.
    #[test]
    fn every_kind_reads_as_one_line() {
        let cases = [
            (K::WrongType { expected: "true or false", got: "a number" }, "expected true or false, got a number"),
            (K::Invalid { expected: "\"allow\" or \"deny\"" }, "expected \"allow\" or \"deny\""),
            (K::Missing { expected: "a list of rules" }, "missing; expected a list of rules"),
            (K::MissingName, "missing; every rule needs a unique name"),
            (K::UnknownKey { allowed: TOP_KEYS }, "unknown key; expected one of: version, claims_namespace, on_error, rules"),
            (K::UnsupportedVersion, "unsupported version; this Action understands 1"),
            (K::DuplicateName, "duplicate rule name; names must be unique"),
            (K::NoEffect, "rule has no effect; add assign_roles, remove_roles, assign_permissions, set_app_metadata, set_user_metadata, claims, require_mfa, a ticket, deny, \
                join_organization or organization_roles"),
            (K::PostLoginOnly { effect: "deny" }, "deny is impossible in post-user-registration; add \"trigger\": \"post-login\" to this rule's when"),
            (K::Namespace(Restricted), "auth0.com, webtask.io and webtask.run namespaces are restricted by Auth0"),
            (K::Namespace(NoTrailingSlash), "must end with \"/\": claim names are appended to it as they are"),
            (K::ClaimWithoutNamespace, "claims need a namespace: set claims_namespace or use a full https:// claim name"),
            (K::RolesClaim, "\"roles\" is the Action's own roles claim under claims_namespace; pick another name"),
            (K::ReservedKey, "empty or reserved key (used by the Action's own markers)"),
            (K::NoPolicy, "no policy: set the POLICY secret or build with --policy FILE"),
            (K::Empty, "is empty"),
            (K::NotJson { baked: false, why: "x".repeat(100) }, &["the POLICY secret is not valid JSON (", &"x".repeat(80), ")"].concat()),
            (K::NotJson { baked: true, why: "EOF".into() }, "the baked-in policy is not valid JSON (EOF)"),
            (K::UnresolvedKeyword { keyword: "P".into() }, "the POLICY secret is an unresolved Deploy CLI keyword: add P to AUTH0_KEYWORD_REPLACE_MAPPINGS"),
        ];
        for (kind, want) in cases {
            assert_eq!(PolicyError::document(kind).message(), want);
        }
    }

    #[test]
    fn help_follows_the_kind_then_the_path() {
        let spelling = at("rules[0].when.colour", K::UnknownKey { allowed: WHEN_KEYS }).help();
        assert!(spelling.starts_with("check the spelling"), "{spelling}");
        let trigger = at("rules[0].deny", K::PostLoginOnly { effect: "deny" }).help();
        assert!(trigger.contains("no tokens"), "{trigger}");
        for e in [
            at("claims_namespace", K::Namespace(NotUrl)),
            at("rules[0].claims.x", K::ClaimWithoutNamespace),
            at("rules[0].claims.roles", K::RolesClaim),
            at(
                "rules[0].claims",
                K::WrongType {
                    expected: "an object",
                    got: "a number",
                },
            ),
        ] {
            assert_eq!(e.help(), CLAIMS_HELP, "{e:?}");
        }
        for e in [
            at("rules[1].name", K::DuplicateName),
            at("rules[1].name", K::MissingName),
            at(
                "rules[1].name",
                K::WrongType {
                    expected: "a non-empty string",
                    got: "null",
                },
            ),
        ] {
            assert_eq!(e.help(), NAMES_HELP, "{e:?}");
        }
        assert!(at("on_error", K::Invalid { expected: "x" })
            .help()
            .contains("README"));
    }
}
