//! Time to deterioration through the API (issue 19): ten patients answer weekly on a server
//! whose clock moves a week at a time; one dies, one has no baseline. Every patient's time,
//! status and reason in `ttd.csv` is checked against the hand-worked answer for each definition
//! and death rule, and the curves and medians of `GET /api/v1/research/ttd` against R's
//! `survfit` run on the exported rows, to 1e-9. Then the figure, the report and the refusals.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use qol_server::clock::Clock;
use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::research::{answers, read_csv, text};
use super::survival::{RFit, close, parse, r_available, survfit};

/// (stratum, baseline global code or none, weekly global codes for weeks 1.., died on day).
/// QL2 = (code − 1) / 6 × 100, so one code down is 16.7 points: a deterioration at 10 points.
/// One patient of the cohort.
type Patient = (&'static str, Option<i64>, &'static [i64], Option<i64>);

const COHORT: [Patient; 10] = [
    ("nodal", Some(5), &[5, 4, 5, 5, 5, 5], None), // P1: worse once, back
    ("nodal", Some(5), &[5, 4, 4, 5, 5, 5], None), // P2: worse twice, back
    ("nodal", Some(5), &[5, 5, 4, 4, 4, 4], None), // P3: worse for good from week 3
    ("nodal", Some(5), &[5, 5, 5, 5, 5, 4], None), // P4: worse at the last form only
    ("nodal", Some(5), &[5, 5, 5], Some(25)),      // P5: stable, died on day 25
    ("hematogenous", None, &[4, 4, 4, 4, 4, 4], None), // P6: no baseline
    ("hematogenous", Some(5), &[6, 6, 6, 6, 6, 6], None), // P7: better
    ("hematogenous", Some(5), &[4, 4, 4, 4, 4, 4], None), // P8: worse from week 1
    ("hematogenous", Some(5), &[5, 3, 5, 3, 3, 3], None), // P9: worse, back, worse for good
    ("hematogenous", Some(5), &[5, 5, 4, 5, 4, 4], None), // P10
];

/// The expected (status, time, reason) of patient `index` by definition and death rule.
fn expected(index: usize, definition: &str, death: &str) -> (&'static str, &'static str, &'static str) {
    let event = |day| ("event", day, "deterioration");
    let censored = |day| ("censored", day, "last_form");
    match (index, definition) {
        (0, "first") => event("14"),
        (0, _) => censored("42"),
        (1, "first" | "confirmed") => event("14"),
        (1, _) => censored("42"),
        (2, _) => event("21"),
        (3, "confirmed") => censored("42"),
        (3, _) => event("42"),
        (4, _) if death == "event" => ("event", "25", "death"),
        (4, _) => ("censored", "21", "died_censored_at_last_form"),
        (5, _) => ("excluded", "", "no_baseline"),
        (6, _) => censored("42"),
        (7, _) => event("7"),
        (8, "first") => event("14"),
        (8, _) => event("28"),
        (9, "first") => event("21"),
        (9, _) => event("35"),
        _ => unreachable!(),
    }
}

/// Answers for the assessment's questionnaires: items at 1, the global items at `global`.
fn answers_for(instruments: &Value, global: i64) -> Value {
    let cx24 = instruments.as_array().is_some_and(|list| list.iter().any(|i| i == "qlq-cx24"));
    answers(1, global, cx24)
}

/// Waits for the scheduler to open `key` for the patient, then sends her form.
async fn send(app: &TestApp, clock: &Clock, patient: &str, key: &str, global: i64) {
    let mut found = None;
    for _ in 0..100 {
        let (status, body) = app.get_as("/api/v1/me/assessments", Some(patient)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        found = body["due"].as_array().and_then(|due| due.iter().find(|a| a["key"] == key).cloned());
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let assessment = found.unwrap_or_else(|| panic!("{key} never opened"));
    let body = json!({
        "client_id": uuid::Uuid::new_v4().to_string(),
        "assessment_id": assessment["id"],
        "completed_at": clock.now().to_rfc3339(),
        "language": "en",
        "answers": answers_for(&assessment["instruments"], global),
    });
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(patient), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{key}: {receipt}");
}

async fn time_to_deterioration_matches_hand_worked_answers_and_r(backend: Backend) {
    let clock = Clock::fixed(Utc::now());
    let Some(app) = TestApp::spawn_without_demo_patients_with(backend, |config| {
        config.clock = clock.clone();
        config.schedule_every = Duration::from_millis(100);
    })
    .await
    else {
        return;
    };
    let nurse = app.staff_token("nurse").await;
    let mut ids = Vec::new();
    for (stratum, baseline, _, _) in COHORT {
        let (study_id, code) = app.enrol(&nurse, stratum, 0).await;
        let patient = app.activate(&code, qol_server::clinic::demo::DEMO_PIN).await;
        if let Some(global) = baseline {
            send(&app, &clock, &patient, "baseline", global).await;
        }
        let (status, body) = app
            .record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 0, None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(study_id);
    }
    // Week by week: each patient answers on day 7k; P5 dies on day 25.
    for week in 1..=6_i64 {
        clock.advance(chrono::Duration::days(7));
        for (index, (_, _, weekly, died)) in COHORT.iter().enumerate() {
            let Some(global) = weekly.get(week as usize - 1) else { continue };
            let _ = died;
            let patient = app.patient_token(&ids[index]).await;
            send(&app, &clock, &patient, &format!("weekly-{week:02}"), *global).await;
        }
    }
    // P5's death, recorded late (as nurses do) on its own day: 25 days after cycle 1 day 1.
    let nurse = app.staff_token("nurse").await;
    for (index, (_, _, _, died)) in COHORT.iter().enumerate() {
        let Some(day) = died else { continue };
        let (status, body) = app
            .record_event(&nurse, &ids[index], json!({ "kind": "off_study", "reason": "death" }), -day, None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let researcher = app.staff_token("researcher").await;

    // 1. Every patient's row, by hand.
    let (status, csv) = text(&app, "/api/v1/exports/ttd.csv", &researcher).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let (header, rows) = read_csv(&csv);
    assert_eq!(header, qol_server::export::TTD);
    let row = |study: &str, definition: &str, death: &str| -> BTreeMap<String, String> {
        rows.iter()
            .find(|r| {
                r["study_id"] == study
                    && r["scale"] == "QL2"
                    && r["definition"] == definition
                    && r["death"] == death
            })
            .cloned()
            .unwrap_or_else(|| panic!("no row {study} {definition} {death}"))
    };
    for (index, study) in ids.iter().enumerate() {
        for definition in ["first", "confirmed", "definitive"] {
            for death in ["event", "censor"] {
                let r = row(study, definition, death);
                let (status, time, reason) = expected(index, definition, death);
                assert_eq!(
                    (r["status"].as_str(), r["time_days"].as_str(), r["reason"].as_str()),
                    (status, time, reason),
                    "P{} {definition} death={death}",
                    index + 1
                );
                assert_eq!(r["threshold_set"], "osoba-1998");
            }
        }
    }

    // 2. The API's curves against R's survfit on the exported rows, for each definition and
    //    death rule, all patients and each stratum.
    let strata: BTreeMap<&String, &str> = ids.iter().zip(COHORT.iter().map(|c| c.0)).collect();
    let r = r_available();
    if !r {
        qol_tests::skip(
            "R with the survival package is not installed",
            "apt-get install r-base-core r-cran-survival",
        );
    }
    let folder = std::env::temp_dir().join(format!("qol-ttd-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut compared = 0;
    for definition in ["first", "confirmed", "definitive"] {
        for death in ["event", "censor"] {
            let (status, report) = app
                .get_as(
                    &format!("/api/v1/research/ttd?scale=QL2&definition={definition}&death={death}"),
                    Some(&researcher),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{report}");
            assert_eq!(report["protocol_version"], 1);
            assert!(report["extracted_at"].is_string());
            let groups = report["groups"].as_array().unwrap();
            assert_eq!(groups.len(), 3, "all patients, then each stratum");
            assert_eq!((groups[0]["patients"].clone(), groups[0]["included"].clone()), (json!(10), json!(9)));
            assert_eq!(groups[0]["excluded"]["no_baseline"], 1);
            let deaths = if death == "event" { 1 } else { 0 };
            assert_eq!(groups[0]["deaths"], deaths, "{definition} {death}");
            for group in groups {
                let stratum = group["stratum"].as_str();
                let subjects: Vec<(String, String)> = ids
                    .iter()
                    .filter(|id| stratum.is_none_or(|s| strata[id] == s))
                    .map(|id| row(id, definition, death))
                    .filter(|r| r["status"] != "excluded")
                    .map(|r| {
                        (r["time_days"].clone(), if r["status"] == "event" { "1" } else { "0" }.to_owned())
                    })
                    .collect();
                assert_eq!(group["included"], subjects.len());
                let events = subjects.iter().filter(|(_, e)| e == "1").count();
                assert_eq!(group["events"], events, "{definition} {death} {stratum:?}");
                if !r {
                    continue;
                }
                let name = format!("{definition}-{death}-{}", stratum.unwrap_or("all"));
                let rows: Vec<(String, bool)> = subjects.iter().map(|(t, e)| (t.clone(), e == "1")).collect();
                let RFit { steps, median } = survfit(&folder, &name, &rows);
                let curve = group["curve"].as_array().unwrap();
                assert_eq!(curve.len(), steps.len(), "{name}: distinct times");
                let value = |v: &Value| v.as_f64();
                for (ours, step) in curve.iter().zip(&steps) {
                    let what = |field: &str| format!("{name} at day {}: {field}", step[0]);
                    close(value(&ours["day"]), parse(&step[0]), &what("time"));
                    assert_eq!(
                        (
                            ours["at_risk"].to_string(),
                            ours["events"].to_string(),
                            ours["censored"].to_string()
                        ),
                        (step[1].clone(), step[2].clone(), step[3].clone()),
                        "{}",
                        what("at risk, events, censored")
                    );
                    close(value(&ours["survival"]), parse(&step[4]), &what("survival"));
                    // Once everyone at risk had the event R's standard error is Inf; qol's is null
                    // (JSON has no infinity).
                    if step[5] == "Inf" {
                        assert!(ours["std_err"].is_null(), "{ours}");
                    } else {
                        close(value(&ours["std_err"]), parse(&step[5]), &what("std.err"));
                    }
                    close(value(&ours["lower"]), parse(&step[6]), &what("lower"));
                    close(value(&ours["upper"]), parse(&step[7]), &what("upper"));
                    compared += 1;
                }
                close(value(&group["median_days"]), parse(&median[0]), &format!("{name}: median"));
                close(value(&group["median_lower"]), parse(&median[1]), &format!("{name}: median lower"));
                close(value(&group["median_upper"]), parse(&median[2]), &format!("{name}: median upper"));
            }
        }
    }
    if r {
        assert!(compared > 40, "only {compared} steps compared");
    }

    // 3. The figure as a file, the report, and the refusals.
    let response = app
        .client
        .get(app.url("/api/v1/research/ttd.svg?scale=QL2&definition=confirmed"))
        .bearer_auth(&researcher)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ttd-QL2-confirmed-death-event.svg")
    );
    let svg = response.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    assert!(svg.contains("At risk") && svg.contains("protocol "), "{svg}");
    let response = app
        .client
        .get(app.url("/api/v1/research/report.html"))
        .bearer_auth(&researcher)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Its one inline style sheet is allowed by its hash; no script is.
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("style-src 'sha256-") && policy.starts_with("default-src 'none'"), "{policy}");
    let html = response.text().await.unwrap();
    for part in [
        "id=\"flow-table\"",
        "id=\"primary-table\"",
        "id=\"ttd-table\"",
        "id=\"thresholds-table\"",
        "Osoba",
        "Data extracted",
    ] {
        assert!(html.contains(part), "the report has no {part}");
    }
    assert!(!html.contains("awaiting_reason"), "no raw codes");
    for id in &ids {
        assert!(!html.contains(id.as_str()), "the report names no patient");
    }
    let nurse = app.staff_token("nurse").await;
    for (path, token, want) in [
        ("/api/v1/research/ttd?definition=sometimes", &researcher, StatusCode::BAD_REQUEST),
        ("/api/v1/research/ttd?death=maybe", &researcher, StatusCode::BAD_REQUEST),
        ("/api/v1/research/ttd?scale=XX", &researcher, StatusCode::BAD_REQUEST),
        ("/api/v1/research/ttd?threshold=0", &researcher, StatusCode::BAD_REQUEST),
        ("/api/v1/research/ttd?threshold=study", &researcher, StatusCode::BAD_REQUEST),
        ("/api/v1/research/ttd", &nurse, StatusCode::FORBIDDEN),
        ("/api/v1/research/report.html", &nurse, StatusCode::FORBIDDEN),
    ] {
        let (status, body) = text(&app, path, token).await;
        assert_eq!(status, want, "{path}: {body}");
    }
    // Giesinger levels: QL2 has none, so everyone is left out with that reason; PF2 has one.
    let (_, levels) =
        app.get_as("/api/v1/research/ttd?scale=QL2&threshold=giesinger-2020", Some(&researcher)).await;
    assert_eq!(levels["groups"][0]["excluded"]["no_threshold"], 9, "{levels}");
    assert_eq!(levels["thresholds"]["kind"], "level");
}
on_both_backends!(
    time_to_deterioration_matches_hand_worked_answers_and_r,
    super::time_to_deterioration_matches_hand_worked_answers_and_r
);
