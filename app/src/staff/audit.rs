//! `/staff/admin/audit` (admins): the audit trail filtered by patient, staff member, action and
//! days, newest first, a page at a time; each entry's before and after; the chain verified on
//! request; the filtered entries downloaded as CSV.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{AuditChainStatus, AuditEntryView, AuditPage};

use super::admin::AdminNav;
use super::text::S;
use super::{Part, Shell, api};
use crate::api::ApiFailure;
use crate::i18n::{local_time, t, use_language};

#[component]
pub fn AuditTrail() -> impl IntoView {
    view! { <Shell part=Part::Admin><AdminNav current="/staff/admin/audit"/><Trail/></Shell> }
}

/// The filters as the page holds them; each becomes a query parameter when set.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    patient: String,
    staff: String,
    action: String,
    from: String,
    to: String,
}

impl Filters {
    fn query(&self) -> String {
        let pairs = [
            ("patient", &self.patient),
            ("staff", &self.staff),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(name, value)| {
                format!("{name}={}", String::from(js_sys::encode_uri_component(value.trim())))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Actions offered as suggestions (any action, or a kind ending with a dot, may be typed).
const ACTIONS: [&str; 14] = [
    "submission.",
    "submission.store",
    "submission.correct",
    "patient.",
    "event.",
    "alert.",
    "auth.sign_in",
    "auth.sign_in_failed",
    "staff.",
    "export",
    "audit.export",
    "reminder.",
    "notification.",
    "help_request.store",
];

#[component]
fn Trail() -> impl IntoView {
    let language = use_language();
    let filters = RwSignal::new(Filters::default());
    let applied = RwSignal::new(Filters::default());
    let entries = RwSignal::new(Vec::<AuditEntryView>::new());
    let next_before = RwSignal::new(None::<i64>);
    let problem = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let chain = RwSignal::new(None::<Result<AuditChainStatus, String>>);
    let load = move |more: bool| {
        let query = applied.get_untracked().query();
        let before = if more { next_before.get_untracked() } else { None };
        loading.set(true);
        spawn_local(async move {
            let mut path = format!("/api/v1/audit?limit=100&{query}");
            if let Some(before) = before {
                path.push_str(&format!("&before={before}"));
            }
            let result: Result<AuditPage, ApiFailure> = crate::api::get(&path).await;
            match result {
                Ok(page) => {
                    problem.set(None);
                    if more {
                        entries.update(|list| list.extend(page.entries));
                    } else {
                        entries.set(page.entries);
                    }
                    next_before.set(page.next_before);
                }
                Err(failure) => problem.set(Some(failure.to_string())),
            }
            loading.set(false);
        });
    };
    load(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        applied.set(filters.get_untracked());
        load(false);
    };
    let verify = move |_| {
        chain.set(None);
        spawn_local(async move {
            chain.set(Some(api::verify_audit().await.map_err(|failure| failure.to_string())));
        });
    };
    let input = move |id: &'static str,
                      label: S,
                      kind: &'static str,
                      get: fn(&Filters) -> String,
                      set: fn(&mut Filters, String)| {
        view! {
            <div class="field">
                <label for=id>{t(label)}</label>
                <input id=id type=kind autocomplete="off" list=(id == "audit-action").then_some("audit-actions")
                    prop:value=move || filters.with(get)
                    on:input=move |event| filters.update(|f| set(f, event_target_value(&event)))/>
            </div>
        }
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::AuditTrail)}</h1>
        <p class="muted">{t(S::AuditLead)}</p>
        <section class="panel" aria-labelledby="chain-heading">
            <h2 id="chain-heading">{t(S::ChainHeading)}</h2>
            <p class="actions">
                <button type="button" class="secondary" id="verify-chain" on:click=verify>{t(S::VerifyChain)}</button>
                <span class="muted">{t(S::VerifyChainLead)}</span>
            </p>
            {move || chain.get().map(|result| match result {
                Ok(status) => {
                    let checked_at = status.checked_at;
                    view! {
                        <p id="chain-status" role="status" class=if status.intact { "done" } else { "problem" }>
                            <strong>{if status.intact { t(S::ChainIntact) } else { t(S::ChainBroken) }}</strong>
                            " · " {status.entries} " " {t(S::EntriesChecked)}
                            " · " {move || local_time(checked_at, language.get().tag())}
                            {status.broken_at.map(|id| view! { " · " {t(S::FirstBadEntry)} " " {id} })}
                            {status.problem.clone().map(|problem| view! { <br/> {problem} })}
                            <br/> {t(S::ChainHead)} ": " <code class="head">{status.head.clone()}</code>
                        </p>
                    }.into_any()
                }
                Err(message) => view! { <crate::common::Problem message/> }.into_any(),
            })}
        </section>
        <form class="form wide" on:submit=submit aria-label=t(S::AuditFilters)>
            <div class="inline-fields">
                {input("audit-patient", S::StudyIdFilter, "text", |f| f.patient.clone(), |f, v| f.patient = v)}
                {input("audit-staff", S::Username, "text", |f| f.staff.clone(), |f, v| f.staff = v)}
                {input("audit-action", S::ActionFilter, "text", |f| f.action.clone(), |f, v| f.action = v)}
                {input("audit-from", S::FromDay, "date", |f| f.from.clone(), |f, v| f.from = v)}
                {input("audit-to", S::ToDay, "date", |f| f.to.clone(), |f, v| f.to = v)}
                <datalist id="audit-actions">
                    {ACTIONS.iter().map(|action| view! { <option value=*action></option> }).collect_view()}
                </datalist>
                <button type="submit" class="primary" id="audit-apply">{t(S::ShowEntries)}</button>
            </div>
        </form>
        <p>
            <a id="audit-csv" href=move || format!("/api/v1/audit/entries.csv?{}", applied.get().query()) download="audit.csv">
                {t(S::DownloadCsv)}
            </a>
        </p>
        {move || problem.get().map(|message| view! { <crate::common::Problem message/> })}
        <div class="scroll">
            <table class="table" id="audit-entries">
                <thead><tr>
                    <th scope="col">"#"</th>
                    <th scope="col">{t(S::When)}</th>
                    <th scope="col">{t(S::Who)}</th>
                    <th scope="col">{t(S::ActionFilter)}</th>
                    <th scope="col">{t(S::Entity)}</th>
                    <th scope="col">{t(S::StudyIdFilter)}</th>
                    <th scope="col">{t(S::Reason)}</th>
                    <th scope="col">{t(S::BeforeAfter)}</th>
                </tr></thead>
                <tbody>
                    <For each=move || entries.get() key=|entry| entry.id let:entry>
                        {
                            let at = entry.occurred_at;
                            let changes = (entry.before.is_some() || entry.after.is_some()).then(|| view! {
                                <details>
                                    <summary>{t(S::ShowChanges)}</summary>
                                    {entry.before.clone().map(|before| view! { <p class="muted">{t(S::Before)}</p> <pre>{before}</pre> })}
                                    {entry.after.clone().map(|after| view! { <p class="muted">{t(S::After)}</p> <pre>{after}</pre> })}
                                </details>
                            });
                            view! {
                                <tr data-action=entry.action.clone()>
                                    <td>{entry.id}</td>
                                    <td class="nowrap">{move || local_time(at, language.get().tag())}</td>
                                    <td>{entry.actor.clone()} <span class="muted">" (" {entry.actor_role.clone()} ")"</span></td>
                                    <td><code>{entry.action.clone()}</code></td>
                                    <td>{entry.entity.clone()} " " {entry.entity_id.clone()}</td>
                                    <td>{entry.patient.clone().unwrap_or_default()}</td>
                                    <td>{entry.reason.clone().unwrap_or_default()}</td>
                                    <td>{changes}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </div>
        {move || (entries.with(Vec::is_empty) && !loading.get()).then(|| view! { <p class="empty">{t(S::NoEntries)}</p> })}
        {move || next_before.get().map(|_| view! {
            <button type="button" class="secondary" id="audit-more" on:click=move |_| load(true)>{t(S::OlderEntries)}</button>
        })}
    }
}
