//! `qol-app`: the qol web app, a Leptos client-side WebAssembly app served by the qol server, in
//! two parts behind two additive features:
//!
//! - `patient/` (feature `patient`, the default): the patient's phone app, one file per screen, and
//!   the outbox that delivers finished questionnaires.
//! - `staff/` (feature `staff`): the staff console: worklist, follow-up, patients, enrolment,
//!   patient page, research.
//!
//! and the core both use:
//!
//! - [`api`]: every HTTP call, typed with `qol-shared`.
//! - [`local`]: what the phone keeps (drafts, outbox, cached wording) in localStorage.
//! - [`i18n`]: the app's strings in English and Simplified Chinese, one mechanism for both parts.
//! - `common`: what both parts show (a refusal, the page that does not exist, the sign-in forms'
//!   pieces); and in this file, the session and the frame around every page (the bar, the
//!   language switch, the router).
//!
//! `cargo xtask dist` (wasm32, wasm-bindgen, wasm-opt) builds two bundles into `dist/`, each with
//! one part: `patient` (`index.html`, the phone's first load) and `staff` (`staff.html`, served
//! under `/staff`), so patients never download the console. Built with both (`--all-features`),
//! the app mounts the console on `/staff` and under it, the patient's app everywhere else.

// A build with neither part has no app to start: say so, rather than build an empty bundle.
#[cfg(not(any(feature = "patient", feature = "staff")))]
compile_error!("qol-app is built with the feature `patient`, `staff`, or both");

pub mod api;
mod common;
pub mod i18n;
mod json;
pub mod local;
#[cfg(feature = "patient")]
pub(crate) mod patient;
#[cfg(feature = "staff")]
mod staff;

use leptos::children::TypedChildren;
use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::Language;
use qol_shared::api::Me;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::{Text, other, own_name, t, use_language};

#[wasm_bindgen(start)]
pub fn start() {
    // A panic's message in the browser's console. A shipped bundle stops at once on a panic
    // (`immediate-abort`, xtask/src/dist.rs), where no hook ever runs: it is left out there.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    // The static loading message in index.html is replaced by the app.
    if let Some(loading) = document().get_element_by_id("loading") {
        loading.remove();
    }
    if mounts_console() {
        #[cfg(feature = "staff")]
        leptos::mount::mount_to_body(staff::Console);
    } else {
        #[cfg(feature = "patient")]
        leptos::mount::mount_to_body(patient::PatientApp);
    }
}

/// Whether this page gets the staff console rather than the patient's app. With both parts the
/// console has `/staff` and every path under it (the paths the server sends the console's bundle
/// for); a build with one part (each bundle) mounts that part at every path.
fn mounts_console() -> bool {
    match (cfg!(feature = "patient"), cfg!(feature = "staff")) {
        (true, true) => {
            let path = window().location().pathname().unwrap_or_default();
            path == "/staff" || path.starts_with("/staff/")
        }
        (_, staff) => staff,
    }
}

/// Who is using the app, shared through context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    Checking,
    SignedOut,
    /// A patient whose session holds but whose answers on the phone are sealed: the app asks for
    /// her PIN before anything else (after a reload, or when it locked itself while idle).
    Locked(Me),
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
    if let Some(chosen) = me.language {
        language.set(chosen);
    }
    session.set(Session::SignedIn(me));
}

pub fn signed_out(session: RwSignal<Session>) {
    local::remove(ME_KEY);
    session.set(Session::SignedOut);
}

/// Set when a sign-out could not reach the server (offline): until the server has ended that
/// session, the app treats the phone as signed out and ends it first at the next contact.
pub const SIGN_OUT_PENDING: &str = "qol.sign_out_pending";

/// Ends a sign-out that could not reach the server before: true once the server has ended the
/// session (or there was none to end).
pub async fn finish_pending_sign_out() -> bool {
    if local::load::<bool>(SIGN_OUT_PENDING) != Some(true) {
        return true;
    }
    match api::sign_out().await {
        Ok(()) | Err(api::ApiFailure::Refused { status: 401, .. }) => {
            local::remove(SIGN_OUT_PENDING);
            true
        }
        Err(_) => false,
    }
}

/// Who the app is for, once the server (or, offline, the phone) has said who is signed in: a
/// patient whose answers are sealed on this phone is asked for her PIN first.
fn resume(me: Me) -> Session {
    #[cfg(feature = "patient")]
    if me.role == qol_shared::api::Role::Patient && !patient::vault::is_open() {
        return Session::Locked(me);
    }
    Session::SignedIn(me)
}

/// Where the app's name in the bar, and "Go to the start page", lead: the start of the part in
/// use (`/` or `/staff`). Shared through context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Home(pub &'static str);

/// What both parts put around their pages: the language and the session (shared through context;
/// who is signed in is asked of the server at once and, offline, remembered), the bar with the
/// app's name and the language switch, and the part's screens (`children`; each part routes its
/// own paths).
#[component]
fn Frame<R: IntoView + 'static>(home: &'static str, children: TypedChildren<R>) -> impl IntoView {
    // Typed rather than `Children`: the routes' view is not erased, which keeps the patient's
    // bundle smaller.
    let children = children.into_inner();
    let language = RwSignal::new(initial_language());
    provide_context(language);
    let session = RwSignal::new(Session::Checking);
    provide_context(session);
    provide_context(Home(home));

    spawn_local(async move {
        // A sign-out made offline holds: the old session is ended before anything else, and
        // until then nobody is signed in on this phone.
        if !finish_pending_sign_out().await {
            local::remove(ME_KEY);
            session.set(Session::SignedOut);
            return;
        }
        let state = match api::me().await {
            Ok(Some(me)) => {
                local::save(ME_KEY, &me);
                resume(me)
            }
            Ok(None) => {
                local::remove(ME_KEY);
                Session::SignedOut
            }
            // Offline: trust what the phone remembers; the server decides when it is reached.
            Err(_) => local::load::<Me>(ME_KEY).map_or(Session::SignedOut, resume),
        };
        session.set(state);
    });
    Effect::new(move |_| {
        let language = language.get();
        local::save(local::LANGUAGE, &language.tag());
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", language.tag());
        }
    });

    // The patient's app has help one tap away on every screen; the console does not need it.
    let help = (home == "/").then(|| view! { <a class="help-link" href="/help">{t(Text::HelpTitle)}</a> });
    view! {
        <a class="skip-link" href="#main">{t(Text::SkipToContent)}</a>
            <header class="bar">
                <a class="brand" href=home>{t(Text::AppName)}</a>
                <span class="bar-end">{help}<LanguageSwitch/></span>
            </header>
            <main id="main" class="page" tabindex="-1">{children()}</main>
            // The app's one live region: what changed without moving focus is said here.
            <div id="announce" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
    }
}

/// Says `key` (in the app's current language) through the app's one polite live region.
pub fn announce(key: impl i18n::Strings) {
    let language = local::load::<String>(local::LANGUAGE)
        .as_deref()
        .and_then(Language::from_tag)
        .unwrap_or(Language::English);
    if let Some(region) = document().get_element_by_id("announce") {
        // Emptied first, so the same words said twice are heard twice.
        region.set_text_content(None);
        let words = i18n::text(language, key);
        request_animation_frame(move || {
            if let Some(region) = document().get_element_by_id("announce") {
                region.set_text_content(Some(words));
            }
        });
    }
}

#[component]
fn LanguageSwitch() -> impl IntoView {
    let language = use_language();
    view! {
        // Its name is its visible text (WCAG 2.5.3), in the language it names (`lang`, 3.1.2).
        <button
            type="button"
            class="language"
            lang=move || other(language.get()).tag()
            on:click=move |_| language.update(|l| *l = other(*l))
        >
            {move || own_name(other(language.get()))}
        </button>
    }
}

/// The language chosen before on this phone, else the browser's if it is Chinese, else English.
fn initial_language() -> Language {
    // Read as its tag, as it is saved: the same JSON as the `Language` itself, without serde's
    // enum code in the patient's bundle.
    if let Some(language) = local::load::<String>(local::LANGUAGE).as_deref().and_then(Language::from_tag) {
        return language;
    }
    let preferred = window().navigator().language().unwrap_or_default();
    if preferred.to_ascii_lowercase().starts_with("zh") { Language::Chinese } else { Language::English }
}
