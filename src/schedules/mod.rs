//! Schedules: messages QStash publishes on a cron expression.
//!
//! ```no_run
//! # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
//! use qstash::messages::{Destination, Message};
//!
//! let message = Message::new(Destination::url("https://example.com/api/report")).text("daily");
//! let created = client
//!     .schedules()
//!     .create("CRON_TZ=Europe/Berlin 0 6 * * *", message)
//!     .schedule_id("daily-report")
//!     .send()
//!     .await?;
//! client.schedules().pause("daily-report").send().await?;
//! # Ok(()) }
//! ```

mod cron;

// The dev server fires schedules with the same parser the client checks with.
#[cfg(feature = "dev-server")]
pub(crate) use cron::parse as parse_cron;

use crate::Client;
use crate::error::{Error, InvalidInput, send};
use crate::messages::{Message, Sending, check_name, render_message};
use crate::types;

/// The schedules area of a [`Client`], from [`Client::schedules`].
#[derive(Debug, Clone, Copy)]
pub struct Schedules<'a> {
    client: &'a Client,
}

impl Client {
    /// Creating, listing, pausing and deleting schedules.
    pub fn schedules(&self) -> Schedules<'_> {
        Schedules { client: self }
    }
}

impl<'a> Schedules<'a> {
    /// A schedule that publishes `message` whenever `cron` fires: five
    /// fields (minute hour day-of-month month day-of-week), optionally
    /// after `CRON_TZ=<zone> ` (e.g. `CRON_TZ=America/New_York */5 * * * *`);
    /// the finest resolution is one minute. The expression is checked before
    /// sending, by the parser the dev server runs schedules with (croner).
    /// Schedules have no not-before or deduplication (neither the spec nor
    /// the official SDKs give them one); setting them on `message` fails.
    pub fn create(self, cron: impl Into<String>, message: Message) -> CreateSchedule<'a> {
        CreateSchedule {
            client: self.client,
            cron: cron.into(),
            schedule_id: None,
            queue: None,
            message,
        }
    }

    /// One schedule, with its cron, message settings, and last and next run.
    pub fn get(self, schedule_id: impl Into<String>) -> GetSchedule<'a> {
        GetSchedule {
            client: self.client,
            schedule_id: schedule_id.into(),
        }
    }

    /// Stops a schedule from firing until [`resume`](Self::resume)d.
    pub fn pause(self, schedule_id: impl Into<String>) -> ScheduleCall<'a> {
        self.call(ScheduleAction::Pause, schedule_id)
    }

    /// Lets a paused schedule fire again.
    pub fn resume(self, schedule_id: impl Into<String>) -> ScheduleCall<'a> {
        self.call(ScheduleAction::Resume, schedule_id)
    }

    /// Deletes a schedule; messages it already published are not affected.
    pub fn delete(self, schedule_id: impl Into<String>) -> ScheduleCall<'a> {
        self.call(ScheduleAction::Delete, schedule_id)
    }

    /// Every schedule of the account.
    pub fn list(self) -> ListSchedules<'a> {
        ListSchedules {
            client: self.client,
        }
    }

    fn call(self, action: ScheduleAction, schedule_id: impl Into<String>) -> ScheduleCall<'a> {
        ScheduleCall {
            client: self.client,
            action,
            schedule_id: schedule_id.into(),
        }
    }
}

/// Creating a schedule, from [`Schedules::create`]; finish with
/// [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct CreateSchedule<'a> {
    client: &'a Client,
    cron: String,
    schedule_id: Option<String>,
    queue: Option<String>,
    message: Message,
}

impl CreateSchedule<'_> {
    /// Names the schedule yourself instead of letting QStash pick an id. If
    /// a schedule with this id exists, QStash replaces its settings: the
    /// way to update a schedule.
    pub fn schedule_id(mut self, id: impl Into<String>) -> Self {
        self.schedule_id = Some(id.into());
        self
    }

    /// Enqueues the schedule's messages to the queue `queue` instead of
    /// publishing them (`Upstash-Queue-Name`).
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Checks the cron expression and the message, then creates the
    /// schedule; answers with its id.
    pub async fn send(self) -> Result<types::CreateScheduleResponse, Error> {
        cron::check(&self.cron)?;
        if self.schedule_id.as_deref() == Some("") {
            return Err(InvalidInput::new("schedule_id", "is empty").into());
        }
        let (destination, headers, body) =
            render_message(self.message, Sending::Schedule)?.into_request();
        let api = self.client.api_with_headers(headers);
        let mut call = api
            .create_schedule()
            .destination(destination)
            .upstash_cron(self.cron)
            .body(body);
        if let Some(id) = self.schedule_id {
            call = call.upstash_schedule_id(id);
        }
        if let Some(queue) = self.queue {
            check_name("queue_name", "queue", &queue)?;
            call = call.upstash_queue_name(queue);
        }
        send(call.send()).await
    }
}

/// Listing schedules, from [`Schedules::list`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct ListSchedules<'a> {
    client: &'a Client,
}

impl ListSchedules<'_> {
    /// Sends the call.
    pub async fn send(self) -> Result<Vec<types::Schedule>, Error> {
        send(self.client.api().list_schedules().send()).await
    }
}

/// Getting one schedule, from [`Schedules::get`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct GetSchedule<'a> {
    client: &'a Client,
    schedule_id: String,
}

impl GetSchedule<'_> {
    /// Sends the call.
    pub async fn send(self) -> Result<types::Schedule, Error> {
        send(
            self.client
                .api()
                .get_schedule()
                .schedule_id(self.schedule_id)
                .send(),
        )
        .await
    }
}

#[derive(Debug, Clone, Copy)]
enum ScheduleAction {
    Pause,
    Resume,
    Delete,
}

/// Pausing, resuming or deleting a schedule, from [`Schedules::pause`],
/// [`resume`](Schedules::resume) or [`delete`](Schedules::delete); finish
/// with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct ScheduleCall<'a> {
    client: &'a Client,
    action: ScheduleAction,
    schedule_id: String,
}

impl ScheduleCall<'_> {
    /// Sends the call.
    pub async fn send(self) -> Result<(), Error> {
        let api = self.client.api();
        let id = self.schedule_id;
        match self.action {
            // The spec says POST; the official SDKs send PATCH.
            ScheduleAction::Pause => {
                send(api.pause_schedule().schedule_id(id).send_ignoring_answer()).await
            }
            ScheduleAction::Resume => {
                send(api.resume_schedule().schedule_id(id).send_ignoring_answer()).await
            }
            ScheduleAction::Delete => {
                send(api.delete_schedule().schedule_id(id).send_ignoring_answer()).await
            }
        }
    }
}
