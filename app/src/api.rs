//! The app's only HTTP code: typed calls to the qol JSON API. Screens call these functions and
//! never build a request themselves; request and response types come from `qol-shared`.

use qol_shared::api::{ApiError, InstrumentSummary, StudySummary};
use qol_shared::instrument::InstrumentId;
use qol_shared::wording::InstrumentView;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Why a call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// No answer from the server: offline, or the server is down.
    Unreachable,
    /// The server answered with an error.
    Refused { status: u16, message: String },
    /// The answer was not what this version of the app understands.
    Unexpected(String),
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Unreachable => f.write_str("cannot reach the qol server; check the connection"),
            ApiFailure::Refused { message, .. } => f.write_str(message),
            ApiFailure::Unexpected(detail) => write!(f, "unexpected answer from the server: {detail}"),
        }
    }
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    let window = web_sys::window().ok_or(ApiFailure::Unreachable)?;
    let response = JsFuture::from(window.fetch_with_str(path)).await.map_err(|_| ApiFailure::Unreachable)?;
    let response: web_sys::Response =
        response.dyn_into().map_err(|_| ApiFailure::Unexpected("not a response".into()))?;
    let body = response.text().map_err(|_| ApiFailure::Unreachable)?;
    let text =
        JsFuture::from(body).await.map_err(|_| ApiFailure::Unreachable)?.as_string().unwrap_or_default();
    if !response.ok() {
        let message = serde_json::from_str::<ApiError>(&text)
            .map(|error| error.error)
            .unwrap_or_else(|_| format!("the server answered {}", response.status()));
        return Err(ApiFailure::Refused { status: response.status(), message });
    }
    serde_json::from_str(&text).map_err(|error| ApiFailure::Unexpected(error.to_string()))
}

pub async fn study() -> Result<StudySummary, ApiFailure> {
    get("/api/v1/study").await
}

pub async fn instruments() -> Result<Vec<InstrumentSummary>, ApiFailure> {
    get("/api/v1/instruments").await
}

pub async fn instrument(id: InstrumentId, language: &str) -> Result<InstrumentView, ApiFailure> {
    get(&format!("/api/v1/instruments/{id}?lang={language}")).await
}
