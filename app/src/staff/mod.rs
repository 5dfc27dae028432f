//! The staff console (feature `staff`; the bundle served under `/staff`, never downloaded by
//! patients): nurses' worklist of alerts, follow-up of overdue and missed questionnaires,
//! patients, enrolment with a printable activation sheet, the patient page, and the researchers'
//! view.

mod admin;
mod api;
mod audit;
mod entry;
mod follow_up;
mod patient;
mod patients;
mod reminders;
mod research;
mod sign_in;
mod text;
mod timeline;
mod worklist;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;
use qol_shared::api::Role;
use text::S;

use crate::common::NotFound;
use crate::i18n::{self, t};
use crate::{Frame, Session, use_session};

/// The staff console, at `/staff` and the paths under it.
#[component]
pub fn Console() -> impl IntoView {
    view! {
        // The console's pages come from leptos_router (the patient's app has its own nine
        // paths: patient/nav.rs).
        <Router>
        <Frame home="/staff">
            <Routes fallback=NotFound>
                <Route path=path!("/staff/sign-in") view=sign_in::StaffSignIn/>
                <Route path=path!("/staff") view=worklist::Worklist/>
                // The address an alert e-mail links to (`?card=N` scrolls to the card).
                <Route path=path!("/staff/worklist") view=worklist::Worklist/>
                <Route path=path!("/staff/follow-up") view=follow_up::FollowUp/>
                <Route path=path!("/staff/patients") view=patients::Patients/>
                <Route path=path!("/staff/patients/new") view=patients::Enrol/>
                <Route path=path!("/staff/patients/:id") view=patient::PatientPage/>
                <Route path=path!("/staff/patients/:id/enter/:assessment") view=entry::EnterForm/>
                <Route path=path!("/staff/patients/:id/correct/:submission") view=entry::CorrectForm/>
                <Route path=path!("/staff/research") view=research::Research/>
                <Route path=path!("/staff/admin/users") view=admin::StaffAccounts/>
                <Route path=path!("/staff/admin/setup") view=admin::Setup/>
                <Route path=path!("/staff/admin/audit") view=audit::AuditTrail/>
                <Route path=path!("/staff/set-password") view=admin::SetPassword/>
            </Routes>
        </Frame>
        </Router>
    }
}

/// The part of the console a page belongs to; each part has the roles that may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Worklist,
    FollowUp,
    Patients,
    Research,
    Admin,
}

impl Part {
    fn allows(self, role: Role) -> bool {
        match self {
            Part::Research => matches!(role, Role::Researcher | Role::Admin),
            Part::Admin => role == Role::Admin,
            Part::Worklist | Part::FollowUp | Part::Patients => matches!(role, Role::Nurse | Role::Admin),
        }
    }
}

const PARTS: [(Part, &str, S); 5] = [
    (Part::Worklist, "/staff", S::Worklist),
    (Part::FollowUp, "/staff/follow-up", S::FollowUp),
    (Part::Patients, "/staff/patients", S::Patients),
    (Part::Research, "/staff/research", S::Research),
    (Part::Admin, "/staff/admin/users", S::Admin),
];

/// Every staff page: sends a signed-out visitor to sign in, keeps patients and the wrong roles
/// out (the server refuses them anyway), and shows the console's navigation.
#[component]
fn Shell(part: Part, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    Effect::new(move |_| match session.get() {
        Session::SignedOut => navigate("/staff/sign-in", Default::default()),
        // A researcher's home is the research view (the worklist is for nurses).
        Session::SignedIn(me) if me.role == Role::Researcher && !part.allows(me.role) => {
            navigate("/staff/research", Default::default())
        }
        _ => {}
    });
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = crate::api::sign_out().await;
            crate::signed_out(session);
        });
    };
    move || match session.get() {
        Session::Checking | Session::SignedOut => {
            view! { <p class="muted">{t(i18n::Text::Loading)}</p> }.into_any()
        }
        Session::Locked(_) => view! {
            <p>{t(S::NotForPatients)}</p>
            <p><a href="/" rel="external">{t(S::OpenPatientApp)}</a></p>
        }
        .into_any(),
        Session::SignedIn(me) if me.role == Role::Patient => view! {
            <p>{t(S::NotForPatients)}</p>
            <p><a href="/" rel="external">{t(S::OpenPatientApp)}</a></p>
        }
        .into_any(),
        Session::SignedIn(me) => {
            let role = me.role;
            let links = PARTS
                .iter()
                .filter(|(p, _, _)| p.allows(role))
                .map(|(p, href, label)| {
                    let current = (*p == part).then_some("page");
                    view! { <a href=*href aria-current=current>{t(*label)}</a> }
                })
                .collect_view();
            let children = children.clone();
            view! {
                <nav class="staff-nav" aria-label=t(S::Console)>
                    {links}
                    <span class="who">{t(S::SignedInAs)} " " {me.username.clone().unwrap_or_default()}</span>
                    <button type="button" class="link" on:click=sign_out>{t(S::SignOut)}</button>
                </nav>
                {if part.allows(role) {
                    children().into_any()
                } else {
                    view! { <p role="alert">{t(S::NotYourRole)}</p> }.into_any()
                }}
            }
            .into_any()
        }
    }
}

/// A refusal in the console's language, for staff: a lockout points to an admin (the patient's
/// wording points to the research nurse).
fn say(failure: &crate::api::ApiFailure, language: qol_shared::Language) -> String {
    match failure {
        crate::api::ApiFailure::Refused { code: qol_shared::api::ErrorCode::LockedOut, .. } => {
            i18n::text(language, S::StaffLockedOut).to_owned()
        }
        other => other.say(language),
    }
}

/// A failed call, in the console's words.
#[component]
fn Failed(failure: crate::api::ApiFailure) -> impl IntoView {
    view! { <crate::common::Problem message=failure.to_string()/> }
}

/// A score for display: one decimal.
fn points(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// The name of a scale code, `ITEM<n>` or `CALL`.
fn subject_name(subject: &str, language: qol_shared::Language) -> String {
    use qol_shared::instrument::InstrumentId;
    if subject == "CALL" {
        return i18n::text(language, S::SubjectCall).to_owned();
    }
    if let Some(number) = subject.strip_prefix("ITEM") {
        return format!("{} {number}", i18n::text(language, S::SubjectItem));
    }
    [InstrumentId::QlqC30, InstrumentId::QlqCx24]
        .iter()
        .flat_map(|id| id.instrument().scales.iter())
        .find(|scale| scale.code == subject)
        .map_or_else(|| subject.to_owned(), |scale| format!("{} ({subject})", scale.name))
}
