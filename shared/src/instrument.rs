//! The structure of the QLQ-C30 v3.0 and QLQ-CX24 questionnaires as data: items, response scales,
//! scales and the conditional section. No wording lives here (see [`crate::wording`]).
//!
//! Every fact in these tables comes from `shared/docs/eortc-scoring.md` (EORTC QLQ-C30 Scoring
//! Manual, 3rd ed., Fayers et al. 2001; Giesinger et al. 2016 for the summary score). The direction
//! of each scale is a column of [`C30_SCALES`] / [`CX24_SCALES`], so a site holding the official
//! scoring sheets can check it in one place.

use serde::{Deserialize, Serialize};

/// The version string stored beside every score. Bump it whenever a rule in [`crate::scoring`]
/// changes, so that stored scores can be told apart and recomputed.
pub const SCORING_ALGORITHM_VERSION: &str = "qol-eortc-scoring/1.0";

/// Which questionnaire. The serialised form is the id used in the API, CSV files and wording packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum InstrumentId {
    #[serde(rename = "qlq-c30")]
    QlqC30,
    #[serde(rename = "qlq-cx24")]
    QlqCx24,
}

impl InstrumentId {
    pub const ALL: [InstrumentId; 2] = [InstrumentId::QlqC30, InstrumentId::QlqCx24];

    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentId::QlqC30 => "qlq-c30",
            InstrumentId::QlqCx24 => "qlq-cx24",
        }
    }

    pub fn parse(text: &str) -> Option<InstrumentId> {
        Self::ALL.into_iter().find(|id| id.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn instrument(self) -> &'static Instrument {
        match self {
            InstrumentId::QlqC30 => &QLQ_C30,
            InstrumentId::QlqCx24 => &QLQ_CX24,
        }
    }
}

impl std::fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of codes a patient can choose for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResponseScaleId {
    /// 1 = not at all, 2 = a little, 3 = quite a bit, 4 = very much.
    #[serde(rename = "four_point")]
    FourPoint,
    /// 1 = very poor … 7 = excellent.
    #[serde(rename = "seven_point")]
    SevenPoint,
}

impl ResponseScaleId {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseScaleId::FourPoint => "four_point",
            ResponseScaleId::SevenPoint => "seven_point",
        }
    }

    pub const fn lowest(self) -> u8 {
        1
    }

    pub const fn highest(self) -> u8 {
        match self {
            ResponseScaleId::FourPoint => 4,
            ResponseScaleId::SevenPoint => 7,
        }
    }

    pub fn codes(self) -> std::ops::RangeInclusive<u8> {
        self.lowest()..=self.highest()
    }

    /// What each code means, in English, for documentation and data dictionaries.
    /// Patient-facing labels come from the wording pack.
    pub fn code_meanings(self) -> &'static [(u8, &'static str)] {
        match self {
            ResponseScaleId::FourPoint => {
                &[(1, "not at all"), (2, "a little"), (3, "quite a bit"), (4, "very much")]
            }
            ResponseScaleId::SevenPoint => &[(1, "very poor"), (7, "excellent")],
        }
    }
}

/// What a scale measures, and so which way is "better".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScaleKind {
    /// Global health status / QoL (QL2): high is better.
    Global,
    /// Functioning: high is better.
    Functional,
    /// Symptoms and problems: high is worse.
    Symptom,
}

/// How the raw score (mean item code) becomes a 0–100 score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// S = ((RS − 1) / range) × 100: symptom scales, QL2, and the CX24 items worded so that a high
    /// answer already means more of the good thing (CXSXA, CXSXE).
    Direct,
    /// S = (1 − (RS − 1) / range) × 100: the C30 functional scales, whose items ask about problems.
    Reversed,
}

/// One scale of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: ScaleKind,
    pub transform: Transform,
    pub items: &'static [u8],
    /// Highest minus lowest possible item code.
    pub range: u8,
}

/// A block of items that only some patients are asked; for the others it is "not applicable",
/// a state of its own, different from a skipped item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConditionalSection {
    pub id: &'static str,
    /// Who answers it, in English, for documentation. Patient-facing text is in the wording pack.
    pub condition: &'static str,
    pub items: &'static [u8],
    /// The item whose answer decides whether the section applies, and the code that means it
    /// does not (CX24: item 49 "not at all" sexually active → items 50–54 do not apply).
    pub not_applicable_when: Option<(u8, u8)>,
}

/// One item of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// The item number on the combined form (C30: 1–30, CX24: 31–54).
    pub number: u8,
    pub response_scale: ResponseScaleId,
    /// The code of the scale the item belongs to. Every item of these two instruments belongs to
    /// exactly one scale.
    pub scale: &'static str,
    /// A short neutral topic label written for qol (not the questionnaire wording).
    pub topic: &'static str,
}

/// A questionnaire's structure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    pub id: InstrumentId,
    pub name: &'static str,
    pub version: &'static str,
    pub recall_period: &'static str,
    pub items: &'static [Item],
    pub scales: &'static [Scale],
    pub conditional_sections: &'static [ConditionalSection],
    /// The summary score over some of the scales, where the instrument has one.
    pub summary: Option<&'static SummaryScore>,
}

/// The QLQ-C30 summary score (Giesinger et al. 2016): the mean of the functional scores and of
/// (100 − x) for the symptom scores, computed only when every component is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryScore {
    pub code: &'static str,
    pub name: &'static str,
    /// Component scales; `true` means the component enters as (100 − score).
    pub components: &'static [(&'static str, bool)],
}

impl Instrument {
    pub fn item(&self, number: u8) -> Option<&'static Item> {
        let first = self.items.first()?.number;
        let item = self.items.get(usize::from(number.checked_sub(first)?))?;
        // The tables are contiguous; the check keeps this honest if that ever changes.
        (item.number == number).then_some(item)
    }

    pub fn scale(&self, code: &str) -> Option<&'static Scale> {
        self.scales.iter().find(|scale| scale.code == code)
    }

    pub fn item_numbers(&self) -> std::ops::RangeInclusive<u8> {
        let first = self.items.first().map_or(0, |item| item.number);
        let last = self.items.last().map_or(0, |item| item.number);
        first..=last
    }

    pub fn section_of(&self, item: u8) -> Option<&'static ConditionalSection> {
        self.conditional_sections.iter().find(|section| section.items.contains(&item))
    }

    /// The output column codes in their documented order: each scale, then the summary.
    pub fn score_codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.scales.iter().map(|scale| scale.code).chain(self.summary.map(|summary| summary.code))
    }
}

/// Whether `code` is a score qol computes (a scale or a summary of either instrument).
pub fn is_scale_code(code: &str) -> bool {
    InstrumentId::ALL.iter().any(|id| id.instrument().score_codes().any(|c| c == code))
}

const fn item(number: u8, response_scale: ResponseScaleId, scale: &'static str, topic: &'static str) -> Item {
    Item { number, response_scale, scale, topic }
}

use ResponseScaleId::{FourPoint as P4, SevenPoint as P7};

pub static C30_ITEMS: [Item; 30] = [
    item(1, P4, "PF2", "strenuous activities"),
    item(2, P4, "PF2", "long walk"),
    item(3, P4, "PF2", "short walk outside"),
    item(4, P4, "PF2", "in bed or chair during day"),
    item(5, P4, "PF2", "help with eating, dressing, washing"),
    item(6, P4, "RF2", "limited in work or daily activities"),
    item(7, P4, "RF2", "limited in hobbies or leisure"),
    item(8, P4, "DY", "short of breath"),
    item(9, P4, "PA", "pain"),
    item(10, P4, "FA", "needed to rest"),
    item(11, P4, "SL", "trouble sleeping"),
    item(12, P4, "FA", "weak"),
    item(13, P4, "AP", "lacked appetite"),
    item(14, P4, "NV", "nauseated"),
    item(15, P4, "NV", "vomited"),
    item(16, P4, "CO", "constipation"),
    item(17, P4, "DI", "diarrhoea"),
    item(18, P4, "FA", "tiredness"),
    item(19, P4, "PA", "pain interfering with daily activities"),
    item(20, P4, "CF", "concentrating"),
    item(21, P4, "EF", "tense"),
    item(22, P4, "EF", "worry"),
    item(23, P4, "EF", "irritable"),
    item(24, P4, "EF", "depressed"),
    item(25, P4, "CF", "remembering"),
    item(26, P4, "SF", "family life"),
    item(27, P4, "SF", "social activities"),
    item(28, P4, "FI", "financial difficulties"),
    item(29, P7, "QL2", "overall health"),
    item(30, P7, "QL2", "overall quality of life"),
];

const fn scale(
    code: &'static str,
    name: &'static str,
    kind: ScaleKind,
    transform: Transform,
    items: &'static [u8],
    range: u8,
) -> Scale {
    Scale { code, name, kind, transform, items, range }
}

use ScaleKind::{Functional, Global, Symptom};
use Transform::{Direct, Reversed};

/// The QLQ-C30 scales, in the EORTC's customary output order.
pub static C30_SCALES: [Scale; 15] = [
    scale("QL2", "global health status / QoL", Global, Direct, &[29, 30], 6),
    scale("PF2", "physical functioning", Functional, Reversed, &[1, 2, 3, 4, 5], 3),
    scale("RF2", "role functioning", Functional, Reversed, &[6, 7], 3),
    scale("EF", "emotional functioning", Functional, Reversed, &[21, 22, 23, 24], 3),
    scale("CF", "cognitive functioning", Functional, Reversed, &[20, 25], 3),
    scale("SF", "social functioning", Functional, Reversed, &[26, 27], 3),
    scale("FA", "fatigue", Symptom, Direct, &[10, 12, 18], 3),
    scale("NV", "nausea and vomiting", Symptom, Direct, &[14, 15], 3),
    scale("PA", "pain", Symptom, Direct, &[9, 19], 3),
    scale("DY", "dyspnoea", Symptom, Direct, &[8], 3),
    scale("SL", "insomnia", Symptom, Direct, &[11], 3),
    scale("AP", "appetite loss", Symptom, Direct, &[13], 3),
    scale("CO", "constipation", Symptom, Direct, &[16], 3),
    scale("DI", "diarrhoea", Symptom, Direct, &[17], 3),
    scale("FI", "financial difficulties", Symptom, Direct, &[28], 3),
];

pub static C30_SUMMARY: SummaryScore = SummaryScore {
    code: "C30SUM",
    name: "QLQ-C30 summary score",
    components: &[
        ("PF2", false),
        ("RF2", false),
        ("EF", false),
        ("CF", false),
        ("SF", false),
        ("FA", true),
        ("NV", true),
        ("PA", true),
        ("DY", true),
        ("SL", true),
        ("AP", true),
        ("CO", true),
        ("DI", true),
    ],
};

pub static CX24_ITEMS: [Item; 24] = [
    item(31, P4, "CXSE", "abdominal cramps"),
    item(32, P4, "CXSE", "bowel control"),
    item(33, P4, "CXSE", "blood in stools"),
    item(34, P4, "CXSE", "frequent urination"),
    item(35, P4, "CXSE", "pain or burning on urination"),
    item(36, P4, "CXSE", "urine leakage"),
    item(37, P4, "CXSE", "difficulty emptying bladder"),
    item(38, P4, "CXLY", "swelling of legs"),
    item(39, P4, "CXSE", "lower back pain"),
    item(40, P4, "CXPN", "tingling or numbness in hands/feet"),
    item(41, P4, "CXSE", "vaginal or vulval irritation"),
    item(42, P4, "CXSE", "vaginal discharge"),
    item(43, P4, "CXSE", "abnormal vaginal bleeding"),
    item(44, P4, "CXMS", "hot flushes or sweats"),
    item(45, P4, "CXBI", "less physically attractive"),
    item(46, P4, "CXBI", "less feminine"),
    item(47, P4, "CXBI", "dissatisfied with body"),
    item(48, P4, "CXSXW", "worry sex will be painful"),
    item(49, P4, "CXSXA", "sexually active"),
    item(50, P4, "CXSV", "vagina dry during sex"),
    item(51, P4, "CXSV", "vagina felt short"),
    item(52, P4, "CXSV", "vagina felt tight"),
    item(53, P4, "CXSV", "pain during intercourse"),
    item(54, P4, "CXSXE", "sexual activity enjoyable"),
];

/// The QLQ-CX24 scales. Direction: the seven symptom scales use the direct formula; CXSXA and
/// CXSXE are functional but also use the direct formula, because their items are worded so that a
/// high answer means more activity / enjoyment (eortc-scoring.md, "Direction note").
pub static CX24_SCALES: [Scale; 9] = [
    scale("CXSE", "symptom experience", Symptom, Direct, &[31, 32, 33, 34, 35, 36, 37, 39, 41, 42, 43], 3),
    scale("CXBI", "body image", Symptom, Direct, &[45, 46, 47], 3),
    scale("CXSV", "sexual/vaginal functioning", Symptom, Direct, &[50, 51, 52, 53], 3),
    scale("CXLY", "lymphoedema", Symptom, Direct, &[38], 3),
    scale("CXPN", "peripheral neuropathy", Symptom, Direct, &[40], 3),
    scale("CXMS", "menopausal symptoms", Symptom, Direct, &[44], 3),
    scale("CXSXW", "sexual worry", Symptom, Direct, &[48], 3),
    scale("CXSXA", "sexual activity", Functional, Direct, &[49], 3),
    scale("CXSXE", "sexual enjoyment", Functional, Direct, &[54], 3),
];

pub static CX24_SECTIONS: [ConditionalSection; 1] = [ConditionalSection {
    id: "sexually-active",
    condition: "answered only by women who were sexually active during the past 4 weeks",
    items: &[50, 51, 52, 53, 54],
    not_applicable_when: Some((49, 1)),
}];

pub static QLQ_C30: Instrument = Instrument {
    id: InstrumentId::QlqC30,
    name: "EORTC QLQ-C30",
    version: "3.0",
    recall_period: "the past week",
    items: &C30_ITEMS,
    scales: &C30_SCALES,
    conditional_sections: &[],
    summary: Some(&C30_SUMMARY),
};

pub static QLQ_CX24: Instrument = Instrument {
    id: InstrumentId::QlqCx24,
    name: "EORTC QLQ-CX24",
    version: "1.0",
    recall_period: "the past week (sexual items: the past 4 weeks)",
    items: &CX24_ITEMS,
    scales: &CX24_SCALES,
    conditional_sections: &CX24_SECTIONS,
    summary: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_belongs_to_exactly_the_scale_that_lists_it() {
        for id in InstrumentId::ALL {
            let instrument = id.instrument();
            for item in instrument.items {
                let listing: Vec<&str> = instrument
                    .scales
                    .iter()
                    .filter(|scale| scale.items.contains(&item.number))
                    .map(|scale| scale.code)
                    .collect();
                assert_eq!(listing, vec![item.scale], "item {} of {id}", item.number);
            }
            for scale in instrument.scales {
                for number in scale.items {
                    assert_eq!(instrument.item(*number).map(|item| item.scale), Some(scale.code));
                }
            }
        }
    }

    #[test]
    fn item_numbers_are_contiguous_and_lookups_agree() {
        assert_eq!(QLQ_C30.item_numbers(), 1..=30);
        assert_eq!(QLQ_CX24.item_numbers(), 31..=54);
        for id in InstrumentId::ALL {
            let instrument = id.instrument();
            for number in instrument.item_numbers() {
                assert_eq!(instrument.item(number).map(|item| item.number), Some(number));
            }
        }
        assert!(QLQ_C30.item(0).is_none());
        assert!(QLQ_C30.item(31).is_none());
        assert!(QLQ_CX24.item(30).is_none());
        assert!(QLQ_CX24.item(55).is_none());
    }

    #[test]
    fn each_scale_range_matches_its_items_response_scale() {
        for id in InstrumentId::ALL {
            let instrument = id.instrument();
            for scale in instrument.scales {
                for number in scale.items {
                    let response = instrument.item(*number).unwrap().response_scale;
                    assert_eq!(response.highest() - response.lowest(), scale.range, "{}", scale.code);
                }
            }
        }
    }

    #[test]
    fn the_summary_components_are_the_thirteen_c30_scales_without_ql2_and_fi() {
        let codes: Vec<&str> = C30_SUMMARY.components.iter().map(|(code, _)| *code).collect();
        assert_eq!(codes.len(), 13);
        assert!(!codes.contains(&"QL2") && !codes.contains(&"FI"));
        for (code, inverted) in C30_SUMMARY.components {
            let scale = QLQ_C30.scale(code).unwrap();
            assert_eq!(*inverted, scale.kind == ScaleKind::Symptom, "{code}");
        }
    }

    #[test]
    fn instrument_ids_round_trip_through_text() {
        for id in InstrumentId::ALL {
            assert_eq!(InstrumentId::parse(id.as_str()), Some(id));
            assert_eq!(InstrumentId::parse(&id.as_str().to_uppercase()), Some(id));
        }
        assert_eq!(InstrumentId::parse("qlq-c13"), None);
    }
}
