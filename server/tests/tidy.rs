//! Tidy checks: rules of the code's shape that the compiler does not keep, read off the source as
//! rust-analyzer's tidy tests do. Each names the rule (ARCHITECTURE.md, "Invariants") and every
//! offending line.

use std::path::{Path, PathBuf};

fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no Rust files under {}", folder.display());
    files
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Lines of code (comments left out) under `folder` that contain any of `needles`, except in
/// files under one of `allowed` (paths relative to the workspace).
fn offenders(folder: &str, needles: &[&str], allowed: &[&str]) -> Vec<String> {
    let root = workspace();
    let mut found = Vec::new();
    for file in rust_files(&root.join(folder)) {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if allowed.iter().any(|allowed| relative.starts_with(allowed)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{relative}:{}: {}", number + 1, code));
            }
        }
    }
    found
}

#[test]
fn http_never_reaches_storage() {
    let found = offenders("server/src/http", &["storage::", "storage::{", ".db."], &[]);
    assert!(
        found.is_empty(),
        "handlers parse, call one `Clinic` method, respond; storage is the service's:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_clock_reads_the_time() {
    let needles = ["Utc::now(", "Local::now(", "SystemTime::now(", "chrono::offset::Utc::now"];
    let mut found = offenders("server/src", &needles, &["server/src/clock.rs"]);
    found.extend(offenders("shared/src", &needles, &[]));
    assert!(found.is_empty(), "read the time from the application's `Clock`:\n{}", found.join("\n"));
}

#[test]
fn only_the_service_writes() {
    let needles = ["begin_write(", "begin_write_deferred(", "WriteTx", "audit_alone(", "commit_derived("];
    let found = offenders("server/src", &needles, &["server/src/storage/", "server/src/clinic/"]);
    assert!(
        found.is_empty(),
        "every write transaction is the service's (`server/src/clinic/`):\n{}",
        found.join("\n")
    );
}

/// The checks above would pass on an empty tree; this one makes sure they read the real one.
#[test]
fn the_checks_see_the_code() {
    assert!(!offenders("server/src/clinic", &["begin_write("], &[]).is_empty());
    assert!(!offenders("server/src", &["Utc::now("], &[]).is_empty(), "the clock itself reads it");
    assert!(!offenders("server/src/http", &["state.clinic."], &[]).is_empty());
}
