//! The nurse worklist: alert cards (list, acknowledge, resolve; a patient's cards; the outbox's
//! e-mails), per-patient snoozes, and the overdue and missed assessments (with their reasons).
//! Nurses and admins only; every action is the service's, audited there.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::alerts::Tier;
use qol_shared::api::{
    AcknowledgeAlert, AlertCard, AlertState, ApiError, CardKind, FollowUpItem, NotificationView,
    RecordMissedReason, ResolveAlert, Role, SnoozeRequest, SnoozeView,
};
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::json::{Json, Path, Query};
use super::{AppState, Error};
use crate::clinic::CardQuery;

const NURSES: &[Role] = &[Role::Nurse, Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AlertFilter {
    /// new, acknowledged or resolved; by default the open ones (new and acknowledged).
    state: Option<String>,
    /// red, amber or info.
    tier: Option<String>,
    /// A study id: that patient's cards only.
    patient: Option<String>,
    /// call_request or symptoms.
    kind: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("session" = ["nurse", "admin"])), params(AlertFilter), responses((status = 200, description = "alert cards: open call requests first, then red, amber, info; oldest first within each", body = Vec<AlertCard>), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    filter: Result<Query<AlertFilter>, Error>,
) -> Result<axum::Json<Vec<AlertCard>>, Error> {
    // Who asks first: a stranger learns nothing from a bad query.
    caller.require(NURSES)?;
    let Query(filter) = filter?;
    let wanted_state = match filter.state.as_deref() {
        Some(text) => Some(AlertState::parse(text).ok_or_else(|| {
            Error::BadRequest(format!("state {text:?} is not one of: new, acknowledged, resolved"))
        })?),
        None => None,
    };
    let wanted_tier: Option<Tier> = match filter.tier.as_deref() {
        Some(text) => Some(
            serde_json::from_value(json!(text))
                .map_err(|_| Error::BadRequest(format!("tier {text:?} is not one of: red, amber, info")))?,
        ),
        None => None,
    };
    let wanted_kind = match filter.kind.as_deref() {
        Some(text) => Some(CardKind::parse(text).ok_or_else(|| {
            Error::BadRequest(format!("kind {text:?} is not one of: call_request, symptoms"))
        })?),
        None => None,
    };
    let query =
        CardQuery { state: wanted_state, tier: wanted_tier, kind: wanted_kind, patient: filter.patient };
    Ok(axum::Json(state.clinic.alert_cards(&query).await?))
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/alerts", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, description = "the patient's cards, open and past, newest first", body = Vec<AlertCard>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn of_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<AlertCard>>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.patient_cards(&study_id).await?))
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "alerts", security(("session" = ["nurse", "admin"])), responses((status = 200, description = "the latest 200 messages of the outbox, newest first, with their delivery", body = Vec<NotificationView>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<NotificationView>>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.notifications(200).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path)), request_body(content = Option<AcknowledgeAlert>, description = "optional"), responses((status = 200, body = AlertCard), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "not new, or changed since the nurse saw it", body = ApiError), (status = 422, body = ApiError)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<axum::Json<AlertCard>, Error> {
    caller.require(NURSES)?;
    // The body is optional: none, `{}`, or `{"seen_updated_at": …}`.
    let body: AcknowledgeAlert = if body.iter().all(u8::is_ascii_whitespace) {
        AcknowledgeAlert::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| Error::unprocessable(format!("the body is not an acknowledgement: {error}")))?
    };
    Ok(axum::Json(state.clinic.acknowledge(&caller, id, &body).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path)), request_body = ResolveAlert, responses((status = 200, body = AlertCard), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ResolveAlert>,
) -> Result<axum::Json<AlertCard>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.resolve(&caller, id, &body).await?))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/snoozes", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), request_body = SnoozeRequest, responses((status = 201, body = SnoozeView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn snooze(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
    Json(body): Json<SnoozeRequest>,
) -> Result<Response, Error> {
    caller.require(NURSES)?;
    let view = state.clinic.snooze(&caller, &study_id, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/snoozes", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, body = Vec<SnoozeView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn snoozes(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<SnoozeView>>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.snoozes(&study_id).await?))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/snoozes/{id}/end", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path), ("id" = i64, Path)), responses((status = 200, body = SnoozeView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn end_snooze(
    State(state): State<AppState>,
    caller: Caller,
    Path((study_id, id)): Path<(String, i64)>,
) -> Result<axum::Json<SnoozeView>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.end_snooze(&caller, &study_id, id).await?))
}

#[utoipa::path(get, path = "/api/v1/assessments/overdue", tag = "alerts", security(("session" = ["nurse", "admin"])), responses((status = 200, description = "open windows not yet completed, the soonest to close first", body = Vec<FollowUpItem>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn overdue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<FollowUpItem>>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.overdue().await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MissedFilter {
    /// `true` to include those whose reason is already recorded.
    all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/assessments/missed", tag = "alerts", security(("session" = ["nurse", "admin"])), params(MissedFilter), responses((status = 200, description = "closed windows without a submission; by default those still awaiting a reason", body = Vec<FollowUpItem>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn missed(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<MissedFilter>,
) -> Result<axum::Json<Vec<FollowUpItem>>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.missed(filter.all.unwrap_or(false)).await?))
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/missed-reason", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path)), request_body = RecordMissedReason, responses((status = 200, body = FollowUpItem), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "the assessment is not missed", body = ApiError), (status = 422, body = ApiError)))]
pub async fn record_missed_reason(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RecordMissedReason>,
) -> Result<axum::Json<FollowUpItem>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.record_missed_reason(&caller, id, &body).await?))
}
