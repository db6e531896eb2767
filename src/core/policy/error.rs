//! Policy errors, each naming the JSON path of the value at fault, and the collector the
//! parser adds them to (it reports every error, not just the first).

use crate::core::json::Json;

/// One validation error: where (`rules[0].when.provider`), what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path of the offending value (`$` for the whole document).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

pub(super) struct Errors(pub(super) Vec<PolicyError>);

impl Errors {
    pub(super) fn add(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(PolicyError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    pub(super) fn kind(&mut self, path: &str, expected: &str, got: &Json) {
        let mut s = String::from(expected);
        s.push_str(", got ");
        s.push_str(got.kind());
        self.add(path, s);
    }

    pub(super) fn unknown_keys(&mut self, path: &str, obj: &Json, allowed: &[&str]) {
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

pub(super) fn join(path: &str, key: &str) -> String {
    // An empty key is shown as `""` so that no error has an empty path.
    let key = if key.is_empty() { "\"\"" } else { key };
    if path.is_empty() {
        key.to_owned()
    } else {
        [path, ".", key].concat()
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    [path, "[", &i.to_string(), "]"].concat()
}
