//! Every error body carries a stable `code` (`ApiError.code`): the refusals a patient meets each
//! have their own (the app says them in her language), every other refusal its status's general
//! code; on both databases.

use qol_shared::api::{ApiError, ErrorCode};
use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A baseline form: "not at all" everywhere, sexually active "a little" (so items 50–54 apply).
fn baseline_answers() -> Value {
    let response = |item: i64| match item {
        29 | 30 => 5,
        49 => 2,
        _ => 1,
    };
    Value::Array((1..=54).map(|item| json!({ "item": item, "response": response(item) })).collect())
}

fn c30_answers() -> Value {
    Value::Array(
        (1..=30).map(|item| json!({ "item": item, "response": if item >= 29 { 5 } else { 1 } })).collect(),
    )
}

fn form(client_id: &str, assessment_id: Option<i64>, answers: Value) -> Value {
    json!({
        "client_id": client_id, "assessment_id": assessment_id, "completed_at": qol_tests::completed_at(0),
        "language": "en", "answers": answers, "call_me": false,
    })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The status and the code, read as the app reads them (the typed `ApiError`), after checking
/// the wire spelling is the code's own.
fn refusal(status: StatusCode, body: &Value) -> (u16, ErrorCode) {
    let error: ApiError = serde_json::from_value(body.clone()).expect("the app's error format");
    assert_eq!(body["code"], error.code.as_str(), "{body}");
    assert!(!error.error.is_empty(), "{body}");
    (status.as_u16(), error.code)
}

async fn raw(app: &TestApp, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> (u16, ErrorCode) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON error body");
    refusal(status, &body)
}

async fn each_refusal_a_patient_meets_has_its_own_code(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;

    // Activation: a PIN of 3 digits, then a code that does not exist.
    let (status, body) = app
        .post_as("/api/v1/auth/patient/activate", None, &json!({ "activation_code": code, "pin": "123" }))
        .await;
    assert_eq!(refusal(status, &body), (422, ErrorCode::PinFormat));
    let (status, body) = app
        .post_as(
            "/api/v1/auth/patient/activate",
            None,
            &json!({ "activation_code": "AAAA-BBBB-CCCC", "pin": "1357" }),
        )
        .await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::ActivationCodeInvalid));
    let patient = app.activate(&code, "1357").await;
    // A used code is as invalid as an unknown one.
    let (status, body) = app
        .post_as("/api/v1/auth/patient/activate", None, &json!({ "activation_code": code, "pin": "2468" }))
        .await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::ActivationCodeInvalid));

    // Sign-in: a wrong PIN, an unknown study id, a wrong staff password.
    let (status, body) = app
        .post_as("/api/v1/auth/patient/sign-in", None, &json!({ "study_id": study_id, "pin": "0000" }))
        .await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::WrongCredentials));
    let (status, body) = app
        .post_as("/api/v1/auth/patient/sign-in", None, &json!({ "study_id": "IVB-999", "pin": "0000" }))
        .await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::WrongCredentials));
    let (status, body) = app
        .post_as("/api/v1/auth/staff/sign-in", None, &json!({ "username": "admin", "password": "nope" }))
        .await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::WrongCredentials));

    // Lockout: after the free failures (one is counted above) the next attempt is locked out,
    // even with the right PIN, with a time to wait.
    let free = (1..).find(|n| qol_server::auth::lockout_after(*n).is_some()).unwrap();
    for attempt in 2..=free {
        let (status, body) = app
            .post_as("/api/v1/auth/patient/sign-in", None, &json!({ "study_id": study_id, "pin": "0000" }))
            .await;
        assert_eq!(refusal(status, &body), (401, ErrorCode::WrongCredentials), "attempt {attempt}");
    }
    let response = app
        .client
        .post(app.url("/api/v1/auth/patient/sign-in"))
        .json(&json!({ "study_id": study_id, "pin": "1357" }))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("retry-after"));
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(refusal(status, &body), (429, ErrorCode::LockedOut));

    // Sending forms: the baseline twice (already sent), then with invalid answers.
    let baseline = app.my_assessment(&patient, "baseline").await["id"].as_i64().unwrap();
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &form(&new_id(), Some(baseline), json!([{ "item": 1, "response": 9 }])),
        )
        .await;
    assert_eq!(refusal(status, &body), (422, ErrorCode::AnswersInvalid));
    assert!(!body["problems"].as_array().unwrap().is_empty(), "{body}");
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &form(&new_id(), Some(baseline), baseline_answers()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post_as(
            "/api/v1/me/submissions",
            Some(&patient),
            &form(&new_id(), Some(baseline), baseline_answers()),
        )
        .await;
    assert_eq!(refusal(status, &body), (409, ErrorCode::AlreadySent));

    // A window that has closed, and one not open yet.
    let (late_id, late_code) = app.enrol(&nurse, "nodal", 40).await;
    let late = app.activate(&late_code, "1357").await;
    app.record_event(&nurse, &late_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 30, None).await;
    let closed = app.assessment(&nurse, &late_id, "baseline").await["id"].as_i64();
    let (status, body) = app
        .post_as("/api/v1/me/submissions", Some(&late), &form(&new_id(), closed, baseline_answers()))
        .await;
    assert_eq!(refusal(status, &body), (409, ErrorCode::WindowClosed));
    let (early_id, early_code) = app.enrol(&nurse, "nodal", 2).await;
    let early = app.activate(&early_code, "1357").await;
    app.record_event(&nurse, &early_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 0, None).await;
    let week1 = app.my_assessment(&early, "weekly-01").await["id"].as_i64();
    let (status, body) =
        app.post_as("/api/v1/me/submissions", Some(&early), &form(&new_id(), week1, c30_answers())).await;
    assert_eq!(refusal(status, &body), (409, ErrorCode::WindowClosed));

    // Off study: an "I feel worse" report is no longer taken.
    app.record_event(&nurse, &early_id, json!({ "kind": "off_study", "reason": "withdrawal" }), 0, None)
        .await;
    let (status, body) =
        app.post_as("/api/v1/me/submissions", Some(&early), &form(&new_id(), None, c30_answers())).await;
    assert_eq!(refusal(status, &body), (409, ErrorCode::StudyEnded));
}
on_both_backends!(
    each_refusal_a_patient_meets_has_its_own_code,
    super::each_refusal_a_patient_meets_has_its_own_code
);

async fn other_refusals_have_their_statuss_general_code(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (_, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;

    let (status, body) = app.get_as("/api/v1/me/assessments", None).await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::SignInRequired));
    let (status, body) = app.get_as("/api/v1/me/assessments", Some("not-a-session")).await;
    assert_eq!(refusal(status, &body), (401, ErrorCode::SignInRequired));
    let (status, body) = app.get_as("/api/v1/me/history", Some(&nurse)).await;
    assert_eq!(refusal(status, &body), (403, ErrorCode::Forbidden));
    let (status, body) = app.get_as("/api/v1/alerts", Some(&patient)).await;
    assert_eq!(refusal(status, &body), (403, ErrorCode::Forbidden));
    let (status, body) = app.get_as("/api/v1/patients/IVB-999", Some(&nurse)).await;
    assert_eq!(refusal(status, &body), (404, ErrorCode::NotFound));
    let (status, body) = app.get_as("/api/v1/no-such-route", None).await;
    assert_eq!(refusal(status, &body), (404, ErrorCode::NotFound));
    let (status, body) = app.get_as("/api/v1/alerts?tier=purple", Some(&nurse)).await;
    assert_eq!(refusal(status, &body), (400, ErrorCode::BadRequest));

    // The JSON extractors' refusals.
    let submit = "/api/v1/me/submissions";
    assert_eq!(
        raw(&app, submit, &patient, "application/json", b"{\"client_id\": ".to_vec()).await,
        (400, ErrorCode::BadRequest)
    );
    assert_eq!(
        raw(&app, submit, &patient, "application/json", b"{\"client_id\": 5}".to_vec()).await,
        (422, ErrorCode::Invalid)
    );
    assert_eq!(
        raw(&app, submit, &patient, "text/plain", b"{}".to_vec()).await,
        (415, ErrorCode::UnsupportedMediaType)
    );
    assert_eq!(
        raw(&app, submit, &patient, "application/json", vec![b' '; 300 * 1024]).await,
        (413, ErrorCode::TooLarge)
    );

    // A client id used again for other answers: a conflict, not "already sent".
    let id = new_id();
    let (status, _) = app.post_as(submit, Some(&patient), &form(&id, None, c30_answers())).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut other = form(&id, None, c30_answers());
    other["answers"][0]["response"] = 2.into();
    let (status, body) = app.post_as(submit, Some(&patient), &other).await;
    assert_eq!(refusal(status, &body), (409, ErrorCode::Conflict));
    // An acknowledge of a card that is not new: a general conflict too.
    let (_, cards) = app.get_as("/api/v1/alerts?state=new", Some(&nurse)).await;
    let card = cards[0]["id"].as_i64().unwrap();
    app.post_as(&format!("/api/v1/alerts/{card}/acknowledge"), Some(&nurse), &json!({})).await;
    let (status, body) =
        app.post_as(&format!("/api/v1/alerts/{card}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(refusal(status, &body), (409, ErrorCode::Conflict));
    // A 422 that is not about answers: enrolment's own checks.
    let (status, body) = app
        .post_as(
            "/api/v1/patients",
            Some(&nurse),
            &json!({ "stratum": "lymphatic", "language": "en", "enrolled_on": qol_tests::chrono_today_minus(0),
                     "identity": { "full_name": "A", "phone": "+86 138 0013 8000", "hospital_number": "2" } }),
        )
        .await;
    assert_eq!(refusal(status, &body), (422, ErrorCode::Invalid));

    // A code this version does not know reads as `other`; the body still parses.
    let future: ApiError =
        serde_json::from_value(json!({ "error": "later", "code": "a_code_from_the_future" })).unwrap();
    assert_eq!(future.code, ErrorCode::Other);
}
on_both_backends!(
    other_refusals_have_their_statuss_general_code,
    super::other_refusals_have_their_statuss_general_code
);

/// Attempts checked at once for the same details: those refused unchecked are told to try again
/// shortly (or, once the count reaches the lockout, that they are locked out), never a plain 429.
#[tokio::test]
async fn simultaneous_sign_ins_are_told_to_try_again_shortly() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    app.activate(&code, "1357").await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let request = app
            .client
            .post(app.url("/api/v1/auth/patient/sign-in"))
            .json(&json!({ "study_id": study_id, "pin": "0000" }));
        attempts.spawn(async move {
            let response = request.send().await.expect("the server answers");
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }
    for (status, body) in attempts.join_all().await {
        let (status, code) = refusal(status, &body);
        match status {
            401 => assert_eq!(code, ErrorCode::WrongCredentials),
            // Fewer attempts than the lockout: busy, not locked.
            429 => assert_eq!(code, ErrorCode::TryAgainShortly, "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
}
