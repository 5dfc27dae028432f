//! "I need help" (`/help`): one tap asks the nurse to call, sent at once, before any question;
//! the study's telephone number and what to do in an emergency, always there (offline too, and
//! before sign-in); what happens next and by when; and an optional short symptom check.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{HelpReceipt, HelpRequest, StudyContact};
use qol_shared::instrument::InstrumentId;

use super::lock::study_resource;
use super::outbox::Outbox;
use super::vault;
use crate::api::{self, ApiFailure};
use crate::i18n::{Text, local_time, t, use_language};
use crate::local::{self, Draft};
use crate::{Session, use_session};

/// A call request not yet received by the server (sealed in her vault; the outbox retries it).
pub const PENDING: &str = "help.pending";
/// The server's receipt of her latest call request.
const RECEIVED: &str = "help.received";

/// The QLQ-C30's symptom items (dyspnoea, pain, fatigue, insomnia, appetite, nausea and
/// vomiting, constipation, diarrhoea): the short check after a call request.
const SYMPTOM_ITEMS: [u8; 12] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];

/// Sends a call request of `owner` (whose vault was open); on its receipt, the request is done
/// and the receipt kept, unless the vault is no longer hers.
pub async fn deliver(request: &HelpRequest, owner: Option<String>) -> Result<HelpReceipt, ApiFailure> {
    let receipt = api::help_request(request).await?;
    if vault::owner() == owner {
        vault::save(RECEIVED, &receipt);
        vault::remove(PENDING);
    }
    Ok(receipt)
}

/// The study's contact text in `language`, or English.
fn contact_text(
    texts: &std::collections::BTreeMap<String, String>,
    language: qol_shared::Language,
) -> String {
    qol_shared::language::text_in(texts, language).unwrap_or_default().to_owned()
}

/// The study's telephone number and emergency advice.
#[component]
pub fn ContactCard(contact: StudyContact) -> impl IntoView {
    let language = use_language();
    let phone = contact.phone.clone();
    let href =
        format!("tel:{}", phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>());
    let hours = contact.hours.clone();
    let urgent = contact.urgent_advice.clone();
    view! {
        <section class="contact" aria-labelledby="contact-heading">
            <h2 id="contact-heading">{t(Text::CallStudyTeam)}</h2>
            <a class="choice phone" id="study-phone" href=href>{phone}</a>
            <p class="muted">{move || contact_text(&hours, language.get())}</p>
            <h2>{t(Text::UrgentTitle)}</h2>
            <p class="urgent" id="urgent-advice">{move || contact_text(&urgent, language.get())}</p>
        </section>
    }
}

#[component]
pub fn Help() -> impl IntoView {
    let session = use_session();
    let outbox = expect_context::<Outbox>();
    let language = use_language();
    let study = study_resource();
    let signed_in = move || matches!(session.get(), Session::SignedIn(_));
    // The state of her latest request: received (with its receipt), waiting, or none.
    let receipt = RwSignal::new(vault::load::<HelpReceipt>(RECEIVED));
    let waiting = RwSignal::new(vault::load::<HelpRequest>(PENDING).is_some());
    let busy = RwSignal::new(false);
    // A request the outbox delivered later (back online) shows as received.
    Effect::new(move |_| {
        outbox.help_delivered.track();
        receipt.set(vault::load::<HelpReceipt>(RECEIVED));
        waiting.set(vault::load::<HelpRequest>(PENDING).is_some());
    });
    let ask = move |_| {
        let request = vault::load::<HelpRequest>(PENDING)
            .unwrap_or_else(|| HelpRequest { client_id: local::new_client_id() });
        // Kept on the phone first: if it cannot go now, the outbox sends it when it can.
        vault::save(PENDING, &request);
        waiting.set(true);
        busy.set(true);
        spawn_local(async move {
            match deliver(&request, vault::owner()).await {
                Ok(received) => {
                    receipt.set(Some(received));
                    waiting.set(false);
                    crate::announce(Text::HelpReceived);
                }
                Err(_) => {
                    crate::announce(Text::HelpNotYet);
                    outbox.flush();
                }
            }
            busy.set(false);
        });
    };
    let short_check = move |_| {
        let key = "unscheduled";
        if vault::load::<Draft>(&local::draft_name(key)).is_none() {
            vault::save(
                &local::draft_name(key),
                &Draft {
                    key: key.to_owned(),
                    assessment_id: None,
                    label: "Unscheduled report".to_owned(),
                    labels: crate::i18n::unscheduled_labels(),
                    instruments: vec![InstrumentId::QlqC30],
                    client_id: local::new_client_id(),
                    answers: Default::default(),
                    position: 0,
                    call_me: Some(true),
                    only_items: SYMPTOM_ITEMS.to_vec(),
                    help_requested: true,
                    editing: false,
                },
            );
        }
        super::nav::go(&format!("/questionnaire/{key}"));
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::HelpTitle)}</h1>
        {move || signed_in().then(|| match (receipt.get(), waiting.get()) {
            (_, true) => view! {
                <div class="state refused" id="help-state">
                    <p><strong>{t(Text::HelpNotYet)}</strong></p>
                    <p>{t(Text::HelpNotYetLead)}</p>
                    <button type="button" class="secondary" on:click=ask disabled=move || busy.get()>{t(Text::Retry)}</button>
                </div>
            }.into_any(),
            (Some(received), false) => {
                let by = received.call_back_by.text();
                view! {
                    <div class="state sent" id="help-state">
                        <p><strong>{t(Text::HelpReceived)}</strong></p>
                        <p>{t(Text::CallBackBy)} " " <strong>{move || local_time(&by, language.get().tag())}</strong></p>
                        <p>{t(Text::CallBackLead)}</p>
                    </div>
                }.into_any()
            }
            (None, false) => view! {
                <p class="lead">{t(Text::HelpLead)}</p>
                <button type="button" class="primary" id="ask-call" on:click=ask disabled=move || busy.get()>{t(Text::AskCall)}</button>
            }.into_any(),
        })}
        {move || study.get().flatten().and_then(|study| study.contact).map(|contact| view! { <ContactCard contact/> })}
        {move || signed_in().then(|| view! {
            <section class="worse" aria-labelledby="check-heading">
                <h2 id="check-heading">{t(Text::ShortCheckTitle)}</h2>
                <p class="muted">{t(Text::ShortCheckLead)}</p>
                <button type="button" class="secondary" id="short-check" on:click=short_check>{t(Text::ShortCheck)}</button>
            </section>
        })}
        <p><a href="/">{t(Text::Back)}</a></p>
    }
}
