//! `qol-app`: the qol web app, a Leptos client-side WebAssembly app served by the qol server.
//!
//! - [`api`]: every HTTP call, typed with `qol-shared`.
//! - [`local`]: what the phone keeps (drafts, outbox, cached wording) in localStorage.
//! - [`outbox`]: delivery of finished questionnaires, with retries, until the server's receipt.
//! - [`i18n`]: the app's strings in English and Simplified Chinese.
//! - `screens/`: one file per screen of the patient's app (and the sign-in forms).
//! - `staff/` (feature `staff`): the staff console: worklist, follow-up, patients, enrolment,
//!   patient page, research.
//!
//! Built twice by `cargo xtask dist` (wasm32, wasm-bindgen, wasm-opt) into `dist/`: without
//! features, the patient's app (`index.html`, the phone's first load); with `staff`, the staff
//! console (`staff.html`, served under `/staff`), so patients never download the staff screens.

pub mod api;
pub mod i18n;
pub mod local;
#[cfg(not(feature = "staff"))]
pub mod outbox;
mod screens;
#[cfg(feature = "staff")]
mod staff;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use qol_shared::Language;
use qol_shared::api::Me;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::{Text, other, own_name, t, use_language};

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    // The static loading message in index.html is replaced by the app.
    if let Some(loading) = document().get_element_by_id("loading") {
        loading.remove();
    }
    leptos::mount::mount_to_body(App);
}

/// Who is using the app, shared through context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    Checking,
    SignedOut,
    SignedIn(Me),
}

pub fn use_session() -> RwSignal<Session> {
    expect_context::<RwSignal<Session>>()
}

const ME_KEY: &str = "qol.me";

/// Records who signed in (kept on the phone so the app opens offline) and their language.
/// Takes the signals, because it runs after an `.await`, where context is out of reach.
pub fn signed_in(me: Me, session: RwSignal<Session>, language: RwSignal<Language>) {
    local::save(ME_KEY, &me);
    if let Some(chosen) = me.language.as_deref().and_then(Language::from_tag) {
        language.set(chosen);
    }
    session.set(Session::SignedIn(me));
}

pub fn signed_out(session: RwSignal<Session>) {
    local::remove(ME_KEY);
    session.set(Session::SignedOut);
}

#[component]
fn App() -> impl IntoView {
    let language = RwSignal::new(initial_language());
    provide_context(language);
    let session = RwSignal::new(Session::Checking);
    provide_context(session);
    #[cfg(not(feature = "staff"))]
    {
        let outbox = outbox::Outbox::new();
        provide_context(outbox);
        outbox.listen();
        outbox.flush();
    }

    spawn_local(async move {
        let state = match api::me().await {
            Ok(Some(me)) => {
                local::save(ME_KEY, &me);
                Session::SignedIn(me)
            }
            Ok(None) => {
                local::remove(ME_KEY);
                Session::SignedOut
            }
            // Offline: trust what the phone remembers; the server decides when it is reached.
            Err(_) => local::load::<Me>(ME_KEY).map_or(Session::SignedOut, Session::SignedIn),
        };
        session.set(state);
    });
    Effect::new(move |_| {
        let language = language.get();
        local::save(local::LANGUAGE, &language);
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", language.tag());
        }
    });
    #[cfg(not(feature = "staff"))]
    request_persistent_storage();

    view! {
        <Router>
            <header class="bar">
                <a class="brand" href=HOME>{t(Text::AppName)}</a>
                <LanguageSwitch/>
            </header>
            <main id="main" class="page">{routes()}</main>
        </Router>
    }
}

#[cfg(not(feature = "staff"))]
const HOME: &str = "/";
#[cfg(feature = "staff")]
const HOME: &str = "/staff";

#[cfg(not(feature = "staff"))]
fn routes() -> impl IntoView {
    view! {
        <Routes fallback=screens::NotFound>
            <Route path=path!("/") view=screens::Start/>
            <Route path=path!("/activate") view=screens::Activate/>
            <Route path=path!("/sign-in") view=screens::PatientSignIn/>
            <Route path=path!("/questionnaire/:key") view=screens::Questionnaire/>
            <Route path=path!("/instruments/:id") view=screens::InstrumentPreview/>
        </Routes>
    }
}

#[cfg(feature = "staff")]
fn routes() -> impl IntoView {
    view! {
        <Routes fallback=screens::NotFound>
            <Route path=path!("/staff/sign-in") view=screens::StaffSignIn/>
            <Route path=path!("/staff") view=staff::Worklist/>
            // The address an alert e-mail links to (`?card=N` scrolls to the card).
            <Route path=path!("/staff/worklist") view=staff::Worklist/>
            <Route path=path!("/staff/follow-up") view=staff::FollowUp/>
            <Route path=path!("/staff/patients") view=staff::Patients/>
            <Route path=path!("/staff/patients/new") view=staff::Enrol/>
            <Route path=path!("/staff/patients/:id") view=staff::PatientPage/>
            <Route path=path!("/staff/research") view=staff::Research/>
        </Routes>
    }
}

#[component]
fn LanguageSwitch() -> impl IntoView {
    let language = use_language();
    view! {
        <button
            type="button"
            class="language"
            // The visible name is part of the accessible one (WCAG 2.5.3): "Language: 中文".
            aria-label=move || format!("{}: {}", crate::i18n::text(language.get(), Text::SwitchLanguage), own_name(other(language.get())))
            on:click=move |_| language.update(|l| *l = other(*l))
        >
            {move || own_name(other(language.get()))}
        </button>
    }
}

/// The language chosen before on this phone, else the browser's if it is Chinese, else English.
fn initial_language() -> Language {
    if let Some(language) = local::load::<Language>(local::LANGUAGE) {
        return language;
    }
    let preferred = window().navigator().language().unwrap_or_default();
    if preferred.to_ascii_lowercase().starts_with("zh") { Language::Chinese } else { Language::English }
}

#[cfg(not(feature = "staff"))]
/// Asks the browser not to evict what the phone keeps (drafts and the outbox) under storage
/// pressure. The browser may say no; nothing depends on the answer.
fn request_persistent_storage() {
    if let Ok(promise) = window().navigator().storage().persist() {
        spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}
