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

fn demo_pack() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/wording/demo.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A licensed-looking pack built from the demonstration one: its own name, no notice, item 3's
/// English text changed.
pub(crate) fn site_pack(name: &str) -> Value {
    let mut pack = demo_pack();
    pack["name"] = name.into();
    pack["demonstration"] = false.into();
    pack["licence"] = "Site permission reference 0000 (test)".into();
    for language in ["en", "zh-CN"] {
        pack["languages"][language]["notice"] = Value::Null;
    }
    pack["languages"]["en"]["instruments"]["qlq-c30"]["items"]["3"] = format!("Short walk ({name})").into();
    pack
}

fn upload(pack: &str, reason: &str) -> Value {
    json!({ "pack": pack, "reason": reason })
}

fn problem_keys(report: &Value) -> Vec<String> {
    report["problems"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect()
}

async fn an_admin_checks_a_wording_pack_and_applies_it_only_without_problems(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let (_, before) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(before["wording"]["source"], "shipped");
    let good = site_pack("Site pack v2").to_string();
    for path in ["/api/v1/admin/wording/check", "/api/v1/admin/wording"] {
        assert_eq!(app.post_as(path, Some(&nurse), &upload(&good, "because")).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.post_as(path, None, &upload(&good, "because")).await.0, StatusCode::UNAUTHORIZED);
    }

    // Bad packs: each problem named by its key in the report, and applying one changes nothing.
    let mut missing_item = site_pack("Missing item");
    missing_item["languages"]["en"]["instruments"]["qlq-c30"]["items"].as_object_mut().unwrap().remove("17");
    let mut unknown_language = site_pack("Unknown language");
    unknown_language["languages"]["fr"] = unknown_language["languages"]["en"].clone();
    let mut html = site_pack("Markup");
    html["languages"]["zh-CN"]["instruments"]["qlq-cx24"]["items"]["40"] = "<script>alert(1)</script>".into();
    let mut no_chinese = site_pack("English only");
    no_chinese["languages"].as_object_mut().unwrap().remove("zh-CN");
    let cases = [
        (missing_item.to_string(), "languages.en.instruments.qlq-c30.items.17", "is missing"),
        (unknown_language.to_string(), "languages.fr", "not a language qol offers"),
        (html.to_string(), "languages.zh-CN.instruments.qlq-cx24.items.40", "holds markup (<script>)"),
        // The demo's IVB-002 answers in Simplified Chinese.
        (no_chinese.to_string(), "languages.zh-CN", "patient answers in this language"),
        ("{\"format\": \"qol-wording-pack/1\",".to_owned(), "line 1, column 32", "EOF while parsing"),
    ];
    for (pack, key, problem) in &cases {
        let audited = app.count("SELECT COUNT(*) FROM audit_log").await;
        let (status, report) =
            app.post_as("/api/v1/admin/wording/check", Some(&admin), &upload(pack, "")).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["valid"], false, "{report}");
        assert_eq!(report["applied"], false);
        let found = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == *key)
            .unwrap_or_else(|| panic!("no problem at {key}: {report}"));
        assert!(found["problem"].as_str().unwrap().contains(problem), "{found}");
        assert_eq!(report["current"]["sha256"], before["wording"]["sha256"]);

        let (status, refusal) =
            app.post_as("/api/v1/admin/wording", Some(&admin), &upload(pack, "new licence")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
        assert_eq!(refusal["code"], "invalid");
        let problems: Vec<&str> =
            refusal["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert!(problems.iter().any(|p| p.starts_with(&format!("{key}: "))), "{problems:?}");
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audited, "a refusal or a check wrote");
        assert_eq!(app.count("SELECT COUNT(*) FROM wording_packs").await, 0);
        let (_, setup) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
        assert_eq!(setup["wording"], before["wording"]);
    }
    // A good pack needs a reason.
    let (status, refusal) = app.post_as("/api/v1/admin/wording", Some(&admin), &upload(&good, "  ")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
    assert!(refusal["problems"][0].as_str().unwrap().starts_with("reason:"), "{refusal}");

    // The good pack: the report lists what it changes, then applying it takes effect at once.
    let (status, report) = app.post_as("/api/v1/admin/wording/check", Some(&admin), &upload(&good, "")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(problem_keys(&report), Vec::<String>::new());
    assert_eq!(report["pack"]["name"], "Site pack v2");
    assert_eq!(report["pack"]["demonstration"], false);
    assert_eq!(
        report["changed"],
        json!(["languages.en.instruments.qlq-c30.items.3", "languages.en.notice", "languages.zh-CN.notice"])
    );
    // Applied over another pack than the one it was checked against: refused.
    let mut stale = upload(&good, "EORTC licence granted");
    stale["based_on"] = "0".repeat(64).into();
    let (status, refusal) = app.post_as("/api/v1/admin/wording", Some(&admin), &stale).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");
    assert_eq!(app.count("SELECT COUNT(*) FROM wording_packs").await, 0);
    let mut checked = upload(&good, "EORTC licence granted");
    checked["based_on"] = report["current"]["sha256"].clone();
    let (status, applied) = app.post_as("/api/v1/admin/wording", Some(&admin), &checked).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["current"]["name"], "Site pack v2");
    assert_eq!(applied["current"]["source"], "uploaded");
    assert_eq!(applied["current"]["uploaded_by"], "staff:admin");
    assert_eq!(applied["current"]["reason"], "EORTC licence granted");
    assert_eq!(applied["current"]["sha256"], report["pack"]["sha256"]);
    // A licensed pack is for signed-in users; the nurse reads the new text.
    assert_eq!(app.get_as("/api/v1/instruments/qlq-c30?lang=en", None).await.0, StatusCode::UNAUTHORIZED);
    let (status, instrument) = app.get_as("/api/v1/instruments/qlq-c30?lang=en", Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(instrument["items"][2]["text"], "Short walk (Site pack v2)");
    assert!(instrument["notice"].is_null());
    let (_, entries) = app.get_as("/api/v1/audit?action=wording.apply", Some(&admin)).await;
    let entry = &entries["entries"][0];
    assert_eq!(entries["entries"].as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entry["reason"], "EORTC licence granted");
    assert!(entry["before"].as_str().unwrap().contains(before["wording"]["sha256"].as_str().unwrap()));
    assert!(entry["after"].as_str().unwrap().contains(applied["current"]["sha256"].as_str().unwrap()));
    // The same pack again is nothing to apply.
    let (status, refusal) = app.post_as("/api/v1/admin/wording", Some(&admin), &upload(&good, "again")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
    assert!(refusal["problems"][0].as_str().unwrap().starts_with("pack: is the pack in use"), "{refusal}");

    // It outlives a restart.
    app.restart().await;
    let (_, setup) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(setup["wording"], applied["current"], "{setup}");

    // Six packs applied at once: one at a time, none lost, each audit entry's "before" is the
    // pack the one before it applied, and the pack served is the newest stored.
    let packs: Vec<String> = (1..=6).map(|n| site_pack(&format!("Concurrent {n}")).to_string()).collect();
    let requests = packs.iter().map(|pack| (admin.clone(), upload(pack, "simultaneous"))).collect();
    let results = super::staff_entry::post_at_once(&app, "/api/v1/admin/wording", requests).await;
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let (_, entries) = app.get_as("/api/v1/audit?action=wording.apply", Some(&admin)).await;
    let entries = entries["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 7);
    let sha_in = |text: &Value| -> String {
        let value: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
        value["sha256"].as_str().unwrap().to_owned()
    };
    // Newest first: each entry's "before" is the next (older) entry's "after".
    for pair in entries.windows(2) {
        assert_eq!(sha_in(&pair[0]["before"]), sha_in(&pair[1]["after"]), "{pair:?}");
    }
    let (_, setup) = app.get_as("/api/v1/admin/setup", Some(&admin)).await;
    assert_eq!(setup["wording"]["sha256"].as_str().unwrap(), sha_in(&entries[0]["after"]));
    assert_eq!(app.count("SELECT COUNT(*) FROM wording_packs").await, 7);
}
on_both_backends!(
    an_admin_checks_a_wording_pack_and_applies_it_only_without_problems,
    super::an_admin_checks_a_wording_pack_and_applies_it_only_without_problems
);

/// Two servers on one database: a pack applied on one is served by the other from its next
/// request, and packs applied on both at the same moment over the same one store one (the other
/// admin is told to check again).
async fn a_wording_pack_applied_on_one_server_is_used_by_the_other(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut config = qol_server::config::ServeConfig::for_tests(app.database_url());
    config.init = false;
    config.demo = false;
    let (_, second, (stop, server)) = qol_tests::start_server(&config).await;
    let second_url = format!("http://{second}");
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let text_on = |base: String, token: String| {
        let client = app.client.clone();
        async move {
            let answer = client
                .get(format!("{base}/api/v1/instruments/qlq-c30?lang=en"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            answer.json::<Value>().await.unwrap()["items"][2]["text"].as_str().unwrap().to_owned()
        }
    };
    let shipped = text_on(second_url.clone(), nurse.clone()).await;
    let (status, body) = app
        .post_as("/api/v1/admin/wording", Some(&admin), &upload(&site_pack("First").to_string(), "licence"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(shipped, "Short walk (First)");
    assert_eq!(text_on(second_url.clone(), nurse.clone()).await, "Short walk (First)");

    // Both servers at once, each over "First": one stored, the other refused with a conflict.
    let first_server = app.client.post(app.url("/api/v1/admin/wording")).bearer_auth(&admin);
    let second_server = app.client.post(format!("{second_url}/api/v1/admin/wording")).bearer_auth(&admin);
    let (a, b) = tokio::join!(
        first_server.json(&upload(&site_pack("From A").to_string(), "race")).send(),
        second_server.json(&upload(&site_pack("From B").to_string(), "race")).send(),
    );
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    // Either one after the other (both stored, the second over the first) or at the same moment
    // (one stored, one refused): never two packs stored over the same one.
    assert!(statuses == [200, 200] || statuses == [200, 409], "{statuses:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM (SELECT replaces_id FROM wording_packs GROUP BY replaces_id HAVING COUNT(*) > 1) twice")
            .await,
        0
    );
    let on_first = text_on(app.url(""), nurse.clone()).await;
    assert_eq!(on_first, text_on(second_url.clone(), nurse.clone()).await);
    assert!(on_first == "Short walk (From A)" || on_first == "Short walk (From B)", "{on_first}");
    let _ = stop.send(());
    server.await.unwrap();
}
on_both_backends!(
    a_wording_pack_applied_on_one_server_is_used_by_the_other,
    super::a_wording_pack_applied_on_one_server_is_used_by_the_other
);

/// A pack without Simplified Chinese may be applied while no patient answers in it; after it, a
/// patient cannot be enrolled in a language her questionnaires would have no text in.
async fn enrolment_needs_a_language_the_wording_pack_has(backend: Backend) {
    let Some(app) = TestApp::spawn_without_demo_patients(backend).await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let mut english = site_pack("English only");
    english["languages"].as_object_mut().unwrap().remove("zh-CN");
    let (status, body) = app
        .post_as("/api/v1/admin/wording", Some(&admin), &upload(&english.to_string(), "English site"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let patient = |language: &str| {
        json!({ "stratum": "nodal", "language": language, "enrolled_on": qol_tests::chrono_today_minus(0),
                "identity": { "full_name": "Test Person", "phone": "+00 555 0100", "hospital_number": "H-1" } })
    };
    let (status, refusal) = app.post_as("/api/v1/patients", Some(&nurse), &patient("zh-CN")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
    assert!(refusal["problems"][0].as_str().unwrap().contains("not in the wording pack in use"), "{refusal}");
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
    let (status, body) = app.post_as("/api/v1/patients", Some(&nurse), &patient("en")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
on_both_backends!(
    enrolment_needs_a_language_the_wording_pack_has,
    super::enrolment_needs_a_language_the_wording_pack_has
);
