//! The patient list, and enrolment: create a patient, then show the activation sheet (the code,
//! its expiry and a QR code of the activation link) to print and hand over.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::Language;
use qol_shared::api::{EnrolPatient, Identity};

use super::text::S;
use super::{Failed, Part, Shell, api};
use crate::i18n::t;

#[component]
pub fn Patients() -> impl IntoView {
    view! { <Shell part=Part::Patients><PatientList/></Shell> }
}

#[component]
fn PatientList() -> impl IntoView {
    let patients = LocalResource::new(api::patients);
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::PatientsTitle)}</h1>
        <p class="toolbar"><a class="button primary" href="/staff/patients/new">{t(S::EnrolPatient)}</a></p>
        <Suspense fallback=|| ()>
            {move || patients.get().map(|result| match result {
                Ok(list) if list.is_empty() => view! { <p class="empty">{t(S::NoPatients)}</p> }.into_any(),
                Ok(list) => view! {
                    <table class="table" id="patients">
                        <thead><tr>
                            <th scope="col">{t(S::StudyId)}</th><th scope="col">{t(S::Name)}</th>
                            <th scope="col">{t(S::Stratum)}</th><th scope="col">{t(S::EnrolledOn)}</th>
                            <th scope="col">{t(S::State)}</th>
                        </tr></thead>
                        <tbody>{list.into_iter().map(|p| view! {
                            <tr>
                                <td><a href=format!("/staff/patients/{}", p.study_id)>{p.study_id.clone()}</a></td>
                                <td>{p.identity.as_ref().map(|i| i.full_name.clone()).unwrap_or_default()}</td>
                                <td>{p.stratum.clone()}</td>
                                <td>{p.enrolled_on.map(|d| d.to_string()).unwrap_or_default()}</td>
                                <td>
                                    {if p.off_study { t(S::OffStudyFlag)() } else if p.activated { t(S::Activated)() } else { t(S::NotActivated)() }}
                                </td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
                Err(failure) => view! { <Failed failure/> }.into_any(),
            })}
        </Suspense>
    }
}

/// Today's date on this device, `YYYY-MM-DD`.
/// Today by the browser's clock, until [`study_today`] has the study's own date.
pub(super) fn today() -> String {
    let now = js_sys::Date::new_0();
    format!("{:04}-{:02}-{:02}", now.get_full_year(), now.get_month() + 1, now.get_date())
}

/// Sets `date` to the study's date (its time zone, from the server), unless the nurse has
/// changed it meanwhile: in the evening a browser west of the study is still on yesterday.
pub(super) fn study_today(date: RwSignal<String>) {
    let browser = date.get_untracked();
    spawn_local(async move {
        if let Ok(Some(today)) = crate::api::study().await.map(|study| study.today)
            && date.get_untracked() == browser
        {
            date.set(today.to_string());
        }
    });
}

#[component]
pub fn Enrol() -> impl IntoView {
    view! { <Shell part=Part::Patients><EnrolForm/></Shell> }
}

#[component]
fn EnrolForm() -> impl IntoView {
    let study = LocalResource::new(crate::api::study);
    let study_id = RwSignal::new(String::new());
    let stratum = RwSignal::new(String::new());
    // No default: the patient's language decides her app, her reminders and her activation
    // sheet, so the nurse chooses it.
    let language = RwSignal::new(String::new());
    let full_name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let hospital_number = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let reminder_channel = RwSignal::new(qol_shared::api::ReminderChannel::Auto);
    let enrolled_on = RwSignal::new(today());
    study_today(enrolled_on);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let enrolled = RwSignal::new(None::<(String, String, String, Language)>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Ok(date) = enrolled_on.get_untracked().parse() else {
            error.set(Some(format!("{}: YYYY-MM-DD", t(S::EnrolledOn)())));
            return;
        };
        let Some(patient_language) = Language::from_tag(&language.get_untracked()) else {
            error.set(Some(t(S::ChooseLanguage)().to_owned()));
            return;
        };
        let id = study_id.get_untracked().trim().to_owned();
        let body = EnrolPatient {
            study_id: (!id.is_empty()).then_some(id),
            stratum: stratum.get_untracked(),
            language: language.get_untracked(),
            identity: Identity {
                full_name: full_name.get_untracked(),
                phone: phone.get_untracked(),
                hospital_number: hospital_number.get_untracked(),
                email: email.get_untracked(),
            },
            enrolled_on: date,
            reminder_channel: reminder_channel.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::enrol(&body).await {
                Ok(done) => enrolled.set(Some((
                    done.patient.study_id,
                    done.activation.activation_code,
                    done.activation.expires_at.text(),
                    patient_language,
                ))),
                Err(failure) => error.set(Some(failure.to_string())),
            }
            busy.set(false);
        });
    };
    let text_field = |id: &'static str, label: S, value: RwSignal<String>, kind: &'static str| {
        view! {
            <div class="field">
                <label for=id>{t(label)}</label>
                <input id=id name=id type=kind prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </div>
        }
    };
    move || {
        match enrolled.get() {
        Some((study_id, code, expires_at, patient_language)) => view! { <ActivationSheet study_id code expires_at patient_language/> }.into_any(),
        None => view! {
            <h1 id="screen-heading" tabindex="-1">{t(S::EnrolPatient)}</h1>
            <form class="form wide" on:submit=submit>
                {text_field("study-id", S::StudyId, study_id, "text")}
                <p class="muted">{t(S::StudyIdHelp)}</p>
                <div class="field">
                    <label for="stratum">{t(S::Stratum)}</label>
                    <select id="stratum" required on:change=move |ev| stratum.set(event_target_value(&ev))>
                        <option value="">"—"</option>
                        <Suspense fallback=|| ()>
                            {move || study.get().and_then(Result::ok).map(|study| study.strata.into_iter().map(|code| {
                                view! { <option value=code.clone()>{code.clone()}</option> }
                            }).collect_view())}
                        </Suspense>
                    </select>
                </div>
                <div class="field">
                    <label for="language">{t(S::Language)}</label>
                    <select id="language" on:change=move |ev| language.set(event_target_value(&ev))>
                        <option value="" selected=true disabled=true>{t(S::ChooseLanguage)}</option>
                        {Language::ALL.into_iter().map(|choice| view! {
                            <option value=choice.tag() lang=choice.tag()>{crate::i18n::own_name(choice)}</option>
                        }).collect_view()}
                    </select>
                </div>
                {text_field("full-name", S::FullName, full_name, "text")}
                {text_field("phone", S::Phone, phone, "tel")}
                {text_field("hospital-number", S::HospitalNumber, hospital_number, "text")}
                {text_field("email", S::Email, email, "email")}
                <div class="field">
                    <label for="remind-by">{t(S::RemindBy)}</label>
                    <select id="remind-by" on:change=move |ev| {
                        if let Some(choice) = qol_shared::api::ReminderChannel::parse(&event_target_value(&ev)) {
                            reminder_channel.set(choice)
                        }
                    }>
                        {qol_shared::api::ReminderChannel::ALL.into_iter().map(|choice| view! {
                            <option value=choice.as_str()>{t(super::text::reminder_channel(choice))}</option>
                        }).collect_view()}
                    </select>
                </div>
                {text_field("enrolled-on", S::EnrolledOn, enrolled_on, "date")}
                {move || error.get().map(|message| view! { <crate::common::Problem message/> })}
                <button type="submit" class="primary" disabled=move || busy.get()>{t(S::Enrol)}</button>
            </form>
        }
        .into_any(),
    }
    }
}

/// The activation link a QR code carries: the patient app's activation page with the code.
fn activation_link(code: &str) -> String {
    let origin = window().location().origin().unwrap_or_default();
    format!("{origin}/activate?code={code}")
}

/// An SVG QR code of `text` (rendered here, on the staff device: the code is never stored).
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build()
        }
        Err(_) => String::new(),
    }
}

/// What the patient takes home: the study id, the code, its expiry, and the QR code, in the
/// patient's language (what is for the nurse only stays in the console's).
#[component]
pub(super) fn ActivationSheet(
    study_id: String,
    code: String,
    expires_at: String,
    patient_language: Language,
) -> impl IntoView {
    let link = activation_link(&code);
    let svg = qr_svg(&link);
    let hers = move |key: S| crate::i18n::text(patient_language, key);
    view! {
        <section class="activation-sheet" aria-labelledby="activation-heading" lang=patient_language.tag()>
            <h1 id="activation-heading" tabindex="-1">{hers(S::ActivationTitle)} " · " {study_id.clone()}</h1>
            <p class="no-print">{t(S::ActivationLead)}</p>
            <p class="code" id="activation-code">{code.clone()}</p>
            <p>{hers(S::ActivationExpires)} " " {crate::i18n::local_time(&expires_at, patient_language.tag())}</p>
            <p>{hers(S::ActivationScan)}</p>
            <div class="qr" role="img" aria-label=link.clone() inner_html=svg></div>
            <p class="link-text">{link}</p>
            <p>{hers(S::ActivationSteps)}</p>
            <p>{hers(S::ActivationForgot)}</p>
            <p class="actions no-print">
                <button type="button" class="primary" on:click=move |_| { let _ = window().print(); }>{t(S::Print)}</button>
                <a class="button secondary" href=format!("/staff/patients/{study_id}")>{t(S::PatientPage)}</a>
            </p>
        </section>
    }
}
