//! The server's edges: slow clients are cut off (header and body timeouts), a connection limit
//! makes further clients wait instead of exhausting the process, cross-site requests are refused,
//! API answers are never cached, and `X-Forwarded-For` is believed only from a trusted proxy.
//! These are properties of the HTTP layer, not of storage, so SQLite is enough.

use std::time::{Duration, Instant};

use qol_tests::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw connection to the app, for clients no HTTP library would imitate.
async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("the server listens")
}

/// Everything the server sends until it closes the connection, and how long that took; `None`
/// when it is still open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => {
                return Some((String::from_utf8_lossy(&received).into_owned(), started.elapsed()));
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test]
async fn a_half_sent_request_header_is_cut_off_after_the_header_timeout() {
    let Some(app) =
        TestApp::spawn_with(Backend::Sqlite, |config| config.header_timeout = Duration::from_secs(1)).await
    else {
        return;
    };
    let mut stream = connect(&app).await;
    stream.write_all(b"POST /api/v1/auth/patient/sign-in HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (answer, elapsed) = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("the server closes a connection that stops halfway through its headers");
    assert!(elapsed >= Duration::from_millis(900), "closed after {elapsed:?}, before the timeout");
    assert_eq!(answer, "", "a request that never arrived whole gets no answer");
    // The server is still there for everyone else.
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
}

#[tokio::test]
async fn at_the_connection_limit_new_clients_wait_and_the_server_recovers_when_idle_clients_time_out() {
    const LIMIT: usize = 8;
    let header_timeout = Duration::from_secs(1);
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.max_connections = LIMIT;
        config.header_timeout = header_timeout;
    })
    .await
    else {
        return;
    };
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(connect(&app).await);
    }
    // Each idle client notes when the server closed it.
    let closed: Vec<_> = idle
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                read_until_closed(&mut stream, Duration::from_secs(25)).await.map(|(_, _)| Instant::now())
            })
        })
        .collect();

    // Forty idle connections fill the server: a new client is not served at once...
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let refused = impatient.get(app.url("/healthz")).send().await;
    assert!(refused.is_err(), "a full server still served a new client at once: {refused:?}");

    // ...but is served once the idle ones have timed out, without any help.
    let patient = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let response = patient.get(app.url("/healthz")).send().await.expect("the server recovers by itself");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let mut closed_at = Vec::new();
    for task in closed {
        closed_at.push(task.await.unwrap().expect("the server closes every idle connection"));
    }
    closed_at.sort();
    // Every connection stays open for the whole header timeout, so if nine of them closed within
    // one timeout of each other, nine were open at once. (Half the timeout allows for scheduling.)
    for (first, ninth) in closed_at.iter().zip(closed_at.iter().skip(LIMIT)) {
        let apart = *ninth - *first;
        assert!(
            apart >= header_timeout / 2,
            "more than {LIMIT} connections were open at once ({apart:?} apart)"
        );
    }
    let last = closed_at.last().unwrap().duration_since(started);
    assert!(last >= header_timeout * 4, "40 idle clients, 8 at a time, take five rounds, not {last:?}");
}

#[tokio::test]
async fn a_trickled_request_body_gets_408_within_the_body_timeout() {
    let Some(app) =
        TestApp::spawn_with(Backend::Sqlite, |config| config.body_timeout = Duration::from_secs(1)).await
    else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /api/v1/auth/staff/sign-in HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // A byte every quarter second: 25 seconds for the whole body.
    let trickle = tokio::spawn(async move {
        for _ in 0..99 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("}") {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buffer)).await {
            Err(_) => panic!("no answer 10 s into a trickled body: {:?}", String::from_utf8_lossy(&answer)),
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
        }
    }
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout"), "{answer}");
    assert!(
        answer.ends_with(
            r#"{"error":"the request body arrived too slowly and was cut off; send it again","code":"timed_out"}"#
        ),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
}

/// Signs the demo nurse in; the session cookie (`qol_session=…`) and the bearer token.
async fn nurse_cookie(app: &TestApp) -> (String, String) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/staff/sign-in"))
        .json(&json!({ "username": "nurse", "password": "demo-nurse-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    (cookie, body["token"].as_str().unwrap().to_owned())
}

async fn alert_state(app: &TestApp, token: &str, id: i64) -> String {
    let (status, alerts) = app.get_as("/api/v1/alerts", Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    let alert =
        alerts.as_array().unwrap().iter().find(|alert| alert["id"] == id).expect("the alert is listed");
    alert["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing_while_same_origin_posts_work() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else { return };
    let (cookie, token) = nurse_cookie(&app).await;
    let (_, alerts) = app.get_as("/api/v1/alerts?state=new", Some(&token)).await;
    let alert = alerts[0]["id"].as_i64().expect("the demo has new alerts");
    let own_origin = app.address.clone();
    let acknowledge = format!("/api/v1/alerts/{alert}/acknowledge");
    let refusal = json!({
        "error": "cross-site requests are refused: send this request from the qol app itself",
        "code": "forbidden",
    });

    let cross_site: [(&str, &str); 3] = [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (header, value) in cross_site {
        for path in [acknowledge.as_str(), "/api/v1/auth/sign-out"] {
            let response = app
                .client
                .post(app.url(path))
                .header("cookie", &cookie)
                .header(header, value)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} with {header}: {value}");
            assert_eq!(response.json::<Value>().await.unwrap(), refusal);
        }
    }
    // Nothing changed: the alert is still new, and the session still works.
    assert_eq!(alert_state(&app, &token, alert).await, "new");
    let me = app.client.get(app.url("/api/v1/auth/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // The same requests from the app's own page are served.
    let same_origin = |path: &str| {
        app.client
            .post(app.url(path))
            .header("cookie", &cookie)
            .header("origin", &own_origin)
            .header("sec-fetch-site", "same-origin")
    };
    let acknowledged = same_origin(&acknowledge).send().await.unwrap();
    assert_eq!(acknowledged.status(), StatusCode::OK);
    assert_eq!(acknowledged.json::<Value>().await.unwrap()["state"], "acknowledged");
    assert_eq!(same_origin("/api/v1/auth/sign-out").send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let me = app.client.get(app.url("/api/v1/auth/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_and_health_answers_tell_caches_not_to_store_them() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else { return };
    let sign_in = app
        .client
        .post(app.url("/api/v1/auth/staff/sign-in"))
        .json(&json!({ "username": "nurse", "password": "demo-nurse-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), StatusCode::OK);
    assert_eq!(sign_in.headers()["cache-control"], "no-store");
    let token = sign_in.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

    let patients = app.client.get(app.url("/api/v1/patients")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(patients.status(), StatusCode::OK);
    assert_eq!(patients.headers()["cache-control"], "no-store");
    for path in ["/healthz", "/readyz", "/api/v1/no-such-route", "/api/v1/study"] {
        let response = app.get(path).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "{path} ({})", response.status());
    }
}

/// Sends a wrong activation code as if from `client` (through a proxy on 127.0.0.1).
async fn wrong_activation_from(app: &TestApp, client: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/patient/activate"))
        .header("x-forwarded-for", client)
        .json(&json!({ "activation_code": "WRONG-CODE-0000", "pin": "2468" }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn x_forwarded_for_names_the_client_only_when_the_peer_is_a_trusted_proxy() {
    let Some(behind_proxy) = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(wrong_activation_from(&behind_proxy, "10.0.0.1").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(wrong_activation_from(&behind_proxy, "10.0.0.1").await, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not locked out with the first.
    assert_eq!(wrong_activation_from(&behind_proxy, "10.0.0.2").await, StatusCode::UNAUTHORIZED);
    // A client cannot escape its lockout by claiming another address: the proxy appends the real one.
    assert_eq!(
        wrong_activation_from(&behind_proxy, "10.0.0.3, 10.0.0.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        behind_proxy.count("SELECT COUNT(*) FROM audit_log WHERE entity_id = 'activation:10.0.0.2'").await,
        1
    );

    let Some(direct) = TestApp::spawn(Backend::Sqlite).await else { return };
    for _ in 0..5 {
        assert_eq!(wrong_activation_from(&direct, "10.0.0.1").await, StatusCode::UNAUTHORIZED);
    }
    // Without a trusted proxy the header is the client's word: ignored, the peer is the client.
    assert_eq!(wrong_activation_from(&direct, "10.0.0.2").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        direct.count("SELECT COUNT(*) FROM audit_log WHERE entity_id = 'activation:127.0.0.1'").await,
        6
    );
    assert_eq!(
        direct.count("SELECT COUNT(*) FROM audit_log WHERE entity_id LIKE 'activation:10.%'").await,
        0
    );
}

/// Not new behaviour but a guard for it: the accept loop that replaced `axum::serve` still stops
/// gracefully. (This passes on the old server too.)
#[tokio::test]
async fn stopping_lets_a_request_in_flight_finish_and_does_not_wait_for_idle_connections() {
    let Some(mut app) = TestApp::spawn(Backend::Sqlite).await else { return };
    let _idle = connect(&app).await;
    let body = br#"{"username":"nurse","password":"demo-nurse-password"}"#;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/auth/staff/sign-in HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    // Time for the server to accept the connection and read the headers: the request is in flight.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let finish = async {
        // The rest of the body arrives after the stop was asked for.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stream.write_all(&body[10..]).await.unwrap();
        read_until_closed(&mut stream, Duration::from_secs(10))
            .await
            .expect("the answer comes, then the close")
    };
    let ((), (answer, _)) = tokio::join!(app.stop(), finish);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains(r#""role":"nurse""#), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "stopping took {:?}", started.elapsed());
    assert!(TcpStream::connect(app.address.trim_start_matches("http://")).await.is_err(), "still accepting");
}
