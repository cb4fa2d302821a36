//! Each spec correction in `build/corrections.rs` is needed: generating
//! from the vendored spec without it fails, or yields a wrong client.
//! Runs the same pipeline as `build.rs`, in process.

#[path = "../build/corrections.rs"]
mod corrections;
// Tests call `generate_with`; `generate` is build.rs's entry point.
#[allow(dead_code)]
#[path = "../build/generate.rs"]
mod generate;
// The names are read here; the retry and guard classes are build.rs's.
#[allow(dead_code)]
#[path = "../build/operation_names.rs"]
mod operation_names;

use corrections::{CORRECTIONS, Correction};
use generate::{Generated, generate_with, parse_spec};
use serde_json::{Value, json};

fn vendored() -> Value {
    parse_spec(include_str!("../openapi/qstash.yaml")).expect("the vendored spec parses")
}

fn all_but(name: &str) -> Vec<Correction> {
    assert!(
        CORRECTIONS.iter().any(|c| c.name == name),
        "no correction {name}"
    );
    CORRECTIONS
        .iter()
        .copied()
        .filter(|c| c.name != name)
        .collect()
}

fn generate_all() -> Generated {
    generate_with(vendored(), CORRECTIONS).expect("the corrected spec generates")
}

/// The text of the generated item that starts with `start`, up to the next
/// blank-line-free closing brace at the item's indentation.
fn item<'a>(code: &'a str, start: &str) -> &'a str {
    let at = code
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not generated"));
    let rest = &code[at..];
    let end = rest.find("\n    }\n").map_or(rest.len(), |e| e + 6);
    &rest[..end]
}

#[test]
fn vendored_spec_generates_every_operation_under_its_table_name() {
    let generated = generate_all();
    assert_eq!(generated.operations.len(), 40);
    assert!(generated.warnings.is_empty(), "{:#?}", generated.warnings);
    for (method, path, name) in &generated.operations {
        assert_eq!(
            operation_names::table_name(method, path),
            Some(name.as_str()),
            "{method} {path}"
        );
        assert!(
            generated.code.contains(&format!("pub fn {name}(")),
            "no method {name}"
        );
    }
}

#[test]
fn every_table_row_names_an_operation_of_the_vendored_spec() {
    let generated = generate_all();
    for operation_names::Operation {
        method, path, name, ..
    } in operation_names::OPERATIONS
    {
        assert!(
            generated
                .operations
                .iter()
                .any(|(m, p, n)| m == method && p == path && n == name),
            "stale row {method} {path} {name}"
        );
    }
}

#[test]
fn every_correction_changes_the_vendored_spec() {
    let report = generate_all().report;
    assert_eq!(report.len(), CORRECTIONS.len());
    for line in report {
        assert!(!line.contains("   0 change(s)"), "{line}");
    }
}

#[test]
fn without_the_downgrade_openapi_3_1_is_refused() {
    let error = generate_with(vendored(), &all_but("downgrade-3.1-to-3.0")).err();
    let error = error.expect("3.1.0 must be refused");
    assert!(error.contains("invalid version: 3.1.0"), "{error}");
}

#[test]
fn downgrade_rewrites_3_1_schema_constructs() {
    let mut spec = json!({
        "openapi": "3.1.0",
        "components": {"schemas": {"S": {"type": "object", "properties": {
            "maybe": {"type": ["string", "null"], "examples": ["a", "b"]},
            "fixed": {"const": "v"},
            "positive": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}
        }}}},
        "paths": {"/p": {"get": {"parameters": [
            {"name": "q", "in": "query", "examples": {"one": {"value": 1}}}
        ]}}}
    });
    let downgrade = CORRECTIONS
        .iter()
        .copied()
        .filter(|c| c.name == "downgrade-3.1-to-3.0");
    corrections::apply(&mut spec, &downgrade.collect::<Vec<_>>());
    let properties = &spec["components"]["schemas"]["S"]["properties"];
    assert_eq!(spec["openapi"], "3.0.3");
    assert_eq!(
        properties["maybe"],
        json!({"type": "string", "nullable": true, "example": "a"})
    );
    assert_eq!(properties["fixed"], json!({"enum": ["v"]}));
    assert_eq!(
        properties["positive"],
        json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true,
               "maximum": 10, "exclusiveMaximum": true})
    );
    // A parameter's `examples` map is valid 3.0 and stays.
    assert_eq!(
        spec["paths"]["/p"]["get"]["parameters"][0]["examples"]["one"]["value"],
        1
    );
}

#[test]
fn without_operation_ids_progenitor_fails() {
    assert!(generate_with(vendored(), &all_but("operation-ids")).is_err());
}

#[test]
fn without_a_single_request_media_type_progenitor_fails() {
    let error = generate_with(vendored(), &all_but("single-request-media-type")).err();
    assert!(
        error.is_some(),
        "three request media types must not generate"
    );
}

#[test]
fn without_dropping_wildcard_headers_the_client_sends_a_literal_star_header() {
    let without = generate_with(vendored(), &all_but("drop-wildcard-headers"))
        .expect("generates without the correction");
    // Header names are lower case in the generated code (constants).
    assert!(without.code.contains("\"upstash-forward-*\""));
    assert!(
        !generate_all()
            .code
            .to_ascii_lowercase()
            .contains("upstash-forward-*\"")
    );
}

#[test]
fn without_dropping_duplicate_parameters_bulk_cancel_has_a_duplicate_field() {
    // `callerIp` and `callerIP` both become `caller_ip`: a struct with the
    // same field twice, which does not compile.
    let caller_ip_fields = |code: &str| {
        item(code, "pub struct CancelMessages<'a>")
            .matches("caller_ip: Result<")
            .count()
    };
    let without = generate_with(vendored(), &all_but("drop-duplicate-parameters"))
        .expect("generates, but does not compile");
    assert_eq!(caller_ip_fields(&without.code), 2);
    assert_eq!(caller_ip_fields(&generate_all().code), 1);
}

#[test]
fn url_group_branch_decodes_first_only_with_the_correction() {
    let without = generate_with(vendored(), &all_but("url-group-publish-branch-first"))
        .expect("generates without the correction");
    let enum_without = item(&without.code, "pub enum PublishMessageResponse");
    let first_variant = enum_without.lines().nth(1).unwrap_or_default();
    assert!(!first_variant.contains("messages"), "{enum_without}");

    let generated = generate_all();
    let enum_with = item(&generated.code, "pub enum PublishMessageResponse");
    let first_variant = enum_with.lines().nth(1).unwrap_or_default();
    assert!(
        first_variant.contains("messages: ::std::vec::Vec"),
        "{enum_with}"
    );
}

#[test]
fn undeclared_2xx_is_success_only_with_the_correction() {
    // The builder's `send` decodes on this match arm.
    let pause_queue_accepts_any_2xx = |code: &str| {
        let start = code
            .find("pub struct PauseQueue<'a>")
            .expect("PauseQueue builder");
        let end = code[start..]
            .find("pub struct ResumeQueue<'a>")
            .expect("ResumeQueue builder");
        code[start..start + end].contains("200..=299 =>")
    };
    let without = generate_with(vendored(), &all_but("success-status-range"))
        .expect("generates without the correction");
    assert!(!pause_queue_accepts_any_2xx(&without.code));
    assert!(pause_queue_accepts_any_2xx(&generate_all().code));
}

#[test]
fn an_operation_missing_from_the_table_generates_under_a_derived_name() {
    let mut spec = vendored();
    spec["paths"]["/v2/workflows/{workflowRunId}/cancel"] = json!({"post": {
        "summary": "Cancel a workflow run",
        "parameters": [{"name": "workflowRunId", "in": "path", "required": true,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "cancelled"}}
    }});
    let generated =
        generate_with(spec, CORRECTIONS).expect("a new operation never breaks the build");
    assert!(
        generated
            .code
            .contains("pub fn post_workflows_by_workflow_run_id_cancel(")
    );
    assert_eq!(generated.warnings.len(), 1, "{:#?}", generated.warnings);
    assert!(generated.warnings[0].contains("POST /v2/workflows/{workflowRunId}/cancel"));
}

#[test]
fn a_table_name_clashing_with_a_component_schema_is_reported() {
    let mut spec = vendored();
    spec["components"]["schemas"]["ListQueuesResponse"] = json!({"type": "object"});
    let generated = generate_with(spec, CORRECTIONS).expect("generates");
    assert!(
        generated
            .warnings
            .iter()
            .any(|w| w.contains("ListQueuesResponse")),
        "{:#?}",
        generated.warnings
    );
}

#[test]
fn generated_requests_send_destinations_raw_and_no_api_version() {
    let generated = generate_all();
    assert!(!generated.code.contains("\"api-version\""));
    for operation in ["PublishMessage", "EnqueueMessage", "CreateSchedule"] {
        let start = generated
            .code
            .find(&format!("pub struct {operation}<'a>"))
            .expect("builder");
        let send = &generated.code[start..];
        let url = &send[send.find("let pieces: [&str; ").expect("url")..];
        let url = &url[..url.find("];").expect("statement end")];
        assert!(url.contains("destination.as_str()"), "{operation}: {url}");
        assert!(
            !url.contains("encode_path(& destination"),
            "{operation}: {url}"
        );
    }
    assert!(
        generated.warnings.is_empty(),
        "the syntax-tree fixes must apply: {:#?}",
        generated.warnings
    );
}

/// What a `send` does on every call is rewritten to cost less (see
/// `build/generate.rs`, `RequestHeadersBuiltOnce`, `RequestsBuiltCheaply`,
/// `HeaderParametersOutOfLine`, `ParameterErrorsCold` and
/// `unset_parameters_unallocated`): without the rewrites, progenitor
/// formats each URL, allocates a header map with room for every header
/// parameter, parses each header name, inlines each header parameter's
/// conversion where only a test runs for an unset one, moves every
/// parameter out of the builder to check it, allocates a message for every
/// required parameter in `new`, and builds every request through reqwest's
/// builder.
#[test]
fn requests_are_built_without_formatting_parsing_or_spare_allocations() {
    let generated = generate_all();
    let code = &generated.code;
    let compact: String = code.split_whitespace().collect();
    assert!(
        !code.contains("let url = format!"),
        "a URL is still formatted"
    );
    assert!(
        !code.contains("let _url = format!"),
        "a URL is still formatted"
    );
    assert!(!code.contains(".concat()"), "a URL is still joined");
    assert!(compact.contains("letmuturl=::std::string::String::with_capacity(pieces.iter().map(|piece|piece.len()).sum(),);forpieceinpieces{url.push_str(piece);}"));
    assert!(!code.contains("HeaderMap::with_capacity"));
    assert!(code.contains("let mut header_map = crate::hooks::header_map(client);"));
    assert!(!code.contains("header_map.append(") && !code.contains(".append(\"Upstash"));
    // Header parameters: one test each, one call when any is set, names
    // evaluated when compiling, in the spec's order.
    // A generated item without whitespace.
    let item_compact = |start: &str| -> String { item(code, start).split_whitespace().collect() };
    let publish = item_compact("impl<'a> PublishMessage<'a>");
    assert!(publish.contains("ifcontent_type.is_some()||upstash_callback.is_some()||"));
    let names = &publish[publish.find("staticNAMES").expect("the names, a static")..];
    let at = |name: &str| {
        names
            .find(&format!(
                "::reqwest::header::HeaderName::from_static(\"{name}\""
            ))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!(at("content-type") < at("upstash-not-before"));
    assert!(at("upstash-not-before") < at("upstash-redact-fields"));
    assert!(at("upstash-redact-fields") < at("upstash-retries"));
    assert!(publish.contains(
        "crate::hooks::append_parameters(&mutheader_map,&NAMES,&[content_type.as_ref().map(|value|valueas&dyn::std::fmt::Display),"
    ));
    // Checked where they lie (left in the builder, which is not copied
    // whole to take the rest out of it), their errors cold.
    assert!(publish.contains("letSelf{client,destination,body,..}=self;"));
    assert!(publish.contains(
        "letupstash_retries=self.upstash_retries.as_ref().map_err(crate::hooks::invalid_parameter)?;"
    ));
    assert!(
        publish.contains("letbody=body.map_err(|e|crate::hooks::invalid_request(ife.is_empty()")
    );
    assert!(!compact.contains("map_err(Error::InvalidRequest)"));
    // A required header parameter is appended unconditionally.
    let schedule = item_compact("impl<'a> CreateSchedule<'a>");
    assert!(
        schedule.contains("Some(&upstash_cronas&dyn::std::fmt::Display)"),
        "{schedule}"
    );
    for builder in ["PublishMessage", "GetMessage", "PauseQueue"] {
        let start = code
            .find(&format!("impl<'a> {builder}<'a>"))
            .expect("builder impl");
        let rest = &code[start..];
        let new = &rest[..rest.find("pub fn send(").expect("send")];
        let new = &new[..new.find("\n        }\n").expect("end of new")];
        assert!(!new.contains("was not initialized"), "{builder}: {new}");
        assert!(
            new.contains("Err(::std::string::String::new())"),
            "{builder}: {new}"
        );
    }
    // A request of method, URL and body alone is built without reqwest's
    // builder; one with a JSON body or a query keeps it.
    assert!(publish.contains(
        "letmutrequest=crate::hooks::new_request(&client.client,::reqwest::Method::POST,url,Some(::reqwest::Body::from(body)),header_map,)?;"
    ));
    assert!(!publish.contains("client.client.post(") && !publish.contains("set_headers"));
    let queues = item_compact("impl<'a> ListQueues<'a>");
    assert!(queues.contains(
        "crate::hooks::new_request(&client.client,::reqwest::Method::GET,url,None,header_map,)?;"
    ));
    let upsert = item_compact("impl<'a> UpsertQueue<'a>");
    assert!(
        upsert.contains(".json(&body).build()?;crate::hooks::set_headers(&mutrequest,header_map);"),
        "{upsert}"
    );
    // The base URL is shared by the copy of the client a publish makes.
    assert!(code.contains("pub(crate) baseurl: ::std::sync::Arc<str>,"));
    assert!(code.contains("baseurl: baseurl.into(),"));
    assert!(!code.contains("baseurl.to_string()") && !code.contains("self.baseurl.as_str()"));
    assert!(generated.warnings.is_empty(), "{:#?}", generated.warnings);
}

/// The SDK-evidence corrections each add what the official SDKs send or
/// read; without one, the generated client cannot express it.
#[test]
fn sdk_corrections_add_what_the_sdks_send_and_read() {
    let all = generate_all().code;
    for (correction, builder, needle) in [
        (
            "queue-upsert-paused",
            "pub struct UpsertQueueBody",
            "pub paused:",
        ),
        (
            "enqueue-delay-and-flow-control",
            "pub struct EnqueueMessage<'a>",
            "upstash_flow_control_key:",
        ),
        (
            "enqueue-delay-and-flow-control",
            "pub struct EnqueueMessage<'a>",
            "upstash_not_before:",
        ),
        (
            "schedule-queue-and-flow-control",
            "pub struct CreateSchedule<'a>",
            "upstash_queue_name:",
        ),
        ("logs-filters", "pub struct ListLogs<'a>", "message_ids:"),
        (
            "logs-filters",
            "pub struct ListLogs<'a>",
            "flow_control_key:",
        ),
        (
            "dlq-list-filters",
            "pub struct ListDlqMessages<'a>",
            "dlq_ids:",
        ),
        (
            "dlq-retry-paging",
            "pub struct RetryDlqMessages<'a>",
            "cursor:",
        ),
        (
            "message-retry-delay-expression",
            "pub struct Message {",
            "pub retry_delay_expression:",
        ),
        (
            "publish-response-url",
            "pub struct PublishResponse {",
            "pub url:",
        ),
    ] {
        let without = generate_with(vendored(), &all_but(correction))
            .unwrap_or_else(|e| panic!("generates without {correction}: {e}"));
        assert!(
            item(&all, builder).contains(needle),
            "{correction}: `{needle}` not in `{builder}`"
        );
        assert!(
            !item(&without.code, builder).contains(needle),
            "`{needle}` is in `{builder}` without {correction}"
        );
    }
}

/// The enums QStash sends get a catch-all variant and the other spellings;
/// request enums stay closed.
#[test]
fn server_enums_are_open_and_request_enums_closed() {
    let code = generate_all().code;
    let state = item(&code, "pub enum LogEntryState {");
    assert!(state.contains("Unknown(::std::string::String)"), "{state}");
    assert!(state.contains("alias = \"CANCELED\""), "{state}");
    assert!(code.contains("\"CANCELED\" => Ok(Self::Cancelled)"));
    assert!(code.contains("other => Ok(Self::Unknown(other.to_string()))"));
    let filter = item(&code, "pub enum ListLogsState {");
    assert!(!filter.contains("Unknown"), "{filter}");
}

/// A raw-bytes body has no `Content-Type` unless the caller gives one:
/// progenitor's default `application/octet-stream` is gone.
#[test]
fn raw_bodies_get_no_default_media_type() {
    let code = generate_all().code;
    for operation in ["PublishMessage", "EnqueueMessage", "CreateSchedule"] {
        let start = code
            .find(&format!("impl<'a> {operation}<'a>"))
            .expect("builder impl");
        let rest = &code[start..];
        let send = &rest[..rest.find("let info = OperationInfo").expect("send")];
        assert!(
            !send.contains("application/octet-stream"),
            "{operation} still labels its body"
        );
        assert!(send.contains("\"content-type\""), "{operation}: {send}");
    }
}

#[test]
fn lists_in_answers_are_always_sent_and_request_bodies_unchanged() {
    let list = json!({"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Endpoint"}},
        "tags": {"type": "array", "items": {"type": "string"}}
    }});
    let mut spec = vendored();
    spec["paths"]["/v2/things"] = json!({"post": {
        "requestBody": {"content": {"application/json": {"schema": list}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": list}}}}
    }});
    let generated = generate_with(spec, CORRECTIONS).expect("generates");
    let skip = "skip_serializing_if = \"::std::vec::Vec::is_empty\"";
    let field = |model: &str, name: &str| -> String {
        let model = item(&generated.code, &format!("pub struct {model} {{"));
        let end = model.find(&format!("pub {name}:")).expect("the field");
        let start = model[..end].rfind("#[serde").expect("its attribute");
        model[start..end].to_owned()
    };
    // What the client sends keeps leaving an empty list out...
    assert!(field("PostThingsBody", "items").contains(skip));
    // ...what a server answers with sends its list of records as `[]`
    // (still decoding a missing one), but leaves out plain values.
    let records = field("PostThingsResponse", "items");
    assert!(!records.contains(skip), "{records}");
    assert!(records.contains("#[serde(default)]"), "{records}");
    assert!(field("PostThingsResponse", "tags").contains(skip));
    let vendored = generate_all();
    for answer in [
        "ListDlqMessagesResponse",
        "RetryDlqMessagesResponse",
        "ListLogsResponse",
        "UrlGroup",
    ] {
        let model = item(&vendored.code, &format!("pub struct {answer} {{"));
        assert!(!model.contains(skip), "{model}");
    }
    let message = item(&vendored.code, "pub struct Message {");
    assert!(message.contains(skip), "labels stay out when empty");
}

/// Every `send` builds and checks its request when called, then returns
/// a future holding only what `crate::hooks::exec` sends, and decodes the
/// answer `exec` already read, rather than a rebuilt `reqwest::Response`
/// read a second time; only an undeclared answer becomes a
/// `reqwest::Response` again.
/// A builder whose operation has a parameter named `prepared` (so a setter
/// of that name) gets `prepared_` for its sends' shared preparation.
#[test]
fn a_parameter_named_prepared_does_not_clash_with_the_preparation() {
    let mut spec = vendored();
    spec["paths"]["/v2/queues/{queueName}/pause"]["post"]["parameters"]
        .as_array_mut()
        .expect("the operation's parameters")
        .push(json!({"name": "prepared", "in": "query", "schema": {"type": "string"}}));
    let generated = generate_with(spec, CORRECTIONS).expect("generates");
    let pause: String = item(&generated.code, "impl<'a> PauseQueue<'a>")
        .split_whitespace()
        .collect();
    assert!(pause.contains("pubfnprepared<V>("), "the setter: {pause}");
    assert!(pause.contains("fnprepared_(self,)"), "{pause}");
    assert_eq!(
        pause
            .matches("crate::hooks::answer(self.prepared_(),")
            .count(),
        2
    );
    assert!(generated.warnings.is_empty(), "{:#?}", generated.warnings);
}

#[test]
fn sends_prepare_then_decode_the_answer_read_once_in_exec() {
    let generated = generate_all();
    let code = &generated.code;
    let compact: String = code.split_whitespace().collect();
    // One `prepared` per operation, which both its sends call.
    for (call, count) in [
        ("crate::hooks::pre(client, &mut request, &info)?", 1),
        ("Ok(crate::hooks::exec(client, request, &info))", 1),
        ("crate::hooks::answer(self.prepared(),", 2),
    ] {
        let sends = compact.matches(&call.replace(' ', "")).count();
        assert_eq!(sends, count * generated.operations.len(), "{call}");
    }
    for gone in [
        "async fn send",
        "client.pre(",
        "client.exec(",
        "client.post(&result",
        "ResponseValue::from_response",
        "ResponseValue::empty",
        "UnexpectedResponse(response)",
    ] {
        assert!(!code.contains(gone), "`{gone}` is still generated");
    }
    assert!(code.contains("response.decode()"));
    assert!(code.contains("response.empty()"));
    assert!(code.contains("Error::UnexpectedResponse(response.into_response())"));
    assert!(
        generated
            .warnings
            .iter()
            .all(|w| !w.contains("crate::hooks"))
    );
}
