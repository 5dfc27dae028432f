//! `qol-app`: the qol web app, a Leptos client-side WebAssembly app served by the qol server.
//!
//! - [`api`]: every HTTP call, typed with `qol-shared`.
//! - [`i18n`]: the app's own strings in English and Simplified Chinese.
//! - `screens/`: one file per screen.
//!
//! Built by `cargo xtask dist` (wasm32, wasm-bindgen, wasm-opt) into `dist/`.

pub mod api;
pub mod i18n;
mod screens;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::{Language, Text, t, use_language};

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    // The static loading message in index.html is replaced by the app.
    if let Some(loading) = document().get_element_by_id("loading") {
        loading.remove();
    }
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let language = RwSignal::new(initial_language());
    provide_context(language);
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", language.get().tag());
        }
    });
    view! {
        <Router>
            <header class="bar">
                <a class="brand" href="/">{t(Text::AppName)}</a>
                <LanguageSwitch/>
            </header>
            <main id="main" class="page">
                <Routes fallback=screens::NotFound>
                    <Route path=path!("/") view=screens::Home/>
                    <Route path=path!("/instruments/:id") view=screens::InstrumentPreview/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn LanguageSwitch() -> impl IntoView {
    let language = use_language();
    view! {
        <button
            type="button"
            class="language"
            aria-label=t(Text::SwitchLanguage)
            on:click=move |_| language.update(|l| *l = l.other())
        >
            {move || language.get().other().own_name()}
        </button>
    }
}

/// The browser's preferred language, if it is Chinese; English otherwise.
fn initial_language() -> Language {
    let preferred = window().navigator().language().unwrap_or_default();
    if preferred.to_ascii_lowercase().starts_with("zh") { Language::Chinese } else { Language::English }
}
