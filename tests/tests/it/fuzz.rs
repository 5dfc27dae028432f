//! Fuzzing (slow: `QOL_SLOW_TESTS=1`): malformed requests generated for every operation of the
//! OpenAPI document: bodies that are not JSON, fields of the wrong type, out-of-range numbers,
//! strings with NUL and unusual unicode where a code is expected, required fields left out,
//! duplicate item numbers, oversized bodies, odd path and query values. The server must never
//! answer 5xx, and no clinical row may appear or change. On both databases.

use qol_tests::{Backend, TestApp, on_both_backends, slow_tests};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

/// Rows that no refused request may add or change.
const GUARDED: &[&str] = &[
    "SELECT COUNT(*) FROM patients",
    "SELECT COUNT(*) FROM patient_identities",
    "SELECT COUNT(*) FROM submissions",
    "SELECT COUNT(*) FROM item_answers",
    "SELECT COUNT(*) FROM scores",
    "SELECT COUNT(*) FROM treatment_events",
    "SELECT COUNT(*) FROM alerts",
    "SELECT COUNT(*) FROM alert_cards",
    "SELECT COUNT(*) FROM alert_cards WHERE state = 'resolved'",
    "SELECT COUNT(*) FROM alert_cards WHERE state = 'acknowledged'",
    "SELECT COUNT(*) FROM outbox",
    "SELECT COUNT(*) FROM alert_snoozes",
    "SELECT COUNT(*) FROM assessments WHERE missed_reason IS NOT NULL",
    "SELECT COUNT(*) FROM staff_users",
    "SELECT COUNT(*) FROM activation_codes",
    "SELECT COUNT(*) FROM push_subscriptions",
    "SELECT COUNT(*) FROM help_requests",
    "SELECT COUNT(*) FROM staff_password_codes",
    "SELECT COUNT(*) FROM patients WHERE reminder_channel <> 'auto'",
];

async fn guarded_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in GUARDED {
        counts.push(app.count(sql).await);
    }
    counts
}

/// Follows `$ref`s into the document's schemas.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            resolve(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Values of another type than `schema` allows, and values its type allows but its rules do not.
fn wrong_values(document: &Value, schema: &Value) -> Vec<Value> {
    let schema = resolve(document, schema);
    let long = "x".repeat(100_000);
    let kind = schema.get("type").and_then(|t| t.as_str().or_else(|| t.get(0).and_then(Value::as_str)));
    let mut values = match kind {
        Some("string") => vec![json!(12345), json!([]), json!({}), json!(true), json!("a\u{0}b")],
        Some("integer") => vec![
            json!("12"),
            json!(1.5),
            json!(1e300),
            json!(18_446_744_073_709_551_616_f64),
            json!(-9_223_372_036_854_775_808_i64),
            json!([]),
        ],
        Some("number") => vec![json!("12"), json!([]), json!({})],
        Some("boolean") => vec![json!("yes"), json!(1), json!([])],
        Some("array") => vec![json!("x"), json!({}), json!(7)],
        Some("object") => vec![json!("x"), json!([]), json!(7)],
        _ => Vec::new(),
    };
    // A code (an enum) that is not one of the codes.
    if schema.get("enum").is_some() || schema.get("oneOf").is_some() {
        values.extend([json!("\u{0}"), json!("ünïcödé 🙂"), json!(long.clone()), json!("")]);
    }
    values
}

/// Bodies derived from a valid `template` of a request whose schema is `schema`: each required
/// field left out, each field of a wrong type or value, and whole bodies that are not objects.
fn malformed_bodies(document: &Value, schema: &Value, template: &Value) -> Vec<Vec<u8>> {
    let schema = resolve(document, schema);
    let mut bodies: Vec<Vec<u8>> = [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"\"text\"",
        b"1e999",
        b"{\"a\":",
        "{\"\u{0}\": 1}".as_bytes(),
        b"\xff\xfe{}",
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    let Some(fields) = template.as_object() else { return bodies };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in &required {
        let mut without: Map<String, Value> = fields.clone();
        without.remove(*name);
        bodies.push(serde_json::to_vec(&without).unwrap());
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        for wrong in wrong_values(document, property) {
            let mut changed = fields.clone();
            changed.insert(name.clone(), wrong);
            bodies.push(serde_json::to_vec(&changed).unwrap());
        }
    }
    bodies
}

async fn send(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Vec<u8>) -> StatusCode {
    let mut request = match method {
        "GET" => app.client.get(app.url(path)),
        _ => app.client.post(app.url(path)).header("content-type", "application/json").body(body),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status()
}

async fn malformed_requests_never_get_a_5xx_or_store_anything(backend: Backend) {
    if !slow_tests() {
        return;
    }
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let researcher = app.staff_token("researcher").await;
    let (_, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;
    let (_, document) = app.get_json("/api/v1/openapi.json").await;
    let (_, alerts) = app.get_as("/api/v1/alerts", Some(&nurse)).await;
    let alert_id = alerts[0]["id"].as_i64().expect("the demo has open alerts");
    let (_, missed) = app.get_as("/api/v1/assessments/missed", Some(&nurse)).await;
    let missed_id = missed[0]["assessment_id"].as_i64().expect("the demo has a missed form");
    let today = qol_tests::chrono_today_minus(0);

    // A valid request of each operation that takes a body: the fuzzer's starting point, and the
    // caller that may make it.
    let templates: Vec<(&str, Value, Option<&str>)> = vec![
        ("/api/v1/auth/staff/sign-in", json!({ "username": "nurse", "password": "wrong password" }), None),
        (
            "/api/v1/auth/patient/activate",
            json!({ "activation_code": "NOPE-NOPE-NOPE", "pin": "1234" }),
            None,
        ),
        ("/api/v1/auth/patient/sign-in", json!({ "study_id": "IVB-001", "pin": "0000" }), None),
        (
            "/api/v1/auth/staff/set-password",
            json!({ "username": "nurse", "code": "NOPE-NOPE-NOPE", "password": "a long enough password" }),
            None,
        ),
        // As a nurse (refused): an admin's well-formed body would make an account.
        ("/api/v1/staff", json!({ "username": "fuzzed", "role": "nurse" }), Some(&nurse)),
        (
            "/api/v1/patients",
            json!({ "stratum": "nodal", "language": "en", "enrolled_on": today,
                    "identity": { "full_name": "F", "phone": "1", "hospital_number": "H" } }),
            Some(&nurse),
        ),
        (
            "/api/v1/patients/{study_id}/events",
            json!({ "event": { "kind": "radiotherapy_start", "date": today }, "reason": "r" }),
            Some(&nurse),
        ),
        (
            "/api/v1/me/submissions",
            json!({ "client_id": "3f1b2a7d-0000-4000-8000-000000000001", "completed_at": chrono::Utc::now().to_rfc3339(),
                    "language": "en", "answers": (1..=30).map(|i| json!({ "item": i, "response": 1 })).collect::<Vec<_>>() }),
            Some(&patient),
        ),
        (
            "/api/v1/me/help-requests",
            json!({ "client_id": "3f1b2a7d-0000-4000-8000-000000000002" }),
            Some(&patient),
        ),
        ("/api/v1/alerts/{id}/resolve", json!({ "action": "no_action_needed", "note": "n" }), Some(&nurse)),
        // As a researcher (refused after the body is read): a nurse's well-formed body would
        // store a form, or sign a correction.
        (
            "/api/v1/patients/{study_id}/submissions",
            json!({ "client_id": "3f1b2a7d-0000-4000-8000-000000000003", "assessment_id": 1, "mode": "paper",
                    "completed_on": today, "form_reference": "P-1", "language": "en",
                    "answers": (1..=30).map(|i| json!({ "item": i, "response": 1 })).collect::<Vec<_>>() }),
            Some(&researcher),
        ),
        (
            "/api/v1/submissions/{id}/corrections",
            json!({ "version": 1, "answers": (1..=30).map(|i| json!({ "item": i, "response": 2 })).collect::<Vec<_>>(),
                    "meaning": "corrected_transcription_error", "reason": "r", "password": "demo-nurse-password" }),
            Some(&researcher),
        ),
        (
            "/api/v1/patients/{study_id}/snoozes",
            json!({ "subject": "FA", "until": qol_tests::chrono_today_minus(-3), "reason": "r" }),
            Some(&nurse),
        ),
        ("/api/v1/assessments/{id}/missed-reason", json!({ "reason": "other", "note": "n" }), Some(&nurse)),
        // As a nurse (refused after the body is read): an admin's check answers any pack or
        // protocol with a report, and a well-formed amendment would apply.
        ("/api/v1/admin/wording/check", json!({ "pack": "{}", "reason": "r" }), Some(&nurse)),
        ("/api/v1/admin/wording", json!({ "pack": "{}", "reason": "r" }), Some(&nurse)),
        (
            "/api/v1/admin/protocol/check",
            json!({ "protocol": "{}", "reason": "r", "based_on": 1 }),
            Some(&nurse),
        ),
        ("/api/v1/admin/protocol", json!({ "protocol": "{}", "reason": "r", "based_on": 1 }), Some(&nurse)),
        ("/api/v1/me/reminders", json!({ "channel": "sms", "language": "en" }), Some(&patient)),
        (
            "/api/v1/patients/{study_id}/reminders",
            json!({ "channel": "sms", "language": "en", "email": "a@example.org" }),
            Some(&nurse),
        ),
        (
            "/api/v1/me/push-subscription",
            json!({ "endpoint": "https://push.example.org/fuzz",
                    "keys": { "p256dh": "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY",
                              "auth": "_ordMnz7uTCmrpBTeUV4Bw" } }),
            Some(&patient),
        ),
        (
            "/api/v1/me/push-subscription/remove",
            json!({ "endpoint": "https://push.example.org/fuzz" }),
            Some(&patient),
        ),
    ];
    // Operations whose body is ignored (nothing to fuzz in it): their paths are fuzzed below.
    let bodiless = [
        "/api/v1/auth/sign-out",
        "/api/v1/patients/{study_id}/activation-code",
        "/api/v1/alerts/{id}/acknowledge",
        "/api/v1/patients/{study_id}/snoozes/{id}/end",
        "/api/v1/patients/{study_id}/unlock",
        "/api/v1/staff/{username}/unlock",
        "/api/v1/staff/{username}/disable",
        "/api/v1/staff/{username}/enable",
        "/api/v1/staff/{username}/sign-out-everywhere",
        "/api/v1/staff/{username}/password-code",
    ];

    let before = guarded_counts(&app).await;
    let mut failures = Vec::new();
    let mut sent = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            // Odd path values, for every caller that might reach the route.
            if path.contains('{') {
                for odd in
                    ["0", "-1", "99999999999999999999", "%00", "..%2F..", "%F0%9F%99%82", &"9".repeat(5000)]
                {
                    let url = path
                        .replace("{study_id}", odd)
                        .replace("{id}", odd)
                        .replace("{name}", odd)
                        .replace("{username}", odd);
                    for token in [Some(nurse.as_str()), Some(researcher.as_str()), Some(patient.as_str())] {
                        let status = send(&app, &method, &url, token, b"{}".to_vec()).await;
                        sent += 1;
                        if status.is_server_error() {
                            failures.push(format!("{method} {url}: {status}"));
                        }
                    }
                }
            }
            if bodiless.contains(&path.as_str()) || method == "GET" {
                continue;
            }
            let (_, template, token) = templates
                .iter()
                .find(|(p, _, _)| p == path)
                .unwrap_or_else(|| panic!("POST {path} has no fuzzing template: add one"));
            let schema = operation["requestBody"]["content"]["application/json"]["schema"].clone();
            let mut bodies = malformed_bodies(&document, &schema, template);
            if path == "/api/v1/me/submissions" {
                let mut twice = template.clone();
                twice["answers"][1]["item"] = json!(1);
                bodies.push(serde_json::to_vec(&twice).unwrap());
                let mut out_of_range = template.clone();
                out_of_range["answers"][0]["response"] = json!(9);
                bodies.push(serde_json::to_vec(&out_of_range).unwrap());
                let mut unknown_item = template.clone();
                unknown_item["answers"][0]["item"] = json!(999);
                bodies.push(serde_json::to_vec(&unknown_item).unwrap());
            }
            bodies.push(vec![b' '; 300 * 1024]);
            let url = path.replace("{study_id}", "IVB-001").replace(
                "{id}",
                &(if path.contains("missed-reason") { missed_id } else { alert_id }).to_string(),
            );
            for body in bodies {
                let preview = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
                let status = send(&app, &method, &url, *token, body).await;
                sent += 1;
                if status.is_server_error() {
                    failures.push(format!("{method} {url} {preview}: {status}"));
                } else if status.is_success() {
                    failures.push(format!("{method} {url} {preview}: accepted ({status})"));
                }
            }
        }
    }
    // Odd query values.
    for url in [
        "/api/v1/alerts?state=%00",
        "/api/v1/alerts?tier=purple&state=new&state=old",
        "/api/v1/research/analysis?responder_points=NaN",
        "/api/v1/research/analysis?responder_points=1e999",
        "/api/v1/research/analysis?thresholds=1e999",
        "/api/v1/research/analysis?thresholds=%00&responder_points=3",
        "/api/v1/research/ttd?scale=%F0%9F%99%82&definition=first",
        "/api/v1/research/ttd?threshold=-0&death=%00",
        "/api/v1/research/ttd.svg?threshold=NaN",
        "/api/v1/research/means.svg?scale=..%2F..",
        "/api/v1/research/report.html?thresholds=giesinger-2020",
        "/api/v1/instruments/qlq-c30?lang=%F0%9F%99%82",
        "/api/v1/assessments/missed?all=maybe",
    ] {
        for token in [&nurse, &researcher] {
            let status = send(&app, "GET", url, Some(token), Vec::new()).await;
            sent += 1;
            if status.is_server_error() {
                failures.push(format!("GET {url}: {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {sent} requests:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(guarded_counts(&app).await, before, "a refused request changed stored data");
    assert!(sent > 400, "only {sent} requests were generated");
    eprintln!("fuzz ({backend:?}): {sent} malformed requests, no 5xx, nothing stored");
}

on_both_backends!(
    malformed_requests_never_get_a_5xx_or_store_anything,
    super::malformed_requests_never_get_a_5xx_or_store_anything
);
