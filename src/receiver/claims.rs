//! The claims of a verified token, and their wire form.

use std::borrow::Cow;

use serde::Deserialize;

use super::error::{Malformed, VerifyError};
use crate::region::Region;

/// Which key of a current/next pair verified the token.
///
/// A delivery that only verifies with the next key means QStash has rotated
/// keys: time to move the next key into the current slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySlot {
    /// The current signing key.
    Current,
    /// The next signing key.
    Next,
}

/// The facts of a verified delivery, returned by [`Receiver::verify`](super::Receiver::verify).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// The `sub` claim: the URL QStash delivered the message to.
    pub url: String,
    /// The `iat` claim (unix seconds), if present.
    pub issued_at: Option<u64>,
    /// The `exp` claim (unix seconds).
    pub expires_at: u64,
    /// The `nbf` claim (unix seconds).
    pub not_before: u64,
    /// The `jti` claim: a new one on every delivery attempt, so not the key
    /// to process a message once; that is
    /// [`DeliveryHeaders::message_id`](super::DeliveryHeaders::message_id).
    pub jwt_id: Option<String>,
    /// SHA-256 of the body, as signed in the `body` claim.
    pub body_sha256: [u8; 32],
    /// Which key verified the signature.
    pub key: KeySlot,
    /// The region whose keys verified the signature; `None` for the plain
    /// (non-regional) key pair.
    pub region: Option<Region>,
}

/// The payload as QStash sends it.
///
/// String fields borrow from the decoded payload; `Cow` because a JSON
/// encoder may escape characters (Go's escapes `&` in URLs as `\u0026`), and
/// then the value has to be unescaped into an owned string. Unknown fields,
/// including `aud` (always `""` on real tokens), are ignored; duplicate fields
/// are rejected by serde.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct WireClaims<'a> {
    #[serde(borrow)]
    pub body: Option<Cow<'a, str>>,
    pub exp: Option<u64>,
    pub iat: Option<u64>,
    #[serde(borrow)]
    pub iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub jti: Option<Cow<'a, str>>,
    pub nbf: Option<u64>,
    #[serde(borrow)]
    pub sub: Option<Cow<'a, str>>,
}

impl<'a> WireClaims<'a> {
    /// Parses the claims JSON. Real payloads are a flat object of plain
    /// strings and integers, which a hand-written scanner reads in a
    /// fraction of serde_json's time; anything else (escapes, other value
    /// types, duplicates, odd numbers) goes to serde_json, which has the
    /// final say. The scanner only answers for inputs where both agree.
    pub fn parse(json: &'a [u8]) -> Result<WireClaims<'a>, VerifyError> {
        let scanned = std::str::from_utf8(json).ok().and_then(|text| {
            Scanner { text, pos: 0 }.qstash_layout().or_else(|| {
                let mut claims = WireClaims::default();
                Scanner { text, pos: 0 }
                    .claims(&mut claims)
                    .map(|()| claims)
            })
        });
        match scanned {
            Some(claims) => Ok(claims),
            None => {
                serde_json::from_slice(json).map_err(|_| VerifyError::Malformed(Malformed::Payload))
            }
        }
    }
}

enum Value<'a> {
    Str(&'a str),
    Int(u64),
}

/// A cursor over the payload. Every method returns `None` as soon as the
/// input leaves the simple subset, never an error of its own.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// The claims exactly as QStash lays them out, in its order and without
    /// whitespace: read by position, with no key lookups.
    fn qstash_layout(mut self) -> Option<WireClaims<'a>> {
        self.literal("{\"aud\":\"\",\"body\":")?;
        let body = self.string()?;
        self.literal(",\"exp\":")?;
        let exp = self.integer()?;
        self.literal(",\"iat\":")?;
        let iat = self.integer()?;
        self.literal(",\"iss\":")?;
        let iss = self.string()?;
        self.literal(",\"jti\":")?;
        let jti = self.string()?;
        self.literal(",\"nbf\":")?;
        let nbf = self.integer()?;
        self.literal(",\"sub\":")?;
        let sub = self.string()?;
        self.literal("}")?;
        (self.pos == self.text.len()).then_some(WireClaims {
            body: Some(Cow::Borrowed(body)),
            exp: Some(exp),
            iat: Some(iat),
            iss: Some(Cow::Borrowed(iss)),
            jti: Some(Cow::Borrowed(jti)),
            nbf: Some(nbf),
            sub: Some(Cow::Borrowed(sub)),
        })
    }

    fn literal(&mut self, expected: &str) -> Option<()> {
        self.rest()
            .starts_with(expected.as_bytes())
            .then(|| self.pos += expected.len())
    }

    fn claims(mut self, claims: &mut WireClaims<'a>) -> Option<()> {
        self.skip_ws();
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                let key = self.string()?;
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
                let value = self.value()?;
                match key {
                    "body" => set_str(&mut claims.body, value)?,
                    "exp" => set_int(&mut claims.exp, value)?,
                    "iat" => set_int(&mut claims.iat, value)?,
                    "iss" => set_str(&mut claims.iss, value)?,
                    "jti" => set_str(&mut claims.jti, value)?,
                    "nbf" => set_int(&mut claims.nbf, value)?,
                    "sub" => set_str(&mut claims.sub, value)?,
                    _ => {}
                }
                self.skip_ws();
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
                self.skip_ws();
            }
        }
        self.skip_ws();
        (self.pos == self.text.len()).then_some(())
    }

    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        let ws = rest
            .iter()
            .position(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
        self.pos += ws;
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b'0'..=b'9' => self.integer().map(Value::Int),
            _ => None,
        }
    }

    /// A string without escapes or control characters. The quotes are
    /// ASCII, so slicing the (valid UTF-8) text at them is always at char
    /// boundaries.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.pos;
        let tail = self.text.as_bytes().get(start..)?;
        // One pass that stops at the closing quote or at anything that needs
        // serde_json (an escape, a control character).
        let len = tail
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
        if tail[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        self.text.get(start..start + len)
    }

    /// A JSON integer without sign or leading zeros; a fraction or exponent
    /// makes the caller's next check fail. Up to 19 digits always fit a
    /// `u64`; longer numbers are left to serde_json.
    fn integer(&mut self) -> Option<u64> {
        let rest = self.rest();
        let digits = rest
            .iter()
            .position(|byte| !byte.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 || digits > 19 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let value = rest[..digits]
            .iter()
            .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
        self.pos += digits;
        Some(value)
    }
}

fn set_str<'a>(slot: &mut Option<Cow<'a, str>>, value: Value<'a>) -> Option<()> {
    match (slot.is_none(), value) {
        (true, Value::Str(text)) => {
            *slot = Some(Cow::Borrowed(text));
            Some(())
        }
        _ => None,
    }
}

fn set_int(slot: &mut Option<u64>, value: Value<'_>) -> Option<()> {
    match (slot.is_none(), value) {
        (true, Value::Int(number)) => {
            *slot = Some(number);
            Some(())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::{Scanner, WireClaims};

    /// The scanner's answer, `None` when it defers to serde_json.
    fn scan(json: &[u8]) -> Option<WireClaims<'_>> {
        let mut claims = WireClaims::default();
        let text = std::str::from_utf8(json).ok()?;
        Scanner { text, pos: 0 }.claims(&mut claims)?;
        Some(claims)
    }

    /// Whatever the scanner accepts, serde_json accepts with the same result.
    fn agrees(json: &[u8]) {
        if let Some(fast) = scan(json) {
            let slow: WireClaims<'_> = serde_json::from_slice(json).unwrap_or_else(|e| {
                panic!("serde rejects {:?}: {e}", String::from_utf8_lossy(json))
            });
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(json));
        }
    }

    const REAL: &str = r#"{"aud":"","body":"k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg=","exp":1767225900,"iat":1767225600,"iss":"Upstash","jti":"jwt_vector","nbf":1767225600,"sub":"https://example.com/api"}"#;

    /// QStash's exact layout, `None` when the layout reader defers.
    fn layout(json: &[u8]) -> Option<WireClaims<'_>> {
        let text = std::str::from_utf8(json).ok()?;
        Scanner { text, pos: 0 }.qstash_layout()
    }

    #[test]
    fn real_payloads_take_the_layout_path() {
        let claims = layout(REAL.as_bytes()).expect("layout reader reads a real payload");
        assert_eq!(Some(&claims), scan(REAL.as_bytes()).as_ref());
        assert_eq!(claims.jti.as_deref(), Some("jwt_vector"));
        // Same claims in another order, or with whitespace: the general scanner.
        let reordered = r#"{"sub":"https://example.com/api","aud":"","body":"x","exp":1,"iat":1,"iss":"Upstash","jti":"j","nbf":1}"#;
        assert!(layout(reordered.as_bytes()).is_none());
        assert!(scan(reordered.as_bytes()).is_some());
        assert!(layout(REAL.replace(",", ", ").as_bytes()).is_none());
    }

    #[test]
    fn real_payloads_take_the_fast_path() {
        let claims = scan(REAL.as_bytes()).expect("scanner reads a real payload");
        assert_eq!(claims.exp, Some(1_767_225_900));
        assert_eq!(claims.sub.as_deref(), Some("https://example.com/api"));
        agrees(REAL.as_bytes());
        agrees(b" { } ");
    }

    #[test]
    fn scanner_defers_what_it_does_not_handle() {
        for json in [
            r#"{"sub":"a\/b"}"#,
            r#"{"exp":1.0}"#,
            r#"{"exp":01}"#,
            r#"{"exp":-1}"#,
            r#"{"exp":null}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"aud":[]}"#,
            r#"{"exp":18446744073709551615}"#,
            "{\"sub\":\"a\tb\"}",
            r#"{"exp":1}x"#,
            r#"{"exp":1,}"#,
        ] {
            assert!(scan(json.as_bytes()).is_none(), "{json}");
        }
    }

    fn json_like() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop::sample::select(vec![
            "{",
            "}",
            ",",
            ":",
            " ",
            "\n",
            "\t",
            "\"",
            "\\",
            "\"exp\"",
            "\"iat\"",
            "\"nbf\"",
            "\"sub\"",
            "\"body\"",
            "\"iss\"",
            "\"jti\"",
            "\"aud\"",
            "\"Upstash\"",
            "\"\"",
            "\"a\\u0026b\"",
            "\"é\"",
            "0",
            "00",
            "01",
            "7",
            "1767225600",
            "18446744073709551615",
            "1844674407370955161",
            "99999999999999999999",
            "-1",
            "1.5",
            "1e3",
            "null",
            "true",
            "[]",
            "[1]",
            "{}",
        ]);
        vec(piece, 0..24).prop_map(|pieces| pieces.concat().into_bytes())
    }

    /// Objects with claims in any order, some values of the wrong type.
    fn object_like() -> impl Strategy<Value = Vec<u8>> {
        let key = prop::sample::select(vec![
            "exp", "iat", "nbf", "sub", "body", "iss", "jti", "aud", "x",
        ]);
        let value = prop::sample::select(vec![
            "0",
            "1767225600",
            "\"Upstash\"",
            "\"\"",
            "\"https://e.com/?a=1&b=2\"",
            "1.0",
            "null",
            "\"x\\\"y\"",
            "18446744073709551615",
            "[]",
        ]);
        vec((key, value), 0..10).prop_map(|fields| {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(",")).into_bytes()
        })
    }

    /// QStash's layout, mostly with values the layout reader takes, now and
    /// then with one it must leave to serde_json.
    fn layout_like() -> impl Strategy<Value = Vec<u8>> {
        let string = || {
            prop_oneof![
                4 => prop::sample::select(vec!["\"\"", "\"Upstash\"", "\"é\"", "\"https://e.com/?a=1&b=2\""]),
                1 => prop::sample::select(vec!["\"a\\u0026b\"", "\"x\\\"y\"", "\"a\tb\"", "1", "null"]),
            ]
        };
        let integer = || {
            prop_oneof![
                4 => prop::sample::select(vec!["0", "1767225600", "1844674407370955161"]),
                1 => prop::sample::select(vec!["01", "18446744073709551615", "-1", "1.5", "1e3", "\"1\"", ""]),
            ]
        };
        let end = prop_oneof![4 => Just("}"), 1 => prop::sample::select(vec!["} ", "},", ""])];
        (string(), integer(), integer(), string(), string(), integer(), string(), end).prop_map(
            |(body, exp, iat, iss, jti, nbf, sub, end)| {
                format!(
                    r#"{{"aud":"","body":{body},"exp":{exp},"iat":{iat},"iss":{iss},"jti":{jti},"nbf":{nbf},"sub":{sub}{end}"#
                )
                .into_bytes()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn layout_reader_agrees_with_serde(json in layout_like()) {
            if let Some(claims) = layout(&json) {
                let by_serde: WireClaims<'_> = serde_json::from_slice(&json)
                    .expect("serde accepts what the layout reader accepts");
                prop_assert_eq!(claims, by_serde);
            }
        }

        #[test]
        fn scanner_agrees_with_serde_on_json_like_text(json in json_like()) {
            agrees(&json);
        }

        #[test]
        fn scanner_agrees_with_serde_on_objects(json in object_like()) {
            agrees(&json);
        }

        #[test]
        fn scanner_agrees_with_serde_on_bytes(json in vec(any::<u8>(), 0..48)) {
            agrees(&json);
        }
    }
}
