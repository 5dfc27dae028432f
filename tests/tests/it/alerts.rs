//! The nurse worklist through the API: severe answers raise alerts, which are de-duplicated,
//! snoozable, acknowledged and resolved, all audited; on both databases.

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A QLQ-C30 with every item at `code` (the global items at 6), with overrides.
fn c30(code: i64, overrides: &[(i64, i64)]) -> Value {
    Value::Array(
        (1..=30)
            .map(|item| {
                let value = overrides
                    .iter()
                    .find(|(i, _)| *i == item)
                    .map_or(if item >= 29 { 6 } else { code }, |(_, v)| *v);
                json!({ "item": item, "response": value })
            })
            .collect(),
    )
}

fn report(client_id: &str, answers: Value, call_me: bool) -> Value {
    json!({
        "client_id": client_id, "completed_at": qol_tests::completed_at(0),
        "language": "en", "answers": answers, "call_me": call_me,
    })
}

const IDS: [&str; 4] = [
    "10000000-0000-4000-8000-000000000001",
    "10000000-0000-4000-8000-000000000002",
    "10000000-0000-4000-8000-000000000003",
    "10000000-0000-4000-8000-000000000004",
];

/// A new activated patient with a well baseline (an unscheduled C30 at "not at all").
async fn patient_with_a_well_report(app: &TestApp) -> (String, String, String) {
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;
    let (status, _) =
        app.post_as("/api/v1/me/submissions", Some(&patient), &report(IDS[0], c30(1, &[]), false)).await;
    assert_eq!(status, StatusCode::CREATED);
    (nurse, patient, study_id)
}

async fn alerts_of(app: &TestApp, nurse: &str, study_id: &str, query: &str) -> Vec<Value> {
    let (status, body) = app.get_as(&format!("/api/v1/alerts{query}"), Some(nurse)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().iter().filter(|alert| alert["study_id"] == study_id).cloned().collect()
}

async fn severe_answers_raise_red_alerts_that_a_nurse_acknowledges_and_resolves(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    assert!(alerts_of(&app, &nurse, &study_id, "").await.is_empty(), "a well report raises nothing");

    // Pain "very much" on both pain items, and a request to be called.
    let severe = c30(1, &[(9, 4), (19, 4)]);
    let (status, _) =
        app.post_as("/api/v1/me/submissions", Some(&patient), &report(IDS[1], severe, true)).await;
    assert_eq!(status, StatusCode::CREATED);
    let alerts = alerts_of(&app, &nurse, &study_id, "").await;
    let subjects: Vec<(&str, &str)> =
        alerts.iter().map(|a| (a["subject"].as_str().unwrap(), a["tier"].as_str().unwrap())).collect();
    for expected in [("CALL", "red"), ("ITEM9", "red"), ("ITEM19", "red"), ("PA", "red")] {
        assert!(subjects.contains(&expected), "{expected:?} missing from {subjects:?}");
    }
    assert!(alerts.iter().all(|a| a["tier"] == "red"), "red first, and only red here: {subjects:?}");
    let pain = alerts.iter().find(|a| a["subject"] == "PA").unwrap();
    assert_eq!((pain["value"].as_f64(), pain["previous"].as_f64()), (Some(100.0), Some(0.0)));
    assert_eq!(pain["patient_name"], "Test Person", "nurses see who it is");
    assert!(pain["source"].as_str().unwrap().starts_with("Osoba"));
    assert_eq!(pain["past_sla"], false);

    let call = alerts.iter().find(|a| a["subject"] == "CALL").unwrap()["id"].as_i64().unwrap();
    let (status, acknowledged) =
        app.post_as(&format!("/api/v1/alerts/{call}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acknowledged["state"], "acknowledged");
    assert_eq!(acknowledged["acknowledged_by"], "nurse");
    assert_eq!(acknowledged["minutes_to_acknowledge"], 0);
    let (status, _) =
        app.post_as(&format!("/api/v1/alerts/{call}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, body) = app
        .post_as(
            &format!("/api/v1/alerts/{call}/resolve"),
            Some(&nurse),
            &json!({ "action": "shout", "note": "" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let resolution =
        json!({ "action": "called_patient", "note": "pain since yesterday; analgesia adjusted" });
    let (status, resolved) =
        app.post_as(&format!("/api/v1/alerts/{call}/resolve"), Some(&nurse), &resolution).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (resolved["state"].as_str(), resolved["resolution_action"].as_str()),
        (Some("resolved"), Some("called_patient"))
    );
    assert!(
        alerts_of(&app, &nurse, &study_id, "").await.iter().all(|a| a["id"] != call),
        "resolved leaves the worklist"
    );
    assert_eq!(alerts_of(&app, &nurse, &study_id, "?state=resolved").await.len(), 1);
    assert_eq!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'alert' AND entity_id = '{call}' \
             AND action IN ('alert.acknowledge', 'alert.resolve')"
        ))
        .await,
        2
    );

    let (status, body) = app.get_as("/api/v1/alerts?tier=purple", Some(&nurse)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("tier \"purple\" is not one of: red, amber, info"))
    );
    for (who, token) in [("researcher", app.staff_token("researcher").await), ("patient", patient)] {
        let (status, _) = app.get_as("/api/v1/alerts", Some(&token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let (status, _) =
            app.post_as(&format!("/api/v1/alerts/{call}/acknowledge"), Some(&token), &json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
}
on_both_backends!(
    severe_answers_raise_red_alerts_that_a_nurse_acknowledges_and_resolves,
    super::severe_answers_raise_red_alerts_that_a_nurse_acknowledges_and_resolves
);

async fn an_open_alert_is_updated_rather_than_duplicated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    // Fatigue rises twice: amber (one step on one item = 11 points), then red.
    app.post_as("/api/v1/me/submissions", Some(&patient), &report(IDS[1], c30(1, &[(10, 2)]), false)).await;
    let first = alerts_of(&app, &nurse, &study_id, "").await;
    let fatigue: Vec<&Value> = first.iter().filter(|a| a["subject"] == "FA").collect();
    assert_eq!(fatigue.len(), 1);
    assert_eq!(fatigue[0]["tier"], "amber");
    let id = fatigue[0]["id"].clone();
    app.post_as(
        "/api/v1/me/submissions",
        Some(&patient),
        &report(IDS[2], c30(1, &[(10, 4), (12, 4)]), false),
    )
    .await;
    let second = alerts_of(&app, &nurse, &study_id, "").await;
    let fatigue: Vec<&Value> = second.iter().filter(|a| a["subject"] == "FA").collect();
    assert_eq!(fatigue.len(), 1, "one open alert per patient and scale");
    assert_eq!((fatigue[0]["id"].clone(), fatigue[0]["tier"].as_str()), (id, Some("red")));
}
on_both_backends!(
    an_open_alert_is_updated_rather_than_duplicated,
    super::an_open_alert_is_updated_rather_than_duplicated
);

async fn a_snoozed_scale_raises_no_alert_until_the_snooze_ends(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    let until = qol_tests::chrono_today_minus(-7);
    let (status, body) = app
        .post_as(
            &format!("/api/v1/patients/{study_id}/snoozes"),
            Some(&nurse),
            &json!({ "subject": "NV", "until": until, "reason": "expected during chemotherapy" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let snooze = body["id"].as_i64().unwrap();
    let nausea = c30(1, &[(14, 3), (15, 3)]);
    app.post_as("/api/v1/me/submissions", Some(&patient), &report(IDS[1], nausea.clone(), false)).await;
    assert!(alerts_of(&app, &nurse, &study_id, "").await.iter().all(|a| a["subject"] != "NV"), "snoozed");

    let (status, ended) = app
        .post_as(&format!("/api/v1/patients/{study_id}/snoozes/{snooze}/end"), Some(&nurse), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ended["ended_at"].is_string());
    let worse = c30(1, &[(14, 4), (15, 4)]);
    app.post_as("/api/v1/me/submissions", Some(&patient), &report(IDS[2], worse, false)).await;
    assert!(
        alerts_of(&app, &nurse, &study_id, "").await.iter().any(|a| a["subject"] == "NV"),
        "the snooze has ended"
    );

    let (status, body) = app
        .post_as(
            &format!("/api/v1/patients/{study_id}/snoozes"),
            Some(&nurse),
            &json!({ "subject": "XYZ", "until": "2000-01-01", "reason": " " }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["problems"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('alert.snooze', 'alert.snooze_end')")
            .await,
        2
    );
}
on_both_backends!(
    a_snoozed_scale_raises_no_alert_until_the_snooze_ends,
    super::a_snoozed_scale_raises_no_alert_until_the_snooze_ends
);

async fn overdue_and_missed_assessments_are_listed_and_a_missed_reason_is_recorded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;

    // Open and not completed: on the overdue list with the days left, until it is sent.
    let (open_id, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;
    let (_, overdue) = app.get_as("/api/v1/assessments/overdue", Some(&nurse)).await;
    let mine = overdue
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["study_id"] == open_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!((mine["key"].as_str(), mine["days_left"].as_i64()), (Some("baseline"), Some(29)));
    assert_eq!(mine["patient_name"], "Test Person");
    let baseline = app.my_assessment(&patient, "baseline").await["id"].as_i64().unwrap();
    // Item 49 "a little": items 50–54 apply and are answered.
    let answers = Value::Array(
        (1..=54).map(|item| json!({ "item": item, "response": if item == 49 { 2 } else { 1 } })).collect(),
    );
    let body = json!({
        "client_id": IDS[3], "assessment_id": baseline, "completed_at": qol_tests::completed_at(0),
        "language": "en", "answers": answers,
    });
    let (status, _) = app.post_as("/api/v1/me/submissions", Some(&patient), &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, overdue) = app.get_as("/api/v1/assessments/overdue", Some(&nurse)).await;
    assert!(
        overdue.as_array().unwrap().iter().all(|item| item["study_id"] != open_id.as_str()),
        "sent: no longer overdue"
    );

    // Window closed without a submission: on the missed list until a reason is recorded.
    let (missed_id, _) = app.enrol(&nurse, "hematogenous", 40).await;
    app.record_event(&nurse, &missed_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 30, None).await;
    let (_, missed) = app.get_as("/api/v1/assessments/missed", Some(&nurse)).await;
    let item = missed
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["study_id"] == missed_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(item["key"], "baseline");
    let id = item["assessment_id"].as_i64().unwrap();

    let (status, _) = app
        .post_as(
            &format!("/api/v1/assessments/{baseline}/missed-reason"),
            Some(&nurse),
            &json!({ "reason": "forgot" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a completed assessment is not missed");
    let (status, _) = app
        .post_as("/api/v1/assessments/999999/missed-reason", Some(&nurse), &json!({ "reason": "forgot" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, recorded) = app
        .post_as(
            &format!("/api/v1/assessments/{id}/missed-reason"),
            Some(&nurse),
            &json!({ "reason": "patient_too_ill", "note": "admitted to hospital" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(
        (recorded["missed_reason"].as_str(), recorded["missed_note"].as_str()),
        (Some("patient_too_ill"), Some("admitted to hospital"))
    );
    let (_, awaiting) = app.get_as("/api/v1/assessments/missed", Some(&nurse)).await;
    assert!(
        awaiting.as_array().unwrap().iter().all(|item| item["assessment_id"] != id),
        "no longer awaiting a reason"
    );
    let (_, all) = app.get_as("/api/v1/assessments/missed?all=true", Some(&nurse)).await;
    assert!(all.as_array().unwrap().iter().any(|item| item["assessment_id"] == id));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'assessment.missed_reason'").await,
        1
    );
}
on_both_backends!(
    overdue_and_missed_assessments_are_listed_and_a_missed_reason_is_recorded,
    super::overdue_and_missed_assessments_are_listed_and_a_missed_reason_is_recorded
);
