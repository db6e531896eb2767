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

/// `n` in decimal.
pub fn decimal(n: u32) -> String {
    let mut s = String::new();
    push_decimal(&mut s, n);
    s
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn matches_std_formatting() {
        for n in [0, 1, 9, 10, 99, 100, 429, 65_535, 1_000_000, u32::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
