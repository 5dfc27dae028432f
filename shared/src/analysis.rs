//! The trial's quality-of-life question, answered from scores: how each scale changes from
//! baseline to each later assessment (paired patients), how many patients improve or deteriorate
//! by a clinically relevant margin, and the mean score at each assessment with its confidence
//! interval. Pure functions over [`Observation`]s; the server feeds them, pseudonymised.
//!
//! Methods (and their sources):
//! - mean change over patients with a score at both baseline and the assessment ("paired"); its
//!   sample standard deviation (n − 1); the 95 % confidence interval of the mean from the t
//!   distribution with n − 1 degrees of freedom;
//! - standardized response mean (SRM) = mean change / SD of the change (Liang et al. 1990, Med
//!   Care 28:632–642);
//! - responders: a change of at least 10 points in the better direction is "improved", in the
//!   worse direction "deteriorated", otherwise "stable" (Osoba et al. 1998, J Clin Oncol
//!   16:139–144); the threshold is a parameter;
//! - for functioning scales and global QoL higher is better, for symptom scales lower is better.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::instrument::ScaleKind;

/// The responder threshold of Osoba et al. 1998, in points.
pub const DEFAULT_RESPONDER_POINTS: f64 = 10.0;

/// A mean with its spread and 95 % confidence interval (t distribution). `sd` needs two values,
/// the interval too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeanEstimate {
    pub n: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// The two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile_975(df: usize) -> f64 {
    // StudentsT::new fails only for a non-positive scale or degrees of freedom.
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

/// `value`, or the whole number it is within 1e-9 of: floating-point sums leave residues such
/// as -2.2e-15 for a mean change of nothing, which read as a (negative) change. Never -0.
pub fn tidy(value: f64) -> f64 {
    let whole = value.round();
    if (value - whole).abs() < 1e-9 { whole + 0.0 } else { value }
}

/// The mean, SD and 95 % interval of `values`. With every value the same the SD is 0 and the
/// interval is undefined (R's `t.test` refuses "essentially constant" data): it is left empty
/// rather than reported as a zero-width interval.
pub fn mean_estimate(values: &[f64]) -> MeanEstimate {
    let n = values.len();
    if n == 0 {
        return MeanEstimate { n, mean: None, sd: None, ci_low: None, ci_high: None };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return MeanEstimate { n, mean: Some(tidy(mean)), sd: None, ci_low: None, ci_high: None };
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = variance.sqrt();
    if tidy(sd) == 0.0 {
        return MeanEstimate { n, mean: Some(tidy(mean)), sd: Some(0.0), ci_low: None, ci_high: None };
    }
    let half_width = t_quantile_975(n - 1) * sd / (n as f64).sqrt();
    MeanEstimate {
        n,
        mean: Some(tidy(mean)),
        sd: Some(tidy(sd)),
        ci_low: Some(tidy(mean - half_width)),
        ci_high: Some(tidy(mean + half_width)),
    }
}

/// Which way a change went, by the responder rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChangeCategory {
    Improved,
    Stable,
    Deteriorated,
}

/// One score of one patient at one assessment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation<'a> {
    pub patient: &'a str,
    pub stratum: &'a str,
    /// The assessment key (`baseline`, `end-of-treatment`, `weekly-03`, …).
    pub timepoint: &'a str,
    pub scale: &'a str,
    pub score: f64,
}

/// The change of one scale from baseline to one assessment, over paired patients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeSummary {
    pub scale: String,
    pub kind: ScaleKind,
    pub timepoint: String,
    /// `None`: all strata together.
    pub stratum: Option<String>,
    /// Patients with a score at baseline and at the timepoint.
    pub n_paired: usize,
    pub baseline: MeanEstimate,
    pub at_timepoint: MeanEstimate,
    /// Timepoint minus baseline, per patient.
    pub change: MeanEstimate,
    /// Standardized response mean: mean change / SD of the change.
    pub srm: Option<f64>,
    pub improved: usize,
    pub stable: usize,
    pub deteriorated: usize,
    /// The same as proportions of `n_paired` (0–1); `None` without paired patients.
    pub improved_proportion: Option<f64>,
    pub stable_proportion: Option<f64>,
    pub deteriorated_proportion: Option<f64>,
}

/// The mean of one scale at one assessment, over every patient with a score there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimepointMean {
    pub scale: String,
    pub timepoint: String,
    pub stratum: Option<String>,
    pub estimate: MeanEstimate,
}

/// One patient's stratum and scores by timepoint.
type PatientScores<'a> = (&'a str, BTreeMap<&'a str, f64>);

/// Scores by scale, then patient, then timepoint (one score each: the caller picks the version).
struct Index<'a> {
    by_scale: BTreeMap<&'a str, BTreeMap<&'a str, PatientScores<'a>>>,
}

impl<'a> Index<'a> {
    fn new(observations: &[Observation<'a>]) -> Index<'a> {
        let mut by_scale: BTreeMap<&str, BTreeMap<&str, PatientScores<'a>>> = BTreeMap::new();
        for o in observations {
            by_scale
                .entry(o.scale)
                .or_default()
                .entry(o.patient)
                .or_insert_with(|| (o.stratum, BTreeMap::new()))
                .1
                .insert(o.timepoint, o.score);
        }
        Index { by_scale }
    }

    fn patients(
        &self,
        scale: &str,
        stratum: Option<&str>,
    ) -> impl Iterator<Item = &BTreeMap<&'a str, f64>> + '_ {
        let stratum = stratum.map(str::to_owned);
        self.by_scale
            .get(scale)
            .into_iter()
            .flat_map(|patients| patients.values())
            .filter(move |(s, _)| stratum.as_deref().is_none_or(|wanted| *s == wanted))
            .map(|(_, scores)| scores)
    }
}

/// The change from `baseline` to each of `timepoints` for each of `scales`, for all patients
/// and for each of `strata`.
pub fn change_summaries(
    observations: &[Observation<'_>],
    baseline: &str,
    timepoints: &[&str],
    scales: &[(&str, ScaleKind)],
    strata: &[&str],
    thresholds: &crate::thresholds::Thresholds,
) -> Vec<ChangeSummary> {
    let index = Index::new(observations);
    let mut summaries = Vec::new();
    let groups: Vec<Option<&str>> = std::iter::once(None).chain(strata.iter().copied().map(Some)).collect();
    for (scale, kind) in scales {
        for timepoint in timepoints.iter().filter(|t| **t != baseline) {
            for stratum in &groups {
                let pairs: Vec<(f64, f64)> = index
                    .patients(scale, *stratum)
                    .filter_map(|scores| Some((*scores.get(baseline)?, *scores.get(timepoint)?)))
                    .collect();
                let changes: Vec<f64> = pairs.iter().map(|(before, after)| after - before).collect();
                let change = mean_estimate(&changes);
                let srm = match (change.mean, change.sd) {
                    (Some(mean), Some(sd)) if sd > 0.0 => Some(mean / sd),
                    _ => None,
                };
                // Responders by the threshold set; a scale it has no threshold for has none.
                let mut counts = [0_usize; 3];
                let mut judged = 0;
                for (before, after) in &pairs {
                    if let crate::thresholds::Judgement::Category(category) =
                        thresholds.judge(scale, *kind, *before, *after)
                    {
                        counts[category as usize] += 1;
                        judged += 1;
                    }
                }
                let share = |count: usize| (judged > 0).then(|| count as f64 / judged as f64);
                summaries.push(ChangeSummary {
                    scale: (*scale).to_owned(),
                    kind: *kind,
                    timepoint: (*timepoint).to_owned(),
                    stratum: stratum.map(str::to_owned),
                    n_paired: pairs.len(),
                    baseline: mean_estimate(&pairs.iter().map(|p| p.0).collect::<Vec<_>>()),
                    at_timepoint: mean_estimate(&pairs.iter().map(|p| p.1).collect::<Vec<_>>()),
                    change,
                    srm,
                    improved: counts[ChangeCategory::Improved as usize],
                    stable: counts[ChangeCategory::Stable as usize],
                    deteriorated: counts[ChangeCategory::Deteriorated as usize],
                    improved_proportion: share(counts[ChangeCategory::Improved as usize]),
                    stable_proportion: share(counts[ChangeCategory::Stable as usize]),
                    deteriorated_proportion: share(counts[ChangeCategory::Deteriorated as usize]),
                });
            }
        }
    }
    summaries
}

/// The mean of each scale at each timepoint, for all patients and for each of `strata`.
pub fn timepoint_means(
    observations: &[Observation<'_>],
    timepoints: &[&str],
    scales: &[(&str, ScaleKind)],
    strata: &[&str],
) -> Vec<TimepointMean> {
    let index = Index::new(observations);
    let groups: Vec<Option<&str>> = std::iter::once(None).chain(strata.iter().copied().map(Some)).collect();
    let mut means = Vec::new();
    for (scale, _) in scales {
        for timepoint in timepoints {
            for stratum in &groups {
                let values: Vec<f64> = index
                    .patients(scale, *stratum)
                    .filter_map(|scores| scores.get(timepoint).copied())
                    .collect();
                means.push(TimepointMean {
                    scale: (*scale).to_owned(),
                    timepoint: (*timepoint).to_owned(),
                    stratum: stratum.map(str::to_owned),
                    estimate: mean_estimate(&values),
                });
            }
        }
    }
    means
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change's category by the same number of points both ways (the responder rule).
    fn classify(kind: ScaleKind, change: f64, points: f64) -> ChangeCategory {
        match crate::thresholds::Thresholds::points(points).judge("QL2", kind, 0.0, change) {
            crate::thresholds::Judgement::Category(category) => category,
            crate::thresholds::Judgement::NoThreshold => panic!("a points set judges every scale"),
        }
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a value");
        assert!((a - b).abs() < 1e-6, "{a} != {b}");
    }

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // Two-sided 95 % critical values, e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2.
        for (df, t) in [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045), (100, 1.984)] {
            assert!((t_quantile_975(df) - t).abs() < 5e-4, "df {df}: {}", t_quantile_975(df));
        }
    }

    #[test]
    fn a_mean_with_its_interval_by_hand() {
        // 10, 20, 30: mean 20, SD 10, SE 10/√3 = 5.7735, t(2) = 4.302653 → 20 ± 24.8414.
        let e = mean_estimate(&[10.0, 20.0, 30.0]);
        assert_eq!(e.n, 3);
        close(e.mean, 20.0);
        close(e.sd, 10.0);
        close(e.ci_low, 20.0 - 4.302_652_73 * 10.0 / 3f64.sqrt());
        close(e.ci_high, 20.0 + 4.302_652_73 * 10.0 / 3f64.sqrt());
        assert_eq!(mean_estimate(&[]).mean, None);
        let one = mean_estimate(&[42.0]);
        assert_eq!((one.mean, one.sd, one.ci_low), (Some(42.0), None, None));
        // Every value the same: SD 0, and no interval (R's t.test refuses such data).
        let same = mean_estimate(&[10.0, 10.0, 10.0]);
        assert_eq!((same.mean, same.sd, same.ci_low, same.ci_high), (Some(10.0), Some(0.0), None, None));
        // A floating-point residue is not a change: 0.1 + 0.2 - 0.3 is 5.6e-17.
        let nothing = mean_estimate(&[0.1 + 0.2 - 0.3, 0.0]);
        assert_eq!(nothing.mean, Some(0.0));
        assert_eq!(tidy(-2.2e-15).to_string(), "0");
        assert_eq!(tidy(33.333_333_333_333_336), 33.333_333_333_333_336);
        // A 10-point change that floating point makes 9.999999999999995 is a 10-point change.
        let change = (14.0 / 10.0 - 11.0 / 10.0) / 3.0 * 100.0;
        assert!(change < 10.0, "{change}");
        assert_eq!(classify(ScaleKind::Symptom, change, 10.0), ChangeCategory::Deteriorated);
    }

    #[test]
    fn responders_follow_the_direction_of_the_scale() {
        assert_eq!(classify(ScaleKind::Functional, 10.0, 10.0), ChangeCategory::Improved);
        assert_eq!(classify(ScaleKind::Functional, -10.0, 10.0), ChangeCategory::Deteriorated);
        assert_eq!(classify(ScaleKind::Functional, 9.9, 10.0), ChangeCategory::Stable);
        assert_eq!(classify(ScaleKind::Symptom, 33.3, 10.0), ChangeCategory::Deteriorated);
        assert_eq!(classify(ScaleKind::Symptom, -11.1, 10.0), ChangeCategory::Improved);
        assert_eq!(classify(ScaleKind::Global, 8.3, 5.0), ChangeCategory::Improved);
    }

    #[test]
    fn change_from_baseline_by_hand() {
        // Global QoL (QL2) of four patients; P4 has no end-of-treatment score and is not paired.
        //          baseline  end   change
        // P1 (a)     50.0   66.7   +16.7  improved
        // P2 (a)     58.3   58.3     0.0  stable
        // P3 (b)     75.0   50.0   -25.0  deteriorated
        // P4 (b)     41.7     –
        let data = [
            ("P1", "a", "baseline", 50.0),
            ("P1", "a", "eot", 66.7),
            ("P2", "a", "baseline", 58.3),
            ("P2", "a", "eot", 58.3),
            ("P3", "b", "baseline", 75.0),
            ("P3", "b", "eot", 50.0),
            ("P4", "b", "baseline", 41.7),
        ];
        let observations: Vec<Observation<'_>> = data
            .iter()
            .map(|(patient, stratum, timepoint, score)| Observation {
                patient,
                stratum,
                timepoint,
                scale: "QL2",
                score: *score,
            })
            .collect();
        let all = change_summaries(
            &observations,
            "baseline",
            &["baseline", "eot"],
            &[("QL2", ScaleKind::Global)],
            &["a", "b"],
            &crate::thresholds::Thresholds::points(10.0),
        );
        assert_eq!(all.len(), 3, "all patients, stratum a, stratum b");
        let overall = &all[0];
        assert_eq!((overall.stratum.as_deref(), overall.n_paired), (None, 3));
        // Changes 16.7, 0, −25: mean −2.766667; deviations 19.466667, 2.766667, −22.233333;
        // SD = √((378.951 + 7.654 + 494.321) / 2) = √440.463 = 20.987218.
        let mean: f64 = (16.7 + 0.0 - 25.0) / 3.0;
        let sd = (((16.7 - mean).powi(2) + (0.0 - mean).powi(2) + (-25.0 - mean).powi(2)) / 2.0).sqrt();
        close(overall.change.mean, mean);
        close(overall.change.mean, -2.766_666_667);
        close(overall.change.sd, sd);
        close(overall.change.sd, 20.987_218_33);
        close(overall.change.ci_low, mean - 4.302_652_73 * sd / 3f64.sqrt());
        close(overall.srm, mean / sd);
        close(overall.baseline.mean, (50.0 + 58.3 + 75.0) / 3.0);
        close(overall.at_timepoint.mean, (66.7 + 58.3 + 50.0) / 3.0);
        assert_eq!((overall.improved, overall.stable, overall.deteriorated), (1, 1, 1));
        close(overall.improved_proportion, 1.0 / 3.0);
        close(overall.deteriorated_proportion, 1.0 / 3.0);

        let b = &all[2];
        assert_eq!((b.stratum.as_deref(), b.n_paired), (Some("b"), 1));
        close(b.change.mean, -25.0);
        assert_eq!((b.change.sd, b.srm, b.deteriorated), (None, None, 1));
        assert_eq!(b.deteriorated_proportion, Some(1.0));

        let means = timepoint_means(&observations, &["baseline", "eot"], &[("QL2", ScaleKind::Global)], &[]);
        assert_eq!(means.len(), 2);
        assert_eq!(means[0].estimate.n, 4, "every patient with a baseline score, paired or not");
        close(means[0].estimate.mean, (50.0 + 58.3 + 75.0 + 41.7) / 4.0);
    }
}
