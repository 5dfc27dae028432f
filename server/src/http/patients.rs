//! Staff routes: patients, events, schedules, submissions, activation codes; and the patient's
//! own routes under `/me`. Each handler checks the caller's role first. Researchers get no
//! identity and no calendar dates: study days instead.

use axum::extract::State;

use super::json::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::api::{
    ActivationCode, ApiError, AssessmentView, EnrolPatient, EnrolledPatient, EventRecord, MyAssessments,
    PatientDetail, PatientSummary, RecordEvent, Role, SubmissionReceipt, SubmissionRequest, SubmissionView,
};
use qol_shared::schedule::{AssessmentState, Events};

use super::auth::Caller;
use super::json::Json;
use super::{AppState, Error};
use crate::clinic::{AssessmentStatus, Clinic};
use crate::storage::{EventRow, PatientRow};

const STAFF_CLINICAL: &[Role] = &[Role::Nurse, Role::Admin];
const STAFF_READING: &[Role] = &[Role::Nurse, Role::Admin, Role::Researcher];

pub(super) async fn find_patient(state: &AppState, study_id: &str) -> Result<PatientRow, Error> {
    state
        .clinic
        .db
        .patient_by_code(&crate::auth::normal_study_id(study_id))
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no patient {study_id:?}")))
}

async fn summary(state: &AppState, patient: &PatientRow, caller: &Caller) -> Result<PatientSummary, Error> {
    let (rows, events) = state.clinic.events(patient.id).await?;
    let sees_identity = caller.role != Role::Researcher;
    Ok(PatientSummary {
        study_id: patient.study_code.clone(),
        stratum: patient.stratum.clone(),
        language: patient.language.clone(),
        activated: patient.activated,
        off_study: events.off_study().is_some(),
        identity: if sees_identity { state.clinic.db.identity(patient.id).await? } else { None },
        enrolled_on: if sees_identity {
            rows.iter().rev().find(|row| row.event.kind.slot() == "enrolment").map(|row| row.event.date)
        } else {
            None
        },
    })
}

fn event_record(row: &EventRow, rows: &[EventRow]) -> EventRecord {
    EventRecord {
        id: row.id,
        event: row.event,
        recorded_at: row.recorded_at.clone(),
        recorded_by: row.recorded_by.clone(),
        reason: row.reason.clone(),
        corrects: row.corrects,
        current: !rows.iter().any(|other| other.corrects == Some(row.id)),
        warnings: Vec::new(),
    }
}

fn assessment_view(status: &AssessmentStatus, events: &Events, with_dates: bool) -> AssessmentView {
    let row = &status.row;
    AssessmentView {
        id: row.id,
        key: row.key.clone(),
        code: row.code.clone(),
        label: row.label.clone(),
        instruments: row.instruments.clone(),
        state: status.state,
        unscheduled: row.unscheduled,
        window_start: with_dates.then_some(row.window_start),
        window_end: with_dates.then_some(row.window_end),
        window_start_day: Clinic::study_day(events, row.window_start),
        window_end_day: Clinic::study_day(events, row.window_end),
        received_at: if with_dates { row.received_at.clone() } else { None },
    }
}

#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", security(("session" = ["nurse", "admin"])), request_body = EnrolPatient, responses((status = 201, description = "enrolled; the activation code is shown once", body = EnrolledPatient), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<EnrolPatient>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let staff_id = caller.staff_id().ok_or_else(|| Error::Forbidden("staff only".into()))?;
    let (patient, code, expires_at) =
        state.clinic.enrol(&caller.actor(), staff_id, &body, state.clinic.today()).await?;
    let enrolled = EnrolledPatient {
        patient: summary(&state, &patient, &caller).await?,
        activation: ActivationCode { activation_code: code, expires_at },
    };
    Ok((StatusCode::CREATED, axum::Json(enrolled)).into_response())
}

#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", security(("session" = ["nurse", "admin", "researcher"])), responses((status = 200, description = "researchers get no identity and no dates", body = Vec<PatientSummary>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<PatientSummary>>, Error> {
    caller.require(STAFF_READING)?;
    let mut out = Vec::new();
    for patient in state.clinic.db.patients().await? {
        out.push(summary(&state, &patient, &caller).await?);
    }
    Ok(axum::Json(out))
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, body = PatientDetail), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<PatientDetail>, Error> {
    caller.require(STAFF_CLINICAL)?;
    let patient = find_patient(&state, &study_id).await?;
    let (rows, _) = state.clinic.events(patient.id).await?;
    let throttle =
        state.clinic.db.throttle_state(&crate::auth::patient_sign_in_key(&patient.study_code)).await?;
    let now = crate::storage::now_text();
    Ok(axum::Json(PatientDetail {
        patient: summary(&state, &patient, &caller).await?,
        events: rows.iter().map(|row| event_record(row, &rows)).collect(),
        sign_in_locked_until: throttle.locked_until.filter(|until| *until > now),
    }))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/events", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), request_body = RecordEvent, responses((status = 201, body = EventRecord), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn record_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
    Json(body): Json<RecordEvent>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let staff_id = caller.staff_id().ok_or_else(|| Error::Forbidden("staff only".into()))?;
    let patient = find_patient(&state, &study_id).await?;
    let (row, warnings) =
        state.clinic.record_event(&caller.actor(), staff_id, &patient, &body, state.clinic.today()).await?;
    let (rows, _) = state.clinic.events(patient.id).await?;
    let record = EventRecord { warnings, ..event_record(&row, &rows) };
    Ok((StatusCode::CREATED, axum::Json(record)).into_response())
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/activation-code", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 201, body = ActivationCode), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn reissue_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let patient = find_patient(&state, &study_id).await?;
    let (activation_code, expires_at) = state.clinic.reissue_code(&caller.actor(), &patient).await?;
    Ok((StatusCode::CREATED, axum::Json(ActivationCode { activation_code, expires_at })).into_response())
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/assessments", tag = "patients", security(("session" = ["nurse", "admin", "researcher"])), params(("study_id" = String, Path)), responses((status = 200, description = "researchers get study days, not dates", body = Vec<AssessmentView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn assessments(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<AssessmentView>>, Error> {
    caller.require(STAFF_READING)?;
    let patient = find_patient(&state, &study_id).await?;
    let (statuses, events) = state.clinic.assessments(patient.id, state.clinic.today()).await?;
    let with_dates = caller.role != Role::Researcher;
    Ok(axum::Json(statuses.iter().map(|status| assessment_view(status, &events, with_dates)).collect()))
}

async fn submission_views(
    state: &AppState,
    patient: &PatientRow,
    with_dates: bool,
) -> Result<Vec<SubmissionView>, Error> {
    let (_, events) = state.clinic.events(patient.id).await?;
    let mut out = Vec::new();
    for stored in state.clinic.db.submissions_of(patient.id).await? {
        let completed_on = state.clinic.stored_date(&stored.completed_at)?;
        out.push(SubmissionView {
            id: stored.id,
            assessment_id: stored.assessment_id,
            assessment_key: stored.assessment_key.clone(),
            version: stored.version,
            timeliness: stored.timeliness.clone(),
            completed_at: with_dates.then(|| stored.completed_at.clone()),
            received_at: with_dates.then(|| stored.received_at.clone()),
            completed_study_day: Clinic::study_day(&events, completed_on),
            language: stored.language.clone(),
            call_me: stored.call_me,
            answers: state.clinic.db.answers_of(stored.id).await?,
            scores: state.clinic.db.scores_of(stored.id).await?,
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/submissions", tag = "patients", security(("session" = ["nurse", "admin", "researcher"])), params(("study_id" = String, Path)), responses((status = 200, body = Vec<SubmissionView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn submissions(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<SubmissionView>>, Error> {
    caller.require(STAFF_READING)?;
    let patient = find_patient(&state, &study_id).await?;
    Ok(axum::Json(submission_views(&state, &patient, caller.role != Role::Researcher).await?))
}

async fn own_patient(state: &AppState, caller: &Caller) -> Result<PatientRow, Error> {
    caller.require(&[Role::Patient])?;
    let id = caller.patient_id().ok_or_else(|| Error::Forbidden("patients only".into()))?;
    state.clinic.db.patient_by_id(id).await?.ok_or_else(|| Error::Unauthorized("please sign in again".into()))
}

#[utoipa::path(get, path = "/api/v1/me/assessments", tag = "me", security(("session" = ["patient"])), responses((status = 200, body = MyAssessments), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn my_assessments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<MyAssessments>, Error> {
    let patient = own_patient(&state, &caller).await?;
    let (statuses, events) = state.clinic.assessments(patient.id, state.clinic.today()).await?;
    let pick = |wanted: AssessmentState| {
        statuses
            .iter()
            .filter(|status| status.state == wanted)
            .map(|status| assessment_view(status, &events, true))
            .collect::<Vec<_>>()
    };
    Ok(axum::Json(MyAssessments {
        due: pick(AssessmentState::Open),
        upcoming: pick(AssessmentState::Upcoming),
        completed: pick(AssessmentState::Completed),
    }))
}

#[utoipa::path(get, path = "/api/v1/me/submissions", tag = "me", security(("session" = ["patient"])), responses((status = 200, body = Vec<SubmissionView>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn my_submissions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<SubmissionView>>, Error> {
    let patient = own_patient(&state, &caller).await?;
    Ok(axum::Json(submission_views(&state, &patient, true).await?))
}

#[utoipa::path(post, path = "/api/v1/me/submissions", tag = "me", security(("session" = ["patient"])), request_body = SubmissionRequest, responses((status = 201, description = "stored, with its scores", body = SubmissionReceipt), (status = 200, description = "a retry of a stored submission: the original receipt", body = SubmissionReceipt), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "window closed or not open, already sent, or the client id was used for other content", body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SubmissionRequest>,
) -> Result<Response, Error> {
    let patient = own_patient(&state, &caller).await?;
    let (receipt, created) =
        state.clinic.submit(&caller.actor(), &patient, &body, chrono::Utc::now()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(receipt)).into_response())
}
