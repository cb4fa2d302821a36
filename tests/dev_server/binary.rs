//! The `qstash-dev-server` binary: flags, what it prints, that it serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use qstash::dev_server::{DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY, DEFAULT_TOKEN};

const BINARY: &str = env!("CARGO_BIN_EXE_qstash-dev-server");

#[tokio::test]
async fn it_prints_url_token_and_keys_and_serves() {
    let mut child = Command::new(BINARY)
        .args(["--port", "0"])
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
    let value = |name: &str| {
        printed
            .iter()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} not in {printed:?}"))
            .to_owned()
    };
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
    child.kill().expect("the binary stops");
    let _ = child.wait();
    assert_eq!(keys.unwrap().status(), 200);
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    for args in [
        &["--port", "eighty"][..],
        &["--verbose"][..],
        &["--port"][..],
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
