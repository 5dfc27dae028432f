//! The built app in headless Chromium at a phone's size (390×844), against the real server.

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, Locator};
use qol_tests::{Backend, TestApp, chromedriver, dist_dir, phone_browser, skip};
use serde_json::Value;

pub(crate) const WAIT: Duration = Duration::from_secs(15);
const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';

pub(crate) async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits until the element matching `css` has a text for which `accept` holds; returns it.
pub(crate) async fn wait_for(browser: &Client, css: &str, accept: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let actual = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if accept(&actual) {
            return actual;
        }
        assert!(tokio::time::Instant::now() < deadline, "{css}: still {actual:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn wait_for_text(browser: &Client, css: &str, expected: &str) {
    wait_for(browser, css, |actual| actual == expected).await;
}

pub(crate) async fn click(browser: &Client, css: &str) {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

pub(crate) async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub(crate) async fn press(browser: &Client, keys: &[char]) {
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys {
        actions = actions.then(KeyAction::Down { value: *key }).then(KeyAction::Up { value: *key });
    }
    browser.perform_actions(actions).await.unwrap();
}

/// Focus moves to each new screen's heading (one animation frame after it renders): wait for
/// it, and fail if it never arrives.
pub(crate) async fn wait_for_focus_on_heading(browser: &Client) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let focused = browser
            .execute("return document.activeElement && document.activeElement.id", vec![])
            .await
            .unwrap();
        if focused == "screen-heading" {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "focus did not move to the new screen's heading: {focused}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn setup() -> Option<(TestApp, qol_tests::ChromeDriver, Client)> {
    let Some(dist) = dist_dir() else {
        skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return None;
    };
    let (driver, chromium) = chromedriver().await?;
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist).await?;
    let browser = phone_browser(&driver, &chromium).await;
    Some((app, driver, browser))
}

/// Enrols a patient (through the API, as a nurse) and activates them in the browser.
pub(crate) async fn activate_in_browser(app: &TestApp, browser: &Client) -> String {
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    browser.goto(&app.url("/")).await.unwrap();
    click(browser, "a[href='/activate']").await;
    fill(browser, "#activation-code", &code).await;
    fill(browser, "#new-pin", "2580").await;
    fill(browser, "#new-pin-again", "2580").await;
    click(browser, "form button[type=submit]").await;
    wait_for_text(browser, "#screen-heading", "Due now").await;
    study_id
}

/// Answers items `from..=to` (screen numbers) by clicking option `choice` (1-based) on each,
/// waiting for the next question to appear each time.
pub(crate) async fn answer(browser: &Client, from: usize, to: usize, total: usize, choice: usize) {
    for position in from..=to {
        wait_for_text(browser, ".progress", &format!("Question {position} of {total}")).await;
        click(browser, &format!(".options .option:nth-child({choice})")).await;
    }
}

pub(crate) async fn nurse_submissions(app: &TestApp, study_id: &str) -> Value {
    let nurse = app.staff_token("nurse").await;
    let (status, body) = app.get_as(&format!("/api/v1/patients/{study_id}/submissions"), Some(&nurse)).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    body
}

#[tokio::test]
async fn a_patient_activates_answers_the_baseline_and_sees_it_sent() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    assert_eq!(text_of(&browser, ".card.due .card-title").await, "Baseline");
    click(&browser, ".card.due .primary").await;

    // Instructions: the demonstration notice once, and how many questions and how long.
    assert_eq!(
        text_of(&browser, "p.notice").await,
        "These are simplified demonstration questions, not the validated questionnaire."
    );
    assert_eq!(
        browser.find_all(Locator::Css(".notice")).await.unwrap().len(),
        1,
        "the notice once per screen"
    );
    assert_eq!(text_of(&browser, "#form-size").await, "54 questions, about 9 minutes.");
    click(&browser, "button.primary").await;
    wait_for_text(&browser, "#screen-heading", "Trouble with strenuous activities").await;
    let heights: Value = browser
        .execute("return [...document.querySelectorAll('.option, .back')].map(b => b.getBoundingClientRect().height)", vec![])
        .await
        .unwrap();
    for height in heights.as_array().unwrap() {
        assert!(height.as_f64().unwrap() >= 48.0, "a tap target is {height} px tall");
    }
    answer(&browser, 1, 54, 54, 2).await;
    // The "please call me" question, then the review.
    wait_for_text(&browser, "#screen-heading", "Would you like your research nurse to call you?").await;
    click(&browser, ".options .option:nth-child(2)").await;
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    assert_eq!(text_of(&browser, "p.all-answered").await, "You answered every question.");
    click(&browser, "button.send").await;

    let sent = wait_for(&browser, ".sent-list .state.sent", |text| text.starts_with("Sent ✓")).await;
    assert!(sent.contains("received"), "{sent}");
    let submissions = nurse_submissions(&app, &study_id).await;
    let submission = &submissions[0];
    assert_eq!(submissions.as_array().unwrap().len(), 1);
    assert_eq!(submission["assessment_key"], "baseline");
    assert_eq!(submission["answers"].as_array().unwrap().len(), 54);
    assert!(submission["answers"].as_array().unwrap().iter().all(|answer| answer["response"] == 2));
    let scores = submission["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2, "QLQ-C30 and QLQ-CX24 scores are stored");
    // All items "a little" (2): PF2 = (1 - 1/3) × 100.
    let pf2 = scores[0]["scales"].as_array().unwrap().iter().find(|s| s["code"] == "PF2").unwrap();
    assert!((pf2["score"].as_f64().unwrap() - 66.6667).abs() < 1e-3);
    browser.close().await.unwrap();
}

/// QLQ-CX24 item 49 "not at all" (not sexually active): the app goes straight past items 50–54
/// and sends them not applicable; changing the answer on the way back makes them apply again.
#[tokio::test]
async fn not_sexually_active_skips_items_50_to_54_on_the_phone() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    click(&browser, ".card.due .primary").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 48, 54, 2).await;
    wait_for_text(&browser, ".progress", "Question 49 of 54").await;
    // "A little" first: item 50 follows, with no "does not apply" choice (item 49 decided).
    click(&browser, ".options .option:nth-child(2)").await;
    wait_for_text(&browser, ".progress", "Question 50 of 54").await;
    let choices = browser.find_all(Locator::Css(".section-note button")).await.unwrap();
    assert!(choices.is_empty(), "item 49 said the section applies");
    // Back to 49 and "not at all": the next screen is the call-me question.
    click(&browser, "button.back").await;
    wait_for_text(&browser, ".progress", "Question 49 of 54").await;
    click(&browser, ".options .option:nth-child(1)").await;
    wait_for_text(&browser, "#screen-heading", "Would you like your research nurse to call you?").await;
    click(&browser, ".options .option:nth-child(2)").await;
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    assert_eq!(text_of(&browser, "p.all-answered").await, "You answered every question.");
    click(&browser, "button.send").await;
    wait_for(&browser, ".sent-list .state.sent", |text| text.starts_with("Sent ✓")).await;
    let submissions = nurse_submissions(&app, &study_id).await;
    let answers = submissions[0]["answers"].as_array().unwrap();
    for item in 50..=54 {
        let answer = answers.iter().find(|a| a["item"] == item).unwrap();
        assert_eq!(answer["response"], "not_applicable", "item {item}");
    }
    assert_eq!(answers.iter().find(|a| a["item"] == 49).unwrap()["response"], 1);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn reloading_in_the_middle_of_a_questionnaire_resumes_at_the_same_item() {
    let Some((app, _driver, browser)) = setup().await else { return };
    activate_in_browser(&app, &browser).await;
    click(&browser, ".card.due .primary").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 7, 54, 3).await;
    wait_for_text(&browser, ".progress", "Question 8 of 54").await;

    browser.refresh().await.unwrap();
    // A new page load finds her answers sealed: her PIN opens them, at the same item.
    wait_for_text(&browser, "#screen-heading", "Enter your PIN to continue").await;
    fill(&browser, "#unlock-pin", "2580").await;
    click(&browser, "form button[type=submit]").await;
    wait_for_text(&browser, ".progress", "Question 8 of 54").await;
    assert_eq!(text_of(&browser, "#screen-heading").await, "Shortness of breath");
    // The answers before it are kept: back one, and item 7's choice is marked.
    click(&browser, "button.back").await;
    wait_for_text(&browser, ".progress", "Question 7 of 54").await;
    let pressed = browser
        .execute(
            "return [...document.querySelectorAll('.option')].map(b => b.getAttribute('aria-pressed'))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pressed, serde_json::json!(["false", "false", "true", "false"]));

    // Closing the browser entirely and coming back resumes too (the session and the draft are kept).
    browser.goto(&app.url("/")).await.unwrap();
    fill(&browser, "#unlock-pin", "2580").await;
    click(&browser, "form button[type=submit]").await;
    assert_eq!(text_of(&browser, ".card.due .primary").await, "Continue");
    click(&browser, ".card.due .primary").await;
    wait_for_text(&browser, ".progress", "Question 7 of 54").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_form_sent_while_the_server_is_down_stays_on_the_phone_and_is_delivered_once_when_it_returns() {
    let Some((mut app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    // "I feel worse": an unscheduled QLQ-C30.
    click(&browser, ".worse button").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 30, 30, 4).await;
    click(&browser, ".options .option:nth-child(1)").await; // please call me
    wait_for_text(&browser, "#screen-heading", "Check and send").await;

    app.stop().await;
    click(&browser, "button.send").await;
    let saved = text_of(&browser, ".state.saved").await;
    assert_eq!(saved, "Saved on this phone — will be sent automatically");

    app.restart().await;
    wait_for(&browser, ".sent-list .state.sent", |text| text.starts_with("Sent ✓")).await;
    let submissions = nurse_submissions(&app, &study_id).await;
    assert_eq!(submissions.as_array().unwrap().len(), 1);
    assert_eq!(submissions[0]["timeliness"], "unscheduled");
    assert_eq!(submissions[0]["call_me"], true);
    // Later retries (visibility, network) change nothing: still exactly one.
    browser.execute("window.dispatchEvent(new Event('online'))", vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions WHERE timeliness = 'unscheduled'").await, 1);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_language_switch_changes_the_app_text_and_the_questionnaire_wording() {
    let Some((app, _driver, browser)) = setup().await else { return };
    browser.goto(&app.url("/")).await.unwrap();
    wait_for_text(&browser, "#screen-heading", "Welcome").await;
    click(&browser, "button.language").await;
    wait_for_text(&browser, "#screen-heading", "欢迎").await;
    let lang = browser.execute("return document.documentElement.lang", vec![]).await.unwrap();
    assert_eq!(lang, "zh-CN");
    click(&browser, "button.language").await;
    wait_for_text(&browser, "#screen-heading", "Welcome").await;

    activate_in_browser(&app, &browser).await;
    click(&browser, ".card.due .primary").await;
    click(&browser, "button.primary").await;
    wait_for_text(&browser, "#screen-heading", "Trouble with strenuous activities").await;
    click(&browser, "button.language").await;
    wait_for_text(&browser, "#screen-heading", "做剧烈活动有困难").await;
    assert_eq!(text_of(&browser, ".options .option:nth-child(4)").await, "非常多");
    assert_eq!(text_of(&browser, ".progress").await, "问题 1 / 54");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_questionnaire_can_be_completed_with_the_keyboard_alone() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    click(&browser, ".worse button").await;
    // From here on, only keys: focus starts on each screen's heading; Tab reaches its first
    // control, Enter activates it.
    wait_for(&browser, "#screen-heading", |text| !text.is_empty()).await;
    wait_for_focus_on_heading(&browser).await;
    press(&browser, &[TAB, ENTER]).await; // Start
    for position in 1..=30 {
        wait_for_text(&browser, ".progress", &format!("Question {position} of 30")).await;
        wait_for_focus_on_heading(&browser).await;
        press(&browser, &[TAB, ENTER]).await;
    }
    wait_for_text(&browser, "#screen-heading", "Would you like your research nurse to call you?").await;
    wait_for_focus_on_heading(&browser).await;
    press(&browser, &[TAB, TAB, ENTER]).await; // "No, thank you"
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    wait_for_focus_on_heading(&browser).await;
    press(&browser, &[TAB, ENTER]).await; // Send
    wait_for(&browser, ".sent-list .state.sent", |text| text.starts_with("Sent ✓")).await;
    let submissions = nurse_submissions(&app, &study_id).await;
    assert_eq!(submissions[0]["answers"].as_array().unwrap().len(), 30);
    assert!(submissions[0]["answers"].as_array().unwrap().iter().all(|a| a["response"] == 1));
    assert_eq!(submissions[0]["call_me"], false);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_client_route_loads_directly_and_shows_the_wording_pack_items() {
    let Some((app, _driver, browser)) = setup().await else { return };
    browser.goto(&app.url("/instruments/qlq-cx24")).await.unwrap();
    assert_eq!(text_of(&browser, "h1").await, "Cervical cancer module (demonstration)");
    let items = browser.find_all(Locator::Css(".items li .item-text")).await.unwrap();
    assert_eq!(items.len(), 24);
    assert_eq!(items[0].text().await.unwrap(), "Cramps in the belly");
    let width = browser.execute("return document.documentElement.clientWidth", vec![]).await.unwrap();
    assert_eq!(width, 390);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_installed_app_opens_without_a_network() {
    let Some((mut app, _driver, browser)) = setup().await else { return };
    activate_in_browser(&app, &browser).await;
    assert_eq!(text_of(&browser, ".card.due .card-title").await, "Baseline");
    // Wait until the service worker has cached the shell and controls the page.
    let deadline = tokio::time::Instant::now() + WAIT;
    while browser.execute("return !!navigator.serviceWorker.controller", vec![]).await.unwrap() != true {
        assert!(tokio::time::Instant::now() < deadline, "the service worker never took control");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let manifest =
        browser.execute("return document.querySelector('link[rel=manifest]').href", vec![]).await.unwrap();
    assert!(manifest.as_str().unwrap().ends_with("/manifest.webmanifest"));

    app.stop().await;
    browser.refresh().await.unwrap();
    // The shell comes from the cache, the patient from the phone; her PIN opens, offline, the
    // list sealed at the last visit.
    wait_for_text(&browser, "#screen-heading", "Enter your PIN to continue").await;
    fill(&browser, "#unlock-pin", "1111").await;
    click(&browser, "form button[type=submit]").await;
    wait_for_text(&browser, ".problem p", "This PIN is not right. Please try again.").await;
    fill(&browser, "#unlock-pin", "2580").await;
    click(&browser, "form button[type=submit]").await;
    wait_for_text(&browser, "#screen-heading", "Due now").await;
    assert_eq!(text_of(&browser, ".card.due .card-title").await, "Baseline");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_refused_form_is_explained_in_plain_words_in_the_patients_language() {
    let Some((app, _driver, browser)) = setup().await else { return };
    let study_id = activate_in_browser(&app, &browser).await;
    click(&browser, ".worse button").await;
    click(&browser, "button.primary").await;
    answer(&browser, 1, 30, 30, 1).await;
    click(&browser, ".options .option:nth-child(2)").await;
    wait_for_text(&browser, "#screen-heading", "Check and send").await;
    // Meanwhile the patient leaves the study.
    let nurse = app.staff_token("nurse").await;
    let (status, _) = app
        .record_event(
            &nurse,
            &study_id,
            serde_json::json!({ "kind": "off_study", "reason": "withdrawal" }),
            0,
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    click(&browser, "button.language").await;
    click(&browser, "button.send").await;
    let refusal = text_of(&browser, ".state.refused").await;
    assert!(refusal.starts_with("无法发送"), "{refusal}");
    assert!(
        refusal.contains("您的研究已经结束，因此不再需要这份问卷。"),
        "said from the refusal's code: {refusal}"
    );
    assert!(!refusal.contains("the study"), "no English inside the Chinese app: {refusal}");
    // In English, the server's own sentence is added as a detail.
    click(&browser, "button.language").await;
    let refusal = wait_for(&browser, ".state.refused", |text| text.starts_with("Could not be sent")).await;
    assert!(refusal.contains("The study has ended for you, so this form is no longer needed."), "{refusal}");
    assert!(refusal.contains("the study has ended for you"), "the server's reason is shown too: {refusal}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions WHERE timeliness = 'unscheduled'").await, 0);
    browser.close().await.unwrap();
}
