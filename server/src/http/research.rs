//! Researchers (and admins): the pre/post analysis, completion, and the exports. Pseudonymised
//! by construction: everything comes from `clinic::research`, which never reads identity or
//! keeps calendar dates. Every export is audited before its first byte is sent.

use axum::body::Body;
use axum::extract::State;

use super::json::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qol_shared::api::{AnalysisReport, ApiError, CompletionMode, CompletionRow, Role};
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::{AppState, Error};
use crate::export::Export;

const RESEARCH: &[Role] = &[Role::Researcher, Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AnalysisParams {
    /// Points of change that count as improved or deteriorated (default 10, Osoba et al. 1998).
    pub responder_points: Option<f64>,
    /// Count forms completed outside their assessment's current window (default false: they are
    /// listed in `out_of_window` and left out, as a baseline completed after cycle 1 day 1 is).
    pub include_out_of_window: Option<bool>,
    /// The completion modes to count, comma-separated (`self`, `paper`, `telephone_interview`,
    /// `clinic_interview`, `proxy`); default all. `modes=self` is the sensitivity analysis
    /// without the forms staff entered.
    pub modes: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/research/analysis", tag = "research", security(("session" = ["researcher", "admin"])), params(AnalysisParams), responses((status = 200, description = "change from baseline per scale and assessment, all patients and per stratum; means over time", body = AnalysisReport), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn analysis(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AnalysisParams>,
) -> Result<axum::Json<AnalysisReport>, Error> {
    caller.require(RESEARCH)?;
    let points = params.responder_points.unwrap_or(qol_shared::analysis::DEFAULT_RESPONDER_POINTS);
    let include = params.include_out_of_window.unwrap_or(false);
    let modes = match params.modes.as_deref() {
        None => CompletionMode::ALL.to_vec(),
        Some(text) => {
            let mut modes = Vec::new();
            for word in text.split(',').map(str::trim).filter(|word| !word.is_empty()) {
                let mode = CompletionMode::parse(word).ok_or_else(|| {
                    Error::BadRequest(format!(
                        "modes: {word:?} is not a completion mode; the modes are {}",
                        CompletionMode::ALL.map(CompletionMode::as_str).join(", ")
                    ))
                })?;
                if !modes.contains(&mode) {
                    modes.push(mode);
                }
            }
            modes.sort();
            modes
        }
    };
    Ok(axum::Json(state.clinic.research_analysis(points, include, &modes).await?))
}

#[utoipa::path(get, path = "/api/v1/research/completion", tag = "research", security(("session" = ["researcher", "admin"])), responses((status = 200, description = "one row per assessment, in the order they happen", body = Vec<CompletionRow>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn completion(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<CompletionRow>>, Error> {
    caller.require(RESEARCH)?;
    Ok(axum::Json(state.clinic.research_completion().await?))
}

#[utoipa::path(get, path = "/api/v1/exports/{name}", tag = "research", security(("session" = ["researcher", "admin"])), params(("name" = String, Path, description = "scores_long.csv, items_long.csv, schedule.csv, scores_wide.csv, dictionary.csv or fhir.ndjson")), responses((status = 200, description = "the file, streamed (CSV, or FHIR R4 NDJSON)", content_type = "text/csv"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn export_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    caller.require(RESEARCH)?;
    let export = Export::parse(&name).ok_or_else(|| {
        Error::NotFound(format!("there is no export {name:?}; the exports are {}", Export::names()))
    })?;
    let rx = state.clinic.start_export(&caller.actor(), export, json!({ "via": "api" })).await?;
    // Fused: a compressing body polls its stream again after the end, which an unfused `unfold`
    // answers with a panic, cutting every compressed download short.
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(export.content_type()));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.name())) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
