//! Typed async client for [Upstash QStash](https://upstash.com/docs/qstash).

pub mod receiver;

pub use receiver::{Claims, Delivery, Receiver, RequestVerifier, Signer, VerifyError};
