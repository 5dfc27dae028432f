//! Sign-in, sign-out and the [`Caller`] every protected handler takes.
//!
//! A session token arrives as the `qol_session` cookie (the app: HttpOnly, SameSite=Strict,
//! Secure behind TLS) or as `Authorization: Bearer …` (API clients). The throttle, the checks and
//! the audit trail are the service's (`clinic::sessions`); here are the cookie and the answers.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use qol_shared::api::{
    ApiError, Me, PatientActivation, PatientSignIn, SessionInfo, SetStaffPassword, StaffSignIn,
};

use super::json::Json;
use super::{AppState, Error};
pub use crate::clinic::Session as Caller;
use crate::clinic::SignedIn;

pub const COOKIE: &str = "qol_session";

fn token_from(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(token) = authorization.and_then(|value| value.strip_prefix("Bearer ")) {
        return Some(token.trim().to_owned());
    }
    CookieJar::from_headers(headers).get(COOKIE).map(|cookie| cookie.value().to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from(&parts.headers).ok_or_else(|| Error::Unauthorized("sign in first".into()))?;
        state
            .clinic
            .session(&token)
            .await?
            .ok_or_else(|| Error::Unauthorized("your session has ended; please sign in again".into()))
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = Error;

    /// No credentials, or a session that has ended, is "nobody"; other failures are errors.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Some(caller)),
            Err(Error::Unauthorized(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The session cookie: HttpOnly, SameSite=Strict, whole site, `Secure` behind TLS.
fn session_cookie(state: &AppState, value: String, max_age: std::time::Duration) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(cookie_max_age(max_age))
        .secure(state.secure_cookies)
        .build()
}

fn cookie_max_age(duration: std::time::Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
}

/// The answer to a sign-in: the session in the body and in the cookie.
fn signed_in(state: &AppState, signed_in: SignedIn) -> Response {
    let cookie = session_cookie(state, signed_in.info.token.clone(), signed_in.lifetime);
    (StatusCode::OK, CookieJar::new().add(cookie), axum::Json(signed_in.info)).into_response()
}

#[utoipa::path(post, path = "/api/v1/auth/staff/sign-in", tag = "auth", request_body = StaffSignIn, responses((status = 200, description = "signed in; also sets the qol_session cookie", body = SessionInfo), (status = 401, body = ApiError), (status = 429, description = "locked out after repeated failures", body = ApiError)))]
pub async fn staff_sign_in(
    State(state): State<AppState>,
    Json(body): Json<StaffSignIn>,
) -> Result<Response, Error> {
    let session = state.clinic.staff_sign_in(&state.hasher, &body).await?;
    Ok(signed_in(&state, session))
}

#[utoipa::path(post, path = "/api/v1/auth/staff/set-password", tag = "auth", request_body = SetStaffPassword, responses((status = 204, description = "the password is set; every session of the account has ended, and its holder signs in with it"), (status = 401, description = "wrong username or code, or the code was used, replaced or has expired", body = ApiError), (status = 422, description = "the password is too short (`problems`: password)", body = ApiError), (status = 429, description = "locked out after repeated failures (the sign-in's lockout)", body = ApiError)))]
pub async fn staff_set_password(
    State(state): State<AppState>,
    Json(body): Json<SetStaffPassword>,
) -> Result<StatusCode, Error> {
    state.clinic.set_staff_password(&state.hasher, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/auth/patient/sign-in", tag = "auth", request_body = PatientSignIn, responses((status = 200, body = SessionInfo), (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn patient_sign_in(
    State(state): State<AppState>,
    Json(body): Json<PatientSignIn>,
) -> Result<Response, Error> {
    let session = state.clinic.patient_sign_in(&state.hasher, &body).await?;
    Ok(signed_in(&state, session))
}

#[utoipa::path(post, path = "/api/v1/auth/patient/activate", tag = "auth", request_body = PatientActivation, responses((status = 200, body = SessionInfo), (status = 401, body = ApiError), (status = 422, body = ApiError), (status = 429, body = ApiError)))]
pub async fn patient_activate(
    State(state): State<AppState>,
    super::ClientAddr(client): super::ClientAddr,
    Json(body): Json<PatientActivation>,
) -> Result<Response, Error> {
    let session = state.clinic.activate_patient(&state.hasher, client, &body).await?;
    Ok(signed_in(&state, session))
}

#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", security(("session" = [])), responses((status = 204, description = "signed out"), (status = 401, body = ApiError)))]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> Result<Response, Error> {
    state.clinic.sign_out(&caller).await?;
    let gone = session_cookie(&state, String::new(), std::time::Duration::ZERO);
    Ok((StatusCode::NO_CONTENT, CookieJar::new().add(gone)).into_response())
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("session" = [])), responses((status = 200, body = Me), (status = 401, body = ApiError)))]
pub async fn me(caller: Caller) -> axum::Json<Me> {
    axum::Json(caller.me())
}
