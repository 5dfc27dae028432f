//! Symptom alert rules: which scores and answers of a submission need a nurse's attention, how
//! urgently, and what happens to an alert that is already open or snoozed. Pure functions over
//! scores; the rules are data, each with its source, so a site can review and tune them.
//!
//! Sources (see `shared/docs/eortc-scoring.md`):
//! - Level: thresholds for clinical importance, Giesinger et al. 2020, J Clin Epidemiol 118:1–8.
//!   A functional score *below*, or a symptom score *at or above*, the threshold.
//! - Change: 10 points is the common threshold of a clinically relevant change (Osoba et al. 1998);
//!   20 points and more is "very much".
//! - QLQ-CX24 has no thresholds: a symptom item answered "very much" is the signal there.

use serde::{Deserialize, Serialize};

use crate::answers::{Answers, Response};
use crate::instrument::{InstrumentId, ScaleKind};
use crate::scoring::Scores;

pub const GIESINGER_2020: &str =
    "Giesinger et al. 2020, J Clin Epidemiol 118:1-8 (thresholds for clinical importance)";
pub const OSOBA_1998: &str =
    "Osoba et al. 1998 (a change of 10 points is clinically relevant; over 20 is very much)";
pub const CX24_VERY_MUCH: &str =
    "qol rule: no CX24 thresholds exist; a symptom item answered 'very much' (eortc-scoring.md)";
pub const PATIENT_REQUEST: &str = "the patient asked to be called (asked after each form; not an EORTC item)";

/// How urgently a nurse should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Tier {
    Info,
    Amber,
    Red,
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Rule {
    /// Past the level threshold, as it was at the previous submission too.
    AboveThreshold,
    /// Past the level threshold now, but not at the previous submission.
    NewlyAboveThreshold,
    /// Worse than baseline by at least the scale's change threshold.
    WorseThanBaseline,
    /// Worse than the previous submission by at least the scale's change threshold.
    WorseThanPrevious,
    /// A CX24 symptom item answered "very much".
    VeryMuchOnItem,
    /// The patient asked to be called.
    CallMe,
}

/// A level threshold for one scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub scale: &'static str,
    pub value: f64,
}

/// The Giesinger 2020 threshold of `scale`, if it has one.
pub fn threshold_of(scale: &str) -> Option<f64> {
    GIESINGER_THRESHOLDS.iter().find(|t| t.scale == scale).map(|t| t.value)
}

/// Giesinger et al. 2020, for the C30 functioning and symptom scales (QL2 has none).
pub static GIESINGER_THRESHOLDS: [Threshold; 14] = [
    Threshold { scale: "PF2", value: 83.0 },
    Threshold { scale: "RF2", value: 58.0 },
    Threshold { scale: "SF", value: 58.0 },
    Threshold { scale: "EF", value: 71.0 },
    Threshold { scale: "CF", value: 75.0 },
    Threshold { scale: "FA", value: 39.0 },
    Threshold { scale: "PA", value: 25.0 },
    Threshold { scale: "NV", value: 8.0 },
    Threshold { scale: "DY", value: 17.0 },
    Threshold { scale: "SL", value: 50.0 },
    Threshold { scale: "AP", value: 50.0 },
    Threshold { scale: "CO", value: 50.0 },
    Threshold { scale: "DI", value: 17.0 },
    Threshold { scale: "FI", value: 17.0 },
];

/// The part of the alert rules a study configures, in its protocol file (`"alerts": {…}`); every
/// field may be left out and then takes the default described above.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// An alert not acknowledged this many working days (Monday to Friday) after it was raised
    /// is past its service level and stands out on the worklist.
    pub sla_working_days: u32,
    /// Points of worsening that count as a relevant change (amber).
    pub default_change: f64,
    /// Per-scale overrides of `default_change`, by QLQ-C30 scale code.
    pub change_points: std::collections::BTreeMap<String, f64>,
    /// Worsening at or above this many points is red.
    pub red_change: f64,
    /// Items whose "very much" is red.
    pub red_items: Vec<u8>,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            sla_working_days: 1,
            default_change: 10.0,
            change_points: std::collections::BTreeMap::new(),
            red_change: 20.0,
            // C30 9 and 19 (pain); CX24 33 (blood in stools), 35 (pain on urination),
            // 39 (lower back pain), 43 (abnormal vaginal bleeding), 53 (pain during intercourse).
            red_items: vec![9, 19, 33, 35, 39, 43, 53],
        }
    }
}

impl AlertSettings {
    /// Every problem with the settings, or none.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.sla_working_days == 0 {
            problems.push("sla_working_days must be at least 1".to_owned());
        }
        let sane = |points: f64| points.is_finite() && points > 0.0 && points <= 100.0;
        if !sane(self.default_change) {
            problems.push("default_change must be more than 0 and at most 100 points".to_owned());
        }
        if !sane(self.red_change) || self.red_change < self.default_change {
            problems.push("red_change must be at most 100 points and not below default_change".to_owned());
        }
        let c30 = InstrumentId::QlqC30.instrument();
        for (scale, points) in &self.change_points {
            if !c30.scales.iter().any(|s| s.code == scale) {
                problems.push(format!("change_points: {scale:?} is not a QLQ-C30 scale code"));
            } else if !sane(*points) {
                problems.push(format!("change_points: {scale}: more than 0 and at most 100 points"));
            }
        }
        for item in &self.red_items {
            if !(1..=54).contains(item) {
                problems.push(format!("red_items: {item} is not an item of the form (1-54)"));
            }
        }
        problems
    }
}

/// The rules a study runs with. [`AlertRules::default`] is the configuration described above.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    pub thresholds: Vec<Threshold>,
    /// Points of worsening that count as a relevant change, per scale; others use `default_change`.
    pub change_points: Vec<(String, f64)>,
    pub default_change: f64,
    /// Worsening at or above this many points is red.
    pub red_change: f64,
    /// Items whose "very much" is red (pain and bleeding); other CX24 symptom items are amber.
    pub red_items: Vec<u8>,
}

impl Default for AlertRules {
    fn default() -> AlertRules {
        AlertRules::from(&AlertSettings::default())
    }
}

impl From<&AlertSettings> for AlertRules {
    fn from(settings: &AlertSettings) -> AlertRules {
        AlertRules {
            thresholds: GIESINGER_THRESHOLDS.to_vec(),
            change_points: settings.change_points.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            default_change: settings.default_change,
            red_change: settings.red_change,
            red_items: settings.red_items.clone(),
        }
    }
}

/// One reason for attention, per scale (or item, or the call-me request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signal {
    /// The scale code, `ITEM<n>` for an item, or `CALL` for the call-me request.
    pub subject: String,
    pub tier: Tier,
    pub rule: Rule,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub previous: Option<f64>,
    pub source: String,
}

/// What a submission is compared with.
#[derive(Debug, Clone, Copy, Default)]
pub struct History<'a> {
    pub baseline: Option<&'a [Scores]>,
    pub previous: Option<&'a [Scores]>,
}

fn find(scores: Option<&[Scores]>, code: &str) -> Option<f64> {
    scores?.iter().find_map(|instrument| instrument.score(code))
}

/// How much worse `now` is than `before`, in points (positive = worse).
fn worsening(kind: ScaleKind, before: f64, now: f64) -> f64 {
    match kind {
        ScaleKind::Symptom => now - before,
        ScaleKind::Functional | ScaleKind::Global => before - now,
    }
}

/// Whether `value` is past a level `threshold`: below it for functioning and global QoL, at or
/// above it for symptoms.
pub fn past_threshold(kind: ScaleKind, threshold: f64, value: f64) -> bool {
    match kind {
        ScaleKind::Symptom => value >= threshold,
        ScaleKind::Functional | ScaleKind::Global => value < threshold,
    }
}

impl AlertRules {
    fn change_for(&self, scale: &str) -> f64 {
        self.change_points
            .iter()
            .find(|(code, _)| *code == scale)
            .map_or(self.default_change, |(_, points)| *points)
    }

    /// Every signal of one submission, at most one per subject: the most urgent.
    pub fn evaluate(
        &self,
        scores: &[Scores],
        answers: &[Answers],
        history: History<'_>,
        call_me: bool,
    ) -> Vec<Signal> {
        let mut signals: Vec<Signal> = Vec::new();
        let mut offer = |signal: Signal| match signals.iter_mut().find(|s| s.subject == signal.subject) {
            Some(existing) if existing.tier < signal.tier => *existing = signal,
            Some(_) => {}
            None => signals.push(signal),
        };
        for instrument in scores {
            let definition = instrument.instrument.instrument();
            // The CX24 sexual scales are not symptoms a nurse acts on; CX24 is judged by items.
            if instrument.instrument == InstrumentId::QlqCx24 {
                continue;
            }
            for scale in definition.scales {
                let Some(value) = instrument.score(scale.code) else { continue };
                let baseline = find(history.baseline, scale.code);
                let previous = find(history.previous, scale.code);
                let signal = |tier, rule, source: &str| Signal {
                    subject: scale.code.to_owned(),
                    tier,
                    rule,
                    value: Some(value),
                    baseline,
                    previous,
                    source: source.to_owned(),
                };
                let change = self.change_for(scale.code);
                for (before, rule) in
                    [(baseline, Rule::WorseThanBaseline), (previous, Rule::WorseThanPrevious)]
                {
                    if let Some(before) = before {
                        let worse = worsening(scale.kind, before, value);
                        if worse >= self.red_change {
                            offer(signal(Tier::Red, rule, OSOBA_1998));
                        } else if worse >= change {
                            offer(signal(Tier::Amber, rule, OSOBA_1998));
                        }
                    }
                }
                if let Some(threshold) = self.thresholds.iter().find(|t| t.scale == scale.code)
                    && past_threshold(scale.kind, threshold.value, value)
                {
                    let was_past =
                        previous.is_some_and(|before| past_threshold(scale.kind, threshold.value, before));
                    if was_past {
                        offer(signal(Tier::Info, Rule::AboveThreshold, GIESINGER_2020));
                    } else {
                        offer(signal(Tier::Amber, Rule::NewlyAboveThreshold, GIESINGER_2020));
                    }
                }
            }
        }
        for answer_set in answers {
            let definition = answer_set.instrument().instrument();
            for (item, response) in answer_set.iter() {
                let Some(definition_item) = definition.item(item) else { continue };
                let is_symptom = definition
                    .scale(definition_item.scale)
                    .is_some_and(|scale| scale.kind == ScaleKind::Symptom);
                if response != Response::Code(4)
                    || definition_item.response_scale.highest() != 4
                    || !is_symptom
                {
                    continue;
                }
                let red = self.red_items.contains(&item);
                // "Very much" on a C30 item counts only for the red (pain) items; the C30 scales
                // carry the rest. Every CX24 symptom item counts.
                if !red && answer_set.instrument() != InstrumentId::QlqCx24 {
                    continue;
                }
                offer(Signal {
                    subject: format!("ITEM{item}"),
                    tier: if red { Tier::Red } else { Tier::Amber },
                    rule: Rule::VeryMuchOnItem,
                    value: Some(4.0),
                    baseline: None,
                    previous: None,
                    source: CX24_VERY_MUCH.to_owned(),
                });
            }
        }
        if call_me {
            offer(Signal {
                subject: "CALL".into(),
                tier: Tier::Red,
                rule: Rule::CallMe,
                value: None,
                baseline: None,
                previous: None,
                source: PATIENT_REQUEST.to_owned(),
            });
        }
        signals.sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.subject.cmp(&b.subject)));
        signals
    }
}

/// What to do with a new signal, given the patient's open alert for the same subject (if any)
/// and a snooze on that subject (if any, with the day it ends; `today` is the submission's day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No open alert and no snooze: open one.
    Open,
    /// An alert is open: update it (its tier rises if the new one is higher), never duplicate.
    Update { tier: Tier },
    /// Snoozed by a nurse until a day after today: record nothing new.
    Snoozed,
}

pub fn decide(
    signal: &Signal,
    open_alert_tier: Option<Tier>,
    snoozed_until: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Decision {
    // A call-me request is never snoozed: the patient asked, now.
    if signal.rule != Rule::CallMe && snoozed_until.is_some_and(|until| today <= until) {
        return Decision::Snoozed;
    }
    match open_alert_tier {
        Some(tier) => Decision::Update { tier: tier.max(signal.tier) },
        None => Decision::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::RawAnswer;
    use crate::scoring::score;

    /// C30 answers: every item `code` (29–30 on the 7-point scale: `global`), with overrides.
    fn c30(code: i64, global: i64, overrides: &[(i64, i64)]) -> Answers {
        let raw = (1..=30).map(|item| {
            let value = overrides
                .iter()
                .find(|(i, _)| *i == item)
                .map_or(if item >= 29 { global } else { code }, |(_, v)| *v);
            RawAnswer::code(item, value)
        });
        Answers::parse(InstrumentId::QlqC30, raw).unwrap()
    }

    fn evaluate(
        current: &Answers,
        baseline: Option<&Answers>,
        previous: Option<&Answers>,
        call_me: bool,
    ) -> Vec<Signal> {
        let scores = vec![score(current)];
        let baseline = baseline.map(|answers| vec![score(answers)]);
        let previous = previous.map(|answers| vec![score(answers)]);
        let history = History { baseline: baseline.as_deref(), previous: previous.as_deref() };
        AlertRules::default().evaluate(&scores, std::slice::from_ref(current), history, call_me)
    }

    fn find<'a>(signals: &'a [Signal], subject: &str) -> Option<&'a Signal> {
        signals.iter().find(|signal| signal.subject == subject)
    }

    #[test]
    fn a_study_tunes_the_rules_in_its_protocol() {
        // Fatigue 33.3 at baseline, 44.4 now (one item one step worse): 11.1 points worse.
        let before = c30(1, 6, &[(10, 2), (12, 2), (18, 2)]);
        let now = c30(1, 6, &[(10, 2), (12, 3), (18, 2)]);
        let scores = vec![score(&now)];
        let baseline = vec![score(&before)];
        let history = History { baseline: Some(&baseline), previous: None };
        let run = |rules: AlertRules| {
            rules
                .evaluate(&scores, std::slice::from_ref(&now), history, false)
                .into_iter()
                .find(|s| s.subject == "FA" && s.rule == Rule::WorseThanBaseline)
        };
        assert_eq!(run(AlertRules::default()).map(|s| s.tier), Some(Tier::Amber));
        let settings = AlertSettings {
            change_points: [("FA".to_owned(), 15.0)].into_iter().collect(),
            ..AlertSettings::default()
        };
        assert_eq!(settings.problems(), Vec::<String>::new());
        assert_eq!(run(AlertRules::from(&settings)), None, "15 points asked, 11.1 seen");
        let strict = AlertSettings { red_change: 11.0, ..AlertSettings::default() };
        assert_eq!(run(AlertRules::from(&strict)).map(|s| s.tier), Some(Tier::Red));
    }

    #[test]
    fn bad_alert_settings_are_named() {
        let settings = AlertSettings {
            sla_working_days: 0,
            change_points: [("XX".to_owned(), 10.0), ("FA".to_owned(), -1.0)].into_iter().collect(),
            red_change: 5.0,
            red_items: vec![0, 55],
            ..AlertSettings::default()
        };
        let problems = settings.problems();
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("\"XX\" is not a QLQ-C30 scale")));
        let json = crate::schedule::Protocol::default_protocol_json()
            .replace("\"sla_working_days\": 1", "\"sla_working_days\": 0");
        assert_eq!(
            crate::schedule::Protocol::parse(&json).unwrap_err().to_string(),
            "alerts: sla_working_days must be at least 1"
        );
        let defaults = crate::schedule::Protocol::default_protocol();
        assert_eq!(defaults.alerts, AlertSettings::default(), "the shipped file states the defaults");
    }

    #[test]
    fn a_well_patient_raises_nothing() {
        let well = c30(1, 6, &[]);
        assert_eq!(evaluate(&well, Some(&well), Some(&well), false), vec![]);
    }

    #[test]
    fn each_rule_fires_with_its_tier_and_source() {
        let well = c30(1, 6, &[]);
        // Fatigue items 10, 12, 18 at "quite a bit" (3): FA = 66.7, worse than baseline by 66.7.
        let tired = c30(1, 6, &[(10, 3), (12, 3), (18, 3)]);
        let signals = evaluate(&tired, Some(&well), Some(&well), false);
        let fatigue = find(&signals, "FA").unwrap();
        assert_eq!((fatigue.tier, fatigue.rule), (Tier::Red, Rule::WorseThanBaseline));
        assert_eq!(fatigue.source, OSOBA_1998);
        assert_eq!(fatigue.baseline, Some(0.0));

        // Pain "very much" on item 9: red on the item; PA = 50 is also 50 points worse.
        let pain = c30(1, 6, &[(9, 4)]);
        let signals = evaluate(&pain, None, None, false);
        assert_eq!(find(&signals, "ITEM9").unwrap().tier, Tier::Red);
        let pa = find(&signals, "PA").unwrap();
        assert_eq!(
            (pa.tier, pa.rule, pa.source.as_str()),
            (Tier::Amber, Rule::NewlyAboveThreshold, GIESINGER_2020)
        );

        let asked = evaluate(&well, None, None, true);
        assert_eq!(asked.len(), 1);
        assert_eq!(
            (asked[0].subject.as_str(), asked[0].tier, asked[0].rule),
            ("CALL", Tier::Red, Rule::CallMe)
        );
    }

    #[test]
    fn change_tiers_follow_the_10_and_20_point_lines() {
        // Dyspnoea (item 8) alone: 1 → 0, 2 → 33.3, so one step is 33 points.
        // Role functioning (6, 7): one item one step worse = 16.7 points (amber), two = 33.3 (red).
        let well = c30(1, 6, &[]);
        let cases =
            [(vec![(6, 2)], Some(Tier::Amber)), (vec![(6, 2), (7, 2)], Some(Tier::Red)), (vec![], None)];
        for (overrides, expected) in cases {
            let now = c30(1, 6, &overrides);
            // Baseline only (previous equal to now), so only the change against baseline counts.
            let signals = evaluate(&now, Some(&well), Some(&now), false);
            let rf2 = find(&signals, "RF2").filter(|s| s.rule == Rule::WorseThanBaseline);
            assert_eq!(rf2.map(|s| s.tier), expected, "{overrides:?}");
        }
    }

    #[test]
    fn a_threshold_crossed_again_is_info_and_newly_crossed_is_amber() {
        // Insomnia (item 11) "quite a bit" = 66.7, at or above the threshold of 50.
        let sleepless = c30(1, 6, &[(11, 3)]);
        let well = c30(1, 6, &[]);
        let newly = evaluate(&sleepless, Some(&sleepless), Some(&well), false);
        let insomnia = find(&newly, "SL").unwrap();
        // Against the previous (well) it is also 66.7 worse: red wins over amber.
        assert_eq!(insomnia.tier, Tier::Red);
        let again = evaluate(&sleepless, Some(&sleepless), Some(&sleepless), false);
        let insomnia = find(&again, "SL").unwrap();
        assert_eq!((insomnia.tier, insomnia.rule), (Tier::Info, Rule::AboveThreshold));
        // Functional scales alert *below* their threshold: PF2 < 83.
        let weak = c30(1, 6, &[(1, 3), (2, 3)]); // PF2 = 73.3
        let again = evaluate(&weak, Some(&weak), Some(&weak), false);
        assert_eq!(find(&again, "PF2").map(|s| s.rule), Some(Rule::AboveThreshold));
    }

    #[test]
    fn cx24_very_much_is_amber_and_red_for_bleeding_and_pain_items() {
        // Item 49 "a little": items 50–54 apply.
        let raw = (31..=54).map(|item| {
            RawAnswer::code(
                item,
                match item {
                    42 | 43 => 4,
                    49 => 2,
                    _ => 1,
                },
            )
        });
        let cx24 = Answers::parse(InstrumentId::QlqCx24, raw).unwrap();
        let signals = AlertRules::default().evaluate(
            &[score(&cx24)],
            std::slice::from_ref(&cx24),
            History::default(),
            false,
        );
        let subjects: Vec<(&str, Tier)> = signals.iter().map(|s| (s.subject.as_str(), s.tier)).collect();
        assert_eq!(subjects, [("ITEM43", Tier::Red), ("ITEM42", Tier::Amber)]);
        // Item 49 (sexual activity) is not a symptom: "very much" there is no alert.
        let raw = (31..=54).map(|item| RawAnswer::code(item, if item == 49 { 4 } else { 1 }));
        let active = Answers::parse(InstrumentId::QlqCx24, raw).unwrap();
        assert!(
            AlertRules::default()
                .evaluate(&[score(&active)], &[active], History::default(), false)
                .is_empty()
        );
    }

    #[test]
    fn an_open_alert_is_updated_not_duplicated_and_a_snooze_holds_until_its_day() {
        let day = |text: &str| text.parse::<chrono::NaiveDate>().unwrap();
        let amber = Signal {
            subject: "FA".into(),
            tier: Tier::Amber,
            rule: Rule::WorseThanBaseline,
            value: Some(50.0),
            baseline: Some(20.0),
            previous: None,
            source: OSOBA_1998.into(),
        };
        let today = day("2026-03-10");
        assert_eq!(decide(&amber, None, None, today), Decision::Open);
        assert_eq!(decide(&amber, Some(Tier::Red), None, today), Decision::Update { tier: Tier::Red });
        assert_eq!(decide(&amber, Some(Tier::Info), None, today), Decision::Update { tier: Tier::Amber });
        assert_eq!(decide(&amber, None, Some(day("2026-03-10")), today), Decision::Snoozed);
        assert_eq!(
            decide(&amber, None, Some(day("2026-03-09")), today),
            Decision::Open,
            "the snooze has ended"
        );
        let call = Signal { subject: "CALL".into(), tier: Tier::Red, rule: Rule::CallMe, ..amber };
        assert_eq!(
            decide(&call, None, Some(day("2026-03-31")), today),
            Decision::Open,
            "a call request is never snoozed"
        );
    }

    #[test]
    fn the_level_thresholds_are_giesinger_2020_for_every_c30_scale_but_ql2() {
        let codes: Vec<&str> = GIESINGER_THRESHOLDS.iter().map(|t| t.scale).collect();
        for scale in crate::instrument::QLQ_C30.scales {
            assert_eq!(codes.contains(&scale.code), scale.code != "QL2", "{}", scale.code);
        }
        assert_eq!(GIESINGER_THRESHOLDS.iter().find(|t| t.scale == "NV").map(|t| t.value), Some(8.0));
    }
}

/// When an alert raised at `raised` passes its service level of `working_days` working days
/// (Saturdays and Sundays do not count): "one working day" by default.
pub fn sla_deadline(raised: chrono::NaiveDateTime, working_days: u32) -> chrono::NaiveDateTime {
    use chrono::{Datelike, Weekday};
    let mut deadline = raised;
    let mut left = working_days;
    while left > 0 {
        deadline += chrono::Duration::days(1);
        if !matches!(deadline.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    deadline
}

#[cfg(test)]
mod sla_tests {
    use super::sla_deadline;

    #[test]
    fn the_service_level_skips_weekends() {
        let at = |text: &str| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        // Wednesday → Thursday; Friday evening → Monday evening; Saturday → Monday.
        assert_eq!(sla_deadline(at("2026-03-11 10:00"), 1), at("2026-03-12 10:00"));
        assert_eq!(sla_deadline(at("2026-03-13 18:30"), 1), at("2026-03-16 18:30"));
        assert_eq!(sla_deadline(at("2026-03-14 09:00"), 1), at("2026-03-16 09:00"));
        assert_eq!(sla_deadline(at("2026-03-13 18:30"), 2), at("2026-03-17 18:30"));
    }
}
