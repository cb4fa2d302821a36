//! The JSON Schemas the model types derive (`schemars::JsonSchema`) describe
//! what QStash sends: every response fixture validates against the schema of
//! the type its operation decodes into, with no property the schema lacks.

use std::path::Path;

use qstash::types;
use schemars::schema_for;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/operations")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// Validates `value` against `schema`, a schemars 0.8 schema, for the
/// keywords schemars emits. Objects are strict: a property the schema does
/// not name is an error (a field our types would drop).
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/definitions/");
        match root["definitions"].get(name) {
            Some(target) => validate(root, target, value, at, errors),
            None => errors.push(format!("{at}: unresolved {reference}")),
        }
        return;
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
            let matching = branches
                .iter()
                .filter(|branch| {
                    let mut inner = Vec::new();
                    validate(root, branch, value, at, &mut inner);
                    inner.is_empty()
                })
                .count();
            if matching == 0 {
                errors.push(format!("{at}: matches no branch of {keyword}"));
            }
        }
    }
    if let Some(allowed) = schema.get("type") {
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = |t: &Value| t == kind || (t == "number" && kind == "integer");
        let fits = match allowed {
            Value::Array(types) => types.iter().any(ok),
            single => ok(single),
        };
        if !fits {
            errors.push(format!("{at}: {kind} where the schema says {allowed}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    match value {
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties");
            for name in schema["required"].as_array().into_iter().flatten() {
                if !name.as_str().is_some_and(|n| object.contains_key(n)) {
                    errors.push(format!("{at}: required {name} missing"));
                }
            }
            for (name, field) in object {
                let path = format!("{at}.{name}");
                match (properties.and_then(|p| p.get(name)), extra) {
                    (Some(property), _) => validate(root, property, field, &path, errors),
                    (None, Some(map_values)) if map_values.is_object() => {
                        validate(root, map_values, field, &path, errors)
                    }
                    (None, _) if properties.is_some() => {
                        errors.push(format!("{path}: not in the schema"))
                    }
                    (None, _) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    validate(root, item_schema, item, &format!("{at}[{index}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn check(schema: schemars::schema::RootSchema, fixture_name: &str) -> Vec<String> {
    let root = serde_json::to_value(&schema).expect("schema serializes");
    let mut errors = Vec::new();
    validate(
        &root,
        &root,
        &fixture(fixture_name),
        fixture_name,
        &mut errors,
    );
    errors
}

#[test]
fn every_response_fixture_validates_against_its_types_schema() {
    let cases = [
        (
            schema_for!(types::PublishMessageResponse),
            "publish_message",
        ),
        (
            schema_for!(types::PublishMessageResponse),
            "publish_message_deduplicated",
        ),
        (
            schema_for!(types::PublishMessageResponse),
            "publish_message_url_group",
        ),
        (
            schema_for!(types::EnqueueMessageResponse),
            "enqueue_message",
        ),
        (
            schema_for!(types::EnqueueMessageResponse),
            "enqueue_message_url_group",
        ),
        (
            schema_for!(Vec<types::BatchMessagesResponseItem>),
            "batch_messages",
        ),
        (schema_for!(types::Message), "get_message"),
        (
            schema_for!(types::CancelMessagesResponse),
            "cancel_messages",
        ),
        (schema_for!(Vec<types::Queue>), "list_queues"),
        (schema_for!(types::Queue), "get_queue"),
        (
            schema_for!(types::CreateScheduleResponse),
            "create_schedule",
        ),
        (schema_for!(types::Schedule), "get_schedule"),
        (schema_for!(Vec<types::Schedule>), "list_schedules"),
        (schema_for!(Vec<types::UrlGroup>), "list_url_groups"),
        (schema_for!(types::UrlGroup), "get_url_group"),
        (
            schema_for!(types::ListDlqMessagesResponse),
            "list_dlq_messages",
        ),
        (schema_for!(types::DlqMessage), "get_dlq_message"),
        (
            schema_for!(types::DeleteDlqMessagesResponse),
            "delete_dlq_messages",
        ),
        (schema_for!(types::PublishResponse), "retry_dlq_message"),
        (
            schema_for!(types::RetryDlqMessagesResponse),
            "retry_dlq_messages",
        ),
        (
            schema_for!(Vec<types::FlowControlKey>),
            "list_flow_control_keys",
        ),
        (schema_for!(types::FlowControlKey), "get_flow_control_key"),
        (
            schema_for!(types::GetGlobalParallelismResponse),
            "get_global_parallelism",
        ),
        (schema_for!(types::SigningKeys), "get_signing_keys"),
        (schema_for!(types::SigningKeys), "rotate_signing_keys"),
        (schema_for!(types::ListLogsResponse), "list_logs"),
    ];
    let errors: Vec<String> = cases
        .into_iter()
        .flat_map(|(schema, name)| check(schema, name))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_validator_rejects_what_the_schema_does_not_allow() {
    let root = serde_json::to_value(schema_for!(types::Message)).expect("schema");
    let mut errors = Vec::new();
    let bad = serde_json::json!({"messageId": 7, "unknownField": true});
    validate(&root, &root, &bad, "message", &mut errors);
    assert!(errors.iter().any(|e| e.contains("messageId")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("unknownField")),
        "{errors:?}"
    );
}
