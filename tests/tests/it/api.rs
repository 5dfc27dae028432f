//! The HTTP API and the app shell, as a client sees them.

use qol_shared::api::{ApiError, HealthStatus, InstrumentSummary, StudySummary};
use qol_shared::wording::InstrumentView;
use qol_tests::{Backend, TestApp, dist_dir, on_both_backends, skip};
use reqwest::StatusCode;

async fn health_and_readiness_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let health: HealthStatus = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health.status, "ok");
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let ready: HealthStatus = response.json().await.unwrap();
    assert_eq!(ready.status, "ready");
}
on_both_backends!(health_and_readiness_answer, super::health_and_readiness_answer);

async fn readiness_fails_when_the_database_is_gone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    app.db.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(
        error.error,
        "the database is not available right now; nothing was changed, please try again shortly"
    );
    // The process itself is still up.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
on_both_backends!(
    readiness_fails_when_the_database_is_gone,
    super::readiness_fails_when_the_database_is_gone
);

async fn a_new_database_is_seeded_with_the_demo_study(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (status, body) = app.get_json("/api/v1/study").await;
    assert_eq!(status, StatusCode::OK);
    let study: StudySummary = serde_json::from_value(body).unwrap();
    assert_eq!(study.code, "IVB-DEMO");
    assert_eq!(study.strata, ["nodal", "hematogenous"]);
}
on_both_backends!(
    a_new_database_is_seeded_with_the_demo_study,
    super::a_new_database_is_seeded_with_the_demo_study
);

async fn without_the_demo_flag_the_study_is_created_without_demo_data(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |config| config.demo = false).await else { return };
    let (status, body) = app.get_json("/api/v1/study").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["code"], "IVB-QOL");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
}
on_both_backends!(
    without_the_demo_flag_the_study_is_created_without_demo_data,
    super::without_the_demo_flag_the_study_is_created_without_demo_data
);

#[tokio::test]
async fn instruments_are_listed_with_their_languages_and_the_demonstration_notice() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, body) = app.get_json("/api/v1/instruments").await;
    assert_eq!(status, StatusCode::OK);
    let list: Vec<InstrumentSummary> = serde_json::from_value(body).unwrap();
    let summary: Vec<(String, usize, usize)> =
        list.iter().map(|i| (i.id.to_string(), i.item_count, i.scale_codes.len())).collect();
    assert_eq!(summary, [("qlq-c30".into(), 30, 16), ("qlq-cx24".into(), 24, 9)]);
    assert_eq!(list[0].languages, ["en", "zh-CN"]);
    assert_eq!(
        list[0].notice.as_deref(),
        Some("These are simplified demonstration questions, not the validated questionnaire.")
    );
}

#[tokio::test]
async fn an_instrument_comes_with_wording_in_the_requested_language() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, body) = app.get_json("/api/v1/instruments/qlq-cx24?lang=zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    let view: InstrumentView = serde_json::from_value(body).unwrap();
    assert_eq!(view.language, "zh-CN");
    assert_eq!(view.items.len(), 24);
    assert_eq!(view.items[0].number, 31);
    assert_eq!(view.items[0].options[3].label, "非常多");
    assert_eq!(view.notice.as_deref(), Some("这些是简化的演示问题，并非经过验证的问卷。"));
    let (_, english) = app.get_json("/api/v1/instruments/qlq-c30").await;
    assert_eq!(english["language"], "en");
    assert_eq!(english["items"][0]["text"], "Trouble with strenuous activities");
}

#[tokio::test]
async fn unknown_instruments_languages_and_routes_get_a_json_404_that_says_what_to_do() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, body) = app.get_json("/api/v1/instruments/qlq-br23").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "there is no instrument \"qlq-br23\"; use qlq-c30 or qlq-cx24");
    let (status, body) = app.get_json("/api/v1/instruments/qlq-c30?lang=fr").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "the wording pack has no language \"fr\"; use one of: en, zh-CN");
    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "there is no such API route");
}

#[tokio::test]
async fn a_malformed_address_or_query_gets_a_json_400_and_a_stranger_learns_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let nurse = app.staff_token("nurse").await;
    let (status, body) =
        app.post_as("/api/v1/alerts/abc/acknowledge", Some(&nurse), &serde_json::json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("the address is not valid"), "{body}");
    let (status, body) = app.get_as("/api/v1/alerts?state=new&state=new", Some(&nurse)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("the query is not valid"), "{body}");
    let researcher = app.staff_token("researcher").await;
    let (status, body) =
        app.get_as("/api/v1/research/analysis?responder_points=ten", Some(&researcher)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("the query is not valid"), "{body}");
    // Not signed in: told to sign in, whatever the query.
    let (status, body) = app.get_as("/api/v1/alerts?state=new&state=new", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.max_body_bytes = 1024).await.unwrap();
    let response = app.post_raw("/api/v1/auth/staff/sign-in", "application/json", vec![b' '; 4096]).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for path in ["/healthz", "/api/v1/instruments", "/api/v1/missing", "/"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn without_a_built_app_the_root_page_says_how_to_build_it() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("cargo xtask dist"));
}

#[tokio::test]
async fn the_built_app_is_served_with_the_right_types_caching_and_compression() {
    let Some(dist) = dist_dir() else {
        skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return;
    };
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist.clone()).await.unwrap();

    let index = app.get("/").await;
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = index.text().await.unwrap();
    assert!(!html.contains("{{"), "placeholders left in index.html");

    // A client-side route gets the same shell, so a reload on any screen works.
    let client_route = app.get("/instruments/qlq-c30").await;
    assert_eq!(client_route.status(), StatusCode::OK);
    assert_eq!(client_route.text().await.unwrap(), html);

    let assets: Vec<String> = std::fs::read_dir(dist.join("assets"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let wasm = assets.iter().find(|name| name.ends_with(".wasm")).expect("a wasm asset");
    let response = app
        .client
        .get(app.url(&format!("/assets/{wasm}")))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    let raw = std::fs::read(dist.join("assets").join(format!("{wasm}.br"))).unwrap();
    assert_eq!(response.bytes().await.unwrap().len(), raw.len());

    let plain = app
        .client
        .get(app.url(&format!("/assets/{wasm}")))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(&plain.bytes().await.unwrap()[..4], b"\0asm");

    let missing = app.get("/assets/nothing-here.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_server_agrees_with_it() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, document) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let paths = document["paths"].as_object().unwrap();
    let mut operations = Vec::new();
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().unwrap() {
            operations.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    let listed: Vec<String> = operations.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    for expected in [
        "POST /api/v1/auth/staff/sign-in",
        "POST /api/v1/auth/patient/activate",
        "POST /api/v1/auth/patient/sign-in",
        "POST /api/v1/auth/sign-out",
        "GET /api/v1/auth/me",
        "GET /api/v1/instruments",
        "GET /api/v1/instruments/{id}",
        "POST /api/v1/patients",
        "GET /api/v1/patients",
        "GET /api/v1/patients/{study_id}",
        "POST /api/v1/patients/{study_id}/events",
        "GET /api/v1/patients/{study_id}/assessments",
        "GET /api/v1/patients/{study_id}/submissions",
        "POST /api/v1/patients/{study_id}/activation-code",
        "GET /api/v1/me/assessments",
        "POST /api/v1/me/submissions",
    ] {
        assert!(listed.contains(&expected.to_owned()), "{expected} is not documented");
    }
    // Every documented operation exists, and those that name a security requirement refuse an
    // anonymous caller.
    for (method, path, operation) in &operations {
        let concrete = path.replace("{study_id}", "IVB-001").replace("{id}", "qlq-c30");
        let (status, body) = if method == "GET" {
            app.get_json(&concrete).await
        } else {
            let response = app.post_raw(&concrete, "application/json", b"{}".to_vec()).await;
            let status = response.status();
            (status, response.json().await.unwrap_or(serde_json::Value::Null))
        };
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            body["error"] != "there is no such API route",
            "{method} {path} is documented but not routed"
        );
        if operation.get("security").is_some() {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} answered an anonymous caller");
        }
    }
}
