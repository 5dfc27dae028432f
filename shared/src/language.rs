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
}
