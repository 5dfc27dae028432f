//! Account operations shared by the admin API and the `qol admin` command: disabling and enabling
//! staff accounts, ending every session of an account, and lifting a sign-in lockout. Each is one
//! audited write transaction. Names come as typed (a path segment, a command-line argument)
//! and are made normal here.

use qol_shared::Timestamp;
use qol_shared::api::{NewStaff, Role, StaffAccount, StaffPasswordCode};
use serde_json::json;

use super::Clinic;
use crate::auth::{normal_study_id, normal_username, patient_sign_in_key, staff_sign_in_key};
use crate::storage::{Actor, AuditEntry, SessionOwner, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("there is no staff account named {0:?}")]
    NoSuchStaff(String),
    #[error("there is no patient with study id {0:?}")]
    NoSuchPatient(String),
    #[error("a user named {0:?} already exists")]
    StaffExists(String),
    #[error("an admin cannot disable their own account; ask another admin")]
    DisableSelf,
    #[error("the account is disabled: enable it before giving its holder a code")]
    ResetDisabled,
    #[error("{0}")]
    InvalidUsername(String),
    #[error("role: a staff account is an admin, a nurse or a researcher")]
    InvalidRole,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How long a staff password code works: three days, so a code given on a Friday still works on
/// Monday.
pub const PASSWORD_CODE_HOURS: i64 = 72;

/// What an account operation changed, for the caller to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the account's state changed (false: it already was so).
    pub changed: bool,
    /// How many live sessions were ended.
    pub sessions_ended: u64,
}

/// Which sign-in to unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked<'a> {
    Staff(&'a str),
    Patient(&'a str),
}

impl Clinic {
    /// Every staff account, for the admin console: role, state, last sign-in, live sessions and
    /// any lockout in force now. Reading it writes nothing.
    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccount>, StorageError> {
        let now = Timestamp::from(self.now()).text();
        let rows = self.db.staff_accounts(&now).await?;
        rows.into_iter()
            .map(|row| {
                let corrupt =
                    |what: &str| StorageError::Corrupt(format!("staff account {:?}: {what}", row.username));
                let time = |text: Option<&str>, what: &str| {
                    text.map(Timestamp::parse).transpose().map_err(|_| corrupt(what))
                };
                Ok(StaffAccount {
                    role: Role::parse(&row.role).ok_or_else(|| corrupt("role"))?,
                    disabled: row.disabled,
                    created_at: Timestamp::parse(&row.created_at).map_err(|_| corrupt("created_at"))?,
                    last_sign_in_at: time(row.last_sign_in_at.as_deref(), "last sign-in")?,
                    live_sessions: u64::try_from(row.live_sessions).unwrap_or(0),
                    locked_until: time(row.locked_until.as_deref(), "locked_until")?,
                    username: row.username,
                })
            })
            .collect()
    }

    async fn staff_named(&self, typed: &str) -> Result<crate::storage::StaffRow, AccountError> {
        let username = normal_username(typed);
        self.db.staff_by_username(&username).await?.ok_or(AccountError::NoSuchStaff(username))
    }

    /// Disables (or enables) a staff account. Disabling ends every session of the account at once;
    /// a disabled account cannot sign in (its password is checked like an unknown account's).
    pub async fn set_staff_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<Outcome, AccountError> {
        let staff = self.staff_named(username).await?;
        if disabled && actor.name == format!("staff:{}", staff.username) {
            return Err(AccountError::DisableSelf);
        }
        let mut tx = self.db.begin_write().await?;
        let changed = tx.set_staff_disabled(staff.id, disabled).await?;
        let sessions_ended =
            if disabled { tx.revoke_sessions_of(SessionOwner::Staff(staff.id)).await? } else { 0 };
        if disabled {
            // A code given before cannot set a password for a later enabling.
            tx.revoke_password_codes(staff.id).await?;
        }
        tx.audit(
            actor,
            AuditEntry {
                action: if disabled { "staff.disable" } else { "staff.enable" },
                entity: "staff_user",
                entity_id: staff.username.clone(),
                before: Some(json!({ "disabled": staff.disabled })),
                after: Some(json!({ "disabled": disabled, "sessions_ended": sessions_ended })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Outcome { changed, sessions_ended })
    }

    /// Ends every live session of a staff account (a lost laptop, a shared password).
    pub async fn sign_out_staff_everywhere(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<Outcome, AccountError> {
        let staff = self.staff_named(username).await?;
        let mut tx = self.db.begin_write().await?;
        let sessions_ended = tx.revoke_sessions_of(SessionOwner::Staff(staff.id)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "staff.sign_out_everywhere",
                entity: "staff_user",
                entity_id: staff.username.clone(),
                after: Some(json!({ "sessions_ended": sessions_ended })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Outcome { changed: sessions_ended > 0, sessions_ended })
    }

    /// Lifts the lockout of a staff account or a patient and forgets their failed attempts.
    pub async fn unlock(&self, actor: &Actor, who: Locked<'_>) -> Result<Outcome, AccountError> {
        let key = match who {
            Locked::Staff(username) => {
                let staff = self.staff_named(username).await?;
                staff_sign_in_key(&staff.username)
            }
            Locked::Patient(study_code) => {
                let study_code = normal_study_id(study_code);
                let patient = self
                    .db
                    .patient_by_code(&study_code)
                    .await?
                    .ok_or(AccountError::NoSuchPatient(study_code))?;
                patient_sign_in_key(&patient.study_code)
            }
        };
        let before = self.db.throttle_state(&key).await?;
        let mut tx = self.db.begin_write().await?;
        tx.clear_sign_in_failures(&key).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "auth.unlock",
                entity: "sign_in",
                entity_id: key,
                before: Some(json!({ "failures": before.failures, "locked_until": before.locked_until })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Outcome { changed: before.failures > 0, sessions_ended: 0 })
    }

    /// A staff account made in the admin console: no password yet, and a one-time code with which
    /// its holder sets one. The account and its code are one audited write.
    pub async fn create_staff_with_code(
        &self,
        actor: &Actor,
        body: &NewStaff,
    ) -> Result<StaffPasswordCode, AccountError> {
        let username = normal_username(&body.username);
        if let Some(problem) = crate::auth::username_problem(&username) {
            return Err(AccountError::InvalidUsername(problem));
        }
        if body.role == Role::Patient {
            return Err(AccountError::InvalidRole);
        }
        let (code, code_hash, expires_at) = self.new_password_code();
        let mut tx = self.db.begin_write().await?;
        let staff_id = match tx.insert_staff(&username, body.role.as_str(), crate::auth::NO_PASSWORD).await {
            Ok(id) => id,
            Err(error) if error.is_unique_violation() => return Err(AccountError::StaffExists(username)),
            Err(error) => return Err(error.into()),
        };
        tx.issue_password_code(staff_id, &code_hash, &expires_at.text()).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "staff.create",
                entity: "staff_user",
                entity_id: username.clone(),
                after: Some(json!({ "role": body.role.as_str(), "password_code_expires_at": expires_at })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(StaffPasswordCode { username, code, expires_at })
    }

    /// A new one-time code for an account whose holder forgot their password; any earlier code
    /// stops working. The old password keeps working until the code is used.
    pub async fn reset_staff_password(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<StaffPasswordCode, AccountError> {
        let staff = self.staff_named(username).await?;
        if staff.disabled {
            return Err(AccountError::ResetDisabled);
        }
        let (code, code_hash, expires_at) = self.new_password_code();
        let mut tx = self.db.begin_write().await?;
        tx.issue_password_code(staff.id, &code_hash, &expires_at.text()).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "staff.password_code",
                entity: "staff_user",
                entity_id: staff.username.clone(),
                after: Some(json!({ "expires_at": expires_at })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(StaffPasswordCode { username: staff.username, code, expires_at })
    }

    /// A code (as shown), its stored hash, and when it expires.
    fn new_password_code(&self) -> (String, String, Timestamp) {
        let code = crate::auth::new_activation_code();
        let hash = crate::auth::token_hash(&crate::auth::normalise_activation_code(&code));
        let expires_at = Timestamp::from(self.now() + chrono::Duration::hours(PASSWORD_CODE_HOURS));
        (code, hash, expires_at)
    }

    /// Creates a staff account with an argon2id hash of `password` (`qol admin create-user`).
    pub async fn create_staff(
        &self,
        actor: &Actor,
        username: &str,
        role: &str,
        password_hash: &str,
    ) -> Result<(), AccountError> {
        let mut tx = self.db.begin_write().await?;
        match tx.insert_staff(username, role, password_hash).await {
            Ok(_) => {}
            Err(error) if error.is_unique_violation() => {
                return Err(AccountError::StaffExists(username.to_owned()));
            }
            Err(error) => return Err(error.into()),
        }
        tx.audit(
            actor,
            AuditEntry {
                action: "staff.create",
                entity: "staff_user",
                entity_id: username.to_owned(),
                after: Some(json!({ "role": role })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
