//! The admin console (`/staff/admin/…`, admins only; issue 18): the staff accounts, with each
//! account's role, state, last sign-in, live sessions and any lockout, and what an admin does to
//! them (disable or enable, sign out everywhere, lift a lockout). The server checks the role and
//! audits each change; this page only asks.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::api::{
    AccountChange, ErrorCode, NewStaff, ProtocolReport, ProtocolUpload, Role, SetStaffPassword, StaffAccount,
    StaffPasswordCode, StudySetup, WordingReport, WordingUpload,
};
use qol_shared::schedule::Anchor;

use super::text::S;
use super::{Part, Shell, api};
use crate::api::ApiFailure;
use crate::i18n::{local_time, t, text, use_language};
use crate::{Session, use_session};

#[component]
pub fn StaffAccounts() -> impl IntoView {
    view! { <Shell part=Part::Admin><AdminNav current="/staff/admin/users"/><Accounts/></Shell> }
}

/// `/staff/admin/setup`: the protocol and wording pack the server runs, readable, and a new
/// wording pack uploaded (checked, then applied).
#[component]
pub fn Setup() -> impl IntoView {
    view! { <Shell part=Part::Admin><AdminNav current="/staff/admin/setup"/><SetupView/></Shell> }
}

/// The admin pages, one link each.
#[component]
pub(super) fn AdminNav(current: &'static str) -> impl IntoView {
    let link = move |href: &'static str, label: S| {
        view! { <a href=href aria-current=(href == current).then_some("page")>{t(label)}</a> }
    };
    view! {
        <nav class="admin-nav" aria-label=t(S::Admin)>
            {link("/staff/admin/users", S::StaffAccounts)} " · " {link("/staff/admin/setup", S::StudySetup)}
            " · " {link("/staff/admin/audit", S::AuditTrail)}
        </nav>
    }
}

fn anchor_name(anchor: Anchor) -> S {
    match anchor {
        Anchor::Enrolment => S::AnchorEnrolment,
        Anchor::Cycle1Day1 => S::AnchorCycle1Day1,
        Anchor::InductionResponse => S::AnchorInductionResponse,
        Anchor::RadiotherapyEnd => S::AnchorRadiotherapyEnd,
        Anchor::EndOfTreatment => S::AnchorEndOfTreatment,
    }
}

/// Numbers and lists as the setup page writes them.
fn listed(values: impl IntoIterator<Item = String>) -> String {
    let values: Vec<String> = values.into_iter().collect();
    if values.is_empty() { "–".to_owned() } else { values.join(", ") }
}

#[component]
fn SetupView() -> impl IntoView {
    let language = use_language();
    let setup = LocalResource::new(api::study_setup);
    let say = move |key: S| text(language.get(), key);
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::StudySetup)}</h1>
        <p class="muted">{t(S::StudySetupLead)}</p>
        <Suspense fallback=|| ()>
            {move || setup.get().map(|result| match result {
                Err(failure) => view! { <crate::common::Problem message=super::say(&failure, language.get())/> }.into_any(),
                Ok(StudySetup { protocol, protocol_sha256, protocol_version, protocol_versions, wording }) => {
                    let source = match wording.source.as_str() {
                        "uploaded" => S::SourceUploaded,
                        "file" => S::SourceFile,
                        _ => S::SourceShipped,
                    };
                    let uploaded = wording.uploaded_by.clone().map(|by| {
                        let at = wording.uploaded_at.map(|at| local_time(at, language.get_untracked().tag())).unwrap_or_default();
                        view! {
                            <dt>{t(S::UploadedBy)}</dt><dd class="wording-uploaded">{format!("{by}, {at}")}</dd>
                            <dt>{t(S::UploadReason)}</dt><dd>{wording.reason.clone().unwrap_or_default()}</dd>
                        }
                    });
                    let alerts = protocol.alerts.clone();
                    let strata = listed(protocol.strata.iter().map(|stratum| {
                        format!("{} ({}, {} {})", stratum.label, stratum.code, stratum.induction_cycles, say(S::InductionCycles))
                    }));
                    let schedule = protocol.assessments.clone();
                    view! {
                        <section aria-labelledby="protocol-heading">
                            <h2 id="protocol-heading">{t(S::ProtocolHeading)}</h2>
                            <dl class="setup" id="protocol">
                                <dt>{t(S::SetupName)}</dt><dd class="protocol-name">{protocol.name.clone()}</dd>
                                <dt>{t(S::ProtocolVersion)}</dt><dd class="protocol-version">{protocol_version}</dd>
                                <dt>{t(S::Fingerprint)}</dt><dd><code class="fingerprint">{protocol_sha256}</code></dd>
                                <dt>{t(S::TimeZone)}</dt><dd>{protocol.time_zone.name()}</dd>
                                <dt>{t(S::Cycles)}</dt><dd>{protocol.total_cycles}</dd>
                                <dt>{t(S::Strata)}</dt><dd>{strata}</dd>
                            </dl>
                        </section>
                        <section aria-labelledby="versions-heading">
                            <h2 id="versions-heading">{t(S::ProtocolVersions)}</h2>
                            <table class="table" id="protocol-versions">
                                <thead><tr>
                                    <th scope="col">{t(S::ProtocolVersion)}</th><th scope="col">{t(S::SetupName)}</th>
                                    <th scope="col">{t(S::EffectiveOn)}</th><th scope="col">{t(S::AmendedBy)}</th>
                                    <th scope="col">{t(S::UploadReason)}</th>
                                </tr></thead>
                                <tbody>{protocol_versions.into_iter().map(|version| {
                                    let by = match (version.amended_by, version.amended_at) {
                                        (Some(by), Some(at)) => format!("{by}, {}", local_time(at, language.get_untracked().tag())),
                                        _ => say(S::FirstProtocol).to_owned(),
                                    };
                                    view! {
                                        <tr data-version=version.version>
                                            <td>{version.version}</td><td>{version.name}</td>
                                            <td>{version.effective_on.map(|day| day.to_string()).unwrap_or_default()}</td>
                                            <td>{by}</td><td>{version.reason.unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        </section>
                        <section aria-labelledby="schedule-heading">
                            <h2 id="schedule-heading">{t(S::ScheduleHeading)}</h2>
                            <table class="table" id="setup-schedule">
                                <thead><tr>
                                    <th scope="col">{t(S::Assessment)}</th><th scope="col">{t(S::Questionnaires)}</th>
                                    <th scope="col">{t(S::From)}</th><th scope="col">{t(S::WindowDays)}</th>
                                    <th scope="col">{t(S::Repeats)}</th><th scope="col">{t(S::PrimaryPost)}</th>
                                </tr></thead>
                                <tbody>{schedule.into_iter().map(|assessment| {
                                    let instruments = listed(assessment.instruments.iter().map(|id| id.to_string()));
                                    let offset = assessment.offset_months;
                                    let repeat = assessment.repeat.as_ref().map(|repeat| repeat.every_days);
                                    view! {
                                        <tr>
                                            <th scope="row">{assessment.label.clone()}</th>
                                            <td>{instruments}</td>
                                            <td>{move || {
                                                let from = say(anchor_name(assessment.anchor)).to_owned();
                                                if offset == 0 { from } else { format!("{from} {}", say(S::MonthsAfter).replace("{n}", &offset.to_string())) }
                                            }}</td>
                                            <td>{format!("{} … {}", assessment.start_days, assessment.end_days)}</td>
                                            <td>{move || repeat.map_or_else(|| "–".to_owned(), |days| say(S::EveryDays).replace("{n}", &days.to_string()))}</td>
                                            <td>{move || if assessment.primary_post { say(S::Yes) } else { "" }}</td>
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        </section>
                        <section aria-labelledby="alerts-heading">
                            <h2 id="alerts-heading">{t(S::AlertsHeading)}</h2>
                            <dl class="setup" id="alert-settings">
                                <dt>{t(S::ServiceLevel)}</dt><dd>{alerts.sla_working_days}</dd>
                                <dt>{t(S::DefaultChange)}</dt><dd>{alerts.default_change}</dd>
                                <dt>{t(S::RedChange)}</dt><dd>{alerts.red_change}</dd>
                                <dt>{t(S::SevereSymptom)}</dt><dd>{alerts.severe_symptom}</dd>
                                <dt>{t(S::PoorFunction)}</dt><dd>{alerts.poor_function}</dd>
                                <dt>{t(S::ChangePoints)}</dt>
                                <dd>{listed(alerts.change_points.iter().map(|(scale, points)| format!("{scale} {points}")))}</dd>
                                <dt>{t(S::InfoOnly)}</dt><dd>{listed(alerts.info_only.iter().cloned())}</dd>
                                <dt>{t(S::RedItems)}</dt><dd>{listed(alerts.red_items.iter().map(u8::to_string))}</dd>
                            </dl>
                        </section>
                        <section aria-labelledby="wording-heading">
                            <h2 id="wording-heading">{t(S::WordingHeading)}</h2>
                            <dl class="setup" id="wording">
                                <dt>{t(S::SetupName)}</dt><dd class="wording-name">{wording.name.clone()}</dd>
                                <dt>{t(S::Demonstration)}</dt>
                                <dd class="demonstration">{move || if wording.demonstration { say(S::Yes) } else { say(S::No) }}</dd>
                                <dt>{t(S::Licence)}</dt><dd>{wording.licence.clone()}</dd>
                                <dt>{t(S::Languages)}</dt>
                                <dd>{listed(wording.languages.iter().map(|(tag, name)| format!("{name} ({tag})")))}</dd>
                                <dt>{t(S::Fingerprint)}</dt><dd><code class="fingerprint">{wording.sha256.clone()}</code></dd>
                                <dt>{t(S::WordingSource)}</dt><dd class="wording-source">{t(source)}</dd>
                                {uploaded}
                            </dl>
                        </section>
                    }.into_any()
                }
            })}
        </Suspense>
        <AmendProtocol setup/>
        <UploadWording setup/>
    }
}

/// An amendment: choose the new protocol file, check it (every problem, every value it
/// changes), then apply it with a reason as the next version.
#[component]
fn AmendProtocol(setup: LocalResource<Result<StudySetup, ApiFailure>>) -> impl IntoView {
    let language = use_language();
    let file = RwSignal::new(None::<String>);
    let reason = RwSignal::new(String::new());
    let report = RwSignal::new(None::<ProtocolReport>);
    let problem = RwSignal::new(None::<String>);
    let applied = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let choose = move |event: leptos::ev::Event| {
        report.set(None);
        problem.set(None);
        applied.set(false);
        file.set(None);
        let input: web_sys::HtmlInputElement = event_target(&event);
        let Some(chosen) = input.files().and_then(|files| files.get(0)) else { return };
        spawn_local(async move {
            match file_text(chosen).await {
                Some(text_of_file) => file.set(Some(text_of_file)),
                None => problem.set(Some(text(language.get_untracked(), S::FileUnreadable).to_owned())),
            }
        });
    };
    let check = move |_| {
        let Some(protocol) = file.get_untracked() else { return };
        busy.set(true);
        problem.set(None);
        applied.set(false);
        spawn_local(async move {
            match api::check_protocol(&ProtocolUpload { protocol, reason: String::new(), based_on: None })
                .await
            {
                Ok(found) => report.set(Some(found)),
                Err(failure) => problem.set(Some(super::say(&failure, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(protocol) = file.get_untracked() else { return };
        if reason.get_untracked().trim().is_empty() {
            problem.set(Some(text(language.get_untracked(), S::ReasonRequired).to_owned()));
            return;
        }
        // Applied only over the version its report was read against.
        let based_on = report.get_untracked().map(|found| found.current_version);
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let body = ProtocolUpload { protocol, reason: reason.get_untracked(), based_on };
            match api::amend_protocol(&body).await {
                Ok(done) => {
                    report.set(Some(done));
                    applied.set(true);
                    reason.set(String::new());
                    setup.refetch();
                }
                Err(failure) => problem.set(Some(super::say(&failure, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    view! {
        <section aria-labelledby="amend-heading" id="amend-protocol">
            <h2 id="amend-heading">{t(S::AmendProtocol)}</h2>
            <p class="muted">{t(S::AmendProtocolLead)}</p>
            <div class="field">
                <label for="protocol-file">{t(S::ProtocolFile)}</label>
                <input id="protocol-file" type="file" accept=".json,application/json" on:change=choose/>
            </div>
            <button type="button" class="secondary" id="protocol-check" disabled=move || busy.get() || file.get().is_none() on:click=check>
                {t(S::CheckAmendment)}
            </button>
            {move || problem.get().map(|message| view! { <crate::common::Problem message/> })}
            <div id="protocol-report" aria-live="polite">
                {move || report.get().map(|found| {
                    let ready = found.valid && !applied.get();
                    let version = found.version;
                    view! {
                        {(!found.valid).then(|| view! {
                            <p class="problem" role="alert">{t(S::AmendmentInvalid)}</p>
                            <ul id="protocol-problems">
                                {found.problems.clone().into_iter().map(|problem| view! { <li>{problem}</li> }).collect_view()}
                            </ul>
                        })}
                        {(found.valid && !applied.get()).then(|| view! { <p class="done" role="status">{t(S::AmendmentValid)}</p> })}
                        {(!found.changes.is_empty()).then(|| view! {
                            <table class="table" id="protocol-changes">
                                <caption>{t(S::AmendmentChanges)}</caption>
                                <thead><tr>
                                    <th scope="col">{t(S::Setting)}</th><th scope="col">{t(S::Before)}</th><th scope="col">{t(S::After)}</th>
                                </tr></thead>
                                <tbody>{found.changes.clone().into_iter().map(|change| view! {
                                    <tr>
                                        <td><code>{change.path}</code></td>
                                        <td><code>{change.before.unwrap_or_default()}</code></td>
                                        <td><code>{change.after.unwrap_or_default()}</code></td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        })}
                        {applied.get().then(|| view! {
                            <p class="done" role="status" id="protocol-applied">{t(S::AmendmentApplied)}" "{version}</p>
                        })}
                        {ready.then(|| view! {
                            <form class="form" on:submit=apply>
                                <div class="field">
                                    <label for="protocol-reason">{t(S::ChangeReason)}</label>
                                    <textarea id="protocol-reason" required maxlength="500" rows="2"
                                        prop:value=move || reason.get() on:input=move |event| reason.set(event_target_value(&event))></textarea>
                                </div>
                                <button type="submit" class="primary" id="protocol-apply" disabled=move || busy.get()>
                                    {t(S::ApplyAmendment)}" "{version}
                                </button>
                            </form>
                        })}
                    }
                })}
            </div>
        </section>
    }
}

/// The texts an uploaded pack's report lists.
fn report_lists(report: &WordingReport) -> impl IntoView + use<> {
    let problems = report.problems.clone();
    let changed = report.changed.clone();
    let valid = report.valid;
    view! {
        {(!valid).then(|| view! {
            <p class="problem" role="alert">{t(S::PackInvalid)}</p>
            <ul id="wording-problems">
                {problems.into_iter().map(|problem| view! {
                    <li><code>{problem.key}</code>" "{problem.problem}</li>
                }).collect_view()}
            </ul>
        })}
        {valid.then(|| view! { <p class="done" role="status">{t(S::PackValid)}</p> })}
        {if changed.is_empty() {
            view! { <p class="muted" id="wording-changed">{t(S::NoTextChanged)}</p> }.into_any()
        } else {
            let count = changed.len();
            view! {
                <details id="wording-changed">
                    <summary>{t(S::TextsChanged)}" "{count}</summary>
                    <ul>{changed.into_iter().map(|key| view! { <li><code>{key}</code></li> }).collect_view()}</ul>
                </details>
            }.into_any()
        }}
    }
}

/// Reads the chosen file's text.
async fn file_text(file: web_sys::File) -> Option<String> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok()?;
    text.as_string()
}

/// The upload: choose a file, check it (the report), then apply it with a reason.
#[component]
fn UploadWording(setup: LocalResource<Result<StudySetup, ApiFailure>>) -> impl IntoView {
    let language = use_language();
    let pack = RwSignal::new(None::<String>);
    let reason = RwSignal::new(String::new());
    let report = RwSignal::new(None::<WordingReport>);
    let problem = RwSignal::new(None::<String>);
    let applied = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let choose = move |event: leptos::ev::Event| {
        report.set(None);
        problem.set(None);
        applied.set(false);
        pack.set(None);
        let input: web_sys::HtmlInputElement = event_target(&event);
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        spawn_local(async move {
            match file_text(file).await {
                Some(text) => pack.set(Some(text)),
                None => problem.set(Some(text(language.get_untracked(), S::FileUnreadable).to_owned())),
            }
        });
    };
    let check = move |_| {
        let Some(text_of_pack) = pack.get_untracked() else {
            problem.set(Some(text(language.get_untracked(), S::ChooseFileFirst).to_owned()));
            return;
        };
        busy.set(true);
        problem.set(None);
        applied.set(false);
        spawn_local(async move {
            let body = WordingUpload { pack: text_of_pack, reason: String::new(), based_on: None };
            match api::check_wording(&body).await {
                Ok(found) => report.set(Some(found)),
                Err(failure) => problem.set(Some(super::say(&failure, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(text_of_pack) = pack.get_untracked() else { return };
        if reason.get_untracked().trim().is_empty() {
            problem.set(Some(text(language.get_untracked(), S::ReasonRequired).to_owned()));
            return;
        }
        // Applied only over the pack its report was read against.
        let based_on = report.get_untracked().map(|found| found.current.sha256);
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let body = WordingUpload { pack: text_of_pack, reason: reason.get_untracked(), based_on };
            match api::apply_wording(&body).await {
                Ok(done) => {
                    report.set(Some(done));
                    applied.set(true);
                    reason.set(String::new());
                    setup.refetch();
                }
                Err(failure) => problem.set(Some(super::say(&failure, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    view! {
        <section aria-labelledby="upload-wording-heading" id="upload-wording">
            <h2 id="upload-wording-heading">{t(S::UploadWording)}</h2>
            <p class="muted">{t(S::UploadWordingLead)}</p>
            <div class="field">
                <label for="wording-file">{t(S::PackFile)}</label>
                <input id="wording-file" type="file" accept=".json,application/json" on:change=choose/>
            </div>
            <button type="button" class="secondary" id="wording-check" disabled=move || busy.get() || pack.get().is_none() on:click=check>
                {t(S::CheckPack)}
            </button>
            {move || problem.get().map(|message| view! { <crate::common::Problem message/> })}
            <div id="wording-report" aria-live="polite">
                {move || report.get().map(|found| {
                    let ready = found.valid && !applied.get();
                    view! {
                        {report_lists(&found)}
                        {applied.get().then(|| view! { <p class="done" role="status" id="wording-applied">{t(S::PackApplied)}</p> })}
                        {ready.then(|| view! {
                            <form class="form" on:submit=apply>
                                <div class="field">
                                    <label for="wording-reason">{t(S::ChangeReason)}</label>
                                    <textarea id="wording-reason" required maxlength="500" rows="2"
                                        prop:value=move || reason.get() on:input=move |event| reason.set(event_target_value(&event))></textarea>
                                </div>
                                <button type="submit" class="primary" id="wording-apply" disabled=move || busy.get()>{t(S::ApplyPack)}</button>
                            </form>
                        })}
                    }
                })}
            </div>
        </section>
    }
}

/// What an admin can do to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Disable,
    Enable,
    SignOutEverywhere,
    Unlock,
}

impl Change {
    fn label(self) -> S {
        match self {
            Change::Disable => S::Disable,
            Change::Enable => S::Enable,
            Change::SignOutEverywhere => S::SignOutEverywhere,
            Change::Unlock => S::UnlockStaff,
        }
    }

    /// What is said once it is done.
    fn done(self) -> S {
        match self {
            Change::Disable => S::AccountDisabled,
            Change::Enable => S::AccountEnabled,
            Change::SignOutEverywhere => S::AccountSignedOut,
            Change::Unlock => S::AccountUnlocked,
        }
    }

    async fn apply(self, username: &str) -> Result<AccountChange, ApiFailure> {
        let change = match self {
            Change::Disable => "disable",
            Change::Enable => "enable",
            Change::SignOutEverywhere => "sign-out-everywhere",
            Change::Unlock => "unlock",
        };
        api::staff_change(username, change).await
    }
}

fn role_name(role: Role) -> S {
    match role {
        Role::Admin => S::RoleAdmin,
        Role::Nurse => S::RoleNurse,
        Role::Researcher => S::RoleResearcher,
        Role::Patient => S::RolePatient,
    }
}

#[component]
fn Accounts() -> impl IntoView {
    let language = use_language();
    let session = use_session();
    let changed = RwSignal::new(0_u32);
    let problem = RwSignal::new(None::<ApiFailure>);
    let accounts = LocalResource::new(move || {
        changed.track();
        api::staff_accounts()
    });
    let me = move || match session.get_untracked() {
        Session::SignedIn(me) => me.username,
        _ => None,
    };
    let act = move |change: Change, username: String| {
        problem.set(None);
        spawn_local(async move {
            match change.apply(&username).await {
                Ok(_) => {
                    crate::announce(change.done());
                    changed.update(|n| *n += 1);
                }
                Err(failure) => problem.set(Some(failure)),
            }
        });
    };
    let issued = RwSignal::new(None::<StaffPasswordCode>);
    let reset = move |username: String| {
        problem.set(None);
        spawn_local(async move {
            match api::password_code(&username).await {
                Ok(code) => {
                    show_code(issued, code);
                    changed.update(|n| *n += 1);
                }
                Err(failure) => problem.set(Some(failure)),
            }
        });
    };
    let row = move |account: StaffAccount| {
        let username = account.username.clone();
        let own = me().as_deref() == Some(username.as_str());
        let button = move |change: Change| {
            let username = username.clone();
            view! {
                <button type="button" class="secondary" data-change=format!("{change:?}")
                    on:click=move |_| act(change, username.clone())>
                    {t(change.label())}
                </button>
            }
        };
        let state = if account.disabled { S::Disabled } else { S::Active };
        let locked = account.locked_until;
        let last = account.last_sign_in_at;
        view! {
            <tr data-username=account.username.clone()>
                <th scope="row">{account.username.clone()}</th>
                <td>{t(role_name(account.role))}</td>
                <td class="state">
                    {t(state)}
                    {locked.map(|until| view! {
                        <span class="locked">" · " {t(S::LockedUntil)} " " {move || local_time(until, language.get().tag())}</span>
                    })}
                </td>
                <td class="last-sign-in">{move || match last {
                    Some(at) => local_time(at, language.get().tag()),
                    None => crate::i18n::text(language.get(), S::Never).to_owned(),
                }}</td>
                <td class="sessions">{account.live_sessions}</td>
                <td class="account-actions">
                    {own.then(|| view! { <span class="muted">{t(S::YourAccount)}</span> })}
                    {(!own).then(|| button(if account.disabled { Change::Enable } else { Change::Disable }))}
                    {(account.live_sessions > 0 && !own).then(|| button(Change::SignOutEverywhere))}
                    {locked.is_some().then(|| button(Change::Unlock))}
                    // A disabled account is enabled before its holder gets a code.
                    {(!own && !account.disabled).then(|| {
                        let username = account.username.clone();
                        view! {
                            <button type="button" class="secondary" data-change="ResetPassword"
                                on:click=move |_| reset(username.clone())>
                                {t(S::ResetPassword)}
                            </button>
                        }
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::StaffAccounts)}</h1>
        <p class="muted">{t(S::StaffAccountsLead)}</p>
        {move || problem.get().map(|failure| view! { <crate::common::Problem message=super::say(&failure, language.get())/> })}
        {move || issued.get().map(|code| view! { <Issued code/> })}
        <Suspense fallback=|| ()>
            {move || accounts.get().map(|result| match result {
                Ok(list) => view! {
                    <table class="table" id="staff-accounts">
                        <thead><tr>
                            <th scope="col">{t(S::Username)}</th><th scope="col">{t(S::Role)}</th>
                            <th scope="col">{t(S::AccountState)}</th><th scope="col">{t(S::LastSignIn)}</th>
                            <th scope="col">{t(S::LiveSessions)}</th><th scope="col">{t(S::Actions)}</th>
                        </tr></thead>
                        <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                    </table>
                }.into_any(),
                Err(failure) => view! { <crate::common::Problem message=super::say(&failure, language.get())/> }.into_any(),
            })}
        </Suspense>
        <NewAccount issued changed/>
    }
}

/// Shows a code just issued and takes the focus to it (a screen reader says it; the page
/// scrolls to it), once it is drawn.
fn show_code(issued: RwSignal<Option<StaffPasswordCode>>, code: StaffPasswordCode) {
    issued.set(Some(code));
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        if let Some(heading) = document()
            .get_element_by_id("password-code-heading")
            .and_then(|heading| heading.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = heading.focus();
        }
    });
}

/// A one-time code just issued, with what to do with it; shown once (the server keeps only its
/// hash).
#[component]
fn Issued(code: StaffPasswordCode) -> impl IntoView {
    let language = use_language();
    let expires = code.expires_at;
    view! {
        <section class="issued-code" id="password-code" aria-labelledby="password-code-heading">
            <h2 id="password-code-heading" tabindex="-1">{t(S::CodeFor)} " " {code.username.clone()}</h2>
            <p class="code"><strong>{code.code.clone()}</strong></p>
            <p>{t(S::CodeExpires)} ": " {move || local_time(expires, language.get().tag())}</p>
            <p class="muted">{t(S::CodeHowTo)}</p>
        </section>
    }
}

/// A new account: a username and a role; the answer is its one-time code.
#[component]
fn NewAccount(issued: RwSignal<Option<StaffPasswordCode>>, changed: RwSignal<u32>) -> impl IntoView {
    let language = use_language();
    let username = RwSignal::new(String::new());
    let role = RwSignal::new("nurse".to_owned());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(chosen) = Role::parse(&role.get_untracked()) else { return };
        let body = NewStaff { username: username.get_untracked(), role: chosen };
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            match api::create_staff(&body).await {
                Ok(code) => {
                    username.set(String::new());
                    show_code(issued, code);
                    changed.update(|n| *n += 1);
                }
                Err(failure) => {
                    let language = language.get_untracked();
                    problem.set(Some(match failure {
                        ApiFailure::Refused { status: 409, .. } => {
                            text(language, S::UsernameTaken).to_owned()
                        }
                        ApiFailure::Refused { status: 422, .. } => text(language, S::UsernameRule).to_owned(),
                        other => super::say(&other, language),
                    }));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <section aria-labelledby="new-account-heading">
            <h2 id="new-account-heading">{t(S::NewAccount)}</h2>
            <p class="muted">{t(S::NewAccountLead)}</p>
            <form class="form" on:submit=submit>
                <div class="field">
                    <label for="new-username">{t(S::Username)}</label>
                    <input id="new-username" name="new-username" autocomplete="off" required
                        prop:value=move || username.get() on:input=move |event| username.set(event_target_value(&event))/>
                </div>
                <div class="field">
                    <label for="new-role">{t(S::Role)}</label>
                    <select id="new-role" on:change=move |event| role.set(event_target_value(&event))>
                        <option value="nurse" selected>{t(S::RoleNurse)}</option>
                        <option value="researcher">{t(S::RoleResearcher)}</option>
                        <option value="admin">{t(S::RoleAdmin)}</option>
                    </select>
                </div>
                {move || problem.get().map(|message| view! { <crate::common::Problem message/> })}
                <button type="submit" class="primary" disabled=move || busy.get()>{t(S::CreateAccount)}</button>
            </form>
        </section>
    }
}

/// `/staff/set-password`: anyone with a username and its one-time code sets the password (no
/// session; the server throttles it as it does sign-in).
#[component]
pub fn SetPassword() -> impl IntoView {
    let language = use_language();
    let username = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<S>);
    let failure = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        failure.set(None);
        if password.get_untracked() != again.get_untracked() {
            problem.set(Some(S::PasswordsDiffer));
            return;
        }
        if password.get_untracked().chars().count() < 12 {
            problem.set(Some(S::PasswordTooShort));
            return;
        }
        problem.set(None);
        busy.set(true);
        let body = SetStaffPassword {
            username: username.get_untracked(),
            code: code.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::set_password(&body).await {
                Ok(()) => done.set(true),
                Err(ApiFailure::Refused { code: ErrorCode::WrongCredentials, .. }) => {
                    problem.set(Some(S::CodeRefused))
                }
                Err(other) => failure.set(Some(super::say(&other, language.get_untracked()))),
            }
            busy.set(false);
        });
    };
    let field = |id: &'static str,
                 label: S,
                 value: RwSignal<String>,
                 kind: &'static str,
                 autocomplete: &'static str| {
        view! {
            <div class="field">
                <label for=id>{t(label)}</label>
                <input id=id name=id type=kind autocomplete=autocomplete
                    prop:value=move || value.get() on:input=move |event| value.set(event_target_value(&event))/>
            </div>
        }
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::SetPasswordTitle)}</h1>
        {move || if done.get() {
            view! {
                <p role="status">{t(S::PasswordSet)}</p>
                <p><a href="/staff/sign-in">{t(crate::i18n::Text::SignIn)}</a></p>
            }.into_any()
        } else {
            view! {
                <p class="muted">{t(S::SetPasswordLead)}</p>
                <form class="form" on:submit=submit>
                    {field("username", S::Username, username, "text", "username")}
                    {field("code", S::Code, code, "text", "one-time-code")}
                    {field("new-password", S::NewPassword, password, "password", "new-password")}
                    {field("new-password-again", S::NewPasswordAgain, again, "password", "new-password")}
                    {move || problem.get().map(|key| view! { <crate::common::Problem message=t(key)().to_owned()/> })}
                    {move || failure.get().map(|message| view! { <crate::common::Problem message/> })}
                    <button type="submit" class="primary" disabled=move || busy.get()>{t(S::SetPasswordTitle)}</button>
                </form>
            }.into_any()
        }}
    }
}
