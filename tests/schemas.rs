//! The JSON Schemas the model types derive (`schemars::JsonSchema`) describe
//! what QStash sends: every response fixture validates against the schema of
//! the type its operation decodes into, with no property the schema lacks.

use std::path::Path;

use qstash::types;
use schemars::schema_for;
use serde_json::Value;

#[path = "support/json_schema.rs"]
mod json_schema;
use json_schema::validate;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/operations")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("fixture is JSON")
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
