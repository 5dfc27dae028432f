//! `items_long.csv`: one row per patient × assessment × item, every item of the form's
//! questionnaires, a skipped one included.

use super::{csv_bytes, opt, submitted};
use crate::clinic::ClinicError;
use crate::clinic::research::{PatientRecord, answer_code};

pub const COLUMNS: &[&str] = &[
    "study_id",
    "stratum",
    "assessment",
    "assessment_code",
    "actual_study_day",
    "placement",
    "sent_for",
    "mode",
    "version",
    "protocol_version",
    "instrument",
    "item",
    "response_code",
    "not_applicable",
    "missing_reason",
];

/// One patient's rows.
pub(super) fn rows(record: &PatientRecord) -> Result<Vec<u8>, ClinicError> {
    csv_bytes(|w| {
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
                        submission.mode.as_str(),
                        &submission.version.to_string(),
                        &assessment.protocol_version.to_string(),
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
    })
}
