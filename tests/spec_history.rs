//! The spec-history check: generates and compiles the client from every
//! upstream spec version and prints, per version, what changed relative to
//! the vendored `openapi/qstash.yaml` (`tests/support/spec_diff.rs`):
//! operations added and removed, and per operation its success statuses,
//! answer and request-body schemas, parameters (added, removed, type,
//! bounds, required), deprecations and error statuses.
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
#[allow(dead_code)]
#[path = "support/spec_diff.rs"]
mod spec_diff;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

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

#[test]
#[ignore = "compiles the crate once per spec version (minutes); run with --ignored"]
fn every_spec_version_generates_and_compiles() {
    let vendored_text = include_str!("../openapi/qstash.yaml");
    let vendored = generate::parse_spec(vendored_text).expect("the vendored spec parses");
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
        println!(
            "   {} operations; changes from the vendored spec:",
            ops.len()
        );
        let parsed = generate::parse_spec(&text).expect("parsed above");
        for line in spec_diff::diff(&vendored, &parsed).lines() {
            println!("   {line}");
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
