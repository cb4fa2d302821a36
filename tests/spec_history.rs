//! The spec-history check: generates and compiles the client from every
//! upstream spec version and prints, per version, the operations added and
//! removed relative to the vendored `openapi/qstash.yaml`.
//!
//! Two compilations per version: the generated client with the crate's core
//! (auth, hooks, retries, errors, receiver), which must work for every
//! version; and the whole crate, hand-written areas included. The areas are
//! written against the vendored spec, so an older version may break them:
//! that is reported, and is a failure only for the newest file checked (the
//! one you would vendor), since vendoring it would break the build.
//!
//! ```text
//! cargo test --test spec_history -- --ignored --nocapture
//! ```
//!
//! Reads `../shared/openapi-history/*.yaml` beside the checkout, or the
//! directory or single file named by `QSTASH_SPEC_HISTORY` (the way to try a
//! new upstream spec before vendoring it). Compiling uses its own target
//! directory, `target/spec-history`, so it never disturbs the normal build.

#[path = "../build/corrections.rs"]
mod corrections;
// Only the operation list and warnings of the pipeline's output are read here.
#[allow(dead_code)]
#[path = "../build/generate.rs"]
mod generate;
// The names are read here; the retry and guard classes are build.rs's.
#[allow(dead_code)]
#[path = "../build/operation_names.rs"]
mod operation_names;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

type Operation = (String, String, String);

fn operations(spec_text: &str) -> Result<(BTreeSet<Operation>, Vec<String>), String> {
    let generated = generate::generate(generate::parse_spec(spec_text)?)?;
    Ok((
        generated.operations.into_iter().collect(),
        generated.warnings,
    ))
}

fn spec_files() -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::env::var_os("QSTASH_SPEC_HISTORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../shared/openapi-history"));
    if source.is_file() {
        return vec![source];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&source)
        .unwrap_or_else(|e| panic!("{}: {e} (set QSTASH_SPEC_HISTORY)", source.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no spec files in {}", source.display());
    files
}

/// What to compile of the crate.
#[derive(Clone, Copy)]
enum Part {
    /// The generated client and the core it needs (`--cfg qstash_spec_check`
    /// leaves the hand-written areas out; see `src/lib.rs`).
    GeneratedClient,
    /// Everything.
    WholeCrate,
}

/// `cargo check` of the library with the client generated from `spec`.
fn compiles(spec: &Path, part: Part) -> Result<(), String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(manifest).args([
        "rustc",
        "--lib",
        "--profile=check",
        "--quiet",
        "--message-format=short",
    ]);
    if let Part::GeneratedClient = part {
        command.args(["--", "--cfg", "qstash_spec_check"]);
    }
    let output = command
        .env("QSTASH_OPENAPI_SPEC", spec)
        .env("CARGO_TARGET_DIR", manifest.join("target/spec-history"))
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `METHOD path` → the operation's parameters as `in:name`, from the raw spec.
fn parameters(spec: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut all = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let names = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    format!(
                        "{}:{}",
                        p["in"].as_str().unwrap_or("?"),
                        p["name"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            all.insert(format!("{} {path}", method.to_uppercase()), names);
        }
    }
    all
}

/// What changed in the operations both specs have, and in shared schemas.
fn changes(vendored: &Value, other: &Value) -> Vec<String> {
    let (ours, theirs) = (parameters(vendored), parameters(other));
    let mut lines = Vec::new();
    for (operation, our_params) in &ours {
        let Some(their_params) = theirs.get(operation) else {
            continue;
        };
        let plus: Vec<_> = their_params
            .difference(our_params)
            .map(|p| format!("+{p}"))
            .collect();
        let minus: Vec<_> = our_params
            .difference(their_params)
            .map(|p| format!("-{p}"))
            .collect();
        if !plus.is_empty() || !minus.is_empty() {
            lines.push(format!("{operation}: {}", [plus, minus].concat().join(" ")));
        }
    }
    let schemas = |spec: &Value| {
        spec["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let (our_schemas, their_schemas) = (schemas(vendored), schemas(other));
    let differing: Vec<_> = our_schemas
        .iter()
        .filter(|(name, schema)| {
            their_schemas
                .get(*name)
                .is_some_and(|theirs| theirs != *schema)
        })
        .map(|(name, _)| name.as_str())
        .chain(
            their_schemas
                .keys()
                .filter(|n| !our_schemas.contains_key(*n))
                .map(|n| n.as_str()),
        )
        .chain(
            our_schemas
                .keys()
                .filter(|n| !their_schemas.contains_key(*n))
                .map(|n| n.as_str()),
        )
        .collect();
    if !differing.is_empty() {
        lines.push(format!("schemas that differ: {}", differing.join(", ")));
    }
    lines
}

fn describe(operations: &BTreeSet<Operation>) -> String {
    operations
        .iter()
        .map(|(method, path, name)| format!("{} {path} ({name})", method.to_uppercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
#[ignore = "compiles the crate once per spec version (minutes); run with --ignored"]
fn every_spec_version_generates_and_compiles() {
    let vendored_text = include_str!("../openapi/qstash.yaml");
    let (vendored, _) = operations(vendored_text).expect("the vendored spec generates");
    let mut failures = Vec::new();

    let specs = spec_files();
    let newest = specs.last().cloned();
    for spec in specs {
        let name = spec
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&spec).expect("readable spec");
        let same_as_vendored = if text == vendored_text {
            " (= vendored)"
        } else {
            ""
        };
        println!("\n== {name}{same_as_vendored}");
        let (ops, warnings) = match operations(&text) {
            Ok(result) => result,
            Err(error) => {
                println!("   GENERATION FAILED: {error}");
                failures.push(name);
                continue;
            }
        };
        let added: BTreeSet<_> = ops.difference(&vendored).cloned().collect();
        let removed: BTreeSet<_> = vendored.difference(&ops).cloned().collect();
        println!("   {} operations", ops.len());
        println!(
            "   added vs vendored:   {}",
            if added.is_empty() {
                "none".into()
            } else {
                describe(&added)
            }
        );
        println!(
            "   removed vs vendored: {}",
            if removed.is_empty() {
                "none".into()
            } else {
                describe(&removed)
            }
        );
        let parsed = generate::parse_spec(&text).expect("parsed above");
        let vendored_parsed = generate::parse_spec(vendored_text).expect("vendored parses");
        for change in changes(&vendored_parsed, &parsed) {
            println!("   changed vs vendored: {change}");
        }
        for warning in warnings {
            println!("   warning: {warning}");
        }
        match compiles(&spec, Part::GeneratedClient) {
            Ok(()) => println!("   generated client compiles: yes"),
            Err(errors) => {
                println!("   GENERATED CLIENT COMPILE FAILED:\n{errors}");
                failures.push(name);
                continue;
            }
        }
        match compiles(&spec, Part::WholeCrate) {
            Ok(()) => println!("   hand-written areas compile: yes"),
            Err(errors) => {
                let errors: Vec<&str> = errors.lines().filter(|l| l.contains("error")).collect();
                let mut files: Vec<&str> = errors
                    .iter()
                    .filter_map(|line| line.split(':').next())
                    .filter(|file| file.starts_with("src/"))
                    .collect();
                files.sort_unstable();
                files.dedup();
                let vendoring = newest.as_ref() == Some(&spec);
                println!(
                    "   hand-written areas need work for this spec{}: {} errors in {}",
                    if vendoring {
                        " (FAILURE: the newest file)"
                    } else {
                        ""
                    },
                    errors.len(),
                    files.join(", ")
                );
                for line in errors.iter().take(if vendoring { 50 } else { 5 }) {
                    println!("     {line}");
                }
                if vendoring {
                    failures.push(name);
                }
            }
        }
    }
    assert!(failures.is_empty(), "failed: {failures:?}");
}
