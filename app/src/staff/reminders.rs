//! A patient's reminders on her page: how she is reminded (channel, language, e-mail; the nurse
//! can change them), whether a reminder can reach her at all, and every reminder sent or tried,
//! with what failed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::Language;
use qol_shared::api::{MessageState, PatientReminders, ReminderChannel, SetReminders};

use super::text::{self, S};
use super::{Failed, api};
use crate::i18n::{local_time, t, use_language};

#[component]
pub(super) fn Reminders(study_id: String) -> impl IntoView {
    let changed = RwSignal::new(0_u32);
    let reminders = LocalResource::new({
        let study_id = study_id.clone();
        move || {
            changed.track();
            let id = study_id.clone();
            async move { api::reminders(&id).await }
        }
    });
    view! {
        <section aria-labelledby="reminders-heading" class="panel" id="reminders">
            <h2 id="reminders-heading">{t(S::RemindersTitle)}</h2>
            <p class="muted">{t(S::RemindersLead)}</p>
            <Suspense fallback=|| ()>
                {move || reminders.get().map(|result| match result {
                    Ok(current) => view! { <Settings current study_id=study_id.clone() changed/> }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Settings(current: PatientReminders, study_id: String, changed: RwSignal<u32>) -> impl IntoView {
    let language = use_language();
    let settings = current.settings.clone();
    let channel = RwSignal::new(settings.channel);
    let reads = RwSignal::new(settings.language);
    let email = RwSignal::new(current.email.clone());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = SetReminders {
            channel: channel.get_untracked(),
            language: reads.get_untracked(),
            email: Some(email.get_untracked()),
        };
        let id = study_id.clone();
        spawn_local(async move {
            match api::set_reminders(&id, &body).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                    changed.update(|n| *n += 1);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    let status = if !settings.study_sends_reminders {
        view! { <p class="muted" id="reminder-status">{t(S::StudySendsNone)}</p> }.into_any()
    } else if settings.site_channels.is_empty() {
        view! { <p class="reminder-warning" id="reminder-status">{t(S::SiteSendsNone)}</p> }.into_any()
    } else if settings.channel == ReminderChannel::Off {
        view! { <p class="muted" id="reminder-status">{t(S::RemindersOff)}</p> }.into_any()
    } else {
        match settings.goes_by {
            Some(by) => view! { <p id="reminder-status">{t(S::GoesBy)} ": " <strong>{t(text::reminder_channel(by))}</strong></p> }.into_any(),
            None => view! { <p class="reminder-warning" id="reminder-status">{t(S::Unreachable)}</p> }.into_any(),
        }
    };
    let messages = current.messages.clone();
    view! {
        {status}
        <form class="form wide" on:submit=save>
            <div class="field">
                <label for="remind-by">{t(S::RemindBy)}</label>
                <select id="remind-by" on:change=move |ev| {
                    if let Some(choice) = ReminderChannel::parse(&event_target_value(&ev)) { channel.set(choice) }
                }>
                    {ReminderChannel::ALL.into_iter().map(|choice| view! {
                        <option value=choice.as_str() selected=choice == settings.channel>{t(text::reminder_channel(choice))}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="remind-language">{t(S::Language)}</label>
                <select id="remind-language" on:change=move |ev| {
                    if let Some(choice) = Language::from_tag(&event_target_value(&ev)) { reads.set(choice) }
                }>
                    {Language::ALL.into_iter().map(|choice| view! {
                        <option value=choice.tag() selected=choice == settings.language>{crate::i18n::own_name(choice)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="remind-email">{t(S::Email)}</label>
                <input id="remind-email" type="email" prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))/>
            </div>
            <p class="muted">{t(S::PushDevices)} ": " {settings.push_devices}</p>
            {move || error.get().map(|message| view! { <crate::common::Problem message/> })}
            {move || saved.get().then(|| view! { <p class="muted" role="status">{t(S::Saved)}</p> })}
            <button type="submit" class="secondary">{t(S::SaveReminders)}</button>
        </form>
        {if messages.is_empty() {
            view! { <p class="empty">{t(S::NoReminders)}</p> }.into_any()
        } else {
            view! {
                <table class="table" id="reminder-messages">
                    <thead><tr>
                        <th scope="col">{t(S::Queued)}</th><th scope="col">{t(S::Assessment)}</th>
                        <th scope="col">{t(S::Kind)}</th><th scope="col">{t(S::Channel)}</th>
                        <th scope="col">{t(S::Outcome)}</th>
                    </tr></thead>
                    <tbody>{messages.into_iter().map(|message| {
                        let queued = message.queued_at;
                        let sent = message.sent_at;
                        view! {
                            <tr class=format!("message-{}", serde_json::to_value(message.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())>
                                <td>{move || local_time(queued, language.get().tag())}</td>
                                <td>{message.assessment_key.to_string()}</td>
                                <td>{t(text::reminder_kind(message.kind))}</td>
                                <td>{t(text::reminder_channel(message.channel))}</td>
                                <td>
                                    {t(text::message_state(message.state))}
                                    {(message.state == MessageState::Sent).then(|| view! {
                                        " " {move || sent.map(|at| local_time(at, language.get().tag())).unwrap_or_default()}
                                    })}
                                    {message.error.clone().map(|error| view! { <span class="reason">" · " {error}</span> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
    }
}
