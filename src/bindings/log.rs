//! The Action's log: one short line per execution, with secrets and tokens redacted.

use super::raw::console_log;
use std::cell::RefCell;

/// Auth0 keeps 256 characters of an Action's console output.
pub const MAX_LINE: usize = 256;

thread_local! {
    static SENSITIVE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Remembers a value that must never appear in a log line (client secret, tokens).
pub fn register_sensitive(value: &str) {
    if value.len() < 4 {
        return;
    }
    SENSITIVE.with(|s| {
        let mut s = s.borrow_mut();
        if !s.iter().any(|v| v == value) {
            // Bounded: tokens rotate daily; keep the most recent ones.
            if s.len() >= 16 {
                s.remove(0);
            }
            s.push(value.to_owned());
        }
    });
}

/// Redacts registered values (and any fragment of one, from its start, of 8 characters or
/// more: an error message may have been clipped mid-token), then strips control characters
/// (no log injection) and clips.
pub fn sanitize(line: &str) -> String {
    let mut out = line.to_owned();
    SENSITIVE.with(|s| {
        for v in s.borrow().iter() {
            out = redact(&out, v);
        }
    });
    let out: String = out
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::error::clip(&out, MAX_LINE).to_owned()
}

fn redact(line: &str, secret: &str) -> String {
    const MIN: usize = 8;
    if secret.len() < MIN || !secret.is_char_boundary(MIN) {
        return line.replace(secret, "[redacted]");
    }
    let head = &secret[..MIN];
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(head) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let common = tail
            .bytes()
            .zip(secret.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let mut end = common;
        while !tail.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str("[redacted]");
        rest = &tail[end.max(1)..];
    }
    out.push_str(rest);
    out
}

/// Writes one sanitized line to the Action's log.
pub fn log(line: &str) {
    console_log(&sanitize(line));
}
