//! Forms staff enter on a patient's behalf (`/staff/patients/:id/enter/:assessment`: a paper form
//! transcribed, an interview, a proxy's answers) and signed corrections of a stored form
//! (`/staff/patients/:id/correct/:submission`). Both show every item of the form's
//! questionnaires with its response options in the console's language; the server validates,
//! scores and raises alerts as it does for the phone.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use qol_shared::Language;
use qol_shared::answers::{RawAnswer, RawResponse};
use qol_shared::api::{
    AssessmentView, CompletionMode, CorrectionMeaning, CorrectionRequest, PaperEntries, PaperEntryState,
    StaffEntryRequest, SubmissionView,
};
use qol_shared::instrument::InstrumentId;
use qol_shared::wording::InstrumentView;

use super::text::{self, S};
use super::{Failed, Part, Shell, api};
use crate::api::ApiFailure;
use crate::i18n::{self, local_time, t, use_language};

/// One item's answer on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Skipped,
    Code(i64),
    NotApplicable,
}

type Grid = RwSignal<BTreeMap<i64, Choice>>;

fn raw_answers(grid: &BTreeMap<i64, Choice>) -> Vec<RawAnswer> {
    grid.iter()
        .filter_map(|(item, choice)| match choice {
            Choice::Skipped => None,
            Choice::Code(code) => Some(RawAnswer::code(*item, *code)),
            Choice::NotApplicable => Some(RawAnswer::not_applicable(*item)),
        })
        .collect()
}

fn grid_of(answers: &[RawAnswer]) -> BTreeMap<i64, Choice> {
    answers
        .iter()
        .map(|answer| {
            let choice = match answer.response {
                RawResponse::Code(code) => Choice::Code(code),
                RawResponse::Marker(_) => Choice::NotApplicable,
            };
            (answer.item, choice)
        })
        .collect()
}

/// The wording of the form's questionnaires in the console's language.
fn wording_of(instruments: Vec<InstrumentId>) -> LocalResource<Result<Vec<InstrumentView>, ApiFailure>> {
    let language = use_language();
    LocalResource::new(move || {
        let tag = language.get().tag();
        let instruments = instruments.clone();
        async move {
            let mut views = Vec::new();
            for id in instruments {
                views.push(crate::api::instrument(id, tag).await?);
            }
            Ok(views)
        }
    })
}

/// Every item of the questionnaires, each a group of radio buttons: not answered, each response,
/// and "not applicable" for the items of a conditional section.
#[component]
fn AnswerGrid(wording: Vec<InstrumentView>, grid: Grid) -> impl IntoView {
    wording
        .into_iter()
        .map(|instrument| {
            let heading = format!("{} ({})", instrument.title, instrument.name);
            let notice = instrument.notice.clone();
            let items = instrument
                .items
                .into_iter()
                .map(|item| {
                    let number = i64::from(item.number);
                    let name = format!("item-{number}");
                    let legend = format!("{number}. {}", item.text);
                    let option = move |choice: Choice, label: String| {
                        let id = match choice {
                            Choice::Skipped => format!("item-{number}-none"),
                            Choice::Code(code) => format!("item-{number}-{code}"),
                            Choice::NotApplicable => format!("item-{number}-na"),
                        };
                        let name = format!("item-{number}");
                        view! {
                            <span class="opt">
                                <input type="radio" id=id.clone() name=name
                                    prop:checked=move || grid.with(|g| g.get(&number).copied().unwrap_or(Choice::Skipped) == choice)
                                    on:change=move |_| grid.update(|g| { g.insert(number, choice); })/>
                                <label for=id>{label}</label>
                            </span>
                        }
                    };
                    let options = item
                        .options
                        .iter()
                        .map(|o| option(Choice::Code(i64::from(o.code)), format!("{} · {}", o.code, o.label)))
                        .collect_view();
                    let not_applicable = item.section.is_some().then(|| {
                        option(Choice::NotApplicable, i18n::text(use_language().get_untracked(), S::AssessNotApplicable).to_owned())
                    });
                    view! {
                        <fieldset class="item" data-item=number id=name>
                            <legend>{legend}</legend>
                            {option(Choice::Skipped, i18n::text(use_language().get_untracked(), S::NotAnswered).to_owned())}
                            {options}
                            {not_applicable}
                        </fieldset>
                    }
                })
                .collect_view();
            view! {
                <section class="panel answer-grid">
                    <h2>{heading}</h2>
                    {notice.map(|notice| view! { <p class="muted">{notice}</p> })}
                    {items}
                </section>
            }
        })
        .collect_view()
}

/// A language in its own words.
fn language_name(language: Language) -> &'static str {
    match language {
        Language::English => "English",
        Language::Chinese => "中文（简体）",
    }
}

/// A refusal as the console says it, with the server's own sentence (it names the field).
fn refusal(failure: &ApiFailure, language: Language) -> String {
    match failure {
        ApiFailure::Refused { message, .. } => message.clone(),
        other => super::say(other, language),
    }
}

/// `/staff/patients/:id/enter/:assessment`.
#[component]
pub fn EnterForm() -> impl IntoView {
    view! { <Shell part=Part::Patients><Entry/></Shell> }
}

#[component]
fn Entry() -> impl IntoView {
    let params = use_params_map();
    let study_id = move || params.read().get("id").unwrap_or_default();
    let assessment_id = move || params.read().get("assessment").and_then(|text| text.parse::<i64>().ok());
    let assessments = LocalResource::new(move || {
        let id = study_id();
        async move { api::assessments(&id).await }
    });
    move || {
        let Some(result) = assessments.get() else { return ().into_any() };
        match result {
            Err(failure) => view! { <Failed failure/> }.into_any(),
            Ok(list) => match list.into_iter().find(|a| Some(a.id) == assessment_id()) {
                None => view! {
                    <h1 id="screen-heading" tabindex="-1">{t(S::EnterForm)}</h1>
                    <p role="alert">{t(S::NoSuchAssessment)}</p>
                    <p><a href=format!("/staff/patients/{}", study_id())>{t(S::BackToPatient)}</a></p>
                }
                .into_any(),
                Some(assessment) => view! { <EntryForm study_id=study_id() assessment/> }.into_any(),
            },
        }
    }
}

#[component]
fn EntryForm(study_id: String, assessment: AssessmentView) -> impl IntoView {
    let language = use_language();
    let navigate = use_navigate();
    let wording = wording_of(assessment.instruments.clone());
    let grid: Grid = RwSignal::new(BTreeMap::new());
    let mode = RwSignal::new(CompletionMode::Paper);
    let today = super::patients::today().parse::<chrono::NaiveDate>().ok();
    // Today, or the window's last day when it has closed (a form that came back late).
    let default_day = match (today, assessment.window_end) {
        (Some(today), Some(end)) => today.min(end).to_string(),
        (Some(today), None) => today.to_string(),
        (None, _) => String::new(),
    };
    let clamped = today.zip(assessment.window_end).is_some_and(|(today, end)| end < today);
    let completed_on = RwSignal::new(default_day);
    if !clamped {
        // The study's today (its time zone), not the browser's.
        super::patients::study_today(completed_on);
    }
    let reference = RwSignal::new(String::new());
    let form_language = RwSignal::new(language.get_untracked());
    let call_me = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Double entry of paper forms: where this form stands, and what an entry made here came to.
    let assessment_id = assessment.id;
    let entries = LocalResource::new(move || api::paper_entries(assessment_id));
    let pending = RwSignal::new(None::<PaperEntries>);
    // Two entries that disagree: what they agree on is filled in for the resolution.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(Ok(found)) = entries.get() else { return false };
        if let (Some(first), true) = (found.entered.first(), !found.entered.is_empty()) {
            let disputed = &found.differences;
            let agreed: Vec<RawAnswer> = first
                .answers
                .iter()
                .filter(|answer| !disputed.contains(&format!("item {}", answer.item)))
                .cloned()
                .collect();
            grid.set(grid_of(&agreed));
            if !disputed.iter().any(|field| field == "completed_on") {
                completed_on.set(first.completed_on.to_string());
            }
            if !disputed.iter().any(|field| field == "form_reference") {
                reference.set(first.form_reference.clone().unwrap_or_default());
            }
            if !disputed.iter().any(|field| field == "language") {
                form_language.set(first.language);
            }
            if !disputed.iter().any(|field| field == "call_me") {
                call_me.set(first.call_me);
            }
        }
        true
    });
    // One client id per form on this page: a retry after a lost answer stores nothing twice.
    let client_id = StoredValue::new(crate::local::new_client_id());
    let back = format!("/staff/patients/{study_id}");
    let back_link = back.clone();
    let label =
        assessment.labels.get(language.get_untracked().tag()).cloned().unwrap_or(assessment.label.clone());
    let window = match (assessment.window_start, assessment.window_end) {
        (Some(start), Some(end)) => format!("{start} – {end}"),
        _ => String::new(),
    };
    let study = study_id.clone();
    let done_to = back.clone();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Ok(day) = completed_on.get_untracked().parse::<chrono::NaiveDate>() else {
            problem.set(Some(i18n::text(language.get_untracked(), S::CompletedOnRule).to_owned()));
            return;
        };
        let body = StaffEntryRequest {
            client_id: client_id.get_value(),
            assessment_id: assessment.id,
            mode: mode.get_untracked(),
            completed_on: day,
            form_reference: Some(reference.get_untracked()).filter(|text| !text.trim().is_empty()),
            language: form_language.get_untracked(),
            answers: grid.with_untracked(raw_answers),
            call_me: call_me.get_untracked(),
        };
        busy.set(true);
        problem.set(None);
        let study = study.clone();
        let navigate = navigate.clone();
        let done_to = done_to.clone();
        spawn_local(async move {
            match api::enter_form(&study, &body).await {
                Ok(api::EntryOutcome::Stored(receipt)) => navigate(
                    &format!(
                        "{done_to}?entered={}#submission-{}",
                        receipt.submission_id, receipt.submission_id
                    ),
                    Default::default(),
                ),
                Ok(api::EntryOutcome::Pending(state)) => {
                    pending.set(Some(state));
                    // This entry is stored; the page stays, its button off, with what comes next.
                    return;
                }
                Err(failure) => problem.set(Some(refusal(&failure, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::EnterForm)} " · " {study_id.clone()}</h1>
        <p><a href=back.clone()>{t(S::BackToPatient)}</a></p>
        <p class="muted">{t(S::EnterFormLead)}</p>
        <Suspense fallback=|| ()>
            {move || entries.get().and_then(Result::ok).filter(|found| found.double_entry).map(|found| view! {
                <section class="panel" id="double-entry" aria-live="polite">
                    <p>{t(S::DoubleEntryLead)}</p>
                    <DoubleEntryState found/>
                </section>
            })}
        </Suspense>
        {move || pending.get().map(|found| view! {
            <section class="panel" id="entry-pending" role="status">
                <DoubleEntryState found/>
                <p><a href=back_link.clone()>{t(S::BackToPatient)}</a></p>
            </section>
        })}
        <form class="form entry" on:submit=submit>
            <section class="panel">
                <dl class="facts">
                    <div><dt>{t(S::Assessment)}</dt><dd id="entry-assessment">{label}</dd></div>
                    <div><dt>{t(S::Window)}</dt><dd>{window}</dd></div>
                </dl>
                <div class="field">
                    <label for="entry-mode">{t(S::Mode)}</label>
                    <select id="entry-mode" on:change=move |event| {
                        if let Some(chosen) = CompletionMode::parse(&event_target_value(&event)) {
                            mode.set(chosen);
                        }
                    }>
                        {CompletionMode::STAFF.iter().map(|m| view! {
                            <option value=m.as_str() selected=*m == CompletionMode::Paper>{t(text::mode(*m))}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="entry-completed-on">{t(S::CompletedOn)}</label>
                    <input id="entry-completed-on" type="date" required
                        prop:value=move || completed_on.get() on:input=move |event| completed_on.set(event_target_value(&event))/>
                </div>
                <div class="field">
                    <label for="entry-reference">{t(S::FormReference)}</label>
                    <input id="entry-reference" autocomplete="off" aria-describedby="entry-reference-hint"
                        required=move || mode.get() == CompletionMode::Paper
                        prop:value=move || reference.get() on:input=move |event| reference.set(event_target_value(&event))/>
                    <p class="muted" id="entry-reference-hint">{t(S::FormReferenceHint)}</p>
                </div>
                <div class="field">
                    <label for="entry-language">{t(S::FormLanguage)}</label>
                    <select id="entry-language" on:change=move |event| {
                        if let Some(chosen) = Language::from_tag(&event_target_value(&event)) {
                            form_language.set(chosen);
                        }
                    }>
                        {Language::ALL.iter().map(|l| view! {
                            <option value=l.tag() selected=*l == form_language.get_untracked()>{language_name(*l)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field check">
                    <input id="entry-call-me" type="checkbox" prop:checked=move || call_me.get()
                        on:change=move |event| call_me.set(event_target_checked(&event))/>
                    <label for="entry-call-me">{t(S::AskedToBeCalled)}</label>
                </div>
            </section>
            <Suspense fallback=|| ()>
                {move || wording.get().map(|result| match result {
                    Ok(views) => view! { <AnswerGrid wording=views grid/> }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
            {move || problem.get().map(|message| view! { <crate::common::Problem message/> })}
            <button type="submit" class="primary" id="entry-submit" disabled=move || busy.get() || pending.get().is_some()>{t(S::StoreForm)}</button>
        </form>
    }
}

/// Where a paper form under double entry stands, in words.
#[component]
fn DoubleEntryState(found: PaperEntries) -> impl IntoView {
    let language = use_language();
    let by = found
        .entries
        .iter()
        .map(|entry| {
            format!("{} ({})", entry.entered_by, local_time(entry.entered_at, language.get_untracked().tag()))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let differences = found.differences.join(", ");
    match found.state {
        PaperEntryState::None => view! { <p class="muted">{t(S::FirstEntryNext)}</p> }.into_any(),
        PaperEntryState::AwaitingSecondEntry => view! {
            <p class="done" data-state="awaiting_second_entry">{t(S::AwaitingSecondEntry)} " " {by}</p>
            <p>{t(S::EnterAgainBlind)}</p>
        }
        .into_any(),
        PaperEntryState::EntriesDiffer | PaperEntryState::Agreed => view! {
            <p class="problem" data-state="entries_differ">{t(S::EntriesDifferOn)} " " <strong class="differences">{differences}</strong></p>
            <p>{t(S::ResolveFromPaper)} " (" {t(S::EnteredBy)} ": " {by} ")"</p>
        }
        .into_any(),
        PaperEntryState::Counted => view! { <p class="done" data-state="counted">{t(S::FormCounted)}</p> }.into_any(),
    }
}

/// `/staff/patients/:id/correct/:submission`.
#[component]
pub fn CorrectForm() -> impl IntoView {
    view! { <Shell part=Part::Patients><Correction/></Shell> }
}

#[component]
fn Correction() -> impl IntoView {
    let params = use_params_map();
    let study_id = move || params.read().get("id").unwrap_or_default();
    let submission_id = move || params.read().get("submission").and_then(|text| text.parse::<i64>().ok());
    let submissions = LocalResource::new(move || {
        let id = study_id();
        async move { api::submissions(&id).await }
    });
    move || {
        let Some(result) = submissions.get() else { return ().into_any() };
        match result {
            Err(failure) => view! { <Failed failure/> }.into_any(),
            Ok(list) => match list.into_iter().find(|s| Some(s.id) == submission_id()) {
                Some(submission) if submission.current => {
                    view! { <CorrectionForm study_id=study_id() submission/> }.into_any()
                }
                found => view! {
                    <h1 id="screen-heading" tabindex="-1">{t(S::CorrectForm)}</h1>
                    <p role="alert">{t(if found.is_some() { S::NotCurrentVersion } else { S::NoSuchSubmission })}</p>
                    <p><a href=format!("/staff/patients/{}", study_id())>{t(S::BackToPatient)}</a></p>
                }
                .into_any(),
            },
        }
    }
}

#[component]
fn CorrectionForm(study_id: String, submission: SubmissionView) -> impl IntoView {
    let language = use_language();
    let navigate = use_navigate();
    let instruments: Vec<InstrumentId> = submission.scores.iter().map(|scores| scores.instrument).collect();
    let wording = wording_of(instruments);
    let grid: Grid = RwSignal::new(grid_of(&submission.answers));
    let meaning = RwSignal::new(CorrectionMeaning::CorrectedTranscriptionError);
    let reason = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let back = format!("/staff/patients/{study_id}");
    let done_to = back.clone();
    let (id, version) = (submission.id, submission.version);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = CorrectionRequest {
            version,
            answers: grid.with_untracked(raw_answers),
            meaning: meaning.get_untracked(),
            reason: reason.get_untracked(),
            password: password.get_untracked(),
        };
        busy.set(true);
        problem.set(None);
        let navigate = navigate.clone();
        let done_to = done_to.clone();
        spawn_local(async move {
            let result = api::correct(id, &body).await;
            // The password is not kept on the page after it was sent.
            password.set(String::new());
            match result {
                Ok(receipt) => navigate(
                    &format!(
                        "{done_to}?corrected={}#submission-{}",
                        receipt.submission_id, receipt.submission_id
                    ),
                    Default::default(),
                ),
                Err(failure) => problem.set(Some(refusal(&failure, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::CorrectForm)} " · " {study_id.clone()}</h1>
        <p><a href=back>{t(S::BackToPatient)}</a></p>
        <p class="muted">{t(S::CorrectFormLead)}</p>
        <form class="form entry" on:submit=submit>
            <section class="panel">
                <dl class="facts">
                    <div><dt>{t(S::Assessment)}</dt><dd>{submission.assessment_key.to_string()}</dd></div>
                    <div><dt>{t(S::Version)}</dt><dd id="correct-version">{version}</dd></div>
                    <div><dt>{t(S::Mode)}</dt><dd>{t(text::mode(submission.mode))}</dd></div>
                </dl>
            </section>
            <Suspense fallback=|| ()>
                {move || wording.get().map(|result| match result {
                    Ok(views) => view! { <AnswerGrid wording=views grid/> }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
            <section class="panel signature" aria-labelledby="signature-heading">
                <h2 id="signature-heading">{t(S::Signature)}</h2>
                <div class="field">
                    <label for="correct-meaning">{t(S::Meaning)}</label>
                    <select id="correct-meaning" on:change=move |event| {
                        if let Some(chosen) = text::from_wire::<CorrectionMeaning>(&event_target_value(&event)) {
                            meaning.set(chosen);
                        }
                    }>
                        {CorrectionMeaning::ALL.iter().map(|m| view! {
                            <option value=m.as_str()>{t(text::meaning(*m))}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="correct-reason">{t(S::Reason)}</label>
                    <textarea id="correct-reason" required maxlength="500"
                        prop:value=move || reason.get() on:input=move |event| reason.set(event_target_value(&event))></textarea>
                </div>
                <div class="field">
                    <label for="correct-password">{t(S::SignWithPassword)}</label>
                    <input id="correct-password" type="password" autocomplete="current-password" required
                        aria-describedby="correct-password-hint"
                        prop:value=move || password.get() on:input=move |event| password.set(event_target_value(&event))/>
                    <p class="muted" id="correct-password-hint">{t(S::SignatureHint)}</p>
                </div>
            </section>
            {move || problem.get().map(|message| view! { <crate::common::Problem message/> })}
            <button type="submit" class="primary" id="correct-submit" disabled=move || busy.get()>{t(S::SignCorrection)}</button>
        </form>
    }
}
