//! What both parts show: a refusal in plain words, the page that does not exist, and what the
//! sign-in forms share (the patient's activation and sign-in, the staff sign-in).

use leptos::prelude::*;

use crate::i18n::{Text, t, use_language};
use crate::{Home, Session, use_session};

/// A refusal or failure, in plain words.
#[component]
pub fn Problem(message: String) -> impl IntoView {
    view! {
        <div class="problem" role="alert">
            <strong>{t(Text::ServerProblem)}</strong>
            <p>{message}</p>
        </div>
    }
}

/// A path neither part knows; the way back leads to the start of the part the visitor is in.
#[component]
pub fn NotFound() -> impl IntoView {
    let Home(home) = expect_context::<Home>();
    view! {
        <h1>{t(Text::NotFound)}</h1>
        <p><a href=home>{t(Text::GoHome)}</a></p>
    }
}

/// A labelled text input bound to a signal.
#[component]
pub fn Field(
    id: &'static str,
    label: Text,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(default = "text")] inputmode: &'static str,
    #[prop(optional)] help: Option<Text>,
) -> impl IntoView {
    let help_id = format!("{id}-help");
    view! {
        <div class="field">
            <label for=id>{t(label)}</label>
            <input
                id=id
                name=id
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete
                aria-describedby=help.map(|_| help_id.clone())
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
            {help.map(|help| view! { <p class="muted" id=help_id.clone()>{t(help)}</p> })}
        </div>
    }
}

/// What every sign-in form shares: its error and busy state, and what happens on success.
#[derive(Clone, Copy)]
pub struct SignInForm {
    pub error: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    session: RwSignal<Session>,
    pub language: RwSignal<qol_shared::Language>,
}

impl SignInForm {
    pub fn new() -> SignInForm {
        SignInForm {
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            session: use_session(),
            language: use_language(),
        }
    }

    pub fn start(&self) {
        self.busy.set(true);
        self.error.set(None);
    }

    pub fn finish(&self, result: Result<qol_shared::api::Me, String>, navigate: impl Fn(&str), home: &str) {
        self.busy.set(false);
        match result {
            Ok(me) => {
                crate::signed_in(me, self.session, self.language);
                navigate(home);
            }
            Err(message) => self.error.set(Some(message)),
        }
    }
}
