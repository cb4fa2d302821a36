//! Request overhead of the client: one publish through `client.messages()` next
//! to the same request sent with a bare `reqwest::Client`, both against the
//! same local keep-alive HTTP server, in one run.
//!
//! `cargo bench --bench overhead`; the figure to read is each side's median.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use qstash::messages::{Destination, Message, Published};
use qstash::types::PublishMessageResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "bench-token";
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

fn start_server() -> SocketAddr {
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

fn publish(c: &mut Criterion) {
    let address = start_server();
    let base_url = format!("http://{address}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");

    let qstash = qstash::Client::builder()
        .token(TOKEN)
        .base_url(&base_url)
        .build()
        .expect("qstash client");
    // The qstash client carries its own TLS configuration; a bare reqwest
    // client needs the process-wide provider (with a rustls feature).
    qstash::install_crypto_provider();
    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client");
    let bare_url = format!("{base_url}/v2/publish/https://example.com/api");

    // The path users take: a Message through the messaging layer, on a
    // default client (retries on, so a deduplication id is added too).
    let via_qstash = || async {
        let message = Message::new(Destination::url("https://example.com/api"))
            .bytes("application/json", BODY)
            .retries(3);
        let published = qstash
            .messages()
            .publish(message)
            .send()
            .await
            .expect("publish");
        assert!(matches!(published, Published::Url(_)));
    };
    let via_bare_reqwest = || async {
        let response = bare
            .post(&bare_url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header("upstash-retries", "3")
            .header(
                "upstash-deduplication-id",
                "0123456789abcdef0123456789abcdef",
            )
            .header("user-agent", qstash::USER_AGENT_VALUE)
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
    };

    // Two cores run the server, the client and everything else, so load
    // drifts over a run. Each sample therefore runs both clients in turns
    // (first one, then the other, swapping who goes first) and times each
    // side separately: both medians come from the same moments and the same
    // positions in the turn.
    let turns = |iters: u64, time_qstash: bool| async move {
        let mut timed = Duration::ZERO;
        for turn in 0..iters {
            for qstash_now in [turn % 2 == 0, turn % 2 == 1] {
                let start = Instant::now();
                if qstash_now {
                    via_qstash().await;
                } else {
                    via_bare_reqwest().await;
                }
                if qstash_now == time_qstash {
                    timed += start.elapsed();
                }
            }
        }
        timed
    };
    let mut group = c.benchmark_group("publish");
    group.bench_function("qstash_client", |b| {
        b.to_async(&runtime).iter_custom(|iters| turns(iters, true))
    });
    group.bench_function("bare_reqwest", |b| {
        b.to_async(&runtime)
            .iter_custom(|iters| turns(iters, false))
    });
    group.finish();
}

criterion_group!(benches, publish);
criterion_main!(benches);
