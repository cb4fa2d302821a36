//! Messages: sending them (publish, enqueue, batch) and looking after them
//! once sent (get, cancel).

use crate::Client;

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
