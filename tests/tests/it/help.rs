//! What a patient has beside her forms: the study's contact details, "I need help" (her call
//! request on the nurses' worklist at once, without a form, so research data do not change),
//! assessment labels in her language, and her own history with the scores the protocol shows
//! her; on both databases.

use chrono::{DateTime, TimeZone, Utc};
use qol_server::config::{MailConfig, Secret};
use qol_shared::alerts::{HELP_BUTTON_REQUEST, sla_deadline};
use qol_shared::api::{HelpReceipt, MyHistory, StudySummary};
use qol_shared::schedule::Protocol;
use qol_tests::{Backend, SmtpSink, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::notify::{patient, report};

const ON_CALL: [&str; 2] = ["oncall@example.org", "second@example.org"];

/// On-call e-mail to an SMTP port nothing listens on: messages are queued in the outbox (and
/// retried), which is what is checked here; delivery is `notify.rs`'s.
fn mail() -> MailConfig {
    MailConfig {
        smtp_url: Some(Secret(format!("smtp://127.0.0.1:{}", SmtpSink::free_port()))),
        mail_from: Some("qol@example.org".into()),
        notify_emails: ON_CALL.iter().map(|address| (*address).to_owned()).collect(),
        public_url: Some("https://qol.example.org".into()),
        outbox_retry: Some(std::time::Duration::from_secs(3600)),
        ..Default::default()
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A QLQ-C30 with every item at `code` (the global items at 6).
fn c30(code: i64) -> Value {
    Value::Array(
        (1..=30).map(|item| json!({ "item": item, "response": if item >= 29 { 6 } else { code } })).collect(),
    )
}

async fn ask_for_help(app: &TestApp, patient: &str, client_id: &str) -> (StatusCode, Value) {
    app.post_as("/api/v1/me/help-requests", Some(patient), &json!({ "client_id": client_id })).await
}

/// The patient's open cards of `kind`.
async fn open_cards(app: &TestApp, nurse: &str, study_id: &str, kind: &str) -> Vec<Value> {
    let (status, cards) =
        app.get_as(&format!("/api/v1/alerts?patient={study_id}&kind={kind}"), Some(nurse)).await;
    assert_eq!(status, StatusCode::OK, "{cards}");
    cards.as_array().unwrap().clone()
}

/// The end of the service level (`working_days`) of a card whose clock started at `from`, in
/// the shipped protocol's time zone.
fn deadline(from: &str, working_days: u32) -> DateTime<Utc> {
    let zone = Protocol::default_protocol().time_zone;
    let from: DateTime<Utc> = from.parse().unwrap();
    let local = sla_deadline(from.with_timezone(&zone).naive_local(), working_days);
    zone.from_local_datetime(&local).earliest().unwrap().to_utc()
}

fn instant(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap_or_else(|| panic!("not a time: {value}")).parse().unwrap()
}

/// What research reads: the long scores export, the analysis and completion reports.
async fn research_view(app: &TestApp, researcher: &str) -> (String, Value, Value) {
    let export = app
        .client
        .get(app.url("/api/v1/exports/scores_long.csv"))
        .bearer_auth(researcher)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    let export = export.text().await.unwrap();
    let (status, mut analysis) = app.get_as("/api/v1/research/analysis", Some(researcher)).await;
    assert_eq!(status, StatusCode::OK, "{analysis}");
    // The stamp says when the numbers were read, not what they are.
    assert!(analysis.as_object_mut().unwrap().remove("extracted_at").is_some());
    let (status, completion) = app.get_as("/api/v1/research/completion", Some(researcher)).await;
    assert_eq!(status, StatusCode::OK, "{completion}");
    (export, analysis, completion)
}

const CLINICAL_ROWS: [&str; 5] = [
    "SELECT COUNT(*) FROM submissions",
    "SELECT COUNT(*) FROM item_answers",
    "SELECT COUNT(*) FROM scores",
    "SELECT COUNT(*) FROM assessments",
    "SELECT COUNT(*) FROM assessments WHERE unscheduled = 1",
];

async fn clinical_rows(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in CLINICAL_ROWS {
        counts.push(app.count(sql).await);
    }
    counts
}

async fn a_help_request_puts_her_call_request_on_the_worklist_without_a_form(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |config| config.mail = mail()).await else { return };
    let (nurse, patient, study_id) = patient(&app).await;
    let rows_before = clinical_rows(&app).await;

    let first = new_id();
    let (status, body) = ask_for_help(&app, &patient, &first).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let receipt: HelpReceipt = serde_json::from_value(body.clone()).unwrap();
    let received = receipt.received_at.instant();
    assert!((Utc::now() - received).num_seconds().abs() < 60, "{body}");
    assert_eq!(receipt.call_back_by.instant(), deadline(&receipt.received_at.text(), 1), "one working day");

    // Sent again (the phone did not hear the answer): the same receipt, nothing new.
    let (status, again) = ask_for_help(&app, &patient, &first).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, body);

    // Her call request is on the worklist at once, as a form's "please call me" is.
    let cards = open_cards(&app, &nurse, &study_id, "call_request").await;
    assert_eq!(cards.len(), 1, "{cards:#?}");
    let card = &cards[0];
    assert_eq!((card["tier"].as_str(), card["state"].as_str()), (Some("red"), Some("new")));
    assert!(card["latest_submission_id"].is_null(), "no form came with it: {card:#}");
    assert_eq!(instant(&card["sla_from"]), received);
    assert!((0..=1).contains(&card["minutes_waiting"].as_i64().unwrap()), "{card:#}");
    assert_eq!(card["patient_name"], "Test Person");
    let signals = card["signals"].as_array().unwrap();
    assert_eq!(signals.len(), 1, "{card:#}");
    let call = &signals[0];
    assert_eq!((call["subject"].as_str(), call["rule"].as_str()), (Some("CALL"), Some("call_me")));
    assert_eq!(call["source"], HELP_BUTTON_REQUEST, "the nurse sees it came from the help button");
    assert!(call["submission_id"].is_null());
    assert_eq!(instant(&call["raised_at"]), received, "and when she asked");
    let (_, worklist) = app.get_as("/api/v1/alerts", Some(&nurse)).await;
    assert_eq!(worklist[0]["id"], card["id"], "call requests come first");
    // The on-call addresses are told, as for a form's call request: one e-mail each.
    let card_id = card["id"].as_i64().unwrap();
    let notified: Vec<&str> =
        card["notifications"].as_array().unwrap().iter().map(|n| n["recipient"].as_str().unwrap()).collect();
    assert_eq!(notified, ON_CALL);
    let subject = format!("[qol] {study_id} asks to be called");
    assert_eq!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM outbox WHERE card_id = {card_id} AND purpose = 'alert_card' AND subject = '{subject}'"
        ))
        .await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM help_requests").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'help_request.store'").await, 1);

    // A second press while the card is new joins it: no second card, no more e-mail, the same
    // deadline.
    let (status, second) = ask_for_help(&app, &patient, &new_id()).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["call_back_by"], body["call_back_by"], "the card's clock did not restart");
    assert_eq!(clinical_rows(&app).await, rows_before, "no form, no assessment was stored");
    // A symptom check with "please call me" joins the same card.
    let (status, sent) = app.post_as("/api/v1/me/submissions", Some(&patient), &report(c30(2), true)).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let submission = sent["submission_id"].as_i64().unwrap();
    let cards = open_cards(&app, &nurse, &study_id, "call_request").await;
    assert_eq!(cards.len(), 1, "one call-request card: {cards:#?}");
    assert_eq!(cards[0]["id"], card_id);
    assert_eq!(cards[0]["latest_submission_id"].as_i64(), Some(submission));
    assert_eq!(cards[0]["notifications"].as_array().unwrap().len(), 2, "nothing new to tell");

    // Acknowledged, then she asks again: the card is new again and the on-call addresses hear.
    let (status, _) =
        app.post_as(&format!("/api/v1/alerts/{card_id}/acknowledge"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, third) = ask_for_help(&app, &patient, &new_id()).await;
    assert_eq!(status, StatusCode::CREATED, "{third}");
    let cards = open_cards(&app, &nurse, &study_id, "call_request").await;
    assert_eq!(cards.len(), 1);
    let reopened = &cards[0];
    assert_eq!(reopened["id"], card_id);
    assert_eq!((reopened["state"].as_str(), reopened["escalated"].as_bool()), (Some("new"), Some(true)));
    assert_eq!(reopened["notifications"].as_array().unwrap().len(), 4);
    assert_eq!(reopened["latest_submission_id"].as_i64(), Some(submission), "her form stays one click away");
    assert_eq!(instant(&third["call_back_by"]), deadline(third["received_at"].as_str().unwrap(), 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM help_requests").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM alert_cards WHERE kind = 'call_request' AND patient_id = (SELECT MAX(id) FROM patients)").await, 1);

    // Only patients ask for help; a client id is hers alone.
    for staff in ["nurse", "researcher", "admin"] {
        let token = app.staff_token(staff).await;
        let (status, body) = ask_for_help(&app, &token, &new_id()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{staff}");
    }
    let (status, body) =
        app.post_as("/api/v1/me/help-requests", None, &json!({ "client_id": new_id() })).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")));
    let (_, other, _) = self::patient(&app).await;
    let (status, body) = ask_for_help(&app, &other, &first).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{body}");
    let (status, body) =
        app.post_as("/api/v1/me/help-requests", Some(&patient), &json!({ "client_id": "1" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")),
        "{body}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM help_requests").await, 3, "refused means not stored");
}
on_both_backends!(
    a_help_request_puts_her_call_request_on_the_worklist_without_a_form,
    super::a_help_request_puts_her_call_request_on_the_worklist_without_a_form
);

/// Help requests alone: research's export and reports read exactly as before, and her
/// assessments too.
async fn help_requests_leave_research_data_as_they_were(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient(&app).await;
    let (status, _) = app.post_as("/api/v1/me/submissions", Some(&patient), &report(c30(1), false)).await;
    assert_eq!(status, StatusCode::CREATED);
    let researcher = app.staff_token("researcher").await;
    let research_before = research_view(&app, &researcher).await;
    let rows_before = clinical_rows(&app).await;
    let (_, assessments_before) = app.get_as("/api/v1/me/assessments", Some(&patient)).await;
    let (_, submissions_before) =
        app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse)).await;
    for _ in 0..3 {
        let (status, body) = ask_for_help(&app, &patient, &new_id()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM help_requests").await, 3);
    assert_eq!(research_view(&app, &researcher).await, research_before);
    assert_eq!(clinical_rows(&app).await, rows_before);
    assert_eq!(app.get_as("/api/v1/me/assessments", Some(&patient)).await.1, assessments_before);
    assert_eq!(
        app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse)).await.1,
        submissions_before
    );
    let (_, history) = app.get_as("/api/v1/me/history", Some(&patient)).await;
    assert_eq!(history["forms"].as_array().unwrap().len(), 1, "a help request is not a form: {history}");
}
on_both_backends!(
    help_requests_leave_research_data_as_they_were,
    super::help_requests_leave_research_data_as_they_were
);

/// A phone that sends the same request many times at once (retries racing each other) stores it
/// once, every answer carrying the one receipt; different requests at once share one card.
async fn simultaneous_help_requests_store_each_client_id_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, study_id) = patient(&app).await;
    let same = new_id();
    let mut sending = tokio::task::JoinSet::new();
    for n in 0..16 {
        let client_id = if n % 2 == 0 { same.clone() } else { new_id() };
        let request = app
            .client
            .post(app.url("/api/v1/me/help-requests"))
            .bearer_auth(&patient)
            .json(&json!({ "client_id": client_id }));
        sending.spawn(async move {
            let response = request.send().await.expect("the server answers");
            (client_id, response.status(), response.json::<Value>().await.unwrap())
        });
    }
    let outcomes = sending.join_all().await;
    let same_answers: Vec<&(String, StatusCode, Value)> =
        outcomes.iter().filter(|(id, _, _)| *id == same).collect();
    assert_eq!(same_answers.len(), 8);
    let created = same_answers.iter().filter(|(_, status, _)| *status == StatusCode::CREATED).count();
    assert_eq!(created, 1, "stored once: {outcomes:#?}");
    for (_, status, body) in &same_answers {
        assert!(*status == StatusCode::CREATED || *status == StatusCode::OK, "{status}: {body}");
        assert_eq!(*body, same_answers[0].2, "one receipt");
    }
    for (_, status, body) in outcomes.iter().filter(|(id, _, _)| *id != same) {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM help_requests").await, 9);
    assert_eq!(
        app.count_dynamic(format!("SELECT COUNT(*) FROM help_requests WHERE client_id = '{same}'")).await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'help_request.store'").await, 9);
    let cards = open_cards(&app, &nurse, &study_id, "call_request").await;
    assert_eq!(cards.len(), 1, "one call-request card: {cards:#?}");
    let (_, page) = app.get_as(&format!("/api/v1/patients/{study_id}/alerts"), Some(&nurse)).await;
    assert_eq!(page.as_array().unwrap().len(), 1, "no other card was ever opened");
}
on_both_backends!(
    simultaneous_help_requests_store_each_client_id_once,
    super::simultaneous_help_requests_store_each_client_id_once
);

/// The shipped protocol's contact details are public (the app shows them before sign-in), with
/// the worklist's service level; assessments carry their labels in both languages.
#[tokio::test]
async fn the_study_gives_its_contact_and_assessments_their_labels_in_both_languages() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, body) = app.get_json("/api/v1/study").await;
    assert_eq!(status, StatusCode::OK);
    let study: StudySummary = serde_json::from_value(body).unwrap();
    let contact = study.contact.expect("the shipped protocol has contact details");
    assert_eq!(contact.phone, "+86 10 0000 0000");
    assert_eq!(contact.call_back_working_days, 1);
    for texts in [&contact.hours, &contact.urgent_advice] {
        assert_eq!(texts.keys().map(String::as_str).collect::<Vec<_>>(), ["en", "zh-Hans"]);
    }
    assert!(contact.urgent_advice["en"].contains("120"), "{:?}", contact.urgent_advice);
    assert_eq!(study.idle_lock_seconds, 300);

    let (nurse, patient, study_id) = patient(&app).await;
    let baseline = app.my_assessment(&patient, "baseline").await;
    assert_eq!(baseline["labels"], json!({ "en": "Baseline", "zh-Hans": "基线" }));
    let (status, _) = app.post_as("/api/v1/me/submissions", Some(&patient), &report(c30(1), false)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, assessments) =
        app.get_as(&format!("/api/v1/patients/{study_id}/assessments"), Some(&nurse)).await;
    let unscheduled = assessments.as_array().unwrap().iter().find(|a| a["unscheduled"] == true).unwrap();
    assert_eq!(unscheduled["label"], "Unscheduled report");
    assert_eq!(unscheduled["labels"], json!({ "en": "Unscheduled report", "zh-Hans": "计划外报告" }));
    app.record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 0, None).await;
    let weekly = app.assessment(&nurse, &study_id, "weekly-01").await;
    assert_eq!(weekly["labels"]["zh-Hans"], "每周（治疗期间）");
}

/// Baseline answers: every C30 and CX24 item at `code` (global items at 5; sexually active "a
/// little", so items 50–54 apply).
fn baseline(code: i64) -> Value {
    let response = |item: i64| match item {
        29 | 30 => 5,
        49 => 2,
        _ => code,
    };
    Value::Array((1..=54).map(|item| json!({ "item": item, "response": response(item) })).collect())
}

async fn her_history_lists_her_own_forms_newest_first_with_the_scores_shown_to_her(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (nurse, patient, _) = patient(&app).await;
    let baseline_id = app.my_assessment(&patient, "baseline").await["id"].as_i64();
    let mut form = report(baseline(1), false);
    form["assessment_id"] = json!(baseline_id);
    form["completed_at"] = qol_tests::completed_at(1).into();
    let (status, first) = app.post_as("/api/v1/me/submissions", Some(&patient), &form).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, second) =
        app.post_as("/api/v1/me/submissions", Some(&patient), &report(c30(3), false)).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    // Another patient's form, and her help request, are not in her history.
    let (_, other, _) = self::patient(&app).await;
    let (status, _) = app.post_as("/api/v1/me/submissions", Some(&other), &report(c30(2), false)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(ask_for_help(&app, &patient, &new_id()).await.0, StatusCode::CREATED);

    let (status, body) = app.get_as("/api/v1/me/history", Some(&patient)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history: MyHistory = serde_json::from_value(body.clone()).unwrap();
    let forms: Vec<(&str, bool)> = history.forms.iter().map(|f| (f.key.as_str(), f.unscheduled)).collect();
    assert_eq!(forms, [("unscheduled-1", true), ("baseline", false)], "newest first");
    let today = qol_tests::study_today();
    assert_eq!(history.forms[0].completed_on, today);
    assert_eq!(history.forms[1].completed_on, today - chrono::Duration::days(1));
    assert_eq!(history.forms[1].label, "Baseline");
    assert_eq!(history.forms[1].labels["zh-Hans"], "基线");
    assert_eq!(history.forms[0].labels["zh-Hans"], "计划外报告");
    assert_eq!(history.forms[0].received_at.text(), second["received_at"].as_str().unwrap());

    // The shipped protocol shows her global health, physical functioning and fatigue.
    let shown: Vec<(&str, bool)> =
        history.scores.iter().map(|series| (series.scale.as_str(), series.higher_is_better)).collect();
    assert_eq!(shown, [("QL2", true), ("PF2", true), ("FA", false)]);
    let score_of = |receipt: &Value, code: &str| {
        receipt["scores"][0]["scales"]
            .as_array()
            .unwrap()
            .iter()
            .find(|scale| scale["code"] == code)
            .and_then(|scale| scale["score"].as_f64())
            .unwrap_or_else(|| panic!("no {code} in {receipt}"))
    };
    for series in &history.scores {
        let points: Vec<(chrono::NaiveDate, f64)> =
            series.points.iter().map(|p| (p.completed_on, p.value)).collect();
        assert_eq!(
            points,
            [
                (today - chrono::Duration::days(1), score_of(&first, &series.scale)),
                (today, score_of(&second, &series.scale)),
            ],
            "{} oldest first",
            series.scale
        );
    }
    assert!(history.scores[2].points[1].value > history.scores[2].points[0].value, "more fatigue");

    let (_, theirs) = app.get_as("/api/v1/me/history", Some(&other)).await;
    assert_eq!(theirs["forms"].as_array().unwrap().len(), 1, "only her own: {theirs}");

    for staff in ["nurse", "researcher", "admin"] {
        let token = if staff == "nurse" { nurse.clone() } else { app.staff_token(staff).await };
        let (status, body) = app.get_as("/api/v1/me/history", Some(&token)).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{staff}");
    }
    let (status, _) = app.get_as("/api/v1/me/history", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
on_both_backends!(
    her_history_lists_her_own_forms_newest_first_with_the_scores_shown_to_her,
    super::her_history_lists_her_own_forms_newest_first_with_the_scores_shown_to_her
);

/// A site's protocol (`--protocol FILE`) without `patient_view` shows no scores; without
/// `labels` an assessment has none; its service level is what the contact promises.
#[tokio::test]
async fn a_site_protocol_without_patient_view_shows_no_scores() {
    let folder = std::env::temp_dir().join(format!("qol-protocol-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut protocol: Value = serde_json::from_str(Protocol::default_protocol_json()).unwrap();
    protocol.as_object_mut().unwrap().remove("patient_view");
    protocol["assessments"][0].as_object_mut().unwrap().remove("labels");
    protocol["alerts"]["sla_working_days"] = 2.into();
    let file = folder.join("site.json");
    std::fs::write(&file, protocol.to_string()).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.protocol_file = Some(file.clone()))
        .await
        .unwrap();

    let (_, study) = app.get_json("/api/v1/study").await;
    assert_eq!(study["contact"]["call_back_working_days"], 2, "{study}");
    let (_, patient, _) = patient(&app).await;
    let assessment = app.my_assessment(&patient, "baseline").await;
    assert!(assessment.get("labels").is_none(), "no labels in the protocol: {assessment}");
    let mut form = report(baseline(1), false);
    form["assessment_id"] = assessment["id"].clone();
    let (status, body) = app.post_as("/api/v1/me/submissions", Some(&patient), &form).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, history) = app.get_as("/api/v1/me/history", Some(&patient)).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["forms"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["forms"][0]["labels"], json!({}));
    assert_eq!(history["scores"], json!([]), "no scores unless the protocol shows them");
    let (status, receipt) = ask_for_help(&app, &patient, &new_id()).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(instant(&receipt["call_back_by"]), deadline(receipt["received_at"].as_str().unwrap(), 2));
    let _ = std::fs::remove_dir_all(&folder);
}

/// A second request on a card whose service level has already run out (nobody has called yet):
/// she is told a time still to come, counted from her new request, never one already past.
#[tokio::test]
async fn a_request_on_an_overdue_card_is_promised_a_time_still_to_come() {
    let clock = qol_server::clock::Clock::fixed(Utc::now());
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |config| config.clock = clock.clone()).await else {
        return;
    };
    let (_, patient, study_id) = patient(&app).await;
    let (status, first) = ask_for_help(&app, &patient, &new_id()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // A week later, the card is still new and past its deadline (a nurse signs in afresh: a
    // staff session lasts 12 hours).
    clock.advance(chrono::Duration::days(7));
    let nurse = app.staff_token("nurse").await;
    let cards = open_cards(&app, &nurse, &study_id, "call_request").await;
    assert_eq!(cards[0]["past_sla"], true, "{:#}", cards[0]);
    let (status, second) = ask_for_help(&app, &patient, &new_id()).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let now = clock.now();
    let promised = instant(&second["call_back_by"]);
    assert!(promised > now, "promised {promised}, now {now}");
    assert_eq!(promised, deadline(second["received_at"].as_str().unwrap(), 1));
    assert_eq!(open_cards(&app, &nurse, &study_id, "call_request").await.len(), 1, "still one card");
}
