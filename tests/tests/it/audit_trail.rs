//! The audit trail for admins (issue 18): filtered by patient, staff member, action and days,
//! paged, verified, exported as CSV; nobody else reaches it. On both databases.

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn answers(code: i64) -> Value {
    Value::Array(
        (1..=54)
            .map(|item| {
                let response = match item {
                    29 | 30 => 5,
                    49 => 2,
                    _ => code,
                };
                json!({ "item": item, "response": response })
            })
            .collect(),
    )
}

async fn page(app: &TestApp, admin: &str, query: &str) -> Value {
    let (status, body) = app.get_as(&format!("/api/v1/audit{query}"), Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().unwrap().clone()
}

fn actions(page: &Value) -> Vec<String> {
    entries(page).iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

async fn admins_filter_verify_and_export_the_audit_trail(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let researcher = app.staff_token("researcher").await;
    let (ours, code) = app.enrol(&nurse, "nodal", 0).await;
    let (theirs, _) = app.enrol(&nurse, "hematogenous", 0).await;
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
    let correction = json!({ "version": 1, "answers": answers(2), "meaning": "corrected_at_patients_request",
                             "reason": "she meant 'a little' throughout", "password": "demo-nurse-password" });
    let path = format!("/api/v1/submissions/{}/corrections", receipt["submission_id"]);
    assert_eq!(app.post_as(&path, Some(&nurse), &correction).await.0, StatusCode::CREATED);

    // Admins only: researchers never see it either.
    for path in ["/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/entries.csv"] {
        assert_eq!(app.get_as(path, None).await.0, StatusCode::UNAUTHORIZED, "{path}");
        for token in [&nurse, &researcher, &patient] {
            assert_eq!(app.get_as(path, Some(token)).await.0, StatusCode::FORBIDDEN, "{path}");
        }
    }
    let written = app.count("SELECT COUNT(*) FROM audit_log").await;

    // By patient: what happened to her, and what she did; nothing of the other patient.
    let hers = page(&app, &admin, &format!("?patient={}", ours.to_lowercase())).await;
    let done = actions(&hers);
    for action in ["patient.enrol", "patient.activate", "submission.store", "submission.correct"] {
        assert!(done.contains(&action.to_owned()), "{action} missing from {done:?}");
    }
    for entry in entries(&hers) {
        let text = entry.to_string();
        assert!(!text.contains(&theirs), "another patient's entry: {text}");
        assert!(
            entry["patient"] == ours.as_str()
                || entry["actor"] == format!("patient:{ours}")
                || text.contains(&ours),
            "{text}"
        );
    }
    // Newest first, each entry with who, when, what and, where it applies, before and after.
    let ids: Vec<i64> = entries(&hers).iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "{ids:?}");

    // By staff member and action: the nurse's correction, with the items before and after.
    let corrected = page(&app, &admin, "?staff=Nurse&action=submission.correct").await;
    let list = entries(&corrected);
    assert_eq!(list.len(), 1, "{corrected}");
    let entry = &list[0];
    assert_eq!((entry["actor"].as_str(), entry["actor_role"].as_str()), (Some("staff:nurse"), Some("nurse")));
    assert_eq!(entry["reason"], "she meant 'a little' throughout");
    let before: Value = serde_json::from_str(entry["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(entry["after"].as_str().unwrap()).unwrap();
    assert_eq!(before["version"], 1);
    assert_eq!(after["meaning"], "corrected_at_patients_request");
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        51,
        "every item but 29, 30 and 49 changed: {before}"
    );
    // A kind of action: every submission entry.
    let kinds = actions(&page(&app, &admin, &format!("?action=submission.&patient={ours}")).await);
    assert_eq!(kinds, ["submission.correct", "submission.store"]);

    // By day, in the study's time zone: today holds them all, tomorrow none.
    let today = qol_tests::chrono_today_minus(0);
    let tomorrow = qol_tests::chrono_today_minus(-1);
    let todays = page(&app, &admin, &format!("?patient={ours}&from={today}&to={today}")).await;
    assert_eq!(entries(&todays).len(), entries(&hers).len());
    assert!(entries(&page(&app, &admin, &format!("?from={tomorrow}")).await).is_empty());

    // Pages: two at a time, no entry twice, none left out.
    let mut seen = Vec::new();
    let mut before = String::new();
    loop {
        let part = page(&app, &admin, &format!("?patient={ours}&limit=2{before}")).await;
        let list = entries(&part);
        assert!(list.len() <= 2);
        seen.extend(list.iter().map(|e| e["id"].as_i64().unwrap()));
        match part["next_before"].as_i64() {
            Some(next) => before = format!("&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "paged the same as in one page");

    // Filters that cannot be are refused, naming the filter.
    let (status, body) = app.get_as(&format!("/api/v1/audit?from={tomorrow}&to={today}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["problems"][0].as_str().unwrap().starts_with("to:"), "{body}");
    let (status, body) = app.get_as("/api/v1/audit?action=x%27%20OR%201%3D1", Some(&admin)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["problems"][0].as_str().unwrap().starts_with("action:"), "{body}");
    assert_eq!(app.get_as("/api/v1/audit?limit=0", Some(&admin)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.get_as("/api/v1/audit?from=2026-13-01", Some(&admin)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, written, "reading the trail wrote");

    // The chain, verified now: intact, with its head.
    let (status, chain) = app.get_as("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{chain}");
    assert_eq!(chain["intact"], true, "{chain}");
    assert_eq!(chain["entries"].as_i64(), Some(written));
    assert!(chain["head"].as_str().unwrap().starts_with(&format!("{written}:")), "{chain}");

    // The CSV of the filtered entries, as a browser downloads it; the export is audited.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/audit/entries.csv?patient={ours}")))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"audit.csv\""
    );
    let used = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    let body = response.bytes().await.expect("the whole body arrives").to_vec();
    let mut decoded = Vec::new();
    match used.as_deref() {
        Some("gzip") => {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut decoded).unwrap();
        }
        Some("br") => {
            std::io::Read::read_to_end(&mut brotli::Decompressor::new(&body[..], 4096), &mut decoded)
                .unwrap();
        }
        None => decoded = body,
        Some(other) => panic!("unexpected encoding {other}"),
    }
    let text = String::from_utf8(decoded).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..5], ["id", "occurred_at", "actor", "actor_role", "action"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let csv_ids: Vec<i64> = rows.iter().map(|row| row[0].parse().unwrap()).collect();
    // The export's own entry comes first: it was written before the file.
    assert_eq!(&rows[0][4], "audit.export");
    assert_eq!(csv_ids[1..], ids, "the file holds what the page showed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.export' AND actor = 'staff:admin'")
            .await,
        1
    );

    // The patient an entry names is part of its hash: moving an entry to another patient is found.
    let pool = app.sql().await;
    let guard = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_is_append_only",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_is_append_only",
    };
    sqlx::query(guard).execute(&pool).await.unwrap();
    let moved: i64 = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT MIN(id) FROM audit_log WHERE patient = '{ours}'"
    )))
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE audit_log SET patient = '{theirs}' WHERE id = {moved}")))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (_, chain) = app.get_as("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(
        (chain["intact"].as_bool(), chain["broken_at"].as_i64()),
        (Some(false), Some(moved)),
        "{chain}"
    );
    assert!(chain["problem"].as_str().unwrap().contains("does not match its hash"), "{chain}");
}
on_both_backends!(
    admins_filter_verify_and_export_the_audit_trail,
    super::admins_filter_verify_and_export_the_audit_trail
);
