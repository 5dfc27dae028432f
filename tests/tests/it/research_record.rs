//! The research record under real histories: events recorded late or corrected after forms came
//! in, a baseline completed after treatment began, the study's own clock, the CX24 skip rule,
//! and the small things a statistician trips on. Patients' past weeks are built through the
//! library with the clock they happened at (as the demo seed does); what is checked is read back
//! through the API and the exports, as a researcher gets it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use qol_server::clinic::Clinic;
use qol_server::storage::{Actor, PatientRow};
use qol_shared::answers::RawAnswer;
use qol_shared::api::{EnrolPatient, Identity, RecordEvent, SubmissionRequest};
use qol_shared::schedule::{Event, EventKind, OffStudyReason};
use qol_tests::{Backend, TestApp, on_both_backends, study_today};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A study whose patients' past is written with the clock it happened at.
struct Site {
    app: TestApp,
    clinic: Clinic,
    nurse_id: i64,
    nurse: String,
    researcher: String,
}

fn day(offset: i64) -> NaiveDate {
    study_today() + Duration::days(offset)
}

/// Noon at the site on study day `offset` (from today), as UTC.
fn noon(clinic: &Clinic, offset: i64) -> DateTime<Utc> {
    let local = day(offset).and_hms_opt(12, 0, 0).unwrap();
    clinic.protocol().time_zone.from_local_datetime(&local).earliest().unwrap().to_utc()
}

fn staff() -> Actor {
    Actor { name: "staff:nurse".into(), role: "nurse".into() }
}

async fn site(backend: Backend) -> Option<Site> {
    let app = TestApp::spawn_without_demo_patients(backend).await?;
    let (clinic, _) = qol_server::clinic::Clinic::open(&app.db, false).await.unwrap();
    let nurse_id = app.db.staff_by_username("nurse").await.unwrap().unwrap().id;
    let nurse = app.staff_token("nurse").await;
    let researcher = app.staff_token("researcher").await;
    Some(Site { app, clinic, nurse_id, nurse, researcher })
}

/// Every item of `items` at `code`, the global items 29–30 at `global`, and item 49 (sexually
/// active) "a little", so items 50–54 apply.
fn answers(items: std::ops::RangeInclusive<i64>, code: i64, global: i64) -> Vec<RawAnswer> {
    items
        .map(|item| {
            RawAnswer::code(
                item,
                match item {
                    29 | 30 => global,
                    49 => 2,
                    _ => code,
                },
            )
        })
        .collect()
}

impl Site {
    async fn enrol(&self, stratum: &str, offset: i64) -> PatientRow {
        self.enrol_with_code(stratum, offset).await.0
    }

    /// Enrols, and returns the patient with her activation code.
    async fn enrol_with_code(&self, stratum: &str, offset: i64) -> (PatientRow, String) {
        let request = EnrolPatient {
            study_id: None,
            stratum: stratum.into(),
            language: "en".into(),
            identity: Identity {
                full_name: "Test Person".into(),
                phone: "+00 555 0100".into(),
                hospital_number: "H-TEST-1".into(),
                email: String::new(),
            },
            enrolled_on: day(offset),
            reminder_channel: Default::default(),
        };
        let (patient, code, _) =
            self.clinic.enrol(&staff(), self.nurse_id, &request, study_today()).await.unwrap();
        (patient, code)
    }

    /// Records an event through the API, as a nurse does (a correction when `reason` is given).
    async fn event(&self, patient: &PatientRow, event: Value, offset: i64, reason: Option<&str>) {
        let (status, body) =
            self.app.record_event(&self.nurse, &patient.study_code, event, -offset, reason).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// An event recorded back then (the library, with that day as today).
    async fn past_event(&self, patient: &PatientRow, kind: EventKind, offset: i64) {
        let request = RecordEvent { event: Event { kind, date: day(offset) }, reason: None };
        self.clinic.record_event(&staff(), self.nurse_id, patient, &request, day(offset)).await.unwrap();
        self.scheduler_since(patient).await;
    }

    /// The server's scheduler has run since that day: the schedule is in step with today again
    /// (reads never bring it in step themselves).
    async fn scheduler_since(&self, patient: &PatientRow) {
        self.clinic.keep_schedule_in_step(patient.id, study_today()).await.unwrap();
    }

    /// The patient completes `key` at noon on day `offset` and the phone sends it a minute later.
    async fn submit_then(&self, patient: &PatientRow, key: &str, offset: i64, answers: Vec<RawAnswer>) {
        let when = noon(&self.clinic, offset);
        // That day, the scheduler had brought her schedule in step with it.
        self.clinic.keep_schedule_in_step(patient.id, day(offset)).await.unwrap();
        let (statuses, _) = self.clinic.assessments(patient.id, day(offset)).await.unwrap();
        let assessment = statuses.iter().find(|s| s.row.key == key).unwrap_or_else(|| panic!("no {key}"));
        let request = SubmissionRequest {
            client_id: qol_shared::ClientId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
            assessment_id: Some(assessment.row.id),
            completed_at: when.into(),
            language: qol_shared::Language::English,
            answers,
            call_me: false,
        };
        let actor = Actor { name: format!("patient:{}", patient.study_code), role: "patient".into() };
        self.clinic.submit(&actor, patient, &request, when + Duration::minutes(1)).await.unwrap();
        self.scheduler_since(patient).await;
    }

    async fn export(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let response = self
            .app
            .client
            .get(self.app.url(&format!("/api/v1/exports/{name}")))
            .bearer_auth(&self.researcher)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        reader
            .records()
            .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_owned)).collect())
            .collect()
    }

    async fn analysis(&self, query: &str) -> Value {
        let (status, report) =
            self.app.get_as(&format!("/api/v1/research/analysis{query}"), Some(&self.researcher)).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        report
    }
}

fn rows_of<'a>(
    rows: &'a [BTreeMap<String, String>],
    patient: &PatientRow,
) -> Vec<&'a BTreeMap<String, String>> {
    rows.iter().filter(|row| row["study_id"] == patient.study_code).collect()
}

fn row<'a>(
    rows: &'a [BTreeMap<String, String>],
    patient: &PatientRow,
    assessment: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|row| row["study_id"] == patient.study_code && row["assessment"] == assessment)
        .unwrap_or_else(|| panic!("no {assessment} row for {}", patient.study_code))
}

/// The change summary of `scale` at `timepoint` over all patients.
fn change<'a>(report: &'a Value, scale: &str, timepoint: &str) -> &'a Value {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scale"] == scale && c["timepoint"] == timepoint && c["stratum"].is_null())
        .unwrap_or_else(|| panic!("no change of {scale} at {timepoint}"))
}

fn mean_n(report: &Value, scale: &str, timepoint: &str) -> u64 {
    report["means"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["scale"] == scale && m["timepoint"] == timepoint && m["stratum"].is_null())
        .map_or(0, |m| m["estimate"]["n"].as_u64().unwrap())
}

/// The scenario: weekly forms came in, then an end of treatment was recorded dated
/// before the last of them (treatment stopped early, recorded late). And a patient who went off
/// study before her last form.
async fn a_received_form_keeps_its_place_when_its_assessment_leaves_the_schedule(backend: Backend) {
    let Some(site) = site(backend).await else { return };
    let early = site.enrol("nodal", -40).await;
    site.submit_then(&early, "baseline", -38, answers(1..=54, 1, 6)).await;
    site.past_event(&early, EventKind::ChemotherapyCycle { cycle: 1 }, -35).await;
    for (week, completed) in [(1, -27), (2, -20), (3, -13)] {
        site.submit_then(&early, &format!("weekly-{week:02}"), completed, answers(1..=30, 2, 4)).await;
    }
    let before = site.export("scores_wide.csv").await;
    assert_eq!(rows_of(&before, &early).len(), 4, "baseline and three weekly forms");

    // End of treatment recorded today, dated four days before the last weekly form: weekly-03's
    // window now starts after treatment ended, so weekly-03 leaves the schedule.
    site.event(&early, json!({ "kind": "end_of_treatment" }), -17, None).await;
    let wide = site.export("scores_wide.csv").await;
    let kept = rows_of(&wide, &early);
    assert_eq!(kept.len(), 4, "no form drops out: {kept:#?}");
    let eot = row(&wide, &early, "end-of-treatment");
    assert_eq!(
        (eot["placement"].as_str(), eot["sent_for"].as_str(), eot["in_window"].as_str()),
        ("rematched", "weekly-03", "true")
    );
    assert_eq!(eot["actual_study_day"], "22", "completed on day −13, cycle 1 on day −35");
    assert_eq!(eot["QL2"], "50", "the weekly form's QLQ-C30 (global items at 4)");
    assert_eq!(eot["CXSE"], "", "the weekly form had no QLQ-CX24");
    let schedule = site.export("schedule.csv").await;
    assert!(rows_of(&schedule, &early).iter().all(|row| row["assessment"] != "weekly-03"));
    let eot_row = row(&schedule, &early, "end-of-treatment");
    assert_eq!((eot_row["status"].as_str(), eot_row["placement"].as_str()), ("completed", "rematched"));
    let items = site.export("items_long.csv").await;
    assert_eq!(
        rows_of(&items, &early).iter().filter(|row| row["assessment"] == "end-of-treatment").count(),
        30,
        "its 30 QLQ-C30 items"
    );
    // The analysis has the pair baseline → end of treatment (QL2 83.3 → 50).
    let report = site.analysis("").await;
    let primary = change(&report, "QL2", "end-of-treatment");
    assert_eq!(primary["n_paired"], 1);
    assert!((primary["change"]["mean"].as_f64().unwrap() + 33.333_333).abs() < 1e-4, "{primary}");

    // Off study (withdrawal) recorded as of day −3; her weekly-02 was completed on day −1.
    let gone = site.enrol("hematogenous", -30).await;
    site.past_event(&gone, EventKind::ChemotherapyCycle { cycle: 1 }, -15).await;
    site.submit_then(&gone, "weekly-02", -1, answers(1..=30, 3, 2)).await;
    site.event(&gone, json!({ "kind": "off_study", "reason": "withdrawal" }), -3, None).await;
    let wide = site.export("scores_wide.csv").await;
    let late = row(&wide, &gone, "weekly-02");
    assert_eq!(
        (late["placement"].as_str(), late["in_window"].as_str(), late["sent_for"].as_str()),
        ("not_in_schedule", "false", "")
    );
    assert_eq!(late["actual_study_day"], "14");
    let schedule = site.export("schedule.csv").await;
    assert_eq!(row(&schedule, &gone, "weekly-02")["status"], "completed");
    let fhir = site.app.client.get(site.app.url("/api/v1/exports/fhir.ndjson")).bearer_auth(&site.researcher);
    let fhir = fhir.send().await.unwrap().text().await.unwrap();
    assert!(fhir.contains(&format!("{}/weekly-02", gone.study_code)), "the form is in the FHIR export");
    let rematched: Value = fhir
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|r| {
            r["resourceType"] == "QuestionnaireResponse"
                && r["identifier"]["value"] == format!("{}/end-of-treatment", early.study_code)
        })
        .unwrap();
    let extensions = rematched["extension"].as_array().unwrap();
    assert!(extensions.iter().any(|e| e["url"] == "urn:qol:placement" && e["valueCode"] == "rematched"));
    assert!(extensions.iter().any(|e| e["url"] == "urn:qol:sent-for" && e["valueString"] == "weekly-03"));

    // Listed with its reason, and left out of the numbers unless asked for.
    let report = site.analysis("").await;
    assert_eq!(report["out_of_window_included"], false);
    let listed: Vec<&Value> = report["out_of_window"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(
        (listed[0]["study_id"].as_str(), listed[0]["assessment"].as_str(), listed[0]["placement"].as_str()),
        (Some(gone.study_code.as_str()), Some("weekly-02"), Some("not_in_schedule"))
    );
    assert!(listed[0]["reason"].as_str().unwrap().contains("left the schedule"), "{}", listed[0]);
    assert_eq!(mean_n(&report, "QL2", "weekly-02"), 1, "her form is left out");
    let included = site.analysis("?include_out_of_window=true").await;
    assert_eq!(included["out_of_window_included"], true);
    assert_eq!(mean_n(&included, "QL2", "weekly-02"), 2, "and counted when asked for");

    // The completion report expects no weekly-02 of hers: she was off study before it opened.
    let (_, completion) = site.app.get_as("/api/v1/research/completion", Some(&site.researcher)).await;
    let week2 = completion.as_array().unwrap().iter().find(|row| row["key"] == "weekly-02").unwrap();
    assert_eq!((week2["received"].as_u64(), week2["expected"].as_u64()), (Some(1), Some(1)), "{week2}");
}
on_both_backends!(
    a_received_form_keeps_its_place_when_its_assessment_leaves_the_schedule,
    super::a_received_form_keeps_its_place_when_its_assessment_leaves_the_schedule
);

/// Cycle 1 corrected two days later after three weekly forms came in: each form now falls in the
/// window of the occurrence before its own, and counts there; the first falls before every
/// weekly window and is kept, flagged, under its own key.
async fn weekly_forms_follow_a_corrected_cycle_1_to_the_window_they_fall_in(backend: Backend) {
    let Some(site) = site(backend).await else { return };
    let patient = site.enrol("nodal", -40).await;
    site.submit_then(&patient, "baseline", -38, answers(1..=54, 1, 6)).await;
    site.past_event(&patient, EventKind::ChemotherapyCycle { cycle: 1 }, -35).await;
    for (week, completed, global) in [(1, -28, 5), (2, -21, 4), (3, -14, 3)] {
        site.submit_then(&patient, &format!("weekly-{week:02}"), completed, answers(1..=30, 2, global)).await;
    }
    site.event(
        &patient,
        json!({ "kind": "chemotherapy_cycle", "cycle": 1 }),
        -33,
        Some("cycle 1 was given two days later than first entered"),
    )
    .await;
    let wide = site.export("scores_wide.csv").await;
    let rows: Vec<(String, String, String, String)> = rows_of(&wide, &patient)
        .iter()
        .map(|r| (r["assessment"].clone(), r["placement"].clone(), r["sent_for"].clone(), r["QL2"].clone()))
        .collect();
    let owned = |a: &str, p: &str, s: &str, q: &str| (a.to_owned(), p.to_owned(), s.to_owned(), q.to_owned());
    assert_eq!(
        rows,
        [
            owned("baseline", "in_window", "", "83.33333333333334"),
            owned("weekly-01", "out_of_window", "", "66.66666666666666"),
            owned("weekly-01", "rematched", "weekly-02", "50"),
            owned("weekly-02", "rematched", "weekly-03", "33.33333333333333"),
        ],
        "every form is there, each where it falls"
    );
    let schedule = site.export("schedule.csv").await;
    let week3 = row(&schedule, &patient, "weekly-03");
    assert_eq!((week3["status"].as_str(), week3["placement"].as_str()), ("missed", ""), "{week3:?}");
    let report = site.analysis("").await;
    assert_eq!((mean_n(&report, "QL2", "weekly-01"), mean_n(&report, "QL2", "weekly-02")), (1, 1));
    let listed = report["out_of_window"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert!(listed[0]["reason"].as_str().unwrap().contains("before its window"), "{}", listed[0]);
    // Counted when asked for, and the in-window form is the one the analysis keeps for weekly-01.
    let included = site.analysis("?include_out_of_window=true").await;
    let mean = |report: &Value| {
        report["means"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["scale"] == "QL2" && m["timepoint"] == "weekly-01" && m["stratum"].is_null())
            .map(|m| m["estimate"]["mean"].as_f64().unwrap())
    };
    assert_eq!(mean(&included), Some(50.0));
}
on_both_backends!(
    weekly_forms_follow_a_corrected_cycle_1_to_the_window_they_fall_in,
    super::weekly_forms_follow_a_corrected_cycle_1_to_the_window_they_fall_in
);

/// SISAQOL completion of the end-of-treatment form over a hand-built cohort: both denominators,
/// off study and death before the window, a window open when she left, one closed before.
async fn completion_has_the_fixed_and_the_available_denominators(backend: Backend) {
    let Some(site) = site(backend).await else { return };
    let mut cohort = BTreeMap::new();
    for name in ["A", "B", "C", "D", "E", "F", "G", "H"] {
        let patient = site.enrol("nodal", -110).await;
        site.past_event(&patient, EventKind::ChemotherapyCycle { cycle: 1 }, -100).await;
        cohort.insert(name, patient);
    }
    let eot = EventKind::EndOfTreatment;
    let off = |reason| EventKind::OffStudy { reason };
    // A: end of treatment on day 40 (study day), form received.
    site.past_event(&cohort["A"], eot, -60).await;
    site.submit_then(&cohort["A"], "end-of-treatment", -58, answers(1..=54, 1, 5)).await;
    // B: end of treatment on day 40, window closed without a form.
    site.past_event(&cohort["B"], eot, -60).await;
    // C: on study, end of treatment not recorded (past the usual day): no window yet.
    // D: off study (withdrawal) on day 30, E: died on day 35, both before the usual day.
    site.past_event(&cohort["D"], off(OffStudyReason::Withdrawal), -70).await;
    site.past_event(&cohort["E"], off(OffStudyReason::Death), -65).await;
    // F: end of treatment on day 60, off study (progression) on day 70 with the window open.
    site.past_event(&cohort["F"], eot, -40).await;
    site.past_event(&cohort["F"], off(OffStudyReason::Progression), -30).await;
    // G: end of treatment on day 95: the window is open now.
    site.past_event(&cohort["G"], eot, -5).await;
    // H: end of treatment on day 30, its window closed on day 58; off study on day 80.
    site.past_event(&cohort["H"], eot, -70).await;
    site.past_event(&cohort["H"], off(OffStudyReason::Progression), -20).await;

    let (status, completion) = site.app.get_as("/api/v1/research/completion", Some(&site.researcher)).await;
    assert_eq!(status, StatusCode::OK);
    let eot = completion.as_array().unwrap().iter().find(|r| r["key"] == "end-of-treatment").unwrap();
    let count = |field: &str| eot[field].as_u64().unwrap_or_else(|| panic!("{field} in {eot}"));
    // The usual day is the median target day over A, B, F, G, H: 40.
    assert_eq!(
        [
            count("received"),
            count("missed"),
            count("pending"),
            count("denominator_available"),
            count("denominator_fixed"),
            count("not_scheduled"),
            count("off_study_before"),
            count("died_before"),
        ],
        // received A; missed B, F (open when she left), H (closed before she left); pending G;
        // available A B F H; fixed A B F G H and C; D and E apart.
        [1, 3, 1, 4, 6, 1, 1, 1],
        "{eot}"
    );
    assert!((eot["received_rate_fixed"].as_f64().unwrap() - 1.0 / 6.0).abs() < 1e-12);
    assert!((eot["received_rate"].as_f64().unwrap() - 0.25).abs() < 1e-12);
    // A patient enrolled today, before cycle 1 (no study days yet): her open baseline's target
    // day (enrolment) has come, so she is in its fixed denominator, not in the available one.
    let before = completion.as_array().unwrap().iter().find(|r| r["key"] == "baseline").unwrap().clone();
    site.enrol("nodal", 0).await;
    let (_, completion) = site.app.get_as("/api/v1/research/completion", Some(&site.researcher)).await;
    let after = completion.as_array().unwrap().iter().find(|r| r["key"] == "baseline").unwrap();
    let step = |field: &str| after[field].as_u64().unwrap() - before[field].as_u64().unwrap();
    assert_eq!((step("denominator_fixed"), step("denominator_available"), step("pending")), (1, 0, 1));
    let schedule = site.export("schedule.csv").await;
    assert_eq!(row_of_state(&schedule, &cohort["F"]), "missed", "off study with the window open");
    assert_eq!(row_of_state(&schedule, &cohort["H"]), "missed", "closed before she left");
    // No patient is without an end-of-treatment row: the fixed denominator can be rebuilt.
    assert_eq!(row_of_state(&schedule, &cohort["C"]), "no_window");
    let died = row(&schedule, &cohort["E"], "end-of-treatment");
    assert_eq!(
        (died["status"].as_str(), died["off_study_day"].as_str(), died["off_study_reason"].as_str()),
        ("no_window", "35", "death")
    );
}
on_both_backends!(
    completion_has_the_fixed_and_the_available_denominators,
    super::completion_has_the_fixed_and_the_available_denominators
);

fn row_of_state(schedule: &[BTreeMap<String, String>], patient: &PatientRow) -> String {
    row(schedule, patient, "end-of-treatment")["status"].clone()
}

/// Enrolled day −10, baseline answered day −5, cycle 1 then recorded as day −7.
async fn a_baseline_completed_after_cycle_1_is_flagged_and_not_used_as_baseline(backend: Backend) {
    let Some(site) = site(backend).await else { return };
    let patient = site.enrol("nodal", -10).await;
    site.submit_then(&patient, "baseline", -5, answers(1..=54, 1, 6)).await;
    let schedule = site.export("schedule.csv").await;
    assert_eq!(row(&schedule, &patient, "baseline")["in_window"], "true", "before cycle 1 is known");

    site.event(&patient, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), -7, None).await;
    site.event(&patient, json!({ "kind": "end_of_treatment" }), -1, None).await;
    site.submit_then(&patient, "end-of-treatment", 0, answers(1..=54, 2, 4)).await;

    let schedule = site.export("schedule.csv").await;
    let baseline = row(&schedule, &patient, "baseline");
    assert_eq!(
        (
            baseline["actual_study_day"].as_str(),
            baseline["window_end_day"].as_str(),
            baseline["in_window"].as_str(),
            baseline["placement"].as_str(),
        ),
        ("2", "0", "false", "out_of_window")
    );
    let long = site.export("scores_long.csv").await;
    let eot_ql2 = long
        .iter()
        .find(|r| {
            r["study_id"] == patient.study_code
                && r["assessment"] == "end-of-treatment"
                && r["scale"] == "QL2"
        })
        .unwrap();
    assert_eq!(
        (eot_ql2["baseline_score"].as_str(), eot_ql2["change_from_baseline"].as_str()),
        ("", ""),
        "no baseline to change from"
    );

    let report = site.analysis("").await;
    assert_eq!(change(&report, "QL2", "end-of-treatment")["n_paired"], 0);
    let listed = &report["out_of_window"][0];
    assert_eq!(
        (listed["assessment"].as_str(), listed["placement"].as_str()),
        (Some("baseline"), Some("out_of_window"))
    );
    assert!(listed["reason"].as_str().unwrap().contains("after cycle 1 day 1"), "{listed}");
    let included = site.analysis("?include_out_of_window=true").await;
    let pair = change(&included, "QL2", "end-of-treatment");
    assert_eq!(pair["n_paired"], 1, "counted when asked for");
    assert!((pair["change"]["mean"].as_f64().unwrap() + 33.333_333).abs() < 1e-4, "{pair}");
}
on_both_backends!(
    a_baseline_completed_after_cycle_1_is_flagged_and_not_used_as_baseline,
    super::a_baseline_completed_after_cycle_1_is_flagged_and_not_used_as_baseline
);

/// The site is in UTC+8: a form completed at 07:00 there is completed at 23:00 UTC the day
/// before. On the first day of its window it is on time, not "not open yet".
#[tokio::test]
async fn a_form_completed_at_seven_in_the_morning_at_the_site_counts_on_the_sites_date() {
    let Some(site) = site(Backend::Sqlite).await else { return };
    let (patient, code) = site.enrol_with_code("nodal", -20).await;
    // Cycle 1 on day −8: weekly-01's window opens on day −1.
    site.event(&patient, json!({ "kind": "chemotherapy_cycle", "cycle": 1 }), -8, None).await;
    let token = site.app.activate(&code, "1357").await;
    let weekly = site.app.my_assessment(&token, "weekly-01").await;
    assert_eq!(weekly["window_start"], day(-1).to_string());
    let seven = format!("{}T07:00:00+08:00", day(-1));
    let utc: DateTime<Utc> = seven.parse().unwrap();
    assert_eq!(utc.date_naive(), day(-2), "the day before in UTC");
    let body = json!({
        "client_id": uuid::Uuid::new_v4().to_string(), "assessment_id": weekly["id"],
        "completed_at": utc.to_rfc3339(), "language": "en",
        "answers": (1..=30).map(|item| json!({ "item": item, "response": 1 })).collect::<Vec<_>>(),
    });
    let (status, receipt) = site.app.post_as("/api/v1/me/submissions", Some(&token), &body).await;
    assert_eq!((status, receipt["timeliness"].as_str()), (StatusCode::CREATED, Some("on_time")), "{receipt}");
    let schedule = site.export("schedule.csv").await;
    let sent = row(&schedule, &patient, "weekly-01");
    assert_eq!((sent["actual_study_day"].as_str(), sent["in_window"].as_str()), ("7", "true"));
}

/// CX24 item 49 "not at all" (not sexually active) makes items 50–54 not applicable; any other
/// answer makes them apply.
#[tokio::test]
async fn cx24_item_49_decides_whether_items_50_to_54_apply() {
    let Some(site) = site(Backend::Sqlite).await else { return };
    let (_, code) = site.enrol_with_code("nodal", -3).await;
    let token = site.app.activate(&code, "1357").await;
    let baseline = site.app.my_assessment(&token, "baseline").await;
    let send = async |answers: Vec<Value>| {
        let body = json!({
            "client_id": uuid::Uuid::new_v4().to_string(), "assessment_id": baseline["id"],
            "completed_at": qol_tests::completed_at(0), "language": "en", "answers": answers,
        });
        site.app.post_as("/api/v1/me/submissions", Some(&token), &body).await
    };
    let upto48 = || (1..=48).map(|item| json!({ "item": item, "response": 1 })).collect::<Vec<_>>();
    let with = |extra: &[Value]| upto48().into_iter().chain(extra.iter().cloned()).collect::<Vec<_>>();

    let (status, body) = send(with(&[
        json!({ "item": 49, "response": 1 }),
        json!({ "item": 50, "response": 2 }),
        json!({ "item": 53, "response": 1 }),
    ]))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems: Vec<&str> =
        body["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("item 50 has an answer, but item 49 was answered 1"), "{problems:?}");
    let (status, body) = send(with(&[
        json!({ "item": 49, "response": 3 }),
        json!({ "item": 50, "response": "not_applicable" }),
    ]))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["problems"][0].as_str().unwrap().contains("item 49 was answered 3"), "{body}");
    assert_eq!(site.app.count("SELECT COUNT(*) FROM submissions").await, 0, "nothing stored on a refusal");

    let (status, body) = send(with(&[json!({ "item": 49, "response": 1 })])).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let items = site.export("items_long.csv").await;
    for item in 50..=54 {
        let row = items.iter().find(|r| r["item"] == item.to_string()).unwrap();
        assert_eq!(
            (row["response_code"].as_str(), row["not_applicable"].as_str(), row["missing_reason"].as_str()),
            ("", "true", "not_applicable"),
            "item {item}"
        );
    }
}

/// Baseline rows carry no change; skipped items have their own rows; a missing score says why in
/// FHIR's terms; an interval needs spread; a residue of floating point is not a change.
#[tokio::test]
async fn the_exports_and_the_analysis_get_the_small_things_right() {
    let Some(site) = site(Backend::Sqlite).await else { return };
    let mut patients = Vec::new();
    for _ in 0..2 {
        let patient = site.enrol("nodal", -40).await;
        // Item 5 skipped (physical functioning keeps 4 of 5 items), item 17 (diarrhoea, one
        // item) skipped.
        let skipping: Vec<RawAnswer> =
            answers(1..=54, 1, 5).into_iter().filter(|a| a.item != 5 && a.item != 17).collect();
        site.submit_then(&patient, "baseline", -38, skipping).await;
        site.past_event(&patient, EventKind::ChemotherapyCycle { cycle: 1 }, -35).await;
        site.past_event(&patient, EventKind::EndOfTreatment, -10).await;
        site.submit_then(&patient, "end-of-treatment", -9, answers(1..=54, 1, 4)).await;
        patients.push(patient);
    }
    let long = site.export("scores_long.csv").await;
    for row in long.iter().filter(|r| r["assessment"] == "baseline") {
        assert_eq!(
            (row["change_from_baseline"].as_str(), row["change_category"].as_str()),
            ("", ""),
            "{row:?}"
        );
    }
    let eot = long.iter().find(|r| r["assessment"] == "end-of-treatment" && r["scale"] == "PF2").unwrap();
    assert_eq!((eot["score"].as_str(), eot["change_from_baseline"].as_str()), ("100", "0"), "{eot:?}");

    let items = site.export("items_long.csv").await;
    let first = &patients[0].study_code;
    let skipped: Vec<&str> = items
        .iter()
        .filter(|r| {
            &r["study_id"] == first && r["assessment"] == "baseline" && r["missing_reason"] == "skipped"
        })
        .map(|r| r["item"].as_str())
        .collect();
    assert_eq!(skipped, ["5", "17"]);
    assert_eq!(items.iter().filter(|r| &r["study_id"] == first && r["assessment"] == "baseline").count(), 54);

    let response =
        site.app.client.get(site.app.url("/api/v1/exports/fhir.ndjson")).bearer_auth(&site.researcher);
    let fhir = response.send().await.unwrap().text().await.unwrap();
    let diarrhoea: Value = fhir
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|r| r["resourceType"] == "Observation" && r["code"]["coding"][0]["code"] == "DI")
        .unwrap();
    assert_eq!(diarrhoea["dataAbsentReason"]["coding"][0]["code"], "asked-declined");
    assert_eq!(diarrhoea["dataAbsentReason"]["text"], "the scale's single item was not answered");

    // Both patients: QL2 83.3 → 66.7, the same change: SD 0, no interval.
    let report = site.analysis("").await;
    let ql2 = change(&report, "QL2", "end-of-treatment");
    assert_eq!(ql2["n_paired"], 2);
    assert_eq!(ql2["change"]["sd"], 0.0);
    assert!(ql2["change"]["ci_low"].is_null() && ql2["change"]["ci_high"].is_null(), "{ql2}");
    let pf = change(&report, "PF2", "end-of-treatment");
    assert_eq!(pf["change"]["mean"], 0.0, "{pf}");
}
