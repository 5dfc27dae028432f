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

use crate::clinic::ClinicError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after_seconds: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Unprocessable { message: String, problems: Vec<String> },
    #[error("the request body is too large; send less at once")]
    PayloadTooLarge,
    #[error("the request body arrived too slowly and was cut off; send it again")]
    RequestTimeout,
    #[error("the database is not available right now; nothing was changed, please try again shortly")]
    Unavailable(#[source] Box<ClinicError>),
    #[error("the server is busy; please try again in a few seconds")]
    Overloaded,
    #[error("internal error")]
    Internal(#[source] Box<ClinicError>),
}

/// How long a client is asked to wait after a 503.
const RETRY_AFTER_SECONDS: u64 = 5;

impl Error {
    pub fn unprocessable(message: impl Into<String>) -> Error {
        Error::Unprocessable { message: message.into(), problems: Vec::new() }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::Unavailable(_) | Error::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
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
        let retry_after = match self {
            Error::TooManyAttempts { retry_after_seconds, .. } => Some(retry_after_seconds),
            Error::Unavailable(_) | Error::Overloaded => Some(RETRY_AFTER_SECONDS),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<ClinicError> for Error {
    /// Storage failures (a full disk, a lost or replaced database) are 503 with `Retry-After`:
    /// nothing was stored, and the same request may be sent again. Other storage failures are a
    /// 500.
    fn from(error: ClinicError) -> Error {
        match error {
            ClinicError::Invalid { message, problems } => Error::Unprocessable { message, problems },
            ClinicError::Conflict(message) => Error::Conflict(message),
            ClinicError::NotFound(message) => Error::NotFound(message),
            ClinicError::BadRequest(message) => Error::BadRequest(message),
            ClinicError::Unauthorized(message) => Error::Unauthorized(message),
            ClinicError::Forbidden(message) => Error::Forbidden(message),
            ClinicError::TooManyAttempts { message, retry_after_seconds } => {
                Error::TooManyAttempts { message, retry_after_seconds }
            }
            ClinicError::Overloaded => Error::Overloaded,
            ClinicError::Storage(ref storage) if storage.is_unavailable() => {
                Error::Unavailable(Box::new(error))
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}
