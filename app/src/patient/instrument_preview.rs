//! A questionnaire's items and response options in the current language, as the wording pack
//! has them. A preview for now; the patient's questionnaire flow replaces it.

use leptos::prelude::*;
use qol_shared::instrument::InstrumentId;

use crate::api;
use crate::common::Problem;
use crate::i18n::{Text, t, use_language};

#[component]
pub fn InstrumentPreview(id: String) -> impl IntoView {
    let language = use_language();
    let view_data = super::load(move || {
        let id = id.clone();
        let language = language.get();
        async move {
            let id = InstrumentId::parse(&id).ok_or(api::ApiFailure::Refused {
                status: 404,
                code: qol_shared::api::ErrorCode::NotFound,
                message: format!("there is no questionnaire {id:?}"),
            })?;
            api::instrument(id, language.tag()).await
        }
    });
    view! {
        <p><a href="/">{t(Text::Back)}</a></p>
        {move || match view_data.get() {
            None => view! { <p class="muted">{t(Text::Loading)}</p> }.into_any(),
            Some(Ok(instrument)) => view! {
                <h1>{instrument.title}</h1>
                {instrument.notice.map(|notice| view! { <p class="notice" role="note">{notice}</p> })}
                <p>{instrument.instructions}</p>
                <ol class="items">
                    {instrument.items.into_iter().map(|item| view! {
                        <li value=item.number>
                            <span class="item-text">{item.text}</span>
                            <span class="muted">
                                {item.options.iter().map(|o| o.label.clone()).collect::<Vec<_>>().join(" · ")}
                            </span>
                        </li>
                    }).collect_view()}
                </ol>
            }.into_any(),
            Some(Err(failure)) => view! { <Problem message=failure.say(language.get())/> }.into_any(),
        }}
    }
}
