//! The generation pipeline, shared by `build.rs` and the tests that check
//! each spec correction is needed: YAML text → JSON value → corrections →
//! OpenAPI 3.0 → progenitor → formatted Rust source.

use serde_json::Value;

use crate::corrections::{CORRECTIONS, Correction};

/// What a run of the pipeline produced.
pub struct Generated {
    /// The client's Rust source.
    pub code: String,
    /// One line per correction: its name, how many places it changed, why.
    pub report: Vec<String>,
    /// What the build should print as warnings.
    pub warnings: Vec<String>,
    /// `(method, path, operation name)` of every generated operation.
    pub operations: Vec<(String, String, String)>,
}

/// Parses a spec written in YAML (or JSON, a subset of it).
pub fn parse_spec(text: &str) -> Result<Value, String> {
    let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    Ok(yaml_to_json(yaml))
}

/// Runs every correction, then generates.
pub fn generate(spec: Value) -> Result<Generated, String> {
    generate_with(spec, CORRECTIONS)
}

/// Runs the given corrections, then generates. Tests leave one correction
/// out to show what breaks without it.
pub fn generate_with(mut spec: Value, corrections: &[Correction]) -> Result<Generated, String> {
    let (report, mut warnings) = crate::corrections::apply(&mut spec, corrections);
    let spec: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("the corrected spec is not OpenAPI 3.0: {e}"))?;
    warnings.extend(name_clashes(&spec));
    let raw_destinations = raw_destination_operations(&spec, &mut warnings);
    let operations = spec
        .operations()
        .map(|(path, method, op)| {
            let id = op.operation_id.clone().unwrap_or_default();
            (method.to_string(), path.to_string(), id)
        })
        .collect();

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote_path("crate::client::ClientConfig")?)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("schemars::JsonSchema");
    // progenitor reports some unsupported input by panicking; a panic is
    // turned into an error naming it, so a build fails with a message.
    let tokens =
        std::panic::catch_unwind(|| progenitor::Generator::new(&settings).generate_tokens(&spec))
            .map_err(|panic| format!("progenitor panicked: {}", panic_message(&panic)))?
            .map_err(|e| format!("progenitor: {e}"))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| format!("generated code: {e}"))?;
    hide_generated_constructors(&mut file);

    // progenitor's usage sketches use unbound variables and are marked
    // `ignore`; as `text` they still show, without posing as doctests.
    let api = prettyplease::unparse(&file).replace("```ignore", "```text");
    let code = format!(
        "{api}\n/// Operations whose last path segment is a destination URL, sent raw.\n\
         pub(crate) const RAW_DESTINATION_OPERATIONS: &[&str] = &{raw_destinations:?};\n"
    );
    Ok(Generated {
        code,
        report,
        warnings,
        operations,
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn quote_path(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse().map_err(|e| format!("{path}: {e}"))
}

/// JSON cannot hold YAML's non-string keys (an unquoted `200:`), so keys are
/// turned into their string form.
fn yaml_to_json(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_norway::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

/// Operations that take a destination URL as their last path segment; the
/// request hook puts it on the wire unencoded, as the official SDKs do.
fn raw_destination_operations(
    spec: &openapiv3::OpenAPI,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let mut operations = Vec::new();
    for (path, _, operation) in spec.operations() {
        let Some(id) = operation.operation_id.clone() else {
            continue;
        };
        if path.ends_with("/{destination}") {
            operations.push(id);
        } else if path.contains("{destination}") {
            warnings.push(format!(
                "operation `{id}` has {{destination}} before the end of its path; it is sent percent-encoded"
            ));
        }
    }
    operations.sort();
    operations
}

/// progenitor names an operation's inline types `<Name>Response` and
/// `<Name>Body`; if a component schema already has that name, typify silently
/// reuses the component and the operation's own schema is lost.
fn name_clashes(spec: &openapiv3::OpenAPI) -> Vec<String> {
    let components: Vec<&String> = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .collect();
    spec.operations()
        .filter_map(|(_, _, op)| op.operation_id.as_deref())
        .flat_map(|id| {
            let pascal: String = id
                .split('_')
                .map(|w| {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect();
            [format!("{pascal}Response"), format!("{pascal}Body")]
                .into_iter()
                .filter(|name| components.contains(&name))
                .map(move |name| {
                    format!("operation `{id}` would reuse component schema `{name}` for its own type: rename it in build/operation_names.rs")
                })
        })
        .collect()
}

/// `qstash::Client::builder()` is the one way to make a client: progenitor's
/// own constructors take no auth and `new` panics if reqwest cannot build, so
/// they stay inside the crate.
fn hide_generated_constructors(file: &mut syn::File) {
    for item in &mut file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let is_client = matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"));
        if !is_client || block.trait_.is_some() {
            continue;
        }
        for member in &mut block.items {
            if let syn::ImplItem::Fn(function) = member
                && matches!(
                    function.sig.ident.to_string().as_str(),
                    "new" | "new_with_client"
                )
            {
                function.vis = syn::parse_quote!(pub(crate));
            }
        }
    }
}
