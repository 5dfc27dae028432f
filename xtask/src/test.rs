//! `cargo xtask test`: every check, in the order that fails fastest.

use anyhow::bail;

use crate::prerequisites::{WASM_TARGET, browser, ensure_wasm_target, postgres};
use crate::util::{AlreadyReported, cargo, require_all, run, run_counting, warn_skipped};

pub fn test() -> anyhow::Result<()> {
    ensure_wasm_target()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--exclude",
        "qol-app",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The app as each bundle builds it (one part alone: what only the other part uses shows up
    // here as dead code), and with both parts, so that neither can come to exclude the other.
    for features in [
        &["--no-default-features", "--features", "patient"][..],
        &["--no-default-features", "--features", "staff"],
        &["--all-features"],
    ] {
        run(cargo()
            .args(["clippy", "--package", "qol-app", "--target", WASM_TARGET])
            .args(features)
            .args(["--", "-D", "warnings"]))?;
    }

    let (postgres_url, postgres_up) = postgres();
    let browser = browser();
    let mut missing = Vec::new();
    if !postgres_up {
        missing.push(format!("PostgreSQL at {postgres_url}"));
    }
    if browser.is_none() {
        missing.push("chromium and chromedriver".to_owned());
    }
    if !missing.is_empty() && require_all() {
        bail!(
            "QOL_REQUIRE_ALL=1 but these are missing: {}. Start PostgreSQL (or set QOL_TEST_POSTGRES_URL) and `apt-get install chromium chromium-driver`",
            missing.join("; ")
        );
    }
    if !postgres_up {
        warn_skipped(
            &format!(
                "the PostgreSQL variants of the storage and API tests (nothing answers at {postgres_url})"
            ),
            "start PostgreSQL, or point QOL_TEST_POSTGRES_URL at one",
        );
    }
    if browser.is_none() {
        warn_skipped(
            "the browser tests (chromium or chromedriver not found on PATH)",
            "apt-get install chromium chromium-driver",
        );
    }

    // The browser tests run against the optimised build, so build it first.
    let dist = crate::dist::dist()?;
    // The release tarball, which `it/release.rs` unpacks in an empty folder and serves.
    let release = if dist.optimised {
        Some(crate::release::release_with(&dist)?)
    } else {
        warn_skipped("the release tarball's test (the web app was not optimised)", "install wasm-opt");
        None
    };
    let mut tests = cargo();
    tests
        .args(["test", "--workspace", "--exclude", "qol-app"])
        .env("QOL_DIST_DIR", &dist.dir)
        .env("QOL_TEST_POSTGRES_URL", &postgres_url);
    if let Some(release) = &release {
        tests.env("QOL_RELEASE_TARBALL", &release.tarball);
    }
    if let Some((driver, chromium)) = &browser {
        tests.env("QOL_CHROMEDRIVER", driver).env("QOL_CHROMIUM", chromium);
    }
    let (totals, success) = run_counting(&mut tests)?;
    if !missing.is_empty() {
        warn_skipped(&format!("see above: {}", missing.join("; ")), "see above");
    }
    if totals.ignored > 0 {
        println!(
            "({} ignored: the measuring and screenshot harnesses that `cargo xtask bench` and `cargo xtask screenshots` run)",
            totals.ignored
        );
    }
    if !success && totals.failed == 0 {
        println!("xtask: the test command failed before reporting a failed test (a build error?)");
    }
    // The last line: the totals alone.
    println!("{} passed, {} failed", totals.passed, totals.failed);
    if success { Ok(()) } else { Err(AlreadyReported.into()) }
}
