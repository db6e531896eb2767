//! Joining strings without `<[S]>::concat` / `join`: std's one generic helper behind both
//! (`join_generic_copy`) is monomorphised per element type at ~1 kB of wasm each, while the
//! Action only ever glues a handful of short pieces for messages and log lines.

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

#[cfg(test)]
mod tests {
    use super::{cat, join_with};

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
