//! `client.logs().list()`: one page, every filter on the wire.

use qstash::{LogFilter, LogState};

use crate::{Api, assert_invalid, assert_request, at_ms, fixture_reply};

#[tokio::test]
async fn list_sends_cursor_count_and_every_filter() {
    let api = Api::replying(fixture_reply(200, "list_logs")).await;
    let page = api
        .client
        .logs()
        .list()
        .filter(
            LogFilter::new()
                .message_id("msg_1")
                .state(LogState::CancelRequested)
                .url("https://example.com/api")
                .url_group("my-group")
                .queue_name("my-queue")
                .schedule_id("scd_1")
                .label("billing")
                .label("eu")
                .from_date(at_ms(1_732_200_000_000))
                .to_date(at_ms(1_732_286_400_000)),
        )
        .cursor("1732286399000")
        .count(50)
        .send()
        .await
        .expect("list succeeds");

    assert_request(
        &api.request().await,
        "GET",
        "/v2/logs",
        &[
            ("messageId", "msg_1"),
            ("state", "CANCEL_REQUESTED"),
            ("url", "https://example.com/api"),
            ("topicName", "my-group"),
            ("queueName", "my-queue"),
            ("scheduleId", "scd_1"),
            ("label", "billing"),
            ("label", "eu"),
            ("fromDate", "1732200000000"),
            ("toDate", "1732286400000"),
            ("cursor", "1732286399000"),
            ("count", "50"),
        ],
        None,
    );
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.cursor.as_deref(), Some("1732286399000"));
    assert_eq!(page.items[1].response_status, Some(500));
}

#[tokio::test]
async fn an_unfiltered_list_sends_no_query() {
    let api = Api::replying(fixture_reply(200, "list_logs")).await;
    api.client
        .logs()
        .list()
        .send()
        .await
        .expect("list succeeds");
    assert_request(&api.request().await, "GET", "/v2/logs", &[], None);
}

/// Every state goes out under the name QStash uses, including FAILED (which
/// the spec's filter enum leaves out; see the `logs-state-failed`
/// correction) and IN_PROGRESS (a filter-only state).
#[tokio::test]
async fn every_state_goes_out_by_its_qstash_name() {
    let states = [
        (LogState::Created, "CREATED"),
        (LogState::Active, "ACTIVE"),
        (LogState::Retry, "RETRY"),
        (LogState::Error, "ERROR"),
        (LogState::InProgress, "IN_PROGRESS"),
        (LogState::Delivered, "DELIVERED"),
        (LogState::Failed, "FAILED"),
        (LogState::CancelRequested, "CANCEL_REQUESTED"),
        (LogState::Cancelled, "CANCELLED"),
    ];
    for (state, name) in states {
        assert_eq!(state.as_str(), name);
        let api = Api::replying(fixture_reply(200, "list_logs")).await;
        api.client
            .logs()
            .list()
            .filter(LogFilter::new().state(state))
            .send()
            .await
            .expect("list succeeds");
        assert_request(
            &api.request().await,
            "GET",
            "/v2/logs",
            &[("state", name)],
            None,
        );
    }
}

#[tokio::test]
async fn invalid_input_is_refused_before_sending() {
    let api = Api::replying(fixture_reply(200, "list_logs")).await;
    let logs = || api.client.logs().list();
    assert_invalid(logs().count(0).send().await, "count");
    assert_invalid(logs().count(101).send().await, "count");
    assert_invalid(logs().cursor("").send().await, "cursor");
    assert_invalid(
        logs().filter(LogFilter::new().message_id("")).send().await,
        "message_id",
    );
    assert_invalid(
        logs().filter(LogFilter::new().label("")).send().await,
        "label",
    );
    assert_invalid(
        logs()
            .filter(
                LogFilter::new()
                    .from_date(at_ms(2_000))
                    .to_date(at_ms(1_000)),
            )
            .send()
            .await,
        "to_date",
    );
    assert_invalid(
        logs()
            .filter(
                LogFilter::new()
                    .from_date(std::time::UNIX_EPOCH - std::time::Duration::from_millis(1)),
            )
            .send()
            .await,
        "from_date",
    );
    assert!(api.requests().await.is_empty(), "nothing was sent");
}

/// A sub-millisecond part is dropped: both bounds are inclusive, so `from`
/// still covers the instant it names.
#[tokio::test]
async fn time_bounds_go_out_as_whole_unix_milliseconds() {
    let api = Api::replying(fixture_reply(200, "list_logs")).await;
    let from = at_ms(1_732_200_000_000) + std::time::Duration::from_micros(999);
    api.client
        .logs()
        .list()
        .filter(LogFilter::new().from_date(from))
        .send()
        .await
        .expect("list succeeds");
    assert_request(
        &api.request().await,
        "GET",
        "/v2/logs",
        &[("fromDate", "1732200000000")],
        None,
    );
}
