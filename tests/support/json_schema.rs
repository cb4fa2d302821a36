//! A JSON Schema validator for the keywords schemars 0.8 emits, shared by
//! the fixture check (`tests/schemas.rs`) and the dev server's tests.

use serde_json::Value;

/// Validates `value` against `schema`, a schemars 0.8 schema, for the
/// keywords schemars emits. Objects are strict: a property the schema does
/// not name is an error (a field our types would drop).
pub fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
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
