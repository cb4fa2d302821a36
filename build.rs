//! Generates the QStash client from `openapi/qstash.yaml` with progenitor.
//!
//! spec (YAML, OpenAPI 3.1) → in-memory corrections (`build/corrections.rs`)
//! → progenitor (`build/generate.rs`) → `$OUT_DIR/qstash_api.rs`, included by
//! `src/api.rs`. `QSTASH_OPENAPI_SPEC=<path>` generates from another
//! spec file instead; the spec-history check uses it.
//!
//! Only the `client` feature has a generated part: without it (a
//! receiver-only build) this script does nothing, and the generator is not
//! compiled at all.

#[cfg(feature = "client")]
#[path = "build/corrections.rs"]
mod corrections;
#[cfg(feature = "client")]
#[path = "build/generate.rs"]
mod generate;
#[cfg(feature = "client")]
#[path = "build/operation_names.rs"]
mod operation_names;

#[cfg(feature = "client")]
use std::path::{Path, PathBuf};
#[cfg(feature = "client")]
use std::{env, fs};

#[cfg(feature = "client")]
const SPEC_ENV: &str = "QSTASH_OPENAPI_SPEC";

#[cfg(not(feature = "client"))]
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}

#[cfg(feature = "client")]
fn main() {
    if let Err(message) = run() {
        // A build script reports through its exit status; the message says
        // which step of generation failed.
        eprintln!("error: qstash code generation failed: {message}");
        std::process::exit(1);
    }
}

#[cfg(feature = "client")]
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
    write(
        &out_dir.join("operations.rs"),
        &operation_table(&generated.operations),
    )?;
    for warning in generated.warnings {
        println!("cargo:warning={warning}");
    }
    Ok(())
}

/// The operations of the spec being built, with their classes from
/// `build/operation_names.rs`, as Rust source for `src/operations.rs`: the
/// table, and a `match` from operation name to row.
#[cfg(feature = "client")]
fn operation_table(operations: &[(String, String, String)]) -> String {
    use operation_names::{Guard, Retry};

    let mut rows = String::new();
    let mut arms = String::new();
    for (index, (method, path, name)) in operations.iter().enumerate() {
        let (retry, guard) = operation_names::classes(method, path);
        let retry = match retry {
            Retry::Repeatable => "Retry::Repeatable".to_string(),
            Retry::Deduplicated => "Retry::Deduplicated".to_string(),
            Retry::Once { unless } => format!("Retry::Once {{ unless: {unless:?} }}"),
        };
        let guard = match guard {
            Guard::None => "Guard::None",
            Guard::AllWhenUnfiltered => "Guard::AllWhenUnfiltered",
        };
        rows.push_str(&format!(
            "    Operation {{ name: {name:?}, path: {path:?}, retry: {retry}, guard: {guard} }},\n"
        ));
        arms.push_str(&format!(
            "        {name:?} => Some(&OPERATIONS[{index}]),\n"
        ));
    }
    format!(
        "/// Every operation of the spec, in the spec's order.\n\
         pub(crate) static OPERATIONS: &[Operation] = &[\n{rows}];\n\n\
         /// The row of the operation named `name`.\n\
         pub(crate) fn find(name: &str) -> Option<&'static Operation> {{\n    \
         match name {{\n{arms}        _ => None,\n    }}\n}}\n"
    )
}

#[cfg(feature = "client")]
fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("writing {}: {e}", path.display()))
}
