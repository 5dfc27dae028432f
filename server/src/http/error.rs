//! The HTTP error policy, in one place.
//!
//! - Each variant is one outcome a client can see, with one status code.
//! - Client errors say what was wrong and what to do, in a lowercase sentence, in the
//!   [`ApiError`] body that every error uses.
//! - Server errors (5xx) answer with a generic message; the detail goes to the log only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::api::ApiError;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Unprocessable { message: String, problems: Vec<String> },
    #[error("the request body is larger than the {0}-byte limit")]
    PayloadTooLarge(usize),
    #[error("the database is not reachable")]
    Unavailable(#[source] StorageError),
    #[error("internal error")]
    Internal(#[from] StorageError),
}

impl Error {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = match &self {
            Error::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                ApiError { error: self.to_string(), problems: Vec::new() }
            }
            Error::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                ApiError {
                    error: "something went wrong on the server; nothing was changed, please try again".into(),
                    problems: Vec::new(),
                }
            }
            Error::Unprocessable { message, problems } => {
                ApiError { error: message.clone(), problems: problems.clone() }
            }
            other => ApiError { error: other.to_string(), problems: Vec::new() },
        };
        (status, Json(body)).into_response()
    }
}
