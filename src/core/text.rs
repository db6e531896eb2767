//! Joining and searching strings without std's generic machinery: `<[S]>::concat` / `join`
//! share `join_generic_copy` (monomorphised per element type at ~1 kB of wasm each), and the
//! char-pattern searchers link `memchr` and `CharSearcher`, while the Action only ever glues
//! a handful of short pieces and splits on one ASCII separator.

#[allow(unused_imports)]
use crate::prelude::*;

/// The pieces one after another (`[a, b].concat()`).
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The items with `sep` between them (`items.join(sep)`).
pub fn join_with<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut s = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(item.as_ref());
    }
    s
}

/// Where ASCII byte `b` first occurs in `s`. The searches here are over bytes: `str`'s
/// char-pattern searchers (`split(char)`, `rfind`, `trim_matches`…) link `memchr`/`memrchr`
/// and `CharSearcher` (~1.5 kB of wasm) for what is always one ASCII separator. An ASCII
/// byte is never inside a multi-byte character, so every index found is a char boundary.
pub fn find_byte(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|c| c == b)
}

/// Where ASCII byte `b` last occurs in `s`.
pub fn rfind_byte(s: &str, b: u8) -> Option<usize> {
    s.bytes().rposition(|c| c == b)
}

/// `s` around the (ASCII) byte at `i`. By `get`: `&s[..i]` would link the char-boundary
/// panic, whose message formatting pulls in core's Unicode printable tables (~2.7 kB).
fn halves(s: &str, i: usize) -> (&str, &str) {
    (
        s.get(..i).unwrap_or_default(),
        s.get(i + 1..).unwrap_or_default(),
    )
}

/// `s.split_once(b)` for an ASCII byte.
pub fn split_once_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    find_byte(s, b).map(|i| halves(s, i))
}

/// `s.rsplit_once(b)` for an ASCII byte.
pub fn rsplit_once_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    rfind_byte(s, b).map(|i| halves(s, i))
}

/// The part of `s` before the first of `bytes` (all of `s` if none occurs).
pub fn before_any<'a>(s: &'a str, bytes: &[u8]) -> &'a str {
    match s.bytes().position(|c| bytes.contains(&c)) {
        Some(i) => s.get(..i).unwrap_or_default(),
        None => s,
    }
}

/// `s` without any trailing ASCII byte `b` (`trim_end_matches(b)`).
pub fn trim_end_byte(s: &str, b: u8) -> &str {
    let mut s = s;
    while let Some(rest) = s.strip_suffix(char::from(b)) {
        s = rest;
    }
    s
}

/// `s` without any leading ASCII byte `b` (`trim_start_matches(b)`).
pub fn trim_start_byte(s: &str, b: u8) -> &str {
    let mut s = s;
    while let Some(rest) = s.strip_prefix(char::from(b)) {
        s = rest;
    }
    s
}

/// `s.split(b)` for an ASCII byte.
pub fn split_byte(s: &str, b: u8) -> SplitByte<'_> {
    SplitByte { rest: Some(s), b }
}

/// The pieces of [`split_byte`].
pub struct SplitByte<'a> {
    rest: Option<&'a str>,
    b: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once_byte(rest, self.b) {
            Some((piece, after)) => {
                self.rest = Some(after);
                Some(piece)
            }
            None => self.rest.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_searches_match_std() {
        for s in [
            "",
            ".",
            "a.b",
            "..a..",
            "é.ü.",
            "a@b@c",
            "no-separator",
            "[::1]:8080",
        ] {
            for (b, c) in [(b'.', '.'), (b'@', '@'), (b':', ':')] {
                assert_eq!(find_byte(s, b), s.find(c), "{s}");
                assert_eq!(rfind_byte(s, b), s.rfind(c), "{s}");
                assert_eq!(split_once_byte(s, b), s.split_once(c), "{s}");
                assert_eq!(rsplit_once_byte(s, b), s.rsplit_once(c), "{s}");
                assert_eq!(
                    split_byte(s, b).collect::<Vec<_>>(),
                    s.split(c).collect::<Vec<_>>(),
                    "{s}"
                );
            }
            assert_eq!(
                before_any(s, b"/?#"),
                s.split(['/', '?', '#']).next().unwrap_or_default()
            );
        }
        assert_eq!(before_any("h.com/p?q#f", b"/\\?#"), "h.com");
        assert_eq!(before_any("h.com\\p", b"/\\?#"), "h.com");
    }

    #[test]
    fn matches_std() {
        assert_eq!(cat(&[]), "");
        assert_eq!(cat(&["a", "", "bc", "é"]), ["a", "", "bc", "é"].concat());
        let items: Vec<String> = ["x", "", "yz"].iter().map(|s| s.to_string()).collect();
        for sep in ["", ",", ", "] {
            assert_eq!(join_with(&items, sep), items.join(sep));
            assert_eq!(join_with(&items[..1], sep), "x");
            assert_eq!(join_with::<String>(&[], sep), "");
        }
    }
}
