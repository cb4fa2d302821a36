//! Verification never panics and never accepts a token it should not,
//! whatever the header and body: a deterministic mutation run of a million
//! inputs, plus proptest for shapes the mutator does not reach.

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use qstash::receiver::{Delivery, Receiver, Region, Signer};
use ring::hmac;

const CURRENT: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
const NEXT: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";
const IAT: u64 = 1_767_225_600;
const URL: &str = "https://example.com/api?x=1&y=2";

/// xorshift64*: reproducible, and much cheaper than a proptest case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes a mutation inserts: JWS and JSON syntax, base64 edges, digits,
/// control characters and the start of a multi-byte character.
const INTERESTING: &[u8] = b".=-_+/\"\\{}[]:,0189AZaz \t\n\x00\x7f\xc3\xff";

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(3) {
        let len = input.len();
        match rng.below(7) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(len + 1);
                input.insert(at, *rng.pick(INTERESTING));
            }
            2 if len > 0 => {
                input.remove(rng.below(len));
            }
            3 if len > 0 => {
                input.truncate(rng.below(len));
            }
            4 if len > 0 => {
                let at = rng.below(len);
                input[at] = *rng.pick(INTERESTING);
            }
            5 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                input.swap(a, b);
            }
            _ => {
                let at = rng.below(len + 1);
                let copy: Vec<u8> = input[rng.below(len + 1)..]
                    .iter()
                    .take(16)
                    .copied()
                    .collect();
                input.splice(at..at, copy);
            }
        }
    }
}

/// Signs arbitrary header and payload bytes with `key`, so mutated claims
/// get past the MAC and reach the claims parser.
fn resign(header: &[u8], payload: &[u8], key: &hmac::Key) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let tag = hmac::sign(key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

fn mutation_run(iterations: u64, seed: u64) {
    let receiver = Receiver::new(CURRENT, NEXT).unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, CURRENT.as_bytes());
    let bodies: [&[u8]; 3] = [b"", br#"{"hello":"world"}"#, &[0, 255, 254, 128, 65, 10]];
    let tokens: Vec<String> = bodies
        .iter()
        .map(|body| {
            Signer::new(CURRENT)
                .unwrap()
                .sign_at(URL, body, IAT, "jwt_fuzz")
        })
        .collect();
    let header = br#"{"alg":"HS256","typ":"JWT"}"#;
    let payloads: Vec<Vec<u8>> = tokens
        .iter()
        .map(|token| {
            URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap()
        })
        .collect();

    let mut rng = Rng(seed);
    let (mut accepted, mut resigned) = (0u64, 0u64);
    let started = Instant::now();
    for _ in 0..iterations {
        let which = rng.below(tokens.len());
        let mode = rng.below(4);
        let token = match mode {
            // Claims and header mutated, then signed: exercises the parsers.
            0 => {
                let mut payload = payloads[which].clone();
                mutate(&mut rng, &mut payload);
                resigned += 1;
                resign(header, &payload, &key)
            }
            1 => {
                let mut forged_header = header.to_vec();
                mutate(&mut rng, &mut forged_header);
                resigned += 1;
                resign(&forged_header, &payloads[which], &key)
            }
            // The token text mutated: must never verify unless unchanged.
            _ => {
                let mut text = tokens[which].clone().into_bytes();
                mutate(&mut rng, &mut text);
                String::from_utf8_lossy(&text).into_owned()
            }
        };
        let body = bodies[which];
        let region = [None, Some(Region::UsEast1)][rng.below(2)];
        let url = [None, Some(URL)][rng.below(2)];
        let now = [IAT, IAT + 60, IAT + 300, 0, u64::MAX][rng.below(5)];
        let mut delivery = Delivery::new(&token, body).region(region);
        if let Some(url) = url {
            delivery = delivery.url(url);
        }
        let verdict = receiver.verify_at(delivery, now);
        if let Ok(claims) = &verdict {
            accepted += 1;
            if mode >= 2 {
                assert_eq!(token, tokens[which], "a mutated token verified");
            }
            assert!((claims.not_before..claims.expires_at).contains(&now));
            assert_eq!(
                claims.body_sha256.as_slice(),
                ring::digest::digest(&ring::digest::SHA256, body).as_ref()
            );
            if let Some(url) = url {
                assert_eq!(claims.url, url);
            }
        }
    }
    eprintln!(
        "{iterations} inputs ({resigned} re-signed) in {:.2?}; {accepted} accepted",
        started.elapsed()
    );
    // Unchanged and validly re-signed tokens do get through: the run is not
    // vacuously rejecting everything.
    assert!(accepted > 0);
}

/// A million inputs, split over two tests so the test harness runs them on
/// both cores.
#[test]
fn a_million_mutated_deliveries_half_a() {
    mutation_run(500_000, 0x9e37_79b9_7f4a_7c15);
}

#[test]
fn a_million_mutated_deliveries_half_b() {
    mutation_run(500_000, 0xd1b5_4a32_d192_ed03);
}

proptest! {
    // No failure persistence: it looks for a lib.rs beside this file.
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_header_and_body(signature in ".{0,300}", body in prop::collection::vec(any::<u8>(), 0..64)) {
        let receiver = Receiver::new(CURRENT, NEXT).unwrap();
        prop_assert!(receiver.verify_at(Delivery::new(&signature, &body).url(URL), IAT).is_err());
    }

    #[test]
    fn three_base64ish_segments(
        header in "[A-Za-z0-9_=-]{0,60}",
        payload in "[A-Za-z0-9_=-]{0,300}",
        signature in "[A-Za-z0-9_=-]{0,60}",
    ) {
        let receiver = Receiver::new(CURRENT, NEXT).unwrap();
        let token = format!("{header}.{payload}.{signature}");
        prop_assert!(receiver.verify_at(Delivery::new(&token, b""), IAT).is_err());
    }
}
