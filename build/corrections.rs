//! Corrections applied in memory to the vendored spec before generation.
//!
//! `openapi/qstash.yaml` stays byte-for-byte upstream. Everything progenitor
//! 0.15 cannot take from it as is, or would turn into a wrong client, is fixed
//! here, one named correction per problem, each with its reason. A correction
//! that finds nothing to change in a spec is reported by the build (upstream
//! may have fixed the problem, and the correction can then go).

use serde_json::{Map, Value, json};

use crate::operation_names::{derived_name, table_name};

/// One named change to the spec.
#[derive(Clone, Copy)]
pub struct Correction {
    pub name: &'static str,
    pub reason: &'static str,
    /// Applies the change and returns how many places it changed.
    pub apply: fn(&mut Value, &mut Vec<String>) -> usize,
}

/// In the order they run: the version downgrade comes first because the
/// other corrections assume 3.0 shapes.
pub const CORRECTIONS: &[Correction] = &[
    Correction {
        name: "downgrade-3.1-to-3.0",
        reason: "openapiv3 models only OpenAPI 3.0; rewrite the 3.1 constructs into their 3.0 equivalents",
        apply: downgrade_to_3_0,
    },
    Correction {
        name: "operation-ids",
        reason: "upstream has no operationId; progenitor needs one and the crate wants stable names",
        apply: assign_operation_ids,
    },
    Correction {
        name: "single-request-media-type",
        reason: "progenitor panics on a body with several media types; raw bytes carry text and JSON alike, the Content-Type header says which",
        apply: single_request_media_type,
    },
    Correction {
        name: "drop-wildcard-headers",
        reason: "`Upstash-Forward-*` and friends name header families, not headers; the hand-written layer sends them",
        apply: drop_wildcard_headers,
    },
    Correction {
        name: "drop-duplicate-parameters",
        reason: "enqueue declares queueName twice and bulk cancel lists callerIp beside the deprecated callerIP; both collide in Rust",
        apply: drop_duplicate_parameters,
    },
    Correction {
        name: "url-group-publish-branch-first",
        reason: "the single-message branch has only optional fields and would swallow `{\"messages\":[...]}`; try the URL-group branch, with `messages` required, first",
        apply: url_group_branch_first,
    },
    Correction {
        name: "url-group-publish-array",
        reason: "the official SDKs read a URL-group publish answer as a top-level array; accept it beside the spec's `{\"messages\":[...]}`",
        apply: url_group_publish_array,
    },
    Correction {
        name: "batch-url-group-entries",
        reason: "a batch entry sent to a URL group is answered with an array of its messages (the official SDKs' batch parsers), not one PublishResponse",
        apply: batch_url_group_entries,
    },
    Correction {
        name: "dlq-message-id",
        reason: "DLQ messages are fetched, deleted and retried by `dlqId`, which the answers carry and the official SDKs read, but the schema omits",
        apply: dlq_message_id,
    },
    Correction {
        name: "schedule-body-base64-and-queue",
        reason: "schedules carry `bodyBase64` (for non-UTF-8 bodies) and `queueName`, which the official SDKs read but the schema omits",
        apply: schedule_fields,
    },
    Correction {
        name: "logs-state-failed",
        reason: "the logs `state` filter omits FAILED, which its own description and LogEntry.state list",
        apply: logs_state_failed,
    },
    // What the official SDKs send and read beyond the spec. Both SDKs' end-to-end
    // tests run against live QStash; each entry cites the SDK source
    // (upstash/qstash-js at 81d951b, the 2.12.0 release; upstash/qstash-py 3.4.0).
    Correction {
        name: "queue-upsert-paused",
        reason: "the SDKs send `paused` on queue upsert (qstash-js src/client/queue.ts:50-54; qstash-py 3.4.0 qstash/queue.py:69)",
        apply: queue_upsert_paused,
    },
    Correction {
        name: "enqueue-delay-and-flow-control",
        reason: "enqueue carries the publish headers Upstash-Delay, -Not-Before, -Flow-Control-Key/-Value (qstash-js src/client/queue.ts:117 → processHeaders, src/client/utils.ts:90-103, 140-160)",
        apply: enqueue_publish_headers,
    },
    Correction {
        name: "schedule-queue-and-flow-control",
        reason: "schedule create sends Upstash-Queue-Name and Upstash-Flow-Control-Key/-Value, which the spec's Schedule answer reports (qstash-js src/client/schedules.ts:280-306; qstash-py 3.4.0 qstash/schedule.py:202-206)",
        apply: schedule_queue_and_flow_control,
    },
    Correction {
        name: "logs-filters",
        reason: "the logs endpoint takes messageIds, callerIp, flowControlKey, host and path, repeated for several values (qstash-js src/client/filter-types.ts:21-76, 158-176; src/client/client.ts:651-662)",
        apply: logs_filters,
    },
    Correction {
        name: "dlq-list-filters",
        reason: "the DLQ list takes dlqIds and flowControlKey (qstash-js src/client/dlq.ts:70-75, src/client/filter-types.ts:35, 153-156)",
        apply: dlq_list_filters,
    },
    Correction {
        name: "dlq-retry-paging",
        reason: "bulk DLQ retry pages like bulk delete, with count and cursor (qstash-js src/client/dlq.ts:181-186, src/client/utils.ts:259-292; its answer has `cursor`)",
        apply: dlq_retry_paging,
    },
    Correction {
        name: "message-retry-delay-expression",
        reason: "messages and DLQ messages report `retryDelayExpression`, which the official SDKs read (qstash-js src/client/messages.ts:69, qstash-py qstash/message.py:860 and qstash/dlq.py:113), as schedules and logs do in the spec",
        apply: message_retry_delay_expression,
    },
    Correction {
        name: "publish-response-url",
        reason: "a publish answer names the destination `url` (qstash-js src/client/client.ts:698, `PublishToUrlResponse`)",
        apply: publish_response_url,
    },
    Correction {
        name: "success-status-range",
        reason: "progenitor treats an undeclared 2xx as an error; an operation's one declared 2xx status stands for the whole 2XX range",
        apply: success_status_range,
    },
];

/// Runs `corrections` in order; returns one report line per correction and
/// the warnings the build should print.
pub fn apply(spec: &mut Value, corrections: &[Correction]) -> (Vec<String>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut report = Vec::new();
    for correction in corrections {
        let changed = (correction.apply)(spec, &mut warnings);
        report.push(format!(
            "{:<32} {:>3} change(s)  {}",
            correction.name, changed, correction.reason
        ));
        if changed == 0 {
            warnings.push(format!(
                "spec correction `{}` changed nothing: upstream may have fixed it ({})",
                correction.name, correction.reason
            ));
        }
    }
    (report, warnings)
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Calls `f(method, path, operation)` for every operation of the spec.
fn for_each_operation(spec: &mut Value, mut f: impl FnMut(&str, &str, &mut Map<String, Value>)) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if let (true, Some(operation)) = (
                METHODS.contains(&method.as_str()),
                operation.as_object_mut(),
            ) {
                f(method, path, operation);
            }
        }
    }
}

fn downgrade_to_3_0(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    if let Some(version) = spec.get_mut("openapi")
        && version.as_str().is_some_and(|v| v.starts_with("3.1"))
    {
        *version = json!("3.0.3");
        changed += 1;
    }
    changed + downgrade_schemas(spec)
}

/// Walks every object; the rewritten keys only carry these value shapes in
/// schemas (a parameter's `examples` is a map, a schema's is an array), so a
/// structural walk cannot touch anything else.
fn downgrade_schemas(value: &mut Value) -> usize {
    let mut changed = 0;
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(examples)) = object.get("examples").cloned() {
                object.remove("examples");
                if let Some(first) = examples.into_iter().next() {
                    object.entry("example").or_insert(first);
                }
                changed += 1;
            }
            if let Some(Value::Array(types)) = object.get("type").cloned() {
                let non_null: Vec<_> = types.iter().filter(|t| *t != "null").cloned().collect();
                if non_null.len() < types.len() {
                    object.insert("nullable".into(), json!(true));
                }
                match non_null.as_slice() {
                    [single] => {
                        object.insert("type".into(), single.clone());
                    }
                    _ => {
                        object.remove("type");
                    }
                }
                changed += 1;
            }
            if let Some(constant) = object.remove("const") {
                object.insert("enum".into(), json!([constant]));
                changed += 1;
            }
            for (exclusive, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(limit @ Value::Number(_)) = object.get(exclusive).cloned() {
                    object.insert(bound.into(), limit);
                    object.insert(exclusive.into(), json!(true));
                    changed += 1;
                }
            }
            changed += object.values_mut().map(downgrade_schemas).sum::<usize>();
        }
        Value::Array(items) => changed += items.iter_mut().map(downgrade_schemas).sum::<usize>(),
        _ => {}
    }
    changed
}

fn assign_operation_ids(spec: &mut Value, warnings: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |method, path, operation| {
        let name = match table_name(method, path) {
            Some(name) => name.to_string(),
            None => {
                let name = derived_name(method, path);
                warnings.push(format!(
                    "operation `{} {path}` is not in build/operation_names.rs; generated as `{name}`: add a row with a stable name",
                    method.to_uppercase()
                ));
                name
            }
        };
        operation.insert("operationId".into(), json!(name));
        changed += 1;
    });
    changed
}

fn single_request_media_type(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |_, _, operation| {
        let Some(content) = operation
            .get_mut("requestBody")
            .and_then(|body| body.get_mut("content"))
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        if content.len() < 2 {
            return;
        }
        let keep = ["application/octet-stream", "application/json"]
            .into_iter()
            .find(|media| content.contains_key(*media))
            .map(str::to_string)
            .or_else(|| content.keys().next().cloned());
        content.retain(|media, _| Some(media) == keep.as_ref());
        changed += 1;
    });
    changed
}

fn parameters_mut(operation: &mut Map<String, Value>) -> Option<&mut Vec<Value>> {
    operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
}

fn drop_wildcard_headers(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |_, _, operation| {
        if let Some(parameters) = parameters_mut(operation) {
            let before = parameters.len();
            parameters.retain(|p| {
                !(p["in"] == "header" && p["name"].as_str().is_some_and(|n| n.contains('*')))
            });
            changed += before - parameters.len();
        }
    });
    changed
}

fn drop_duplicate_parameters(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |_, _, operation| {
        if let Some(parameters) = parameters_mut(operation) {
            let mut seen = Vec::new();
            let before = parameters.len();
            parameters.retain(|p| {
                let key = (
                    p["in"].as_str().unwrap_or_default().to_string(),
                    p["name"].as_str().unwrap_or_default().to_ascii_lowercase(),
                );
                let first = !seen.contains(&key);
                seen.push(key);
                first
            });
            changed += before - parameters.len();
        }
    });
    changed
}

/// The branches of a publish-like 200 answer: a `oneOf` with a URL-group
/// (`messages`) branch.
fn publish_answer_branches(operation: &mut Map<String, Value>) -> Option<&mut Vec<Value>> {
    operation
        .get_mut("responses")?
        .get_mut("200")?
        .pointer_mut("/content/application~1json/schema/oneOf")?
        .as_array_mut()
        .filter(|branches| {
            branches
                .iter()
                .any(|branch| branch.pointer("/properties/messages").is_some())
        })
}

fn url_group_branch_first(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |_, _, operation| {
        let Some(one_of) = publish_answer_branches(operation) else {
            return;
        };
        if let Some(position) = one_of
            .iter()
            .position(|branch| branch.pointer("/properties/messages").is_some())
        {
            let mut branch = one_of.remove(position);
            branch["required"] = json!(["messages"]);
            branch["title"] = json!("UrlGroupMessages");
            one_of.insert(0, branch);
            changed += 1;
        }
    });
    changed
}

fn url_group_messages_array() -> Value {
    json!({
        "type": "array",
        "title": "UrlGroupList",
        "description": "Published to a URL Group: one message per endpoint",
        "items": {"$ref": "#/components/schemas/PublishToUrlGroupResponse"}
    })
}

fn url_group_publish_array(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |_, _, operation| {
        if let Some(one_of) = publish_answer_branches(operation) {
            // Before the all-optional single-message branch, which must be tried last.
            one_of.insert(1, url_group_messages_array());
            changed += 1;
        }
    });
    changed
}

fn batch_url_group_entries(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let Some(items) = spec.pointer_mut(
        "/paths/~1v2~1batch/post/responses/200/content/application~1json/schema/items",
    ) else {
        return 0;
    };
    if items.get("$ref").is_none() {
        return 0;
    }
    let single = items.take();
    *items = json!({"oneOf": [url_group_messages_array(), single]});
    1
}

fn dlq_message_id(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let Some(properties) = spec
        .pointer_mut("/components/schemas/DLQMessage/properties")
        .and_then(Value::as_object_mut)
    else {
        return 0;
    };
    if properties.contains_key("dlqId") {
        return 0;
    }
    properties.insert(
        "dlqId".into(),
        json!({"type": "string", "description": "Unique identifier of the message in the DLQ"}),
    );
    1
}

fn schedule_fields(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let Some(properties) = spec
        .pointer_mut("/components/schemas/Schedule/properties")
        .and_then(Value::as_object_mut)
    else {
        return 0;
    };
    let mut changed = 0;
    for (name, description) in [
        (
            "bodyBase64",
            "The body, base64-encoded, when it is not valid UTF-8",
        ),
        (
            "queueName",
            "The queue the scheduled messages are enqueued to",
        ),
    ] {
        if !properties.contains_key(name) {
            properties.insert(
                name.into(),
                json!({"type": "string", "description": description}),
            );
            changed += 1;
        }
    }
    changed
}

fn logs_state_failed(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let Some(parameters) = spec
        .pointer_mut("/paths/~1v2~1logs/get/parameters")
        .and_then(Value::as_array_mut)
    else {
        return 0;
    };
    let mut changed = 0;
    for parameter in parameters.iter_mut().filter(|p| p["name"] == "state") {
        if let Some(values) = parameter
            .pointer_mut("/schema/enum")
            .and_then(Value::as_array_mut)
            .filter(|values| !values.contains(&json!("FAILED")))
        {
            values.push(json!("FAILED"));
            changed += 1;
        }
    }
    changed
}

fn success_status_range(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let mut changed = 0;
    for_each_operation(spec, |_, _, operation| {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        let success: Vec<String> = responses
            .keys()
            .filter(|code| code.len() == 3 && code.starts_with('2'))
            .cloned()
            .collect();
        if let [code] = success.as_slice()
            && let Some(response) = responses.remove(code)
        {
            responses.insert("2XX".into(), response);
            changed += 1;
        }
    });
    changed
}

/// Adds `parameters` to `method path` unless one of the same name is there.
fn add_parameters(spec: &mut Value, method: &str, path: &str, parameters: &[Value]) -> usize {
    let pointer = format!("/paths/{}/{method}/parameters", path.replace('/', "~1"));
    let Some(existing) = spec.pointer_mut(&pointer).and_then(Value::as_array_mut) else {
        return 0;
    };
    let mut changed = 0;
    for parameter in parameters {
        let present = existing
            .iter()
            .any(|p| p["name"] == parameter["name"] && p["in"] == parameter["in"]);
        if !present {
            existing.push(parameter.clone());
            changed += 1;
        }
    }
    changed
}

fn header(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "header", "required": false, "schema": {"type": "string"}, "description": description})
}

/// A query parameter taking several values, sent as `name=a&name=b`.
fn repeated_query(name: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "style": "form", "explode": true,
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": description
    })
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

/// Adds `properties` to the component schema `schema` where missing.
fn add_properties(spec: &mut Value, pointer: &str, properties: &[(&str, Value)]) -> usize {
    let Some(existing) = spec.pointer_mut(pointer).and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut changed = 0;
    for (name, schema) in properties {
        if !existing.contains_key(*name) {
            existing.insert((*name).into(), schema.clone());
            changed += 1;
        }
    }
    changed
}

fn queue_upsert_paused(spec: &mut Value, _: &mut Vec<String>) -> usize {
    add_properties(
        spec,
        "/paths/~1v2~1queues/post/requestBody/content/application~1json/schema/properties",
        &[(
            "paused",
            json!({"type": "boolean", "description": "Whether the queue is paused: it accepts messages but delivers none until resumed"}),
        )],
    )
}

fn flow_control_headers() -> [Value; 2] {
    [
        header(
            "Upstash-Flow-Control-Key",
            "Messages with the same key share the limits of Upstash-Flow-Control-Value",
        ),
        header(
            "Upstash-Flow-Control-Value",
            "Limits for the key: `parallelism=<n>, rate=<n>, period=<duration>`",
        ),
    ]
}

fn enqueue_publish_headers(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let [key, value] = flow_control_headers();
    add_parameters(
        spec,
        "post",
        "/v2/enqueue/{queueName}/{destination}",
        &[
            header(
                "Upstash-Delay",
                "Delay before the message is delivered, e.g. `90s` or `1d10h30m`",
            ),
            header(
                "Upstash-Not-Before",
                "Unix time in seconds before which the message is not delivered",
            ),
            key,
            value,
        ],
    )
}

fn schedule_queue_and_flow_control(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let [key, value] = flow_control_headers();
    add_parameters(
        spec,
        "post",
        "/v2/schedules/{destination}",
        &[
            header(
                "Upstash-Queue-Name",
                "The queue the schedule's messages are enqueued to",
            ),
            key,
            value,
        ],
    )
}

fn logs_filters(spec: &mut Value, _: &mut Vec<String>) -> usize {
    add_parameters(
        spec,
        "get",
        "/v2/logs",
        &[
            repeated_query("messageIds", "Entries of any of these messages"),
            repeated_query(
                "callerIp",
                "Entries of messages published from any of these IP addresses",
            ),
            repeated_query(
                "flowControlKey",
                "Entries of messages with any of these flow-control keys",
            ),
            repeated_query(
                "host",
                "Entries of messages whose destination has any of these hosts",
            ),
            repeated_query(
                "path",
                "Entries of messages whose destination has any of these paths",
            ),
        ],
    )
}

fn dlq_list_filters(spec: &mut Value, _: &mut Vec<String>) -> usize {
    add_parameters(
        spec,
        "get",
        "/v2/dlq",
        &[
            repeated_query("dlqIds", "Only these DLQ messages"),
            repeated_query(
                "flowControlKey",
                "Messages with any of these flow-control keys",
            ),
        ],
    )
}

fn dlq_retry_paging(spec: &mut Value, _: &mut Vec<String>) -> usize {
    add_parameters(
        spec,
        "post",
        "/v2/dlq/retry",
        &[
            query(
                "cursor",
                json!({"type": "string"}),
                "Where the previous call stopped",
            ),
            query(
                "count",
                json!({"type": "integer", "format": "int64"}),
                "How many messages to retry in this call (default 100)",
            ),
        ],
    )
}

fn message_retry_delay_expression(spec: &mut Value, _: &mut Vec<String>) -> usize {
    let property = json!({"type": "string", "description": "The retry delay expression, if the message was published with one"});
    ["Message", "DLQMessage"]
        .into_iter()
        .map(|schema| {
            add_properties(
                spec,
                &format!("/components/schemas/{schema}/properties"),
                &[("retryDelayExpression", property.clone())],
            )
        })
        .sum()
}

fn publish_response_url(spec: &mut Value, _: &mut Vec<String>) -> usize {
    add_properties(
        spec,
        "/components/schemas/PublishResponse/properties",
        &[(
            "url",
            json!({"type": "string", "description": "The destination URL of the message"}),
        )],
    )
}
