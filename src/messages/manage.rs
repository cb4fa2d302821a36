//! Looking after messages once sent: get one, cancel one, cancel many
//! ([`Messages::get`], [`Messages::cancel`], [`Messages::cancel_by_ids`],
//! [`Messages::cancel_by_filter`], [`Messages::cancel_all`]).

use super::Messages;
use crate::api::types;
use crate::dlq::answer_count;
use crate::error::send;
use crate::filters::{self, MessageFilter};
use crate::tolerant::Int;
use crate::{Client, Error, InvalidInput};

/// The most messages one bulk cancel with a [`count`](CancelMessages::count)
/// may cancel.
pub const MAX_CANCEL_COUNT: u32 = 500;

impl<'a> Messages<'a> {
    /// Gets a message by id (`GET /v2/messages/{messageId}`).
    ///
    /// Messages are removed from QStash shortly after they are delivered, so
    /// a delivered message cannot be retrieved afterwards (404): this is for
    /// messages still being delivered or retried. The logs keep the history.
    pub fn get(self, message_id: impl Into<String>) -> GetMessage<'a> {
        GetMessage {
            client: self.client,
            message_id: message_id.into(),
        }
    }

    /// Cancels a pending message (`DELETE /v2/messages/{messageId}`): QStash
    /// removes it and will not deliver it. A message already in flight to
    /// your API may be too late to cancel. 404 if QStash does not have it.
    pub fn cancel(self, message_id: impl Into<String>) -> CancelMessage<'a> {
        CancelMessage {
            client: self.client,
            message_id: message_id.into(),
        }
    }

    /// Cancels these pending messages (`DELETE /v2/messages?messageIds=..`).
    /// An empty list sends nothing and cancels nothing.
    pub fn cancel_by_ids<I, S>(self, message_ids: I) -> CancelMessagesByIds<'a>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CancelMessagesByIds {
            client: self.client,
            message_ids: message_ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Cancels the pending messages matching `filter`
    /// (`DELETE /v2/messages?..`). A filter with nothing set is refused:
    /// [`cancel_all`](Self::cancel_all) says that on purpose.
    ///
    /// QStash goes through the matching messages and stops at the first it
    /// cannot cancel, answering with an error: some may then be left; send
    /// the same cancel again. Setting [`count`](CancelMessages::count) cancels
    /// in batches, as QStash recommends.
    pub fn cancel_by_filter(self, filter: MessageFilter) -> CancelMessages<'a> {
        CancelMessages {
            client: self.client,
            filter: Some(filter),
            count: None,
        }
    }

    /// Cancels every pending message (`DELETE /v2/messages` with no ids and
    /// no filter). QStash recommends cancelling in batches with
    /// [`count`](CancelMessages::count). Like
    /// [`cancel_by_filter`](Self::cancel_by_filter), it stops at the first
    /// message it cannot cancel.
    pub fn cancel_all(self) -> CancelMessages<'a> {
        CancelMessages {
            client: self.client,
            filter: None,
            count: None,
        }
    }
}

/// Gets one message; from [`Messages::get`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct GetMessage<'a> {
    client: &'a Client,
    message_id: String,
}

impl GetMessage<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::Message, Error> {
        let message_id = self.message_id;
        send(
            self.client
                .api()
                .get_message()
                .message_id(message_id)
                .send(),
        )
        .await
    }
}

/// Cancels one message; from [`Messages::cancel`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct CancelMessage<'a> {
    client: &'a Client,
    message_id: String,
}

impl CancelMessage<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let message_id = self.message_id;
        send(
            self.client
                .api()
                .cancel_message()
                .message_id(message_id)
                .send_ignoring_answer(),
        )
        .await
    }
}

/// Cancels messages by id; from [`Messages::cancel_by_ids`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct CancelMessagesByIds<'a> {
    client: &'a Client,
    message_ids: Vec<String>,
}

impl CancelMessagesByIds<'_> {
    /// Sends the request, unless the list is empty; returns how many
    /// messages QStash cancelled.
    pub async fn send(self) -> Result<u64, Error> {
        let message_ids = filters::ids("message_ids", self.message_ids)?;
        if message_ids.is_empty() {
            // No request: with no ids QStash would cancel every message.
            return Ok(0);
        }
        let answer = send(
            self.client
                .api()
                .cancel_messages()
                .message_ids(message_ids)
                .send(),
        )
        .await?;
        answer_count("cancelled", answer.cancelled)
    }
}

/// Cancels messages by filter, or all of them; from
/// [`Messages::cancel_by_filter`] and [`Messages::cancel_all`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct CancelMessages<'a> {
    client: &'a Client,
    /// `None`: everything, on purpose.
    filter: Option<MessageFilter>,
    count: Option<u32>,
}

impl CancelMessages<'_> {
    /// Cancel at most this many, 1 to [`MAX_CANCEL_COUNT`]; without it
    /// QStash cancels every match.
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Sends the request; returns how many messages QStash cancelled.
    pub async fn send(self) -> Result<u64, Error> {
        let count = match self.count {
            Some(count) if !(1..=MAX_CANCEL_COUNT).contains(&count) => {
                return Err(InvalidInput::new(
                    "count",
                    format!("is {count}; QStash takes 1 to {MAX_CANCEL_COUNT}"),
                )
                .into());
            }
            count => count.map(Int::from),
        };
        let all;
        let (client, query) = match &self.filter {
            Some(filter) if filter.is_empty() => {
                return Err(InvalidInput::new(
                    "filter",
                    "has nothing set, so it would cancel every message; use `cancel_all()` to mean that",
                )
                .into());
            }
            Some(filter) => (self.client, Some(filter.to_wire()?)),
            None => {
                // The hook refuses an unfiltered bulk cancel unless the
                // client says everything is meant; this call says so.
                all = self.client.allow_unfiltered_bulk();
                (&all, None)
            }
        };
        let mut call = client.api().cancel_messages();
        if let Some(query) = query {
            if !query.topic_name.is_empty() {
                call = call.topic_name(query.topic_name);
            }
            if !query.queue_name.is_empty() {
                call = call.queue_name(query.queue_name);
            }
            if !query.url.is_empty() {
                call = call.url(query.url);
            }
            if !query.host.is_empty() {
                call = call.host(query.host);
            }
            if !query.path.is_empty() {
                call = call.path(query.path);
            }
            if !query.label.is_empty() {
                call = call.label(query.label);
            }
            if !query.flow_control_key.is_empty() {
                call = call.flow_control_key(query.flow_control_key);
            }
            if !query.schedule_id.is_empty() {
                call = call.schedule_id(query.schedule_id);
            }
            if !query.caller_ip.is_empty() {
                call = call.caller_ip(query.caller_ip);
            }
            if let Some(from) = query.from_date {
                call = call.from_date(Int::from(from));
            }
            if let Some(to) = query.to_date {
                call = call.to_date(Int::from(to));
            }
        }
        if let Some(count) = count {
            call = call.count(count);
        }
        let answer = send(call.send()).await?;
        answer_count("cancelled", answer.cancelled)
    }
}
