//! Generates the QStash client from `openapi/qstash.yaml` with progenitor.
//!
//! spec (YAML, OpenAPI 3.1) → in-memory corrections (`build/corrections.rs`)
//! → progenitor → `$OUT_DIR/qstash_api.rs`, included by `src/generated.rs`.
//! `QSTASH_OPENAPI_SPEC=<path>` generates from another spec file instead; the
//! spec-history check uses it.

#[path = "build/corrections.rs"]
mod corrections;
#[path = "build/operation_names.rs"]
mod operation_names;

use std::path::{Path, PathBuf};
use std::{env, fs};

use serde_json::Value;

const SPEC_ENV: &str = "QSTASH_OPENAPI_SPEC";

fn main() {
    if let Err(message) = run() {
        // A build script reports through its exit status; the message says
        // which step of generation failed.
        eprintln!("error: qstash code generation failed: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let spec_path = match env::var_os(SPEC_ENV) {
        Some(path) => manifest_dir.join(path),
        None => manifest_dir.join("openapi/qstash.yaml"),
    };
    println!("cargo:rerun-if-env-changed={SPEC_ENV}");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");

    let text = fs::read_to_string(&spec_path)
        .map_err(|e| format!("reading {}: {e}", spec_path.display()))?;
    let yaml: serde_norway::Value = serde_norway::from_str(&text)
        .map_err(|e| format!("parsing {}: {e}", spec_path.display()))?;
    let mut spec = yaml_to_json(yaml);

    let (report, mut warnings) = corrections::apply_all(&mut spec);
    let spec: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("the corrected spec is not OpenAPI 3.0: {e}"))?;
    warnings.extend(name_clashes(&spec));
    let raw_destinations = raw_destination_operations(&spec, &mut warnings);

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote_path("crate::client::ClientConfig")?)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("schemars::JsonSchema");
    let tokens = progenitor::Generator::new(&settings)
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor: {e}"))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| format!("generated code: {e}"))?;
    hide_generated_constructors(&mut file);

    let code = format!(
        "{}\n/// Operations whose last path segment is a destination URL, sent raw.\n\
         pub(crate) const RAW_DESTINATION_OPERATIONS: &[&str] = &{raw_destinations:?};\n",
        prettyplease::unparse(&file)
    );
    write(&out_dir.join("qstash_api.rs"), &code)?;
    write(&out_dir.join("spec-corrections.txt"), &report.join("\n"))?;
    for warning in warnings {
        println!("cargo:warning={warning}");
    }
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("writing {}: {e}", path.display()))
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
