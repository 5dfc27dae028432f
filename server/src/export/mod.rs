//! The research exports. Each is written patient by patient into a bounded channel, so memory
//! stays flat however many patients there are, and the same code serves `GET
//! /api/v1/exports/{name}` and `qol export NAME`. Nothing here can reach identity: records come
//! from [`crate::clinic::research`], which holds study ids, strata and study days only.
//!
//! | name | one row per |
//! |---|---|
//! | `scores_long.csv` | patient × assessment × scale |
//! | `items_long.csv` | patient × assessment × item |
//! | `schedule.csv` | patient × expected assessment (with status and missing reason) |
//! | `scores_wide.csv` | patient × assessment (one column per scale) |
//! | `dictionary.csv` | column of the files above (what it holds, its codes) |
//! | `ttd.csv` | patient × scale × TTD definition × death rule (time, event or censored, reason) |
//! | `fhir.ndjson` | FHIR R4 resource: Questionnaire, Patient (pseudonymous), QuestionnaireResponse, Observation |
//!
//! Each format is a module of its own; this one names the exports, dispatches to the formats and
//! holds what they share. The service starts an export (`Clinic::start_export`: audited, then
//! written by a task of its own into a bounded channel).

use qol_shared::api::ScaleInfo;
use qol_shared::schedule::Protocol;

use crate::clinic::ClinicError;
use crate::clinic::research::{AssessmentRecord, PatientRecord, SubmissionRecord};

mod dictionary;
mod fhir;
mod items_long;
mod schedule;
mod scores_long;
mod scores_wide;
mod ttd;

pub use fhir::questionnaire_url;
pub use items_long::COLUMNS as ITEMS_LONG;
pub use schedule::COLUMNS as SCHEDULE;
pub use scores_long::COLUMNS as SCORES_LONG;
pub use scores_wide::columns as scores_wide_columns;
pub use ttd::COLUMNS as TTD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    ScoresLong,
    ItemsLong,
    Schedule,
    ScoresWide,
    Dictionary,
    Ttd,
    Fhir,
}

impl Export {
    pub const ALL: [Export; 7] = [
        Export::ScoresLong,
        Export::ItemsLong,
        Export::Schedule,
        Export::ScoresWide,
        Export::Dictionary,
        Export::Ttd,
        Export::Fhir,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Export::ScoresLong => "scores_long.csv",
            Export::ItemsLong => "items_long.csv",
            Export::Schedule => "schedule.csv",
            Export::ScoresWide => "scores_wide.csv",
            Export::Dictionary => "dictionary.csv",
            Export::Ttd => "ttd.csv",
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

    /// Whether the export writes item answers: the others are written from records read
    /// without them (a third of what an export reads). A `match`, so a new export has to say.
    pub fn writes_answers(self) -> bool {
        match self {
            Export::ItemsLong | Export::Fhir => true,
            Export::ScoresLong | Export::Schedule | Export::ScoresWide | Export::Dictionary | Export::Ttd => {
                false
            }
        }
    }

    pub fn names() -> String {
        Export::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
    }
}

/// A chunk of an export, or the error that cut it short (the reader must not take a truncated
/// file for a whole one).
pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// The first chunk: the header, or the whole dictionary, or the FHIR Questionnaires.
pub fn head(export: Export) -> Result<Vec<u8>, ClinicError> {
    match export {
        Export::ScoresLong => csv_bytes(|w| w.write_record(SCORES_LONG)),
        Export::ItemsLong => csv_bytes(|w| w.write_record(ITEMS_LONG)),
        Export::Schedule => csv_bytes(|w| w.write_record(SCHEDULE)),
        Export::ScoresWide => csv_bytes(|w| w.write_record(scores_wide_columns())),
        Export::Dictionary => dictionary::table(),
        Export::Ttd => csv_bytes(|w| w.write_record(TTD)),
        Export::Fhir => Ok(fhir::questionnaires()),
    }
}

/// One patient's rows (nothing for the dictionary, which is all head).
pub fn patient_chunk(
    export: Export,
    record: &PatientRecord,
    scales: &[ScaleInfo],
    protocol: &Protocol,
    protocol_version: i64,
) -> Result<Vec<u8>, ClinicError> {
    match export {
        Export::ScoresLong => scores_long::rows(record, scales, protocol),
        Export::ItemsLong => items_long::rows(record),
        Export::Schedule => schedule::rows(record, protocol, protocol_version),
        Export::ScoresWide => scores_wide::rows(record, scales),
        Export::Dictionary => Ok(Vec::new()),
        Export::Ttd => ttd::rows(record, scales, protocol),
        Export::Fhir => Ok(fhir::patient(record, scales)),
    }
}

pub(crate) fn csv_bytes(
    rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<Vec<u8>, ClinicError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    rows(&mut writer)?;
    writer.into_inner().map_err(|error| ClinicError::Export(error.into_error().into()))
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

/// Writes `value` as the next field of the record being written (nothing for `None`), as
/// [`opt`] spells it, through `scratch` rather than a string of its own.
fn opt_field(
    w: &mut csv::Writer<Vec<u8>>,
    scratch: &mut String,
    value: Option<impl std::fmt::Display>,
) -> csv::Result<()> {
    use std::fmt::Write as _;
    scratch.clear();
    if let Some(value) = value {
        // Writing into a String cannot fail.
        let _ = write!(scratch, "{value}");
    }
    w.write_field(scratch.as_bytes())
}

/// Writes `value` as the next field, as [`opt_number`] spells it (see [`number`]).
fn opt_number_field(
    w: &mut csv::Writer<Vec<u8>>,
    scratch: &mut String,
    value: Option<f64>,
) -> csv::Result<()> {
    opt_field(w, scratch, value.map(qol_shared::analysis::tidy))
}

/// The forms a patient sent, each with the assessment it counts for.
fn submitted(record: &PatientRecord) -> impl Iterator<Item = (&AssessmentRecord, &SubmissionRecord)> {
    record.assessments.iter().filter_map(|a| a.submission.as_ref().map(|s| (a, s)))
}
