//! What a protocol gives patients beside their forms (docs/api.md): the study team's contact
//! details (the protocol's `contact` section: the number to ring, its hours and what to do in an
//! emergency, per language) and what her app shows and how it guards it (`patient_view`: which
//! of her scores her history shows, when the app locks itself). Both are optional; each problem
//! names its key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instrument::{InstrumentId, ScaleKind};
use crate::language::text_problems;

/// The protocol's `"contact": {…}`: whom a patient rings, and what to do when it cannot wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSettings {
    /// The study team's telephone number, as dialled (`+86 10 0000 0000`).
    pub phone: String,
    /// When the number is answered, by language tag (`en` required, `zh-Hans`).
    #[serde(default)]
    pub hours: BTreeMap<String, String>,
    /// What to do in an emergency or out of hours, by language tag (`en` required, `zh-Hans`).
    #[serde(default)]
    pub urgent_advice: BTreeMap<String, String>,
}

impl ContactSettings {
    /// Every problem, each naming its key under `contact`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let phone = self.phone.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if phone.is_empty()
            || digits < 3
            || !phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
            || phone.char_indices().any(|(i, c)| c == '+' && i > 0)
        {
            problems.push(format!(
                "contact.phone: {:?} is not a telephone number as dialled (digits, spaces, '-', '(', ')' \
                 and a leading '+', e.g. \"+86 10 0000 0000\")",
                self.phone
            ));
        }
        for (key, texts) in [("contact.hours", &self.hours), ("contact.urgent_advice", &self.urgent_advice)] {
            problems.extend(text_problems(key, texts, true));
        }
        problems
    }
}

/// The protocol's `"patient_view": {…}`: what a patient sees of her own results, and when her
/// app locks itself.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientViewSettings {
    /// The score codes shown to her over time, in this order (`["QL2", "PF2", "FA"]`); empty:
    /// none.
    #[serde(default)]
    pub scores: Vec<String>,
    /// The app locks itself after this many minutes without a touch and asks for her PIN
    /// ([`IDLE_LOCK_MINUTES`] when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_lock_minutes: Option<u32>,
}

/// The app's idle lock when the protocol names none, in minutes.
pub const IDLE_LOCK_MINUTES: u32 = 5;
/// The longest idle lock a protocol may set: a phone left unlocked longer shows her answers to
/// whoever picks it up.
pub const IDLE_LOCK_MAX_MINUTES: u32 = 60;

impl PatientViewSettings {
    /// Every problem, each naming its key under `patient_view`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(minutes) = self.idle_lock_minutes
            && !(1..=IDLE_LOCK_MAX_MINUTES).contains(&minutes)
        {
            problems.push(format!(
                "patient_view.idle_lock_minutes: {minutes} is not from 1 to {IDLE_LOCK_MAX_MINUTES} minutes"
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for code in &self.scores {
            if higher_is_better(code).is_none() {
                let known: Vec<&str> =
                    InstrumentId::ALL.iter().flat_map(|id| id.instrument().score_codes()).collect();
                problems.push(format!(
                    "patient_view.scores: {code:?} is not a score of the questionnaires; use one of: {}",
                    known.join(", ")
                ));
            } else if !seen.insert(code.as_str()) {
                problems.push(format!("patient_view.scores: {code:?} is listed twice"));
            }
        }
        problems
    }
}

/// Whether a higher value of the score `code` is better for her: global health and the
/// functioning scales (and the C30 summary score, built the same way), yes; symptoms, no. `None`
/// for a code no questionnaire scores.
pub fn higher_is_better(code: &str) -> Option<bool> {
    InstrumentId::ALL.iter().find_map(|id| {
        let instrument = id.instrument();
        match instrument.scale(code) {
            Some(scale) => Some(scale.kind != ScaleKind::Symptom),
            None => instrument.summary.filter(|summary| summary.code == code).map(|_| true),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> ContactSettings {
        ContactSettings {
            phone: "+86 10 0000 0000".into(),
            hours: [("en".to_owned(), "Weekdays 8:00–17:00".to_owned())].into(),
            urgent_advice: [("en".to_owned(), "Call 120.".to_owned())].into(),
        }
    }

    #[test]
    fn a_contact_needs_a_number_and_english_texts_in_known_languages() {
        assert!(contact().problems().is_empty());
        let mut bad = contact();
        bad.phone = "ring the ward".into();
        bad.hours.insert("fr".into(), "Lundi".into());
        bad.urgent_advice.clear();
        assert_eq!(
            bad.problems(),
            [
                "contact.phone: \"ring the ward\" is not a telephone number as dialled (digits, spaces, '-', \
                 '(', ')' and a leading '+', e.g. \"+86 10 0000 0000\")",
                "contact.hours.fr: not a language qol offers; use one of: en, zh-Hans",
                "contact.urgent_advice.en: is missing (the English text is required)",
            ]
        );
        let mut plus_inside = contact();
        plus_inside.phone = "010+555".into();
        assert_eq!(plus_inside.problems().len(), 1);
    }

    #[test]
    fn the_scores_shown_are_score_codes_of_the_questionnaires_with_their_direction() {
        assert_eq!(higher_is_better("QL2"), Some(true));
        assert_eq!(higher_is_better("PF2"), Some(true));
        assert_eq!(higher_is_better("FA"), Some(false));
        assert_eq!(higher_is_better("CXSE"), Some(false));
        assert_eq!(higher_is_better("CXSXE"), Some(true));
        assert_eq!(higher_is_better("C30SUM"), Some(true));
        assert_eq!(higher_is_better("PF"), None);
        let view = PatientViewSettings {
            scores: vec!["QL2".into(), "PF".into(), "QL2".into()],
            idle_lock_minutes: Some(0),
        };
        let problems = view.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0], "patient_view.idle_lock_minutes: 0 is not from 1 to 60 minutes");
        assert!(problems[1].starts_with("patient_view.scores: \"PF\" is not a score of the questionnaires"));
        assert!(problems[1].contains("PF2"));
        assert_eq!(problems[2], "patient_view.scores: \"QL2\" is listed twice");
    }
}
