//! Many messages in one request.

use std::collections::HashMap;

use super::Published;
use super::headers::{Rendered, Sending, render_message};
use super::message::{Message, check_name};
use crate::Client;
use crate::error::{Error, InvalidInput, send};
use crate::tolerant::build;
use crate::types::{self, BatchMessagesBodyItem};

/// Several messages sent in one request (`POST /v2/batch`), each published
/// or enqueued, with all of [`Message`]'s options. The answer has one entry
/// per message, in the order added.
///
/// ```no_run
/// # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
/// use qstash::messages::{Destination, Message};
///
/// let results = client
///     .messages()
///     .batch()
///     .publish(Message::new(Destination::url("https://example.com/a")).text("a"))
///     .enqueue("emails", Message::new(Destination::url("https://example.com/b")).text("b"))
///     .send()
///     .await?;
/// assert_eq!(results.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct Batch<'a> {
    client: &'a Client,
    entries: Vec<(Option<String>, Message)>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(client: &'a Client) -> Batch<'a> {
        Batch {
            client,
            entries: Vec::new(),
        }
    }

    /// Adds a message to publish.
    pub fn publish(mut self, message: Message) -> Batch<'a> {
        self.entries.push((None, message));
        self
    }

    /// Adds a message to put on the queue `queue`.
    pub fn enqueue(mut self, queue: impl Into<String>, message: Message) -> Batch<'a> {
        self.entries.push((Some(queue.into()), message));
        self
    }

    /// Checks every message and sends them all, or nothing if a check fails.
    /// An empty batch is refused. The answer lists, in order, what QStash
    /// accepted for each message.
    pub async fn send(self) -> Result<Vec<Published>, Error> {
        if self.entries.is_empty() {
            return Err(InvalidInput::new("batch", "has no messages").into());
        }
        let count = self.entries.len();
        let body = self
            .entries
            .into_iter()
            .enumerate()
            .map(|(index, (queue, message))| entry(index, queue, message))
            .collect::<Result<Vec<_>, _>>()?;
        let answer = send(self.client.api().batch_messages().body(body).send()).await?;
        if answer.len() != count {
            return Err(Error::Decode {
                reason: format!(
                    "sent {count} messages but QStash answered for {}",
                    answer.len()
                ),
                snippet: String::new(),
            });
        }
        Ok(answer.into_iter().map(Published::from).collect())
    }
}

fn entry(
    index: usize,
    queue: Option<String>,
    message: Message,
) -> Result<BatchMessagesBodyItem, InvalidInput> {
    let in_entry = |error: InvalidInput| {
        InvalidInput::new(
            format!("batch[{index}].{}", error.field()),
            error.reason().to_string(),
        )
    };
    let sending = if queue.is_some() {
        Sending::Enqueue
    } else {
        Sending::Batch
    };
    if let Some(queue) = &queue {
        check_name("queue_name", "queue", queue).map_err(in_entry)?;
    }
    let Rendered {
        destination,
        content_type,
        headers,
        body,
    } = render_message(message, sending).map_err(in_entry)?;
    // Headers travel as a JSON object, so repeated names are joined the
    // way HTTP joins them.
    let mut map: HashMap<String, String> = HashMap::new();
    if let Some(content_type) = content_type {
        // Made from a `String`, so UTF-8.
        let text = String::from_utf8_lossy(content_type.as_bytes()).into_owned();
        map.insert("content-type".into(), text);
    }
    for (name, value) in &headers {
        let value = value.to_str().map_err(|_| {
            in_entry(InvalidInput::new(
                format!("header `{name}`"),
                "is not visible ASCII, which a batch cannot carry",
            ))
        })?;
        map.entry(name.as_str().to_string())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    let body = if body.is_empty() {
        None
    } else {
        Some(String::from_utf8(body).map_err(|_| {
            in_entry(InvalidInput::new(
                "body",
                "is not UTF-8; a batch carries bodies as JSON strings",
            ))
        })?)
    };
    let item = types::builder::BatchMessagesBodyItem::default()
        .body(body)
        .destination(destination)
        .headers(map)
        .queue(queue);
    build(format!("batch[{index}]"), item)
}
