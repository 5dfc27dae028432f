//! The patient page: identity and stratum, treatment events (record or correct with a reason),
//! the assessment schedule with states, scores over time, submissions with their item answers,
//! snoozed alerts, and a new activation code when a patient needs one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use qol_shared::Language;
use qol_shared::answers::{RawAnswer, RawResponse};
use qol_shared::api::{CompletionMode, EventRecord, RecordEvent, SnoozeRequest, SubmissionView, Timeliness};
use qol_shared::instrument::InstrumentId;
use qol_shared::schedule::{AssessmentState, Event, EventKind, OffStudyReason, TumourResponse};
use qol_shared::wording::InstrumentView;

use super::text::{self, S};
use super::timeline::{Plot, series};
use super::{Failed, Part, Shell, api, patients::ActivationSheet};
use crate::i18n::{self, local_time, t, use_language};

#[component]
pub fn PatientPage() -> impl IntoView {
    view! { <Shell part=Part::Patients><Page/></Shell> }
}

#[component]
fn Page() -> impl IntoView {
    let params = use_params_map();
    let study_id = move || params.read().get("id").unwrap_or_default();
    let changed = RwSignal::new(0_u32);
    // What was unusual about the event just recorded; kept here, above the reloaded panels.
    let event_warnings = RwSignal::new(Vec::<String>::new());
    let detail = LocalResource::new(move || {
        changed.track();
        let id = study_id();
        async move { api::patient(&id).await }
    });
    let assessments = LocalResource::new(move || {
        changed.track();
        let id = study_id();
        async move { api::assessments(&id).await }
    });
    let submissions = LocalResource::new(move || {
        let id = study_id();
        async move { api::submissions(&id).await }
    });
    let language = use_language();
    let new_code = RwSignal::new(None::<(String, String, qol_shared::Language)>);
    let code_error = RwSignal::new(None::<String>);
    let unlocked = RwSignal::new(false);
    let unlock = move |_| {
        let id = study_id();
        spawn_local(async move {
            match api::unlock(&id).await {
                Ok(_) => {
                    unlocked.set(true);
                    changed.update(|n| *n += 1);
                }
                Err(failure) => code_error.set(Some(failure.to_string())),
            }
        });
    };
    let issue_code = move |_| {
        let id = study_id();
        // The sheet is printed in her language.
        let hers = detail
            .get_untracked()
            .and_then(Result::ok)
            .map_or(qol_shared::Language::Chinese, |detail| detail.patient.language);
        spawn_local(async move {
            match api::new_code(&id).await {
                Ok(code) => new_code.set(Some((code.activation_code, code.expires_at.text(), hers))),
                Err(failure) => code_error.set(Some(failure.to_string())),
            }
        });
    };
    move || {
        if let Some((code, expires_at, patient_language)) = new_code.get() {
            return view! { <ActivationSheet study_id=study_id() code expires_at patient_language/> }
                .into_any();
        }
        view! {
            <Suspense fallback=|| ()>
                {move || detail.get().map(|result| match result {
                    Ok(detail) => {
                        let patient = detail.patient.clone();
                        let identity = patient.identity.clone();
                        view! {
                            <h1 id="screen-heading" tabindex="-1">
                                {patient.study_id.clone()} " · " {identity.as_ref().map(|i| i.full_name.clone()).unwrap_or_default()}
                            </h1>
                            <section aria-labelledby="identity-heading" class="panel">
                                <h2 id="identity-heading">{t(S::Identity)}</h2>
                                <dl class="facts">
                                    <div><dt>{t(S::Stratum)}</dt><dd id="stratum">{patient.stratum.clone()}</dd></div>
                                    {identity.map(|i| view! {
                                        <div><dt>{t(S::Phone)}</dt><dd>{i.phone}</dd></div>
                                        <div><dt>{t(S::HospitalNumber)}</dt><dd>{i.hospital_number}</dd></div>
                                    })}
                                    <div><dt>{t(S::Language)}</dt><dd>{patient.language.tag()}</dd></div>
                                    <div><dt>{t(S::EnrolledOn)}</dt><dd>{patient.enrolled_on.map(|d| d.to_string()).unwrap_or_default()}</dd></div>
                                    <div><dt>{t(S::State)}</dt><dd>
                                        {if patient.off_study { t(S::OffStudyFlag)() } else if patient.activated { t(S::Activated)() } else { t(S::NotActivated)() }}
                                    </dd></div>
                                </dl>
                                {detail.sign_in_locked_until.map(|until| view! {
                                    <p class="actions" id="sign-in-locked">
                                        <span>{t(S::SignInLocked)} " " {move || local_time(until, language.get().tag())}</span>
                                        <button type="button" class="secondary" on:click=unlock>{t(S::Unlock)}</button>
                                    </p>
                                })}
                                {move || unlocked.get().then(|| view! { <p class="muted" role="status">{t(S::Unlocked)}</p> })}
                                <p class="actions">
                                    <button type="button" class="secondary" on:click=issue_code>{t(S::NewCode)}</button>
                                    <span class="muted">{t(S::NewCodeLead)}</span>
                                </p>
                                {move || code_error.get().map(|message| view! { <crate::common::Problem message/> })}
                            </section>
                            <Events records=detail.events.clone() study_id=patient.study_id.clone() changed warnings=event_warnings/>
                            <super::reminders::Reminders study_id=patient.study_id.clone()/>
                        }.into_any()
                    }
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
            <section aria-labelledby="schedule-heading" class="panel">
                <h2 id="schedule-heading">{t(S::Schedule)}</h2>
                <Suspense fallback=|| ()>
                    {move || assessments.get().map(|result| match result {
                        Ok(list) => view! {
                            <table class="table" id="schedule">
                                <thead><tr>
                                    <th scope="col">{t(S::Assessment)}</th><th scope="col">{t(S::Window)}</th>
                                    <th scope="col">{t(S::ProtocolColumn)}</th><th scope="col">{t(S::State)}</th><th scope="col">{t(S::Received)}</th>
                                    <th scope="col">{t(S::Actions)}</th>
                                </tr></thead>
                                <tbody>{list.into_iter().map(|a| {
                                    let received = a.received_at;
                                    // Staff enter a form for an open or missed assessment that has none.
                                    let enter = (received.is_none()
                                        && !a.unscheduled
                                        && matches!(a.state, AssessmentState::Open | AssessmentState::Missed))
                                    .then(|| {
                                        let href = format!("/staff/patients/{}/enter/{}", study_id(), a.id);
                                        let id = format!("enter-{}", a.key);
                                        view! { <a href=href id=id>{t(S::EnterForm)}</a> }
                                    });
                                    view! {
                                        <tr class=format!("state-{}", a.state.as_str())>
                                            <td>{a.label.clone()} {a.unscheduled.then(|| view! { " (" {t(S::Unscheduled)} ")" })}</td>
                                            <td>{match (a.window_start, a.window_end) {
                                                (Some(start), Some(end)) => format!("{start} – {end}"),
                                                _ => String::new(),
                                            }}</td>
                                            <td class="protocol-version">{format!("v{}", a.protocol_version)}</td>
                                            <td>{t(text::assessment_state(a.state))}
                                                {(received.is_none() && a.paper_entries == 1).then(|| view! { <span class="paper-entries">" · " {t(S::PaperEntriesOne)}</span> })}
                                                {(received.is_none() && a.paper_entries >= 2).then(|| view! { <span class="paper-entries">" · " {t(S::PaperEntriesDiffer)}</span> })}
                                            </td>
                                            <td>{move || received.map(|at| local_time(at, language.get().tag())).unwrap_or_default()}</td>
                                            <td>{enter}</td>
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                        Err(failure) => view! { <Failed failure/> }.into_any(),
                    })}
                </Suspense>
            </section>
            <Suspense fallback=|| ()>
                {move || submissions.get().map(|result| match result {
                    Ok(list) => {
                        // Scores over time: the current version of each form.
                        let current: Vec<SubmissionView> = list.iter().filter(|s| s.current).cloned().collect();
                        view! { <Timeline submissions=current/> <Submissions submissions=list/> }.into_any()
                    }
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
            <PatientCards study_id=study_id()/>
            <Snoozes study_id=study_id()/>
        }
        .into_any()
    }
}

fn event_label(kind: &EventKind, language: Language) -> String {
    let label = |key| i18n::text(language, key);
    match kind {
        EventKind::Enrolment => label(S::EventEnrolment).to_owned(),
        EventKind::ChemotherapyCycle { cycle } => format!("{} {cycle}", label(S::EventChemotherapyCycle)),
        EventKind::InductionResponse { response } => {
            format!("{}: {}", label(S::EventInductionResponse), label(text::tumour_response(*response)))
        }
        EventKind::RadiotherapyStart => label(S::EventRadiotherapyStart).to_owned(),
        EventKind::RadiotherapyEnd => label(S::EventRadiotherapyEnd).to_owned(),
        EventKind::EndOfTreatment => label(S::EventEndOfTreatment).to_owned(),
        EventKind::OffStudy { reason } => {
            format!("{}: {}", label(S::EventOffStudy), label(text::off_study_reason(*reason)))
        }
    }
}

const EVENT_KINDS: [(&str, S); 7] = [
    ("enrolment", S::EventEnrolment),
    ("chemotherapy_cycle", S::EventChemotherapyCycle),
    ("induction_response", S::EventInductionResponse),
    ("radiotherapy_start", S::EventRadiotherapyStart),
    ("radiotherapy_end", S::EventRadiotherapyEnd),
    ("end_of_treatment", S::EventEndOfTreatment),
    ("off_study", S::EventOffStudy),
];

const RESPONSES: [TumourResponse; 4] = [
    TumourResponse::CompleteResponse,
    TumourResponse::PartialResponse,
    TumourResponse::StableDisease,
    TumourResponse::ProgressiveDisease,
];

const OFF_STUDY: [OffStudyReason; 4] = [
    OffStudyReason::Progression,
    OffStudyReason::Death,
    OffStudyReason::Withdrawal,
    OffStudyReason::LostToFollowUp,
];

#[component]
fn Events(
    records: Vec<EventRecord>,
    study_id: String,
    changed: RwSignal<u32>,
    warnings: RwSignal<Vec<String>>,
) -> impl IntoView {
    let language = use_language();
    let kind = RwSignal::new(String::new());
    let cycle = RwSignal::new("1".to_owned());
    let response = RwSignal::new(String::new());
    let off_reason = RwSignal::new(String::new());
    let date = RwSignal::new(super::patients::today());
    super::patients::study_today(date);
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = {
        let study_id = study_id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let missing = |key| error.set(Some(format!("{}?", i18n::text(language.get_untracked(), key))));
            let kind = match kind.get_untracked().as_str() {
                "enrolment" => EventKind::Enrolment,
                "chemotherapy_cycle" => match cycle.get_untracked().parse() {
                    Ok(cycle) => EventKind::ChemotherapyCycle { cycle },
                    Err(_) => return missing(S::Cycle),
                },
                "induction_response" => match text::from_wire(&response.get_untracked()) {
                    Some(response) => EventKind::InductionResponse { response },
                    None => return missing(S::TumourResponse),
                },
                "radiotherapy_start" => EventKind::RadiotherapyStart,
                "radiotherapy_end" => EventKind::RadiotherapyEnd,
                "end_of_treatment" => EventKind::EndOfTreatment,
                "off_study" => match text::from_wire(&off_reason.get_untracked()) {
                    Some(reason) => EventKind::OffStudy { reason },
                    None => return missing(S::OffStudyReason),
                },
                _ => return missing(S::Event),
            };
            let Ok(date) = date.get_untracked().parse() else { return missing(S::Date) };
            let why = reason.get_untracked().trim().to_owned();
            let body = RecordEvent { event: Event { kind, date }, reason: (!why.is_empty()).then_some(why) };
            let study_id = study_id.clone();
            busy.set(true);
            error.set(None);
            warnings.set(Vec::new());
            spawn_local(async move {
                match api::record_event(&study_id, &body).await {
                    Ok(record) => {
                        warnings.set(record.warnings);
                        changed.update(|n| *n += 1);
                    }
                    Err(failure) => error.set(Some(failure.to_string())),
                }
                busy.set(false);
            });
        }
    };
    view! {
        <section aria-labelledby="events-heading" class="panel">
            <h2 id="events-heading">{t(S::Events)}</h2>
            {if records.is_empty() {
                view! { <p class="empty">{t(S::NoEvents)}</p> }.into_any()
            } else {
                view! {
                    <ul class="events" id="events">
                        {records.into_iter().map(|record| {
                            let kind = record.event.kind;
                            let recorded_at = record.recorded_at;
                            view! {
                                <li class:superseded=!record.current>
                                    <strong>{move || event_label(&kind, language.get())}</strong>
                                    " · " <span class="date">{record.event.date.to_string()}</span>
                                    {(!record.current).then(|| view! { " · " <em>{t(S::Superseded)}</em> })}
                                    <span class="muted">
                                        " · " {t(S::Recorded)} " " {move || local_time(recorded_at, language.get().tag())}
                                        " " {t(S::By)} " " {record.recorded_by.clone()}
                                    </span>
                                    {record.corrects.map(|_| view! { <span class="muted">" · " {t(S::Corrects)}</span> })}
                                    {record.reason.clone().map(|r| view! { <span class="reason">" · " {t(S::Reason)} ": " {r}</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <form class="form wide event-form" on:submit=submit>
                <h3>{t(S::RecordEvent)}</h3>
                <div class="inline-fields">
                    <div class="field">
                        <label for="event-kind">{t(S::Event)}</label>
                        <select id="event-kind" prop:value=move || kind.get() required on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="">"—"</option>
                            {EVENT_KINDS.iter().map(|(value, label)| view! { <option value=*value>{t(*label)}</option> }).collect_view()}
                        </select>
                    </div>
                    <Show when=move || kind.get() == "chemotherapy_cycle">
                        <div class="field">
                            <label for="event-cycle">{t(S::Cycle)}</label>
                            <select id="event-cycle" prop:value=move || cycle.get() on:change=move |ev| cycle.set(event_target_value(&ev))>
                                {(1..=6).map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                            </select>
                        </div>
                    </Show>
                    <Show when=move || kind.get() == "induction_response">
                        <div class="field">
                            <label for="event-response">{t(S::TumourResponse)}</label>
                            <select id="event-response" prop:value=move || response.get() on:change=move |ev| response.set(event_target_value(&ev))>
                                <option value="">"—"</option>
                                {RESPONSES.iter().map(|r| view! { <option value=text::wire(r)>{t(text::tumour_response(*r))}</option> }).collect_view()}
                            </select>
                        </div>
                    </Show>
                    <Show when=move || kind.get() == "off_study">
                        <div class="field">
                            <label for="event-off-reason">{t(S::OffStudyReason)}</label>
                            <select id="event-off-reason" prop:value=move || off_reason.get() on:change=move |ev| off_reason.set(event_target_value(&ev))>
                                <option value="">"—"</option>
                                {OFF_STUDY.iter().map(|r| view! { <option value=text::wire(r)>{t(text::off_study_reason(*r))}</option> }).collect_view()}
                            </select>
                        </div>
                    </Show>
                    <div class="field">
                        <label for="event-date">{t(S::Date)}</label>
                        <input id="event-date" type="date" prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev))/>
                    </div>
                    <div class="field grow">
                        <label for="event-reason">{t(S::CorrectionReason)}</label>
                        <input id="event-reason" type="text" on:input=move |ev| reason.set(event_target_value(&ev))/>
                    </div>
                </div>
                {move || error.get().map(|message| view! { <crate::common::Problem message/> })}
                {move || {
                    let list = warnings.get();
                    (!list.is_empty()).then(|| view! {
                        <div class="event-warnings" role="status" id="event-warnings">
                            <p><strong>{t(S::EventRecordedCheck)}</strong></p>
                            <ul>{list.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                        </div>
                    })
                }}
                <button type="submit" class="primary" disabled=move || busy.get()>{t(S::Save)}</button>
            </form>
        </section>
    }
}

#[component]
fn Timeline(submissions: Vec<SubmissionView>) -> impl IntoView {
    let all = series(&submissions);
    view! {
        <section aria-labelledby="timeline-heading" class="panel">
            <h2 id="timeline-heading">{t(S::Timeline)}</h2>
            <p class="muted">{t(S::TimelineLead)}</p>
            {if all.is_empty() {
                view! { <p class="empty">{t(S::NoScores)}</p> }.into_any()
            } else {
                view! { <div class="plots">{all.into_iter().map(|series| view! { <Plot series/> }).collect_view()}</div> }.into_any()
            }}
        </section>
    }
}

/// The wording of both instruments in the console's language, for item answers.
fn wording() -> LocalResource<Vec<InstrumentView>> {
    let language = use_language();
    LocalResource::new(move || {
        let tag = language.get().tag();
        async move {
            let mut views = Vec::new();
            for id in [InstrumentId::QlqC30, InstrumentId::QlqCx24] {
                if let Ok(view) = crate::api::instrument(id, tag).await {
                    views.push(view);
                }
            }
            views
        }
    })
}

fn answer_text(answer: &RawAnswer, wording: &[InstrumentView], language: Language) -> (String, String) {
    let item = wording.iter().flat_map(|w| w.items.iter()).find(|item| i64::from(item.number) == answer.item);
    let question = item.map_or_else(String::new, |item| item.text.clone());
    let response = match answer.response {
        RawResponse::Code(code) => item
            .and_then(|item| item.options.iter().find(|o| i64::from(o.code) == code))
            .map_or_else(|| code.to_string(), |o| format!("{code} · {}", o.label)),
        RawResponse::Marker(_) => i18n::text(language, S::NotApplicable).to_owned(),
    };
    (question, response)
}

#[component]
fn Submissions(submissions: Vec<SubmissionView>) -> impl IntoView {
    let language = use_language();
    let wording = wording();
    // A card's link opens one report (`?submission=N`): open and show it.
    let linked: Option<i64> = leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("submission")
        .and_then(|text| text.parse().ok());
    if let Some(id) = linked {
        request_animation_frame(move || {
            if let Some(element) = document().get_element_by_id(&format!("submission-{id}")) {
                element.scroll_into_view();
            }
        });
    }
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let stored = if query.get("corrected").is_some() {
        Some(S::CorrectionStored)
    } else {
        query.get("entered").map(|_| S::FormStored)
    };
    let study_id = leptos_router::hooks::use_params_map().get_untracked().get("id").unwrap_or_default();
    view! {
        <section aria-labelledby="submissions-heading" class="panel">
            <h2 id="submissions-heading">{t(S::Submissions)}</h2>
            {stored.map(|key| view! { <p class="done" role="status" id="stored-status">{t(key)}</p> })}
            {if submissions.is_empty() {
                view! { <p class="empty">{t(S::NoSubmissions)}</p> }.into_any()
            } else {
                view! {
                    <ul class="submissions">
                        {submissions.into_iter().rev().map(|submission| {
                            let completed = submission.completed_at.map(|at| at.text()).unwrap_or_default();
                            let answers = submission.answers.clone();
                            let open = linked == Some(submission.id);
                            let mode = (submission.mode != CompletionMode::SelfReport).then(|| {
                                view! { " · " <span class="mode">{t(text::mode(submission.mode))}</span> }
                            });
                            let reference = submission.form_reference.clone().map(|r| view! { " · " {t(S::FormRef)} " " {r} });
                            let entered_by = submission.entered_by.clone().map(|who| view! { " · " {t(S::EnteredBy)} " " {who.trim_start_matches("staff:").to_owned()} });
                            let version = (submission.version > 1 || !submission.current).then(|| {
                                view! { " · " {t(S::VersionOf)} " " {submission.version} }
                            });
                            let superseded = (!submission.current).then(|| view! { " · " <em>{t(S::SupersededBy)}</em> });
                            let correction = submission.correction.clone().map(|c| {
                                let signed_at = c.signed_at;
                                let who = c.signed_by.unwrap_or_default().trim_start_matches("staff:").to_owned();
                                view! {
                                    <p class="signature">
                                        {t(S::CorrectedBy)} " " <strong>{who}</strong>
                                        " · " {move || signed_at.map(|at| local_time(at, language.get().tag())).unwrap_or_default()}
                                        " · " {t(text::meaning(c.meaning))}
                                        " · " {t(S::Reason)} ": " {c.reason.unwrap_or_default()}
                                    </p>
                                }
                            });
                            let correct = submission.current.then(|| {
                                let href = format!("/staff/patients/{}/correct/{}", study_id, submission.id);
                                let id = format!("correct-{}", submission.id);
                                view! { <p><a href=href id=id>{t(S::Correct)}</a></p> }
                            });
                            view! {
                                <li data-submission-id=submission.id id=format!("submission-{}", submission.id)>
                                    <details open=open>
                                        <summary>
                                            <strong>{submission.assessment_key.to_string()}</strong>
                                            " · " {t(S::CompletedAt)} " " {move || local_time(&completed, language.get().tag())}
                                            {(submission.timeliness == Timeliness::LateDelivery).then(|| view! { " · " {t(S::LateDelivery)} })}
                                            {submission.call_me.then(|| view! { " · " <strong>{t(S::AskedToBeCalled)}</strong> })}
                                            {mode} {reference} {entered_by} {version} {superseded}
                                            " · " {t(S::ShowAnswers)}
                                        </summary>
                                        <table class="table answers">
                                            <thead><tr><th scope="col">{t(S::Item)}</th><th scope="col">""</th><th scope="col">{t(S::Answer)}</th></tr></thead>
                                            <tbody>
                                                {move || {
                                                    let wording = wording.get().unwrap_or_default();
                                                    answers.iter().map(|answer| {
                                                        let (question, response) = answer_text(answer, &wording, language.get());
                                                        view! { <tr><td>{answer.item}</td><td>{question}</td><td>{response}</td></tr> }
                                                    }).collect_view()
                                                }}
                                            </tbody>
                                        </table>
                                    </details>
                                    {correction}
                                    {correct}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Snoozes(study_id: String) -> impl IntoView {
    let language = use_language();
    let changed = RwSignal::new(0_u32);
    let list = {
        let study_id = study_id.clone();
        LocalResource::new(move || {
            changed.track();
            let study_id = study_id.clone();
            async move { api::snoozes(&study_id).await }
        })
    };
    let subject = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = {
        let study_id = study_id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let Ok(until) = until.get_untracked().parse() else {
                error.set(Some(format!("{}?", i18n::text(language.get_untracked(), S::Until))));
                return;
            };
            let body = SnoozeRequest {
                subject: subject.get_untracked().trim().to_uppercase(),
                until,
                tier: None,
                reason: reason.get_untracked(),
            };
            let study_id = study_id.clone();
            spawn_local(async move {
                match api::snooze(&study_id, &body).await {
                    Ok(_) => {
                        error.set(None);
                        changed.update(|n| *n += 1);
                    }
                    Err(failure) => error.set(Some(failure.to_string())),
                }
            });
        }
    };
    view! {
        <section aria-labelledby="snoozes-heading" class="panel">
            <h2 id="snoozes-heading">{t(S::Snoozes)}</h2>
            <p class="muted">{t(S::SnoozesLead)}</p>
            <Suspense fallback=|| ()>
                {move || list.get().map(|result| match result {
                    Ok(items) if items.is_empty() => view! { <p class="empty">{t(S::NoSnoozes)}</p> }.into_any(),
                    Ok(items) => view! {
                        <ul class="snoozes">
                            {items.into_iter().map(|snooze| {
                                let study_id = snooze.study_id.clone();
                                let id = snooze.id;
                                let end = move |_| {
                                    let study_id = study_id.clone();
                                    spawn_local(async move {
                                        match api::end_snooze(&study_id, id).await {
                                            Ok(_) => changed.update(|n| *n += 1),
                                            Err(failure) => error.set(Some(failure.to_string())),
                                        }
                                    });
                                };
                                let ended = snooze.ended_at.is_some();
                                view! {
                                    <li class:ended=ended>
                                        <strong>{snooze.subject.clone()}</strong> " · " {t(S::Until)} " " {snooze.until.to_string()}
                                        " · " {t(text::tier(snooze.tier))}
                                        {(snooze.held_count > 0).then(|| {
                                            let at = snooze.last_held_at.map(|at| at.text()).unwrap_or_default();
                                            let value = snooze.last_held_value.map(|v| format!(" ({v:.1})")).unwrap_or_default();
                                            view! {
                                                " · " <strong class="held">{snooze.held_count} " " {t(S::HeldReports)} " "
                                                {move || local_time(&at, language.get().tag())} {value.clone()}</strong>
                                            }
                                        })}
                                        " · " {snooze.reason.clone()} <span class="muted">" · " {t(S::By)} " " {snooze.created_by.clone()}</span>
                                        {if ended {
                                            view! { " · " <em>{t(S::Ended)}</em> }.into_any()
                                        } else {
                                            view! { " " <button type="button" class="link" on:click=end>{t(S::EndSnooze)}</button> }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
            <form class="form wide" on:submit=submit>
                <div class="inline-fields">
                    <div class="field">
                        <label for="snooze-subject">{t(S::SnoozeSubject)}</label>
                        <input id="snooze-subject" type="text" required on:input=move |ev| subject.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="snooze-until">{t(S::Until)}</label>
                        <input id="snooze-until" type="date" required on:input=move |ev| until.set(event_target_value(&ev))/>
                    </div>
                    <div class="field grow">
                        <label for="snooze-reason">{t(S::Reason)}</label>
                        <input id="snooze-reason" type="text" required on:input=move |ev| reason.set(event_target_value(&ev))/>
                    </div>
                    <button type="submit" class="secondary">{t(S::Snooze)}</button>
                </div>
                {move || error.get().map(|message| view! { <crate::common::Problem message/> })}
            </form>
        </section>
    }
}

/// The patient's alert cards, open and past, newest first, with the same actions as the
/// worklist.
#[component]
fn PatientCards(study_id: String) -> impl IntoView {
    let cards = RwSignal::new(None::<Result<Vec<qol_shared::api::AlertCard>, String>>);
    spawn_local(async move {
        cards.set(Some(api::patient_alerts(&study_id).await.map_err(|failure| failure.to_string())));
    });
    let replace = move |updated: qol_shared::api::AlertCard| {
        cards.update(|current| {
            if let Some(Ok(list)) = current
                && let Some(slot) = list.iter_mut().find(|card| card.id == updated.id)
            {
                *slot = updated;
            }
        });
    };
    view! {
        <section aria-labelledby="cards-heading" class="panel" id="patient-cards">
            <h2 id="cards-heading">{t(S::PatientCards)}</h2>
            {move || match cards.get() {
                None => ().into_any(),
                Some(Err(message)) => view! { <crate::common::Problem message/> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="empty">{t(S::NoCards)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="alerts">
                        <For each=move || list.clone() key=|card| (card.id, card.updated_at, card.state.as_str()) let:card>
                            <li><super::worklist::Card card linked=None replace/></li>
                        </For>
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}
