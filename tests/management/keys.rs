//! `client.signing_keys()`: get and rotate.

use crate::{Api, assert_request, assert_same_as_fixture, fixture_reply};

#[tokio::test]
async fn get_reads_the_current_and_next_key() {
    let api = Api::replying(fixture_reply(200, "get_signing_keys")).await;
    let keys = api
        .client
        .signing_keys()
        .get()
        .send()
        .await
        .expect("get succeeds");
    assert_request(&api.request().await, "GET", "/v2/keys", &[], None);
    assert_eq!(
        keys.current.as_deref(),
        Some("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r")
    );
    assert_same_as_fixture(&keys, "get_signing_keys");
}

#[tokio::test]
async fn rotate_posts_and_reads_the_new_pair() {
    let api = Api::replying(fixture_reply(200, "rotate_signing_keys")).await;
    let keys = api
        .client
        .signing_keys()
        .rotate()
        .send()
        .await
        .expect("rotate succeeds");
    assert_request(&api.request().await, "POST", "/v2/keys/rotate", &[], None);
    assert_same_as_fixture(&keys, "rotate_signing_keys");
}
