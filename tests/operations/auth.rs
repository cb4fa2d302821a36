//! Both ways the token can travel: `Authorization: Bearer` and the
//! `qstash_token` query parameter.

use qstash::AuthMode;

use crate::{Api, Expect, empty_reply, error_reply, fixture_reply};

/// Base64 with padding, like the local development server's token: the `=`
/// must survive the query string.
const TOKEN: &str = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";
const TOKEN_IN_QUERY: &str =
    "qstash_token=eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0%3D";

#[tokio::test]
async fn bearer_mode_sends_the_token_in_the_authorization_header_only() {
    let api = Api::start(TOKEN, AuthMode::Bearer, fixture_reply(200, "list_queues")).await;
    api.client
        .list_queues()
        .send()
        .await
        .expect("list succeeds");
    Expect::new("GET", "/v2/queues")
        .bearer(TOKEN)
        .assert(&api.request().await);
}

#[tokio::test]
async fn query_mode_sends_the_token_as_qstash_token_only() {
    let api = Api::start(
        TOKEN,
        AuthMode::QueryParameter,
        fixture_reply(200, "list_queues"),
    )
    .await;
    api.client
        .list_queues()
        .send()
        .await
        .expect("list succeeds");
    Expect::new("GET", "/v2/queues")
        .token_in_query(TOKEN)
        .raw_query(TOKEN_IN_QUERY)
        .assert(&api.request().await);
}

/// The destination's own query comes first, untouched; the token is appended.
#[tokio::test]
async fn query_mode_appends_the_token_after_the_destination_query() {
    let api = Api::start(
        TOKEN,
        AuthMode::QueryParameter,
        fixture_reply(200, "publish_message"),
    )
    .await;
    api.client
        .publish_message()
        .destination("https://example.com/api?x=1&y=2")
        .content_type("text/plain")
        .body("hello")
        .send()
        .await
        .expect("publish succeeds");
    Expect::new("POST", "/v2/publish/https://example.com/api")
        .token_in_query(TOKEN)
        .raw_query(&format!("x=1&y=2&{TOKEN_IN_QUERY}"))
        .raw_body(b"hello", "text/plain")
        .assert(&api.request().await);
}

#[tokio::test]
async fn query_mode_keeps_the_operation_query_parameters() {
    let api = Api::start(TOKEN, AuthMode::QueryParameter, empty_reply(200)).await;
    api.client
        .pin_flow_control_key()
        .flow_control_key("fc-key")
        .parallelism(5)
        .rate(100)
        .period(60)
        .send()
        .await
        .expect("pin succeeds");
    Expect::new("POST", "/v2/flowControl/fc-key/pin")
        .token_in_query(TOKEN)
        .query(&[
            ("parallelism", "5"),
            ("rate", "100"),
            ("period", "60"),
            ("qstash_token", TOKEN),
        ])
        .assert(&api.request().await);
}

/// An error holding the response must not hand the token back in its URL.
#[tokio::test]
async fn query_mode_errors_do_not_show_the_token() {
    let api = Api::start(TOKEN, AuthMode::QueryParameter, error_reply(500, "boom")).await;
    let error = api
        .client
        .get_signing_keys()
        .send()
        .await
        .expect_err("an undeclared 500 is an error");
    Expect::new("GET", "/v2/keys")
        .token_in_query(TOKEN)
        .raw_query(TOKEN_IN_QUERY)
        .assert(&api.request().await);
    let shown = format!("{error:?} / {error}");
    assert!(!shown.contains(TOKEN), "token in the error: {shown}");
    match error {
        qstash::Error::UnexpectedResponse(response) => {
            assert_eq!(response.status().as_u16(), 500);
            assert!(
                !response.url().as_str().contains(TOKEN),
                "{}",
                response.url()
            );
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
}

/// Nor may a transport error (nothing listening on the port).
#[tokio::test]
async fn query_mode_transport_errors_do_not_show_the_token() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port();
    let client = qstash::Client::builder()
        .token(TOKEN)
        .auth_mode(AuthMode::QueryParameter)
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .expect("client");
    let error = client
        .get_signing_keys()
        .send()
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(error, qstash::Error::CommunicationError(_)),
        "{error:?}"
    );
    let shown = format!("{error:?} / {error}");
    assert!(!shown.contains(TOKEN), "token in the error: {shown}");
}
