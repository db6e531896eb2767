//! Integers as decimal text without `core::fmt`: in the wasm, `to_string()` / `write!` on an
//! integer links the formatting machinery (~kB), while the Action only ever needs small
//! unsigned numbers in messages, request paths and the log line.

#[allow(unused_imports)]
use crate::prelude::*;

/// Appends `n` in decimal to `out`.
pub fn push_decimal(out: &mut String, mut n: u32) {
    // u32::MAX has 10 digits; filled from the end.
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// A decimal number written as ASCII digits only (no sign, no spaces), if it fits a `u32`:
/// `str::parse` would link its generic integer parser into the wasm (and accept a `+`; see
/// [`parse_u32_plus`]).
pub fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u32, |n, b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        } else {
            None
        }
    })
}

/// [`parse_u32`] allowing one leading `+`, as `str::parse` does (the `TIMEOUT_MS` secret and
/// the rate-limit headers have always been read that way: tests/vectors/timeout_ms.json).
pub fn parse_u32_plus(s: &str) -> Option<u32> {
    parse_u32(s.strip_prefix('+').unwrap_or(s))
}

/// `n` in decimal.
pub fn decimal(n: u32) -> String {
    let mut s = String::new();
    push_decimal(&mut s, n);
    s
}

#[cfg(test)]
mod tests {
    use super::{decimal, parse_u32, parse_u32_plus};

    #[test]
    fn parses_plain_digits_only() {
        for n in [0, 7, 100, 65_535, u32::MAX] {
            assert_eq!(parse_u32(&n.to_string()), Some(n));
        }
        assert_eq!(parse_u32("007"), Some(7));
        assert_eq!(parse_u32_plus("+5"), Some(5));
        assert_eq!(parse_u32_plus("5"), Some(5));
        assert_eq!(parse_u32_plus("++5"), None);
        assert_eq!(parse_u32_plus("+"), None);
        for bad in [
            "",
            "+5",
            "-5",
            " 5",
            "5 ",
            "1.5",
            "4294967296",
            "99999999999",
            "٣",
        ] {
            assert_eq!(parse_u32(bad), None, "{bad}");
        }
    }

    #[test]
    fn matches_std_formatting() {
        for n in [0, 1, 9, 10, 99, 100, 429, 65_535, 1_000_000, u32::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
