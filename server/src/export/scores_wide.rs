//! `scores_wide.csv`: one row per patient × assessment, one column per scale.

use qol_shared::api::ScaleInfo;

use super::{csv_bytes, opt, opt_number, submitted};
use crate::clinic::ClinicError;
use crate::clinic::research::{self, PatientRecord};

const FIXED: &[&str] = &[
    "study_id",
    "stratum",
    "assessment",
    "assessment_code",
    "target_study_day",
    "actual_study_day",
    "in_window",
    "placement",
    "sent_for",
    "mode",
    "version",
    "protocol_version",
];

/// The columns of `scores_wide.csv`: the fixed ones, then one per scale.
pub fn columns() -> Vec<String> {
    FIXED.iter().map(|c| (*c).to_owned()).chain(research::scales().into_iter().map(|s| s.code)).collect()
}

/// One patient's rows.
pub(super) fn rows(record: &PatientRecord, scales: &[ScaleInfo]) -> Result<Vec<u8>, ClinicError> {
    csv_bytes(|w| {
        for (assessment, submission) in submitted(record) {
            let mut row = vec![
                record.study_id.clone(),
                record.stratum.clone(),
                assessment.key.to_string(),
                assessment.code.clone(),
                opt(assessment.target_day),
                opt(submission.completed_day),
                opt(submission.in_window()),
                submission.placement.as_str().to_owned(),
                submission.sent_for.as_deref().unwrap_or_default().to_owned(),
                submission.mode.as_str().to_owned(),
                submission.version.to_string(),
                assessment.protocol_version.to_string(),
            ];
            row.extend(scales.iter().map(|scale| opt_number(submission.score(&scale.code))));
            w.write_record(&row)?;
        }
        Ok(())
    })
}
