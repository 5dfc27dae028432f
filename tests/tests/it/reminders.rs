//! Reminders through real local endpoints, on a clock the test moves: a fake SMS gateway (an HTTP
//! server here, recording each JSON POST), a real SMTP exchange (aiosmtpd), and a push endpoint
//! that checks the VAPID JWT and decrypts the RFC 8291 payload. The window opens → one message;
//! not done → a reminder on the configured day; quiet hours and the hour before `send_at` →
//! nothing; submitted → no more; a gateway's 4xx → failed with its answer, shown to nurses; a
//! gone push subscription → pruned; two servers on one PostgreSQL → each reminder once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use qol_server::clock::Clock;
use qol_server::config::{MailConfig, Secret, ServeConfig};
use qol_server::startup::Application;
use qol_tests::{Backend, SmtpSink, TestApp, mail_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One request a fake endpoint received: its headers and body.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// An HTTP endpoint in the test: records every POST and answers with the status it is told.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<u16>>,
}

impl Endpoint {
    /// Answers `ok` (200 or 201), except 400 "number rejected" for a JSON `to` ending in 0000 or
    /// 0003.
    pub(crate) async fn start(ok: u16) -> Endpoint {
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(ok));
        let (log, status) = (received.clone(), answer.clone());
        let router = axum::Router::new().route(
            "/{*path}",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (log, status) = (log.clone(), status.clone());
                async move {
                    let refused = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|value| {
                            value["to"].as_str().map(|to| to.ends_with("0000") || to.ends_with("0003"))
                        })
                        .unwrap_or(false);
                    log.lock().unwrap().push(Received { headers, body: body.to_vec() });
                    if refused {
                        return (AxumStatus::BAD_REQUEST, "number rejected".to_owned());
                    }
                    let code = *status.lock().unwrap();
                    (AxumStatus::from_u16(code).unwrap(), String::new())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Endpoint { url, received, answer }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn json(&self) -> Vec<Value> {
        self.received.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
    }

    /// Waits until `count` requests came (up to 10 s), then a little longer to see no more come.
    pub(crate) async fn wait_for(&self, count: usize) -> usize {
        for _ in 0..100 {
            if self.count() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        self.count()
    }
}

/// `hour:minute` on `day` in the study's time zone (the shipped protocol's, Asia/Shanghai).
pub(crate) fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    qol_shared::schedule::Protocol::default_protocol()
        .time_zone
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .unwrap()
        .to_utc()
}

/// A server whose clock stands at 07:30 today in the study's zone, looking for reminders every
/// 100 ms, retrying after a second.
fn settings(config: &mut ServeConfig, clock: &Clock) {
    config.clock = clock.clone();
    config.demo = false;
    config.reminders.remind_every = Duration::from_millis(100);
    config.mail.outbox_retry = Some(Duration::from_secs(1));
}

async fn app_with(configure: impl FnOnce(&mut ServeConfig)) -> Option<(TestApp, Clock, NaiveDate)> {
    let today = qol_tests::study_today();
    let clock = Clock::fixed(at(today, 7, 30));
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        settings(config, &clock);
        configure(config);
    })
    .await?;
    add_staff(&app).await;
    Some((app, clock, today))
}

async fn add_staff(app: &TestApp) {
    let (clinic, _) = qol_server::clinic::Clinic::open(&app.db, false).await.unwrap();
    for (username, role, password) in qol_server::clinic::demo::DEMO_STAFF {
        let hash = qol_server::auth::hash_secret(password);
        let _ =
            clinic.create_staff(&qol_server::storage::Actor::system(), username, role.as_str(), &hash).await;
    }
}

/// Enrols (today) and activates a patient with this phone and e-mail; (study id, her token).
async fn patient(app: &TestApp, nurse: &str, phone: &str, email: &str, language: &str) -> (String, String) {
    let (status, body) = app
        .post_as(
            "/api/v1/patients",
            Some(nurse),
            &json!({
                "stratum": "nodal", "language": language, "enrolled_on": qol_tests::study_today(),
                "identity": { "full_name": "Test Person", "phone": phone, "hospital_number": "H-1", "email": email },
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let study_id = body["patient"]["study_id"].as_str().unwrap().to_owned();
    let token = app.activate(body["activation"]["activation_code"].as_str().unwrap(), "1357").await;
    (study_id, token)
}

/// A patient's reminders as her nurse sees them, once `ready` holds of them (or as they are after
/// 10 s, for the caller's assertions to say what is wrong).
async fn reminders_once(app: &TestApp, nurse: &str, study_id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/v1/patients/{study_id}/reminders");
    let mut view = Value::Null;
    for _ in 0..100 {
        view = app.get_as(&path, Some(nurse)).await.1;
        if ready(&view) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    view
}

fn sms(gateway: &Endpoint) -> impl FnOnce(&mut ServeConfig) + '_ {
    move |config| {
        config.reminders.sms_gateway_url = Some(Secret(format!("{}/send", gateway.url)));
        config.reminders.sms_gateway_token = Some(Secret("gateway-secret".into()));
    }
}

#[tokio::test]
async fn sms_reminders_follow_the_window_and_stop_when_the_form_arrives() {
    let gateway = Endpoint::start(200).await;
    let Some((app, clock, today)) = app_with(sms(&gateway)).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, token) = patient(&app, &nurse, "+86 138 0013 8000", "", "zh-CN").await;
    // Her neighbour's number the gateway refuses.
    let (refused_id, _) = patient(&app, &nurse, "+86 139 0000 0000", "", "en").await;
    let (_, settings) = app.get_as("/api/v1/me/reminders", Some(&token)).await;
    assert_eq!(settings["goes_by"], "sms", "{settings}");

    // 07:30 is in the quiet hours, 08:30 before the 09:00 send time: nothing.
    assert_eq!(gateway.wait_for(1).await, 0, "nothing in the quiet hours");
    clock.set(at(today, 8, 30));
    assert_eq!(gateway.wait_for(1).await, 0, "nothing before the send time");

    // 09:05: the window has opened; one message each, once.
    clock.set(at(today, 9, 5));
    assert_eq!(gateway.wait_for(2).await, 2, "{:?}", gateway.json());
    let mine = gateway.json().into_iter().find(|m| m["to"] == "+8613800138000").expect("hers was sent");
    assert_eq!(mine["template"], "window_open");
    assert_eq!(mine["language"], "zh-CN");
    assert_eq!(mine["text"], "您的问卷已准备好，请打开应用填写。");
    assert!(mine["message_id"].as_str().unwrap().starts_with("reminder-"), "{mine}");
    let auth = gateway.received.lock().unwrap()[0].headers["authorization"].to_str().unwrap().to_owned();
    assert_eq!(auth, "Bearer gateway-secret");
    for text in gateway.json().iter().map(|m| m["text"].as_str().unwrap().to_lowercase()) {
        assert!(!text.contains("cancer") && !text.contains("ivb") && !text.contains("http"), "{text}");
    }

    // The refused number: failed at once with the gateway's answer, which her nurse sees.
    let (status, refused) =
        app.get_as(&format!("/api/v1/patients/{refused_id}/reminders"), Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    let message = &refused["messages"][0];
    assert_eq!(
        (message["state"].as_str(), message["channel"].as_str()),
        (Some("failed"), Some("sms")),
        "{refused}"
    );
    assert!(message["error"].as_str().unwrap().contains("number rejected"), "{refused}");
    assert_eq!(message["attempts"], 1);

    // The next day: nothing (the reminder is two days after opening).
    clock.set(at(today + chrono::Duration::days(1), 9, 5));
    assert_eq!(gateway.wait_for(3).await, 2);
    // Two days after opening, seen first at 21:30 (the server was away at 09:00): the quiet hours
    // hold it; the next morning it goes, one message, not a backlog.
    clock.set(at(today + chrono::Duration::days(2), 21, 30));
    assert_eq!(gateway.wait_for(3).await, 2, "nothing in the evening's quiet hours");
    clock.set(at(today + chrono::Duration::days(3), 9, 5));
    assert_eq!(gateway.wait_for(4).await, 4, "{:?}", gateway.json());
    let second = gateway.json().into_iter().rfind(|m| m["to"] == "+8613800138000").unwrap();
    assert_eq!(second["template"], "not_done", "{second}");

    // Nurses see it: per patient, and on the follow-up list (signed in again: days have passed).
    let nurse = app.staff_token("nurse").await;
    let (_, view) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&nurse)).await;
    let states: Vec<(&str, &str)> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("not_done", "sent"), ("window_open", "sent")], "{view}");
    let (_, overdue) = app.get_as("/api/v1/assessments/overdue", Some(&nurse)).await;
    let item = overdue
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["study_id"] == study_id.as_str())
        .unwrap_or_else(|| panic!("{study_id} is not overdue: {overdue}"))
        .clone();
    assert_eq!(item["reminders_sent"], 2, "{item}");
    assert!(item["last_reminded_at"].as_str().is_some(), "{item}");
    assert_eq!(item["last_reminder_failed"], false, "{item}");
    // Her neighbour was never reached: the list says so.
    let theirs =
        overdue.as_array().unwrap().iter().find(|item| item["study_id"] == refused_id.as_str()).unwrap();
    assert_eq!(
        (theirs["reminders_sent"].as_u64(), theirs["last_reminder_failed"].as_bool()),
        (Some(0), Some(true))
    );
    // Each send is audited, with her study id, not her number.
    let audited = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.sent'").await;
    assert_eq!(audited, 2, "her two reminders; her neighbour's were refused");
    let leaked = app.count("SELECT COUNT(*) FROM audit_log WHERE after_json LIKE '%8613800138000%'").await;
    assert_eq!(leaked, 0, "her phone number stays out of the audit trail");

    // She sends the baseline form: no more reminders for it, the day before it closes included.
    let baseline = app.my_assessment(&token, "baseline").await;
    let body = json!({
        "client_id": uuid::Uuid::new_v4().to_string(), "assessment_id": baseline["id"],
        "completed_at": clock.now().to_rfc3339(), "language": "zh-CN",
        "answers": (1..=54).map(|item| json!({ "item": item, "response": if item == 49 { 2 } else { 1 } })).collect::<Vec<_>>(),
    });
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(&token), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let end: NaiveDate = baseline["window_end"].as_str().unwrap().parse().unwrap();
    clock.set(at(end - chrono::Duration::days(1), 9, 5));
    let before = gateway.json().iter().filter(|m| m["to"] == "+8613800138000").count();
    gateway.wait_for(gateway.count() + 1).await;
    let after = gateway.json().iter().filter(|m| m["to"] == "+8613800138000").count();
    assert_eq!(before, after, "no reminder after the form was received");

    // She turns reminders off; her neighbour's window and nothing of hers goes on.
    let (status, off) = app
        .post_as("/api/v1/me/reminders", Some(&token), &json!({ "channel": "off", "language": "zh-CN" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{off}");
    assert_eq!(off["goes_by"], Value::Null);
    // A patient cannot change her e-mail address herself, and bad input changes nothing.
    let (status, refused) = app
        .post_as(
            "/api/v1/me/reminders",
            Some(&token),
            &json!({ "channel": "sms", "language": "en", "email": "a@b.c" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (_, still) = app.get_as("/api/v1/me/reminders", Some(&token)).await;
    assert_eq!((still["channel"].as_str(), still["language"].as_str()), (Some("off"), Some("zh-CN")));
    // Researchers never see reminders (they would show who is reached how).
    let researcher = app.staff_token("researcher").await;
    let (status, _) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&researcher)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_contact_details_at_enrolment_are_refused_naming_the_field() {
    let Some((app, _clock, _)) = app_with(|_| {}).await else { return };
    let nurse = app.staff_token("nurse").await;
    let before = app.count("SELECT COUNT(*) FROM patients").await;
    let (status, body) = app
        .post_as(
            "/api/v1/patients",
            Some(&nurse),
            &json!({
                "stratum": "nodal", "language": "en", "enrolled_on": qol_tests::study_today(),
                "identity": { "full_name": "X", "phone": "call the ward", "hospital_number": "H", "email": "not-an-address" },
                "reminder_channel": "sms",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body.to_string();
    assert!(problems.contains("identity.phone") && problems.contains("identity.email"), "{problems}");
    let (status, body) = app
        .post_as(
            "/api/v1/patients",
            Some(&nurse),
            &json!({
                "stratum": "nodal", "language": "en", "enrolled_on": qol_tests::study_today(),
                "identity": { "full_name": "X", "phone": "+86 138 0013 8000", "hospital_number": "H" },
                "reminder_channel": "pigeon",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("reminder_channel"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, before, "nothing was enrolled");
}

#[tokio::test]
async fn e_mail_reminders_go_through_a_real_smtp_exchange() {
    let Some(sink) = SmtpSink::start().await else { return };
    let Some((app, clock, today)) = app_with(|config| {
        config.mail = MailConfig {
            smtp_url: Some(Secret(format!("smtp://127.0.0.1:{}", sink.port))),
            mail_from: Some("qol@example.org".into()),
            outbox_retry: Some(Duration::from_secs(1)),
            ..Default::default()
        };
    })
    .await
    else {
        return;
    };
    let nurse = app.staff_token("nurse").await;
    let (study_id, token) = patient(&app, &nurse, "+86 138 0013 8000", "li.hua@example.cn", "en").await;
    let (_, settings) = app.get_as("/api/v1/me/reminders", Some(&token)).await;
    assert_eq!(settings["goes_by"], "email", "no SMS gateway here: {settings}");
    clock.set(at(today, 9, 5));
    let messages = sink.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("li.hua@example.cn"), "{}", messages[0]);
    assert!(mail_body(&messages[0]).contains("Your questionnaire is ready"), "{}", messages[0]);
    // The nurse changes her address; a bad one is refused and changes nothing.
    let (status, body) = app
        .post_as(
            &format!("/api/v1/patients/{study_id}/reminders"),
            Some(&nurse),
            &json!({ "channel": "email", "language": "en", "email": "nope" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, view) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&nurse)).await;
    assert_eq!(view["email"], "li.hua@example.cn");
    assert_eq!(view["messages"][0]["state"], "sent", "{view}");
}

/// A browser's push keys: (its secret, p256dh, auth) as `PushSubscription.toJSON()` gives them.
fn browser_keys() -> (web_push_native::p256::SecretKey, String, [u8; 16]) {
    use base64::Engine as _;
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&rand_bytes());
    bytes[16..].copy_from_slice(&rand_bytes());
    let secret = web_push_native::p256::SecretKey::from_slice(&bytes).unwrap();
    let public = secret.public_key().to_encoded_point(false);
    let auth: [u8; 16] = rand_bytes();
    (secret, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public.as_bytes()), auth)
}

fn rand_bytes() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

#[tokio::test]
async fn push_reminders_are_signed_encrypted_and_pruned_when_the_device_is_gone() {
    use base64::Engine as _;
    let push = Endpoint::start(201).await;
    let folder = std::env::temp_dir().join(format!("qol-vapid-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let key_file = folder.join("vapid.pem");
    let (pem, public_key) = qol_server::notify::new_vapid_keys().unwrap();
    std::fs::write(&key_file, pem).unwrap();
    let Some((app, clock, today)) = app_with(|config| {
        config.reminders.vapid_private_key_file = Some(key_file.clone());
        config.reminders.vapid_subject = Some("mailto:qol@example.org".into());
        // The push service here is on 127.0.0.1, which a real server refuses.
        config.reminders.any_push_endpoint = true;
    })
    .await
    else {
        return;
    };
    let nurse = app.staff_token("nurse").await;
    let (study_id, token) = patient(&app, &nurse, "+86 138 0013 8000", "", "en").await;
    let (_, settings) = app.get_as("/api/v1/me/reminders", Some(&token)).await;
    assert_eq!(settings["push_public_key"], public_key.as_str());
    assert_eq!(settings["goes_by"], Value::Null, "no device yet, and no SMS or e-mail here");

    // A bad subscription is refused; a good one makes push her channel.
    let (status, body) = app
        .post_as(
            "/api/v1/me/push-subscription",
            Some(&token),
            &json!({ "endpoint": "not a url", "keys": { "p256dh": "xx", "auth": "yy" } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (secret, p256dh, auth) = browser_keys();
    let endpoint = format!("{}/push/device-1", push.url);
    let (status, body) = app
        .post_as(
            "/api/v1/me/push-subscription",
            Some(&token),
            &json!({ "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(auth) } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["goes_by"].as_str(), body["push_devices"].as_u64()), (Some("push"), Some(1)));

    clock.set(at(today, 9, 5));
    assert_eq!(push.wait_for(1).await, 1);
    let request = push.received.lock().unwrap()[0].clone();
    // RFC 8292: "vapid t=<JWT signed with our key>, k=<our public key>", audience the push origin.
    let authorization = request.headers["authorization"].to_str().unwrap().to_owned();
    let (jwt, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .unwrap_or_else(|| panic!("{authorization}"));
    assert_eq!(k, public_key);
    let verifier = web_push_native::jwt_simple::algorithms::ES256PublicKey::from_bytes(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(k).unwrap(),
    )
    .unwrap();
    use web_push_native::jwt_simple::algorithms::ECDSAP256PublicKeyLike as _;
    let claims = verifier
        .verify_token::<web_push_native::jwt_simple::claims::NoCustomClaims>(jwt, None)
        .expect("the VAPID JWT verifies with the server's key");
    // The audience is the push service's scheme and host (web-push-native leaves a port out,
    // which is the origin itself for the push services on 443).
    assert_eq!(claims.audiences.unwrap().into_string().unwrap(), "http://127.0.0.1");
    assert_eq!(claims.subject.as_deref(), Some("mailto:qol@example.org"));
    assert_eq!(request.headers["content-encoding"], "aes128gcm");
    // RFC 8291: only this browser's keys open it.
    let plain = web_push_native::decrypt(request.body.clone(), &secret, &web_push_native::Auth::from(auth))
        .expect("the payload decrypts with the browser's keys");
    let payload: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(payload["body"], "Your questionnaire is ready. Please open the app to answer it.");
    assert_eq!(payload["title"], "Questionnaire reminder");

    // The device is gone (410): the next reminder fails, the subscription is pruned.
    *push.answer.lock().unwrap() = 410;
    clock.set(at(today + chrono::Duration::days(2), 9, 5));
    let nurse = app.staff_token("nurse").await;
    assert_eq!(push.wait_for(2).await, 2);
    let view = reminders_once(&app, &nurse, &study_id, |view| view["messages"][0]["state"] == "failed").await;
    assert_eq!(view["messages"][0]["state"], "failed", "{view}");
    assert!(view["messages"][0]["error"].as_str().unwrap().contains("410"), "{view}");
    assert_eq!(view["settings"]["push_devices"], 0, "{view}");
    assert_eq!(app.count("SELECT COUNT(*) FROM push_subscriptions WHERE ended_at IS NOT NULL").await, 1);
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test]
async fn two_servers_on_one_postgresql_send_each_reminder_once() {
    let gateway = Endpoint::start(200).await;
    let today = qol_tests::study_today();
    let clock = Clock::fixed(at(today, 7, 30));
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |config| {
        settings(config, &clock);
        sms(&gateway)(config);
    })
    .await
    else {
        return;
    };
    add_staff(&app).await;
    let mut config = ServeConfig::for_tests(app.database_url());
    config.init = false;
    settings(&mut config, &clock);
    sms(&gateway)(&mut config);
    let (_, _, (stop, server)) = qol_tests::start_server(&config).await;
    let nurse = app.staff_token("nurse").await;
    for n in 0..8 {
        patient(&app, &nurse, &format!("+86 138 0013 {:04}", 8001 + n), "", "en").await;
    }
    clock.set(at(today, 9, 5));
    assert_eq!(gateway.wait_for(8).await, 8);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut numbers: Vec<String> =
        gateway.json().iter().map(|m| m["to"].as_str().unwrap().to_owned()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(
        (gateway.count(), numbers.len()),
        (8, 8),
        "each patient's reminder once: {:?}",
        gateway.json()
    );
    let _ = stop.send(());
    let _ = server.await;
}

#[tokio::test]
async fn a_site_protocol_starts_a_new_study_and_a_bad_one_is_refused_by_key() {
    let folder = std::env::temp_dir().join(format!("qol-protocol-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut protocol: Value =
        serde_json::from_str(qol_shared::schedule::Protocol::default_protocol_json()).unwrap();
    protocol["patient_id_prefix"] = "CX".into();
    protocol["reminders"]["days_after_opening"] = json!([3]);
    let good = folder.join("site.json");
    std::fs::write(&good, protocol.to_string()).unwrap();
    protocol["reminders"]["send_at"] = "9am".into();
    let bad = folder.join("bad.json");
    std::fs::write(&bad, protocol.to_string()).unwrap();

    let Some(database) = qol_tests::TestDatabase::create(Backend::Sqlite).await else { return };
    let mut config = ServeConfig::for_tests(&database.url);
    config.protocol_file = Some(bad);
    let error = Application::build(&config).await.unwrap_err().to_string();
    assert!(error.contains("--protocol") && error.contains("reminders.send_at"), "{error}");

    config.protocol_file = Some(good);
    let application = Application::build(&config).await.expect("a site protocol starts the demo study");
    assert_eq!(application.patient_id_prefix(), "CX");
    let demo: Vec<String> = qol_server::clinic::Clinic::open(application.db(), false)
        .await
        .unwrap()
        .0
        .protocol()
        .reminders
        .days_after_opening
        .iter()
        .map(u32::to_string)
        .collect();
    assert_eq!(demo, ["3"]);
    let ids = sqlx_codes(application.db()).await;
    assert!(ids.contains(&"CX-001".to_owned()) && ids.contains(&"CX-002".to_owned()), "{ids:?}");
    drop(application);

    // The database keeps its study: the shipped protocol given now is refused.
    let mut again = ServeConfig::for_tests(&database.url);
    again.protocol_file = Some(folder.join("shipped.json"));
    std::fs::write(folder.join("shipped.json"), qol_shared::schedule::Protocol::default_protocol_json())
        .unwrap();
    let error = Application::build(&again).await.unwrap_err().to_string();
    assert!(error.contains("another protocol"), "{error}");
    let _ = std::fs::remove_dir_all(folder);
}

async fn sqlx_codes(db: &qol_server::storage::Db) -> Vec<String> {
    db.study_codes().await.unwrap()
}

#[tokio::test]
async fn bad_reminder_settings_refuse_to_start_naming_the_flag() {
    let Some(database) = qol_tests::TestDatabase::create(Backend::Sqlite).await else { return };
    let missing = std::env::temp_dir().join(format!("qol-no-such-key-{}.pem", uuid::Uuid::new_v4()));
    type Configure = fn(&mut ServeConfig, &std::path::Path);
    let cases: [(&str, Configure); 5] = [
        ("--sms-gateway-url", |c, _| {
            c.reminders.sms_gateway_url = Some(Secret("sms.example.org/send".into()))
        }),
        ("--sms-gateway-url", |c, _| c.reminders.sms_gateway_token = Some(Secret("secret".into()))),
        ("--vapid-private-key-file", |c, missing| {
            c.reminders.vapid_private_key_file = Some(missing.to_owned());
            c.reminders.vapid_subject = Some("mailto:qol@example.org".into());
        }),
        ("--vapid-subject", |c, missing| c.reminders.vapid_private_key_file = Some(missing.to_owned())),
        ("--vapid-private-key-file", |c, _| {
            c.reminders.vapid_subject = Some("mailto:qol@example.org".into())
        }),
    ];
    for (flag, configure) in cases {
        let mut config = ServeConfig::for_tests(&database.url);
        configure(&mut config, &missing);
        let error = Application::build(&config).await.err().unwrap_or_else(|| panic!("{flag}: taken"));
        let text = format!("{error:#}");
        assert!(text.contains(flag), "{flag}: {text}");
        assert!(!text.contains("secret"), "the token is not repeated: {text}");
    }
    // A key file that holds no key, and a subject that is no contact.
    let folder = std::env::temp_dir().join(format!("qol-vapid-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("bad.pem"), "not a key").unwrap();
    let mut config = ServeConfig::for_tests(&database.url);
    config.reminders.vapid_private_key_file = Some(folder.join("bad.pem"));
    config.reminders.vapid_subject = Some("mailto:qol@example.org".into());
    let text = format!("{:#}", Application::build(&config).await.unwrap_err());
    assert!(text.contains("--vapid-private-key-file") && text.contains("qol admin vapid-keys"), "{text}");
    std::fs::write(folder.join("good.pem"), qol_server::notify::new_vapid_keys().unwrap().0).unwrap();
    config.reminders.vapid_private_key_file = Some(folder.join("good.pem"));
    config.reminders.vapid_subject = Some("qol team".into());
    let text = format!("{:#}", Application::build(&config).await.unwrap_err());
    assert!(text.contains("--vapid-subject"), "{text}");
    config.reminders.vapid_subject = Some("mailto:qol@example.org".into());
    assert!(Application::build(&config).await.is_ok(), "the same settings, right, start");
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test]
async fn a_gateway_that_is_down_is_tried_again_and_the_reminder_sent_once() {
    let gateway = Endpoint::start(503).await;
    let Some((app, clock, today)) = app_with(sms(&gateway)).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, _) = patient(&app, &nurse, "+86 138 0013 8000", "", "en").await;
    clock.set(at(today, 9, 5));
    // Down: the first attempt fails and waits (1 s here, 30 s by default), and is seen waiting.
    assert!(gateway.wait_for(1).await >= 1);
    let (_, view) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&nurse)).await;
    assert_eq!(view["messages"][0]["state"], "pending", "{view}");
    assert!(view["messages"][0]["error"].as_str().unwrap().contains("503"), "{view}");
    // Up again, and the retry's time comes (the clock is the test's): the same message (the
    // same message_id) is delivered, once.
    *gateway.answer.lock().unwrap() = 200;
    clock.advance(chrono::Duration::seconds(5));
    reminders_once(&app, &nurse, &study_id, |view| view["messages"][0]["state"] == "sent").await;
    let tried = gateway.wait_for(gateway.count() + 1).await;
    let (_, view) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&nurse)).await;
    assert_eq!(view["messages"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["messages"][0]["state"], "sent", "{view}");
    assert_eq!(view["messages"][0]["attempts"].as_i64().unwrap(), i64::try_from(tried).unwrap(), "{view}");
    let ids: std::collections::BTreeSet<String> =
        gateway.json().iter().map(|m| m["message_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same message id");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.sent'").await, 1);
}

#[tokio::test]
async fn a_retry_that_falls_in_the_quiet_hours_waits_for_the_morning() {
    let gateway = Endpoint::start(503).await;
    let Some((app, clock, today)) = app_with(sms(&gateway)).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, _) = patient(&app, &nurse, "+86 138 0013 8000", "", "en").await;
    // 20:50: queued and tried; the gateway is down.
    clock.set(at(today, 20, 50));
    assert!(gateway.wait_for(1).await >= 1);
    let tried = gateway.count();
    // The gateway is back, but it is 21:30: the retry waits for the end of the quiet hours,
    // without counting attempts while it waits.
    *gateway.answer.lock().unwrap() = 200;
    clock.set(at(today, 21, 30));
    assert_eq!(gateway.wait_for(tried + 1).await, tried, "nothing is sent in the quiet hours");
    let nurse = app.staff_token("nurse").await;
    let (_, view) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&nurse)).await;
    assert_eq!(view["messages"][0]["state"], "pending", "{view}");
    assert_eq!(view["messages"][0]["attempts"].as_i64(), Some(i64::try_from(tried).unwrap()), "{view}");
    // 08:05 the next morning: sent, once.
    clock.set(at(today + chrono::Duration::days(1), 8, 5));
    assert_eq!(gateway.wait_for(tried + 1).await, tried + 1);
    let nurse = app.staff_token("nurse").await;
    let (_, view) = app.get_as(&format!("/api/v1/patients/{study_id}/reminders"), Some(&nurse)).await;
    assert_eq!(view["messages"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["messages"][0]["state"], "sent", "{view}");
}

#[tokio::test]
async fn a_server_back_on_the_last_day_says_still_waiting_not_closes_tomorrow() {
    let gateway = Endpoint::start(200).await;
    let Some((app, clock, _)) = app_with(sms(&gateway)).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (_, token) = patient(&app, &nurse, "+86 138 0013 8000", "", "en").await;
    let end: NaiveDate =
        app.my_assessment(&token, "baseline").await["window_end"].as_str().unwrap().parse().unwrap();
    // The server was away from before the window opened until its last day.
    clock.set(at(end, 9, 5));
    assert_eq!(gateway.wait_for(1).await, 1, "one message, not a backlog");
    let sent = &gateway.json()[0];
    assert_eq!(sent["template"], "not_done", "{sent}");
    assert_eq!(sent["text"], "A reminder: your questionnaire is still waiting for you in the app.");
}

#[tokio::test]
async fn a_queued_reminder_to_an_address_no_longer_hers_is_cancelled() {
    // An SMTP server that is not there: the first attempt fails and waits.
    let port = SmtpSink::free_port();
    let Some((app, clock, today)) = app_with(|config| {
        config.mail = MailConfig {
            smtp_url: Some(Secret(format!("smtp://127.0.0.1:{port}"))),
            mail_from: Some("qol@example.org".into()),
            outbox_retry: Some(Duration::from_secs(1)),
            ..Default::default()
        };
    })
    .await
    else {
        return;
    };
    let nurse = app.staff_token("nurse").await;
    let (study_id, _) = patient(&app, &nurse, "+86 138 0013 8000", "old@example.cn", "en").await;
    clock.set(at(today, 9, 5));
    let path = format!("/api/v1/patients/{study_id}/reminders");
    let view =
        reminders_once(&app, &nurse, &study_id, |view| view["messages"][0]["attempts"].as_i64() >= Some(1))
            .await;
    assert_eq!(view["messages"][0]["state"], "pending", "{view}");
    assert!(!view["messages"][0]["error"].as_str().unwrap_or_default().contains("old@example.cn"), "{view}");
    // Her nurse corrects the address; the retry is not sent to the old one.
    let (status, _) = app
        .post_as(
            &path,
            Some(&nurse),
            &json!({ "channel": "email", "language": "en", "email": "new@example.cn" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    clock.advance(chrono::Duration::seconds(5));
    let view =
        reminders_once(&app, &nurse, &study_id, |view| view["messages"][0]["state"] != "pending").await;
    assert_eq!(view["messages"][0]["state"], "cancelled", "{view}");
    assert_eq!(view["messages"][0]["error"], "not sent: her contact details changed", "{view}");
}
