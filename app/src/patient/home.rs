//! The start page: a welcome for someone not signed in, the patient's home (what is due and "I
//! need help" first, then what comes next and her past forms, grouped), or, for staff, the way
//! to the staff console.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{AssessmentView, MyAssessments, Role};
use qol_shared::instrument::InstrumentId;

use super::outbox::Outbox;
use super::vault;
use crate::api;
use crate::common::Problem;
use crate::i18n::{Text, label_in, local_date, local_time, t, use_language};
use crate::local::{self, Delivery, Draft};
use crate::{Session, use_session};

const ASSESSMENTS_KEY: &str = "assessments";

#[component]
pub fn Start() -> impl IntoView {
    let session = use_session();
    move || match session.get() {
        Session::Checking | Session::Locked(_) => {
            view! { <p class="muted">{t(Text::Loading)}</p> }.into_any()
        }
        Session::SignedOut => view! { <Welcome/> }.into_any(),
        Session::SignedIn(me) if me.role == Role::Patient => view! { <PatientHome/> }.into_any(),
        Session::SignedIn(_) => view! { <StaffHome/> }.into_any(),
    }
}

#[component]
fn Welcome() -> impl IntoView {
    let study = super::lock::study_resource();
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::Welcome)}</h1>
        <p class="lead">{t(Text::WelcomeLead)}</p>
        {move || study.get().flatten().map(|study| view! {
            <p class="study-title">{study.title}</p>
        })}
        {vault::any_sealed_unsent().then(|| view! { <p class="state saved" id="kept-locked">{t(Text::KeptLocked)}</p> })}
        <nav class="choices" aria-label=t(Text::SignInTitle)>
            <a class="choice" href="/activate">{t(Text::HaveCode)}</a>
            <a class="choice" href="/sign-in">{t(Text::HavePin)}</a>
        </nav>
        <p><a class="choice" href="/help">{t(Text::HelpTitle)}</a></p>
        <p class="staff-link"><a href="/staff/sign-in" rel="external" class="tap">{t(Text::StaffSignIn)}</a></p>
    }
}

/// Opens (or resumes) the questionnaire for `assessment`.
fn start_questionnaire(
    key: &str,
    assessment_id: Option<i64>,
    label: &str,
    labels: std::collections::BTreeMap<String, String>,
    instruments: Vec<InstrumentId>,
) -> String {
    let draft_key = local::draft_name(key);
    if vault::load::<Draft>(&draft_key).is_none() {
        let draft = Draft {
            key: key.to_owned(),
            assessment_id,
            label: label.to_owned(),
            labels,
            instruments,
            client_id: local::new_client_id(),
            answers: Default::default(),
            position: 0,
            call_me: None,
            only_items: Vec::new(),
            help_requested: false,
            editing: false,
        };
        vault::save(&draft_key, &draft);
    }
    format!("/questionnaire/{key}")
}

#[component]
fn DeliveryBadge(delivery: Delivery) -> impl IntoView {
    let language = use_language();
    match delivery {
        // Not live regions: the app's one live region says what changed (`crate::announce`).
        Delivery::Saved => view! { <p class="state saved">{t(Text::SavedOnPhone)}</p> }.into_any(),
        Delivery::Sending => view! { <p class="state sending">{t(Text::Sending)}</p> }.into_any(),
        Delivery::Sent { received_at } => view! {
            <p class="state sent">
                {t(Text::SentTick)} " · " {t(Text::SentAt)} " " {move || local_time(&received_at, language.get().tag())}
            </p>
        }
        .into_any(),
        Delivery::Refused { status, code, message } => {
            // Said in the patient's language from the refusal's code; the server's English
            // sentence is shown as a detail in English only.
            let failure = api::ApiFailure::Refused { status, code, message: message.clone() };
            view! {
                <div class="state refused">
                    <strong>{t(Text::NotSent)}</strong>
                    <p>{move || failure.say(language.get())}</p>
                    {move || (language.get() == qol_shared::Language::English).then(|| view! { <p class="detail">{message.clone()}</p> })}
                </div>
            }
            .into_any()
        }
    }
}

#[component]
fn PatientHome() -> impl IntoView {
    let outbox = expect_context::<Outbox>();
    let language = use_language();
    let assessments = super::load(move || {
        // Refresh whenever a delivery changes, so a sent form moves to "sent".
        outbox.entries.track();
        async move {
            match api::my_assessments().await {
                Ok((list, text)) => {
                    vault::save_text(ASSESSMENTS_KEY, text);
                    Ok(list)
                }
                Err(failure) => vault::load::<MyAssessments>(ASSESSMENTS_KEY).ok_or(failure),
            }
        }
    });
    let feel_worse = {
        move |_| {
            let path = start_questionnaire(
                "unscheduled",
                None,
                "Unscheduled report",
                crate::i18n::unscheduled_labels(),
                vec![InstrumentId::QlqC30],
            );
            super::nav::go(&path);
        }
    };
    let due_card = move |assessment: AssessmentView| {
        let key = assessment.key.clone();
        let delivery = outbox.delivery_of(&key);
        let in_progress = vault::load::<Draft>(&local::draft_name(&key)).is_some();
        let open = {
            let assessment = assessment.clone();
            move |_| {
                let path = start_questionnaire(
                    &assessment.key,
                    Some(assessment.id),
                    &assessment.label,
                    assessment.labels.clone(),
                    assessment.instruments.clone(),
                );
                super::nav::go(&path);
            }
        };
        let labels = assessment.labels.clone();
        let label = assessment.label.clone();
        view! {
            <li class="card due">
                <span class="card-title">{move || label_in(&labels, &label, language.get())}</span>
                {assessment.window_end.map(|end| view! { <span class="muted">{t(Text::Until)} " " {move || local_date(end, language.get().tag())}</span> })}
                {match delivery {
                    Some(delivery) => view! { <DeliveryBadge delivery/> }.into_any(),
                    None => view! {
                        <button type="button" class="primary" on:click=open>
                            {if in_progress { t(Text::Continue) } else { t(Text::Start) }}
                        </button>
                    }.into_any(),
                }}
            </li>
        }
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::DueNow)}</h1>
        {move || match assessments.get() {
            None => view! { <p class="muted">{t(Text::Loading)}</p> }.into_any(),
            Some(Ok(list)) => {
                let due = list.due.clone();
                let next = list.upcoming.first().cloned();
                let sent = list.completed.clone();
                view! {
                    {if due.is_empty() {
                        view! { <p class="muted">{t(Text::NothingDue)}</p> }.into_any()
                    } else {
                        view! { <ul class="cards">{due.into_iter().map(due_card).collect_view()}</ul> }.into_any()
                    }}
                    <OutboxOnly list=list.clone()/>
                    <HelpFirst/>
                    {next.map(|next| {
                        let labels = next.labels.clone();
                        let label = next.label.clone();
                        view! {
                            <h2>{t(Text::ComingNext)}</h2>
                            <p class="card next">
                                <span class="card-title">{move || label_in(&labels, &label, language.get())}</span>
                                {next.window_start.map(|start| view! { <span class="muted">{t(Text::Opens)} " " {move || local_date(start, language.get().tag())}</span> })}
                            </p>
                        }
                    })}
                    <PastForms sent/>
                }.into_any()
            }
            Some(Err(failure)) => view! { <Problem message=failure.say(language.get())/> }.into_any(),
        }}
        <section class="worse" aria-labelledby="worse-heading">
            <p id="worse-heading" class="muted">{t(Text::FeelWorseLead)}</p>
            <button type="button" class="secondary" on:click=feel_worse>{t(Text::FeelWorse)}</button>
        </section>
        <p><a href="/history" id="see-history" class="tap">{t(Text::SeeHistory)}</a></p>
        <p><a href="/settings" id="reminder-settings" class="tap">{t(Text::ReminderSettings)}</a></p>
        <p><a href="/sign-out" id="sign-out" class="tap">{t(Text::SignOut)}</a></p>
    }
}

/// "I need help", right after what is due.
#[component]
fn HelpFirst() -> impl IntoView {
    view! {
        <section class="help-first" aria-labelledby="help-heading">
            <h2 id="help-heading" class="visually-hidden">{t(Text::HelpTitle)}</h2>
            <a class="secondary" id="need-help" href="/help">{t(Text::INeedHelp)}</a>
        </section>
    }
}

/// Her past forms, one line per kind ("Weekly during therapy: 12 sent, the last on 1 Dec"), and
/// the way to all of them.
#[component]
fn PastForms(sent: Vec<AssessmentView>) -> impl IntoView {
    let language = use_language();
    let mut groups: Vec<(AssessmentView, usize)> = Vec::new();
    for done in sent {
        match groups.iter_mut().find(|(first, _)| first.code == done.code) {
            // The latest of a kind stands for it.
            Some((latest, count)) => {
                *count += 1;
                if done.received_at > latest.received_at {
                    *latest = done;
                }
            }
            None => groups.push((done, 1)),
        }
    }
    (!groups.is_empty()).then(|| view! {
        <h2>{t(Text::PastForms)}</h2>
        <ul class="sent-list" id="sent-groups">
            {groups.into_iter().map(|(latest, count)| {
                let labels = latest.labels.clone();
                let label = latest.label.clone();
                let at = latest.received_at.map(|at| at.text());
                view! {
                    <li>
                        <span class="card-title">{move || label_in(&labels, &label, language.get())}</span>
                        ": " {count} " " {t(Text::SentCount)}
                        {at.map(|received_at| view! { <DeliveryBadge delivery=Delivery::Sent { received_at }/> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}

/// Questionnaires in the outbox that the server's list does not show as due (unscheduled reports,
/// or ones sent while the list was last loaded): their delivery state must stay visible.
#[component]
fn OutboxOnly(list: MyAssessments) -> impl IntoView {
    let outbox = expect_context::<Outbox>();
    let language = use_language();
    move || {
        let known: Vec<String> = list.due.iter().map(|a| a.key.to_string()).collect();
        let entries: Vec<_> = outbox.entries.with(|entries| {
            entries
                .iter()
                .filter(|entry| {
                    !known.contains(&entry.key) && !matches!(entry.delivery, Delivery::Sent { .. })
                })
                .cloned()
                .collect()
        });
        entries
            .into_iter()
            .map(|entry| {
                let labels = entry.labels.clone();
                let label = entry.label.clone();
                view! {
                    <p class="card due">
                        <span class="card-title">{move || label_in(&labels, &label, language.get())}</span>
                        <DeliveryBadge delivery=entry.delivery/>
                    </p>
                }
            })
            .collect_view()
    }
}

#[component]
fn StaffHome() -> impl IntoView {
    let session = use_session();
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::sign_out().await;
            crate::signed_out(session);
        });
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::StaffHomeTitle)}</h1>
        <p><a class="choice" href="/staff" rel="external">{t(Text::StaffHomeLead)}</a></p>
        <p><button type="button" class="link" on:click=sign_out>{t(Text::SignOut)}</button></p>
    }
}
