//! The nurse worklist through the API: a patient's signals gather on at most one open symptoms
//! card and one open call-request card; cards are ordered, escalate, keep the rule that set each
//! signal's tier beside the latest value, honour snoozes up to their tier, and are acknowledged
//! and resolved, all audited; on both databases.

use std::collections::BTreeSet;

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

/// A new random (version 4) client id.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A new activated patient with a well report (an unscheduled C30 at "not at all").
async fn patient_with_a_well_report(app: &TestApp) -> (String, String, String) {
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;
    let (status, _) =
        app.post_as("/api/v1/me/submissions", Some(&patient), &report(&new_id(), c30(1, &[]), false)).await;
    assert_eq!(status, StatusCode::CREATED);
    (nurse, patient, study_id)
}

/// Sends an unscheduled report; returns its submission id.
async fn send(app: &TestApp, patient: &str, answers: Value, call_me: bool) -> i64 {
    let (status, receipt) =
        app.post_as("/api/v1/me/submissions", Some(patient), &report(&new_id(), answers, call_me)).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    receipt["submission_id"].as_i64().unwrap()
}

/// The patient's cards on `GET /api/v1/alerts{query}`, in the worklist's order.
async fn cards_of(app: &TestApp, nurse: &str, study_id: &str, query: &str) -> Vec<Value> {
    let (status, body) = app.get_as(&format!("/api/v1/alerts{query}"), Some(nurse)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().iter().filter(|card| card["study_id"] == study_id).cloned().collect()
}

/// The patient's one open card of `kind`.
async fn open_card(app: &TestApp, nurse: &str, study_id: &str, kind: &str) -> Value {
    let cards = cards_of(app, nurse, study_id, &format!("?kind={kind}")).await;
    assert_eq!(cards.len(), 1, "one open {kind} card: {cards:#?}");
    cards.into_iter().next().unwrap()
}

/// Every (subject, tier) on a card.
fn signals_of(card: &Value) -> BTreeSet<(String, String)> {
    card["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["subject"].as_str().unwrap().to_owned(), s["tier"].as_str().unwrap().to_owned()))
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// The card's signal for `subject`.
fn signal<'a>(card: &'a Value, subject: &str) -> &'a Value {
    card["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == subject)
        .unwrap_or_else(|| panic!("no {subject} signal on {card:#}"))
}

/// Whether a JSON number is `expected` to within rounding (scores are exact thirds and ninths).
fn about(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 0.01)
}

async fn one_worrying_form_makes_one_symptoms_card_and_one_call_request_that_a_nurse_works(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    assert!(cards_of(&app, &nurse, &study_id, "").await.is_empty(), "a well report raises nothing");

    // Pain "very much" on both pain items; fatigue, nausea, dyspnoea, insomnia and appetite loss
    // "quite a bit" (all "not at all" before); and a request to be called.
    let worrying =
        c30(1, &[(9, 4), (19, 4), (10, 3), (12, 3), (18, 3), (14, 3), (15, 3), (8, 3), (11, 3), (13, 3)]);
    let submission = send(&app, &patient, worrying, true).await;
    let cards = cards_of(&app, &nurse, &study_id, "").await;
    assert_eq!(cards.len(), 2, "one symptoms card and one call request, not one per scale: {cards:#?}");
    let (call, symptoms) = (&cards[0], &cards[1]);
    assert_eq!(call["kind"], "call_request", "the call request comes first");
    assert_eq!(symptoms["kind"], "symptoms");

    assert_eq!(signals_of(call), set(&[("CALL", "red")]));
    assert_eq!(signal(call, "CALL")["rule"], "call_me");
    assert!(signal(call, "CALL")["source"].as_str().unwrap().starts_with("the patient asked to be called"));
    assert_eq!(call["tier"], "red");
    let waiting = call["minutes_waiting"].as_i64().expect("an open call request says how long she waits");
    assert!((0..=1).contains(&waiting), "{waiting}");
    assert!(symptoms["minutes_waiting"].is_null(), "only call requests wait for a call");

    assert_eq!(symptoms["tier"], "red");
    assert_eq!(
        signals_of(symptoms),
        set(&[
            ("AP", "red"),
            ("DY", "red"),
            ("FA", "red"),
            ("ITEM19", "red"),
            ("ITEM9", "red"),
            ("NV", "red"),
            ("PA", "red"),
            ("SL", "red"),
        ])
    );
    let pain = signal(symptoms, "PA");
    assert_eq!(pain["rule"], "worse_than_previous");
    assert_eq!((pain["value"].as_f64(), pain["previous"].as_f64()), (Some(100.0), Some(0.0)));
    assert!(pain["baseline"].is_null(), "no baseline assessment yet");
    assert!(pain["source"].as_str().unwrap().starts_with("Osoba"));
    assert_eq!(
        (pain["latest_value"].as_f64(), pain["latest_submission_id"].as_i64()),
        (Some(100.0), Some(submission))
    );
    let item9 = signal(symptoms, "ITEM9");
    assert_eq!((item9["rule"].as_str(), item9["value"].as_f64()), (Some("very_much_on_item"), Some(4.0)));
    assert!(about(&signal(symptoms, "FA")["value"], 66.67));
    assert!(about(&signal(symptoms, "DY")["value"], 66.67));
    for card in [call, symptoms] {
        assert_eq!(card["state"], "new");
        assert_eq!(card["escalated"], false);
        assert_eq!(card["past_sla"], false);
        assert_eq!(card["patient_name"], "Test Person", "nurses see who it is");
        assert_eq!(card["phone"], "+00 555 0100", "and the number to call");
        assert_eq!(card["opened_at"], card["sla_from"]);
        assert_eq!(card["latest_submission_id"].as_i64(), Some(submission));
        assert!(card["acknowledged_at"].is_null() && card["resolved_at"].is_null());
        assert_eq!(card["notifications"], json!([]), "no e-mail is configured");
        for signal in card["signals"].as_array().unwrap() {
            assert_eq!(signal["submission_id"].as_i64(), Some(submission), "{signal}");
        }
    }

    let id = call["id"].as_i64().unwrap();
    let (status, acknowledged) =
        app.post_as(&format!("/api/v1/alerts/{id}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{acknowledged}");
    assert_eq!(acknowledged["id"].as_i64(), Some(id));
    assert_eq!(acknowledged["kind"], "call_request");
    assert_eq!(acknowledged["state"], "acknowledged");
    assert_eq!(acknowledged["acknowledged_by"], "nurse");
    assert_eq!(acknowledged["minutes_to_acknowledge"], 0);
    assert_eq!(signals_of(&acknowledged), set(&[("CALL", "red")]), "the card comes back whole");
    let (status, body) =
        app.post_as(&format!("/api/v1/alerts/{id}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app.post_as("/api/v1/alerts/999999/acknowledge", Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let symptoms_id = symptoms["id"].as_i64().unwrap();
    assert_eq!(
        open_card(&app, &nurse, &study_id, "symptoms").await["state"],
        "new",
        "acknowledging one card leaves the other as it was"
    );

    let (status, body) = app
        .post_as(
            &format!("/api/v1/alerts/{id}/resolve"),
            Some(&nurse),
            &json!({ "action": "shout", "note": "" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let resolution =
        json!({ "action": "called_patient", "note": "pain since yesterday; analgesia adjusted" });
    let (status, resolved) =
        app.post_as(&format!("/api/v1/alerts/{id}/resolve"), Some(&nurse), &resolution).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(
        (resolved["state"].as_str(), resolved["resolution_action"].as_str()),
        (Some("resolved"), Some("called_patient"))
    );
    assert_eq!(resolved["resolved_by"], "nurse");
    assert_eq!(resolved["resolution_note"], "pain since yesterday; analgesia adjusted");
    assert_eq!(resolved["acknowledged_at"], acknowledged["acknowledged_at"], "the acknowledgement stays");
    assert!(resolved["minutes_waiting"].is_null(), "a resolved call request no longer waits");
    let (status, _) = app.post_as(&format!("/api/v1/alerts/{id}/resolve"), Some(&nurse), &resolution).await;
    assert_eq!(status, StatusCode::CONFLICT, "resolved once");
    let (status, _) =
        app.post_as(&format!("/api/v1/alerts/{id}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a resolved card is not new");

    let open: Vec<i64> =
        cards_of(&app, &nurse, &study_id, "").await.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(open, [symptoms_id], "resolved leaves the worklist; the symptoms card stays");
    let past = cards_of(&app, &nurse, &study_id, "?state=resolved").await;
    assert_eq!(past.iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>(), [id]);
    assert!(cards_of(&app, &nurse, &study_id, "?state=acknowledged").await.is_empty());
    assert_eq!(cards_of(&app, &nurse, &study_id, "?state=new").await.len(), 1);
    assert_eq!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'alert_card' AND entity_id = '{id}' \
             AND action IN ('alert.acknowledge', 'alert.resolve')"
        ))
        .await,
        2
    );
    assert_eq!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'alert_card' AND entity_id = '{symptoms_id}'"
        ))
        .await,
        0,
        "nothing was done to the symptoms card"
    );

    for (query, error) in [
        ("tier=purple", "tier \"purple\" is not one of: red, amber, info"),
        ("state=old", "state \"old\" is not one of: new, acknowledged, resolved"),
        ("kind=sms", "kind \"sms\" is not one of: call_request, symptoms"),
    ] {
        let (status, body) = app.get_as(&format!("/api/v1/alerts?{query}"), Some(&nurse)).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{query}");
    }
    for (who, token) in [("researcher", app.staff_token("researcher").await), ("patient", patient)] {
        for path in [
            "/api/v1/alerts".to_owned(),
            format!("/api/v1/patients/{study_id}/alerts"),
            "/api/v1/notifications".to_owned(),
        ] {
            let (status, _) = app.get_as(&path, Some(&token)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {path}");
        }
        for action in ["acknowledge", "resolve"] {
            let (status, _) = app
                .post_as(&format!("/api/v1/alerts/{symptoms_id}/{action}"), Some(&token), &resolution)
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {action}");
        }
    }
    assert_eq!(
        open_card(&app, &nurse, &study_id, "symptoms").await["state"],
        "new",
        "refused means unchanged"
    );
}
on_both_backends!(
    one_worrying_form_makes_one_symptoms_card_and_one_call_request_that_a_nurse_works,
    super::one_worrying_form_makes_one_symptoms_card_and_one_call_request_that_a_nurse_works
);

async fn the_worklist_puts_call_requests_first_then_red_amber_info_oldest_first(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    // Raised in this order: amber (A), red (B), amber (C), a call request alone (D).
    let (nurse, a, a_id) = patient_with_a_well_report(&app).await;
    let (_, b, b_id) = patient_with_a_well_report(&app).await;
    let (_, c, c_id) = patient_with_a_well_report(&app).await;
    let (_, d, d_id) = patient_with_a_well_report(&app).await;
    // Fatigue one item one step worse: 11.1 points, amber.
    send(&app, &a, c30(1, &[(10, 2)]), false).await;
    // Fatigue "quite a bit": 66.7 points worse, red.
    send(&app, &b, c30(1, &[(10, 3), (12, 3), (18, 3)]), false).await;
    send(&app, &c, c30(1, &[(12, 2)]), false).await;
    send(&app, &d, c30(1, &[]), true).await;

    let amber = cards_of(&app, &nurse, &a_id, "").await;
    assert_eq!(amber.len(), 1, "{amber:#?}");
    assert_eq!((amber[0]["kind"].as_str(), amber[0]["tier"].as_str()), (Some("symptoms"), Some("amber")));
    assert_eq!(signals_of(&amber[0]), set(&[("FA", "amber")]));
    let fatigue = signal(&amber[0], "FA");
    assert_eq!(fatigue["rule"], "worse_than_previous");
    assert!(about(&fatigue["value"], 11.11) && about(&fatigue["previous"], 0.0), "{fatigue}");
    let call = cards_of(&app, &nurse, &d_id, "").await;
    assert_eq!(call.len(), 1, "a call request with well answers makes no symptoms card: {call:#?}");
    assert_eq!(call[0]["kind"], "call_request");

    let (status, all) = app.get_as("/api/v1/alerts", Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    let all = all.as_array().unwrap();
    let mine: Vec<(&str, &str, &str)> = all
        .iter()
        .filter(|card| [&a_id, &b_id, &c_id, &d_id].iter().any(|id| card["study_id"] == id.as_str()))
        .map(|card| {
            (
                card["study_id"].as_str().unwrap(),
                card["kind"].as_str().unwrap(),
                card["tier"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        mine,
        [
            (d_id.as_str(), "call_request", "red"),
            (b_id.as_str(), "symptoms", "red"),
            (a_id.as_str(), "symptoms", "amber"),
            (c_id.as_str(), "symptoms", "amber"),
        ],
        "the call request first although it is the newest; then red; then amber, oldest first"
    );
    // The whole worklist (the demo's cards too) keeps that order.
    let rank = |card: &Value| {
        let call = card["kind"] == "call_request";
        let tier = match card["tier"].as_str().unwrap() {
            "red" => 0,
            "amber" => 1,
            _ => 2,
        };
        (!call, tier, card["sla_from"].as_str().unwrap().to_owned())
    };
    for pair in all.windows(2) {
        assert!(rank(&pair[0]) <= rank(&pair[1]), "out of order: {:#} before {:#}", pair[0], pair[1]);
    }
    assert!(all.iter().all(|card| card["state"] != "resolved"), "open cards by default");

    // Filters.
    let ambers: Vec<String> = cards_of(&app, &nurse, &a_id, "?tier=amber")
        .await
        .into_iter()
        .chain(cards_of(&app, &nurse, &c_id, "?tier=amber").await)
        .chain(cards_of(&app, &nurse, &b_id, "?tier=amber").await)
        .map(|card| card["study_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ambers, [a_id.clone(), c_id.clone()]);
    let (_, calls) = app.get_as("/api/v1/alerts?kind=call_request", Some(&nurse)).await;
    assert!(calls.as_array().unwrap().iter().all(|card| card["kind"] == "call_request"));
    assert!(calls.as_array().unwrap().iter().any(|card| card["study_id"] == d_id.as_str()));
    let (_, symptoms) = app.get_as("/api/v1/alerts?kind=symptoms&tier=red", Some(&nurse)).await;
    let symptoms = symptoms.as_array().unwrap();
    assert!(symptoms.iter().all(|card| card["kind"] == "symptoms" && card["tier"] == "red"));
    assert!(symptoms.iter().any(|card| card["study_id"] == b_id.as_str()));
    assert!(symptoms.iter().all(|card| card["study_id"] != d_id.as_str()));
    let (status, only_b) = app.get_as(&format!("/api/v1/alerts?patient={b_id}"), Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    let only_b: Vec<&str> =
        only_b.as_array().unwrap().iter().map(|c| c["study_id"].as_str().unwrap()).collect();
    assert_eq!(only_b, [b_id.as_str()]);
}
on_both_backends!(
    the_worklist_puts_call_requests_first_then_red_amber_info_oldest_first,
    super::the_worklist_puts_call_requests_first_then_red_amber_info_oldest_first
);

async fn one_step_on_a_single_item_scale_is_amber_and_financial_difficulties_are_info(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    // Dyspnoea 8, insomnia 11, appetite loss 13, constipation 16, diarrhoea 17 and financial
    // difficulties 28: "not at all" → "a little", one response step (33.3 points).
    send(&app, &patient, c30(1, &[(8, 2), (11, 2), (13, 2), (16, 2), (17, 2), (28, 2)]), false).await;
    let cards = cards_of(&app, &nurse, &study_id, "").await;
    assert_eq!(cards.len(), 1, "{cards:#?}");
    let card = &cards[0];
    assert_eq!((card["kind"].as_str(), card["tier"].as_str()), (Some("symptoms"), Some("amber")), "not red");
    assert_eq!(
        signals_of(card),
        set(&[
            ("AP", "amber"),
            ("CO", "amber"),
            ("DI", "amber"),
            ("DY", "amber"),
            ("SL", "amber"),
            ("FI", "info")
        ])
    );
    for code in ["DY", "SL", "AP", "CO", "DI"] {
        let step = signal(card, code);
        assert_eq!(step["rule"], "worse_than_previous", "{code}");
        assert!(about(&step["value"], 33.33) && about(&step["previous"], 0.0), "{code}: {step}");
        assert!(
            step["source"].as_str().unwrap().starts_with("qol rule: on a single-item scale"),
            "{code}: {step}"
        );
    }
    let financial = signal(card, "FI");
    assert!(about(&financial["value"], 33.33));
    assert!(
        financial["source"].as_str().unwrap().starts_with("qol rule: financial difficulties"),
        "{financial}"
    );
}
on_both_backends!(
    one_step_on_a_single_item_scale_is_amber_and_financial_difficulties_are_info,
    super::one_step_on_a_single_item_scale_is_amber_and_financial_difficulties_are_info
);

/// C30 items at "not at all" (global 6) and CX24 items at "not at all" (item 49 "a little", so
/// items 50–54 apply), with overrides.
fn c30_and_cx24(overrides: &[(i64, i64)]) -> Value {
    Value::Array(
        (1..=54)
            .map(|item| {
                let code = overrides.iter().find(|(i, _)| *i == item).map_or(
                    match item {
                        29 | 30 => 6,
                        49 => 2,
                        _ => 1,
                    },
                    |(_, v)| *v,
                );
                json!({ "item": item, "response": code })
            })
            .collect(),
    )
}

async fn send_scheduled(app: &TestApp, patient: &str, key: &str, answers: Value) -> i64 {
    let assessment = app.my_assessment(patient, key).await;
    let body = json!({
        "client_id": new_id(), "assessment_id": assessment["id"], "completed_at": chrono::Utc::now().to_rfc3339(),
        "language": "en", "answers": answers, "call_me": false,
    });
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(patient), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{key}: {receipt}");
    receipt["submission_id"].as_i64().unwrap()
}

async fn cx24_neuropathy_and_lymphoedema_worse_than_baseline_raise_signals(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 3).await;
    let patient = app.activate(&code, "1357").await;
    send_scheduled(&app, &patient, "baseline", c30_and_cx24(&[])).await;
    assert!(cards_of(&app, &nurse, &study_id, "").await.is_empty(), "a well baseline raises nothing");
    for event in [json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), json!({ "kind": "end_of_treatment" })]
    {
        let (status, body) = app.record_event(&nurse, &study_id, event, 0, None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // Peripheral neuropathy (item 40) "not at all" → "quite a bit": two steps; lymphoedema (38)
    // → "a little": one step.
    let end = send_scheduled(&app, &patient, "end-of-treatment", c30_and_cx24(&[(40, 3), (38, 2)])).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(signals_of(&card), set(&[("CXLY", "amber"), ("CXPN", "red")]), "{card:#}");
    assert_eq!(card["tier"], "red");
    let neuropathy = signal(&card, "CXPN");
    assert_eq!(neuropathy["rule"], "worse_than_baseline");
    assert!(about(&neuropathy["value"], 66.67) && about(&neuropathy["baseline"], 0.0), "{neuropathy}");
    assert_eq!(neuropathy["submission_id"].as_i64(), Some(end));
    let lymphoedema = signal(&card, "CXLY");
    assert_eq!(lymphoedema["rule"], "worse_than_baseline");
    assert!(about(&lymphoedema["value"], 33.33) && about(&lymphoedema["baseline"], 0.0), "{lymphoedema}");
    assert!(lymphoedema["source"].as_str().unwrap().starts_with("qol rule: on a single-item scale"));
    assert!(cards_of(&app, &nurse, &study_id, "?kind=call_request").await.is_empty());
}
on_both_backends!(
    cx24_neuropathy_and_lymphoedema_worse_than_baseline_raise_signals,
    super::cx24_neuropathy_and_lymphoedema_worse_than_baseline_raise_signals
);

async fn a_higher_tier_reopens_an_acknowledged_card_as_escalated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    // Fatigue 0 → 11.1: amber.
    send(&app, &patient, c30(1, &[(10, 2)]), false).await;
    let first = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!((first["tier"].as_str(), first["state"].as_str()), (Some("amber"), Some("new")));
    let id = first["id"].as_i64().unwrap();
    let (status, acknowledged) =
        app.post_as(&format!("/api/v1/alerts/{id}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // 11.1 → 22.2: amber again. It joins quietly: still acknowledged.
    let second = send(&app, &patient, c30(1, &[(10, 2), (12, 2)]), false).await;
    let quiet = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(quiet["id"].as_i64(), Some(id));
    assert_eq!(
        (quiet["tier"].as_str(), quiet["state"].as_str(), quiet["escalated"].as_bool()),
        (Some("amber"), Some("acknowledged"), Some(false))
    );
    assert_eq!(quiet["sla_from"], first["sla_from"]);
    assert_eq!(quiet["latest_submission_id"].as_i64(), Some(second));
    let fatigue = signal(&quiet, "FA");
    assert!(about(&fatigue["value"], 22.22) && about(&fatigue["previous"], 11.11), "{fatigue}");
    assert_eq!(fatigue["submission_id"].as_i64(), Some(second), "the same tier takes the newer values");

    // 22.2 → 66.7: red. The same card is new again, escalated, with its clock restarted.
    let third = send(&app, &patient, c30(1, &[(10, 4), (12, 4)]), false).await;
    let cards = cards_of(&app, &nurse, &study_id, "").await;
    assert_eq!(cards.len(), 1, "{cards:#?}");
    let escalated = &cards[0];
    assert_eq!(escalated["id"].as_i64(), Some(id), "the same card");
    assert_eq!(
        (escalated["tier"].as_str(), escalated["state"].as_str(), escalated["escalated"].as_bool()),
        (Some("red"), Some("new"), Some(true))
    );
    assert_eq!(escalated["opened_at"], first["opened_at"]);
    assert!(
        escalated["sla_from"].as_str().unwrap() > acknowledged["acknowledged_at"].as_str().unwrap()
            && escalated["sla_from"].as_str().unwrap() > escalated["opened_at"].as_str().unwrap(),
        "the service-level clock restarted: {escalated:#}"
    );
    assert!(escalated["acknowledged_at"].is_null() && escalated["acknowledged_by"].is_null());
    assert_eq!(escalated["latest_submission_id"].as_i64(), Some(third));
    let fatigue = signal(escalated, "FA");
    assert_eq!(
        (fatigue["tier"].as_str(), fatigue["rule"].as_str()),
        (Some("red"), Some("worse_than_previous"))
    );
    assert!(about(&fatigue["value"], 66.67) && about(&fatigue["previous"], 22.22), "{fatigue}");
    assert_eq!(fatigue["submission_id"].as_i64(), Some(third));
    assert!(
        cards_of(&app, &nurse, &study_id, "?state=new").await.iter().any(|c| c["id"].as_i64() == Some(id)),
        "listed among the new cards again"
    );
    // It can be acknowledged again, timed from the escalation.
    let (status, again) =
        app.post_as(&format!("/api/v1/alerts/{id}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["state"].as_str(), again["minutes_to_acknowledge"].as_i64()),
        (Some("acknowledged"), Some(0))
    );
    assert_eq!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'alert_card' AND entity_id = '{id}' AND action = 'alert.acknowledge'"
        ))
        .await,
        2
    );
}
on_both_backends!(
    a_higher_tier_reopens_an_acknowledged_card_as_escalated,
    super::a_higher_tier_reopens_an_acknowledged_card_as_escalated
);

/// Red news never hides behind an acknowledgement: a red subject the card did not hold as red,
/// or a new call request, re-opens the acknowledged card; and a nurse cannot acknowledge or
/// resolve a card that changed since she looked at it.
async fn red_news_reopens_a_red_card_and_a_changed_card_is_not_closed_unseen(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    // Pain "very much": red (ITEM9, PA). Acknowledged.
    send(&app, &patient, c30(1, &[(9, 4)]), true).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    let id = card["id"].as_i64().unwrap();
    let call = open_card(&app, &nurse, &study_id, "call_request").await;
    let call_id = call["id"].as_i64().unwrap();
    for (card_id, seen) in [(id, &card["updated_at"]), (call_id, &call["updated_at"])] {
        let (status, body) = app
            .post_as(
                &format!("/api/v1/alerts/{card_id}/acknowledge"),
                Some(&nurse),
                &json!({ "seen_updated_at": seen }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Breathlessness "very much" (DY 100, red): a red subject she has not seen. The red card is
    // new again, escalated; the second call request re-opens the call card too.
    send(&app, &patient, c30(1, &[(9, 4), (8, 4)]), true).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(
        (card["id"].as_i64(), card["state"].as_str(), card["escalated"].as_bool(), card["tier"].as_str()),
        (Some(id), Some("new"), Some(true), Some("red"))
    );
    assert_eq!(signal(&card, "DY")["tier"], "red");
    let call = open_card(&app, &nurse, &study_id, "call_request").await;
    assert_eq!(
        (call["id"].as_i64(), call["state"].as_str(), call["escalated"].as_bool()),
        (Some(call_id), Some("new"), Some(true))
    );
    assert!(
        call["sla_from"].as_str() > call["opened_at"].as_str(),
        "waiting since the new request: {call:#}"
    );

    // The pain again, red as before: nothing new for an acknowledged card.
    let (status, _) = app
        .post_as(
            &format!("/api/v1/alerts/{id}/acknowledge"),
            Some(&nurse),
            &json!({ "seen_updated_at": card["updated_at"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    send(&app, &patient, c30(1, &[(9, 4), (8, 4)]), false).await;
    let quiet = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!((quiet["state"].as_str(), quiet["escalated"].as_bool()), (Some("acknowledged"), Some(true)));

    // She resolves what she saw (`seen`), but a report joined the card meanwhile: refused, and
    // the card stays open with the new report on it.
    let seen = quiet["updated_at"].clone();
    send(&app, &patient, c30(1, &[(9, 4), (8, 4), (10, 4), (12, 4), (18, 4)]), false).await;
    let (status, body) = app
        .post_as(
            &format!("/api/v1/alerts/{id}/resolve"),
            Some(&nurse),
            &json!({ "action": "called_patient", "note": "", "seen_updated_at": seen }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("changed since you opened it"), "{body}");
    let (status, _) = app
        .post_as(
            &format!("/api/v1/alerts/{id}/acknowledge"),
            Some(&nurse),
            &json!({ "seen_updated_at": seen }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let now = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(signal(&now, "FA")["tier"], "red", "the unseen fatigue is on the open card");
    // Without `seen_updated_at` (an API client) the action is taken as before.
    let (status, body) = app
        .post_as(
            &format!("/api/v1/alerts/{id}/resolve"),
            Some(&nurse),
            &json!({ "action": "called_patient" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
on_both_backends!(
    red_news_reopens_a_red_card_and_a_changed_card_is_not_closed_unseen,
    super::red_news_reopens_a_red_card_and_a_changed_card_is_not_closed_unseen
);

async fn a_signal_keeps_the_rule_that_set_its_tier_beside_the_latest_value(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    let severe = send(&app, &patient, c30(1, &[(9, 4), (19, 4)]), false).await;
    // Pain back to "not at all": nothing new is raised, the card shows the latest value.
    let well = send(&app, &patient, c30(1, &[]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(card["tier"], "red", "a card's tier never falls while it is open");
    let pain = signal(&card, "PA");
    assert_eq!((pain["tier"].as_str(), pain["rule"].as_str()), (Some("red"), Some("worse_than_previous")));
    assert_eq!((pain["value"].as_f64(), pain["previous"].as_f64()), (Some(100.0), Some(0.0)));
    assert_eq!(pain["submission_id"].as_i64(), Some(severe));
    assert_eq!(pain["latest_value"].as_f64(), Some(0.0));
    assert_eq!(pain["latest_submission_id"].as_i64(), Some(well));
    assert!(pain["latest_at"].as_str().unwrap() >= pain["raised_at"].as_str().unwrap());
    assert_eq!(card["latest_submission_id"].as_i64(), Some(severe), "the well report joined nothing");

    // Pain "a little" on one item: PA 16.7, an amber worsening; the red rule stays.
    let little = send(&app, &patient, c30(1, &[(9, 2)]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    let pain = signal(&card, "PA");
    assert_eq!((pain["tier"].as_str(), pain["rule"].as_str()), (Some("red"), Some("worse_than_previous")));
    assert_eq!((pain["value"].as_f64(), pain["submission_id"].as_i64()), (Some(100.0), Some(severe)));
    assert!(about(&pain["latest_value"], 16.67), "{pain}");
    assert_eq!(pain["latest_submission_id"].as_i64(), Some(little));
    assert_eq!(card["tier"], "red");
    assert_eq!(card["latest_submission_id"].as_i64(), Some(little), "the amber signal joined the card");
}
on_both_backends!(
    a_signal_keeps_the_rule_that_set_its_tier_beside_the_latest_value,
    super::a_signal_keeps_the_rule_that_set_its_tier_beside_the_latest_value
);

/// A report that worsens several subjects already on the open card replaces each of their
/// signals (one statement for all of them): tier, rule, value and report, each its own; a
/// subject the report leaves lower keeps what it showed.
async fn one_report_replaces_every_signal_it_worsens_each_with_its_own_values(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    // Pain, fatigue and nausea "quite a bit" on one item each.
    let first = send(&app, &patient, c30(1, &[(9, 3), (10, 3), (14, 3)]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    for subject in ["PA", "FA", "NV"] {
        assert_eq!(signal(&card, subject)["submission_id"].as_i64(), Some(first), "{subject}: {card}");
    }
    let before = |subject: &str| signal(&card, subject).clone();
    let nausea_before = before("NV");
    // Pain "very much" (PA 100), fatigue "quite a bit" on all three items (FA 66.7), nausea
    // back to "a little".
    let second =
        send(&app, &patient, c30(1, &[(9, 4), (19, 4), (10, 3), (12, 3), (18, 3), (14, 2)]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    for (subject, value) in [("PA", 100.0), ("FA", 66.67)] {
        let now = signal(&card, subject);
        assert_eq!(now["tier"], "red", "{subject}: {now}");
        assert_eq!(now["submission_id"].as_i64(), Some(second), "{subject}: {now}");
        assert!(about(&now["value"], value), "{subject}: {now}");
        assert_eq!(now["latest_submission_id"].as_i64(), Some(second), "{subject}: {now}");
        assert!(about(&now["latest_value"], value), "a replaced signal's latest is the report's: {now}");
    }
    let nausea = signal(&card, "NV");
    for field in ["tier", "rule", "value", "submission_id", "baseline", "previous"] {
        assert_eq!(nausea[field], nausea_before[field], "NV {field} stays: {nausea}");
    }
    assert!(about(&nausea["latest_value"], 16.67), "{nausea}");
}
on_both_backends!(
    one_report_replaces_every_signal_it_worsens_each_with_its_own_values,
    super::one_report_replaces_every_signal_it_worsens_each_with_its_own_values
);

async fn a_snooze_holds_signals_up_to_its_tier_and_never_a_call_request(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    let snoozes = format!("/api/v1/patients/{study_id}/snoozes");
    let until = qol_tests::chrono_today_minus(-7);
    let (status, body) = app
        .post_as(
            &snoozes,
            Some(&nurse),
            &json!({ "subject": "NV", "until": until, "reason": "expected during chemotherapy" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tier"], "amber", "no open card: amber by default");
    assert_eq!((body["subject"].as_str(), body["until"].as_str()), (Some("NV"), Some(until.as_str())));

    // Nausea "a little": NV 16.7, an amber worsening: held.
    send(&app, &patient, c30(1, &[(14, 2)]), false).await;
    assert!(cards_of(&app, &nurse, &study_id, "").await.is_empty(), "snoozed: no card at all");
    // Fatigue amber in the same report as amber nausea: the card opens without NV.
    send(&app, &patient, c30(1, &[(14, 2), (10, 2)]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(signals_of(&card), set(&[("FA", "amber")]));

    // Nausea and vomiting "very much": NV 100, red: above the snooze, it goes through.
    let red = send(&app, &patient, c30(1, &[(14, 4), (15, 4), (10, 2)]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    let nausea = signal(&card, "NV");
    assert_eq!((nausea["tier"].as_str(), nausea["submission_id"].as_i64()), (Some("red"), Some(red)));
    assert_eq!(card["tier"], "red");

    // A snooze may not hold red: asked for, it is refused; a red signal always comes through,
    // and the nurse sees how many signals a snooze held.
    let (status, body) = app
        .post_as(
            &snoozes,
            Some(&nurse),
            &json!({ "subject": "NV", "tier": "red", "until": until, "reason": "antiemetics changed" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .post_as(
            &snoozes,
            Some(&nurse),
            &json!({ "subject": "NV", "until": until, "reason": "antiemetics changed" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tier"], "amber", "amber at most, whatever the card holds");
    let red_snooze = body["id"].as_i64().unwrap();
    send(&app, &patient, c30(1, &[(10, 2)]), false).await;
    let again = send(&app, &patient, c30(1, &[(14, 4), (15, 4), (10, 2)]), false).await;
    let card = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(signal(&card, "NV")["submission_id"].as_i64(), Some(again), "the second red came through too");
    let (_, listed) = app.get_as(&snoozes, Some(&nurse)).await;
    let held: Vec<i64> =
        listed.as_array().unwrap().iter().map(|s| s["held_count"].as_i64().unwrap()).collect();
    assert_eq!(held, [2, 0], "the first snooze held the amber nausea of the first two reports: {listed}");
    assert!(listed[0]["last_held_at"].is_string() && listed[0]["last_held_value"].as_f64().is_some());
    // Spelled otherwise than signals are, or further than six months: refused.
    for (subject, until) in
        [("ITEM09", until.clone()), ("ITEM+9", until.clone()), ("NV", qol_tests::chrono_today_minus(-400))]
    {
        let (status, body) = app
            .post_as(&snoozes, Some(&nurse), &json!({ "subject": subject, "until": until, "reason": "x" }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{subject} {until}: {body}");
    }

    // The patient asking to be called is never held, and cannot be snoozed.
    let (status, body) = app
        .post_as(
            &snoozes,
            Some(&nurse),
            &json!({ "subject": "CALL", "until": until, "reason": "calls a lot" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    send(&app, &patient, c30(1, &[(10, 2)]), true).await;
    assert_eq!(
        signals_of(&open_card(&app, &nurse, &study_id, "call_request").await),
        set(&[("CALL", "red")])
    );

    let (status, ended) = app.post_as(&format!("{snoozes}/{red_snooze}/end"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert!(ended["ended_at"].is_string());
    let (status, _) = app.post_as(&format!("{snoozes}/{red_snooze}/end"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, listed) = app.get_as(&snoozes, Some(&nurse)).await;
    let tiers: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["tier"].as_str().unwrap(), s["ended_at"].is_null()))
        .collect();
    assert_eq!(tiers, [("amber", true), ("amber", false)]);

    let (status, body) = app
        .post_as(&snoozes, Some(&nurse), &json!({ "subject": "XYZ", "until": "2000-01-01", "reason": " " }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["problems"].as_array().unwrap().len(), 3, "{body}");
    // A tier may be asked for.
    let (status, body) = app
        .post_as(
            &snoozes,
            Some(&nurse),
            &json!({ "subject": "FA", "tier": "info", "until": until, "reason": "known fatigue" }),
        )
        .await;
    assert_eq!((status, body["tier"].as_str()), (StatusCode::CREATED, Some("info")), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'alert.snooze'").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'alert.snooze_end'").await, 1);
}
on_both_backends!(
    a_snooze_holds_signals_up_to_its_tier_and_never_a_call_request,
    super::a_snooze_holds_signals_up_to_its_tier_and_never_a_call_request
);

async fn a_patients_page_lists_open_and_past_cards_newest_first(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    let (_, _, other) = patient_with_a_well_report(&app).await;
    send(&app, &patient, c30(1, &[(10, 2)]), true).await;
    let call = open_card(&app, &nurse, &study_id, "call_request").await["id"].as_i64().unwrap();
    let symptoms = open_card(&app, &nurse, &study_id, "symptoms").await["id"].as_i64().unwrap();
    let (status, _) = app
        .post_as(
            &format!("/api/v1/alerts/{call}/resolve"),
            Some(&nurse),
            &json!({ "action": "called_patient", "note": "all well" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // She asks again: a new call request card, the resolved one stays in the past.
    send(&app, &patient, c30(1, &[(10, 2)]), true).await;
    let again = open_card(&app, &nurse, &study_id, "call_request").await["id"].as_i64().unwrap();
    assert_ne!(again, call, "a resolved card is not re-opened");

    let (status, page) = app.get_as(&format!("/api/v1/patients/{study_id}/alerts"), Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed: Vec<(i64, &str, &str)> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_i64().unwrap(), c["kind"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    let mut expected = vec![
        (again, "call_request", "new"),
        (call, "call_request", "resolved"),
        (symptoms, "symptoms", "new"),
    ];
    expected.sort_by_key(|card| std::cmp::Reverse(card.0));
    assert_eq!(listed, expected, "open and past, newest first");
    assert!(page.as_array().unwrap().iter().all(|c| c["study_id"] == study_id.as_str()));
    let resolved = page.as_array().unwrap().iter().find(|c| c["id"].as_i64() == Some(call)).unwrap();
    assert_eq!(resolved["resolution_note"], "all well");
    assert_eq!(signals_of(resolved), set(&[("CALL", "red")]));

    let (_, filtered) = app.get_as(&format!("/api/v1/alerts?patient={study_id}"), Some(&nurse)).await;
    let mut open: Vec<i64> = filtered.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(open, [again, symptoms], "the worklist of one patient: open cards, the call first");
    let (_, filtered) =
        app.get_as(&format!("/api/v1/alerts?patient={study_id}&state=resolved"), Some(&nurse)).await;
    open = filtered.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(open, [call]);
    let (status, body) = app.get_as(&format!("/api/v1/patients/{other}/alerts"), Some(&nurse)).await;
    assert_eq!((status, body), (StatusCode::OK, json!([])), "a well patient has no cards");

    for path in ["/api/v1/patients/IVB-999/alerts", "/api/v1/alerts?patient=IVB-999"] {
        let (status, body) = app.get_as(path, Some(&nurse)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
}
on_both_backends!(
    a_patients_page_lists_open_and_past_cards_newest_first,
    super::a_patients_page_lists_open_and_past_cards_newest_first
);

async fn simultaneous_reports_still_make_one_card_of_each_kind(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient_with_a_well_report(&app).await;
    let mut sending = tokio::task::JoinSet::new();
    for n in 0..20 {
        let request = app
            .client
            .post(app.url("/api/v1/me/submissions"))
            .bearer_auth(&patient)
            // Pain "very much" and, in turn, fatigue or nausea too: red signals each time.
            .json(&report(
                &new_id(),
                c30(1, &[(9, 4), (19, 4), (if n % 2 == 0 { 10 } else { 14 }, 4)]),
                true,
            ));
        sending.spawn(async move {
            let response = request.send().await.expect("the server answers");
            (response.status(), response.text().await.unwrap())
        });
    }
    let outcomes = sending.join_all().await;
    for (status, body) in &outcomes {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    let cards = cards_of(&app, &nurse, &study_id, "").await;
    let kinds: Vec<&str> = cards.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["call_request", "symptoms"], "{cards:#?}");
    let symptoms = &cards[1];
    assert_eq!(symptoms["tier"], "red");
    let subjects: Vec<&str> =
        symptoms["signals"].as_array().unwrap().iter().map(|s| s["subject"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = subjects.iter().copied().collect();
    assert_eq!(subjects.len(), unique.len(), "one signal per subject: {subjects:?}");
    for subject in ["ITEM9", "ITEM19", "PA"] {
        assert!(unique.contains(subject), "{subject} in {subjects:?}");
    }
    assert_eq!(signals_of(&cards[0]), set(&[("CALL", "red")]));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM alert_cards WHERE state <> 'resolved' AND patient_id = \
                   (SELECT MAX(id) FROM patients)"
        )
        .await,
        2
    );
    let (_, page) = app.get_as(&format!("/api/v1/patients/{study_id}/alerts"), Some(&nurse)).await;
    assert_eq!(page.as_array().unwrap().len(), 2, "no other card was ever opened");
}
on_both_backends!(
    simultaneous_reports_still_make_one_card_of_each_kind,
    super::simultaneous_reports_still_make_one_card_of_each_kind
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
