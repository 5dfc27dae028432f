//! Time to deterioration (TTD, issue 19): for each patient and scale, the study day of the
//! deterioration that counts, or the day she is censored, by one of three definitions; then
//! Kaplan–Meier curves per group (`survival`). Pure: the server builds each patient's
//! [`Series`] from her research record.
//!
//! The rules (docs/research.md, "Time to deterioration"):
//! - time runs from cycle 1 day 1 (study day 0) to the study day a form was completed;
//! - the reference is the baseline score (Charton et al. 2020: 79.5 % of 39 phase III trials);
//!   a patient without one is left out and counted, as is one the set cannot judge (no
//!   threshold for the scale, or past a level threshold already at baseline);
//! - a form "deteriorated" when the threshold set ([`Thresholds`]) judges it so against baseline;
//! - `first`: the first deteriorated form; `confirmed`: the first deteriorated form whose next
//!   form is deteriorated too (a deterioration at her last form is unconfirmed); `definitive`:
//!   the first deteriorated form after which no form comes back within the threshold (at her
//!   last form a deterioration is definitive, as nothing came back);
//! - death before an event: an event on the day of death (`death=event`), or ignored
//!   (`death=censor`); both are reported;
//! - otherwise censored at her last form after baseline (day 0 when there is none).

use serde::{Deserialize, Serialize};

use crate::analysis::ChangeCategory;
use crate::instrument::ScaleKind;
use crate::survival::{self, Subject};
use crate::thresholds::{Judgement, ThresholdKind, Thresholds};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Definition {
    First,
    Confirmed,
    Definitive,
}

impl Definition {
    pub const ALL: [Definition; 3] = [Definition::First, Definition::Confirmed, Definition::Definitive];

    pub fn as_str(self) -> &'static str {
        match self {
            Definition::First => "first",
            Definition::Confirmed => "confirmed",
            Definition::Definitive => "definitive",
        }
    }

    pub fn parse(text: &str) -> Option<Definition> {
        Definition::ALL.into_iter().find(|d| d.as_str() == text)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Definition::First => "the first form worse than baseline by at least the threshold",
            Definition::Confirmed => {
                "a form worse than baseline by the threshold, and the next form worse too"
            }
            Definition::Definitive => {
                "a form worse than baseline by the threshold, and no later form back within it"
            }
        }
    }
}

/// Whether a death before deterioration is an event or is ignored (censored at the last form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeathRule {
    Event,
    Censor,
}

impl DeathRule {
    pub const ALL: [DeathRule; 2] = [DeathRule::Event, DeathRule::Censor];

    pub fn as_str(self) -> &'static str {
        match self {
            DeathRule::Event => "event",
            DeathRule::Censor => "censor",
        }
    }

    pub fn parse(text: &str) -> Option<DeathRule> {
        DeathRule::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// One patient's scores on one scale: baseline, then every later form by study day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub baseline: Option<f64>,
    /// (study day completed, score), in day order, from day 0 (the caller leaves earlier forms
    /// out: time starts at cycle 1 day 1).
    pub later: Vec<(i64, f64)>,
    /// The study day she died, if she did.
    pub death_day: Option<i64>,
}

/// Why a patient is left out of a TTD analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Exclusion {
    /// No baseline score (no baseline form completed in its window, or the scale not scored).
    NoBaseline,
    /// Cycle 1 day 1 is not recorded: there is no time origin.
    NoTreatmentStart,
    /// Past a level threshold already at baseline: she cannot newly pass it.
    PastLevelAtBaseline,
    /// The threshold set has no threshold for this scale.
    NoThreshold,
}

impl Exclusion {
    pub const ALL: [Exclusion; 4] = [
        Exclusion::NoBaseline,
        Exclusion::NoTreatmentStart,
        Exclusion::PastLevelAtBaseline,
        Exclusion::NoThreshold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::NoBaseline => "no_baseline",
            Exclusion::NoTreatmentStart => "no_treatment_start",
            Exclusion::PastLevelAtBaseline => "past_level_at_baseline",
            Exclusion::NoThreshold => "no_threshold",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Exclusion::NoBaseline => "no baseline score",
            Exclusion::NoTreatmentStart => "cycle 1 day 1 not recorded",
            Exclusion::PastLevelAtBaseline => "past the level already at baseline",
            Exclusion::NoThreshold => "no threshold for this scale",
        }
    }
}

/// Why a time ends where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reason {
    /// Deteriorated, by the definition.
    Deterioration,
    /// Died before deteriorating (an event when death counts as one).
    Death,
    /// Censored at her last form after baseline.
    LastForm,
    /// Censored at her last form after baseline; she died later (death counted as censoring).
    DiedCensored,
    /// No form after baseline: censored at day 0.
    NoFormAfterBaseline,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Deterioration => "deterioration",
            Reason::Death => "death",
            Reason::LastForm => "last_form",
            Reason::DiedCensored => "died_censored_at_last_form",
            Reason::NoFormAfterBaseline => "no_form_after_baseline",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Reason::Deterioration => "deteriorated",
            Reason::Death => "died before deteriorating",
            Reason::LastForm => "censored at the last form",
            Reason::DiedCensored => "died; censored at the last form",
            Reason::NoFormAfterBaseline => "no form after baseline; censored at day 0",
        }
    }
}

/// One patient's TTD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Excluded(Exclusion),
    Time { day: i64, event: bool, reason: Reason },
}

/// The outcome of `series` on `scale`.
pub fn outcome(
    series: &Series,
    scale: &str,
    kind: ScaleKind,
    thresholds: &Thresholds,
    definition: Definition,
    death: DeathRule,
) -> Outcome {
    let Some(baseline) = series.baseline else { return Outcome::Excluded(Exclusion::NoBaseline) };
    if !thresholds.covers(scale) {
        return Outcome::Excluded(Exclusion::NoThreshold);
    }
    if thresholds.kind == ThresholdKind::Level
        && thresholds.level(scale).is_some_and(|level| Thresholds::past_level(kind, level, baseline))
    {
        return Outcome::Excluded(Exclusion::PastLevelAtBaseline);
    }
    // Forms on or before the day she died (a form dated after a death is an error of dates).
    let later: Vec<(i64, f64)> = series
        .later
        .iter()
        .copied()
        .filter(|(day, _)| series.death_day.is_none_or(|died| *day <= died))
        .collect();
    let worse: Vec<bool> = later
        .iter()
        .map(|(_, score)| {
            thresholds.judge(scale, kind, baseline, *score)
                == Judgement::Category(ChangeCategory::Deteriorated)
        })
        .collect();
    // A confirmation is a later day's form: two forms of the same day do not confirm each other.
    let next_day = |i: usize| (i + 1..later.len()).find(|&j| later[j].0 > later[i].0);
    let found = (0..worse.len()).find(|&i| {
        worse[i]
            && match definition {
                Definition::First => true,
                Definition::Confirmed => next_day(i).is_some_and(|j| worse[j]),
                Definition::Definitive => worse[i..].iter().all(|w| *w),
            }
    });
    let day = |i: usize| later[i].0;
    let deterioration = found.map(day);
    match (deterioration, series.death_day) {
        // Dying first is an event only when death counts as one.
        (Some(at), Some(died)) if died < at && death == DeathRule::Event => {
            Outcome::Time { day: died.max(0), event: true, reason: Reason::Death }
        }
        (Some(at), _) => Outcome::Time { day: at, event: true, reason: Reason::Deterioration },
        (None, Some(died)) if death == DeathRule::Event => {
            Outcome::Time { day: died.max(0), event: true, reason: Reason::Death }
        }
        (None, died) => match later.last() {
            Some((last, _)) => Outcome::Time {
                day: *last,
                event: false,
                reason: if died.is_some() { Reason::DiedCensored } else { Reason::LastForm },
            },
            None => Outcome::Time {
                day: 0,
                event: false,
                reason: if died.is_some() { Reason::DiedCensored } else { Reason::NoFormAfterBaseline },
            },
        },
    }
}

/// One point of a Kaplan–Meier curve, as the API gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurveStep {
    /// Study day.
    pub day: f64,
    pub at_risk: usize,
    pub events: usize,
    pub censored: usize,
    pub survival: f64,
    /// Greenwood's standard error of the cumulative hazard; none once every patient at risk
    /// had the event (R: Inf).
    pub std_err: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// Numbers at risk at an assessment's usual day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AtRisk {
    pub day: i64,
    /// The assessment whose usual (median target) day this is.
    pub timepoint: String,
    pub label: String,
    pub at_risk: usize,
}

/// One group's TTD (all patients, or a stratum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TtdGroup {
    /// `None`: all patients.
    pub stratum: Option<String>,
    pub patients: usize,
    pub included: usize,
    /// Left out, by reason (`no_baseline`, …).
    pub excluded: std::collections::BTreeMap<String, usize>,
    pub events: usize,
    /// Of the events, deaths (when death counts as one).
    pub deaths: usize,
    pub censored: usize,
    pub median_days: Option<f64>,
    pub median_lower: Option<f64>,
    pub median_upper: Option<f64>,
    pub curve: Vec<CurveStep>,
    pub at_risk: Vec<AtRisk>,
}

/// A group's curve from its patients' outcomes; `times` are the assessments' usual days for the
/// numbers at risk (key, label, day).
pub fn group(stratum: Option<String>, outcomes: &[Outcome], times: &[(String, String, i64)]) -> TtdGroup {
    let mut excluded = std::collections::BTreeMap::new();
    let mut subjects = Vec::new();
    let mut deaths = 0;
    for outcome in outcomes {
        match outcome {
            Outcome::Excluded(why) => *excluded.entry(why.as_str().to_owned()).or_insert(0) += 1,
            Outcome::Time { day, event, reason } => {
                if *event && *reason == Reason::Death {
                    deaths += 1;
                }
                subjects.push(Subject { time: *day as f64, event: *event });
            }
        }
    }
    let fit = survival::kaplan_meier(&subjects);
    let events = subjects.iter().filter(|s| s.event).count();
    TtdGroup {
        stratum,
        patients: outcomes.len(),
        included: subjects.len(),
        excluded,
        events,
        deaths,
        censored: subjects.len() - events,
        median_days: fit.median,
        median_lower: fit.median_lower,
        median_upper: fit.median_upper,
        curve: fit
            .steps
            .iter()
            .map(|s| CurveStep {
                day: s.time,
                at_risk: s.at_risk,
                events: s.events,
                censored: s.censored,
                survival: s.survival,
                std_err: s.std_err.is_finite().then_some(s.std_err),
                lower: s.lower,
                upper: s.upper,
            })
            .collect(),
        at_risk: times
            .iter()
            .map(|(key, label, day)| AtRisk {
                day: *day,
                timepoint: key.clone(),
                label: label.clone(),
                at_risk: subjects.iter().filter(|s| s.time >= *day as f64).count(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(baseline: f64, later: &[(i64, f64)], death_day: Option<i64>) -> Series {
        Series { baseline: Some(baseline), later: later.to_vec(), death_day }
    }

    fn run(s: &Series, definition: Definition, death: DeathRule) -> Outcome {
        outcome(s, "QL2", ScaleKind::Global, &Thresholds::points(10.0), definition, death)
    }

    fn time(day: i64, event: bool, reason: Reason) -> Outcome {
        Outcome::Time { day, event, reason }
    }

    #[test]
    fn each_definition_by_hand() {
        use DeathRule::*;
        use Definition::*;
        // Baseline 70. Day 21: 55 (−15, worse); day 42: 65 (−5, back within 10); day 63: 50
        // (−20); day 84: 58.3 (−11.7).
        let s = series(70.0, &[(21, 55.0), (42, 65.0), (63, 50.0), (84, 58.3)], None);
        assert_eq!(run(&s, First, Event), time(21, true, Reason::Deterioration));
        // 21 is followed by a form back within 10; 63 is followed by one still worse.
        assert_eq!(run(&s, Confirmed, Event), time(63, true, Reason::Deterioration));
        assert_eq!(run(&s, Definitive, Event), time(63, true, Reason::Deterioration));
        // Exactly 10 points worse counts (a floating-point 9.999… too: `tidy`).
        let edge = series(60.0, &[(21, 50.0)], None);
        assert_eq!(run(&edge, First, Event), time(21, true, Reason::Deterioration));
        // A deterioration at the last form: unconfirmed, but definitive.
        let last = series(70.0, &[(21, 65.0), (42, 50.0)], None);
        assert_eq!(run(&last, First, Event), time(42, true, Reason::Deterioration));
        assert_eq!(run(&last, Confirmed, Event), time(42, false, Reason::LastForm));
        assert_eq!(run(&last, Definitive, Event), time(42, true, Reason::Deterioration));
        // Confirmed and definitive differ: worse, worse, back.
        let back = series(70.0, &[(21, 50.0), (42, 55.0), (63, 70.0)], None);
        assert_eq!(run(&back, Confirmed, Event), time(21, true, Reason::Deterioration));
        assert_eq!(run(&back, Definitive, Event), time(63, false, Reason::LastForm));
        // Improvement is not deterioration; symptom scales count upwards as worse.
        let better = series(40.0, &[(21, 80.0)], None);
        assert_eq!(run(&better, First, Event), time(21, false, Reason::LastForm));
        let pain = outcome(
            &series(20.0, &[(21, 33.3)], None),
            "PA",
            ScaleKind::Symptom,
            &Thresholds::points(10.0),
            First,
            Event,
        );
        assert_eq!(pain, time(21, true, Reason::Deterioration));
    }

    #[test]
    fn death_as_event_or_as_censoring() {
        use DeathRule::*;
        use Definition::*;
        // Stable at day 21, died on day 30.
        let died = series(70.0, &[(21, 68.0)], Some(30));
        assert_eq!(run(&died, First, Event), time(30, true, Reason::Death));
        assert_eq!(run(&died, First, Censor), time(21, false, Reason::DiedCensored));
        // Deteriorated on day 21, died on day 30: the deterioration came first either way.
        let worse = series(70.0, &[(21, 40.0)], Some(30));
        assert_eq!(run(&worse, First, Event), time(21, true, Reason::Deterioration));
        assert_eq!(run(&worse, First, Censor), time(21, true, Reason::Deterioration));
        // Unconfirmed at the last form, then death: the death is the event.
        assert_eq!(run(&worse, Confirmed, Event), time(30, true, Reason::Death));
        assert_eq!(run(&worse, Confirmed, Censor), time(21, false, Reason::DiedCensored));
        // Died before any form after baseline.
        let early = series(70.0, &[], Some(10));
        assert_eq!(run(&early, First, Event), time(10, true, Reason::Death));
        assert_eq!(run(&early, First, Censor), time(0, false, Reason::DiedCensored));
    }

    #[test]
    fn same_day_forms_do_not_confirm_each_other_and_forms_after_death_do_not_count() {
        use DeathRule::*;
        use Definition::*;
        // Two forms on day 35, both worse, then one back on day 42: unconfirmed.
        let same = series(70.0, &[(35, 50.0), (35, 50.0), (42, 70.0)], None);
        assert_eq!(run(&same, Confirmed, Event), time(42, false, Reason::LastForm));
        // ...and confirmed when the later day's form is worse too.
        let later = series(70.0, &[(35, 50.0), (35, 70.0), (42, 50.0)], None);
        assert_eq!(run(&later, Confirmed, Event), time(35, true, Reason::Deterioration));
        // A form dated after her death is not hers to count.
        let after = series(70.0, &[(21, 68.0), (35, 40.0)], Some(30));
        assert_eq!(run(&after, First, Censor), time(21, false, Reason::DiedCensored));
        assert_eq!(run(&after, First, Event), time(30, true, Reason::Death));
    }

    #[test]
    fn who_is_left_out() {
        use DeathRule::*;
        use Definition::*;
        let none = Series { baseline: None, later: vec![(21, 10.0)], death_day: None };
        assert_eq!(run(&none, First, Event), Outcome::Excluded(Exclusion::NoBaseline));
        let nothing = series(70.0, &[], None);
        assert_eq!(run(&nothing, First, Event), time(0, false, Reason::NoFormAfterBaseline));
        let levels = Thresholds::giesinger_2020();
        // PF2 level 83: a baseline of 80 is already past it.
        let past =
            outcome(&series(80.0, &[(21, 20.0)], None), "PF2", ScaleKind::Functional, &levels, First, Event);
        assert_eq!(past, Outcome::Excluded(Exclusion::PastLevelAtBaseline));
        let passes =
            outcome(&series(90.0, &[(21, 80.0)], None), "PF2", ScaleKind::Functional, &levels, First, Event);
        assert_eq!(passes, time(21, true, Reason::Deterioration));
        let ql = outcome(&series(90.0, &[(21, 10.0)], None), "QL2", ScaleKind::Global, &levels, First, Event);
        assert_eq!(ql, Outcome::Excluded(Exclusion::NoThreshold));
    }

    #[test]
    fn a_group_counts_and_reads_numbers_at_risk() {
        let outcomes = [
            time(21, true, Reason::Deterioration),
            time(42, false, Reason::LastForm),
            time(42, true, Reason::Death),
            time(63, true, Reason::Deterioration),
            Outcome::Excluded(Exclusion::NoBaseline),
        ];
        let times =
            [("baseline".to_owned(), "Baseline".to_owned(), 0), ("w6".to_owned(), "Week 6".to_owned(), 42)];
        let g = group(None, &outcomes, &times);
        assert_eq!((g.patients, g.included, g.events, g.deaths, g.censored), (5, 4, 3, 1, 1));
        assert_eq!(g.excluded.get("no_baseline"), Some(&1));
        assert_eq!(g.at_risk.iter().map(|a| a.at_risk).collect::<Vec<_>>(), vec![4, 3]);
        // 3/4 after day 21, then 3/4 × 2/3 = 1/2 after day 42 (one event of three at risk; the
        // censoring at 42 leaves after it). Exactly one half from day 42 to the next event (63):
        // R's median is the middle, 52.5.
        assert!((g.curve[1].survival - 0.5).abs() < 1e-15);
        assert_eq!(g.median_days, Some(52.5));
    }
}
