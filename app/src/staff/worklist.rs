//! The nurses' worklist: open alerts, most urgent first then oldest, each with its values, the
//! rule that fired and its source; acknowledge, then resolve with the action taken and a note.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{AlertState, AlertView, ResolveAlert};

use super::text::{self, S, s};
use super::{Failed, Part, Shell, api, points, subject_name};
use crate::i18n::{local_time, use_language};

#[component]
pub fn Worklist() -> impl IntoView {
    view! { <Shell part=Part::Worklist><Alerts/></Shell> }
}

#[component]
fn Alerts() -> impl IntoView {
    let show_resolved = RwSignal::new(false);
    let changed = RwSignal::new(0_u32);
    let alerts = LocalResource::new(move || {
        changed.track();
        let resolved = show_resolved.get();
        async move { api::alerts(resolved.then_some("resolved")).await }
    });
    view! {
        <h1 id="screen-heading" tabindex="-1">
            {move || if show_resolved.get() { s(S::ResolvedTitle)() } else { s(S::AlertsTitle)() }}
        </h1>
        <p class="muted">{s(S::AlertsLead)}</p>
        <p class="toolbar">
            <button type="button" class="secondary" on:click=move |_| changed.update(|n| *n += 1)>{s(S::Refresh)}</button>
            <button type="button" class="secondary" on:click=move |_| show_resolved.update(|v| *v = !*v)>
                {move || if show_resolved.get() { s(S::ShowOpen)() } else { s(S::ShowResolved)() }}
            </button>
        </p>
        <Suspense fallback=|| ()>
            {move || alerts.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! { <p class="empty" role="status">{s(S::NoOpenAlerts)}</p> }.into_any(),
                Ok(list) => view! {
                    {median_minutes(&list).map(|(median, n)| view! {
                        <p class="ack-summary" role="status">
                            {s(S::MedianToAcknowledge)} ": " <strong>{median} " " {s(S::Minutes)}</strong>
                            " (" {n} " " {s(S::AlertsCounted)} ")"
                        </p>
                    })}
                    <ul class="alerts">
                        {list.into_iter().map(|alert| view! { <li><AlertCard alert changed/></li> }).collect_view()}
                    </ul>
                }.into_any(),
                Err(failure) => view! { <Failed failure/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn AlertCard(alert: AlertView, changed: RwSignal<u32>) -> impl IntoView {
    let language = use_language();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let resolving = RwSignal::new(false);
    let action = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let id = alert.id;
    let acknowledge = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::acknowledge(id).await {
                Ok(_) => changed.update(|n| *n += 1),
                Err(failure) => error.set(Some(failure.to_string())),
            }
            busy.set(false);
        });
    };
    let resolve = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(chosen) = text::from_wire(&action.get_untracked()) else {
            error.set(Some(text::text(language.get_untracked(), S::ChooseAction).to_owned()));
            return;
        };
        busy.set(true);
        let body = ResolveAlert { action: chosen, note: note.get_untracked() };
        spawn_local(async move {
            match api::resolve(id, &body).await {
                Ok(_) => changed.update(|n| *n += 1),
                Err(failure) => error.set(Some(failure.to_string())),
            }
            busy.set(false);
        });
    };
    let tier = alert.tier;
    let tier_class = match tier {
        qol_shared::alerts::Tier::Red => "red",
        qol_shared::alerts::Tier::Amber => "amber",
        qol_shared::alerts::Tier::Info => "info",
    };
    let class = format!("alert tier-{tier_class}{}", if alert.past_sla { " past-sla" } else { "" });
    let heading_id = format!("alert-{id}");
    let labelled_by = heading_id.clone();
    let subject = alert.subject.clone();
    let patient_href = format!("/staff/patients/{}", alert.study_id);
    let open = alert.state != AlertState::Resolved;
    let is_new = alert.state == AlertState::New;
    let created = alert.created_at.clone();
    let updated = (alert.updated_at != alert.created_at).then(|| alert.updated_at.clone());
    let is_scale = !subject.starts_with("ITEM") && subject != "CALL";
    view! {
        <article class=class data-alert-id=id aria-labelledby=labelled_by>
            <header class="alert-head">
                <span class=format!("tier tier-{tier_class}")>{s(text::tier(tier))}</span>
                <h2 id=heading_id>
                    {move || subject_name(&subject, language.get())}
                    " · "
                    <a href=patient_href>{alert.study_id.clone()}</a>
                    {alert.patient_name.clone().map(|name| view! { " " <span class="name">{name}</span> })}
                </h2>
                <span class="state">{s(text::alert_state(alert.state))}</span>
            </header>
            {alert.past_sla.then(|| view! { <p class="sla" role="note">{s(S::PastSla)}</p> })}
            {is_scale.then(|| view! {
                <dl class="values">
                    <div><dt>{s(S::Value)}</dt><dd class="value">{points(alert.value)}</dd></div>
                    <div><dt>{s(S::Baseline)}</dt><dd>{points(alert.baseline)}</dd></div>
                    <div><dt>{s(S::Previous)}</dt><dd>{points(alert.previous)}</dd></div>
                </dl>
            })}
            <p class="rule"><strong>{s(text::rule(alert.rule))}</strong></p>
            <p class="source muted">{s(S::Source)} ": " {alert.source.clone()}</p>
            <p class="muted">
                {s(S::Raised)} " " {move || local_time(&created, language.get().tag())}
                {updated.map(|at| view! { " · " {s(S::Updated)} " " {move || local_time(&at, language.get().tag())} })}
            </p>
            {alert.minutes_to_acknowledge.map(|minutes| view! {
                <p class="muted ack-time">
                    {s(S::AcknowledgedAfter)} " " {minutes} " " {s(S::Minutes)}
                    {alert.acknowledged_by.clone().map(|by| view! { " " {s(S::By)} " " {by} })}
                </p>
            })}
            {alert.resolution_action.map(|chosen| view! {
                <p class="resolution">
                    <strong>{s(text::action(chosen))}</strong>
                    {alert.resolved_by.clone().map(|by| view! { " · " {s(S::By)} " " {by} })}
                </p>
                {alert.resolution_note.clone().filter(|n| !n.is_empty()).map(|n| view! { <p class="note">{n}</p> })}
            })}
            {move || error.get().map(|message| view! { <crate::screens::Problem message/> })}
            {open.then(|| view! {
                <div class="actions">
                    {is_new.then(|| view! {
                        <button type="button" class="primary" disabled=move || busy.get() on:click=acknowledge>
                            {s(S::Acknowledge)}
                        </button>
                    })}
                    <button type="button" class="secondary" on:click=move |_| resolving.update(|v| *v = !*v)
                        aria-expanded=move || resolving.get().to_string()>
                        {s(S::Resolve)}
                    </button>
                </div>
                <Show when=move || resolving.get()>
                    <form class="form resolve" on:submit=resolve>
                        <div class="field">
                            <label for=format!("action-{id}")>{s(S::Action)}</label>
                            <select id=format!("action-{id}") required on:change=move |ev| action.set(event_target_value(&ev))>
                                <option value="">"—"</option>
                                {text::ACTIONS.iter().map(|a| view! { <option value=text::wire(a)>{s(text::action(*a))}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for=format!("note-{id}")>{s(S::Note)}</label>
                            <textarea id=format!("note-{id}") rows="3" on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                        </div>
                        <div class="actions">
                            <button type="submit" class="primary" disabled=move || busy.get()>{s(S::ResolveAlert)}</button>
                            <button type="button" class="link" on:click=move |_| resolving.set(false)>{s(S::Cancel)}</button>
                        </div>
                    </form>
                </Show>
            })}
        </article>
    }
}

/// The median time to acknowledge over the listed alerts that were acknowledged, and how many.
fn median_minutes(alerts: &[AlertView]) -> Option<(i64, usize)> {
    let mut minutes: Vec<i64> = alerts.iter().filter_map(|a| a.minutes_to_acknowledge).collect();
    if minutes.is_empty() {
        return None;
    }
    minutes.sort_unstable();
    let n = minutes.len();
    let median = if n % 2 == 1 { minutes[n / 2] } else { (minutes[n / 2 - 1] + minutes[n / 2]) / 2 };
    Some((median, n))
}
