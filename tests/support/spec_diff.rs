//! What changed between two upstream specs, per operation: the report of
//! the spec-history check (`tests/spec_history.rs`), also read by the spec
//! mutations (`tests/spec_mutations.rs`) to show it names each change.
//!
//! Both specs are compared as upstream wrote them (before the corrections
//! of `build/corrections.rs`), `$ref`s resolved, so a change to a shared
//! schema shows under every operation that answers with it. For each
//! operation both have: success statuses, answer and request-body schemas
//! (fields added, removed, newly required or optional, type, bounds,
//! format, enum values, deprecation), parameters added, removed or changed
//! (type, bounds, required, deprecated), the operation's own deprecation,
//! and error statuses added or removed. Operations added or removed are
//! listed as such.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::operation_names::{derived_name, table_name};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How deep a schema is followed; QStash's schemas nest three or four
/// levels, and a `$ref` cycle stops here too.
const MAX_DEPTH: usize = 12;

/// The report: operations added and removed, then one section per operation
/// that changed, then the component schemas that differ.
#[derive(Debug, Default)]
pub struct SpecDiff {
    /// `METHOD path (name)` of operations only the new spec has.
    pub added: Vec<String>,
    /// `METHOD path (name)` of operations only the old spec has.
    pub removed: Vec<String>,
    /// `METHOD path (name)` → what changed in it.
    pub changed: BTreeMap<String, Vec<String>>,
    /// Component schemas added, removed or different.
    pub schemas: Vec<String>,
}

impl SpecDiff {
    /// The report as indented lines.
    pub fn lines(&self) -> Vec<String> {
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.join(", ")
            }
        };
        let mut lines = vec![
            format!("operations added: {}", list(&self.added)),
            format!("operations removed: {}", list(&self.removed)),
        ];
        for (operation, changes) in &self.changed {
            lines.push(format!("{operation}:"));
            lines.extend(changes.iter().map(|change| format!("  {change}")));
        }
        if !self.schemas.is_empty() {
            lines.push(format!("schemas that differ: {}", self.schemas.join(", ")));
        }
        lines
    }

    /// Whether the report mentions `text` anywhere.
    pub fn mentions(&self, text: &str) -> bool {
        self.lines().iter().any(|line| line.contains(text))
    }
}

/// Compares `new` with `old`, both specs as parsed JSON values.
pub fn diff(old: &Value, new: &Value) -> SpecDiff {
    let (ours, theirs) = (operations(old), operations(new));
    let mut report = SpecDiff {
        added: theirs
            .keys()
            .filter(|key| !ours.contains_key(*key))
            .map(label)
            .collect(),
        removed: ours
            .keys()
            .filter(|key| !theirs.contains_key(*key))
            .map(label)
            .collect(),
        ..SpecDiff::default()
    };
    for (key, before) in &ours {
        let Some(after) = theirs.get(key) else {
            continue;
        };
        let mut changes = Vec::new();
        operation_changes(
            &Side {
                spec: old,
                value: before,
            },
            &Side {
                spec: new,
                value: after,
            },
            &mut changes,
        );
        if !changes.is_empty() {
            report.changed.insert(label(key), changes);
        }
    }
    report.schemas = schema_changes(old, new);
    report
}

/// `(method, path)` → the operation.
fn operations(spec: &Value) -> BTreeMap<(String, String), &Value> {
    let mut all = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if METHODS.contains(&method.as_str()) {
                all.insert((method.clone(), path.clone()), operation);
            }
        }
    }
    all
}

fn label((method, path): &(String, String)) -> String {
    let name = table_name(method, path)
        .map(str::to_string)
        .unwrap_or_else(|| derived_name(method, path));
    format!("{} {path} ({name})", method.to_uppercase())
}

/// A value and the spec its `$ref`s point into.
struct Side<'a> {
    spec: &'a Value,
    value: &'a Value,
}

impl<'a> Side<'a> {
    fn get(&self, key: &str) -> Side<'a> {
        Side {
            spec: self.spec,
            value: resolve(self.spec, &self.value[key]),
        }
    }

    fn with(&self, value: &'a Value) -> Side<'a> {
        Side {
            spec: self.spec,
            value: resolve(self.spec, value),
        }
    }
}

/// Follows `$ref` (`#/components/...`) until a value without one.
fn resolve<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..MAX_DEPTH {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match reference
            .strip_prefix('#')
            .and_then(|pointer| spec.pointer(pointer))
        {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

fn operation_changes(old: &Side, new: &Side, changes: &mut Vec<String>) {
    if flag(old.value, "deprecated") != flag(new.value, "deprecated") {
        changes.push(format!(
            "operation {}",
            deprecation(flag(new.value, "deprecated"))
        ));
    }
    parameter_changes(old, new, changes);

    let (old_body, new_body) = (request_schema(old), request_schema(new));
    match (&old_body, &new_body) {
        (None, None) => {}
        (Some(_), None) => changes.push("request body: removed".into()),
        (None, Some(body)) => changes.push(format!("request body: added ({})", shape(body))),
        (Some(before), Some(after)) => schema_diff("body", before, after, 0, changes),
    }

    let (old_success, new_success) = (statuses(old, true), statuses(new, true));
    if old_success != new_success {
        changes.push(format!(
            "success: {} → {}",
            codes(&old_success),
            codes(&new_success)
        ));
    }
    match (answer_schema(old), answer_schema(new)) {
        (None, None) => {}
        (Some(before), None) => changes.push(format!("answer: {} → none", shape(&before))),
        (None, Some(after)) => changes.push(format!("answer: none → {}", shape(&after))),
        (Some(before), Some(after)) => schema_diff("answer", &before, &after, 0, changes),
    }

    let (old_errors, new_errors) = (statuses(old, false), statuses(new, false));
    let added: Vec<_> = new_errors.difference(&old_errors).cloned().collect();
    let removed: Vec<_> = old_errors.difference(&new_errors).cloned().collect();
    if !added.is_empty() {
        changes.push(format!("error statuses added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        changes.push(format!("error statuses removed: {}", removed.join(", ")));
    }
}

fn flag(value: &Value, key: &str) -> bool {
    value[key].as_bool().unwrap_or(false)
}

fn deprecation(now: bool) -> &'static str {
    if now {
        "deprecated"
    } else {
        "no longer deprecated"
    }
}

/// `in:name` → the parameter, resolved.
fn parameters<'a>(operation: &Side<'a>) -> BTreeMap<String, Side<'a>> {
    operation.value["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|parameter| operation.with(parameter))
        .map(|parameter| {
            let key = format!(
                "{}:{}",
                parameter.value["in"].as_str().unwrap_or("?"),
                parameter.value["name"].as_str().unwrap_or("?")
            );
            (key, parameter)
        })
        .collect()
}

fn parameter_changes(old: &Side, new: &Side, changes: &mut Vec<String>) {
    let (ours, theirs) = (parameters(old), parameters(new));
    for (key, parameter) in &theirs {
        if !ours.contains_key(key) {
            let required = if flag(parameter.value, "required") {
                "required"
            } else {
                "optional"
            };
            let schema = parameter.get("schema");
            changes.push(format!(
                "parameter added: {key} ({}, {required})",
                shape(&schema)
            ));
        }
    }
    for key in ours.keys().filter(|key| !theirs.contains_key(*key)) {
        changes.push(format!("parameter removed: {key}"));
    }
    for (key, before) in &ours {
        let Some(after) = theirs.get(key) else {
            continue;
        };
        if flag(before.value, "required") != flag(after.value, "required") {
            let now = if flag(after.value, "required") {
                "required"
            } else {
                "optional"
            };
            changes.push(format!("parameter {key}: now {now}"));
        }
        if flag(before.value, "deprecated") != flag(after.value, "deprecated") {
            let now = deprecation(flag(after.value, "deprecated"));
            changes.push(format!("parameter {key}: {now}"));
        }
        schema_diff(
            &format!("parameter {key}"),
            &before.get("schema"),
            &after.get("schema"),
            0,
            changes,
        );
    }
}

/// The JSON request body's schema (or the first media type's).
fn request_schema<'a>(operation: &Side<'a>) -> Option<Side<'a>> {
    let body = operation.get("requestBody");
    media_schema(&body)
}

fn media_schema<'a>(holder: &Side<'a>) -> Option<Side<'a>> {
    let content = holder.value["content"].as_object()?;
    let media = content
        .get("application/json")
        .or_else(|| content.values().next())?;
    media.get("schema").map(|schema| holder.with(schema))
}

/// The status codes declared as success (2xx) or as errors (the rest).
fn statuses(operation: &Side, success: bool) -> BTreeSet<String> {
    operation.value["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, _)| code.clone())
        .filter(|code| code.starts_with('2') == success)
        .collect()
}

fn codes(codes: &BTreeSet<String>) -> String {
    if codes.is_empty() {
        "none".into()
    } else {
        codes.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// The schema of the first success answer that has a body.
fn answer_schema<'a>(operation: &Side<'a>) -> Option<Side<'a>> {
    let responses = operation.value["responses"].as_object()?;
    responses
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .find_map(|(_, response)| media_schema(&operation.with(response)))
}

/// A short description of a schema: `integer ≥1 ≤500 int64`,
/// `string enum[3]`, `array of object`, `object {a, b}`, `oneOf[2]`.
fn shape(schema: &Side) -> String {
    let value = schema.value;
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(branches) = value[key].as_array() {
            return format!("{key}[{}]", branches.len());
        }
    }
    let mut out = match &value["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ if value["properties"].is_object() => "object".into(),
        _ => "any".into(),
    };
    if out == "array" && value.get("items").is_some() {
        out = format!("array of {}", scalar_shape(&schema.get("items"), true));
    }
    if let Some(properties) = value["properties"].as_object() {
        let names: Vec<&str> = properties.keys().map(String::as_str).collect();
        out.push_str(&format!(" {{{}}}", names.join(", ")));
    }
    for (key, sign) in [
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
        ("minLength", "len≥"),
        ("maxLength", "len≤"),
    ] {
        match &value[key] {
            Value::Number(bound) => out.push_str(&format!(" {sign}{bound}")),
            // OpenAPI 3.0: `exclusiveMinimum: true` qualifies `minimum`.
            Value::Bool(true) => out.push_str(&format!(" ({key})")),
            _ => {}
        }
    }
    if let Some(format) = value["format"].as_str() {
        out.push_str(&format!(" {format}"));
    }
    if let Some(values) = value["enum"].as_array() {
        out.push_str(&format!(" enum[{}]", values.len()));
    }
    out
}

/// The type, bounds and format of a schema, without its properties and
/// enum values (those are compared one by one), and without its items
/// unless `with_items`.
fn scalar_shape(schema: &Side, with_items: bool) -> String {
    let mut bare = schema.value.clone();
    if let Some(object) = bare.as_object_mut() {
        object.remove("properties");
        object.remove("enum");
        if !with_items {
            object.remove("items");
        }
    }
    shape(&Side {
        spec: schema.spec,
        value: &bare,
    })
}

/// What differs between two schemas, each line prefixed with `path`.
fn schema_diff(path: &str, old: &Side, new: &Side, depth: usize, changes: &mut Vec<String>) {
    // Equal values may still differ where they `$ref` a changed schema, so
    // both are walked whole.
    if depth > MAX_DEPTH {
        return;
    }
    // Items of two arrays are compared below, one level down.
    let arrays = old.value["items"].is_object() && new.value["items"].is_object();
    let (before, after) = (scalar_shape(old, !arrays), scalar_shape(new, !arrays));
    if before != after {
        changes.push(format!("{path}: {before} → {after}"));
    }
    if flag(old.value, "deprecated") != flag(new.value, "deprecated") {
        changes.push(format!(
            "{path}: {}",
            deprecation(flag(new.value, "deprecated"))
        ));
    }
    let values = |schema: &Side| -> BTreeSet<String> {
        schema.value["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|value| value.as_str().map_or(value.to_string(), str::to_string))
            .collect()
    };
    let (old_values, new_values) = (values(old), values(new));
    let added: Vec<_> = new_values.difference(&old_values).cloned().collect();
    let removed: Vec<_> = old_values.difference(&new_values).cloned().collect();
    if !added.is_empty() {
        changes.push(format!("{path}: enum values added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        changes.push(format!(
            "{path}: enum values removed: {}",
            removed.join(", ")
        ));
    }

    let required = |schema: &Side| -> BTreeSet<String> {
        schema.value["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (old_required, new_required) = (required(old), required(new));
    let empty = serde_json::Map::new();
    let old_properties = old.value["properties"].as_object().unwrap_or(&empty);
    let new_properties = new.value["properties"].as_object().unwrap_or(&empty);
    for (name, property) in new_properties {
        if !old_properties.contains_key(name) {
            let required = if new_required.contains(name) {
                "required"
            } else {
                "optional"
            };
            changes.push(format!(
                "{path}.{name}: added ({}, {required})",
                shape(&new.with(property))
            ));
        }
    }
    for name in old_properties.keys() {
        if !new_properties.contains_key(name) {
            changes.push(format!("{path}.{name}: removed"));
        }
    }
    for (name, property) in old_properties {
        let Some(theirs) = new_properties.get(name) else {
            continue;
        };
        match (old_required.contains(name), new_required.contains(name)) {
            (false, true) => changes.push(format!("{path}.{name}: now required")),
            (true, false) => changes.push(format!("{path}.{name}: now optional")),
            _ => {}
        }
        schema_diff(
            &format!("{path}.{name}"),
            &old.with(property),
            &new.with(theirs),
            depth + 1,
            changes,
        );
    }
    for key in ["items", "additionalProperties"] {
        if old.value[key].is_object() && new.value[key].is_object() {
            let suffix = if key == "items" { "[]" } else { "{*}" };
            schema_diff(
                &format!("{path}{suffix}"),
                &old.get(key),
                &new.get(key),
                depth + 1,
                changes,
            );
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        let (Some(ours), Some(theirs)) = (old.value[key].as_array(), new.value[key].as_array())
        else {
            continue;
        };
        for (index, (before, after)) in ours.iter().zip(theirs).enumerate() {
            schema_diff(
                &format!("{path}.{key}[{index}]"),
                &old.with(before),
                &new.with(after),
                depth + 1,
                changes,
            );
        }
    }
}

/// Component schemas added, removed, or whose definition differs.
fn schema_changes(old: &Value, new: &Value) -> Vec<String> {
    let schemas = |spec: &Value| {
        spec["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let (ours, theirs) = (schemas(old), schemas(new));
    let mut out: Vec<String> = ours
        .iter()
        .filter_map(|(name, schema)| match theirs.get(name) {
            None => Some(format!("{name} (removed)")),
            Some(other) if other != schema => Some(name.clone()),
            Some(_) => None,
        })
        .collect();
    out.extend(
        theirs
            .keys()
            .filter(|name| !ours.contains_key(*name))
            .map(|name| format!("{name} (added)")),
    );
    out
}
