//! The JSON body extractor: axum's, with its rejections turned into the app's error format.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::Error;

/// A JSON request body. Malformed JSON → 400; JSON of the wrong shape → 422; no JSON content
/// type → 415; a body over the limit → 413. Each says what to fix.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
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
