//! Both ways the token can travel: `Authorization: Bearer` and the
//! `qstash_token` query parameter.

use qstash::AuthMode;

use crate::{Api, Expect, empty_reply, fixture_reply};

/// Base64 with padding, like the local development server's token: the `=`
/// must survive the query string.
const TOKEN: &str = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";
const TOKEN_IN_QUERY: &str =
    "qstash_token=eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0%3D";

#[tokio::test]
async fn bearer_mode_sends_the_token_in_the_authorization_header_only() {
    let api = Api::start(TOKEN, AuthMode::Bearer, fixture_reply(200, "list_queues")).await;
    api.client
        .api()
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
        .api()
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
        .api()
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
        .api()
        .pin_flow_control_key()
        .flow_control_key("fc-key")
        .parallelism(5)
        .rate(100)
        .period(60)
        .send_ignoring_answer()
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

// Redaction of the token from errors in query mode is tested with the rest
// of the client's configuration, in tests/client.rs.
