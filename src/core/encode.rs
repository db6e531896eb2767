//! Percent-encoding and small hashes, so hostile ids cannot change a request's path.

#[allow(unused_imports)]
use crate::prelude::*;

use super::json::hex_digit;

/// Percent-encodes `s` so it is exactly one path segment (or one query value): every byte
/// outside RFC 3986's unreserved set is escaped, so `/`, `..`, `?`, `#`, `%`, `|` and
/// non-ASCII stay data.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'~')
            || (b == b'.' && !is_dots(s))
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
    }
    out
}

/// The byte index of the first `needle` in `hay`. A plain scan instead of `str::find` with a
/// `&str` pattern: std's `StrSearcher` links its panic path, `{:?}` of a char and with it
/// core's Unicode printable tables (~8 kB of wasm in all).
pub fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(0);
    }
    hay.as_bytes().windows(n.len()).position(|w| w == n)
}

/// `s` with every `from` replaced by `to`, as `str::replace` does without `StrSearcher` (an
/// empty `from` leaves `s` as it is).
pub fn replace_str(s: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = find_str(rest, from).filter(|_| !from.is_empty()) {
        out.push_str(rest.get(..i).unwrap_or_default());
        out.push_str(to);
        rest = rest.get(i + from.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// `.` and `..` are path operations even when unescaped dots are otherwise fine.
fn is_dots(s: &str) -> bool {
    s == "." || s == ".."
}

/// `k=v&k2=v2` with both sides encoded (for query strings and form bodies).
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&segment(k));
        out.push('=');
        out.push_str(&segment(v));
    }
    out
}

/// FNV-1a (64-bit) as 16 hex digits: a short, stable cache-key suffix (not a secret hash).
pub fn fnv_hex(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f; // separator, so ("ab","c") and ("a","bc") differ
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        for &b in p.as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    (0..16)
        .rev()
        .map(|i| hex_digit((h >> (i * 4)) as u8))
        .collect()
}

/// A short hash (8 hex digits) of a policy's text, whitespace outside strings ignored: a
/// pretty-printed file and its compact `POLICY` secret hash alike, so the Action's log line
/// (`policy=…`) says which policy version decided, and `policy check` prints the same.
pub fn policy_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let (mut in_str, mut escaped) = (false, false);
    for &b in text.as_bytes() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else if b.is_ascii_whitespace() {
            continue;
        } else if b == b'"' {
            in_str = true;
        }
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    (0..8)
        .rev()
        .map(|i| hex_digit((h >> (32 + i * 4)) as u8).to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_hash_ignores_formatting_not_content() {
        let compact = r#"{"rules":[{"name":"a b","when":{}}]}"#;
        let pretty = "{\n  \"rules\": [ { \"name\": \"a b\",\n \"when\": {} } ]\n}\n";
        assert_eq!(policy_hash(compact), policy_hash(pretty));
        assert_eq!(policy_hash(compact).len(), 8);
        assert_ne!(
            policy_hash(compact),
            policy_hash(r#"{"rules":[{"name":"ab","when":{}}]}"#)
        );
        assert_ne!(
            policy_hash(r#"{"a":"x\"y z"}"#),
            policy_hash(r#"{"a":"x\"yz"}"#)
        );
    }

    #[test]
    fn hostile_ids_stay_one_segment() {
        assert_eq!(segment("auth0|63d1"), "auth0%7C63d1");
        assert_eq!(segment("a/../b?c#d%e"), "a%2F..%2Fb%3Fc%23d%25e");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment("é "), "%C3%A9%20");
        for s in ["x/y", "..", "?q", "#f", "%2F", "a\u{0}b", "ünï"] {
            let e = segment(s);
            assert!(
                e.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)),
                "{e}"
            );
            assert_ne!(e, ".");
            assert_ne!(e, "..");
        }
    }

    #[test]
    fn substring_search_and_replace_agree_with_std() {
        let hays = [
            "",
            "a",
            "%2e%2E.%2e",
            "x://y://",
            "é, é, ",
            "clai",
            "a.claims.b",
            "%2%2e",
        ];
        let needles = ["", "%2e", "://", ", ", "claims", "é", "a"];
        for h in hays {
            for n in needles {
                assert_eq!(find_str(h, n), h.find(n), "{h:?} {n:?}");
                if !n.is_empty() {
                    assert_eq!(replace_str(h, n, "."), h.replace(n, "."), "{h:?} {n:?}");
                }
            }
        }
        assert_eq!(replace_str("abc", "", "x"), "abc");
    }

    #[test]
    fn forms_and_hashes() {
        assert_eq!(
            form(&[("name_filter", "Premium User"), ("page", "0")]),
            "name_filter=Premium%20User&page=0"
        );
        assert_eq!(fnv_hex(&["a"]).len(), 16);
        assert_ne!(fnv_hex(&["ab", "c"]), fnv_hex(&["a", "bc"]));
        assert_eq!(fnv_hex(&["x", "y"]), fnv_hex(&["x", "y"]));
    }
}
