//! What the publishing benchmarks share: a local keep-alive HTTP server that
//! answers every request with QStash's publish answer, and one publish
//! through each client, the same request on the wire.

use std::net::SocketAddr;
use std::time::Duration;

use qstash::messages::{Destination, Message, Published};
use qstash::types::PublishMessageResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A token of a real one's length (the official dev server's default):
/// what the client looks for in every answer is the token.
const TOKEN: &str = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";
const BODY: &str = r#"{"order":12345,"items":["a","b","c"],"note":"overhead benchmark"}"#;
const RESPONSE_BODY: &str = r#"{"messageId":"msg_26hZCxZCuWyyTWPmSVBrNC"}"#;

fn response() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{RESPONSE_BODY}",
        RESPONSE_BODY.len()
    )
    .into_bytes()
}

/// A minimal HTTP/1.1 server: reads each request (headers, then
/// `content-length` bytes of body) and answers with a fixed publish response,
/// keeping the connection open. Fixed cost, the same for both clients.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(connection(stream));
    }
}

async fn connection(mut stream: TcpStream) {
    let response = response();
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // Read until a complete request (head + body) is buffered.
        let request_end = loop {
            if let Some(head_end) = find(&buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buffer.len() >= head_end + 4 + length {
                    break head_end + 4 + length;
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        buffer.drain(..request_end);
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The server on a thread (and single-threaded runtime) of its own; its address.
pub fn start_server() -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            sender
                .send(listener.local_addr().expect("address"))
                .expect("send address");
            serve(listener).await;
        });
    });
    receiver.recv().expect("server address")
}

/// Both clients, pointed at one server.
pub struct Clients {
    qstash: qstash::Client,
    bare: reqwest::Client,
    bare_url: String,
}

impl Clients {
    /// A default `qstash::Client` (retries on, so a deduplication id is
    /// added too) and a bare `reqwest::Client` with the same timeout.
    pub fn new(server: SocketAddr) -> Clients {
        let base_url = format!("http://{server}");
        // The qstash client carries its own TLS configuration; a bare
        // reqwest client needs the process-wide provider (with a rustls
        // feature), though these talk plain HTTP.
        qstash::install_crypto_provider();
        Clients {
            qstash: qstash::Client::builder()
                .token(TOKEN)
                .base_url(&base_url)
                .build()
                .expect("qstash client"),
            bare: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("reqwest client"),
            bare_url: format!("{base_url}/v2/publish/https://example.com/api"),
        }
    }

    /// One publish the way users send it: a `Message` through the
    /// messaging layer.
    pub async fn qstash(&self) {
        let message = Message::new(Destination::url("https://example.com/api"))
            .bytes("application/json", BODY)
            .retries(3);
        let published = self
            .qstash
            .messages()
            .publish(message)
            .send()
            .await
            .expect("publish");
        assert!(matches!(published, Published::Url(_)));
    }

    /// The same request and decoding with a bare `reqwest::Client`.
    pub async fn bare(&self) {
        let response = self
            .bare
            .post(&self.bare_url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header("upstash-retries", "3")
            .header(
                "upstash-deduplication-id",
                "0123456789abcdef0123456789abcdef",
            )
            .header("user-agent", qstash::USER_AGENT_VALUE)
            // What the generated client asks for; reqwest's default would
            // be `*/*`, a shorter request for the server to read.
            .header("accept", "application/json")
            .body(BODY)
            .send()
            .await
            .expect("publish");
        let bytes = response.bytes().await.expect("body");
        let decoded: PublishMessageResponse = serde_json::from_slice(&bytes).expect("json");
        assert!(matches!(
            decoded,
            PublishMessageResponse::PublishResponse(_)
        ));
    }

    /// `count` publishes through one side (`qstash` or bare), at most
    /// `in_flight` at a time.
    pub async fn publish_many(&self, qstash: bool, count: usize, in_flight: usize) {
        // Each side in a stream of its own, so that neither pays for moving
        // the other's (larger or smaller) future.
        if qstash {
            many(count, in_flight, || self.qstash()).await
        } else {
            many(count, in_flight, || self.bare()).await
        }
    }
}

async fn many<F: Future<Output = ()>>(count: usize, in_flight: usize, publish: impl Fn() -> F) {
    use futures_util::StreamExt;

    futures_util::stream::iter(0..count)
        .map(|_| publish())
        .buffer_unordered(in_flight)
        .for_each(|()| async {})
        .await;
}
