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
    ACTIVATION_CODE_LIFETIME, HashTurn, PATIENT_SESSION, STAFF_SESSION, lockout_after, new_token,
    normal_study_id, normal_username, normalise_activation_code, patient_sign_in_key, staff_sign_in_key,
    token_hash, valid_pin,
};
use crate::storage::{
    Actor, AuditEntry, Claim, SessionOwner, SessionSubject, now_text, parse_timestamp, timestamp_text,
};

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

/// How long one check of a password or PIN may hold its key's lease.
const CHECK_LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// Attempts refused while a key is locked are summarised in the audit trail at most this often.
const REFUSALS_SUMMARY_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Failed activations from one address are forgotten after this long without another.
const ACTIVATION_FAILURES_DECAY: chrono::Duration = chrono::Duration::minutes(15);

/// The throttle in front of every password, PIN or activation-code check, per key (`staff:NAME`,
/// `patient:IVB-001`, `activation:ADDRESS`).
///
/// Every attempt is counted, atomically and before any check, in the same statement that hands
/// out the key's check lease: so parallel guesses cannot all see the same count, the key locks at
/// the limit whatever the concurrency, and only one check per key runs at a time (the others are
/// refused unchecked, and still count). Refusals are summarised in the audit trail (one entry
/// per key per minute), not written one by one. Answers `Ok` when this attempt may be checked.
async fn claim_attempt(
    state: &AppState,
    key: &str,
    actor: &Actor,
    decay: Option<chrono::Duration>,
) -> Result<(), Error> {
    let now = chrono::Utc::now();
    let forget_before = decay.map(|decay| timestamp_text(now - decay));
    let claim = state
        .clinic
        .db
        .claim_sign_in(
            key,
            &timestamp_text(now),
            &timestamp_text(now + CHECK_LEASE),
            &new_token(),
            forget_before.as_deref(),
        )
        .await?;
    let locked_until = match claim {
        Claim::Check => return Ok(()),
        Claim::Busy { failures } => match lock_for(failures, now) {
            Some(until) => {
                state.clinic.db.lock_sign_in(key, &timestamp_text(until)).await?;
                Some(until)
            }
            None => None,
        },
        Claim::Locked { until } => Some(parse_timestamp(&until)?),
    };
    let summarise_before = timestamp_text(now - REFUSALS_SUMMARY_EVERY);
    if state.clinic.db.note_refused_sign_in(key, &summarise_before).await? {
        let mut tx = state.clinic.db.begin_write().await?;
        match tx.summarise_refused(key, &timestamp_text(now), &summarise_before).await? {
            Some(refused) => {
                tx.audit(
                    actor,
                    AuditEntry {
                        action: "auth.attempts_refused",
                        entity: "sign_in",
                        entity_id: key.to_owned(),
                        after: Some(json!({ "refused": refused, "locked_until": locked_until.map(timestamp_text) })),
                        reason: Some("refused unchecked since the last summary: locked out, or another check of the same key was running".into()),
                        ..AuditEntry::default()
                    },
                )
                .await?;
                tx.commit().await?;
            }
            None => tx.rollback().await?,
        }
    }
    Err(match locked_until {
        Some(until) => {
            let seconds = u64::try_from((until - now).num_seconds()).unwrap_or(0).max(1);
            Error::TooManyAttempts {
                message: format!("too many failed attempts; try again in {seconds} seconds"),
                retry_after_seconds: seconds,
            }
        }
        None => Error::TooManyAttempts {
            message: "another sign-in with these details is being checked; try again in a moment".into(),
            retry_after_seconds: 1,
        },
    })
}

/// When a key with `failures` counted is locked until, if at all.
fn lock_for(failures: i64, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    lockout_after(failures).map(|duration| now + chrono::Duration::from_std(duration).unwrap_or_default())
}

/// After a failed check: releases the lease, locks the key when its count (this attempt and any
/// counted meanwhile) calls for it, and audits the failure, in one transaction.
async fn record_failure(state: &AppState, key: &str, actor: &Actor, why: &str) -> Result<(), Error> {
    let mut tx = state.clinic.db.begin_write().await?;
    let failures = tx.end_sign_in_check(key).await?;
    let locked_until = lock_for(failures, chrono::Utc::now()).map(timestamp_text);
    if let Some(until) = &locked_until {
        tx.lock_sign_in(key, until).await?;
    }
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

/// A turn to run argon2, or 503 when none comes soon (see [`crate::auth::Hasher`]).
async fn hashing_turn(state: &AppState) -> Result<HashTurn, Error> {
    state.hasher.turn().await.map_err(|_| Error::Overloaded)
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
    let username = normal_username(&body.username);
    let key = staff_sign_in_key(&username);
    let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
    let turn = hashing_turn(&state).await?;
    claim_attempt(&state, &key, &actor, None).await?;
    let user = state.clinic.db.staff_by_username(&username).await?;
    // A disabled account is checked against the dummy hash, like an unknown one: same time,
    // same answer.
    let stored = user.as_ref().filter(|user| !user.disabled).map(|user| user.password_hash.clone());
    let matches = state.hasher.verify(turn, body.password.clone(), stored).await;
    let (Some(user), true) = (user.filter(|user| !user.disabled), matches) else {
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
    let study_code = normal_study_id(&body.study_id);
    let key = patient_sign_in_key(&study_code);
    let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
    let turn = hashing_turn(&state).await?;
    claim_attempt(&state, &key, &actor, None).await?;
    let credentials = state.clinic.db.patient_credentials(&study_code).await?;
    let stored = credentials.as_ref().and_then(|(_, hash)| hash.clone());
    let matches = state.hasher.verify(turn, body.pin.clone(), stored).await;
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
    // Activation has no account to lock, so attempts are counted per client address (behind a
    // trusted proxy, the one it forwards); the count decays, and a successful activation clears
    // it (a clinic's patients may share an address).
    let key = format!("activation:{client}");
    let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
    let turn = hashing_turn(&state).await?;
    claim_attempt(&state, &key, &actor, Some(ACTIVATION_FAILURES_DECAY)).await?;
    let code_hash = token_hash(&normalise_activation_code(&body.activation_code));
    let Some((code_id, patient_id)) = state.clinic.db.activation_code_patient(&code_hash).await? else {
        record_failure(&state, &key, &actor, "unknown, used or expired activation code").await?;
        return Err(Error::Unauthorized(format!(
            "this activation code is not valid: it may be mistyped, already used, or older than {} days; ask your research nurse for a new one",
            ACTIVATION_CODE_LIFETIME.as_secs() / 86_400
        )));
    };
    let pin_hash = state.hasher.hash(turn, body.pin.clone()).await.ok_or(Error::Overloaded)?;
    let patient = state
        .clinic
        .db
        .patient_by_id(patient_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such patient".into()))?;
    let actor = Actor { name: format!("patient:{}", patient.study_code), role: "patient".into() };
    let mut tx = state.clinic.db.begin_write().await?;
    if !tx.activate_patient(code_id, patient_id, &pin_hash).await? {
        tx.rollback().await?;
        return Err(Error::Unauthorized(
            "this activation code has just been used; ask your research nurse for a new one".into(),
        ));
    }
    // A new PIN on a new phone: every earlier session of this patient ends (a lost phone keeps
    // nothing), and this address's failed attempts are forgiven.
    let revoked = tx.revoke_sessions_of(SessionOwner::Patient(patient_id)).await?;
    tx.clear_sign_in_failures(&key).await?;
    tx.audit(
        &actor,
        AuditEntry {
            action: "patient.activate",
            entity: "patient",
            entity_id: patient.study_code.clone(),
            after: Some(json!({ "activated_at": now_text(), "pin": "set", "sessions_revoked": revoked })),
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
    let key = patient_sign_in_key(me.study_id.as_deref().unwrap_or_default());
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
        HeaderValue::from_static(if state.secure_cookies {
            "qol_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        } else {
            "qol_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        }),
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
