//! The patient's "I need help" and her history (`/me`): each checks the role, calls the service
//! and answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::api::{ApiError, HelpReceipt, HelpRequest, MyHistory, Role};

use super::auth::Caller;
use super::json::Json;
use super::{AppState, Error};

#[utoipa::path(post, path = "/api/v1/me/help-requests", tag = "me", security(("session" = ["patient"])), request_body = HelpRequest, responses((status = 201, description = "stored: her call-request card is on the nurses' worklist (opened, or joined if one is open); no form is stored", body = HelpReceipt), (status = 200, description = "a retry of a stored request: the original receipt", body = HelpReceipt), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, description = "the client id was used by another patient", body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError)))]
pub async fn request_help(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<HelpRequest>,
) -> Result<Response, Error> {
    caller.require(&[Role::Patient])?;
    let (receipt, created) = state.clinic.request_help(&caller, &body).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(receipt)).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/history", tag = "me", security(("session" = ["patient"])), responses((status = 200, description = "her sent forms, newest first, and the scores the protocol shows her (`patient_view.scores`), oldest first", body = MyHistory), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn my_history(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<MyHistory>, Error> {
    caller.require(&[Role::Patient])?;
    Ok(axum::Json(state.clinic.my_history(&caller).await?))
}
