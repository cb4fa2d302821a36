//! Schedules through `qstash::Client`, on a manual clock: firing once per
//! simulated minute, pausing, `CRON_TZ`, updating by id.

use std::time::Duration;

use qstash::dev_server::{DevClock, DevServer};
use qstash::messages::{Destination, Message};
use qstash::types::LogEntryState;

use crate::{Endpoint, reached, server};

const MINUTE: Duration = Duration::from_secs(60);
const DAY_MS: i64 = 86_400_000;

/// Publishes a message to `endpoint` and waits for its delivery: whatever
/// the scheduler was going to do at the current clock reading has been
/// done by then.
async fn settle(server: &DevServer, endpoint: &mut Endpoint) {
    let client = server.client().unwrap();
    let sent = client
        .messages()
        .publish(Message::new(Destination::url(format!("{}/sentinel", endpoint.url))).text("s"))
        .send()
        .await
        .unwrap();
    endpoint.next().await;
    reached(server, sent.message_ids()[0], LogEntryState::Delivered).await;
}

/// Log entries of messages `schedule_id` produced.
fn produced(server: &DevServer, schedule_id: &str, state: LogEntryState) -> usize {
    server
        .logs()
        .iter()
        .filter(|e| {
            e.schedule_id.as_deref() == Some(schedule_id) && e.state.as_ref() == Some(&state)
        })
        .count()
}

#[tokio::test]
async fn a_schedule_fires_once_per_simulated_minute() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let created = client
        .schedules()
        .create(
            "* * * * *",
            Message::new(Destination::url(format!("{}/tick", endpoint.url))).text("tick"),
        )
        .send()
        .await
        .unwrap();
    let id = created.schedule_id.expect("an id");
    let start = server.clock().now_ms();
    let n = 5;
    for _ in 0..n {
        server.clock().advance(MINUTE);
        let delivery = endpoint.next().await;
        assert_eq!(delivery.path, "/tick");
        assert_eq!(delivery.header("upstash-schedule-id"), id);
        assert!(delivery.verified.is_ok(), "{:?}", delivery.verified);
        reached(
            &server,
            delivery.header("upstash-message-id"),
            LogEntryState::Delivered,
        )
        .await;
    }
    assert_eq!(produced(&server, &id, LogEntryState::Delivered), n);
    assert_eq!(produced(&server, &id, LogEntryState::Created), n);
    let schedule = client.schedules().get(&id).send().await.unwrap();
    // The last firing was the last whole minute before the clock's reading.
    let now = i64::try_from(server.clock().now_ms()).unwrap();
    let last = schedule.last_schedule_time.expect("fired");
    assert_eq!(last % 60_000, 0);
    assert!(now - 60_000 < last && last <= now, "{last} vs {now}");
    assert_eq!(schedule.next_schedule_time, Some(last + 60_000));
    assert!(last > i64::try_from(start).unwrap());
    assert_eq!(schedule.last_schedule_states.len(), 1);
    assert_eq!(
        schedule
            .last_schedule_states
            .values()
            .next()
            .map(String::as_str),
        Some("DELIVERED")
    );
    // Its messages are in the logs under its id, through the API too.
    let logs = client
        .logs()
        .list()
        .filter(qstash::LogFilter::new().schedule_id(&id))
        .send()
        .await
        .unwrap();
    assert!(!logs.items.is_empty());
    assert!(
        logs.items
            .iter()
            .all(|e| e.schedule_id.as_deref() == Some(&*id))
    );
}

#[tokio::test]
async fn a_paused_schedule_does_not_fire_until_resumed() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut sentinel = Endpoint::start(&server).await;
    let id = client
        .schedules()
        .create(
            "* * * * *",
            Message::new(Destination::url(endpoint.url.clone())).text("x"),
        )
        .send()
        .await
        .unwrap()
        .schedule_id
        .unwrap();
    client.schedules().pause(&id).send().await.unwrap();
    server.clock().advance(3 * MINUTE);
    settle(&server, &mut sentinel).await;
    assert_eq!(produced(&server, &id, LogEntryState::Created), 0);
    let paused = client.schedules().get(&id).send().await.unwrap();
    assert!(paused.is_paused);
    assert_eq!(paused.last_schedule_time, None);

    client.schedules().resume(&id).send().await.unwrap();
    assert!(!client.schedules().get(&id).send().await.unwrap().is_paused);
    server.clock().advance(MINUTE);
    endpoint.next().await;
    settle(&server, &mut sentinel).await;
    // The ticks missed while paused are not owed.
    assert_eq!(produced(&server, &id, LogEntryState::Created), 1);
}

#[tokio::test]
async fn a_cron_tz_schedule_fires_at_the_right_utc_instant() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut sentinel = Endpoint::start(&server).await;
    // 09:30 in Kolkata (UTC+05:30, no daylight saving) is 04:00 UTC.
    let id = client
        .schedules()
        .create(
            "CRON_TZ=Asia/Kolkata 30 9 * * *",
            Message::new(Destination::url(endpoint.url.clone())).text("namaste"),
        )
        .send()
        .await
        .unwrap()
        .schedule_id
        .unwrap();
    let now = i64::try_from(server.clock().now_ms()).unwrap();
    let next = client
        .schedules()
        .get(&id)
        .send()
        .await
        .unwrap()
        .next_schedule_time
        .expect("a next time");
    assert_eq!(next.rem_euclid(DAY_MS), 4 * 3_600_000);
    assert!(next > now && next - now <= DAY_MS, "{next} vs {now}");

    // One millisecond early: nothing.
    let early = u64::try_from(next - now - 1).unwrap();
    server.clock().advance(Duration::from_millis(early));
    settle(&server, &mut sentinel).await;
    assert_eq!(produced(&server, &id, LogEntryState::Created), 0);
    // On the instant: fired, and logged at it.
    server.clock().advance(Duration::from_millis(1));
    endpoint.next().await;
    let created = server
        .logs()
        .into_iter()
        .find(|e| e.schedule_id.as_deref() == Some(&*id) && e.state == Some(LogEntryState::Created))
        .expect("a message");
    assert_eq!(created.time, Some(next));

    // A zone with daylight saving: noon in New York is 16:00 or 17:00 UTC.
    let ny = client
        .schedules()
        .create(
            "CRON_TZ=America/New_York 0 12 * * *",
            Message::new(Destination::url(endpoint.url.clone())),
        )
        .send()
        .await
        .unwrap()
        .schedule_id
        .unwrap();
    let ny_next = client
        .schedules()
        .get(&ny)
        .send()
        .await
        .unwrap()
        .next_schedule_time
        .unwrap();
    let hour = ny_next.rem_euclid(DAY_MS) / 3_600_000;
    assert!(hour == 16 || hour == 17, "{ny_next}: hour {hour}");
}

#[tokio::test]
async fn schedules_are_created_updated_by_id_listed_and_deleted() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let endpoint = Endpoint::start(&server).await;
    let to = |path: &str| Destination::url(format!("{}/{path}", endpoint.url));
    let first = client
        .schedules()
        .create("*/5 * * * *", Message::new(to("a")).text("one").retries(1))
        .schedule_id("nightly")
        .send()
        .await
        .unwrap();
    assert_eq!(first.schedule_id.as_deref(), Some("nightly"));
    let before = client.schedules().get("nightly").send().await.unwrap();
    assert_eq!(before.cron, "*/5 * * * *");
    assert_eq!(before.retries, Some(1));
    assert_eq!(before.body.as_deref(), Some("one"));
    // The same id again: an update, not a second schedule.
    client
        .schedules()
        .create("0 * * * *", Message::new(to("b")).text("two"))
        .schedule_id("nightly")
        .send()
        .await
        .unwrap();
    let after = client.schedules().get("nightly").send().await.unwrap();
    assert_eq!(after.cron, "0 * * * *");
    assert_eq!(after.destination, format!("{}/b", endpoint.url));
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(after.next_schedule_time.unwrap() % 3_600_000, 0);
    let other = client
        .schedules()
        .create("0 0 1 1 *", Message::new(to("c")))
        .send()
        .await
        .unwrap()
        .schedule_id
        .unwrap();
    assert!(other.starts_with("scd_"), "{other}");
    let mut listed: Vec<String> = client
        .schedules()
        .list()
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.schedule_id)
        .collect();
    listed.sort();
    let mut expected = vec!["nightly".to_owned(), other.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    client.schedules().delete("nightly").send().await.unwrap();
    let gone = client.schedules().get("nightly").send().await.unwrap_err();
    assert!(gone.to_string().contains("404"), "{gone}");
    assert_eq!(client.schedules().list().send().await.unwrap().len(), 1);
}
