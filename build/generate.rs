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
    let server_enums = server_enums(&spec);
    let spec: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("the corrected spec is not OpenAPI 3.0: {e}"))?;
    warnings.extend(name_clashes(&spec));
    let operations: Vec<(String, String, String)> = spec
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
    let shared = shared_base_url(&mut file);
    if shared != 3 {
        warnings.push(format!(
            "the generated code changed shape: {shared} of 3 places hold the base URL as an `Arc<str>` (the field, its initializer, `ClientInfo::baseurl`), so every publish's copy of the client copies it"
        ));
    }
    let mut wire = WireFixes::default();
    syn::visit_mut::visit_file_mut(&mut wire, &mut file);
    answer_lists_always_sent(&mut file);
    if wire.raw_destinations == 0 || wire.api_version_headers == 0 || wire.default_media_types == 0
    {
        warnings.push(format!(
            "the generated code changed shape: {} destination(s) sent raw, {} api-version header(s) removed, {} default Content-Type(s) removed",
            wire.raw_destinations, wire.api_version_headers, wire.default_media_types
        ));
    }
    let ignoring = add_answer_ignoring_sends(&mut file);
    if ignoring != operations.len() {
        warnings.push(format!(
            "the generated code changed shape: {ignoring} of {} operation builders got `send_ignoring_answer`",
            operations.len()
        ));
    }
    let mut headers = RequestHeadersBuiltOnce::default();
    syn::visit_mut::visit_file_mut(&mut headers, &mut file);
    if headers.requests != 2 * operations.len()
        || headers.direct + headers.need_builder != headers.requests
    {
        warnings.push(format!(
            "the generated code changed shape: {} of {} sends' requests take their header map whole, {} of them built without reqwest's request builder, {} with it for a JSON body or a query",
            headers.requests,
            2 * operations.len(),
            headers.direct,
            headers.need_builder
        ));
    }
    let mut cheaply = RequestsBuiltCheaply::default();
    syn::visit_mut::visit_file_mut(&mut cheaply, &mut file);
    if cheaply.urls != 2 * operations.len() || cheaply.header_maps != 2 * operations.len() {
        warnings.push(format!(
            "the generated code changed shape: {} of {} sends' URLs are concatenated, {} start from the message's header map",
            cheaply.urls,
            2 * operations.len(),
            cheaply.header_maps
        ));
    }
    let mut parameters = HeaderParametersOutOfLine::default();
    syn::visit_mut::visit_file_mut(&mut parameters, &mut file);
    if parameters.left != 0
        || parameters.appended == 0
        || parameters.borrowed != parameters.optional
        || parameters.in_builder != parameters.borrowed
    {
        warnings.push(format!(
            "the generated code changed shape: {} header parameter(s) appended inline, {} through `crate::hooks::append_parameters`, {} of {} optional ones checked where they lie, {} of them left in the builder",
            parameters.left,
            parameters.appended,
            parameters.borrowed,
            parameters.optional,
            parameters.in_builder
        ));
    }
    if let Some(field) = unset_parameters_unallocated(&mut file) {
        warnings.push(format!(
            "the generated code changed shape: the required parameter `{field}` is not checked the way progenitor 0.15 checks it, so every builder's `new` still allocates its message"
        ));
    }
    let mut cold = ParameterErrorsCold::default();
    syn::visit_mut::visit_file_mut(&mut cold, &mut file);
    if cold.checks == 0 {
        warnings.push(
            "the generated code changed shape: no parameter check `map_err(Error::InvalidRequest)` was found, so their errors are not marked cold".to_string(),
        );
    }
    syn::visit_mut::visit_file_mut(&mut AnswersReadOnce, &mut file);
    let split = sends_prepared_then_awaited(&mut file);
    if split != 2 * operations.len() {
        warnings.push(format!(
            "the generated code changed shape: {split} of {} sends prepare their request before awaiting it through `crate::hooks`",
            2 * operations.len()
        ));
    }
    let opened = open_server_enums(&mut file, &server_enums);
    if let Some(missing) = server_enums.iter().find(|name| !opened.contains(name)) {
        warnings.push(format!(
            "server enum `{missing}` was not found in the generated code, so it has no catch-all variant: typify may name it differently now"
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

/// The generated client's base URL as an `Arc<str>` rather than a
/// `String`: a publish, enqueue or schedule makes a copy of the client for
/// its one call (`Client::api_with_headers`), which then shares the URL
/// instead of allocating and copying it. Rewrites the field, its
/// initializer in `new_with_client` and `ClientInfo::baseurl`; returns how
/// many of those three it found.
fn shared_base_url(file: &mut syn::File) -> usize {
    let is_client = |ty: &syn::Type| matches!(ty, syn::Type::Path(p) if p.path.is_ident("Client"));
    let mut rewritten = 0;
    for item in &mut file.items {
        match item {
            syn::Item::Struct(client) if client.ident == "Client" => {
                for field in &mut client.fields {
                    if field.ident.as_ref().is_some_and(|name| name == "baseurl") {
                        field.ty = syn::parse_quote!(::std::sync::Arc<str>);
                        rewritten += 1;
                    }
                }
            }
            syn::Item::Impl(block) if is_client(&block.self_ty) => {
                for member in &mut block.items {
                    let syn::ImplItem::Fn(function) = member else {
                        continue;
                    };
                    match (&block.trait_, function.sig.ident.to_string().as_str()) {
                        (None, "new_with_client") => {
                            let mut init = BaseUrlInit(0);
                            syn::visit_mut::visit_block_mut(&mut init, &mut function.block);
                            rewritten += init.0;
                        }
                        (Some(_), "baseurl") => {
                            function.block = syn::parse_quote!({ &self.baseurl });
                            rewritten += 1;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    rewritten
}

/// `baseurl: baseurl.to_string()` → `baseurl: baseurl.into()`, counted.
struct BaseUrlInit(usize);

impl VisitMut for BaseUrlInit {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        if matches!(&field.member, syn::Member::Named(name) if name == "baseurl") {
            field.expr = syn::parse_quote!(baseurl.into());
            self.0 += 1;
        }
        syn::visit_mut::visit_field_value_mut(self, field);
    }
}

/// Gives every operation builder (`builder::PauseQueue`, ...) a
/// `send_ignoring_answer`: `send` with every success answer taken as `()`,
/// its body unread. The hand-written layer calls it where it returns
/// nothing of the answer, and callers of `Client::api` can too, so an
/// operation that starts answering with a body (202 with JSON where it
/// answered 200 with none) neither changes their types nor fails on a body
/// they would throw away; error answers are read as `send` reads them.
/// Returns how many builders got one.
fn add_answer_ignoring_sends(file: &mut syn::File) -> usize {
    let mut added = 0;
    for block in builder_impls(file) {
        let ignoring = block.items.iter().find_map(|member| match member {
            syn::ImplItem::Fn(send) if send.sig.ident == "send" => answer_ignoring(send),
            _ => None,
        });
        if let Some(ignoring) = ignoring {
            block.items.push(syn::ImplItem::Fn(ignoring));
            added += 1;
        }
    }
    added
}

/// The `impl` blocks of progenitor's `builder` module, one per operation
/// builder.
fn builder_impls(file: &mut syn::File) -> impl Iterator<Item = &mut syn::ItemImpl> {
    file.items
        .iter_mut()
        .filter_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .flat_map(|(_, items)| items.iter_mut())
        .filter_map(|item| match item {
            syn::Item::Impl(block) => Some(block),
            _ => None,
        })
}

/// `send` → `send_ignoring_answer`: `ResponseValue<T>` becomes
/// `ResponseValue<()>` and each success arm of the status `match` answers
/// `ResponseValue::empty(response)`. `None` if `send` does not have the
/// shape progenitor 0.15 gives it.
fn answer_ignoring(send: &syn::ImplItemFn) -> Option<syn::ImplItemFn> {
    struct SuccessArms(usize);
    impl VisitMut for SuccessArms {
        fn visit_expr_match_mut(&mut self, matching: &mut syn::ExprMatch) {
            let on_status = matching
                .expr
                .to_token_stream()
                .to_string()
                .contains("status");
            for arm in matching
                .arms
                .iter_mut()
                .filter(|arm| on_status && is_success(&arm.pat))
            {
                *arm.body = syn::parse_quote!(Ok(ResponseValue::empty(response)));
                self.0 += 1;
            }
        }
    }
    let mut ignoring = send.clone();
    ignoring.sig.ident = syn::parse_quote!(send_ignoring_answer);
    ignoring
        .attrs
        .retain(|attribute| !attribute.path().is_ident("doc"));
    let doc = "Sends the request as `send` does, but takes any success answer as `()` \
               without reading its body: for a caller that does not use the answer, so \
               that a newer spec giving the operation an answer body (or another one) \
               changes neither its code nor its results. Error answers are read as \
               `send` reads them.";
    ignoring.attrs.push(syn::parse_quote!(#[doc = #doc]));
    let syn::ReturnType::Type(_, output) = &mut ignoring.sig.output else {
        return None;
    };
    let syn::Type::Path(result) = &mut **output else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(arguments) =
        &mut result.path.segments.last_mut()?.arguments
    else {
        return None;
    };
    *arguments.args.first_mut()? = syn::parse_quote!(ResponseValue<()>);
    let mut arms = SuccessArms(0);
    arms.visit_block_mut(&mut ignoring.block);
    (arms.0 > 0).then_some(ignoring)
}

/// A status pattern of a success arm: `200..=299`, or a code from 200 to 299.
fn is_success(pattern: &syn::Pat) -> bool {
    let code = |expr: &syn::Expr| match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(code),
            ..
        }) => code.base10_parse::<u16>().ok(),
        _ => None,
    };
    match pattern {
        syn::Pat::Range(range) => range.start.as_deref().and_then(code) == Some(200),
        syn::Pat::Lit(literal) => {
            code(&syn::Expr::Lit(literal.clone())).is_some_and(|code| (200..300).contains(&code))
        }
        _ => false,
    }
}

/// Every `send` (and `send_ignoring_answer`) in two parts: what progenitor
/// does before its first `.await` (check the parameters, build the
/// request), then the `pre` hook, run when `send` is called; the future it
/// returns holds only the `crate::hooks::exec` future and awaits it:
///
/// ```text
/// pub async fn send(self) -> Result<R, Error<E>> {
///     ..checks, let mut request = ..; let info = ..;
///     client.pre(&mut request, &info).await?;
///     let result = client.exec(request, &info).await;
///     client.post(&result, &info).await?;
///     let response = result?;
///     match response.status().as_u16() { .. }
/// }
/// ```
/// becomes
/// ```text
/// pub fn send(self) -> impl Future<Output = Result<R, Error<E>>> + 'a {
///     crate::hooks::answer(self.prepared(), move |response| -> Result<R, Error<E>> {
///         match response.status().as_u16() { .. }
///     })
/// }
/// fn prepared(self) -> Result<impl Future<Output = reqwest::Result<Answer<'a>>> + 'a, Error<E>> {
///     ..checks, let mut request = ..; let info = ..;
///     crate::hooks::pre(client, &mut request, &info)?;
///     Ok(crate::hooks::exec(client, request, &info))
/// }
/// ```
/// with one `prepared` for both of an operation's sends, whose checks and
/// request are the same (`prepared_` in a builder with a parameter of that
/// name).
///
/// The `async fn` kept the whole builder (a field for every parameter) and
/// the request in its future next to the `exec` future, which holds the
/// request again; every publish's future contains this one, and is moved
/// whole each time it is handed on (spawned, pushed into a set of
/// futures). The hooks' `pre` never waits, so it is a plain function, and
/// `post` (which the crate does not use) goes; the answer is decoded
/// without waiting (see [`AnswersReadOnce`]), so no `async` block (which
/// would hold the `exec` future twice, as captured and as awaited) is
/// needed. Returns how many functions changed; one of another shape is
/// left as it is.
fn sends_prepared_then_awaited(file: &mut syn::File) -> usize {
    let mut changed = 0;
    for block in builder_impls(file) {
        if !block
            .generics
            .lifetimes()
            .any(|lifetime| lifetime.lifetime.ident == "a")
        {
            continue;
        }
        // Not a name a parameter's setter already has.
        let mut name = String::from("prepared");
        while block
            .items
            .iter()
            .any(|member| matches!(member, syn::ImplItem::Fn(f) if f.sig.ident == name))
        {
            name.push('_');
        }
        let name = syn::Ident::new(&name, proc_macro2::Span::call_site());
        let mut prepared: Option<syn::ImplItemFn> = None;
        for member in block.items.iter_mut() {
            let syn::ImplItem::Fn(send) = member else {
                continue;
            };
            if !matches!(
                send.sig.ident.to_string().as_str(),
                "send" | "send_ignoring_answer"
            ) {
                continue;
            }
            let Some((split, preparing)) = prepared_then_awaited(send, &name) else {
                continue;
            };
            // Both sends prepare the same request: one function for both.
            match &prepared {
                Some(first)
                    if first.to_token_stream().to_string()
                        != preparing.to_token_stream().to_string() =>
                {
                    continue;
                }
                Some(_) => {}
                None => prepared = Some(preparing),
            }
            *send = split;
            changed += 1;
        }
        if let Some(prepared) = prepared {
            block.items.push(syn::ImplItem::Fn(prepared));
        }
    }
    changed
}

fn prepared_then_awaited(
    send: &syn::ImplItemFn,
    name: &syn::Ident,
) -> Option<(syn::ImplItemFn, syn::ImplItemFn)> {
    send.sig.asyncness?;
    let syn::ReturnType::Type(_, output) = &send.sig.output else {
        return None;
    };
    let syn::Type::Path(result) = &**output else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(arguments) = &result.path.segments.last()?.arguments
    else {
        return None;
    };
    let error = arguments.args.iter().nth(1)?;
    let text = |statement: &syn::Stmt| statement.to_token_stream().to_string();
    let statements = &send.block.stmts;
    let at = statements.iter().position(|statement| {
        text(statement) == "client . pre (& mut request , & info) . await ? ;"
    })?;
    let expected = [
        "let result = client . exec (request , & info) . await ;",
        "client . post (& result , & info) . await ? ;",
        "let response = result ? ;",
    ];
    let after = statements.get(at + 1..at + 1 + expected.len())?;
    if after.iter().map(text).ne(expected) {
        return None;
    }
    let prepare = &statements[..at];
    let answer = &statements[at + 1 + expected.len()..];
    let mut split = send.clone();
    split.sig.asyncness = None;
    split.sig.output = syn::parse_quote!(
        -> impl ::std::future::Future<Output = #output> + 'a
    );
    split.block = syn::parse_quote!({
        crate::hooks::answer(self.#name(), move |response| -> #output { #(#answer)* })
    });
    let prepared = syn::parse_quote!(
        /// The checks and the request of [`Self::send`] (and
        /// `send_ignoring_answer`), and the `pre` hook; the future that
        /// sends it.
        fn #name(
            self,
        ) -> ::std::result::Result<
            impl ::std::future::Future<Output = ::reqwest::Result<crate::hooks::Answer<'a>>> + 'a,
            #error,
        > {
            #(#prepare)*
            crate::hooks::pre(client, &mut request, &info)?;
            Ok(crate::hooks::exec(client, request, &info))
        }
    );
    Some((split, prepared))
}

/// The request's headers built in one map: progenitor fills `header_map`
/// (sized for the operation's header parameters), then has the request
/// builder insert `Accept` into a map of its own and merge `header_map`
/// into that one (`RequestBuilder::headers`), which then grows again for
/// what the hooks add. Instead `Accept` goes into `header_map` (unless a
/// parameter set it), and `header_map` becomes the request's, with what
/// the builder set itself (a JSON body's `Content-Type`) under names it
/// lacks (`crate::hooks::set_headers`): the same headers.
///
/// ```text
/// let mut request = client.client.post(url)
///     .header(ACCEPT, HeaderValue::from_static("application/json"))
///     .body(body).headers(header_map).build()?;
/// ```
/// becomes
/// ```text
/// header_map.entry(ACCEPT).or_insert(HeaderValue::from_static("application/json"));
/// let mut request = client.client.post(url).body(body).build()?;
/// crate::hooks::set_headers(&mut request, header_map);
/// ```
///
/// A chain with nothing else, `client.client.post(url).body(body)` (or
/// without the body), leaves the builder out altogether:
/// ```text
/// let mut request = crate::hooks::new_request(&client.client, ::reqwest::Method::POST, url,
///     Some(::reqwest::Body::from(body)), header_map)?;
/// ```
/// which builds the same request without reqwest's request builder (generic
/// over the URL's type, so compiled again in this crate), a copy of the
/// client for the builder, or a second header map (see
/// `crate::hooks::new_request`).
#[derive(Default)]
struct RequestHeadersBuiltOnce {
    requests: usize,
    /// Of them, those built without reqwest's request builder.
    direct: usize,
    /// Of them, those left to the builder for what only it does (a JSON
    /// body, a query).
    need_builder: usize,
}

impl RequestHeadersBuiltOnce {
    /// Takes `.headers(header_map)` and `.header(ACCEPT, value)` out of a
    /// request builder's chain; whether the first was there, and the value.
    fn strip(expr: &mut syn::Expr, accept: &mut Option<syn::Expr>) -> bool {
        let syn::Expr::MethodCall(call) = expr else {
            return false;
        };
        let header_map = call.method == "headers"
            && call.args.len() == 1
            && matches!(&call.args[0], syn::Expr::Path(p) if p.path.is_ident("header_map"));
        let is_accept = call.method == "header"
            && call.args.len() == 2
            && call.args[0]
                .to_token_stream()
                .to_string()
                .ends_with(":: ACCEPT");
        if is_accept {
            *accept = Some(call.args[1].clone());
        }
        if header_map || is_accept {
            *expr = (*call.receiver).clone();
            return Self::strip(expr, accept) || header_map;
        }
        Self::strip(&mut call.receiver, accept)
    }

    /// The methods of `reqwest::Client` a chain may start with.
    const HTTP_METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

    /// `client.client.<method>(url)`, with `.body(body)` or without: the
    /// method (`::reqwest::Method::POST`) and the body, if any.
    fn plain(chain: &syn::Expr) -> Option<(syn::Expr, Option<syn::Expr>)> {
        let syn::Expr::MethodCall(call) = chain else {
            return None;
        };
        if call.method == "body" && call.args.len() == 1 {
            let (method, None) = Self::plain(&call.receiver)? else {
                return None;
            };
            return Some((method, Some(call.args[0].clone())));
        }
        let from_client = call.receiver.to_token_stream().to_string() == "client . client";
        let of_url = call.args.len() == 1
            && matches!(&call.args[0], syn::Expr::Path(p) if p.path.is_ident("url"));
        let method = call.method.to_string();
        let known = Self::HTTP_METHODS.contains(&method.as_str());
        if !(from_client && of_url && known) {
            return None;
        }
        let method = syn::Ident::new(&method.to_ascii_uppercase(), call.method.span());
        Some((syn::parse_quote!(::reqwest::Method::#method), None))
    }

    /// The names of the methods a builder chain calls.
    fn methods(chain: &syn::Expr, into: &mut Vec<String>) {
        if let syn::Expr::MethodCall(call) = chain {
            into.push(call.method.to_string());
            Self::methods(&call.receiver, into);
        }
    }

    /// The builder chain of `let mut request = <chain>.build()?;`.
    fn request_builder(statement: &mut syn::Stmt) -> Option<&mut syn::Expr> {
        let syn::Stmt::Local(local) = statement else {
            return None;
        };
        if !matches!(&local.pat, syn::Pat::Ident(p) if p.ident == "request") {
            return None;
        }
        let syn::Expr::Try(built) = &mut *local.init.as_mut()?.expr else {
            return None;
        };
        match &mut *built.expr {
            syn::Expr::MethodCall(build) if build.method == "build" => Some(&mut build.receiver),
            _ => None,
        }
    }
}

impl VisitMut for RequestHeadersBuiltOnce {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        let mut statements = Vec::with_capacity(block.stmts.len() + 2);
        for mut statement in std::mem::take(&mut block.stmts) {
            let mut accept = None;
            // Nothing is taken out of a chain without `.headers(header_map)`.
            let rewritten = Self::request_builder(&mut statement).is_some_and(|builder| {
                let mut stripped = builder.clone();
                let found = Self::strip(&mut stripped, &mut accept);
                if found {
                    *builder = stripped;
                }
                found
            });
            if !rewritten {
                statements.push(statement);
                continue;
            }
            if let Some(accept) = accept {
                statements.push(syn::parse_quote!(
                    header_map.entry(::reqwest::header::ACCEPT).or_insert(#accept);
                ));
            }
            self.requests += 1;
            if let Some((method, body)) =
                Self::request_builder(&mut statement).and_then(|builder| Self::plain(builder))
            {
                let body = match body {
                    Some(body) => quote::quote!(Some(::reqwest::Body::from(#body))),
                    None => quote::quote!(None),
                };
                statements.push(syn::parse_quote!(
                    let mut request = crate::hooks::new_request(&client.client, #method, url, #body, header_map)?;
                ));
                self.direct += 1;
                continue;
            }
            let mut uses = Vec::new();
            if let Some(builder) = Self::request_builder(&mut statement) {
                Self::methods(builder, &mut uses);
            }
            // Kept for what only the builder does, and for nothing else.
            let expected = |used: &str| {
                Self::HTTP_METHODS.contains(&used) || ["body", "json", "query"].contains(&used)
            };
            if uses.iter().any(|used| used == "json" || used == "query")
                && uses.iter().all(|used| expected(used))
            {
                self.need_builder += 1;
            }
            statements.push(statement);
            statements.push(syn::parse_quote!(
                crate::hooks::set_headers(&mut request, header_map);
            ));
        }
        block.stmts = statements;
    }
}

/// What progenitor's `send`s do on every call to build a request, done for
/// less (`benches/publish_cost.rs`); the request is the same:
/// - `let url = format!("{}/v2/enqueue/{}/{}", client.baseurl, ..)` →
///   the pieces `[&*client.baseurl, "/v2/enqueue/", .., destination.as_str()]`
///   pushed into a `String` of their total length: formatting a publish's
///   URL cost about 1,800 instructions, this about 60; `destination` (a
///   `String`) is borrowed, not copied by `to_string()`;
/// - `HeaderMap::with_capacity(N)`, room for every header parameter (16 for
///   a publish, most of them unset: about 3 KB allocated and freed on every
///   call) → `crate::hooks::header_map(client)`: the message's headers,
///   which `render_message` sized for the rest of the call, or an empty map
///   that grows as headers come.
#[derive(Default)]
struct RequestsBuiltCheaply {
    urls: usize,
    header_maps: usize,
}

impl RequestsBuiltCheaply {
    /// `format!("{}/v2/x/{}", a, b)` as the pieces `[&*a, "/v2/x/", &*b]`
    /// pushed into a `String` of their total length, if
    /// its format string has only `{}` placeholders, one per argument.
    fn concatenated(mac: &syn::Macro) -> Option<syn::Expr> {
        if !mac.path.is_ident("format") {
            return None;
        }
        let args = mac
            .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .ok()?;
        let mut args = args.into_iter();
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(template),
            ..
        }) = args.next()?
        else {
            return None;
        };
        let template = template.value();
        let literals: Vec<&str> = template.split("{}").collect();
        let args: Vec<syn::Expr> = args.collect();
        if literals.len() != args.len() + 1 || literals.iter().any(|l| l.contains(['{', '}'])) {
            return None;
        }
        let mut pieces: Vec<syn::Expr> = Vec::new();
        for (literal, arg) in literals.iter().zip(args.iter().map(Some).chain([None])) {
            if !literal.is_empty() {
                pieces.push(syn::parse_quote!(#literal));
            }
            match arg {
                Some(syn::Expr::MethodCall(to_string))
                    if to_string.method == "to_string"
                        && matches!(&*to_string.receiver,
                            syn::Expr::Path(p) if p.path.is_ident("destination")) =>
                {
                    pieces.push(syn::parse_quote!(destination.as_str()));
                }
                Some(arg) => pieces.push(syn::parse_quote!(&*#arg)),
                None => {}
            }
        }
        // Pushed in place rather than `[..].concat()`, a call into a
        // general join (a loop of bounds checks and copies) for three
        // pieces (`benches/publish_cost.rs`).
        let count = pieces.len();
        Some(syn::parse_quote!({
            let pieces: [&str; #count] = [#(#pieces),*];
            let mut url = ::std::string::String::with_capacity(
                pieces.iter().map(|piece| piece.len()).sum(),
            );
            for piece in pieces {
                url.push_str(piece);
            }
            url
        }))
    }
}

impl VisitMut for RequestsBuiltCheaply {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        syn::visit_mut::visit_local_mut(self, local);
        if !matches!(&local.pat, syn::Pat::Ident(p) if p.ident == "url" || p.ident == "_url") {
            return;
        }
        let Some(init) = local.init.as_mut() else {
            return;
        };
        if let syn::Expr::Macro(format) = &*init.expr
            && let Some(concatenated) = Self::concatenated(&format.mac)
        {
            *init.expr = concatenated;
            self.urls += 1;
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let syn::Expr::Call(call) = expr
            && call
                .func
                .to_token_stream()
                .to_string()
                .ends_with("HeaderMap :: with_capacity")
        {
            *expr = syn::parse_quote!(crate::hooks::header_map(client));
            self.header_maps += 1;
        }
    }
}

/// A `send` appends each header parameter in a statement of its own,
/// `if let Some(value) = upstash_retries { header_map.append("Upstash-Retries",
/// value.to_string().try_into()?); }`, 15 of them for a publish, each
/// parsing its name, and each inlining its conversion and its error path:
/// they spread a publish's `send` over 19 KB of code, about 4.6 KB (72
/// cache lines) of which every publish ran, mostly to skip the unset
/// parameters (`benches/publish_cost.rs` counts what it costs). Each run
/// of them becomes
/// ```text
/// if content_type.is_some() || upstash_retries.is_some() {
///     static NAMES: [HeaderName; 2] =
///         [HeaderName::from_static("content-type"), HeaderName::from_static("upstash-retries")];
///     crate::hooks::append_parameters(&mut header_map, &NAMES, &[
///         content_type.as_ref().map(|value| value as &dyn Display),
///         upstash_retries.as_ref().map(|value| value as &dyn Display),
///     ])?;
/// }
/// ```
/// (without the `if` when a required parameter, `Some(&upstash_cron as
/// &dyn Display)`, is among them), with each optional parameter's check
/// borrowing it where it lies (`let upstash_retries =
/// self.upstash_retries.as_ref().map_err(..)?;`) rather than moving it out
/// of the builder, which `let Self { client, body, .. } = self;` then takes
/// apart only for the rest: unset parameters cost a test each, and the
/// builder is not copied whole first. The same headers, in
/// the same order, with the same values and the same error for the first
/// invalid one; the names are constants, evaluated when compiling.
#[derive(Default)]
struct HeaderParametersOutOfLine {
    /// Parameters now appended through `append_parameters`.
    appended: usize,
    /// Optional ones among them whose check now borrows them.
    borrowed: usize,
    /// Optional ones among them.
    optional: usize,
    /// Borrowed ones left in the builder rather than moved out of it.
    in_builder: usize,
    /// `header_map.append` calls left as they were.
    left: usize,
}

/// One header parameter of a `send`: its name (lower case), the variable
/// holding it, and whether it is optional.
struct HeaderParameter {
    name: String,
    variable: syn::Ident,
    optional: bool,
}

impl HeaderParametersOutOfLine {
    /// The parameter a statement appends: `if let Some(value) = parameter {
    /// header_map.append("Name", value.to_string().try_into()?); }` for an
    /// optional one, `header_map.append("Name",
    /// parameter.to_string().try_into()?);` for a required one.
    fn parameter(statement: &syn::Stmt) -> Option<HeaderParameter> {
        let syn::Stmt::Expr(syn::Expr::If(branch), None) = statement else {
            let (name, variable) = Self::appended(statement)?;
            return Some(HeaderParameter {
                name,
                variable,
                optional: false,
            });
        };
        if branch.else_branch.is_some() || branch.then_branch.stmts.len() != 1 {
            return None;
        }
        let syn::Expr::Let(bound) = &*branch.cond else {
            return None;
        };
        let syn::Expr::Path(parameter) = &*bound.expr else {
            return None;
        };
        if bound.pat.to_token_stream().to_string() != quote::quote!(Some(value)).to_string() {
            return None;
        }
        let (name, value) = Self::appended(&branch.then_branch.stmts[0])?;
        let variable = parameter.path.get_ident().filter(|_| value == "value")?;
        Some(HeaderParameter {
            name,
            variable: variable.clone(),
            optional: true,
        })
    }

    /// The lowercase name and the variable of
    /// `header_map.append("Name", variable.to_string().try_into()?);`.
    fn appended(statement: &syn::Stmt) -> Option<(String, syn::Ident)> {
        let syn::Stmt::Expr(syn::Expr::MethodCall(append), Some(_)) = statement else {
            return None;
        };
        if append.method != "append"
            || !matches!(&*append.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"))
            || append.args.len() != 2
        {
            return None;
        }
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(name),
            ..
        }) = &append.args[0]
        else {
            return None;
        };
        // `variable.to_string().try_into()?`
        let syn::Expr::Try(tried) = &append.args[1] else {
            return None;
        };
        let syn::Expr::MethodCall(try_into) = &*tried.expr else {
            return None;
        };
        let syn::Expr::MethodCall(to_string) = &*try_into.receiver else {
            return None;
        };
        let syn::Expr::Path(variable) = &*to_string.receiver else {
            return None;
        };
        let conversions = try_into.method == "try_into"
            && try_into.args.is_empty()
            && to_string.method == "to_string"
            && to_string.args.is_empty();
        let variable = variable.path.get_ident().filter(|_| conversions)?;
        Some((name.value().to_ascii_lowercase(), variable.clone()))
    }

    /// `let p = p.map_err(Error::InvalidRequest)?;` → `let p =
    /// p.as_ref().map_err(crate::hooks::invalid_parameter)?;` for an
    /// optional parameter `p`, which is then only borrowed: checked where it
    /// lies rather than moved out first.
    /// The parameter of `statement` if it rewrote it.
    fn borrow_checked(statement: &mut syn::Stmt, optional: &[syn::Ident]) -> Option<syn::Ident> {
        let syn::Stmt::Local(local) = statement else {
            return None;
        };
        let syn::Pat::Ident(bound) = &local.pat else {
            return None;
        };
        if !optional.contains(&bound.ident) {
            return None;
        }
        let init = local.init.as_mut()?;
        let parameter = &bound.ident;
        let expected = quote::quote!(#parameter.map_err(Error::InvalidRequest)?).to_string();
        if init.expr.to_token_stream().to_string() != expected {
            return None;
        }
        *init.expr = syn::parse_quote!(
            #parameter.as_ref().map_err(crate::hooks::invalid_parameter)?
        );
        Some(parameter.clone())
    }

    /// The borrowed parameters are left in the builder, not moved out of
    /// it first: `let Self { client, upstash_retries, body } = self;` →
    /// `let Self { client, body, .. } = self;`, and their checks borrow
    /// `self.upstash_retries`. Moved out, all of them were copied (a
    /// publish's builder, 18 fields and 528 bytes) before the first was
    /// tested.
    /// Whether it found the builder taken apart that way.
    fn left_in_builder(statements: &mut [syn::Stmt], borrowed: &[syn::Ident]) -> bool {
        let taken_apart = statements.iter_mut().find_map(|statement| match statement {
            syn::Stmt::Local(syn::Local {
                pat: syn::Pat::Struct(fields),
                init: Some(init),
                ..
            }) if fields.path.is_ident("Self")
                && fields.rest.is_none()
                && matches!(&*init.expr, syn::Expr::Path(p) if p.path.is_ident("self")) =>
            {
                Some(fields)
            }
            _ => None,
        });
        let Some(fields) = taken_apart.filter(|_| !borrowed.is_empty()) else {
            return false;
        };
        fields.fields = std::mem::take(&mut fields.fields)
            .into_pairs()
            .map(syn::punctuated::Pair::into_value)
            .filter(|field| !matches!(&field.member, syn::Member::Named(name) if borrowed.contains(name)))
            .collect();
        fields.rest = Some(syn::PatRest {
            attrs: Vec::new(),
            dot2_token: Default::default(),
        });
        for statement in statements {
            let syn::Stmt::Local(syn::Local {
                pat: syn::Pat::Ident(bound),
                init: Some(init),
                ..
            }) = statement
            else {
                continue;
            };
            let parameter = &bound.ident;
            // Only the checks `borrow_checked` wrote.
            let checked = quote::quote!(
                #parameter.as_ref().map_err(crate::hooks::invalid_parameter)?
            );
            if !borrowed.contains(parameter)
                || init.expr.to_token_stream().to_string() != checked.to_string()
            {
                continue;
            }
            *init.expr = syn::parse_quote!(
                self.#parameter.as_ref().map_err(crate::hooks::invalid_parameter)?
            );
        }
        true
    }

    fn appended_out_of_line(run: &[HeaderParameter]) -> syn::Stmt {
        let count = run.len();
        let names = run.iter().map(|parameter| &parameter.name);
        let values = run.iter().map(|parameter| {
            let variable = &parameter.variable;
            if parameter.optional {
                quote::quote!(#variable.as_ref().map(|value| value as &dyn ::std::fmt::Display))
            } else {
                quote::quote!(Some(&#variable as &dyn ::std::fmt::Display))
            }
        });
        let append = quote::quote!({
            static NAMES: [::reqwest::header::HeaderName; #count] =
                [#(::reqwest::header::HeaderName::from_static(#names)),*];
            crate::hooks::append_parameters(&mut header_map, &NAMES, &[#(#values),*])?;
        });
        if run.iter().any(|parameter| !parameter.optional) {
            return syn::parse_quote!(#append);
        }
        // Whether any is set: a test of each, where building the list
        // costs a few instructions each.
        let set = run.iter().map(|parameter| &parameter.variable);
        syn::parse_quote!(if #(#set.is_some())||* #append)
    }
}

impl VisitMut for HeaderParametersOutOfLine {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let mut statements = Vec::with_capacity(block.stmts.len());
        let mut run: Vec<HeaderParameter> = Vec::new();
        let mut optional = Vec::new();
        // A `None` after the last statement ends the last run.
        let ended = std::mem::take(&mut block.stmts).into_iter().map(Some);
        for statement in ended.chain([None]) {
            if let Some(parameter) = statement.as_ref().and_then(Self::parameter) {
                if parameter.optional {
                    optional.push(parameter.variable.clone());
                }
                run.push(parameter);
                continue;
            }
            if !run.is_empty() {
                self.appended += run.len();
                statements.push(Self::appended_out_of_line(&std::mem::take(&mut run)));
            }
            statements.extend(statement);
        }
        self.optional += optional.len();
        let mut borrowed = Vec::new();
        for statement in &mut statements {
            if let Some(parameter) = Self::borrow_checked(statement, &optional) {
                borrowed.push(parameter);
            }
        }
        self.borrowed += borrowed.len();
        if Self::left_in_builder(&mut statements, &borrowed) {
            self.in_builder += borrowed.len();
        }
        block.stmts = statements;
        // After the rewrite, so that only what it left is counted.
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method == "append"
            && matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"))
        {
            self.left += 1;
        }
    }
}

/// A `send` checks each of its parameters with
/// `let p = p.map_err(Error::InvalidRequest)?;` → `.map_err(crate::hooks::invalid_request)`,
/// a `#[cold]` function: the compiler then moves the paths that fail
/// (the error, and dropping every parameter taken so far) out of the code
/// that runs on every call, which a publish's `send` otherwise runs
/// through on every call (`benches/publish_cost.rs`).
#[derive(Default)]
struct ParameterErrorsCold {
    checks: usize,
}

impl VisitMut for ParameterErrorsCold {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method == "map_err"
            && call.args.len() == 1
            && call.args[0].to_token_stream().to_string() == "Error :: InvalidRequest"
        {
            call.args[0] = syn::parse_quote!(crate::hooks::invalid_request);
            self.checks += 1;
        }
    }
}

/// Every builder's `new` sets each required parameter to
/// `Err("queue_name was not initialized".to_string())`: an allocation per
/// required parameter on every call, for a message almost never read. The
/// default becomes `Err(String::new())`, which no setter produces (each of
/// their messages names the parameter), and the check in `send` makes the
/// message only when it finds the parameter unset:
/// `queue_name.map_err(Error::InvalidRequest)?` →
/// `queue_name.map_err(|e| Error::InvalidRequest(if e.is_empty() { "queue_name was not initialized".to_string() } else { e }))?`.
/// Returns a parameter whose check does not have that shape (its default
/// is then left alone), if any.
fn unset_parameters_unallocated(file: &mut syn::File) -> Option<String> {
    // The fields of the builder `new` returns (`Self { client, .. }`).
    fn fields(new: &mut syn::ImplItemFn) -> Vec<&mut syn::FieldValue> {
        match new.block.stmts.last_mut() {
            Some(syn::Stmt::Expr(syn::Expr::Struct(fields), _)) => {
                fields.fields.iter_mut().collect()
            }
            _ => Vec::new(),
        }
    }
    let mut unexpected = None;
    for block in builder_impls(file) {
        let is_new =
            |member: &syn::ImplItem| matches!(member, syn::ImplItem::Fn(f) if f.sig.ident == "new");
        // The parameters `new` sets to "was not initialized".
        let unset = |field: &syn::FieldValue| match &field.member {
            syn::Member::Named(name) => {
                let message = format!("{name} was not initialized");
                let expected = quote::quote!(Err(#message.to_string())).to_string();
                (field.expr.to_token_stream().to_string() == expected).then(|| name.to_string())
            }
            syn::Member::Unnamed(_) => None,
        };
        let Some(syn::ImplItem::Fn(new)) = block.items.iter_mut().find(|m| is_new(m)) else {
            continue;
        };
        let names: Vec<String> = fields(new)
            .into_iter()
            .filter_map(|field| unset(field))
            .collect();
        let mut checked = vec![0usize; names.len()];
        for member in block.items.iter_mut() {
            let syn::ImplItem::Fn(send) = member else {
                continue;
            };
            if send.sig.ident == "new" {
                continue;
            }
            struct Checks<'n> {
                names: &'n [String],
                checked: &'n mut [usize],
            }
            impl VisitMut for Checks<'_> {
                fn visit_local_mut(&mut self, local: &mut syn::Local) {
                    syn::visit_mut::visit_local_mut(self, local);
                    let syn::Pat::Ident(bound) = &local.pat else {
                        return;
                    };
                    let Some(at) = self.names.iter().position(|n| bound.ident == n) else {
                        return;
                    };
                    let Some(init) = local.init.as_mut() else {
                        return;
                    };
                    let syn::Expr::Try(tried) = &mut *init.expr else {
                        return;
                    };
                    let syn::Expr::MethodCall(map_err) = &mut *tried.expr else {
                        return;
                    };
                    if map_err.method != "map_err"
                        || map_err.args.len() != 1
                        || map_err.args[0].to_token_stream().to_string()
                            != "Error :: InvalidRequest"
                    {
                        return;
                    }
                    let message = format!("{} was not initialized", self.names[at]);
                    map_err.args[0] = syn::parse_quote!(|e| crate::hooks::invalid_request(if e.is_empty() {
                        #message.to_string()
                    } else {
                        e
                    }));
                    self.checked[at] += 1;
                }
            }
            Checks {
                names: &names,
                checked: &mut checked,
            }
            .visit_block_mut(&mut send.block);
        }
        // Both sends (`send`, `send_ignoring_answer`) check each of them.
        let Some(syn::ImplItem::Fn(new)) = block.items.iter_mut().find(|m| is_new(m)) else {
            continue;
        };
        for field in fields(new) {
            let Some(at) = unset(field).and_then(|name| names.iter().position(|n| *n == name))
            else {
                continue;
            };
            if checked[at] == 2 {
                field.expr = syn::parse_quote!(Err(::std::string::String::new()));
            } else {
                unexpected.get_or_insert(names[at].clone());
            }
        }
    }
    unexpected
}

/// Every `send` takes its answer from `crate::hooks::exec` (see
/// [`sends_prepared_then_awaited`]), which has read the body within the
/// attempt (so that an answer cut short is retried) and taken the token
/// out, as a `crate::hooks::Answer`: the answer is decoded from the bytes
/// already read, where progenitor's `ResponseValue::from_response` would
/// need a new `reqwest::Response` to read them again (rebuilt on every
/// call, with its headers copied). Only an answer the spec does not declare
/// becomes a `reqwest::Response` again, for `Error::UnexpectedResponse`.
///
/// - `ResponseValue::from_response(response).await` → `response.decode()`;
/// - `ResponseValue::empty(response)` → `response.empty()`;
/// - `Error::UnexpectedResponse(response)` →
///   `Error::UnexpectedResponse(response.into_response())`.
struct AnswersReadOnce;

impl VisitMut for AnswersReadOnce {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let called = |expr: &syn::Expr, function: &str| {
            matches!(expr, syn::Expr::Call(call)
                if call.args.len() == 1
                    && matches!(&call.args[0], syn::Expr::Path(p) if p.path.is_ident("response"))
                    && call.func.to_token_stream().to_string() == function)
        };
        match expr {
            syn::Expr::Await(waiting)
                if called(&waiting.base, "ResponseValue :: from_response") =>
            {
                *expr = syn::parse_quote!(response.decode());
            }
            _ if called(expr, "ResponseValue :: empty") => {
                *expr = syn::parse_quote!(response.empty());
            }
            _ if called(expr, "Error :: UnexpectedResponse") => {
                *expr = syn::parse_quote!(Error::UnexpectedResponse(response.into_response()));
            }
            _ => {}
        }
    }
}

/// Things progenitor puts on the wire that the official SDKs do not,
/// fixed in the generated syntax tree so the requests are right when built
/// (rather than patched on every request):
/// - path parameters are percent-encoded, `/` included; a `destination` (a
///   URL or URL-group name) goes into the path as it is, its own `?query`
///   becoming the request's query, as the official SDKs send it;
/// - every request carries `api-version: <info.version>`, which QStash does
///   not read;
/// - a raw-bytes body is labelled `application/octet-stream` when the caller
///   gives no `Content-Type`, and QStash forwards that label to the
///   destination; the operation's own `Content-Type` header parameter says
///   what the bytes are, and a message without a body has none (as the
///   SDKs send it).
#[derive(Default)]
struct WireFixes {
    raw_destinations: usize,
    api_version_headers: usize,
    default_media_types: usize,
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

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "header"
            && call.args.len() == 2
            && call.args[0]
                .to_token_stream()
                .to_string()
                .ends_with("CONTENT_TYPE")
            && call.args[1]
                .to_token_stream()
                .to_string()
                .contains("\"application/octet-stream\"")
        {
            *expr = (*call.receiver).clone();
            self.default_media_types += 1;
        }
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

/// Other spellings QStash or the official SDKs use for a value of a server
/// enum: `(the spec's value, another spelling that decodes to it)`. The TS
/// SDK's `State` and qstash-py's `LogState` say `CANCELED`
/// (qstash-js src/client/types.ts:10, qstash-py 3.4.0 qstash/log.py:39).
const SPELLINGS: &[(&str, &str)] = &[("CANCELLED", "CANCELED")];

/// The generated names of the enums QStash sends: string enums among the
/// properties of every schema an answer can hold (typify names the enum of
/// property `state` of `LogEntry` `LogEntryState`).
fn server_enums(spec: &Value) -> Vec<String> {
    fn pascal(name: &str) -> String {
        let mut out = String::new();
        let mut upper = true;
        for c in name.chars() {
            if c == '_' || c == '-' {
                upper = true;
            } else if upper {
                out.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }
    fn walk(
        spec: &Value,
        schema: &Value,
        owner: &str,
        seen: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or_default().to_string();
            if !seen.contains(&name) {
                seen.push(name.clone());
                if let Some(target) = spec.pointer(&format!("/components/schemas/{name}")) {
                    walk(spec, target, &name, seen, out);
                }
            }
            return;
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for branch in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(spec, branch, owner, seen, out);
            }
        }
        if let Some(items) = schema.get("items") {
            walk(spec, items, owner, seen, out);
        }
        if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            walk(spec, additional, owner, seen, out);
        }
        for (property, value) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let target = value.get("items").unwrap_or(value);
            if target.get("enum").is_some() && target.get("$ref").is_none() {
                let suffix = if value.get("items").is_some() {
                    "Item"
                } else {
                    ""
                };
                let name = format!("{owner}{}{suffix}", pascal(property));
                if !out.contains(&name) {
                    out.push(name);
                }
            } else {
                walk(
                    spec,
                    value,
                    &format!("{owner}{}", pascal(property)),
                    seen,
                    out,
                );
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for item in spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
    {
        for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
            let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
                continue;
            };
            let owner = format!(
                "{}Response",
                pascal(operation["operationId"].as_str().unwrap_or_default())
            );
            for response in responses.values() {
                for media in response
                    .get("content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|c| c.values())
                {
                    if let Some(schema) = media.get("schema") {
                        walk(spec, schema, &owner, &mut seen, &mut out);
                    }
                }
            }
        }
    }
    out
}

/// Gives every enum QStash sends a catch-all, so that a value this version
/// does not know (a state added upstream) decodes as `Unknown(value)`
/// instead of failing the whole answer, and accepts the other spellings of
/// [`SPELLINGS`]. The enum loses `Copy` (it may hold a string); its
/// `Display` and `FromStr` learn the new variant. Returns the enums changed.
fn open_server_enums(file: &mut syn::File, names: &[String]) -> Vec<String> {
    let mut opened = Vec::new();
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        for item in items.iter_mut() {
            match item {
                syn::Item::Enum(enumeration) if names.contains(&enumeration.ident.to_string()) => {
                    open_enum(enumeration);
                    opened.push(enumeration.ident.to_string());
                }
                syn::Item::Impl(block) => {
                    let target = block.self_ty.to_token_stream().to_string();
                    if names.contains(&target) {
                        open_impl(block);
                    }
                }
                _ => {}
            }
        }
    }
    opened
}

fn open_enum(enumeration: &mut syn::ItemEnum) {
    for attribute in &mut enumeration.attrs {
        if attribute.path().is_ident("derive")
            && let Ok(derives) =
                attribute.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        {
            let kept: Punctuated<syn::Path, syn::Token![,]> = derives
                .into_iter()
                .filter(|path| !path.is_ident("Copy"))
                .collect();
            *attribute = syn::parse_quote!(#[derive(#kept)]);
        }
    }
    for variant in &mut enumeration.variants {
        let Some(value) = serde_rename(&variant.attrs) else {
            continue;
        };
        for (_, other) in SPELLINGS.iter().filter(|(spec, _)| *spec == value) {
            variant
                .attrs
                .push(syn::parse_quote!(#[serde(alias = #other)]));
        }
    }
    enumeration.variants.push(syn::parse_quote! {
        /// A value this version of the crate does not know, as QStash sent it.
        #[serde(untagged)]
        Unknown(::std::string::String)
    });
}

fn serde_rename(attributes: &[syn::Attribute]) -> Option<String> {
    attributes.iter().find_map(|attribute| {
        let syn::Meta::List(list) = &attribute.meta else {
            return None;
        };
        if !list.path.is_ident("serde") {
            return None;
        }
        let pair: syn::MetaNameValue = list.parse_args().ok()?;
        match (pair.path.is_ident("rename"), pair.value) {
            (
                true,
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(value),
                    ..
                }),
            ) => Some(value.value()),
            _ => None,
        }
    })
}

/// `Display` writes an unknown value as it came; `FromStr` keeps it instead
/// of failing, and reads the other spellings.
fn open_impl(block: &mut syn::ItemImpl) {
    let Some(trait_name) = block
        .trait_
        .as_ref()
        .and_then(|(path, _)| path.segments.last())
        .map(|segment| segment.ident.to_string())
    else {
        return;
    };
    for member in &mut block.items {
        let syn::ImplItem::Fn(function) = member else {
            continue;
        };
        let Some(syn::Stmt::Expr(syn::Expr::Match(matching), _)) = function.block.stmts.last_mut()
        else {
            continue;
        };
        match trait_name.as_str() {
            "Display" => matching.arms.push(syn::parse_quote! {
                Self::Unknown(ref value) => f.write_str(value),
            }),
            "FromStr" => {
                matching
                    .arms
                    .retain(|arm| !matches!(arm.pat, syn::Pat::Wild(_)));
                let mut extra: Vec<syn::Arm> = Vec::new();
                for arm in &matching.arms {
                    let syn::Pat::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(value),
                        ..
                    }) = &arm.pat
                    else {
                        continue;
                    };
                    for (_, other) in SPELLINGS.iter().filter(|(spec, _)| *spec == value.value()) {
                        let body = &arm.body;
                        extra.push(syn::parse_quote!(#other => #body,));
                    }
                }
                matching.arms.extend(extra);
                matching.arms.push(syn::parse_quote! {
                    other => Ok(Self::Unknown(other.to_string())),
                });
            }
            _ => {}
        }
    }
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
