//! `schedule.csv`: one row per patient × expected assessment, with its window, its state on the
//! export day and why it was missed; an assessment whose anchor event is not recorded has a row
//! too, so the fixed denominator can be rebuilt from the file.

use qol_shared::schedule::Protocol;

use super::{csv_bytes, opt};
use crate::clinic::ClinicError;
use crate::clinic::research::{PatientRecord, SubmissionRecord};

pub const COLUMNS: &[&str] = &[
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
    "mode",
    "version",
    "protocol_version",
    "late_delivery",
    "missed_reason",
    "off_study_day",
    "off_study_reason",
];

/// One patient's rows.
pub(super) fn rows(
    record: &PatientRecord,
    protocol: &Protocol,
    protocol_version: i64,
) -> Result<Vec<u8>, ClinicError> {
    csv_bytes(|w| {
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
                submission.map(|s| s.mode.as_str()).unwrap_or_default(),
                &opt(submission.map(|s| s.version)),
                &assessment.protocol_version.to_string(),
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
                &protocol_version.to_string(),
                "",
                "",
                &off_day,
                &off_reason,
            ])?;
        }
        Ok(())
    })
}
