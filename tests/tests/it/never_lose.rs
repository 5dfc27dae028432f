//! Never lose, never let in: storage faults (a full disk, a database removed, replaced or
//! re-created under the server), brute force with parallel guesses, bounded memory for anonymous
//! sign-ins, sessions that end when they must, backup and restore with the audit head, and the
//! small edges (client ids, unscheduled keys, the read-only audit check).

use std::time::Duration;

use qol_tests::{
    Backend, ServerProcess, TestApp, TestDatabase, c30_report, on_both_backends, run_qol, slow_tests,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends every request at once (each on a task of its own) and returns the statuses.
async fn all_at_once(app: &TestApp, path: &str, bodies: Vec<Value>) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies {
        let (client, url) = (app.client.clone(), app.url(path));
        tasks.spawn(async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() });
    }
    tasks.join_all().await
}

async fn throttle_failures(app: &TestApp, key: &str) -> i64 {
    app.count_dynamic(format!("SELECT COALESCE(MAX(failures), 0) FROM sign_in_throttle WHERE key = '{key}'"))
        .await
}

async fn a_hundred_parallel_wrong_pins_lock_the_patient_until_a_nurse_unlocks(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 0).await;
    app.activate(&code, "1357").await;

    let guesses =
        (0..100).map(|n| json!({ "study_id": study_id, "pin": format!("{:04}", 2000 + n) })).collect();
    let statuses = all_at_once(&app, "/api/v1/auth/patient/sign-in", guesses).await;
    assert!(statuses.iter().all(|status| *status == 401 || *status == 429), "{statuses:?}");
    let failures = throttle_failures(&app, &format!("patient:{study_id}")).await;
    assert!(failures >= 5, "every parallel attempt must count before its check; counted {failures}");
    // At most one check per key ran at a time, and the key locked at the limit: only a few of the
    // hundred guesses were ever checked.
    let checked = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.sign_in_failed'").await;
    assert!((1..=5).contains(&checked), "{checked} guesses were checked");
    // The refusals are one summary entry, not ninety-odd.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.attempts_refused'").await, 1);

    // The right PIN is refused while the lockout lasts.
    let right = json!({ "study_id": study_id, "pin": "1357" });
    let (status, body) = app.post_as("/api/v1/auth/patient/sign-in", None, &right).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("too many failed attempts; try again in"), "{body}");

    // A researcher may not unlock; the nurse can, and then the right PIN works.
    let researcher = app.staff_token("researcher").await;
    let path = format!("/api/v1/patients/{study_id}/unlock");
    assert_eq!(app.post_as(&path, Some(&researcher), &json!({})).await.0, StatusCode::FORBIDDEN);
    let (status, change) = app.post_as(&path, Some(&nurse), &json!({})).await;
    assert_eq!((status, change["changed"].as_bool()), (StatusCode::OK, Some(true)), "{change}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.unlock'").await, 1);
    let (status, body) = app.post_as("/api/v1/auth/patient/sign-in", None, &right).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
on_both_backends!(
    a_hundred_parallel_wrong_pins_lock_the_patient_until_a_nurse_unlocks,
    super::a_hundred_parallel_wrong_pins_lock_the_patient_until_a_nurse_unlocks
);

async fn parallel_wrong_passwords_lock_a_staff_account_until_an_admin_unlocks(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let guesses =
        (0..40).map(|n| json!({ "username": "nurse", "password": format!("guess number {n}") })).collect();
    let statuses = all_at_once(&app, "/api/v1/auth/staff/sign-in", guesses).await;
    assert!(statuses.iter().all(|status| *status == 401 || *status == 429), "{statuses:?}");
    assert!(throttle_failures(&app, "staff:nurse").await >= 5);
    let right = json!({ "username": "nurse", "password": "demo-nurse-password" });
    assert_eq!(
        app.post_as("/api/v1/auth/staff/sign-in", None, &right).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, change) = app.post_as("/api/v1/staff/nurse/unlock", Some(&admin), &json!({})).await;
    assert_eq!((status, change["changed"].as_bool()), (StatusCode::OK, Some(true)), "{change}");
    assert_eq!(app.post_as("/api/v1/auth/staff/sign-in", None, &right).await.0, StatusCode::OK);
}
on_both_backends!(
    parallel_wrong_passwords_lock_a_staff_account_until_an_admin_unlocks,
    super::parallel_wrong_passwords_lock_a_staff_account_until_an_admin_unlocks
);

async fn a_successful_activation_forgives_the_addresses_failed_codes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let wrong = json!({ "activation_code": "AAAA-BBBB-CCCC", "pin": "1234" });
    for _ in 0..4 {
        assert_eq!(
            app.post_as("/api/v1/auth/patient/activate", None, &wrong).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (_, code) = app.enrol(&nurse, "nodal", 0).await;
    app.activate(&code, "1357").await;
    // The count started again: four more mistakes are still only mistakes, not a lockout.
    for _ in 0..4 {
        assert_eq!(
            app.post_as("/api/v1/auth/patient/activate", None, &wrong).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(throttle_failures(&app, "activation:127.0.0.1").await, 4);
}
on_both_backends!(
    a_successful_activation_forgives_the_addresses_failed_codes,
    super::a_successful_activation_forgives_the_addresses_failed_codes
);

async fn a_new_activation_code_ends_the_lost_phones_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 0).await;
    let old_phone = app.activate(&code, "1357").await;
    let also_old = app
        .post_as("/api/v1/auth/patient/sign-in", None, &json!({ "study_id": study_id, "pin": "1357" }))
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get_as("/api/v1/me/assessments", Some(&old_phone)).await.0, StatusCode::OK);

    let (status, sheet) =
        app.post_as(&format!("/api/v1/patients/{study_id}/activation-code"), Some(&nurse), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{sheet}");
    // Both sessions of the lost phone end at once, before the new phone is even activated.
    for token in [&old_phone, &also_old] {
        assert_eq!(app.get_as("/api/v1/me/assessments", Some(token)).await.0, StatusCode::UNAUTHORIZED);
    }
    let new_phone = app.activate(sheet["activation_code"].as_str().unwrap(), "8642").await;
    assert_eq!(app.get_as("/api/v1/me/assessments", Some(&new_phone)).await.0, StatusCode::OK);
    // The old PIN is gone with the old phone.
    let (status, _) = app
        .post_as("/api/v1/auth/patient/sign-in", None, &json!({ "study_id": study_id, "pin": "1357" }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
on_both_backends!(
    a_new_activation_code_ends_the_lost_phones_session,
    super::a_new_activation_code_ends_the_lost_phones_session
);

async fn a_disabled_staff_account_cannot_sign_in_and_its_sessions_end(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let nurse_laptop = app.staff_token("nurse").await;
    // Only an admin may, and not on their own account.
    assert_eq!(
        app.post_as("/api/v1/staff/nurse/disable", Some(&nurse), &json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_as("/api/v1/staff/admin/disable", Some(&admin), &json!({})).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post_as("/api/v1/staff/nobody/disable", Some(&admin), &json!({})).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, change) = app.post_as("/api/v1/staff/nurse/disable", Some(&admin), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!((change["changed"].as_bool(), change["sessions_ended"].as_u64()), (Some(true), Some(2)));
    for token in [&nurse, &nurse_laptop] {
        assert_eq!(app.get_as("/api/v1/alerts", Some(token)).await.0, StatusCode::UNAUTHORIZED);
    }
    let right = json!({ "username": "nurse", "password": "demo-nurse-password" });
    let (status, body) = app.post_as("/api/v1/auth/staff/sign-in", None, &right).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong username or password"))
    );

    let (status, change) = app.post_as("/api/v1/staff/nurse/enable", Some(&admin), &json!({})).await;
    assert_eq!((status, change["changed"].as_bool()), (StatusCode::OK, Some(true)));
    let nurse = app.staff_token("nurse").await;
    let (status, change) =
        app.post_as("/api/v1/staff/nurse/sign-out-everywhere", Some(&admin), &json!({})).await;
    assert_eq!((status, change["sessions_ended"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(app.get_as("/api/v1/alerts", Some(&nurse)).await.0, StatusCode::UNAUTHORIZED);
    let actions = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action IN ('staff.disable', 'staff.enable', 'staff.sign_out_everywhere')")
        .await;
    assert_eq!(actions, 3);
}
on_both_backends!(
    a_disabled_staff_account_cannot_sign_in_and_its_sessions_end,
    super::a_disabled_staff_account_cannot_sign_in_and_its_sessions_end
);

async fn only_random_client_ids_are_taken_and_none_reaches_researchers(backend: Backend) {
    let Some(app) = TestApp::spawn_without_demo_patients(backend).await else { return };
    let nurse = app.staff_token("nurse").await;
    let (_, code) = app.enrol(&nurse, "nodal", 0).await;
    let patient = app.activate(&code, "1357").await;
    // A version 1 UUID carries the device's clock and network address: refused, nothing stored.
    let v1 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    let (status, body) = app.post_as("/api/v1/me/submissions", Some(&patient), &c30_report(v1, 1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].as_str().unwrap().contains("random (version 4) UUID"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);

    let ids: Vec<String> = (0..2).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for id in &ids {
        let (status, body) = app.post_as("/api/v1/me/submissions", Some(&patient), &c30_report(id, 1)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let researcher = app.staff_token("researcher").await;
    let schedule = app
        .client
        .get(app.url("/api/v1/exports/schedule.csv"))
        .bearer_auth(&researcher)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(schedule.contains("unscheduled-1") && schedule.contains("unscheduled-2"), "{schedule}");
    for id in &ids {
        assert!(!schedule.contains(id.as_str()), "a client id reached the researchers: {schedule}");
    }
}
on_both_backends!(
    only_random_client_ids_are_taken_and_none_reaches_researchers,
    super::only_random_client_ids_are_taken_and_none_reaches_researchers
);

/// The SQLite file a test database URL names.
fn sqlite_file(url: &str) -> std::path::PathBuf {
    qol_server::storage::sqlite_path(url).expect("a SQLite URL").to_owned()
}

#[tokio::test]
async fn a_sqlite_file_removed_or_replaced_under_the_server_is_noticed_and_nothing_is_acknowledged() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let patient = app.patient_token("IVB-001").await;
    let path = sqlite_file(app.database_url());
    let (status, _) = app
        .post_as("/api/v1/me/submissions", Some(&patient), &c30_report(&uuid::Uuid::new_v4().to_string(), 2))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Removed: the open connections could go on writing to the unlinked file.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let (status, body) = app
        .post_as("/api/v1/me/submissions", Some(&patient), &c30_report(&uuid::Uuid::new_v4().to_string(), 2))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.headers()["retry-after"], "5");

    // Replaced by another study's database: refused as well.
    let other = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let other_db = qol_server::storage::Db::open(&other.url, qol_server::storage::OpenMode::CreateIfEmpty)
        .await
        .unwrap();
    qol_server::clinic::Clinic::open(&other_db, false).await.unwrap();
    other_db.close().await;
    std::fs::copy(sqlite_file(&other.url), &path).unwrap();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = app
        .post_as("/api/v1/me/submissions", Some(&patient), &c30_report(&uuid::Uuid::new_v4().to_string(), 2))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_server_refuses_to_start_a_study_by_accident_on_an_empty_or_missing_database() {
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let mut config = qol_server::config::ServeConfig::for_tests(&database.url);
    config.init = false;
    config.demo = false;
    let error = qol_server::startup::Application::build(&config).await.unwrap_err().to_string();
    assert!(error.contains("holds no qol study") && error.contains("qol serve --init"), "{error}");
    assert!(!sqlite_file(&database.url).exists(), "the mistyped path was created");
    // Told to, it creates the study; afterwards the same database opens without the flag.
    config.init = true;
    let first = qol_server::startup::Application::build(&config).await.unwrap();
    drop(first);
    config.init = false;
    qol_server::startup::Application::build(&config).await.expect("an existing study opens");
}

#[tokio::test]
async fn a_postgres_database_dropped_and_recreated_under_the_server_is_not_the_study() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    let url = app.database_url().to_owned();
    let (base, name) = url.rsplit_once('/').unwrap();
    let admin_url = format!("{base}/test");
    let recreate = async |migrate: bool| {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        for sql in [format!("DROP DATABASE {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
        if migrate {
            let db = qol_server::storage::Db::open(&url, qol_server::storage::OpenMode::CreateIfEmpty)
                .await
                .unwrap();
            qol_server::clinic::Clinic::open(&db, false).await.unwrap();
            db.close().await;
        }
    };
    recreate(false).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE, "an empty database");
    recreate(true).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "another study's database");
    let right = json!({ "username": "nurse", "password": "demo-nurse-password" });
    assert_ne!(app.post_as("/api/v1/auth/staff/sign-in", None, &right).await.0, StatusCode::OK);
}

async fn backup_while_patients_submit_restores_whole_with_the_recorded_audit_head(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let patient = app.patient_token("IVB-001").await;
    // Patients keep submitting while the backup runs.
    let submitting = {
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/me/submissions"), patient.clone());
        tokio::spawn(async move {
            let mut acknowledged = 0;
            for _ in 0..20 {
                let body = c30_report(&uuid::Uuid::new_v4().to_string(), 2);
                let status = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap().status();
                assert_eq!(status, StatusCode::CREATED);
                acknowledged += 1;
            }
            acknowledged
        })
    };
    let folder = std::env::temp_dir().join(format!("qol-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).unwrap();
    let during = folder.join("during.backup");
    let source = app.database_url().to_owned();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        run_qol(&["backup", "--output", during.to_str().unwrap(), "--database-url", &source])
    })
    .await
    .unwrap();
    assert!(ok, "{out}{err}");
    assert_eq!(submitting.await.unwrap(), 20);
    let head_during = out.lines().find_map(|line| line.strip_prefix("audit head ")).unwrap().to_owned();

    // After the load: a second backup must restore to exactly the live counts.
    let after = folder.join("after.backup");
    let (ok, out, err) =
        run_qol(&["backup", "--output", after.to_str().unwrap(), "--database-url", app.database_url()]);
    assert!(ok, "{out}{err}");
    let head_after = out.lines().find_map(|line| line.strip_prefix("audit head ")).unwrap().to_owned();
    // The backup refuses to overwrite.
    let (ok, _, err) =
        run_qol(&["backup", "--output", after.to_str().unwrap(), "--database-url", app.database_url()]);
    assert!(!ok && err.contains("already exists"), "{err}");

    let target = TestDatabase::create(backend).await.unwrap();
    let target_url = match backend {
        Backend::Sqlite => format!("sqlite://{}/restored/qol.db", folder.display()),
        Backend::Postgres => target.url.clone(),
    };
    let (ok, out, err) = run_qol(&["restore", after.to_str().unwrap(), "--database-url", &target_url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("the audit trail is intact"), "{out}");
    // Restoring over a study is refused.
    let (ok, _, err) = run_qol(&["restore", after.to_str().unwrap(), "--database-url", &target_url]);
    assert!(!ok && (err.contains("already exists") || err.contains("already holds a study")), "{err}");

    for head in [&head_during, &head_after] {
        let (ok, out, err) =
            run_qol(&["audit", "verify", "--expect-head", head, "--database-url", &target_url]);
        assert!(ok, "{head}: {out}{err}");
    }
    // A head the copy does not hold: a chain cut short, or another chain.
    let (entries, hash) = head_after.split_once(':').unwrap();
    let longer = format!("{}:{hash}", entries.parse::<u64>().unwrap() + 1);
    let (ok, _, err) = run_qol(&["audit", "verify", "--expect-head", &longer, "--database-url", &target_url]);
    assert!(!ok && err.contains("cut off the end"), "{err}");
    let other = format!("{entries}:{}", "ab".repeat(32));
    let (ok, _, err) = run_qol(&["audit", "verify", "--expect-head", &other, "--database-url", &target_url]);
    assert!(!ok && err.contains("replaced or rewritten"), "{err}");

    let restored =
        qol_server::storage::Db::open(&target_url, qol_server::storage::OpenMode::ReadOnly).await.unwrap();
    assert_eq!(restored.instance_id(), app.db.instance_id(), "a restored copy is the same study");
    restored.close().await;
    for table in ["submissions", "item_answers", "scores", "audit_log", "patients", "alerts"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let live = app.count_dynamic(sql.clone()).await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&target_url).await.unwrap();
        let copy: i64 =
            sqlx::Row::get(&sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap(), 0);
        pool.close().await;
        assert_eq!(copy, live, "{table}");
    }
    let _ = std::fs::remove_dir_all(&folder);
}
on_both_backends!(
    backup_while_patients_submit_restores_whole_with_the_recorded_audit_head,
    super::backup_while_patients_submit_restores_whole_with_the_recorded_audit_head
);

#[tokio::test]
async fn audit_verify_is_read_only_and_audit_head_prints_the_chain_head() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let url = app.database_url().to_owned();
    let (ok, head, err) = run_qol(&["audit", "head", "--database-url", &url]);
    assert!(ok, "{err}");
    let head = head.trim().to_owned();
    let entries = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(
        head.starts_with(&format!("{entries}:")) && head.len() == format!("{entries}:").len() + 64,
        "{head}"
    );
    // A database one migration behind: verify must not migrate it (it writes nothing).
    let pool = app.sql().await;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 5").execute(&pool).await.unwrap();
    let (ok, out, err) = run_qol(&["audit", "verify", "--expect-head", &head, "--database-url", &url]);
    assert!(ok, "{out}{err}");
    let applied: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 5")
            .fetch_one(&pool)
            .await
            .unwrap(),
        0,
    );
    pool.close().await;
    assert_eq!(applied, 0, "qol audit verify applied a migration");
}

/// Peak resident memory (VmHWM) of a process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap();
    kib / 1024
}

#[tokio::test]
async fn a_thousand_concurrent_anonymous_sign_ins_keep_memory_bounded() {
    if !slow_tests() {
        return;
    }
    let database = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let mut server = ServerProcess::start(&qol_tests::qol_binary(), &database.url, true);
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..1000 {
        let (client, url) = (client.clone(), format!("{}/api/v1/auth/patient/sign-in", server.url));
        tasks.spawn(async move {
            let body = json!({ "study_id": format!("IVB-{:04}", 5000 + n), "pin": "1234" });
            match client.post(url).json(&body).timeout(Duration::from_secs(60)).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            }
        });
    }
    let statuses = tasks.join_all().await;
    let peak = peak_rss_mib(server.child.id());
    // Each is refused: as a wrong PIN, or as "busy, try again" (503) when no turn to hash came.
    assert!(statuses.iter().all(|status| *status == 401 || *status == 503), "{:?}", {
        let mut odd: Vec<_> = statuses.iter().filter(|s| **s != 401 && **s != 503).collect();
        odd.dedup();
        odd
    });
    assert!(statuses.contains(&401), "some were checked");
    assert!(peak < 250, "peak RSS {peak} MiB for 1,000 concurrent anonymous sign-ins");
    // Legitimate sign-ins still work afterwards.
    let right = json!({ "study_id": "IVB-001", "pin": qol_server::clinic::demo::DEMO_PIN });
    let response =
        client.post(format!("{}/api/v1/auth/patient/sign-in", server.url)).json(&right).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    eprintln!("peak RSS after 1,000 concurrent anonymous sign-ins: {peak} MiB");
    server.signal("TERM");
}

/// Mounts a tmpfs of `size` at `folder` (CI runs as root), or `None` after a loud skip.
fn mount_tmpfs(folder: &std::path::Path, size: &str) -> Option<()> {
    std::fs::create_dir_all(folder).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(folder)
        .status();
    if status.is_ok_and(|status| status.success()) {
        Some(())
    } else {
        qol_tests::skip("mounting a tmpfs needs root", "run the slow tests as root (CI does)");
        None
    }
}

/// Fills the file system at `folder` until a write fails.
fn fill(folder: &std::path::Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(folder.join("filler")).unwrap();
    let block = vec![0u8; 64 * 1024];
    while filler.write_all(&block).is_ok() {}
    let _ = filler.sync_all();
}

#[tokio::test]
async fn a_full_disk_never_acknowledges_what_it_did_not_store_and_the_server_recovers_by_itself() {
    if !slow_tests() {
        return;
    }
    let folder = std::env::temp_dir().join(format!("qol-full-{}", uuid::Uuid::new_v4().simple()));
    if mount_tmpfs(&folder, "24m").is_none() {
        return;
    }
    let url = format!("sqlite://{}/qol.db", folder.display());
    let mut server = ServerProcess::start(&qol_tests::qol_binary(), &url, true);
    let client = reqwest::Client::new();
    let tokens = qol_tests::remote_patients(&client, &server.url, 2, "Full").await;
    let send = async |token: &str| -> (String, u16) {
        let id = uuid::Uuid::new_v4().to_string();
        let status = client
            .post(format!("{}/api/v1/me/submissions", server.url))
            .bearer_auth(token)
            .json(&c30_report(&id, 2))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_or(0, |response| response.status().as_u16());
        (id, status)
    };
    let mut sent = Vec::new();
    for token in &tokens {
        sent.push(send(token).await);
    }
    // Empty the WAL into the database file first, so the next writes need new space.
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
        pool.close().await;
    }
    fill(&folder);
    let mut refused_while_full = 0;
    for round in 0..60 {
        let (id, status) = send(&tokens[round % tokens.len()]).await;
        if status != 201 {
            refused_while_full += 1;
            assert_eq!(status, 503, "a storage failure is 503, not {status}");
        }
        sent.push((id, status));
    }
    assert!(refused_while_full > 0, "the full disk never refused a write: the test did not fill it");
    assert_eq!(
        client.get(format!("{}/readyz", server.url)).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness must prove a write commits"
    );

    std::fs::remove_file(folder.join("filler")).unwrap();
    // The server recovers by itself: no restart.
    let mut ready = false;
    for _ in 0..60 {
        if client.get(format!("{}/readyz", server.url)).send().await.unwrap().status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(ready, "/readyz did not recover after space was freed");
    for round in 0..10 {
        let (id, status) = send(&tokens[round % tokens.len()]).await;
        assert_eq!(status, 201, "after recovery");
        sent.push((id, status));
    }
    server.signal("TERM");

    // After shutdown, from the file: every acknowledged submission exactly once, nothing else.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    for (id, status) in &sent {
        let stored: i64 = sqlx::Row::get(
            &sqlx::query("SELECT COUNT(*) FROM submissions WHERE client_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap(),
            0,
        );
        assert_eq!(stored, i64::from(*status == 201), "{id} answered {status} and is stored {stored} times");
    }
    pool.close().await;
    let (ok, out, err) = run_qol(&["audit", "verify", "--database-url", &url]);
    assert!(ok, "{out}{err}");
    let _ = std::process::Command::new("umount").arg(&folder).status();
    let _ = std::fs::remove_dir_all(&folder);
}
