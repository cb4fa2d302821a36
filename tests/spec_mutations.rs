//! Spec mutations: the crate built against specs derived from the vendored
//! one, each changed the way upstream changes things, to show that the
//! hand-written layer bends where it can and breaks where it must.
//!
//! Tolerated (the crate builds and its tests pass): a new operation; 200
//! with no body → 202 with a JSON body; integer bounds dropped, and their
//! format changed (to `uint64`); a new enum value; a new optional field; a
//! new optional parameter; every parameter deprecated; a new error
//! response. Breaking (the library does not compile, the errors are in the
//! hand-written area that needs the change, and the spec-history report
//! names it): a removed operation, and a field the layer reads or sets
//! renamed.
//!
//! ```text
//! cargo test --features dev-server --test spec_mutations          # the mutations apply and are reported (fast)
//! cargo test --features dev-server --test spec_mutations -- --ignored --nocapture --test-threads=1
//! QSTASH_MUTATION=new-enum-value cargo test --features dev-server --test spec_mutations -- --ignored --nocapture
//! ```
//!
//! The ignored tests build: every tolerated mutation together in one spec,
//! then the crate's tests against it (`target/spec-mutations`, or the
//! directory `QSTASH_MUTATIONS_TARGET_DIR` names); each
//! breaking one with `cargo check` of the library (`target/spec-history`,
//! shared with the spec-history check). `QSTASH_MUTATION=<name>` builds and
//! tests one tolerated mutation alone, to find which one a failure comes
//! from.
//!
//! Answers are mutated only as far as the dev server (the server side of
//! the vendored spec, which builds every answer) can follow without being
//! rewritten: integer types in answers are left alone, and a new field goes
//! into answers whose fields are all optional, which the dev server builds
//! with `..Default::default()` (not into `Error` or `Schedule`, which have
//! required fields, nor into a `oneOf` branch, which typify makes an enum
//! variant).

#[path = "../build/corrections.rs"]
mod corrections;
#[allow(dead_code)]
#[path = "../build/generate.rs"]
mod generate;
#[allow(dead_code)]
#[path = "../build/operation_names.rs"]
mod operation_names;
#[allow(dead_code)]
#[path = "support/spec_diff.rs"]
mod spec_diff;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Map, Value, json};

/// One way upstream might change the spec.
struct Mutation {
    name: &'static str,
    /// Changes the spec; returns how many places it changed.
    apply: fn(&mut Value) -> usize,
    expect: Expect,
    /// Text the spec-history report of the mutated spec must contain.
    reported_as: &'static str,
}

enum Expect {
    /// The crate builds and its tests pass.
    Tolerated,
    /// The library does not compile; its errors are in these files.
    Breaks { in_files: &'static [&'static str] },
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "new-operation",
        apply: new_operation,
        expect: Expect::Tolerated,
        reported_as: "operations added: GET /v2/events (get_events)",
    },
    Mutation {
        name: "success-202-with-body",
        apply: success_202_with_body,
        expect: Expect::Tolerated,
        reported_as: "success: 200 → 202",
    },
    Mutation {
        name: "integer-bounds-dropped",
        apply: integer_bounds_dropped,
        expect: Expect::Tolerated,
        reported_as: "parameter query:count: integer ≥1 ≤500 → integer",
    },
    Mutation {
        name: "integer-format-uint64",
        apply: integer_format_uint64,
        expect: Expect::Tolerated,
        reported_as: "integer int64 → integer uint64",
    },
    Mutation {
        name: "new-enum-value",
        apply: new_enum_value,
        expect: Expect::Tolerated,
        reported_as: "state: enum values added: ADDED_UPSTREAM",
    },
    Mutation {
        name: "new-optional-field",
        apply: new_optional_field,
        expect: Expect::Tolerated,
        reported_as: "addedUpstream: added (string, optional)",
    },
    Mutation {
        name: "new-optional-parameter",
        apply: new_optional_parameter,
        expect: Expect::Tolerated,
        reported_as: "parameter added: query:addedUpstream (string, optional)",
    },
    Mutation {
        name: "parameter-deprecated",
        apply: parameter_deprecated,
        expect: Expect::Tolerated,
        reported_as: "parameter query:cursor: deprecated",
    },
    Mutation {
        name: "new-error-response",
        apply: new_error_response,
        expect: Expect::Tolerated,
        reported_as: "error statuses added: 409",
    },
    Mutation {
        name: "operation-removed",
        apply: operation_removed,
        expect: Expect::Breaks {
            in_files: &["src/queues.rs"],
        },
        reported_as: "operations removed: DELETE /v2/queues/{queueName} (delete_queue)",
    },
    Mutation {
        name: "answer-field-renamed",
        apply: answer_field_renamed,
        expect: Expect::Breaks {
            in_files: &["src/messages/mod.rs"],
        },
        reported_as: "answer.oneOf[0].messageId: removed",
    },
    Mutation {
        name: "request-field-renamed",
        apply: request_field_renamed,
        expect: Expect::Breaks {
            in_files: &["src/queues.rs"],
        },
        reported_as: "body.queueName: removed",
    },
];

// ---- the mutations ----------------------------------------------------------

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

fn operations(spec: &mut Value) -> Vec<&mut Map<String, Value>> {
    spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| METHODS.contains(&method.as_str()))
        .filter_map(|(_, operation)| operation.as_object_mut())
        .collect()
}

/// Every schema of the parameters and request bodies: what the layer sends.
fn request_schemas(spec: &mut Value) -> Vec<&mut Value> {
    let mut schemas = Vec::new();
    for operation in operations(spec) {
        let (parameters, body) = split_request(operation);
        schemas.extend(parameters.into_iter().filter_map(|p| p.get_mut("schema")));
        schemas.extend(body);
    }
    schemas
}

fn split_request(operation: &mut Map<String, Value>) -> (Vec<&mut Value>, Vec<&mut Value>) {
    let mut parameters = Vec::new();
    let mut bodies = Vec::new();
    for (key, value) in operation.iter_mut() {
        match key.as_str() {
            "parameters" => parameters.extend(value.as_array_mut().into_iter().flatten()),
            "requestBody" => bodies.extend(
                value
                    .get_mut("content")
                    .and_then(Value::as_object_mut)
                    .into_iter()
                    .flat_map(|content| content.values_mut())
                    .filter_map(|media| media.get_mut("schema")),
            ),
            _ => {}
        }
    }
    (parameters, bodies)
}

/// Every schema answers hold: the component schemas and the inline ones.
fn answer_schemas(spec: &mut Value) -> Vec<&mut Value> {
    let mut schemas: Vec<&mut Value> = Vec::new();
    let Some(object) = spec.as_object_mut() else {
        return schemas;
    };
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "components" => schemas.extend(
                value["schemas"]
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|schemas| schemas.values_mut()),
            ),
            "paths" => schemas.extend(
                value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|paths| paths.values_mut())
                    .filter_map(Value::as_object_mut)
                    .flat_map(|item| item.values_mut())
                    .filter_map(|operation| operation.get_mut("responses"))
                    .filter_map(Value::as_object_mut)
                    .flat_map(|responses| responses.values_mut())
                    .filter_map(|response| response.get_mut("content"))
                    .filter_map(Value::as_object_mut)
                    .flat_map(|content| content.values_mut())
                    .filter_map(|media| media.get_mut("schema")),
            ),
            _ => {}
        }
    }
    schemas
}

/// Calls `visit(schema, is_branch)` on `schema` and every schema inside it
/// (properties, items, additional properties, and the branches of
/// `oneOf`/`anyOf`/`allOf`, for which `is_branch` is true).
fn walk(schema: &mut Value, is_branch: bool, visit: &mut dyn FnMut(&mut Map<String, Value>, bool)) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    visit(object, is_branch);
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" => {
                for property in value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|p| p.values_mut())
                {
                    walk(property, false, visit);
                }
            }
            "items" | "additionalProperties" => walk(value, false, visit),
            "oneOf" | "anyOf" | "allOf" => {
                for branch in value.as_array_mut().into_iter().flatten() {
                    walk(branch, true, visit);
                }
            }
            _ => {}
        }
    }
}

fn walk_all(schemas: Vec<&mut Value>, visit: &mut dyn FnMut(&mut Map<String, Value>, bool)) {
    for schema in schemas {
        walk(schema, false, visit);
    }
}

fn is_integer(schema: &Map<String, Value>) -> bool {
    match &schema.get("type") {
        Some(Value::String(kind)) => kind == "integer",
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "integer"),
        _ => false,
    }
}

fn new_operation(spec: &mut Value) -> usize {
    // The official SDKs' log endpoint, which the spec does not have.
    spec["paths"]["/v2/events"] = json!({
        "get": {
            "summary": "List events",
            "parameters": [
                { "name": "cursor", "in": "query", "schema": { "type": "string" } },
                { "name": "count", "in": "query", "schema": { "type": "integer", "maximum": 100 } }
            ],
            "responses": {
                "200": {
                    "description": "Events",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "cursor": { "type": "string" },
                            "events": { "type": "array", "items": { "$ref": "#/components/schemas/LogEntry" } }
                        }
                    } } }
                },
                "400": {
                    "description": "Bad request",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }
            }
        }
    });
    1
}

fn success_202_with_body(spec: &mut Value) -> usize {
    let mut changed = 0;
    for operation in operations(spec) {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let bodyless = responses
            .get("200")
            .is_some_and(|response| response.get("content").is_none());
        if !bodyless {
            continue;
        }
        if let Some(mut response) = responses.remove("200") {
            response["content"] = json!({ "application/json": { "schema": {
                "type": "object",
                "properties": { "accepted": { "type": "boolean" } }
            } } });
            responses.insert("202".into(), response);
            changed += 1;
        }
    }
    changed
}

fn integer_bounds_dropped(spec: &mut Value) -> usize {
    let mut changed = 0;
    walk_all(request_schemas(spec), &mut |schema, _| {
        if is_integer(schema) {
            for bound in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
                changed += usize::from(schema.remove(bound).is_some());
            }
        }
    });
    changed
}

/// Unsigned, as every integer the layer sends is: counts, times, limits,
/// statuses. (A narrower format would refuse a millisecond timestamp at
/// run time; that every integer type converts is `Int`'s unit test.)
fn integer_format_uint64(spec: &mut Value) -> usize {
    let mut changed = 0;
    walk_all(request_schemas(spec), &mut |schema, _| {
        if is_integer(schema) && schema.get("format") != Some(&json!("uint64")) {
            schema.insert("format".into(), json!("uint64"));
            changed += 1;
        }
    });
    changed
}

fn new_enum_value(spec: &mut Value) -> usize {
    let mut changed = 0;
    let mut add = |schema: &mut Map<String, Value>, _| {
        if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut)
            && values.iter().all(Value::is_string)
        {
            values.push(json!("ADDED_UPSTREAM"));
            changed += 1;
        }
    };
    walk_all(request_schemas(spec), &mut add);
    walk_all(answer_schemas(spec), &mut add);
    changed
}

fn new_optional_field(spec: &mut Value) -> usize {
    let mut changed = 0;
    let field = || json!({ "type": "string", "description": "A field added upstream." });
    // What the layer sends is built field by field: every object.
    walk_all(request_schemas(spec), &mut |schema, _| {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert("addedUpstream".into(), field());
            changed += 1;
        }
    });
    // Answers the dev server builds with `..Default::default()`: objects
    // whose fields are all optional (a oneOf branch is an enum variant).
    walk_all(answer_schemas(spec), &mut |schema, is_branch| {
        if is_branch || schema.contains_key("required") {
            return;
        }
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut)
            && !properties.contains_key("addedUpstream")
        {
            properties.insert("addedUpstream".into(), field());
            changed += 1;
        }
    });
    changed
}

fn new_optional_parameter(spec: &mut Value) -> usize {
    let mut changed = 0;
    for operation in operations(spec) {
        let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
        if let Some(parameters) = parameters.as_array_mut() {
            parameters.push(json!({
                "name": "addedUpstream",
                "in": "query",
                "required": false,
                "schema": { "type": "string" }
            }));
            changed += 1;
        }
    }
    changed
}

fn parameter_deprecated(spec: &mut Value) -> usize {
    let mut changed = 0;
    for operation in operations(spec) {
        let (parameters, _) = split_request(operation);
        for parameter in parameters {
            parameter["deprecated"] = json!(true);
            changed += 1;
        }
    }
    changed
}

fn new_error_response(spec: &mut Value) -> usize {
    let mut changed = 0;
    for operation in operations(spec) {
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            responses.insert(
                "409".into(),
                json!({
                    "description": "Conflict",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }),
            );
            changed += 1;
        }
    }
    changed
}

fn operation_removed(spec: &mut Value) -> usize {
    let removed = spec["paths"]["/v2/queues/{queueName}"]
        .as_object_mut()
        .and_then(|item| item.remove("delete"));
    usize::from(removed.is_some())
}

fn rename_property(schema: Option<&mut Value>, from: &str, to: &str) -> usize {
    let Some(schema) = schema else {
        return 0;
    };
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return 0;
    };
    let Some(property) = properties.remove(from) else {
        return 0;
    };
    properties.insert(to.into(), property);
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        for name in required.iter_mut().filter(|name| *name == from) {
            *name = json!(to);
        }
    }
    1
}

fn answer_field_renamed(spec: &mut Value) -> usize {
    rename_property(
        spec.pointer_mut("/components/schemas/PublishResponse"),
        "messageId",
        "id",
    )
}

fn request_field_renamed(spec: &mut Value) -> usize {
    rename_property(
        spec.pointer_mut("/paths/~1v2~1queues/post/requestBody/content/application~1json/schema"),
        "queueName",
        "name",
    )
}

// ---- running them -------------------------------------------------------------

fn vendored() -> Value {
    generate::parse_spec(include_str!("../openapi/qstash.yaml")).expect("the vendored spec parses")
}

/// The vendored spec with `mutations` applied, each checked to change
/// something (a mutation that finds nothing to change tests nothing).
fn mutated<'a>(mutations: impl IntoIterator<Item = &'a Mutation>) -> Value {
    let mut spec = vendored();
    for mutation in mutations {
        let changed = (mutation.apply)(&mut spec);
        assert!(
            changed > 0,
            "mutation `{}` changed nothing in the vendored spec",
            mutation.name
        );
    }
    spec
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `spec` (as JSON, which the YAML reader takes) under `target/`.
fn write_spec(name: &str, spec: &Value) -> PathBuf {
    let directory = manifest().join("target/spec-mutations");
    std::fs::create_dir_all(&directory).expect("target/spec-mutations");
    let path = directory.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(spec).expect("JSON")).expect("spec written");
    path
}

/// The tests that run against a mutated spec: everything that talks to the
/// generated client. Left out: the receiver's (no generated code), and the
/// spec checks (they read the vendored spec and build the crate themselves).
const TEST_TARGETS: &[&str] = &[
    "--lib",
    "--test=client",
    "--test=dev_server",
    "--test=management",
    "--test=operations",
    "--test=reliability",
    "--test=schemas",
];

fn cargo(spec: &Path, target_dir: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO"))
        .current_dir(manifest())
        .args(args)
        .env("QSTASH_OPENAPI_SPEC", spec)
        .env("CARGO_TARGET_DIR", manifest().join(target_dir))
        // Line tables are enough to read a failure here; full debug info
        // would make this second build directory several times larger.
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .output()
        .expect("cargo runs");
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), text)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn every_mutation_applies_and_the_report_names_it() {
    let vendored = vendored();
    for mutation in MUTATIONS {
        let spec = mutated([mutation]);
        let report = spec_diff::diff(&vendored, &spec);
        assert!(
            report.mentions(mutation.reported_as),
            "the report of `{}` does not say `{}`:\n{}",
            mutation.name,
            mutation.reported_as,
            report.lines().join("\n")
        );
    }
}

#[test]
fn the_tolerated_mutations_generate_together() {
    let tolerated = MUTATIONS
        .iter()
        .filter(|m| matches!(m.expect, Expect::Tolerated));
    let generated = generate::generate(mutated(tolerated)).expect("the mutated spec generates");
    assert!(
        generated
            .operations
            .iter()
            .any(|(_, path, name)| path == "/v2/events" && name == "get_events"),
        "the new operation is generated under its derived name"
    );
    // Every correction still finds what it fixes, and nothing else warns.
    assert_eq!(
        generated.warnings,
        [
            "operation `GET /v2/events` is not in build/operation_names.rs; generated as `get_events`: add a row with a stable name"
        ]
    );
}

#[test]
#[ignore = "builds the crate against a mutated spec and runs its tests (minutes); run with --ignored"]
fn tolerated_mutations_build_and_pass() {
    let only = std::env::var("QSTASH_MUTATION").ok();
    let tolerated: Vec<&Mutation> = MUTATIONS
        .iter()
        .filter(|m| matches!(m.expect, Expect::Tolerated))
        .filter(|m| only.as_deref().is_none_or(|name| name == m.name))
        .collect();
    if tolerated.is_empty() {
        println!("no tolerated mutation named {only:?}");
        return;
    }
    let names: Vec<&str> = tolerated.iter().map(|m| m.name).collect();
    let spec = mutated(tolerated);
    let path = write_spec(only.as_deref().unwrap_or("tolerated"), &spec);
    println!("mutations: {}", names.join(", "));
    println!("spec: {}", path.display());
    for line in spec_diff::diff(&vendored(), &spec).lines().iter().take(40) {
        println!("   {line}");
    }
    let started = Instant::now();
    let mut args = vec!["test", "--all-features", "--no-fail-fast"];
    args.extend(TEST_TARGETS);
    // Apart from the normal build by default: sharing it would make the
    // next normal build rebuild the crate. CI, whose last step this is,
    // names `target` to reuse the test step's dependencies.
    let target_dir = std::env::var("QSTASH_MUTATIONS_TARGET_DIR")
        .unwrap_or_else(|_| "target/spec-mutations".to_owned());
    let (passed, output) = cargo(&path, &target_dir, &args);
    println!(
        "built and tested in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let summary: Vec<&str> = output
        .lines()
        .filter(|line| line.starts_with("test result") || line.contains("warning: qstash@"))
        .collect();
    println!("{}", summary.join("\n"));
    assert!(
        passed,
        "the crate does not build or its tests fail with {}:\n{}",
        names.join(", "),
        tail(&output, 80)
    );
}

#[test]
#[ignore = "compiles the library once per breaking mutation (a minute); run with --ignored"]
fn breaking_mutations_fail_where_the_layer_needs_them() {
    let vendored = vendored();
    let mut unexpected = Vec::new();
    for mutation in MUTATIONS {
        let Expect::Breaks { in_files } = mutation.expect else {
            continue;
        };
        let spec = mutated([mutation]);
        let path = write_spec(mutation.name, &spec);
        let started = Instant::now();
        // Default features: the library without the dev server, so the
        // errors are the hand-written layer's.
        let (built, output) = cargo(
            &path,
            "target/spec-history",
            &["check", "--lib", "--message-format=short", "--quiet"],
        );
        let errors: Vec<&str> = output.lines().filter(|l| l.contains("error")).collect();
        println!(
            "\n== {} ({:.0} s): {}",
            mutation.name,
            started.elapsed().as_secs_f64(),
            if built { "BUILDS" } else { "does not build" }
        );
        for line in errors.iter().take(6) {
            println!("   {line}");
        }
        let report = spec_diff::diff(&vendored, &spec);
        println!("   report: {}", mutation.reported_as);
        let named_in = |file: &&str| errors.iter().any(|line| line.starts_with(*file));
        if built || !in_files.iter().all(named_in) || !report.mentions(mutation.reported_as) {
            unexpected.push(mutation.name);
        }
    }
    assert!(
        unexpected.is_empty(),
        "these should fail to build, with errors in the named files, and be reported: {unexpected:?}"
    );
}
