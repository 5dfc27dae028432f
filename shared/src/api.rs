//! The JSON types of qol's HTTP API. The server produces them and the app consumes them, so
//! neither side writes a JSON shape by hand.

use serde::{Deserialize, Serialize};

use crate::instrument::InstrumentId;

/// The body of every error response, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A lowercase sentence: what failed and what to do.
    pub error: String,
    /// Every individual problem, when there are several (e.g. each invalid answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthStatus {
    pub status: String,
    pub version: String,
}

/// One entry of `GET /api/v1/instruments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentSummary {
    pub id: InstrumentId,
    pub name: String,
    pub version: String,
    pub item_count: usize,
    pub scale_codes: Vec<String>,
    /// Languages the loaded wording pack offers.
    pub languages: Vec<String>,
    /// Present when the loaded wording is the demonstration pack.
    pub notice: Option<String>,
}

/// `GET /api/v1/study`: the public description of the study this server runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudySummary {
    pub code: String,
    pub title: String,
    pub strata: Vec<String>,
}
