//! Logs, bulk cancel, DLQ filters and pagination.

use qstash::dev_server::DevClock;
use qstash::types::LogEntryState::*;

use crate::{Endpoint, reached, server, single_id};

#[tokio::test]
async fn logs_filter_and_page_newest_first() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = single_id(
            client
                .api()
                .publish_message()
                .destination(format!("{}/log/{n}", endpoint.url))
                .upstash_label(if n == 1 { "odd" } else { "even" })
                .body(n.to_string())
                .send()
                .await
                .unwrap()
                .into_inner(),
        );
        endpoint.next().await;
        reached(&server, &id, Delivered).await;
        ids.push(id);
    }

    let delivered = client
        .api()
        .list_logs()
        .state("DELIVERED")
        .send()
        .await
        .unwrap()
        .into_inner();
    let newest_first: Vec<_> = delivered
        .logs
        .iter()
        .map(|e| e.message_id.clone().unwrap())
        .collect();
    assert_eq!(
        newest_first,
        [ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );

    let one = client
        .api()
        .list_logs()
        .message_id(&ids[1])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        one.logs
            .iter()
            .map(|e| e.state.clone().unwrap())
            .collect::<Vec<_>>(),
        [Delivered, Active, Created]
    );
    let labelled = client
        .api()
        .list_logs()
        .label(vec!["odd".to_owned()])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        labelled
            .logs
            .iter()
            .all(|e| e.message_id.as_deref() == Some(&*ids[1]))
    );
    assert_eq!(labelled.logs.len(), 3);

    // 9 entries in pages of 4: 4, 4, 1, the last without a cursor.
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = client.api().list_logs().count(4);
        if let Some(c) = &cursor {
            request = request.cursor(c.clone());
        }
        let page = request.send().await.unwrap().into_inner();
        pages.push(page.logs.len());
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(pages, [4, 4, 1]);
    let bad = client.api().list_logs().count(101).send().await;
    assert_eq!(bad.unwrap_err().status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn bulk_cancel_takes_ids_or_filters() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let publish = |url: String, label: &'static str| {
        client
            .api()
            .publish_message()
            .destination(url)
            .upstash_delay("1d")
            .upstash_label(label)
            .body("x")
            .send()
    };
    let a = single_id(
        publish("http://127.0.0.1:9/a".into(), "keep")
            .await
            .unwrap()
            .into_inner(),
    );
    let b = single_id(
        publish("http://127.0.0.1:9/b".into(), "drop")
            .await
            .unwrap()
            .into_inner(),
    );
    let c = single_id(
        publish("http://127.0.0.1:9/c".into(), "drop")
            .await
            .unwrap()
            .into_inner(),
    );

    let by_label = client
        .api()
        .cancel_messages()
        .label(vec!["drop".to_owned()])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_label.cancelled, Some(2));
    for id in [&b, &c] {
        assert!(
            client
                .api()
                .get_message()
                .message_id(id)
                .send()
                .await
                .is_err()
        );
    }
    let by_id = client
        .api()
        .cancel_messages()
        .message_ids(vec![a.clone()])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.cancelled, Some(1));
    assert!(
        client
            .api()
            .get_message()
            .message_id(&a)
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_dlq_filters_pages_deletes_and_retries_in_bulk() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = single_id(
            client
                .api()
                .publish_message()
                .destination(format!("{}/fail/{n}", endpoint.url))
                .upstash_retries(0)
                .body("x")
                .send()
                .await
                .unwrap()
                .into_inner(),
        );
        endpoint.next().await;
        reached(&server, &id, Failed).await;
        ids.push(id);
    }
    let first = client
        .api()
        .list_dlq_messages()
        .count(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.messages.len(), 2);
    let cursor = first.cursor.expect("more to come");
    let second = client
        .api()
        .list_dlq_messages()
        .cursor(cursor)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.messages.len(), 1);
    assert!(second.cursor.is_none());

    let by_url = client
        .api()
        .list_dlq_messages()
        .url(vec![format!("{}/fail/1", endpoint.url)])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_url.messages.len(), 1);
    assert_eq!(by_url.messages[0].message_id.as_deref(), Some(&*ids[1]));
    let by_status = client
        .api()
        .list_dlq_messages()
        .response_status(vec![404])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(by_status.messages.is_empty());

    let dlq_ids: Vec<String> = first
        .messages
        .iter()
        .map(|m| m.dlq_id.clone().unwrap())
        .collect();
    let deleted = client
        .api()
        .delete_dlq_messages()
        .dlq_ids(dlq_ids)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted, Some(2));
    let retried = client
        .api()
        .retry_dlq_messages()
        .message_id(ids[2].clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried.responses.len(), 1);
    // The retried message fails again (`/fail`), with the same settings, and
    // is then the only one in the DLQ.
    let new_id = retried.responses[0].message_id.clone().unwrap();
    endpoint.next().await;
    reached(&server, &new_id, Failed).await;
    let left = client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .unwrap()
        .into_inner();
    let left: Vec<_> = left
        .messages
        .iter()
        .map(|m| m.message_id.as_deref())
        .collect();
    assert_eq!(left, [Some(&*new_id)]);
}
