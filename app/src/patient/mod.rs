//! The patient's app (feature `patient`; the bundle phones open at `/`): one file per screen,
//! the outbox that delivers finished questionnaires, the vault that seals what the phone keeps
//! of her, and the lock in front of it all.

mod help;
mod history;
mod home;
mod instrument_preview;
mod lock;
mod nav;
mod outbox;
mod questionnaire;
mod settings;
mod sign_in;
pub mod vault;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::Frame;
use crate::common::NotFound;
use nav::Screen;

/// The patient's app at every path but the console's. Nothing of hers is read or sent until
/// her PIN has opened the phone's vault (at sign-in, or on the lock screen).
#[component]
pub fn PatientApp() -> impl IntoView {
    let outbox = outbox::Outbox::new();
    provide_context(outbox);
    outbox.listen();
    request_persistent_storage();
    // The study's contact details and idle lock, kept for offline use before any screen needs
    // them.
    let _ = lock::study_resource();
    let screen = nav::provide();
    view! {
        <Frame home="/">
            <Watch outbox/>
            <lock::Gate>
                {move || match screen.get() {
                    Screen::Start => view! { <home::Start/> }.into_any(),
                    Screen::Activate => view! { <sign_in::Activate/> }.into_any(),
                    Screen::SignIn => view! { <sign_in::PatientSignIn/> }.into_any(),
                    Screen::SignOut => view! { <lock::SignOut/> }.into_any(),
                    Screen::Help => view! { <help::Help/> }.into_any(),
                    Screen::History => view! { <history::History/> }.into_any(),
                    Screen::Settings => view! { <settings::ReminderSettings/> }.into_any(),
                    Screen::Questionnaire(key) => view! { <questionnaire::Questionnaire key/> }.into_any(),
                    Screen::Instrument(id) => view! { <instrument_preview::InstrumentPreview id/> }.into_any(),
                    Screen::NotFound => view! { <NotFound/> }.into_any(),
                }}
            </lock::Gate>
        </Frame>
    }
}

/// Starts the idle lock once the session is known (it needs the session, which the frame makes);
/// and follows what ends her session elsewhere: the server (a 401 while sending: what waits stays
/// sealed until she signs in again), and a sign-out in another tab of this browser.
#[component]
fn Watch(outbox: outbox::Outbox) -> impl IntoView {
    let session = crate::use_session();
    lock::watch_idle(session, outbox);
    Effect::new(move |_| {
        if outbox.needs_sign_in.get() {
            lock::ended_elsewhere(session, outbox);
        }
    });
    let other_tab = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::StorageEvent)>::new(
        move |event: web_sys::StorageEvent| {
            if event.key().as_deref() == Some(crate::SIGN_OUT_PENDING) && event.new_value().is_some() {
                lock::ended_elsewhere(session, outbox);
            }
        },
    );
    use wasm_bindgen::JsCast;
    let _ = window().add_event_listener_with_callback("storage", other_tab.as_ref().unchecked_ref());
    other_tab.forget();
}

/// What a screen waits for (the server's answer, or the phone's copy offline): `None` until
/// `fetch`'s answer has come, and again while it comes anew, which it does whenever a signal that
/// `fetch` reads before its first `.await` changes; an answer overtaken by a newer request is
/// dropped. Screens show "Loading…" (or nothing) while it is `None`. This is what Leptos's
/// `LocalResource` read under a `Suspense` did here, without their machinery (transitions,
/// suspense contexts, async locks), which was about 8 KB brotli of the phone's first load.
pub(crate) fn load<T, F>(fetch: impl Fn() -> F + 'static) -> RwSignal<Option<T>>
where
    T: Send + Sync + 'static,
    F: Future<Output = T> + 'static,
{
    let value = RwSignal::new(None);
    let latest = std::rc::Rc::new(std::cell::Cell::new(0_u64));
    Effect::new(move |_| {
        let answer = fetch();
        let request = latest.get().wrapping_add(1);
        latest.set(request);
        if value.with_untracked(Option::is_some) {
            value.set(None);
        }
        let latest = std::rc::Rc::clone(&latest);
        spawn_local(async move {
            let answer = answer.await;
            if latest.get() == request {
                value.set(Some(answer));
            }
        });
    });
    value
}

/// Asks the browser not to evict what the phone keeps (drafts and the outbox) under storage
/// pressure. The browser may say no; nothing depends on the answer.
fn request_persistent_storage() {
    if let Ok(promise) = window().navigator().storage().persist() {
        spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}
