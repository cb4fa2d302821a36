//! Signing keys: the current and next key QStash signs deliveries with
//! (see [`Receiver`](crate::Receiver) for verifying them).

use crate::api::types;
use crate::error::send;
use crate::{Client, Error};

/// The signing-keys area of a [`Client`], from [`Client::signing_keys`]
/// (the keys themselves are [`types::SigningKeys`]).
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    client: &'a Client,
}

impl Client {
    /// The keys QStash signs deliveries with: get or rotate them.
    pub fn signing_keys(&self) -> Keys<'_> {
        Keys { client: self }
    }
}

impl<'a> Keys<'a> {
    /// Gets the current and next signing keys (`GET /v2/keys`).
    pub fn get(self) -> GetSigningKeys<'a> {
        GetSigningKeys {
            client: self.client,
        }
    }

    /// Rotates the signing keys (`POST /v2/keys/rotate`): the next key
    /// becomes the current key and a fresh next key is made; answers with
    /// the new pair. Deliveries keep verifying without downtime as long as
    /// the receiver accepts both keys, but update your application to the
    /// new current and next keys after rotating.
    pub fn rotate(self) -> RotateSigningKeys<'a> {
        RotateSigningKeys {
            client: self.client,
        }
    }
}

/// Gets the signing keys; from [`Keys::get`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct GetSigningKeys<'a> {
    client: &'a Client,
}

impl GetSigningKeys<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::SigningKeys, Error> {
        send(self.client.api().get_signing_keys().send()).await
    }
}

/// Rotates the signing keys; from [`Keys::rotate`].
#[derive(Debug, Clone)]
#[must_use = "nothing is sent until `.send()`"]
pub struct RotateSigningKeys<'a> {
    client: &'a Client,
}

impl RotateSigningKeys<'_> {
    /// Sends the request.
    pub async fn send(self) -> Result<types::SigningKeys, Error> {
        send(self.client.api().rotate_signing_keys().send()).await
    }
}
