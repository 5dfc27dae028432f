//! E-mail to the on-call addresses through a real SMTP exchange (Debian's aiosmtpd writing a
//! maildir): a call request and a card turning red each send one message per address, carrying
//! no identity; a server that cannot reach SMTP retries and delivers once; two servers on one
//! PostgreSQL database send each message once; bad mail settings refuse to start, naming the flag.

use std::collections::BTreeSet;
use std::time::Duration;

use qol_server::config::{MailConfig, Secret, ServeConfig};
use qol_server::startup::Application;
use qol_tests::{Backend, SmtpSink, TestApp, TestDatabase, mail_body, mail_header, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ON_CALL: [&str; 2] = ["oncall@example.org", "second@example.org"];

fn mail(port: u16) -> MailConfig {
    MailConfig {
        smtp_url: Some(Secret(format!("smtp://127.0.0.1:{port}"))),
        mail_from: Some("qol@example.org".into()),
        notify_emails: ON_CALL.iter().map(|address| (*address).to_owned()).collect(),
        public_url: Some("https://qol.example.org".into()),
        outbox_retry: Some(Duration::from_secs(1)),
        ..Default::default()
    }
}

/// A QLQ-C30 with every item "not at all" (the global items at 6), with overrides.
fn c30(overrides: &[(i64, i64)]) -> Value {
    Value::Array(
        (1..=30)
            .map(|item| {
                let default = if item >= 29 { 6 } else { 1 };
                let value = overrides.iter().find(|(i, _)| *i == item).map_or(default, |(_, v)| *v);
                json!({ "item": item, "response": value })
            })
            .collect(),
    )
}

pub(crate) fn report(answers: Value, call_me: bool) -> Value {
    json!({
        "client_id": uuid::Uuid::new_v4().to_string(), "completed_at": qol_tests::completed_at(0),
        "language": "en", "answers": answers, "call_me": call_me,
    })
}

/// A new activated patient (enrolled as "Test Person", phone "+00 555 0100", hospital number
/// "H-TEST-1"): (nurse, patient, study id).
pub(crate) async fn patient(app: &TestApp) -> (String, String, String) {
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;
    (nurse, patient, study_id)
}

async fn send(app: &TestApp, patient: &str, answers: Value, call_me: bool) {
    let (status, receipt) =
        app.post_as("/api/v1/me/submissions", Some(patient), &report(answers, call_me)).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
}

/// The patient's open card of `kind` (asserting the worklist answers).
async fn open_card(app: &TestApp, nurse: &str, study_id: &str, kind: &str) -> Value {
    let (status, cards) =
        app.get_as(&format!("/api/v1/alerts?patient={study_id}&kind={kind}"), Some(nurse)).await;
    assert_eq!(status, StatusCode::OK, "the worklist answers: {cards}");
    let cards = cards.as_array().unwrap();
    assert_eq!(cards.len(), 1, "one open {kind} card: {cards:#?}");
    cards[0].clone()
}

/// Polls the patient's open card of `kind` every 200 ms until its notifications satisfy `done`
/// (at most 60 s); returns the card.
async fn card_when(
    app: &TestApp,
    nurse: &str,
    study_id: &str,
    kind: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let card = open_card(app, nurse, study_id, kind).await;
        if done(card["notifications"].as_array().unwrap()) {
            return card;
        }
        assert!(tokio::time::Instant::now() < deadline, "after 60 s, not {what}: {card:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn recipients(messages: &[String]) -> BTreeSet<String> {
    messages.iter().map(|message| mail_header(message, "To").unwrap_or_default()).collect()
}

fn on_call() -> BTreeSet<String> {
    ON_CALL.iter().map(|address| (*address).to_owned()).collect()
}

/// Nothing that identifies the patient, nor what she answered.
fn assert_no_identity_or_answers(message: &str) {
    for identity in ["Test Person", "555 0100", "H-TEST-1"] {
        assert!(!message.contains(identity), "{identity:?} in the e-mail:\n{message}");
    }
    let body = mail_body(message).to_lowercase();
    for answer in ["fatigue", "pain", "very much", "a little", "item", "score", "11.1", "66.7"] {
        assert!(!body.contains(answer), "{answer:?} in the e-mail's body:\n{message}");
    }
}

async fn a_call_request_emails_the_on_call_addresses_without_identity(backend: Backend) {
    let Some(sink) = SmtpSink::start().await else { return };
    let Some(app) = TestApp::spawn_with(backend, |config| config.mail = mail(sink.port)).await else {
        return;
    };
    let (nurse, patient, study_id) = patient(&app).await;
    send(&app, &patient, c30(&[]), false).await;
    // She asks to be called, and fatigue is one step worse (an amber card: no e-mail).
    send(&app, &patient, c30(&[(10, 2)]), true).await;
    let messages = sink.wait_for(2, Duration::from_secs(60)).await;
    assert_eq!(messages.len(), 2, "one message per on-call address: {messages:#?}");
    assert_eq!(recipients(&messages), on_call());
    let call = open_card(&app, &nurse, &study_id, "call_request").await;
    let id = call["id"].as_i64().unwrap();
    for message in &messages {
        assert_eq!(
            mail_header(message, "Subject").as_deref(),
            Some(format!("[qol] {study_id} asks to be called").as_str())
        );
        let message_id = mail_header(message, "Message-ID").unwrap();
        assert!(
            message_id.starts_with(&format!("<alert-card-{id}-report-")) && message_id.ends_with("@qol>"),
            "{message_id}"
        );
        assert!(mail_header(message, "From").unwrap().contains("qol@example.org"));
        let body = mail_body(message);
        assert!(body.contains(&format!("Study id: {study_id}")), "{message}");
        assert!(body.contains(&format!("https://qol.example.org/staff/worklist?card={id}\n")), "{message}");
        assert!(body.contains("Tier: red"), "{message}");
        assert_no_identity_or_answers(message);
    }
    let ids: BTreeSet<String> =
        messages.iter().filter_map(|message| mail_header(message, "Message-ID")).collect();
    assert_eq!(ids.len(), 2, "one Message-ID per address: {ids:?}");
    let call = card_when(&app, &nurse, &study_id, "call_request", "sent", |notifications| {
        notifications.len() == 2 && notifications.iter().all(|n| n["state"] == "sent")
    })
    .await;
    for notification in call["notifications"].as_array().unwrap() {
        assert_eq!(notification["attempts"], 1, "{notification}");
        assert_eq!(
            (notification["channel"].as_str(), notification["card_id"].as_i64()),
            (Some("email"), Some(id))
        );
        assert_eq!(notification["study_id"], study_id.as_str());
        assert!(
            notification["last_error"].is_null() && notification["sent_at"].is_string(),
            "{notification}"
        );
    }
    let listed: BTreeSet<String> = call["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["recipient"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, on_call());
    let symptoms = open_card(&app, &nurse, &study_id, "symptoms").await;
    assert_eq!(symptoms["tier"], "amber");
    assert_eq!(symptoms["notifications"], json!([]), "an amber card sends nothing");
    let (status, outbox) = app.get_as("/api/v1/notifications", Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outbox.as_array().unwrap().len(), 2, "{outbox:#}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.sent'").await, 2);

    // She asks again while the card is open: it joins the card, and nobody is e-mailed again.
    send(&app, &patient, c30(&[(10, 2)]), true).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 2, "no second e-mail for an open call request");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 2);

    // Pain "very much": the symptoms card becomes red, and that is e-mailed, once per address.
    send(&app, &patient, c30(&[(10, 2), (9, 4), (19, 4)]), false).await;
    let messages = sink.wait_for(4, Duration::from_secs(60)).await;
    assert_eq!(messages.len(), 4, "{messages:#?}");
    let symptoms_id = symptoms["id"].as_i64().unwrap();
    let red: Vec<&String> = messages
        .iter()
        .filter(|message| {
            mail_header(message, "Subject").as_deref()
                == Some(&format!("[qol] {study_id} has a red symptom card"))
        })
        .collect();
    assert_eq!(red.len(), 2, "{messages:#?}");
    assert_eq!(recipients(&red.iter().map(|m| (*m).clone()).collect::<Vec<_>>()), on_call());
    for message in red {
        assert!(
            mail_body(message)
                .contains(&format!("https://qol.example.org/staff/worklist?card={symptoms_id}\n"))
        );
        assert_no_identity_or_answers(message);
    }
    card_when(&app, &nurse, &study_id, "symptoms", "sent", |notifications| {
        notifications.len() == 2 && notifications.iter().all(|n| n["state"] == "sent" && n["attempts"] == 1)
    })
    .await;
    // Worse again while red: nothing more.
    send(&app, &patient, c30(&[(10, 4), (12, 4), (9, 4), (19, 4)]), false).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 4, "a card that is already red is not e-mailed again");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.sent'").await, 4);

    // A Message-ID is `<id-left@id-right>` with one "@" (RFC 5322, 3.6.4): an address inside
    // it makes it invalid, and a relay may then replace it (and a retry's copy would no longer
    // show as the same message).
    for message in sink.messages() {
        let id = mail_header(&message, "Message-ID").unwrap();
        assert_eq!(id.matches('@').count(), 1, "not a valid Message-ID: {id}");
    }
}
on_both_backends!(
    a_call_request_emails_the_on_call_addresses_without_identity,
    super::a_call_request_emails_the_on_call_addresses_without_identity
);

async fn smtp_down_then_up_delivers_once(backend: Backend) {
    if !SmtpSink::available() {
        return;
    }
    // Nothing listens on the port yet.
    let port = SmtpSink::free_port();
    let Some(app) = TestApp::spawn_with(backend, |config| config.mail = mail(port)).await else { return };
    let (nurse, patient, study_id) = patient(&app).await;
    send(&app, &patient, c30(&[]), true).await;
    let failing = card_when(&app, &nurse, &study_id, "call_request", "a failed attempt", |notifications| {
        notifications.len() == 2
            && notifications.iter().all(|n| {
                n["state"] == "pending" && n["attempts"].as_i64() >= Some(1) && n["last_error"].is_string()
            })
    })
    .await;
    for notification in failing["notifications"].as_array().unwrap() {
        assert!(notification["next_attempt_at"].is_string(), "a retry is planned: {notification}");
    }

    let sink = SmtpSink::start_on(port).await;
    let messages = sink.wait_for(2, Duration::from_secs(60)).await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(recipients(&messages), on_call());
    let delivered = card_when(&app, &nurse, &study_id, "call_request", "sent", |notifications| {
        notifications.iter().all(|n| n["state"] == "sent")
    })
    .await;
    for notification in delivered["notifications"].as_array().unwrap() {
        assert!(notification["attempts"].as_i64().unwrap() >= 2, "{notification}");
        assert!(notification["last_error"].is_null(), "{notification}");
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sink.messages().len(), 2, "each address got it once");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.attempt_failed'").await >= 2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.sent'").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.failed'").await, 0);
}
on_both_backends!(smtp_down_then_up_delivers_once, super::smtp_down_then_up_delivers_once);

#[tokio::test]
async fn two_servers_on_one_postgres_send_each_message_once() {
    let Some(sink) = SmtpSink::start().await else { return };
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |config| config.mail = mail(sink.port)).await
    else {
        return;
    };
    let mut config = ServeConfig::for_tests(app.database_url());
    config.init = false;
    config.demo = false;
    config.mail = mail(sink.port);
    let (_, second, (stop, server)) = qol_tests::start_server(&config).await;
    let second_url = format!("http://{second}");

    let nurse = app.staff_token("nurse").await;
    let mut patients = Vec::new();
    for _ in 0..10 {
        let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
        patients.push((study_id, app.activate(&code, "1357").await));
    }
    let mut sending = tokio::task::JoinSet::new();
    for (n, (_, token)) in patients.iter().enumerate() {
        // Half through each server, all at once.
        let base = if n % 2 == 0 { app.address.clone() } else { second_url.clone() };
        let request = app
            .client
            .post(format!("{base}/api/v1/me/submissions"))
            .bearer_auth(token)
            .json(&report(c30(&[]), true));
        sending.spawn(async move {
            let response = request.send().await.expect("the server answers");
            (response.status(), response.text().await.unwrap())
        });
    }
    for (status, body) in sending.join_all().await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let expected = patients.len() * ON_CALL.len();
    let messages = sink.wait_for(expected, Duration::from_secs(60)).await;
    assert_eq!(messages.len(), expected);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), expected, "no message twice");
    let ids: BTreeSet<String> =
        messages.iter().map(|message| mail_header(message, "Message-ID").expect("a Message-ID")).collect();
    assert_eq!(ids.len(), expected, "each Message-ID once: {ids:#?}");
    let subjects: BTreeSet<String> =
        messages.iter().map(|message| mail_header(message, "Subject").unwrap()).collect();
    let wanted: BTreeSet<String> =
        patients.iter().map(|(study_id, _)| format!("[qol] {study_id} asks to be called")).collect();
    assert_eq!(subjects, wanted, "every patient's call request");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.sent'").await,
        i64::try_from(expected).unwrap()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND attempts = 1").await,
        i64::try_from(expected).unwrap()
    );

    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn bad_mail_settings_refuse_to_start_naming_the_flag() {
    let Some(database) = TestDatabase::create(Backend::Sqlite).await else { return };
    let cases: [(&str, MailConfig); 6] = [
        ("--smtp-url", MailConfig { smtp_url: Some(Secret("not a url".into())), ..mail(25) }),
        (
            "--smtp-url",
            MailConfig { smtp_url: Some(Secret("http://user:hunter2@mail.example.org".into())), ..mail(25) },
        ),
        ("--notify-email", MailConfig { notify_emails: vec!["nobody".into()], ..mail(25) }),
        ("--mail-from", MailConfig { mail_from: None, ..mail(25) }),
        ("--smtp-url", MailConfig { smtp_url: None, ..mail(25) }),
        ("--public-url", MailConfig { public_url: Some("qol.example.org".into()), ..mail(25) }),
    ];
    for (flag, settings) in cases {
        let mut config = ServeConfig::for_tests(&database.url);
        config.mail = settings.clone();
        let error =
            Application::build(&config).await.err().unwrap_or_else(|| panic!("{settings:?} was taken"));
        let text = format!("{error:#}");
        assert!(text.contains(flag), "{settings:?}: {text}");
        assert!(!text.contains("hunter2"), "the password is not repeated: {text}");
    }
    // The same settings, right, start.
    let mut config = ServeConfig::for_tests(&database.url);
    config.mail = mail(25);
    assert!(Application::build(&config).await.is_ok());
}

/// An SMTP server that accepts connections and then says nothing (a hung relay): each attempt
/// gives up after 30 s, is recorded with its error and retried, and every message is tried (one
/// stuck exchange does not hold the others); the worklist answers meanwhile.
#[tokio::test]
async fn a_silent_smtp_server_fails_attempts_instead_of_hanging_the_outbox() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // never answers, never closes
        }
    });
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |config| config.mail = mail(port)).await else {
        return;
    };
    let (nurse, patient, study_id) = patient(&app).await;
    send(&app, &patient, c30(&[]), true).await;
    // One message after the other, 30 s each at most: both have failed once within 100 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(100);
    let card = loop {
        let card = open_card(&app, &nurse, &study_id, "call_request").await;
        let notifications = card["notifications"].as_array().unwrap().clone();
        let failed_once = notifications.len() == 2
            && notifications.iter().all(|n| {
                n["state"] == "pending"
                    && n["attempts"].as_i64().unwrap_or(0) >= 1
                    && n["last_error"]
                        .as_str()
                        .is_some_and(|error| error.contains("did not answer within 30 s"))
            });
        if failed_once {
            break card;
        }
        assert!(tokio::time::Instant::now() < deadline, "after 100 s, not both failed once: {card:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(card["state"], "new");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.attempt_failed'").await >= 2,
        "each attempt is audited"
    );
    silent.abort();
}
