//! The patient's app (feature `patient`; the bundle phones open at `/`): one file per screen, and
//! the outbox that delivers finished questionnaires.

mod home;
mod instrument_preview;
mod outbox;
mod questionnaire;
mod settings;
mod sign_in;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Routes};
use leptos_router::path;

use crate::Frame;
use crate::common::NotFound;

/// The patient's app at every path but the console's. What the phone keeps starts on its way at
/// once: the outbox sends what is waiting, before any screen asks for it.
#[component]
pub fn PatientApp() -> impl IntoView {
    let outbox = outbox::Outbox::new();
    provide_context(outbox);
    outbox.listen();
    outbox.flush();
    request_persistent_storage();
    view! {
        <Frame home="/">
            <Routes fallback=NotFound>
                <Route path=path!("/") view=home::Start/>
                <Route path=path!("/activate") view=sign_in::Activate/>
                <Route path=path!("/sign-in") view=sign_in::PatientSignIn/>
                <Route path=path!("/settings") view=settings::ReminderSettings/>
                <Route path=path!("/questionnaire/:key") view=questionnaire::Questionnaire/>
                <Route path=path!("/instruments/:id") view=instrument_preview::InstrumentPreview/>
            </Routes>
        </Frame>
    }
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
