//! Verifying whole `http` requests: header lookup, URL reconstruction,
//! region selection.

use http::Request;
use qstash::receiver::{
    KeySlot, Malformed, Receiver, Region, RequestVerifier, Signer, VerifyError,
};

const CURRENT: &str = "sig_current_key";
const NEXT: &str = "sig_next_key";

fn verifier() -> RequestVerifier {
    RequestVerifier::new(Receiver::new(CURRENT, NEXT).unwrap())
}

fn signed(url: &str, body: &[u8]) -> String {
    Signer::new(CURRENT).unwrap().sign(url, body)
}

fn request(target: &str, headers: &[(&str, &str)], body: &[u8]) -> Request<Vec<u8>> {
    let mut builder = Request::post(target);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.to_vec()).unwrap()
}

#[test]
fn url_from_host_header_defaults_to_https() {
    let token = signed("https://api.example.com/jobs?id=7", b"x");
    let req = request(
        "/jobs?id=7",
        &[("UPSTASH-SIGNATURE", &token), ("host", "api.example.com")],
        b"x",
    );
    let claims = verifier().verify_request(&req).unwrap();
    assert_eq!(claims.url, "https://api.example.com/jobs?id=7");

    let other_path = request(
        "/jobs?id=8",
        &[("upstash-signature", &token), ("host", "api.example.com")],
        b"x",
    );
    assert_eq!(
        verifier().verify_request(&other_path).unwrap_err(),
        VerifyError::Subject
    );
}

#[test]
fn absolute_request_target_is_used_as_is() {
    let token = signed("http://127.0.0.1:3000/hook", b"x");
    let req = request(
        "http://127.0.0.1:3000/hook",
        &[("upstash-signature", &token), ("host", "ignored.example")],
        b"x",
    );
    assert!(verifier().verify_request(&req).is_ok());
}

#[test]
fn public_base_url_replaces_scheme_host_and_prefix() {
    let token = signed("http://localhost:8080/svc/hook", b"x");
    let req = request(
        "/hook",
        &[("upstash-signature", &token), ("host", "internal:9000")],
        b"x",
    );
    let behind_proxy = verifier().public_base_url("http://localhost:8080/svc/");
    assert!(behind_proxy.verify_request(&req).is_ok());
    assert_eq!(
        verifier().verify_request(&req).unwrap_err(),
        VerifyError::Subject
    );
    assert!(verifier().skip_url_check().verify_request(&req).is_ok());
}

#[test]
fn missing_host_with_relative_target_cannot_be_checked() {
    let token = signed("https://a.example/hook", b"x");
    let req = request("/hook", &[("upstash-signature", &token)], b"x");
    assert_eq!(
        verifier().verify_request(&req).unwrap_err(),
        VerifyError::RequestUrl
    );
    assert!(verifier().skip_url_check().verify_request(&req).is_ok());
}

#[test]
fn signature_header_must_be_present_once() {
    let token = signed("https://a.example/hook", b"x");
    let v = verifier().skip_url_check();
    let none = request("/hook", &[], b"x");
    assert_eq!(
        v.verify_request(&none).unwrap_err(),
        VerifyError::MissingSignature
    );
    let twice = request(
        "/hook",
        &[("upstash-signature", &token), ("Upstash-Signature", &token)],
        b"x",
    );
    assert_eq!(
        v.verify_request(&twice).unwrap_err(),
        VerifyError::Malformed(Malformed::HeaderValue)
    );
    let mut non_ascii = request("/hook", &[], b"x");
    non_ascii.headers_mut().insert(
        "upstash-signature",
        http::HeaderValue::from_bytes(b"\xff.\xfe.\xfd").unwrap(),
    );
    assert_eq!(
        v.verify_request(&non_ascii).unwrap_err(),
        VerifyError::Malformed(Malformed::HeaderValue)
    );
}

#[test]
fn body_must_match() {
    let token = signed("https://a.example/hook", b"x");
    let req = request("/hook", &[("upstash-signature", &token)], b"y");
    assert_eq!(
        verifier()
            .skip_url_check()
            .verify_request(&req)
            .unwrap_err(),
        VerifyError::BodyHash
    );
}

#[test]
fn region_header_selects_the_regional_keys() {
    let receiver = Receiver::new(CURRENT, NEXT)
        .unwrap()
        .region_keys(Region::UsEast1, "sig_us_cur", "sig_us_next")
        .unwrap();
    let v = RequestVerifier::new(receiver).skip_url_check();
    let token = Signer::new("sig_us_next")
        .unwrap()
        .sign("https://a.example/", b"");
    let req = request(
        "/",
        &[
            ("upstash-signature", &token),
            ("upstash-region", "US_EAST_1"),
        ],
        b"",
    );
    let claims = v.verify_request(&req).unwrap();
    assert_eq!(
        (claims.key, claims.region),
        (KeySlot::Next, Some(Region::UsEast1))
    );
    let without_region = request("/", &[("upstash-signature", &token)], b"");
    assert_eq!(
        v.verify_request(&without_region).unwrap_err(),
        VerifyError::Signature
    );
}

#[test]
fn parts_and_body_api() {
    let token = signed("https://a.example/p", b"body");
    let (parts, body) = request(
        "https://a.example/p",
        &[("upstash-signature", &token)],
        b"body",
    )
    .into_parts();
    assert_eq!(
        verifier().verify(&parts, &body).unwrap().url,
        "https://a.example/p"
    );
    assert_eq!(
        verifier().verify(&parts, b"other").unwrap_err(),
        VerifyError::BodyHash
    );
}
