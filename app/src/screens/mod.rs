//! One file per screen.

mod home;
mod instrument_preview;
mod not_found;
mod questionnaire;
mod sign_in;

pub use home::Start;
pub use instrument_preview::InstrumentPreview;
pub use not_found::NotFound;
pub use questionnaire::Questionnaire;
pub use sign_in::{Activate, PatientSignIn, StaffSignIn};

use leptos::prelude::*;

use crate::i18n::{Text, t};

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
