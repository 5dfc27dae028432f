//! Sign-in, sign-out and the [`Caller`] every protected handler takes.
//!
//! A session token arrives as the `qol_session` cookie (the app: HttpOnly, SameSite=Strict,
//! Secure behind TLS) or as `Authorization: Bearer …` (API clients). Failed attempts are counted
//! per key in the database (so every server instance sees them), locked out with backoff, and
//! each failure is audited.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qol_shared::api::{ApiError, Me, PatientActivation, PatientSignIn, Role, SessionInfo, StaffSignIn};
use serde_json::json;

use super::json::Json;
use super::{AppState, Error};
use crate::auth::{
    ACTIVATION_CODE_LIFETIME, PATIENT_SESSION, STAFF_SESSION, lockout_after, new_token,
    normalise_activation_code, token_hash, valid_pin, verify_secret,
};
use crate::storage::{Actor, AuditEntry, SessionSubject, now_text, parse_timestamp, timestamp_text};

pub const COOKIE: &str = "qol_session";

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session_id: i64,
    pub role: Role,
    pub subject: SessionSubject,
}

impl Caller {
    /// Refuses the request unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("a {} may not do this", self.role.as_str())))
        }
    }

    pub fn actor(&self) -> Actor {
        match &self.subject {
            SessionSubject::Staff { username, role, .. } => {
                Actor { name: format!("staff:{username}"), role: role.clone() }
            }
            SessionSubject::Patient { study_code, .. } => {
                Actor { name: format!("patient:{study_code}"), role: "patient".into() }
            }
        }
    }

    pub fn staff_id(&self) -> Option<i64> {
        match self.subject {
            SessionSubject::Staff { id, .. } => Some(id),
            SessionSubject::Patient { .. } => None,
        }
    }

    pub fn patient_id(&self) -> Option<i64> {
        match self.subject {
            SessionSubject::Patient { id, .. } => Some(id),
            SessionSubject::Staff { .. } => None,
        }
    }

    fn me(&self) -> Me {
        match &self.subject {
            SessionSubject::Staff { username, .. } => {
                Me { role: self.role, username: Some(username.clone()), study_id: None, language: None }
            }
            SessionSubject::Patient { study_code, language, .. } => Me {
                role: Role::Patient,
                username: None,
                study_id: Some(study_code.clone()),
                language: Some(language.clone()),
            },
        }
    }
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(token) = authorization.and_then(|value| value.strip_prefix("Bearer ")) {
        return Some(token.trim().to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from(&parts.headers).ok_or_else(|| Error::Unauthorized("sign in first".into()))?;
        let (session_id, subject) = state
            .clinic
            .db
            .session_subject(&token_hash(&token))
            .await?
            .ok_or_else(|| Error::Unauthorized("your session has ended; please sign in again".into()))?;
        let role = match &subject {
            SessionSubject::Staff { role, .. } => Role::parse(role)
                .ok_or_else(|| Error::Unauthorized("this account has no valid role".into()))?,
            SessionSubject::Patient { .. } => Role::Patient,
        };
        Ok(Caller { session_id, role, subject })
    }
}

/// Refuses while `key` is locked out; the refusal is a failure too, and is audited.
async fn check_not_locked(state: &AppState, key: &str, actor: &Actor) -> Result<(), Error> {
    let throttle = state.clinic.db.throttle_state(key).await?;
    let Some(until) = throttle.locked_until else { return Ok(()) };
    let until = parse_timestamp(&until)?;
    let now = chrono::Utc::now();
    if until <= now {
        return Ok(());
    }
    state
        .clinic
        .db
        .audit_alone(
            actor,
            AuditEntry {
                action: "auth.locked_out",
                entity: "sign_in",
                entity_id: key.to_owned(),
                after: Some(json!({ "locked_until": timestamp_text(until) })),
                ..AuditEntry::default()
            },
        )
        .await?;
    let seconds = u64::try_from((until - now).num_seconds()).unwrap_or(0).max(1);
    Err(Error::TooManyAttempts {
        message: format!("too many failed attempts; try again in {seconds} seconds"),
        retry_after_seconds: seconds,
    })
}

/// Counts a failure for `key`, locks it out when due, and audits it, in one transaction.
async fn record_failure(state: &AppState, key: &str, actor: &Actor, why: &str) -> Result<(), Error> {
    let failures = state.clinic.db.throttle_state(key).await?.failures + 1;
    let locked_until = lockout_after(failures).map(|duration| {
        timestamp_text(chrono::Utc::now() + chrono::Duration::from_std(duration).unwrap_or_default())
    });
    let mut tx = state.clinic.db.begin_write().await?;
    tx.record_sign_in_failure(key, failures, locked_until.as_deref()).await?;
    tx.audit(
        actor,
        AuditEntry {
            action: "auth.sign_in_failed",
            entity: "sign_in",
            entity_id: key.to_owned(),
            after: Some(json!({ "failures": failures, "locked_until": locked_until })),
            reason: Some(why.to_owned()),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a session and answers with its token (body and cookie).
async fn start_session(
    state: &AppState,
    key: &str,
    role: Role,
    subject: (Option<i64>, Option<i64>),
    actor: &Actor,
    me: Me,
    action: &'static str,
) -> Result<Response, Error> {
    let token = new_token();
    let lifetime = if role == Role::Patient { PATIENT_SESSION } else { STAFF_SESSION };
    let expires_at =
        timestamp_text(chrono::Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or_default());
    let mut tx = state.clinic.db.begin_write().await?;
    tx.clear_sign_in_failures(key).await?;
    let session_id = tx.insert_session(&token_hash(&token), role.as_str(), subject, &expires_at).await?;
    tx.audit(
        actor,
        AuditEntry { action, entity: "session", entity_id: session_id.to_string(), ..AuditEntry::default() },
    )
    .await?;
    tx.commit().await?;
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        lifetime.as_secs(),
        if state.secure_cookies { "; Secure" } else { "" }
    );
    let mut response = (StatusCode::OK, axum::Json(SessionInfo { token, expires_at, me })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii cookie"));
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/auth/staff/sign-in", tag = "auth", request_body = StaffSignIn, responses((status = 200, description = "signed in; also sets the qol_session cookie", body = SessionInfo), (status = 401, body = ApiError), (status = 429, description = "locked out after repeated failures", body = ApiError)))]
pub async fn staff_sign_in(
    State(state): State<AppState>,
    Json(body): Json<StaffSignIn>,
) -> Result<Response, Error> {
    let username = body.username.trim().to_lowercase();
    let key = format!("staff:{username}");
    let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
    check_not_locked(&state, &key, &actor).await?;
    let user = state.clinic.db.staff_by_username(&username).await?;
    let hash = user.as_ref().filter(|user| !user.disabled).map(|user| user.password_hash.as_str());
    let password = body.password.clone();
    let stored = hash.map(str::to_owned);
    let matches = tokio::task::spawn_blocking(move || verify_secret(&password, stored.as_deref()))
        .await
        .unwrap_or(false);
    let (Some(user), true) = (user, matches) else {
        record_failure(&state, &key, &actor, "wrong username or password").await?;
        return Err(Error::Unauthorized("wrong username or password".into()));
    };
    let role = Role::parse(&user.role)
        .ok_or_else(|| Error::Unauthorized("this account has no valid role".into()))?;
    let actor = Actor { name: format!("staff:{}", user.username), role: user.role.clone() };
    let me = Me { role, username: Some(user.username.clone()), study_id: None, language: None };
    start_session(&state, &key, role, (Some(user.id), None), &actor, me, "auth.sign_in").await
}

#[utoipa::path(post, path = "/api/v1/auth/patient/sign-in", tag = "auth", request_body = PatientSignIn, responses((status = 200, body = SessionInfo), (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn patient_sign_in(
    State(state): State<AppState>,
    Json(body): Json<PatientSignIn>,
) -> Result<Response, Error> {
    let study_code = body.study_id.trim().to_uppercase();
    let key = format!("patient:{study_code}");
    let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
    check_not_locked(&state, &key, &actor).await?;
    let credentials = state.clinic.db.patient_credentials(&study_code).await?;
    let stored = credentials.as_ref().and_then(|(_, hash)| hash.clone());
    let pin = body.pin.clone();
    let matches =
        tokio::task::spawn_blocking(move || verify_secret(&pin, stored.as_deref())).await.unwrap_or(false);
    let (Some((patient_id, _)), true) = (credentials, matches) else {
        record_failure(&state, &key, &actor, "wrong study id or PIN").await?;
        return Err(Error::Unauthorized("wrong study id or PIN".into()));
    };
    let patient = state
        .clinic
        .db
        .patient_by_id(patient_id)
        .await?
        .ok_or_else(|| Error::Unauthorized("wrong study id or PIN".into()))?;
    let actor = Actor { name: format!("patient:{}", patient.study_code), role: "patient".into() };
    let me = Me {
        role: Role::Patient,
        username: None,
        study_id: Some(patient.study_code),
        language: Some(patient.language),
    };
    start_session(&state, &key, Role::Patient, (None, Some(patient_id)), &actor, me, "auth.sign_in").await
}

#[utoipa::path(post, path = "/api/v1/auth/patient/activate", tag = "auth", request_body = PatientActivation, responses((status = 200, body = SessionInfo), (status = 401, body = ApiError), (status = 422, body = ApiError), (status = 429, body = ApiError)))]
pub async fn patient_activate(
    State(state): State<AppState>,
    super::ClientAddr(client): super::ClientAddr,
    Json(body): Json<PatientActivation>,
) -> Result<Response, Error> {
    if !valid_pin(&body.pin) {
        return Err(Error::unprocessable("choose a PIN of 4 to 8 digits"));
    }
    // Activation has no account to lock, so attempts are counted per network address.
    let key = format!("activation:{client}");
    let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
    check_not_locked(&state, &key, &actor).await?;
    let code_hash = token_hash(&normalise_activation_code(&body.activation_code));
    let Some((code_id, patient_id)) = state.clinic.db.activation_code_patient(&code_hash).await? else {
        record_failure(&state, &key, &actor, "unknown, used or expired activation code").await?;
        return Err(Error::Unauthorized(format!(
            "this activation code is not valid: it may be mistyped, already used, or older than {} days; ask your research nurse for a new one",
            ACTIVATION_CODE_LIFETIME.as_secs() / 86_400
        )));
    };
    let pin = body.pin.clone();
    let pin_hash = tokio::task::spawn_blocking(move || crate::auth::hash_secret(&pin))
        .await
        .map_err(|_| Error::Internal(crate::storage::StorageError::Corrupt("hashing failed".into())))?;
    let patient = state
        .clinic
        .db
        .patient_by_id(patient_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such patient".into()))?;
    let actor = Actor { name: format!("patient:{}", patient.study_code), role: "patient".into() };
    let mut tx = state.clinic.db.begin_write().await?;
    if !tx.activate_patient(code_id, patient_id, &pin_hash).await? {
        return Err(Error::Unauthorized(
            "this activation code has just been used; ask your research nurse for a new one".into(),
        ));
    }
    tx.audit(
        &actor,
        AuditEntry {
            action: "patient.activate",
            entity: "patient",
            entity_id: patient.study_code.clone(),
            after: Some(json!({ "activated_at": now_text(), "pin": "set" })),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    let me = Me {
        role: Role::Patient,
        username: None,
        study_id: Some(patient.study_code),
        language: Some(patient.language),
    };
    let key = format!("patient:{}", me.study_id.clone().unwrap_or_default());
    start_session(&state, &key, Role::Patient, (None, Some(patient_id)), &actor, me, "auth.sign_in").await
}

#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", security(("session" = [])), responses((status = 204, description = "signed out"), (status = 401, body = ApiError)))]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> Result<Response, Error> {
    let mut tx = state.clinic.db.begin_write().await?;
    tx.revoke_session(caller.session_id).await?;
    tx.audit(
        &caller.actor(),
        AuditEntry {
            action: "auth.sign_out",
            entity: "session",
            entity_id: caller.session_id.to_string(),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("qol_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("session" = [])), responses((status = 200, body = Me), (status = 401, body = ApiError)))]
pub async fn me(caller: Caller) -> axum::Json<Me> {
    axum::Json(caller.me())
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
