//! Generates the QStash client from `openapi/qstash.yaml` with progenitor.
//!
//! spec (YAML, OpenAPI 3.1) → in-memory corrections (`build/corrections.rs`)
//! → progenitor (`build/generate.rs`) → `$OUT_DIR/qstash_api.rs`, included by
//! `src/api.rs`. `QSTASH_OPENAPI_SPEC=<path>` generates from another
//! spec file instead; the spec-history check uses it.

#[path = "build/corrections.rs"]
mod corrections;
#[path = "build/generate.rs"]
mod generate;
#[path = "build/operation_names.rs"]
mod operation_names;

use std::path::{Path, PathBuf};
use std::{env, fs};

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
    let spec =
        generate::parse_spec(&text).map_err(|e| format!("parsing {}: {e}", spec_path.display()))?;
    let generated = generate::generate(spec)?;

    write(&out_dir.join("qstash_api.rs"), &generated.code)?;
    write(
        &out_dir.join("spec-corrections.txt"),
        &generated.report.join("\n"),
    )?;
    let operations: Vec<String> = generated
        .operations
        .iter()
        .map(|(method, path, name)| format!("{} {path} {name}", method.to_uppercase()))
        .collect();
    write(&out_dir.join("operations.txt"), &operations.join("\n"))?;
    for warning in generated.warnings {
        println!("cargo:warning={warning}");
    }
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("writing {}: {e}", path.display()))
}
