//! Servers that send the request back: its URL (with the token, in
//! query-parameter mode) and its `Authorization` header (in bearer mode),
//! in a JSON error, an HTML page, a body of the wrong shape, headers, a
//! redirect's `Location`. The token never reaches any error: not its
//! `Display`, its `Debug` or any of its sources, in either auth mode, in
//! whatever form the server re-encoded it.

use qstash::{AuthMode, Error};

use crate::{Action, FakeClock, FaultServer, Received, all_text, list_queues};

/// A token with characters that change when URL- or JSON-encoded.
const TOKEN: &str = "eyJVc2VySUQiOiJlY2hvIn0+/echo=secret==";

/// Every form of the token a server could send back.
fn forms() -> Vec<String> {
    let query: String = url::form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect();
    vec![
        TOKEN.to_string(),
        query.clone(),
        query.to_ascii_lowercase().replace("eyj", "eyJ"),
        TOKEN.replace('/', "\\/"),
        // Long enough that no fragment of the redaction matches it.
        TOKEN[..20].to_string(),
    ]
}

/// What an echoing server repeats: the request line and `Authorization`.
fn echo(request: &Received) -> String {
    format!(
        "{} {} authorization={}",
        request.method,
        request.target,
        request.header("authorization").unwrap_or("none")
    )
}

fn lowercase_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut left = 0;
    for c in text.chars() {
        match c {
            '%' => {
                left = 2;
                out.push(c);
            }
            _ if left > 0 => {
                left -= 1;
                out.push(c.to_ascii_lowercase());
            }
            _ => out.push(c),
        }
    }
    out
}

type Echo = fn(&Received) -> Action;

/// Each echoing server, by name.
const SERVERS: &[(&str, Echo)] = &[
    ("JSON error", |r| {
        Action::json(404, serde_json::json!({ "error": echo(r) }))
    }),
    ("JSON error, slashes escaped", |r| Action::Respond {
        status: 400,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: format!(r#"{{"error":"{}"}}"#, echo(r).replace('/', "\\/")).into_bytes(),
    }),
    ("HTML 404 page", |r| Action::Respond {
        status: 404,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: format!(
            "<html><body><h1>Not Found</h1><p>{}</p></body></html>",
            echo(r)
        )
        .into_bytes(),
    }),
    ("HTML 200 page", |r| Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: format!(
            "<html><body><p>Welcome! You asked for {}</p></body></html>",
            echo(r)
        )
        .into_bytes(),
    }),
    ("a string where a list belongs", |r| {
        Action::json(200, serde_json::Value::String(echo(r)))
    }),
    ("lower-case escapes", |r| {
        Action::json(
            500,
            serde_json::json!({ "error": lowercase_escapes(&echo(r)) }),
        )
    }),
    ("429 with headers and body", |r| {
        Action::json(429, serde_json::json!({ "error": echo(r) }))
            .with_header("X-Echo", &echo(r))
            .with_header("Burst-RateLimit-Limit", "10")
    }),
    ("redirect to the echo", |r| {
        Action::status(302).with_header(
            "Location",
            &format!("http://127.0.0.1:9/echo?{}", echo(r).replace(' ', "&")),
        )
    }),
    ("headers only", |r| {
        Action::status(418).with_header("X-Echo", &echo(r))
    }),
];

#[tokio::test]
async fn the_token_never_reaches_an_error_whatever_the_server_echoes() {
    let clock = FakeClock::new();
    for mode in [AuthMode::Bearer, AuthMode::QueryParameter] {
        for (name, respond) in SERVERS {
            let server = FaultServer::start(move |_, request| match request {
                None => Action::Accept,
                Some(request) => respond(request),
            })
            .await;
            let client = server
                .builder(&clock)
                .token(TOKEN)
                .auth_mode(mode)
                .no_retries()
                .build()
                .unwrap();
            // The token did go out, and came back.
            let error = list_queues(&client).await.expect_err(name);
            let request = &server.received()[0];
            assert!(
                echo(request).contains(&forms()[usize::from(mode == AuthMode::QueryParameter)])
            );

            let text = all_text(&error);
            for form in forms() {
                assert!(
                    !text.contains(&form),
                    "{mode:?}, {name}: `{form}` in {text}"
                );
            }
            // Where the echo reaches the error, it is there, redacted; a
            // redirect's path and query and other headers never reach it.
            let shown = !matches!(error, Error::Redirected { .. }) && *name != "headers only";
            assert_eq!(text.contains("REDACTED"), shown, "{mode:?}, {name}: {text}");

            // The generated layer's own error, before conversion, too.
            let raw = client.api().list_queues().send().await.expect_err(name);
            let text = format!("{raw}\n{raw:?}\n{}", all_text(&raw));
            for form in forms() {
                assert!(
                    !text.contains(&form),
                    "{mode:?}, {name}, raw: `{form}` in {text}"
                );
            }
        }
    }
}

/// A success answer that QStash sends back with the token in it (a message
/// whose forwarded header carries it, say) reads `REDACTED` there too: a
/// QStash answer never needs to hand the token back.
#[tokio::test]
async fn a_success_answer_has_the_token_taken_out_too() {
    let server = FaultServer::always(Action::json(
        200,
        serde_json::json!([{ "name": format!("queue-{TOKEN}"), "createdAt": 1, "updatedAt": 1,
            "parallelism": 1, "lag": 0, "paused": false }]),
    ))
    .await;
    let client = server
        .builder(&FakeClock::new())
        .token(TOKEN)
        .build()
        .unwrap();
    let queues = list_queues(&client).await.unwrap();
    assert_eq!(queues[0].name.as_deref(), Some("queue-REDACTED"));
}

/// A short token (a test's `"t"`) is not looked for: it would match
/// ordinary text.
#[tokio::test]
async fn a_short_token_leaves_answers_alone() {
    let server = FaultServer::always(Action::json(
        404,
        serde_json::json!({"error": "not found: t"}),
    ))
    .await;
    let client = server
        .builder(&FakeClock::new())
        .token("t")
        .no_retries()
        .build()
        .unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(error.to_string().contains("not found: t"), "{error}");
}
