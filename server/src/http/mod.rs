//! The HTTP layer: routes, extractors and responses. Handlers parse the request, call one method
//! of the service (`crate::clinic`), and answer; nothing here reaches storage.

mod accounts;
mod alerts;
mod assets;
mod audit;
pub mod auth;
pub mod client_addr;
mod cross_site;
mod error;
mod help;
mod json;
pub mod metrics;
pub mod openapi;
mod patients;
mod reminders;
mod research;
pub mod serve;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use json::{Path, Query};
use qol_shared::api::{ApiError, HealthStatus, InstrumentSummary, StudySummary};
use qol_shared::instrument::InstrumentId;
use qol_shared::wording::InstrumentView;
use serde::Deserialize;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use client_addr::ClientAddr;
pub use error::Error;

use crate::clinic::Clinic;
use crate::config::ServeConfig;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub clinic: Arc<Clinic>,
    /// Mark session cookies `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
    /// The bound on concurrent password and PIN hashing.
    pub hasher: crate::auth::Hasher,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`), for [`ClientAddr`].
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// What `GET /metrics` reports, and who may read it.
    pub metrics: Arc<metrics::Metrics>,
}

/// The whole application: API routes, health checks, and the built app as the fallback.
pub fn app(state: AppState, config: &ServeConfig) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/study", get(study))
        .route("/instruments", get(instruments))
        .route("/instruments/{id}", get(instrument))
        .route("/auth/staff/sign-in", post(auth::staff_sign_in))
        .route("/auth/staff/set-password", post(auth::staff_set_password))
        .route("/auth/patient/activate", post(auth::patient_activate))
        .route("/auth/patient/sign-in", post(auth::patient_sign_in))
        .route("/auth/sign-out", post(auth::sign_out))
        .route("/auth/me", get(auth::me))
        .route("/patients", post(patients::enrol).get(patients::list))
        .route("/patients/{study_id}", get(patients::detail))
        .route("/patients/{study_id}/events", post(patients::record_event))
        .route("/patients/{study_id}/assessments", get(patients::assessments))
        .route("/patients/{study_id}/submissions", get(patients::submissions).post(patients::enter_form))
        .route("/submissions/{id}/corrections", post(patients::correct))
        .route("/patients/{study_id}/activation-code", post(patients::reissue_code))
        .route("/patients/{study_id}/unlock", post(accounts::unlock_patient))
        .route("/staff", get(accounts::list_staff).post(accounts::create_staff))
        .route("/admin/setup", get(accounts::study_setup))
        .route("/admin/wording/check", post(accounts::check_wording))
        .route("/admin/wording", post(accounts::apply_wording))
        .route("/admin/protocol/check", post(accounts::check_protocol))
        .route("/admin/protocol", post(accounts::amend_protocol))
        .route("/assessments/{id}/paper-entries", get(patients::paper_entries))
        .route("/audit", get(audit::entries))
        .route("/audit/verify", get(audit::verify))
        .route("/audit/entries.csv", get(audit::export))
        .route("/staff/{username}/password-code", post(accounts::reset_staff_password))
        .route("/staff/{username}/unlock", post(accounts::unlock_staff))
        .route("/staff/{username}/disable", post(accounts::disable_staff))
        .route("/staff/{username}/enable", post(accounts::enable_staff))
        .route("/staff/{username}/sign-out-everywhere", post(accounts::sign_out_staff_everywhere))
        .route("/me/assessments", get(patients::my_assessments))
        .route("/me/submissions", post(patients::submit).get(patients::my_submissions))
        .route("/me/help-requests", post(help::request_help))
        .route("/me/history", get(help::my_history))
        .route("/me/reminders", get(reminders::mine).post(reminders::set_mine))
        .route("/me/push-subscription", post(reminders::subscribe))
        .route("/me/push-subscription/remove", post(reminders::unsubscribe))
        .route("/patients/{study_id}/reminders", get(reminders::of_patient).post(reminders::set_of_patient))
        .route("/alerts", get(alerts::list))
        .route("/notifications", get(alerts::notifications))
        .route("/patients/{study_id}/alerts", get(alerts::of_patient))
        .route("/alerts/{id}/acknowledge", post(alerts::acknowledge))
        .route("/alerts/{id}/resolve", post(alerts::resolve))
        .route("/patients/{study_id}/snoozes", post(alerts::snooze).get(alerts::snoozes))
        .route("/patients/{study_id}/snoozes/{id}/end", post(alerts::end_snooze))
        .route("/assessments/overdue", get(alerts::overdue))
        .route("/assessments/missed", get(alerts::missed))
        .route("/assessments/{id}/missed-reason", post(alerts::record_missed_reason))
        .route("/research/analysis", get(research::analysis))
        .route("/research/completion", get(research::completion))
        .route("/research/ttd", get(research::ttd))
        .route("/research/ttd.svg", get(research::ttd_svg))
        .route("/research/means.svg", get(research::means_svg))
        .route("/research/report.html", get(research::report))
        .route("/exports/{name}", get(research::export_file))
        .fallback(api_not_found)
        .layer(axum::middleware::from_fn(cross_site::refuse_cross_site))
        .layer(no_store())
        .layer(CompressionLayer::new());
    let metrics = state.metrics.clone();
    Router::new()
        .route("/healthz", get(healthz).layer(no_store()))
        .route("/readyz", get(readyz).layer(no_store()))
        .route("/metrics", get(metrics::scrape).layer(no_store()))
        .nest("/api/v1", api)
        // After routing, so each request is counted under its route's template.
        .route_layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
        .with_state(state)
        .merge(assets::router(&config.dist_dir))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(DefaultBodyLimit::max(config.max_body_bytes))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    // WebAssembly needs 'wasm-unsafe-eval'; no inline script or style is allowed.
                    HeaderValue::from_static(
                        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                         style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                         object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                    ),
                )),
        )
}

/// API answers carry identity and tokens: no cache, shared or private, may keep them.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "the process is up", body = HealthStatus)))]
async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok".into(), version: version() })
}

/// The process can write to its own study's database now.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "a write transaction can begin on the study's own database", body = HealthStatus), (status = 503, description = "the database is unreachable, full, locked, corrupt, or not the study's own", body = ApiError)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<HealthStatus>, Error> {
    state.clinic.check_ready().await.map_err(|error| Error::Unavailable(Box::new(error)))?;
    Ok(Json(HealthStatus { status: "ready".into(), version: version() }))
}

#[utoipa::path(get, path = "/api/v1/study", tag = "study", responses((status = 200, body = StudySummary), (status = 404, body = ApiError)))]
async fn study(State(state): State<AppState>) -> Result<Json<StudySummary>, Error> {
    Ok(Json(state.clinic.study_summary().await?))
}

#[utoipa::path(get, path = "/api/v1/instruments", tag = "instruments", responses((status = 200, body = Vec<InstrumentSummary>)))]
async fn instruments(State(state): State<AppState>) -> Json<Vec<InstrumentSummary>> {
    let wording = state.clinic.wording().await;
    let languages: Vec<String> = wording.pack.languages.keys().cloned().collect();
    let notice = wording
        .pack
        .demonstration
        .then(|| wording.pack.languages.values().find_map(|l| l.notice.clone()))
        .flatten();
    Json(
        InstrumentId::ALL
            .into_iter()
            .map(|id| {
                let definition = id.instrument();
                InstrumentSummary {
                    id,
                    name: definition.name.into(),
                    version: definition.version.into(),
                    item_count: definition.items.len(),
                    scale_codes: definition.score_codes().map(str::to_owned).collect(),
                    languages: languages.clone(),
                    notice: notice.clone(),
                }
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
struct LanguageQuery {
    lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "instruments", params(("id" = String, Path, description = "qlq-c30 or qlq-cx24"), ("lang" = Option<String>, Query, description = "en (default) or zh-CN")), responses((status = 200, description = "structure and wording; a licensed pack needs a signed-in caller", body = InstrumentView), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
async fn instrument(
    State(state): State<AppState>,
    caller: Option<auth::Caller>,
    Path(id): Path<String>,
    Query(query): Query<LanguageQuery>,
) -> Result<Json<InstrumentView>, Error> {
    let id = InstrumentId::parse(&id)
        .ok_or_else(|| Error::NotFound(format!("there is no instrument {id:?}; use qlq-c30 or qlq-cx24")))?;
    // A site's licensed wording is for its signed-in users only; the demonstration wording is ours.
    let wording = state.clinic.wording().await;
    if !wording.pack.demonstration && caller.is_none() {
        return Err(Error::Unauthorized("sign in to read the questionnaire wording".into()));
    }
    let language = query.lang.unwrap_or_else(|| qol_shared::Language::English.tag().into());
    wording.pack.view(id, &language).map(Json).ok_or_else(|| {
        let offered: Vec<&str> = wording.pack.languages.keys().map(String::as_str).collect();
        Error::NotFound(format!(
            "the wording pack has no language {language:?}; use one of: {}",
            offered.join(", ")
        ))
    })
}

async fn api_not_found() -> Error {
    Error::NotFound("there is no such API route".into())
}
