//! Wording packs: the patient-facing text of the instruments (item texts, response labels,
//! instructions, section notes, scale names), keyed by language and item number, loaded from a
//! JSON file and validated on load.
//!
//! The EORTC wording is copyrighted and licensed per study, so the repository ships only
//! [`WordingPack::demo`], neutral topic labels written for qol and marked as "demonstration
//! wording — not the validated questionnaire". A site loads its licensed pack from a file in the
//! same format (see `docs/wording-packs.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instrument::{InstrumentId, ResponseScaleId, ScaleKind};

pub const PACK_FORMAT: &str = "qol-wording-pack/1";
const DEMO_PACK_JSON: &str = include_str!("../wording/demo.json");
const DEMO_PACK_FILE: &str = "shared/wording/demo.json";

/// A validated wording pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordingPack {
    pub format: String,
    pub name: String,
    /// `true` for the shipped demonstration pack; such a pack must carry a notice in every
    /// language, and every screen that shows its text shows the notice.
    pub demonstration: bool,
    /// The permission or licence under which the wording is used.
    pub licence: String,
    pub languages: BTreeMap<String, LanguageWording>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageWording {
    pub language_name: String,
    /// Shown on every questionnaire screen; required in a demonstration pack.
    #[serde(default)]
    pub notice: Option<String>,
    /// Response labels per response scale id and code.
    pub response_labels: BTreeMap<String, BTreeMap<String, String>>,
    pub instruments: BTreeMap<String, InstrumentWording>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentWording {
    pub title: String,
    pub instructions: String,
    /// Item texts keyed by item number.
    pub items: BTreeMap<String, String>,
    /// Scale names keyed by scale code (and the summary code).
    pub scales: BTreeMap<String, String>,
    /// Notes for conditional sections, keyed by section id.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
}

/// One problem in a wording pack: the file, the key (a dotted path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}: {problem}")]
pub struct WordingError {
    pub file: String,
    pub key: String,
    pub problem: String,
}

/// Every problem found in a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordingErrors(pub Vec<WordingError>);

impl std::fmt::Display for WordingErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for error in &self.0 {
            writeln!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WordingErrors {}

impl WordingPack {
    /// Parses and validates a pack. `file` names the source in error messages.
    pub fn parse(file: &str, json: &str) -> Result<WordingPack, WordingErrors> {
        let pack: WordingPack = serde_json::from_str(json).map_err(|error| {
            WordingErrors(vec![WordingError {
                file: file.to_owned(),
                key: format!("line {}, column {}", error.line(), error.column()),
                problem: format!("{error}; see docs/wording-packs.md for the format"),
            }])
        })?;
        let errors = pack.problems(file);
        if errors.is_empty() { Ok(pack) } else { Err(WordingErrors(errors)) }
    }

    /// The demonstration pack shipped with qol (English and Simplified Chinese).
    pub fn demo() -> WordingPack {
        // The shipped file is validated by a unit test, so this cannot fail in a build that passed.
        WordingPack::parse(DEMO_PACK_FILE, DEMO_PACK_JSON)
            .unwrap_or_else(|errors| panic!("the demonstration wording pack is invalid:\n{errors}"))
    }

    pub fn language(&self, language: &str) -> Option<&LanguageWording> {
        self.languages.get(language)
    }

    pub fn instrument(&self, language: &str, id: InstrumentId) -> Option<&InstrumentWording> {
        self.language(language)?.instruments.get(id.as_str())
    }

    fn problems(&self, file: &str) -> Vec<WordingError> {
        let mut errors = Vec::new();
        let mut problem = |key: String, problem: String| {
            errors.push(WordingError { file: file.to_owned(), key, problem });
        };
        if self.format != PACK_FORMAT {
            problem("format".into(), format!("is {:?}; expected {PACK_FORMAT:?}", self.format));
        }
        if self.name.trim().is_empty() {
            problem("name".into(), "is empty".into());
        }
        if self.languages.is_empty() {
            problem("languages".into(), "lists no language; add at least one".into());
        }
        for (language, wording) in &self.languages {
            let at = format!("languages.{language}");
            if crate::Language::from_tag(language).is_none() {
                problem(
                    at.clone(),
                    format!("is not a language qol offers; use one of: {}", crate::Language::tags()),
                );
            }
            if self.demonstration && wording.notice.as_deref().is_none_or(|n| n.trim().is_empty()) {
                problem(
                    format!("{at}.notice"),
                    "is required in a demonstration pack (\"demonstration wording — not the validated questionnaire\")".into(),
                );
            }
            check_texts(&mut problem, &format!("{at}.language_name"), [&wording.language_name]);
            for scale in [ResponseScaleId::FourPoint, ResponseScaleId::SevenPoint] {
                let key = format!("{at}.response_labels.{}", scale.as_str());
                let labels = wording.response_labels.get(scale.as_str());
                let Some(labels) = labels else {
                    problem(key, "is missing".into());
                    continue;
                };
                let expected: Vec<String> = scale.codes().map(|code| code.to_string()).collect();
                check_keys(&mut problem, &key, labels, &expected, "code");
            }
            for unknown in wording.response_labels.keys() {
                if ![ResponseScaleId::FourPoint, ResponseScaleId::SevenPoint]
                    .iter()
                    .any(|scale| scale.as_str() == unknown)
                {
                    problem(
                        format!("{at}.response_labels.{unknown}"),
                        "is not a response scale; expected four_point or seven_point".into(),
                    );
                }
            }
            for id in InstrumentId::ALL {
                let key = format!("{at}.instruments.{id}");
                let Some(instrument) = wording.instruments.get(id.as_str()) else {
                    problem(key, "is missing; every language must cover every instrument".into());
                    continue;
                };
                let definition = id.instrument();
                check_texts(&mut problem, &format!("{key}.title"), [&instrument.title]);
                check_texts(&mut problem, &format!("{key}.instructions"), [&instrument.instructions]);
                let items: Vec<String> =
                    definition.items.iter().map(|item| item.number.to_string()).collect();
                check_keys(&mut problem, &format!("{key}.items"), &instrument.items, &items, "item");
                let scales: Vec<String> = definition.score_codes().map(str::to_owned).collect();
                check_keys(&mut problem, &format!("{key}.scales"), &instrument.scales, &scales, "scale");
                let sections: Vec<String> =
                    definition.conditional_sections.iter().map(|s| s.id.to_owned()).collect();
                check_keys(
                    &mut problem,
                    &format!("{key}.sections"),
                    &instrument.sections,
                    &sections,
                    "section",
                );
            }
            for unknown in wording.instruments.keys() {
                if InstrumentId::parse(unknown).is_none() {
                    problem(
                        format!("{at}.instruments.{unknown}"),
                        "is not an instrument; expected qlq-c30 or qlq-cx24".into(),
                    );
                }
            }
        }
        for (key, text) in self.texts() {
            if let Some(markup) = markup_in(text) {
                problem(
                    key,
                    format!(
                        "holds markup ({markup}): texts are shown as written, so write them without HTML"
                    ),
                );
            }
        }
        errors
    }

    /// Every text of the pack with its dotted key (`languages.en.instruments.qlq-c30.items.1`).
    pub fn texts(&self) -> Vec<(String, &str)> {
        let mut texts = Vec::new();
        for (language, wording) in &self.languages {
            let at = format!("languages.{language}");
            texts.push((format!("{at}.language_name"), wording.language_name.as_str()));
            if let Some(notice) = &wording.notice {
                texts.push((format!("{at}.notice"), notice.as_str()));
            }
            for (scale, labels) in &wording.response_labels {
                for (code, label) in labels {
                    texts.push((format!("{at}.response_labels.{scale}.{code}"), label.as_str()));
                }
            }
            for (id, instrument) in &wording.instruments {
                let key = format!("{at}.instruments.{id}");
                texts.push((format!("{key}.title"), instrument.title.as_str()));
                texts.push((format!("{key}.instructions"), instrument.instructions.as_str()));
                for (part, map) in [
                    ("items", &instrument.items),
                    ("scales", &instrument.scales),
                    ("sections", &instrument.sections),
                ] {
                    for (name, text) in map {
                        texts.push((format!("{key}.{part}.{name}"), text.as_str()));
                    }
                }
            }
        }
        texts
    }

    /// The keys whose text differs between `self` and `newer` (changed, added or taken out), in
    /// key order.
    pub fn differences(&self, newer: &WordingPack) -> Vec<String> {
        let old: BTreeMap<String, &str> = self.texts().into_iter().collect();
        let new: BTreeMap<String, &str> = newer.texts().into_iter().collect();
        let mut keys: Vec<String> = old
            .iter()
            .filter(|(key, text)| new.get(*key) != Some(*text))
            .map(|(key, _)| key.clone())
            .chain(new.keys().filter(|key| !old.contains_key(*key)).cloned())
            .collect();
        keys.sort();
        keys
    }
}

/// The first piece of HTML in a text: a tag (`<b>`, `</p>`, `<!--`) or an entity (`&amp;`,
/// `&#39;`). A `<` or `&` followed by anything else ("< 10 times", "pain & fatigue") is text.
fn markup_in(text: &str) -> Option<String> {
    for (at, found) in text.char_indices() {
        let rest = &text[at..];
        let after = &rest[found.len_utf8()..];
        let next = after.chars().next();
        match found {
            '<' if next.is_some_and(|next| next.is_ascii_alphabetic() || "/!?".contains(next)) => {
                let end = rest.find('>').map_or(rest.len().min(12), |end| (end + 1).min(24));
                return Some(rest[..rest.floor_char_boundary(end)].to_owned());
            }
            '&' => {
                let name: String =
                    after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '#').take(10).collect();
                if !name.is_empty() && after[name.len()..].starts_with(';') {
                    return Some(format!("&{name};"));
                }
            }
            _ => {}
        }
    }
    None
}

fn check_texts<'a>(
    problem: &mut impl FnMut(String, String),
    key: &str,
    texts: impl IntoIterator<Item = &'a String>,
) {
    for text in texts {
        if text.trim().is_empty() {
            problem(key.to_owned(), "is empty".into());
        }
    }
}

/// Every expected key is present with a non-empty text, and no other key is.
fn check_keys(
    problem: &mut impl FnMut(String, String),
    key: &str,
    map: &BTreeMap<String, String>,
    expected: &[String],
    what: &str,
) {
    for wanted in expected {
        match map.get(wanted) {
            None => problem(format!("{key}.{wanted}"), format!("is missing: every {what} needs a text")),
            Some(text) if text.trim().is_empty() => problem(format!("{key}.{wanted}"), "is empty".into()),
            Some(_) => {}
        }
    }
    for present in map.keys() {
        if !expected.contains(present) {
            problem(format!("{key}.{present}"), format!("is not a known {what}"));
        }
    }
}

/// An instrument's structure joined with its wording in one language: what the app renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstrumentView {
    pub id: InstrumentId,
    pub name: String,
    pub version: String,
    pub language: String,
    pub title: String,
    pub instructions: String,
    /// Present when the pack is a demonstration pack: shown on every screen.
    pub notice: Option<String>,
    pub items: Vec<ItemView>,
    pub sections: Vec<SectionView>,
    pub scales: Vec<ScaleView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemView {
    pub number: u8,
    pub text: String,
    pub response_scale: ResponseScaleId,
    pub options: Vec<OptionView>,
    /// The conditional section the item belongs to, if any.
    pub section: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionView {
    pub code: u8,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionView {
    pub id: String,
    pub text: String,
    pub items: Vec<u8>,
    /// The item whose answer decides whether the section applies, and the code that means it
    /// does not: the app skips the section's items after that answer. (Absent in wording cached
    /// by an older app.)
    #[serde(default)]
    pub not_applicable_when: Option<(u8, u8)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScaleView {
    pub code: String,
    pub name: String,
    pub kind: Option<ScaleKind>,
    pub items: Vec<u8>,
}

impl WordingPack {
    /// The instrument in `language`, or `None` when the pack does not have that language.
    pub fn view(&self, id: InstrumentId, language: &str) -> Option<InstrumentView> {
        let wording = self.language(language)?;
        let text = wording.instruments.get(id.as_str())?;
        let definition = id.instrument();
        let lookup = |map: &BTreeMap<String, String>, key: &str| map.get(key).cloned().unwrap_or_default();
        let items = definition
            .items
            .iter()
            .map(|item| {
                let labels = wording.response_labels.get(item.response_scale.as_str());
                ItemView {
                    number: item.number,
                    text: lookup(&text.items, &item.number.to_string()),
                    response_scale: item.response_scale,
                    options: item
                        .response_scale
                        .codes()
                        .map(|code| OptionView {
                            code,
                            label: labels.map(|l| lookup(l, &code.to_string())).unwrap_or_default(),
                        })
                        .collect(),
                    section: definition.section_of(item.number).map(|s| s.id.to_owned()),
                }
            })
            .collect();
        let sections = definition
            .conditional_sections
            .iter()
            .map(|section| SectionView {
                id: section.id.to_owned(),
                text: lookup(&text.sections, section.id),
                items: section.items.to_vec(),
                not_applicable_when: section.not_applicable_when,
            })
            .collect();
        let mut scales: Vec<ScaleView> = definition
            .scales
            .iter()
            .map(|scale| ScaleView {
                code: scale.code.to_owned(),
                name: lookup(&text.scales, scale.code),
                kind: Some(scale.kind),
                items: scale.items.to_vec(),
            })
            .collect();
        if let Some(summary) = definition.summary {
            scales.push(ScaleView {
                code: summary.code.to_owned(),
                name: lookup(&text.scales, summary.code),
                kind: None,
                items: Vec::new(),
            });
        }
        Some(InstrumentView {
            id,
            name: definition.name.to_owned(),
            version: definition.version.to_owned(),
            language: language.to_owned(),
            title: text.title.clone(),
            instructions: text.instructions.clone(),
            notice: if self.demonstration { wording.notice.clone() } else { None },
            items,
            sections,
            scales,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_value() -> serde_json::Value {
        serde_json::from_str(DEMO_PACK_JSON).unwrap()
    }

    fn problems_of(value: serde_json::Value) -> Vec<WordingError> {
        WordingPack::parse("site.json", &value.to_string()).unwrap_err().0
    }

    #[test]
    fn the_demonstration_pack_is_valid_and_covers_english_and_simplified_chinese() {
        let pack = WordingPack::demo();
        assert!(pack.demonstration);
        assert_eq!(pack.languages.keys().collect::<Vec<_>>(), ["en", "zh-CN"]);
        for language in ["en", "zh-CN"] {
            let notice = pack.language(language).unwrap().notice.clone().unwrap();
            assert!(!notice.is_empty());
            let view = pack.view(InstrumentId::QlqCx24, language).unwrap();
            assert_eq!(view.notice, Some(notice));
            assert_eq!(view.items.len(), 24);
            assert!(view.items.iter().all(|item| !item.text.is_empty()));
        }
        assert_eq!(
            pack.language("en").unwrap().notice.as_deref(),
            Some("These are simplified demonstration questions, not the validated questionnaire.")
        );
    }

    #[test]
    fn a_language_qol_does_not_offer_and_html_are_refused_naming_their_keys() {
        let mut value = demo_value();
        let english = value["languages"]["en"].clone();
        value["languages"]["fr"] = english;
        value["languages"]["en"]["instruments"]["qlq-c30"]["items"]["3"] = "Trouble <b>walking</b>".into();
        value["languages"]["zh-CN"]["response_labels"]["four_point"]["2"] = "A&nbsp;little".into();
        let problems: Vec<(String, String)> =
            problems_of(value).into_iter().map(|error| (error.key, error.problem)).collect();
        assert_eq!(
            problems,
            [
                ("languages.fr".to_owned(), "is not a language qol offers; use one of: en, zh-CN".to_owned()),
                (
                    "languages.en.instruments.qlq-c30.items.3".to_owned(),
                    "holds markup (<b>): texts are shown as written, so write them without HTML".to_owned()
                ),
                (
                    "languages.zh-CN.response_labels.four_point.2".to_owned(),
                    "holds markup (&nbsp;): texts are shown as written, so write them without HTML"
                        .to_owned()
                ),
            ]
        );
        assert_eq!(markup_in("fewer than < 10 & more"), None);
        assert_eq!(markup_in("1 — very poor <br> 7 — excellent"), Some("<br>".to_owned()));
        assert_eq!(markup_in("很差 &lt; 很好"), Some("&lt;".to_owned()));
        assert_eq!(markup_in("a <!-- note -->"), Some("<!-- note -->".to_owned()));
        assert_eq!(markup_in("x &#39; y"), Some("&#39;".to_owned()));
    }

    #[test]
    fn differences_name_each_changed_added_and_removed_text() {
        let demo = WordingPack::demo();
        assert!(demo.differences(&demo).is_empty());
        let mut value = demo_value();
        value["languages"]["en"]["instruments"]["qlq-c30"]["items"]["3"] = "Trouble on a short walk".into();
        value["languages"]["en"]["notice"] = serde_json::Value::Null;
        value["demonstration"] = false.into();
        let newer: WordingPack = serde_json::from_value(value).unwrap();
        assert_eq!(
            demo.differences(&newer),
            ["languages.en.instruments.qlq-c30.items.3", "languages.en.notice"]
        );
        assert_eq!(
            newer.differences(&demo),
            ["languages.en.instruments.qlq-c30.items.3", "languages.en.notice"]
        );
    }

    #[test]
    fn a_view_joins_structure_and_wording() {
        let view = WordingPack::demo().view(InstrumentId::QlqC30, "en").unwrap();
        assert_eq!(view.items[0].number, 1);
        assert_eq!(view.items[0].text, "Trouble with strenuous activities");
        assert_eq!(view.items[0].options.len(), 4);
        assert_eq!(view.items[0].options[3], OptionView { code: 4, label: "Very much".into() });
        assert_eq!(view.items[29].options.len(), 7);
        assert_eq!(view.scales.last().unwrap().code, "C30SUM");
        let cx24 = WordingPack::demo().view(InstrumentId::QlqCx24, "zh-CN").unwrap();
        assert_eq!(cx24.sections[0].items, vec![50, 51, 52, 53, 54]);
        assert_eq!(cx24.items[19].section.as_deref(), Some("sexually-active"));
        assert!(WordingPack::demo().view(InstrumentId::QlqC30, "fr").is_none());
    }

    #[test]
    fn a_missing_item_is_reported_with_file_and_key() {
        let mut value = demo_value();
        value["languages"]["en"]["instruments"]["qlq-c30"]["items"].as_object_mut().unwrap().remove("17");
        let errors = problems_of(value);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "site.json: languages.en.instruments.qlq-c30.items.17: is missing: every item needs a text"
        );
    }

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        let mut value = demo_value();
        value["languages"]["zh-CN"]["instruments"]["qlq-cx24"]["items"]["55"] = "extra".into();
        value["languages"]["en"]["response_labels"]["four_point"]["5"] = "extra".into();
        value["languages"]["en"]["instruments"]["qlq-c30"]["scales"]["XX"] = "extra".into();
        value["languages"]["en"]["instruments"]["qlq-c99"] =
            value["languages"]["en"]["instruments"]["qlq-c30"].clone();
        let keys: Vec<String> = problems_of(value).into_iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                "languages.en.response_labels.four_point.5",
                "languages.en.instruments.qlq-c30.scales.XX",
                "languages.en.instruments.qlq-c99",
                "languages.zh-CN.instruments.qlq-cx24.items.55",
            ]
        );
        let mut top = demo_value();
        top["colour"] = "blue".into();
        assert!(problems_of(top)[0].problem.contains("unknown field `colour`"));
    }

    #[test]
    fn every_response_code_needs_a_label() {
        let mut value = demo_value();
        value["languages"]["en"]["response_labels"]["seven_point"].as_object_mut().unwrap().remove("4");
        value["languages"]["zh-CN"]["response_labels"]["four_point"]["2"] = " ".into();
        let errors = problems_of(value);
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            ["languages.en.response_labels.seven_point.4", "languages.zh-CN.response_labels.four_point.2"]
        );
    }

    #[test]
    fn a_demonstration_pack_must_carry_its_notice_and_a_licensed_one_need_not() {
        let mut value = demo_value();
        value["languages"]["en"].as_object_mut().unwrap().remove("notice");
        let errors = problems_of(value.clone());
        assert_eq!(errors[0].key, "languages.en.notice");
        value["demonstration"] = false.into();
        let pack = WordingPack::parse("site.json", &value.to_string()).unwrap();
        assert_eq!(pack.view(InstrumentId::QlqC30, "zh-CN").unwrap().notice, None);
    }

    #[test]
    fn malformed_json_names_the_line_and_column() {
        let errors = WordingPack::parse("site.json", "{\n  \"format\": }").unwrap_err().0;
        assert_eq!(errors[0].file, "site.json");
        assert_eq!(errors[0].key, "line 2, column 13");
    }

    #[test]
    fn the_demonstration_pack_holds_no_more_than_short_topic_labels() {
        // A guard against pasting licensed wording into the repository: demonstration item texts
        // are short labels, not questions.
        let pack = WordingPack::demo();
        for (language, wording) in &pack.languages {
            for (id, instrument) in &wording.instruments {
                for (item, text) in &instrument.items {
                    assert!(text.chars().count() <= 40, "{language}/{id}/{item} is long: {text}");
                    assert!(!text.contains('?'), "{language}/{id}/{item} is a question: {text}");
                }
            }
        }
    }
}
