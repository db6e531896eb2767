//! When to retry a Management API request, and how long to wait first. Pure: the caller
//! supplies the clock and the jitter.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::core::decimal::parse_u32;

/// Attempts per request, the first included (go-auth0 and node-auth0 use 3–4).
pub const MAX_ATTEMPTS: u32 = 4;
/// First backoff step when the server gives no hint.
pub const BASE_BACKOFF_MS: f64 = 250.0;
/// Longest single wait, whatever the server asks.
pub const MAX_WAIT_MS: f64 = 4_000.0;
/// A retry is only started if at least this much time remains after the wait.
pub const MIN_ATTEMPT_MS: f64 = 300.0;

/// Parses `Retry-After` into ms from `now`: delta-seconds or an IMF-fixdate
/// (`Wed, 21 Oct 2015 07:28:00 GMT`).
pub fn retry_after_ms(value: &str, now_ms: f64) -> Option<f64> {
    let v = value.trim();
    if let Some(secs) = digits(v) {
        return Some(secs * 1000.0);
    }
    http_date_ms(v).map(|at| (at - now_ms).max(0.0))
}

/// A number written as ASCII digits only (RFC 9110's delta-seconds: no sign, no fraction),
/// however long (a huge value is a long wait, clamped later, not an unreadable one).
fn digits(v: &str) -> Option<f64> {
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.bytes().fold(0.0, |n, b| n * 10.0 + f64::from(b - b'0')))
}

/// Epoch ms of an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. After the day name
/// every field has its fixed width (no signs, no short fields), read byte by byte: no
/// `str::parse` or splitting into vectors in the wasm.
pub fn http_date_ms(v: &str) -> Option<f64> {
    // `DD Mon YYYY HH:MM:SS GMT`
    let rest = v.get(super::encode::find_str(v, ", ")? + 2..)?;
    let b = rest.as_bytes();
    if b.len() != 24 || &b[20..] != b" GMT" {
        return None;
    }
    for (at, sep) in [(2, b' '), (6, b' '), (11, b' '), (14, b':'), (17, b':')] {
        if b[at] != sep {
            return None;
        }
    }
    let num = |at: usize, len: usize| rest.get(at..at + len).and_then(parse_u32);
    const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let month = (0..12).find(|m| MONTHS[m * 3..m * 3 + 3] == b[3..6])? as u32 + 1;
    let (day, year) = (num(0, 2)?, num(7, 4)?);
    let (h, m, s) = (num(12, 2)?, num(15, 2)?, num(18, 2)?);
    // Four-digit years from the epoch on (no overflow in the day arithmetic).
    if year < 1970 || h > 23 || m > 59 || s > 60 || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(h * 3600 + m * 60 + s);
    Some(secs as f64 * 1000.0)
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// How long to wait before retry number `attempt` (1 = first retry): `Retry-After` when
/// sent, else `x-ratelimit-reset` (epoch seconds), else exponential backoff with jitter
/// (`jitter` in 0..1). Always clamped to `0..=MAX_WAIT_MS`.
pub fn backoff_ms(
    attempt: u32,
    retry_after: Option<&str>,
    ratelimit_reset: Option<&str>,
    now_ms: f64,
    jitter: f64,
) -> f64 {
    let hinted = retry_after
        .and_then(|v| retry_after_ms(v, now_ms))
        .or_else(|| {
            ratelimit_reset
                .and_then(|r| digits(r.trim()))
                // +50 ms: the bucket refills at the reset second, not before.
                .map(|epoch_s| epoch_s * 1000.0 - now_ms + 50.0)
        });
    let wait = match hinted {
        Some(ms) => ms,
        None => {
            let exp = BASE_BACKOFF_MS * f64::from(1u32 << attempt.saturating_sub(1).min(8));
            let jitter = if jitter.is_nan() {
                0.5
            } else {
                jitter.clamp(0.0, 1.0)
            };
            exp * (0.5 + jitter / 2.0)
        }
    };
    // NaN (a hint of inf - inf) counts as the longest wait.
    if wait.is_nan() {
        MAX_WAIT_MS
    } else {
        wait.clamp(0.0, MAX_WAIT_MS)
    }
}

/// Whether retry `attempt` may start after waiting `wait_ms`: attempts remain and the
/// retry can still finish before the run's deadline.
pub fn may_retry(attempt: u32, wait_ms: f64, now_ms: f64, deadline_ms: f64) -> bool {
    attempt < MAX_ATTEMPTS && now_ms + wait_ms + MIN_ATTEMPT_MS <= deadline_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000_000.0; // 2023-11-14T22:13:20Z

    #[test]
    fn parses_http_dates() {
        assert_eq!(
            http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000.0)
        );
        assert_eq!(http_date_ms("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            http_date_ms("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400_000.0)
        );
        for bad in [
            "",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov 1994 08-49-37 GMT",
        ] {
            assert_eq!(http_date_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_hints_come_first_and_are_clamped() {
        assert_eq!(backoff_ms(1, Some("2"), Some("0"), NOW, 0.5), 2000.0);
        assert_eq!(
            backoff_ms(1, Some("Tue, 14 Nov 2023 22:13:21 GMT"), None, NOW, 0.5),
            1000.0
        );
        assert_eq!(backoff_ms(1, Some("3600"), None, NOW, 0.5), MAX_WAIT_MS);
        let reset = ((NOW / 1000.0) as u32 + 1).to_string();
        assert_eq!(backoff_ms(1, None, Some(&reset), NOW, 0.5), 1050.0);
        assert_eq!(
            backoff_ms(1, Some("garbage"), Some("also garbage"), NOW, 0.0),
            125.0
        );
        let past = ((NOW / 1000.0) as u32 - 10).to_string();
        assert_eq!(backoff_ms(1, None, Some(&past), NOW, 0.5), 0.0);
    }

    #[test]
    fn backoff_grows_with_jitter_and_deadline_bounds_retries() {
        assert_eq!(backoff_ms(1, None, None, NOW, 0.0), 125.0);
        assert_eq!(backoff_ms(1, None, None, NOW, 1.0), 250.0);
        assert_eq!(backoff_ms(3, None, None, NOW, 1.0), 1000.0);
        assert_eq!(backoff_ms(30, None, None, NOW, 1.0), MAX_WAIT_MS);
        assert_eq!(backoff_ms(1, None, None, NOW, f64::NAN), 187.5);
        assert_eq!(http_date_ms("Sun, 06 Nov 999999999999 08:49:37 GMT"), None);
        assert!(may_retry(1, 1000.0, NOW, NOW + 1300.0));
        assert!(!may_retry(1, 1000.0, NOW, NOW + 1299.0));
        assert!(!may_retry(MAX_ATTEMPTS, 0.0, NOW, NOW + 10_000.0));
    }
}
