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

/// Redacts registered values, strips control characters (no log injection) and clips.
pub fn sanitize(line: &str) -> String {
    let mut out: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    SENSITIVE.with(|s| {
        for v in s.borrow().iter() {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "[redacted]");
            }
        }
    });
    crate::error::clip(&out, MAX_LINE).to_owned()
}

/// Writes one sanitized line to the Action's log.
pub fn log(line: &str) {
    console_log(&sanitize(line));
}
