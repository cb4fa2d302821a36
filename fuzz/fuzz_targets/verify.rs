//! Arbitrary bytes as signature header, body and URL; half of the inputs are
//! signed with the receiver's key first so the claims parser is reached.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use qstash::receiver::{Delivery, Receiver, Region};
use ring::hmac;

const KEY: &str = "sig_fuzz_current";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |&byte| byte == 0);
    let (first, second, body) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let token = if mode & 1 == 1 {
        // `first` is the header JSON, `second` the claims JSON.
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(first),
            URL_SAFE_NO_PAD.encode(second)
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, KEY.as_bytes());
        let tag = hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
    } else {
        String::from_utf8_lossy(first).into_owned()
    };
    let url = String::from_utf8_lossy(second);
    let receiver = Receiver::new(KEY, "sig_fuzz_next").expect("non-empty keys");
    let mut delivery = Delivery::new(&token, body);
    if mode & 2 == 2 {
        delivery = delivery.url(&url);
    }
    if mode & 4 == 4 {
        delivery = delivery.region(Some(Region::UsEast1));
    }
    let now = u64::from(mode >> 3) * 250_000_000;
    if let Ok(claims) = receiver.verify_at(delivery, now) {
        assert!(claims.not_before <= now && now < claims.expires_at);
    }
});
