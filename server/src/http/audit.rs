//! The audit trail for admins: filtered pages, the chain verified on request, and the filtered
//! entries as CSV (audited before the first byte). Researchers never reach it.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qol_shared::api::{ApiError, AuditChainStatus, AuditPage, Role};
use serde::Deserialize;

use super::auth::Caller;
use super::json::Query;
use super::{AppState, Error};
use crate::clinic::audit_trail::AuditQuery;

const ADMIN: &[Role] = &[Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// A patient's study id: the entries about her, and hers.
    pub patient: Option<String>,
    /// A staff member's username: what they did.
    pub staff: Option<String>,
    /// An action (`submission.correct`), or every action of a kind (`submission.`).
    pub action: Option<String>,
    /// The first day (YYYY-MM-DD, the study's time zone).
    pub from: Option<chrono::NaiveDate>,
    /// The last day, included.
    pub to: Option<chrono::NaiveDate>,
    /// The next page: entries older than this id (`next_before` of the page before).
    pub before: Option<i64>,
    /// Entries per page, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

impl AuditParams {
    fn query(&self) -> AuditQuery {
        AuditQuery {
            patient: self.patient.clone(),
            staff: self.staff.clone(),
            action: self.action.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("session" = ["admin"])), params(AuditParams), responses((status = 200, description = "the entries the filters keep, newest first", body = AuditPage), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, description = "a filter that cannot be: the problem names it", body = ApiError)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditParams>,
) -> Result<axum::Json<AuditPage>, Error> {
    caller.require(ADMIN)?;
    let page = state.clinic.audit_trail(&params.query(), params.before, params.limit.unwrap_or(100)).await?;
    Ok(axum::Json(page))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("session" = ["admin"])), responses((status = 200, description = "the whole chain checked now", body = AuditChainStatus), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<AuditChainStatus>, Error> {
    caller.require(ADMIN)?;
    Ok(axum::Json(state.clinic.verify_audit().await?))
}

#[utoipa::path(get, path = "/api/v1/audit/entries.csv", tag = "audit", security(("session" = ["admin"])), params(AuditParams), responses((status = 200, description = "the entries the filters keep, newest first, streamed", content_type = "text/csv"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditParams>,
) -> Result<Response, Error> {
    caller.require(ADMIN)?;
    let rx = state.clinic.start_audit_export(&caller.actor(), &params.query()).await?;
    // Fused, as the exports' stream is: a compressing body polls it again after its end.
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit.csv\""));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
