//! The start page: a welcome for someone not signed in, the patient's home (what is due, what
//! comes next, what was sent, and "I feel worse"), or, for staff, the way to the staff console.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use qol_shared::api::{AssessmentView, MyAssessments, Role};
use qol_shared::instrument::InstrumentId;

use super::outbox::Outbox;
use crate::api;
use crate::common::Problem;
use crate::i18n::{Text, local_time, t, use_language};
use crate::local::{self, Delivery, Draft};
use crate::{Session, use_session};

const ASSESSMENTS_KEY: &str = "qol.assessments";

#[component]
pub fn Start() -> impl IntoView {
    let session = use_session();
    move || match session.get() {
        Session::Checking => view! { <p class="muted">{t(Text::Loading)}</p> }.into_any(),
        Session::SignedOut => view! { <Welcome/> }.into_any(),
        Session::SignedIn(me) if me.role == Role::Patient => view! { <PatientHome/> }.into_any(),
        Session::SignedIn(_) => view! { <StaffHome/> }.into_any(),
    }
}

#[component]
fn Welcome() -> impl IntoView {
    let study = LocalResource::new(api::study);
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::Welcome)}</h1>
        <p class="lead">{t(Text::WelcomeLead)}</p>
        <Suspense fallback=|| ()>
            {move || study.get().and_then(Result::ok).map(|study| view! {
                <p class="study-title">{study.title}</p>
            })}
        </Suspense>
        <nav class="choices" aria-label=t(Text::SignInTitle)>
            <a class="choice" href="/activate">{t(Text::HaveCode)}</a>
            <a class="choice" href="/sign-in">{t(Text::HavePin)}</a>
        </nav>
        <p class="staff-link"><a href="/staff/sign-in" rel="external">{t(Text::StaffSignIn)}</a></p>
    }
}

/// Opens (or resumes) the questionnaire for `assessment`.
fn start_questionnaire(
    key: &str,
    assessment_id: Option<i64>,
    label: &str,
    instruments: Vec<InstrumentId>,
) -> String {
    let draft_key = local::draft_key(key);
    if local::load::<Draft>(&draft_key).is_none() {
        let draft = Draft {
            key: key.to_owned(),
            assessment_id,
            label: label.to_owned(),
            instruments,
            client_id: local::new_client_id(),
            answers: Default::default(),
            position: 0,
            call_me: None,
        };
        local::save(&draft_key, &draft);
    }
    format!("/questionnaire/{key}")
}

#[component]
fn DeliveryBadge(delivery: Delivery) -> impl IntoView {
    let language = use_language();
    match delivery {
        Delivery::Saved => view! { <p class="state saved" role="status">{t(Text::SavedOnPhone)}</p> }.into_any(),
        Delivery::Sending => view! { <p class="state sending" role="status">{t(Text::Sending)}</p> }.into_any(),
        Delivery::Sent { received_at } => view! {
            <p class="state sent" role="status">
                {t(Text::SentTick)} " · " {t(Text::SentAt)} " " {move || local_time(&received_at, language.get().tag())}
            </p>
        }
        .into_any(),
        Delivery::Refused { status, message } => {
            // The server's words are English; the reason is said in the patient's language too.
            let reason = match status {
                409 => Some(Text::RefusedConflict),
                422 => Some(Text::RefusedInvalid),
                401 | 403 => Some(Text::RefusedSignIn),
                _ => None,
            };
            view! {
                <div class="state refused" role="alert">
                    <strong>{t(Text::NotSent)}</strong>
                    {reason.map(|reason| view! { <p>{t(reason)}</p> })}
                    <p class="detail">{message}</p>
                </div>
            }
            .into_any()
        }
    }
}

#[component]
fn PatientHome() -> impl IntoView {
    let outbox = expect_context::<Outbox>();
    let session = use_session();
    let navigate = use_navigate();
    let assessments = LocalResource::new(move || {
        // Refresh whenever a delivery changes, so a sent form moves to "sent".
        outbox.entries.track();
        async move {
            match api::my_assessments().await {
                Ok(list) => {
                    local::save(ASSESSMENTS_KEY, &list);
                    Ok(list)
                }
                Err(failure) => local::load::<MyAssessments>(ASSESSMENTS_KEY).ok_or(failure),
            }
        }
    });
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::sign_out().await;
            crate::signed_out(session);
        });
    };
    let feel_worse = {
        let navigate = navigate.clone();
        move |_| {
            let path =
                start_questionnaire("unscheduled", None, "Unscheduled report", vec![InstrumentId::QlqC30]);
            navigate(&path, Default::default());
        }
    };
    let due_card = move |assessment: AssessmentView| {
        let key = assessment.key.clone();
        let delivery = outbox.delivery_of(&key);
        let in_progress = local::load::<Draft>(&local::draft_key(&key)).is_some();
        let navigate = navigate.clone();
        let open = {
            let assessment = assessment.clone();
            move |_| {
                let path = start_questionnaire(
                    &assessment.key,
                    Some(assessment.id),
                    &assessment.label,
                    assessment.instruments.clone(),
                );
                navigate(&path, Default::default());
            }
        };
        view! {
            <li class="card due">
                <span class="card-title">{assessment.label.clone()}</span>
                {assessment.window_end.map(|end| view! { <span class="muted">{t(Text::Until)} " " {end.to_string()}</span> })}
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
        <Suspense fallback=move || view! { <p class="muted">{t(Text::Loading)}</p> }>
            {move || assessments.get().map(|result| match result {
                Ok(list) => {
                    let due = list.due.clone();
                    let next = list.upcoming.first().cloned();
                    let sent = list.completed.clone();
                    view! {
                        {if due.is_empty() {
                            view! { <p class="muted">{t(Text::NothingDue)}</p> }.into_any()
                        } else {
                            view! { <ul class="cards">{due.into_iter().map(due_card.clone()).collect_view()}</ul> }.into_any()
                        }}
                        <OutboxOnly list=list.clone()/>
                        {next.map(|next| view! {
                            <h2>{t(Text::ComingNext)}</h2>
                            <p class="card next">
                                <span class="card-title">{next.label}</span>
                                {next.window_start.map(|start| view! { <span class="muted">{t(Text::Opens)} " " {start.to_string()}</span> })}
                            </p>
                        })}
                        {(!sent.is_empty()).then(|| view! { <h2>{t(Text::Sent)}</h2> })}
                        <ul class="sent-list">
                            {sent.into_iter().rev().map(|done| view! {
                                <li>
                                    <span>{done.label}</span>
                                    {done.received_at.map(|at| view! { <DeliveryBadge delivery=Delivery::Sent { received_at: at.text() }/> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
                Err(failure) => view! { <Problem message=failure.to_string()/> }.into_any(),
            })}
        </Suspense>
        <section class="worse" aria-labelledby="worse-heading">
            <p id="worse-heading" class="muted">{t(Text::FeelWorseLead)}</p>
            <button type="button" class="secondary" on:click=feel_worse>{t(Text::FeelWorse)}</button>
        </section>
        <p><a href="/settings" id="reminder-settings">{t(Text::ReminderSettings)}</a></p>
        <p><button type="button" class="link" on:click=sign_out>{t(Text::SignOut)}</button></p>
    }
}

/// Questionnaires in the outbox that the server's list does not show as due (unscheduled reports,
/// or ones sent while the list was last loaded): their delivery state must stay visible.
#[component]
fn OutboxOnly(list: MyAssessments) -> impl IntoView {
    let outbox = expect_context::<Outbox>();
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
                view! {
                    <p class="card due">
                        <span class="card-title">{entry.label}</span>
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
