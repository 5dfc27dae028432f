//! The request extractors (JSON body, path, query): axum's, with their rejections turned into
//! the app's error format.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::Error;

/// A JSON request body. Malformed JSON → 400; JSON of the wrong shape → 422; text holding a NUL
/// character → 422 (PostgreSQL cannot store it, and no field needs it); no JSON content type →
/// 415; a body over the limit → 413; a body slower than `--body-timeout` → 408. Each says what
/// to fix.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(Error::UnsupportedMediaType(
                "send the body as JSON with content-type: application/json".into(),
            ));
        }
        let bytes = match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Error::PayloadTooLarge);
            }
            Err(rejection) if super::serve::body_timed_out(&rejection) => return Err(Error::RequestTimeout),
            Err(rejection) => {
                return Err(Error::BadRequest(format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                )));
            }
        };
        // A NUL can only be written in JSON as the escape \u0000.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
            return Err(Error::Unprocessable {
                message: "the request body does not have the expected fields".into(),
                problems: vec!["text may not contain the NUL character (\\u0000)".into()],
            });
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonSyntaxError(error) => {
                    Error::BadRequest(format!("the request body is not valid JSON: {}", error.body_text()))
                }
                JsonRejection::JsonDataError(error) => {
                    // serde names the field and what is wrong with it (a typed value's own
                    // words: "client_id must be a random (version 4) UUID …").
                    let text = error.body_text();
                    let detail = text
                        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                        .unwrap_or(&text)
                        .to_owned();
                    Error::Unprocessable {
                        message: format!("the request body does not have the expected fields: {detail}"),
                        problems: vec![text],
                    }
                }
                JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType(
                    "send the body as JSON with content-type: application/json".into(),
                ),
                JsonRejection::BytesRejection(error)
                    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    Error::PayloadTooLarge
                }
                other => {
                    Error::BadRequest(format!("the request body could not be read: {}", other.body_text()))
                }
            }),
        }
    }
}

/// `application/json`, or a `+json` type, as axum's own extractor accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(content_type) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Path parameters: axum's, with a value of the wrong type (`/alerts/abc`) answered 400 in the
/// app's error format, naming what was expected.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                Err(Error::BadRequest(format!("the address is not valid: {}", rejection.body_text())))
            }
        }
    }
}

/// Query parameters: axum's, with a malformed query (a repeated or mistyped parameter) answered
/// 400 in the app's error format.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => {
                Err(Error::BadRequest(format!("the query is not valid: {}", rejection.body_text())))
            }
        }
    }
}
