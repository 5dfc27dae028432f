//! Running a study (issue 18): forms staff enter on a patient's behalf, with their mode, and
//! corrections signed with a password, each a new version. On both databases, through the API,
//! with simultaneous requests where "only once" matters.

use std::collections::BTreeMap;

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every item of both questionnaires "not at all" (globals at 5); sexually active "a little" so
/// items 50–54 apply. `pain`: the code of the pain items 9 and 19.
fn answers(pain: i64) -> Value {
    Value::Array(
        (1..=54)
            .map(|item| {
                let code = match item {
                    9 | 19 => pain,
                    29 | 30 => 5,
                    49 => 2,
                    _ => 1,
                };
                json!({ "item": item, "response": code })
            })
            .collect(),
    )
}

fn entry(
    assessment_id: i64,
    mode: &str,
    completed_on: &str,
    reference: Option<&str>,
    answers: Value,
) -> Value {
    json!({
        "client_id": uuid::Uuid::new_v4().to_string(), "assessment_id": assessment_id, "mode": mode,
        "completed_on": completed_on, "form_reference": reference, "language": "en", "answers": answers,
    })
}

async fn text(app: &TestApp, path: &str, token: &str) -> String {
    let response = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

/// The problems of a refusal, each checked to start with `field`.
fn names_field(body: &Value, field: &str) {
    let problems = body["problems"].as_array().unwrap_or_else(|| panic!("no problems: {body}"));
    assert!(
        problems.iter().any(|p| p.as_str().is_some_and(|p| p.starts_with(&format!("{field}:")))),
        "no problem names {field}: {body}"
    );
}

/// Every request sent at once, each on a task of its own; the answers in no particular order.
pub(crate) async fn post_at_once(
    app: &TestApp,
    path: &str,
    requests: Vec<(String, Value)>,
) -> Vec<(StatusCode, Value)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (token, body) in requests {
        let (client, url) = (app.client.clone(), app.url(path));
        tasks.spawn(async move {
            let response = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }
    tasks.join_all().await
}

async fn submissions(app: &TestApp, token: &str, study_id: &str) -> Vec<Value> {
    let (status, list) = app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

async fn staff_enter_a_paper_form_that_is_scored_alerted_and_exported_with_its_mode(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let researcher = app.staff_token("researcher").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 0).await;
    let patient = app.activate(&code, "1357").await;
    let baseline = app.assessment(&nurse, &study_id, "baseline").await;
    let id = baseline["id"].as_i64().unwrap();
    let today = qol_tests::chrono_today_minus(0);
    let path = format!("/api/v1/patients/{study_id}/submissions");
    let stored = async || app.count("SELECT COUNT(*) FROM submissions").await;
    let before = stored().await;

    // Only nurses and admins enter forms.
    let paper = entry(id, "paper", &today, Some("PAPER-0042"), answers(4));
    for token in [&researcher, &patient] {
        assert_eq!(app.post_as(&path, Some(token), &paper).await.0, StatusCode::FORBIDDEN);
    }
    // Each refusal names its field and stores nothing.
    let (status, body) = app.post_as(&path, Some(&nurse), &entry(id, "self", &today, None, answers(1))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    names_field(&body, "mode");
    let (status, body) =
        app.post_as(&path, Some(&nurse), &entry(id, "paper", &today, Some("  "), answers(1))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    names_field(&body, "form_reference");
    let tomorrow = qol_tests::chrono_today_minus(-1);
    let (status, body) =
        app.post_as(&path, Some(&nurse), &entry(id, "clinic_interview", &tomorrow, None, answers(1))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    names_field(&body, "completed_on");
    let window_start: chrono::NaiveDate = baseline["window_start"].as_str().unwrap().parse().unwrap();
    let too_early = (window_start - chrono::Duration::days(1)).to_string();
    let (status, body) = app
        .post_as(&path, Some(&nurse), &entry(id, "telephone_interview", &too_early, None, answers(1)))
        .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("window_closed")), "{body}");
    names_field(&body, "completed_on");
    let mut bad = answers(1);
    bad[0]["response"] = json!(9);
    let (status, body) = app.post_as(&path, Some(&nurse), &entry(id, "proxy", &today, None, bad)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answers_invalid")));
    let (status, body) =
        app.post_as(&path, Some(&nurse), &entry(987_654, "proxy", &today, None, answers(1))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    names_field(&json!({ "problems": [body["error"]] }), "assessment_id");
    assert_eq!(stored().await, before, "a refused entry stored something");

    // Eight nurses' screens send the same paper form at once, each with its own client id: one
    // is stored, the others are told it was already received.
    let requests =
        (0..8).map(|_| (nurse.clone(), entry(id, "paper", &today, Some("PAPER-0042"), answers(4)))).collect();
    let results = post_at_once(&app, &path, requests).await;
    let created: Vec<&Value> =
        results.iter().filter(|(status, _)| *status == StatusCode::CREATED).map(|(_, body)| body).collect();
    assert_eq!(created.len(), 1, "{results:?}");
    for (status, body) in results.iter().filter(|(status, _)| *status != StatusCode::CREATED) {
        assert_eq!((*status, body["code"].as_str()), (StatusCode::CONFLICT, Some("already_sent")), "{body}");
    }
    let receipt = created[0].clone();
    assert_eq!(stored().await, before + 1);
    assert_eq!(receipt["timeliness"], "on_time");
    let pain = receipt["scores"][0]["scales"].as_array().unwrap().iter().find(|s| s["code"] == "PA").unwrap();
    assert_eq!(pain["score"], 100.0, "scored as the phone's: {pain}");

    // A retry of the stored entry gets its receipt; its client id with other answers is refused;
    // another client id for the form already received is told so.
    let mut retry = entry(id, "paper", &today, Some("PAPER-0042"), answers(4));
    retry["client_id"] = receipt["client_id"].clone();
    let (status, again) = app.post_as(&path, Some(&nurse), &retry).await;
    assert_eq!((status, again["submission_id"].clone()), (StatusCode::OK, receipt["submission_id"].clone()));
    retry["answers"] = answers(3);
    let (status, again) = app.post_as(&path, Some(&nurse), &retry).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{again}");
    let (status, again) = app.post_as(&path, Some(&nurse), &paper).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("already_sent")), "{again}");
    assert_eq!(stored().await, before + 1);

    // What staff see: the mode, the paper's reference, who entered it.
    let list = submissions(&app, &nurse, &study_id).await;
    assert_eq!(list.len(), 1);
    let form = &list[0];
    assert_eq!(
        (form["mode"].as_str(), form["form_reference"].as_str(), form["entered_by"].as_str()),
        (Some("paper"), Some("PAPER-0042"), Some("staff:nurse")),
        "{form}"
    );
    assert_eq!((form["version"].as_i64(), form["current"].as_bool()), (Some(1), Some(true)));
    let completed: chrono::DateTime<chrono::Utc> = form["completed_at"].as_str().unwrap().parse().unwrap();
    let zone = qol_shared::schedule::Protocol::default_protocol().time_zone;
    assert_eq!(completed.with_timezone(&zone).date_naive().to_string(), today, "completed on the day given");
    // Researchers see the mode, never who entered it.
    let seen = submissions(&app, &researcher, &study_id).await;
    assert_eq!(seen[0]["mode"], "paper");
    assert!(seen[0].get("entered_by").is_none(), "{}", seen[0]);

    // Alerts as for the phone: the severe pain is on a card for the nurse.
    let (_, cards) = app.get_as(&format!("/api/v1/patients/{study_id}/alerts"), Some(&nurse)).await;
    let subjects: Vec<&str> = cards
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|card| card["signals"].as_array().unwrap())
        .map(|signal| signal["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"PA"), "no pain signal: {cards}");

    // Audited with its mode, by the nurse.
    let audited = app
        .count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.store' AND actor = 'staff:nurse' \
             AND entity_id = '{}' AND after_json LIKE '%\"mode\":\"paper\"%'",
            receipt["submission_id"]
        ))
        .await;
    assert_eq!(audited, 1);

    // Exports carry the mode and the version, in every CSV and in FHIR.
    for file in ["scores_long.csv", "items_long.csv", "scores_wide.csv", "schedule.csv"] {
        let rows = csv_rows(&text(&app, &format!("/api/v1/exports/{file}"), &researcher).await);
        let ours: Vec<_> =
            rows.iter().filter(|r| r["study_id"] == study_id && r["assessment"] == "baseline").collect();
        assert!(!ours.is_empty(), "{file}");
        for row in ours {
            assert_eq!((row["mode"].as_str(), row["version"].as_str()), ("paper", "1"), "{file}: {row:?}");
        }
    }
    let dictionary = csv_rows(&text(&app, "/api/v1/exports/dictionary.csv", &researcher).await);
    assert!(
        dictionary.iter().any(|row| row["column"] == "mode" && row["values"].contains("telephone_interview"))
    );
    let fhir = text(&app, "/api/v1/exports/fhir.ndjson", &researcher).await;
    let response: Value = fhir
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|r| {
            r["resourceType"] == "QuestionnaireResponse"
                && r["subject"]["reference"] == format!("Patient/{study_id}")
        })
        .expect("her questionnaire response");
    let extension = |name: &str| {
        response["extension"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == format!("urn:qol:{name}"))
            .cloned()
    };
    assert_eq!(extension("mode").unwrap()["valueCode"], "paper");
    assert_eq!(extension("version").unwrap()["valueInteger"], 1);

    // The sensitivity analysis without staff-entered forms leaves hers out, and says so.
    let (_, all) = app.get_as("/api/v1/research/analysis", Some(&researcher)).await;
    assert_eq!((all["left_out_by_mode"].as_u64(), all["modes"].as_array().map(Vec::len)), (Some(0), Some(5)));
    let (status, own) = app.get_as("/api/v1/research/analysis?modes=self", Some(&researcher)).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!((own["left_out_by_mode"].as_u64(), own["modes"].clone()), (Some(1), json!(["self"])));
    let n_baseline = |report: &Value| -> u64 {
        report["means"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["timepoint"] == "baseline" && m["scale"] == "PA" && m["stratum"].is_null())
            .map(|m| m["estimate"]["n"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(n_baseline(&all), n_baseline(&own) + 1, "her baseline counts only with every mode");
    let (status, body) = app.get_as("/api/v1/research/analysis?modes=self,fax", Some(&researcher)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("modes:"), "{body}");
}
on_both_backends!(
    staff_enter_a_paper_form_that_is_scored_alerted_and_exported_with_its_mode,
    super::staff_enter_a_paper_form_that_is_scored_alerted_and_exported_with_its_mode
);

fn correction(version: i64, answers: Value, reason: &str, password: &str) -> Value {
    json!({ "version": version, "answers": answers, "meaning": "corrected_transcription_error",
            "reason": reason, "password": password })
}

async fn a_correction_is_a_new_version_signed_with_a_password(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let admin = app.staff_token("admin").await;
    let researcher = app.staff_token("researcher").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 0).await;
    let patient = app.activate(&code, "1357").await;
    let baseline = app.my_assessment(&patient, "baseline").await;
    let (status, receipt) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &json!({ "client_id": uuid::Uuid::new_v4().to_string(), "assessment_id": baseline["id"],
                     "completed_at": qol_tests::completed_at(0), "language": "en", "answers": answers(1) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let first = receipt["submission_id"].as_i64().unwrap();
    let path = format!("/api/v1/submissions/{first}/corrections");
    let stored = async || app.count("SELECT COUNT(*) FROM submissions").await;
    let before = stored().await;
    let cards_before = app.get_as(&format!("/api/v1/patients/{study_id}/alerts"), Some(&nurse)).await.1;

    // Researchers and patients cannot correct.
    let good = correction(1, answers(4), "the nurse misread her paper notes", "demo-nurse-password");
    for token in [&researcher, &patient] {
        assert_eq!(app.post_as(&path, Some(token), &good).await.0, StatusCode::FORBIDDEN);
    }
    // A wrong password is refused, counted towards the lockout and audited.
    let (status, body) =
        app.post_as(&path, Some(&nurse), &correction(1, answers(4), "misread", "not my password")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("signature_refused")), "{body}");
    names_field(&body, "password");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.sign_in_failed' AND actor = 'staff:nurse' AND reason LIKE '%electronic signature%'").await,
        1
    );
    assert_eq!(app.count("SELECT failures FROM sign_in_throttle WHERE key = 'staff:nurse'").await, 1);
    // No reason, the same answers, an old version: each refused, naming its field.
    let (status, body) =
        app.post_as(&path, Some(&nurse), &correction(1, answers(4), "  ", "demo-nurse-password")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    names_field(&body, "reason");
    let (status, body) = app
        .post_as(&path, Some(&nurse), &correction(1, answers(1), "no change", "demo-nurse-password"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    names_field(&body, "answers");
    let (status, body) = app
        .post_as(&path, Some(&nurse), &correction(2, answers(4), "wrong version", "demo-nurse-password"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("version:"), "{body}");
    let mut bad = answers(4);
    bad[3]["response"] = json!(0);
    let (status, body) =
        app.post_as(&path, Some(&nurse), &correction(1, bad, "typo", "demo-nurse-password")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answers_invalid")));
    assert_eq!(stored().await, before, "a refused correction stored something");

    // Signed: a new version, scored again, its alert raised; the first kept as it was.
    let (status, corrected) = app.post_as(&path, Some(&nurse), &good).await;
    assert_eq!(status, StatusCode::CREATED, "{corrected}");
    let second = corrected["submission_id"].as_i64().unwrap();
    assert_ne!(second, first);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_throttle WHERE key = 'staff:nurse' AND failures > 0").await,
        0
    );
    let pain =
        corrected["scores"][0]["scales"].as_array().unwrap().iter().find(|s| s["code"] == "PA").unwrap();
    assert_eq!(pain["score"], 100.0);
    let list = submissions(&app, &nurse, &study_id).await;
    assert_eq!(list.len(), 2);
    let v1 = list.iter().find(|s| s["id"] == first).unwrap();
    let v2 = list.iter().find(|s| s["id"] == second).unwrap();
    assert_eq!((v1["version"].as_i64(), v1["current"].as_bool()), (Some(1), Some(false)));
    assert_eq!(v1["answers"], answers(1), "the first version is kept unchanged");
    assert!(v1.get("correction").is_none());
    assert_eq!(
        (v2["version"].as_i64(), v2["current"].as_bool(), v2["mode"].as_str()),
        (Some(2), Some(true), Some("self"))
    );
    let signature = &v2["correction"];
    assert_eq!(
        (signature["corrects"].as_i64(), signature["meaning"].as_str(), signature["reason"].as_str()),
        (Some(1), Some("corrected_transcription_error"), Some("the nurse misread her paper notes"))
    );
    assert_eq!(signature["signed_by"], "staff:nurse");
    assert!(signature["signed_at"].is_string(), "{signature}");
    // Researchers see that it was corrected and why, not who signed.
    let seen = submissions(&app, &researcher, &study_id).await;
    let seen_v2 = seen.iter().find(|s| s["id"] == second).unwrap();
    assert_eq!(seen_v2["correction"]["meaning"], "corrected_transcription_error");
    for field in ["signed_by", "signed_at", "reason"] {
        assert!(seen_v2["correction"].get(field).is_none(), "{field} for research: {seen_v2}");
    }
    // Nor does she: staff names and free text are the study team's.
    let (_, hers) = app.get_as("/api/v1/me/submissions", Some(&patient)).await;
    let her_v2 = hers.as_array().unwrap().iter().find(|s| s["id"] == second).unwrap();
    assert_eq!(her_v2["correction"]["meaning"], "corrected_transcription_error");
    for field in ["signed_by", "signed_at", "reason"] {
        assert!(her_v2["correction"].get(field).is_none(), "{field} for her: {her_v2}");
    }
    let (_, cards) = app.get_as(&format!("/api/v1/patients/{study_id}/alerts"), Some(&nurse)).await;
    assert_ne!(cards, cards_before, "the correction's severe pain reached the worklist");
    assert!(
        cards
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["signals"].as_array().unwrap())
            .any(|s| s["subject"] == "PA" && s["submission_id"] == second),
        "{cards}"
    );
    let audit = app
        .count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.correct' AND actor = 'staff:nurse' \
             AND entity_id = '{second}' AND reason = 'the nurse misread her paper notes' \
             AND before_json LIKE '%\"item\":9%' AND after_json LIKE '%\"answer\":\"4\"%'"
        ))
        .await;
    assert_eq!(audit, 1, "audited with the items before and after");

    // Her history says the study team corrected it; the exports use the current version.
    let (_, history) = app.get_as("/api/v1/me/history", Some(&patient)).await;
    assert_eq!(history["forms"][0]["corrected"], true, "{history}");
    let rows = csv_rows(&text(&app, "/api/v1/exports/scores_long.csv", &researcher).await);
    let pain_rows: Vec<_> = rows
        .iter()
        .filter(|r| r["study_id"] == study_id && r["assessment"] == "baseline" && r["scale"] == "PA")
        .collect();
    assert_eq!(pain_rows.len(), 1, "one row per form, its current version");
    assert_eq!((pain_rows[0]["version"].as_str(), pain_rows[0]["score"].as_str()), ("2", "100"));

    // A right signature on a correction refused afterwards leaves nothing counted against the
    // signer (the check ends as soon as the password is right).
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_throttle WHERE key = 'staff:nurse'").await, 0);

    // The first version can no longer be corrected: version 2 is the current one.
    let (status, body) =
        app.post_as(&path, Some(&admin), &correction(1, answers(3), "late", "demo-admin-password")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Version 2 corrected by the nurse and the admin at the same moment, four times each: one
    // version 3, never two.
    let third = format!("/api/v1/submissions/{second}/corrections");
    let requests = (0..8)
        .map(|n| {
            let (token, password) =
                if n % 2 == 0 { (&nurse, "demo-nurse-password") } else { (&admin, "demo-admin-password") };
            (token.clone(), correction(2, answers(3), &format!("simultaneous {n}"), password))
        })
        .collect();
    let results = post_at_once(&app, &third, requests).await;
    let created = results.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in &results {
        assert!(
            [StatusCode::CREATED, StatusCode::CONFLICT, StatusCode::TOO_MANY_REQUESTS].contains(status),
            "{status}: {body}"
        );
    }
    assert_eq!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM submissions WHERE assessment_id = {} AND version = 3",
            baseline["id"]
        ))
        .await,
        1
    );
    assert_eq!(stored().await, before + 2);
}
on_both_backends!(
    a_correction_is_a_new_version_signed_with_a_password,
    super::a_correction_is_a_new_version_signed_with_a_password
);

/// A paper form entered after a newer form arrived (it came back by post) is stored and scored,
/// but raises no alert and leaves the cards' latest values alone: her newer form says how she is
/// now. A correction raises only what is new or worse than the version it corrects.
async fn an_older_form_entered_late_raises_no_alert_and_a_correction_only_what_is_new(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 3).await;
    let patient = app.activate(&code, "1357").await;
    // Today she reports feeling worse on the phone: severe pain.
    let (status, report) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &qol_tests::c30_report(&uuid::Uuid::new_v4().to_string(), 4),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let cards_query = format!("/api/v1/patients/{study_id}/alerts");
    let (_, cards) = app.get_as(&cards_query, Some(&nurse)).await;
    let signals = |cards: &Value| -> Vec<Value> {
        cards.as_array().unwrap().iter().flat_map(|c| c["signals"].as_array().unwrap().clone()).collect()
    };
    let before = signals(&cards);
    assert!(!before.is_empty(), "the phone's report raised its alerts: {cards}");

    // Her baseline, on paper two days ago, entered now: not her newest form.
    let baseline = app.assessment(&nurse, &study_id, "baseline").await;
    let two_days_ago = qol_tests::chrono_today_minus(2);
    // Severe everywhere (the QLQ-CX24 too, which her report did not ask): were the rules applied,
    // new signals would join her card.
    let severe = Value::Array(
        (1..=54)
            .map(|item| json!({ "item": item, "response": match item { 29 | 30 => 1, 49 => 2, _ => 4 } }))
            .collect(),
    );
    let body = entry(baseline["id"].as_i64().unwrap(), "paper", &two_days_ago, Some("P-9"), severe);
    let (status, receipt) =
        app.post_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let (_, cards) = app.get_as(&cards_query, Some(&nurse)).await;
    assert_eq!(signals(&cards), before, "an older form changed the cards");
    let audit = app
        .count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.store' AND entity_id = '{}' \
             AND after_json LIKE '%not applied: a form completed later is stored%'",
            receipt["submission_id"]
        ))
        .await;
    assert_eq!(audit, 1, "the audit entry says why no alert rule ran");

    // The nurse calls her and resolves her cards. Then the phone's report is corrected (pain 4 →
    // 3 on one item, nothing new or worse): no card comes back.
    for card in cards.as_array().unwrap() {
        let id = card["id"].as_i64().unwrap();
        let (status, body) =
            app.post_as(&format!("/api/v1/alerts/{id}/acknowledge"), Some(&nurse), &json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let resolution = json!({ "action": "called_patient", "note": "pain reviewed" });
        let (status, body) =
            app.post_as(&format!("/api/v1/alerts/{id}/resolve"), Some(&nurse), &resolution).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut corrected = qol_tests::c30_report("00000000-0000-4000-8000-000000000000", 4)["answers"].clone();
    corrected[8]["response"] = json!(3);
    let path = format!("/api/v1/submissions/{}/corrections", report["submission_id"]);
    let (status, body) = app
        .post_as(
            &path,
            Some(&nurse),
            &correction(1, corrected, "item 9 misheard on the phone", "demo-nurse-password"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, after) = app.get_as(&format!("{cards_query}?state=open"), Some(&nurse)).await;
    let open: Vec<&Value> = after.as_array().unwrap().iter().filter(|c| c["state"] != "resolved").collect();
    assert!(open.is_empty(), "a correction brought back what the nurse resolved: {open:?}");

    // A correction that makes it worse (item 1, mobility, 1 → 4 is already 4: take the global
    // health items down to 1) raises what is new.
    let mut worse = qol_tests::c30_report("00000000-0000-4000-8000-000000000000", 4)["answers"].clone();
    worse[8]["response"] = json!(3);
    worse[28]["response"] = json!(1);
    worse[29]["response"] = json!(1);
    let path = format!("/api/v1/submissions/{}/corrections", body["submission_id"]);
    let (status, third) = app
        .post_as(&path, Some(&nurse), &correction(2, worse, "global health misread", "demo-nurse-password"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{third}");
    let (_, after) = app.get_as(&cards_query, Some(&nurse)).await;
    let new: Vec<Value> =
        signals(&after).into_iter().filter(|s| s["submission_id"] == third["submission_id"]).collect();
    assert!(new.iter().any(|s| s["subject"] == "QL2"), "the worse global health is on a card: {after}");
}
on_both_backends!(
    an_older_form_entered_late_raises_no_alert_and_a_correction_only_what_is_new,
    super::an_older_form_entered_late_raises_no_alert_and_a_correction_only_what_is_new
);

/// Double entry of paper forms (when the protocol asks for it): the first entry counts nothing,
/// the same person cannot make the second, a second that agrees stores the form, one that
/// disagrees waits for a resolution, which may change only what the two disagree on.
async fn paper_forms_count_once_two_blind_entries_agree(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let mut protocol = crate::admin::shipped_protocol();
    protocol["paper_double_entry"] = true.into();
    let (status, body) = app
        .post_as(
            "/api/v1/admin/protocol",
            Some(&admin),
            &json!({ "protocol": protocol.to_string(), "reason": "Amendment 2: paper forms entered twice" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let today = qol_tests::chrono_today_minus(0);
    let baseline_of = |study_id: String| {
        let (app, nurse) = (&app, &nurse);
        async move { app.assessment(nurse, &study_id, "baseline").await["id"].as_i64().unwrap() }
    };
    let (study_id, _) = app.enrol(&nurse, "nodal", 0).await;
    let baseline = baseline_of(study_id.clone()).await;
    let path = format!("/api/v1/patients/{study_id}/submissions");
    let entries_path = format!("/api/v1/assessments/{baseline}/paper-entries");
    let forms = |study_id: String| {
        let (app, nurse) = (&app, nurse.clone());
        async move {
            let (_, list) =
                app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse)).await;
            list.as_array().unwrap().len()
        }
    };

    // The first entry: kept, counts nothing, raises nothing.
    let alerts = app.count("SELECT COUNT(*) FROM alerts").await;
    let first = entry(baseline, "paper", &today, Some("P-77"), answers(4));
    let (status, state) = app.post_as(&path, Some(&nurse), &first).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{state}");
    assert_eq!(state["state"], "awaiting_second_entry");
    assert_eq!(state["entries"][0]["entered_by"], "staff:nurse");
    assert_eq!(forms(study_id.clone()).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, alerts);
    // Sent again (a retry): the same answer, nothing more stored.
    let (status, again) = app.post_as(&path, Some(&nurse), &first).await;
    assert_eq!((status, &again["state"]), (StatusCode::ACCEPTED, &json!("awaiting_second_entry")));
    assert_eq!(app.count("SELECT COUNT(*) FROM paper_entries").await, 1);
    // Blind: what the first entry holds is not shown.
    let (status, seen) = app.get_as(&entries_path, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["entered"], json!([]));
    assert_eq!(
        app.get_as(&entries_path, Some(&app.staff_token("researcher").await)).await.0,
        StatusCode::FORBIDDEN
    );
    // The same person cannot make the second entry.
    let (status, refusal) =
        app.post_as(&path, Some(&nurse), &entry(baseline, "paper", &today, Some("P-77"), answers(4))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");

    // A second entry that disagrees on item 9 and the reference: nothing counts yet.
    let mut differing = answers(4);
    differing[8]["response"] = json!(3);
    let (status, state) =
        app.post_as(&path, Some(&admin), &entry(baseline, "paper", &today, Some("P-78"), differing)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{state}");
    assert_eq!(state["state"], "entries_differ");
    assert_eq!(state["differences"], json!(["form_reference", "item 9"]));
    assert_eq!(state["entered"].as_array().unwrap().len(), 2);
    assert_eq!(forms(study_id.clone()).await, 0);
    let (_, list) = app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(&nurse)).await;
    let row = list.as_array().unwrap().iter().find(|a| a["id"] == baseline).unwrap();
    assert_eq!(row["paper_entries"], 2, "{row}");

    // A resolution that changes what both agree on (item 19) is refused, naming it.
    let mut wrong = answers(4);
    wrong[18]["response"] = json!(1);
    let (status, refusal) =
        app.post_as(&path, Some(&nurse), &entry(baseline, "paper", &today, Some("P-77"), wrong)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
    assert!(refusal["problems"][0].as_str().unwrap().starts_with("item 19:"), "{refusal}");
    // The right one (item 9 as the paper says, the first entry's reference): the form counts.
    let (status, receipt) =
        app.post_as(&path, Some(&nurse), &entry(baseline, "paper", &today, Some("P-77"), answers(4))).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(forms(study_id.clone()).await, 1);
    let (_, seen) = app.get_as(&entries_path, Some(&nurse)).await;
    assert_eq!(seen["state"], "counted");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'paper_entry.resolve'").await, 1);
    // A further entry is refused: the form is in.
    let (status, _) =
        app.post_as(&path, Some(&admin), &entry(baseline, "paper", &today, Some("P-77"), answers(4))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Two entries that agree: the second stores the form at once. Interview forms are entered once.
    let (other, _) = app.enrol(&nurse, "nodal", 0).await;
    let other_baseline = baseline_of(other.clone()).await;
    let other_path = format!("/api/v1/patients/{other}/submissions");
    let (status, _) = app
        .post_as(&other_path, Some(&nurse), &entry(other_baseline, "paper", &today, Some("P-90"), answers(1)))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, receipt) = app
        .post_as(&other_path, Some(&admin), &entry(other_baseline, "paper", &today, Some("P-90"), answers(1)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(forms(other.clone()).await, 1);
    let (third, _) = app.enrol(&nurse, "nodal", 0).await;
    let third_baseline = baseline_of(third.clone()).await;
    let (status, receipt) = app
        .post_as(
            &format!("/api/v1/patients/{third}/submissions"),
            Some(&nurse),
            &entry(third_baseline, "telephone_interview", &today, None, answers(1)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
}
on_both_backends!(
    paper_forms_count_once_two_blind_entries_agree,
    super::paper_forms_count_once_two_blind_entries_agree
);
