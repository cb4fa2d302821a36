//! The stable Rust name of every QStash operation.
//!
//! The upstream spec has no `operationId`s, so the method names of
//! `qstash::Client` come from this table. Renaming a row is a breaking change
//! of the crate's API. An operation missing here still generates under a name
//! derived from its method and path (see [`derived_name`]), with a build
//! warning asking for a row, so a newer spec never breaks the build.
//!
//! Names must not make `<Name>Response` or `<Name>Body` collide with a
//! component schema: progenitor would reuse that schema for the operation's
//! inline type. `publish` is the cautionary tale (`PublishResponse` exists), so
//! publishing is `publish_message`.

/// `(HTTP method in lower case, path as in the spec, operation name)`.
pub const OPERATION_NAMES: &[(&str, &str, &str)] = &[
    // Messages
    ("post", "/v2/publish/{destination}", "publish_message"),
    (
        "post",
        "/v2/enqueue/{queueName}/{destination}",
        "enqueue_message",
    ),
    ("post", "/v2/batch", "batch_messages"),
    ("get", "/v2/messages/{messageId}", "get_message"),
    ("delete", "/v2/messages/{messageId}", "cancel_message"),
    ("delete", "/v2/messages", "cancel_messages"),
    // Queues
    ("post", "/v2/queues", "upsert_queue"),
    ("get", "/v2/queues", "list_queues"),
    ("get", "/v2/queues/{queueName}", "get_queue"),
    ("delete", "/v2/queues/{queueName}", "delete_queue"),
    ("post", "/v2/queues/{queueName}/pause", "pause_queue"),
    ("post", "/v2/queues/{queueName}/resume", "resume_queue"),
    // Schedules
    ("post", "/v2/schedules/{destination}", "create_schedule"),
    ("get", "/v2/schedules", "list_schedules"),
    ("get", "/v2/schedules/{scheduleId}", "get_schedule"),
    ("delete", "/v2/schedules/{scheduleId}", "delete_schedule"),
    ("post", "/v2/schedules/{scheduleId}/pause", "pause_schedule"),
    (
        "post",
        "/v2/schedules/{scheduleId}/resume",
        "resume_schedule",
    ),
    // URL groups (called topics on the wire)
    ("get", "/v2/topics", "list_url_groups"),
    ("get", "/v2/topics/{urlGroupName}", "get_url_group"),
    ("delete", "/v2/topics/{urlGroupName}", "delete_url_group"),
    (
        "post",
        "/v2/topics/{urlGroupName}/endpoints",
        "upsert_url_group_endpoints",
    ),
    (
        "delete",
        "/v2/topics/{urlGroupName}/endpoints",
        "remove_url_group_endpoints",
    ),
    // Dead-letter queue
    ("get", "/v2/dlq", "list_dlq_messages"),
    ("delete", "/v2/dlq", "delete_dlq_messages"),
    ("get", "/v2/dlq/{dlqId}", "get_dlq_message"),
    ("delete", "/v2/dlq/{dlqId}", "delete_dlq_message"),
    ("post", "/v2/dlq/retry/{dlqId}", "retry_dlq_message"),
    ("post", "/v2/dlq/retry", "retry_dlq_messages"),
    // Flow control
    ("get", "/v2/flowControl", "list_flow_control_keys"),
    (
        "get",
        "/v2/flowControl/{flowControlKey}",
        "get_flow_control_key",
    ),
    (
        "post",
        "/v2/flowControl/{flowControlKey}/pause",
        "pause_flow_control_key",
    ),
    (
        "post",
        "/v2/flowControl/{flowControlKey}/resume",
        "resume_flow_control_key",
    ),
    (
        "post",
        "/v2/flowControl/{flowControlKey}/pin",
        "pin_flow_control_key",
    ),
    (
        "post",
        "/v2/flowControl/{flowControlKey}/unpin",
        "unpin_flow_control_key",
    ),
    (
        "post",
        "/v2/flowControl/{flowControlKey}/resetRate",
        "reset_flow_control_rate",
    ),
    ("get", "/v2/globalParallelism", "get_global_parallelism"),
    // Signing keys
    ("get", "/v2/keys", "get_signing_keys"),
    ("post", "/v2/keys/rotate", "rotate_signing_keys"),
    // Logs
    ("get", "/v2/logs", "list_logs"),
];

/// The table's name for an operation, if it has a row.
pub fn table_name(method: &str, path: &str) -> Option<&'static str> {
    OPERATION_NAMES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, name)| *name)
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
