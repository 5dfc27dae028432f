use leptos::prelude::*;

use crate::i18n::{Text, t};

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>{t(Text::NotFound)}</h1>
        <p><a href=crate::HOME>{t(Text::GoHome)}</a></p>
    }
}
