//! The start page: the study this server runs and its questionnaires.

use leptos::prelude::*;

use crate::api;
use crate::i18n::{Text, t};

#[component]
pub fn Home() -> impl IntoView {
    let study = LocalResource::new(api::study);
    let instruments = LocalResource::new(api::instruments);
    view! {
        <section aria-labelledby="study-heading">
            <h1 id="study-heading">{t(Text::Study)}</h1>
            <Suspense fallback=move || view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || study.get().map(|result| match result {
                    Ok(study) => view! {
                        <p class="study-title">{study.title}</p>
                        <p class="muted">{study.code}</p>
                    }.into_any(),
                    Err(failure) => view! { <Problem message=failure.to_string()/> }.into_any(),
                })}
            </Suspense>
        </section>
        <section aria-labelledby="instruments-heading">
            <h2 id="instruments-heading">{t(Text::Questionnaires)}</h2>
            <Suspense fallback=move || view! { <p class="muted">{t(Text::Loading)}</p> }>
                {move || instruments.get().map(|result| match result {
                    Ok(list) => view! {
                        <ul class="cards">
                            {list.into_iter().map(|instrument| view! {
                                <li>
                                    <a class="card" href=format!("/instruments/{}", instrument.id)>
                                        <span class="card-title">{instrument.name} " " {instrument.version}</span>
                                        <span class="muted">{instrument.item_count} " " {t(Text::Items)}</span>
                                        {instrument.notice.map(|notice| view! { <span class="notice">{notice}</span> })}
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(failure) => view! { <Problem message=failure.to_string()/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn Problem(message: String) -> impl IntoView {
    view! {
        <div class="problem" role="alert">
            <strong>{t(Text::ServerProblem)}</strong>
            <p>{message}</p>
        </div>
    }
}
