//! A local QStash server: `qstash-dev-server [--port 8080]`.
//!
//! Prints the base URL, token and signing keys to put in the environment of
//! the code under development, then serves until interrupted.

use qstash::dev_server::{DEFAULT_PORT, DevServer};

const USAGE: &str = "usage: qstash-dev-server [--port <port>]   (default port 8080)";

fn port_from_args() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = DEFAULT_PORT;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" | "-p" => args.next().ok_or("--port needs a value")?,
            "--help" | "-h" => return Err(String::new()),
            other => match other.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unknown argument `{other}`")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port `{value}`"))?;
    }
    Ok(port)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let port = match port_from_args() {
        Ok(port) => port,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let server = match DevServer::builder().port(port).start().await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("qstash-dev-server: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let (current, next) = server.signing_keys();
    println!("QStash dev server listening on {}\n", server.url());
    println!("QSTASH_URL={}", server.url());
    println!("QSTASH_TOKEN={}", server.token());
    println!("QSTASH_CURRENT_SIGNING_KEY={current}");
    println!("QSTASH_NEXT_SIGNING_KEY={next}");
    tokio::select! {
        () = server.wait() => std::process::ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => std::process::ExitCode::SUCCESS,
    }
}
