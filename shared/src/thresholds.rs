//! What counts as a clinically meaningful change, as data (issue 19): one table per threshold
//! set, per scale and direction, each with its source. Responders (`analysis`) and time to
//! deterioration (`ttd`) read the same table.
//!
//! The sets:
//! - `osoba-1998` (the default when the protocol has no table of its own): a change of at least 10 points, better or worse, on every scale
//!   (Osoba et al. 1998, J Clin Oncol 16:139–144); `points=N` gives the same rule with N points.
//! - `giesinger-2020`: a level rather than a change. A patient deteriorates when her score passes
//!   the threshold for clinical importance (a functioning score below it, a symptom score at or
//!   above it) that her baseline had not passed, and improves when a baseline past it comes back
//!   (Giesinger et al. 2020, J Clin Epidemiol 118:1–8; the values are the alert rules' table,
//!   `alerts::GIESINGER_THRESHOLDS`). Only the QLQ-C30 scales it covers have one; a patient past
//!   the level at baseline cannot deteriorate by it and is left out of TTD, counted; among
//!   responders she counts as stable or improved (the proportions are of every paired patient).
//! - A change is compared with the threshold as entered (`change ≥ threshold`, after `tidy`): a
//!   study that means "one step of a two-item scale" (16.67 points) enters 16.6, not 16.7.
//! - `study`: the protocol's `change_thresholds` section, per scale and direction, with the source
//!   the study cites (Cocks et al. 2012's per-scale bands, which are smaller for improvement than
//!   for decline, are entered here by the study; docs/research.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::{ChangeCategory, tidy};
use crate::instrument::ScaleKind;

pub const OSOBA_1998: &str = "Osoba et al. 1998, J Clin Oncol 16:139-144 (10 points of change)";

/// How a threshold is read: a change from baseline, or a level passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ThresholdKind {
    Change,
    Level,
}

/// One scale's thresholds: points of change in each direction, or the level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScaleThreshold {
    /// Points better than baseline that count as improved (change sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub improvement: Option<f64>,
    /// Points worse than baseline that count as deteriorated (change sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deterioration: Option<f64>,
    /// The level of clinical importance (level sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
}

/// A threshold set: its name, how it is read, its source, and a row per scale it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    /// `osoba-1998`, `points-N`, `giesinger-2020` or `study`.
    pub name: String,
    pub kind: ThresholdKind,
    pub source: String,
    /// Every scale not listed here uses this (change sets); none for level sets.
    pub default_points: Option<f64>,
    pub scales: BTreeMap<String, ScaleThreshold>,
}

/// The protocol's `change_thresholds` section: per-scale thresholds a study chose, with their
/// source. Scales left out use `default_points` (10 when left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyThresholds {
    pub source: String,
    #[serde(default)]
    pub default_points: Option<f64>,
    #[serde(default)]
    pub scales: BTreeMap<String, ScaleThreshold>,
}

impl StudyThresholds {
    /// Every problem, each naming its key (`change_thresholds.scales.PF2.deterioration: …`).
    pub fn problems(&self, known_scale: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        let points = |key: String, value: Option<f64>, out: &mut Vec<String>| {
            if let Some(value) = value
                && !(value.is_finite() && value > 0.0 && value <= 100.0)
            {
                out.push(format!("{key}: {value} is not more than 0 and at most 100 points"));
            }
        };
        if self.source.trim().is_empty() {
            out.push("change_thresholds.source: is empty: name the publication or the study's reason".into());
        }
        points("change_thresholds.default_points".into(), self.default_points, &mut out);
        for (scale, threshold) in &self.scales {
            let key = format!("change_thresholds.scales.{scale}");
            if !known_scale(scale) {
                out.push(format!("{key}: is not a scale qol scores"));
            }
            if threshold.level.is_some() {
                out.push(format!(
                    "{key}.level: a study's thresholds are changes (improvement, deterioration)"
                ));
            }
            if threshold.improvement.is_none() && threshold.deterioration.is_none() {
                out.push(format!("{key}: gives neither improvement nor deterioration"));
            }
            points(format!("{key}.improvement"), threshold.improvement, &mut out);
            points(format!("{key}.deterioration"), threshold.deterioration, &mut out);
        }
        out
    }
}

/// What a scale's score did against its threshold, or why it cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Category(ChangeCategory),
    /// The set has no threshold for this scale (Giesinger 2020 for QL2 or the QLQ-CX24).
    NoThreshold,
}

impl Thresholds {
    /// The same number of points on every scale, both ways: Osoba's 10 by default.
    pub fn points(points: f64) -> Thresholds {
        let default = (points - crate::analysis::DEFAULT_RESPONDER_POINTS).abs() < f64::EPSILON;
        Thresholds {
            name: if default { "osoba-1998".into() } else { format!("points-{}", tidy(points)) },
            kind: ThresholdKind::Change,
            source: if default {
                OSOBA_1998.into()
            } else {
                format!("{} points of change on every scale, as asked", tidy(points))
            },
            default_points: Some(points),
            scales: BTreeMap::new(),
        }
    }

    /// Giesinger et al. 2020's thresholds for clinical importance, read as levels.
    pub fn giesinger_2020() -> Thresholds {
        Thresholds {
            name: "giesinger-2020".into(),
            kind: ThresholdKind::Level,
            source: crate::alerts::GIESINGER_2020.into(),
            default_points: None,
            scales: crate::alerts::GIESINGER_THRESHOLDS
                .iter()
                .map(|t| {
                    (
                        t.scale.to_owned(),
                        ScaleThreshold { improvement: None, deterioration: None, level: Some(t.value) },
                    )
                })
                .collect(),
        }
    }

    /// A study's own table.
    pub fn study(study: &StudyThresholds) -> Thresholds {
        Thresholds {
            name: "study".into(),
            kind: ThresholdKind::Change,
            source: study.source.clone(),
            default_points: Some(study.default_points.unwrap_or(crate::analysis::DEFAULT_RESPONDER_POINTS)),
            scales: study.scales.clone(),
        }
    }

    /// The points of change that count as improved and as deteriorated on `scale` (change sets).
    pub fn change_points(&self, scale: &str) -> (Option<f64>, Option<f64>) {
        let row = self.scales.get(scale);
        let pick = |own: Option<f64>| own.or(self.default_points);
        match row {
            Some(row) => (pick(row.improvement), pick(row.deterioration)),
            None => (self.default_points, self.default_points),
        }
    }

    /// The level of clinical importance of `scale` (level sets).
    pub fn level(&self, scale: &str) -> Option<f64> {
        self.scales.get(scale).and_then(|row| row.level)
    }

    /// Whether this set can judge `scale` at all.
    pub fn covers(&self, scale: &str) -> bool {
        match self.kind {
            ThresholdKind::Change => {
                let (up, down) = self.change_points(scale);
                up.is_some() || down.is_some()
            }
            ThresholdKind::Level => self.level(scale).is_some(),
        }
    }

    /// Whether a score is past the level (level sets): a functioning or global score below
    /// it, a symptom score at or above it.
    pub fn past_level(kind: ScaleKind, level: f64, score: f64) -> bool {
        match kind {
            ScaleKind::Symptom => tidy(score) >= level,
            ScaleKind::Functional | ScaleKind::Global => tidy(score) < level,
        }
    }

    /// `later` against `baseline` on `scale`. The change is [`tidy`]ed first: 9.999999999999995
    /// (14/11 − 11/11 of a range, in floating point) is 10.
    pub fn judge(&self, scale: &str, kind: ScaleKind, baseline: f64, later: f64) -> Judgement {
        match self.kind {
            ThresholdKind::Change => {
                let (up, down) = self.change_points(scale);
                let change = tidy(later - baseline);
                let better = match kind {
                    ScaleKind::Symptom => -change,
                    ScaleKind::Functional | ScaleKind::Global => change,
                };
                if up.is_none() && down.is_none() {
                    return Judgement::NoThreshold;
                }
                if up.is_some_and(|points| better >= points) {
                    Judgement::Category(ChangeCategory::Improved)
                } else if down.is_some_and(|points| -better >= points) {
                    Judgement::Category(ChangeCategory::Deteriorated)
                } else {
                    Judgement::Category(ChangeCategory::Stable)
                }
            }
            ThresholdKind::Level => {
                let Some(level) = self.level(scale) else { return Judgement::NoThreshold };
                let (before, after) =
                    (Self::past_level(kind, level, baseline), Self::past_level(kind, level, later));
                Judgement::Category(match (before, after) {
                    (false, true) => ChangeCategory::Deteriorated,
                    (true, false) => ChangeCategory::Improved,
                    _ => ChangeCategory::Stable,
                })
            }
        }
    }

    /// The threshold of `scale` in words, for tables and reports: "10 / 10", "≥ 83 (level)".
    pub fn describe(&self, scale: &str) -> String {
        let show = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |v| tidy(v).to_string());
        match self.kind {
            ThresholdKind::Change => {
                let (up, down) = self.change_points(scale);
                format!("improved ≥ {}, deteriorated ≥ {} points", show(up), show(down))
            }
            ThresholdKind::Level => match self.level(scale) {
                Some(level) => format!("level {}", show(Some(level))),
                None => "no threshold".to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_sets_read_each_direction_and_fall_back_to_the_default() {
        let study = StudyThresholds {
            source: "Cocks et al. 2012, as the study's statistical analysis plan cites it".into(),
            default_points: None,
            scales: [(
                "PF2".to_owned(),
                ScaleThreshold { improvement: Some(5.0), deterioration: Some(12.0), level: None },
            )]
            .into(),
        };
        assert!(study.problems(|s| s == "PF2").is_empty());
        let set = Thresholds::study(&study);
        let judge = |scale, kind, before, after| set.judge(scale, kind, before, after);
        use ChangeCategory::*;
        assert_eq!(judge("PF2", ScaleKind::Functional, 60.0, 65.0), Judgement::Category(Improved));
        assert_eq!(judge("PF2", ScaleKind::Functional, 60.0, 50.0), Judgement::Category(Stable));
        assert_eq!(judge("PF2", ScaleKind::Functional, 60.0, 48.0), Judgement::Category(Deteriorated));
        // Other scales: 10 points.
        assert_eq!(judge("FA", ScaleKind::Symptom, 20.0, 30.0), Judgement::Category(Deteriorated));
        assert_eq!(judge("FA", ScaleKind::Symptom, 20.0, 12.0), Judgement::Category(Stable));
        assert_eq!(set.describe("PF2"), "improved ≥ 5, deteriorated ≥ 12 points");
    }

    #[test]
    fn giesinger_levels_count_passing_the_level_not_the_size_of_the_change() {
        let set = Thresholds::giesinger_2020();
        use ChangeCategory::*;
        // PF2 83: 90 → 80 passes it (10 points); 80 → 40 is already past (40 points).
        assert_eq!(set.judge("PF2", ScaleKind::Functional, 90.0, 80.0), Judgement::Category(Deteriorated));
        assert_eq!(set.judge("PF2", ScaleKind::Functional, 80.0, 40.0), Judgement::Category(Stable));
        assert_eq!(set.judge("PF2", ScaleKind::Functional, 80.0, 90.0), Judgement::Category(Improved));
        // PA 25: a symptom at the level is past it.
        assert_eq!(set.judge("PA", ScaleKind::Symptom, 16.7, 25.0), Judgement::Category(Deteriorated));
        assert_eq!(set.judge("QL2", ScaleKind::Global, 80.0, 20.0), Judgement::NoThreshold);
        assert!(!set.covers("CXSE"));
    }

    #[test]
    fn a_study_table_is_refused_by_key() {
        let study: StudyThresholds = serde_json::from_str(
            r#"{"source": " ", "default_points": 0, "scales": {"XX": {"improvement": 120}, "PF2": {}}}"#,
        )
        .unwrap();
        let problems = study.problems(|s| s == "PF2");
        assert!(problems.iter().any(|p| p.starts_with("change_thresholds.source")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("change_thresholds.default_points")));
        assert!(problems.iter().any(|p| p == "change_thresholds.scales.XX: is not a scale qol scores"));
        assert!(problems.iter().any(|p| p.starts_with("change_thresholds.scales.XX.improvement")));
        assert!(problems.iter().any(|p| p.starts_with("change_thresholds.scales.PF2: gives neither")));
    }
}
