//! Staff routes: patients, events, schedules, submissions, activation codes; and the patient's
//! own routes under `/me`. Each handler checks the caller's role, then calls the service, which
//! builds the answer for that caller: researchers get no identity and no calendar dates, study
//! days instead.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::api::{
    ActivationCode, ApiError, AssessmentView, CorrectionRequest, EnrolPatient, EnrolledPatient, EventRecord,
    MyAssessments, PaperEntries, PatientDetail, PatientSummary, RecordEvent, Role, StaffEntryRequest,
    SubmissionReceipt, SubmissionRequest, SubmissionView,
};

use super::auth::Caller;
use super::json::{Json, Path};
use super::{AppState, Error};
use crate::clinic::Entered;

const STAFF_CLINICAL: &[Role] = &[Role::Nurse, Role::Admin];
const STAFF_READING: &[Role] = &[Role::Nurse, Role::Admin, Role::Researcher];

#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", security(("session" = ["nurse", "admin"])), request_body = EnrolPatient, responses((status = 201, description = "enrolled; the activation code is shown once", body = EnrolledPatient), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<EnrolPatient>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let enrolled = state.clinic.enrol_patient(&caller, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(enrolled)).into_response())
}

#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", security(("session" = ["nurse", "admin", "researcher"])), responses((status = 200, description = "researchers get no identity and no dates", body = Vec<PatientSummary>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<PatientSummary>>, Error> {
    caller.require(STAFF_READING)?;
    Ok(axum::Json(state.clinic.patient_list(&caller).await?))
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, body = PatientDetail), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<PatientDetail>, Error> {
    caller.require(STAFF_CLINICAL)?;
    Ok(axum::Json(state.clinic.patient_detail(&caller, &study_id).await?))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/events", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), request_body = RecordEvent, responses((status = 201, body = EventRecord), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn record_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
    Json(body): Json<RecordEvent>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let record = state.clinic.record_patient_event(&caller, &study_id, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(record)).into_response())
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/activation-code", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 201, body = ActivationCode), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn reissue_code(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let code = state.clinic.new_activation_code(&caller, &study_id).await?;
    Ok((StatusCode::CREATED, axum::Json(code)).into_response())
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/assessments", tag = "patients", security(("session" = ["nurse", "admin", "researcher"])), params(("study_id" = String, Path)), responses((status = 200, description = "researchers get study days, not dates", body = Vec<AssessmentView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn assessments(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<AssessmentView>>, Error> {
    caller.require(STAFF_READING)?;
    Ok(axum::Json(state.clinic.assessment_views(&caller, &study_id).await?))
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/submissions", tag = "patients", security(("session" = ["nurse", "admin", "researcher"])), params(("study_id" = String, Path)), responses((status = 200, body = Vec<SubmissionView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn submissions(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<SubmissionView>>, Error> {
    caller.require(STAFF_READING)?;
    Ok(axum::Json(state.clinic.submission_views(&caller, &study_id).await?))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/submissions", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), request_body = StaffEntryRequest, responses((status = 201, description = "entered on her behalf: stored with its mode, scored, alerts raised", body = SubmissionReceipt), (status = 202, description = "a paper entry under double entry that does not count yet: where the form stands", body = PaperEntries), (status = 200, description = "a retry of a stored entry: the first receipt", body = SubmissionReceipt), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "completed outside the window, already received, off study, or the client id was used for other content", body = ApiError), (status = 422, description = "each problem names its field", body = ApiError)))]
pub async fn enter_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
    Json(body): Json<StaffEntryRequest>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    match state.clinic.enter_form(&caller, &study_id, &body).await? {
        Entered::Stored(receipt, created) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            Ok((status, axum::Json(receipt)).into_response())
        }
        Entered::Pending(entries) => Ok((StatusCode::ACCEPTED, axum::Json(entries)).into_response()),
    }
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}/paper-entries", tag = "patients", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path, description = "the assessment")), responses((status = 200, description = "who entered the paper form and when, and what each entry holds once both are in", body = PaperEntries), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn paper_entries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<PaperEntries>, Error> {
    caller.require(STAFF_CLINICAL)?;
    Ok(axum::Json(state.clinic.paper_entries(&caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/submissions/{id}/corrections", tag = "patients", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path, description = "the submission's current version")), request_body = CorrectionRequest, responses((status = 201, description = "the new version, scored again", body = SubmissionReceipt), (status = 401, body = ApiError), (status = 403, description = "not a nurse or admin, or `signature_refused`: the password is not the signer's", body = ApiError), (status = 404, body = ApiError), (status = 409, description = "the version is no longer the current one", body = ApiError), (status = 422, description = "each problem names its field", body = ApiError), (status = 429, body = ApiError)))]
pub async fn correct(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<CorrectionRequest>,
) -> Result<Response, Error> {
    caller.require(STAFF_CLINICAL)?;
    let receipt = state.clinic.correct_submission(&state.hasher, &caller, id, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(receipt)).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/assessments", tag = "me", security(("session" = ["patient"])), responses((status = 200, body = MyAssessments), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn my_assessments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<MyAssessments>, Error> {
    Ok(axum::Json(state.clinic.my_assessments(&caller).await?))
}

#[utoipa::path(get, path = "/api/v1/me/submissions", tag = "me", security(("session" = ["patient"])), responses((status = 200, body = Vec<SubmissionView>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn my_submissions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<SubmissionView>>, Error> {
    Ok(axum::Json(state.clinic.my_submissions(&caller).await?))
}

#[utoipa::path(post, path = "/api/v1/me/submissions", tag = "me", security(("session" = ["patient"])), request_body = SubmissionRequest, responses((status = 201, description = "stored, with its scores", body = SubmissionReceipt), (status = 200, description = "a retry of a stored submission: the original receipt", body = SubmissionReceipt), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "window closed or not open, already sent, or the client id was used for other content", body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SubmissionRequest>,
) -> Result<Response, Error> {
    let (receipt, created) = state.clinic.submit_mine(&caller, &body).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(receipt)).into_response())
}
