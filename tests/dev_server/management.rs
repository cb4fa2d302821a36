//! The hand-written management layer (logs, DLQ, message cancel, keys)
//! against the dev server: its cursors drive the streams to the end.

use futures_util::TryStreamExt;
use qstash::dev_server::{DEFAULT_NEXT_SIGNING_KEY, DevClock};
use qstash::messages::{Destination, Message};
use qstash::types::LogEntryState::*;
use qstash::url_groups::Endpoint as GroupEndpoint;
use qstash::{DlqFilter, LogFilter, LogState, MessageFilter};

use crate::{Endpoint, reached, server};

#[tokio::test]
async fn streams_walk_every_page_of_logs_and_the_dlq() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut failed = Vec::new();
    for n in 0..5 {
        let message = Message::new(Destination::url(format!("{}/fail/{n}", endpoint.url)))
            .text("x")
            .retries(0)
            .label("streamed");
        let published = client.messages().publish(message).send().await.unwrap();
        let id = published.message_ids()[0].to_owned();
        endpoint.next().await;
        reached(&server, &id, Failed).await;
        failed.push(id);
    }

    // CREATED, ACTIVE, ERROR, FAILED for each, two per page.
    let logs: Vec<_> = client
        .logs()
        .list()
        .filter(LogFilter::new().label("streamed"))
        .count(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(logs.len(), 20);
    let failed_logs: Vec<_> = client
        .logs()
        .list()
        .filter(LogFilter::new().state(LogState::Failed))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(failed_logs.len(), 5);

    let dead: Vec<_> = client
        .dlq()
        .list()
        .count(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut ids: Vec<_> = dead.iter().filter_map(|m| m.message_id.clone()).collect();
    ids.sort();
    failed.sort();
    assert_eq!(ids, failed);

    let one = format!("{}/fail/3", endpoint.url);
    let deleted = client
        .dlq()
        .delete_by_filter(DlqFilter::new().url(one))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.deleted, 1);
    let left: Vec<qstash::types::DlqMessage> =
        client.dlq().list().stream().try_collect().await.unwrap();
    assert_eq!(left.len(), 4);
    let dlq_id = left[0].dlq_id.clone().unwrap();
    client.dlq().delete(&dlq_id).send().await.unwrap();
    assert!(client.dlq().delete(&dlq_id).send().await.is_err());
    assert!(client.dlq().get(&dlq_id).send().await.is_err());
    let left: Vec<_> = client.dlq().list().stream().try_collect().await.unwrap();
    assert_eq!(left.len(), 3);
}

#[tokio::test]
async fn cancel_by_filter_and_rotate_through_the_management_layer() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    for label in ["keep", "drop", "drop"] {
        let message = Message::new(Destination::url("http://127.0.0.1:9/later"))
            .text(label)
            .delay(std::time::Duration::from_secs(3600))
            .label(label);
        client.messages().publish(message).send().await.unwrap();
    }
    let cancelled = client
        .messages()
        .cancel_by_filter(MessageFilter::new().label("drop"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled, 2);
    let cancelled_logs = server
        .logs()
        .iter()
        .filter(|e| e.state == Some(Cancelled))
        .count();
    assert_eq!(cancelled_logs, 2);

    client
        .url_groups()
        .upsert_endpoints("group", [GroupEndpoint::new("http://127.0.0.1:9/a")])
        .send()
        .await
        .unwrap();
    assert_eq!(client.url_groups().list().send().await.unwrap().len(), 1);
    client.url_groups().delete("group").send().await.unwrap();
    assert!(client.url_groups().list().send().await.unwrap().is_empty());

    let rotated = client.signing_keys().rotate().send().await.unwrap();
    assert_eq!(rotated.current.as_deref(), Some(DEFAULT_NEXT_SIGNING_KEY));
    let keys = client.signing_keys().get().send().await.unwrap();
    assert_eq!(keys.next, rotated.next);
}
