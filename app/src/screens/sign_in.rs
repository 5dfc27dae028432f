//! Activation (code + new PIN twice), patient sign-in (study id + PIN) and staff sign-in.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use super::Problem;
use crate::api::{self, ApiFailure};
#[cfg(not(feature = "staff"))]
use crate::i18n::text;
use crate::i18n::{Text, t, use_language};

/// A labelled text input bound to a signal.
#[component]
fn Field(
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
struct Form {
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    session: RwSignal<crate::Session>,
    language: RwSignal<qol_shared::Language>,
}

impl Form {
    fn new() -> Form {
        Form {
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            session: crate::use_session(),
            language: use_language(),
        }
    }

    fn start(&self) {
        self.busy.set(true);
        self.error.set(None);
    }

    fn finish(
        &self,
        result: Result<qol_shared::api::Me, ApiFailure>,
        navigate: impl Fn(&str, leptos_router::NavigateOptions),
        home: &str,
    ) {
        self.busy.set(false);
        match result {
            Ok(me) => {
                crate::signed_in(me, self.session, self.language);
                navigate(home, Default::default());
            }
            Err(failure) => self.error.set(Some(failure.to_string())),
        }
    }
}

#[cfg(not(feature = "staff"))]
#[component]
pub fn Activate() -> impl IntoView {
    // The QR code on the enrolment sheet opens /activate?code=…: the code is filled in.
    let given = leptos_router::hooks::use_query_map().read_untracked().get("code").unwrap_or_default();
    let code = RwSignal::new(given);
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let form = Form::new();
    let Form { error, busy, language, .. } = form;
    let navigate = use_navigate();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pin.get() != again.get() {
            error.set(Some(text(language.get(), Text::PinsDiffer).to_owned()));
            return;
        }
        form.start();
        let navigate = navigate.clone();
        spawn_local(async move {
            form.finish(api::activate(code.get_untracked(), pin.get_untracked()).await, navigate, "/");
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::ActivateTitle)}</h1>
        <form class="form" on:submit=submit>
            <Field id="activation-code" label=Text::ActivationCode value=code autocomplete="one-time-code"/>
            <Field id="new-pin" label=Text::NewPin value=pin kind="password" inputmode="numeric" autocomplete="new-password" help=Text::PinHelp/>
            <Field id="new-pin-again" label=Text::NewPinAgain value=again kind="password" inputmode="numeric" autocomplete="new-password"/>
            {move || error.get().map(|message| view! { <Problem message/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{t(Text::Activate)}</button>
        </form>
        <p><a href="/">{t(Text::Back)}</a></p>
    }
}

#[cfg(not(feature = "staff"))]
#[component]
pub fn PatientSignIn() -> impl IntoView {
    let study_id = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let form = Form::new();
    let Form { error, busy, .. } = form;
    let navigate = use_navigate();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        form.start();
        let navigate = navigate.clone();
        spawn_local(async move {
            form.finish(
                api::patient_sign_in(study_id.get_untracked(), pin.get_untracked()).await,
                navigate,
                "/",
            );
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::SignInTitle)}</h1>
        <form class="form" on:submit=submit>
            <Field id="study-id" label=Text::StudyId value=study_id autocomplete="username"/>
            <Field id="pin" label=Text::Pin value=pin kind="password" inputmode="numeric" autocomplete="current-password"/>
            {move || error.get().map(|message| view! { <Problem message/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{t(Text::SignIn)}</button>
        </form>
        <p><a href="/">{t(Text::Back)}</a></p>
    }
}

#[cfg(feature = "staff")]
#[component]
pub fn StaffSignIn() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = Form::new();
    let Form { error, busy, .. } = form;
    let navigate = use_navigate();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        form.start();
        let navigate = navigate.clone();
        spawn_local(async move {
            form.finish(
                api::staff_sign_in(username.get_untracked(), password.get_untracked()).await,
                navigate,
                "/staff",
            );
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::StaffSignIn)}</h1>
        <form class="form" on:submit=submit>
            <Field id="username" label=Text::Username value=username autocomplete="username"/>
            <Field id="password" label=Text::Password value=password kind="password" autocomplete="current-password"/>
            {move || error.get().map(|message| view! { <Problem message/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{t(Text::SignIn)}</button>
        </form>
        <p><a href="/" rel="external">{t(Text::Back)}</a></p>
    }
}
