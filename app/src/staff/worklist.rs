//! The nurses' worklist: one card per patient for symptoms and one for a call request, call
//! requests first (with how long the patient has waited), then red, amber, info, oldest first.
//! Each card lists its signals with the rule that set each tier in plain words, the patient's
//! phone as a tap-to-call link, and the report behind it one click away. Acknowledging or
//! resolving a card changes that card only, so the list keeps its place; the list refreshes
//! itself every 30 seconds and the tab title counts call requests and red cards.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use qol_shared::Language;
use qol_shared::alerts::{Rule, Tier};
use qol_shared::api::{AlertCard, AlertState, CardKind, CardSignal, ResolveAlert};

use super::text::{self, S};
use super::{Part, Shell, api, points, subject_name};
use crate::i18n::{self, local_time, t, use_language};

/// How often the open worklist asks the server again.
const REFRESH_MS: u32 = 30_000;

#[component]
pub fn Worklist() -> impl IntoView {
    view! { <Shell part=Part::Worklist><Cards/></Shell> }
}

/// Call requests and red cards among open cards: what the tab title counts.
fn urgent(cards: &[AlertCard]) -> usize {
    cards
        .iter()
        .filter(|card| card.state != AlertState::Resolved)
        .filter(|card| card.kind == CardKind::CallRequest || card.tier == Tier::Red)
        .count()
}

fn set_title(language: Language, urgent: Option<usize>) {
    let base = i18n::text(language, S::Worklist);
    let title = match urgent {
        Some(n) if n > 0 => format!("({n}) {base} · qol"),
        _ => format!("{base} · qol"),
    };
    document().set_title(&title);
}

#[component]
fn Cards() -> impl IntoView {
    let language = use_language();
    let show_resolved = RwSignal::new(false);
    let cards = RwSignal::new(None::<Result<Vec<AlertCard>, String>>);
    let loading = RwSignal::new(false);
    // The card an e-mail's link points at (`?card=N`), shown highlighted and scrolled to once.
    let query = use_query_map();
    let linked: Option<i64> = query.get_untracked().get("card").and_then(|text| text.parse().ok());
    let scrolled = RwSignal::new(false);
    let load = move || {
        if loading.get_untracked() {
            return;
        }
        loading.set(true);
        let resolved = show_resolved.get_untracked();
        spawn_local(async move {
            let result =
                api::alerts(resolved.then_some("resolved")).await.map_err(|failure| failure.to_string());
            if !resolved && let Ok(list) = &result {
                set_title(language.get_untracked(), Some(urgent(list)));
            }
            cards.set(Some(result));
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        show_resolved.track();
        load();
    });
    // Refresh every 30 s while the page is open; the interval ends with the component.
    if let Ok(handle) =
        set_interval_with_handle(load, std::time::Duration::from_millis(u64::from(REFRESH_MS)))
    {
        on_cleanup(move || {
            handle.clear();
            set_title(language.get_untracked(), None);
        });
    }
    Effect::new(move |_| {
        if let (Some(id), Some(Ok(_))) = (linked, cards.get())
            && !scrolled.get_untracked()
        {
            scrolled.set(true);
            if let Some(element) = document().get_element_by_id(&format!("card-{id}")) {
                element.scroll_into_view();
            }
        }
    });
    let replace = move |updated: AlertCard| {
        cards.update(|current| {
            if let Some(Ok(list)) = current {
                if let Some(slot) = list.iter_mut().find(|card| card.id == updated.id) {
                    *slot = updated;
                }
                set_title(language.get_untracked(), Some(urgent(list)));
            }
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">
            {move || if show_resolved.get() { t(S::ResolvedTitle)() } else { t(S::AlertsTitle)() }}
        </h1>
        <p class="muted">{t(S::AlertsLead)}</p>
        <p class="toolbar">
            <button type="button" class="secondary" on:click=move |_| load()>{t(S::Refresh)}</button>
            <button type="button" class="secondary" on:click=move |_| show_resolved.update(|v| *v = !*v)>
                {move || if show_resolved.get() { t(S::ShowOpen)() } else { t(S::ShowResolved)() }}
            </button>
            <span class="muted">{t(S::RefreshesItself)}</span>
        </p>
        {move || match cards.get() {
            None => ().into_any(),
            Some(Err(message)) => view! { <crate::common::Problem message/> }.into_any(),
            Some(Ok(list)) if list.is_empty() => {
                view! { <p class="empty" role="status">{t(S::NoOpenAlerts)}</p> }.into_any()
            }
            Some(Ok(list)) => view! {
                {median_minutes(&list).map(|(median, n)| view! {
                    <p class="ack-summary" role="status">
                        {t(S::MedianToAcknowledge)} ": " <strong>{median} " " {t(S::Minutes)}</strong>
                        " (" {n} " " {t(S::AlertsCounted)} ")"
                    </p>
                })}
                <ul class="alerts">
                    <For each=move || list.clone() key=|card| (card.id, card.updated_at, card.state.as_str()) let:card>
                        <li><Card card linked=linked replace/></li>
                    </For>
                </ul>
            }.into_any(),
        }}
    }
}

fn tier_class(tier: Tier) -> &'static str {
    match tier {
        Tier::Red => "red",
        Tier::Amber => "amber",
        Tier::Info => "info",
    }
}

/// The rule that set a signal's tier, in plain words with its numbers.
pub fn plain_rule(signal: &CardSignal, language: Language) -> String {
    let words = i18n::text(language, text::rule(signal.rule));
    let one = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |v| format!("{v:.0}"));
    match signal.rule {
        Rule::WorseThanBaseline => format!("{words}: {} → {}", one(signal.baseline), one(signal.value)),
        Rule::WorseThanPrevious => format!("{words}: {} → {}", one(signal.previous), one(signal.value)),
        Rule::SevereBand | Rule::StillSevere | Rule::AboveThreshold | Rule::NewlyAboveThreshold => {
            format!("{words}: {}", one(signal.value))
        }
        // A call asked for with the app's "I need help" button comes with no form.
        Rule::CallMe if signal.submission_id.is_none() => i18n::text(language, S::HelpButton).to_owned(),
        Rule::VeryMuchOnItem | Rule::CallMe => words.to_owned(),
    }
}

/// One card. `replace` receives the card as the server returns it after an action.
#[component]
pub fn Card(
    card: AlertCard,
    linked: Option<i64>,
    replace: impl Fn(AlertCard) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let language = use_language();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let resolving = RwSignal::new(false);
    let action = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let id = card.id;
    // The card as she sees it: an action is refused when a newer report joined it since.
    let seen = StoredValue::new(card.updated_at);
    let changed = RwSignal::new(false);
    let study_for_reload = card.study_id.clone();
    let reload = move |_| {
        let study_id = study_for_reload.clone();
        spawn_local(async move {
            match api::patient_alerts(&study_id).await {
                Ok(cards) => {
                    if let Some(card) = cards.into_iter().find(|card| card.id == id) {
                        replace(card);
                    }
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    let failed = move |failure: crate::api::ApiFailure| {
        changed.set(failure.to_string().contains("changed since you opened it"));
        error.set(Some(failure.to_string()));
    };
    let acknowledge = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::acknowledge(id, seen.get_value()).await {
                Ok(card) => replace(card),
                Err(failure) => failed(failure),
            }
            busy.set(false);
        });
    };
    let resolve = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(chosen) = text::from_wire(&action.get_untracked()) else {
            error.set(Some(i18n::text(language.get_untracked(), S::ChooseAction).to_owned()));
            return;
        };
        busy.set(true);
        let body = ResolveAlert {
            action: chosen,
            note: note.get_untracked(),
            seen_updated_at: Some(seen.get_value()),
        };
        spawn_local(async move {
            match api::resolve(id, &body).await {
                Ok(card) => replace(card),
                Err(failure) => failed(failure),
            }
            busy.set(false);
        });
    };
    let tier = card.tier;
    let class = format!(
        "alert card tier-{}{}{}{}",
        tier_class(tier),
        if card.past_sla { " past-sla" } else { "" },
        if card.kind == CardKind::CallRequest { " call-request" } else { "" },
        if linked == Some(id) { " linked" } else { "" },
    );
    let heading_id = format!("card-{id}-heading");
    let labelled_by = heading_id.clone();
    let patient_href = format!("/staff/patients/{}", card.study_id);
    let open = card.state != AlertState::Resolved;
    let is_new = card.state == AlertState::New;
    let opened = card.opened_at;
    let kind_label = match card.kind {
        CardKind::CallRequest => S::CallRequestCard,
        CardKind::Symptoms => S::SymptomsCard,
    };
    let form_href =
        card.latest_submission_id.map(|submission| format!("{patient_href}?submission={submission}"));
    let study_id = card.study_id.clone();
    let signals = card.signals.clone();
    view! {
        <article class=class id=format!("card-{id}") data-alert-id=id data-kind=card.kind.as_str() aria-labelledby=labelled_by>
            <header class="alert-head">
                <span class=format!("tier tier-{}", tier_class(tier))>{t(text::tier(tier))}</span>
                <h2 id=heading_id>
                    {t(kind_label)} " · "
                    <a href=patient_href.clone()>{study_id}</a>
                    {card.patient_name.clone().map(|name| view! { " " <span class="name">{name}</span> })}
                </h2>
                <span class="state">{t(text::alert_state(card.state))}</span>
            </header>
            {(card.escalated && is_new).then(|| view! { <p class="escalated" role="note">{t(S::Escalated)}</p> })}
            {card.minutes_waiting.map(|minutes| view! {
                <p class="waiting" role="note"><strong>{t(S::Waiting)} " " {minutes} " " {t(S::Minutes)}</strong></p>
            })}
            {card.past_sla.then(|| view! { <p class="sla" role="note">{t(S::PastSla)}</p> })}
            <p class="contact">
                {card.phone.clone().map(|phone| {
                    let href = format!("tel:{}", phone.replace([' ', '-'], ""));
                    view! { <a class="tel" href=href>{t(S::CallPatient)} " " {phone}</a> }
                })}
                {form_href.map(|href| view! { " · " <a class="form-link" href=href>{t(S::OpenForm)}</a> })}
            </p>
            <table class="table signals">
                <caption class="visually-hidden">{t(S::Signals)}</caption>
                <thead><tr>
                    <th scope="col">{t(S::TierHeading)}</th>
                    <th scope="col">{t(S::Subject)}</th>
                    <th scope="col">{t(S::Why)}</th>
                    <th scope="col">{t(S::Latest)}</th>
                </tr></thead>
                <tbody>
                    {signals.into_iter().map(|signal| {
                        let subject = signal.subject.clone();
                        let rule_signal = signal.clone();
                        let latest = signal.latest_value;
                        let source = signal.source.clone();
                        view! {
                            <tr class=format!("signal tier-{}", tier_class(signal.tier)) data-subject=signal.subject.clone()>
                                <td><span class=format!("tier tier-{}", tier_class(signal.tier))>{t(text::tier(signal.tier))}</span></td>
                                <td>{move || subject_name(&subject, language.get())}</td>
                                <td class="rule" title=source>{move || plain_rule(&rule_signal, language.get())}</td>
                                <td class="latest">{(signal.rule != Rule::CallMe).then(|| points(latest))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <p class="muted">
                {t(S::Raised)} " " {move || local_time(opened, language.get().tag())}
            </p>
            {(!card.notifications.is_empty()).then(|| {
                let notifications = card.notifications.clone();
                view! {
                    <p class="muted notified">
                        {t(S::Emailed)} ": "
                        {notifications.into_iter().map(|n| {
                            let state = match n.state.as_str() {
                                "sent" => S::EmailSent,
                                "failed" => S::EmailFailed,
                                _ => S::EmailPending,
                            };
                            view! { <span class=format!("email email-{}", n.state)>{n.recipient.clone()} " (" {t(state)} ")" </span> " " }
                        }).collect_view()}
                    </p>
                }
            })}
            {card.minutes_to_acknowledge.map(|minutes| view! {
                <p class="muted ack-time">
                    {t(S::AcknowledgedAfter)} " " {minutes} " " {t(S::Minutes)}
                    {card.acknowledged_by.clone().map(|by| view! { " " {t(S::By)} " " {by} })}
                </p>
            })}
            {card.resolution_action.map(|chosen| view! {
                <p class="resolution">
                    <strong>{t(text::action(chosen))}</strong>
                    {card.resolved_by.clone().map(|by| view! { " · " {t(S::By)} " " {by} })}
                </p>
                {card.resolution_note.clone().filter(|n| !n.is_empty()).map(|n| view! { <p class="note">{n}</p> })}
            })}
            {move || error.get().map(|message| view! { <crate::common::Problem message/> })}
            {move || changed.get().then(|| view! {
                <p><button type="button" class="secondary show-new" on:click=reload.clone()>{t(S::ShowNewReport)}</button></p>
            })}
            {open.then(|| view! {
                <div class="actions">
                    {is_new.then(|| view! {
                        <button type="button" class="primary" disabled=move || busy.get() on:click=acknowledge>
                            {t(S::Acknowledge)}
                        </button>
                    })}
                    <button type="button" class="secondary" on:click=move |_| resolving.update(|v| *v = !*v)
                        aria-expanded=move || resolving.get().to_string()>
                        {t(S::Resolve)}
                    </button>
                </div>
                <Show when=move || resolving.get()>
                    <form class="form resolve" on:submit=resolve>
                        <div class="field">
                            <label for=format!("action-{id}")>{t(S::Action)}</label>
                            <select id=format!("action-{id}") required on:change=move |ev| action.set(event_target_value(&ev))>
                                <option value="">"—"</option>
                                {text::ACTIONS.iter().map(|a| view! { <option value=text::wire(a)>{t(text::action(*a))}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for=format!("note-{id}")>{t(S::Note)}</label>
                            <textarea id=format!("note-{id}") rows="3" on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                        </div>
                        <div class="actions">
                            <button type="submit" class="primary" disabled=move || busy.get()>{t(S::ResolveAlert)}</button>
                            <button type="button" class="link" on:click=move |_| resolving.set(false)>{t(S::Cancel)}</button>
                        </div>
                    </form>
                </Show>
            })}
        </article>
    }
}

/// The median time to acknowledge over the listed cards that were acknowledged, and how many.
fn median_minutes(cards: &[AlertCard]) -> Option<(i64, usize)> {
    let mut minutes: Vec<i64> = cards.iter().filter_map(|card| card.minutes_to_acknowledge).collect();
    if minutes.is_empty() {
        return None;
    }
    minutes.sort_unstable();
    let n = minutes.len();
    let median = if n % 2 == 1 { minutes[n / 2] } else { (minutes[n / 2 - 1] + minutes[n / 2]) / 2 };
    Some((median, n))
}
