//! What every framework integration (the axum and actix-web extractors,
//! the tower layer) guarantees, as one table of cases: the request a case
//! sends (path, signature, extra headers, body, declared length, the
//! verifier's body limit) and the answer it must get (status and body
//! text: the refusal's reason, or what the handler saw). Each framework's
//! test file supplies only `send`, which puts one [`Request`] through that
//! framework and returns the status and body text, and runs the table with
//! [`check_all`], which names every case that fails. The JSON extractors
//! (axum's and actix-web's; the tower layer has none) also run
//! [`JSON_CASES`].
//!
//! The apps serve `/raw` at the top and `/api/raw` (and `/api/json` for
//! the extractors) nested under `/api`; the raw routes answer with
//! [`handler_line`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures_core::Stream;
use qstash::receiver::{Claims, DeliveryHeaders, Receiver, RequestVerifier, Signer};

/// The receivers' current and next signing keys.
pub const CURRENT: &str = "sig_receiver_current";
pub const NEXT: &str = "sig_receiver_next";
/// The base URL the verifiers are configured with.
pub const BASE: &str = "https://hooks.example.com";
/// The body limit of the cases that set one.
pub const LIMIT: usize = 1024 * 1024;
/// The size of an endless body's chunks.
pub const CHUNK: usize = 64 * 1024;
static FILL: [u8; CHUNK] = [b'x'; CHUNK];

/// How a case's request is signed.
pub enum Signature {
    /// No `Upstash-Signature` header.
    None,
    /// With the current key, for `BASE` + the path and the body sent.
    Valid,
    /// As `Valid`, with the next key.
    NextKey,
    /// As `Valid`, in two `Upstash-Signature` headers.
    Twice,
    /// With the current key for the body sent, for `BASE` + another path.
    ForPath(&'static str),
    /// With the current key for `BASE` + the path, over another body.
    ForBody(&'static [u8]),
    /// As `Valid`, with a key that is not the receiver's.
    OtherKey,
}

/// What a case's request carries as its body.
pub enum Body {
    Bytes(&'static [u8]),
    /// This byte, this many times.
    Repeat(u8, usize),
    /// Chunks without end: at most `most_read` bytes may be pulled from it.
    Endless {
        most_read: usize,
    },
}

pub struct Case {
    /// What the case checks: named when it fails.
    pub name: &'static str,
    pub path: &'static str,
    pub signature: Signature,
    /// Sent after the signature, in this order (a name twice is sent twice).
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Body,
    /// A `Content-Length` header sent with the body, whatever its length.
    pub content_length: Option<usize>,
    /// The verifier's body limit (its default if none).
    pub limit: Option<usize>,
    /// The expected status and body text. No token the request carries may
    /// appear in the text, whatever the case.
    pub status: u16,
    pub text: &'static str,
}

/// A case's request, for a framework's `send`: an app verifying with
/// `verifier` gets `request`, a POST (each header as often as it stands).
pub struct Request {
    pub verifier: RequestVerifier,
    pub request: http::Request<RequestBody>,
}

pub enum RequestBody {
    Bytes(Vec<u8>),
    Endless(Endless),
}

/// A body without end that counts the bytes pulled from it.
pub struct Endless(Arc<AtomicUsize>);

impl Endless {
    /// Its chunks, with the error type of the framework's body.
    pub fn into_stream<E: 'static>(self) -> impl Stream<Item = Result<Bytes, E>> + Send + 'static {
        futures_util::stream::repeat_with(move || {
            self.0.fetch_add(CHUNK, Ordering::SeqCst);
            Ok(Bytes::from_static(&FILL))
        })
    }
}

/// What the raw routes answer: the body's length, the signed URL and the
/// delivery headers, message id and retries (`"4
/// https://hooks.example.com/raw None None"` for a 4-byte body to `/raw`
/// without them).
pub fn handler_line(body: &[u8], claims: &Claims, delivery: &DeliveryHeaders) -> String {
    format!(
        "{} {} {:?} {:?}",
        body.len(),
        claims.url,
        delivery.message_id,
        delivery.retried
    )
}

/// The cases every integration must pass.
pub const CASES: &[Case] = &[
    Case {
        name: "a verified body and the delivery headers reach the handler",
        path: "/raw",
        signature: Signature::Valid,
        headers: &[("Upstash-Message-Id", "msg_1"), ("Upstash-Retried", "3")],
        body: Body::Bytes(&[0, 1, 2, 255]),
        content_length: None,
        limit: None,
        status: 200,
        text: "4 https://hooks.example.com/raw Some(\"msg_1\") Some(3)",
    },
    Case {
        name: "no signature: 401",
        path: "/raw",
        signature: Signature::None,
        headers: &[],
        body: Body::Bytes(b"x"),
        content_length: None,
        limit: None,
        status: 401,
        text: "missing Upstash-Signature header",
    },
    Case {
        name: "a body other than the signed one: 401, the token not echoed",
        path: "/raw",
        signature: Signature::ForBody(b"x"),
        headers: &[],
        body: Body::Bytes(b"tampered"),
        content_length: None,
        limit: None,
        status: 401,
        text: "body does not match the signed hash",
    },
    Case {
        name: "signed for another URL: 401",
        path: "/raw",
        signature: Signature::ForPath("/elsewhere"),
        headers: &[],
        body: Body::Bytes(b"x"),
        content_length: None,
        limit: None,
        status: 401,
        text: "token was issued for a different URL",
    },
    Case {
        name: "signed with a key not ours: 401",
        path: "/raw",
        signature: Signature::OtherKey,
        headers: &[],
        body: Body::Bytes(b"x"),
        content_length: None,
        limit: None,
        status: 401,
        text: "invalid signature",
    },
    Case {
        name: "Upstash-Message-Id twice: 401",
        path: "/raw",
        signature: Signature::Valid,
        headers: &[
            ("Upstash-Message-Id", "msg_1"),
            ("Upstash-Message-Id", "msg_2"),
        ],
        body: Body::Bytes(b"x"),
        content_length: None,
        limit: None,
        status: 401,
        text: "the upstash-message-id header is repeated or unreadable",
    },
    Case {
        // Which one counts would be ambiguous.
        name: "two signatures: 401",
        path: "/raw",
        signature: Signature::Twice,
        headers: &[],
        body: Body::Bytes(b"x"),
        content_length: None,
        limit: None,
        status: 401,
        text: "malformed token: signature header is not a single ASCII value",
    },
    Case {
        name: "a nested route verifies the full URL, which QStash signed",
        path: "/api/raw",
        signature: Signature::Valid,
        headers: &[],
        body: Body::Bytes(b"nested"),
        content_length: None,
        limit: None,
        status: 200,
        text: "6 https://hooks.example.com/api/raw None None",
    },
    Case {
        name: "a nested route refuses a token for the path inside the nest",
        path: "/api/raw",
        signature: Signature::ForPath("/raw"),
        headers: &[],
        body: Body::Bytes(b"nested"),
        content_length: None,
        limit: None,
        status: 401,
        text: "token was issued for a different URL",
    },
    Case {
        // The frameworks' own limits (axum 2 MB, actix-web 256 kB) would
        // refuse it, and QStash would retry it into the DLQ.
        name: "a delivery larger than the frameworks' default limits gets through",
        path: "/raw",
        signature: Signature::Valid,
        headers: &[],
        body: Body::Repeat(b'y', 3 * 1024 * 1024),
        content_length: None,
        limit: None,
        status: 200,
        text: "3145728 https://hooks.example.com/raw None None",
    },
    Case {
        name: "an endless unsigned body: 401 before a byte is read",
        path: "/raw",
        signature: Signature::None,
        headers: &[],
        body: Body::Endless { most_read: 0 },
        content_length: None,
        limit: Some(LIMIT),
        status: 401,
        text: "missing Upstash-Signature header",
    },
    Case {
        name: "an endless forged body: 401 before a byte is read",
        path: "/raw",
        signature: Signature::OtherKey,
        headers: &[],
        body: Body::Endless { most_read: 0 },
        content_length: None,
        limit: Some(LIMIT),
        status: 401,
        text: "invalid signature",
    },
    Case {
        name: "a Content-Length over the limit: 413 before a byte is read",
        path: "/raw",
        signature: Signature::ForBody(b"x"),
        headers: &[],
        body: Body::Endless { most_read: 0 },
        content_length: Some(LIMIT + 1),
        limit: Some(LIMIT),
        status: 413,
        text: "the body is larger than 1048576 bytes",
    },
    Case {
        name: "an endless signed body: 413, read no further than the limit",
        path: "/raw",
        signature: Signature::ForBody(b"x"),
        headers: &[],
        body: Body::Endless {
            most_read: LIMIT + CHUNK,
        },
        content_length: None,
        limit: Some(LIMIT),
        status: 413,
        text: "the body is larger than 1048576 bytes",
    },
];

/// The JSON extractors' cases (axum's and actix-web's `VerifiedJson`; the
/// tower layer has none), on `/api/json` nested under `/api`, whose handler
/// answers `<greeting from the app's state> job <id> key <key slot>`.
#[allow(dead_code)] // Not in tests/receiver_tower.rs.
pub const JSON_CASES: &[Case] = &[
    Case {
        name: "JSON is parsed after verification, with the app's state",
        path: "/api/json",
        signature: Signature::Valid,
        headers: &[],
        body: Body::Bytes(br#"{"id":42}"#),
        content_length: None,
        limit: None,
        status: 200,
        text: "hi job 42 key Current",
    },
    Case {
        name: "JSON signed with the next key",
        path: "/api/json",
        signature: Signature::NextKey,
        headers: &[],
        body: Body::Bytes(br#"{"id":42}"#),
        content_length: None,
        limit: None,
        status: 200,
        text: "hi job 42 key Next",
    },
    Case {
        name: "JSON on a nested route signed for the path inside the nest: 401",
        path: "/api/json",
        signature: Signature::ForPath("/json"),
        headers: &[],
        body: Body::Bytes(br#"{"id":42}"#),
        content_length: None,
        limit: None,
        status: 401,
        text: "token was issued for a different URL",
    },
    Case {
        name: "verified JSON of the wrong shape: 422",
        path: "/api/json",
        signature: Signature::Valid,
        headers: &[],
        body: Body::Bytes(br#"{"id":"x"}"#),
        content_length: None,
        limit: None,
        status: 422,
        text: "invalid JSON body: invalid type: string \"x\", expected u64 at line 1 column 9",
    },
    Case {
        name: "JSON other than the signed one: 401 before it is parsed",
        path: "/api/json",
        signature: Signature::ForBody(br#"{"id":42}"#),
        headers: &[],
        body: Body::Bytes(br#"{"id":"x"}"#),
        content_length: None,
        limit: None,
        status: 401,
        text: "body does not match the signed hash",
    },
];

fn verifier() -> RequestVerifier {
    RequestVerifier::new(Receiver::new(CURRENT, NEXT).unwrap(), BASE).unwrap()
}

fn token(key: &str, path: &str, body: &[u8]) -> String {
    Signer::new(key)
        .unwrap()
        .sign(&format!("{BASE}{path}"), body)
}

impl Case {
    /// The request, the tokens it carries, and the count of what is pulled
    /// from an endless body.
    fn request(&self) -> (Request, Vec<String>, Arc<AtomicUsize>) {
        let pulled = Arc::new(AtomicUsize::new(0));
        let body = match self.body {
            Body::Bytes(bytes) => RequestBody::Bytes(bytes.to_vec()),
            Body::Repeat(byte, times) => RequestBody::Bytes(vec![byte; times]),
            Body::Endless { .. } => RequestBody::Endless(Endless(pulled.clone())),
        };
        let sent: &[u8] = match &body {
            RequestBody::Bytes(bytes) => bytes,
            RequestBody::Endless(_) => b"",
        };
        let tokens = match self.signature {
            Signature::None => vec![],
            Signature::Valid => vec![token(CURRENT, self.path, sent)],
            Signature::NextKey => vec![token(NEXT, self.path, sent)],
            Signature::Twice => vec![token(CURRENT, self.path, sent); 2],
            Signature::ForPath(path) => vec![token(CURRENT, path, sent)],
            Signature::ForBody(other) => vec![token(CURRENT, self.path, other)],
            Signature::OtherKey => vec![token("sig_not_ours", self.path, sent)],
        };
        let mut request = http::Request::post(self.path);
        for token in &tokens {
            request = request.header("Upstash-Signature", token);
        }
        for &(name, value) in self.headers {
            request = request.header(name, value);
        }
        if let Some(length) = self.content_length {
            request = request.header("Content-Length", length);
        }
        let verifier = match self.limit {
            Some(limit) => verifier().max_body_bytes(limit),
            None => verifier(),
        };
        let request = Request {
            verifier,
            request: request.body(body).unwrap(),
        };
        (request, tokens, pulled)
    }

    /// What is wrong with this answer, if anything.
    fn check(&self, status: u16, text: &str, tokens: &[String], pulled: usize) -> Vec<String> {
        let mut wrong = Vec::new();
        if (status, text) != (self.status, self.text) {
            wrong.push(format!(
                "expected {} {:?}, got {status} {text:?}",
                self.status, self.text
            ));
        }
        if tokens.iter().any(|token| text.contains(token.as_str())) {
            wrong.push("the answer echoes the token".to_string());
        }
        if let Body::Endless { most_read } = self.body
            && pulled > most_read
        {
            wrong.push(format!("{pulled} bytes read, at most {most_read} allowed"));
        }
        wrong
    }
}

/// Sends every case's request with `send` and checks its answer; fails
/// naming each case that went wrong and how.
pub async fn check_all<'a, F, Fut>(cases: impl IntoIterator<Item = &'a Case>, mut send: F)
where
    F: FnMut(Request) -> Fut,
    Fut: Future<Output = (u16, String)>,
{
    let mut failures = Vec::new();
    let mut count = 0;
    for case in cases {
        count += 1;
        let (request, tokens, pulled) = case.request();
        let (status, text) = send(request).await;
        let wrong = case.check(status, &text, &tokens, pulled.load(Ordering::SeqCst));
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", case.name, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
