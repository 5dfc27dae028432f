//! The HTTP error policy, in one place.
//!
//! - Each variant is one outcome a client can see, with one status code.
//! - Client errors say what was wrong and what to do, in a lowercase sentence, in the
//!   [`ApiError`] body that every error uses.
//! - Server errors (5xx) answer with a generic message; the detail goes to the log only.
//! - Every body carries a stable [`ErrorCode`]: the general code of its status, or, for the
//!   refusals a patient meets (sign-in, activation, sending a form), its own code, from which the
//!   status follows ([`Error::Refused`]).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::api::{ApiError, ErrorCode};

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
    /// `locked`: locked out after failures (`locked_out`); otherwise another check of the same
    /// details is running (`try_again_shortly`).
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after_seconds: u64, locked: bool },
    /// A refusal with a specific code; its status is the code's ([`status_of`]).
    #[error("{message}")]
    Refused { code: ErrorCode, message: String, problems: Vec<String> },
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
        status_of(self.code())
    }

    /// The stable code the body carries: a refusal's own, or its status's general code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Refused { code, .. } => *code,
            Error::Unauthorized(_) => ErrorCode::SignInRequired,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::TooManyAttempts { locked: true, .. } => ErrorCode::LockedOut,
            Error::TooManyAttempts { locked: false, .. } => ErrorCode::TryAgainShortly,
            Error::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::Unprocessable { .. } => ErrorCode::Invalid,
            Error::PayloadTooLarge => ErrorCode::TooLarge,
            Error::RequestTimeout => ErrorCode::TimedOut,
            Error::Unavailable(_) | Error::Overloaded => ErrorCode::Unavailable,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// The status of a refusal with `code` (each code documents its status).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::WrongCredentials | ErrorCode::ActivationCodeInvalid | ErrorCode::SignInRequired => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::LockedOut | ErrorCode::TryAgainShortly => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::PinFormat | ErrorCode::AnswersInvalid | ErrorCode::Invalid => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ErrorCode::WindowClosed | ErrorCode::AlreadySent | ErrorCode::StudyEnded | ErrorCode::Conflict => {
            StatusCode::CONFLICT
        }
        ErrorCode::Forbidden | ErrorCode::SignatureRefused => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::BadRequest | ErrorCode::Other => StatusCode::BAD_REQUEST,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::TimedOut => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let code = self.code();
        let body = match &self {
            Error::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                ApiError { error: self.to_string(), code, problems: Vec::new() }
            }
            Error::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                ApiError {
                    error: "something went wrong on the server; nothing was changed, please try again".into(),
                    code,
                    problems: Vec::new(),
                }
            }
            Error::Unprocessable { message, problems } | Error::Refused { message, problems, .. } => {
                ApiError { error: message.clone(), code, problems: problems.clone() }
            }
            other => ApiError { error: other.to_string(), code, problems: Vec::new() },
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
            ClinicError::TooManyAttempts { message, retry_after_seconds, locked } => {
                Error::TooManyAttempts { message, retry_after_seconds, locked }
            }
            ClinicError::Refused { code, message, problems } => Error::Refused { code, message, problems },
            ClinicError::Overloaded => Error::Overloaded,
            ClinicError::Storage(ref storage) if storage.is_unavailable() => {
                Error::Unavailable(Box::new(error))
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each code's status is the one `ErrorCode` documents, and a variant's general code is its
    /// status's: a client may rely on either.
    #[test]
    fn every_code_has_its_documented_status_and_every_variant_its_general_code() {
        let general = [
            (Error::Unauthorized(String::new()), ErrorCode::SignInRequired),
            (Error::Forbidden(String::new()), ErrorCode::Forbidden),
            (Error::NotFound(String::new()), ErrorCode::NotFound),
            (Error::Conflict(String::new()), ErrorCode::Conflict),
            (Error::UnsupportedMediaType(String::new()), ErrorCode::UnsupportedMediaType),
            (Error::BadRequest(String::new()), ErrorCode::BadRequest),
            (Error::unprocessable(""), ErrorCode::Invalid),
            (Error::PayloadTooLarge, ErrorCode::TooLarge),
            (Error::RequestTimeout, ErrorCode::TimedOut),
            (Error::Overloaded, ErrorCode::Unavailable),
            (
                Error::TooManyAttempts { message: String::new(), retry_after_seconds: 1, locked: true },
                ErrorCode::LockedOut,
            ),
            (
                Error::TooManyAttempts { message: String::new(), retry_after_seconds: 1, locked: false },
                ErrorCode::TryAgainShortly,
            ),
        ];
        for (error, code) in general {
            assert_eq!(error.code(), code, "{error:?}");
            assert_eq!(status_of(code), error.status_code(), "{error:?}");
        }
        let statuses = [
            (ErrorCode::WrongCredentials, 401),
            (ErrorCode::ActivationCodeInvalid, 401),
            (ErrorCode::SignatureRefused, 403),
            (ErrorCode::PinFormat, 422),
            (ErrorCode::AnswersInvalid, 422),
            (ErrorCode::WindowClosed, 409),
            (ErrorCode::AlreadySent, 409),
            (ErrorCode::StudyEnded, 409),
            (ErrorCode::Internal, 500),
        ];
        for (code, status) in statuses {
            let refused = Error::Refused { code, message: String::new(), problems: Vec::new() };
            assert_eq!(refused.status_code().as_u16(), status, "{code:?}");
            assert_eq!(refused.code(), code);
        }
    }
}
