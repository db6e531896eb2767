//! Redaction of secrets from text that may carry them in another form than the one we
//! know: raw, percent-encoded (`%2B`, or `+` for a space as forms write it), JSON-escaped,
//! or cut to a fragment (an error message clipped mid-token by whoever echoed it).

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

/// The text's bytes, either as they are or with `%XX` and JSON escapes (`\"`, `\\`, `\/`,
/// `\u00XX`) decoded. Both readings are needed: a secret that itself holds `%41` or `\`
/// appears raw in one and encoded in the other.
fn units(text: &str, decode: bool) -> Vec<Unit> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().and_then(hex).unwrap_or(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let (value, len) = match (decode, b[i], b.get(i + 1)) {
            (true, b'%', _) if at(i + 1) | at(i + 2) < 16 => (at(i + 1) << 4 | at(i + 2), 3),
            // `\u00XX` stands for its byte; a wider escape just ends a run (secrets are
            // printable ASCII in practice, and the text on either side is still matched).
            (true, b'\\', Some(b'u')) if (2..6).all(|k| at(i + k) < 16) => {
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
            (true, b'\\', Some(&c)) => (c, 2),
            (_, c, _) => (c, 1),
        };
        out.push((norm(value), i, i + len));
        i += len;
    }
    out
}

/// Marks every byte of the text inside a run of units that equals a run of `secret` at least
/// `MIN_FRAGMENT` long (or the whole secret, when it is shorter). Every such run is a union
/// of windows of exactly that length, so checking each window is enough.
fn mark(units: &[Unit], secret: &[u8], hidden: &mut [bool]) {
    let k = secret.len().min(MIN_FRAGMENT);
    if k == 0 {
        return;
    }
    for w in units.windows(k) {
        let hit = secret
            .windows(k)
            .any(|s| s.iter().zip(w).all(|(a, u)| norm(*a) == u.0));
        if hit {
            for u in w {
                hidden[u.1..u.2].fill(true);
            }
        }
    }
}

/// `text` with every raw, percent- or form-encoded or JSON-escaped occurrence of each secret,
/// and of any fragment of one of `MIN_FRAGMENT` bytes or more, replaced by [`MARK`]. The runs
/// of all secrets are found before anything is replaced, so secrets that share a prefix
/// (tokens do) cannot shield each other.
pub fn redact<'a>(text: &str, secrets: impl Iterator<Item = &'a str> + Clone) -> String {
    let mut hidden = vec![false; text.len()];
    for decode in [false, true] {
        let u = units(text, decode);
        for s in secrets.clone() {
            mark(&u, s.as_bytes(), &mut hidden);
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

    fn r(text: &str) -> String {
        redact(text, [SECRET, "emu.tokenABCDEF0123456789"].into_iter())
    }

    /// True when some window of `MIN_FRAGMENT` bytes of `s` appears in `text`.
    fn shows_fragment(text: &str, s: &str) -> bool {
        s.as_bytes()
            .windows(MIN_FRAGMENT)
            .any(|w| text.contains(std::str::from_utf8(w).unwrap()))
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
        let out = redact(&["Bearer ", b, " rejected"].concat(), [a, b].into_iter());
        assert_eq!(out, "Bearer [redacted] rejected");
        assert!(!shows_fragment(&out, b));
    }

    #[test]
    fn short_secrets_match_whole_and_text_is_kept_intact() {
        let out = redact("key=abcd, abc, ünï abcd", ["abcd"].into_iter());
        assert_eq!(out, "key=[redacted], abc, ünï [redacted]");
        // Broken escapes and multi-byte text around a secret are not mangled.
        let out = r("%%2 \\u12 é emu.tokenABCDEF0123456789 ü\\");
        assert_eq!(out, "%%2 \\u12 é [redacted] ü\\");
        assert_eq!(redact("nothing here", std::iter::empty()), "nothing here");
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
            let out = redact(&form, [s].into_iter());
            assert!(!out.contains("geheim"), "{form} -> {out}");
            assert!(out.contains(MARK));
        }
    }
}
