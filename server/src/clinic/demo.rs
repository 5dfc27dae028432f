//! The study a server runs, set up on first start, and the demo data `qol serve --demo` seeds
//! into a new database: one account per staff role and four patients at different points of
//! treatment, with histories, so every screen has realistic data.
//!
//! The demo passwords are fixed and printed: a demo database is for trying qol, never for
//! patients' data.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use qol_shared::answers::{RawAnswer, RawResponse};
use qol_shared::api::{
    AlertState, EnrolPatient, Identity, RecordEvent, ResolutionAction, Role, SubmissionRequest,
};
use qol_shared::schedule::{Event, EventKind, OffStudyReason, TumourResponse};
use qol_shared::{ClientId, Language};
use serde_json::json;

use super::{Clinic, ClinicError};
use crate::auth::{hash_secret, normalise_activation_code, token_hash};
use crate::storage::{Actor, AuditEntry};

pub const DEMO_STUDY_CODE: &str = "IVB-DEMO";
pub const DEMO_STUDY_TITLE: &str =
    "Demo: chemotherapy plus radiotherapy to the primary lesion for stage IVB cervical cancer";
pub const STUDY_CODE: &str = "IVB-QOL";

/// (username, role, password) of the demo staff accounts.
pub const DEMO_STAFF: [(&str, Role, &str); 3] = [
    ("admin", Role::Admin, "demo-admin-password"),
    ("nurse", Role::Nurse, "demo-nurse-password"),
    ("researcher", Role::Researcher, "demo-researcher-password"),
];
/// The PIN of every activated demo patient.
pub const DEMO_PIN: &str = "2468";
/// The not-yet-activated demo patient and the activation code that works for it.
pub const DEMO_UNACTIVATED: &str = "IVB-002";
pub const DEMO_ACTIVATION_CODE: &str = "DEMO-CODE-0002";

/// The demo patient `number`'s study id under a protocol's prefix (`IVB-001`).
pub fn demo_patient(prefix: &str, number: u32) -> String {
    format!("{prefix}-{number:03}")
}

/// What `qol serve --demo` prints: how to sign in to the demo (study ids under `prefix`).
pub fn sign_ins(prefix: &str) -> String {
    let id = |number| demo_patient(prefix, number);
    let mut text = String::from("demo sign-ins (demonstration data only):\n");
    for (username, role, password) in DEMO_STAFF {
        text.push_str(&format!("  {:<10} username {username:<10} password {password}\n", role.as_str()));
    }
    text.push_str(&format!("  patients   {}, {}, {} with PIN {DEMO_PIN}\n", id(1), id(3), id(4)));
    text.push_str(&format!("  new phone  {} activates with code {DEMO_ACTIVATION_CODE}\n", id(2)));
    text
}

impl Clinic {
    /// On a demo database, the printed demo activation code works again after each start (`qol
    /// serve`); nothing happens on a study's own database.
    pub async fn renew_demo_code(&self) -> Result<(), ClinicError> {
        if self.db.study().await?.is_some_and(|study| study.is_demo) {
            refresh_demo_activation_code(self).await?;
        }
        Ok(())
    }
}

pub(super) async fn refresh_demo_activation_code(clinic: &Clinic) -> Result<(), ClinicError> {
    let unactivated = demo_patient(&clinic.protocol().patient_id_prefix, 2);
    let Some(patient) = clinic.db.patient_by_code(&unactivated).await? else { return Ok(()) };
    if patient.activated {
        return Ok(());
    }
    let code_hash = token_hash(&normalise_activation_code(DEMO_ACTIVATION_CODE));
    if clinic.db.activation_code_patient(&code_hash).await?.is_some() {
        return Ok(());
    }
    let expires = crate::storage::timestamp_text(clinic.now() + Duration::days(14));
    let mut tx = clinic.db.begin_write().await?;
    if !tx.renew_activation_code(&code_hash, &expires).await? {
        tx.issue_activation_code(patient.id, &code_hash, &expires).await?;
    }
    tx.audit(
        &Actor::system(),
        AuditEntry {
            action: "patient.activation_code_reissue",
            patient: Some(patient.study_code.clone()),
            entity: "patient",
            entity_id: patient.study_code.clone(),
            reason: Some("demo database: the printed demo code is renewed at each start".into()),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A deterministic pseudo-random sequence, so the demo data is the same on every machine.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

/// How strongly treatment burden shows in an item: fatigue, nausea, appetite and pain most.
fn sensitivity(item: i64) -> f64 {
    match item {
        10 | 12 | 18 => 1.0,
        13..=15 => 0.8,
        9 | 19 => 0.7,
        1..=30 => 0.35,
        _ => 0.3,
    }
}

/// Plausible answers for the items of `instruments`; `burden` 0.0–1.0 shifts them toward worse,
/// the treatment-sensitive items most, with an occasional step of noise.
fn answers(dice: &mut Dice, items: std::ops::RangeInclusive<i64>, burden: f64) -> Vec<RawAnswer> {
    items
        .map(|item| {
            let noise = match dice.roll(8) {
                0 => -0.5,
                7 => 0.5,
                _ => 0.0,
            };
            if item == 29 || item == 30 {
                let code = (6.0 - burden * 3.0 + noise).round().clamp(1.0, 7.0) as i64;
                RawAnswer::code(item, code)
            } else {
                let code = (1.0 + burden * sensitivity(item) * 3.0 + noise).round().clamp(1.0, 4.0) as i64;
                RawAnswer::code(item, code)
            }
        })
        .collect()
}

/// The demo nurse works the alerts of a patient's past reports, as would have happened then,
/// so the worklist opens with today's alerts, not months of history.
async fn work_past_alerts(
    clinic: &Clinic,
    nurse: &Actor,
    nurse_id: i64,
    study_code: &str,
) -> Result<(), ClinicError> {
    let open = clinic.db.cards(crate::storage::CardFilter::default()).await?;
    for card in open.into_iter().filter(|c| c.study_code == study_code && c.state != AlertState::Resolved) {
        clinic
            .resolve_card(
                nurse,
                nurse_id,
                card.id,
                ResolutionAction::CalledPatient,
                "Demo history: called the patient; symptoms expected during treatment.",
                None,
            )
            .await?;
    }
    Ok(())
}

/// `hour`:15 on `day` at the study's site, as a UTC instant.
fn at_site(zone: chrono_tz::Tz, day: NaiveDate, hour: u32) -> chrono::DateTime<Utc> {
    let local = day.and_hms_opt(hour, 15, 0).expect("valid time");
    // A time skipped by a daylight-saving change falls back to the same time in UTC.
    zone.from_local_datetime(&local).earliest().map_or_else(|| Utc.from_utc_datetime(&local), |t| t.to_utc())
}

pub(super) async fn seed(clinic: &Clinic) -> Result<(), ClinicError> {
    let mut tx = clinic.db.begin_write().await?;
    let mut nurse_id = 0;
    for (username, role, password) in DEMO_STAFF {
        let id = tx.insert_staff(username, role.as_str(), &hash_secret(password)).await?;
        if role == Role::Nurse {
            nurse_id = id;
        }
        tx.audit(
            &Actor::system(),
            AuditEntry {
                action: "staff.create",
                entity: "staff_user",
                entity_id: username.to_owned(),
                after: Some(json!({ "role": role.as_str(), "demo": true })),
                ..AuditEntry::default()
            },
        )
        .await?;
    }
    tx.commit().await?;
    let nurse = Actor { name: "staff:nurse".into(), role: "nurse".into() };
    let today = clinic.today();
    let day = |offset: i64| today + Duration::days(offset);
    let at = |day: NaiveDate, hour: u32| at_site(clinic.protocol().time_zone, day, hour);
    let mut dice = Dice(17);
    // Under a site's own protocol (`--protocol`), the same four stories with its prefix and
    // strata; forms its schedule does not have and events it refuses are left out.
    let prefix = clinic.protocol().patient_id_prefix.clone();
    let id = |number| demo_patient(&prefix, number);
    let first_stratum = clinic.protocol().strata[0].code.clone();
    let second_stratum = clinic.protocol().strata.get(1).map_or(first_stratum.clone(), |s| s.code.clone());
    let (nodal, hematogenous) = (first_stratum.as_str(), second_stratum.as_str());

    // IVB-001: nodal, in weekly therapy for five weeks, getting more tired.
    let p1 = enrol(clinic, &nurse, nurse_id, &id(1), nodal, Language::English, "Demo Patient One", day(-40))
        .await?;
    activate(clinic, p1.id).await?;
    submit(clinic, &p1, "baseline", at(day(-38), 9), answers(&mut dice, 1..=54, 0.15)).await?;
    event(clinic, &nurse, nurse_id, &p1, EventKind::ChemotherapyCycle { cycle: 1 }, day(-35)).await?;
    event(clinic, &nurse, nurse_id, &p1, EventKind::ChemotherapyCycle { cycle: 2 }, day(-14)).await?;
    for (week, burden) in [(1, 0.2), (2, 0.3), (3, 0.45)] {
        if week == 3 {
            work_past_alerts(clinic, &nurse, nurse_id, &id(1)).await?;
        }
        let key = format!("weekly-{week:02}");
        let opens = day(-35 + 7 * week);
        submit(clinic, &p1, &key, at(opens + Duration::days(1), 19), answers(&mut dice, 1..=30, burden))
            .await?;
    }

    // IVB-002: hematogenous, enrolled two days ago, reads Chinese, not yet activated.
    enrol(clinic, &nurse, nurse_id, &id(2), hematogenous, Language::Chinese, "Demo Patient Two", day(-2))
        .await?;

    // IVB-003: nodal, through treatment and into follow-up; the 3-month form is open now.
    let p3 =
        enrol(clinic, &nurse, nurse_id, &id(3), nodal, Language::English, "Demo Patient Three", day(-200))
            .await?;
    activate(clinic, p3.id).await?;
    submit(clinic, &p3, "baseline", at(day(-199), 10), answers(&mut dice, 1..=54, 0.3)).await?;
    // Her treatment as it happened; the forms follow the windows it gives.
    for (kind, offset) in [
        (EventKind::ChemotherapyCycle { cycle: 1 }, -195),
        (EventKind::ChemotherapyCycle { cycle: 2 }, -174),
        (EventKind::InductionResponse { response: TumourResponse::PartialResponse }, -160),
        (EventKind::ChemotherapyCycle { cycle: 3 }, -153),
        (EventKind::RadiotherapyStart, -150),
        (EventKind::ChemotherapyCycle { cycle: 4 }, -132),
        (EventKind::ChemotherapyCycle { cycle: 5 }, -111),
        (EventKind::RadiotherapyEnd, -110),
        (EventKind::ChemotherapyCycle { cycle: 6 }, -90),
        (EventKind::EndOfTreatment, -84),
    ] {
        event(clinic, &nurse, nurse_id, &p3, kind, day(offset)).await?;
    }
    // Weekly forms through therapy, rising burden then recovery; weeks 5 and 11 were missed.
    // Weeks whose window lies inside a fuller form's are satisfied by it (one form a day).
    clinic.keep_schedule_in_step(p3.id, today).await?;
    let (statuses, _) = clinic.assessments(p3.id, today).await?;
    for week in (1..=15).filter(|week| ![5, 11].contains(week)) {
        let burden = 0.2 + 0.05 * f64::from(week.min(16 - week));
        let drawn = answers(&mut dice, 1..=30, burden);
        let key = qol_shared::schedule::AssessmentKey::of("weekly", Some(week));
        let Some(window) = statuses.iter().find(|status| status.row.key == key).map(|status| &status.row)
        else {
            continue;
        };
        // Two days after it opens, or its last day when it is shorter.
        let on = (window.window_start + Duration::days(2)).min(window.window_end);
        submit(clinic, &p3, &key, at(on, 20), drawn).await?;
    }
    submit(clinic, &p3, "after-induction", at(day(-158), 11), answers(&mut dice, 1..=54, 0.4)).await?;
    submit(clinic, &p3, "end-of-radiotherapy", at(day(-108), 15), answers(&mut dice, 1..=54, 0.5)).await?;
    submit(clinic, &p3, "end-of-treatment", at(day(-80), 9), answers(&mut dice, 1..=54, 0.3)).await?;
    work_past_alerts(clinic, &nurse, nurse_id, &id(3)).await?;

    // IVB-004: hematogenous, went off study with progression a month ago.
    let p4 = enrol(
        clinic,
        &nurse,
        nurse_id,
        &id(4),
        hematogenous,
        Language::English,
        "Demo Patient Four",
        day(-120),
    )
    .await?;
    activate(clinic, p4.id).await?;
    submit(clinic, &p4, "baseline", at(day(-119), 12), answers(&mut dice, 1..=54, 0.35)).await?;
    event(clinic, &nurse, nurse_id, &p4, EventKind::ChemotherapyCycle { cycle: 1 }, day(-115)).await?;
    event(
        clinic,
        &nurse,
        nurse_id,
        &p4,
        EventKind::OffStudy { reason: OffStudyReason::Progression },
        day(-30),
    )
    .await?;
    work_past_alerts(clinic, &nurse, nurse_id, &id(4)).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn enrol(
    clinic: &Clinic,
    nurse: &Actor,
    nurse_id: i64,
    study_id: &str,
    stratum: &str,
    language: Language,
    name: &str,
    enrolled_on: NaiveDate,
) -> Result<crate::storage::PatientRow, ClinicError> {
    let number = study_id.rsplit('-').next().unwrap_or(study_id);
    let request = EnrolPatient {
        study_id: Some(study_id.into()),
        stratum: stratum.into(),
        language: language.tag().into(),
        identity: Identity {
            full_name: name.into(),
            phone: format!("+00 000 0000 {number}"),
            hospital_number: format!("DEMO-H{number}"),
            email: String::new(),
        },
        enrolled_on,
        reminder_channel: qol_shared::api::ReminderChannel::Auto,
    };
    let (patient, _, _) = clinic.enrol(nurse, nurse_id, &request, enrolled_on).await?;
    Ok(patient)
}

async fn activate(clinic: &Clinic, patient_id: i64) -> Result<(), ClinicError> {
    let code = crate::auth::new_activation_code();
    let mut tx = clinic.db.begin_write().await?;
    let code_id = tx
        .issue_activation_code(
            patient_id,
            &token_hash(&normalise_activation_code(&code)),
            "9999-12-31T00:00:00.000000Z",
        )
        .await?;
    tx.activate_patient(code_id, patient_id, &hash_secret(DEMO_PIN)).await?;
    tx.audit(
        &Actor::system(),
        AuditEntry {
            action: "patient.activate",
            entity: "patient",
            entity_id: patient_id.to_string(),
            reason: Some("demo seed".into()),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn event(
    clinic: &Clinic,
    nurse: &Actor,
    nurse_id: i64,
    patient: &crate::storage::PatientRow,
    kind: EventKind,
    date: NaiveDate,
) -> Result<(), ClinicError> {
    match clinic
        .record_event(
            nurse,
            nurse_id,
            patient,
            &RecordEvent { event: Event { kind, date }, reason: None },
            date,
        )
        .await
    {
        Ok(_) => Ok(()),
        // A site's protocol that has no such event (fewer cycles): the story goes on without it.
        Err(ClinicError::Invalid { .. } | ClinicError::Conflict(_)) if !clinic.protocol().is_shipped() => {
            Ok(())
        }
        Err(error) => Err(error),
    }
}

async fn submit(
    clinic: &Clinic,
    patient: &crate::storage::PatientRow,
    key: &str,
    when: chrono::DateTime<Utc>,
    mut answers: Vec<RawAnswer>,
) -> Result<(), ClinicError> {
    let today = clinic.protocol().local_date(when);
    clinic.keep_schedule_in_step(patient.id, today).await?;
    let (statuses, _) = clinic.assessments(patient.id, today).await?;
    let Some(assessment) = statuses.into_iter().map(|status| status.row).find(|row| row.key == key) else {
        // A site's protocol without this form: left out of the story.
        if !clinic.protocol().is_shipped() {
            return Ok(());
        }
        return Err(ClinicError::NotFound(format!(
            "demo seed: no assessment {key} for {}",
            patient.study_code
        )));
    };
    let last_item = if assessment.instruments.len() == 2 { 54 } else { 30 };
    answers.retain(|answer| answer.item <= last_item);
    // Not sexually active ("not at all" to item 49): items 50–54 do not apply, as on the phone.
    if answers.iter().any(|answer| answer.item == 49 && answer.response == RawResponse::Code(1)) {
        answers.retain(|answer| !(50..=54).contains(&answer.item));
    }
    let actor = super::Session::patient(patient.id, &patient.study_code, patient.language).actor();
    let request = SubmissionRequest {
        client_id: ClientId::parse(&uuid_from(&format!("{}-{key}", patient.study_code)))
            .map_err(|error| ClinicError::Invalid { message: error, problems: Vec::new() })?,
        assessment_id: Some(assessment.id),
        completed_at: when.into(),
        language: Language::English,
        answers,
        call_me: false,
    };
    clinic.submit(&actor, patient, &request, when + Duration::minutes(2)).await?;
    Ok(())
}

/// A stable UUID-shaped id from a name, so demo submissions are the same on every seed.
fn uuid_from(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}
