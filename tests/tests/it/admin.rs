//! Running a study (issue 18): the admin's view of the staff accounts, on both databases.

use qol_tests::{Backend, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Six wrong passwords for the demo researcher: the account is locked out.
pub(crate) async fn lock_out_researcher(app: &TestApp) {
    for n in 0..6 {
        let wrong = json!({ "username": "researcher", "password": format!("wrong guess {n}") });
        let status = app.post_as("/api/v1/auth/staff/sign-in", None, &wrong).await.0;
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS, "{status}");
    }
}

fn account<'a>(accounts: &'a Value, username: &str) -> &'a Value {
    accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|account| account["username"] == username)
        .unwrap_or_else(|| panic!("{username} is not listed: {accounts}"))
}

async fn the_admin_lists_staff_accounts_with_role_last_sign_in_sessions_and_lockout(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let before = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let _nurse_laptop = app.staff_token("nurse").await;

    // Admins only.
    assert_eq!(app.get_as("/api/v1/staff", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_as("/api/v1/staff", Some(&nurse)).await.0, StatusCode::FORBIDDEN);

    // The researcher's account is locked by wrong passwords and has never signed in.
    lock_out_researcher(&app).await;
    let audited = app.count("SELECT COUNT(*) FROM audit_log").await;
    let (status, accounts) = app.get_as("/api/v1/staff", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{accounts}");
    let names: Vec<&str> =
        accounts.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "by username");

    let nurse_account = account(&accounts, "nurse");
    assert_eq!(nurse_account["role"], "nurse");
    assert_eq!(nurse_account["disabled"], false);
    assert_eq!(nurse_account["live_sessions"], 2, "{nurse_account}");
    let last = nurse_account["last_sign_in_at"].as_str().unwrap();
    assert!(last >= before.as_str(), "last sign-in {last} is before the test's {before}");
    assert!(nurse_account["locked_until"].is_null());

    let researcher = account(&accounts, "researcher");
    assert!(researcher["last_sign_in_at"].is_null(), "{researcher}");
    assert_eq!(researcher["live_sessions"], 0);
    let until = researcher["locked_until"].as_str().expect("the researcher is locked out");
    assert!(until > chrono::Utc::now().to_rfc3339().as_str(), "{until}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audited, "reading the list wrote");

    // Disabled: shown so, with no live session; unlocked: no lockout.
    assert_eq!(app.post_as("/api/v1/staff/nurse/disable", Some(&admin), &json!({})).await.0, StatusCode::OK);
    assert_eq!(
        app.post_as("/api/v1/staff/researcher/unlock", Some(&admin), &json!({})).await.0,
        StatusCode::OK
    );
    let (_, accounts) = app.get_as("/api/v1/staff", Some(&admin)).await;
    let nurse_account = account(&accounts, "nurse");
    assert_eq!(
        (nurse_account["disabled"].as_bool(), nurse_account["live_sessions"].as_u64()),
        (Some(true), Some(0))
    );
    assert_eq!(nurse_account["last_sign_in_at"].as_str(), Some(last), "the last sign-in stays known");
    assert!(account(&accounts, "researcher")["locked_until"].is_null());
}
on_both_backends!(
    the_admin_lists_staff_accounts_with_role_last_sign_in_sessions_and_lockout,
    super::the_admin_lists_staff_accounts_with_role_last_sign_in_sessions_and_lockout
);

async fn set_password(app: &TestApp, username: &str, code: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({ "username": username, "code": code, "password": password });
    app.post_as("/api/v1/auth/staff/set-password", None, &body).await
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.post_as("/api/v1/auth/staff/sign-in", None, &json!({ "username": username, "password": password }))
        .await
        .0
}

async fn a_new_account_has_no_password_until_its_code_sets_one_and_the_code_works_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let new = json!({ "username": " Nurse.Two ", "role": "nurse" });
    assert_eq!(app.post_as("/api/v1/staff", Some(&nurse), &new).await.0, StatusCode::FORBIDDEN);

    // Bad input names its field and changes nothing.
    let staff_before = app.count("SELECT COUNT(*) FROM staff_users").await;
    for (body, field) in [
        (json!({ "username": "two words", "role": "nurse" }), "username"),
        (json!({ "username": "", "role": "nurse" }), "username"),
        // A browser drops "." and ".." path segments: such an account could not be managed.
        (json!({ "username": "..", "role": "admin" }), "username"),
        (json!({ "username": "-x", "role": "nurse" }), "username"),
        (json!({ "username": "pat", "role": "patient" }), "role"),
    ] {
        let (status, answer) = app.post_as("/api/v1/staff", Some(&admin), &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["problems"], json!([field]), "{answer}");
    }
    let (status, answer) =
        app.post_as("/api/v1/staff", Some(&admin), &json!({ "username": "nurse", "role": "nurse" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, staff_before);

    let (status, created) = app.post_as("/api/v1/staff", Some(&admin), &new).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["username"], "nurse.two");
    let code = created["code"].as_str().unwrap().to_owned();
    let expires = chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    let hours = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((71.9..=72.0).contains(&hours), "the code lasts 72 hours, not {hours}");
    assert!(
        app.count_dynamic(format!(
            "SELECT COUNT(*) FROM staff_password_codes WHERE code_hash LIKE '%{code}%'"
        ))
        .await
            == 0,
        "the code is kept only as its hash"
    );
    // No password works before one is set.
    assert_eq!(sign_in(&app, "nurse.two", "!no-password").await, StatusCode::UNAUTHORIZED);
    let (_, accounts) = app.get_as("/api/v1/staff", Some(&admin)).await;
    assert!(account(&accounts, "nurse.two")["last_sign_in_at"].is_null());

    // A short password is refused and the code still works.
    let (status, answer) = set_password(&app, "nurse.two", &code, "short").await;
    assert_eq!((status, answer["problems"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!(["password"])));

    // Twenty people use the code at once: it sets exactly one password.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let (client, url) = (app.client.clone(), app.url("/api/v1/auth/staff/set-password"));
        // Typed as a person would: lower case, spaces for the dashes.
        let typed = code.to_lowercase().replace('-', " ");
        tasks.spawn(async move {
            let password = format!("a long password number {n}");
            let body = json!({ "username": "nurse.two", "code": typed, "password": password });
            (client.post(url).json(&body).send().await.unwrap().status().as_u16(), password)
        });
    }
    let results = tasks.join_all().await;
    let winners: Vec<&String> = results.iter().filter(|(status, _)| *status == 204).map(|(_, p)| p).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().all(|(status, _)| [204, 401, 429].contains(status)), "{results:?}");
    // (the failed attempts above locked the account for a while: lift it, as an admin would)
    app.post_as("/api/v1/staff/nurse.two/unlock", Some(&admin), &json!({})).await;
    let (status, answer) = set_password(&app, "nurse.two", &code, "another long password").await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_credentials")),
        "the code works once: {answer}"
    );
    assert_eq!(sign_in(&app, "nurse.two", winners[0]).await, StatusCode::OK);
    let losers = results.iter().find(|(status, _)| *status != 204).unwrap();
    assert_eq!(sign_in(&app, "nurse.two", &losers.1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.create' AND entity_id = 'nurse.two'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.set_password'").await, 1);
}
on_both_backends!(
    a_new_account_has_no_password_until_its_code_sets_one_and_the_code_works_once,
    super::a_new_account_has_no_password_until_its_code_sets_one_and_the_code_works_once
);

async fn a_reset_code_replaces_the_password_once_used_ends_sessions_and_expires(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    assert_eq!(
        app.post_as("/api/v1/staff/nurse/password-code", Some(&nurse), &json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_as("/api/v1/staff/nobody/password-code", Some(&admin), &json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, first) = app.post_as("/api/v1/staff/nurse/password-code", Some(&admin), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, second) = app.post_as("/api/v1/staff/Nurse/password-code", Some(&admin), &json!({})).await;
    let (first, second) = (first["code"].as_str().unwrap(), second["code"].as_str().unwrap());

    // The newer code replaces the older; until it is used the old password still works.
    assert_eq!(set_password(&app, "nurse", first, "a brand new password").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "nurse", "demo-nurse-password").await, StatusCode::OK);
    assert_eq!(app.get_as("/api/v1/alerts", Some(&nurse)).await.0, StatusCode::OK);

    // An expired code is refused.
    let pool = app.sql().await;
    sqlx::query("UPDATE staff_password_codes SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE used_at IS NULL AND revoked_at IS NULL")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(set_password(&app, "nurse", second, "a brand new password").await.0, StatusCode::UNAUTHORIZED);
    let (_, third) = app.post_as("/api/v1/staff/nurse/password-code", Some(&admin), &json!({})).await;
    let third = third["code"].as_str().unwrap();

    let (status, answer) = set_password(&app, "NURSE", third, "a brand new password").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(app.get_as("/api/v1/alerts", Some(&nurse)).await.0, StatusCode::UNAUTHORIZED, "sessions end");
    assert_eq!(sign_in(&app, "nurse", "demo-nurse-password").await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "nurse", "a brand new password").await, StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.password_code'").await, 3);

    // An unknown name is answered as a wrong code is.
    let unknown = set_password(&app, "nobody", third, "a brand new password").await;
    let wrong = set_password(&app, "researcher", "AAAA-BBBB-CCCC", "a brand new password").await;
    assert_eq!(unknown, wrong);
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);

    // A code given before the account was disabled sets nothing, and a disabled account gets no
    // new code.
    app.post_as("/api/v1/staff/researcher/unlock", Some(&admin), &json!({})).await;
    let (_, code) = app.post_as("/api/v1/staff/researcher/password-code", Some(&admin), &json!({})).await;
    assert_eq!(
        app.post_as("/api/v1/staff/researcher/disable", Some(&admin), &json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) =
        set_password(&app, "researcher", code["code"].as_str().unwrap(), "a brand new password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post_as("/api/v1/staff/researcher/password-code", Some(&admin), &json!({})).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post_as("/api/v1/staff/researcher/enable", Some(&admin), &json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(sign_in(&app, "researcher", "a brand new password").await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "researcher", "demo-researcher-password").await, StatusCode::OK);
}
on_both_backends!(
    a_reset_code_replaces_the_password_once_used_ends_sessions_and_expires,
    super::a_reset_code_replaces_the_password_once_used_ends_sessions_and_expires
);

/// The protocol the server ships with, as its file says it.
pub(crate) fn shipped_protocol() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/protocol/default.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn the_admin_reads_the_protocol_and_wording_pack_the_server_runs(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    assert_eq!(app.get_as("/api/v1/admin/setup", Some(&nurse)).await.0, StatusCode::FORBIDDEN);
    let audited = app.count("SELECT COUNT(*) FROM audit_log").await;
    let (status, setup) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let shipped = shipped_protocol();
    assert_eq!(setup["protocol"]["name"], shipped["name"]);
    assert_eq!(setup["protocol"]["time_zone"], shipped["time_zone"]);
    assert_eq!(
        setup["protocol"]["assessments"].as_array().unwrap().len(),
        shipped["assessments"].as_array().unwrap().len()
    );
    for fingerprint in [&setup["protocol_sha256"], &setup["wording"]["sha256"]] {
        let fingerprint = fingerprint.as_str().unwrap();
        assert!(
            fingerprint.len() == 64 && fingerprint.chars().all(|c| c.is_ascii_hexdigit()),
            "{fingerprint}"
        );
    }
    assert_ne!(setup["protocol_sha256"], setup["wording"]["sha256"]);
    assert_eq!(setup["wording"]["demonstration"], true);
    let tags: Vec<&str> = setup["wording"]["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[0].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"en") && tags.len() == 2, "{tags:?}");
    // The same setup, the same fingerprints; reading writes nothing.
    let (_, again) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(again, setup);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audited);
}
on_both_backends!(
    the_admin_reads_the_protocol_and_wording_pack_the_server_runs,
    super::the_admin_reads_the_protocol_and_wording_pack_the_server_runs
);
