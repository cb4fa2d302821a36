//! Typed async client for [Upstash QStash](https://upstash.com/docs/qstash).
