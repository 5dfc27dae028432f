//! Account routes: a nurse lifts a patient's sign-in lockout; an admin disables, enables, signs
//! out everywhere and unlocks staff accounts. Each calls one account operation of the service (`clinic::accounts`).

use axum::extract::State;

use super::json::Path;
use qol_shared::api::{AccountChange, ApiError, Role};

use super::auth::Caller;
use super::{AppState, Error};
use crate::clinic::{AccountError, Locked, Outcome};

impl From<AccountError> for Error {
    fn from(error: AccountError) -> Error {
        match error {
            AccountError::NoSuchStaff(_) | AccountError::NoSuchPatient(_) => {
                Error::NotFound(error.to_string())
            }
            AccountError::DisableSelf | AccountError::StaffExists(_) => Error::Conflict(error.to_string()),
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
