//! Sessions: who a token is, and the ways in (staff sign-in, patient sign-in, activation) and
//! out. Every attempt is counted before any check, per key, in the database (so every server
//! instance sees it), locked out with backoff, and each failure is audited.

use std::net::IpAddr;

use qol_shared::api::{
    Me, PatientActivation, PatientSignIn, Role, SessionInfo, SetStaffPassword, StaffSignIn,
};

use super::*;
use crate::auth::{
    HashTurn, Hasher, PATIENT_SESSION, STAFF_SESSION, lockout_after, new_token, normal_study_id,
    normal_username, patient_sign_in_key, staff_sign_in_key, valid_pin,
};
use crate::storage::{Claim, SessionSubject};

/// How long one check of a password or PIN may hold its key's lease.
const CHECK_LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// Attempts refused while a key is locked are summarised in the audit trail at most this often.
const REFUSALS_SUMMARY_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Failed activations from one address are forgotten after this long without another.
const ACTIVATION_FAILURES_DECAY: chrono::Duration = chrono::Duration::minutes(15);

/// A signed-in session: who is calling, and as what.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: i64,
    pub role: Role,
    subject: SessionSubject,
}

/// Leave to read who a patient is (name, phone, hospital number) and calendar dates: only a
/// clinical session (nurse, admin) gets one, from [`Session::identity_access`]. The views that
/// show identity take it; research's views have no way to ask.
#[derive(Debug, Clone, Copy)]
pub struct IdentityAccess(());

impl Session {
    /// A staff member's session as the demo seed and tests act with (no token).
    pub fn staff(id: i64, username: &str, role: Role) -> Session {
        Session {
            session_id: 0,
            role,
            subject: SessionSubject::Staff { id, username: username.to_owned(), role: role.as_str().into() },
        }
    }

    /// A patient's session as the demo seed and tests act with (no token).
    pub fn patient(id: i64, study_code: &str, language: qol_shared::Language) -> Session {
        Session {
            session_id: 0,
            role: Role::Patient,
            subject: SessionSubject::Patient { id, study_code: study_code.to_owned(), language },
        }
    }

    /// Refuses unless the session has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ClinicError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ClinicError::Forbidden(format!("a {} may not do this", self.role.as_str())))
        }
    }

    /// Who the audit trail says did it.
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

    /// The staff member's id; refused for a patient.
    pub fn staff_id(&self) -> Result<i64, ClinicError> {
        match self.subject {
            SessionSubject::Staff { id, .. } => Ok(id),
            SessionSubject::Patient { .. } => Err(ClinicError::Forbidden("staff only".into())),
        }
    }

    /// The patient's id; refused for staff.
    pub fn patient_id(&self) -> Result<i64, ClinicError> {
        match self.subject {
            SessionSubject::Patient { id, .. } => Ok(id),
            SessionSubject::Staff { .. } => Err(ClinicError::Forbidden("patients only".into())),
        }
    }

    /// Leave to see identity and dates: nurses and admins, never researchers or patients.
    pub fn identity_access(&self) -> Option<IdentityAccess> {
        matches!(self.role, Role::Nurse | Role::Admin).then_some(IdentityAccess(()))
    }

    pub fn me(&self) -> Me {
        match &self.subject {
            SessionSubject::Staff { username, .. } => {
                Me { role: self.role, username: Some(username.clone()), study_id: None, language: None }
            }
            SessionSubject::Patient { study_code, language, .. } => Me {
                role: Role::Patient,
                username: None,
                study_id: Some(study_code.clone()),
                language: Some(*language),
            },
        }
    }
}

/// A new session: what the caller is told (the token, also for its cookie) and how long it lives.
#[derive(Debug)]
pub struct SignedIn {
    pub info: SessionInfo,
    pub lifetime: std::time::Duration,
}

/// When a key with `failures` counted is locked until, if at all.
fn lock_for(failures: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lockout_after(failures).map(|duration| now + chrono::Duration::from_std(duration).unwrap_or_default())
}

/// A turn to run argon2, or "busy" when none comes soon (see [`crate::auth::Hasher`]).
async fn hashing_turn(hasher: &Hasher) -> Result<HashTurn, ClinicError> {
    hasher.turn().await.map_err(|_| ClinicError::Overloaded)
}

impl Clinic {
    /// The session a token belongs to; `None` when there is none or it has ended.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, ClinicError> {
        // Every signed-in request comes through here: an amendment applied on another server is
        // in use from this request on.
        self.refresh_protocol().await;
        let Some((session_id, subject)) = self.db.session_subject(&token_hash(token)).await? else {
            return Ok(None);
        };
        let role = match &subject {
            SessionSubject::Staff { role, .. } => Role::parse(role)
                .ok_or_else(|| ClinicError::Unauthorized("this account has no valid role".into()))?,
            SessionSubject::Patient { .. } => Role::Patient,
        };
        Ok(Some(Session { session_id, role, subject }))
    }

    /// The throttle in front of every password, PIN or activation-code check, per key
    /// (`staff:NAME`, `patient:IVB-001`, `activation:ADDRESS`).
    ///
    /// Every attempt is counted, atomically and before any check, in the same statement that
    /// hands out the key's check lease: so parallel guesses cannot all see the same count, the
    /// key locks at the limit whatever the concurrency, and only one check per key runs at a
    /// time (the others are refused unchecked, and still count). Refusals are summarised in the
    /// audit trail (one entry per key per minute), not written one by one. Answers `Ok` when
    /// this attempt may be checked.
    async fn claim_attempt(
        &self,
        key: &str,
        actor: &Actor,
        decay: Option<chrono::Duration>,
    ) -> Result<(), ClinicError> {
        let now = self.now();
        let forget_before = decay.map(|decay| timestamp_text(now - decay));
        let claim = self
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
                    self.db.lock_sign_in(key, &timestamp_text(until)).await?;
                    Some(until)
                }
                None => None,
            },
            Claim::Locked { until } => Some(until.instant()),
        };
        let summarise_before = timestamp_text(now - REFUSALS_SUMMARY_EVERY);
        if self.db.note_refused_sign_in(key, &summarise_before).await? {
            let mut tx = self.db.begin_write().await?;
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
                ClinicError::TooManyAttempts {
                    message: format!("too many failed attempts; try again in {seconds} seconds"),
                    retry_after_seconds: seconds,
                    locked: true,
                }
            }
            None => ClinicError::TooManyAttempts {
                message: "another sign-in with these details is being checked; try again in a moment".into(),
                retry_after_seconds: 1,
                locked: false,
            },
        })
    }

    /// After a failed check: releases the lease, locks the key when its count (this attempt and
    /// any counted meanwhile) calls for it, and audits the failure, in one transaction.
    async fn record_failure(&self, key: &str, actor: &Actor, why: &str) -> Result<(), ClinicError> {
        let mut tx = self.db.begin_write().await?;
        let failures = tx.end_sign_in_check(key).await?;
        let locked_until = lock_for(failures, self.now()).map(timestamp_text);
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

    /// Creates a session for `who`, whose secret was checked, and forgets `key`'s failures.
    async fn start_session(&self, key: &str, who: &Session) -> Result<SignedIn, ClinicError> {
        let role = who.role;
        let subject = match who.subject {
            SessionSubject::Staff { id, .. } => (Some(id), None),
            SessionSubject::Patient { id, .. } => (None, Some(id)),
        };
        let token = new_token();
        let lifetime = if role == Role::Patient { PATIENT_SESSION } else { STAFF_SESSION };
        let expires_at: qol_shared::Timestamp =
            (self.now() + chrono::Duration::from_std(lifetime).unwrap_or_default()).into();
        let mut tx = self.db.begin_write().await?;
        tx.clear_sign_in_failures(key).await?;
        let session_id =
            tx.insert_session(&token_hash(&token), role.as_str(), subject, &expires_at.text()).await?;
        tx.audit(
            &who.actor(),
            AuditEntry {
                action: "auth.sign_in",
                entity: "session",
                entity_id: session_id.to_string(),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(SignedIn { info: SessionInfo { token, expires_at, me: who.me() }, lifetime })
    }

    pub async fn staff_sign_in(&self, hasher: &Hasher, body: &StaffSignIn) -> Result<SignedIn, ClinicError> {
        let username = normal_username(&body.username);
        let key = staff_sign_in_key(&username);
        let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
        let turn = hashing_turn(hasher).await?;
        self.claim_attempt(&key, &actor, None).await?;
        let user = self.db.staff_by_username(&username).await?;
        // A disabled account is checked against the dummy hash, like an unknown one: same time,
        // same answer.
        // So is an account whose holder has not set a password yet.
        let stored = user
            .as_ref()
            .filter(|user| !user.disabled && user.password_hash != crate::auth::NO_PASSWORD)
            .map(|user| user.password_hash.clone());
        let matches = hasher.verify(turn, body.password.clone(), stored).await;
        let (Some(user), true) = (user.filter(|user| !user.disabled), matches) else {
            self.record_failure(&key, &actor, "wrong username or password").await?;
            return Err(refused(ErrorCode::WrongCredentials, "wrong username or password"));
        };
        let role = Role::parse(&user.role)
            .ok_or_else(|| ClinicError::Unauthorized("this account has no valid role".into()))?;
        self.start_session(&key, &Session::staff(user.id, &user.username, role)).await
    }

    /// A staff member sets their password with the one-time code an admin gave them (a new
    /// account, or a reset). Throttled as sign-in is, on the same key: wrong codes count towards
    /// the account's lockout. The code works once, even for simultaneous requests; every session
    /// of the account ends, and the holder signs in with the new password.
    pub async fn set_staff_password(
        &self,
        hasher: &Hasher,
        body: &SetStaffPassword,
    ) -> Result<(), ClinicError> {
        if body.password.chars().count() < crate::auth::MIN_PASSWORD_LENGTH {
            return Err(ClinicError::Invalid {
                message: format!("password: use at least {} characters", crate::auth::MIN_PASSWORD_LENGTH),
                problems: vec!["password".into()],
            });
        }
        let username = normal_username(&body.username);
        let key = staff_sign_in_key(&username);
        let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
        let wrong = "wrong username or code, or the code was used, replaced or has expired";
        // A turn to hash first, as sign-in takes one: a busy server refuses before counting.
        let turn = hashing_turn(hasher).await?;
        self.claim_attempt(&key, &actor, None).await?;
        let code_hash = token_hash(&crate::auth::normalise_activation_code(&body.code));
        let user = self.db.staff_by_username(&username).await?;
        // The code is looked up for an unknown name too (no account has id 0), so both take the
        // same path; a disabled account is answered as a wrong code.
        let id = user.as_ref().map_or(0, |user| user.id);
        let live = self.db.password_code_live(id, &code_hash, &timestamp_text(self.now())).await?
            && user.as_ref().is_some_and(|user| !user.disabled);
        let (Some(user), true) = (user, live) else {
            self.record_failure(&key, &actor, wrong).await?;
            return Err(refused(ErrorCode::WrongCredentials, wrong));
        };
        let hash = hasher.hash(turn, body.password.clone()).await.ok_or(ClinicError::Overloaded)?;
        let mut tx = self.db.begin_write().await?;
        if !tx.use_password_code(user.id, &code_hash).await? {
            tx.rollback().await?;
            self.record_failure(&key, &actor, wrong).await?;
            return Err(refused(ErrorCode::WrongCredentials, wrong));
        }
        tx.set_staff_password(user.id, &hash).await?;
        let ended = tx.revoke_sessions_of(crate::storage::SessionOwner::Staff(user.id)).await?;
        tx.clear_sign_in_failures(&key).await?;
        tx.audit(
            &Actor { name: format!("staff:{}", user.username), role: user.role.clone() },
            AuditEntry {
                action: "staff.set_password",
                entity: "staff_user",
                entity_id: user.username.clone(),
                after: Some(serde_json::json!({ "sessions_ended": ended })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An electronic signature: the signed-in staff member's own password, entered again (21 CFR
    /// 11.200: a signature used in a session after its first needs at least the password).
    /// Throttled as sign-in is, on the account's own key, so a session cannot guess its holder's
    /// password faster than sign-in could; a wrong password is refused, counted and audited. The
    /// caller's write transaction ends the check (`clear_sign_in_failures` on the returned key).
    pub(super) async fn check_signature(
        &self,
        hasher: &Hasher,
        session: &Session,
        password: &str,
    ) -> Result<String, ClinicError> {
        let SessionSubject::Staff { username, .. } = &session.subject else {
            return Err(ClinicError::Forbidden("only staff sign corrections".into()));
        };
        let key = staff_sign_in_key(username);
        let actor = session.actor();
        let turn = hashing_turn(hasher).await?;
        self.claim_attempt(&key, &actor, None).await?;
        let stored = self
            .db
            .staff_by_username(username)
            .await?
            .filter(|user| !user.disabled && user.password_hash != crate::auth::NO_PASSWORD)
            .map(|user| user.password_hash);
        if !hasher.verify(turn, password.to_owned(), stored).await {
            self.record_failure(&key, &actor, "wrong password on an electronic signature").await?;
            return Err(ClinicError::Refused {
                code: ErrorCode::SignatureRefused,
                message: "password: this is not your password, so the correction was not signed; nothing was stored"
                    .into(),
                problems: vec!["password: this is not your password".into()],
            });
        }
        Ok(key)
    }

    pub async fn patient_sign_in(
        &self,
        hasher: &Hasher,
        body: &PatientSignIn,
    ) -> Result<SignedIn, ClinicError> {
        let study_code = normal_study_id(&body.study_id);
        let key = patient_sign_in_key(&study_code);
        let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
        let turn = hashing_turn(hasher).await?;
        self.claim_attempt(&key, &actor, None).await?;
        let credentials = self.db.patient_credentials(&study_code).await?;
        let stored = credentials.as_ref().and_then(|(_, hash)| hash.clone());
        let matches = hasher.verify(turn, body.pin.clone(), stored).await;
        let (Some((patient_id, _)), true) = (credentials, matches) else {
            self.record_failure(&key, &actor, "wrong study id or PIN").await?;
            return Err(refused(ErrorCode::WrongCredentials, "wrong study id or PIN"));
        };
        let patient = self
            .db
            .patient_by_id(patient_id)
            .await?
            .ok_or_else(|| refused(ErrorCode::WrongCredentials, "wrong study id or PIN"))?;
        self.start_session(&key, &Session::patient(patient.id, &patient.study_code, patient.language)).await
    }

    /// A new phone: the activation code is exchanged for a PIN and a session. Attempts are
    /// counted per client address (`client`; behind a trusted proxy, the one it forwards).
    pub async fn activate_patient(
        &self,
        hasher: &Hasher,
        client: IpAddr,
        body: &PatientActivation,
    ) -> Result<SignedIn, ClinicError> {
        if !valid_pin(&body.pin) {
            return Err(refused(ErrorCode::PinFormat, "choose a PIN of 4 to 8 digits"));
        }
        // Activation has no account to lock, so attempts are counted per client address; the
        // count decays, and a successful activation clears it (a clinic's patients may share an
        // address).
        let key = format!("activation:{client}");
        let actor = Actor { name: key.clone(), role: "unauthenticated".into() };
        let turn = hashing_turn(hasher).await?;
        self.claim_attempt(&key, &actor, Some(ACTIVATION_FAILURES_DECAY)).await?;
        let code_hash = token_hash(&normalise_activation_code(&body.activation_code));
        let Some((code_id, patient_id)) = self.db.activation_code_patient(&code_hash).await? else {
            self.record_failure(&key, &actor, "unknown, used or expired activation code").await?;
            return Err(refused(
                ErrorCode::ActivationCodeInvalid,
                format!(
                    "this activation code is not valid: it may be mistyped, already used, or older than {} days; ask your research nurse for a new one",
                    ACTIVATION_CODE_LIFETIME.as_secs() / 86_400
                ),
            ));
        };
        let pin_hash = hasher.hash(turn, body.pin.clone()).await.ok_or(ClinicError::Overloaded)?;
        let patient = self
            .db
            .patient_by_id(patient_id)
            .await?
            .ok_or_else(|| ClinicError::NotFound("no such patient".into()))?;
        let session = Session::patient(patient.id, &patient.study_code, patient.language);
        let mut tx = self.db.begin_write().await?;
        if !tx.activate_patient(code_id, patient_id, &pin_hash).await? {
            tx.rollback().await?;
            return Err(refused(
                ErrorCode::ActivationCodeInvalid,
                "this activation code has just been used; ask your research nurse for a new one",
            ));
        }
        // A new PIN on a new phone: every earlier session of this patient ends (a lost phone
        // keeps nothing), and this address's failed attempts are forgiven.
        let revoked = tx.revoke_sessions_of(SessionOwner::Patient(patient_id)).await?;
        tx.clear_sign_in_failures(&key).await?;
        let activated_at = tx.now_text();
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "patient.activate",
                patient: Some(patient.study_code.clone()),
                entity: "patient",
                entity_id: patient.study_code.clone(),
                after: Some(
                    json!({ "activated_at": activated_at, "pin": "set", "sessions_revoked": revoked }),
                ),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        self.start_session(&patient_sign_in_key(&patient.study_code), &session).await
    }

    pub async fn sign_out(&self, session: &Session) -> Result<(), ClinicError> {
        let mut tx = self.db.begin_write().await?;
        tx.revoke_session(session.session_id).await?;
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "auth.sign_out",
                entity: "session",
                entity_id: session.session_id.to_string(),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
