//! Symptom alert rules: which scores and answers of a submission need a nurse's attention, how
//! urgently, and how a patient's signals gather on one card. Pure functions over scores; every
//! threshold and every tier choice is protocol data with its source, so a site can review and tune
//! them (the protocol's `"alerts"` section, validated when the study starts).
//!
//! The tiers (product.md, "The alert loop"):
//! - **Red**: a call request; "very much" on a pain or bleeding item; a symptom scale entering its
//!   severe band or a function scale entering its poor band; worsening of two or more response
//!   steps on a single-item scale, or of at least `red_change` points on a multi-item scale.
//! - **Amber**: newly past a Giesinger 2020 threshold; worsening of at least the scale's change
//!   threshold (one response step on a single-item scale); "very much" on another CX24 symptom item.
//! - **Info**: still past a threshold (or still in the severe band); anything on the scales listed
//!   as `info_only` (financial difficulties: a referral, not a nursing emergency).
//!
//! Sources (see `shared/docs/eortc-scoring.md`): Giesinger et al. 2020 (levels), Osoba et al. 1998
//! (10 and 20 points), and qol's own rules where no published threshold exists, each named as such.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answers::{Answers, Response};
use crate::api::AlertState;
use crate::instrument::{InstrumentId, Scale, ScaleKind};
use crate::scoring::Scores;

pub const GIESINGER_2020: &str =
    "Giesinger et al. 2020, J Clin Epidemiol 118:1-8 (thresholds for clinical importance)";
pub const OSOBA_1998: &str =
    "Osoba et al. 1998 (a change of 10 points is clinically relevant; over 20 is very much)";
pub const CX24_VERY_MUCH: &str =
    "qol rule: no CX24 thresholds exist; a symptom item answered 'very much' (eortc-scoring.md)";
pub const PATIENT_REQUEST: &str = "the patient asked to be called (asked after each form; not an EORTC item)";
pub const SINGLE_ITEM_STEPS: &str = "qol rule: on a single-item scale one response step (33.3 points) is the smallest change a patient can report, so one step is amber and two or more are red";
pub const SEVERE_BAND: &str = "qol rule: the top third of a symptom scale (at least 66.7, 'quite a bit' or worse on average) or the bottom third of a function scale (at most 33.3) is a severe level";
pub const INFO_ONLY: &str =
    "qol rule: financial difficulties call for a referral (social work), not a nursing emergency";

/// How urgently a nurse should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Tier {
    Info,
    Amber,
    Red,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Info => "info",
            Tier::Amber => "amber",
            Tier::Red => "red",
        }
    }
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
    /// In the severe band (symptom) or the poor band (function) now, but not at the previous
    /// submission.
    SevereBand,
    /// In the severe or poor band now and at the previous submission.
    StillSevere,
    /// Worse than baseline by at least the scale's change threshold.
    WorseThanBaseline,
    /// Worse than the previous submission by at least the scale's change threshold.
    WorseThanPrevious,
    /// A CX24 symptom item (or a red C30 item) answered "very much".
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

/// The CX24 scales that alert on worsening and on their severe band: the symptoms of the disease
/// and of its treatment (paclitaxel neuropathy, pelvic radiotherapy) and body image. The sexual
/// scales (CXSV, CXSXW, CXSXA, CXSXE) are not for a nurse's worklist.
pub const CX24_ALERT_SCALES: [&str; 5] = ["CXSE", "CXLY", "CXPN", "CXMS", "CXBI"];

/// Where each tier choice comes from: a citation, or "qol rule: …" with the reasoning. Shown on
/// every signal the rule raises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSources {
    /// `default_change`, `change_points` and `red_change` on multi-item scales.
    pub change: String,
    /// `red_steps_single_item`.
    pub single_item_steps: String,
    /// `severe_symptom` and `poor_function`.
    pub severe_band: String,
    /// `level_thresholds`.
    pub level_thresholds: String,
    /// `red_items` and the CX24 "very much" items.
    pub very_much_items: String,
    /// `info_only`.
    pub info_only: String,
    /// The call request.
    pub call_request: String,
}

impl Default for AlertSources {
    fn default() -> AlertSources {
        AlertSources {
            change: OSOBA_1998.to_owned(),
            single_item_steps: SINGLE_ITEM_STEPS.to_owned(),
            severe_band: SEVERE_BAND.to_owned(),
            level_thresholds: GIESINGER_2020.to_owned(),
            very_much_items: CX24_VERY_MUCH.to_owned(),
            info_only: INFO_ONLY.to_owned(),
            call_request: PATIENT_REQUEST.to_owned(),
        }
    }
}

/// The alert rules a study runs with, from its protocol file (`"alerts": {…}`); every field may be
/// left out and then takes the default described above.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// An alert not acknowledged this many working days (Monday to Friday) after it was raised
    /// (or escalated) is past its service level and stands out on the worklist.
    pub sla_working_days: u32,
    /// Points of worsening on a multi-item scale that count as a relevant change (amber).
    pub default_change: f64,
    /// Per-scale overrides of `default_change`, by scale code (QLQ-C30 or an alerting CX24 scale).
    pub change_points: BTreeMap<String, f64>,
    /// Worsening on a multi-item scale at or above this many points is red.
    pub red_change: f64,
    /// Worsening on a single-item scale by this many response steps or more is red (one step is
    /// amber).
    pub red_steps_single_item: u32,
    /// A symptom scale at or above this is in its severe band (red when it gets there).
    pub severe_symptom: f64,
    /// A function scale (or global QoL) at or below this is in its poor band (red when it gets
    /// there).
    pub poor_function: f64,
    /// Level thresholds of clinical importance, by QLQ-C30 scale code (Giesinger 2020 by default).
    pub level_thresholds: BTreeMap<String, f64>,
    /// Scales whose signals are never more than info (a referral, not a nursing emergency).
    pub info_only: Vec<String>,
    /// Items whose "very much" is red (pain and bleeding); other CX24 symptom items are amber.
    pub red_items: Vec<u8>,
    pub sources: AlertSources,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            sla_working_days: 1,
            default_change: 10.0,
            change_points: BTreeMap::new(),
            red_change: 20.0,
            red_steps_single_item: 2,
            severe_symptom: 66.7,
            poor_function: 33.3,
            level_thresholds: GIESINGER_THRESHOLDS.iter().map(|t| (t.scale.to_owned(), t.value)).collect(),
            info_only: vec!["FI".to_owned()],
            // C30 9 and 19 (pain); CX24 33 (blood in stools), 35 (pain on urination),
            // 39 (lower back pain), 43 (abnormal vaginal bleeding), 53 (pain during intercourse).
            red_items: vec![9, 19, 33, 35, 39, 43, 53],
            sources: AlertSources::default(),
        }
    }
}

/// Whether `code` is a scale the alert rules judge: every QLQ-C30 scale and the CX24 scales of
/// [`CX24_ALERT_SCALES`].
pub fn alerting_scale(code: &str) -> Option<&'static Scale> {
    InstrumentId::QlqC30.instrument().scale(code).or_else(|| {
        CX24_ALERT_SCALES.contains(&code).then(|| InstrumentId::QlqCx24.instrument().scale(code))?
    })
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
        if !(2..=3).contains(&self.red_steps_single_item) {
            problems.push(
                "red_steps_single_item must be 2 or 3 (one step is amber; a 4-point item has 3 steps)"
                    .to_owned(),
            );
        }
        if !sane(self.severe_symptom) {
            problems.push("severe_symptom must be more than 0 and at most 100 points".to_owned());
        }
        if !(self.poor_function.is_finite() && (0.0..100.0).contains(&self.poor_function)) {
            problems.push("poor_function must be at least 0 and below 100 points".to_owned());
        }
        for (scale, points) in &self.change_points {
            if alerting_scale(scale).is_none() {
                problems.push(format!(
                    "change_points: {scale:?} is not a QLQ-C30 scale code or one of {CX24_ALERT_SCALES:?}"
                ));
            } else if !sane(*points) {
                problems.push(format!("change_points: {scale}: more than 0 and at most 100 points"));
            }
        }
        let c30 = InstrumentId::QlqC30.instrument();
        for (scale, points) in &self.level_thresholds {
            if c30.scale(scale).is_none() {
                problems.push(format!("level_thresholds: {scale:?} is not a QLQ-C30 scale code"));
            } else if !(points.is_finite() && (0.0..=100.0).contains(points)) {
                problems.push(format!("level_thresholds: {scale}: between 0 and 100 points"));
            }
        }
        for scale in &self.info_only {
            if alerting_scale(scale).is_none() {
                problems.push(format!("info_only: {scale:?} is not a scale the alert rules judge"));
            }
        }
        for item in &self.red_items {
            if !(1..=54).contains(item) {
                problems.push(format!("red_items: {item} is not an item of the form (1-54)"));
            }
        }
        let sources = [
            ("change", &self.sources.change),
            ("single_item_steps", &self.sources.single_item_steps),
            ("severe_band", &self.sources.severe_band),
            ("level_thresholds", &self.sources.level_thresholds),
            ("very_much_items", &self.sources.very_much_items),
            ("info_only", &self.sources.info_only),
            ("call_request", &self.sources.call_request),
        ];
        for (key, text) in sources {
            if text.trim().is_empty() {
                problems.push(format!("sources.{key}: name the source of this rule"));
            }
        }
        problems
    }
}

/// The rules a study runs with. [`AlertRules::default`] is the configuration described above.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    pub settings: AlertSettings,
}

impl Default for AlertRules {
    fn default() -> AlertRules {
        AlertRules::from(&AlertSettings::default())
    }
}

impl From<&AlertSettings> for AlertRules {
    fn from(settings: &AlertSettings) -> AlertRules {
        AlertRules { settings: settings.clone() }
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

impl Signal {
    pub fn is_call_request(&self) -> bool {
        self.rule == Rule::CallMe
    }
}

/// Where a call request made with the app's "I need help" button, without a form, comes from.
pub const HELP_BUTTON_REQUEST: &str =
    "the patient asked to be called with the app's \"I need help\" button, without sending a form";

/// A call request (subject `CALL`, always red): a form's "please call me" answer (`source`: the
/// protocol's `sources.call_request`) or the "I need help" button ([`HELP_BUTTON_REQUEST`]). Both
/// join the patient's one call-request card alike.
pub fn call_request(source: &str) -> Signal {
    Signal {
        subject: "CALL".into(),
        tier: Tier::Red,
        rule: Rule::CallMe,
        value: None,
        baseline: None,
        previous: None,
        source: source.to_owned(),
    }
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

/// Band limits are written to one decimal (66.7, 33.3) while scores are exact thirds (66.67,
/// 33.33): compare within this many points so that "quite a bit" is in the severe band.
const BAND_TOLERANCE: f64 = 0.05;

impl AlertRules {
    fn change_for(&self, scale: &str) -> f64 {
        self.settings.change_points.get(scale).copied().unwrap_or(self.settings.default_change)
    }

    /// Whether `value` is in the severe band (symptom) or the poor band (function, global QoL).
    pub fn in_severe_band(&self, kind: ScaleKind, value: f64) -> bool {
        match kind {
            ScaleKind::Symptom => value >= self.settings.severe_symptom - BAND_TOLERANCE,
            ScaleKind::Functional | ScaleKind::Global => {
                value <= self.settings.poor_function + BAND_TOLERANCE
            }
        }
    }

    /// The tier of a worsening of `worse` points on `scale`, if it is one.
    fn change_tier(&self, scale: &Scale, worse: f64) -> Option<Tier> {
        if scale.items.len() == 1 {
            // Single-item scale: count response steps (100 / range points each).
            let steps = (worse * f64::from(scale.range) / 100.0).round();
            if steps >= f64::from(self.settings.red_steps_single_item) {
                Some(Tier::Red)
            } else if steps >= 1.0 {
                Some(Tier::Amber)
            } else {
                None
            }
        } else if worse >= self.settings.red_change {
            Some(Tier::Red)
        } else if worse >= self.change_for(scale.code) {
            Some(Tier::Amber)
        } else {
            None
        }
    }

    /// Every signal of one submission, at most one per subject: the most urgent.
    pub fn evaluate(
        &self,
        scores: &[Scores],
        answers: &[Answers],
        history: History<'_>,
        call_me: bool,
    ) -> Vec<Signal> {
        let settings = &self.settings;
        let mut signals: Vec<Signal> = Vec::new();
        let mut offer = |signal: Signal| match signals.iter_mut().find(|s| s.subject == signal.subject) {
            Some(existing) if existing.tier < signal.tier => *existing = signal,
            Some(_) => {}
            None => signals.push(signal),
        };
        for instrument in scores {
            for scale in instrument.instrument.instrument().scales {
                if alerting_scale(scale.code).is_none() {
                    continue;
                }
                let Some(value) = instrument.score(scale.code) else { continue };
                let baseline = find(history.baseline, scale.code);
                let previous = find(history.previous, scale.code);
                let info_only = settings.info_only.iter().any(|code| code == scale.code);
                let mut signal = |tier: Tier, rule, source: &str| {
                    let (tier, source) = if info_only {
                        (Tier::Info, settings.sources.info_only.as_str())
                    } else {
                        (tier, source)
                    };
                    offer(Signal {
                        subject: scale.code.to_owned(),
                        tier,
                        rule,
                        value: Some(value),
                        baseline,
                        previous,
                        source: source.to_owned(),
                    })
                };
                let change_source = if scale.items.len() == 1 {
                    &settings.sources.single_item_steps
                } else {
                    &settings.sources.change
                };
                for (before, rule) in
                    [(baseline, Rule::WorseThanBaseline), (previous, Rule::WorseThanPrevious)]
                {
                    if let Some(tier) = before
                        .and_then(|before| self.change_tier(scale, worsening(scale.kind, before, value)))
                    {
                        signal(tier, rule, change_source);
                    }
                }
                if self.in_severe_band(scale.kind, value) {
                    if previous.is_some_and(|before| self.in_severe_band(scale.kind, before)) {
                        signal(Tier::Info, Rule::StillSevere, &settings.sources.severe_band);
                    } else {
                        signal(Tier::Red, Rule::SevereBand, &settings.sources.severe_band);
                    }
                }
                if let Some(threshold) = settings.level_thresholds.get(scale.code)
                    && past_threshold(scale.kind, *threshold, value)
                {
                    let was_past =
                        previous.is_some_and(|before| past_threshold(scale.kind, *threshold, before));
                    if was_past {
                        signal(Tier::Info, Rule::AboveThreshold, &settings.sources.level_thresholds);
                    } else {
                        signal(Tier::Amber, Rule::NewlyAboveThreshold, &settings.sources.level_thresholds);
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
                let red = settings.red_items.contains(&item);
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
                    source: settings.sources.very_much_items.clone(),
                });
            }
        }
        if call_me {
            offer(call_request(&settings.sources.call_request));
        }
        signals.sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.subject.cmp(&b.subject)));
        signals
    }
}

/// A snooze a nurse set on one subject of a patient: it holds signals of at most `tier` up to and
/// including `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snooze {
    pub until: chrono::NaiveDate,
    pub tier: Tier,
}

/// The highest tier a snooze may hold: a red signal is a nursing emergency and always comes
/// through.
pub const SNOOZE_MAX_TIER: Tier = Tier::Amber;

/// Whether a snooze holds `signal` on `today`: only signals of the same or a lower tier than the
/// snooze was set for (amber at most), and never a red signal or a call request.
pub fn held_by_snooze(signal: &Signal, snooze: Option<Snooze>, today: chrono::NaiveDate) -> bool {
    !signal.is_call_request()
        && signal.tier <= SNOOZE_MAX_TIER
        && snooze.is_some_and(|snooze| today <= snooze.until && signal.tier <= snooze.tier)
}

/// A patient's open card of one kind, as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenCard {
    pub tier: Tier,
    pub state: AlertState,
}

/// What new signals do to a patient's card of their kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardChange {
    /// No open card: open one at this tier.
    Open { tier: Tier },
    /// The open card takes the signals. `escalated`: something the nurse has not seen arrived
    /// after she acknowledged the card, so it is new again and its service-level clock restarts.
    Join { tier: Tier, escalated: bool },
}

/// What a report brings to a card, for [`card_change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    /// The highest tier among the report's signals for the card.
    pub tier: Tier,
    /// A red signal the card did not hold as red (a new subject, or one that rose to red), or a
    /// new call request: the nurse has not seen it, whatever the card's tier.
    pub unseen_red: bool,
}

/// How a report's signals change the patient's open card of their kind. A card's tier never falls
/// while it is open. An acknowledged card is re-opened by a tier above its own, by a red signal it
/// did not hold as red, and by a new call request: escalation is never hidden behind an
/// acknowledgement.
pub fn card_change(open: Option<OpenCard>, incoming: Incoming) -> CardChange {
    match open {
        None => CardChange::Open { tier: incoming.tier },
        Some(card) => CardChange::Join {
            tier: card.tier.max(incoming.tier),
            escalated: card.state == AlertState::Acknowledged
                && (incoming.tier > card.tier || incoming.unseen_red),
        },
    }
}

/// Whether `signal` is red news for a card that holds the subject at `stored` (if at all): a red
/// signal the card did not hold as red, or a call request (each one is a new ask).
pub fn unseen_red(signal: &Signal, stored: Option<Tier>) -> bool {
    signal.is_call_request() || (signal.tier == Tier::Red && stored.is_none_or(|tier| tier < Tier::Red))
}

/// Whether a new signal for a subject already on the card replaces the one stored there: the
/// stored signal is the rule that set the subject's tier, so a lower tier never replaces it (the
/// card shows the newer value beside it as the latest value).
pub fn replaces(stored: Tier, incoming: Tier) -> bool {
    incoming >= stored
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
        assert_eq!(insomnia.tier, Tier::Info);
        assert!(matches!(insomnia.rule, Rule::AboveThreshold | Rule::StillSevere), "{insomnia:?}");
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
    fn a_snooze_holds_the_same_or_a_lower_tier_until_its_day_and_never_a_call_request() {
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
        let snooze = |until: &str, tier| Some(Snooze { until: day(until), tier });
        assert!(!held_by_snooze(&amber, None, today));
        assert!(held_by_snooze(&amber, snooze("2026-03-10", Tier::Amber), today), "its last day");
        assert!(!held_by_snooze(&amber, snooze("2026-03-09", Tier::Amber), today), "ended");
        assert!(held_by_snooze(&amber, snooze("2026-03-31", Tier::Red), today));
        let info = Signal { tier: Tier::Info, ..amber.clone() };
        assert!(held_by_snooze(&info, snooze("2026-03-31", Tier::Amber), today));
        let red_held = Signal { tier: Tier::Red, ..amber.clone() };
        assert!(
            !held_by_snooze(&red_held, snooze("2026-03-31", Tier::Red), today),
            "red always comes through"
        );
        let red = Signal { tier: Tier::Red, value: Some(100.0), ..amber.clone() };
        assert!(!held_by_snooze(&red, snooze("2026-03-31", Tier::Amber), today), "a worsening goes through");
        let call = Signal { subject: "CALL".into(), tier: Tier::Red, rule: Rule::CallMe, ..amber };
        assert!(
            !held_by_snooze(&call, snooze("2026-03-31", Tier::Red), today),
            "a call request always goes through"
        );
    }

    #[test]
    fn a_card_never_falls_and_a_higher_tier_reopens_an_acknowledged_card() {
        let card = |tier, state| Some(OpenCard { tier, state });
        let seen = |tier| Incoming { tier, unseen_red: false };
        assert_eq!(card_change(None, seen(Tier::Amber)), CardChange::Open { tier: Tier::Amber });
        assert_eq!(
            card_change(card(Tier::Amber, AlertState::Acknowledged), seen(Tier::Red)),
            CardChange::Join { tier: Tier::Red, escalated: true }
        );
        assert_eq!(
            card_change(card(Tier::Amber, AlertState::Acknowledged), seen(Tier::Amber)),
            CardChange::Join { tier: Tier::Amber, escalated: false },
            "the same tier joins quietly"
        );
        assert_eq!(
            card_change(
                card(Tier::Red, AlertState::Acknowledged),
                Incoming { tier: Tier::Red, unseen_red: true }
            ),
            CardChange::Join { tier: Tier::Red, escalated: true },
            "a red subject the nurse has not seen re-opens a red card she acknowledged"
        );
        assert_eq!(
            card_change(card(Tier::Red, AlertState::New), seen(Tier::Info)),
            CardChange::Join { tier: Tier::Red, escalated: false },
            "a card's tier never falls while it is open"
        );
        assert_eq!(
            card_change(card(Tier::Amber, AlertState::New), seen(Tier::Red)),
            CardChange::Join { tier: Tier::Red, escalated: false },
            "a new card rises without being re-opened"
        );
        let red = |subject: &str, rule| Signal {
            subject: subject.into(),
            tier: Tier::Red,
            rule,
            value: Some(100.0),
            baseline: None,
            previous: None,
            source: String::new(),
        };
        assert!(unseen_red(&red("DY", Rule::WorseThanBaseline), None), "a new red subject");
        assert!(unseen_red(&red("DY", Rule::WorseThanBaseline), Some(Tier::Amber)), "risen to red");
        assert!(!unseen_red(&red("DY", Rule::WorseThanBaseline), Some(Tier::Red)), "already red on the card");
        assert!(unseen_red(&red("CALL", Rule::CallMe), Some(Tier::Red)), "every call request is new");
        assert!(replaces(Tier::Amber, Tier::Red) && replaces(Tier::Amber, Tier::Amber));
        assert!(!replaces(Tier::Red, Tier::Amber), "the rule that set the tier stays");
    }

    #[test]
    fn one_step_on_a_single_item_scale_is_amber_and_two_steps_are_red() {
        // Dyspnoea 8, insomnia 11, appetite 13, constipation 16, diarrhoea 17: "a little" (one
        // step, 33.3 points) after "not at all". Financial difficulties 28: info at most.
        let well = c30(1, 6, &[]);
        let a_little = c30(1, 6, &[(8, 2), (11, 2), (13, 2), (16, 2), (17, 2), (28, 2)]);
        let signals = evaluate(&a_little, Some(&well), Some(&well), false);
        for code in ["DY", "SL", "AP", "CO", "DI"] {
            let signal = find(&signals, code).unwrap();
            assert_eq!(signal.tier, Tier::Amber, "{code}: {signal:?}");
            assert_eq!(signal.source, SINGLE_ITEM_STEPS, "{code}");
        }
        let financial = find(&signals, "FI").unwrap();
        assert_eq!((financial.tier, financial.source.as_str()), (Tier::Info, INFO_ONLY));
        assert!(signals.iter().all(|s| s.tier < Tier::Red), "{signals:#?}");

        let quite_a_bit = c30(1, 6, &[(8, 3)]);
        let signals = evaluate(&quite_a_bit, Some(&well), Some(&well), false);
        let dyspnoea = find(&signals, "DY").unwrap();
        assert_eq!((dyspnoea.tier, dyspnoea.rule), (Tier::Red, Rule::WorseThanBaseline));
    }

    #[test]
    fn entering_the_severe_band_is_red_and_staying_there_is_info() {
        // Fatigue at "quite a bit" on every item: 66.7, the severe band; baseline already there.
        let tired = c30(1, 6, &[(10, 3), (12, 3), (18, 3)]);
        let first = evaluate(&tired, None, None, false);
        let fatigue = find(&first, "FA").unwrap();
        assert_eq!(
            (fatigue.tier, fatigue.rule, fatigue.source.as_str()),
            (Tier::Red, Rule::SevereBand, SEVERE_BAND)
        );
        let again = evaluate(&tired, Some(&tired), Some(&tired), false);
        assert_eq!(find(&again, "FA").map(|s| (s.tier, s.rule)), Some((Tier::Info, Rule::StillSevere)));
        // Physical functioning at 33.3 (every item "quite a bit"): the poor band.
        let weak = c30(1, 6, &[(1, 3), (2, 3), (3, 3), (4, 3), (5, 3)]);
        let signals = evaluate(&weak, None, None, false);
        assert_eq!(find(&signals, "PF2").map(|s| (s.tier, s.rule)), Some((Tier::Red, Rule::SevereBand)));
    }

    /// CX24 answers: every item "not at all" except the overrides; item 49 "not at all" (50-54 do
    /// not apply).
    fn cx24(overrides: &[(i64, i64)]) -> Answers {
        let raw = (31..=54).filter(|item| *item < 50).map(|item| {
            RawAnswer::code(item, overrides.iter().find(|(i, _)| *i == item).map_or(1, |(_, v)| *v))
        });
        Answers::parse(InstrumentId::QlqCx24, raw).unwrap()
    }

    #[test]
    fn cx24_scales_alert_on_worsening_from_baseline() {
        // Symptom experience 0 → 18.2 (two items one step... six items one step = 18.2 points),
        // neuropathy 0 → 66.7 (two steps), lymphoedema 0 → 33.3 (one step), menopausal 0 → 66.7,
        // body image 0 → 22.2 (two of three items one step).
        let before = cx24(&[]);
        let now = cx24(&[
            (31, 2),
            (32, 2),
            (34, 2),
            (36, 2),
            (37, 2),
            (41, 2),
            (40, 3),
            (38, 2),
            (44, 3),
            (45, 2),
            (46, 2),
        ]);
        let baseline = vec![score(&before)];
        let signals = AlertRules::default().evaluate(
            &[score(&now)],
            std::slice::from_ref(&now),
            History { baseline: Some(&baseline), previous: Some(&baseline) },
            false,
        );
        let tier = |code: &str| find(&signals, code).map(|s| (s.tier, s.rule));
        assert_eq!(tier("CXPN"), Some((Tier::Red, Rule::WorseThanBaseline)));
        assert_eq!(tier("CXMS"), Some((Tier::Red, Rule::WorseThanBaseline)));
        assert_eq!(tier("CXLY"), Some((Tier::Amber, Rule::WorseThanBaseline)));
        assert_eq!(tier("CXBI"), Some((Tier::Red, Rule::WorseThanBaseline)), "22.2 points on three items");
        // 6 of 11 items one step: 6 / 11 / 3 × 100 = 18.2 points: amber (10 to 20).
        assert_eq!(tier("CXSE"), Some((Tier::Amber, Rule::WorseThanBaseline)));
        assert_eq!(tier("CXSV"), None, "the sexual scales are not judged");
        // 18 → 67: red.
        let worse = cx24(&[
            (31, 4),
            (32, 4),
            (33, 3),
            (34, 4),
            (35, 3),
            (36, 4),
            (37, 3),
            (39, 3),
            (41, 3),
            (42, 3),
            (43, 3),
        ]);
        let signals = AlertRules::default().evaluate(
            &[score(&worse)],
            &[],
            History { baseline: Some(&[score(&now)]), previous: None },
            false,
        );
        let experience = find(&signals, "CXSE").unwrap();
        assert_eq!(experience.tier, Tier::Red, "{experience:?}");
        assert!(experience.value.unwrap() > 66.0 && experience.baseline.unwrap() < 19.0);
    }

    #[test]
    fn the_shipped_protocol_names_a_source_for_every_rule() {
        let settings = AlertSettings::default();
        assert!(settings.problems().is_empty());
        let mut unsourced = settings.clone();
        unsourced.sources.severe_band = " ".into();
        assert_eq!(unsourced.problems(), ["sources.severe_band: name the source of this rule"]);
        let mut bad = settings;
        bad.level_thresholds.insert("CXSE".into(), 10.0);
        bad.info_only.push("CXSV".into());
        bad.red_steps_single_item = 1;
        assert_eq!(bad.problems().len(), 3, "{:#?}", bad.problems());
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
