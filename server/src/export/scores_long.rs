//! `scores_long.csv`: one row per patient × assessment × scale, with the change from baseline,
//! its category and the threshold for clinical importance.

use qol_shared::alerts::{past_threshold, threshold_of};
use qol_shared::analysis::ChangeCategory;
use qol_shared::api::ScaleInfo;
use qol_shared::thresholds::Judgement;

use super::{csv_bytes, opt, opt_field, opt_number_field, submitted};
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

/// One patient's rows. The columns of a form are spelt once for all its scales, and the
/// numbers of each row are written field by field through one buffer: this runs for every row of
/// the largest export.
pub(super) fn rows(
    record: &PatientRecord,
    scales: &[ScaleInfo],
    protocol: &qol_shared::schedule::Protocol,
) -> Result<Vec<u8>, ClinicError> {
    // The study's thresholds (its table, else 10 points), as ttd.csv uses.
    let thresholds = super::ttd::thresholds(protocol);
    let mut scratch = String::new();
    csv_bytes(|w| {
        for (assessment, submission) in submitted(record) {
            let target_day = opt(assessment.target_day);
            let completed_day = opt(submission.completed_day);
            let in_window = opt(submission.in_window());
            let version = submission.version.to_string();
            let protocol_version = assessment.protocol_version.to_string();
            let form = [
                record.study_id.as_str(),
                &record.stratum,
                &assessment.key,
                &assessment.code,
                &target_day,
                &completed_day,
                &in_window,
                submission.placement.as_str(),
                submission.sent_for.as_deref().unwrap_or_default(),
                submission.mode.as_str(),
                &version,
                &protocol_version,
            ];
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
                            Judgement::Category(category) => Some(category_text(category)),
                            Judgement::NoThreshold => None,
                        }
                    });
                    let threshold = threshold_of(&scale.code);
                    let past = match (threshold, kind, score) {
                        (Some(t), Some(kind), Some(score)) => Some(past_threshold(kind, t, score)),
                        _ => None,
                    };
                    for field in form {
                        w.write_field(field)?;
                    }
                    w.write_field(scores.instrument.as_str())?;
                    w.write_field(&*scale.code)?;
                    opt_number_field(w, &mut scratch, score)?;
                    opt_number_field(w, &mut scratch, raw)?;
                    opt_field(w, &mut scratch, Some(answered))?;
                    opt_field(w, &mut scratch, Some(in_scale))?;
                    w.write_field(missing.unwrap_or_default())?;
                    w.write_field(&*scores.algorithm_version)?;
                    opt_number_field(w, &mut scratch, baseline)?;
                    opt_number_field(w, &mut scratch, change)?;
                    w.write_field(category.unwrap_or_default())?;
                    opt_number_field(w, &mut scratch, threshold)?;
                    opt_field(w, &mut scratch, past)?;
                    // The end of the record.
                    w.write_record(None::<&[u8]>)?;
                }
            }
        }
        Ok(())
    })
}

/// A change category's text, as it is stored and serialised (`crate::storage::enum_text`; a test
/// holds the two equal). A `match`, so a new category cannot be written blank.
fn category_text(category: ChangeCategory) -> &'static str {
    match category {
        ChangeCategory::Improved => "improved",
        ChangeCategory::Stable => "stable",
        ChangeCategory::Deteriorated => "deteriorated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_category_is_written_as_it_is_serialised() {
        for category in [ChangeCategory::Improved, ChangeCategory::Stable, ChangeCategory::Deteriorated] {
            assert_eq!(category_text(category), crate::storage::enum_text(&category));
        }
    }
}
