//! Flow control: limits on how fast and how many at once QStash delivers
//! the messages that share a flow-control key, and the account-wide
//! parallelism.
//!
//! Each message published with a flow-control key carries that key's
//! configuration (parallelism, rate, period), and QStash follows the latest
//! one it received, unless a configuration is pinned here.

use std::time::Duration;

use crate::api::types;
use crate::error::send;
use crate::tolerant::Int;
use crate::{Client, Error, InvalidInput};

/// The flow-control area of a [`Client`], from [`Client::flow_control`].
#[derive(Debug, Clone, Copy)]
pub struct FlowControlKeys<'a> {
    client: &'a Client,
}

impl Client {
    /// Flow-control keys (list, get, pause, resume, pin, unpin, reset rate)
    /// and global parallelism.
    pub fn flow_control(&self) -> FlowControlKeys<'_> {
        FlowControlKeys { client: self }
    }
}

impl<'a> FlowControlKeys<'a> {
    /// Lists every flow-control key with its state (`GET /v2/flowControl`).
    pub fn list(self) -> ListFlowControlKeys<'a> {
        ListFlowControlKeys {
            client: self.client,
        }
    }

    /// Gets one flow-control key's state
    /// (`GET /v2/flowControl/{flowControlKey}`); 404 if there is none.
    pub fn get(self, flow_control_key: impl Into<String>) -> GetFlowControlKey<'a> {
        GetFlowControlKey {
            client: self.client,
            flow_control_key: flow_control_key.into(),
        }
    }

    /// Pauses delivery of the key's messages
    /// (`POST /v2/flowControl/{flowControlKey}/pause`) until it is resumed.
    /// Messages already waiting stay in the waitlist and new ones go
    /// straight to it. While paused, the current rate period keeps running
    /// and its rate count is kept.
    pub fn pause(self, flow_control_key: impl Into<String>) -> FlowControlKeyCall<'a> {
        self.call(Action::Pause, flow_control_key)
    }

    /// Resumes delivery of the key's messages
    /// (`POST /v2/flowControl/{flowControlKey}/resume`).
    pub fn resume(self, flow_control_key: impl Into<String>) -> FlowControlKeyCall<'a> {
        self.call(Action::Resume, flow_control_key)
    }

    /// Resets the key's rate state
    /// (`POST /v2/flowControl/{flowControlKey}/resetRate`): the current rate
    /// count is cleared and the current period ends now, so waiting messages
    /// go out without waiting for the period to expire; the new period starts
    /// at this moment.
    pub fn reset_rate(self, flow_control_key: impl Into<String>) -> FlowControlKeyCall<'a> {
        self.call(Action::ResetRate, flow_control_key)
    }

    /// Pins a configuration for the key
    /// (`POST /v2/flowControl/{flowControlKey}/pin`): until unpinned, QStash
    /// ignores the configurations incoming messages carry and uses this one,
    /// e.g. to clear a backlog faster or spare a struggling downstream
    /// service without changing code.
    ///
    /// Pinning resets the key's current state (rate count and period).
    pub fn pin(self, flow_control_key: impl Into<String>) -> PinFlowControlKey<'a> {
        PinFlowControlKey {
            client: self.client,
            flow_control_key: flow_control_key.into(),
            parallelism: None,
            rate: None,
            period: None,
        }
    }

    /// Removes a pinned configuration
    /// (`POST /v2/flowControl/{flowControlKey}/unpin`), for parallelism,
    /// rate or both: QStash goes back to following the configurations of
    /// incoming messages. Delivery keeps the last pinned configuration until
    /// a message with a different one arrives.
    pub fn unpin(self, flow_control_key: impl Into<String>) -> UnpinFlowControlKey<'a> {
        UnpinFlowControlKey {
            client: self.client,
            flow_control_key: flow_control_key.into(),
            parallelism: false,
            rate: false,
        }
    }

    /// The account's global parallelism: the configured maximum and how many
    /// messages are running at once across all flow-control keys now
    /// (`GET /v2/globalParallelism`).
    pub fn global_parallelism(self) -> GetGlobalParallelism<'a> {
        GetGlobalParallelism {
            client: self.client,
        }
    }

    fn call(self, action: Action, key: impl Into<String>) -> FlowControlKeyCall<'a> {
        FlowControlKeyCall {
            client: self.client,
            flow_control_key: key.into(),
            action,
        }
    }
}

/// Lists flow-control keys; from [`FlowControlKeys::list`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct ListFlowControlKeys<'a> {
    client: &'a Client,
}

impl ListFlowControlKeys<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<Vec<types::FlowControlKey>, Error> {
        send(self.client.api().list_flow_control_keys().send()).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pause,
    Resume,
    ResetRate,
}

/// Gets one flow-control key; from [`FlowControlKeys::get`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct GetFlowControlKey<'a> {
    client: &'a Client,
    flow_control_key: String,
}

impl GetFlowControlKey<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::FlowControlKey, Error> {
        let key = self.flow_control_key;
        send(
            self.client
                .api()
                .get_flow_control_key()
                .flow_control_key(key)
                .send(),
        )
        .await
    }
}

/// A change to one flow-control key without options; from
/// [`FlowControlKeys::pause`],
/// [`resume`](FlowControlKeys::resume) and
/// [`reset_rate`](FlowControlKeys::reset_rate).
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct FlowControlKeyCall<'a> {
    client: &'a Client,
    flow_control_key: String,
    action: Action,
}

impl FlowControlKeyCall<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let key = self.flow_control_key;
        let api = self.client.api();
        match self.action {
            Action::Pause => {
                let call = api.pause_flow_control_key().flow_control_key(key);
                send(call.send_ignoring_answer()).await
            }
            Action::Resume => {
                let call = api.resume_flow_control_key().flow_control_key(key);
                send(call.send_ignoring_answer()).await
            }
            Action::ResetRate => {
                let call = api.reset_flow_control_rate().flow_control_key(key);
                send(call.send_ignoring_answer()).await
            }
        }
    }
}

/// Pins a flow-control configuration; from [`FlowControlKeys::pin`]. At least
/// one of parallelism, rate and period must be set.
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct PinFlowControlKey<'a> {
    client: &'a Client,
    flow_control_key: String,
    parallelism: Option<u32>,
    rate: Option<u32>,
    period: Option<Duration>,
}

impl PinFlowControlKey<'_> {
    /// How many of the key's messages QStash delivers at once.
    pub fn parallelism(mut self, parallelism: u32) -> Self {
        self.parallelism = Some(parallelism);
        self
    }

    /// How many of the key's messages QStash delivers per period.
    pub fn rate(mut self, rate: u32) -> Self {
        self.rate = Some(rate);
        self
    }

    /// The period the rate counts over, in whole seconds (QStash takes
    /// seconds; anything finer is refused rather than rounded).
    pub fn period(mut self, period: Duration) -> Self {
        self.period = Some(period);
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let key = self.flow_control_key;
        if self.parallelism.is_none() && self.rate.is_none() && self.period.is_none() {
            return Err(InvalidInput::new(
                "pin",
                "sets none of parallelism, rate and period, so there is nothing to pin",
            )
            .into());
        }
        let mut call = self
            .client
            .api()
            .pin_flow_control_key()
            .flow_control_key(key);
        // As for a message's flow control, a limit of zero (no delivery at
        // all) is refused; pausing the key is the way to stop it.
        for (name, value) in [("parallelism", self.parallelism), ("rate", self.rate)] {
            if value == Some(0) {
                return Err(InvalidInput::new(
                    name,
                    "must be at least 1; to stop deliveries, pause the key",
                )
                .into());
            }
        }
        if let Some(parallelism) = self.parallelism {
            call = call.parallelism(Int::from(parallelism));
        }
        if let Some(rate) = self.rate {
            call = call.rate(Int::from(rate));
        }
        if let Some(period) = self.period {
            call = call.period(whole_seconds(period)?);
        }
        send(call.send_ignoring_answer()).await
    }
}

fn whole_seconds(period: Duration) -> Result<Int, InvalidInput> {
    if period.subsec_nanos() != 0 || period.is_zero() {
        return Err(InvalidInput::new(
            "period",
            format!("is {period:?}; QStash takes a whole number of seconds, at least 1"),
        ));
    }
    Ok(Int::from(period.as_secs()))
}

/// Removes a pinned configuration; from [`FlowControlKeys::unpin`]. At least one
/// of parallelism and rate must be chosen.
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct UnpinFlowControlKey<'a> {
    client: &'a Client,
    flow_control_key: String,
    parallelism: bool,
    rate: bool,
}

impl UnpinFlowControlKey<'_> {
    /// Whether to unpin the parallelism configuration.
    pub fn parallelism(mut self, unpin: bool) -> Self {
        self.parallelism = unpin;
        self
    }

    /// Whether to unpin the rate configuration.
    pub fn rate(mut self, unpin: bool) -> Self {
        self.rate = unpin;
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<(), Error> {
        let key = self.flow_control_key;
        if !self.parallelism && !self.rate {
            return Err(InvalidInput::new(
                "unpin",
                "chooses neither parallelism nor rate, so nothing would be unpinned",
            )
            .into());
        }
        let mut call = self
            .client
            .api()
            .unpin_flow_control_key()
            .flow_control_key(key);
        // Only what is unpinned goes on the wire; `false` is QStash's default.
        if self.parallelism {
            call = call.parallelism(true);
        }
        if self.rate {
            call = call.rate(true);
        }
        send(call.send_ignoring_answer()).await
    }
}

/// Gets the global parallelism; from [`FlowControlKeys::global_parallelism`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct GetGlobalParallelism<'a> {
    client: &'a Client,
}

impl GetGlobalParallelism<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::GetGlobalParallelismResponse, Error> {
        send(self.client.api().get_global_parallelism().send()).await
    }
}
