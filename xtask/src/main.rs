//! qol's build and test automation, run as `cargo xtask <command>`:
//!
//! - `dist`: build the web app for wasm32 (release), generate its JS glue in-process with
//!   `wasm-bindgen-cli-support` (the same version as the `wasm-bindgen` in Cargo.lock), optimise
//!   it with wasm-opt, and write `dist/` with content-hashed names, precompressed copies and an
//!   `index.html`; print each asset's size.
//! - `run`: `dist`, then the server on SQLite (`data/qol.db`) with the demo study.
//! - `test`: format check, clippy, every test suite (including the browser tests against the
//!   optimised build and the PostgreSQL variants). `QOL_REQUIRE_ALL=1` turns a missing
//!   prerequisite (chromedriver, PostgreSQL, wasm-opt) into a failure.
//! - `release`: `dist`, the server built for release, and a versioned tarball of both with the
//!   default protocol, the docs and `deploy/` (systemd unit, backup timer, nginx example,
//!   Containerfile) in `target/release-artifacts/`.
//! - `bench`: benchmarks, written to `BENCHMARKS.md`.
//! - `screenshots`: phone-size PNGs of every screen in `docs/screenshots/`, for the README.

mod bench;
mod dist;
mod prerequisites;
mod release;
mod run;
mod screenshots;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  dist    build the web app into dist/ (wasm32 release, wasm-bindgen, wasm-opt, hashed names)
  run     build the app and start qol on SQLite with a demo study (data/qol.db)
  test    run every check: fmt, clippy, unit, API, storage (SQLite + PostgreSQL) and browser tests
  release build the versioned tarball a site installs (target/release-artifacts/)
  bench   run the benchmarks and write BENCHMARKS.md
  screenshots  save phone-size screenshots of every screen into docs/screenshots/

environment:
  QOL_REQUIRE_ALL=1         fail, instead of skipping, when chromedriver, PostgreSQL or wasm-opt is missing
  QOL_TEST_POSTGRES_URL     PostgreSQL for the tests (default postgres://postgres@127.0.0.1:5432/test)
  QOL_WASM_OPT              path to a wasm-opt (version 116 or later) to use instead of the one found
  QOL_BENCH_PATIENTS        bench: the study sizes of the export bench (default 1000,10000,100000)
  QOL_BENCH_KEEP_DB         bench: keep the export bench's seeded databases and print their URLs
                            (\"KEPT url\"), to profile `qol export` on them afterwards";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dist") => dist::dist().map(|_| ()),
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(),
        Some("release") => release::release(),
        Some("bench") => bench::bench(),
        Some("screenshots") => screenshots::screenshots(),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("xtask: unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<util::AlreadyReported>() => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
