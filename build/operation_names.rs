//! One row per QStash operation: its stable Rust name, how safe it is to
//! send again, and whether it needs a guard.
//!
//! The upstream spec has no `operationId`s, so the method names of
//! `qstash::Client` come from this table. Renaming a row is a breaking change
//! of the crate's API. An operation missing here still generates under a name
//! derived from its method and path (see [`derived_name`]), with a build
//! warning asking for a row, so a newer spec never breaks the build; until it
//! has a row it is retried only if it is a `GET`, and has no guard.
//!
//! `build.rs` writes the table, for the operations the spec being built
//! has, into `$OUT_DIR/operations.rs`, which `src/operations.rs` includes:
//! the retry loop (`src/retry.rs`) and the request checks (`src/hooks.rs`)
//! read it there. A new operation is one row here.
//!
//! Names must not make `<Name>Response` or `<Name>Body` collide with a
//! component schema: progenitor would reuse that schema for the operation's
//! inline type. `publish` is the cautionary tale (`PublishResponse` exists), so
//! publishing is `publish_message`.

/// How safe an operation is to send again once it may have reached QStash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A read, or a call that sets state a second identical request leaves
    /// as the first left it (pause, upsert, delete, cancel, ...).
    Repeatable,
    /// Publishing: each call carries one `Upstash-Deduplication-Id` on every
    /// attempt, so QStash keeps one message however many attempts arrive.
    Deduplicated,
    /// Not to be sent twice once it may have arrived, unless the request
    /// carries the header named here (lower case), which makes a repeat
    /// harmless.
    Once { unless: Option<&'static str> },
}

/// What a request of the operation must carry before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Nothing beyond its path parameters.
    None,
    /// Ids or a filter: with neither, QStash applies it to every message, and
    /// an id list that came out empty serializes to exactly that request.
    AllWhenUnfiltered,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The HTTP method, in lower case.
    pub method: &'static str,
    /// The path, as in the spec.
    pub path: &'static str,
    /// The Rust name (the builder method of the generated client).
    pub name: &'static str,
    /// How safe it is to send again.
    pub retry: Retry,
    /// What a request must carry.
    pub guard: Guard,
}

impl Operation {
    const fn new(
        method: &'static str,
        path: &'static str,
        name: &'static str,
        retry: Retry,
    ) -> Self {
        Operation {
            method,
            path,
            name,
            retry,
            guard: Guard::None,
        }
    }

    const fn acts_on_all_when_unfiltered(mut self) -> Self {
        self.guard = Guard::AllWhenUnfiltered;
        self
    }
}

/// `Operation::new(method, path, name, retry)`, one line each.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    // Messages
    Operation::new("post", "/v2/publish/{destination}", "publish_message", Retry::Deduplicated),
    Operation::new("post", "/v2/enqueue/{queueName}/{destination}", "enqueue_message", Retry::Deduplicated),
    Operation::new("post", "/v2/batch", "batch_messages", Retry::Deduplicated),
    Operation::new("get", "/v2/messages/{messageId}", "get_message", Retry::Repeatable),
    Operation::new("delete", "/v2/messages/{messageId}", "cancel_message", Retry::Repeatable),
    Operation::new("delete", "/v2/messages", "cancel_messages", Retry::Repeatable).acts_on_all_when_unfiltered(),
    // Queues
    Operation::new("post", "/v2/queues", "upsert_queue", Retry::Repeatable),
    Operation::new("get", "/v2/queues", "list_queues", Retry::Repeatable),
    Operation::new("get", "/v2/queues/{queueName}", "get_queue", Retry::Repeatable),
    Operation::new("delete", "/v2/queues/{queueName}", "delete_queue", Retry::Repeatable),
    Operation::new("post", "/v2/queues/{queueName}/pause", "pause_queue", Retry::Repeatable),
    Operation::new("post", "/v2/queues/{queueName}/resume", "resume_queue", Retry::Repeatable),
    // Schedules
    // Each request without an id makes another schedule; with one, a second
    // request overwrites the first with the same settings.
    Operation::new("post", "/v2/schedules/{destination}", "create_schedule", Retry::Once { unless: Some("upstash-schedule-id") }),
    Operation::new("get", "/v2/schedules", "list_schedules", Retry::Repeatable),
    Operation::new("get", "/v2/schedules/{scheduleId}", "get_schedule", Retry::Repeatable),
    Operation::new("delete", "/v2/schedules/{scheduleId}", "delete_schedule", Retry::Repeatable),
    Operation::new("post", "/v2/schedules/{scheduleId}/pause", "pause_schedule", Retry::Repeatable),
    Operation::new("post", "/v2/schedules/{scheduleId}/resume", "resume_schedule", Retry::Repeatable),
    // URL groups (called topics on the wire)
    Operation::new("get", "/v2/topics", "list_url_groups", Retry::Repeatable),
    Operation::new("get", "/v2/topics/{urlGroupName}", "get_url_group", Retry::Repeatable),
    Operation::new("delete", "/v2/topics/{urlGroupName}", "delete_url_group", Retry::Repeatable),
    Operation::new("post", "/v2/topics/{urlGroupName}/endpoints", "upsert_url_group_endpoints", Retry::Repeatable),
    Operation::new("delete", "/v2/topics/{urlGroupName}/endpoints", "remove_url_group_endpoints", Retry::Repeatable),
    // Dead-letter queue
    Operation::new("get", "/v2/dlq", "list_dlq_messages", Retry::Repeatable),
    Operation::new("delete", "/v2/dlq", "delete_dlq_messages", Retry::Repeatable).acts_on_all_when_unfiltered(),
    Operation::new("get", "/v2/dlq/{dlqId}", "get_dlq_message", Retry::Repeatable),
    Operation::new("delete", "/v2/dlq/{dlqId}", "delete_dlq_message", Retry::Repeatable),
    // A DLQ message leaves the DLQ when retried: a second request finds
    // nothing to retry (404) instead of delivering twice.
    Operation::new("post", "/v2/dlq/retry/{dlqId}", "retry_dlq_message", Retry::Repeatable),
    Operation::new("post", "/v2/dlq/retry", "retry_dlq_messages", Retry::Repeatable).acts_on_all_when_unfiltered(),
    // Flow control
    Operation::new("get", "/v2/flowControl", "list_flow_control_keys", Retry::Repeatable),
    Operation::new("get", "/v2/flowControl/{flowControlKey}", "get_flow_control_key", Retry::Repeatable),
    Operation::new("post", "/v2/flowControl/{flowControlKey}/pause", "pause_flow_control_key", Retry::Repeatable),
    Operation::new("post", "/v2/flowControl/{flowControlKey}/resume", "resume_flow_control_key", Retry::Repeatable),
    Operation::new("post", "/v2/flowControl/{flowControlKey}/pin", "pin_flow_control_key", Retry::Repeatable),
    Operation::new("post", "/v2/flowControl/{flowControlKey}/unpin", "unpin_flow_control_key", Retry::Repeatable),
    Operation::new("post", "/v2/flowControl/{flowControlKey}/resetRate", "reset_flow_control_rate", Retry::Repeatable),
    Operation::new("get", "/v2/globalParallelism", "get_global_parallelism", Retry::Repeatable),
    // Signing keys
    Operation::new("get", "/v2/keys", "get_signing_keys", Retry::Repeatable),
    // Rotating twice throws away the key deliveries are still signed with.
    Operation::new("post", "/v2/keys/rotate", "rotate_signing_keys", Retry::Once { unless: None }),
    // Logs
    Operation::new("get", "/v2/logs", "list_logs", Retry::Repeatable),
];

/// The table's row for an operation, if it has one.
pub fn row(method: &str, path: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|operation| operation.method == method && operation.path == path)
}

/// How an operation is retried and guarded: its row's classes, or, for an
/// operation without a row, retried only if it is a `GET` and unguarded.
pub fn classes(method: &str, path: &str) -> (Retry, Guard) {
    match row(method, path) {
        Some(operation) => (operation.retry, operation.guard),
        None if method.eq_ignore_ascii_case("get") => (Retry::Repeatable, Guard::None),
        None => (Retry::Once { unless: None }, Guard::None),
    }
}

/// The table's name for an operation, if it has a row.
pub fn table_name(method: &str, path: &str) -> Option<&'static str> {
    row(method, path).map(|operation| operation.name)
}

/// A name for an operation the table does not know yet, from its method and
/// path: `post /v2/workflows/{workflowRunId}/cancel` becomes
/// `post_workflows_by_workflow_run_id_cancel`.
pub fn derived_name(method: &str, path: &str) -> String {
    let mut words = vec![method.to_ascii_lowercase()];
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != "v2") {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => words.push(format!("by_{}", snake_case(param))),
            None => words.push(snake_case(segment)),
        }
    }
    words.join("_")
}

fn snake_case(word: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in word.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = true;
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out.trim_matches('_').to_string()
}
