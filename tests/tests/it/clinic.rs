//! Sign-in, patients, events, schedules, submissions, authorization and the audit trail, as
//! clients see them, on both databases.

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Baseline answers: C30 items 1–30 and CX24 items 31–54 (the worked examples of
/// eortc-scoring.md).
fn baseline_answers() -> Value {
    let c30 = [1, 2, 1, 1, 1, 2, 1, 2, 3, 2, 3, 3, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 2, 1, 1, 2, 2, 1, 5, 4];
    let cx24 = [2, 1, 1, 3, 1, 2, 1, 2, 3, 1, 1, 2, 1, 4, 2, 3, 2, 3, 2, 3, 2, 1, 3, 2];
    let answers: Vec<Value> = c30
        .iter()
        .chain(cx24.iter())
        .enumerate()
        .map(|(index, code)| json!({ "item": index + 1, "response": code }))
        .collect();
    Value::Array(answers)
}

fn c30_answers(code: i64) -> Value {
    Value::Array(
        (1..=30).map(|item| json!({ "item": item, "response": if item >= 29 { 4 } else { code } })).collect(),
    )
}

fn submission(client_id: &str, assessment_id: Option<i64>, completed_days_ago: i64, answers: Value) -> Value {
    let completed = qol_tests::completed_at(completed_days_ago);
    json!({
        "client_id": client_id, "assessment_id": assessment_id, "completed_at": completed,
        "language": "en", "answers": answers, "call_me": false,
    })
}

fn receipt_completed_at(body: &Value) -> String {
    body["completed_at"].as_str().unwrap().to_owned()
}

const CLIENT_A: &str = "0b8a3f70-6f2d-4c8e-9c51-3f1b2a7d9e01";
const CLIENT_B: &str = "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

/// A new patient enrolled `days_ago` days ago, activated; returns (nurse, patient, study id).
async fn enrolled_patient(app: &TestApp, days_ago: i64) -> (String, String, String) {
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", days_ago).await;
    let patient = app.activate(&code, "1357").await;
    (nurse, patient, study_id)
}

async fn staff_sign_in_me_and_sign_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let response = app
        .client
        .post(app.url("/api/v1/auth/staff/sign-in"))
        .json(&json!({ "username": "Nurse", "password": "demo-nurse-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("qol_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no TLS in tests: {cookie}");
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["me"]["role"], "nurse");

    let (status, me) = app.get_as("/api/v1/auth/me", Some(token)).await;
    assert_eq!((status, me["username"].as_str()), (StatusCode::OK, Some("nurse")));
    // The cookie works as well as the bearer token.
    let session_cookie = cookie.split(';').next().unwrap();
    let by_cookie =
        app.client.get(app.url("/api/v1/auth/me")).header("cookie", session_cookie).send().await.unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);

    let (status, _) = app.post_as("/api/v1/auth/sign-out", Some(token), &json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get_as("/api/v1/auth/me", Some(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "your session has ended; please sign in again");
    let (status, body) = app.get_as("/api/v1/auth/me", None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign in first")));
}
on_both_backends!(staff_sign_in_me_and_sign_out, super::staff_sign_in_me_and_sign_out);

async fn expired_sessions_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let token = app.staff_token("admin").await;
    let pool = app.sql().await;
    sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000000Z'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (status, _) = app.get_as("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
on_both_backends!(expired_sessions_are_refused, super::expired_sessions_are_refused);

async fn repeated_failures_lock_the_account_out_and_every_failure_is_audited(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let wrong = json!({ "username": "nurse", "password": "not the password" });
    for attempt in 1..=5 {
        let (status, body) = app.post_as("/api/v1/auth/staff/sign-in", None, &wrong).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert_eq!(body["error"], "wrong username or password");
    }
    // Locked now: even the right password is refused, with a time to wait.
    let right = json!({ "username": "nurse", "password": "demo-nurse-password" });
    let response = app.client.post(app.url("/api/v1/auth/staff/sign-in")).json(&right).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.sign_in_failed'").await, 5);
    // The refusal is summarised (one entry per key per minute), not written once per attempt.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.attempts_refused'").await, 1);
    // An unknown user is refused the same way, and counted on its own key.
    let (status, body) = app
        .post_as("/api/v1/auth/staff/sign-in", None, &json!({ "username": "ghost", "password": "x" }))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong username or password"))
    );
    // Other accounts are not affected.
    app.staff_token("admin").await;
}
on_both_backends!(
    repeated_failures_lock_the_account_out_and_every_failure_is_audited,
    super::repeated_failures_lock_the_account_out_and_every_failure_is_audited
);

async fn a_patient_is_enrolled_activates_once_and_signs_in_with_study_id_and_pin(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "hematogenous", 0).await;
    assert_eq!(study_id, "IVB-005", "the demo uses IVB-001…004");
    assert_eq!(code.len(), 14);

    let (status, body) = app
        .post_as("/api/v1/auth/patient/activate", None, &json!({ "activation_code": code, "pin": "12" }))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("choose a PIN of 4 to 8 digits"))
    );
    // Codes are typed by people: lower case and spaces are fine.
    let typed = code.to_lowercase().replace('-', " ");
    let token = app.activate(&typed, "4321").await;
    let (_, me) = app.get_as("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me["study_id"], study_id.as_str());
    assert_eq!(me["role"], "patient");

    let (status, _) = app
        .post_as("/api/v1/auth/patient/activate", None, &json!({ "activation_code": code, "pin": "9999" }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a code works once");

    let sign_in = |pin: &str| json!({ "study_id": study_id.to_lowercase(), "pin": pin });
    let (status, _) = app.post_as("/api/v1/auth/patient/sign-in", None, &sign_in("4321")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post_as("/api/v1/auth/patient/sign-in", None, &sign_in("4320")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("wrong study id or PIN")));

    // A reissued code replaces the old one and lets the patient choose a new PIN.
    let (status, body) =
        app.post_as(&format!("/api/v1/patients/{study_id}/activation-code"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let second = body["activation_code"].as_str().unwrap().to_owned();
    app.activate(&second, "8642").await;
    let (status, _) = app.post_as("/api/v1/auth/patient/sign-in", None, &sign_in("8642")).await;
    assert_eq!(status, StatusCode::OK);
}
on_both_backends!(
    a_patient_is_enrolled_activates_once_and_signs_in_with_study_id_and_pin,
    super::a_patient_is_enrolled_activates_once_and_signs_in_with_study_id_and_pin
);

async fn enrolment_refuses_bad_input_and_stores_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let before = app.count("SELECT COUNT(*) FROM patients").await;
    let (status, body) = app
        .post_as(
            "/api/v1/patients",
            Some(&nurse),
            &json!({
                "study_id": "IVB-1", "stratum": "lymphatic", "language": "fr", "enrolled_on": "2999-01-01",
                "identity": { "full_name": " ", "phone": "1", "hospital_number": "2" },
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems: Vec<&str> =
        body["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(problems.len(), 6, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.starts_with("identity.phone \"1\" is not a phone number")),
        "{problems:?}"
    );
    assert!(problems[0].starts_with("stratum \"lymphatic\" is not one of: nodal, hematogenous"));
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, before);

    let duplicate = json!({
        "study_id": "IVB-001", "stratum": "nodal", "language": "en", "enrolled_on": qol_tests::chrono_today_minus(0),
        "identity": { "full_name": "A", "phone": "+86 138 0013 8000", "hospital_number": "2" },
    });
    let (status, body) = app.post_as("/api/v1/patients", Some(&nurse), &duplicate).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("a patient with study id IVB-001 already exists"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, before);
}
on_both_backends!(
    enrolment_refuses_bad_input_and_stores_nothing,
    super::enrolment_refuses_bad_input_and_stores_nothing
);

async fn a_baseline_submission_is_scored_stored_and_visible_to_the_nurse(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = enrolled_patient(&app, 1).await;
    let baseline = app.my_assessment(&patient, "baseline").await;
    assert_eq!(baseline["state"], "open");
    let id = baseline["id"].as_i64().unwrap();

    let (status, receipt) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &submission(CLIENT_A, Some(id), 0, baseline_answers()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["timeliness"], "on_time");
    assert_eq!(receipt["client_id"], CLIENT_A);
    let scores = receipt["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2);
    let ql2 = &scores[0]["scales"][0];
    assert_eq!(ql2["code"], "QL2");
    assert!((ql2["score"].as_f64().unwrap() - 58.3333).abs() < 1e-4);
    assert_eq!(scores[0]["algorithm_version"], qol_shared::SCORING_ALGORITHM_VERSION);
    let cxse = &scores[1]["scales"][0];
    assert!((cxse["score"].as_f64().unwrap() - 21.2121).abs() < 1e-4);

    assert_eq!(app.my_assessment(&patient, "baseline").await["state"], "completed");
    let (status, stored) =
        app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    let stored = &stored[0];
    assert_eq!(stored["answers"].as_array().unwrap().len(), 54);
    assert_eq!(stored["scores"], receipt["scores"], "stored scores read back exactly");
    let sent: chrono::DateTime<chrono::Utc> =
        receipt_completed_at(&submission(CLIENT_A, Some(id), 0, baseline_answers())).parse().unwrap();
    let kept: chrono::DateTime<chrono::Utc> = stored["completed_at"].as_str().unwrap().parse().unwrap();
    // Kept in UTC, to the second the phone said (the phone's time is re-made each call, so
    // compare at the minute).
    assert!((kept - sent).num_seconds().abs() < 60, "{kept} vs {sent}");
    assert!(stored["completed_at"].as_str().unwrap().ends_with('Z'));
    assert!(stored["received_at"].is_string());
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM item_answers a JOIN submissions s ON s.id = a.submission_id \
             WHERE s.client_id = '0b8a3f70-6f2d-4c8e-9c51-3f1b2a7d9e01'"
        )
        .await,
        54
    );
}
on_both_backends!(
    a_baseline_submission_is_scored_stored_and_visible_to_the_nurse,
    super::a_baseline_submission_is_scored_stored_and_visible_to_the_nurse
);

async fn resubmitting_the_same_client_id_stores_it_once_and_different_content_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, patient, _) = enrolled_patient(&app, 1).await;
    let id = app.my_assessment(&patient, "baseline").await["id"].as_i64().unwrap();
    let body = submission(CLIENT_A, Some(id), 0, baseline_answers());
    let before = app.count("SELECT COUNT(*) FROM submissions").await;
    let (first_status, first) = app.post_as("/api/v1/me/submissions", Some(&patient), &body).await;
    assert_eq!(first_status, StatusCode::CREATED);
    // The same request again (a retry after a lost answer), even with its answers reordered.
    let mut reordered = body.clone();
    reordered["answers"].as_array_mut().unwrap().reverse();
    for retry in [&body, &reordered] {
        let (status, again) = app.post_as("/api/v1/me/submissions", Some(&patient), retry).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again, first, "the original receipt");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, before + 1);

    let mut changed = body.clone();
    changed["answers"][0]["response"] = json!(4);
    let (status, refusal) = app.post_as("/api/v1/me/submissions", Some(&patient), &changed).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refusal["error"].as_str().unwrap().contains("already used for a different submission"));
    // A new client id for the same, completed assessment is refused too.
    let (status, refusal) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &submission(CLIENT_B, Some(id), 0, baseline_answers()),
        )
        .await;
    assert_eq!(
        (status, refusal["error"].as_str()),
        (StatusCode::CONFLICT, Some("this questionnaire was already sent"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, before + 1);
}
on_both_backends!(
    resubmitting_the_same_client_id_stores_it_once_and_different_content_is_refused,
    super::resubmitting_the_same_client_id_stores_it_once_and_different_content_is_refused
);

/// One form sent many times at once (a phone's retries racing each other) beside other forms
/// for the same assessment (another device's): the first to reach storage is stored, once; its
/// every copy answers with its one receipt, and every other form is refused as already sent.
/// Most of them pass the check made before the write lock, so this is the check made under it.
async fn simultaneous_sends_for_one_assessment_store_one_form_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, patient, _) = enrolled_patient(&app, 1).await;
    let id = app.my_assessment(&patient, "baseline").await["id"].as_i64().unwrap();
    let stores = "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.store'";
    let stored_before = app.count(stores).await;
    // The copies are one body: the same content, as a retry sends it.
    let copy = submission(CLIENT_A, Some(id), 0, baseline_answers());
    let mut sending = tokio::task::JoinSet::new();
    for n in 0..16 {
        let (client_id, body) = if n % 2 == 0 {
            (CLIENT_A.to_owned(), copy.clone())
        } else {
            let other = uuid::Uuid::new_v4().to_string();
            let body = submission(&other, Some(id), 0, baseline_answers());
            (other, body)
        };
        let request = app.client.post(app.url("/api/v1/me/submissions")).bearer_auth(&patient).json(&body);
        sending.spawn(async move {
            let response = request.send().await.expect("the server answers");
            (client_id, response.status(), response.json::<Value>().await.unwrap())
        });
    }
    let outcomes = sending.join_all().await;
    let created: Vec<_> = outcomes.iter().filter(|(_, status, _)| *status == StatusCode::CREATED).collect();
    assert_eq!(created.len(), 1, "stored once: {outcomes:#?}");
    let (winner, _, receipt) = created[0];
    for (client_id, status, body) in &outcomes {
        if client_id == winner {
            assert!(*status == StatusCode::CREATED || *status == StatusCode::OK, "{status}: {body}");
            assert_eq!(body, receipt, "one receipt");
        } else {
            assert_eq!(
                (*status, body["error"].as_str()),
                (StatusCode::CONFLICT, Some("this questionnaire was already sent")),
                "{body}"
            );
        }
    }
    assert_eq!(
        app.count_dynamic(format!("SELECT COUNT(*) FROM submissions WHERE assessment_id = {id}")).await,
        1
    );
    assert_eq!(app.count(stores).await, stored_before + 1);
    let stored =
        app.count_dynamic(format!("SELECT COUNT(*) FROM submissions WHERE client_id = '{winner}'")).await;
    assert_eq!(stored, 1);
    // Its answers and scores, stored with it in one statement on PostgreSQL, once.
    let of_it = format!("WHERE submission_id = (SELECT id FROM submissions WHERE assessment_id = {id})");
    assert_eq!(app.count_dynamic(format!("SELECT COUNT(*) FROM item_answers {of_it}")).await, 54);
    let scales: usize = qol_shared::instrument::InstrumentId::ALL
        .iter()
        .map(|instrument| instrument.instrument().score_codes().count())
        .sum();
    assert_eq!(app.count_dynamic(format!("SELECT COUNT(*) FROM scores {of_it}")).await, scales as i64);
}
on_both_backends!(
    simultaneous_sends_for_one_assessment_store_one_form_once,
    super::simultaneous_sends_for_one_assessment_store_one_form_once
);

/// Many different unscheduled reports from one patient at once (two phones, a retry storm): on
/// PostgreSQL a form's rows are written before the chain lock, so the patient's n-th unscheduled
/// assessment is counted under a lock of hers; each report is stored once, each with an
/// assessment of its own numbered 1…n without a gap, each joins her one open symptoms card, and
/// the audit chain still verifies.
async fn simultaneous_unscheduled_reports_of_one_patient_each_get_their_own_assessment(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, patient, study_id) = enrolled_patient(&app, 1).await;
    const REPORTS: usize = 12;
    let mut sending = tokio::task::JoinSet::new();
    for n in 0..REPORTS {
        let client_id = uuid::Uuid::new_v4().to_string();
        // Bad enough to raise signals without a baseline (she sent none): every report has some.
        let body = submission(&client_id, None, 0, c30_answers(3 + (n % 2) as i64));
        let request = app.client.post(app.url("/api/v1/me/submissions")).bearer_auth(&patient).json(&body);
        sending.spawn(async move {
            let response = request.send().await.expect("the server answers");
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }
    let outcomes = sending.join_all().await;
    for (status, body) in &outcomes {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    let mut assessments: Vec<i64> =
        outcomes.iter().map(|(_, body)| body["assessment_id"].as_i64().unwrap()).collect();
    assessments.sort_unstable();
    assessments.dedup();
    assert_eq!(assessments.len(), REPORTS, "an assessment of its own each: {outcomes:#?}");
    let hers = format!("(SELECT id FROM patients WHERE study_code = '{study_id}')");
    let numbered = (1..=REPORTS).map(|n| format!("'unscheduled-{n}'")).collect::<Vec<_>>().join(", ");
    let keys = app
        .count_dynamic(format!(
            "SELECT COUNT(DISTINCT a.key) FROM assessments a JOIN submissions s ON s.assessment_id = a.id \
             WHERE a.patient_id = {hers} AND a.unscheduled = 1 AND a.key IN ({numbered})"
        ))
        .await;
    assert_eq!(keys, REPORTS as i64, "numbered 1…{REPORTS}, each with its form");
    let unscheduled = app.count_dynamic(format!(
        "SELECT COUNT(*) FROM assessments WHERE patient_id = {hers} AND unscheduled = 1"
    ));
    assert_eq!(unscheduled.await, REPORTS as i64);
    let stores = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.store' AND patient = '{study_id}'"
    );
    assert_eq!(app.count_dynamic(stores).await, REPORTS as i64);
    // One symptoms card, which every report raised or joined.
    let cards = format!("SELECT COUNT(*) FROM alert_cards WHERE patient_id = {hers} AND kind = 'symptoms'");
    assert_eq!(app.count_dynamic(cards).await, 1);
    let card = app
        .count_dynamic(format!("SELECT id FROM alert_cards WHERE patient_id = {hers} AND kind = 'symptoms'"))
        .await;
    let raised_on_it = app
        .count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.store' AND patient = '{study_id}' \
             AND after_json LIKE '%\"card\":{card},%'"
        ))
        .await;
    assert_eq!(raised_on_it, REPORTS as i64, "each report's signals went to her one card");
    assert!(
        matches!(
            app.db.verify_audit_chain(None).await.unwrap(),
            qol_server::storage::AuditVerification::Intact { .. }
        ),
        "the audit chain verifies"
    );
}
on_both_backends!(
    simultaneous_unscheduled_reports_of_one_patient_each_get_their_own_assessment,
    super::simultaneous_unscheduled_reports_of_one_patient_each_get_their_own_assessment
);

async fn invalid_answers_are_refused_with_every_problem_and_nothing_is_stored(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, patient, _) = enrolled_patient(&app, 1).await;
    let id = app.my_assessment(&patient, "baseline").await["id"].as_i64().unwrap();
    let submissions = app.count("SELECT COUNT(*) FROM submissions").await;
    let audit = app.count("SELECT COUNT(*) FROM audit_log").await;
    let answers = json!([
        { "item": 1, "response": 5 }, { "item": 2, "response": 2 }, { "item": 2, "response": 3 },
        { "item": 55, "response": 1 }, { "item": 29, "response": 0 }, { "item": 7, "response": "not_applicable" },
        { "item": 50, "response": "not_applicable" }, { "item": 51, "response": 2 },
    ]);
    let (status, body) = app
        .post_as("/api/v1/me/submissions", Some(&patient), &submission(CLIENT_A, Some(id), 0, answers))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"], "some answers are not valid; nothing was stored");
    let problems: Vec<&str> =
        body["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(
        problems,
        [
            "item 55 is not part of this assessment's questionnaires (qlq-c30, qlq-cx24)",
            "item 1 has code 5, but its allowed codes are 1–4",
            "item 2 is answered more than once; send each item at most once",
            "item 7 cannot be marked not applicable: only the items of a conditional section can",
            "item 29 has code 0, but its allowed codes are 1–7",
            "item 51 has an answer, but its section \"sexually-active\" is marked not applicable; either answer the section or mark all of it not applicable",
        ]
    );
    for (content_type, raw, expected) in [
        ("application/json", b"{\"client_id\": ".to_vec(), StatusCode::BAD_REQUEST),
        ("application/json", b"{\"client_id\": 5}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        ("text/plain", b"{}".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/json", vec![b' '; 300 * 1024], StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/me/submissions"))
            .bearer_auth(&patient)
            .header("content-type", content_type)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
        let error: qol_shared::api::ApiError = response.json().await.expect("the app's error format");
        assert!(!error.error.is_empty());
    }
    let bad_ids = [
        json!({ "client_id": "not-a-uuid" }),
        json!({ "completed_at": "yesterday" }),
        json!({ "completed_at": "2999-01-01T00:00:00Z" }),
        json!({ "language": "fr" }),
    ];
    for change in bad_ids {
        let mut body = submission(CLIENT_A, Some(id), 0, baseline_answers());
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let (status, _) = app.post_as("/api/v1/me/submissions", Some(&patient), &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{change}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, submissions);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit, "no write happened");
}
on_both_backends!(
    invalid_answers_are_refused_with_every_problem_and_nothing_is_stored,
    super::invalid_answers_are_refused_with_every_problem_and_nothing_is_stored
);

async fn the_window_rules_refuse_early_and_late_forms_and_accept_late_delivery_in_the_grace_period(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;

    // Not open yet: weekly-01 opens 7 days after cycle 1 day 1 (recorded today).
    let (study_id, code) = app.enrol(&nurse, "nodal", 2).await;
    let patient = app.activate(&code, "1357").await;
    let (status, body) = app
        .record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 0, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let week1 = app.my_assessment(&patient, "weekly-01").await;
    assert_eq!(week1["state"], "upcoming");
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &submission(CLIENT_A, week1["id"].as_i64(), 0, c30_answers(2)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().starts_with("this questionnaire opens on "), "{body}");

    // Closed: baseline ran from 40 to 30 days ago.
    let (study_id, code) = app.enrol(&nurse, "nodal", 40).await;
    let patient = app.activate(&code, "1357").await;
    app.record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 30, None).await;
    let baseline = app.assessment(&nurse, &study_id, "baseline").await;
    assert_eq!(baseline["state"], "missed");
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &submission(CLIENT_A, baseline["id"].as_i64(), 0, baseline_answers()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let closed_on = qol_tests::chrono_today_minus(30);
    assert_eq!(
        body["error"],
        format!("the time for this questionnaire ended on {closed_on}; it can no longer be sent")
    );

    // Completed inside the window (4 days ago), delivered 3 days after it closed: accepted, flagged.
    let (study_id, code) = app.enrol(&nurse, "nodal", 10).await;
    let patient = app.activate(&code, "1357").await;
    app.record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 3, None).await;
    let baseline = app.assessment(&nurse, &study_id, "baseline").await;
    let (status, receipt) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &submission(CLIENT_B, baseline["id"].as_i64(), 4, baseline_answers()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["timeliness"], "late_delivery");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions WHERE timeliness = 'late_delivery'").await, 1);
}
on_both_backends!(
    the_window_rules_refuse_early_and_late_forms_and_accept_late_delivery_in_the_grace_period,
    super::the_window_rules_refuse_early_and_late_forms_and_accept_late_delivery_in_the_grace_period
);

async fn an_unscheduled_report_is_a_c30_accepted_at_any_time(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = enrolled_patient(&app, 1).await;
    let (status, receipt) = app
        .post_as("/api/v1/me/submissions", Some(&patient), &submission(CLIENT_A, None, 0, c30_answers(4)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["timeliness"], "unscheduled");
    assert_eq!(receipt["scores"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .post_as("/api/v1/me/submissions", Some(&patient), &submission(CLIENT_B, None, 0, baseline_answers()))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "CX24 items are not part of an unscheduled report");
    let (_, assessments) =
        app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(&nurse)).await;
    let unscheduled: Vec<&Value> =
        assessments.as_array().unwrap().iter().filter(|a| a["unscheduled"] == true).collect();
    assert_eq!(unscheduled.len(), 1);
    assert_eq!(unscheduled[0]["state"], "completed");
}
on_both_backends!(
    an_unscheduled_report_is_a_c30_accepted_at_any_time,
    super::an_unscheduled_report_is_a_c30_accepted_at_any_time
);

async fn correcting_an_event_needs_a_reason_keeps_the_original_and_moves_the_windows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, _, study_id) = enrolled_patient(&app, 20).await;
    let cycle1 = json!({ "kind": "chemotherapy_cycle", "cycle": 1 });
    app.record_event(&nurse, &study_id, cycle1.clone(), 10, None).await;
    let weekly = |assessments: &Value| {
        assessments.as_array().unwrap().iter().find(|a| a["key"] == "weekly-01").cloned().unwrap()
    };
    let (_, before) = app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(&nurse)).await;
    assert_eq!(weekly(&before)["window_start"], qol_tests::chrono_today_minus(3));

    let (status, body) = app.record_event(&nurse, &study_id, cycle1.clone(), 12, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"], "chemotherapy_cycle_1 is already recorded; to correct it, give a reason");
    let (status, corrected) =
        app.record_event(&nurse, &study_id, cycle1, 12, Some("entered the wrong date")).await;
    assert_eq!(status, StatusCode::CREATED, "{corrected}");
    assert_eq!(corrected["reason"], "entered the wrong date");
    assert!(corrected["corrects"].is_i64());

    let (_, after) = app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(&nurse)).await;
    assert_eq!(weekly(&after)["window_start"], qol_tests::chrono_today_minus(5));
    assert_eq!(weekly(&after)["id"], weekly(&before)["id"], "the assessment keeps its id");
    let (_, detail) = app.get_as(&format!("/api/v1/patients/{study_id}"), Some(&nurse)).await;
    let events = detail["events"].as_array().unwrap();
    let currents: Vec<bool> = events.iter().map(|e| e["current"].as_bool().unwrap()).collect();
    assert_eq!(currents, [true, false, true], "enrolment, the original cycle 1, the correction");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'event.correct'").await, 1);

    let (status, body) =
        app.record_event(&nurse, &study_id, json!({ "kind": "end_of_treatment" }), 15, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].as_str().unwrap().contains("is before cycle 1 day 1"), "{body}");
}
on_both_backends!(
    correcting_an_event_needs_a_reason_keeps_the_original_and_moves_the_windows,
    super::correcting_an_event_needs_a_reason_keeps_the_original_and_moves_the_windows
);

/// The burden: at the end of treatment a hematogenous patient had weekly-18,
/// end-of-radiotherapy and end-of-treatment open at once (C30, then C30+CX24 twice: 138 items).
/// One form a day: only the end of treatment is due.
async fn at_the_end_of_treatment_one_form_is_due_not_three(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "hematogenous", 140).await;
    let patient = app.activate(&code, "1357").await;
    for (event, days_ago) in [
        (json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 126),
        (json!({ "kind": "radiotherapy_start" }), 40),
        (json!({ "kind": "radiotherapy_end" }), 2),
        (json!({ "kind": "end_of_treatment" }), 2),
    ] {
        let (status, body) = app.record_event(&nurse, &study_id, event, days_ago, None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, mine) = app.get_as("/api/v1/me/assessments", Some(&patient)).await;
    assert_eq!(status, StatusCode::OK);
    let due: Vec<&str> = mine["due"].as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(due, ["end-of-treatment"], "{mine}");
    // The last weekly form kept the days before end of treatment; end of radiotherapy, on the
    // same day, is satisfied by end of treatment.
    let (_, all) = app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(&nurse)).await;
    let keys: Vec<&str> = all.as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert!(!keys.contains(&"end-of-radiotherapy"), "{keys:?}");
    let last_week = all.as_array().unwrap().iter().rfind(|a| a["code"] == "weekly").unwrap();
    assert_eq!(last_week["window_end"], qol_tests::chrono_today_minus(3), "{last_week}");
}
on_both_backends!(
    at_the_end_of_treatment_one_form_is_due_not_three,
    super::at_the_end_of_treatment_one_form_is_due_not_three
);

/// A form on the phone is never turned away for a change she could not see: an assessment that
/// left the schedule while she answered still takes it (and research places it), and a form
/// completed before she went off study is taken when it arrives afterwards.
async fn a_form_answered_before_the_schedule_changed_is_still_taken(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = enrolled_patient(&app, 20).await;
    let (status, _) = app
        .record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 10, None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let weekly = app.my_assessment(&patient, "weekly-01").await;
    assert_eq!(weekly["state"], "open");
    // End of treatment recorded as of four days ago: weekly-01 (opened three days ago) leaves the
    // schedule while her answers wait on the phone.
    let (status, _) =
        app.record_event(&nurse, &study_id, json!({ "kind": "end_of_treatment" }), 4, None).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = submission(CLIENT_A, weekly["id"].as_i64(), 0, c30_answers(2));
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(&patient), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let researcher = app.staff_token("researcher").await;
    let response = app.client.get(app.url("/api/v1/exports/scores_wide.csv")).bearer_auth(&researcher);
    let csv = response.send().await.unwrap().text().await.unwrap();
    let line = csv.lines().find(|line| line.starts_with(&format!("{study_id},"))).unwrap_or_default();
    assert!(line.contains("end-of-treatment") && line.contains("rematched,weekly-01"), "{line}");

    // She went off study today. A form completed today is refused; the one she completed
    // yesterday, sent now, is taken.
    let (nurse, patient, study_id) = enrolled_patient(&app, 20).await;
    let (status, _) = app
        .record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 10, None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let weekly = app.my_assessment(&patient, "weekly-01").await;
    let off = json!({ "kind": "off_study", "reason": "withdrawal" });
    let (status, _) = app.record_event(&nurse, &study_id, off, 0, None).await;
    assert_eq!(status, StatusCode::CREATED);
    let today = submission("7a1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5e", weekly["id"].as_i64(), 0, c30_answers(2));
    let (status, body) = app.post_as("/api/v1/me/submissions", Some(&patient), &today).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no longer applies"), "{body}");
    let yesterday = submission(CLIENT_B, weekly["id"].as_i64(), 1, c30_answers(2));
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(&patient), &yesterday).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
}
on_both_backends!(
    a_form_answered_before_the_schedule_changed_is_still_taken,
    super::a_form_answered_before_the_schedule_changed_is_still_taken
);

/// Through the API: an impossible order is refused with the conflicting event named and nothing
/// stored; an unusual one is stored, answered with warnings, and the warnings are audited.
async fn events_in_an_impossible_order_are_refused_and_unusual_ones_come_with_warnings(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, _, study_id) = enrolled_patient(&app, 40).await;
    let cycle = |n: u8| json!({ "kind": "chemotherapy_cycle", "cycle": n });
    let (status, _) = app.record_event(&nurse, &study_id, cycle(1), 30, None).await;
    assert_eq!(status, StatusCode::CREATED);
    let events_before = app.count("SELECT COUNT(*) FROM treatment_events").await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    let refusals = [
        (cycle(3), 10, "chemotherapy cycle 3 is recorded but cycle 2 is not: record cycle 2 first"),
        (cycle(2), 31, "chemotherapy cycle 2 on"),
        (json!({ "kind": "radiotherapy_end" }), 5, "radiotherapy start is not"),
        (json!({ "kind": "induction_response", "response": "PR" }), 30, "is not after cycle 1 day 1"),
    ];
    for (event, days_ago, expected) in refusals {
        let (status, body) = app.record_event(&nurse, &study_id, event.clone(), days_ago, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{event}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(expected), "{event}: {error}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM treatment_events").await, events_before, "nothing stored");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_before, "nothing audited");

    // Cycle 2 as planned: no warnings in the answer at all.
    let (status, body) = app.record_event(&nurse, &study_id, cycle(2), 9, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("warnings").is_none(), "{body}");
    // Progressive disease after 2 cycles: the nodal stratum's 2 induction cycles are done, so only
    // the proposal to record off study.
    let pd = json!({ "kind": "induction_response", "response": "PD" });
    let (status, body) = app.record_event(&nurse, &study_id, pd, 2, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let warnings: Vec<&str> =
        body["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("progressive disease at the induction response"), "{warnings:?}");
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'event.record' AND after_json LIKE '%progressive disease%'")
        .await;
    assert_eq!(audited, 1, "the warning is in the audit trail");
}
on_both_backends!(
    events_in_an_impossible_order_are_refused_and_unusual_ones_come_with_warnings,
    super::events_in_an_impossible_order_are_refused_and_unusual_ones_come_with_warnings
);

/// Off study while the baseline window is open: the baseline is missed (she was on study when it
/// was due; SISAQOL counts it), nothing is due any more, and a late form is refused.
async fn going_off_study_closes_open_assessments_as_missed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = enrolled_patient(&app, 3).await;
    let (status, _) = app
        .record_event(&nurse, &study_id, json!({ "kind": "off_study", "reason": "withdrawal" }), 0, None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let baseline = app.assessment(&nurse, &study_id, "baseline").await;
    assert_eq!(baseline["state"], "missed");
    let (_, mine) = app.get_as("/api/v1/me/assessments", Some(&patient)).await;
    assert_eq!(mine["due"], json!([]), "nothing is due once off study");
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &submission(CLIENT_A, baseline["id"].as_i64(), 0, baseline_answers()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("no longer applies"));
}
on_both_backends!(
    going_off_study_closes_open_assessments_as_missed,
    super::going_off_study_closes_open_assessments_as_missed
);

/// Every route × every kind of caller: the status each must get.
async fn every_route_checks_the_callers_role(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let admin = app.staff_token("admin").await;
    let researcher = app.staff_token("researcher").await;
    let patient_a = {
        let (_, code) = app.enrol(&nurse, "nodal", 0).await;
        app.activate(&code, "1111").await
    };
    // A patient other than the caller (the demo's IVB-001).
    let other = "IVB-001";
    let callers: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("patient", Some(&patient_a)),
        ("nurse", Some(&nurse)),
        ("researcher", Some(&researcher)),
        ("admin", Some(&admin)),
    ];
    let enrol = json!({
        "stratum": "nodal", "language": "en", "enrolled_on": qol_tests::chrono_today_minus(0),
        "identity": { "full_name": "M", "phone": "+86 138 0013 8000", "hospital_number": "2" },
    });
    let event =
        json!({ "event": { "kind": "radiotherapy_start", "date": qol_tests::chrono_today_minus(0) } });
    // (method, path, body, expected status for anonymous, patient, nurse, researcher, admin)
    let routes: Vec<(&str, String, Value, [u16; 5])> = vec![
        ("GET", "/api/v1/auth/me".into(), Value::Null, [401, 200, 200, 200, 200]),
        ("GET", "/api/v1/patients".into(), Value::Null, [401, 403, 200, 200, 200]),
        ("POST", "/api/v1/patients".into(), enrol, [401, 403, 201, 403, 201]),
        ("GET", format!("/api/v1/patients/{other}"), Value::Null, [401, 403, 200, 403, 200]),
        ("POST", format!("/api/v1/patients/{other}/events"), event, [401, 403, 201, 403, 422]),
        ("GET", format!("/api/v1/patients/{other}/assessments"), Value::Null, [401, 403, 200, 200, 200]),
        ("GET", format!("/api/v1/patients/{other}/submissions"), Value::Null, [401, 403, 200, 200, 200]),
        ("POST", format!("/api/v1/patients/{other}/activation-code"), json!({}), [401, 403, 201, 403, 201]),
        ("GET", "/api/v1/me/assessments".into(), Value::Null, [401, 200, 403, 403, 403]),
        ("GET", "/api/v1/me/submissions".into(), Value::Null, [401, 200, 403, 403, 403]),
        (
            "POST",
            "/api/v1/me/submissions".into(),
            submission(CLIENT_A, None, 0, c30_answers(1)),
            [401, 201, 403, 403, 403],
        ),
        ("GET", "/api/v1/alerts".into(), Value::Null, [401, 403, 200, 403, 200]),
        ("GET", format!("/api/v1/alerts?patient={other}"), Value::Null, [401, 403, 200, 403, 200]),
        ("GET", format!("/api/v1/patients/{other}/alerts"), Value::Null, [401, 403, 200, 403, 200]),
        ("GET", "/api/v1/notifications".into(), Value::Null, [401, 403, 200, 403, 200]),
        ("GET", "/api/v1/assessments/overdue".into(), Value::Null, [401, 403, 200, 403, 200]),
        ("GET", "/api/v1/assessments/missed".into(), Value::Null, [401, 403, 200, 403, 200]),
        (
            "POST",
            "/api/v1/assessments/999999/missed-reason".into(),
            json!({ "reason": "other" }),
            [401, 403, 404, 403, 404],
        ),
        ("POST", "/api/v1/alerts/999999/acknowledge".into(), json!({}), [401, 403, 404, 403, 404]),
        (
            "POST",
            "/api/v1/alerts/999999/resolve".into(),
            json!({ "action": "no_action_needed" }),
            [401, 403, 404, 403, 404],
        ),
        ("GET", format!("/api/v1/patients/{other}/snoozes"), Value::Null, [401, 403, 200, 403, 200]),
        (
            "POST",
            format!("/api/v1/patients/{other}/snoozes"),
            json!({ "subject": "FA", "until": qol_tests::chrono_today_minus(-3), "reason": "expected" }),
            [401, 403, 201, 403, 201],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &routes {
        for ((who, token), want) in callers.iter().zip(expected) {
            let (status, answer) = if *method == "GET" {
                app.get_as(path, *token).await
            } else {
                app.post_as(path, *token, body).await
            };
            if status.as_u16() != *want {
                failures.push(format!("{method} {path} as {who}: got {status}, expected {want}: {answer}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
on_both_backends!(every_route_checks_the_callers_role, super::every_route_checks_the_callers_role);

async fn a_patient_reaches_only_their_own_data(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, patient_a, _) = enrolled_patient(&app, 1).await;
    // IVB-001 (demo) has an open weekly assessment; patient A may not submit to it.
    let admin = app.staff_token("admin").await;
    let (_, others) = app.get_as("/api/v1/patients/IVB-001/assessments", Some(&admin)).await;
    let foreign =
        others.as_array().unwrap().iter().find(|a| a["state"] == "open").unwrap()["id"].as_i64().unwrap();
    let before = app.count("SELECT COUNT(*) FROM submissions").await;
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient_a),
            &submission(CLIENT_A, Some(foreign), 0, c30_answers(2)),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], format!("you have no assessment {foreign}"));
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, before);
    let (_, mine) = app.get_as("/api/v1/me/submissions", Some(&patient_a)).await;
    assert_eq!(mine, json!([]), "the demo patients' submissions are not visible");
}
on_both_backends!(a_patient_reaches_only_their_own_data, super::a_patient_reaches_only_their_own_data);

async fn researchers_never_receive_identity_or_calendar_dates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let researcher = app.staff_token("researcher").await;
    let mut seen = String::new();
    let (_, list) = app.get_as("/api/v1/patients", Some(&researcher)).await;
    seen.push_str(&list.to_string());
    for patient in list.as_array().unwrap() {
        let id = patient["study_id"].as_str().unwrap();
        for route in ["assessments", "submissions"] {
            let (status, body) =
                app.get_as(&format!("/api/v1/patients/{id}/{route}"), Some(&researcher)).await;
            assert_eq!(status, StatusCode::OK);
            seen.push_str(&body.to_string());
        }
    }
    assert!(list.as_array().unwrap().len() >= 4);
    assert!(
        seen.contains("window_start_day") && seen.contains("completed_study_day"),
        "study days are given"
    );
    for forbidden in [
        "Demo Patient",
        "+00 000",
        "DEMO-H",
        "identity",
        "enrolled_on",
        "\"window_start\"",
        "received_at\":\"",
        "completed_at",
    ] {
        assert!(!seen.contains(forbidden), "a researcher response contains {forbidden:?}");
    }
    // No ISO calendar date of this century appears anywhere.
    assert!(
        !seen.contains("\"20"),
        "a date-like value reached the researcher: {}",
        &seen[..seen.len().min(400)]
    );
}
on_both_backends!(
    researchers_never_receive_identity_or_calendar_dates,
    super::researchers_never_receive_identity_or_calendar_dates
);

async fn the_audit_chain_verifies_and_a_tampered_entry_is_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, patient, _) = enrolled_patient(&app, 1).await;
    let id = app.my_assessment(&patient, "baseline").await["id"].as_i64().unwrap();
    app.post_as(
        "/api/v1/me/submissions",
        Some(&patient),
        &submission(CLIENT_A, Some(id), 0, baseline_answers()),
    )
    .await;
    assert!(
        matches!(app.db.verify_audit_chain(None).await.unwrap(), qol_server::storage::AuditVerification::Intact { entries } if entries > 20)
    );

    let pool = app.sql().await;
    // The database itself refuses to change the trail or a submission.
    assert!(sqlx::query("UPDATE audit_log SET reason = 'x' WHERE id = 3").execute(&pool).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(&pool).await.is_err());
    assert!(sqlx::query("UPDATE submissions SET language = 'zh-CN'").execute(&pool).await.is_err());
    assert!(sqlx::query("DELETE FROM item_answers").execute(&pool).await.is_err());

    // Someone with full access removes the guard and edits entry 3: verification finds it.
    let (drop_guard, tamper) = match backend {
        Backend::Sqlite => {
            ("DROP TRIGGER audit_log_is_append_only", "UPDATE audit_log SET reason = 'edited' WHERE id = 3")
        }
        Backend::Postgres => (
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_is_append_only",
            "UPDATE audit_log SET reason = 'edited' WHERE id = 3",
        ),
    };
    sqlx::query(drop_guard).execute(&pool).await.unwrap();
    sqlx::query(tamper).execute(&pool).await.unwrap();
    pool.close().await;
    match app.db.verify_audit_chain(None).await.unwrap() {
        qol_server::storage::AuditVerification::Broken { id, checked, problem } => {
            assert_eq!((id, checked), (3, 2));
            assert!(problem.contains("content does not match its hash"), "{problem}");
        }
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}
on_both_backends!(
    the_audit_chain_verifies_and_a_tampered_entry_is_found,
    super::the_audit_chain_verifies_and_a_tampered_entry_is_found
);

async fn the_demo_sign_ins_printed_at_start_work(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    for (username, _, _) in qol_server::clinic::demo::DEMO_STAFF {
        app.staff_token(username).await;
    }
    for study_id in ["IVB-001", "IVB-003", "IVB-004"] {
        let (status, _) = app
            .post_as(
                "/api/v1/auth/patient/sign-in",
                None,
                &json!({ "study_id": study_id, "pin": qol_server::clinic::demo::DEMO_PIN }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{study_id}");
    }
    let token = app.activate(qol_server::clinic::demo::DEMO_ACTIVATION_CODE, "1234").await;
    let (_, me) = app.get_as("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me["study_id"], qol_server::clinic::demo::DEMO_UNACTIVATED);
    assert_eq!(me["language"], "zh-CN");
    // The seeded histories are there: IVB-003 is in follow-up with its 3-month form open.
    let patient = app
        .post_as(
            "/api/v1/auth/patient/sign-in",
            None,
            &json!({ "study_id": "IVB-003", "pin": qol_server::clinic::demo::DEMO_PIN }),
        )
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, mine) = app.get_as("/api/v1/me/assessments", Some(&patient)).await;
    let due: Vec<&str> = mine["due"].as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(due, ["follow-up-3m"]);
    assert!(mine["completed"].as_array().unwrap().len() >= 15);
}
on_both_backends!(the_demo_sign_ins_printed_at_start_work, super::the_demo_sign_ins_printed_at_start_work);

async fn missing_scores_are_stored_as_missing_and_later_scores_still_store(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = enrolled_patient(&app, 1).await;
    // Fatigue items 10, 12, 18: only one answered, so FA is missing (a NULL score), then complete.
    let partial: Vec<Value> = (1..=30)
        .filter(|item| ![12, 18].contains(item))
        .map(|item| json!({ "item": item, "response": 2 }))
        .collect();
    for (client_id, answers) in [(CLIENT_A, Value::Array(partial)), (CLIENT_B, c30_answers(2))] {
        let (status, body) = app
            .post_as("/api/v1/me/submissions", Some(&patient), &submission(client_id, None, 0, answers))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, stored) = app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse)).await;
    let fatigue = |index: usize| {
        stored[index]["scores"][0]["scales"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == "FA")
            .cloned()
            .unwrap()
    };
    assert_eq!(fatigue(0)["status"], "missing");
    assert_eq!(fatigue(0)["reason"], "too_few_items_answered");
    assert_eq!(fatigue(1)["status"], "scored");
    assert!(
        (fatigue(1)["score"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9,
        "full precision survives storage"
    );
}
on_both_backends!(
    missing_scores_are_stored_as_missing_and_later_scores_still_store,
    super::missing_scores_are_stored_as_missing_and_later_scores_still_store
);
