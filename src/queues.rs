//! Queues: named, ordered lanes that messages are enqueued to and delivered
//! from with a set parallelism.
//!
//! For rate limiting, QStash recommends flow control
//! ([`Client::flow_control`]) over queues with parallelism above 1, which it
//! plans to deprecate; a queue with parallelism 1 delivers in order (FIFO).

use crate::api::types;
use crate::error::send;
use crate::messages::check_name;
use crate::tolerant::Int;
use crate::{Client, Error, InvalidInput};

/// The queues area of a [`Client`], from [`Client::queues`].
#[derive(Debug, Clone, Copy)]
pub struct Queues<'a> {
    client: &'a Client,
}

impl Client {
    /// Creating, listing, pausing, resuming and deleting queues.
    pub fn queues(&self) -> Queues<'_> {
        Queues { client: self }
    }
}

impl<'a> Queues<'a> {
    /// Creates a queue, or updates the one with this name
    /// (`POST /v2/queues`).
    ///
    /// QStash plans to deprecate parallelism above 1 for queues: use flow
    /// control for rate limiting. QStash answers 412 past the number of
    /// queues or the parallelism per queue your plan allows. Creating a
    /// queue may take up to a minute to take effect.
    pub fn upsert(self, queue_name: impl Into<String>) -> UpsertQueue<'a> {
        UpsertQueue {
            client: self.client,
            queue_name: queue_name.into(),
            parallelism: 1,
            paused: false,
        }
    }

    /// Lists every queue (`GET /v2/queues`).
    pub fn list(self) -> ListQueues<'a> {
        ListQueues {
            client: self.client,
        }
    }

    /// Gets one queue (`GET /v2/queues/{queueName}`); 404 if there is none.
    pub fn get(self, queue_name: impl Into<String>) -> GetQueue<'a> {
        GetQueue {
            client: self.client,
            queue_name: queue_name.into(),
        }
    }

    /// Deletes a queue (`DELETE /v2/queues/{queueName}`). QStash advises
    /// against deleting a queue during critical operations.
    pub fn delete(self, queue_name: impl Into<String>) -> DeleteQueue<'a> {
        DeleteQueue {
            client: self.client,
            queue_name: queue_name.into(),
        }
    }

    /// Pauses a queue (`POST /v2/queues/{queueName}/pause`): it keeps
    /// accepting messages but delivers none until resumed. No effect on a
    /// paused queue. Resuming may take up to a minute, so QStash advises
    /// against pausing during critical operations.
    pub fn pause(self, queue_name: impl Into<String>) -> PauseQueue<'a> {
        PauseQueue {
            client: self.client,
            queue_name: queue_name.into(),
        }
    }

    /// Resumes a queue (`POST /v2/queues/{queueName}/resume`): delivery
    /// starts again with the earliest undelivered message. No effect on an
    /// active queue. It may take up to a minute.
    pub fn resume(self, queue_name: impl Into<String>) -> ResumeQueue<'a> {
        ResumeQueue {
            client: self.client,
            queue_name: queue_name.into(),
        }
    }
}

/// QStash's rule for queue names (it answers 400 otherwise): letters,
/// digits, hyphens, periods and underscores.
fn queue_name(name: &str) -> Result<String, InvalidInput> {
    check_name("queue_name", "queue", name).map(|()| name.to_string())
}

/// Creates or updates a queue; from [`Queues::upsert`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct UpsertQueue<'a> {
    client: &'a Client,
    queue_name: String,
    parallelism: u32,
    paused: bool,
}

impl UpsertQueue<'_> {
    /// How many messages of the queue QStash delivers at once, at least 1.
    /// Without it the upsert sets 1 (QStash's default), also on an existing
    /// queue.
    pub fn parallelism(mut self, parallelism: u32) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// Creates or leaves the queue paused: it accepts messages but delivers
    /// none until [resumed](Queues::resume). Without it the upsert sends
    /// `paused: false`, as the official SDKs do, which resumes a paused
    /// queue.
    pub fn paused(mut self, paused: bool) -> Self {
        self.paused = paused;
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let queue_name = queue_name(&self.queue_name)?;
        if self.parallelism == 0 {
            return Err(InvalidInput::new("parallelism", "is 0; QStash takes at least 1").into());
        }
        let (parallelism, paused) = (Int::from(self.parallelism), self.paused);
        let call = self.client.api().upsert_queue().body_map(|body| {
            body.queue_name(queue_name)
                .parallelism(parallelism)
                .paused(paused)
        });
        send(call.send_ignoring_answer()).await
    }
}

/// Lists queues; from [`Queues::list`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct ListQueues<'a> {
    client: &'a Client,
}

impl ListQueues<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<Vec<types::Queue>, Error> {
        send(self.client.api().list_queues().send()).await
    }
}

/// Gets one queue; from [`Queues::get`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct GetQueue<'a> {
    client: &'a Client,
    queue_name: String,
}

impl GetQueue<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::Queue, Error> {
        let name = queue_name(&self.queue_name)?;
        send(self.client.api().get_queue().queue_name(name).send()).await
    }
}

/// Deletes a queue; from [`Queues::delete`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct DeleteQueue<'a> {
    client: &'a Client,
    queue_name: String,
}

impl DeleteQueue<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let name = queue_name(&self.queue_name)?;
        send(
            self.client
                .api()
                .delete_queue()
                .queue_name(name)
                .send_ignoring_answer(),
        )
        .await
    }
}

/// Pauses a queue; from [`Queues::pause`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct PauseQueue<'a> {
    client: &'a Client,
    queue_name: String,
}

impl PauseQueue<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let name = queue_name(&self.queue_name)?;
        send(
            self.client
                .api()
                .pause_queue()
                .queue_name(name)
                .send_ignoring_answer(),
        )
        .await
    }
}

/// Resumes a queue; from [`Queues::resume`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct ResumeQueue<'a> {
    client: &'a Client,
    queue_name: String,
}

impl ResumeQueue<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let name = queue_name(&self.queue_name)?;
        send(
            self.client
                .api()
                .resume_queue()
                .queue_name(name)
                .send_ignoring_answer(),
        )
        .await
    }
}
