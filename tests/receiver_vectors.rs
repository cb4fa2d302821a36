//! The shared signature vectors: tokens in QStash's exact layout with the
//! verdict a strict verifier must give.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qstash::receiver::{Delivery, KeySlot, Malformed, Receiver, VerifyError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    current_signing_key: String,
    next_signing_key: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    token: String,
    url: Option<String>,
    now: u64,
    clock_tolerance_secs: u64,
    expected: String,
    official_ts_sdk: String,
    body: Option<String>,
    body_base64: Option<String>,
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/receiver_vectors.json"
);

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(FIXTURE).expect("fixture is readable");
    serde_json::from_str(&text).expect("fixture parses")
}

/// The rule each rejected case must fail on, so a verifier that rejects for
/// the wrong reason (say, every token) does not pass.
fn expected_error(name: &str) -> Option<VerifyError> {
    Some(match name {
        "tampered body" => VerifyError::BodyHash,
        "wrong url" | "url differs by a trailing slash" => VerifyError::Subject,
        "expired" | "expired, outside clock tolerance" => VerifyError::Expired,
        "not yet valid (nbf in the future)" => VerifyError::NotYetValid,
        "signed with an unknown key" => VerifyError::Signature,
        "wrong issuer" => VerifyError::Issuer,
        "alg none" | "alg HS512 with the right key (algorithm must be pinned to HS256)" => {
            VerifyError::Algorithm
        }
        "missing exp" => VerifyError::MissingClaim("exp"),
        "missing body claim" => VerifyError::MissingClaim("body"),
        "malformed: empty string" | "malformed: two segments" => {
            VerifyError::Malformed(Malformed::Segments)
        }
        "malformed: bad base64" => VerifyError::Malformed(Malformed::Header),
        // Its signature segment is junk too, and the signature is checked
        // before the claims are read.
        "malformed: payload not JSON" => VerifyError::Malformed(Malformed::Signature),
        _ => return None,
    })
}

#[test]
fn every_vector_gets_the_expected_verdict() {
    let vectors = vectors();
    assert!(vectors.cases.len() >= 20, "fixture lost cases");
    let mut stricter_than_ts = Vec::new();
    for case in &vectors.cases {
        let receiver = Receiver::new(&vectors.current_signing_key, &vectors.next_signing_key)
            .unwrap()
            .clock_tolerance(Duration::from_secs(case.clock_tolerance_secs));
        let body = match (&case.body, &case.body_base64) {
            (Some(text), None) => text.as_bytes().to_vec(),
            (None, Some(encoded)) => STANDARD.decode(encoded).unwrap(),
            _ => panic!("{}: needs exactly one of body, body_base64", case.name),
        };
        let mut delivery = Delivery::new(&case.token, &body);
        if let Some(url) = &case.url {
            delivery = delivery.url(url);
        }
        let verdict = receiver.verify_at(delivery, case.now);
        match case.expected.as_str() {
            "accept" => {
                let claims = verdict.unwrap_or_else(|e| panic!("{}: rejected: {e}", case.name));
                assert_eq!(claims.url, "https://example.com/api", "{}", case.name);
                assert_eq!(
                    claims.jwt_id.as_deref(),
                    Some("jwt_vector"),
                    "{}",
                    case.name
                );
                let want_key = if case.name.contains("next key") {
                    KeySlot::Next
                } else {
                    KeySlot::Current
                };
                assert_eq!(claims.key, want_key, "{}", case.name);
            }
            "reject" => {
                let err = verdict
                    .err()
                    .unwrap_or_else(|| panic!("{}: accepted", case.name));
                let want = expected_error(&case.name)
                    .unwrap_or_else(|| panic!("{}: no expected error listed", case.name));
                assert_eq!(err, want, "{}", case.name);
                if case.official_ts_sdk.starts_with("accept") {
                    stricter_than_ts.push(case.name.as_str());
                }
            }
            other => panic!("{}: unknown verdict {other}", case.name),
        }
    }
    // The official TypeScript SDK does not pin the algorithm and does not
    // require `exp`; these are the cases where we reject and it accepts.
    println!("stricter than the official TS SDK: {stricter_than_ts:?}");
    assert_eq!(
        stricter_than_ts,
        [
            "alg HS512 with the right key (algorithm must be pinned to HS256)",
            "missing exp"
        ]
    );
}

/// CI checks out the shared test data beside the crate; the fixture must
/// not drift from it. Clean clones without it skip the comparison.
#[test]
fn fixture_matches_shared_vectors_when_present() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/receiver/vectors.json"
    );
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(shared, std::fs::read_to_string(FIXTURE).unwrap());
    }
}
