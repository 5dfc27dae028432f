//! Follow-up: open questionnaires not yet completed (days left), and missed ones awaiting the
//! reason staff record for the analysis.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{FollowUpItem, MissedReason, RecordMissedReason};

use super::text::{self, S};
use super::{Failed, Part, Shell, api};
use crate::i18n::{self, t, use_language};

#[component]
pub fn FollowUp() -> impl IntoView {
    view! { <Shell part=Part::FollowUp><Lists/></Shell> }
}

#[component]
fn Lists() -> impl IntoView {
    let changed = RwSignal::new(0_u32);
    let overdue = LocalResource::new(api::overdue);
    let missed = LocalResource::new(move || {
        changed.track();
        api::missed()
    });
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::FollowUp)}</h1>
        <section aria-labelledby="overdue-heading">
            <h2 id="overdue-heading">{t(S::OverdueTitle)}</h2>
            <p class="muted">{t(S::OverdueLead)}</p>
            <Suspense fallback=|| ()>
                {move || overdue.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="empty">{t(S::NothingOverdue)}</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="overdue">
                            <thead><tr>
                                <th scope="col">{t(S::StudyId)}</th><th scope="col">{t(S::Name)}</th>
                                <th scope="col">{t(S::Assessment)}</th><th scope="col">{t(S::Window)}</th>
                                <th scope="col">{t(S::DaysLeft)}</th><th scope="col">{t(S::Reminded)}</th>
                            </tr></thead>
                            <tbody>{list.into_iter().map(|item| view! {
                                <tr class:closing=item.days_left.is_some_and(|d| d <= 1)>
                                    <td><a href=format!("/staff/patients/{}", item.study_id)>{item.study_id.clone()}</a></td>
                                    <td>{item.patient_name.clone().unwrap_or_default()}</td>
                                    <td>{item.label.clone()}</td>
                                    <td>{format!("{} – {}", item.window_start, item.window_end)}</td>
                                    <td>{match item.days_left {
                                        Some(0) => t(S::ClosesToday)().to_owned(),
                                        Some(days) => days.to_string(),
                                        None => String::new(),
                                    }}</td>
                                    <td class="reminded">
                                        {reminded(item.reminders_sent, item.last_reminded_at)}
                                        {item.last_reminder_failed.then(|| view! {
                                            <span class="reminder-failed">{t(S::LastReminderFailed)}</span>
                                        })}
                                    </td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
        </section>
        <section aria-labelledby="missed-heading">
            <h2 id="missed-heading">{t(S::MissedTitle)}</h2>
            <p class="muted">{t(S::MissedLead)}</p>
            <Suspense fallback=|| ()>
                {move || missed.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="empty">{t(S::NothingMissed)}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="missed">
                            {list.into_iter().map(|item| view! { <li><MissedRow item changed/></li> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MissedRow(item: FollowUpItem, changed: RwSignal<u32>) -> impl IntoView {
    let language = use_language();
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let id = item.assessment_id;
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(chosen) = text::from_wire(&reason.get_untracked()) else {
            error.set(Some(format!("{}?", i18n::text(language.get_untracked(), S::Reason))));
            return;
        };
        busy.set(true);
        let body = RecordMissedReason { reason: chosen, note: note.get_untracked() };
        spawn_local(async move {
            match api::record_missed_reason(id, &body).await {
                Ok(_) => changed.update(|n| *n += 1),
                Err(failure) => error.set(Some(failure.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card missed-row" data-assessment-id=id on:submit=submit>
            <p>
                <a href=format!("/staff/patients/{}", item.study_id)>{item.study_id.clone()}</a>
                " " {item.patient_name.clone().unwrap_or_default()} " · "
                <strong>{item.label.clone()}</strong>
                " · " {t(S::Window)} " " {format!("{} – {}", item.window_start, item.window_end)}
            </p>
            <div class="inline-fields">
                <div class="field">
                    <label for=format!("reason-{id}")>{t(S::Reason)}</label>
                    <select id=format!("reason-{id}") required on:change=move |ev| reason.set(event_target_value(&ev))>
                        <option value="">"—"</option>
                        {MissedReason::ALL.iter().map(|r| view! { <option value=text::wire(r)>{t(text::missed_reason(*r))}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field grow">
                    <label for=format!("missed-note-{id}")>{t(S::Note)}</label>
                    <input id=format!("missed-note-{id}") type="text" on:input=move |ev| note.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class="primary" disabled=move || busy.get()>{t(S::RecordReason)}</button>
            </div>
            {move || error.get().map(|message| view! { <crate::common::Problem message/> })}
        </form>
    }
}

/// "reminded 2×, last 2 days ago" (empty when no reminder was sent).
fn reminded(count: u32, last: Option<qol_shared::Timestamp>) -> String {
    if count == 0 {
        return String::new();
    }
    let ago = last.map(|at| {
        let days = ((js_sys::Date::now() - at.instant().timestamp_millis() as f64) / 86_400_000.0).floor();
        match days.max(0.0) as i64 {
            0 => t(S::Today)().to_owned(),
            days => format!("{days} {}", t(S::DaysAgo)()),
        }
    });
    match ago {
        Some(ago) => format!("{} {count}×, {} {ago}", t(S::RemindedTimes)(), t(S::LastReminded)()),
        None => format!("{} {count}×", t(S::RemindedTimes)()),
    }
}
