//! The one clock and "reads never write": a server on a settable clock, moved on by weeks. What
//! patients, nurses and researchers read then never changes the stored schedule; the scheduler
//! (at every start, then periodically) brings it in step with the date.

use std::time::Duration;

use chrono::Utc;
use qol_server::clock::Clock;
use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

/// The stored schedule of one patient, as a fingerprint: rows, withdrawn rows, highest id, keys.
async fn schedule_of(app: &TestApp, study_id: &str) -> (i64, i64, i64, i64) {
    let of = |what: &str| {
        format!(
            "SELECT {what} FROM assessments a JOIN patients p ON p.id = a.patient_id WHERE p.study_code = '{study_id}'"
        )
    };
    (
        app.count_dynamic(of("COUNT(*)")).await,
        app.count_dynamic(of("COUNT(*)") + " AND a.withdrawn = 1").await,
        app.count_dynamic(of("COALESCE(MAX(a.id), 0)")).await,
        app.count_dynamic(of("COUNT(*)") + " AND a.key LIKE 'weekly-%'").await,
    )
}

/// A patient in weekly therapy (her PIN the demo's) on a server whose clock is `clock`; returns
/// the app and her study id.
async fn patient_in_therapy(
    backend: Backend,
    clock: &Clock,
    schedule_every: Duration,
) -> Option<(TestApp, String)> {
    let app = TestApp::spawn_with(backend, |config| {
        config.clock = clock.clone();
        config.schedule_every = schedule_every;
    })
    .await?;
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 0).await;
    app.activate(&code, qol_server::clinic::demo::DEMO_PIN).await;
    let (status, body) = app
        .record_event(&nurse, &study_id, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), 0, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Some((app, study_id))
}

async fn reads_never_write_and_the_scheduler_moves_the_schedule_with_the_date(backend: Backend) {
    let clock = Clock::fixed(Utc::now());
    let Some((mut app, study_id)) = patient_in_therapy(backend, &clock, Duration::from_secs(3600)).await
    else {
        return;
    };
    let before = schedule_of(&app, &study_id).await;
    assert!(before.3 > 0, "weekly forms are scheduled ahead while therapy goes on: {before:?}");

    // Five weeks later, before the scheduler's next pass: everyone signs in (their sessions of
    // five weeks ago have ended) and reads.
    clock.advance(chrono::Duration::days(35));
    let nurse = app.staff_token("nurse").await;
    let researcher = app.staff_token("researcher").await;
    let patient = app.patient_token(&study_id).await;
    for (path, token) in [
        (format!("/api/v1/patients/{study_id}/assessments"), &nurse),
        (format!("/api/v1/patients/{study_id}/assessments"), &researcher),
        (format!("/api/v1/patients/{study_id}"), &nurse),
        ("/api/v1/assessments/overdue".to_owned(), &nurse),
        ("/api/v1/assessments/missed?all=true".to_owned(), &nurse),
        ("/api/v1/alerts".to_owned(), &nurse),
        ("/api/v1/research/analysis".to_owned(), &researcher),
        ("/api/v1/research/completion".to_owned(), &researcher),
        ("/api/v1/me/assessments".to_owned(), &patient),
        ("/api/v1/me/submissions".to_owned(), &patient),
    ] {
        let (status, body) = app.get_as(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let export =
        app.client.get(app.url("/api/v1/exports/schedule.csv")).bearer_auth(&researcher).send().await;
    assert_eq!(export.unwrap().status(), StatusCode::OK);
    assert_eq!(schedule_of(&app, &study_id).await, before, "a read wrote to the schedule");

    // The scheduler's pass at start brings her schedule in step with the date: more weeks.
    app.restart().await;
    let after = schedule_of(&app, &study_id).await;
    assert!(
        after.3 > before.3,
        "the scheduler scheduled the weeks ahead of the new date: {before:?} → {after:?}"
    );
    // The forms read now are those of the new date: week 5's window is open.
    let week = app.my_assessment(&patient, "weekly-05").await;
    assert_eq!(week["state"], "open", "{week}");
}
on_both_backends!(
    reads_never_write_and_the_scheduler_moves_the_schedule_with_the_date,
    super::reads_never_write_and_the_scheduler_moves_the_schedule_with_the_date
);

/// The scheduler also runs while the server runs (here every 200 ms), without any request.
async fn the_scheduler_runs_periodically(backend: Backend) {
    let clock = Clock::fixed(Utc::now());
    let Some((app, study_id)) = patient_in_therapy(backend, &clock, Duration::from_millis(200)).await else {
        return;
    };
    let before = schedule_of(&app, &study_id).await;
    clock.advance(chrono::Duration::days(35));
    let mut after = before;
    for _ in 0..100 {
        after = schedule_of(&app, &study_id).await;
        if after.3 > before.3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(after.3 > before.3, "no pass of the scheduler within 10 s: {before:?} → {after:?}");
}
on_both_backends!(the_scheduler_runs_periodically, super::the_scheduler_runs_periodically);

/// Every time the server writes comes from its clock: a receipt, the audit trail.
async fn the_server_takes_its_time_from_its_clock(backend: Backend) {
    // Stored times keep microseconds.
    let at =
        chrono::DateTime::from_timestamp_micros((Utc::now() - chrono::Duration::hours(3)).timestamp_micros())
            .unwrap();
    let clock = Clock::fixed(at);
    let Some(app) = TestApp::spawn_with(backend, |config| config.clock = clock.clone()).await else { return };
    let patient = app.patient_token("IVB-001").await;
    let mut report = qol_tests::c30_report(&uuid::Uuid::new_v4().to_string(), 2);
    report["completed_at"] = (at - chrono::Duration::minutes(5)).to_rfc3339().into();
    let (status, receipt) = app.post_as("/api/v1/me/submissions", Some(&patient), &report).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let received = chrono::DateTime::parse_from_rfc3339(receipt["received_at"].as_str().unwrap()).unwrap();
    assert_eq!(received.to_utc(), at, "the receipt carries the clock's time");
    let audited = app
        .count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.store' AND entity_id = '{}' AND occurred_at = '{}'",
            receipt["submission_id"],
            receipt["received_at"].as_str().unwrap()
        ))
        .await;
    assert_eq!(audited, 1, "the audit entry carries the clock's time");
}
on_both_backends!(the_server_takes_its_time_from_its_clock, super::the_server_takes_its_time_from_its_clock);
