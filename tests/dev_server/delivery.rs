//! Publish → delivery → verification.

use qstash::dev_server::{
    DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY, DEFAULT_TOKEN, DevClock,
};
use qstash::receiver::KeySlot;
use qstash::types::{LogEntryState, PublishMessageResponse, UpsertUrlGroupEndpointsBody};
use serde_json::json;

use crate::{Endpoint, reached, server, single_id, trail};

#[tokio::test]
async fn a_published_message_is_delivered_signed_and_logged() {
    let server = server(DevClock::manual()).await;
    let mut endpoint = Endpoint::start(&server).await;
    let client = server.client().unwrap();

    let id = single_id(
        client
            .api()
            .publish_message()
            .destination(format!("{}/jobs?id=7", endpoint.url))
            .content_type("application/json")
            .body(r#"{"id":7}"#)
            .send()
            .await
            .unwrap()
            .into_inner(),
    );

    let delivery = endpoint.next().await;
    let claims = delivery.verified.as_ref().expect("the signature verifies");
    assert_eq!(claims.url, format!("{}/jobs?id=7", endpoint.url));
    assert_eq!(claims.key, KeySlot::Current);
    assert_eq!(delivery.path, "/jobs");
    assert_eq!(&delivery.body[..], br#"{"id":7}"#);
    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(delivery.header("upstash-message-id"), id);
    assert_eq!(delivery.header("upstash-retried"), "0");
    assert_eq!(delivery.header("user-agent"), "Upstash-QStash");
    assert_eq!(delivery.header("upstash-caller-ip"), "127.0.0.1");

    reached(&server, &id, LogEntryState::Delivered).await;
    use LogEntryState::*;
    assert_eq!(trail(&server, &id), [Created, Active, Delivered]);
}

#[tokio::test]
async fn forwarded_headers_lose_their_prefix_and_the_method_is_kept() {
    let server = server(DevClock::manual()).await;
    let mut endpoint = Endpoint::start(&server).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v2/publish/{}/put", server.url(), endpoint.url))
        .query(&[("qstash_token", DEFAULT_TOKEN)])
        .header("Upstash-Forward-X-Trace", "abc")
        .header("Upstash-Forward-Authorization", "Bearer inner")
        .header("Upstash-Method", "PUT")
        .header("Upstash-Label", "billing")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let delivery = endpoint.next().await;
    delivery.verified.as_ref().expect("the signature verifies");
    assert_eq!(delivery.header("x-trace"), "abc");
    assert_eq!(delivery.header("authorization"), "Bearer inner");
    assert!(
        delivery
            .headers
            .keys()
            .all(|name| !name.as_str().starts_with("upstash-forward"))
    );
    assert!(delivery.headers.get("upstash-label").is_none());
    // The `qstash_token` query parameter authenticates; it is not part of the destination.
    assert_eq!(delivery.path, "/put");
    assert_eq!(
        delivery.verified.unwrap().url,
        format!("{}/put", endpoint.url)
    );
}

#[tokio::test]
async fn after_rotation_deliveries_are_signed_with_the_new_current_key() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let keys = client
        .api()
        .get_signing_keys()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys.current.as_deref(), Some(DEFAULT_CURRENT_SIGNING_KEY));
    assert_eq!(keys.next.as_deref(), Some(DEFAULT_NEXT_SIGNING_KEY));

    let rotated = client
        .api()
        .rotate_signing_keys()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rotated.current.as_deref(), Some(DEFAULT_NEXT_SIGNING_KEY));
    let fresh = rotated.next.clone().unwrap();
    assert!(fresh.starts_with("sig_") && fresh != DEFAULT_CURRENT_SIGNING_KEY);
    assert_eq!(
        server.signing_keys(),
        (DEFAULT_NEXT_SIGNING_KEY.to_owned(), fresh)
    );

    // A receiver still holding the old pair verifies with its next key.
    let mut endpoint = Endpoint::start_with(
        qstash::Receiver::new(DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY).unwrap(),
    )
    .await;
    client
        .api()
        .publish_message()
        .destination(format!("{}/rotated", endpoint.url))
        .body("x")
        .send()
        .await
        .unwrap();
    let claims = endpoint.next().await.verified.expect("verifies");
    assert_eq!(claims.key, KeySlot::Next);
}

#[tokio::test]
async fn a_url_group_fans_out_to_every_endpoint() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut a = Endpoint::start(&server).await;
    let mut b = Endpoint::start(&server).await;
    let body: UpsertUrlGroupEndpointsBody = serde_json::from_value(json!({
        "endpoints": [{"name": "a", "url": format!("{}/a", a.url)}, {"url": format!("{}/b", b.url)}]
    }))
    .unwrap();
    client
        .api()
        .upsert_url_group_endpoints()
        .url_group_name("orders")
        .body(body)
        .send_ignoring_answer()
        .await
        .unwrap();
    let group = client
        .api()
        .get_url_group()
        .url_group_name("orders")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(group.endpoints.len(), 2);

    let published = client
        .api()
        .publish_message()
        .destination("orders")
        .body("fan out")
        .send()
        .await
        .unwrap()
        .into_inner();
    // A bare array, as QStash answers a URL-group publish.
    let PublishMessageResponse::UrlGroupList(messages) = published else {
        panic!("expected one message per endpoint, got {published:?}");
    };
    assert_eq!(messages.len(), 2);

    for (endpoint, path) in [(&mut a, "/a"), (&mut b, "/b")] {
        let delivery = endpoint.next().await;
        delivery.verified.as_ref().expect("verifies");
        assert_eq!(delivery.path, path);
        assert_eq!(delivery.header("upstash-topic-name"), "orders");
        let id = delivery.header("upstash-message-id");
        assert!(messages.iter().any(|m| m.message_id.as_deref() == Some(id)));
    }

    // Removing the last endpoint removes the group.
    let gone: qstash::types::RemoveUrlGroupEndpointsBody = serde_json::from_value(json!({
        "endpoints": [{"name": "a"}, {"url": format!("{}/b", b.url)}]
    }))
    .unwrap();
    client
        .api()
        .remove_url_group_endpoints()
        .url_group_name("orders")
        .body(gone)
        .send_ignoring_answer()
        .await
        .unwrap();
    assert!(
        client
            .api()
            .list_url_groups()
            .send()
            .await
            .unwrap()
            .into_inner()
            .is_empty()
    );
}

#[tokio::test]
async fn a_second_publish_with_the_same_deduplication_id_or_content_is_suppressed() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let url = format!("{}/dedup", endpoint.url);
    let publish = |dedup_id: Option<&'static str>, body: &'static str| {
        let mut builder = client
            .api()
            .publish_message()
            .destination(url.clone())
            .body(body);
        builder = match dedup_id {
            Some(id) => builder.upstash_deduplication_id(id),
            None => builder.upstash_content_based_deduplication("true"),
        };
        async move {
            match builder.send().await.unwrap().into_inner() {
                PublishMessageResponse::PublishResponse(r) => {
                    (r.message_id.unwrap(), r.deduplicated)
                }
                other => panic!("{other:?}"),
            }
        }
    };
    let (first, dedup) = publish(Some("order-1"), "a").await;
    assert_eq!(dedup, None);
    assert_eq!(
        publish(Some("order-1"), "b").await,
        (first.clone(), Some(true))
    );
    let (by_content, _) = publish(None, "same").await;
    assert_eq!(
        publish(None, "same").await,
        (by_content.clone(), Some(true))
    );
    let (other_content, dedup) = publish(None, "different").await;
    assert_eq!(dedup, None);

    let mut delivered: Vec<String> = Vec::new();
    for _ in 0..3 {
        delivered.push(
            endpoint
                .next()
                .await
                .header("upstash-message-id")
                .to_owned(),
        );
    }
    delivered.sort();
    let mut expected = vec![first.clone(), by_content, other_content];
    expected.sort();
    assert_eq!(delivered, expected);
    let created = server
        .logs()
        .iter()
        .filter(|e| e.state == Some(LogEntryState::Created))
        .count();
    assert_eq!(created, 3, "a deduplicated publish creates no message");

    // The window is ten minutes.
    server.clock().advance(std::time::Duration::from_secs(601));
    let (again, dedup) = publish(Some("order-1"), "a").await;
    assert_eq!(dedup, None);
    assert_ne!(again, first);
}

/// One clock for the server and its receivers: a receiver following the
/// server's manual clock sees a token signed at that clock's time expire
/// once the clock has moved past its five minutes (six, so that the
/// second the token was issued in does not matter). The token is signed
/// at the manual clock's time, not the system's: the system clock may
/// have reached the next second since the server started, and a token
/// issued after the receiver's now is not yet valid.
#[tokio::test]
async fn a_receiver_can_follow_the_servers_clock() {
    use qstash::clock::Clock;
    let server = server(DevClock::manual()).await;
    let receiver = server
        .receiver()
        .expect("keys")
        .clock(server.clock().clone());
    let issued_at = server
        .clock()
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = qstash::receiver::Signer::new(DEFAULT_CURRENT_SIGNING_KEY)
        .unwrap()
        .sign_at("http://127.0.0.1/jobs", b"x", issued_at, "msg_clock");
    let delivery = qstash::Delivery::new(&token, b"x");
    assert!(receiver.verify(delivery).is_ok());
    server.clock().advance(std::time::Duration::from_secs(360));
    assert_eq!(
        receiver.verify(delivery).unwrap_err(),
        qstash::VerifyError::Expired
    );
}
