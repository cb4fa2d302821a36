//! One HTTP/1.1 POST over a fresh connection, written by hand: the
//! receivers' tests send a spoofed `Host` to a real socket with it, and
//! need no HTTP client (a receiver-only build has none).

use qstash::receiver::Signer;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Posts `body` to `url`'s path (`http://<addr><path>`) with `Host: host`
/// and `headers`; the answer's status and body.
pub async fn post(url: &str, host: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream.write_all(body).await.expect("body sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer read");
    let answer = String::from_utf8(answer).expect("a text answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .expect("a status line");
    // Chunked answers: the test bodies are short, sent in one chunk.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split("\r\n").nth(1).unwrap_or_default().to_string()
    } else {
        body.to_string()
    };
    (status, body)
}

/// Posts `body` to `url` with a `Host` naming another server and a token
/// signed with `key` for `signed_for`: a receiver must verify the URL it
/// was configured with, whatever the request says its host is.
pub async fn post_signed_for(url: &str, signed_for: &str, key: &str, body: &[u8]) -> (u16, String) {
    let token = Signer::new(key).unwrap().sign(signed_for, body);
    post(
        url,
        "spoofed.example",
        &[("Upstash-Signature", &token)],
        body,
    )
    .await
}
