//! The staff console's HTTP calls (built on `crate::api`'s request code).

use qol_shared::api::{
    AcknowledgeAlert, ActivationCode, AlertCard, AssessmentView, EnrolPatient, EnrolledPatient, EventRecord,
    FollowUpItem, PatientDetail, PatientSummary, RecordEvent, RecordMissedReason, ResolveAlert,
    SnoozeRequest, SnoozeView, SubmissionView,
};

use qol_shared::Timestamp;

use crate::api::{ApiFailure, get, post};

fn empty() -> serde_json::Value {
    serde_json::json!({})
}

/// Open alert cards, or those in `state`.
pub async fn alerts(state: Option<&str>) -> Result<Vec<AlertCard>, ApiFailure> {
    match state {
        Some(state) => get(&format!("/api/v1/alerts?state={state}")).await,
        None => get("/api/v1/alerts").await,
    }
}

/// A patient's cards, open and past.
pub async fn patient_alerts(study_id: &str) -> Result<Vec<AlertCard>, ApiFailure> {
    get(&format!("/api/v1/patients/{study_id}/alerts")).await
}

/// Acknowledges the card as the nurse saw it (`seen`: its `updated_at`).
pub async fn acknowledge(id: i64, seen: Timestamp) -> Result<AlertCard, ApiFailure> {
    let body = AcknowledgeAlert { seen_updated_at: Some(seen) };
    post(&format!("/api/v1/alerts/{id}/acknowledge"), &body).await.map(|(_, alert)| alert)
}

pub async fn resolve(id: i64, body: &ResolveAlert) -> Result<AlertCard, ApiFailure> {
    post(&format!("/api/v1/alerts/{id}/resolve"), body).await.map(|(_, alert)| alert)
}

pub async fn overdue() -> Result<Vec<FollowUpItem>, ApiFailure> {
    get("/api/v1/assessments/overdue").await
}

pub async fn missed() -> Result<Vec<FollowUpItem>, ApiFailure> {
    get("/api/v1/assessments/missed").await
}

pub async fn record_missed_reason(id: i64, body: &RecordMissedReason) -> Result<FollowUpItem, ApiFailure> {
    post(&format!("/api/v1/assessments/{id}/missed-reason"), body).await.map(|(_, item)| item)
}

pub async fn patients() -> Result<Vec<PatientSummary>, ApiFailure> {
    get("/api/v1/patients").await
}

pub async fn enrol(body: &EnrolPatient) -> Result<EnrolledPatient, ApiFailure> {
    post("/api/v1/patients", body).await.map(|(_, enrolled)| enrolled)
}

pub async fn new_code(study_id: &str) -> Result<ActivationCode, ApiFailure> {
    post(&format!("/api/v1/patients/{study_id}/activation-code"), &empty()).await.map(|(_, code)| code)
}

pub async fn unlock(study_id: &str) -> Result<qol_shared::api::AccountChange, ApiFailure> {
    post(&format!("/api/v1/patients/{study_id}/unlock"), &empty()).await.map(|(_, change)| change)
}

pub async fn patient(study_id: &str) -> Result<PatientDetail, ApiFailure> {
    get(&format!("/api/v1/patients/{study_id}")).await
}

pub async fn record_event(study_id: &str, body: &RecordEvent) -> Result<EventRecord, ApiFailure> {
    post(&format!("/api/v1/patients/{study_id}/events"), body).await.map(|(_, record)| record)
}

pub async fn assessments(study_id: &str) -> Result<Vec<AssessmentView>, ApiFailure> {
    get(&format!("/api/v1/patients/{study_id}/assessments")).await
}

pub async fn submissions(study_id: &str) -> Result<Vec<SubmissionView>, ApiFailure> {
    get(&format!("/api/v1/patients/{study_id}/submissions")).await
}

/// What a form entered by staff came to.
pub enum EntryOutcome {
    /// Stored: it counts.
    Stored(qol_shared::api::SubmissionReceipt),
    /// A paper entry that does not count yet (double entry): where the form stands.
    Pending(qol_shared::api::PaperEntries),
}

pub async fn enter_form(
    study_id: &str,
    body: &qol_shared::api::StaffEntryRequest,
) -> Result<EntryOutcome, ApiFailure> {
    let (status, value): (u16, serde_json::Value) =
        post(&format!("/api/v1/patients/{study_id}/submissions"), body).await?;
    let unexpected = |error: serde_json::Error| ApiFailure::Unexpected(error.to_string());
    if status == 202 {
        serde_json::from_value(value).map(EntryOutcome::Pending).map_err(unexpected)
    } else {
        serde_json::from_value(value).map(EntryOutcome::Stored).map_err(unexpected)
    }
}

/// A paper form's entries (double entry): who made each, and what they hold once both are in.
pub async fn paper_entries(assessment_id: i64) -> Result<qol_shared::api::PaperEntries, ApiFailure> {
    get(&format!("/api/v1/assessments/{assessment_id}/paper-entries")).await
}

pub async fn correct(
    submission_id: i64,
    body: &qol_shared::api::CorrectionRequest,
) -> Result<qol_shared::api::SubmissionReceipt, ApiFailure> {
    post(&format!("/api/v1/submissions/{submission_id}/corrections"), body).await.map(|(_, receipt)| receipt)
}

pub async fn snoozes(study_id: &str) -> Result<Vec<SnoozeView>, ApiFailure> {
    get(&format!("/api/v1/patients/{study_id}/snoozes")).await
}

pub async fn snooze(study_id: &str, body: &SnoozeRequest) -> Result<SnoozeView, ApiFailure> {
    post(&format!("/api/v1/patients/{study_id}/snoozes"), body).await.map(|(_, snooze)| snooze)
}

pub async fn end_snooze(study_id: &str, id: i64) -> Result<SnoozeView, ApiFailure> {
    post(&format!("/api/v1/patients/{study_id}/snoozes/{id}/end"), &empty()).await.map(|(_, snooze)| snooze)
}

/// The analysis with responders by `thresholds` (a set's name, or empty for the study's
/// default) or by `responder_points` when `thresholds` is `points`.
pub async fn analysis(
    thresholds: &str,
    responder_points: f64,
    include_out_of_window: bool,
) -> Result<qol_shared::api::AnalysisReport, ApiFailure> {
    let judged_by = match thresholds {
        "points" => format!("responder_points={responder_points}"),
        "" => String::new(),
        set => format!("thresholds={set}"),
    };
    get(&format!("/api/v1/research/analysis?{judged_by}&include_out_of_window={include_out_of_window}")).await
}

/// The query of a time-to-deterioration request (the JSON and its figure share it).
pub fn ttd_query(scale: &str, definition: &str, death: &str, thresholds: &str, points: f64) -> String {
    let threshold = match thresholds {
        "points" => format!("&threshold={points}"),
        "" => String::new(),
        set => format!("&threshold={set}"),
    };
    format!("scale={scale}&definition={definition}&death={death}{threshold}")
}

pub async fn ttd(query: &str) -> Result<qol_shared::api::TtdReport, ApiFailure> {
    get(&format!("/api/v1/research/ttd?{query}")).await
}

pub async fn completion() -> Result<Vec<qol_shared::api::CompletionRow>, ApiFailure> {
    get("/api/v1/research/completion").await
}

pub async fn reminders(study_id: &str) -> Result<qol_shared::api::PatientReminders, ApiFailure> {
    get(&format!("/api/v1/patients/{study_id}/reminders")).await
}

pub async fn set_reminders(
    study_id: &str,
    body: &qol_shared::api::SetReminders,
) -> Result<qol_shared::api::PatientReminders, ApiFailure> {
    post(&format!("/api/v1/patients/{study_id}/reminders"), body).await.map(|(_, value)| value)
}

/// Every staff account (admins only).
pub async fn staff_accounts() -> Result<Vec<qol_shared::api::StaffAccount>, ApiFailure> {
    get("/api/v1/staff").await
}

/// One of an admin's changes to a staff account: `disable`, `enable`, `sign-out-everywhere` or
/// `unlock`.
pub async fn staff_change(
    username: &str,
    change: &str,
) -> Result<qol_shared::api::AccountChange, ApiFailure> {
    let username = String::from(js_sys::encode_uri_component(username));
    post(&format!("/api/v1/staff/{username}/{change}"), &empty()).await.map(|(_, change)| change)
}

/// A new staff account without a password, and the one-time code its holder sets one with.
pub async fn create_staff(
    body: &qol_shared::api::NewStaff,
) -> Result<qol_shared::api::StaffPasswordCode, ApiFailure> {
    post("/api/v1/staff", body).await.map(|(_, code)| code)
}

/// A new one-time code for an account's holder to set a new password with.
pub async fn password_code(username: &str) -> Result<qol_shared::api::StaffPasswordCode, ApiFailure> {
    let username = String::from(js_sys::encode_uri_component(username));
    post(&format!("/api/v1/staff/{username}/password-code"), &empty()).await.map(|(_, code)| code)
}

/// Sets a staff member's password with their code (no session needed).
pub async fn set_password(body: &qol_shared::api::SetStaffPassword) -> Result<(), ApiFailure> {
    post::<_, serde::de::IgnoredAny>("/api/v1/auth/staff/set-password", body).await.map(|_| ())
}

/// The audit chain checked now (admins only).
pub async fn verify_audit() -> Result<qol_shared::api::AuditChainStatus, ApiFailure> {
    get("/api/v1/audit/verify").await
}

/// The validation report on a wording pack (admins only; stores nothing).
pub async fn check_wording(
    body: &qol_shared::api::WordingUpload,
) -> Result<qol_shared::api::WordingReport, ApiFailure> {
    post("/api/v1/admin/wording/check", body).await.map(|(_, report)| report)
}

/// Applies a wording pack (admins only).
pub async fn apply_wording(
    body: &qol_shared::api::WordingUpload,
) -> Result<qol_shared::api::WordingReport, ApiFailure> {
    post("/api/v1/admin/wording", body).await.map(|(_, report)| report)
}

/// The report on a protocol amendment (admins only; stores nothing).
pub async fn check_protocol(
    body: &qol_shared::api::ProtocolUpload,
) -> Result<qol_shared::api::ProtocolReport, ApiFailure> {
    post("/api/v1/admin/protocol/check", body).await.map(|(_, report)| report)
}

/// Applies a protocol amendment (admins only).
pub async fn amend_protocol(
    body: &qol_shared::api::ProtocolUpload,
) -> Result<qol_shared::api::ProtocolReport, ApiFailure> {
    post("/api/v1/admin/protocol", body).await.map(|(_, report)| report)
}

/// The protocol and wording pack the server runs (admins only).
pub async fn study_setup() -> Result<qol_shared::api::StudySetup, ApiFailure> {
    get("/api/v1/admin/setup").await
}
