//! Not a test: `cargo xtask screenshots` runs this (it is ignored otherwise) to save a
//! phone-size (390×844) PNG of every screen of the patient app, and desktop-size (1280×900) PNGs
//! of the staff console, into `QOL_SCREENSHOTS_DIR`, for the README.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};
use qol_tests::{Backend, TestApp, chromedriver, desktop_browser, dist_dir, phone_browser};

async fn shoot(browser: &Client, folder: &std::path::Path, name: &str) {
    // Let fonts and transitions settle, and put focus out of the picture.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = browser.screenshot().await.unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn until(browser: &Client, css: &str, text: &str) {
    for _ in 0..300 {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && element.text().await.unwrap_or_default() == text
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} never read {text:?}");
}

#[tokio::test]
#[ignore = "run by cargo xtask screenshots"]
async fn every_screen() {
    let folder = PathBuf::from(
        std::env::var("QOL_SCREENSHOTS_DIR").expect("QOL_SCREENSHOTS_DIR names the output folder"),
    );
    std::fs::create_dir_all(&folder).unwrap();
    let dist = dist_dir().expect("run cargo xtask dist first");
    let (driver, chromium) = chromedriver().await.expect("chromium and chromedriver");
    let mut app = TestApp::spawn_with(Backend::Sqlite, |config| config.dist_dir = dist).await.unwrap();
    let browser = phone_browser(&driver, &chromium).await;
    let nurse = app.staff_token("nurse").await;
    let (_, code) = app.enrol(&nurse, "nodal", 1).await;

    browser.goto(&app.url("/")).await.unwrap();
    until(&browser, "#screen-heading", "Welcome").await;
    shoot(&browser, &folder, "01-welcome").await;
    click(&browser, "a[href='/activate']").await;
    let code_field = browser.find(Locator::Css("#activation-code")).await.unwrap();
    code_field.send_keys(&code).await.unwrap();
    shoot(&browser, &folder, "02-activate").await;
    browser.find(Locator::Css("#new-pin")).await.unwrap().send_keys("2580").await.unwrap();
    browser.find(Locator::Css("#new-pin-again")).await.unwrap().send_keys("2580").await.unwrap();
    click(&browser, "form button[type=submit]").await;
    until(&browser, "#screen-heading", "Due now").await;
    shoot(&browser, &folder, "03-home-due").await;

    click(&browser, ".card.due .primary").await;
    until(&browser, "button.primary", "Start").await;
    shoot(&browser, &folder, "04-instructions").await;
    click(&browser, "button.primary").await;
    until(&browser, ".progress", "Question 1 of 54").await;
    shoot(&browser, &folder, "05-question").await;
    for position in 1..=48 {
        until(&browser, ".progress", &format!("Question {position} of 54")).await;
        click(&browser, ".options .option:nth-child(2)").await;
    }
    // Item 49 decides whether items 50–54 apply: "not at all" skips them.
    until(&browser, ".progress", "Question 49 of 54").await;
    shoot(&browser, &folder, "06-sexual-activity-gate").await;
    click(&browser, ".options .option:nth-child(1)").await;
    until(&browser, "#screen-heading", "Would you like your research nurse to call you?").await;
    shoot(&browser, &folder, "07-call-me").await;
    click(&browser, ".options .option:nth-child(2)").await;
    until(&browser, "#screen-heading", "Check and send").await;
    shoot(&browser, &folder, "08-review").await;

    app.stop().await;
    click(&browser, "button.send").await;
    browser.wait().for_element(Locator::Css(".state.saved")).await.unwrap();
    shoot(&browser, &folder, "09-saved-on-this-phone").await;
    app.restart().await;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(".sent-list .state.sent"))
        .await
        .unwrap();
    shoot(&browser, &folder, "10-sent").await;

    click(&browser, ".worse button").await;
    click(&browser, "button.primary").await;
    click(&browser, "button.language").await;
    until(&browser, ".progress", "问题 1 / 30").await;
    shoot(&browser, &folder, "11-question-chinese").await;
    click(&browser, "button.language").await;

    // A new page load finds her answers sealed: the lock screen, then her PIN.
    browser.goto(&app.url("/settings")).await.unwrap();
    until(&browser, "#screen-heading", "Enter your PIN to continue").await;
    shoot(&browser, &folder, "26-locked").await;
    browser.find(Locator::Css("#unlock-pin")).await.unwrap().send_keys("2580").await.unwrap();
    click(&browser, "form button[type=submit]").await;
    browser.wait().for_element(Locator::Css("#reminder-status")).await.unwrap();
    shoot(&browser, &folder, "24-reminder-settings").await;

    // "I need help": the call request first, then what happens next.
    click(&browser, "a.help-link").await;
    until(&browser, "#screen-heading", "Help").await;
    browser.wait().for_element(Locator::Css("#study-phone")).await.unwrap();
    shoot(&browser, &folder, "27-help").await;
    click(&browser, "#ask-call").await;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#help-state.sent"))
        .await
        .unwrap();
    shoot(&browser, &folder, "28-help-asked").await;
    click(&browser, "a.brand").await;
    until(&browser, "#screen-heading", "Due now").await;
    browser.wait().for_element(Locator::Css("#sent-groups")).await.unwrap();
    shoot(&browser, &folder, "29-home-grouped").await;
    click(&browser, "#see-history").await;
    until(&browser, "#screen-heading", "Your past forms").await;
    browser.wait().for_element(Locator::Css("#past-forms li")).await.unwrap();
    shoot(&browser, &folder, "30-history").await;
    // Signing out with a form begun (the one opened in Chinese above resumes at its first
    // question): she chooses what happens to it.
    click(&browser, "a.brand").await;
    click(&browser, ".worse button").await;
    until(&browser, ".progress", "Question 1 of 30").await;
    click(&browser, ".options .option:nth-child(2)").await;
    until(&browser, ".progress", "Question 2 of 30").await;
    click(&browser, "a.brand").await;
    click(&browser, "#sign-out").await;
    until(&browser, "#screen-heading", "Sign out").await;
    shoot(&browser, &folder, "31-sign-out-unsent").await;
    click(&browser, "#keep-locked").await;
    until(&browser, "#screen-heading", "Welcome").await;

    browser.goto(&app.url("/staff/sign-in")).await.unwrap();
    until(&browser, "#screen-heading", "Staff sign-in").await;
    shoot(&browser, &folder, "12-staff-sign-in").await;
    browser.close().await.unwrap();

    // The staff console at a desktop's size, on the demo data plus the patient above.
    let desk = desktop_browser(&driver, &chromium).await;
    desk.goto(&app.url("/staff/sign-in")).await.unwrap();
    desk.wait().for_element(Locator::Css("#username")).await.unwrap().send_keys("nurse").await.unwrap();
    desk.find(Locator::Css("#password")).await.unwrap().send_keys("demo-nurse-password").await.unwrap();
    click(&desk, "form button[type=submit]").await;
    until(&desk, "#screen-heading", "Alert cards").await;
    desk.wait().for_element(Locator::Css(".alert")).await.unwrap();
    shoot(&desk, &folder, "13-staff-worklist").await;
    click(&desk, ".alert .actions .secondary").await;
    desk.wait().for_element(Locator::Css(".alert form.resolve")).await.unwrap();
    desk.execute("document.querySelector('.alert form.resolve').scrollIntoView({ block: 'end' })", vec![])
        .await
        .unwrap();
    shoot(&desk, &folder, "14-staff-resolve").await;
    desk.goto(&app.url("/staff/follow-up")).await.unwrap();
    desk.wait().for_element(Locator::Css("#overdue")).await.unwrap();
    shoot(&desk, &folder, "15-staff-follow-up").await;
    desk.goto(&app.url("/staff/patients/IVB-003")).await.unwrap();
    desk.wait().for_element(Locator::Css("#schedule")).await.unwrap();
    shoot(&desk, &folder, "16-staff-patient").await;
    desk.wait().for_element(Locator::Css(".plot")).await.unwrap();
    desk.execute("document.querySelector('#timeline-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "17-staff-timeline").await;
    desk.wait().for_element(Locator::Css("#patient-cards .alert")).await.unwrap();
    desk.execute("document.querySelector('#cards-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "22-staff-patient-cards").await;
    desk.wait().for_element(Locator::Css("#reminder-status")).await.unwrap();
    desk.execute(
        "document.querySelector('#reminders-heading').scrollIntoView(); window.scrollBy(0, -80)",
        vec![],
    )
    .await
    .unwrap();
    shoot(&desk, &folder, "25-staff-patient-reminders").await;
    // The on-call nurse opens an alert e-mail's link on her phone.
    desk.goto(&app.url("/staff")).await.unwrap();
    desk.wait().for_element(Locator::Css(".alert")).await.unwrap();
    let card = desk.execute("return document.querySelector('.alert').dataset.alertId", vec![]).await.unwrap();
    desk.set_window_size(390, 844).await.unwrap();
    desk.goto(&app.url(&format!("/staff/worklist?card={}", card.as_str().unwrap()))).await.unwrap();
    desk.wait().for_element(Locator::Css(".alert.linked")).await.unwrap();
    shoot(&desk, &folder, "23-staff-worklist-phone").await;
    desk.set_window_size(1280, 900).await.unwrap();
    desk.goto(&app.url("/staff/patients/new")).await.unwrap();
    desk.wait().for_element(Locator::Css("#stratum option[value='nodal']")).await.unwrap();
    desk.find(Locator::Css("#stratum")).await.unwrap().select_by_value("nodal").await.unwrap();
    // Her language is chosen (there is no default): the sheet prints in it.
    desk.find(Locator::Css("#language")).await.unwrap().select_by_value("zh-CN").await.unwrap();
    desk.find(Locator::Css("#full-name")).await.unwrap().send_keys("Li Na").await.unwrap();
    desk.find(Locator::Css("#phone")).await.unwrap().send_keys("+86 138 0000 0000").await.unwrap();
    desk.find(Locator::Css("#hospital-number")).await.unwrap().send_keys("H-2026-042").await.unwrap();
    click(&desk, "form button[type=submit]").await;
    desk.wait().for_element(Locator::Css(".qr svg")).await.unwrap();
    shoot(&desk, &folder, "18-staff-activation-sheet").await;
    desk.execute("document.querySelector('.staff-nav button.link').click()", vec![]).await.unwrap();
    desk.wait().for_element(Locator::Css("#username")).await.unwrap();
    desk.goto(&app.url("/staff/sign-in")).await.unwrap();
    desk.wait().for_element(Locator::Css("#username")).await.unwrap().send_keys("researcher").await.unwrap();
    desk.find(Locator::Css("#password")).await.unwrap().send_keys("demo-researcher-password").await.unwrap();
    click(&desk, "form button[type=submit]").await;
    desk.wait().for_element(Locator::Css("#primary tbody tr")).await.unwrap();
    shoot(&desk, &folder, "19-staff-research").await;
    desk.execute("document.querySelector('#means-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "20-staff-research-means").await;
    desk.wait().for_element(Locator::Css("#completion tbody tr")).await.unwrap();
    desk.execute("document.querySelector('#completion-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "21-staff-completion").await;
    desk.wait().for_element(Locator::Css("#ttd-figure svg")).await.unwrap();
    desk.execute("document.querySelector('#ttd-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "40-staff-research-ttd").await;
    desk.goto(&app.url("/api/v1/research/report.html")).await.unwrap();
    desk.wait().for_element(Locator::Css("#ttd-table")).await.unwrap();
    shoot(&desk, &folder, "41-results-report").await;
    desk.execute("document.querySelector('#ttd').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "42-results-report-ttd").await;
    desk.goto(&app.url("/staff/research")).await.unwrap();
    desk.wait().for_element(Locator::Css("#primary tbody tr")).await.unwrap();
    desk.execute("document.querySelector('.staff-nav button.link').click()", vec![]).await.unwrap();
    desk.wait().for_element(Locator::Css("#username")).await.unwrap();
    desk.goto(&app.url("/staff/sign-in")).await.unwrap();
    desk.wait().for_element(Locator::Css("#username")).await.unwrap().send_keys("admin").await.unwrap();
    desk.find(Locator::Css("#password")).await.unwrap().send_keys("demo-admin-password").await.unwrap();
    click(&desk, "form button[type=submit]").await;
    desk.wait().for_element(Locator::Css(".staff-nav")).await.unwrap();
    desk.goto(&app.url("/staff/admin/users")).await.unwrap();
    desk.wait().for_element(Locator::Css("#staff-accounts tbody tr")).await.unwrap();
    shoot(&desk, &folder, "32-staff-accounts").await;
    desk.goto(&app.url("/staff/admin/setup")).await.unwrap();
    desk.wait().for_element(Locator::Css("#setup-schedule tbody tr")).await.unwrap();
    shoot(&desk, &folder, "33-staff-setup").await;
    // A paper form entered for a patient's baseline, then corrected with a signature.
    let admin = app.staff_token("admin").await;
    let (paper_patient, _) = app.enrol(&admin, "hematogenous", 0).await;
    let baseline = app.assessment(&admin, &paper_patient, "baseline").await;
    desk.goto(&app.url(&format!("/staff/patients/{paper_patient}/enter/{}", baseline["id"]))).await.unwrap();
    desk.wait().for_element(Locator::Css("fieldset.item label[for='item-1-1']")).await.unwrap();
    for item in 1..=28 {
        click(&desk, &format!("label[for='item-{item}-{}']", if item == 9 || item == 19 { 3 } else { 1 }))
            .await;
    }
    desk.find(Locator::Css("#entry-reference")).await.unwrap().send_keys("PAPER-0117").await.unwrap();
    desk.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    shoot(&desk, &folder, "34-staff-enter-paper-form").await;
    click(&desk, "#entry-submit").await;
    desk.wait().for_element(Locator::Css("#stored-status")).await.unwrap();
    click(&desk, ".submissions a[id^='correct-']").await;
    desk.wait().for_element(Locator::Css("#correct-reason")).await.unwrap();
    click(&desk, "label[for='item-9-2']").await;
    desk.find(Locator::Css("#correct-reason"))
        .await
        .unwrap()
        .send_keys("item 9 misread from the paper")
        .await
        .unwrap();
    desk.execute("document.querySelector('#signature-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "35-staff-correction").await;
    desk.find(Locator::Css("#correct-password"))
        .await
        .unwrap()
        .send_keys("demo-admin-password")
        .await
        .unwrap();
    click(&desk, "#correct-submit").await;
    desk.wait().for_element(Locator::Css(".submissions .signature")).await.unwrap();
    desk.execute("document.querySelector('#submissions-heading').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "36-staff-form-versions").await;
    desk.goto(&app.url("/staff/admin/audit")).await.unwrap();
    desk.wait().for_element(Locator::Css("#audit-entries tbody tr")).await.unwrap();
    desk.find(Locator::Css("#audit-patient")).await.unwrap().send_keys(&paper_patient).await.unwrap();
    click(&desk, "#audit-apply").await;
    desk.wait()
        .for_element(Locator::Css("#audit-entries tr[data-action='submission.correct']"))
        .await
        .unwrap();
    click(&desk, "#verify-chain").await;
    desk.wait().for_element(Locator::Css("#chain-status")).await.unwrap();
    click(&desk, "#audit-entries tr[data-action='submission.correct'] summary").await;
    shoot(&desk, &folder, "37-staff-audit-trail").await;
    // A wording pack with problems, checked before anything changes.
    let mut pack = crate::admin::site_pack("Site pack v2");
    pack["languages"]["en"]["instruments"]["qlq-c30"]["items"]["12"] = "Felt <b>weak</b>".into();
    pack["languages"]["fr"] = pack["languages"]["en"].clone();
    let pack_file = std::env::temp_dir().join(format!("qol-pack-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&pack_file, pack.to_string()).unwrap();
    desk.goto(&app.url("/staff/admin/setup")).await.unwrap();
    desk.wait().for_element(Locator::Css("#setup-schedule tbody tr")).await.unwrap();
    desk.find(Locator::Css("#wording-file"))
        .await
        .unwrap()
        .send_keys(pack_file.to_str().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    click(&desk, "#wording-check").await;
    desk.wait().for_element(Locator::Css("#wording-problems")).await.unwrap();
    desk.execute("document.querySelector('#upload-wording').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "38-staff-wording-report").await;
    std::fs::remove_file(&pack_file).ok();
    // A protocol amendment checked: the values it changes, before it is applied with a reason.
    let mut amended = crate::admin::shipped_protocol();
    for assessment in amended["assessments"].as_array_mut().unwrap() {
        if assessment["code"] == "weekly" {
            assessment["end_days"] = 10.into();
        }
        if assessment["code"] == "follow-up-24m" {
            assessment["end_days"] = 21.into();
        }
    }
    let protocol_file = std::env::temp_dir().join(format!("qol-protocol-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&protocol_file, amended.to_string()).unwrap();
    desk.goto(&app.url("/staff/admin/setup")).await.unwrap();
    desk.wait().for_element(Locator::Css("#setup-schedule tbody tr")).await.unwrap();
    desk.find(Locator::Css("#protocol-file"))
        .await
        .unwrap()
        .send_keys(protocol_file.to_str().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    click(&desk, "#protocol-check").await;
    desk.wait().for_element(Locator::Css("#protocol-apply")).await.unwrap();
    desk.find(Locator::Css("#protocol-reason"))
        .await
        .unwrap()
        .send_keys("Amendment 2: weekly window of 4 days; last follow-up window to 21 days")
        .await
        .unwrap();
    desk.execute("document.querySelector('#amend-protocol').scrollIntoView()", vec![]).await.unwrap();
    shoot(&desk, &folder, "39-staff-protocol-amendment").await;
    std::fs::remove_file(&protocol_file).ok();
    desk.close().await.unwrap();
    eprintln!("screenshots written to {}", folder.display());
}
