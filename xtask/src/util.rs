//! Small helpers for running commands and finding paths.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

/// `cargo`, as the one that runs us (so the pinned toolchain is used).
///
/// Cargo keeps what rustc told it about each target in `.rustc_info.json` in the target folder,
/// failed answers included, and trusts that file until the compiler changes. One bad entry (seen
/// twice on our machines, once in CI: a target probe that had read another compiler's error
/// messages as its source) then fails every build in that folder with "unknown start of token"
/// until someone deletes the file. Asking rustc afresh costs a few tenths of a second per cargo
/// run; `CARGO_CACHE_RUSTC_INFO=0` is cargo's own switch for that. Nothing we run reads standard
/// input, so none is passed on.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root()).env("CARGO_CACHE_RUSTC_INFO", "0").stdin(std::process::Stdio::null());
    command
}

/// Runs `command`, echoing it, and fails when it fails.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    eprintln!("xtask: $ {}", describe(command));
    let status = command.status().with_context(|| format!("could not start {}", describe(command)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

/// An error already explained on the terminal: `main` exits non-zero without printing it again
/// (so `cargo xtask test` still ends on its totals line).
#[derive(Debug)]
pub struct AlreadyReported;

impl std::fmt::Display for AlreadyReported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("already reported")
    }
}

impl std::error::Error for AlreadyReported {}

/// Totals of the libtest summaries (`test result: ok. 12 passed; 0 failed; 3 ignored; …`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TestTotals {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl TestTotals {
    /// Adds a summary line's counts; other lines are left alone.
    pub fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else { return };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(number)) = (words.next(), words.next()) else { continue };
            let Ok(number) = number.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}

/// Runs a `cargo test` command, echoing its output as it comes, and adds up every test binary's
/// summary line. Answers the totals and whether the command succeeded; fails only when it cannot
/// be started.
pub fn run_counting(command: &mut Command) -> anyhow::Result<(TestTotals, bool)> {
    use std::io::{BufRead, Write};
    eprintln!("xtask: $ {}", describe(command));
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", describe(command)))?;
    let mut totals = TestTotals::default();
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = std::io::stdout().lock();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        totals.add_line(&line);
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    let status = child.wait()?;
    Ok((totals, status.success()))
}

pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `QOL_REQUIRE_ALL=1`: CI sets it so that nothing is silently skipped.
pub fn require_all() -> bool {
    std::env::var("QOL_REQUIRE_ALL").is_ok_and(|value| value == "1")
}

/// A loud banner for something that is skipped.
pub fn warn_skipped(what: &str, how_to_enable: &str) {
    eprintln!();
    eprintln!("xtask: ********************************************************************");
    eprintln!("xtask: SKIPPED: {what}");
    eprintln!("xtask: to enable: {how_to_enable}");
    eprintln!("xtask: ********************************************************************");
    eprintln!();
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// Cargo's target folder (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Runs one ignored harness of the test crate's browser suite (`screenshots::…`, `measure::…`)
/// against the built app, with chromedriver and Chromium at the given paths.
pub fn run_browser_harness(
    name: &str,
    dist: &Path,
    (driver, chromium): (PathBuf, PathBuf),
    output: (&str, &Path),
) -> anyhow::Result<()> {
    run(cargo()
        .args(["test", "--package", "qol-tests", "--test", "it", name, "--", "--ignored", "--exact"])
        .env(output.0, output.1)
        .env("QOL_DIST_DIR", dist)
        .env("QOL_CHROMEDRIVER", driver)
        .env("QOL_CHROMIUM", chromium))
}

#[cfg(test)]
mod tests {
    use super::TestTotals;

    #[test]
    fn summary_lines_of_every_test_binary_add_up() {
        let mut totals = TestTotals::default();
        for line in [
            "test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 1.20s",
            "running 4 tests",
            "test result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.5s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ] {
            totals.add_line(line);
        }
        assert_eq!(totals, TestTotals { passed: 17, failed: 2, ignored: 3 });
    }
}
