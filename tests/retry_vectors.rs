//! The shared retry vectors (tests/vectors/retry.json): the Action's waits, which the deploy
//! tool's JavaScript (tests/retry-vectors.test.js) must match case for case.

use auth0_provision::core::retry::backoff_ms;

#[test]
fn backoff_matches_the_shared_vectors() {
    let doc: serde_json::Value = serde_json::from_str(include_str!("vectors/retry.json")).unwrap();
    let now = doc["now"].as_f64().unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let got = backoff_ms(
            c["attempt"].as_u64().unwrap() as u32,
            c["retry_after"].as_str(),
            c["ratelimit_reset"].as_str(),
            now,
            c["jitter"].as_f64().unwrap_or(f64::NAN),
        );
        assert_eq!(got, c["wait"].as_f64().unwrap(), "{c}");
    }
}
