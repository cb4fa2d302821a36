//! A local QStash server: `qstash-dev-server [--port 8080] [--<limit> <value>]...`.
//!
//! Prints the base URL, token and signing keys to put in the environment of
//! the code under development, then serves until interrupted. Every limit
//! of [`Limits`] is a flag (`--max-retries 20`, `--log-retention-age 1h`);
//! `--help` lists them with their defaults.

use std::io::Write as _;

use qstash::dev_server::{DEFAULT_PORT, DevServer, Limits};

/// What the command line asks for.
struct Settings {
    port: u16,
    limits: Limits,
}

fn usage() -> String {
    let mut usage =
        String::from("usage: qstash-dev-server [--port <port>] [--<limit> <value>]...\n\n");
    let mut flags = vec![(
        "port".to_owned(),
        "where to listen on 127.0.0.1".to_owned(),
        DEFAULT_PORT.to_string(),
    )];
    flags.extend(
        Limits::default()
            .describe()
            .into_iter()
            .map(|(name, help, default)| (name.to_owned(), help.to_owned(), default)),
    );
    for (name, help, default) in flags {
        usage.push_str(&format!("  --{name:<24} {help} (default {default})\n"));
    }
    usage.push_str("\nDurations are written like 30s, 10m, 1h or 7d; sizes in bytes.");
    usage
}

fn settings_from_args() -> Result<Settings, String> {
    let mut args = std::env::args().skip(1);
    let mut settings = Settings {
        port: DEFAULT_PORT,
        limits: Limits::default(),
    };
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "--help" | "-h") {
            return Err(String::new());
        }
        let flag = arg
            .strip_prefix("--")
            .ok_or_else(|| format!("unknown argument `{arg}`"))?;
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => {
                let value = args.next().ok_or(format!("--{flag} needs a value"))?;
                (flag.to_owned(), value)
            }
        };
        if name == "port" {
            settings.port = value
                .parse()
                .map_err(|_| format!("invalid port `{value}`"))?;
        } else if Limits::default()
            .describe()
            .iter()
            .any(|(limit, _, _)| *limit == name)
        {
            settings.limits.set(&name, &value)?;
        } else {
            return Err(format!("unknown argument `--{name}`"));
        }
    }
    Ok(settings)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = match settings_from_args() {
        Ok(settings) => settings,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{}", usage());
            return std::process::ExitCode::from(2);
        }
    };
    let server = match DevServer::builder()
        .port(settings.port)
        .limits(settings.limits)
        .start()
        .await
    {
        Ok(server) => server,
        Err(error) => {
            eprintln!("qstash-dev-server: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let (current, next) = server.signing_keys();
    // Whoever reads this may stop reading (`| head`): the server serves on.
    let _ = writeln!(
        std::io::stdout(),
        "QStash dev server listening on {url}\n\n\
         QSTASH_URL={url}\n\
         QSTASH_TOKEN={token}\n\
         QSTASH_CURRENT_SIGNING_KEY={current}\n\
         QSTASH_NEXT_SIGNING_KEY={next}",
        url = server.url(),
        token = server.token(),
    );
    tokio::select! {
        () = server.wait() => std::process::ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => std::process::ExitCode::SUCCESS,
    }
}
