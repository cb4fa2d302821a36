//! Messages: sending them (publish, enqueue, batch) and looking after them
//! once sent (get, cancel).
//!
//! A [`Message`] holds the destination, the body and every delivery option;
//! the same value can be published, enqueued, batched or scheduled.
//!
//! ```no_run
//! # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
//! use std::time::Duration;
//! use qstash::messages::{Destination, Message};
//!
//! let message = Message::new(Destination::url("https://example.com/api/orders"))
//!     .json(&serde_json::json!({ "order": 42 }))
//!     .delay(Duration::from_secs(90));
//! let published = client.messages().publish(message).send().await?;
//! println!("{:?}", published.message_ids());
//! # Ok(()) }
//! ```

mod batch;
mod callback;
mod duration;
mod flow_control;
mod headers;
mod message;
mod provider;
pub(crate) mod retry_delay;

pub use batch::Batch;
pub use callback::Callback;
pub use flow_control::FlowControl;
pub use message::{Destination, Message};
pub use provider::{Llm, ProviderApi, Resend};

pub(crate) use headers::{Sending, render_message};
pub(crate) use message::{check_name, check_url};

use crate::Client;
use crate::error::{Error, send};
use crate::types;

pub mod manage;

/// The messages area of a [`Client`], from [`Client::messages`].
#[derive(Debug, Clone, Copy)]
pub struct Messages<'a> {
    client: &'a Client,
}

impl Client {
    /// Publishing, enqueueing and batching messages, and getting or
    /// cancelling them afterwards.
    pub fn messages(&self) -> Messages<'_> {
        Messages { client: self }
    }
}

impl<'a> Messages<'a> {
    /// Hands `message` to QStash for delivery (`POST /v2/publish`): QStash
    /// answers at once with the message id, then delivers with retries.
    #[inline]
    pub fn publish(self, message: Message) -> Publish<'a> {
        Publish {
            client: self.client,
            queue: None,
            message,
        }
    }

    /// Puts `message` on the queue `queue` (created with default
    /// parallelism if it does not exist): QStash delivers the queue's
    /// messages in order, as many at once as its parallelism allows.
    pub fn enqueue(self, queue: impl Into<String>, message: Message) -> Publish<'a> {
        Publish {
            client: self.client,
            queue: Some(queue.into()),
            message,
        }
    }

    /// Sends many messages in one request; see [`Batch`].
    pub fn batch(self) -> Batch<'a> {
        Batch::new(self.client)
    }
}

/// A publish or enqueue request, from [`Messages::publish`] or
/// [`Messages::enqueue`]; finish with [`send`](Self::send).
#[derive(Debug)]
#[must_use = "nothing is sent until `send().await`"]
pub struct Publish<'a> {
    client: &'a Client,
    queue: Option<String>,
    message: Message,
}

impl<'a> Publish<'a> {
    /// Checks the message and sends it. Nothing is sent if a check fails.
    pub fn send(self) -> impl Future<Output = Result<Published, Error>> + 'a {
        // Checked and rendered here, not in the future, which keeps only
        // what goes on the wire: publishes are often spawned or collected
        // by the thousand, and moving a future copies all of it.
        let Publish {
            client,
            queue,
            message,
        } = self;
        let sending = if queue.is_some() {
            Sending::Enqueue
        } else {
            Sending::Publish
        };
        let checked = render_message(message, sending).and_then(|rendered| {
            if let Some(queue) = &queue {
                check_name("queue_name", "queue", queue)?;
            }
            let (destination, headers, body) = rendered.into_request();
            Ok((client.api_with_headers(headers), destination, body))
        });
        async move {
            // The client is borrowed where it lies: a binding of its own
            // would take a second place in the future.
            let (api, destination, body) = match checked {
                Ok((ref api, destination, body)) => (api, destination, body),
                Err(invalid) => return Err(invalid.into()),
            };
            match queue {
                None => {
                    let call = api.publish_message().destination(destination).body(body);
                    send(call.send()).await.map(Published::from)
                }
                Some(queue) => {
                    let call = api
                        .enqueue_message()
                        .queue_name(queue)
                        .destination(destination)
                        .body(body);
                    send(call.send()).await.map(Published::from)
                }
            }
        }
    }
}

/// What QStash accepted for one message.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Published {
    /// Sent to a URL: its message id, and whether QStash dropped it as a
    /// duplicate of one accepted in the last 10 minutes.
    Url(types::PublishResponse),
    /// Sent to a URL group: one message per endpoint, each with its URL.
    UrlGroup(Vec<types::PublishToUrlGroupResponse>),
}

impl Published {
    /// The ids of the messages QStash created (one per URL-group endpoint).
    pub fn message_ids(&self) -> Vec<&str> {
        match self {
            Published::Url(response) => response.message_id.as_deref().into_iter().collect(),
            Published::UrlGroup(responses) => responses
                .iter()
                .filter_map(|r| r.message_id.as_deref())
                .collect(),
        }
    }

    /// Whether QStash dropped every message as a duplicate. With retries on
    /// (the default), a publish whose first answer was lost is sent again
    /// with the same deduplication id, and QStash then reports the first
    /// attempt's message as a duplicate: the message exists either way.
    pub fn deduplicated(&self) -> bool {
        match self {
            Published::Url(response) => response.deduplicated == Some(true),
            Published::UrlGroup(responses) => {
                !responses.is_empty() && responses.iter().all(|r| r.deduplicated == Some(true))
            }
        }
    }
}

impl From<types::PublishMessageResponse> for Published {
    fn from(response: types::PublishMessageResponse) -> Published {
        match response {
            types::PublishMessageResponse::PublishResponse(one) => Published::Url(one),
            types::PublishMessageResponse::UrlGroupList(many)
            | types::PublishMessageResponse::UrlGroupMessages { messages: many, .. } => {
                Published::UrlGroup(many)
            }
        }
    }
}

impl From<types::EnqueueMessageResponse> for Published {
    fn from(response: types::EnqueueMessageResponse) -> Published {
        match response {
            types::EnqueueMessageResponse::PublishResponse(one) => Published::Url(one),
            types::EnqueueMessageResponse::UrlGroupList(many)
            | types::EnqueueMessageResponse::UrlGroupMessages { messages: many, .. } => {
                Published::UrlGroup(many)
            }
        }
    }
}

impl From<types::BatchMessagesResponseItem> for Published {
    fn from(response: types::BatchMessagesResponseItem) -> Published {
        match response {
            types::BatchMessagesResponseItem::PublishResponse(one) => Published::Url(one),
            types::BatchMessagesResponseItem::UrlGroupList(many) => Published::UrlGroup(many),
        }
    }
}
