//! `ttd.csv`: one row per patient × scale × definition × death rule: her time to deterioration
//! in days from cycle 1 day 1, event or censored (or left out), and why. The threshold set is
//! the study's default (the protocol's `change_thresholds`, else 10 points), named on each row.

use qol_shared::api::ScaleInfo;
use qol_shared::schedule::Protocol;
use qol_shared::thresholds::Thresholds;
use qol_shared::ttd::{DeathRule, Definition, Outcome};

use super::{csv_bytes, opt_number};
use crate::clinic::ClinicError;
use crate::clinic::research::PatientRecord;

pub const COLUMNS: &[&str] = &[
    "study_id",
    "stratum",
    "scale",
    "definition",
    "death",
    "threshold_set",
    "threshold",
    "baseline_score",
    "status",
    "time_days",
    "reason",
];

/// The threshold set of the export: the study's table, else Osoba's 10 points.
pub fn thresholds(protocol: &Protocol) -> Thresholds {
    protocol
        .change_thresholds
        .as_ref()
        .map_or_else(|| Thresholds::points(qol_shared::analysis::DEFAULT_RESPONDER_POINTS), Thresholds::study)
}

/// One patient's rows.
pub(super) fn rows(
    record: &PatientRecord,
    scales: &[ScaleInfo],
    protocol: &Protocol,
) -> Result<Vec<u8>, ClinicError> {
    let thresholds = thresholds(protocol);
    csv_bytes(|w| {
        for scale in scales {
            let baseline = record.baseline(&scale.code);
            for definition in Definition::ALL {
                for death in DeathRule::ALL {
                    let (status, time, reason) =
                        match record.ttd_outcome(scale, &thresholds, definition, death) {
                            Outcome::Excluded(why) => ("excluded", String::new(), why.as_str()),
                            Outcome::Time { day, event, reason } => {
                                (if event { "event" } else { "censored" }, day.to_string(), reason.as_str())
                            }
                        };
                    w.write_record([
                        record.study_id.as_str(),
                        record.stratum.as_str(),
                        scale.code.as_str(),
                        definition.as_str(),
                        death.as_str(),
                        thresholds.name.as_str(),
                        thresholds.describe(&scale.code).as_str(),
                        opt_number(baseline).as_str(),
                        status,
                        time.as_str(),
                        reason,
                    ])?;
                }
            }
        }
        Ok(())
    })
}
