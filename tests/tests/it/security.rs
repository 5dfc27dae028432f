//! The authorization matrix generated from the OpenAPI document: every operation × every role
//! (and no session), with another patient's id wherever a path names a patient. The roles an
//! operation admits are the scopes of its `security` requirement; `[]` admits any signed-in
//! caller, no requirement admits everyone. A new route is covered the day it is documented
//! (and the test fails until it has a request to make). On both databases.

use qol_tests::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

const ROLES: [&str; 5] = ["anonymous", "patient", "nurse", "researcher", "admin"];

/// A token for each of [`ROLES`] (none for anonymous).
async fn tokens(app: &TestApp) -> Vec<Option<String>> {
    let nurse = app.staff_token("nurse").await;
    let (_, code) = app.enrol(&nurse, "nodal", 0).await;
    let patient = app.activate(&code, "1357").await;
    vec![
        None,
        Some(patient),
        Some(app.staff_token("nurse").await),
        Some(app.staff_token("researcher").await),
        Some(app.staff_token("admin").await),
    ]
}

async fn generated_authorization_matrix(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, document) = app.get_json("/api/v1/openapi.json").await;
    let nurse = app.staff_token("nurse").await;
    let (_, alerts) = app.get_as("/api/v1/alerts", Some(&nurse)).await;
    let alert_id = alerts[0]["id"].as_i64().expect("the demo has open alerts");
    let (_, missed) = app.get_as("/api/v1/assessments/missed", Some(&nurse)).await;
    let missed_id = missed[0]["assessment_id"].as_i64().expect("the demo has a missed form");
    let (status, snooze) = app
        .post_as(
            "/api/v1/patients/IVB-001/snoozes",
            Some(&nurse),
            &json!({ "subject": "SL", "until": qol_tests::chrono_today_minus(-5), "reason": "matrix" }),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{snooze}");
    let snooze_id = snooze["id"].as_i64().unwrap();
    let (_, submissions) = app.get_as("/api/v1/patients/IVB-001/submissions", Some(&nurse)).await;
    let submission_id = submissions[0]["id"].as_i64().expect("the demo patient sent forms");
    let today = qol_tests::chrono_today_minus(0);
    // A valid request for each operation with a body. The patient in every {study_id} is
    // IVB-001, a demo patient: never the calling patient.
    let body_of = |path: &str| -> Value {
        match path {
            "/api/v1/auth/staff/sign-in" => json!({ "username": "nurse", "password": "demo-nurse-password" }),
            "/api/v1/auth/patient/activate" => json!({ "activation_code": "DEMO-CODE-0002", "pin": "2468" }),
            "/api/v1/auth/patient/sign-in" => json!({ "study_id": "IVB-001", "pin": "2468" }),
            "/api/v1/patients" => json!({ "stratum": "nodal", "language": "en", "enrolled_on": today,
                "identity": { "full_name": "Matrix", "phone": "+86 138 0013 8000", "hospital_number": "M" } }),
            "/api/v1/me/reminders" | "/api/v1/patients/{study_id}/reminders" => {
                json!({ "channel": "auto", "language": "en" })
            }
            // A browser's keys from web-push-native's documentation example.
            "/api/v1/me/push-subscription" => json!({ "endpoint": "https://push.example.org/matrix",
                "keys": { "p256dh": "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY",
                          "auth": "_ordMnz7uTCmrpBTeUV4Bw" } }),
            "/api/v1/me/push-subscription/remove" => json!({ "endpoint": "https://push.example.org/matrix" }),
            "/api/v1/patients/{study_id}/events" => {
                json!({ "event": { "kind": "radiotherapy_start", "date": today } })
            }
            "/api/v1/me/submissions" => json!({ "client_id": uuid::Uuid::new_v4().to_string(),
                "completed_at": chrono::Utc::now().to_rfc3339(), "language": "en",
                "answers": (1..=30).map(|i| json!({ "item": i, "response": 1 })).collect::<Vec<_>>() }),
            "/api/v1/me/help-requests" => json!({ "client_id": uuid::Uuid::new_v4().to_string() }),
            "/api/v1/staff" => {
                json!({ "username": format!("matrix-{}", uuid::Uuid::new_v4()), "role": "nurse" })
            }
            "/api/v1/alerts/{id}/resolve" => json!({ "action": "no_action_needed", "note": "matrix" }),
            "/api/v1/patients/{study_id}/snoozes" => {
                json!({ "subject": "FA", "until": qol_tests::chrono_today_minus(-3), "reason": "matrix" })
            }
            "/api/v1/assessments/{id}/missed-reason" => json!({ "reason": "other", "note": "matrix" }),
            // Refused for what it asks (no such assessment; a version that is not the current
            // one), after the caller's role was checked.
            "/api/v1/patients/{study_id}/submissions" => {
                json!({ "client_id": uuid::Uuid::new_v4().to_string(),
                "assessment_id": 0, "mode": "paper", "completed_on": today, "form_reference": "M-1",
                "language": "en", "answers": [] })
            }
            "/api/v1/submissions/{id}/corrections" => json!({ "version": 999, "answers": [],
                "meaning": "corrected_transcription_error", "reason": "matrix", "password": "matrix" }),
            // A pack with problems: reported on, or refused, and nothing changes.
            "/api/v1/admin/wording/check" | "/api/v1/admin/wording" => {
                json!({ "pack": "{\"format\": \"qol-wording-pack/1\"}", "reason": "matrix" })
            }
            // An amendment that changes nothing: reported on, or refused, and nothing changes.
            "/api/v1/admin/protocol/check" | "/api/v1/admin/protocol" => {
                json!({ "protocol": crate::admin::shipped_protocol().to_string(), "reason": "matrix" })
            }
            _ => json!({}),
        }
    };
    let callers = tokens(&app).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let admitted: Option<Vec<String>> = operation["security"].as_array().map(|requirements| {
                requirements[0]["session"]
                    .as_array()
                    .map(|scopes| scopes.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default()
            });
            let id = if path.contains("missed-reason") {
                missed_id
            } else if path.contains("/snoozes/") {
                snooze_id
            } else if path.contains("/alerts/") {
                alert_id
            } else if path.contains("/corrections") {
                submission_id
            } else {
                0
            };
            let url = path
                .replace("{study_id}", "IVB-001")
                .replace(
                    "{id}",
                    &if path.contains("/instruments/") { "qlq-c30".to_owned() } else { id.to_string() },
                )
                .replace("{name}", "scores_long.csv");
            // Sign-out ends the session it is given: it gets tokens of its own.
            let own = if path == "/api/v1/auth/sign-out" { Some(tokens(&app).await) } else { None };
            for (role, token) in ROLES.iter().zip(own.as_ref().unwrap_or(&callers)) {
                let (status, answer) = if method == "GET" {
                    app.get_as(&url, token.as_deref()).await
                } else {
                    app.post_as(&url, token.as_deref(), &body_of(path)).await
                };
                checked += 1;
                let status = status.as_u16();
                let expected = match &admitted {
                    None => "anyone",
                    Some(_) if token.is_none() => "401",
                    Some(scopes) if scopes.is_empty() || scopes.iter().any(|s| s == role) => "admitted",
                    Some(_) => "403",
                };
                let ok = match expected {
                    "401" => status == 401,
                    "403" => status == 403,
                    // Admitted: anything but a refusal of the caller (a 404 or 409 about the
                    // thing itself is fine).
                    "admitted" => status != 401 && status != 403 && status < 500,
                    _ => status < 500 && status != 403,
                };
                if !ok {
                    failures
                        .push(format!("{method} {url} as {role}: {status}, expected {expected}: {answer}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 30 * 5, "only {checked} requests");
}

on_both_backends!(generated_authorization_matrix, super::generated_authorization_matrix);

/// Security headers on the API, the app's pages and its assets: a CSP that lets WebAssembly run
/// and no inline script, no framing, no sniffing, no referrer.
#[tokio::test]
async fn security_headers_on_pages_assets_and_the_api() {
    let Some(dist) = qol_tests::dist_dir() else {
        qol_tests::skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return;
    };
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist.clone()).await.unwrap();
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    let asset = index.split("href=\"").find_map(|s| s.strip_prefix("/assets/")).unwrap();
    let asset = format!("/assets/{}", asset.split('"').next().unwrap());
    for path in [
        "/",
        "/staff",
        "/staff/patients/IVB-001",
        &asset,
        "/api/v1/study",
        "/api/v1/nothing-here",
        "/healthz",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") || csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-inline'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    // The staff console's page is its own bundle.
    let staff = app.get("/staff/research").await.text().await.unwrap();
    assert!(staff.contains("qol-staff-") && !staff.contains("/assets/qol-app-"), "{staff}");
}
