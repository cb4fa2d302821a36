//! Verifying whole `http` requests: where the signed URL comes from (and
//! that a request cannot choose it), the delivery headers, the two steps
//! before and after the body, region selection.

use http::{Request, StatusCode};
use qstash::ConfigError;
use qstash::receiver::{
    DeliveryHeaders, KeySlot, Malformed, Receiver, Region, RequestVerifier, Signer, TrustedHeaders,
    VerifyError,
};

const CURRENT: &str = "sig_current_key";
const NEXT: &str = "sig_next_key";

fn receiver() -> Receiver {
    Receiver::new(CURRENT, NEXT).unwrap()
}

fn at(base: &str) -> RequestVerifier {
    RequestVerifier::new(receiver(), base).unwrap()
}

fn unchecked() -> RequestVerifier {
    RequestVerifier::without_url_check(receiver())
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
fn the_url_is_the_configured_base_and_the_requests_path() {
    let token = signed("https://api.example.com/jobs?id=7", b"x");
    let req = request(
        "/jobs?id=7",
        &[("UPSTASH-SIGNATURE", &token), ("host", "internal:9000")],
        b"x",
    );
    let verified = at("https://api.example.com").verify_request(&req).unwrap();
    assert_eq!(verified.claims.url, "https://api.example.com/jobs?id=7");

    let other_path = request("/jobs?id=8", &[("upstash-signature", &token)], b"x");
    assert_eq!(
        at("https://api.example.com")
            .verify_request(&other_path)
            .unwrap_err(),
        VerifyError::Subject
    );
}

/// One service answering at two host names: a token QStash signed for
/// `a.example.com/jobs` must not verify at `b.example.com/jobs`, whatever
/// `Host`, absolute-form target or `X-Forwarded-*` the request carries.
#[test]
fn host_and_absolute_form_spoofing_cannot_move_a_token() {
    let token = signed("https://a.example.com/jobs", b"x");
    let b = at("https://b.example.com");
    for req in [
        request(
            "/jobs",
            &[("upstash-signature", &token), ("host", "a.example.com")],
            b"x",
        ),
        request(
            "https://a.example.com/jobs",
            &[("upstash-signature", &token), ("host", "a.example.com")],
            b"x",
        ),
        request(
            "/jobs",
            &[
                ("upstash-signature", &token),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "a.example.com"),
            ],
            b"x",
        ),
    ] {
        assert_eq!(
            b.verify_request(&req).unwrap_err(),
            VerifyError::Subject,
            "{req:?}"
        );
    }
    // At a.example.com the same token verifies, even sent in absolute form
    // naming another host: only the target's path and query count.
    let absolute = request(
        "https://b.example.com/jobs",
        &[("upstash-signature", &token)],
        b"x",
    );
    assert!(
        at("https://a.example.com")
            .verify_request(&absolute)
            .is_ok()
    );
}

#[test]
fn http_and_https_base_urls_are_taken_as_written() {
    let local = signed("http://127.0.0.1:3000/hook", b"x");
    let req = request("/hook", &[("upstash-signature", &local)], b"x");
    assert!(at("http://127.0.0.1:3000").verify_request(&req).is_ok());
    assert_eq!(
        at("https://127.0.0.1:3000")
            .verify_request(&req)
            .unwrap_err(),
        VerifyError::Subject
    );

    let public = signed("https://api.example.com/hook", b"x");
    let req = request("/hook", &[("upstash-signature", &public)], b"x");
    assert!(at("https://api.example.com/").verify_request(&req).is_ok());
    assert_eq!(
        at("http://api.example.com")
            .verify_request(&req)
            .unwrap_err(),
        VerifyError::Subject
    );

    // A proxy that strips `/svc`: the prefix goes into the base URL.
    let token = signed("http://localhost:8080/svc/hook", b"x");
    let req = request("/hook", &[("upstash-signature", &token)], b"x");
    assert!(
        at("http://localhost:8080/svc/")
            .verify_request(&req)
            .is_ok()
    );
    assert_eq!(
        at("http://localhost:8080")
            .verify_request(&req)
            .unwrap_err(),
        VerifyError::Subject
    );
    assert!(unchecked().verify_request(&req).is_ok());
}

#[test]
fn unusable_base_urls_are_refused_without_echoing_secrets() {
    for bad in [
        "",
        "api.example.com",
        "/hooks",
        "ftp://api.example.com",
        "https://api.example.com/?key=secret-value",
        "https://api.example.com/#secret-value",
        "https://user:secret-value@api.example.com",
    ] {
        match RequestVerifier::new(receiver(), bad) {
            Err(error @ ConfigError::InvalidPublicUrl { .. }) => {
                let text = format!("{error} {error:?}");
                assert!(!text.contains("secret-value"), "{text}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn trusting_host_is_an_opt_in_with_strict_values() {
    let trusting =
        RequestVerifier::trusting_headers(receiver(), TrustedHeaders::Host { https: true });
    let token = signed("https://api.example.com/jobs", b"x");
    let with = |target: &str, headers: &[(&str, &str)]| {
        let mut all = vec![("upstash-signature", token.as_str())];
        all.extend_from_slice(headers);
        trusting.verify_request(&request(target, &all, b"x"))
    };
    assert!(with("/jobs", &[("host", "api.example.com")]).is_ok());
    assert!(with("http://api.example.com/jobs", &[]).is_ok());
    assert!(
        with(
            "http://API.example.com/jobs",
            &[("host", "api.example.com")]
        )
        .is_ok()
    );
    for (target, headers) in [
        ("/jobs", vec![]),
        ("/jobs", vec![("host", "")]),
        (
            "/jobs",
            vec![("host", "api.example.com"), ("host", "api.example.com")],
        ),
        // A path in `Host` would rewrite the URL: `api.example.com/jobs` + `/`.
        ("/", vec![("host", "api.example.com/jobs")]),
        ("/jobs", vec![("host", "user@api.example.com")]),
        ("/jobs", vec![("host", "api.example.com, evil.example")]),
        (
            "http://other.example/jobs",
            vec![("host", "api.example.com")],
        ),
    ] {
        assert_eq!(
            with(target, &headers).unwrap_err(),
            VerifyError::RequestUrl,
            "{target} {headers:?}"
        );
    }
    let plain =
        RequestVerifier::trusting_headers(receiver(), TrustedHeaders::Host { https: false });
    let local = signed("http://127.0.0.1:3000/jobs", b"x");
    let req = request(
        "/jobs",
        &[("upstash-signature", &local), ("host", "127.0.0.1:3000")],
        b"x",
    );
    assert!(plain.verify_request(&req).is_ok());
}

#[test]
fn trusting_forwarded_headers_is_an_opt_in_with_strict_values() {
    let trusting = RequestVerifier::trusting_headers(receiver(), TrustedHeaders::Forwarded);
    let token = signed("https://api.example.com/svc/jobs", b"x");
    let with = |headers: &[(&str, &str)]| {
        let mut all = vec![("upstash-signature", token.as_str())];
        all.extend_from_slice(headers);
        trusting.verify_request(&request("/jobs", &all, b"x"))
    };
    let proxy = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "api.example.com"),
        ("x-forwarded-prefix", "/svc/"),
        ("host", "internal:9000"),
    ];
    assert!(with(&proxy).is_ok());
    // Without X-Forwarded-Host, `Host` names the host.
    assert!(
        with(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-prefix", "/svc"),
            ("host", "api.example.com"),
        ])
        .is_ok()
    );
    let replaced = |name: &str, value: &'static str| {
        let mut headers: Vec<(&str, &str)> =
            proxy.iter().copied().filter(|(n, _)| *n != name).collect();
        headers.push((proxy.iter().find(|(n, _)| *n == name).unwrap().0, value));
        headers
    };
    for headers in [
        replaced("x-forwarded-proto", "https, http"),
        replaced("x-forwarded-proto", "ftp"),
        replaced("x-forwarded-host", "api.example.com, evil.example"),
        replaced("x-forwarded-host", "api.example.com/svc"),
        replaced("x-forwarded-prefix", "svc"),
        replaced("x-forwarded-prefix", "/svc?x="),
        proxy
            .iter()
            .copied()
            .filter(|(n, _)| *n != "x-forwarded-proto")
            .collect(),
        [proxy.as_slice(), &[("x-forwarded-host", "api.example.com")]].concat(),
    ] {
        assert_eq!(
            with(&headers).unwrap_err(),
            VerifyError::RequestUrl,
            "{headers:?}"
        );
    }
}

#[test]
fn signature_header_must_be_present_once() {
    let token = signed("https://a.example/hook", b"x");
    let v = unchecked();
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
fn delivery_headers_come_with_the_claims() {
    let token = signed("https://a.example/hook", b"x");
    let req = request(
        "/hook",
        &[
            ("upstash-signature", &token),
            ("Upstash-Message-Id", "msg_26hZ"),
            ("Upstash-Retried", "2"),
            ("Upstash-Schedule-Id", "scd_1"),
            ("Upstash-Topic-Name", "audit"),
            ("Upstash-Caller-Ip", "203.0.113.7"),
        ],
        b"x",
    );
    let verified = at("https://a.example").verify_request(&req).unwrap();
    let delivery = verified.delivery;
    assert_eq!(delivery.message_id.as_deref(), Some("msg_26hZ"));
    assert_eq!(delivery.retried, Some(2));
    assert_eq!(delivery.schedule_id.as_deref(), Some("scd_1"));
    assert_eq!(delivery.url_group.as_deref(), Some("audit"));
    assert_eq!(delivery.caller_ip.as_deref(), Some("203.0.113.7"));
    assert!(verified.claims.jwt_id.is_some());

    let bare = request("/hook", &[("upstash-signature", &token)], b"x");
    let verified = at("https://a.example").verify_request(&bare).unwrap();
    assert_eq!(verified.delivery, DeliveryHeaders::default());
}

/// Which value would be the idempotency key? Neither: a repeated delivery
/// header is refused, as is one that does not read.
#[test]
fn repeated_or_unreadable_delivery_headers_are_refused() {
    let token = signed("https://a.example/hook", b"x");
    for (headers, name) in [
        (
            vec![
                ("upstash-message-id", "msg_1"),
                ("upstash-message-id", "msg_2"),
            ],
            "upstash-message-id",
        ),
        (
            vec![("upstash-retried", "1"), ("upstash-retried", "1")],
            "upstash-retried",
        ),
        (vec![("upstash-retried", "many")], "upstash-retried"),
        (vec![("upstash-retried", "-1")], "upstash-retried"),
        (
            vec![
                ("upstash-region", "US_EAST_1"),
                ("upstash-region", "EU_CENTRAL_1"),
            ],
            "upstash-region",
        ),
        (
            vec![("upstash-topic-name", "a"), ("upstash-topic-name", "b")],
            "upstash-topic-name",
        ),
    ] {
        let mut all = vec![("upstash-signature", token.as_str())];
        all.extend(headers.iter().copied());
        let error = unchecked()
            .verify_request(&request("/hook", &all, b"x"))
            .unwrap_err();
        assert_eq!(error, VerifyError::DeliveryHeader(name), "{headers:?}");
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
    }
}

/// The head is verified without the body: a forged token is refused before
/// a byte of it is read, and so is a declared length over the limit.
#[test]
fn the_head_is_verified_before_the_body() {
    let verifier = at("https://a.example").max_body_bytes(10);
    let forged = Signer::new("sig_not_ours")
        .unwrap()
        .sign("https://a.example/hook", b"x");
    let head = |headers: &[(&str, &str)]| {
        let req = request("/hook", headers, b"");
        verifier.verify_head(req.headers(), req.uri())
    };
    assert_eq!(
        head(&[("upstash-signature", &forged)]).unwrap_err(),
        VerifyError::Signature
    );
    assert_eq!(head(&[]).unwrap_err(), VerifyError::MissingSignature);

    let token = signed("https://a.example/hook", b"0123456789");
    let too_long = head(&[("upstash-signature", &token), ("content-length", "11")]).unwrap_err();
    assert_eq!(too_long, VerifyError::BodyTooLarge { limit: 10 });
    assert_eq!(too_long.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let signed_head = head(&[("upstash-signature", &token), ("content-length", "10")]).unwrap();
    assert_eq!(signed_head.body_limit(), 10);
    assert!(signed_head.verify_body(b"0123456789").is_ok());
    let signed_head = head(&[("upstash-signature", &token)]).unwrap();
    assert_eq!(
        signed_head.verify_body(b"0123456789+").unwrap_err(),
        VerifyError::BodyTooLarge { limit: 10 }
    );
    let signed_head = head(&[("upstash-signature", &token)]).unwrap();
    assert_eq!(
        signed_head.verify_body(b"9876543210").unwrap_err(),
        VerifyError::BodyHash
    );
    assert_eq!(
        RequestVerifier::without_url_check(receiver())
            .max_body_bytes(1)
            .verify_request(&request(
                "/hook",
                &[("upstash-signature", &token)],
                b"0123456789"
            )),
        Err(VerifyError::BodyTooLarge { limit: 1 })
    );
}

#[test]
fn body_must_match() {
    let token = signed("https://a.example/hook", b"x");
    let req = request("/hook", &[("upstash-signature", &token)], b"y");
    assert_eq!(
        unchecked().verify_request(&req).unwrap_err(),
        VerifyError::BodyHash
    );
}

#[test]
fn region_header_selects_the_regional_keys() {
    let receiver = receiver()
        .region_keys(Region::UsEast1, "sig_us_cur", "sig_us_next")
        .unwrap();
    let v = RequestVerifier::without_url_check(receiver);
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
    let claims = v.verify_request(&req).unwrap().claims;
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
    let (parts, body) = request("/p", &[("upstash-signature", &token)], b"body").into_parts();
    let verifier = at("https://a.example");
    assert_eq!(
        verifier.verify(&parts, &body).unwrap().claims.url,
        "https://a.example/p"
    );
    assert_eq!(
        verifier.verify(&parts, b"other").unwrap_err(),
        VerifyError::BodyHash
    );
}
