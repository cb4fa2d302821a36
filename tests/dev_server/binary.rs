//! The `qstash-dev-server` binary: flags, what it prints, that it serves.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use qstash::dev_server::{DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY, DEFAULT_TOKEN};

const BINARY: &str = env!("CARGO_BIN_EXE_qstash-dev-server");

/// The binary, running; stopped when dropped, even by a failing test.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args`; returns it and what it printed as
/// `NAME=value` lines.
async fn start(args: &[&str]) -> (Running, Vec<String>) {
    // For the reqwest clients that talk to it.
    qstash::install_crypto_provider();
    let mut child = Command::new(BINARY)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    // Reading blocks until the server has printed its settings.
    let printed = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter(|line| line.contains('='))
            .take(4)
            .collect::<Vec<_>>()
    });
    let printed = crate::within("the binary's output", printed).await.unwrap();
    (Running(child), printed)
}

fn value(printed: &[String], name: &str) -> String {
    printed
        .iter()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} not in {printed:?}"))
        .to_owned()
}

#[tokio::test]
async fn it_prints_url_token_and_keys_and_serves() {
    let (child, printed) = start(&["--port", "0"]).await;
    let value = |name: &str| value(&printed, name);
    assert_eq!(value("QSTASH_TOKEN"), DEFAULT_TOKEN);
    assert_eq!(
        value("QSTASH_CURRENT_SIGNING_KEY"),
        DEFAULT_CURRENT_SIGNING_KEY
    );
    assert_eq!(value("QSTASH_NEXT_SIGNING_KEY"), DEFAULT_NEXT_SIGNING_KEY);
    let url = value("QSTASH_URL");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // A bare reqwest client needs the process-wide provider (with a rustls
    // feature); no in-process dev server installed it here.
    qstash::install_crypto_provider();
    let keys = reqwest::Client::new()
        .get(format!("{url}/v2/keys"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .await;
    drop(child);
    assert_eq!(keys.unwrap().status(), 200);
}

#[tokio::test]
async fn limits_are_flags() {
    let (child, printed) = start(&["--port", "0", "--max-retries", "1"]).await;
    let url = value(&printed, "QSTASH_URL");
    let publish = |retries: &'static str| {
        reqwest::Client::new()
            .post(format!("{url}/v2/publish/http://127.0.0.1:9/x"))
            .bearer_auth(DEFAULT_TOKEN)
            .header("upstash-retries", retries)
            .header("upstash-delay", "1h")
            .body("x")
            .send()
    };
    let (within, over) = (publish("1").await, publish("2").await);
    drop(child);
    assert_eq!(within.unwrap().status(), 200);
    let over = over.unwrap();
    assert_eq!(over.status(), 400);
    assert!(over.text().await.unwrap().contains("max-retries"));
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    for args in [
        &["--port", "eighty"][..],
        &["--verbose"][..],
        &["--port"][..],
        &["--max-retries", "many"][..],
        &["--log-retention-age=1y"][..],
        &["--dlq-retention-count"][..],
    ] {
        let output = Command::new(BINARY).args(args).output().expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("usage: qstash-dev-server"),
            "{args:?}: {stderr}"
        );
    }
}
