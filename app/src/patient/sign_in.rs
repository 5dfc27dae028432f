//! Activation (code + new PIN twice) and patient sign-in (study id + PIN). Either one ends a
//! sign-out made offline first, then opens (or makes) the phone's vault with the PIN.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::Me;

use super::lock::vault_text;
use super::outbox::Outbox;
use super::vault;
use crate::api::{self, ApiFailure};
use crate::common::{Field, Problem, SignInForm};
use crate::i18n::{Text, t, text};

/// After the server said yes: the phone's vault is opened with the PIN, and what it keeps for her
/// starts on its way. A phone without WebCrypto (an address without https) keeps nothing.
async fn open_vault(form: SignInForm, outbox: Outbox, me: Me, pin: String) -> Result<Me, String> {
    let study_id = me.study_id.clone().unwrap_or_default();
    match vault::open(&study_id, &pin).await {
        Ok(()) => {
            outbox.reload();
            Ok(me)
        }
        Err(error) => {
            // The server's session stays unused: end it, so nothing is signed in half-way.
            let _ = api::sign_out().await;
            Err(vault_text(form.language.get_untracked(), error).to_owned())
        }
    }
}

async fn sign_in_with(
    form: SignInForm,
    outbox: Outbox,
    pin: String,
    call: impl std::future::Future<Output = Result<Me, ApiFailure>>,
) -> Result<Me, String> {
    let language = form.language.get_untracked();
    if !crate::finish_pending_sign_out().await {
        return Err(ApiFailure::Unreachable.say(language));
    }
    match call.await {
        Ok(me) => open_vault(form, outbox, me, pin).await,
        Err(failure) => Err(failure.say(language)),
    }
}

#[component]
pub fn Activate() -> impl IntoView {
    // The QR code on the enrolment sheet opens /activate?code=…: the code is filled in.
    let given = super::nav::query("code").unwrap_or_default();
    let code = RwSignal::new(given);
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let form = SignInForm::new();
    let outbox = expect_context::<Outbox>();
    let SignInForm { error, busy, language, .. } = form;
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pin.get() != again.get() {
            error.set(Some(text(language.get(), Text::PinsDiffer).to_owned()));
            return;
        }
        form.start();
        spawn_local(async move {
            let pin = pin.get_untracked();
            let call = api::activate(code.get_untracked(), pin.clone());
            form.finish(sign_in_with(form, outbox, pin, call).await, super::nav::go, "/");
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
        <p><a href="/" class="tap">{t(Text::Back)}</a></p>
    }
}

#[component]
pub fn PatientSignIn() -> impl IntoView {
    let study_id = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let form = SignInForm::new();
    let outbox = expect_context::<Outbox>();
    let SignInForm { error, busy, .. } = form;
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        form.start();
        spawn_local(async move {
            let pin = pin.get_untracked();
            let call = api::patient_sign_in(study_id.get_untracked(), pin.clone());
            form.finish(sign_in_with(form, outbox, pin, call).await, super::nav::go, "/");
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
        <p class="muted" id="forgot-pin">{t(Text::ForgotPin)}</p>
        <p><a href="/" class="tap">{t(Text::Back)}</a></p>
    }
}
