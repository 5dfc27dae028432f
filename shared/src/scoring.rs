//! EORTC scoring: validated [`Answers`] → one [`ScaleScore`] per scale, plus the C30 summary.
//!
//! The rules (eortc-scoring.md; EORTC QLQ-C30 Scoring Manual, 3rd ed.):
//! - raw score RS = mean of the answered items of the scale;
//! - [`Transform::Reversed`]: S = (1 − (RS − 1) / range) × 100; [`Transform::Direct`]:
//!   S = ((RS − 1) / range) × 100;
//! - half rule: a scale is scored when 2 × answered ≥ items in scale, from the answered items only;
//!   a single-item scale is missing when its item is; nothing is imputed;
//! - a scale whose items are not applicable is missing for that reason, not "not answered";
//! - C30SUM (Giesinger et al. 2016): mean of 13 component scores with symptoms as (100 − x), only
//!   when all 13 are present.
//!
//! Scores are f64 and never rounded here.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::answers::Answers;
use crate::instrument::{InstrumentId, SCORING_ALGORITHM_VERSION, Scale, SummaryScore, Transform};

/// Why a scale has no score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MissingReason {
    /// A multi-item scale with fewer than half of its items answered.
    TooFewItemsAnswered,
    /// A single-item scale whose item was skipped.
    ItemNotAnswered,
    /// The scale's items belong to a section that does not apply to the patient.
    NotApplicable,
    /// A summary score with at least one component scale missing.
    ComponentMissing,
}

/// The result for one scale. For the summary score, "items" are its component scales and the raw
/// score is the summary itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Scored { score: f64, raw_score: f64, items_answered: u8, items_in_scale: u8 },
    Missing { reason: MissingReason, items_answered: u8, items_in_scale: u8 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScaleScore {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: Cow<'static, str>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Outcome {
    #[inline]
    pub fn score(&self) -> Option<f64> {
        match *self {
            Outcome::Scored { score, .. } => Some(score),
            Outcome::Missing { .. } => None,
        }
    }

    #[inline]
    pub fn items_answered(&self) -> u8 {
        match *self {
            Outcome::Scored { items_answered, .. } | Outcome::Missing { items_answered, .. } => {
                items_answered
            }
        }
    }
}

impl ScaleScore {
    pub fn score(&self) -> Option<f64> {
        self.outcome.score()
    }

    pub fn items_answered(&self) -> u8 {
        self.outcome.items_answered()
    }
}

/// Every score of one submission to one instrument, with the algorithm version that made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scores {
    pub instrument: InstrumentId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub algorithm_version: Cow<'static, str>,
    pub scales: Vec<ScaleScore>,
}

impl Scores {
    pub fn get(&self, code: &str) -> Option<&ScaleScore> {
        self.scales.iter().find(|scale| scale.code == code)
    }

    /// The score of `code`, or `None` when it is missing or not a scale of this instrument.
    pub fn score(&self, code: &str) -> Option<f64> {
        self.get(code).and_then(ScaleScore::score)
    }
}

/// Scores every scale of the answers' instrument, in the instrument's documented order.
pub fn score(answers: &Answers) -> Scores {
    let instrument = answers.instrument().instrument();
    let mut scales = Vec::with_capacity(instrument.scales.len() + usize::from(instrument.summary.is_some()));
    score_each(answers, |code, outcome| scales.push(ScaleScore { code: Cow::Borrowed(code), outcome }));
    Scores {
        instrument: answers.instrument(),
        algorithm_version: Cow::Borrowed(SCORING_ALGORITHM_VERSION),
        scales,
    }
}

/// The most scales an instrument has; a test pins it.
const MAX_SCALES: usize = 16;

/// Calls `each` with every score of the answers' instrument (its code and outcome), in the
/// documented order ([`crate::instrument::Instrument::score_codes`]), allocating nothing: the
/// core of [`score`]. [`OutcomeTable`] gives the same outcomes by lookup.
pub fn score_each(answers: &Answers, mut each: impl FnMut(&'static str, Outcome)) {
    let id = answers.instrument();
    let instrument = id.instrument();
    let mut values = [None; MAX_SCALES];
    for (scale, value) in instrument.scales.iter().zip(values.iter_mut()) {
        let outcome = score_scale(scale, answers);
        *value = outcome.score();
        each(scale.code, outcome);
    }
    if let Some(summary) = instrument.summary {
        each(summary.code, score_summary(summary, summary_components(id), &values));
    }
}

/// The summary's components as (scale index, inverted), resolved by code once per instrument.
fn summary_components(id: InstrumentId) -> &'static [(usize, bool)] {
    static RESOLVED: [OnceLock<Vec<(usize, bool)>>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = InstrumentId::ALL.iter().position(|other| *other == id).unwrap_or(0);
    RESOLVED[slot].get_or_init(|| {
        let instrument = id.instrument();
        instrument.summary.map_or_else(Vec::new, |summary| {
            summary
                .components
                .iter()
                .map(|(code, inverted)| {
                    let index = instrument.scales.iter().position(|scale| scale.code == *code);
                    // The instrument tests pin that every component is a scale of its instrument.
                    (index.unwrap_or(usize::MAX), *inverted)
                })
                .collect()
        })
    })
}

fn count(n: usize) -> u8 {
    // Scales and summaries have at most 13 members; the instrument tests pin that.
    u8::try_from(n).unwrap_or(u8::MAX)
}

// Inlined into `score_each`'s callers.
#[inline]
fn score_scale(scale: &Scale, answers: &Answers) -> Outcome {
    let (sum, answered, not_applicable) = answers.tally(scale.items);
    scale_outcome(scale, sum, answered, not_applicable)
}

/// A scale's outcome from its tally: the sum of the answered items' codes, how many were
/// answered, and whether its section is not applicable. Nothing else of the answers counts.
#[inline]
fn scale_outcome(scale: &Scale, sum: u32, answered: usize, not_applicable: bool) -> Outcome {
    let items_in_scale = count(scale.items.len());
    let items_answered = count(answered);
    let missing = |reason| Outcome::Missing { reason, items_answered, items_in_scale };
    if not_applicable {
        // Conditional sections cover whole scales (pinned by a test), and the parse step refuses
        // codes inside a not-applicable section, so nothing of this scale was answered.
        return missing(MissingReason::NotApplicable);
    }
    if 2 * answered < scale.items.len() || answered == 0 {
        return missing(if scale.items.len() == 1 {
            MissingReason::ItemNotAnswered
        } else {
            MissingReason::TooFewItemsAnswered
        });
    }
    let raw_score = f64::from(sum) / answered as f64;
    let fraction = (raw_score - 1.0) / f64::from(scale.range);
    let score = match scale.transform {
        Transform::Direct => fraction * 100.0,
        Transform::Reversed => (1.0 - fraction) * 100.0,
    };
    Outcome::Scored { score, raw_score, items_answered, items_in_scale }
}

/// Every outcome each scale of an instrument can have, worked out once, for scoring many forms
/// of one instrument (`qol score` scores one per CSV row). A scale's outcome depends only on its
/// tally (items answered, the sum of their codes, whether its section applies), so a table by
/// tally replaces the arithmetic, two divisions per scale, with a lookup. The entries are made by
/// the function [`score_each`] uses, so the outcomes are the same; a test compares them.
#[derive(Debug, Clone)]
pub struct OutcomeTable {
    instrument: InstrumentId,
    /// Per scale: its first entry and its row width (the largest sum of codes + 1). A scale's
    /// entries are `answered * width + sum`, then one for "not applicable".
    scales: Vec<(usize, usize)>,
    outcomes: Vec<Outcome>,
}

impl OutcomeTable {
    pub fn new(id: InstrumentId) -> OutcomeTable {
        let instrument = id.instrument();
        let mut scales = Vec::with_capacity(instrument.scales.len());
        let mut outcomes = Vec::new();
        for scale in instrument.scales {
            let highest = scale
                .items
                .iter()
                .filter_map(|item| instrument.item(*item))
                .map(|item| u32::from(item.response_scale.highest()))
                .max()
                .unwrap_or(0);
            let width = scale.items.len() * highest as usize + 1;
            scales.push((outcomes.len(), width));
            for answered in 0..=scale.items.len() {
                for sum in 0..width {
                    outcomes.push(scale_outcome(scale, sum as u32, answered, false));
                }
            }
            outcomes.push(scale_outcome(scale, 0, 0, true));
        }
        OutcomeTable { instrument: id, scales, outcomes }
    }

    /// How many entries the table has: [`OutcomeTable::each`]'s entry numbers are below it.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The outcome of entry `entry`.
    pub fn outcome(&self, entry: usize) -> Option<&Outcome> {
        self.outcomes.get(entry)
    }

    /// Calls `each` with every scale's outcome and its entry number, in the instrument's order,
    /// then returns the summary's outcome (none for an instrument without one): the same
    /// outcomes as [`score_each`], in the same order. An outcome that is no entry (answers of
    /// another instrument) comes without a number.
    #[inline]
    pub fn each(&self, answers: &Answers, mut each: impl FnMut(Option<usize>, &Outcome)) -> Option<Outcome> {
        let instrument = answers.instrument().instrument();
        let mut values = [None; MAX_SCALES];
        let mut tables = (answers.instrument() == self.instrument).then_some(self.scales.iter());
        for (scale, value) in instrument.scales.iter().zip(values.iter_mut()) {
            let (sum, answered, not_applicable) = answers.tally(scale.items);
            let entry = tables.as_mut().and_then(Iterator::next).map(|(first, width)| {
                if not_applicable {
                    first + (scale.items.len() + 1) * width
                } else {
                    // Parsed answers hold allowed codes only, so the sum is below the width.
                    first + answered * width + sum as usize
                }
            });
            match entry.and_then(|entry| self.outcomes.get(entry)) {
                Some(outcome) => {
                    *value = outcome.score();
                    each(entry, outcome);
                }
                None => {
                    let outcome = scale_outcome(scale, sum, answered, not_applicable);
                    *value = outcome.score();
                    each(None, &outcome);
                }
            }
        }
        let id = answers.instrument();
        instrument.summary.map(|summary| score_summary(summary, summary_components(id), &values))
    }
}

/// The summary from its components' scores (`values`, by scale index).
fn score_summary(summary: &SummaryScore, components: &[(usize, bool)], values: &[Option<f64>]) -> Outcome {
    let items_in_scale = count(summary.components.len());
    let mut present = 0usize;
    let mut total = 0.0;
    for (index, inverted) in components {
        if let Some(value) = values.get(*index).copied().flatten() {
            present += 1;
            total += if *inverted { 100.0 - value } else { value };
        }
    }
    let items_answered = count(present);
    if present < summary.components.len() {
        return Outcome::Missing { reason: MissingReason::ComponentMissing, items_answered, items_in_scale };
    }
    let mean = total / present as f64;
    Outcome::Scored { score: mean, raw_score: mean, items_answered, items_in_scale }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::RawAnswer;
    use crate::instrument::{C30_SCALES, CX24_SCALES, QLQ_C30, QLQ_CX24, ScaleKind};
    use proptest::prelude::*;

    const TOLERANCE: f64 = 1e-4;

    /// Answers from a list of optional codes for consecutive items starting at `first`.
    fn answers(instrument: InstrumentId, first: u8, codes: &[Option<u8>]) -> Answers {
        let raw = codes.iter().enumerate().filter_map(|(offset, code)| {
            code.map(|code| RawAnswer::code(i64::from(first) + offset as i64, code.into()))
        });
        Answers::parse(instrument, raw).unwrap()
    }

    /// Checks each `(code, expected)`; `None` means the scale must be missing.
    fn check(scores: &Scores, expected: &[(&str, Option<f64>)]) {
        for (code, expected) in expected {
            let actual = scores.get(code).unwrap_or_else(|| panic!("no scale {code}")).score();
            match (actual, expected) {
                (Some(actual), Some(expected)) => assert!(
                    (actual - expected).abs() < TOLERANCE,
                    "{code}: expected {expected}, got {actual}"
                ),
                (None, None) => {}
                _ => panic!("{code}: expected {expected:?}, got {actual:?}"),
            }
        }
    }

    const PATIENT_A: [u8; 30] =
        [1, 2, 1, 1, 1, 2, 1, 2, 3, 2, 3, 3, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 2, 1, 1, 2, 2, 1, 5, 4];
    const CX24_EXAMPLE: [u8; 24] = [2, 1, 1, 3, 1, 2, 1, 2, 3, 1, 1, 2, 1, 4, 2, 3, 2, 3, 2, 3, 2, 1, 3, 2];

    #[test]
    fn every_scale_fits_the_table_and_every_summary_component_resolves() {
        for id in InstrumentId::ALL {
            assert!(id.instrument().scales.len() <= MAX_SCALES, "{id}");
            let components = summary_components(id);
            assert_eq!(components.len(), id.instrument().summary.map_or(0, |s| s.components.len()));
            assert!(components.iter().all(|(index, _)| *index < id.instrument().scales.len()), "{id}");
        }
    }

    #[test]
    fn worked_example_patient_a_scores_as_documented() {
        let codes: Vec<Option<u8>> = PATIENT_A.iter().map(|code| Some(*code)).collect();
        let scores = score(&answers(InstrumentId::QlqC30, 1, &codes));
        check(
            &scores,
            &[
                ("QL2", Some(58.3333)),
                ("PF2", Some(93.3333)),
                ("RF2", Some(83.3333)),
                ("EF", Some(66.6667)),
                ("CF", Some(83.3333)),
                ("SF", Some(66.6667)),
                ("FA", Some(44.4444)),
                ("NV", Some(0.0)),
                ("PA", Some(50.0)),
                ("DY", Some(33.3333)),
                ("SL", Some(66.6667)),
                ("AP", Some(0.0)),
                ("CO", Some(33.3333)),
                ("DI", Some(0.0)),
                ("FI", Some(0.0)),
                ("C30SUM", Some(74.2735)),
            ],
        );
        assert_eq!(scores.algorithm_version, SCORING_ALGORITHM_VERSION);
    }

    #[test]
    fn worked_example_patient_b_applies_the_half_rule() {
        let mut codes: Vec<Option<u8>> = PATIENT_A.iter().map(|code| Some(*code)).collect();
        for item in [3, 5, 8, 12, 18, 23, 24, 30] {
            codes[item - 1] = None;
        }
        let scores = score(&answers(InstrumentId::QlqC30, 1, &codes));
        check(
            &scores,
            &[
                ("PF2", Some(88.8889)),
                ("EF", Some(50.0)),
                ("FA", None),
                ("QL2", Some(66.6667)),
                ("DY", None),
                ("C30SUM", None),
            ],
        );
        let fatigue = scores.get("FA").unwrap().outcome;
        assert_eq!(
            fatigue,
            Outcome::Missing {
                reason: MissingReason::TooFewItemsAnswered,
                items_answered: 1,
                items_in_scale: 3
            }
        );
        assert!(matches!(
            scores.get("DY").unwrap().outcome,
            Outcome::Missing { reason: MissingReason::ItemNotAnswered, .. }
        ));
        assert!(matches!(
            scores.get("C30SUM").unwrap().outcome,
            Outcome::Missing { reason: MissingReason::ComponentMissing, items_answered: 11, .. }
        ));
    }

    #[test]
    fn worked_example_cx24_scores_as_documented() {
        let codes: Vec<Option<u8>> = CX24_EXAMPLE.iter().map(|code| Some(*code)).collect();
        let scores = score(&answers(InstrumentId::QlqCx24, 31, &codes));
        check(
            &scores,
            &[
                ("CXSE", Some(21.2121)),
                ("CXBI", Some(44.4444)),
                ("CXSV", Some(41.6667)),
                ("CXLY", Some(33.3333)),
                ("CXPN", Some(0.0)),
                ("CXMS", Some(100.0)),
                ("CXSXW", Some(66.6667)),
                ("CXSXA", Some(33.3333)),
                ("CXSXE", Some(33.3333)),
            ],
        );
    }

    #[test]
    fn worked_example_cx24_with_the_sexual_section_not_applicable() {
        // Item 49 "not at all" sexually active: items 50–54 do not apply.
        let mut raw: Vec<RawAnswer> = CX24_EXAMPLE[..18]
            .iter()
            .enumerate()
            .map(|(offset, code)| RawAnswer::code(31 + offset as i64, (*code).into()))
            .collect();
        raw.push(RawAnswer::code(49, 1));
        raw.extend((50..=54).map(RawAnswer::not_applicable));
        let scores = score(&Answers::parse(InstrumentId::QlqCx24, raw).unwrap());
        check(
            &scores,
            &[
                ("CXSE", Some(21.2121)),
                ("CXBI", Some(44.4444)),
                ("CXSV", None),
                ("CXLY", Some(33.3333)),
                ("CXPN", Some(0.0)),
                ("CXMS", Some(100.0)),
                ("CXSXW", Some(66.6667)),
                ("CXSXA", Some(0.0)),
                ("CXSXE", None),
            ],
        );
        for code in ["CXSV", "CXSXE"] {
            assert!(matches!(
                scores.get(code).unwrap().outcome,
                Outcome::Missing { reason: MissingReason::NotApplicable, items_answered: 0, .. }
            ));
        }
    }

    #[test]
    fn the_half_rule_threshold_of_each_multi_item_scale_is_as_documented() {
        // eortc-scoring.md: PF2 needs 3 of 5, FA 2 of 3, EF 2 of 4, two-item scales 1 of 2,
        // CX24 SE 6 of 11, BI 2 of 3, SV 2 of 4.
        let expected = [
            ("PF2", 3),
            ("FA", 2),
            ("EF", 2),
            ("RF2", 1),
            ("CF", 1),
            ("SF", 1),
            ("NV", 1),
            ("PA", 1),
            ("QL2", 1),
            ("CXSE", 6),
            ("CXBI", 2),
            ("CXSV", 2),
        ];
        for (code, needed) in expected {
            let (instrument, scale) = QLQ_C30
                .scale(code)
                .map(|scale| (InstrumentId::QlqC30, scale))
                .or_else(|| QLQ_CX24.scale(code).map(|scale| (InstrumentId::QlqCx24, scale)))
                .unwrap();
            for answered in 0..=scale.items.len() {
                let raw = scale.items[..answered].iter().map(|item| RawAnswer::code((*item).into(), 2));
                let scores = score(&Answers::parse(instrument, raw).unwrap());
                assert_eq!(
                    scores.score(code).is_some(),
                    answered >= needed,
                    "{code} with {answered} answered"
                );
            }
        }
    }

    #[test]
    fn conditional_sections_cover_whole_scales() {
        for instrument in [&QLQ_C30, &QLQ_CX24] {
            for section in instrument.conditional_sections {
                for scale in instrument.scales {
                    let inside = scale.items.iter().filter(|item| section.items.contains(item)).count();
                    assert!(inside == 0 || inside == scale.items.len(), "{} straddles", scale.code);
                }
            }
        }
    }

    /// Every C30 or CX24 response pattern: each item skipped or answered with any valid code.
    fn pattern(instrument: &'static crate::instrument::Instrument) -> impl Strategy<Value = Vec<Option<u8>>> {
        instrument
            .items
            .iter()
            .map(|item| proptest::option::of(item.response_scale.codes()))
            .collect::<Vec<_>>()
            .prop_map(move |mut pattern| {
                gate(instrument, &mut pattern);
                pattern
            })
    }

    /// What a patient can send: after the answer that makes a section not apply (CX24 item 49
    /// "not at all"), its items are left out (and become not applicable).
    fn gate(instrument: &crate::instrument::Instrument, pattern: &mut [Option<u8>]) {
        let first = *instrument.item_numbers().start();
        for section in instrument.conditional_sections {
            if let Some((gate, off)) = section.not_applicable_when
                && pattern[usize::from(gate - first)] == Some(off)
            {
                for item in section.items {
                    pattern[usize::from(item - first)] = None;
                }
            }
        }
    }

    /// Whether the scale is missing because its section does not apply.
    fn not_applicable(scale: &ScaleScore) -> bool {
        matches!(scale.outcome, Outcome::Missing { reason: MissingReason::NotApplicable, .. })
    }

    fn from_pattern(instrument: InstrumentId, pattern: &[Option<u8>]) -> Answers {
        let first = *instrument.instrument().item_numbers().start();
        answers(instrument, first, pattern)
    }

    fn instrument_and_pattern() -> impl Strategy<Value = (InstrumentId, Vec<Option<u8>>)> {
        prop_oneof![
            pattern(&QLQ_C30).prop_map(|p| (InstrumentId::QlqC30, p)),
            pattern(&QLQ_CX24).prop_map(|p| (InstrumentId::QlqCx24, p)),
        ]
    }

    /// An independent statement of the half rule, per scale, to compare the implementation with.
    fn expected_score(scale: &Scale, pattern: &[Option<u8>], first: u8) -> Option<f64> {
        let codes: Vec<f64> =
            scale.items.iter().filter_map(|item| pattern[usize::from(item - first)]).map(f64::from).collect();
        if codes.is_empty() || codes.len() * 2 < scale.items.len() {
            return None;
        }
        let mean = codes.iter().sum::<f64>() / codes.len() as f64;
        let linear = (mean - 1.0) / f64::from(scale.range) * 100.0;
        Some(match scale.transform {
            Transform::Direct => linear,
            Transform::Reversed => 100.0 - linear,
        })
    }

    fn plain_outcomes(answers: &Answers) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        score_each(answers, |_, outcome| outcomes.push(outcome));
        outcomes
    }

    /// The table's outcomes, the summary last; `entries`: whether each scale's must be an entry.
    fn table_outcomes(table: &OutcomeTable, answers: &Answers, entries: bool) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        let summary = table.each(answers, |entry, outcome| {
            assert_eq!(entry.is_some(), entries, "{entry:?}");
            if let Some(entry) = entry {
                assert_eq!(table.outcome(entry), Some(outcome));
            }
            outcomes.push(*outcome);
        });
        outcomes.extend(summary);
        outcomes
    }

    #[test]
    fn the_outcome_table_has_the_not_applicable_outcome_and_scores_another_instrument_directly() {
        let mut raw = vec![RawAnswer::code(31, 2), RawAnswer::code(49, 1)];
        raw.extend((50..=54).map(RawAnswer::not_applicable));
        let cx24 = Answers::parse(InstrumentId::QlqCx24, raw).unwrap();
        let table = OutcomeTable::new(InstrumentId::QlqCx24);
        let outcomes = table_outcomes(&table, &cx24, true);
        assert_eq!(outcomes, plain_outcomes(&cx24));
        assert!(
            outcomes.iter().any(|outcome| matches!(
                outcome,
                Outcome::Missing { reason: MissingReason::NotApplicable, .. }
            ))
        );
        // A table of one instrument given the other's answers: the same outcomes, none an entry.
        let c30 = OutcomeTable::new(InstrumentId::QlqC30);
        assert_eq!(table_outcomes(&c30, &cx24, false), plain_outcomes(&cx24));
        let c30_answers = answers(InstrumentId::QlqC30, 1, &[Some(2); 30]);
        assert_eq!(table_outcomes(&table, &c30_answers, false), plain_outcomes(&c30_answers));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_score_lies_between_0_and_100((instrument, pattern) in instrument_and_pattern()) {
            for scale in score(&from_pattern(instrument, &pattern)).scales {
                if let Some(value) = scale.score() {
                    prop_assert!((0.0..=100.0).contains(&value), "{} = {value}", scale.code);
                }
            }
        }

        #[test]
        fn the_outcome_table_gives_score_each_s_outcomes_from_its_entries(
            (instrument, pattern) in instrument_and_pattern()
        ) {
            let answers = from_pattern(instrument, &pattern);
            let table = OutcomeTable::new(instrument);
            prop_assert_eq!(table_outcomes(&table, &answers, true), plain_outcomes(&answers));
        }

        #[test]
        fn each_scale_matches_an_independent_statement_of_the_rules(
            (instrument, pattern) in instrument_and_pattern()
        ) {
            let definition = instrument.instrument();
            let first = *definition.item_numbers().start();
            let scores = score(&from_pattern(instrument, &pattern));
            for scale in definition.scales {
                let expected = expected_score(scale, &pattern, first);
                let actual = scores.score(scale.code);
                match (expected, actual) {
                    (Some(e), Some(a)) => prop_assert!((e - a).abs() < 1e-9, "{}: {e} vs {a}", scale.code),
                    (None, None) => {}
                    _ => prop_assert!(false, "{}: expected {expected:?}, got {actual:?}", scale.code),
                }
            }
        }

        #[test]
        fn answering_more_items_never_turns_a_scored_scale_into_missing(
            (instrument, pattern) in instrument_and_pattern(),
            fill in proptest::collection::vec(1u8..=4, 30),
        ) {
            let before = score(&from_pattern(instrument, &pattern));
            // A skipped CX24 item 49 is filled as sexually active (at least "a little"): "not at
            // all" would make items 50–54 not apply, which answering more does not mean.
            let gate_offset = (instrument == InstrumentId::QlqCx24).then_some(49 - 31);
            let mut filled: Vec<Option<u8>> = pattern
                .iter()
                .zip(fill.iter().cycle())
                .enumerate()
                .map(|(offset, (code, extra))| {
                    code.or(Some(if Some(offset) == gate_offset { (*extra).max(2) } else { *extra }))
                })
                .collect();
            gate(instrument.instrument(), &mut filled);
            let after = score(&from_pattern(instrument, &filled));
            for scale in &before.scales {
                if scale.score().is_some() {
                    prop_assert!(after.score(&scale.code).is_some(), "{} became missing", scale.code);
                }
            }
            // Fully answered: everything is scored but a section that does not apply.
            prop_assert!(after.scales.iter().all(|scale| scale.score().is_some() || not_applicable(scale)));
        }

        #[test]
        fn scores_do_not_depend_on_the_order_of_the_items(
            (instrument, pattern) in instrument_and_pattern(),
            seed in any::<u64>(),
        ) {
            let first = *instrument.instrument().item_numbers().start();
            let mut raw: Vec<RawAnswer> = pattern
                .iter()
                .enumerate()
                .filter_map(|(offset, code)| code.map(|code| RawAnswer::code(i64::from(first) + offset as i64, code.into())))
                .collect();
            let ordered = score(&Answers::parse(instrument, raw.clone()).unwrap());
            // A deterministic shuffle driven by the seed (Fisher–Yates with an LCG).
            let mut state = seed;
            for index in (1..raw.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                raw.swap(index, (state >> 33) as usize % (index + 1));
            }
            let shuffled = score(&Answers::parse(instrument, raw).unwrap());
            prop_assert_eq!(ordered, shuffled);
        }

        #[test]
        fn the_half_rule_boundary_holds_exactly_at_half(
            scale_index in 0usize..(C30_SCALES.len() + CX24_SCALES.len()),
            code in 1u8..=4,
        ) {
            let (instrument, scale) = if scale_index < C30_SCALES.len() {
                (InstrumentId::QlqC30, &C30_SCALES[scale_index])
            } else {
                (InstrumentId::QlqCx24, &CX24_SCALES[scale_index - C30_SCALES.len()])
            };
            let n = scale.items.len();
            let at_half = n.div_ceil(2);
            let raw = |answered: usize| scale.items[..answered].iter().map(move |item| RawAnswer::code((*item).into(), code.into()));
            let scored = score(&Answers::parse(instrument, raw(at_half)).unwrap());
            prop_assert!(scored.score(scale.code).is_some(), "{} with {at_half} of {n}", scale.code);
            let below = score(&Answers::parse(instrument, raw(at_half - 1)).unwrap());
            prop_assert!(below.score(scale.code).is_none(), "{} with {} of {n}", scale.code, at_half - 1);
        }
    }

    fn uniform(instrument: InstrumentId, pick: impl Fn(&crate::instrument::Item) -> u8) -> Scores {
        let mut pattern: Vec<Option<u8>> =
            instrument.instrument().items.iter().map(|item| Some(pick(item))).collect();
        gate(instrument.instrument(), &mut pattern);
        score(&from_pattern(instrument, &pattern))
    }

    /// The "best" answer for an item: the end of its scale that means the least trouble.
    fn best(instrument: InstrumentId, item: &crate::instrument::Item) -> u8 {
        let scale = instrument.instrument().scale(item.scale).unwrap();
        let high_is_good = matches!(scale.kind, ScaleKind::Global | ScaleKind::Functional)
            && scale.transform == Transform::Direct;
        if high_is_good { item.response_scale.highest() } else { item.response_scale.lowest() }
    }

    #[test]
    fn all_best_answers_give_100_on_functional_and_global_and_0_on_symptom_scales() {
        for instrument in InstrumentId::ALL {
            let scores = uniform(instrument, |item| best(instrument, item));
            for scale in instrument.instrument().scales {
                let expected = if scale.kind == ScaleKind::Symptom { 0.0 } else { 100.0 };
                assert_eq!(scores.score(scale.code), Some(expected), "{}", scale.code);
            }
            if instrument == InstrumentId::QlqC30 {
                assert_eq!(scores.score("C30SUM"), Some(100.0));
            }
        }
    }

    #[test]
    fn all_worst_answers_give_0_on_functional_and_global_and_100_on_symptom_scales() {
        for instrument in InstrumentId::ALL {
            let scores = uniform(instrument, |item| {
                let best = best(instrument, item);
                if best == item.response_scale.lowest() { item.response_scale.highest() } else { 1 }
            });
            for scale in instrument.instrument().scales {
                // The worst sexual activity, "not at all", makes items 50–54 not apply.
                if ["CXSV", "CXSXE"].contains(&scale.code) {
                    assert!(not_applicable(scores.get(scale.code).unwrap()), "{}", scale.code);
                    continue;
                }
                let expected = if scale.kind == ScaleKind::Symptom { 100.0 } else { 0.0 };
                assert_eq!(scores.score(scale.code), Some(expected), "{}", scale.code);
            }
            if instrument == InstrumentId::QlqC30 {
                assert_eq!(scores.score("C30SUM"), Some(0.0));
            }
        }
    }

    #[test]
    fn scores_serialise_with_their_status_and_reason() {
        let scores = score(&answers(InstrumentId::QlqC30, 1, &[Some(2)]));
        let json = serde_json::to_value(&scores).unwrap();
        assert_eq!(json["algorithm_version"], SCORING_ALGORITHM_VERSION);
        assert_eq!(json["instrument"], "qlq-c30");
        let pf2 = &json["scales"][1];
        assert_eq!(pf2["code"], "PF2");
        assert_eq!(pf2["status"], "missing");
        assert_eq!(pf2["reason"], "too_few_items_answered");
        let back: Scores = serde_json::from_value(json).unwrap();
        assert_eq!(back, scores);
    }
}
