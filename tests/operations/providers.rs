//! Provider APIs (`Destination::api`): what each sends is pinned by the
//! parity suite against the TypeScript SDK's captures; here, what is
//! refused, and that no credential shows in `Debug`.

use http::Method;
use qstash::Error;
use qstash::messages::{Callback, Destination, Llm, Message, Resend};
use serde_json::json;

use crate::{Api, Expect, fixture_reply};

fn invalid(result: Result<impl std::fmt::Debug, Error>) -> qstash::InvalidInput {
    match result {
        Err(Error::InvalidInput(error)) => error,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn an_llm_needs_a_callback_and_a_provider_a_token() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let messages = api.client.messages();
    let error = invalid(
        messages
            .publish(Message::new(Destination::api(Llm::openai("sk-1"))).json(&json!({})))
            .send()
            .await,
    );
    assert_eq!(error.field(), "callback");
    let error = invalid(
        messages
            .publish(Message::new(Destination::api(Resend::new(""))).json(&json!({})))
            .send()
            .await,
    );
    assert!(error.reason().contains("token is empty"), "{error}");
    // The TypeScript SDK would forward the QStash token to Helicone here.
    let error = invalid(
        messages
            .publish(
                Message::new(Destination::api(Llm::upstash().helicone("hk")))
                    .json(&json!({}))
                    .callback(Callback::new("https://example.com/cb")),
            )
            .send()
            .await,
    );
    assert!(error.reason().contains("QStash token"), "{error}");
    let error = invalid(
        messages
            .publish(
                Message::new(Destination::api(Llm::custom("not a url", "ck")))
                    .json(&json!({}))
                    .callback(Callback::new("https://example.com/cb")),
            )
            .send()
            .await,
    );
    assert_eq!(error.field(), "destination");
    assert!(
        api.requests().await.is_empty(),
        "a refused message was sent"
    );
}

/// The message's own method, media type and headers win over the
/// provider's defaults.
#[tokio::test]
async fn the_message_overrides_the_provider_defaults() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let message = Message::new(Destination::api(Resend::new("re_1")))
        .bytes("text/plain", "raw")
        .method(Method::PUT)
        .header("Authorization", "Bearer mine");
    api.client
        .messages()
        .publish(message)
        .send()
        .await
        .expect("publish succeeds");
    Expect::new("POST", "/v2/publish/https://api.resend.com/emails")
        .raw_body(b"raw", "text/plain")
        .headers(&[
            ("Upstash-Method", "PUT"),
            ("Upstash-Forward-Authorization", "Bearer mine"),
        ])
        .assert(&api.request().await);
}

#[test]
fn debug_shows_header_names_never_values_or_tokens() {
    let message = Message::new(Destination::api(
        Llm::openai("sk-secret").helicone("hk-secret"),
    ))
    .header("Authorization", "Bearer header-secret")
    .callback(Callback::new("https://example.com/cb").header("X-Key", "callback-secret"))
    .failure_callback(
        Callback::new("https://example.com/fail").header("X-Other", "failure-secret"),
    );
    let shown = format!("{message:?}");
    assert!(!shown.contains("secret"), "{shown}");
    for name in ["Authorization", "X-Key", "X-Other"] {
        assert!(shown.contains(name), "{name} missing from {shown}");
    }
    let shown = format!(
        "{:?}",
        Message::new(Destination::api(Resend::new("re_secret")))
    );
    assert!(!shown.contains("secret"), "{shown}");
}
