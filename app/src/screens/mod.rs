//! One file per screen.

#[cfg(not(feature = "staff"))]
mod home;
#[cfg(not(feature = "staff"))]
mod instrument_preview;
mod not_found;
#[cfg(not(feature = "staff"))]
mod questionnaire;
mod sign_in;

#[cfg(not(feature = "staff"))]
pub use home::Start;
#[cfg(not(feature = "staff"))]
pub use instrument_preview::InstrumentPreview;
pub use not_found::NotFound;
#[cfg(not(feature = "staff"))]
pub use questionnaire::Questionnaire;
#[cfg(feature = "staff")]
pub use sign_in::StaffSignIn;
#[cfg(not(feature = "staff"))]
pub use sign_in::{Activate, PatientSignIn};

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
