//! create_schedule, list_schedules, get_schedule, delete_schedule,
//! pause_schedule, resume_schedule.

use qstash::types::CreateScheduleUpstashMethod;

use crate::{
    Api, Expect, assert_error_response, assert_round_trip, empty_reply, error_reply, fixture_reply,
    unexpected_response_body,
};

const SCHEDULE_ID: &str = "scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ";

#[tokio::test]
async fn create_schedule_sends_every_option_as_its_header() {
    let api = Api::replying(fixture_reply(200, "create_schedule")).await;
    let created = api
        .client
        .api()
        .create_schedule()
        .destination("https://example.com/api")
        .upstash_cron("CRON_TZ=America/New_York */5 * * * *")
        .content_type("application/json")
        .upstash_method(CreateScheduleUpstashMethod::Put)
        .upstash_delay("10s")
        .upstash_retries(2)
        .upstash_retry_delay("1000 * (1 + retried)")
        .upstash_timeout("30s")
        .upstash_callback("https://example.com/cb")
        .upstash_failure_callback("https://example.com/fail")
        .upstash_label("nightly")
        .upstash_redact_fields("body")
        .upstash_schedule_id("my-schedule")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .expect("create succeeds")
        .into_inner();

    Expect::new("POST", "/v2/schedules/https://example.com/api")
        .raw_body(br#"{"a":1}"#, "application/json")
        .headers(&[
            ("Upstash-Cron", "CRON_TZ=America/New_York */5 * * * *"),
            ("Upstash-Method", "PUT"),
            ("Upstash-Delay", "10s"),
            ("Upstash-Retries", "2"),
            ("Upstash-Retry-Delay", "1000 * (1 + retried)"),
            ("Upstash-Timeout", "30s"),
            ("Upstash-Callback", "https://example.com/cb"),
            ("Upstash-Failure-Callback", "https://example.com/fail"),
            ("Upstash-Label", "nightly"),
            ("Upstash-Redact-Fields", "body"),
            ("Upstash-Schedule-Id", "my-schedule"),
        ])
        .assert(&api.request().await);
    assert_eq!(created.schedule_id.as_deref(), Some(SCHEDULE_ID));
    assert_round_trip(&created, "create_schedule");
}

#[tokio::test]
async fn create_schedule_keeps_the_destination_query_as_it_is() {
    let api = Api::replying(fixture_reply(200, "create_schedule")).await;
    api.client
        .api()
        .create_schedule()
        .destination("https://example.com/report?format=csv&tz=UTC")
        .upstash_cron("0 0 * * *")
        .body("")
        .send()
        .await
        .expect("create succeeds");

    Expect::new("POST", "/v2/schedules/https://example.com/report")
        .raw_query("format=csv&tz=UTC")
        .unlabelled_body(b"")
        .headers(&[("Upstash-Cron", "0 0 * * *")])
        .assert(&api.request().await);
}

#[tokio::test]
async fn create_schedule_to_a_url_group() {
    let api = Api::replying(fixture_reply(200, "create_schedule")).await;
    api.client
        .api()
        .create_schedule()
        .destination("my-group")
        .upstash_cron("*/5 * * * *")
        .content_type("text/plain")
        .body("tick")
        .send()
        .await
        .expect("create succeeds");

    Expect::new("POST", "/v2/schedules/my-group")
        .raw_body(b"tick", "text/plain")
        .headers(&[("Upstash-Cron", "*/5 * * * *")])
        .assert(&api.request().await);
}

#[tokio::test]
async fn create_schedule_decodes_documented_errors() {
    let api = Api::replying(error_reply(412, "schedule limit reached")).await;
    let result = api
        .client
        .api()
        .create_schedule()
        .destination("https://example.com/api")
        .upstash_cron("* * * * *")
        .body("")
        .send()
        .await;
    assert_error_response(result, 412, "schedule limit reached");
}

#[tokio::test]
async fn list_schedules_decodes_every_schedule() {
    let api = Api::replying(fixture_reply(200, "list_schedules")).await;
    let schedules = api
        .client
        .api()
        .list_schedules()
        .send()
        .await
        .expect("list succeeds")
        .into_inner();

    Expect::new("GET", "/v2/schedules").assert(&api.request().await);
    assert_eq!(schedules.len(), 2);
    assert_eq!(schedules[0].schedule_id, SCHEDULE_ID);
    assert_eq!(schedules[0].next_schedule_time, Some(1_732_286_100_000));
    assert_eq!(schedules[1].destination, "my-group");
    assert!(schedules[1].is_paused);
    assert_eq!(schedules[1].retries, Some(0));
    assert_round_trip(&schedules, "list_schedules");
}

#[tokio::test]
async fn get_schedule_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_schedule")).await;
    let schedule = api
        .client
        .api()
        .get_schedule()
        .schedule_id(SCHEDULE_ID)
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", &format!("/v2/schedules/{SCHEDULE_ID}")).assert(&api.request().await);
    assert_eq!(schedule.schedule_id, SCHEDULE_ID);
    assert_eq!(schedule.cron, "CRON_TZ=America/New_York */5 * * * *");
    assert_eq!(schedule.destination, "https://example.com/api");
    assert_eq!(schedule.created_at, 1_732_200_000_000);
    assert_eq!(schedule.method, "POST");
    assert!(!schedule.is_paused);
    assert_eq!(schedule.delay, Some(10));
    assert_eq!(schedule.caller_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(
        schedule.retry_delay_expression.as_deref(),
        Some("1000 * (1 + retried)")
    );
    assert_eq!(
        schedule.last_schedule_states["msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep"],
        "DELIVERED"
    );
    assert_round_trip(&schedule, "get_schedule");
}

#[tokio::test]
async fn get_schedule_decodes_not_found() {
    let api = Api::replying(error_reply(404, "schedule not found")).await;
    let result = api
        .client
        .api()
        .get_schedule()
        .schedule_id("scd_gone")
        .send()
        .await;
    assert_error_response(result, 404, "schedule not found");
}

/// The TS SDK's `Schedule` has `bodyBase64` and `queueName`, and qstash-py
/// reads `bodyBase64` (`parse_schedule_response`): a schedule with a binary
/// body, or one that enqueues, comes back with fields the spec lacks.
#[tokio::test]
async fn get_schedule_keeps_the_fields_the_sdks_read() {
    let mut sent = crate::fixture("get_schedule");
    sent["bodyBase64"] = "/wCAgQ==".into();
    sent["queueName"] = "my-queue".into();
    let api = Api::replying(wiremock::ResponseTemplate::new(200).set_body_json(&sent)).await;
    let schedule = api
        .client
        .api()
        .get_schedule()
        .schedule_id(SCHEDULE_ID)
        .send()
        .await
        .expect("get succeeds")
        .into_inner();
    let again = serde_json::to_value(&schedule).expect("serializes");
    let differences = crate::json_differences(&sent, &again);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[tokio::test]
async fn delete_schedule_accepts_204_without_a_body() {
    let api = Api::replying(empty_reply(204)).await;
    let response = api
        .client
        .api()
        .delete_schedule()
        .schedule_id(SCHEDULE_ID)
        .send_ignoring_answer()
        .await
        .expect("delete succeeds");
    Expect::new("DELETE", &format!("/v2/schedules/{SCHEDULE_ID}")).assert(&api.request().await);
    assert_eq!(response.status(), 204);
}

/// The spec declares no error response for delete, so a 404 is an
/// `UnexpectedResponse`; its body is still there to read.
#[tokio::test]
async fn delete_schedule_not_found_is_an_unexpected_response_with_its_body() {
    let api = Api::replying(error_reply(404, "schedule not found")).await;
    let result = api
        .client
        .api()
        .delete_schedule()
        .schedule_id("scd_gone")
        .send()
        .await;
    let body = unexpected_response_body(result, 404).await;
    assert_eq!(body, r#"{"error":"schedule not found"}"#);
}

/// Spec: POST. The official TS, Python and Go SDKs send PATCH (see
/// sdk_parity.rs); we follow the spec.
#[tokio::test]
async fn pause_schedule_posts_as_the_spec_says() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .pause_schedule()
        .schedule_id("my-schedule")
        .send_ignoring_answer()
        .await
        .expect("pause succeeds");
    Expect::new("POST", "/v2/schedules/my-schedule/pause").assert(&api.request().await);
}

/// Spec: POST; the SDKs send PATCH, as for pause.
#[tokio::test]
async fn resume_schedule_posts_as_the_spec_says() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .resume_schedule()
        .schedule_id("my-schedule")
        .send_ignoring_answer()
        .await
        .expect("resume succeeds");
    Expect::new("POST", "/v2/schedules/my-schedule/resume").assert(&api.request().await);
}
