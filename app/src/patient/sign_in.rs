//! Activation (code + new PIN twice) and patient sign-in (study id + PIN).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::common::{Field, Problem, SignInForm};
use crate::i18n::{Text, t, text};

#[component]
pub fn Activate() -> impl IntoView {
    // The QR code on the enrolment sheet opens /activate?code=…: the code is filled in.
    let given = leptos_router::hooks::use_query_map().read_untracked().get("code").unwrap_or_default();
    let code = RwSignal::new(given);
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let form = SignInForm::new();
    let SignInForm { error, busy, language, .. } = form;
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

#[component]
pub fn PatientSignIn() -> impl IntoView {
    let study_id = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let form = SignInForm::new();
    let SignInForm { error, busy, .. } = form;
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
