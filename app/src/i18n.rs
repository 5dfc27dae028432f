//! The app's own text in each language it ships (English and Simplified Chinese). Questionnaire
//! wording is not here: it comes from the server's wording pack.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

impl Language {
    /// The tag the wording pack and the API use.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    pub fn other(self) -> Language {
        match self {
            Language::English => Language::Chinese,
            Language::Chinese => Language::English,
        }
    }

    /// The name of the language, written in that language, for the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Chinese => "简体中文",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    AppName,
    Loading,
    Study,
    Questionnaires,
    Items,
    ServerProblem,
    Back,
    SwitchLanguage,
    NotFound,
    GoHome,
}

pub fn text(language: Language, key: Text) -> &'static str {
    use Language::*;
    use Text::*;
    match (key, language) {
        (AppName, English) => "Quality of life",
        (AppName, Chinese) => "生活质量",
        (Loading, English) => "Loading…",
        (Loading, Chinese) => "正在加载…",
        (Study, English) => "Study",
        (Study, Chinese) => "研究",
        (Questionnaires, English) => "Questionnaires",
        (Questionnaires, Chinese) => "问卷",
        (Items, English) => "items",
        (Items, Chinese) => "个条目",
        (ServerProblem, English) => "Something went wrong",
        (ServerProblem, Chinese) => "出现问题",
        (Back, English) => "Back",
        (Back, Chinese) => "返回",
        (SwitchLanguage, English) => "Language",
        (SwitchLanguage, Chinese) => "语言",
        (NotFound, English) => "This page does not exist.",
        (NotFound, Chinese) => "此页面不存在。",
        (GoHome, English) => "Go to the start page",
        (GoHome, Chinese) => "返回首页",
    }
}

/// The current language, shared through context.
pub fn use_language() -> RwSignal<Language> {
    expect_context::<RwSignal<Language>>()
}

/// A reactive translation of `key`.
pub fn t(key: Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let language = use_language();
    move || text(language.get(), key)
}
