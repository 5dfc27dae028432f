//! `cargo xtask bench`: benchmarks, written to `BENCHMARKS.md` with the machine they ran on.
//! These measure; they do not pass or fail.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::dist::kb;
use crate::util::{cargo, root, run, target_dir};

/// Wave 1's figures (BENCHMARKS.md before issue 20, the same 2-core machine), beside which this
/// run's are shown.
const BEFORE_PAIRS_PER_SECOND: u64 = 600_110;
const BEFORE_SCORE_ROWS_PER_SECOND: f64 = 363_129.0;
const BEFORE_FIRST_LOAD_BROTLI: &str = "244.6 KB";
const BEFORE_TIME_TO_INTERACTIVE: &str = "3.37 s";
const BEFORE_EXPORT_ROWS_PER_SECOND: f64 = 60_136.0;

pub fn bench() -> anyhow::Result<()> {
    let mut report = String::new();
    writeln!(report, "# qol benchmarks\n")?;
    writeln!(report, "Written by `cargo xtask bench`; measurements, not tests. Re-run it to refresh.\n")?;
    writeln!(report, "## Machine\n\n{}\n", machine())?;

    let throughput = scoring_throughput()?;
    writeln!(report, "## Scoring throughput\n")?;
    writeln!(
        report,
        "criterion, `shared/benches/scoring.rs`: parse and score one QLQ-C30 and one QLQ-CX24 \
         questionnaire (64 varied response patterns, about 10 % of items skipped).\n"
    )?;
    writeln!(report, "| measure | before (wave 1) | now |\n|---|---:|---:|")?;
    writeln!(
        report,
        "| C30 + CX24 questionnaire pairs per second | {BEFORE_PAIRS_PER_SECOND} | {throughput} |"
    )?;
    writeln!(report)?;

    alert_burden(&mut report)?;

    run(cargo().args([
        "build",
        "--release",
        "--package",
        "qol-server",
        "--bin",
        "qol",
        "--example",
        "csv_floor",
    ]))?;
    let qol = target_dir().join("release/qol");
    let floor = target_dir().join("release/examples/csv_floor");
    let folder = target_dir().join("bench");
    std::fs::create_dir_all(&folder)?;
    writeln!(report, "## `qol score` on large files\n")?;
    writeln!(
        report,
        "A QLQ-C30 CSV (id column + q1…q30, pseudo-random codes, ~10 % blank) scored to /dev/null \
         by the release binary; the best of three runs. Peak memory is the process's VmHWM; \
         constant memory shows as the same peak for 100,000 and 1,000,000 rows. *Floor*: the `csv` \
         crate alone reading the same file and writing one of the same shape (`server/examples/\
         csv_floor.rs`, same buffers); *vs floor* divides `qol score`'s time by the floor's. \
         *Before*: wave 1's `qol score` on the same file ({BEFORE_SCORE_ROWS_PER_SECOND} rows/s \
         at 1,000,000 rows).\n"
    )?;
    writeln!(
        report,
        "| rows | file size | wall time | rows per second | vs before | floor time | vs floor | peak memory |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for rows in [100_000usize, 1_000_000] {
        let file = folder.join(format!("c30-{rows}.csv"));
        write_c30_csv(&file, rows)?;
        let size = std::fs::metadata(&file)?.len();
        let best = |program: &Path, args: &[&str]| -> anyhow::Result<(Duration, u64)> {
            let mut runs = Vec::new();
            for _ in 0..3 {
                runs.push(run_measured(program, args, &file)?);
            }
            Ok(runs.into_iter().min().unwrap_or_default())
        };
        let (elapsed, peak_kb) = best(&qol, &["score", "--instrument", "qlq-c30"])?;
        let (floor_elapsed, _) = best(&floor, &[])?;
        let per_second = rows as f64 / elapsed.as_secs_f64();
        writeln!(
            report,
            "| {rows} | {:.1} MB | {:.2} s | {per_second:.0} | {:.1}× | {:.2} s | {:.2}× | {:.1} MB |",
            size as f64 / 1e6,
            elapsed.as_secs_f64(),
            per_second / BEFORE_SCORE_ROWS_PER_SECOND,
            floor_elapsed.as_secs_f64(),
            elapsed.as_secs_f64() / floor_elapsed.as_secs_f64(),
            peak_kb as f64 / 1000.0
        )?;
    }
    writeln!(report)?;

    let dist = crate::dist::dist()?;
    writeln!(report, "## Web app transfer size\n")?;
    writeln!(
        report,
        "`cargo xtask dist` output (wasm-opt {}).\n",
        if dist.optimised { "applied" } else { "NOT applied" }
    )?;
    asset_table(&mut report, &dist.assets)?;
    writeln!(
        report,
        "| **first load** | | **{}** | **{}** |",
        kb(dist.first_load_gzip()),
        kb(dist.first_load_brotli())
    )?;
    writeln!(report, "\nBefore (wave 1): {BEFORE_FIRST_LOAD_BROTLI} brotli first load.")?;

    writeln!(report)?;
    writeln!(report, "## Time to interactive on a slow mobile network\n")?;
    match time_to_interactive(&dist.dir)? {
        Some(result) => {
            writeln!(
                report,
                "First visit (empty cache, no service worker) in headless Chromium at 390×844, with \
                 ChromeDriver emulating DevTools' \"Slow 4G\" ({:.0} kB/s down, {:.1} ms latency). \
                 Interactive = the app's first screen rendered by the WebAssembly app. Five runs \
                 (`tests/tests/it/measure.rs`).\n",
                result["download_bytes_per_second"].as_f64().unwrap_or(0.0) / 1000.0,
                result["latency_ms"].as_f64().unwrap_or(0.0)
            )?;
            writeln!(report, "| measure | value |\n|---|---|")?;
            writeln!(
                report,
                "| median time to interactive | {:.2} s (before: {BEFORE_TIME_TO_INTERACTIVE}) |",
                result["median_ms"].as_f64().unwrap_or(0.0) / 1000.0
            )?;
            let runs: Vec<String> = result["runs"]
                .as_array()
                .map(|runs| {
                    runs.iter().map(|ms| format!("{:.2}", ms.as_f64().unwrap_or(0.0) / 1000.0)).collect()
                })
                .unwrap_or_default();
            writeln!(report, "| all runs (s) | {} |", runs.join(", "))?;
            writeln!(
                report,
                "| bytes transferred (first visit) | {} |",
                kb(result["transferred_bytes"].as_f64().unwrap_or(0.0) as u64)
            )?;
        }
        None => writeln!(report, "Not measured: chromium and chromedriver are not installed.")?,
    }
    http_load(&mut report, &qol)?;
    export_memory(&mut report, &qol)?;
    writeln!(report, "\n## Staff console transfer size\n")?;
    writeln!(
        report,
        "The staff console is a second bundle under `/staff` (desktop, clinic network); the phone never loads it.\n"
    )?;
    asset_table(&mut report, &dist.staff)?;
    std::fs::write(root().join("BENCHMARKS.md"), &report)?;
    println!("{report}");
    println!("xtask: wrote BENCHMARKS.md");
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines().next().map(|line| line.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(|| "unknown".into(), |kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0));
    let rustc = Command::new("rustc").current_dir(root()).arg("--version").output().map_or_else(
        |_| "unknown".into(),
        |output| String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    );
    format!("- CPU: {cpu}, {cores} cores\n- memory: {memory}\n- {rustc}")
}

fn scoring_throughput() -> anyhow::Result<String> {
    let output = cargo()
        .args(["bench", "--package", "qol-shared", "--bench", "scoring"])
        .stderr(Stdio::inherit())
        .output()
        .context("could not run cargo bench")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    if !output.status.success() {
        bail!("cargo bench failed");
    }
    // criterion prints "thrpt:  [low unit mid unit high unit]"; report the middle estimate.
    let line =
        text.lines().find(|line| line.contains("thrpt:")).context("no throughput line from criterion")?;
    let inside = line
        .split('[')
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .context("unexpected criterion output")?;
    let parts: Vec<&str> = inside.split_whitespace().collect();
    let (value, unit) = (parts.get(2).context("short")?, parts.get(3).context("short")?);
    let per_second: f64 = value.parse::<f64>()?
        * match unit.trim_end_matches("elem/s") {
            "K" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            _ => 1.0,
        };
    Ok(format!("{per_second:.0}"))
}

/// Alert burden before and after the card model: the simulation in
/// `shared/examples/alert_burden.rs` (deterministic; it prints one JSON object).
fn alert_burden(report: &mut String) -> anyhow::Result<()> {
    let output = cargo()
        .args(["run", "--release", "--package", "qol-shared", "--example", "alert_burden"])
        .stderr(Stdio::inherit())
        .output()
        .context("could not run the alert_burden example")?;
    if !output.status.success() {
        bail!("the alert_burden example failed");
    }
    let result: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("the alert_burden example printed no JSON")?;
    let (before, after) = (&result["before"], &result["after"]);
    writeln!(report, "## Alert burden\n")?;
    writeln!(
        report,
        "A deterministic simulation, `shared/examples/alert_burden.rs` (the model is described at its \
         top): {} synthetic patients × the shipped schedule (baseline, 18 weekly QLQ-C30 reports, after \
         induction, end of radiotherapy, end of treatment and 6 follow-ups, with the QLQ-CX24 where the \
         protocol asks; 5 % of reports missing) = {} reports. Each answer follows a per-patient latent \
         toxicity trajectory (acute and cumulative chemotherapy, pelvic radiotherapy in weeks 3–8, \
         paclitaxel neuropathy from week 6, disease pain easing with response, later menopausal \
         symptoms and lymphoedema; functioning falls with overall toxicity) plus patient offsets and \
         noise; 10 % of patients have one bad week; 3 % of reports ask for a call (25 % after \"very \
         much\" pain). The nurse acknowledges every card the day it is raised and resolves it before the \
         patient's next report, so each report's signals open new cards. *Before*: the previous rules \
         (QLQ-C30 scales only, 10 / 20 points on every scale, so one step on a single-item scale was \
         red), one alert per scale, item or call request. *After*: `AlertRules::default()` (severe \
         bands, response steps on single-item scales, the CX24 scales), at most one symptoms card and \
         one call-request card per patient.\n",
        result["patients"], result["reports"]
    )?;
    writeln!(
        report,
        "| measure | before (one alert per scale) | after (one card per patient) |\n|---|---:|---:|"
    )?;
    for (label, key) in [
        ("cards (alerts) per 100 reports", "cards_per_100"),
        ("red cards (alerts) per 100 reports", "red_per_100"),
        ("call requests per 100 reports", "call_requests_per_100"),
    ] {
        writeln!(report, "| {label} | {:.1} | {:.1} |", f(&before[key]), f(&after[key]))?;
    }
    writeln!(
        report,
        "| signals per report | {:.2} | {:.2} |",
        f(&before["signals_per_report"]),
        f(&after["signals_per_report"])
    )?;
    let detail = &result["detail"];
    writeln!(
        report,
        "| reports with a red signal | {:.1} % | {:.1} % |",
        f(&detail["reports_with_a_red_signal_pct"]["before"]),
        f(&detail["reports_with_a_red_signal_pct"]["after"])
    )?;
    writeln!(
        report,
        "| red signals from a one-step change on a single-item scale, per 100 reports | {:.1} | {:.1} |",
        f(&detail["red_one_step_single_item_change_per_100"]["before"]),
        f(&detail["red_one_step_single_item_change_per_100"]["after"])
    )?;
    let slow = &result["nurse_every_other_report"];
    if slow.is_object() {
        writeln!(
            report,
            "\nIf the nurse resolves cards only after every other report (the rest join the next \
             report's signals): {:.1} → {:.1} cards and {:.1} → {:.1} red cards per 100 reports; \
             acknowledged cards re-opened by a higher tier, red news or a new call request: {:.1} per \
             100 reports.",
            f(&slow["before"]["cards_per_100"]),
            f(&slow["after"]["cards_per_100"]),
            f(&slow["before"]["red_per_100"]),
            f(&slow["after"]["red_per_100"]),
            f(&slow["after_escalated_per_100"])
        )?;
    }
    writeln!(report)?;
    Ok(())
}

fn write_c30_csv(path: &Path, rows: usize) -> anyhow::Result<()> {
    if std::fs::metadata(path).is_ok() {
        return Ok(());
    }
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    write!(out, "id")?;
    for item in 1..=30 {
        write!(out, ",q{item}")?;
    }
    writeln!(out)?;
    let mut state: u64 = 42;
    for row in 0..rows {
        write!(out, "P{row}")?;
        for item in 1..=30 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let roll = state >> 33;
            if roll.is_multiple_of(10) {
                write!(out, ",")?;
            } else {
                let top = if item >= 29 { 7 } else { 4 };
                write!(out, ",{}", 1 + roll % top)?;
            }
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// Runs `program args… file` and returns its wall time and peak resident memory (KiB).
fn run_measured(program: &Path, args: &[&str], file: &Path) -> anyhow::Result<(Duration, u64)> {
    let start = Instant::now();
    let mut child = Command::new(program).args(args).arg(file).stdout(Stdio::null()).spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        let high_water_mark = std::fs::read_to_string(&status_file).ok().and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        });
        peak = peak.max(high_water_mark.unwrap_or(0));
        if let Some(status) = child.try_wait()? {
            anyhow::ensure!(status.success(), "{} failed on {}", program.display(), file.display());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok((start.elapsed(), peak))
}

/// Runs the measuring harness in the test crate (it drives Chromium through ChromeDriver).
fn time_to_interactive(dist: &Path) -> anyhow::Result<Option<serde_json::Value>> {
    let Some(browser) = crate::prerequisites::browser() else { return Ok(None) };
    let out = target_dir().join("bench/time-to-interactive.json");
    crate::util::run_browser_harness(
        "measure::time_to_interactive_on_slow_4g",
        dist,
        browser,
        ("QOL_MEASURE_OUT", &out),
    )?;
    Ok(Some(serde_json::from_str(&std::fs::read_to_string(out)?)?))
}

/// Runs an ignored measuring harness of the test crate with `env`; returns its JSON output.
fn harness(name: &str, qol: &Path, env: &[(&str, &str)]) -> anyhow::Result<serde_json::Value> {
    let out = target_dir().join(format!("bench/{}.json", name.replace("::", "-")));
    let mut command = cargo();
    command
        .args([
            "test",
            "--package",
            "qol-tests",
            "--test",
            "it",
            name,
            "--",
            "--ignored",
            "--exact",
            "--nocapture",
        ])
        .env("QOL_BENCH_QOL", qol)
        .env("QOL_MEASURE_OUT", &out);
    for (key, value) in env {
        command.env(key, value);
    }
    run(&mut command)?;
    Ok(serde_json::from_str(&std::fs::read_to_string(out)?)?)
}

fn f(value: &serde_json::Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// A measure's rounds, as whole numbers: "212, 198, 230".
fn rounds(values: &serde_json::Value) -> String {
    let values = values.as_array().cloned().unwrap_or_default();
    values.iter().map(|value| format!("{:.0}", f(value))).collect::<Vec<_>>().join(", ")
}

/// HTTP submission throughput and latency, against the raw insert rate, on both databases.
fn http_load(report: &mut String, qol: &Path) -> anyhow::Result<()> {
    writeln!(report, "\n## HTTP submissions under load\n")?;
    writeln!(
        report,
        "The release server (`qol serve`) on a fresh database; 200 enrolled, activated patients (and \
         four more: each round's single sender and the raw inserts' patient); a Rust load generator \
         (`tests/tests/it/load.rs`, reqwest, on the same 2-core machine, so client and server share \
         the CPUs) keeps 1, 50 or 200 patients sending unscheduled QLQ-C30 reports for 8 s at each \
         level (the single sender a patient of her own in each round), in three rounds (each round \
         every level, then the raw insert rate): a rate is the median round's (all three in \
         brackets), latencies are over the three, and a level's server RSS is its highest. A stored \
         report = parse, score, alert rules, the assessment, the submission, 30 answers, 16 scores \
         and an audit entry in one transaction. Latency is per request, at the client. *Raw insert* \
         is sqlx inserting the same rows (assessment, submission, answers, scores; no parsing, \
         scoring, alerts or audit) into the same database, one transaction per report, with 1 and 8 \
         writers, for a patient of its own whose rows no report reads; the ratio divides HTTP \
         throughput by the faster raw rate. Caveat: the load generator and the raw inserter run in \
         the test harness, built in the dev profile (unoptimised sqlx), so the raw rate is \
         understated and the ratio flatters the server. *At idle*: 3 s after the 200 activations \
         (argon2 at m = 7 MiB on one worker per core, whose memory is given back after a quiet \
         second). Wave 1, before: 209.7 MB (SQLite) and 225.2 MB (PostgreSQL) at idle, 230.5 and \
         244.5 MB at peak; PostgreSQL at 200 patients reached 26 % of the raw rate, p99 1266 ms.\n"
    )?;
    writeln!(
        report,
        "| database | patients at once | reports/s | p50 | p95 | p99 | errors | vs raw insert | server RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let mut memory = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let result = match harness("load::submission_load", qol, &[("QOL_BENCH_BACKEND", backend)]) {
            Ok(result) => result,
            Err(error) => {
                writeln!(report, "| {backend} | not measured: {error} | | | | | | | |")?;
                continue;
            }
        };
        let raw = result["raw_insert"].as_array().cloned().unwrap_or_default();
        let best_raw = raw.iter().map(|r| f(&r["per_second"])).fold(0.0, f64::max);
        for level in result["levels"].as_array().cloned().unwrap_or_default() {
            writeln!(
                report,
                "| {backend} | {} | {:.0} ({}) | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.0} % | {:.1} MB |",
                level["concurrency"],
                f(&level["per_second"]),
                rounds(&level["per_second_runs"]),
                f(&level["p50_ms"]),
                f(&level["p95_ms"]),
                f(&level["p99_ms"]),
                level["errors"],
                100.0 * f(&level["per_second"]) / best_raw.max(1e-9),
                f(&level["rss_kb"]) / 1000.0
            )?;
        }
        memory.push(format!(
            "| {backend} | {:.1} MB | {:.1} MB | {:.1} MB | {} |",
            f(&result["rss_after_activations_kb"]) / 1000.0,
            f(&result["rss_idle_kb"]) / 1000.0,
            f(&result["rss_peak_kb"]) / 1000.0,
            raw.iter()
                .map(|r| format!(
                    "{:.0}/s ({}) with {} writer(s)",
                    f(&r["per_second"]),
                    rounds(&r["per_second_runs"]),
                    r["writers"]
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    writeln!(
        report,
        "\n| database | server RSS right after the activations | server RSS at idle | server peak RSS | raw sqlx insert rate |\n|---|---:|---:|---:|---|"
    )?;
    for line in memory {
        writeln!(report, "{line}")?;
    }
    Ok(())
}

/// `qol export scores_long.csv` on seeded studies of growing size: rows per second and peak
/// memory (flat memory = streaming).
fn export_memory(report: &mut String, qol: &Path) -> anyhow::Result<()> {
    let sizes = std::env::var("QOL_BENCH_PATIENTS").unwrap_or_else(|_| "1000,10000,100000".into());
    let result = harness("load::export_memory", qol, &[("QOL_BENCH_PATIENTS", &sizes)])?;
    writeln!(report, "\n## Export throughput and memory\n")?;
    writeln!(
        report,
        "`qol export scores_long.csv` (release binary) on a study written straight into the \
         database, SQLite and PostgreSQL (planner statistics gathered after seeding, as \
         autovacuum would have): each patient with 4 treatment events, the full computed schedule, and 10 completed \
         assessments (baseline, 5 weekly, end of radiotherapy, end of treatment, 3 and 6 months; \
         QLQ-C30, plus QLQ-CX24 where the protocol asks), with real scores. Peak memory is the \
         process's VmHWM. Records are read a page of 200 patients at a time, six queries per page \
         (`server/src/storage/batch.rs`; answers and scores one text per form), the next page \
         while this one is written. Sizes: `QOL_BENCH_PATIENTS` (default 1000,10000,100000). \
         *vs before*: wave 1 wrote {BEFORE_EXPORT_ROWS_PER_SECOND} rows/s at 100,000 patients (one \
         query per patient and kind, two more per form; SQLite).\n"
    )?;
    writeln!(
        report,
        "| database | patients | rows written | file | wall time | rows/s | vs before | peak memory |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for export in result["exports"].as_array().cloned().unwrap_or_default() {
        writeln!(
            report,
            "| {} | {} | {} | {:.1} MB | {:.1} s | {:.0} | {:.1}× | {:.1} MB |",
            export["database"].as_str().unwrap_or("sqlite"),
            export["patients"],
            export["rows"],
            f(&export["bytes"]) / 1e6,
            f(&export["seconds"]),
            f(&export["rows_per_second"]),
            f(&export["rows_per_second"]) / BEFORE_EXPORT_ROWS_PER_SECOND,
            f(&export["peak_kb"]) / 1000.0
        )?;
    }
    Ok(())
}

/// The table head and one row per asset (the caller adds any total).
fn asset_table(report: &mut String, assets: &[crate::dist::AssetSize]) -> anyhow::Result<()> {
    writeln!(report, "| asset | raw | gzip | brotli |\n|---|---:|---:|---:|")?;
    for asset in assets {
        writeln!(
            report,
            "| {} | {} | {} | {} |",
            asset.name,
            kb(asset.raw),
            kb(asset.gzip),
            kb(asset.brotli)
        )?;
    }
    Ok(())
}
