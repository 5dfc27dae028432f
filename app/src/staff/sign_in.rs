//! The staff sign-in (username and password); the console's pages send a signed-out visitor here.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::common::{Field, Problem, SignInForm};
use crate::i18n::{Text, t};

#[component]
pub fn StaffSignIn() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = SignInForm::new();
    let SignInForm { error, busy, .. } = form;
    let navigate = use_navigate();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        form.start();
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = api::staff_sign_in(username.get_untracked(), password.get_untracked()).await;
            let language = form.language.get_untracked();
            form.finish(
                result.map_err(|failure| super::say(&failure, language)),
                |to| navigate(to, Default::default()),
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
        <p><a href="/staff/set-password">{t(super::text::S::SetPasswordLink)}</a></p>
        <p><a href="/" rel="external">{t(Text::Back)}</a></p>
    }
}
