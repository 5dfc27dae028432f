//! Researchers (and admins): the pre/post analysis, completion, and the exports. Pseudonymised
//! by construction: everything comes from `clinic::research`, which never reads identity or
//! keeps calendar dates. Every export is audited before its first byte is sent.

use axum::body::Body;
use axum::extract::State;

use super::json::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qol_shared::api::{AnalysisReport, ApiError, CompletionMode, CompletionRow, Role, TtdReport};
use qol_shared::ttd::{DeathRule, Definition};
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::{AppState, Error};
use crate::export::Export;

const RESEARCH: &[Role] = &[Role::Researcher, Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AnalysisParams {
    /// Points of change that count as improved or deteriorated on every scale (Osoba et al.
    /// 1998's 10 by default); `thresholds` names a set instead.
    pub responder_points: Option<f64>,
    /// The threshold set responders are judged by: `osoba-1998`, `giesinger-2020`, `study` (the
    /// protocol's `change_thresholds`) or a number of points; by default the study's table when
    /// the protocol has one, else 10 points (docs/research.md, "Thresholds").
    pub thresholds: Option<String>,
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
    Ok(axum::Json(analysis_report(&state, &params).await?))
}

async fn analysis_report(state: &AppState, params: &AnalysisParams) -> Result<AnalysisReport, Error> {
    let thresholds = match (params.responder_points, params.thresholds.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(Error::BadRequest("give responder_points or thresholds, not both".into()));
        }
        (Some(points), None) => {
            if !(points.is_finite() && points > 0.0 && points <= 100.0) {
                return Err(Error::BadRequest("responder_points must be more than 0 and at most 100".into()));
            }
            qol_shared::thresholds::Thresholds::points(points)
        }
        (None, choice) => state.clinic.thresholds(choice)?,
    };
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
    Ok(state.clinic.research_analysis(thresholds, include, &modes).await?)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TtdParams {
    /// The scale's code (default `QL2`, global health status).
    pub scale: Option<String>,
    /// `first` (default), `confirmed` or `definitive`.
    pub definition: Option<String>,
    /// A death before deterioration: `event` (default) or `censor`.
    pub death: Option<String>,
    /// The threshold set, as `thresholds` of the analysis (default: the study's, else 10 points).
    pub threshold: Option<String>,
}

fn ttd_choice(params: &TtdParams) -> Result<(String, Definition, DeathRule), Error> {
    let definition = match params.definition.as_deref() {
        None => Definition::First,
        Some(text) => Definition::parse(text).ok_or_else(|| {
            Error::BadRequest(format!(
                "definition: {text:?} is not one; the definitions are first, confirmed, definitive"
            ))
        })?,
    };
    let death = match params.death.as_deref() {
        None => DeathRule::Event,
        Some(text) => DeathRule::parse(text)
            .ok_or_else(|| Error::BadRequest(format!("death: {text:?} is not one; say event or censor")))?,
    };
    Ok((params.scale.clone().unwrap_or_else(|| "QL2".to_owned()), definition, death))
}

#[utoipa::path(get, path = "/api/v1/research/ttd", tag = "research", security(("session" = ["researcher", "admin"])), params(TtdParams), responses((status = 200, description = "time to deterioration: a Kaplan-Meier curve per group with its median and numbers at risk", body = TtdReport), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn ttd(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TtdParams>,
) -> Result<axum::Json<TtdReport>, Error> {
    caller.require(RESEARCH)?;
    let (scale, definition, death) = ttd_choice(&params)?;
    let thresholds = state.clinic.thresholds(params.threshold.as_deref())?;
    Ok(axum::Json(state.clinic.research_ttd(&scale, definition, death, thresholds).await?))
}

fn svg_file(svg: String, name: &str) -> Response {
    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml; charset=utf-8"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

#[utoipa::path(get, path = "/api/v1/research/ttd.svg", tag = "research", security(("session" = ["researcher", "admin"])), params(TtdParams), responses((status = 200, description = "the time-to-deterioration figure, as a file", content_type = "image/svg+xml"), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn ttd_svg(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<TtdParams>,
) -> Result<Response, Error> {
    caller.require(RESEARCH)?;
    let (scale, definition, death) = ttd_choice(&params)?;
    let thresholds = state.clinic.thresholds(params.threshold.as_deref())?;
    let report = state.clinic.research_ttd(&scale, definition, death, thresholds).await?;
    let name = format!("ttd-{}-{}-death-{}.svg", report.scale, definition.as_str(), death.as_str());
    Ok(svg_file(qol_shared::plot::ttd_figure(&report), &name))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MeansFigureParams {
    /// The scale's code (default `QL2`).
    pub scale: Option<String>,
    /// Include the weekly forms (default false).
    pub weekly: Option<bool>,
    pub include_out_of_window: Option<bool>,
    pub modes: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/research/means.svg", tag = "research", security(("session" = ["researcher", "admin"])), params(MeansFigureParams), responses((status = 200, description = "the mean score over time, by group, as a file", content_type = "image/svg+xml"), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn means_svg(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<MeansFigureParams>,
) -> Result<Response, Error> {
    caller.require(RESEARCH)?;
    let scale = params.scale.clone().unwrap_or_else(|| "QL2".to_owned());
    let analysis = AnalysisParams {
        responder_points: None,
        thresholds: None,
        include_out_of_window: params.include_out_of_window,
        modes: params.modes.clone(),
    };
    let report = analysis_report(&state, &analysis).await?;
    let svg = qol_shared::plot::means_figure(&report, &scale, params.weekly.unwrap_or(false))
        .ok_or_else(|| Error::BadRequest(format!("scale: {scale:?} is not a scale qol scores")))?;
    Ok(svg_file(svg, &format!("means-{scale}.svg")))
}

#[utoipa::path(get, path = "/api/v1/research/report.html", tag = "research", security(("session" = ["researcher", "admin"])), params(("thresholds" = Option<String>, Query, description = "the threshold set, as the analysis's")), responses((status = 200, description = "the QoL results report: one HTML page, printable to PDF", content_type = "text/html"), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> Result<Response, Error> {
    caller.require(RESEARCH)?;
    let thresholds = state.clinic.thresholds(params.thresholds.as_deref())?;
    let analysis = state.clinic.research_analysis(thresholds.clone(), false, &CompletionMode::ALL).await?;
    let completion = state.clinic.research_completion().await?;
    let asked = crate::report::ttd_asked();
    let ttd = state.clinic.research_ttd_many(&asked, &thresholds).await?;
    let html = crate::report::html(&analysis, &completion, &ttd);
    let mut response = axum::response::Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(policy) = HeaderValue::from_str(&crate::report::content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportParams {
    pub thresholds: Option<String>,
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
