//! Not a test: `cargo xtask bench` runs these (ignored otherwise) against the release `qol`
//! binary (`QOL_BENCH_QOL`) and writes JSON to `QOL_MEASURE_OUT`.
//!
//! - `submission_load`: patients sending QLQ-C30 reports over HTTP at 1, 50 and 200 at once
//!   (`QOL_BENCH_BACKEND` = sqlite or postgres), in three rounds: throughput (the median
//!   round's) and latency percentiles, the
//!   server's memory at idle and at its peak, and the raw sqlx insert rate of the same rows into
//!   the same database, for the ratio.
//! - `export_memory`: a study of `QOL_BENCH_PATIENTS` patients × 10 assessments written straight
//!   into SQLite, then `qol export scores_long.csv` timed with its peak memory.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qol_tests::{Backend, ServerProcess, TestDatabase, c30_report, remote_patients};
use serde_json::json;
use sqlx::Row;

fn qol_binary() -> std::path::PathBuf {
    std::env::var_os("QOL_BENCH_QOL").expect("QOL_BENCH_QOL names the release qol binary").into()
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

const SECONDS_PER_LEVEL: u64 = 8;
const ROUNDS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by cargo xtask bench"]
async fn submission_load() {
    let out = std::env::var("QOL_MEASURE_OUT").expect("QOL_MEASURE_OUT names the output file");
    let backend = match std::env::var("QOL_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let database = TestDatabase::create(backend).await.expect("the database is available");
    let mut server = ServerProcess::start(&qol_binary(), &database.url, true);
    let url = server.url.clone();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    // 200 patients send at 50 and 200 at once; each round's single patient is one of her own
    // (a patient's reports read her history, and a single sender makes hundreds a round); the
    // raw inserts go to the last patient, whose rows no report reads.
    let mut tokens = remote_patients(&client, &url, 200 + ROUNDS + 1, "Load").await;
    tokens.truncate(200 + ROUNDS);
    let solo = tokens.split_off(200);
    let pid = server.child.id();
    // Idle: the server has had nothing to do for a few seconds after the last activation (its
    // hashing workers give their memory back after a quiet second).
    let rss_after_activations_kb = status_kb(pid, "VmRSS:");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle_kb = status_kb(pid, "VmRSS:");

    // Three rounds, each every level and then the raw insert rate, so that a slow spell of the
    // machine touches one round and the medians stand; latencies are pooled over the rounds.
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(8).connect(&database.url).await.unwrap();
    let mut runs: Vec<(usize, f64, Vec<f64>, usize)> = Vec::new();
    let mut raw_runs: Vec<(usize, usize, f64)> = Vec::new();
    let mut rss_by_level = std::collections::BTreeMap::new();
    for round in 0..ROUNDS {
        for concurrency in [1usize, 50, 200] {
            let deadline = Instant::now() + Duration::from_secs(SECONDS_PER_LEVEL);
            let started = Instant::now();
            let mut tasks = Vec::new();
            let senders = if concurrency == 1 { &solo[round..=round] } else { &tokens[..concurrency] };
            for token in senders {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    let mut k = 0;
                    while Instant::now() < deadline {
                        k += 1;
                        let body = c30_report(&uuid::Uuid::new_v4().to_string(), 1 + k % 4);
                        let sent = Instant::now();
                        let response = client
                            .post(format!("{url}/api/v1/me/submissions"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await;
                        match response {
                            Ok(r) if r.status().as_u16() == 201 => {
                                latencies.push(sent.elapsed().as_secs_f64() * 1000.0)
                            }
                            _ => errors += 1,
                        }
                    }
                    (latencies, errors)
                }));
            }
            let mut latencies = Vec::new();
            let mut errors = 0;
            for task in tasks {
                let (l, e) = task.await.unwrap();
                latencies.extend(l);
                errors += e;
            }
            let seconds = started.elapsed().as_secs_f64();
            latencies.sort_by(f64::total_cmp);
            runs.push((concurrency, latencies.len() as f64 / seconds, latencies, errors));
            let rss = rss_by_level.entry(concurrency).or_insert(0);
            *rss = (*rss).max(status_kb(pid, "VmRSS:"));
        }
        // The same rows, inserted with sqlx straight into the same database: an unscheduled
        // assessment, the submission, its 30 answers and 16 scores, in one transaction each.
        let patient_id: i64 =
            sqlx::query("SELECT MAX(id) FROM patients").fetch_one(&pool).await.unwrap().get(0);
        let submission_id: i64 = sqlx::query("SELECT MAX(id) FROM submissions WHERE patient_id <> $1")
            .bind(patient_id)
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
        let scores: Vec<(String, String, Option<f64>, i64, i64)> = sqlx::query(
            "SELECT instrument, scale, CAST(score AS TEXT), items_answered, items_in_scale FROM scores WHERE submission_id = $1",
        )
        .bind(submission_id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let score: Option<String> = r.get(2);
            (r.get(0), r.get(1), score.and_then(|s| s.parse().ok()), r.get(3), r.get(4))
        })
        .collect();
        let scores = Arc::new(scores);
        for writers in [1usize, 8] {
            let count = 400 / writers;
            let started = Instant::now();
            let mut tasks = Vec::new();
            for w in 0..writers {
                let (pool, scores) = (pool.clone(), scores.clone());
                tasks.push(tokio::spawn(async move {
                    for i in 0..count {
                        let key = format!("raw-{round}-{writers}-{w}-{i}");
                        let mut tx = pool.begin().await.unwrap();
                        let assessment: i64 = sqlx::query(
                            "INSERT INTO assessments (patient_id, key, code, label, instruments, target_date, window_start, window_end, unscheduled) \
                             VALUES ($1, $2, 'unscheduled', 'Unscheduled report', 'qlq-c30', '2026-01-01', '2026-01-01', '2026-01-01', 1) RETURNING id",
                        )
                        .bind(patient_id)
                        .bind(&key)
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap()
                        .get(0);
                        let submission: i64 = sqlx::query(
                            "INSERT INTO submissions (client_id, content_hash, patient_id, assessment_id, completed_at, received_at, timeliness, language, submitted_by) \
                             VALUES ($1, 'x', $2, $3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'unscheduled', 'en', 'bench') RETURNING id",
                        )
                        .bind(&key)
                        .bind(patient_id)
                        .bind(assessment)
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap()
                        .get(0);
                        for item in 1..=30_i64 {
                            sqlx::query("INSERT INTO item_answers (submission_id, item, code, not_applicable) VALUES ($1, $2, $3, 0)")
                                .bind(submission)
                                .bind(item)
                                .bind(2_i64)
                                .execute(&mut *tx)
                                .await
                                .unwrap();
                        }
                        for (instrument, scale, score, answered, in_scale) in scores.iter() {
                            sqlx::query(
                                "INSERT INTO scores (submission_id, instrument, scale, score, raw_score, items_answered, items_in_scale, algorithm_version) \
                                 VALUES ($1, $2, $3, CAST($4 AS DOUBLE PRECISION), NULL, $5, $6, 'bench')",
                            )
                            .bind(submission)
                            .bind(instrument)
                            .bind(scale)
                            .bind(score.map(|s| s.to_string()))
                            .bind(answered)
                            .bind(in_scale)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                        }
                        tx.commit().await.unwrap();
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            let seconds = started.elapsed().as_secs_f64();
            raw_runs.push((writers, count * writers, (count * writers) as f64 / seconds));
        }
    }
    let rss_peak_kb = status_kb(pid, "VmHWM:");
    server.signal("TERM");
    pool.close().await;

    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let levels: Vec<_> = [1usize, 50, 200]
        .into_iter()
        .map(|concurrency| {
            let these: Vec<_> = runs.iter().filter(|run| run.0 == concurrency).collect();
            let mut latencies: Vec<f64> = these.iter().flat_map(|run| run.2.iter().copied()).collect();
            latencies.sort_by(f64::total_cmp);
            let rates: Vec<f64> = these.iter().map(|run| run.1).collect();
            json!({
                "concurrency": concurrency,
                "stored": latencies.len(),
                "errors": these.iter().map(|run| run.3).sum::<usize>(),
                "per_second": median(rates.clone()),
                "per_second_runs": rates,
                "p50_ms": percentile(&latencies, 0.50),
                "p95_ms": percentile(&latencies, 0.95),
                "p99_ms": percentile(&latencies, 0.99),
                "rss_kb": rss_by_level.get(&concurrency).copied().unwrap_or(0),
            })
        })
        .collect();
    let raw: Vec<_> = [1usize, 8]
        .into_iter()
        .map(|writers| {
            let rates: Vec<f64> = raw_runs.iter().filter(|run| run.0 == writers).map(|run| run.2).collect();
            json!({
                "writers": writers,
                "rows": raw_runs.iter().filter(|run| run.0 == writers).map(|run| run.1).sum::<usize>(),
                "per_second": median(rates.clone()),
                "per_second_runs": rates,
            })
        })
        .collect();
    let result = json!({
        "backend": format!("{backend:?}"),
        "patients": tokens.len(),
        "seconds_per_level": SECONDS_PER_LEVEL,
        "rounds": ROUNDS,
        "levels": levels,
        "raw_insert": raw,
        "rss_after_activations_kb": rss_after_activations_kb,
        "rss_idle_kb": rss_idle_kb,
        "rss_peak_kb": rss_peak_kb,
    });
    std::fs::write(out, serde_json::to_string_pretty(&result).unwrap()).unwrap();
}

/// SQL text of a value made here (never outside input).
fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "NULL".to_owned(), |v| format!("{v:?}"))
}

/// Writes `patients` patients × 10 completed assessments (with the schedule the server would
/// compute, so an export finds it unchanged) straight into the SQLite database at `url`.
async fn seed_study(url: &str, patients: usize) {
    use qol_shared::answers::{Answers, RawAnswer};
    use qol_shared::instrument::InstrumentId;
    use qol_shared::schedule::{Event, EventKind, Events, Protocol, schedule};

    let protocol = Protocol::default_protocol();
    let today = protocol.local_date(chrono::Utc::now());
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO staff_users (id, username, role, password_hash, created_at) \
         VALUES (1000, 'bench', 'nurse', 'x', '2026-01-01T00:00:00Z')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (mut assessment_id, mut submission_id) = (0_i64, 0_i64);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut roll = move |sides: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % sides
    };
    let wanted = [
        "baseline",
        "weekly-01",
        "weekly-02",
        "weekly-03",
        "weekly-04",
        "weekly-05",
        "end-of-radiotherapy",
        "end-of-treatment",
        "follow-up-3m",
        "follow-up-6m",
    ];
    for batch in (0..patients).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::new();
        for &i in batch {
            let id = i as i64 + 1;
            let enrolled = today - chrono::Duration::days(420 + (i % 60) as i64);
            let cycle1 = enrolled + chrono::Duration::days(7);
            let events = [
                Event { kind: EventKind::Enrolment, date: enrolled },
                Event { kind: EventKind::ChemotherapyCycle { cycle: 1 }, date: cycle1 },
                Event { kind: EventKind::RadiotherapyEnd, date: cycle1 + chrono::Duration::days(100) },
                Event { kind: EventKind::EndOfTreatment, date: cycle1 + chrono::Duration::days(126) },
            ];
            let stratum = if i % 2 == 0 { "nodal" } else { "hematogenous" };
            sql += &format!(
                "INSERT INTO patients (id, study_id, study_code, stratum, language, activated_at, created_at) \
                 VALUES ({id}, 1, 'IVB-{i:06}', '{stratum}', 'en', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');\n"
            );
            for event in &events {
                sql += &format!(
                    "INSERT INTO treatment_events (patient_id, slot, event_json, event_date, recorded_by, recorded_at) \
                     VALUES ({id}, {}, {}, '{}', 1000, '2026-01-01T00:00:00Z');\n",
                    text(&event.kind.slot()),
                    text(&serde_json::to_string(event).unwrap()),
                    event.date
                );
            }
            for item in schedule(&protocol, &Events::from_records(events), today) {
                assessment_id += 1;
                let instruments: Vec<&str> = item.instruments.iter().map(|i| i.as_str()).collect();
                sql += &format!(
                    "INSERT INTO assessments (id, patient_id, key, code, label, instruments, target_date, window_start, window_end) \
                     VALUES ({assessment_id}, {id}, {}, {}, {}, {}, '{}', '{}', '{}');\n",
                    text(&item.key),
                    text(&item.code),
                    text(&item.label),
                    text(&instruments.join(",")),
                    item.target,
                    item.window_start,
                    item.window_end
                );
                if !wanted.contains(&item.key.as_str()) || item.window_end >= today {
                    continue;
                }
                submission_id += 1;
                let at = format!("{}T09:00:00Z", item.window_start);
                sql += &format!(
                    "INSERT INTO submissions (id, client_id, content_hash, patient_id, assessment_id, completed_at, received_at, timeliness, language, submitted_by) \
                     VALUES ({submission_id}, 'bench-{submission_id}', 'x', {id}, {assessment_id}, '{at}', '{at}', 'on_time', 'en', 'patient:IVB-{i:06}');\n"
                );
                let mut values = Vec::new();
                let mut score_values = Vec::new();
                for instrument in &item.instruments {
                    let range = if *instrument == InstrumentId::QlqC30 { 1..=30 } else { 31..=54 };
                    let raw: Vec<RawAnswer> = range
                        .map(|n| {
                            RawAnswer::code(
                                n,
                                match n {
                                    29 | 30 => 1 + roll(7) as i64,
                                    // Sexually active, so items 50–54 apply.
                                    49 => 2 + roll(3) as i64,
                                    _ => 1 + roll(4) as i64,
                                },
                            )
                        })
                        .collect();
                    for answer in &raw {
                        if let qol_shared::answers::RawResponse::Code(code) = answer.response {
                            values.push(format!("({submission_id}, {}, {code}, 0)", answer.item));
                        }
                    }
                    let scores = qol_shared::scoring::score(&Answers::parse(*instrument, raw).unwrap());
                    for scale in &scores.scales {
                        let (score, raw_score, answered, in_scale, missing) = match scale.outcome {
                            qol_shared::scoring::Outcome::Scored {
                                score,
                                raw_score,
                                items_answered,
                                items_in_scale,
                            } => (
                                Some(score),
                                Some(raw_score),
                                items_answered,
                                items_in_scale,
                                "NULL".to_owned(),
                            ),
                            qol_shared::scoring::Outcome::Missing {
                                reason,
                                items_answered,
                                items_in_scale,
                            } => (
                                None,
                                None,
                                items_answered,
                                items_in_scale,
                                text(serde_json::to_value(reason).unwrap().as_str().unwrap()),
                            ),
                        };
                        score_values.push(format!(
                            "({submission_id}, '{}', {}, {}, {}, {answered}, {in_scale}, {missing}, {})",
                            instrument.as_str(),
                            text(&scale.code),
                            number(score),
                            number(raw_score),
                            text(&scores.algorithm_version)
                        ));
                    }
                }
                sql += &format!(
                    "INSERT INTO item_answers (submission_id, item, code, not_applicable) VALUES {};\n",
                    values.join(",")
                );
                sql += &format!(
                    "INSERT INTO scores (submission_id, instrument, scale, score, raw_score, items_answered, items_in_scale, missing_reason, algorithm_version) VALUES {};\n",
                    score_values.join(",")
                );
            }
        }
        // In one transaction per batch: on SQLite one statement at a time (sqlx's
        // multi-statement execution there repeated one here), on PostgreSQL the batch at once
        // (one round trip instead of one per statement).
        let mut tx = pool.begin().await.unwrap();
        if url.starts_with("postgres") {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await.unwrap();
        } else {
            for statement in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
                sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut *tx).await.unwrap();
            }
        }
        tx.commit().await.unwrap();
    }
    // The planner's statistics for the tables just filled, as PostgreSQL's autovacuum would
    // have gathered them long before a study of this size is exported.
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    pool.close().await;
}

/// Runs `qol export NAME` on `url` into `output`; the wall time and the peak memory (VmHWM).
fn export_measured(url: &str, name: &str, output: &std::path::Path) -> (f64, u64) {
    let started = Instant::now();
    let mut child = Command::new(qol_binary())
        .args(["export", name, "--database-url", url, "--output"])
        .arg(output)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    loop {
        peak = peak.max(status_kb(pid, "VmHWM:"));
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "qol export {name} failed");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (started.elapsed().as_secs_f64(), peak)
}

#[tokio::test]
#[ignore = "run by cargo xtask bench"]
async fn export_memory() {
    let out = std::env::var("QOL_MEASURE_OUT").expect("QOL_MEASURE_OUT names the output file");
    let sizes: Vec<usize> = std::env::var("QOL_BENCH_PATIENTS")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    let mut results = Vec::new();
    for (backend, patients) in [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .flat_map(|backend| sizes.iter().map(move |patients| (backend, *patients)))
    {
        let database =
            TestDatabase::create(backend).await.expect("PostgreSQL is needed for the export bench");
        // The server creates the schema and the study (no demo data); then it is stopped.
        ServerProcess::start(&qol_binary(), &database.url, false).signal("TERM");
        sqlx::any::install_default_drivers();
        let seeding = Instant::now();
        seed_study(&database.url, patients).await;
        let seed_seconds = seeding.elapsed().as_secs_f64();
        let file = std::env::temp_dir().join(format!("qol-bench-scores-{patients}.csv"));
        let (seconds, peak_kb) = export_measured(&database.url, "scores_long.csv", &file);
        let rows = std::fs::read_to_string(&file).unwrap().lines().count() - 1;
        let bytes = std::fs::metadata(&file).unwrap().len();
        let _ = std::fs::remove_file(&file);
        if std::env::var_os("QOL_BENCH_KEEP_DB").is_some() {
            eprintln!("KEPT {}", database.url);
            std::mem::forget(database);
        }
        results.push(json!({
            "database": format!("{backend:?}").to_lowercase(), "patients": patients, "seed_seconds": seed_seconds, "rows": rows, "bytes": bytes,
            "seconds": seconds, "rows_per_second": rows as f64 / seconds, "peak_kb": peak_kb,
        }));
    }
    std::fs::write(out, serde_json::to_string_pretty(&json!({ "exports": results })).unwrap()).unwrap();
}
