//! The dead-letter queue (DLQ): messages whose delivery failed after every
//! retry, kept so they can be inspected, retried or deleted.
//!
//! DLQ messages are addressed by their `dlqId` (not their message id), which
//! every listed entry carries.

use std::borrow::Cow;
use std::fmt::Display;

use crate::api::types;
use crate::error::send;
use crate::filters::{self, DlqFilter, DlqQuery};
use crate::logs::{checked_cursor, page_size};
use crate::pagination::{Page, Paginated};
use crate::tolerant::{Int, Ints};
use crate::{Client, Error, InvalidInput};

/// The most DLQ messages one list page or one bulk delete covers, and the
/// default.
pub const MAX_DLQ_PER_PAGE: u32 = 100;

/// The DLQ area of a [`Client`], from [`Client::dlq`].
#[derive(Debug, Clone, Copy)]
pub struct Dlq<'a> {
    client: &'a Client,
}

impl Client {
    /// The dead-letter queue: messages that could not be delivered.
    pub fn dlq(&self) -> Dlq<'_> {
        Dlq { client: self }
    }
}

impl<'a> Dlq<'a> {
    /// Lists the messages currently in the DLQ, a page at a time or as a
    /// stream (`GET /v2/dlq`).
    pub fn list(self) -> ListDlqMessages<'a> {
        ListDlqMessages {
            client: self.client,
            filter: DlqFilter::new(),
            cursor: None,
            count: None,
        }
    }

    /// Gets one message from the DLQ by its `dlqId` (`GET /v2/dlq/{dlqId}`).
    /// QStash answers 404 if the message is not in the DLQ, either because
    /// it was removed by you or automatically.
    pub fn get(self, dlq_id: impl Into<String>) -> GetDlqMessage<'a> {
        GetDlqMessage {
            client: self.client,
            dlq_id: dlq_id.into(),
        }
    }

    /// Removes one message from the DLQ (`DELETE /v2/dlq/{dlqId}`); 404 if
    /// it is not there.
    pub fn delete(self, dlq_id: impl Into<String>) -> DeleteDlqMessage<'a> {
        DeleteDlqMessage {
            client: self.client,
            dlq_id: dlq_id.into(),
        }
    }

    /// Removes these messages from the DLQ (`DELETE /v2/dlq?dlqIds=..`).
    /// An empty list sends nothing and deletes nothing.
    pub fn delete_by_ids<I, S>(self, dlq_ids: I) -> DeleteDlqMessagesByIds<'a>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DeleteDlqMessagesByIds {
            client: self.client,
            dlq_ids: dlq_ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Removes the DLQ messages matching `filter`, at most
    /// [`count`](DeleteDlqMessages::count) (default 100) per call
    /// (`DELETE /v2/dlq?..`). A filter with nothing set is refused: use
    /// [`delete_all`](Self::delete_all) for that.
    pub fn delete_by_filter(self, filter: DlqFilter) -> DeleteDlqMessages<'a> {
        DeleteDlqMessages {
            client: self.client,
            filter: Some(filter),
            cursor: None,
            count: None,
        }
    }

    /// Removes every message from the DLQ, at most
    /// [`count`](DeleteDlqMessages::count) (default 100) per call: QStash's
    /// bulk delete with no ids and no filter.
    pub fn delete_all(self) -> DeleteDlqMessages<'a> {
        DeleteDlqMessages {
            client: self.client,
            filter: None,
            cursor: None,
            count: None,
        }
    }

    /// Retries one DLQ message (`POST /v2/dlq/retry/{dlqId}`): QStash creates
    /// a new message with the same body and headers, schedules it for
    /// delivery, and removes the original from the DLQ. 404 if it is not in
    /// the DLQ.
    pub fn retry(self, dlq_id: impl Into<String>) -> RetryDlqMessage<'a> {
        RetryDlqMessage {
            client: self.client,
            dlq_id: dlq_id.into(),
        }
    }

    /// Retries these DLQ messages (`POST /v2/dlq/retry?dlqIds=..`), as
    /// [`retry`](Self::retry) does each. An empty list sends nothing and
    /// retries nothing. QStash answers 404 if some are not in the DLQ.
    pub fn retry_by_ids<I, S>(self, dlq_ids: I) -> RetryDlqMessagesByIds<'a>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RetryDlqMessagesByIds {
            client: self.client,
            dlq_ids: dlq_ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Retries the DLQ messages matching `filter` (`POST /v2/dlq/retry?..`).
    /// A filter with nothing set is refused: use
    /// [`retry_all`](Self::retry_all) for that.
    pub fn retry_by_filter(self, filter: DlqFilter) -> RetryDlqMessages<'a> {
        RetryDlqMessages {
            client: self.client,
            filter: Some(filter),
            count: None,
            cursor: None,
        }
    }

    /// Retries every message in the DLQ: QStash's bulk retry with no ids and
    /// no filter.
    pub fn retry_all(self) -> RetryDlqMessages<'a> {
        RetryDlqMessages {
            client: self.client,
            filter: None,
            count: None,
            cursor: None,
        }
    }
}

/// Lists DLQ messages (`GET /v2/dlq`); from [`Dlq::list`].
///
/// A page may hold fewer messages than [`count`](Self::count), even none,
/// while its cursor says more pages follow; only a missing cursor ends the
/// list. The stream walks through such pages.
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()` or `.stream()`"]
pub struct ListDlqMessages<'a> {
    client: &'a Client,
    filter: DlqFilter,
    cursor: Option<String>,
    count: Option<u32>,
}

impl ListDlqMessages<'_> {
    /// Only messages matching this filter. The spec's DLQ list has no
    /// flow-control key filter: a filter with one is refused.
    pub fn filter(mut self, filter: DlqFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Start at this cursor, from an earlier page's [`Page::cursor`] or
    /// [`Paginated::cursor`].
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// How many messages to read per page, 1 to [`MAX_DLQ_PER_PAGE`]
    /// (QStash's default is 100).
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    fn checked(&self) -> Result<(DlqQuery, Option<Int>, Option<String>), Error> {
        let query = self.filter.to_wire()?;
        let count = page_size("count", self.count, MAX_DLQ_PER_PAGE)?;
        Ok((query, count, checked_cursor(&self.cursor)?))
    }

    /// Reads one page.
    pub async fn send(self) -> Result<Page<types::DlqMessage>, Error> {
        let (query, count, cursor) = self.checked()?;
        fetch(self.client, &query, count, cursor).await
    }

    /// Every matching DLQ message, page after page, fetched as it is read;
    /// see [`Paginated`]. Invalid input comes out as the stream's one item.
    pub fn stream(self) -> Paginated<types::DlqMessage> {
        match self.checked() {
            Ok((query, count, start)) => {
                let client = self.client.clone();
                Paginated::new(start, move |cursor| {
                    let client = client.clone();
                    let query = query.clone();
                    async move { fetch(&client, &query, count, cursor).await }
                })
            }
            Err(error) => Paginated::refused(error),
        }
    }
}

/// Sets every filter of a checked [`DlqQuery`] on a generated DLQ builder
/// (list, bulk delete and bulk retry have the same setters).
macro_rules! with_dlq_query {
    ($call:expr, $query:expr) => {{
        let query: &DlqQuery = $query;
        let mut call = $call;
        if let Some(message_id) = &query.message_id {
            call = call.message_id(message_id.clone());
        }
        if !query.url.is_empty() {
            call = call.url(query.url.clone());
        }
        if !query.topic_name.is_empty() {
            call = call.topic_name(query.topic_name.clone());
        }
        if !query.schedule_id.is_empty() {
            call = call.schedule_id(query.schedule_id.clone());
        }
        if !query.queue_name.is_empty() {
            call = call.queue_name(query.queue_name.clone());
        }
        if !query.response_status.is_empty() {
            call = call.response_status(query.response_status.iter().copied().collect::<Ints>());
        }
        if !query.caller_ip.is_empty() {
            call = call.caller_ip(query.caller_ip.clone());
        }
        if !query.label.is_empty() {
            call = call.label(query.label.clone());
        }
        if !query.flow_control_key.is_empty() {
            call = call.flow_control_key(query.flow_control_key.clone());
        }
        if let Some(from) = query.from_date {
            call = call.from_date(Int::from(from));
        }
        if let Some(to) = query.to_date {
            call = call.to_date(Int::from(to));
        }
        call
    }};
}

async fn fetch(
    client: &Client,
    query: &DlqQuery,
    count: Option<Int>,
    cursor: Option<String>,
) -> Result<Page<types::DlqMessage>, Error> {
    let mut call = with_dlq_query!(client.api().list_dlq_messages(), query);
    if let Some(cursor) = cursor {
        call = call.cursor(cursor);
    }
    if let Some(count) = count {
        call = call.count(count);
    }
    let page = send(call.send()).await?;
    Ok(Page::new(page.messages, page.cursor))
}

/// Gets one DLQ message; from [`Dlq::get`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct GetDlqMessage<'a> {
    client: &'a Client,
    dlq_id: String,
}

impl GetDlqMessage<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::DlqMessage, Error> {
        let dlq_id = self.dlq_id;
        send(self.client.api().get_dlq_message().dlq_id(dlq_id).send()).await
    }
}

/// Removes one DLQ message; from [`Dlq::delete`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct DeleteDlqMessage<'a> {
    client: &'a Client,
    dlq_id: String,
}

impl DeleteDlqMessage<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let dlq_id = self.dlq_id;
        send(
            self.client
                .api()
                .delete_dlq_message()
                .dlq_id(dlq_id)
                .send_ignoring_answer(),
        )
        .await
    }
}

/// Removes DLQ messages by id; from [`Dlq::delete_by_ids`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct DeleteDlqMessagesByIds<'a> {
    client: &'a Client,
    dlq_ids: Vec<String>,
}

impl DeleteDlqMessagesByIds<'_> {
    /// Sends the request, unless the list is empty; returns how many
    /// messages QStash deleted.
    pub async fn send(self) -> Result<u64, Error> {
        let dlq_ids = filters::ids("dlq_ids", self.dlq_ids)?;
        if dlq_ids.is_empty() {
            // No request: with no ids QStash would delete the whole DLQ.
            return Ok(0);
        }
        let answer = send(
            self.client
                .api()
                .delete_dlq_messages()
                .dlq_ids(dlq_ids)
                .send(),
        )
        .await?;
        answer_count("deleted", answer.deleted)
    }
}

/// What a bulk DLQ delete by filter did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DlqDeleted {
    /// How many messages QStash deleted.
    pub deleted: u64,
    /// Where to go on: more messages may match; send the same delete again
    /// with [`cursor`](DeleteDlqMessages::cursor) set to this. `None` when
    /// QStash has gone through all of them.
    pub cursor: Option<String>,
}

/// Removes DLQ messages by filter, or all of them; from
/// [`Dlq::delete_by_filter`] and [`Dlq::delete_all`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct DeleteDlqMessages<'a> {
    client: &'a Client,
    /// `None`: everything, on purpose.
    filter: Option<DlqFilter>,
    cursor: Option<String>,
    count: Option<u32>,
}

impl DeleteDlqMessages<'_> {
    /// Go on where an earlier call's [`DlqDeleted::cursor`] left off.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Delete at most this many, 1 to [`MAX_DLQ_PER_PAGE`] (QStash's
    /// default is 100).
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<DlqDeleted, Error> {
        let count = page_size("count", self.count, MAX_DLQ_PER_PAGE)?;
        let cursor = checked_cursor(&self.cursor)?;
        let (client, query) = selection(self.client, self.filter.as_ref(), "delete_all")?;
        let mut call = client.api().delete_dlq_messages();
        if let Some(query) = &query {
            call = with_dlq_query!(call, query);
        }
        if let Some(cursor) = cursor {
            call = call.cursor(cursor);
        }
        if let Some(count) = count {
            call = call.count(count);
        }
        let answer = send(call.send()).await?;
        Ok(DlqDeleted {
            deleted: answer_count("deleted", answer.deleted)?,
            cursor: answer.cursor.filter(|cursor| !cursor.is_empty()),
        })
    }
}

/// Retries one DLQ message; from [`Dlq::retry`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct RetryDlqMessage<'a> {
    client: &'a Client,
    dlq_id: String,
}

impl RetryDlqMessage<'_> {
    /// Sends the request; returns the id of the new message.
    pub async fn send(self) -> Result<types::PublishResponse, Error> {
        let dlq_id = self.dlq_id;
        send(self.client.api().retry_dlq_message().dlq_id(dlq_id).send()).await
    }
}

/// Retries DLQ messages by id; from [`Dlq::retry_by_ids`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct RetryDlqMessagesByIds<'a> {
    client: &'a Client,
    dlq_ids: Vec<String>,
}

impl RetryDlqMessagesByIds<'_> {
    /// Sends the request, unless the list is empty; returns the new
    /// messages' ids.
    pub async fn send(self) -> Result<Vec<types::PublishResponse>, Error> {
        let dlq_ids = filters::ids("dlq_ids", self.dlq_ids)?;
        if dlq_ids.is_empty() {
            // No request: with no ids QStash would retry the whole DLQ.
            return Ok(Vec::new());
        }
        let answer = send(
            self.client
                .api()
                .retry_dlq_messages()
                .dlq_ids(dlq_ids)
                .send(),
        )
        .await?;
        Ok(answer.responses)
    }
}

/// What a bulk DLQ retry by filter did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DlqRetried {
    /// The new messages' ids, one per retried DLQ message.
    pub responses: Vec<types::PublishResponse>,
    /// The cursor QStash answered with: set when more messages may match;
    /// pass it to [`RetryDlqMessages::cursor`] to go on.
    pub cursor: Option<String>,
}

/// Retries DLQ messages by filter, or all of them; from
/// [`Dlq::retry_by_filter`] and [`Dlq::retry_all`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct RetryDlqMessages<'a> {
    client: &'a Client,
    /// `None`: everything, on purpose.
    filter: Option<DlqFilter>,
    count: Option<u32>,
    cursor: Option<String>,
}

impl RetryDlqMessages<'_> {
    /// Retries at most this many messages in this call, 1 to
    /// [`MAX_DLQ_PER_PAGE`] (QStash's default is 100).
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Goes on where an earlier call's [`DlqRetried::cursor`] stopped.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<DlqRetried, Error> {
        let (client, query) = selection(self.client, self.filter.as_ref(), "retry_all")?;
        let mut call = client.api().retry_dlq_messages();
        if let Some(query) = &query {
            call = with_dlq_query!(call, query);
        }
        if let Some(count) = page_size("count", self.count, MAX_DLQ_PER_PAGE)? {
            call = call.count(count);
        }
        if let Some(cursor) = checked_cursor(&self.cursor)? {
            call = call.cursor(cursor);
        }
        let answer = send(call.send()).await?;
        Ok(DlqRetried {
            responses: answer.responses,
            cursor: answer.cursor.filter(|cursor| !cursor.is_empty()),
        })
    }
}

/// The client and checked filter of a bulk call: a filter that selects
/// nothing is refused (it would act on everything), and "everything" goes
/// through a client that lets the hook's guard pass it.
fn selection<'c>(
    client: &'c Client,
    filter: Option<&DlqFilter>,
    everything: &str,
) -> Result<(Cow<'c, Client>, Option<DlqQuery>), Error> {
    match filter {
        Some(filter) if filter.is_empty() => Err(InvalidInput::new(
            "filter",
            format!("has nothing set, so it would act on every DLQ message; use `{everything}()` to mean that"),
        )
        .into()),
        Some(filter) => Ok((Cow::Borrowed(client), Some(filter.to_wire()?))),
        None => Ok((Cow::Owned(client.allow_unfiltered_bulk()), None)),
    }
}

/// A count QStash answered with, whatever integer type the spec gives it.
/// The spec makes it optional; a missing one is read as zero, since a
/// server that leaves out zero values would otherwise turn "nothing
/// matched" into an error.
pub(crate) fn answer_count<N>(field: &str, count: Option<N>) -> Result<u64, Error>
where
    N: TryInto<u64> + Display + Copy,
{
    let Some(count) = count else {
        return Ok(0);
    };
    count.try_into().map_err(|_| Error::Decode {
        reason: format!("`{field}` is not a count"),
        snippet: count.to_string(),
    })
}
