//! The research exports. Each is written patient by patient into a bounded channel, so memory
//! stays flat however many patients there are, and the same code serves `GET
//! /api/v1/exports/{name}` and `qol export NAME`. Nothing here can reach identity: records come
//! from [`crate::research`], which holds study ids, strata and study days only.
//!
//! | name | one row per |
//! |---|---|
//! | `scores_long.csv` | patient × assessment × scale |
//! | `items_long.csv` | patient × assessment × item |
//! | `schedule.csv` | patient × expected assessment (with status and missing reason) |
//! | `scores_wide.csv` | patient × assessment (one column per scale) |
//! | `dictionary.csv` | column of the files above (what it holds, its codes) |
//! | `fhir.ndjson` | FHIR R4 resource: Questionnaire, Patient (pseudonymous), QuestionnaireResponse, Observation |

use chrono::NaiveDate;
use qol_shared::alerts::{past_threshold, threshold_of};
use qol_shared::analysis::classify;
use qol_shared::api::ScaleInfo;
use qol_shared::instrument::{InstrumentId, SCORING_ALGORITHM_VERSION};
use qol_shared::scoring::{MissingReason, Outcome};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::clinic::{Clinic, ClinicError};
use crate::research::{
    self, AssessmentRecord, PatientRecord, SubmissionRecord, answer_code, outcome_columns,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    ScoresLong,
    ItemsLong,
    Schedule,
    ScoresWide,
    Dictionary,
    Fhir,
}

impl Export {
    pub const ALL: [Export; 6] = [
        Export::ScoresLong,
        Export::ItemsLong,
        Export::Schedule,
        Export::ScoresWide,
        Export::Dictionary,
        Export::Fhir,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Export::ScoresLong => "scores_long.csv",
            Export::ItemsLong => "items_long.csv",
            Export::Schedule => "schedule.csv",
            Export::ScoresWide => "scores_wide.csv",
            Export::Dictionary => "dictionary.csv",
            Export::Fhir => "fhir.ndjson",
        }
    }

    pub fn parse(name: &str) -> Option<Export> {
        Export::ALL.into_iter().find(|export| export.name() == name)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Export::Fhir => "application/fhir+ndjson",
            _ => "text/csv; charset=utf-8",
        }
    }

    pub fn names() -> String {
        Export::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
    }
}

/// The responder threshold of the export's change categories (points).
const RESPONDER_POINTS: f64 = qol_shared::analysis::DEFAULT_RESPONDER_POINTS;

pub const SCORES_LONG: &[&str] = &[
    "study_id",
    "stratum",
    "assessment",
    "assessment_code",
    "target_study_day",
    "actual_study_day",
    "in_window",
    "placement",
    "sent_for",
    "instrument",
    "scale",
    "score",
    "raw_score",
    "items_answered",
    "items_in_scale",
    "missing_reason",
    "algorithm_version",
    "baseline_score",
    "change_from_baseline",
    "change_category",
    "threshold",
    "past_threshold",
];

pub const ITEMS_LONG: &[&str] = &[
    "study_id",
    "stratum",
    "assessment",
    "assessment_code",
    "actual_study_day",
    "placement",
    "sent_for",
    "instrument",
    "item",
    "response_code",
    "not_applicable",
    "missing_reason",
];

pub const SCHEDULE: &[&str] = &[
    "study_id",
    "stratum",
    "assessment",
    "assessment_code",
    "label",
    "unscheduled",
    "target_study_day",
    "window_start_day",
    "window_end_day",
    "status",
    "actual_study_day",
    "in_window",
    "placement",
    "sent_for",
    "late_delivery",
    "missed_reason",
    "off_study_day",
    "off_study_reason",
];

const WIDE_FIXED: &[&str] = &[
    "study_id",
    "stratum",
    "assessment",
    "assessment_code",
    "target_study_day",
    "actual_study_day",
    "in_window",
    "placement",
    "sent_for",
];

/// The columns of `scores_wide.csv`: the fixed ones, then one per scale.
pub fn scores_wide_columns() -> Vec<String> {
    WIDE_FIXED.iter().map(|c| (*c).to_owned()).chain(research::scales().into_iter().map(|s| s.code)).collect()
}

const DICTIONARY_COLUMNS: &[&str] = &["file", "column", "type", "description", "values"];

/// What every column means. `*` as the file: the column means the same in every file that has it.
const DICTIONARY: &[(&str, &str, &str, &str, &str)] = &[
    (
        "*",
        "study_id",
        "text",
        "Pseudonymous patient id; never a name, phone or hospital number",
        "e.g. IVB-017",
    ),
    (
        "*",
        "stratum",
        "text",
        "Stratum at enrolment",
        "nodal = distant lymph node metastasis; hematogenous = blood-borne distant metastasis",
    ),
    (
        "*",
        "assessment",
        "text",
        "The assessment: its code, with a number for repeats; unscheduled reports are unscheduled-<n>",
        "baseline; weekly-01, weekly-02, …; after-induction; end-of-radiotherapy; end-of-treatment; follow-up-3m … follow-up-24m; unscheduled-…",
    ),
    (
        "*",
        "assessment_code",
        "text",
        "The protocol's assessment code (the same for every repeat)",
        "baseline, weekly, after-induction, end-of-radiotherapy, end-of-treatment, follow-up-3m, …, unscheduled",
    ),
    (
        "*",
        "target_study_day",
        "integer",
        "Target day of the assessment, in days from cycle 1 day 1 (day 0); empty until cycle 1 is recorded",
        "negative before treatment",
    ),
    (
        "*",
        "actual_study_day",
        "integer",
        "Day the patient completed the form (device clock), in days from cycle 1 day 1 (day 0)",
        "empty when not completed or cycle 1 not recorded",
    ),
    (
        "*",
        "in_window",
        "boolean",
        "Completed inside the assessment's window as the current treatment events give it (recomputed on every export, not frozen at submission); empty for unscheduled reports",
        "true, false, empty",
    ),
    (
        "*",
        "placement",
        "code",
        "Where the form sits now that the events are what they are (docs/research.md, Placement); the analysis counts in_window and rematched forms, the others only when asked",
        "in_window; out_of_window = the window moved away from the completion day after an event was recorded or corrected (e.g. a baseline completed after cycle 1 day 1: not used as baseline); rematched = its own assessment left the schedule, the form counts for the assessment whose window it falls in; not_in_schedule = its own assessment left the schedule and no window fits: kept under its old key; unscheduled = an \"I feel worse\" report",
    ),
    (
        "*",
        "sent_for",
        "text",
        "For a rematched form: the assessment it was sent for",
        "empty unless placement is rematched",
    ),
    (
        "*",
        "instrument",
        "text",
        "The questionnaire",
        "qlq-c30 = EORTC QLQ-C30 v3.0; qlq-cx24 = EORTC QLQ-CX24",
    ),
    (
        "scores_long.csv",
        "scale",
        "text",
        "EORTC scale code (scoring manual), or C30SUM, the QLQ-C30 summary score (Giesinger et al. 2016)",
        "see scores_wide.csv columns",
    ),
    (
        "scores_long.csv",
        "score",
        "number",
        "Linear-transformed score 0-100, unrounded (a value within 1e-9 of a whole number is written as that number); empty when missing",
        "0-100",
    ),
    (
        "scores_long.csv",
        "raw_score",
        "number",
        "Raw score: mean of the answered items of the scale",
        "1-4 or 1-7",
    ),
    (
        "scores_long.csv",
        "items_answered",
        "integer",
        "Items of the scale answered (for C30SUM: component scales present)",
        "",
    ),
    ("scores_long.csv", "items_in_scale", "integer", "Items in the scale (for C30SUM: 13 components)", ""),
    (
        "scores_long.csv",
        "missing_reason",
        "code",
        "Why the score is missing",
        "too_few_items_answered = under half the items (half rule); item_not_answered = single-item scale skipped; not_applicable = section does not apply to the patient; component_missing = a C30SUM component is missing",
    ),
    (
        "scores_long.csv",
        "algorithm_version",
        "text",
        "Version of qol's scoring algorithm that computed the score",
        SCORING_ALGORITHM_VERSION,
    ),
    (
        "scores_long.csv",
        "baseline_score",
        "number",
        "The patient's score on this scale at a baseline completed in its window",
        "empty when no baseline score, or when the baseline was completed after cycle 1 day 1",
    ),
    (
        "scores_long.csv",
        "change_from_baseline",
        "number",
        "score minus baseline_score; empty on the baseline rows themselves",
        "-100 to 100",
    ),
    (
        "scores_long.csv",
        "change_category",
        "code",
        "Change by the 10-point rule (Osoba et al. 1998), in the direction of the scale",
        "improved, stable, deteriorated; empty without both scores and on the baseline rows",
    ),
    (
        "scores_long.csv",
        "threshold",
        "number",
        "Threshold for clinical importance (Giesinger et al. 2020, J Clin Epidemiol 118:1-8); empty for scales without one",
        "",
    ),
    (
        "scores_long.csv",
        "past_threshold",
        "boolean",
        "Score below the threshold (functioning) or at or above it (symptoms)",
        "true, false, empty",
    ),
    ("items_long.csv", "item", "integer", "Item number on the combined form", "1-30 QLQ-C30; 31-54 QLQ-CX24"),
    (
        "items_long.csv",
        "response_code",
        "integer",
        "The answer's code; empty when not applicable",
        "1 not at all, 2 a little, 3 quite a bit, 4 very much; items 29-30: 1 very poor to 7 excellent",
    ),
    (
        "items_long.csv",
        "not_applicable",
        "boolean",
        "The item's section does not apply to the patient (QLQ-CX24 items 50-54)",
        "true, false",
    ),
    (
        "items_long.csv",
        "missing_reason",
        "code",
        "Why response_code is empty; every item of the form's questionnaires has a row",
        "skipped = the patient left the item unanswered; not_applicable = its section does not apply; empty when answered",
    ),
    ("schedule.csv", "label", "text", "The assessment's name in the protocol", ""),
    (
        "schedule.csv",
        "unscheduled",
        "boolean",
        "A report the patient sent on their own (\"I feel worse\")",
        "true, false",
    ),
    ("schedule.csv", "window_start_day", "integer", "First day of the window, study day", ""),
    ("schedule.csv", "window_end_day", "integer", "Last day of the window, study day", ""),
    (
        "schedule.csv",
        "status",
        "code",
        "The assessment's state on the export day",
        "upcoming = window not open; open = window open, not completed; completed; missed = window closed without a form, or open when she went off study; not_applicable = off study before the window opened; no_window = the event it is anchored to is not recorded (no window yet: compare today's study day and off_study_day with the usual day to rebuild the fixed denominator)",
    ),
    (
        "schedule.csv",
        "off_study_day",
        "integer",
        "The study day she went off study (every row of the patient); empty while on study",
        "",
    ),
    (
        "schedule.csv",
        "off_study_reason",
        "code",
        "Why she went off study",
        "progression, death, withdrawal, lost_to_follow_up; empty while on study",
    ),
    (
        "schedule.csv",
        "late_delivery",
        "boolean",
        "Completed in the window but delivered after it closed (within the grace period); recomputed from the current window",
        "true, false, empty",
    ),
    (
        "schedule.csv",
        "missed_reason",
        "code",
        "Why a missed form was missed, as staff recorded it (free-text notes are not exported: they may name people); empty unless the status is missed",
        "patient_too_ill, declined, technical_problem, forgot, other; empty = not recorded yet",
    ),
    (
        "scores_wide.csv",
        "<scale code>",
        "number",
        "One column per scale: the score 0-100, as in scores_long.csv",
        "QL2 PF2 RF2 EF CF SF FA NV PA DY SL AP CO DI FI C30SUM and the QLQ-CX24 scales",
    ),
    (
        "fhir.ndjson",
        "(resource)",
        "FHIR R4",
        "One resource per line: Questionnaire (2), Patient (pseudonymous: the study id only), QuestionnaireResponse (per instrument per submission; the study day, the placement and for a rematched form the assessment it was sent for in extensions, no dates), Observation (per score, derivedFrom its QuestionnaireResponse, with the same extensions)",
        "",
    ),
];

fn csv_bytes(
    rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<Vec<u8>, ClinicError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    rows(&mut writer)
        .map_err(|e| ClinicError::Storage(crate::storage::StorageError::Corrupt(e.to_string())))?;
    writer
        .into_inner()
        .map_err(|e| ClinicError::Storage(crate::storage::StorageError::Corrupt(e.to_string())))
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A number as written in the exports: a value within 1e-9 of a whole number is that number
/// (a change of nothing is 0, not -2.2e-15; never -0), anything else in full.
pub fn number(value: f64) -> String {
    qol_shared::analysis::tidy(value).to_string()
}

fn opt_number(value: Option<f64>) -> String {
    value.map(number).unwrap_or_default()
}

/// The first chunk: the header, or the whole dictionary, or the FHIR Questionnaires.
pub fn head(export: Export) -> Result<Vec<u8>, ClinicError> {
    match export {
        Export::ScoresLong => csv_bytes(|w| w.write_record(SCORES_LONG)),
        Export::ItemsLong => csv_bytes(|w| w.write_record(ITEMS_LONG)),
        Export::Schedule => csv_bytes(|w| w.write_record(SCHEDULE)),
        Export::ScoresWide => csv_bytes(|w| w.write_record(scores_wide_columns())),
        Export::Dictionary => csv_bytes(|w| {
            w.write_record(DICTIONARY_COLUMNS)?;
            for (file, column, kind, description, values) in DICTIONARY {
                w.write_record([*file, *column, *kind, *description, *values])?;
            }
            Ok(())
        }),
        Export::Fhir => {
            let mut out = Vec::new();
            for id in [InstrumentId::QlqC30, InstrumentId::QlqCx24] {
                push_line(&mut out, &questionnaire(id));
            }
            Ok(out)
        }
    }
}

fn submitted(record: &PatientRecord) -> impl Iterator<Item = (&AssessmentRecord, &SubmissionRecord)> {
    record.assessments.iter().filter_map(|a| a.submission.as_ref().map(|s| (a, s)))
}

/// One patient's rows.
pub fn patient_chunk(
    export: Export,
    record: &PatientRecord,
    scales: &[ScaleInfo],
    protocol: &qol_shared::schedule::Protocol,
) -> Result<Vec<u8>, ClinicError> {
    match export {
        Export::ScoresLong => csv_bytes(|w| {
            for (assessment, submission) in submitted(record) {
                for scores in &submission.scores {
                    for scale in &scores.scales {
                        let (score, raw, answered, in_scale, missing) = outcome_columns(&scale.outcome);
                        let kind = scales.iter().find(|s| s.code == scale.code).map(|s| s.kind);
                        let baseline = record.baseline(&scale.code);
                        // A baseline row is the reference, not a change of 0 ("stable").
                        let change = score
                            .zip(baseline)
                            .filter(|_| assessment.key != research::BASELINE)
                            .map(|(now, before)| now - before);
                        let category = change.zip(kind).map(|(change, kind)| {
                            crate::storage::enum_text(&classify(kind, change, RESPONDER_POINTS))
                        });
                        let threshold = threshold_of(&scale.code);
                        let past = match (threshold, kind, score) {
                            (Some(t), Some(kind), Some(score)) => Some(past_threshold(kind, t, score)),
                            _ => None,
                        };
                        w.write_record([
                            record.study_id.as_str(),
                            &record.stratum,
                            &assessment.key,
                            &assessment.code,
                            &opt(assessment.target_day),
                            &opt(submission.completed_day),
                            &opt(submission.in_window()),
                            submission.placement.as_str(),
                            submission.sent_for.as_deref().unwrap_or_default(),
                            scores.instrument.as_str(),
                            &scale.code,
                            &opt_number(score),
                            &opt_number(raw),
                            &answered.to_string(),
                            &in_scale.to_string(),
                            &missing.unwrap_or_default(),
                            &scores.algorithm_version,
                            &opt_number(baseline),
                            &opt_number(change),
                            &category.unwrap_or_default(),
                            &opt_number(threshold),
                            &opt(past),
                        ])?;
                    }
                }
            }
            Ok(())
        }),
        Export::ItemsLong => csv_bytes(|w| {
            for (assessment, submission) in submitted(record) {
                // Every item of the form's questionnaires, a skipped one as a row of its own.
                for scores in &submission.scores {
                    for item in scores.instrument.instrument().items {
                        let answer = submission.answers.iter().find(|a| a.item == i64::from(item.number));
                        let code = answer.and_then(answer_code);
                        let (not_applicable, missing) = match (answer, code) {
                            (_, Some(_)) => (false, ""),
                            (Some(_), None) => (true, "not_applicable"),
                            (None, _) => (false, "skipped"),
                        };
                        w.write_record([
                            record.study_id.as_str(),
                            &record.stratum,
                            &assessment.key,
                            &assessment.code,
                            &opt(submission.completed_day),
                            submission.placement.as_str(),
                            submission.sent_for.as_deref().unwrap_or_default(),
                            scores.instrument.as_str(),
                            &item.number.to_string(),
                            &opt(code),
                            &not_applicable.to_string(),
                            missing,
                        ])?;
                    }
                }
            }
            Ok(())
        }),
        Export::Schedule => csv_bytes(|w| {
            let (off_day, off_reason) = match record.off_study {
                Some((day, reason)) => (opt(day), crate::storage::enum_text(&reason)),
                None => (String::new(), String::new()),
            };
            for assessment in &record.assessments {
                let submission = assessment.submission.as_ref();
                w.write_record([
                    record.study_id.as_str(),
                    &record.stratum,
                    &assessment.key,
                    &assessment.code,
                    &assessment.label,
                    &assessment.unscheduled.to_string(),
                    &opt(assessment.target_day),
                    &opt(assessment.window_start_day),
                    &opt(assessment.window_end_day),
                    assessment.state.as_str(),
                    &opt(submission.and_then(|s| s.completed_day)),
                    &opt(submission.and_then(SubmissionRecord::in_window)),
                    submission.map(|s| s.placement.as_str()).unwrap_or_default(),
                    submission.and_then(|s| s.sent_for.as_deref()).unwrap_or_default(),
                    &opt(submission.map(|s| s.late_delivery)),
                    // A reason once recorded for a form that has since been placed here is moot.
                    &opt(assessment
                        .missed_reason
                        .filter(|_| assessment.state == qol_shared::schedule::AssessmentState::Missed)
                        .map(|r| crate::storage::enum_text(&r))),
                    &off_day,
                    &off_reason,
                ])?;
            }
            // An assessment asked once whose anchor event is not recorded has no window yet: it
            // gets a row all the same, so the fixed denominator can be rebuilt from this file.
            for definition in protocol.assessments.iter().filter(|d| d.repeat.is_none()) {
                if record.assessments.iter().any(|a| a.scheduled && a.key == definition.code) {
                    continue;
                }
                w.write_record([
                    record.study_id.as_str(),
                    &record.stratum,
                    &definition.code,
                    &definition.code,
                    &definition.label,
                    "false",
                    "",
                    "",
                    "",
                    "no_window",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    &off_day,
                    &off_reason,
                ])?;
            }
            Ok(())
        }),
        Export::ScoresWide => csv_bytes(|w| {
            for (assessment, submission) in submitted(record) {
                let mut row = vec![
                    record.study_id.clone(),
                    record.stratum.clone(),
                    assessment.key.clone(),
                    assessment.code.clone(),
                    opt(assessment.target_day),
                    opt(submission.completed_day),
                    opt(submission.in_window()),
                    submission.placement.as_str().to_owned(),
                    submission.sent_for.clone().unwrap_or_default(),
                ];
                row.extend(scales.iter().map(|scale| opt_number(submission.score(&scale.code))));
                w.write_record(&row)?;
            }
            Ok(())
        }),
        Export::Dictionary => Ok(Vec::new()),
        Export::Fhir => {
            let mut out = Vec::new();
            push_line(&mut out, &fhir_patient(record));
            for (assessment, submission) in submitted(record) {
                for resource in fhir_submission(record, assessment, submission, scales) {
                    push_line(&mut out, &resource);
                }
            }
            Ok(out)
        }
    }
}

/// The FHIR data-absent-reason code of a missing score, and the reason in words.
fn absent_reason(reason: MissingReason, answered: u8, in_scale: u8) -> (&'static str, String) {
    match reason {
        // The patient was asked and left the items unanswered.
        MissingReason::TooFewItemsAnswered => (
            "asked-declined",
            format!("{answered} of the scale's {in_scale} items answered: fewer than half (half rule)"),
        ),
        MissingReason::ItemNotAnswered => {
            ("asked-declined", "the scale's single item was not answered".into())
        }
        MissingReason::NotApplicable => {
            ("not-applicable", "the scale's section does not apply to the patient".into())
        }
        // The summary cannot be computed from what is there.
        MissingReason::ComponentMissing => (
            "unknown",
            format!(
                "{answered} of the summary's {in_scale} component scales scored: the summary needs all of them"
            ),
        ),
    }
}

fn push_line(out: &mut Vec<u8>, value: &Value) {
    // Serialising a serde_json::Value cannot fail.
    out.extend(serde_json::to_vec(value).unwrap_or_default());
    out.push(b'\n');
}

const QOL_SYSTEM: &str = "urn:qol";

pub fn questionnaire_url(id: InstrumentId) -> String {
    format!("{QOL_SYSTEM}:questionnaire:{}", id.as_str())
}

fn questionnaire(id: InstrumentId) -> Value {
    let instrument = id.instrument();
    json!({
        "resourceType": "Questionnaire",
        "id": id.as_str(),
        "url": questionnaire_url(id),
        "version": instrument.version,
        "name": instrument.name.replace([' ', '-'], ""),
        "title": instrument.name,
        "status": "active",
        "description": "Item topics only (qol's neutral labels): the validated wording is the EORTC's and is not included.",
        "item": instrument.items.iter().map(|item| json!({
            "linkId": item.number.to_string(),
            "text": item.topic,
            "type": "choice",
            "answerOption": item.response_scale.codes().map(|code| json!({
                "valueCoding": { "system": format!("{QOL_SYSTEM}:response:{}", item.response_scale.as_str()), "code": code.to_string() }
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn fhir_patient(record: &PatientRecord) -> Value {
    json!({
        "resourceType": "Patient",
        "id": record.study_id,
        "identifier": [{ "system": format!("{QOL_SYSTEM}:study-id"), "value": record.study_id }],
        "extension": [{ "url": format!("{QOL_SYSTEM}:stratum"), "valueCode": record.stratum }],
    })
}

/// The study day, and where the form sits in the record (placement; the assessment it was sent
/// for when that is another), as extensions: FHIR has no field for either.
fn study_day_extension(submission: &SubmissionRecord) -> Value {
    let mut extensions = Vec::new();
    if let Some(day) = submission.completed_day {
        extensions.push(json!({ "url": format!("{QOL_SYSTEM}:study-day"), "valueInteger": day }));
    }
    extensions.push(
        json!({ "url": format!("{QOL_SYSTEM}:placement"), "valueCode": submission.placement.as_str() }),
    );
    if let Some(sent_for) = &submission.sent_for {
        extensions.push(json!({ "url": format!("{QOL_SYSTEM}:sent-for"), "valueString": sent_for }));
    }
    Value::Array(extensions)
}

fn response_id(submission: &SubmissionRecord, id: InstrumentId) -> String {
    format!("qr-{}-{}", submission.id, id.as_str())
}

fn fhir_submission(
    record: &PatientRecord,
    assessment: &AssessmentRecord,
    submission: &SubmissionRecord,
    scales: &[ScaleInfo],
) -> Vec<Value> {
    let subject = json!({ "reference": format!("Patient/{}", record.study_id) });
    let mut resources = Vec::new();
    for scores in &submission.scores {
        let id = scores.instrument;
        let range = if id == InstrumentId::QlqC30 { 1..=30 } else { 31..=54 };
        let items: Vec<Value> = submission
            .answers
            .iter()
            .filter(|a| range.contains(&a.item))
            .filter_map(|answer| {
                let item = id.instrument().items.iter().find(|i| i64::from(i.number) == answer.item)?;
                let code = answer_code(answer)?;
                Some(json!({
                    "linkId": answer.item.to_string(),
                    "answer": [{ "valueCoding": {
                        "system": format!("{QOL_SYSTEM}:response:{}", item.response_scale.as_str()),
                        "code": code.to_string(),
                    } }],
                }))
            })
            .collect();
        let qr = response_id(submission, id);
        resources.push(json!({
            "resourceType": "QuestionnaireResponse",
            "id": qr,
            "questionnaire": questionnaire_url(id),
            "status": "completed",
            "subject": subject,
            "identifier": { "system": format!("{QOL_SYSTEM}:assessment"), "value": format!("{}/{}", record.study_id, assessment.key) },
            "extension": study_day_extension(submission),
            "item": items,
        }));
        for scale in &scores.scales {
            let name = scales.iter().find(|s| s.code == scale.code).map_or("", |s| s.name.as_str());
            let mut observation = json!({
                "resourceType": "Observation",
                "id": format!("obs-{}-{}", submission.id, scale.code),
                "status": "final",
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey" }] }],
                "code": { "coding": [{ "system": format!("{QOL_SYSTEM}:scale:{}", id.as_str()), "code": scale.code, "display": name }] },
                "subject": subject,
                "derivedFrom": [{ "reference": format!("QuestionnaireResponse/{qr}") }],
                "method": { "text": format!("qol scoring {}", scores.algorithm_version) },
                "extension": study_day_extension(submission),
            });
            match scale.score() {
                Some(value) => {
                    observation["valueQuantity"] = json!({ "value": qol_shared::analysis::tidy(value), "unit": "score", "system": "http://unitsofmeasure.org", "code": "{score}" });
                }
                None => {
                    if let Outcome::Missing { reason, items_answered, items_in_scale } = scale.outcome {
                        let (code, text) = absent_reason(reason, items_answered, items_in_scale);
                        observation["dataAbsentReason"] = json!({ "coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": code
                        }], "text": text });
                    }
                }
            }
            resources.push(observation);
        }
    }
    resources
}

/// A chunk of an export, or the error that cut it short (the reader must not take a truncated
/// file for a whole one).
pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// Audits the export (who, which, `details`), then starts writing it: the chunks arrive on the
/// returned channel, whose bound (four chunks) is the memory bound; a failure is the last chunk,
/// and the channel closes when the export is done. The API and `qol export` both start here, so
/// nothing is exported unaudited.
pub async fn start(
    clinic: &Clinic,
    actor: &crate::storage::Actor,
    export: Export,
    details: Value,
) -> Result<mpsc::Receiver<Chunk>, ClinicError> {
    clinic
        .db
        .audit_alone(
            actor,
            crate::storage::AuditEntry {
                action: "export",
                entity: "export",
                entity_id: export.name().to_owned(),
                after: Some(details),
                ..crate::storage::AuditEntry::default()
            },
        )
        .await?;
    let (tx, rx) = mpsc::channel::<Chunk>(4);
    let clinic = clinic.clone();
    tokio::spawn(async move { run(&clinic, export, clinic.today(), tx).await });
    Ok(rx)
}

/// Writes `export` into `tx`, chunk by chunk; a failure is sent as the last chunk. Stops quietly
/// when the reader goes away.
async fn run(clinic: &Clinic, export: Export, today: NaiveDate, tx: mpsc::Sender<Chunk>) {
    if let Err(error) = produce(clinic, export, today, &tx).await {
        tracing::error!(export = export.name(), %error, "export failed");
        let _ = tx.send(Err(std::io::Error::other(format!("the export failed: {error}")))).await;
    }
}

async fn produce(
    clinic: &Clinic,
    export: Export,
    today: NaiveDate,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), ClinicError> {
    if tx.send(Ok(head(export)?)).await.is_err() || export == Export::Dictionary {
        return Ok(());
    }
    let scales = research::scales();
    let mut walk = research::Walk::new(clinic, today);
    while let Some(record) = walk.next().await? {
        if tx.send(Ok(patient_chunk(export, &record, &scales, &clinic.protocol)?)).await.is_err() {
            break;
        }
    }
    Ok(())
}
