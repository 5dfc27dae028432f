//! Reminder routes: the patient's own settings and push subscription under `/me`, and a
//! patient's reminders as her nurse sees and changes them.

use axum::extract::State;
use qol_shared::api::{
    ApiError, PatientReminders, PushSubscriptionRequest, ReminderSettingsView, RemovePushSubscription, Role,
    SetReminders,
};

use super::auth::Caller;
use super::json::{Json, Path};
use super::{AppState, Error};

const CARE_TEAM: &[Role] = &[Role::Nurse, Role::Admin];

#[utoipa::path(get, path = "/api/v1/me/reminders", tag = "me", security(("session" = ["patient"])), responses((status = 200, body = ReminderSettingsView), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn mine(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<ReminderSettingsView>, Error> {
    Ok(axum::Json(state.clinic.my_reminders(&caller).await?))
}

#[utoipa::path(post, path = "/api/v1/me/reminders", tag = "me", security(("session" = ["patient"])), request_body = SetReminders, responses((status = 200, body = ReminderSettingsView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn set_mine(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SetReminders>,
) -> Result<axum::Json<ReminderSettingsView>, Error> {
    Ok(axum::Json(state.clinic.set_my_reminders(&caller, &body).await?))
}

#[utoipa::path(post, path = "/api/v1/me/push-subscription", tag = "me", security(("session" = ["patient"])), request_body = PushSubscriptionRequest, responses((status = 200, description = "this device receives push reminders", body = ReminderSettingsView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PushSubscriptionRequest>,
) -> Result<axum::Json<ReminderSettingsView>, Error> {
    Ok(axum::Json(state.clinic.subscribe_push(&caller, &body).await?))
}

#[utoipa::path(post, path = "/api/v1/me/push-subscription/remove", tag = "me", security(("session" = ["patient"])), request_body = RemovePushSubscription, responses((status = 200, description = "this device no longer receives push reminders", body = ReminderSettingsView), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RemovePushSubscription>,
) -> Result<axum::Json<ReminderSettingsView>, Error> {
    Ok(axum::Json(state.clinic.unsubscribe_push(&caller, &body.endpoint).await?))
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/reminders", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, description = "the settings and every reminder, newest first", body = PatientReminders), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn of_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<PatientReminders>, Error> {
    caller.require(CARE_TEAM)?;
    Ok(axum::Json(state.clinic.patient_reminders(&caller, &study_id).await?))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/reminders", tag = "patients", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), request_body = SetReminders, responses((status = 200, body = PatientReminders), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn set_of_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
    Json(body): Json<SetReminders>,
) -> Result<axum::Json<PatientReminders>, Error> {
    caller.require(CARE_TEAM)?;
    Ok(axum::Json(state.clinic.set_patient_reminders(&caller, &study_id, &body).await?))
}
