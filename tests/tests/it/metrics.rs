//! `GET /metrics` (issue 20): what Prometheus scrapes, counted by route template (never a study
//! id), the database's numbers equal to the database, and who may read it: this machine without
//! a proxy, or the bearer of `--metrics-token`. On both databases.

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;

async fn scrape(app: &TestApp, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut request = app.client.get(app.url("/metrics"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn metrics_count_requests_by_route_and_read_the_database(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    for _ in 0..3 {
        let (status, body) = app.get_as("/api/v1/patients/IVB-001", Some(&nurse)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = app.get_as("/api/v1/patients/IVB-999", Some(&nurse)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.unwrap();
    // By the route's template, with its status; the study ids asked for are nowhere.
    for line in [
        r#"qol_http_requests_total{method="GET",route="/api/v1/patients/{study_id}",status="200"} 3"#,
        r#"qol_http_requests_total{method="GET",route="/api/v1/patients/{study_id}",status="404"} 1"#,
        r#"qol_http_request_duration_seconds_count{method="GET",route="/api/v1/patients/{study_id}"} 4"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line} in\n{text}");
    }
    assert!(!text.contains("IVB-"), "a study id in the metrics");
    // The database's numbers are the database's.
    let submissions = app.count("SELECT COUNT(*) FROM submissions").await;
    assert!(submissions > 0, "the demo has forms");
    assert!(text.lines().any(|l| l == format!("qol_submissions_stored {submissions}")), "{text}");
    let mut open = 0;
    for tier in ["red", "amber", "info"] {
        let n = app
            .count_dynamic(format!(
                "SELECT COUNT(*) FROM alert_cards WHERE state <> 'resolved' AND tier = '{tier}'"
            ))
            .await;
        open += n;
        let line = format!(r#"qol_open_alert_cards{{tier="{tier}"}} {n}"#);
        assert!(text.lines().any(|l| l == line), "no line {line} in\n{text}");
    }
    assert!(open > 0, "the demo has open cards");
    let pending = app.count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").await;
    assert!(text.lines().any(|l| l == format!("qol_outbox_pending {pending}")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("qol_db_pool_connections ")), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));

    // A request relayed by a proxy on this machine is not this machine's: 404, as for any page
    // that does not exist.
    for header in [("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9")] {
        let (status, body) = scrape(&app, &[header]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{header:?}: {body}");
        assert!(!body.contains("qol_"));
    }
}
on_both_backends!(
    metrics_count_requests_by_route_and_read_the_database,
    super::metrics_count_requests_by_route_and_read_the_database
);

#[tokio::test]
async fn with_a_metrics_token_only_its_bearer_reads_the_metrics() {
    let token = "a-long-random-metrics-token";
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.metrics_token = Some(token.to_owned()))
        .await
        .unwrap();
    let bearer = format!("Bearer {token}");
    let wrong = format!("Bearer {token}x");
    let short = "Bearer a-long";
    for (headers, want) in [
        (vec![], StatusCode::NOT_FOUND),
        (vec![("Authorization", wrong.as_str())], StatusCode::NOT_FOUND),
        (vec![("Authorization", short)], StatusCode::NOT_FOUND),
        (vec![("Authorization", bearer.as_str())], StatusCode::OK),
        // Through a proxy too: the token is what counts.
        (vec![("Authorization", bearer.as_str()), ("X-Forwarded-For", "203.0.113.9")], StatusCode::OK),
    ] {
        let (status, body) = scrape(&app, &headers).await;
        assert_eq!(status, want, "{headers:?}");
        assert_eq!(body.contains("qol_http_requests_total"), want == StatusCode::OK, "{body}");
    }
}
