//! Keeping the phone safe when it is shared: the gate in front of every screen (a sealed phone
//! asks for the PIN first), the lock after a few idle minutes, and a sign-out that holds online
//! or off, with a choice for forms not yet sent.

use std::cell::Cell;

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{Me, StudySummary};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::outbox::Outbox;
use super::vault::{self, VaultError};
use crate::common::{Field, Problem};
use crate::i18n::{Text, t, text, use_language};
use crate::local::{self, Delivery};
use crate::{Session, api, use_session};

const STUDY_KEY: &str = "qol.study";
/// Wrong PINs in a row on the lock screen before the phone asks for a full sign-in.
const MAX_UNLOCK_TRIES: u32 = 5;

/// The study's public details (contact, idle lock), from the server and kept on the phone for
/// offline use.
pub fn study_resource() -> RwSignal<Option<Option<StudySummary>>> {
    super::load(|| async {
        match api::get_keeping::<StudySummary>("/api/v1/study").await {
            Ok((study, text)) => {
                local::save_text(STUDY_KEY, &text);
                Some(study)
            }
            Err(_) => local::load(STUDY_KEY),
        }
    })
}

fn idle_limit_ms() -> f64 {
    let seconds = local::load::<StudySummary>(STUDY_KEY).map_or(300, |study| study.idle_lock_seconds);
    f64::from(seconds.max(10)) * 1000.0
}

thread_local! {
    static LAST_ACTIVE: Cell<f64> = Cell::new(js_sys::Date::now());
}

/// Locks the app after the study's idle time without a touch or a key (checked every few
/// seconds, and at once when the app comes back into view).
pub fn watch_idle(session: RwSignal<Session>, outbox: Outbox) {
    let touched = Closure::<dyn Fn()>::new(|| LAST_ACTIVE.with(|last| last.set(js_sys::Date::now())));
    for event in ["pointerdown", "keydown", "touchstart", "input", "scroll"] {
        let _ = document().add_event_listener_with_callback(event, touched.as_ref().unchecked_ref());
    }
    touched.forget();
    let check = move || {
        let idle = js_sys::Date::now() - LAST_ACTIVE.with(Cell::get);
        if idle >= idle_limit_ms()
            && let Session::SignedIn(me) = session.get_untracked()
            && vault::is_open()
        {
            lock_now(session, outbox, me);
        }
    };
    let on_visible = Closure::<dyn Fn()>::new(check);
    let _ =
        document().add_event_listener_with_callback("visibilitychange", on_visible.as_ref().unchecked_ref());
    on_visible.forget();
    let _ = set_interval_with_handle(check, std::time::Duration::from_secs(2));
}

fn lock_now(session: RwSignal<Session>, outbox: Outbox, me: Me) {
    vault::lock();
    outbox.forget();
    session.set(Session::Locked(me));
}

/// Her session ended elsewhere (the server, another tab): this tab forgets the key and what it
/// had open, and counts as signed out; what the phone keeps stays sealed.
pub fn ended_elsewhere(session: RwSignal<Session>, outbox: Outbox) {
    vault::lock();
    outbox.forget();
    crate::signed_out(session);
}

/// In front of every screen: while the session is checked, a word; a sealed phone, the PIN.
/// Typed, like the frame's children: the routes' view is not erased, which keeps the patient's
/// bundle smaller.
#[component]
pub fn Gate<R: IntoView + 'static>(children: TypedChildrenFn<R>) -> impl IntoView {
    let session = use_session();
    let children = children.into_inner();
    let screen = expect_context::<Memo<super::nav::Screen>>();
    move || match session.get() {
        Session::Checking => EitherOf3::A(view! { <p class="muted">{t(Text::Loading)}</p> }.into_any()),
        Session::Locked(me) => EitherOf3::B(view! { <Unlock me/> }),
        // Signed out, only the public screens open: her history, settings or a form are never
        // shown on a session that is ending (or someone else's).
        Session::SignedOut if !screen.with(super::nav::Screen::is_public) => {
            EitherOf3::A(view! { <super::home::Start/> }.into_any())
        }
        _ => EitherOf3::C(children()),
    }
}

const UNLOCK_FAILURES: &str = "qol.unlock_failures";

/// The lock screen: her PIN opens the phone's sealed answers, offline too.
#[component]
fn Unlock(me: Me) -> impl IntoView {
    let session = use_session();
    let language = use_language();
    let outbox = expect_context::<Outbox>();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let study_id = me.study_id.clone().unwrap_or_default();
    let submit = {
        let me = me.clone();
        let study_id = study_id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            busy.set(true);
            error.set(None);
            let me = me.clone();
            let study_id = study_id.clone();
            spawn_local(async move {
                let entered = pin.get_untracked();
                let result = match vault::unlock(&study_id, &entered).await {
                    Ok(true) => Ok(()),
                    // No sealed data on this phone (an older version, or cleared): the server
                    // checks the PIN, and the phone's vault is made with it.
                    Ok(false) => match api::patient_sign_in(study_id.clone(), entered.clone()).await {
                        Ok(_) => vault::open(&study_id, &entered)
                            .await
                            .map_err(|e| vault_text(language.get_untracked(), e).to_owned()),
                        Err(failure) => Err(failure.say(language.get_untracked())),
                    },
                    Err(VaultError::WrongPin) => {
                        Err(text(language.get_untracked(), Text::WrongPinHere).to_owned())
                    }
                    Err(other) => Err(vault_text(language.get_untracked(), other).to_owned()),
                };
                busy.set(false);
                pin.set(String::new());
                match result {
                    Ok(()) => {
                        local::remove(UNLOCK_FAILURES);
                        LAST_ACTIVE.with(|last| last.set(js_sys::Date::now()));
                        outbox.reload();
                        session.set(Session::SignedIn(me));
                    }
                    Err(message) => {
                        // Counted on the phone, so a reload does not start the count again.
                        let tries = local::load::<u32>(UNLOCK_FAILURES).unwrap_or(0) + 1;
                        local::save(UNLOCK_FAILURES, &tries);
                        if tries >= MAX_UNLOCK_TRIES {
                            local::remove(UNLOCK_FAILURES);
                            sign_out(session, outbox, Some(study_id.clone()), true);
                        } else {
                            error.set(Some(message));
                        }
                    }
                }
            });
        }
    };
    let not_me = move |_| sign_out(session, outbox, Some(study_id.clone()), true);
    // Help needs no PIN: the study's number and what to do if it is urgent.
    let study = study_resource();
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::LockedTitle)}</h1>
        <p class="lead">{t(Text::LockedLead)}</p>
        <form class="form" on:submit=submit>
            <Field id="unlock-pin" label=Text::Pin value=pin kind="password" inputmode="numeric" autocomplete="current-password"/>
            {move || error.get().map(|message| view! { <Problem message/> })}
            <button type="submit" class="primary" disabled=move || busy.get()>{t(Text::Unlock)}</button>
        </form>
        <p class="muted">{t(Text::ForgotPin)}</p>
        <p><button type="button" class="link" id="not-me" on:click=not_me>{t(Text::NotMe)}</button></p>
        {move || study.get().flatten().and_then(|study| study.contact).map(|contact| view! { <super::help::ContactCard contact/> })}
    }
}

pub fn vault_text(language: qol_shared::Language, error: VaultError) -> &'static str {
    match error {
        VaultError::WrongPin => text(language, Text::WrongPinHere),
        VaultError::NoCrypto => text(language, Text::NeedsSecureAddress),
    }
}

/// Signs the patient out of this phone. The server's session is ended now, or at the next
/// contact when offline (until then the app counts as signed out). What the phone keeps of her
/// is removed, except, with `keep_unsent`, forms not yet sent, which stay sealed with her PIN
/// until she signs in again.
pub fn sign_out(session: RwSignal<Session>, outbox: Outbox, study_id: Option<String>, keep_unsent: bool) {
    local::save(crate::SIGN_OUT_PENDING, &true);
    outbox.forget();
    match &study_id {
        Some(study_id) => vault::destroy(study_id, keep_unsent),
        None => vault::lock(),
    }
    crate::signed_out(session);
    spawn_local(async move {
        // The session ends first; then this phone's push subscription, which was hers, ends in
        // the browser (the push service then refuses it, and the server forgets it).
        crate::finish_pending_sign_out().await;
        super::settings::forget_push().await;
    });
}

/// What is not yet sent: forms in the outbox waiting or refused and a call request waiting, and
/// drafts in progress.
fn unsent(outbox: Outbox) -> (usize, usize) {
    let waiting = outbox.entries.with_untracked(|entries| {
        entries.iter().filter(|entry| !matches!(entry.delivery, Delivery::Sent { .. })).count()
    }) + vault::names(super::help::PENDING).len();
    (waiting, vault::names("draft.").len())
}

/// `/sign-out`: signs out at once when nothing is waiting; otherwise asks what to do with what
/// was not sent (send it first, keep it locked on the phone, or delete it after a second tap).
#[component]
pub fn SignOut() -> impl IntoView {
    let session = use_session();
    let outbox = expect_context::<Outbox>();
    let study_id = match session.get_untracked() {
        Session::SignedIn(me) | Session::Locked(me) => me.study_id,
        _ => None,
    };
    let confirm_delete = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let done = {
        let study_id = study_id.clone();
        move |keep: bool| {
            sign_out(session, outbox, study_id.clone(), keep);
            // In its place: Back never comes to /sign-out again (it would sign her out).
            super::nav::replace("/");
        }
    };
    if study_id.is_none() || unsent(outbox) == (0, 0) {
        // After this render: nothing waits, so nothing to ask.
        let done = done.clone();
        request_animation_frame(move || done(false));
        return view! { <p class="muted">{t(Text::Loading)}</p> }.into_any();
    }
    // Sending first: once every waiting form has its receipt, she is signed out; if the phone
    // cannot send now, she is told, and chooses again.
    let send_first = move |_| {
        sending.set(true);
        outbox.flush();
    };
    Effect::new({
        let done = done.clone();
        move |_| {
            if !sending.get() {
                return;
            }
            let (waiting, drafts) = unsent(outbox);
            outbox.entries.track();
            outbox.help_delivered.track();
            if waiting == 0 {
                // What is finished is sent; forms begun but not finished are never deleted
                // without her say: they stay, sealed. Once: signing out changes what this
                // effect follows.
                sending.set(false);
                done(drafts > 0);
            } else if !outbox.is_flushing() {
                sending.set(false);
            }
        }
    });
    let keep = {
        let done = done.clone();
        move |_| done(true)
    };
    let delete = move |_| done(false);
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::SignOutTitle)}</h1>
        {move || {
            let (waiting, drafts) = unsent(outbox);
            view! {
                <p class="lead" id="unsent-count">
                    {t(Text::UnsentLead)} " " {waiting + drafts}
                </p>
            }
        }}
        {move || (!sending.get() && outbox.last_attempt_failed()).then(|| view! {
            <p class="problem" id="cannot-send">{t(Text::CannotSendNow)}</p>
        })}
        <div class="choices">
            <button type="button" class="primary" id="send-then-sign-out" on:click=send_first disabled=move || sending.get()>
                {move || if sending.get() { t(Text::Sending)() } else { t(Text::SendThenSignOut)() }}
            </button>
            <button type="button" class="secondary" id="keep-locked" on:click=keep>{t(Text::KeepLocked)}</button>
            {move || if confirm_delete.get() {
                let delete = delete.clone();
                view! {
                    <div class="problem" role="alert">
                        <p>{t(Text::DeleteWarning)}</p>
                        <button type="button" class="secondary danger" id="delete-confirmed" on:click=delete>{t(Text::DeleteAndSignOut)}</button>
                    </div>
                }.into_any()
            } else {
                view! {
                    <button type="button" class="secondary" id="delete-unsent" on:click=move |_| confirm_delete.set(true)>{t(Text::DeleteUnsent)}</button>
                }.into_any()
            }}
        </div>
        <p><a href="/">{t(Text::Cancel)}</a></p>
    }
    .into_any()
}
