//! The researcher's view: the analysis against hand-computed numbers, completion, the exports
//! read back with a CSV reader and compared with the API, a FHIR sanity check, and no identity
//! through any route a researcher can reach. On both databases.

use std::collections::{BTreeMap, BTreeSet};

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Items 1–28 at `symptoms`, the global items 29–30 at `global`; CX24 (31–54) at 1 when asked.
pub(crate) fn answers(symptoms: i64, global: i64, cx24: bool) -> Value {
    let last = if cx24 { 54 } else { 30 };
    Value::Array(
        (1..=last)
            .map(|item| {
                let code = match item {
                    29 | 30 => global,
                    // Sexually active "a little", so items 50–54 apply (item 49 "not at all"
                    // would make them not applicable).
                    49 => 2,
                    31.. => 1,
                    _ => symptoms,
                };
                json!({ "item": item, "response": code })
            })
            .collect(),
    )
}

async fn submit(app: &TestApp, patient: &str, key: &str, symptoms: i64, global: i64) {
    let assessment = app.my_assessment(patient, key).await;
    let body = json!({
        "client_id": uuid::Uuid::new_v4().to_string(),
        "assessment_id": assessment["id"],
        "completed_at": chrono::Utc::now().to_rfc3339(),
        "language": "en",
        "answers": answers(symptoms, global, true),
    });
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(patient), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{key}: {receipt}");
}

/// QL2 from the two global items at `code`: (code − 1) / 6 × 100.
fn ql2(code: i64) -> f64 {
    (code - 1) as f64 / 6.0 * 100.0
}

/// Baseline and end-of-treatment global codes of four patients (two per stratum), and a fifth
/// patient who has not answered yet.
const GLOBAL: [(&str, i64, i64); 4] =
    [("nodal", 4, 5), ("nodal", 5, 5), ("hematogenous", 3, 4), ("hematogenous", 6, 3)];

struct Study {
    app: TestApp,
    nurse: String,
    researcher: String,
    study_ids: Vec<String>,
}

async fn study(backend: Backend) -> Option<Study> {
    let app = TestApp::spawn_without_demo_patients(backend).await?;
    let nurse = app.staff_token("nurse").await;
    let mut study_ids = Vec::new();
    for (stratum, baseline, end) in GLOBAL {
        let (study_id, code) = app.enrol(&nurse, stratum, 3).await;
        let patient = app.activate(&code, "1357").await;
        submit(&app, &patient, "baseline", 1, baseline).await;
        for event in
            [json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), json!({ "kind": "end_of_treatment" })]
        {
            let (status, body) = app.record_event(&nurse, &study_id, event, 0, None).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        submit(&app, &patient, "end-of-treatment", 2, end).await;
        study_ids.push(study_id);
    }
    let (waiting, _) = app.enrol(&nurse, "nodal", 1).await;
    study_ids.push(waiting);
    let researcher = app.staff_token("researcher").await;
    Some(Study { app, nurse, researcher, study_ids })
}

pub(crate) async fn text(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let response = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

pub(crate) fn read_csv(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_owned)).collect())
        .collect();
    (header, rows)
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

async fn the_analysis_matches_hand_computed_numbers_and_the_exports(backend: Backend) {
    let Some(Study { app, researcher, study_ids, .. }) = study(backend).await else { return };
    let (status, report) = app.get_as("/api/v1/research/analysis", Some(&researcher)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["primary"], "end-of-treatment");
    let change = |stratum: Value| {
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scale"] == "QL2" && c["timepoint"] == "end-of-treatment" && c["stratum"] == stratum)
            .unwrap()
            .clone()
    };
    // By hand: QL2 changes 50→66.7 (+16.7), 66.7→66.7 (0), 33.3→50 (+16.7), 83.3→33.3 (−50).
    let changes: Vec<f64> = GLOBAL.iter().map(|(_, before, after)| ql2(*after) - ql2(*before)).collect();
    let mean = changes.iter().sum::<f64>() / 4.0;
    close(mean, -25.0 / 6.0);
    let sd = (changes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    let t3 = 3.182_446_305_284_263; // t(0.975, 3)
    let all = change(Value::Null);
    assert_eq!(all["n_paired"], 4);
    close(all["change"]["mean"].as_f64().unwrap(), mean);
    close(all["change"]["sd"].as_f64().unwrap(), sd);
    assert!((all["change"]["ci_low"].as_f64().unwrap() - (mean - t3 * sd / 2.0)).abs() < 1e-6);
    assert!((all["change"]["ci_high"].as_f64().unwrap() - (mean + t3 * sd / 2.0)).abs() < 1e-6);
    close(all["srm"].as_f64().unwrap(), mean / sd);
    assert_eq!(
        (all["improved"].clone(), all["stable"].clone(), all["deteriorated"].clone()),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(
        (
            all["improved_proportion"].clone(),
            all["stable_proportion"].clone(),
            all["deteriorated_proportion"].clone()
        ),
        (json!(0.5), json!(0.25), json!(0.25))
    );
    let nodal = change(json!("nodal"));
    assert_eq!(nodal["n_paired"], 2);
    close(nodal["change"]["mean"].as_f64().unwrap(), (ql2(5) - ql2(4)) / 2.0);
    // Fatigue (items 10, 12, 18) from 1 to 2: +33.3 for every patient, a deterioration.
    let fa = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scale"] == "FA" && c["timepoint"] == "end-of-treatment" && c["stratum"].is_null())
        .unwrap();
    close(fa["change"]["mean"].as_f64().unwrap(), 100.0 / 3.0);
    assert_eq!(fa["deteriorated"], 4);
    // A different responder threshold changes the categories: 20 points makes +16.7 stable.
    let (_, strict) = app.get_as("/api/v1/research/analysis?responder_points=20", Some(&researcher)).await;
    let strict_all = strict["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scale"] == "QL2" && c["timepoint"] == "end-of-treatment" && c["stratum"].is_null())
        .unwrap();
    assert_eq!((strict_all["improved"].clone(), strict_all["stable"].clone()), (json!(0), json!(3)));
    let (status, _) = app.get_as("/api/v1/research/analysis?responder_points=-1", Some(&researcher)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // scores_long.csv agrees with the API, row by row.
    let (status, long) = text(&app, "/api/v1/exports/scores_long.csv", &researcher).await;
    assert_eq!(status, StatusCode::OK);
    let (header, rows) = read_csv(&long);
    assert_eq!(header[0], "study_id");
    let ql2_changes: Vec<f64> = rows
        .iter()
        .filter(|r| r["scale"] == "QL2" && r["assessment"] == "end-of-treatment")
        .map(|r| r["change_from_baseline"].parse().unwrap())
        .collect();
    assert_eq!(ql2_changes.len(), 4);
    close(ql2_changes.iter().sum::<f64>() / 4.0, all["change"]["mean"].as_f64().unwrap());
    let first = rows.iter().find(|r| r["scale"] == "QL2" && r["assessment"] == "end-of-treatment").unwrap();
    assert_eq!((first["in_window"].as_str(), first["actual_study_day"].as_str()), ("true", "0"));
    assert_eq!(first["change_category"], "improved");
    let pf2 = rows.iter().find(|r| r["scale"] == "PF2" && r["assessment"] == "baseline").unwrap();
    assert_eq!(
        (pf2["score"].as_str(), pf2["threshold"].as_str(), pf2["past_threshold"].as_str()),
        ("100", "83", "false")
    );
    // Two instruments' scales (16 C30 with the summary, 9 CX24) per submission, 8 submissions.
    assert_eq!(rows.len(), 8 * (16 + 9));

    // scores_wide.csv: one row per patient × assessment, the same numbers.
    let (_, wide) = text(&app, "/api/v1/exports/scores_wide.csv", &researcher).await;
    let (wide_header, wide_rows) = read_csv(&wide);
    assert_eq!(wide_rows.len(), 8);
    for row in &wide_rows {
        let long_row = rows
            .iter()
            .find(|r| {
                r["study_id"] == row["study_id"]
                    && r["assessment"] == row["assessment"]
                    && r["scale"] == "QL2"
            })
            .unwrap();
        assert_eq!(row["QL2"], long_row["score"]);
    }

    // items_long.csv: every answer; schedule.csv: every expected assessment, with status.
    let (_, items) = text(&app, "/api/v1/exports/items_long.csv", &researcher).await;
    let (items_header, item_rows) = read_csv(&items);
    assert_eq!(item_rows.len(), 8 * 54);
    let (_, schedule) = text(&app, "/api/v1/exports/schedule.csv", &researcher).await;
    let (schedule_header, schedule_rows) = read_csv(&schedule);
    let waiting = schedule_rows
        .iter()
        .find(|r| r["study_id"] == study_ids[4] && r["assessment"] == "baseline")
        .expect("the waiting patient's baseline");
    assert_eq!((waiting["status"].as_str(), waiting["actual_study_day"].as_str()), ("open", ""));

    // Completion agrees with schedule.csv.
    let (status, completion) = app.get_as("/api/v1/research/completion", Some(&researcher)).await;
    assert_eq!(status, StatusCode::OK);
    let baseline = completion.as_array().unwrap().iter().find(|r| r["key"] == "baseline").unwrap();
    assert_eq!(
        (baseline["expected"].clone(), baseline["received"].clone(), baseline["pending"].clone()),
        (json!(5), json!(4), json!(1))
    );
    let received_in_file =
        schedule_rows.iter().filter(|r| r["assessment"] == "baseline" && r["status"] == "completed").count();
    assert_eq!(baseline["received"], received_in_file);
    let end = completion.as_array().unwrap().iter().find(|r| r["key"] == "end-of-treatment").unwrap();
    assert_eq!(
        (end["expected"].clone(), end["received"].clone(), end["in_window_rate"].clone()),
        (json!(4), json!(4), json!(1.0))
    );

    // The dictionary explains every column of every file.
    let (_, dictionary) = text(&app, "/api/v1/exports/dictionary.csv", &researcher).await;
    let (_, entries) = read_csv(&dictionary);
    let explained: BTreeSet<(String, String)> =
        entries.iter().map(|e| (e["file"].clone(), e["column"].clone())).collect();
    let scale_codes: BTreeSet<&str> = wide_header.iter().skip(7).map(String::as_str).collect();
    for (file, columns) in [
        ("scores_long.csv", &header),
        ("items_long.csv", &items_header),
        ("schedule.csv", &schedule_header),
        ("scores_wide.csv", &wide_header),
    ] {
        for column in columns.iter() {
            let known = explained.contains(&(file.to_owned(), column.clone()))
                || explained.contains(&("*".to_owned(), column.clone()))
                || (file == "scores_wide.csv" && scale_codes.contains(column.as_str()));
            assert!(known, "{file}: column {column} is not in dictionary.csv");
        }
    }

    // Every export is audited.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export'").await, 5);
}

on_both_backends!(
    the_analysis_matches_hand_computed_numbers_and_the_exports,
    super::the_analysis_matches_hand_computed_numbers_and_the_exports
);

async fn the_fhir_export_is_well_formed_and_its_references_resolve(backend: Backend) {
    let Some(Study { app, researcher, .. }) = study(backend).await else { return };
    let (status, body) = text(&app, "/api/v1/exports/fhir.ndjson", &researcher).await;
    assert_eq!(status, StatusCode::OK);
    let resources: Vec<Value> = body.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let of = |kind: &str| resources.iter().filter(|r| r["resourceType"] == kind).collect::<Vec<_>>();
    let questionnaires: BTreeSet<String> =
        of("Questionnaire").iter().map(|q| q["url"].as_str().unwrap().to_owned()).collect();
    assert_eq!(questionnaires.len(), 2);
    let patients: BTreeSet<String> =
        of("Patient").iter().map(|p| format!("Patient/{}", p["id"].as_str().unwrap())).collect();
    assert_eq!(patients.len(), 5);
    let responses: BTreeSet<String> = of("QuestionnaireResponse")
        .iter()
        .map(|r| format!("QuestionnaireResponse/{}", r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(responses.len(), 8 * 2, "one per instrument per submission");
    for resource in &resources {
        let id = resource["id"].as_str().expect("every resource has an id");
        assert!(
            id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'),
            "FHIR id {id}"
        );
        match resource["resourceType"].as_str().unwrap() {
            "Questionnaire" => {
                assert_eq!(resource["status"], "active");
                assert!(!resource["item"].as_array().unwrap().is_empty());
            }
            "Patient" => {
                assert!(resource.get("name").is_none() && resource.get("telecom").is_none());
                assert!(resource.get("birthDate").is_none());
            }
            "QuestionnaireResponse" => {
                assert_eq!(resource["status"], "completed");
                assert!(questionnaires.contains(resource["questionnaire"].as_str().unwrap()));
                assert!(patients.contains(resource["subject"]["reference"].as_str().unwrap()));
                assert!(resource.get("authored").is_none(), "no calendar dates");
            }
            "Observation" => {
                assert_eq!(resource["status"], "final");
                assert!(resource["code"]["coding"][0]["code"].is_string());
                assert!(patients.contains(resource["subject"]["reference"].as_str().unwrap()));
                let derived = resource["derivedFrom"][0]["reference"].as_str().unwrap();
                assert!(responses.contains(derived), "derivedFrom {derived} resolves");
                assert!(
                    resource["valueQuantity"]["value"].is_number()
                        || resource["dataAbsentReason"].is_object(),
                    "a value or the reason for its absence"
                );
            }
            other => panic!("unexpected resource {other}"),
        }
    }
    assert_eq!(of("Observation").len(), 8 * (16 + 9));
}

on_both_backends!(
    the_fhir_export_is_well_formed_and_its_references_resolve,
    super::the_fhir_export_is_well_formed_and_its_references_resolve
);

/// Every GET route of the OpenAPI document a researcher may call, with real ids, and every
/// export: no name, phone, hospital number or calendar date of the patients comes back.
async fn no_identity_reaches_a_researcher(backend: Backend) {
    let Some(Study { app, nurse, researcher, study_ids }) = study(backend).await else { return };
    let (_, document) = app.get_json("/api/v1/openapi.json").await;
    let mut bodies = Vec::new();
    let mut reached = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if item.get("get").is_none() || !path.starts_with("/api/v1/") {
            continue;
        }
        let mut concrete = vec![path.clone()];
        if path.contains("{study_id}") {
            concrete = study_ids.iter().map(|id| path.replace("{study_id}", id)).collect();
        }
        if path.contains("{name}") {
            concrete = [
                "scores_long.csv",
                "items_long.csv",
                "schedule.csv",
                "scores_wide.csv",
                "dictionary.csv",
                "ttd.csv",
                "fhir.ndjson",
            ]
            .iter()
            .map(|name| path.replace("{name}", name))
            .collect();
        }
        if path.contains("{id}") {
            let id = if path.contains("/instruments/") { "qlq-c30" } else { "1" };
            concrete = vec![path.replace("{id}", id)];
        }
        for url in concrete {
            let (status, body) = text(&app, &url, &researcher).await;
            if status == StatusCode::OK {
                reached += 1;
            } else {
                assert!(
                    matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
                    "{url}: {status}"
                );
            }
            bodies.push((url, body));
        }
    }
    assert!(reached >= 15, "the researcher reached {reached} routes");
    let enrolled_on = qol_tests::chrono_today_minus(3);
    for (url, body) in &bodies {
        for secret in
            ["Test Person", "+00 555 0100", "H-TEST-1", "full_name", "hospital_number", enrolled_on.as_str()]
        {
            assert!(!body.contains(secret), "{url} shows {secret:?} to a researcher");
        }
    }
    // Nurses and patients may not use the research routes.
    for path in [
        "/api/v1/research/analysis",
        "/api/v1/research/completion",
        "/api/v1/research/ttd",
        "/api/v1/research/ttd.svg",
        "/api/v1/research/means.svg",
        "/api/v1/research/report.html",
        "/api/v1/exports/scores_long.csv",
        "/api/v1/exports/ttd.csv",
    ] {
        assert_eq!(text(&app, path, &nurse).await.0, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}

on_both_backends!(no_identity_reaches_a_researcher, super::no_identity_reaches_a_researcher);

/// Every export arrives whole under every `Accept-Encoding` a browser sends, byte-identical after
/// decoding to the plain download (compression once cut every export short in browsers).
#[tokio::test]
async fn exports_arrive_whole_under_every_accept_encoding_a_browser_sends() {
    use std::io::Read;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let token = app.staff_token("researcher").await;
    for name in qol_server::export::Export::ALL.map(qol_server::export::Export::name) {
        let fetch = async |encoding: &str| -> (Option<String>, Vec<u8>) {
            let response = app
                .client
                .get(app.url(&format!("/api/v1/exports/{name}")))
                .bearer_auth(&token)
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name} with {encoding}");
            let used = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
            (used, response.bytes().await.expect("the whole body arrives").to_vec())
        };
        let (plain_encoding, plain) = fetch("identity").await;
        assert_eq!(plain_encoding, None);
        assert!(plain.len() > 100, "{name} is {} bytes", plain.len());
        for encoding in ["gzip", "br", "gzip, deflate, br, zstd"] {
            let (used, body) = fetch(encoding).await;
            let mut decoded = Vec::new();
            match used.as_deref() {
                Some("gzip") => {
                    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut decoded).unwrap();
                }
                Some("br") => {
                    brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut decoded).unwrap();
                }
                None => decoded = body,
                Some(other) => panic!("{name}: unexpected encoding {other}"),
            }
            assert!(
                decoded == plain,
                "{name} with {encoding} ({used:?}): {} bytes, not {}",
                decoded.len(),
                plain.len()
            );
        }
    }
}

/// An export that fails half-way never looks whole: with the scores table gone after the header
/// is sent, the download (plain or compressed) ends in an error, not in a short file that reads
/// as complete.
async fn an_export_that_fails_half_way_is_cut_off_with_an_error(backend: Backend) {
    let Some(Study { app, researcher, .. }) = study(backend).await else { return };
    let pool = app.sql().await;
    sqlx::raw_sql("DROP TABLE scores").execute(&pool).await.unwrap();
    for encoding in ["identity", "gzip, deflate, br, zstd"] {
        let response = app
            .client
            .get(app.url("/api/v1/exports/scores_long.csv"))
            .bearer_auth(&researcher)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "the header went out before the failure");
        let body = response.bytes().await;
        assert!(body.is_err(), "{encoding}: a failed export arrived as a whole file: {body:?}");
    }
}
on_both_backends!(
    an_export_that_fails_half_way_is_cut_off_with_an_error,
    super::an_export_that_fails_half_way_is_cut_off_with_an_error
);

/// Exports read while forms keep arriving hold whole forms: every form in `scores_long.csv` has
/// all its 16 scores and every form in `items_long.csv` all its 30 answers, and no export breaks
/// off. (A page's forms are read before their answers and scores; the other way round, a form
/// stored in between had answers of no form read, or a form none.)
async fn exports_taken_while_forms_arrive_hold_whole_forms(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let researcher = app.staff_token("researcher").await;
    // Four phones' worth of forms from the demo's signed-in patient.
    let patient = app.patient_token("IVB-001").await;
    let patients = vec![patient; 4];
    let app = std::sync::Arc::new(app);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for token in patients {
        let (app, done) = (app.clone(), done.clone());
        senders.push(tokio::spawn(async move {
            let mut sent = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let body = qol_tests::c30_report(&uuid::Uuid::new_v4().to_string(), 2);
                let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(&token), &body).await;
                assert_eq!(status, StatusCode::CREATED, "{receipt}");
                sent += 1;
            }
            sent
        }));
    }
    let mut forms_seen = BTreeSet::new();
    for _ in 0..12 {
        for (file, per_form) in [("scores_long.csv", 16), ("items_long.csv", 30)] {
            let (status, body) = text(&app, &format!("/api/v1/exports/{file}"), &researcher).await;
            assert_eq!(status, StatusCode::OK, "{file}: {body}");
            let (_, rows) = read_csv(&body);
            let mut per: BTreeMap<(String, String), usize> = BTreeMap::new();
            for row in rows.iter().filter(|row| row["assessment_code"] == "unscheduled") {
                *per.entry((row["study_id"].clone(), row["assessment"].clone())).or_default() += 1;
            }
            for (form, count) in &per {
                assert_eq!(*count, per_form, "{file}: form {form:?} has {count} rows");
            }
            forms_seen.extend(per.into_keys());
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = 0;
    for sender in senders {
        sent += sender.await.unwrap();
    }
    assert!(sent > 0 && !forms_seen.is_empty(), "sent {sent}, seen {}", forms_seen.len());
}
on_both_backends!(
    exports_taken_while_forms_arrive_hold_whole_forms,
    super::exports_taken_while_forms_arrive_hold_whole_forms
);
