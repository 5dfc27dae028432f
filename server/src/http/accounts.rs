//! Account routes: a nurse lifts a patient's sign-in lockout; an admin disables, enables, signs
//! out everywhere and unlocks staff accounts, reads the study setup and checks and applies a
//! wording pack. Each calls one operation of the service (`clinic::accounts`, `clinic::wording`).

use axum::extract::State;

use super::json::{Json, Path};
use axum::http::StatusCode;
use qol_shared::api::{
    AccountChange, ApiError, NewStaff, ProtocolReport, ProtocolUpload, Role, StaffAccount, StaffPasswordCode,
    StudySetup, WordingReport, WordingUpload,
};

use super::auth::Caller;
use super::{AppState, Error};
use crate::clinic::{AccountError, Locked, Outcome};

impl From<AccountError> for Error {
    fn from(error: AccountError) -> Error {
        match error {
            AccountError::NoSuchStaff(_) | AccountError::NoSuchPatient(_) => {
                Error::NotFound(error.to_string())
            }
            AccountError::DisableSelf | AccountError::StaffExists(_) | AccountError::ResetDisabled => {
                Error::Conflict(error.to_string())
            }
            AccountError::InvalidUsername(_) => {
                Error::Unprocessable { message: error.to_string(), problems: vec!["username".into()] }
            }
            AccountError::InvalidRole => {
                Error::Unprocessable { message: error.to_string(), problems: vec!["role".into()] }
            }
            AccountError::Storage(error) => Error::from(crate::clinic::ClinicError::Storage(error)),
        }
    }
}

fn change(outcome: Outcome) -> axum::Json<AccountChange> {
    axum::Json(AccountChange { changed: outcome.changed, sessions_ended: outcome.sessions_ended })
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/unlock", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, description = "the patient's failed sign-ins are forgotten and any lockout lifted", body = AccountChange), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn unlock_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<AccountChange>, Error> {
    caller.require(&[Role::Nurse, Role::Admin])?;
    Ok(change(state.clinic.unlock(&caller.actor(), Locked::Patient(&study_id)).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/setup", tag = "staff", security(("session" = ["admin"])), responses((status = 200, description = "the protocol the study runs and the wording pack's description, each with the SHA-256 of its JSON as loaded", body = StudySetup), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn study_setup(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<StudySetup>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.clinic.study_setup().await?))
}

#[utoipa::path(post, path = "/api/v1/admin/wording/check", tag = "staff", security(("session" = ["admin"])), request_body = WordingUpload, responses((status = 200, description = "the validation report: every problem by key, and the texts the pack would change; nothing is stored", body = WordingReport), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError)))]
pub async fn check_wording(
    State(state): State<AppState>,
    caller: Caller,
    Json(upload): Json<WordingUpload>,
) -> Result<axum::Json<WordingReport>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.clinic.check_wording(&upload).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/wording", tag = "staff", security(("session" = ["admin"])), request_body = WordingUpload, responses((status = 200, description = "applied: stored with its audit entry, in use from the next request", body = WordingReport), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError), (status = 422, description = "not applied, nothing changed: `problems` is the report (`KEY: PROBLEM`), or names the reason", body = ApiError)))]
pub async fn apply_wording(
    State(state): State<AppState>,
    caller: Caller,
    Json(upload): Json<WordingUpload>,
) -> Result<axum::Json<WordingReport>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.clinic.apply_wording(&caller.actor(), &upload).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/protocol/check", tag = "staff", security(("session" = ["admin"])), request_body = ProtocolUpload, responses((status = 200, description = "the report on an amendment: every problem, and every value it changes; nothing is stored", body = ProtocolReport), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError)))]
pub async fn check_protocol(
    State(state): State<AppState>,
    caller: Caller,
    Json(upload): Json<ProtocolUpload>,
) -> Result<axum::Json<ProtocolReport>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.clinic.check_protocol(&upload).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/protocol", tag = "staff", security(("session" = ["admin"])), request_body = ProtocolUpload, responses((status = 200, description = "applied: the next version, audited, in effect from today; the schedules moved forward under it", body = ProtocolReport), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, description = "another admin applied that version a moment ago", body = ApiError), (status = 413, body = ApiError), (status = 422, description = "not applied, nothing changed: `problems` names each", body = ApiError)))]
pub async fn amend_protocol(
    State(state): State<AppState>,
    caller: Caller,
    Json(upload): Json<ProtocolUpload>,
) -> Result<axum::Json<ProtocolReport>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.clinic.amend_protocol(&caller.actor(), &upload).await?))
}

#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("session" = ["admin"])), responses((status = 200, description = "every staff account, by username, with its role, state, last sign-in, live sessions and any lockout in force", body = Vec<StaffAccount>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list_staff(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<StaffAccount>>, Error> {
    caller.require(&[Role::Admin])?;
    let accounts = state.clinic.staff_accounts().await.map_err(crate::clinic::ClinicError::Storage)?;
    Ok(axum::Json(accounts))
}

#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", security(("session" = ["admin"])), request_body = NewStaff, responses((status = 201, description = "created without a password; the one-time code (shown once) lets its holder set one", body = StaffPasswordCode), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, description = "the username is taken", body = ApiError), (status = 422, description = "the username or role is not allowed (`problems` names the field)", body = ApiError)))]
pub async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewStaff>,
) -> Result<(StatusCode, axum::Json<StaffPasswordCode>), Error> {
    caller.require(&[Role::Admin])?;
    let code = state.clinic.create_staff_with_code(&caller.actor(), &body).await?;
    Ok((StatusCode::CREATED, axum::Json(code)))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/password-code", tag = "staff", security(("session" = ["admin"])), params(("username" = String, Path)), responses((status = 200, description = "a new one-time code (shown once) for the holder to set a new password; an earlier code stops working, the old password works until the code is used", body = StaffPasswordCode), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn reset_staff_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<StaffPasswordCode>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.clinic.reset_staff_password(&caller.actor(), &username).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/unlock", tag = "staff", security(("session" = ["admin"])), params(("username" = String, Path)), responses((status = 200, body = AccountChange), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn unlock_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<AccountChange>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(change(state.clinic.unlock(&caller.actor(), Locked::Staff(&username)).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/disable", tag = "staff", security(("session" = ["admin"])), params(("username" = String, Path)), responses((status = 200, description = "disabled; every session of the account has ended", body = AccountChange), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "an admin cannot disable their own account", body = ApiError)))]
pub async fn disable_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<AccountChange>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(change(state.clinic.set_staff_disabled(&caller.actor(), &username, true).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/enable", tag = "staff", security(("session" = ["admin"])), params(("username" = String, Path)), responses((status = 200, body = AccountChange), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn enable_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<AccountChange>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(change(state.clinic.set_staff_disabled(&caller.actor(), &username, false).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/sign-out-everywhere", tag = "staff", security(("session" = ["admin"])), params(("username" = String, Path)), responses((status = 200, body = AccountChange), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn sign_out_staff_everywhere(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<AccountChange>, Error> {
    caller.require(&[Role::Admin])?;
    Ok(change(state.clinic.sign_out_staff_everywhere(&caller.actor(), &username).await?))
}
