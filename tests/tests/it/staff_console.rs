//! The staff console (`/staff`, its own bundle) in headless Chromium at a desktop's size, with a
//! patient on a phone-sized window where the flow starts on the phone.

use std::time::Duration;

use fantoccini::{Client, Locator};
use qol_tests::{Backend, TestApp, chromedriver, desktop_browser, dist_dir, phone_browser, skip};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

async fn element(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn click(browser: &Client, css: &str) {
    element(browser, css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn fill(browser: &Client, css: &str, text: &str) {
    element(browser, css).await.send_keys(text).await.unwrap();
}

async fn select(browser: &Client, css: &str, value: &str) {
    element(browser, css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("select {css}: {e}"));
}

/// Waits until `script` (a JavaScript expression) is truthy; returns its value.
async fn until(browser: &Client, what: &str, script: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let value = browser.execute(&format!("return {script};"), vec![]).await.unwrap();
        if !(value.is_null() || value == false || value == "" || value == 0) {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: still {value}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sets a date field as a date picker would.
async fn set_date(browser: &Client, css: &str, date: &str) {
    browser
        .execute(
            "const d = document.querySelector(arguments[0]); d.value = arguments[1];\
             d.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Value::String(css.to_owned()), Value::String(date.to_owned())],
        )
        .await
        .unwrap();
}

/// The text of `css`, found again if the page re-rendered it meanwhile (the worklist refreshes
/// itself).
async fn text_of(browser: &Client, css: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match element(browser, css).await.text().await {
            Ok(text) => return text,
            Err(error) => {
                assert!(tokio::time::Instant::now() < deadline, "{css}: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

struct Setup {
    app: TestApp,
    driver: qol_tests::ChromeDriver,
    chromium: std::path::PathBuf,
}

async fn setup() -> Option<Setup> {
    let Some(dist) = dist_dir() else {
        skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return None;
    };
    let (driver, chromium) = chromedriver().await?;
    let app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist).await?;
    Some(Setup { app, driver, chromium })
}

/// Signs the demo nurse in through the console's sign-in page; lands on the worklist.
async fn nurse_signs_in(app: &TestApp, browser: &Client) {
    browser.goto(&app.url("/staff")).await.unwrap();
    // Not signed in: the console sends the visitor to its sign-in page.
    until(browser, "redirect to sign-in", "location.pathname === '/staff/sign-in'").await;
    fill(browser, "#username", "nurse").await;
    fill(browser, "#password", "demo-nurse-password").await;
    click(browser, "form button[type=submit]").await;
    until(
        browser,
        "the worklist",
        "document.querySelector('#screen-heading')?.textContent === 'Alert cards'",
    )
    .await;
}

/// Signs the demo admin in through the console's sign-in page.
async fn admin_signs_in(app: &TestApp, browser: &Client) {
    browser.goto(&app.url("/staff/sign-in")).await.unwrap();
    fill(browser, "#username", "admin").await;
    fill(browser, "#password", "demo-admin-password").await;
    click(browser, "form button[type=submit]").await;
    until(browser, "the console", "document.querySelector('.staff-nav')").await;
}

#[tokio::test]
async fn severe_answers_on_the_phone_become_a_red_alert_that_the_nurse_acknowledges_and_resolves() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    // The patient, on the phone: activates, then reports feeling worse with "very much" on every
    // item (choice 4) and asks to be called.
    let phone = phone_browser(&driver, &chromium).await;
    let nurse_token = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse_token, "nodal", 1).await;
    phone.goto(&app.url(&format!("/activate?code={code}"))).await.unwrap();
    let prefilled = element(&phone, "#activation-code").await.prop("value").await.unwrap();
    assert_eq!(prefilled.as_deref(), Some(code.as_str()), "the QR link fills in the code");
    fill(&phone, "#new-pin", "2580").await;
    fill(&phone, "#new-pin-again", "2580").await;
    click(&phone, "form button[type=submit]").await;
    click(&phone, ".worse button").await;
    click(&phone, "button.primary").await;
    for position in 1..=30 {
        until(
            &phone,
            "the next question",
            &format!("document.querySelector('.progress')?.textContent === 'Question {position} of 30'"),
        )
        .await;
        // Items 29–30 have seven options; the worst global rating is the first.
        let choice = if position >= 29 { 1 } else { 4 };
        click(&phone, &format!(".options .option:nth-child({choice})")).await;
    }
    until(
        &phone,
        "the call-me question",
        "document.querySelector('#screen-heading')?.textContent.startsWith('Would you like')",
    )
    .await;
    click(&phone, ".options .option:nth-child(1)").await;
    click(&phone, "button.send").await;
    until(
        &phone,
        "the receipt",
        "[...document.querySelectorAll('.state')].some(s => s.textContent.startsWith('Sent ✓'))",
    )
    .await;
    phone.close().await.unwrap();

    // The nurse, at a desktop: one card for the call request, first, and one card for the
    // symptoms, every worrying scale listed inside it.
    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    until(&desk, "cards listed", "document.querySelectorAll('.alert').length").await;
    let cards: Value = desk
        .execute(
            &format!(
                "return [...document.querySelectorAll('.alert')].filter(a => a.querySelector('h2 a').textContent === '{study_id}')\
                 .map(a => [a.dataset.kind, a.querySelector('.alert-head .tier').textContent])"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(cards, serde_json::json!([["call_request", "Red"], ["symptoms", "Red"]]), "one card per kind");
    let kinds: Value = desk
        .execute("return [...document.querySelectorAll('.alert')].map(a => a.dataset.kind)", vec![])
        .await
        .unwrap();
    let kinds: Vec<&str> = kinds.as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let first_symptoms = kinds.iter().position(|k| *k == "symptoms").unwrap();
    assert!(kinds[first_symptoms..].iter().all(|k| *k == "symptoms"), "call requests come first: {kinds:?}");
    let tiers: Value = desk
        .execute("return [...document.querySelectorAll('.alert')].filter(a => a.dataset.kind === 'symptoms').map(a => a.querySelector('.alert-head .tier').textContent)", vec![])
        .await
        .unwrap();
    let tiers: Vec<&str> = tiers.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    let mut sorted = tiers.clone();
    sorted.sort_by_key(|t| match *t {
        "Red" => 0,
        "Amber" => 1,
        _ => 2,
    });
    assert_eq!(tiers, sorted, "red, then amber, then info");
    let symptoms = format!(".alert[data-kind='symptoms'][data-alert-id]:has(h2 a[href$='{study_id}'])");
    let signal_rows: Value = desk
        .execute(&format!("return document.querySelectorAll(\"{symptoms} tr.signal\").length"), vec![])
        .await
        .unwrap();
    assert!(signal_rows.as_u64().unwrap() >= 10, "every worrying scale on the one card: {signal_rows}");
    let pain_rule = text_of(&desk, &format!("{symptoms} tr.signal[data-subject='PA'] .rule")).await;
    assert!(pain_rule.contains("100"), "the rule in plain words, with its value: {pain_rule}");
    let call_card = until(
        &desk,
        "the call request",
        &format!("document.querySelector(\".alert[data-kind='call_request']:has(h2 a[href$='{study_id}'])\")?.dataset.alertId"),
    )
    .await;
    let id = call_card.as_str().unwrap().to_owned();
    let card = format!(".alert[data-alert-id='{id}']");
    let heading = text_of(&desk, &format!("{card} h2")).await;
    assert!(heading.contains(&study_id) && heading.contains("Test Person"), "nurses see who: {heading}");
    assert!(text_of(&desk, &format!("{card} .rule")).await.contains("asked to be called"));
    assert!(text_of(&desk, &format!("{card} .waiting")).await.starts_with("Waiting for a call for"));
    assert_eq!(text_of(&desk, &format!("{card} .alert-head .tier")).await, "Red");
    let tel = element(&desk, &format!("{card} a.tel")).await.attr("href").await.unwrap().unwrap();
    assert!(tel.starts_with("tel:+"), "a tap-to-call link: {tel}");
    let title = desk.title().await.unwrap();
    assert!(
        title.starts_with('(') && title.contains("Worklist"),
        "the tab counts call requests and red cards: {title}"
    );

    // Acknowledge: the card says so, with the time it took, where it was.
    click(&desk, &format!("{card} .actions .primary")).await;
    until(
        &desk,
        "acknowledged",
        &format!("document.querySelector(\"{card} .state\")?.textContent === 'Acknowledged'"),
    )
    .await;
    let ack = text_of(&desk, &format!("{card} .ack-time")).await;
    assert!(ack.starts_with("Acknowledged after") && ack.contains(" min by "), "{ack}");

    // Resolve with an action and a note: the card stays in its place, resolved, and is listed
    // among the resolved.
    click(&desk, &format!("{card} .actions .secondary")).await;
    select(&desk, &format!("{card} select"), "called_patient").await;
    fill(&desk, &format!("{card} textarea"), "Called; pain medication adjusted.").await;
    click(&desk, &format!("{card} form button[type=submit]")).await;
    until(&desk, "resolved in place", &format!("document.querySelector(\"{card} .resolution\")")).await;
    assert_eq!(text_of(&desk, &format!("{card} .state")).await, "Resolved");
    // The list kept its place (the card is where it was): scroll up to the toolbar, as she would.
    desk.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(&desk, ".toolbar .secondary:nth-child(2)").await;
    until(&desk, "the resolved list", &format!("document.querySelector(\"{card} .resolution\") && document.querySelector('#screen-heading').textContent === 'Resolved cards'")).await;
    let resolution = text_of(&desk, &format!("{card} .resolution")).await;
    assert!(resolution.starts_with("Called the patient"), "{resolution}");
    assert_eq!(text_of(&desk, &format!("{card} .note")).await, "Called; pain medication adjusted.");

    // Stored and audited.
    let (_, alert) = app.get_as("/api/v1/alerts?state=resolved", Some(&nurse_token)).await;
    let stored = alert
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id.as_str()))
        .unwrap()
        .clone();
    assert_eq!(stored["resolution_action"], "called_patient");
    assert!(stored["minutes_to_acknowledge"].as_i64().is_some());
    let audited = app
        .count_dynamic(format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'alert_card' AND entity_id = '{id}' \
             AND action IN ('alert.acknowledge', 'alert.resolve')"
        ))
        .await;
    assert_eq!(audited, 2, "the acknowledgement and the resolution are audited");

    // From the symptoms card, one click opens the report's answers on the patient page, which
    // also plots it (pain at 100 with its threshold line) and lists the patient's cards.
    // The list kept its place (the card is where it was): scroll up to the toolbar, as she would.
    desk.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(&desk, ".toolbar .secondary:nth-child(2)").await;
    until(&desk, "the open list", "document.querySelector('#screen-heading').textContent === 'Alert cards'")
        .await;
    until(&desk, "the symptoms card", &format!("document.querySelector(\"{symptoms} .form-link\")")).await;
    click(&desk, &format!("{symptoms} .form-link")).await;
    until(&desk, "the report opened", "document.querySelector('.submissions details[open]')").await;
    until(&desk, "the patient's cards", "document.querySelectorAll('#patient-cards .alert').length === 2")
        .await;
    until(&desk, "the pain plot", "document.querySelector(\".plot[data-scale='PA'] circle\")").await;
    let plot: Value = desk
        .execute(
            "const p = document.querySelector(\".plot[data-scale='PA']\");\
             return [p.querySelectorAll('circle').length, !!p.querySelector('line.threshold'),\
                     p.querySelector('svg').getAttribute('aria-label')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(plot, serde_json::json!([1, true, "pain (PA): 100"]));
    let first_row = text_of(&desk, ".submissions details[open] .answers tbody tr").await;
    assert_eq!(first_row, "1 Trouble with strenuous activities 4 · Very much");
    desk.close().await.unwrap();
}

#[tokio::test]
async fn a_nurse_enrols_a_patient_prints_the_activation_sheet_and_records_treatment_on_the_patient_page() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    click(&desk, ".staff-nav a[href='/staff/patients']").await;
    click(&desk, "a[href='/staff/patients/new']").await;
    until(&desk, "the strata", "document.querySelectorAll('#stratum option').length === 3").await;
    select(&desk, "#stratum", "hematogenous").await;
    select(&desk, "#language", "en").await;
    fill(&desk, "#full-name", "Wang Fang").await;
    fill(&desk, "#phone", "+86 138 0000 0000").await;
    fill(&desk, "#hospital-number", "H-2026-17").await;
    set_date(&desk, "#enrolled-on", &qol_tests::chrono_today_minus(10)).await;
    click(&desk, "form button[type=submit]").await;

    // The sheet: the code once, its QR code carrying the activation link.
    let code = text_of(&desk, "#activation-code").await;
    let heading = text_of(&desk, "#activation-heading").await;
    let study_id = heading.rsplit(' ').next().unwrap().to_owned();
    assert!(study_id.starts_with("IVB-"), "{heading}");
    let qr_rects = until(&desk, "the QR code", "document.querySelector('.qr svg')?.innerHTML.length").await;
    assert!(qr_rects.as_i64().unwrap() > 500, "a QR code is drawn");
    let link = text_of(&desk, ".link-text").await;
    assert_eq!(link, app.url(&format!("/activate?code={code}")));
    // Printing shows the sheet alone.
    let hidden: Value = desk
        .execute(
            "const sheets = [...document.styleSheets].flatMap(s => [...s.cssRules]);\
             return sheets.some(r => r.media && r.media.mediaText === 'print' && r.cssText.includes('.staff-nav'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hidden, true, "a print style hides the navigation");

    // The patient activates with the code from the sheet.
    let token = app.activate(&code, "1470").await;
    assert!(!token.is_empty());

    // The patient page: identity, events, schedule; recording cycle 1 opens weekly forms.
    click(&desk, &format!("a[href='/staff/patients/{study_id}']")).await;
    until(
        &desk,
        "the patient page",
        &format!("document.querySelector('#screen-heading')?.textContent === '{study_id} · Wang Fang'"),
    )
    .await;
    assert_eq!(text_of(&desk, "#stratum").await, "hematogenous");
    until(&desk, "the schedule", "document.querySelectorAll('#schedule tbody tr').length").await;
    let weekly_before: Value = desk
        .execute("return [...document.querySelectorAll('#schedule tbody tr')].filter(r => r.textContent.includes('Weekly')).length", vec![])
        .await
        .unwrap();
    assert_eq!(weekly_before, 0, "no weekly forms before cycle 1 is recorded");
    select(&desk, "#event-kind", "chemotherapy_cycle").await;
    select(&desk, "#event-cycle", "1").await;
    click(&desk, ".event-form button[type=submit]").await;
    until(&desk, "the event listed", "[...document.querySelectorAll('#events li')].some(li => li.textContent.includes('Chemotherapy cycle starts 1'))").await;
    until(
        &desk,
        "weekly forms scheduled",
        "[...document.querySelectorAll('#schedule tbody tr')].some(r => r.textContent.includes('Weekly'))",
    )
    .await;

    // Correcting the date without a reason is refused with the server's words; with one, it is kept.
    let yesterday = qol_tests::chrono_today_minus(1);
    select(&desk, "#event-kind", "chemotherapy_cycle").await;
    until(&desk, "the cycle field", "document.querySelector('#event-cycle')").await;
    set_date(&desk, "#event-date", &yesterday).await;
    click(&desk, ".event-form button[type=submit]").await;
    let problem = text_of(&desk, ".event-form .problem").await;
    assert!(problem.to_lowercase().contains("reason"), "{problem}");
    fill(&desk, "#event-reason", "Date typed wrong at the clinic").await;
    click(&desk, ".event-form button[type=submit]").await;
    until(&desk, "the corrected date", &format!("[...document.querySelectorAll('#events li')].some(li => li.textContent.includes('{yesterday}') && li.textContent.includes('Date typed wrong'))")).await;
    until(&desk, "the superseded date", "document.querySelectorAll('#events li.superseded').length === 1")
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'event.correct'").await, 1);

    // An impossible order is refused naming the event it conflicts with; an unusual one is
    // recorded and the nurse is asked to check it.
    select(&desk, "#event-kind", "radiotherapy_end").await;
    click(&desk, ".event-form button[type=submit]").await;
    until(
        &desk,
        "the refusal",
        "document.querySelector('.event-form .problem')?.textContent.includes('radiotherapy start is not')",
    )
    .await;
    select(&desk, "#event-kind", "end_of_treatment").await;
    click(&desk, ".event-form button[type=submit]").await;
    let warned = until(&desk, "the warning", "document.querySelector('#event-warnings')?.textContent").await;
    assert!(
        warned.as_str().unwrap().contains("end of treatment after 1 of the protocol's 6 cycles"),
        "{warned}"
    );
    until(&desk, "the end of treatment listed", "[...document.querySelectorAll('#events li')].some(li => li.textContent.includes('End of treatment'))").await;
    desk.close().await.unwrap();
}

#[tokio::test]
async fn a_researcher_lands_on_the_pseudonymised_research_view() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    // IVB-001 goes off study as of the day before her weekly-03 window opened: that form stays
    // in the record, flagged, and the research view lists it.
    let nurse = app.staff_token("nurse").await;
    let (status, body) = app
        .record_event(
            &nurse,
            "IVB-001",
            serde_json::json!({ "kind": "off_study", "reason": "withdrawal" }),
            15,
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let downloads = std::env::temp_dir().join(format!("qol-downloads-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&downloads).unwrap();
    let desk = qol_tests::desktop_browser_saving_to(&driver, &chromium, &downloads).await;
    desk.goto(&app.url("/staff/sign-in")).await.unwrap();
    fill(&desk, "#username", "researcher").await;
    fill(&desk, "#password", "demo-researcher-password").await;
    click(&desk, "form button[type=submit]").await;
    // The worklist is for nurses: a researcher is taken to the research view.
    until(&desk, "the research view", "location.pathname === '/staff/research'").await;
    until(&desk, "the primary table", "document.querySelectorAll('#primary tbody tr').length").await;
    let ql2 = text_of(&desk, "#primary tr[data-scale='QL2']").await;
    assert!(ql2.starts_with("global health status / QoL (QL2)"), "{ql2}");
    // The numbers on the screen are the API's.
    let token = app.staff_token("researcher").await;
    let (_, report) = app.get_as("/api/v1/research/analysis", Some(&token)).await;
    let primary = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scale"] == "QL2" && c["timepoint"] == "end-of-treatment" && c["stratum"].is_null())
        .unwrap();
    let n = primary["n_paired"].as_u64().unwrap();
    assert!(n >= 1, "the demo has a patient through treatment");
    assert_eq!(text_of(&desk, "#primary tr[data-scale='QL2'] td:nth-of-type(1)").await, n.to_string());
    let mean = primary["change"]["mean"].as_f64().unwrap();
    let shown = text_of(&desk, "#primary tr[data-scale='QL2'] td.change").await;
    assert!(shown.starts_with(&format!("{mean:+.1}")), "{shown} vs {mean}");
    until(&desk, "the completion table", "document.querySelector(\"#completion tr[data-key='baseline']\")")
        .await;
    until(&desk, "the means plot", "document.querySelectorAll('#means-figure svg circle').length").await;
    // Completion in words: the assessments' labels and the reasons, never their codes.
    let completion = text_of(&desk, "#completion").await;
    assert!(completion.contains("Baseline") && !completion.contains("awaiting_reason"), "{completion}");
    // Every figure and report is stamped with the extraction time and the protocol version.
    let stamp = text_of(&desk, "#research-stamp").await;
    assert!(stamp.starts_with("Data extracted 20") && stamp.contains(" v1"), "{stamp}");
    // Time to deterioration: a curve per group side by side, the medians, the numbers at risk.
    until(&desk, "the TTD curves", "document.querySelectorAll('#ttd-figure svg path.km').length === 3").await;
    let at_risk =
        until(&desk, "the at-risk rows", "document.querySelectorAll('#ttd-at-risk tbody tr').length").await;
    assert_eq!(at_risk, 3, "all patients and the two strata");
    let (_, ttd) = app.get_as("/api/v1/research/ttd?scale=QL2", Some(&token)).await;
    let first_at_risk = text_of(&desk, "#ttd-at-risk tbody tr td").await;
    assert_eq!(first_at_risk, ttd["groups"][0]["at_risk"][0]["at_risk"].to_string());
    select(&desk, "#ttd-definition", "definitive").await;
    until(
        &desk,
        "the definitive curves asked for",
        "performance.getEntriesByType('resource').some(e => e.name.includes('definition=definitive'))",
    )
    .await;
    until(
        &desk,
        "the SVG link follows",
        "document.querySelector('#ttd-svg')?.getAttribute('href').includes('definition=definitive')",
    )
    .await;
    let links = until(
        &desk,
        "the export links",
        "[...document.querySelectorAll('.exports a')].map(a => a.getAttribute('href')).join(' ')",
    )
    .await;
    assert!(links.as_str().unwrap().contains("/api/v1/exports/dictionary.csv"), "{links}");
    let page = text_of(&desk, "main").await;
    for secret in ["Demo Patient", "DEMO-H00"] {
        assert!(!page.contains(secret), "the research view shows {secret}");
    }

    // The form left out of the numbers, with its reason, and the switch that counts it.
    until(
        &desk,
        "the out-of-window list",
        "document.querySelectorAll('#out-of-window tbody tr').length === 1",
    )
    .await;
    let listed = text_of(&desk, "#out-of-window tbody tr").await;
    assert!(
        listed.contains("IVB-001") && listed.contains("weekly-03") && listed.contains("not_in_schedule"),
        "{listed}"
    );
    click(&desk, "#include-out-of-window").await;
    until(
        &desk,
        "the analysis asked for with the forms included",
        "performance.getEntriesByType('resource').some(e => e.name.includes('include_out_of_window=true'))",
    )
    .await;
    until(&desk, "the switch stays on", "document.querySelector('#include-out-of-window')?.checked").await;

    // Each export, downloaded by the browser from its link (with the browser's own
    // Accept-Encoding), is the whole file: byte for byte what the API sends uncompressed.
    let token = app.staff_token("researcher").await;
    for name in qol_server::export::Export::ALL.map(qol_server::export::Export::name) {
        click(&desk, &format!(".exports a[href='/api/v1/exports/{name}']")).await;
        let saved = downloads.join(name);
        let deadline = tokio::time::Instant::now() + WAIT;
        while !saved.is_file()
            || std::fs::read_dir(&downloads)
                .unwrap()
                .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".crdownload"))
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} was not saved in {}",
                downloads.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let plain = app
            .client
            .get(app.url(&format!("/api/v1/exports/{name}")))
            .bearer_auth(&token)
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let got = std::fs::read(&saved).unwrap();
        assert!(got.len() > 100, "{name}: {} bytes", got.len());
        assert!(got == plain, "{name}: the browser saved {} bytes, the export is {}", got.len(), plain.len());
    }
    // The figure as SVG (a real download, then opened by the browser) and as PNG.
    let saved = |name: &str| {
        let file = downloads.join(name);
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            while !file.is_file() {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{} was not saved; the folder holds {:?}",
                    file.display(),
                    std::fs::read_dir(file.parent().unwrap())
                        .unwrap()
                        .map(|e| e.unwrap().file_name())
                        .collect::<Vec<_>>()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            file
        }
    };
    // Clicked as a person does (the browser allows a download per click), in the middle of the
    // screen where the sticky header does not cover it.
    desk.execute("document.querySelector('#ttd-svg').scrollIntoView({block: 'center'})", vec![])
        .await
        .unwrap();
    click(&desk, "#ttd-svg").await;
    let svg_file = saved("ttd-QL2-definitive-death-event.svg").await;
    let svg = std::fs::read_to_string(&svg_file).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("At risk"), "{svg}");
    desk.execute("document.querySelector('#ttd-png').scrollIntoView({block: 'center'})", vec![])
        .await
        .unwrap();
    click(&desk, "#ttd-png").await;
    let png = std::fs::read(saved("ttd-QL2-definitive-death-event.png").await).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2000, "a PNG of {} bytes", png.len());
    desk.goto(&format!("file://{}", svg_file.display())).await.unwrap();
    let root = until(&desk, "the SVG opened", "document.documentElement.tagName").await;
    assert_eq!(root, "svg", "the saved figure is a well-formed SVG document");
    // The results report, as the researcher opens it from the screen, passes axe.
    desk.goto(&app.url("/api/v1/research/report.html")).await.unwrap();
    until(&desk, "the report", "document.querySelector('#ttd-table')").await;
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the results report");
    }
    let _ = std::fs::remove_dir_all(&downloads);
    desk.close().await.unwrap();
}

#[tokio::test]
async fn a_nurse_sees_a_locked_out_patient_and_unlocks_them_from_the_patient_page() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    // Six wrong PINs for IVB-003 lock her out.
    for _ in 0..6 {
        let wrong = serde_json::json!({ "study_id": "IVB-003", "pin": "0000" });
        app.post_as("/api/v1/auth/patient/sign-in", None, &wrong).await;
    }
    let right = serde_json::json!({ "study_id": "IVB-003", "pin": qol_server::clinic::demo::DEMO_PIN });
    assert_eq!(app.post_as("/api/v1/auth/patient/sign-in", None, &right).await.0.as_u16(), 429);

    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    desk.goto(&app.url("/staff/patients/IVB-003")).await.unwrap();
    let locked = text_of(&desk, "#sign-in-locked").await;
    assert!(locked.starts_with("Sign-in locked after repeated wrong PINs, until"), "{locked}");
    click(&desk, "#sign-in-locked button").await;
    until(
        &desk,
        "the unlocked note",
        "document.querySelector('[role=status]')?.textContent.includes('Sign-in unlocked')",
    )
    .await;
    until(&desk, "the lock notice gone", "!document.querySelector('#sign-in-locked')").await;
    assert_eq!(app.post_as("/api/v1/auth/patient/sign-in", None, &right).await.0.as_u16(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.unlock' AND actor = 'staff:nurse'")
            .await,
        1
    );
    desk.close().await.unwrap();
}

/// axe-core (from npm, installed into `.tools/axe` by `.ci/run`), run in the page as it is: every
/// violation with its rule, impact and first elements. `None` (skipped) when it is not installed.
pub(crate) async fn axe_violations(browser: &Client) -> Option<Vec<Value>> {
    let path = std::env::var_os("QOL_AXE_JS").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../.tools/axe/node_modules/axe-core/axe.min.js")
    });
    let Ok(source) = std::fs::read_to_string(&path) else {
        skip(
            &format!("axe-core is not installed ({})", path.display()),
            "npm install --prefix .tools/axe --no-save axe-core@4.14.1",
        );
        return None;
    };
    // Evaluated through WebDriver, so the page's Content-Security-Policy does not apply to it.
    browser.execute(&format!("{source}\nreturn typeof window.axe;"), vec![]).await.unwrap();
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.axe.run(document, { resultTypes: ['violations'],\
               rules: { 'label-content-name-mismatch': { enabled: true }, 'target-size': { enabled: true } } })\
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,\
                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '')) }))))\
               .catch(e => done([{ id: 'axe-error', impact: String(e) }]));",
            vec![],
        )
        .await
        .unwrap();
    Some(result.as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn the_worklist_refreshes_itself_and_its_cards_pass_axe() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, code) = app.enrol(&nurse, "nodal", 1).await;
    let patient = app.activate(&code, "1357").await;
    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    until(&desk, "the demo's cards", "document.querySelectorAll('.alert').length").await;
    let title_before = desk.title().await.unwrap();
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the worklist");
    }

    // A call request arrives while the worklist is open: it appears by itself, first among the
    // call requests, and the tab's count goes up.
    let mut report = qol_tests::c30_report("20000000-0000-4000-8000-000000000001", 1);
    report["call_me"] = Value::Bool(true);
    let (status, body) = app.post_as("/api/v1/me/submissions", Some(&patient), &report).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    let selector = format!(".alert[data-kind='call_request']:has(h2 a[href$='{study_id}'])");
    loop {
        let found =
            desk.execute(&format!("return !!document.querySelector(\"{selector}\");"), vec![]).await.unwrap();
        if found == true {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new call request never appeared without a reload"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let count = |title: &str| -> u32 {
        title
            .strip_prefix('(')
            .and_then(|rest| rest.split(')').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let title_after = desk.title().await.unwrap();
    assert_eq!(count(&title_after), count(&title_before) + 1, "{title_before} → {title_after}");
    let waiting = text_of(&desk, &format!("{selector} .waiting")).await;
    assert!(waiting.starts_with("Waiting for a call for"), "{waiting}");

    // The link an on-call e-mail carries opens the worklist on that card.
    let id =
        until(&desk, "the card's id", &format!("document.querySelector(\"{selector}\").dataset.alertId"))
            .await;
    let id = id.as_str().unwrap().to_owned();
    desk.goto(&app.url(&format!("/staff/worklist?card={id}"))).await.unwrap();
    until(
        &desk,
        "the linked card",
        &format!("document.querySelector(\".alert.linked[data-alert-id='{id}']\")"),
    )
    .await;

    // The patient page with its cards.
    desk.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(&desk, &format!("{selector} h2 a")).await;
    until(&desk, "the patient's cards", "document.querySelectorAll('#patient-cards .alert').length === 1")
        .await;
    until(&desk, "the submissions", "document.querySelector('.submissions li')").await;
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the patient page");
    }
    desk.close().await.unwrap();
}

/// A Chrome DevTools Protocol command through ChromeDriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(serde_json::json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

#[tokio::test]
async fn the_reminder_screens_pass_axe_and_a_push_shows_a_notification() {
    let Some(dist) = dist_dir() else {
        skip("no built app in dist/", "run `cargo xtask dist` first (cargo xtask test does)");
        return;
    };
    let Some((driver, chromium)) = chromedriver().await else { return };
    let folder = std::env::temp_dir().join(format!("qol-vapid-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let key_file = folder.join("vapid.pem");
    std::fs::write(&key_file, qol_server::notify::new_vapid_keys().unwrap().0).unwrap();
    // An SMS gateway (refusing IVB-003's number) and the study's clock at 09:05 today: the demo
    // patients with an open form are reminded as the server starts.
    let gateway = crate::reminders::Endpoint::start(200).await;
    let clock = qol_server::clock::Clock::fixed(crate::reminders::at(qol_tests::study_today(), 9, 5));
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.dist_dir = dist;
        config.clock = clock.clone();
        config.reminders.remind_every = Duration::from_millis(100);
        config.reminders.sms_gateway_url =
            Some(qol_server::config::Secret(format!("{}/send", gateway.url())));
        config.reminders.vapid_private_key_file = Some(key_file.clone());
        config.reminders.vapid_subject = Some("mailto:qol@example.org".into());
    })
    .await
    else {
        return;
    };

    assert!(gateway.wait_for(2).await >= 2, "the demo's open forms are reminded");
    let shots = std::env::temp_dir().join("qol-reminder-screens");
    std::fs::create_dir_all(&shots).unwrap();

    // The patient, on her phone: her reminders screen, then "do not remind me".
    let phone = phone_browser(&driver, &chromium).await;
    phone.goto(&app.url("/")).await.unwrap();
    let signed_in = phone
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/api/v1/auth/patient/sign-in', { method: 'POST', credentials: 'include',\
               headers: { 'Content-Type': 'application/json' },\
               body: JSON.stringify({ study_id: 'IVB-001', pin: arguments[0] }) }).then(r => done(r.status));",
            vec![Value::from(qol_server::clinic::demo::DEMO_PIN)],
        )
        .await
        .unwrap();
    assert_eq!(signed_in, 200);
    phone.goto(&app.url("/")).await.unwrap();
    // A session without this phone's vault: her PIN makes it (checked by the server).
    fill(&phone, "#unlock-pin", qol_server::clinic::demo::DEMO_PIN).await;
    click(&phone, "form button[type=submit]").await;
    click(&phone, "#reminder-settings").await;
    until(&phone, "the reminders screen", "document.querySelector('#reminder-status')?.textContent").await;
    until(&phone, "the push section", "document.querySelector('#push button')").await;
    if let Some(violations) = axe_violations(&phone).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the reminders screen");
    }
    click(&phone, "input[name=channel][value=off]").await;
    click(&phone, "form button[type=submit]").await;
    until(
        &phone,
        "reminders off",
        "document.querySelector('#reminder-status')?.textContent.includes('You will not be reminded')",
    )
    .await;

    // A push reaches the service worker (as a push service would deliver it): a notification.
    let origin = app.address.clone();
    phone
        .issue_cmd(Cdp {
            cmd: "Browser.grantPermissions",
            params: serde_json::json!({ "origin": origin, "permissions": ["notifications"] }),
        })
        .await
        .unwrap();
    phone.issue_cmd(Cdp { cmd: "ServiceWorker.enable", params: serde_json::json!({}) }).await.unwrap();
    until(
        &phone,
        "the service worker, active",
        "navigator.serviceWorker.ready.then(r => r.active !== null && r.active.state === 'activated')",
    )
    .await;
    let payload = serde_json::json!({ "title": "Questionnaire reminder", "body": "Your questionnaire is ready.", "tag": "qol-baseline" });
    let notifications = |phone: &Client| {
        let phone = phone.clone();
        async move {
            phone
                .execute_async(
                    "const done = arguments[arguments.length - 1];\
                     navigator.serviceWorker.ready.then(r => r.getNotifications())\
                       .then(list => done(list.map(n => n.title + ' | ' + n.body))).catch(e => done(['error ' + e]));",
                    vec![],
                )
                .await
                .unwrap()
        }
    };
    // The worker's registration id is not exposed to the page; a fresh profile numbers them from
    // 0. Delivery can be lost while the worker is still starting up, so rounds are repeated
    // until the notification shows (or 15 s pass).
    let mut shown = Value::Null;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    'rounds: while tokio::time::Instant::now() < deadline {
        for registration in 0..4 {
            let delivered = phone
                .issue_cmd(Cdp {
                    cmd: "ServiceWorker.deliverPushMessage",
                    params: serde_json::json!({ "origin": origin, "registrationId": registration.to_string(), "data": payload.to_string() }),
                })
                .await;
            if let Err(error) = delivered {
                eprintln!("registration {registration}: {error}");
            }
        }
        for _ in 0..10 {
            shown = notifications(&phone).await;
            if shown.as_array().is_some_and(|list| !list.is_empty()) {
                break 'rounds;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(shown, serde_json::json!(["Questionnaire reminder | Your questionnaire is ready."]));
    phone.close().await.unwrap();

    // Her nurse sees it on the patient page, which passes axe with its reminders: what was sent,
    // and (another patient) what could not be.
    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    desk.goto(&app.url("/staff/patients/IVB-001")).await.unwrap();
    let status =
        until(&desk, "the reminders panel", "document.querySelector('#reminder-status')?.textContent").await;
    assert_eq!(status, "Reminders are off.");
    let sent = text_of(&desk, "#reminder-messages tbody tr").await;
    assert!(sent.contains("SMS") && sent.contains("Sent"), "{sent}");
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the patient page with reminders");
    }
    let to_reminders =
        "document.querySelector('#reminders-heading').scrollIntoView(); window.scrollBy(0, -80)";
    desk.execute(to_reminders, vec![]).await.unwrap();
    std::fs::write(shots.join("staff-patient-reminders.png"), desk.screenshot().await.unwrap()).unwrap();
    desk.goto(&app.url("/staff/patients/IVB-003")).await.unwrap();
    let failed = until(
        &desk,
        "the failed reminder",
        "document.querySelector('#reminder-messages tbody tr')?.textContent",
    )
    .await;
    let failed = failed.as_str().unwrap();
    assert!(failed.contains("Could not send") && failed.contains("number rejected"), "{failed}");
    desk.execute(to_reminders, vec![]).await.unwrap();
    std::fs::write(shots.join("staff-patient-reminder-failed.png"), desk.screenshot().await.unwrap())
        .unwrap();
    // The follow-up list says how often each overdue form was reminded.
    desk.goto(&app.url("/staff/follow-up")).await.unwrap();
    let reminded = until(
        &desk,
        "the reminded column",
        "[...document.querySelectorAll('#overdue td.reminded')].map(td => td.textContent).filter(t => t).join(' / ')",
    )
    .await;
    assert!(reminded.as_str().unwrap().contains("reminded 1×, last today"), "{reminded}");
    assert!(
        reminded.as_str().unwrap().contains("the last reminder could not be sent"),
        "IVB-003: {reminded}"
    );
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the follow-up list");
    }
    std::fs::write(shots.join("staff-follow-up.png"), desk.screenshot().await.unwrap()).unwrap();
    eprintln!("reminder screens in {}", shots.display());
    desk.close().await.unwrap();
    let _ = std::fs::remove_dir_all(folder);
}

/// Every console screen, as an admin sees it (every part), in both languages: axe-core finds
/// nothing, and the first Tab reaches a skip link to the main content.
#[tokio::test]
async fn every_console_screen_passes_axe_and_starts_with_a_skip_link() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, _) = app.enrol(&nurse, "nodal", 1).await;
    let desk = desktop_browser(&driver, &chromium).await;
    desk.goto(&app.url("/staff/sign-in")).await.unwrap();
    until(&desk, "the sign-in form", "document.querySelector('#username')").await;
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the sign-in screen");
    }
    fill(&desk, "#username", "admin").await;
    fill(&desk, "#password", "demo-admin-password").await;
    click(&desk, "form button[type=submit]").await;
    until(&desk, "the console", "document.querySelector('.staff-nav')").await;
    let patient_page = format!("/staff/patients/{study_id}");
    let baseline = app.assessment(&nurse, &study_id, "baseline").await;
    let entry_page = format!("/staff/patients/{study_id}/enter/{}", baseline["id"]);
    let (_, sent) = app.get_as("/api/v1/patients/IVB-001/submissions", Some(&nurse)).await;
    let correction_page = format!("/staff/patients/IVB-001/correct/{}", sent[0]["id"]);
    let screens = [
        "/staff",
        "/staff/follow-up",
        "/staff/patients",
        "/staff/patients/new",
        &patient_page,
        &entry_page,
        &correction_page,
        "/staff/research",
        "/staff/admin/users",
        "/staff/admin/setup",
        "/staff/admin/audit",
    ];
    for language in ["English", "中文"] {
        for path in screens {
            desk.goto(&app.url(path)).await.unwrap();
            until(&desk, path, "document.querySelector('.staff-nav') && document.querySelector('main h1')")
                .await;
            if language == "中文" {
                click(&desk, "button.language").await;
                until(&desk, "Chinese", "document.documentElement.lang === 'zh-CN'").await;
            }
            // Its data arrives after the first paint.
            tokio::time::sleep(Duration::from_millis(800)).await;
            if let Some(violations) = axe_violations(&desk).await {
                assert_eq!(violations, Vec::<Value>::new(), "axe on {path} in {language}");
            }
            // The first Tab lands on the skip link, which leads to the main content.
            desk.execute(
                "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
                vec![],
            )
            .await
            .unwrap();
            let first = desk
                .execute(
                    "const all = [...document.querySelectorAll('a[href], button, input, select, textarea')];\
                     return all.length ? all[0].className + '→' + all[0].getAttribute('href') : '';",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(first, "skip-link→#main", "the first control on {path}");
            if language == "中文" {
                click(&desk, "button.language").await;
                until(&desk, "English", "document.documentElement.lang === 'en'").await;
            }
        }
    }
    desk.close().await.unwrap();
}

/// The admin's staff accounts (issue 18): each account's role, state, last sign-in and live
/// sessions; disabling the nurse ends her session at once, enabling lets her back, a lockout is
/// shown and lifted. A nurse has no Admin link and is refused the page.
#[tokio::test]
async fn an_admin_disables_and_enables_a_nurse_and_lifts_a_lockout_from_the_staff_accounts() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let nurse = app.staff_token("nurse").await;
    crate::admin::lock_out_researcher(&app).await;
    let desk = desktop_browser(&driver, &chromium).await;
    admin_signs_in(&app, &desk).await;
    click(&desk, ".staff-nav a[href='/staff/admin/users']").await;
    until(&desk, "the accounts", "document.querySelector('#staff-accounts tbody tr')").await;
    assert_eq!(text_of(&desk, "#screen-heading").await, "Staff accounts");

    let row = |name: &str| format!("#staff-accounts tr[data-username='{name}']");
    let nurse_row = row("nurse");
    assert_eq!(text_of(&desk, &format!("{nurse_row} td:nth-of-type(1)")).await, "Research nurse");
    assert_eq!(text_of(&desk, &format!("{nurse_row} .state")).await, "Active");
    assert_eq!(text_of(&desk, &format!("{nurse_row} .sessions")).await, "1");
    assert_ne!(text_of(&desk, &format!("{nurse_row} .last-sign-in")).await, "Never");
    let researcher_row = row("researcher");
    assert_eq!(text_of(&desk, &format!("{researcher_row} .last-sign-in")).await, "Never");
    assert!(
        text_of(&desk, &format!("{researcher_row} .state"))
            .await
            .starts_with("Active · sign-in locked until ")
    );
    // Her own account: no way to disable it or sign herself out from here.
    let own = desk
        .execute(&format!("return document.querySelectorAll(\"{} button\").length", row("admin")), vec![])
        .await
        .unwrap();
    assert_eq!(own, 0);

    click(&desk, &format!("{nurse_row} button[data-change=Disable]")).await;
    until(
        &desk,
        "the nurse disabled",
        &format!("document.querySelector(\"{nurse_row} .state\")?.textContent === 'Disabled'"),
    )
    .await;
    assert_eq!(text_of(&desk, &format!("{nurse_row} .sessions")).await, "0");
    until(
        &desk,
        "said",
        "document.querySelector('#announce').textContent.startsWith('The account is disabled')",
    )
    .await;
    assert_eq!(app.get_as("/api/v1/alerts", Some(&nurse)).await.0, reqwest::StatusCode::UNAUTHORIZED);
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the staff accounts");
    }

    click(&desk, &format!("{nurse_row} button[data-change=Enable]")).await;
    until(
        &desk,
        "the nurse enabled",
        &format!("document.querySelector(\"{nurse_row} .state\")?.textContent === 'Active'"),
    )
    .await;
    let nurse = app.staff_token("nurse").await;
    click(&desk, &format!("{researcher_row} button[data-change=Unlock]")).await;
    until(
        &desk,
        "the lockout lifted",
        &format!("document.querySelector(\"{researcher_row} .state\")?.textContent === 'Active'"),
    )
    .await;
    // The study's setup, one link away: the protocol's name, every scheduled assessment, the
    // demonstration wording.
    click(&desk, ".admin-nav a[href='/staff/admin/setup']").await;
    until(&desk, "the setup", "document.querySelector('#setup-schedule tbody tr')").await;
    assert_eq!(text_of(&desk, "#screen-heading").await, "Study setup");
    let shipped = crate::admin::shipped_protocol();
    assert_eq!(text_of(&desk, ".protocol-name").await, shipped["name"].as_str().unwrap());
    let rows = desk
        .execute("return document.querySelectorAll('#setup-schedule tbody tr').length", vec![])
        .await
        .unwrap();
    assert_eq!(rows.as_u64().unwrap() as usize, shipped["assessments"].as_array().unwrap().len());
    assert_eq!(text_of(&desk, ".demonstration").await, "Yes");
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the study setup");
    }
    click(&desk, ".admin-nav a[href='/staff/admin/users']").await;
    until(&desk, "the accounts again", "document.querySelector('#staff-accounts tbody tr')").await;

    // A forgotten password: a new one-time code, shown once.
    click(&desk, &format!("{nurse_row} button[data-change=ResetPassword]")).await;
    until(
        &desk,
        "the code",
        "document.querySelector('#password-code-heading')?.textContent === 'One-time code for nurse'",
    )
    .await;
    assert_eq!(text_of(&desk, "#password-code .code").await.len(), 14);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('staff.disable', 'staff.enable', 'auth.unlock')"
        )
        .await,
        3
    );
    desk.close().await.unwrap();

    // A nurse's console has no Admin link, and the page refuses her.
    let (status, _) = app.get_as("/api/v1/staff", Some(&nurse)).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    assert_eq!(
        desk.execute(
            "return document.querySelectorAll(\".staff-nav a[href='/staff/admin/users']\").length",
            vec![]
        )
        .await
        .unwrap(),
        0
    );
    desk.goto(&app.url("/staff/admin/users")).await.unwrap();
    until(&desk, "the refusal", "document.querySelector('main [role=alert]')").await;
    assert_eq!(text_of(&desk, "main [role=alert]").await, "Your role has no access to this page.");
    desk.close().await.unwrap();
}

/// A new colleague (issue 18): the admin creates the account and reads out its one-time code;
/// the colleague, on another computer, follows the sign-in page's link, sets a password with the
/// code and signs in. A mistyped second password is caught before anything is sent.
#[tokio::test]
async fn a_new_colleague_sets_a_password_with_the_admins_code_and_signs_in() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let desk = desktop_browser(&driver, &chromium).await;
    admin_signs_in(&app, &desk).await;
    desk.goto(&app.url("/staff/admin/users")).await.unwrap();
    fill(&desk, "#new-username", "Nurse.Three").await;
    select(&desk, "#new-role", "nurse").await;
    click(&desk, "#new-account-heading + p + form button[type=submit]").await;
    until(&desk, "the code", "document.querySelector('#password-code .code')").await;
    assert_eq!(text_of(&desk, "#password-code-heading").await, "One-time code for nurse.three");
    let code = text_of(&desk, "#password-code .code").await;
    assert_eq!(code.len(), 14, "{code}");
    until(
        &desk,
        "the new row",
        "document.querySelector(\"#staff-accounts tr[data-username='nurse.three']\")",
    )
    .await;
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe with a code shown");
    }
    desk.close().await.unwrap();

    let colleague = desktop_browser(&driver, &chromium).await;
    colleague.goto(&app.url("/staff/sign-in")).await.unwrap();
    click(&colleague, "a[href='/staff/set-password']").await;
    until(&colleague, "the page", "document.querySelector('#new-password-again')").await;
    assert_eq!(text_of(&colleague, "#screen-heading").await, "Set your password");
    if let Some(violations) = axe_violations(&colleague).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on set-password");
    }
    fill(&colleague, "#username", "nurse.three").await;
    fill(&colleague, "#code", &code.to_lowercase()).await;
    fill(&colleague, "#new-password", "my own long password").await;
    fill(&colleague, "#new-password-again", "my own long pasword").await;
    click(&colleague, "form button[type=submit]").await;
    until(&colleague, "the mismatch", "document.querySelector('.problem')").await;
    assert_eq!(text_of(&colleague, ".problem p").await, "The two passwords are not the same.");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.set_password'").await, 0);
    element(&colleague, "#new-password-again").await.clear().await.unwrap();
    fill(&colleague, "#new-password-again", "my own long password").await;
    click(&colleague, "form button[type=submit]").await;
    until(&colleague, "done", "document.querySelector('main [role=status]')").await;
    assert_eq!(text_of(&colleague, "main [role=status]").await, "Your password is set. Sign in with it now.");
    click(&colleague, "main a[href='/staff/sign-in']").await;
    fill(&colleague, "#username", "nurse.three").await;
    fill(&colleague, "#password", "my own long password").await;
    click(&colleague, "form button[type=submit]").await;
    until(
        &colleague,
        "the worklist",
        "document.querySelector('#screen-heading')?.textContent === 'Alert cards'",
    )
    .await;
    colleague.close().await.unwrap();
}

/// A locked-out staff member is told to ask an admin (the patient's wording says to ask the
/// research nurse), in the console's language.
#[tokio::test]
async fn a_locked_out_staff_member_is_told_to_ask_an_admin() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    crate::admin::lock_out_researcher(&app).await;
    let desk = desktop_browser(&driver, &chromium).await;
    desk.goto(&app.url("/staff/sign-in")).await.unwrap();
    fill(&desk, "#username", "researcher").await;
    fill(&desk, "#password", "demo-researcher-password").await;
    click(&desk, "form button[type=submit]").await;
    until(&desk, "the refusal", "document.querySelector('.problem p')").await;
    assert_eq!(
        text_of(&desk, ".problem p").await,
        "Too many wrong tries. Wait a few minutes, or ask an admin to lift the lockout."
    );
    desk.close().await.unwrap();
}

/// A paper form (issue 18): the nurse opens the patient's open baseline, enters the paper's
/// answers with its reference, and stores it; the patient page shows how it was filled in. She
/// then corrects one answer: a wrong password is refused on the page, her own signs the new
/// version, and the page shows both versions with who signed, when and why.
#[tokio::test]
async fn a_nurse_enters_a_paper_form_and_corrects_it_with_her_signature() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let nurse_token = app.staff_token("nurse").await;
    let (study_id, _) = app.enrol(&nurse_token, "nodal", 0).await;
    let desk = desktop_browser(&driver, &chromium).await;
    nurse_signs_in(&app, &desk).await;
    desk.goto(&app.url(&format!("/staff/patients/{study_id}"))).await.unwrap();
    click(&desk, "#enter-baseline").await;
    until(&desk, "the form's items", "document.querySelectorAll('fieldset.item').length").await;
    assert_eq!(
        until(&desk, "54 items", "document.querySelectorAll('fieldset.item').length === 54 && 54").await,
        54
    );
    // Paper is the mode offered first; the reference is required for it.
    assert_eq!(element(&desk, "#entry-mode").await.prop("value").await.unwrap().as_deref(), Some("paper"));
    for (item, code) in [(9, 4), (19, 4), (29, 5), (30, 5), (49, 1)] {
        click(&desk, &format!("label[for='item-{item}-{code}']")).await;
    }
    // The sexual-activity section does not apply after "not at all".
    for item in 50..=54 {
        click(&desk, &format!("label[for='item-{item}-na']")).await;
    }
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the entry form");
    }
    fill(&desk, "#entry-reference", "PAPER-7").await;
    click(&desk, "#entry-submit").await;
    until(&desk, "stored", "document.querySelector('#stored-status')").await;
    assert_eq!(text_of(&desk, "#stored-status").await, "The form was stored, scored and checked for alerts.");
    let summary = text_of(&desk, ".submissions li summary").await;
    assert!(
        summary.contains("Paper form")
            && summary.contains("form PAPER-7")
            && summary.contains("entered by nurse"),
        "{summary}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM submissions WHERE mode = 'paper' AND form_reference = 'PAPER-7' AND submitted_by = 'staff:nurse'").await,
        1
    );
    // Its severe pain is on the worklist, as the phone's would be.
    let pain = format!(
        "SELECT COUNT(*) FROM alerts WHERE scale = 'PA' AND patient_id = (SELECT id FROM patients WHERE study_code = '{study_id}')"
    );
    assert_eq!(app.count_dynamic(pain).await, 1);

    // The correction: item 9 was "quite a bit", not "very much".
    click(&desk, ".submissions a[id^='correct-']").await;
    until(&desk, "the answers as stored", "document.querySelector('#item-9-4')?.checked").await;
    click(&desk, "label[for='item-9-3']").await;
    fill(&desk, "#correct-reason", "item 9 misread from the paper").await;
    fill(&desk, "#correct-password", "not my password").await;
    click(&desk, "#correct-submit").await;
    until(&desk, "the refusal", "document.querySelector('.problem p')").await;
    assert!(text_of(&desk, ".problem p").await.starts_with("password:"), "the refusal names the password");
    assert_eq!(
        element(&desk, "#correct-password").await.prop("value").await.unwrap().as_deref(),
        Some(""),
        "the password is not kept on the page"
    );
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the correction form");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions WHERE version = 2").await, 0);
    fill(&desk, "#correct-password", "demo-nurse-password").await;
    click(&desk, "#correct-submit").await;
    until(&desk, "signed", "document.querySelector('#stored-status')").await;
    assert_eq!(
        text_of(&desk, "#stored-status").await,
        "The correction was signed and stored as a new version."
    );
    let signature = text_of(&desk, ".submissions .signature").await;
    assert!(
        signature.contains("corrected by nurse")
            && signature.contains("I corrected a transcription error")
            && signature.contains("item 9 misread from the paper"),
        "{signature}"
    );
    let versions = desk
        .execute(
            "return [...document.querySelectorAll('.submissions li summary')].map(s => s.textContent)",
            vec![],
        )
        .await
        .unwrap();
    let versions: Vec<String> = serde_json::from_value(versions).unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(
        versions[0].contains("version 2")
            && versions[1].contains("version 1")
            && versions[1].contains("superseded"),
        "{versions:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM item_answers a JOIN submissions s ON s.id = a.submission_id WHERE s.version = 2 AND a.item = 9 AND a.code = 3").await,
        1
    );
    desk.close().await.unwrap();
}

/// The audit trail (issue 18): the admin filters it down to one patient, sees the entries about
/// her with who did what, verifies the chain, and downloads the filtered entries as a real file.
#[tokio::test]
async fn an_admin_filters_the_audit_trail_verifies_it_and_downloads_it() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let nurse = app.staff_token("nurse").await;
    let (study_id, _) = app.enrol(&nurse, "nodal", 0).await;
    let (status, body) = app
        .record_event(&nurse, &study_id, serde_json::json!({ "kind": "radiotherapy_start" }), 0, None)
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let downloads = std::env::temp_dir().join(format!("qol-downloads-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&downloads).unwrap();
    let desk = qol_tests::desktop_browser_saving_to(&driver, &chromium, &downloads).await;
    admin_signs_in(&app, &desk).await;
    desk.goto(&app.url("/staff/admin/users")).await.unwrap();
    click(&desk, ".admin-nav a[href='/staff/admin/audit']").await;
    until(&desk, "the newest entries", "document.querySelectorAll('#audit-entries tbody tr').length").await;
    fill(&desk, "#audit-patient", &study_id.to_lowercase()).await;
    click(&desk, "#audit-apply").await;
    let rows = until(
        &desk,
        "her entries only",
        "(() => { const rows = [...document.querySelectorAll('#audit-entries tbody tr')];\
           return rows.length === 2 && rows.map(r => r.dataset.action).join(' '); })()",
    )
    .await;
    assert_eq!(rows, "event.record patient.enrol", "newest first");
    let enrolled = text_of(&desk, "#audit-entries tr[data-action='patient.enrol']").await;
    assert!(enrolled.contains("staff:nurse") && enrolled.contains(&study_id), "{enrolled}");
    // Before and after, where they apply.
    click(&desk, "#audit-entries tr[data-action='event.record'] summary").await;
    let after = text_of(&desk, "#audit-entries tr[data-action='event.record'] pre").await;
    assert!(after.contains("radiotherapy_start"), "{after}");

    click(&desk, "#verify-chain").await;
    until(&desk, "the chain's status", "document.querySelector('#chain-status')").await;
    let chain = text_of(&desk, "#chain-status").await;
    let entries = app.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(chain.starts_with("Intact") && chain.contains(&format!("{entries} entries checked")), "{chain}");
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on the audit trail");
    }

    // The download is the filtered entries, as the browser saves it (with the headers a browser
    // sends: a compressed stream).
    click(&desk, "#audit-csv").await;
    let file = downloads.join("audit.csv");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !file.exists()
        || downloads
            .read_dir()
            .unwrap()
            .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "crdownload"))
    {
        assert!(tokio::time::Instant::now() < deadline, "no download in {}", downloads.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("id,occurred_at,actor,actor_role,action"), "{text}");
    let actions: Vec<&str> = lines[1..].iter().map(|line| line.split(',').nth(4).unwrap()).collect();
    assert_eq!(actions, ["audit.export", "event.record", "patient.enrol"], "{text}");
    desk.close().await.unwrap();
    std::fs::remove_dir_all(&downloads).ok();
}

#[tokio::test]
async fn an_admin_uploads_a_wording_pack_sees_its_report_and_applies_it() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let folder = std::env::temp_dir().join(format!("qol-packs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut bad = crate::admin::site_pack("Missing an item");
    bad["languages"]["zh-CN"]["instruments"]["qlq-c30"]["items"].as_object_mut().unwrap().remove("29");
    let bad_file = folder.join("bad.json");
    std::fs::write(&bad_file, serde_json::to_string_pretty(&bad).unwrap()).unwrap();
    let good_file = folder.join("good.json");
    std::fs::write(&good_file, crate::admin::site_pack("Site pack v2").to_string()).unwrap();
    let desk = desktop_browser(&driver, &chromium).await;
    admin_signs_in(&app, &desk).await;
    desk.goto(&app.url("/staff/admin/setup")).await.unwrap();
    until(&desk, "the setup", "document.querySelector('.wording-name')").await;
    assert_eq!(text_of(&desk, ".wording-source").await, "shipped with qol");

    // A pack with a missing item: the report names it, and there is nothing to apply.
    element(&desk, "#wording-file").await.send_keys(bad_file.to_str().unwrap()).await.unwrap();
    until(&desk, "the file read", "!document.querySelector('#wording-check').disabled").await;
    click(&desk, "#wording-check").await;
    let problems =
        until(&desk, "the report", "document.querySelector('#wording-problems')?.textContent").await;
    assert!(
        problems.as_str().unwrap().contains("languages.zh-CN.instruments.qlq-c30.items.29 is missing"),
        "{problems}"
    );
    assert_eq!(
        desk.execute("return document.querySelectorAll('#wording-apply').length", vec![]).await.unwrap(),
        0
    );
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on a wording pack's report");
    }

    // The good pack: no problem, the texts it changes listed, applied with a reason.
    element(&desk, "#wording-file").await.send_keys(good_file.to_str().unwrap()).await.unwrap();
    until(&desk, "the report cleared", "!document.querySelector('#wording-problems')").await;
    click(&desk, "#wording-check").await;
    until(&desk, "a clean report", "document.querySelector('#wording-apply')").await;
    let changed = text_of(&desk, "#wording-changed summary").await;
    assert!(changed.ends_with(" 3"), "{changed}");
    fill(&desk, "#wording-reason", "EORTC licence granted").await;
    click(&desk, "#wording-apply").await;
    until(&desk, "applied", "document.querySelector('#wording-applied')").await;
    until(
        &desk,
        "the setup shows the new pack",
        "document.querySelector('.wording-name')?.textContent === 'Site pack v2'",
    )
    .await;
    assert_eq!(text_of(&desk, ".wording-source").await, "uploaded from this console");
    assert!(text_of(&desk, ".wording-uploaded").await.starts_with("staff:admin, "));
    assert_eq!(text_of(&desk, ".demonstration").await, "No");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'wording.apply'").await, 1);
    // The phone's questionnaire reads the new text.
    let nurse = app.staff_token("nurse").await;
    let (_, instrument) = app.get_as("/api/v1/instruments/qlq-c30?lang=en", Some(&nurse)).await;
    assert_eq!(instrument["items"][2]["text"], "Short walk (Site pack v2)");
    desk.close().await.unwrap();
    std::fs::remove_dir_all(&folder).ok();
}

#[tokio::test]
async fn an_admin_amends_the_protocol_from_the_setup_page() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let folder = std::env::temp_dir().join(format!("qol-protocols-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut moved = crate::admin::shipped_protocol();
    moved["time_zone"] = "Europe/Paris".into();
    let moved_file = folder.join("moved.json");
    std::fs::write(&moved_file, moved.to_string()).unwrap();
    let mut amended = crate::admin::shipped_protocol();
    let weekly =
        amended["assessments"].as_array_mut().unwrap().iter_mut().find(|a| a["code"] == "weekly").unwrap();
    weekly["end_days"] = 10.into();
    let amended_file = folder.join("amended.json");
    std::fs::write(&amended_file, serde_json::to_string_pretty(&amended).unwrap()).unwrap();

    let desk = desktop_browser(&driver, &chromium).await;
    admin_signs_in(&app, &desk).await;
    desk.goto(&app.url("/staff/admin/setup")).await.unwrap();
    until(&desk, "the setup", "document.querySelector('#protocol-versions tbody tr')").await;
    assert_eq!(text_of(&desk, ".protocol-version").await, "1");

    // A moved time zone: refused, named, nothing to apply.
    element(&desk, "#protocol-file").await.send_keys(moved_file.to_str().unwrap()).await.unwrap();
    until(&desk, "the file read", "!document.querySelector('#protocol-check').disabled").await;
    click(&desk, "#protocol-check").await;
    let problems =
        until(&desk, "the report", "document.querySelector('#protocol-problems')?.textContent").await;
    assert!(problems.as_str().unwrap().contains("time_zone: is \"Europe/Paris\""), "{problems}");
    assert_eq!(
        desk.execute("return document.querySelectorAll('#protocol-apply').length", vec![]).await.unwrap(),
        0
    );

    // The amendment: its one change listed, applied with a reason as version 2.
    element(&desk, "#protocol-file").await.send_keys(amended_file.to_str().unwrap()).await.unwrap();
    until(&desk, "the report cleared", "!document.querySelector('#protocol-problems')").await;
    click(&desk, "#protocol-check").await;
    until(&desk, "a clean report", "document.querySelector('#protocol-apply')").await;
    assert_eq!(
        text_of(&desk, "#protocol-changes tbody tr").await.split_whitespace().collect::<Vec<_>>(),
        ["assessments.weekly.end_days", "13", "10"]
    );
    assert_eq!(text_of(&desk, "#protocol-apply").await, "Apply as version 2");
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on an amendment's report");
    }
    fill(&desk, "#protocol-reason", "Amendment 2: shorter weekly window").await;
    click(&desk, "#protocol-apply").await;
    until(&desk, "applied", "document.querySelector('#protocol-applied')").await;
    until(
        &desk,
        "version 2 in the setup",
        "document.querySelector('.protocol-version')?.textContent === '2'",
    )
    .await;
    let second = text_of(&desk, "#protocol-versions tr[data-version='2']").await;
    assert!(
        second.contains("staff:admin") && second.contains("Amendment 2: shorter weekly window"),
        "{second}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'protocol.amend'").await, 1);
    desk.close().await.unwrap();
    std::fs::remove_dir_all(&folder).ok();
}

#[tokio::test]
async fn a_second_entry_of_a_paper_form_is_made_blind_and_a_difference_resolved() {
    let Some(Setup { app, driver, chromium }) = setup().await else { return };
    let admin = app.staff_token("admin").await;
    let nurse = app.staff_token("nurse").await;
    let mut protocol = crate::admin::shipped_protocol();
    protocol["paper_double_entry"] = true.into();
    let amendment = serde_json::json!({ "protocol": protocol.to_string(), "reason": "paper entered twice" });
    assert_eq!(
        app.post_as("/api/v1/admin/protocol", Some(&admin), &amendment).await.0,
        reqwest::StatusCode::OK
    );
    let (study_id, _) = app.enrol(&nurse, "nodal", 0).await;
    let baseline = app.assessment(&nurse, &study_id, "baseline").await["id"].as_i64().unwrap();
    let first = serde_json::json!({
        "client_id": uuid::Uuid::new_v4().to_string(), "assessment_id": baseline, "mode": "paper",
        "completed_on": qol_tests::chrono_today_minus(0), "form_reference": "P-1", "language": "en",
        "answers": [{ "item": 9, "response": 4 }],
    });
    let path = format!("/api/v1/patients/{study_id}/submissions");
    assert_eq!(app.post_as(&path, Some(&nurse), &first).await.0, reqwest::StatusCode::ACCEPTED);

    // The admin makes the second entry: she sees who made the first, not what it holds.
    let desk = desktop_browser(&driver, &chromium).await;
    admin_signs_in(&app, &desk).await;
    desk.goto(&app.url(&format!("/staff/patients/{study_id}"))).await.unwrap();
    assert_eq!(text_of(&desk, ".paper-entries").await, "· 1 of 2 entries");
    click(&desk, "#enter-baseline").await;
    until(
        &desk,
        "the double entry state",
        "document.querySelector(\"#double-entry [data-state='awaiting_second_entry']\")",
    )
    .await;
    assert!(text_of(&desk, "#double-entry").await.contains("staff:nurse"));
    until(&desk, "the form's items", "document.querySelectorAll('fieldset.item').length === 54").await;
    assert_eq!(
        desk.execute(
            "return [...document.querySelectorAll('fieldset.item input:checked')].filter(i => /-[0-9]+$/.test(i.id)).length",
            vec![]
        )
        .await
        .unwrap(),
        0,
        "blind: nothing of the first entry is shown"
    );
    click(&desk, "label[for='item-9-3']").await;
    fill(&desk, "#entry-reference", "P-1").await;
    click(&desk, "#entry-submit").await;
    let differences = until(
        &desk,
        "the entries differ",
        "document.querySelector('#entry-pending .differences')?.textContent",
    )
    .await;
    assert_eq!(differences, "item 9");
    if let Some(violations) = axe_violations(&desk).await {
        assert_eq!(violations, Vec::<Value>::new(), "axe on a second entry that differs");
    }

    // Resolved from the paper: the page fills in what they agree on; item 9 as the paper says.
    desk.refresh().await.unwrap();
    until(&desk, "the state", "document.querySelector(\"#double-entry [data-state='entries_differ']\")")
        .await;
    until(&desk, "the agreed reference", "document.querySelector('#entry-reference')?.value === 'P-1'").await;
    until(&desk, "the form's items", "document.querySelectorAll('fieldset.item').length === 54").await;
    click(&desk, "label[for='item-9-4']").await;
    click(&desk, "#entry-submit").await;
    until(&desk, "stored", "document.querySelector('#stored-status')").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM submissions WHERE mode = 'paper' AND form_reference = 'P-1'").await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'paper_entry.resolve'").await, 1);
    desk.close().await.unwrap();
}
