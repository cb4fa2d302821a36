//! `Receiver::verify_at` on a 1 KiB body, next to the floor: the work any
//! verifier must do, done directly with ring and nothing else: base64url-decode
//! the signature and the claims (the body hash is inside them), HMAC the
//! signing input, hash the body, compare. And `RequestVerifier::verify_request`
//! on the same delivery as an `http::Request` with QStash's headers: what
//! the header lookups, the URL and the delivery headers add.
//!
//! `cargo bench --bench verify`

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use qstash::receiver::{Delivery, Receiver, RequestVerifier, Signer};
use ring::{digest, hmac};

const CURRENT: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
const NEXT: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";
const URL: &str = "https://example.com/api/jobs";
const IAT: u64 = 1_767_225_600;

/// A clock standing at a unix second, so the token stays fresh.
#[derive(Debug)]
struct At(u64);

impl qstash::Clock for At {
    fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.0)
    }
    fn instant(&self) -> std::time::Instant {
        unreachable!("a receiver reads only the wall clock")
    }
    fn sleep(&self, _: std::time::Duration) -> qstash::clock::Sleep {
        unreachable!("a receiver never waits")
    }
}

fn bench(c: &mut Criterion) {
    let body: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let token = Signer::new(CURRENT)
        .unwrap()
        .sign_at(URL, &body, IAT, "jwt_bench");
    let receiver = Receiver::new(CURRENT, NEXT).unwrap();
    let now = IAT + 60;
    receiver
        .verify_at(Delivery::new(&token, &body).url(URL), now)
        .expect("bench token verifies");

    let mut group = c.benchmark_group("verify_1KiB");
    group.bench_function("qstash_receiver", |b| {
        b.iter(|| {
            receiver
                .verify_at(
                    Delivery::new(black_box(&token), black_box(&body)).url(URL),
                    now,
                )
                .is_ok()
        })
    });

    let request = http::Request::post("/api/jobs")
        .header("Upstash-Signature", &token)
        .header(
            "Upstash-Message-Id",
            "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1Tsgzpyg",
        )
        .header("Upstash-Retried", "0")
        .header("Content-Length", body.len())
        .body(body.clone())
        .unwrap();
    let fixed_now = Receiver::new(CURRENT, NEXT).unwrap().clock(At(now));
    let verifier = RequestVerifier::new(fixed_now, "https://example.com").unwrap();
    verifier
        .verify_request(&request)
        .expect("bench request verifies");
    group.bench_function("request_verifier", |b| {
        b.iter(|| verifier.verify_request(black_box(&request)).is_ok())
    });

    let key = hmac::Key::new(hmac::HMAC_SHA256, CURRENT.as_bytes());
    let expected_hash = digest::digest(&digest::SHA256, &body);
    group.bench_function("ring_floor", |b| {
        b.iter(|| {
            let token = black_box(&token);
            let (input, signature) = token.rsplit_once('.').unwrap();
            let payload = input.split_once('.').unwrap().1;
            let mut tag = [0u8; 32];
            let mut claims = [0u8; 512];
            let ok = URL_SAFE_NO_PAD.decode_slice(signature, &mut tag).is_ok()
                && URL_SAFE_NO_PAD.decode_slice(payload, &mut claims).is_ok()
                && hmac::verify(&key, input.as_bytes(), &tag).is_ok();
            let hash = digest::digest(&digest::SHA256, black_box(&body));
            ok && hash.as_ref() == expected_hash.as_ref()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
