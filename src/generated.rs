//! The client progenitor generates from `openapi/qstash.yaml` (see `build.rs`).
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
