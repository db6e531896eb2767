//! Redaction of secrets from text that may carry them in another form than the one we
//! know: raw, percent-encoded (`%2B`, or `+` for a space as forms write it), JSON-escaped,
//! or cut to a fragment (an error message clipped mid-token by whoever echoed it).

#[allow(unused_imports)]
use crate::prelude::*;

/// Shortest run of a secret's bytes that is redacted: shorter runs are too likely to be
/// ordinary text, and reveal too little to matter.
pub const MIN_FRAGMENT: usize = 8;

/// What replaces each redacted run.
pub const MARK: &str = "[redacted]";

/// Space and `+` compare equal: form encoding writes a space as `+`, so a secret's space may
/// come back as `+` (and its `+` as `%2B`, which decodes to `+`).
fn norm(b: u8) -> u8 {
    if b == b' ' {
        b'+'
    } else {
        b
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// One byte as a secret would be compared, and the range of `text` it was read from.
type Unit = (u8, usize, usize);

/// The text's bytes, read with `%XX` decoded (`mode` bit 0) and/or JSON escapes (`\"`,
/// `\\`, `\/`, `\u00XX`) decoded (bit 1). Every reading is needed: a secret holding `%41` or
/// `\` appears raw in one, JSON-escaped with its `%41` intact in another, and so on.
fn units(text: &str, mode: u8) -> Vec<Unit> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().and_then(hex).unwrap_or(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let (pct, json) = (mode & 1 != 0, mode & 2 != 0);
        let (value, len) = match (b[i], b.get(i + 1)) {
            (b'%', _) if pct && at(i + 1) | at(i + 2) < 16 => (at(i + 1) << 4 | at(i + 2), 3),
            // `\u00XX` stands for its byte; a wider escape just ends a run (secrets are
            // printable ASCII in practice, and the text on either side is still matched).
            (b'\\', Some(b'u')) if json && (2..6).all(|k| at(i + k) < 16) => {
                let hi = at(i + 2) | at(i + 3);
                (
                    if hi == 0 {
                        at(i + 4) << 4 | at(i + 5)
                    } else {
                        0
                    },
                    6,
                )
            }
            // Only JSON's own escapes of printable characters: reading `\x` as `x` for any
            // `x` would swallow the `\` of a raw secret and misread what follows it.
            (b'\\', Some(&c)) if json && matches!(c, b'"' | b'\\' | b'/') => (c, 2),
            (c, _) => (c, 1),
        };
        out.push((norm(value), i, i + len));
        i += len;
    }
    out
}

/// A secret prepared for redaction: each run of `MIN_FRAGMENT` bytes of it (the whole secret
/// when shorter), packed into a `u64`, in an open-addressed set. A text is then checked in
/// time proportional to its length, whatever the secret's (tokens run to ~1 kB, and a
/// pairwise scan of a log line against a few of them took milliseconds).
pub struct Secret {
    k: usize,
    slots: Vec<u64>,
}

/// The last `k` bytes of `w` (bytes shifted in from the right), offset by one so that 0
/// marks an empty slot. No UTF-8 text holds eight 0xFF bytes, the one run that would wrap.
fn key(w: u64, k: usize) -> u64 {
    let mask = if k >= 8 { u64::MAX } else { (1 << (8 * k)) - 1 };
    (w & mask).wrapping_add(1)
}

impl Secret {
    /// Prepares `secret` (in its normalised form: space as `+`).
    pub fn new(secret: &str) -> Secret {
        let b: Vec<u8> = secret.bytes().map(norm).collect();
        let k = b.len().min(MIN_FRAGMENT);
        // At most half full, so probes stay short.
        let size = (2 * b.len()).next_power_of_two().max(2);
        let mut s = Secret {
            k,
            slots: vec![0; size],
        };
        for w in b.windows(k.max(1)).filter(|_| k > 0) {
            let key = key(w.iter().fold(0, |a, &x| a << 8 | u64::from(x)), k);
            let i = s.slot(key);
            s.slots[i] = key;
        }
        s
    }

    /// Where `key` is, or the empty slot where it would go.
    fn slot(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as usize & mask;
        while self.slots[i] != 0 && self.slots[i] != key {
            i = (i + 1) & mask;
        }
        i
    }

    /// Marks every byte of the text inside a run of units equal to a run of this secret at
    /// least `k` long: every such run is a union of windows of exactly `k` units.
    fn mark(&self, units: &[Unit], hidden: &mut [bool]) {
        let mut w = 0u64;
        for (i, u) in units.iter().enumerate() {
            w = w << 8 | u64::from(u.0);
            let key = key(w, self.k);
            if self.k > 0 && i + 1 >= self.k && key != 0 && self.slots[self.slot(key)] == key {
                for v in &units[i + 1 - self.k..=i] {
                    hidden[v.1..v.2].fill(true);
                }
            }
        }
    }
}

/// `text` with every raw, percent- or form-encoded or JSON-escaped occurrence of each secret,
/// and of any fragment of one of `MIN_FRAGMENT` bytes or more, replaced by [`MARK`]. The runs
/// of all secrets are found before anything is replaced, so secrets that share a prefix
/// (tokens do) cannot shield each other.
pub fn redact<'a>(text: &str, secrets: impl Iterator<Item = &'a Secret> + Clone) -> String {
    let mut hidden = vec![false; text.len()];
    for mode in 0..4 {
        let u = units(text, mode);
        for s in secrets.clone() {
            s.mark(&u, &mut hidden);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut open = false;
    for (i, c) in text.char_indices() {
        if hidden[i..i + c.len_utf8()].contains(&true) {
            if !open {
                out.push_str(MARK);
            }
            open = true;
        } else {
            out.push(c);
            open = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Sup3r+Secret/with\"quote\\and%41 space-0123456789";

    fn with(text: &str, secrets: &[&str]) -> String {
        let prepared: Vec<Secret> = secrets.iter().map(|s| Secret::new(s)).collect();
        redact(text, prepared.iter())
    }

    fn r(text: &str) -> String {
        with(text, &[SECRET, "emu.tokenABCDEF0123456789"])
    }

    /// True when some window of `MIN_FRAGMENT` bytes of `s` appears in `text`.
    fn shows_fragment(text: &str, s: &str) -> bool {
        s.as_bytes()
            .windows(MIN_FRAGMENT)
            .any(|w| text.contains(::core::str::from_utf8(w).unwrap()))
    }

    fn percent(s: &str, plus_for_space: bool) -> String {
        s.bytes()
            .map(|b| match b {
                b' ' if plus_for_space => "+".to_owned(),
                b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => (b as char).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn every_encoding_of_the_secret_is_redacted() {
        let json = serde_json::to_string(SECRET).unwrap();
        let forms = [
            SECRET.to_owned(),
            percent(SECRET, false),
            percent(SECRET, true),
            // Lower-case hex digits, as some servers write them.
            percent(SECRET, false)
                .replace("%2F", "%2f")
                .replace("%5C", "%5c"),
            json[1..json.len() - 1].to_owned(),
            json[1..json.len() - 1].replace('/', "\\/"),
            SECRET.replace('"', "\\u0022").replace('S', "\\u0053"),
        ];
        for form in forms {
            let line = ["token error: client_secret=", &form, "&audience=x"].concat();
            let out = r(&line);
            assert_eq!(
                out, "token error: client_secret=[redacted]&audience=x",
                "{line}"
            );
        }
    }

    #[test]
    fn fragments_of_eight_bytes_or_more_are_redacted_anywhere() {
        for (start, len) in [(0, 8), (3, 9), (20, 12), (SECRET.len() - 8, 8), (10, 30)] {
            let piece = &SECRET[start..start + len];
            let out = r(&["(", piece, ")"].concat());
            assert_eq!(out, "([redacted])", "{piece:?}");
            let enc = percent(piece, true);
            assert_eq!(r(&["(", &enc, ")"].concat()), "([redacted])", "{enc:?}");
        }
        // Seven bytes stay: ordinary words must survive.
        assert_eq!(r("Secret/"), "Secret/");
        assert_eq!(
            r("provision ok: user=auth0|1"),
            "provision ok: user=auth0|1"
        );
    }

    #[test]
    fn secrets_sharing_a_prefix_do_not_shield_each_other() {
        let a = "eyJhbGciOiJSUzI1NiJ9.first-token-AAAA";
        let b = "eyJhbGciOiJSUzI1NiJ9.second-token-BBBB";
        let out = with(&["Bearer ", b, " rejected"].concat(), &[a, b]);
        assert_eq!(out, "Bearer [redacted] rejected");
        assert!(!shows_fragment(&out, b));
    }

    #[test]
    fn short_secrets_match_whole_and_text_is_kept_intact() {
        let out = with("key=abcd, abc, ünï abcd", &["abcd"]);
        assert_eq!(out, "key=[redacted], abc, ünï [redacted]");
        // Broken escapes and multi-byte text around a secret are not mangled.
        let out = r("%%2 \\u12 é emu.tokenABCDEF0123456789 ü\\");
        assert_eq!(out, "%%2 \\u12 é [redacted] ü\\");
        assert_eq!(with("nothing here", &[]), "nothing here");
        assert_eq!(with("nothing here", &[""]), "nothing here");
        // Eight 0xFF bytes would pack to the empty-slot marker: never a match.
        assert_eq!(
            with("%FF%FF%FF%FF%FF%FF%FF%FF", &["abcdefgh"]),
            "%FF%FF%FF%FF%FF%FF%FF%FF"
        );
    }

    #[test]
    fn non_ascii_secrets_in_any_encoding() {
        let s = "pässwörd-geheim-ключ";
        for form in [
            s.to_owned(),
            percent(s, false),
            serde_json::to_string(s).unwrap(),
            "p\\u00e4ssw\\u00f6rd-geheim".to_owned(),
        ] {
            let out = with(&form, &[s]);
            assert!(!out.contains("geheim"), "{form} -> {out}");
            assert!(out.contains(MARK));
        }
    }
}
