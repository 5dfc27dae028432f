//! The JSON body extractor: axum's, with its rejections turned into the app's error format.

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
                JsonRejection::JsonDataError(error) => Error::Unprocessable {
                    message: "the request body does not have the expected fields".into(),
                    problems: vec![error.body_text()],
                },
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
