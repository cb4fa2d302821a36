//! Logs: what happened to each message, entry by entry (`GET /v2/logs`).

use crate::api::types;
use crate::error::send;
use crate::filters::{LogFilter, LogQuery};
use crate::pagination::{Page, Paginated};
use crate::tolerant::Int;
use crate::{Client, Error, InvalidInput};

/// The most log entries QStash returns in one page, and its default.
pub const MAX_LOGS_PER_PAGE: u32 = 100;

/// The logs area of a [`Client`], from [`Client::logs`].
#[derive(Debug, Clone, Copy)]
pub struct Logs<'a> {
    client: &'a Client,
}

impl Client {
    /// The logs of published messages: one entry per state a message went
    /// through (created, delivered, failed, ...).
    pub fn logs(&self) -> Logs<'_> {
        Logs { client: self }
    }
}

impl<'a> Logs<'a> {
    /// Lists log entries in the order QStash keeps them, a page at a time
    /// ([`send`](ListLogs::send)) or as a stream of every entry
    /// ([`stream`](ListLogs::stream)).
    pub fn list(self) -> ListLogs<'a> {
        ListLogs {
            client: self.client,
            filter: LogFilter::new(),
            cursor: None,
            count: None,
        }
    }
}

/// Lists log entries (`GET /v2/logs`); from [`Logs::list`].
///
/// A page may hold fewer entries than [`count`](Self::count), even none,
/// while its cursor says more pages follow; only a missing cursor ends the
/// list. The stream walks through such pages; a caller reading single
/// pages should go on while the page has a cursor.
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()` or `.stream()`"]
pub struct ListLogs<'a> {
    client: &'a Client,
    filter: LogFilter,
    cursor: Option<String>,
    count: Option<u32>,
}

impl ListLogs<'_> {
    /// Only entries matching this filter.
    pub fn filter(mut self, filter: LogFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Start at this cursor, from an earlier page's [`Page::cursor`] or
    /// [`Paginated::cursor`].
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// How many entries to read per page, 1 to [`MAX_LOGS_PER_PAGE`]
    /// (QStash's default is 100).
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    fn checked(&self) -> Result<(LogQuery, Option<Int>, Option<String>), Error> {
        let count = page_size("count", self.count, MAX_LOGS_PER_PAGE)?;
        let cursor = checked_cursor(&self.cursor)?;
        Ok((self.filter.to_wire()?, count, cursor))
    }

    /// Reads one page.
    pub async fn send(self) -> Result<Page<types::LogEntry>, Error> {
        let (query, count, cursor) = self.checked()?;
        fetch(self.client, &query, count, cursor).await
    }

    /// Every matching entry, page after page, fetched as it is read; see
    /// [`Paginated`]. Invalid input comes out as the stream's one item.
    pub fn stream(self) -> Paginated<types::LogEntry> {
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

async fn fetch(
    client: &Client,
    query: &LogQuery,
    count: Option<Int>,
    cursor: Option<String>,
) -> Result<Page<types::LogEntry>, Error> {
    let mut call = client.api().list_logs();
    if let Some(cursor) = cursor {
        call = call.cursor(cursor);
    }
    if let Some(count) = count {
        call = call.count(count);
    }
    if let Some(message_id) = &query.message_id {
        call = call.message_id(message_id.clone());
    }
    if let Some(state) = query.state {
        call = call.state(state.as_str());
    }
    if let Some(url) = &query.url {
        call = call.url(url.clone());
    }
    if let Some(topic_name) = &query.topic_name {
        call = call.topic_name(topic_name.clone());
    }
    if let Some(queue_name) = &query.queue_name {
        call = call.queue_name(queue_name.clone());
    }
    if let Some(schedule_id) = &query.schedule_id {
        call = call.schedule_id(schedule_id.clone());
    }
    if !query.labels.is_empty() {
        call = call.label(query.labels.clone());
    }
    if !query.caller_ip.is_empty() {
        call = call.caller_ip(query.caller_ip.clone());
    }
    if !query.flow_control_key.is_empty() {
        call = call.flow_control_key(query.flow_control_key.clone());
    }
    if !query.host.is_empty() {
        call = call.host(query.host.clone());
    }
    if !query.path.is_empty() {
        call = call.path(query.path.clone());
    }
    if let Some(from) = query.from_date {
        call = call.from_date(Int::from(from));
    }
    if let Some(to) = query.to_date {
        call = call.to_date(Int::from(to));
    }
    let page = send(call.send()).await?;
    Ok(Page::new(page.logs, page.cursor))
}

/// A page size within QStash's limits, or the field named as invalid.
pub(crate) fn page_size(
    field: &'static str,
    count: Option<u32>,
    max: u32,
) -> Result<Option<Int>, InvalidInput> {
    match count {
        None => Ok(None),
        Some(count) if (1..=max).contains(&count) => Ok(Some(count.into())),
        Some(count) => Err(InvalidInput::new(
            field,
            format!("is {count}; QStash takes 1 to {max}"),
        )),
    }
}

/// A caller's starting cursor: an empty one would silently start over at
/// the first page.
pub(crate) fn checked_cursor(cursor: &Option<String>) -> Result<Option<String>, InvalidInput> {
    match cursor.as_deref() {
        Some("") => Err(InvalidInput::new(
            "cursor",
            "is empty; leave it unset to start at the first page",
        )),
        other => Ok(other.map(str::to_string)),
    }
}
