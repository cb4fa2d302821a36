//! Verification rules beyond the shared vectors: claim edge cases, key
//! selection, configuration from the environment, signing, redaction.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qstash::receiver::{
    ConfigError, Delivery, KeySlot, Malformed, Receiver, Region, Signer, VerifyError,
};
use ring::hmac;

const CURRENT: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
const NEXT: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";
const IAT: u64 = 1_767_225_600;
const URL: &str = "https://example.com/api";
const BODY: &[u8] = br#"{"hello":"world"}"#;
/// base64url(SHA-256(BODY)), padded.
const BODY_HASH: &str = "k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg=";

/// A token with arbitrary header and claims JSON, signed with `key`.
fn forge(header: &str, claims: &str, key: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

fn claims_json(replace: &[(&str, &str)]) -> String {
    let mut json = format!(
        r#"{{"aud":"","body":"{BODY_HASH}","exp":{},"iat":{IAT},"iss":"Upstash","jti":"jwt_x","nbf":{IAT},"sub":"{URL}"}}"#,
        IAT + 300
    );
    for (from, to) in replace {
        assert!(json.contains(from), "{from} not in claims");
        json = json.replace(from, to);
    }
    json
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn receiver() -> Receiver {
    Receiver::new(CURRENT, NEXT).unwrap()
}

fn verify(token: &str) -> Result<qstash::Claims, VerifyError> {
    receiver().verify_at(Delivery::new(token, BODY).url(URL), IAT + 60)
}

#[test]
fn signer_reproduces_the_vector_tokens_exactly() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/receiver_vectors.json"
    ))
    .unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let token_of = |name: &str| {
        vectors["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|case| case["name"] == name)
            .and_then(|case| case["token"].as_str())
            .unwrap()
            .to_owned()
    };
    let signed = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_vector");
    assert_eq!(signed, token_of("valid, current key"));
    let signed = Signer::new(NEXT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_vector");
    assert_eq!(signed, token_of("valid, signed with next key (rotation)"));
    let signed = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, b"", IAT, "jwt_vector");
    assert_eq!(signed, token_of("valid, empty body"));
}

#[test]
fn signed_tokens_round_trip_with_fresh_ids() {
    let signer = Signer::new(NEXT).unwrap();
    let body = [0u8, 255, 254, 128, 65, 10];
    let first = signer.sign(URL, &body);
    let second = signer.sign(URL, &body);
    let claims = receiver()
        .verify(Delivery::new(&first, &body).url(URL))
        .unwrap();
    assert_eq!(claims.key, KeySlot::Next);
    assert_eq!(claims.not_before, claims.issued_at.unwrap());
    assert_eq!(claims.expires_at, claims.issued_at.unwrap() + 300);
    let first_id = claims.jwt_id.unwrap();
    let second_id = receiver()
        .verify(Delivery::new(&second, &body))
        .unwrap()
        .jwt_id
        .unwrap();
    assert!(
        first_id.starts_with("jwt_") && first_id.len() > 20,
        "{first_id}"
    );
    assert_ne!(first_id, second_id);
}

#[test]
fn claims_report_the_signed_facts() {
    let token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_abc");
    let claims = verify(&token).unwrap();
    assert_eq!(claims.url, URL);
    assert_eq!(claims.issued_at, Some(IAT));
    assert_eq!(claims.not_before, IAT);
    assert_eq!(claims.expires_at, IAT + 300);
    assert_eq!(claims.jwt_id.as_deref(), Some("jwt_abc"));
    assert_eq!(
        claims.body_sha256.as_slice(),
        ring::digest::digest(&ring::digest::SHA256, BODY).as_ref()
    );
    assert_eq!(claims.key, KeySlot::Current);
    assert_eq!(claims.region, None);
}

#[test]
fn escaped_json_strings_are_unescaped_before_comparing() {
    // Go's encoder writes `&` as \u0026 and may escape `/`.
    let url = "https://example.com/api?a=1&b=2";
    let claims = claims_json(&[(URL, r"https:\/\/example.com\/api?a=1\u0026b=2")]);
    let token = forge(HEADER, &claims, CURRENT);
    let verified = receiver()
        .verify_at(Delivery::new(&token, BODY).url(url), IAT)
        .unwrap();
    assert_eq!(verified.url, url);
}

#[test]
fn aud_is_ignored_whatever_its_value() {
    for aud in [r#""aud":"","#, r#""aud":"someone","#, r#""aud":["a"],"#, ""] {
        let claims = claims_json(&[(r#""aud":"","#, aud)]);
        assert!(verify(&forge(HEADER, &claims, CURRENT)).is_ok(), "{aud}");
    }
}

#[test]
fn header_is_parsed_when_not_the_standard_encoding() {
    let reordered = forge(r#"{"typ":"JWT","alg":"HS256"}"#, &claims_json(&[]), CURRENT);
    assert!(verify(&reordered).is_ok());
    let bare = forge(r#"{"alg":"HS256"}"#, &claims_json(&[]), CURRENT);
    assert!(verify(&bare).is_ok());
    for (header, want) in [
        (r#"{"alg":"HS384"}"#, VerifyError::Algorithm),
        (r#"{"alg":"hs256"}"#, VerifyError::Algorithm),
        (
            r#"{"typ":"JWT"}"#,
            VerifyError::Malformed(Malformed::Header),
        ),
        (
            r#"{"alg":"HS256","crit":["b64"]}"#,
            VerifyError::Malformed(Malformed::Header),
        ),
        (
            r#"{"alg":"HS256","alg":"none"}"#,
            VerifyError::Malformed(Malformed::Header),
        ),
        ("[]", VerifyError::Malformed(Malformed::Header)),
    ] {
        assert_eq!(
            verify(&forge(header, &claims_json(&[]), CURRENT)).unwrap_err(),
            want,
            "{header}"
        );
    }
}

#[test]
fn authentic_but_malformed_claims_are_rejected() {
    let exp = format!(r#""exp":{}"#, IAT + 300);
    for (claims, want) in [
        (
            "not json".to_owned(),
            VerifyError::Malformed(Malformed::Payload),
        ),
        ("[]".to_owned(), VerifyError::Malformed(Malformed::Payload)),
        (
            claims_json(&[(&exp, r#""exp":"soon""#)]),
            VerifyError::Malformed(Malformed::Payload),
        ),
        (
            claims_json(&[(&exp, r#""exp":-1"#)]),
            VerifyError::Malformed(Malformed::Payload),
        ),
        (
            claims_json(&[(r#""jti""#, r#""iss":"Upstash","jti""#)]),
            VerifyError::Malformed(Malformed::Payload),
        ),
        (
            claims_json(&[(r#""iss":"Upstash","#, "")]),
            VerifyError::MissingClaim("iss"),
        ),
        (
            claims_json(&[(r#""iss":"Upstash""#, r#""iss":"upstash""#)]),
            VerifyError::Issuer,
        ),
        (
            claims_json(&[(&format!(r#","nbf":{IAT}"#), "")]),
            VerifyError::MissingClaim("nbf"),
        ),
        (
            claims_json(&[(&format!(r#","sub":"{URL}""#), "")]),
            VerifyError::MissingClaim("sub"),
        ),
        (claims_json(&[(BODY_HASH, "k6I5")]), VerifyError::BodyHash),
        (
            claims_json(&[(BODY_HASH, &format!("{BODY_HASH}AAAA"))]),
            VerifyError::BodyHash,
        ),
        (
            claims_json(&[(BODY_HASH, "not base64!")]),
            VerifyError::BodyHash,
        ),
    ] {
        assert_eq!(
            verify(&forge(HEADER, &claims, CURRENT)).unwrap_err(),
            want,
            "{claims}"
        );
    }
}

#[test]
fn iat_and_jti_are_optional() {
    let claims = claims_json(&[(&format!(r#""iat":{IAT},"#), ""), (r#""jti":"jwt_x","#, "")]);
    let verified = verify(&forge(HEADER, &claims, CURRENT)).unwrap();
    assert_eq!((verified.issued_at, verified.jwt_id), (None, None));
}

#[test]
fn time_window_boundaries() {
    let token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_t");
    let at = |receiver: &Receiver, now| receiver.verify_at(Delivery::new(&token, BODY), now);
    let strict = receiver();
    assert!(at(&strict, IAT).is_ok());
    assert_eq!(at(&strict, IAT - 1).unwrap_err(), VerifyError::NotYetValid);
    assert!(at(&strict, IAT + 299).is_ok());
    assert_eq!(at(&strict, IAT + 300).unwrap_err(), VerifyError::Expired);
    let lenient = receiver().clock_tolerance(Duration::from_secs(10));
    assert!(at(&lenient, IAT - 10).is_ok());
    assert_eq!(
        at(&lenient, IAT - 11).unwrap_err(),
        VerifyError::NotYetValid
    );
    assert!(at(&lenient, IAT + 309).is_ok());
    assert_eq!(at(&lenient, IAT + 310).unwrap_err(), VerifyError::Expired);
    let forever = receiver().clock_tolerance(Duration::from_secs(u64::MAX));
    assert!(at(&forever, u64::MAX).is_ok());
    assert!(at(&forever, 0).is_ok());
}

#[test]
fn extreme_times_do_not_overflow() {
    let claims = claims_json(&[(
        &format!(r#""exp":{}"#, IAT + 300),
        &format!(r#""exp":{}"#, u64::MAX),
    )]);
    let token = forge(HEADER, &claims, CURRENT);
    let tolerant = receiver().clock_tolerance(Duration::from_secs(u64::MAX));
    assert!(
        tolerant
            .verify_at(Delivery::new(&token, BODY), u64::MAX - 1)
            .is_ok()
    );
}

/// A clock standing at a unix second.
#[derive(Debug)]
struct At(u64);

impl qstash::Clock for At {
    fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(self.0)
    }
    fn instant(&self) -> std::time::Instant {
        unreachable!("a receiver reads only the wall clock")
    }
    fn sleep(&self, _: Duration) -> qstash::clock::Sleep {
        unreachable!("a receiver never waits")
    }
}

#[test]
fn injected_clock_is_used() {
    let token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_c");
    let fresh = receiver().clock(At(IAT + 1));
    assert!(fresh.verify(Delivery::new(&token, BODY)).is_ok());
    let late = receiver().clock(At(IAT + 3600));
    assert_eq!(
        late.verify(Delivery::new(&token, BODY)).unwrap_err(),
        VerifyError::Expired
    );
}

#[test]
fn signature_is_checked_before_the_claims() {
    // Everything else is wrong too; the forged signature must be what fails.
    let token = forge(HEADER, "not json", "sig_attacker");
    assert_eq!(verify(&token).unwrap_err(), VerifyError::Signature);
    let mut token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_s");
    token.pop();
    token.push('A');
    assert!(matches!(
        verify(&token).unwrap_err(),
        VerifyError::Signature | VerifyError::Malformed(Malformed::Signature)
    ));
}

#[test]
fn signature_segment_must_be_canonical_unpadded_base64url() {
    let token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_s");
    assert!(verify(&token).is_ok());
    let padded = format!("{token}=");
    assert_eq!(
        verify(&padded).unwrap_err(),
        VerifyError::Malformed(Malformed::Signature)
    );
    let short = &token[..token.len() - 1];
    assert_eq!(
        verify(short).unwrap_err(),
        VerifyError::Malformed(Malformed::Signature)
    );
    let extra_segment = format!("{token}.x");
    assert_eq!(
        verify(&extra_segment).unwrap_err(),
        VerifyError::Malformed(Malformed::Segments)
    );
}

fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl FnMut(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }
}

#[test]
fn environment_pairs_and_region_selection() {
    let receiver = Receiver::from_env_with(lookup(&[
        ("QSTASH_CURRENT_SIGNING_KEY", " sig_plain_current\n"),
        ("QSTASH_NEXT_SIGNING_KEY", "sig_plain_next"),
        ("US_EAST_1_QSTASH_CURRENT_SIGNING_KEY", "sig_us_current"),
        ("US_EAST_1_QSTASH_NEXT_SIGNING_KEY", "sig_us_next"),
    ]))
    .unwrap();
    let sign = |key: &str| Signer::new(key).unwrap().sign_at(URL, BODY, IAT, "jwt_r");
    let check =
        |token: &str, region| receiver.verify_at(Delivery::new(token, BODY).region(region), IAT);

    let claims = check(&sign("sig_us_next"), Some(Region::UsEast1)).unwrap();
    assert_eq!(
        (claims.key, claims.region),
        (KeySlot::Next, Some(Region::UsEast1))
    );
    // A region with keys does not fall back to the plain pair...
    assert_eq!(
        check(&sign("sig_plain_current"), Some(Region::UsEast1)).unwrap_err(),
        VerifyError::Signature
    );
    // ...a region without keys does, and so does a delivery naming none.
    let claims = check(&sign("sig_plain_current"), Some(Region::EuCentral1)).unwrap();
    assert_eq!((claims.key, claims.region), (KeySlot::Current, None));
    assert!(check(&sign("sig_plain_next"), None).is_ok());
    assert_eq!(
        check(&sign("sig_us_current"), None).unwrap_err(),
        VerifyError::Signature
    );
}

#[test]
fn regional_keys_only() {
    let receiver = Receiver::from_env_with(lookup(&[
        ("EU_CENTRAL_1_QSTASH_CURRENT_SIGNING_KEY", "sig_eu_current"),
        ("EU_CENTRAL_1_QSTASH_NEXT_SIGNING_KEY", "sig_eu_next"),
        ("QSTASH_CURRENT_SIGNING_KEY", ""),
    ]))
    .unwrap();
    let token = Signer::new("sig_eu_current")
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_r");
    let delivery = Delivery::new(&token, BODY);
    assert_eq!(
        receiver.verify_at(delivery, IAT).unwrap_err(),
        VerifyError::NoKeys
    );
    let claims = receiver
        .verify_at(delivery.region(Some(Region::EuCentral1)), IAT)
        .unwrap();
    assert_eq!(claims.region, Some(Region::EuCentral1));
}

#[test]
fn region_keys_can_be_set_in_code() {
    let receiver = receiver()
        .region_keys(Region::UsEast1, "sig_us_a", "sig_us_b")
        .unwrap();
    let token = Signer::new("sig_us_a")
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_r");
    let delivery = Delivery::new(&token, BODY).region(Region::from_name("US_EAST_1").ok());
    assert_eq!(
        receiver.verify_at(delivery, IAT).unwrap().region,
        Some(Region::UsEast1)
    );
}

#[test]
fn environment_errors() {
    assert!(matches!(
        Receiver::from_env_with(|_| None).unwrap_err(),
        ConfigError::NoSigningKeys
    ));
    assert!(matches!(
        Receiver::from_env_with(lookup(&[("QSTASH_CURRENT_SIGNING_KEY", "sig_a")])).unwrap_err(),
        ConfigError::IncompleteSigningKeyPair { missing, present }
            if missing == "QSTASH_NEXT_SIGNING_KEY" && present == "QSTASH_CURRENT_SIGNING_KEY"
    ));
    assert!(matches!(
        Receiver::from_env_with(lookup(&[
            ("QSTASH_CURRENT_SIGNING_KEY", "sig_a"),
            ("QSTASH_NEXT_SIGNING_KEY", "sig_b"),
            ("US_EAST_1_QSTASH_NEXT_SIGNING_KEY", "sig_c"),
        ]))
        .unwrap_err(),
        ConfigError::IncompleteSigningKeyPair { missing, present }
            if missing == "US_EAST_1_QSTASH_CURRENT_SIGNING_KEY"
                && present == "US_EAST_1_QSTASH_NEXT_SIGNING_KEY"
    ));
    assert!(matches!(
        Receiver::new("", "sig_b").unwrap_err(),
        ConfigError::EmptySigningKey
    ));
    assert!(matches!(
        Receiver::new("sig_a", "").unwrap_err(),
        ConfigError::EmptySigningKey
    ));
    assert!(matches!(
        Signer::new("").unwrap_err(),
        ConfigError::EmptySigningKey
    ));
}

#[test]
fn region_names() {
    for region in Region::ALL {
        assert_eq!(Region::from_name(region.env_name()).ok(), Some(region));
        assert_eq!(
            Region::from_name(&region.to_string().to_lowercase()).ok(),
            Some(region)
        );
    }
    assert!(Region::from_name("").is_err());
    assert!(Region::from_name("EU_CENTRAL_2").is_err());
}

#[test]
fn secrets_and_tokens_stay_out_of_debug_and_errors() {
    let token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, BODY, IAT, "jwt_d");
    let receiver = receiver()
        .region_keys(Region::UsEast1, "sig_us_secret", "sig_us_other")
        .unwrap();
    let signer = Signer::new(CURRENT).unwrap();
    let delivery = Delivery::new(&token, BODY).url(URL);
    let rendered = [
        format!("{receiver:?}"),
        format!("{signer:?}"),
        format!("{delivery:?}"),
    ];
    for text in &rendered {
        for secret in [CURRENT, NEXT, "sig_us_secret", "sig_us_other", "sig_"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(!text.contains(&token[..20]), "{text}");
    }
    assert!(rendered[0].contains("UsEast1"), "{}", rendered[0]);

    let sig = token.rsplit('.').next().unwrap();
    for now in [0, IAT, IAT + 10_000] {
        for url in [URL, "https://other"] {
            if let Err(err) = receiver.verify_at(Delivery::new(&token, b"x").url(url), now) {
                let text = format!("{err} {err:?}");
                assert!(!text.contains(sig) && !text.contains("sig_"), "{text}");
            }
        }
    }
}
