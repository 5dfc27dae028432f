//! The built app in headless Chromium at a phone's size, against the real server.

use std::time::Duration;

use fantoccini::{Client, Locator};
use qol_tests::{Backend, TestApp, chromedriver, dist_dir, phone_browser, skip};

const WAIT: Duration = Duration::from_secs(15);

async fn text_of(browser: &Client, css: &str) -> String {
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

/// Waits until the element matching `css` has `expected` as its text.
async fn wait_for_text(browser: &Client, css: &str, expected: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let actual = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if actual == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{css}: expected {expected:?}, still {actual:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn setup() -> Option<(TestApp, qol_tests::ChromeDriver, Client)> {
    let Some(dist) = dist_dir() else {
        skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return None;
    };
    let (driver, chromium) = chromedriver().await?;
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist).await?;
    let browser = phone_browser(&driver, &chromium).await;
    Some((app, driver, browser))
}

#[tokio::test]
async fn the_app_renders_the_study_and_questionnaires_on_a_phone() {
    let Some((app, _driver, browser)) = setup().await else { return };
    browser.goto(&app.url("/")).await.unwrap();

    assert_eq!(
        text_of(&browser, ".study-title").await,
        "Demo: chemotherapy plus radiotherapy to the primary lesion for stage IVB cervical cancer"
    );
    let cards = browser.find_all(Locator::Css(".cards .card-title")).await.unwrap();
    let mut titles = Vec::new();
    for card in cards {
        titles.push(card.text().await.unwrap());
    }
    assert_eq!(titles, ["EORTC QLQ-C30 3.0", "EORTC QLQ-CX24 1.0"]);
    let notice = text_of(&browser, ".card .notice").await;
    assert_eq!(notice, "Demonstration wording — not the validated questionnaire");
    // The static loading message is gone once the app has started.
    assert!(browser.find(Locator::Id("loading")).await.is_err());

    let width = browser.execute("return document.documentElement.clientWidth", vec![]).await.unwrap();
    assert_eq!(width, 390);
    // Tap targets are at least 48 CSS pixels tall.
    let height = browser
        .execute("return document.querySelector('.language').getBoundingClientRect().height", vec![])
        .await
        .unwrap();
    assert!(height.as_f64().unwrap() >= 48.0, "language button is {height} px tall");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_language_switch_changes_the_app_text_and_the_page_language() {
    let Some((app, _driver, browser)) = setup().await else { return };
    browser.goto(&app.url("/")).await.unwrap();
    wait_for_text(&browser, "#study-heading", "Study").await;
    browser.find(Locator::Css("button.language")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, "#study-heading", "研究").await;
    wait_for_text(&browser, "#instruments-heading", "问卷").await;
    let lang = browser.execute("return document.documentElement.lang", vec![]).await.unwrap();
    assert_eq!(lang, "zh-CN");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_client_route_loads_directly_and_shows_the_wording_pack_items() {
    let Some((app, _driver, browser)) = setup().await else { return };
    browser.goto(&app.url("/instruments/qlq-cx24")).await.unwrap();
    assert_eq!(text_of(&browser, "h1").await, "Cervical cancer module (demonstration)");
    let items = browser.find_all(Locator::Css(".items li .item-text")).await.unwrap();
    assert_eq!(items.len(), 24);
    assert_eq!(items[0].text().await.unwrap(), "Abdominal cramps");
    assert_eq!(
        text_of(&browser, "p.notice").await,
        "Demonstration wording — not the validated questionnaire"
    );
    browser.close().await.unwrap();
}
