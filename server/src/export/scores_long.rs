//! `scores_long.csv`: one row per patient × assessment × scale, with the change from baseline,
//! its category and the threshold for clinical importance.

use qol_shared::alerts::{past_threshold, threshold_of};
use qol_shared::api::ScaleInfo;
use qol_shared::thresholds::Judgement;

use super::{csv_bytes, opt, opt_number, submitted};
use crate::clinic::ClinicError;
use crate::clinic::research::{self, PatientRecord, outcome_columns};

pub const COLUMNS: &[&str] = &[
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

/// One patient's rows.
pub(super) fn rows(
    record: &PatientRecord,
    scales: &[ScaleInfo],
    protocol: &qol_shared::schedule::Protocol,
) -> Result<Vec<u8>, ClinicError> {
    // The study's thresholds (its table, else 10 points), as ttd.csv uses.
    let thresholds = super::ttd::thresholds(protocol);
    csv_bytes(|w| {
        for (assessment, submission) in submitted(record) {
            for scores in &submission.scores {
                for scale in &scores.scales {
                    let (score, raw, answered, in_scale, missing) = outcome_columns(&scale.outcome);
                    let kind = scales.iter().find(|s| s.code == scale.code).map(|s| s.kind);
                    let baseline = record.baseline(&scale.code);
                    // A baseline row is the reference, not a change of 0 ("stable").
                    let pair = score.zip(baseline).filter(|_| assessment.key != research::BASELINE);
                    let change = pair.map(|(now, before)| now - before);
                    let category = pair.zip(kind).and_then(|((now, before), kind)| {
                        match thresholds.judge(&scale.code, kind, before, now) {
                            Judgement::Category(category) => Some(crate::storage::enum_text(&category)),
                            Judgement::NoThreshold => None,
                        }
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
                        submission.mode.as_str(),
                        &submission.version.to_string(),
                        &assessment.protocol_version.to_string(),
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
    })
}
