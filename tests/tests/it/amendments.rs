//! Protocol amendments (issue 18): checked before anything changes, applied with a reason as the
//! next version, the schedule moved forward under it while assessments whose window had opened
//! keep theirs; exports carry each assessment's version. On both databases.

use qol_tests::{Backend, TestApp, on_both_backends, study_today};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::shipped_protocol;
use crate::research::{read_csv, text};

fn amendment(protocol: &Value, reason: &str) -> Value {
    json!({ "protocol": protocol.to_string(), "reason": reason })
}

/// The shipped protocol with the weekly window `end_days` long.
fn weekly_ending(end_days: i64) -> Value {
    let mut protocol = shipped_protocol();
    let weekly =
        protocol["assessments"].as_array_mut().unwrap().iter_mut().find(|a| a["code"] == "weekly").unwrap();
    weekly["end_days"] = end_days.into();
    protocol
}

async fn assessments(app: &TestApp, token: &str, study_id: &str) -> Vec<Value> {
    let (status, list) = app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

fn day(value: &Value) -> chrono::NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

async fn an_amendment_moves_the_schedule_forward_and_keeps_what_had_opened(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    // Twenty days in, cycle 1 fourteen days ago: weekly windows behind, open and ahead.
    let (study_id, _) = app.enrol(&nurse, "nodal", 20).await;
    let (status, body) = app
        .record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 14, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = assessments(&app, &nurse, &study_id).await;
    assert!(before.iter().all(|a| a["protocol_version"] == 1), "{before:?}");
    let today = study_today();
    assert!(before.iter().any(|a| day(&a["window_start"]) < today && a["code"] == "weekly"));
    assert!(before.iter().any(|a| day(&a["window_start"]) >= today && a["code"] == "weekly"));

    for path in ["/api/v1/admin/protocol/check", "/api/v1/admin/protocol"] {
        let status = app.post_as(path, Some(&nurse), &amendment(&weekly_ending(10), "x")).await.0;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // Refused amendments: each problem named, nothing changes.
    let mut moved_zone = weekly_ending(10);
    moved_zone["time_zone"] = "Europe/Paris".into();
    let mut one_stratum = weekly_ending(10);
    one_stratum["strata"].as_array_mut().unwrap().retain(|s| s["code"] == "nodal");
    let mut new_prefix = weekly_ending(10);
    new_prefix["patient_id_prefix"] = "CX".into();
    let mut backwards = weekly_ending(10);
    backwards["assessments"][1]["end_days"] = 2.into();
    let mut fortnightly = weekly_ending(10);
    fortnightly["assessments"][1]["repeat"]["every_days"] = 14.into();
    let cases = [
        (amendment(&moved_zone, "move"), "time_zone: is \"Europe/Paris\""),
        (amendment(&one_stratum, "drop"), "strata.hematogenous: is missing"),
        (amendment(&new_prefix, "rename"), "patient_id_prefix: is \"CX\""),
        (amendment(&backwards, "typo"), "protocol: assessment \"weekly\": the window ends before it starts"),
        (
            amendment(&fortnightly, "cadence"),
            "assessments.weekly: an amendment keeps a repeating assessment's",
        ),
        (json!({ "protocol": "{\"format\":", "reason": "cut" }), "protocol: the protocol is not valid JSON"),
        (amendment(&shipped_protocol(), "same"), "protocol: is version 1 already; nothing to amend"),
    ];
    for (body, problem) in &cases {
        let audited = app.count("SELECT COUNT(*) FROM audit_log").await;
        let (status, report) = app.post_as("/api/v1/admin/protocol/check", Some(&admin), body).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["valid"], false, "{report}");
        let problems: Vec<&str> =
            report["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert!(problems.iter().any(|p| p.starts_with(problem)), "{problem}: {problems:?}");
        let (status, refusal) = app.post_as("/api/v1/admin/protocol", Some(&admin), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
        assert!(
            refusal["problems"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().starts_with(problem)),
            "{refusal}"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audited, "a check or a refusal wrote");
        assert_eq!(app.count("SELECT COUNT(*) FROM protocol_versions").await, 0);
    }
    let (status, refusal) =
        app.post_as("/api/v1/admin/protocol", Some(&admin), &amendment(&weekly_ending(10), " ")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
    assert!(refusal["problems"][0].as_str().unwrap().starts_with("reason:"), "{refusal}");
    assert_eq!(assessments(&app, &nurse, &study_id).await, before, "a refusal moved the schedule");

    // The good one shortens the weekly window and adds two CX24 forms after cycle 1: one whose
    // window is still open today (it is added), one whose window closed days ago (it is not: a
    // form nobody could have sent is not a missed one).
    let mut good = weekly_ending(10);
    // (Windows apart: two forms asking the CX24 on the same days would be one, one_form_at_a_time.)
    let added = |code: &str, start_days: i64, end_days: i64| {
        json!({ "code": code, "label": code, "instruments": ["qlq-cx24"], "anchor": "cycle1_day1",
                "start_days": start_days, "end_days": end_days })
    };
    good["assessments"].as_array_mut().unwrap().push(added("cycle-1-symptoms", 6, 30));
    good["assessments"].as_array_mut().unwrap().push(added("cycle-1-early", 0, 5));
    let body = amendment(&good, "Amendment 2: weekly window shortened to 4 days");
    let (status, report) = app.post_as("/api/v1/admin/protocol/check", Some(&admin), &body).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], true, "{report}");
    let paths: Vec<&str> =
        report["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"assessments.cycle-1-symptoms.end_days"), "{paths:?}");
    let weekly_change =
        report["changes"].as_array().unwrap().iter().find(|c| c["path"] == "assessments.weekly.end_days");
    assert_eq!(
        weekly_change,
        Some(&json!({ "path": "assessments.weekly.end_days", "before": "13", "after": "10" }))
    );
    assert!(paths.iter().all(|p| p.starts_with("assessments.")), "{paths:?}");
    // Applied over a version it was not checked against: refused, nothing changes.
    let mut stale = body.clone();
    stale["based_on"] = 7.into();
    let (status, refusal) = app.post_as("/api/v1/admin/protocol", Some(&admin), &stale).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");
    assert_eq!(app.count("SELECT COUNT(*) FROM protocol_versions").await, 0);
    let mut body = body;
    body["based_on"] = 1.into();
    assert_eq!((report["current_version"].as_i64(), report["version"].as_i64()), (Some(1), Some(2)));
    let (status, applied) = app.post_as("/api/v1/admin/protocol", Some(&admin), &body).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["version"], 2);

    // What had opened (today included) keeps version 1 and its window; what opens after today
    // follows version 2.
    let after = assessments(&app, &nurse, &study_id).await;
    let (mut kept, mut moved) = (0, 0);
    for old in &before {
        let new = after.iter().find(|a| a["key"] == old["key"]).unwrap_or_else(|| panic!("{old} is gone"));
        if day(&old["window_start"]) <= today {
            kept += 1;
            assert_eq!(new["protocol_version"], 1, "{new}");
            assert_eq!(new["window_end"], old["window_end"], "{new}");
        } else {
            moved += 1;
            assert_eq!(new["protocol_version"], 2, "{new}");
            assert_eq!(new["window_start"], old["window_start"]);
            assert_eq!((day(&new["window_end"]) - day(&new["window_start"])).num_days(), 3, "{new}");
        }
    }
    assert!(kept >= 3 && moved >= 1, "kept {kept}, moved {moved}");
    let symptoms = after
        .iter()
        .find(|a| a["key"] == "cycle-1-symptoms")
        .unwrap_or_else(|| panic!("the open one added: {after:?}"));
    assert_eq!((symptoms["protocol_version"].as_i64(), symptoms["state"].as_str()), (Some(2), Some("open")));
    assert!(after.iter().all(|a| a["key"] != "cycle-1-early"), "a window that closed before the amendment");
    assert_eq!(after.len(), before.len() + 1);

    // The setup says version 2, by whom, from when and why; the audit entry names the change.
    let (_, setup) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(setup["protocol_version"], 2);
    let versions = setup["protocol_versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["amended_by"], "staff:admin");
    assert_eq!(versions[1]["effective_on"], today.to_string());
    assert_eq!(versions[1]["reason"], "Amendment 2: weekly window shortened to 4 days");
    assert!(versions[0]["amended_by"].is_null());
    let weekly =
        setup["protocol"]["assessments"].as_array().unwrap().iter().find(|a| a["code"] == "weekly").unwrap();
    assert_eq!(weekly["end_days"], 10);
    let (_, entries) = app.get_as("/api/v1/audit?action=protocol.amend", Some(&admin)).await;
    let entry = &entries["entries"][0];
    assert_eq!(entry["reason"], "Amendment 2: weekly window shortened to 4 days");
    assert!(entry["after"].as_str().unwrap().contains("assessments.weekly.end_days"), "{entry}");

    // Exports carry each assessment's version.
    let researcher = app.staff_token("researcher").await;
    let (status, schedule) = text(&app, "/api/v1/exports/schedule.csv", &researcher).await;
    assert_eq!(status, StatusCode::OK);
    let (header, rows) = read_csv(&schedule);
    assert!(header.contains(&"protocol_version".to_owned()));
    let hers: Vec<_> = rows.iter().filter(|row| row["study_id"] == study_id.as_str()).collect();
    for assessment in &after {
        let row = hers
            .iter()
            .find(|row| row["assessment"] == assessment["key"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{assessment} is not exported: {hers:?}"));
        assert_eq!(row["protocol_version"], assessment["protocol_version"].to_string(), "{row:?}");
    }
    let (_, dictionary) = text(&app, "/api/v1/exports/dictionary.csv", &researcher).await;
    assert!(dictionary.contains("protocol_version"));

    // It outlives a restart, and the schedule stays as it is.
    app.restart().await;
    let (_, again) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(again["protocol_version"], 2);
    assert_eq!(assessments(&app, &nurse, &study_id).await, after);

    // Four amendments at once: each its own version, none lost, each audit entry's "before" the
    // version the one before it made.
    let requests = (0..4)
        .map(|n| (admin.clone(), amendment(&weekly_ending([8, 9, 11, 12][n]), &format!("simultaneous {n}"))))
        .collect();
    let answers = crate::staff_entry::post_at_once(&app, "/api/v1/admin/protocol", requests).await;
    let mut versions: Vec<i64> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["version"].as_i64().unwrap()
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [3, 4, 5, 6]);
    let (_, entries) = app.get_as("/api/v1/audit?action=protocol.amend", Some(&admin)).await;
    let entries = entries["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 5);
    let version_in = |text: &Value| -> i64 {
        serde_json::from_str::<Value>(text.as_str().unwrap()).unwrap()["version"].as_i64().unwrap()
    };
    for pair in entries.windows(2) {
        assert_eq!(version_in(&pair[0]["before"]), version_in(&pair[1]["after"]), "{pair:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM protocol_versions").await, 5);
}
on_both_backends!(
    an_amendment_moves_the_schedule_forward_and_keeps_what_had_opened,
    super::an_amendment_moves_the_schedule_forward_and_keeps_what_had_opened
);

/// Two servers on one database: a patient enrolled on the second after an amendment on the first
/// is scheduled under the new version.
async fn an_amendment_on_one_server_is_followed_by_the_other(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut config = qol_server::config::ServeConfig::for_tests(app.database_url());
    config.init = false;
    config.demo = false;
    let (_, second, (stop, server)) = qol_tests::start_server(&config).await;
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let (status, body) = app
        .post_as("/api/v1/admin/protocol", Some(&admin), &amendment(&weekly_ending(10), "Amendment 2"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let enrolled = app
        .client
        .post(format!("http://{second}/api/v1/patients"))
        .bearer_auth(&nurse)
        .json(&json!({ "stratum": "nodal", "language": "en", "enrolled_on": study_today(),
            "identity": { "full_name": "Second Server", "phone": "+00 555 0101", "hospital_number": "H-2" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(enrolled.status(), StatusCode::CREATED);
    let enrolled: Value = enrolled.json().await.unwrap();
    let study_id = enrolled["patient"]["study_id"].as_str().unwrap();
    let list = assessments(&app, &nurse, study_id).await;
    assert!(!list.is_empty());
    assert!(list.iter().all(|a| a["protocol_version"] == 2), "{list:?}");
    let _ = stop.send(());
    server.await.unwrap();
}
on_both_backends!(
    an_amendment_on_one_server_is_followed_by_the_other,
    super::an_amendment_on_one_server_is_followed_by_the_other
);
