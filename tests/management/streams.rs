//! Page streams: a walk over several pages, an empty page in the middle, an
//! error on page 3, dropping a stream early, refused input, and the cursor
//! to resume from.

use futures_util::{StreamExt, TryStreamExt};
use qstash::{DlqFilter, LogFilter};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::{Api, assert_invalid, error_reply};

fn log(id: &str) -> Value {
    json!({ "messageId": id, "state": "DELIVERED", "time": 1_732_286_400_000_u64 })
}

fn logs_page(ids: &[&str], cursor: Option<&str>) -> ResponseTemplate {
    let mut page = json!({ "logs": ids.iter().map(|id| log(id)).collect::<Vec<_>>() });
    if let Some(cursor) = cursor {
        page["cursor"] = cursor.into();
    }
    ResponseTemplate::new(200).set_body_json(page)
}

/// Serves log pages: `pages[i]` answers the request with cursor `c{i}` (the
/// first page: no cursor).
async fn logs_server(pages: Vec<ResponseTemplate>) -> Api {
    let api = Api::empty().await;
    for (index, page) in pages.into_iter().enumerate() {
        let mock = Mock::given(method("GET")).and(path("/v2/logs"));
        let mock = if index == 0 {
            mock.and(query_param_is_missing("cursor"))
        } else {
            mock.and(query_param("cursor", format!("c{index}")))
        };
        mock.respond_with(page).mount(&api.server).await;
    }
    api
}

async fn cursors_sent(api: &Api) -> Vec<Option<String>> {
    api.requests()
        .await
        .iter()
        .map(|request| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

fn ids(entries: &[qstash::types::LogEntry]) -> Vec<&str> {
    entries
        .iter()
        .map(|entry| entry.message_id.as_deref().expect("message id"))
        .collect()
}

#[tokio::test]
async fn a_walk_reads_every_page_in_order_and_stops_without_a_cursor() {
    let api = logs_server(vec![
        logs_page(&["m1", "m2"], Some("c1")),
        logs_page(&["m3", "m4"], Some("c2")),
        logs_page(&["m5"], None),
    ])
    .await;

    let entries: Vec<_> = api
        .client
        .logs()
        .list()
        .filter(LogFilter::new().label("billing"))
        .count(2)
        .stream()
        .try_collect()
        .await
        .expect("every page arrives");

    assert_eq!(ids(&entries), ["m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(
        cursors_sent(&api).await,
        [None, Some("c1".into()), Some("c2".into())]
    );
    // The filter and page size go with every page, not just the first.
    for request in api.requests().await {
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        assert!(
            pairs.contains(&("label".into(), "billing".into())),
            "{pairs:?}"
        );
        assert!(pairs.contains(&("count".into(), "2".into())), "{pairs:?}");
    }
}

/// A page can come back empty with a cursor while later pages still match
/// (a filtered list); only a missing cursor ends the walk.
#[tokio::test]
async fn an_empty_page_with_a_cursor_does_not_end_the_walk() {
    let api = logs_server(vec![
        logs_page(&["m1"], Some("c1")),
        logs_page(&[], Some("c2")),
        logs_page(&[], Some("c3")),
        logs_page(&["m2", "m3"], None),
    ])
    .await;

    let entries: Vec<_> = api
        .client
        .logs()
        .list()
        .stream()
        .try_collect()
        .await
        .expect("every page arrives");
    assert_eq!(ids(&entries), ["m1", "m2", "m3"]);
    assert_eq!(api.requests().await.len(), 4);
}

/// An empty cursor would ask for the first page again, forever: it ends
/// the list like a missing one.
#[tokio::test]
async fn an_empty_cursor_ends_the_walk() {
    let api = logs_server(vec![logs_page(&["m1"], Some(""))]).await;
    let entries: Vec<_> = api
        .client
        .logs()
        .list()
        .stream()
        .try_collect()
        .await
        .expect("the page arrives");
    assert_eq!(ids(&entries), ["m1"]);
    assert_eq!(api.requests().await.len(), 1);
}

/// Page 3 fails: the items of pages 1 and 2 come out, then the error as an
/// item, then the stream ends without asking for more; its cursor says
/// where to resume, and resuming there reads the rest.
#[tokio::test]
async fn an_error_on_page_3_is_an_item_then_the_stream_ends() {
    let api = logs_server(vec![
        logs_page(&["m1", "m2"], Some("c1")),
        logs_page(&["m3"], Some("c2")),
        error_reply(500, "logs are having a moment"),
    ])
    .await;

    let mut stream = api.client.logs().list().stream();
    let mut seen = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(entry)) => seen.push(entry.message_id.expect("message id")),
            Some(Err(error)) => break error,
            None => panic!("the stream ended without the error; saw {seen:?}"),
        }
    };
    assert_eq!(seen, ["m1", "m2", "m3"]);
    match &error {
        qstash::Error::Api { status, message } => {
            assert_eq!(status.as_u16(), 500);
            assert_eq!(message, "logs are having a moment");
        }
        other => panic!("expected the 500, got {other:?}"),
    }
    assert!(
        stream.next().await.is_none(),
        "the stream ends after an error"
    );
    assert!(stream.next().await.is_none(), "and stays ended");
    assert_eq!(stream.cursor(), Some("c2"), "resume where page 3 starts");
    let page_3_requests = cursors_sent(&api)
        .await
        .into_iter()
        .filter(|cursor| cursor.as_deref() == Some("c2"))
        .count();
    assert!(page_3_requests >= 1);
    assert!(
        cursors_sent(&api)
            .await
            .iter()
            .all(|cursor| cursor.as_deref() != Some("c3")),
        "nothing past the failed page was asked for"
    );

    // Resuming from the stream's cursor, once page 3 works again.
    api.server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/logs"))
        .and(query_param("cursor", "c2"))
        .respond_with(logs_page(&["m4"], None))
        .mount(&api.server)
        .await;
    let rest: Vec<_> = api
        .client
        .logs()
        .list()
        .cursor(stream.cursor().expect("a cursor"))
        .stream()
        .try_collect()
        .await
        .expect("page 3 arrives");
    assert_eq!(ids(&rest), ["m4"]);
}

/// Pages are fetched only when their items are wanted: taking 3 items of
/// 2-item pages asks for 2 pages, and dropping the stream asks for nothing
/// more.
#[tokio::test]
async fn dropping_a_stream_early_fetches_no_further_page() {
    let api = logs_server(vec![
        logs_page(&["m1", "m2"], Some("c1")),
        logs_page(&["m3", "m4"], Some("c2")),
        logs_page(&["m5", "m6"], Some("c3")),
        logs_page(&["m7"], None),
    ])
    .await;

    let mut stream = api.client.logs().list().stream();
    assert_eq!(
        api.requests().await.len(),
        0,
        "nothing before the first poll"
    );
    let first: Vec<_> = stream
        .by_ref()
        .take(3)
        .try_collect()
        .await
        .expect("pages arrive");
    assert_eq!(ids(&first), ["m1", "m2", "m3"]);
    assert_eq!(
        stream.buffered_len(),
        1,
        "m4 is held, from the page already read"
    );
    assert_eq!(stream.cursor(), Some("c1"), "page 2 is not fully read");
    drop(stream);
    assert_eq!(cursors_sent(&api).await, [None, Some("c1".into())]);
}

/// The DLQ list streams the same way, with its own filter on every page.
#[tokio::test]
async fn the_dlq_streams_page_after_page() {
    let api = Api::empty().await;
    let message = |id: &str| json!({ "messageId": id, "dlqId": format!("dlq-{id}") });
    Mock::given(method("GET"))
        .and(path("/v2/dlq"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "messages": [message("m1")], "cursor": "d1" })),
        )
        .mount(&api.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/dlq"))
        .and(query_param("cursor", "d1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "messages": [message("m2")] })),
        )
        .mount(&api.server)
        .await;

    let messages: Vec<_> = api
        .client
        .dlq()
        .list()
        .filter(DlqFilter::new().response_status(500).response_status(502))
        .stream()
        .try_collect()
        .await
        .expect("both pages arrive");
    let dlq_ids: Vec<_> = messages
        .iter()
        .map(|m| m.dlq_id.as_deref().expect("dlq id"))
        .collect();
    assert_eq!(dlq_ids, ["dlq-m1", "dlq-m2"]);
    for request in api.requests().await {
        let statuses: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(k, _)| k == "responseStatus")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(statuses, ["500", "502"]);
    }
}

/// Input refused before sending comes out as the stream's one item, and
/// nothing is sent.
#[tokio::test]
async fn refused_input_is_the_one_item_of_the_stream() {
    let api = Api::replying(logs_page(&["m1"], None)).await;
    let mut stream = api.client.logs().list().count(101).stream();
    assert_invalid(stream.next().await.expect("one item").map(|_| ()), "count");
    assert!(stream.next().await.is_none());

    let mut stream = api
        .client
        .dlq()
        .list()
        .filter(DlqFilter::new().label(""))
        .stream();
    assert_invalid(stream.next().await.expect("one item").map(|_| ()), "label");
    assert!(stream.next().await.is_none());
    assert_eq!(api.requests().await.len(), 0);
}

/// A server that answers a cursor with the same cursor would keep the walk
/// going forever: the stream stops with an error instead.
#[tokio::test]
async fn a_cursor_that_does_not_move_ends_the_walk_with_an_error() {
    let api = logs_server(vec![
        logs_page(&["m1"], Some("c1")),
        logs_page(&["m2"], Some("c1")),
    ])
    .await;
    let mut stream = api.client.logs().list().stream();
    let mut seen = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(entry)) => seen.push(entry.message_id.expect("message id")),
            Some(Err(error)) => break error,
            None => panic!("the stream ended without an error; saw {seen:?}"),
        }
    };
    // The stuck page's own items still come out; then the error, then the end.
    assert_eq!(seen, ["m1", "m2"]);
    match error {
        qstash::Error::Decode { reason, .. } => assert!(reason.contains("cursor"), "{reason}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(stream.next().await.is_none());
    assert_eq!(stream.cursor(), Some("c1"));
    assert_eq!(api.requests().await.len(), 2);
}

/// Streams own what they need (a clone of the client): they can outlive
/// the builder and move to another task.
#[tokio::test]
async fn a_stream_is_send_and_static() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let api = logs_server(vec![logs_page(&["m1"], None)]).await;
    let stream = api.client.logs().list().stream();
    assert_send_static(&stream);
    let entries: Vec<_> = tokio::spawn(stream.try_collect::<Vec<_>>())
        .await
        .expect("the task runs")
        .expect("the page arrives");
    assert_eq!(ids(&entries), ["m1"]);
}

/// Every page goes through the client's request hook: in query-parameter
/// auth mode each page carries the token next to its cursor.
#[tokio::test]
async fn every_page_is_authenticated() {
    let api = logs_server(vec![
        logs_page(&["m1"], Some("c1")),
        logs_page(&["m2"], None),
    ])
    .await;
    let client = qstash::Client::builder()
        .token("query-token")
        .auth_mode(qstash::AuthMode::QueryParameter)
        .base_url(api.server.uri())
        .build()
        .expect("client");
    let entries: Vec<_> = client
        .logs()
        .list()
        .stream()
        .try_collect()
        .await
        .expect("both pages arrive");
    assert_eq!(ids(&entries), ["m1", "m2"]);
    let requests = api.requests().await;
    assert_eq!(requests.len(), 2);
    for request in requests {
        let tokens: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(k, _)| k == qstash::TOKEN_QUERY_PARAMETER)
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(tokens, ["query-token"], "{}", request.url);
        assert!(request.headers.get("authorization").is_none());
    }
}

/// The client's retry policy applies to each page: a page whose first
/// answer is a 503 is asked again, and the walk goes on.
#[tokio::test]
async fn a_page_that_fails_once_is_retried_and_the_walk_goes_on() {
    let api = Api::empty().await;
    Mock::given(method("GET"))
        .and(path("/v2/logs"))
        .and(query_param("cursor", "c1"))
        .respond_with(error_reply(503, "try again"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&api.server)
        .await;
    for (cursor, page) in [
        (None, logs_page(&["m1"], Some("c1"))),
        (Some("c1"), logs_page(&["m2"], None)),
    ] {
        let mock = Mock::given(method("GET")).and(path("/v2/logs"));
        let mock = match cursor {
            None => mock.and(query_param_is_missing("cursor")),
            Some(cursor) => mock.and(query_param("cursor", cursor)),
        };
        mock.respond_with(page).mount(&api.server).await;
    }

    let ids: Vec<String> = api
        .client
        .logs()
        .list()
        .stream()
        .map_ok(|entry| entry.message_id.expect("message id"))
        .try_collect()
        .await
        .expect("the 503 is retried");
    assert_eq!(ids, ["m1", "m2"]);
    let cursors = cursors_sent(&api).await;
    assert_eq!(cursors, [None, Some("c1".into()), Some("c1".into())]);
}
