//! The generated low-level API: every operation of `openapi/qstash.yaml` as a
//! progenitor request builder (see `build.rs`), reached through
//! [`Client::api`](crate::Client::api).
//!
//! The hand-written layer ([`Client`](crate::Client)'s own methods) covers
//! every operation with typed options and [`crate::Error`]; this module is
//! for what it does not, such as an operation a newer spec adds after you
//! regenerate. Its calls return progenitor's [`Error`], generic over the
//! operation's documented error body; [`crate::Error::from_api`] turns one
//! into the crate's error. They go through the same checks, auth, timeout
//! and retries as every call (see [`crate::retry`]).
//!
//! Doc comments come from the spec's descriptions: not every schema field
//! has one, and upstream Markdown is not always what rustdoc expects.
#![allow(
    missing_docs,
    rustdoc::all,
    clippy::all,
    unused_imports,
    unused_mut,
    dead_code
)]

include!(concat!(env!("OUT_DIR"), "/qstash_api.rs"));
