//! The languages qol speaks: the app's text, the demonstration wording pack, a patient's
//! enrolment and a submission's language. One type on both sides of the API; serde and OpenAPI
//! spell it as its BCP 47 tag.

use serde::{Deserialize, Serialize};

/// A language qol ships, spelled on the wire as its tag (`en`, `zh-CN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    #[serde(rename = "en")]
    English,
    #[serde(rename = "zh-CN")]
    Chinese,
}

impl Language {
    /// Every language, in the order the app offers them.
    pub const ALL: [Language; 2] = [Language::English, Language::Chinese];

    /// The BCP 47 tag the API, the wording packs and `<html lang>` use.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|language| language.tag() == tag)
    }

    /// The tags, joined for an error message: `en, zh-CN`.
    pub fn tags() -> String {
        Language::ALL.map(Language::tag).join(", ")
    }
}

/// The tags of the texts a protocol keeps per language (the study's contact details, assessment
/// labels): English, and Simplified Chinese written by script, whatever the region.
pub const TEXT_TAGS: [&str; 2] = ["en", "zh-Hans"];

impl Language {
    /// The key of this language's text in a protocol's per-language texts ([`TEXT_TAGS`]).
    pub fn text_tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-Hans",
        }
    }
}

/// This language's text from per-language texts keyed by [`TEXT_TAGS`], or the English one.
pub fn text_in(texts: &std::collections::BTreeMap<String, String>, language: Language) -> Option<&str> {
    texts.get(language.text_tag()).or_else(|| texts.get("en")).map(String::as_str)
}

/// Every problem with per-language texts at `key`: a tag that is not one of [`TEXT_TAGS`], an
/// empty text, and, when `english_required`, no English text. Each names its key.
pub fn text_problems(
    key: &str,
    texts: &std::collections::BTreeMap<String, String>,
    english_required: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (tag, text) in texts {
        if !TEXT_TAGS.contains(&tag.as_str()) {
            problems.push(format!(
                "{key}.{tag}: not a language qol offers; use one of: {}",
                TEXT_TAGS.join(", ")
            ));
        } else if text.trim().is_empty() {
            problems.push(format!("{key}.{tag}: is empty"));
        }
    }
    if english_required && !texts.contains_key("en") {
        problems.push(format!("{key}.en: is missing (the English text is required)"));
    }
    problems
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(tag: &str) -> Result<Language, String> {
        Language::from_tag(tag).ok_or_else(|| format!("language {tag:?} is not one of: {}", Language::tags()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_is_its_tag_on_the_wire() {
        for language in Language::ALL {
            let json = serde_json::to_string(&language).unwrap();
            assert_eq!(json, format!("\"{}\"", language.tag()));
            assert_eq!(serde_json::from_str::<Language>(&json).unwrap(), language);
            assert_eq!(language.tag().parse::<Language>().unwrap(), language);
        }
        assert!(serde_json::from_str::<Language>("\"zh\"").is_err());
        assert_eq!("fr".parse::<Language>().unwrap_err(), "language \"fr\" is not one of: en, zh-CN");
    }

    #[test]
    fn per_language_texts_fall_back_to_english_and_are_checked_by_key() {
        let texts: std::collections::BTreeMap<String, String> =
            [("en".to_owned(), "Baseline".to_owned()), ("zh-Hans".to_owned(), "基线".to_owned())].into();
        assert_eq!(text_in(&texts, Language::Chinese), Some("基线"));
        let english: std::collections::BTreeMap<String, String> =
            [("en".to_owned(), "Baseline".to_owned())].into();
        assert_eq!(text_in(&english, Language::Chinese), Some("Baseline"));
        assert!(text_problems("labels", &texts, true).is_empty());
        let bad: std::collections::BTreeMap<String, String> =
            [("zh-CN".to_owned(), "基线".to_owned()), ("zh-Hans".to_owned(), " ".to_owned())].into();
        assert_eq!(
            text_problems("contact.hours", &bad, true),
            [
                "contact.hours.zh-CN: not a language qol offers; use one of: en, zh-Hans",
                "contact.hours.zh-Hans: is empty",
                "contact.hours.en: is missing (the English text is required)",
            ]
        );
    }
}
