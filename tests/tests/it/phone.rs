//! The patient's phone when it is shared, and kind to someone on chemotherapy (issue 17): in
//! headless Chromium at a phone's size, against the real server. Sign-out that holds offline,
//! answers sealed at rest, the idle lock, "I need help", the review, refusals in Chinese, and
//! axe-core on every screen.

use std::time::Duration;

use fantoccini::{Client, Locator};
use qol_tests::{Backend, TestApp, chromedriver, dist_dir, phone_browser, skip};
use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{
    WAIT, activate_in_browser, answer, click, fill, nurse_submissions, setup, text_of, wait_for,
    wait_for_text,
};
use crate::staff_console::axe_violations;

const PIN: &str = "2580";

/// Every localStorage entry, as `[key, value]` pairs.
async fn storage(browser: &Client) -> Vec<(String, String)> {
    let entries = browser
        .execute("return Object.keys(localStorage).map(k => [k, localStorage.getItem(k)])", vec![])
        .await
        .unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_owned(), pair[1].as_str().unwrap().to_owned()))
        .collect()
}

/// Fails if anything the phone keeps reads as an answer, a draft or a schedule: what is kept of
/// a patient must be ciphertext.
async fn nothing_readable(browser: &Client, context: &str) {
    for (key, value) in storage(browser).await {
        for revealing in
            ["\"answers\"", "\"response\"", "\"client_id\"", "\"due\"", "\"call_me\"", "\"position\""]
        {
            assert!(
                !value.contains(revealing),
                "{context}: localStorage {key} reveals {revealing}: {value:.200}"
            );
        }
    }
}

/// Her submissions once there is at least one (within 20 s).
async fn received(app: &TestApp, study_id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let submissions = nurse_submissions(app, study_id).await;
        if !submissions.as_array().unwrap().is_empty() {
            return submissions;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing of {study_id} was received");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until(browser: &Client, what: &str, script: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let value = browser.execute(script, vec![]).await.unwrap();
        if value == true {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: never true ({script})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The status of `GET /api/v1/auth/me` asked from the page, with its cookie.
async fn session_status(browser: &Client) -> u16 {
    let status = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/api/v1/auth/me', { credentials: 'same-origin' }).then(r => done(r.status)).catch(() => done(0));",
            vec![],
        )
        .await
        .unwrap();
    u16::try_from(status.as_u64().unwrap()).unwrap()
}

/// From Welcome, signs in with her study id and PIN.
async fn sign_in(browser: &Client, study_id: &str) {
    click(browser, "a[href='/sign-in']").await;
    fill(browser, "#study-id", study_id).await;
    fill(browser, "#pin", PIN).await;
    click(browser, "form button[type=submit]").await;
}

async fn unlock(browser: &Client, pin: &str) {
    fill(browser, "#unlock-pin", pin).await;
    click(browser, "form button[type=submit]").await;
}

/// The unscheduled form ("I feel worse") answered with `choice` on every item and `call_me`,
/// up to its review.
async fn answer_unscheduled(browser: &Client, choice: usize, call_me: bool) {
    click(browser, ".worse button").await;
    click(browser, "button.primary").await;
    answer(browser, 1, 30, 30, choice).await;
    wait_for_text(browser, "#screen-heading", "Would you like your research nurse to call you?").await;
    click(browser, &format!(".options .option:nth-child({})", if call_me { 1 } else { 2 })).await;
    wait_for_text(browser, "#screen-heading", "Check and send").await;
}

#[tokio::test]
async fn a_sign_out_made_offline_holds_and_leaves_nothing_of_her_readable() {
    let Some((mut app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    // A form finished while the server is down stays on the phone, sealed.
    answer_unscheduled(&browser, 4, true).await;
    app.stop().await;
    click(&browser, "button.send").await;
    assert_eq!(text_of(&browser, ".state.saved").await, "Saved on this phone — will be sent automatically");
    nothing_readable(&browser, "with a form waiting").await;

    // Signing out with it unsent asks what to do; she keeps it, locked with her PIN.
    click(&browser, "#sign-out").await;
    wait_for_text(&browser, "#screen-heading", "Sign out").await;
    assert_eq!(text_of(&browser, "#unsent-count").await, "Forms not sent yet: 1");
    click(&browser, "#keep-locked").await;
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    assert!(text_of(&browser, "#kept-locked").await.starts_with("Forms kept on this phone are locked"));
    nothing_readable(&browser, "after signing out offline").await;
    let kept = storage(&browser).await;
    assert!(kept.iter().all(|(key, _)| key != "qol.me"), "who was signed in is forgotten: {kept:?}");
    assert!(kept.iter().any(|(key, value)| key == "qol.sign_out_pending" && value == "true"), "{kept:?}");

    // Online again, a reload shows Welcome: the old session was ended at the first contact.
    app.restart().await;
    browser.refresh().await.unwrap();
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    wait_until(
        &browser,
        "the pending sign-out is done",
        "return localStorage.getItem('qol.sign_out_pending') === null",
    )
    .await;
    assert_eq!(
        session_status(&browser).await,
        401,
        "the previous patient's session no longer opens anything"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.sign_out'").await,
        1,
        "the sign-out reached the server once"
    );
    assert!(
        nurse_submissions(&app, &study_id).await.as_array().unwrap().is_empty(),
        "nothing was sent while signed out"
    );

    // She signs in again: her PIN opens what she kept, and it is delivered once.
    sign_in(&browser, &study_id).await;
    wait_for_text(&browser, "#screen-heading", "Due now").await;
    let submissions = received(&app, &study_id).await;
    assert_eq!(submissions.as_array().unwrap().len(), 1);
    assert_eq!(submissions[0]["call_me"], true);
    assert!(submissions[0]["answers"].as_array().unwrap().iter().all(|a| a["response"] == 4));

    // A sign-out with nothing waiting leaves no trace of her at all.
    wait_for(&browser, "#sent-groups", |text| text.contains("1 sent")).await;
    click(&browser, "#sign-out").await;
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    wait_until(
        &browser,
        "the sign-out reached the server",
        "return localStorage.getItem('qol.sign_out_pending') === null",
    )
    .await;
    let left = storage(&browser).await;
    assert!(
        left.iter().all(|(key, value)| !key.contains(&study_id) && !value.contains(&study_id)),
        "nothing names her: {left:?}"
    );
    assert!(
        left.iter().all(|(key, _)| !key.starts_with("qol.private.") && !key.starts_with("qol.vault.")),
        "{left:?}"
    );
    assert_eq!(session_status(&browser).await, 401);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn discarding_unsent_answers_at_sign_out_asks_twice_and_removes_them() {
    let Some((app, _driver, browser)) = setup().await else { return };
    activate_in_browser(&app, &browser).await;
    // A baseline begun (a draft) is unsent work too.
    click(&browser, ".card.due .primary").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 3, 54, 2).await;
    browser.goto(&app.url("/sign-out")).await.unwrap();
    // A fresh page load: the PIN first.
    unlock(&browser, PIN).await;
    wait_for_text(&browser, "#screen-heading", "Sign out").await;
    assert_eq!(text_of(&browser, "#unsent-count").await, "Forms not sent yet: 1");
    click(&browser, "#delete-unsent").await;
    // Nothing is deleted on the first tap.
    assert!(storage(&browser).await.iter().any(|(key, _)| key.contains(".draft.")));
    click(&browser, "#delete-confirmed").await;
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    let left = storage(&browser).await;
    assert!(
        left.iter().all(|(key, _)| !key.starts_with("qol.private.") && !key.starts_with("qol.vault.")),
        "{left:?}"
    );
    assert!(browser.find(Locator::Css("#kept-locked")).await.is_err(), "nothing is kept");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_app_locks_itself_when_idle_and_only_her_pin_opens_it() {
    let Some(dist) = dist_dir() else {
        skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return;
    };
    let Some((driver, chromium)) = chromedriver().await else { return };
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.dist_dir = dist;
        config.idle_lock = Some(Duration::from_secs(10));
    })
    .await
    else {
        return;
    };
    let browser = phone_browser(&driver, &chromium).await;
    let study_id = activate_in_browser(&app, &browser).await;
    click(&browser, ".card.due .primary").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 3, 54, 3).await;
    wait_for_text(&browser, ".progress", "Question 4 of 54").await;

    // Left alone, the phone locks: the question is gone, and what is kept is sealed.
    let locked =
        browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("#unlock-pin")).await;
    assert!(locked.is_ok(), "the app did not lock itself after 10 s idle");
    assert_eq!(text_of(&browser, "#screen-heading").await, "Enter your PIN to continue");
    assert!(browser.find(Locator::Css(".options")).await.is_err(), "the question is hidden");
    nothing_readable(&browser, "locked").await;
    assert!(
        storage(&browser)
            .await
            .iter()
            .any(|(key, _)| key == &format!("qol.private.{study_id}.draft.baseline")),
        "the draft is kept, sealed"
    );

    // A wrong PIN is refused; hers opens the phone where she was.
    unlock(&browser, "1111").await;
    wait_for_text(&browser, ".problem p", "This PIN is not right. Please try again.").await;
    unlock(&browser, PIN).await;
    wait_for_text(&browser, ".progress", "Question 4 of 54").await;
    click(&browser, ".options .option:nth-child(3)").await;
    wait_for_text(&browser, ".progress", "Question 5 of 54").await;

    // A reload while locked stays locked, offline too: the PIN is checked on the phone.
    browser.refresh().await.unwrap();
    unlock(&browser, PIN).await;
    wait_for_text(&browser, ".progress", "Question 5 of 54").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn i_need_help_asks_for_a_call_before_any_question_and_says_what_happens_next() {
    let Some((mut app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    let nurse = app.staff_token("nurse").await;

    // Offline first: she is told the nurse does not know yet, and whom to ring.
    app.stop().await;
    click(&browser, "#need-help").await;
    wait_for_text(&browser, "#screen-heading", "Help").await;
    click(&browser, "#ask-call").await;
    wait_for(&browser, "#help-state", |text| text.starts_with("Not sent yet: your nurse does not know yet."))
        .await;
    let phone = text_of(&browser, "#study-phone").await;
    assert!(phone.starts_with('+'), "the study's number is shown offline: {phone:?}");
    let href = browser.find(Locator::Css("#study-phone")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("tel:+"), "{href}");
    assert!(!text_of(&browser, "#urgent-advice").await.is_empty());

    // Back online, the request goes by itself: a call-request card, and no form.
    app.restart().await;
    browser.execute("window.dispatchEvent(new Event('online'))", vec![]).await.unwrap();
    wait_for(&browser, "#help-state", |text| text.starts_with("Your nurse has been told")).await;
    let (status, cards) = app.get_as("/api/v1/alerts?kind=call_request", Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    let cards: Vec<&Value> =
        cards.as_array().unwrap().iter().filter(|card| card["study_id"] == study_id).collect();
    assert_eq!(cards.len(), 1, "one call request: {cards:#?}");
    assert!(
        nurse_submissions(&app, &study_id).await.as_array().unwrap().is_empty(),
        "no question came before the call"
    );
    assert!(text_of(&browser, "#help-state").await.contains("She will call you by"));

    // Then, if she likes, the short symptom check: no call-me question (she asked already).
    click(&browser, "#short-check").await;
    wait_for_text(&browser, "#form-size", "12 questions, about 2 minutes.").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 12, 12, 3).await;
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    click(&browser, "button.send").await;
    let submissions = received(&app, &study_id).await;
    assert_eq!(submissions[0]["answers"].as_array().unwrap().len(), 12);
    assert_eq!(submissions[0]["call_me"], true);
    let (_, cards) = app.get_as("/api/v1/alerts?kind=call_request", Some(&nurse)).await;
    let still: Vec<&Value> =
        cards.as_array().unwrap().iter().filter(|card| card["study_id"] == study_id).collect();
    assert_eq!(still.len(), 1, "the symptom check joins the same call request: {still:#?}");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_review_lists_every_answer_and_an_edit_comes_back_to_it() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    answer_unscheduled(&browser, 1, false).await;
    // Every answer, and the call-me choice, each a row.
    let rows = browser.find_all(Locator::Css(".review-row")).await.unwrap();
    assert_eq!(rows.len(), 31);
    assert_eq!(text_of(&browser, "#review-call-me .review-answer").await, "No, thank you");
    let fifth = browser.find_all(Locator::Css("button.review-row")).await.unwrap().remove(4);
    let before = fifth.find(Locator::Css(".review-question")).await.unwrap().text().await.unwrap();
    assert!(before.starts_with("5. "), "{before}");
    fifth.click().await.unwrap();
    wait_for_text(&browser, ".progress", "Question 5 of 30").await;
    assert_eq!(text_of(&browser, "button.back").await, "← Back to the review");
    click(&browser, ".options .option:nth-child(3)").await;
    // The answer brings her back to the review, with it changed.
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    let fifth = browser.find_all(Locator::Css("button.review-row")).await.unwrap().remove(4);
    let changed = fifth.find(Locator::Css(".review-answer")).await.unwrap().text().await.unwrap();
    assert_eq!(changed, "Quite a bit");
    click(&browser, "button.send").await;
    let submissions = received(&app, &study_id).await;
    let answers = submissions[0]["answers"].as_array().unwrap();
    assert_eq!(answers.iter().find(|a| a["item"] == 5).unwrap()["response"], 3);
    assert_eq!(answers.iter().filter(|a| a["response"] == 1).count(), 29);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_servers_refusals_are_said_in_chinese() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    browser.goto(&app.url("/")).await.unwrap();
    click(&browser, "button.language").await;
    wait_for_text(&browser, "#screen-heading", "欢迎").await;

    // A PIN too short, then an activation code that does not exist: each in Chinese only.
    click(&browser, "a[href='/activate']").await;
    fill(&browser, "#activation-code", &code).await;
    fill(&browser, "#new-pin", "12").await;
    fill(&browser, "#new-pin-again", "12").await;
    click(&browser, "form button[type=submit]").await;
    wait_for_text(&browser, ".problem p", "PIN码需要4到8位数字，请重新设置。").await;
    browser.goto(&app.url("/activate?code=AAAA-BBBB-CCCC")).await.unwrap();
    fill(&browser, "#new-pin", PIN).await;
    fill(&browser, "#new-pin-again", PIN).await;
    click(&browser, "form button[type=submit]").await;
    wait_for(&browser, ".problem p", |text| text.starts_with("此激活码无效")).await;

    // Activated for real, then signed out: a wrong PIN, and then the lockout, in Chinese.
    browser.goto(&app.url(&format!("/activate?code={code}"))).await.unwrap();
    fill(&browser, "#new-pin", PIN).await;
    fill(&browser, "#new-pin-again", PIN).await;
    click(&browser, "form button[type=submit]").await;
    // Her enrolment language (English) is the app's now; she switches to Chinese.
    wait_for_text(&browser, "#screen-heading", "Due now").await;
    click(&browser, "button.language").await;
    wait_for_text(&browser, "#screen-heading", "现在需要填写").await;
    // Her assessment's name and its date are in Chinese too.
    let title = text_of(&browser, ".card.due .card-title").await;
    assert!(!title.is_ascii(), "the label is the protocol's Chinese one: {title}");
    let until = text_of(&browser, ".card.due .muted").await;
    assert!(until.contains('年') && until.contains('月'), "a Chinese date: {until}");
    click(&browser, "#sign-out").await;
    wait_for_text(&browser, "#screen-heading", "欢迎").await;
    click(&browser, "a[href='/sign-in']").await;
    wait_for(&browser, "#forgot-pin", |text| text.starts_with("忘记PIN码了？")).await;
    let mut said = Vec::new();
    for _ in 0..8 {
        fill(&browser, "#study-id", &study_id).await;
        fill(&browser, "#pin", "9999").await;
        click(&browser, "form button[type=submit]").await;
        let text = wait_for(&browser, ".problem p", |text| !text.is_empty()).await;
        assert!(!text.is_ascii(), "an English refusal in the Chinese app: {text}");
        browser.execute("document.querySelectorAll('input').forEach(i => { i.value = ''; i.dispatchEvent(new Event('input')); })", vec![]).await.unwrap();
        said.push(text.clone());
        if text.starts_with("错误次数过多") {
            break;
        }
    }
    assert_eq!(said[0], "您输入的信息不正确，请检查后重试。");
    assert!(said.last().unwrap().starts_with("错误次数过多"), "the lockout is said in Chinese: {said:?}");
    browser.close().await.unwrap();
}

async fn axe_clean(browser: &Client, screen: &str) {
    // Let the screen settle (its data arrives after the first paint).
    tokio::time::sleep(Duration::from_millis(300)).await;
    if let Some(violations) = axe_violations(browser).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on {screen}");
    }
    // Every control a finger taps is at least 44 px tall (a radio button's target is its whole
    // label), and there is one polite live region.
    let small = browser
        .execute(
            "return [...document.querySelectorAll('a, button, input, select')]\
               .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.bottom > 0 && !e.classList.contains('skip-link'); })\
               .map(e => (e.type === 'radio' || e.type === 'checkbox') && e.closest('label') ? e.closest('label') : e)\
               .filter(e => e.getBoundingClientRect().height < 44)\
               .map(e => e.outerHTML.slice(0, 80) + ' ' + e.getBoundingClientRect().height)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(small, serde_json::json!([]), "tap targets under 44 px on {screen}");
    let live = browser
        .execute(
            "return document.querySelectorAll('[aria-live=polite], [role=status], [role=log]').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(live, 1, "one polite live region on {screen}");
}

#[tokio::test]
async fn every_patient_screen_passes_axe_with_44_px_targets_and_one_live_region() {
    let Some((app, _driver, browser)) = setup().await else { return };
    for (path, heading) in
        [("/", "Welcome"), ("/activate", "Set up this phone"), ("/sign-in", "Sign in"), ("/help", "Help")]
    {
        browser.goto(&app.url(path)).await.unwrap();
        wait_for_text(&browser, "#screen-heading", heading).await;
        axe_clean(&browser, path).await;
    }
    activate_in_browser(&app, &browser).await;
    axe_clean(&browser, "home").await;
    for (path, heading) in [("/help", "Help"), ("/history", "Your past forms"), ("/settings", "Reminders")] {
        click(&browser, &format!("a[href='{path}']")).await;
        wait_for_text(&browser, "#screen-heading", heading).await;
        axe_clean(&browser, path).await;
        click(&browser, "a.brand").await;
        wait_for_text(&browser, "#screen-heading", "Due now").await;
    }
    click(&browser, ".card.due .primary").await;
    wait_for(&browser, "#form-size", |text| text.starts_with("54 questions")).await;
    axe_clean(&browser, "instructions").await;
    click(&browser, "button.primary").await;
    wait_for_text(&browser, ".progress", "Question 1 of 54").await;
    axe_clean(&browser, "a question").await;
    answer(&browser, 1, 48, 54, 1).await;
    wait_for_text(&browser, ".progress", "Question 49 of 54").await;
    click(&browser, ".options .option:nth-child(1)").await;
    wait_for_text(&browser, "#screen-heading", "Would you like your research nurse to call you?").await;
    axe_clean(&browser, "call me").await;
    click(&browser, ".options .option:nth-child(2)").await;
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    axe_clean(&browser, "review").await;
    // Unsent work, so sign-out asks; then the lock screen after a reload.
    browser.goto(&app.url("/sign-out")).await.unwrap();
    wait_for_text(&browser, "#screen-heading", "Enter your PIN to continue").await;
    axe_clean(&browser, "lock").await;
    unlock(&browser, PIN).await;
    wait_for_text(&browser, "#screen-heading", "Sign out").await;
    axe_clean(&browser, "sign-out").await;
    // In Chinese too.
    click(&browser, "button.language").await;
    wait_for_text(&browser, "#screen-heading", "退出登录").await;
    axe_clean(&browser, "sign-out in Chinese").await;
    browser.close().await.unwrap();
}

/// Her session ends on the server while she answers (her nurse issued a new activation code, or
/// it expired): the finished form is not refused for good; it waits, sealed, the app asks her
/// to sign in, and it goes once she has.
#[tokio::test]
async fn a_form_finished_after_her_session_ended_waits_and_goes_once_she_signs_in() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    answer_unscheduled(&browser, 2, false).await;
    let nurse = app.staff_token("nurse").await;
    let (status, body) = app
        .post_as(
            &format!("/api/v1/patients/{study_id}/activation-code"),
            Some(&nurse),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    click(&browser, "button.send").await;
    // Signed out by the server: the form is kept, locked, and nothing was stored.
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    assert!(text_of(&browser, "#kept-locked").await.starts_with("Forms kept on this phone are locked"));
    nothing_readable(&browser, "after the server ended her session").await;
    assert!(nurse_submissions(&app, &study_id).await.as_array().unwrap().is_empty());
    // Her PIN still signs her in (the new code is for a new phone): the form goes, once.
    sign_in(&browser, &study_id).await;
    wait_for_text(&browser, "#screen-heading", "Due now").await;
    let submissions = received(&app, &study_id).await;
    assert_eq!(submissions.as_array().unwrap().len(), 1);
    assert!(submissions[0]["answers"].as_array().unwrap().iter().all(|a| a["response"] == 2));
    browser.close().await.unwrap();
}

/// "Send them, then sign out" sends what is finished and never deletes a form begun: it stays,
/// sealed, for her next sign-in.
#[tokio::test]
async fn sending_first_at_sign_out_keeps_a_form_begun() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    answer_unscheduled(&browser, 3, false).await;
    click(&browser, "button.send").await;
    wait_for(&browser, "#sent-groups", |text| text.contains("1 sent")).await;
    // The baseline begun, not finished.
    click(&browser, ".card.due .primary").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 2, 54, 2).await;
    click(&browser, "a.brand").await;
    click(&browser, "#sign-out").await;
    wait_for_text(&browser, "#unsent-count", "Forms not sent yet: 1").await;
    click(&browser, "#send-then-sign-out").await;
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    assert!(
        storage(&browser)
            .await
            .iter()
            .any(|(key, _)| key == &format!("qol.private.{study_id}.draft.baseline")),
        "the form begun is kept, sealed"
    );
    // Back with her PIN, she continues where she stopped.
    sign_in(&browser, &study_id).await;
    wait_for_text(&browser, ".card.due .primary", "Continue").await;
    click(&browser, ".card.due .primary").await;
    wait_for_text(&browser, ".progress", "Question 3 of 54").await;
    browser.close().await.unwrap();
}

/// The phone's own navigation (patient/nav.rs, no router library): a link moves to its screen
/// without loading the page again, Back and Forward follow, an address typed with a trailing
/// slash or an unknown one opens as expected, and the skip link is the browser's own jump.
#[tokio::test]
async fn links_back_and_forward_move_between_screens_without_a_page_load() {
    let Some((app, _driver, browser)) = setup().await else { return };
    activate_in_browser(&app, &browser).await;
    browser.execute("window.qolSamePage = true", vec![]).await.unwrap();
    let same_page = "return window.qolSamePage === true";
    let path = async |browser: &Client| {
        browser.execute("return location.pathname", vec![]).await.unwrap().as_str().unwrap().to_owned()
    };

    // The app's name leads home; on home it adds no second entry (Back would seem to do nothing).
    let entries = "return history.length";
    let before = browser.execute(entries, vec![]).await.unwrap();
    click(&browser, "a.brand").await;
    assert_eq!(browser.execute(entries, vec![]).await.unwrap(), before, "home entered twice");

    click(&browser, "#see-history").await;
    wait_for_text(&browser, "#screen-heading", "Your past forms").await;
    assert_eq!(path(&browser).await, "/history");
    click(&browser, ".help-link").await;
    wait_for_text(&browser, "#screen-heading", "Help").await;
    assert_eq!(path(&browser).await, "/help");
    assert_eq!(browser.execute(same_page, vec![]).await.unwrap(), true, "a link loaded the page again");

    browser.back().await.unwrap();
    wait_for_text(&browser, "#screen-heading", "Your past forms").await;
    assert_eq!(path(&browser).await, "/history");
    browser.back().await.unwrap();
    wait_for(&browser, ".card.due .card-title", |text| text == "Baseline").await;
    assert_eq!(path(&browser).await, "/");
    browser.forward().await.unwrap();
    wait_for_text(&browser, "#screen-heading", "Your past forms").await;
    assert_eq!(browser.execute(same_page, vec![]).await.unwrap(), true, "Back or Forward loaded the page");

    // The skip link jumps to the content; the screen stays.
    browser.execute("document.querySelector('.skip-link').click()", vec![]).await.unwrap();
    wait_until(&browser, "the skip link's jump", "return location.hash === '#main'").await;
    assert_eq!(path(&browser).await, "/history");
    assert_eq!(text_of(&browser, "#screen-heading").await, "Your past forms");

    // Addresses typed by hand (a page load: her PIN first): a trailing slash is the same
    // screen; an unknown one says so.
    browser.goto(&app.url("/help/")).await.unwrap();
    wait_for_text(&browser, "#screen-heading", "Enter your PIN to continue").await;
    unlock(&browser, PIN).await;
    wait_for_text(&browser, "#screen-heading", "Help").await;
    browser.goto(&app.url("/no-such-screen")).await.unwrap();
    unlock(&browser, PIN).await;
    wait_for(&browser, "h1", |text| text == "This page does not exist.").await;
    browser.close().await.unwrap();
}
