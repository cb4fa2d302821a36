//! The generation pipeline, shared by `build.rs` and the tests that check
//! each spec correction is needed: YAML text → JSON value → corrections →
//! OpenAPI 3.0 → progenitor → formatted Rust source.

use quote::ToTokens;
use serde_json::Value;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

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
    let mut wire = WireFixes::default();
    syn::visit_mut::visit_file_mut(&mut wire, &mut file);
    answer_lists_always_sent(&mut file);
    if wire.raw_destinations == 0 || wire.api_version_headers == 0 {
        warnings.push(format!(
            "the generated code changed shape: {} destination(s) sent raw, {} api-version header(s) removed",
            wire.raw_destinations, wire.api_version_headers
        ));
    }

    // progenitor's usage sketches use unbound variables and are marked
    // `ignore`; as `text` they still show, without posing as doctests.
    let api = prettyplease::unparse(&file).replace("```ignore", "```text");
    Ok(Generated {
        code: api,
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

/// Two things progenitor puts on the wire that the official SDKs do not,
/// fixed in the generated syntax tree so the requests are right when built
/// (rather than patched on every request):
/// - path parameters are percent-encoded, `/` included; a `destination` (a
///   URL or URL-group name) goes into the path as it is, its own `?query`
///   becoming the request's query, as the official SDKs send it;
/// - every request carries `api-version: <info.version>`, which QStash does
///   not read.
#[derive(Default)]
struct WireFixes {
    raw_destinations: usize,
    api_version_headers: usize,
}

impl VisitMut for WireFixes {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let before = block.stmts.len();
        block.stmts.retain(|statement| {
            !statement
                .to_token_stream()
                .to_string()
                .contains("\"api-version\"")
        });
        self.api_version_headers += before - block.stmts.len();
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let Ok(mut args) =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        else {
            return;
        };
        let mut changed = false;
        for arg in args.iter_mut() {
            if let Some(raw) = unencoded_destination(arg) {
                *arg = raw;
                changed = true;
            }
        }
        if changed {
            self.raw_destinations += 1;
            mac.tokens = args.to_token_stream();
        }
    }
}

/// `encode_path(&destination.to_string())` → `destination.to_string()`.
fn unencoded_destination(expr: &syn::Expr) -> Option<syn::Expr> {
    let syn::Expr::Call(call) = expr else {
        return None;
    };
    let is_encode_path =
        matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("encode_path"));
    if call.args.len() != 1 {
        return None;
    }
    let syn::Expr::Reference(argument) = &call.args[0] else {
        return None;
    };
    let syn::Expr::MethodCall(to_string) = &*argument.expr else {
        return None;
    };
    let is_destination =
        matches!(&*to_string.receiver, syn::Expr::Path(p) if p.path.is_ident("destination"));
    (is_encode_path && is_destination).then(|| (*argument.expr).clone())
}

/// typify leaves an empty optional list out when serializing
/// (`skip_serializing_if = "Vec::is_empty"`). QStash's answers carry their
/// lists of records even when empty (an empty DLQ is `{"messages": []}`),
/// and the official SDKs map over them (qstash-js src/client/dlq.ts:83,
/// `messagesPayload.messages.map`), so the dev server, which answers with
/// these models, must send them. Changed: lists of models (`messages`,
/// `logs`, `responses`, `endpoints`), not lists of plain values such as
/// `labels`, which QStash leaves out; and only in types that appear in no
/// request body, so what the client sends stays as generated. Returns how
/// many fields changed.
pub fn answer_lists_always_sent(file: &mut syn::File) -> usize {
    let (models, request_types) = request_body_types(file);
    let mut changed = 0;
    for item in &mut file.items {
        let syn::Item::Mod(types) = item else {
            continue;
        };
        if types.ident != "types" {
            continue;
        }
        let Some((_, items)) = &mut types.content else {
            continue;
        };
        for item in items {
            let syn::Item::Struct(model) = item else {
                continue;
            };
            if request_types.contains(&model.ident.to_string()) {
                continue;
            }
            for field in &mut model.fields {
                if !list_of(&field.ty).is_some_and(|item| models.contains(&item)) {
                    continue;
                }
                for attribute in &mut field.attrs {
                    changed += usize::from(drop_skip_empty_vec(attribute));
                }
            }
        }
    }
    changed
}

/// `T` of a `Vec<T>` type, by its last path segment.
fn list_of(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    match arguments.args.first()? {
        syn::GenericArgument::Type(syn::Type::Path(item)) => {
            Some(item.path.segments.last()?.ident.to_string())
        }
        _ => None,
    }
}

/// The names of every generated model, and of the models a request body is
/// made of: the types of every operation builder's `body` field, and every
/// model those refer to.
fn request_body_types(
    file: &syn::File,
) -> (
    std::collections::HashSet<String>,
    std::collections::HashSet<String>,
) {
    use std::collections::{HashMap, HashSet};
    fn idents(tokens: proc_macro2::TokenStream, into: &mut HashSet<String>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => {
                    into.insert(ident.to_string());
                }
                proc_macro2::TokenTree::Group(group) => idents(group.stream(), into),
                _ => {}
            }
        }
    }
    let mut seeds = HashSet::new();
    let mut refers: HashMap<String, HashSet<String>> = HashMap::new();
    for item in &file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = &module.content else {
            continue;
        };
        for item in items {
            match (module.ident.to_string().as_str(), item) {
                ("builder", syn::Item::Struct(builder)) => {
                    for field in &builder.fields {
                        if field.ident.as_ref().is_some_and(|name| name == "body") {
                            idents(field.ty.to_token_stream(), &mut seeds);
                        }
                    }
                }
                ("types", syn::Item::Struct(model)) => {
                    let mut named = HashSet::new();
                    idents(model.fields.to_token_stream(), &mut named);
                    refers.insert(model.ident.to_string(), named);
                }
                ("types", syn::Item::Enum(model)) => {
                    let mut named = HashSet::new();
                    idents(model.variants.to_token_stream(), &mut named);
                    refers.insert(model.ident.to_string(), named);
                }
                _ => {}
            }
        }
    }
    let models: HashSet<String> = refers.keys().cloned().collect();
    let mut found: HashSet<String> = HashSet::new();
    let mut pending: Vec<String> = seeds
        .into_iter()
        .filter(|name| refers.contains_key(name))
        .collect();
    while let Some(name) = pending.pop() {
        if !found.insert(name.clone()) {
            continue;
        }
        if let Some(named) = refers.get(&name) {
            pending.extend(
                named
                    .iter()
                    .filter(|n| refers.contains_key(*n) && !found.contains(*n))
                    .cloned(),
            );
        }
    }
    (models, found)
}

/// Removes `skip_serializing_if = "::std::vec::Vec::is_empty"` from a
/// `#[serde(...)]` attribute (keeping `default`, so decoding still accepts
/// an answer without the list); whether it was there.
fn drop_skip_empty_vec(attribute: &mut syn::Attribute) -> bool {
    if !attribute.path().is_ident("serde") {
        return false;
    }
    let Ok(items) =
        attribute.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
    else {
        return false;
    };
    let is_skip_empty_vec = |meta: &syn::Meta| {
        matches!(meta, syn::Meta::NameValue(pair)
            if pair.path.is_ident("skip_serializing_if")
                && matches!(&pair.value, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. })
                    if text.value() == "::std::vec::Vec::is_empty"))
    };
    if !items.iter().any(is_skip_empty_vec) {
        return false;
    }
    let kept: Punctuated<syn::Meta, syn::Token![,]> = items
        .into_iter()
        .filter(|meta| !is_skip_empty_vec(meta))
        .collect();
    *attribute = syn::parse_quote!(#[serde(#kept)]);
    true
}
