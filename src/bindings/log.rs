//! The Action's log: one short line per execution, with secrets and tokens redacted.

#[allow(unused_imports)]
use crate::prelude::*;

use super::global::Global;
use super::raw::console_log;
use crate::core::error::Error;
use crate::core::redact::{redact, Secret};

/// Auth0 keeps 256 characters of an Action's console output.
pub const MAX_LINE: usize = 256;

/// Tokens remembered at once: they rotate (daily on Auth0), so the newest ones are the only
/// ones still worth anything.
const TOKENS_KEPT: usize = 8;

/// Secrets and tokens to redact, each prepared once; `true` marks a client secret, kept
/// for the container's life (a run of token fetches must never push one out; they change
/// only with the Action's secrets).
static SENSITIVE: Global<Vec<(bool, String, Secret)>> = Global::new(Vec::new());

fn remember(value: &str, pinned: bool) {
    // Below 4 bytes a value is no secret worth hiding, and hiding it would shred the text.
    if value.len() < 4 {
        return;
    }
    SENSITIVE.with(|s| {
        let mut s = s.borrow_mut();
        if let Some(known) = s.iter_mut().find(|e| e.1 == value) {
            known.0 |= pinned;
            return;
        }
        if !pinned && s.iter().filter(|e| !e.0).count() >= TOKENS_KEPT {
            if let Some(oldest) = s.iter().position(|e| !e.0) {
                s.remove(oldest);
            }
        }
        s.push((pinned, value.to_owned(), Secret::new(value)));
    });
}

/// Remembers a client secret: it must never appear in a log line, error or deny reason.
pub fn pin_sensitive(value: &str) {
    remember(value, true);
}

/// Remembers a bearer token (the newest few are kept).
pub fn register_sensitive(value: &str) {
    remember(value, false);
}

/// Redacts every remembered secret and token, raw, percent- or form-encoded, JSON-escaped
/// or as any fragment of 8 bytes or more, then strips control characters (no log injection)
/// and clips to [`MAX_LINE`]. Safe for any text that leaves the Action (log lines, the
/// returned error, deny reasons).
pub fn sanitize(line: &str) -> String {
    let out = SENSITIVE.with(|s| redact(line, s.borrow().iter().map(|e| &e.2)));
    let out: String = out
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::core::error::clip(&out, MAX_LINE).to_owned()
}

/// Writes one sanitized line to the Action's log.
pub fn log(line: &str) {
    console_log(&sanitize(line));
}

/// `e` with the text that came from a server or the host sanitized: a token endpoint's
/// `error_description` may quote the request back, client secret included, and that text
/// travels on into the returned error, not only into log lines.
pub fn scrub(e: Error) -> Error {
    match e {
        Error::Api {
            call,
            status,
            code,
            message,
        } => Error::Api {
            call,
            status,
            code: code.map(|c| sanitize(&c)),
            message: message.map(|m| sanitize(&m)),
        },
        Error::Network { call, message } => Error::Network {
            call,
            message: sanitize(&message),
        },
        e => e,
    }
}
