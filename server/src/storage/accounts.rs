//! Staff accounts, sessions, activation codes and the sign-in throttle.

use sqlx::Row;

use super::{Db, StorageError, WriteTx};
use qol_shared::{Language, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
}

/// A staff account as the admin console lists it, times as stored.
#[derive(Debug, Clone)]
pub struct StaffAccountRow {
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
    pub live_sessions: i64,
    pub locked_until: Option<String>,
}

/// Whose sessions to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOwner {
    Patient(i64),
    Staff(i64),
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSubject {
    Staff { id: i64, username: String, role: String },
    Patient { id: i64, study_code: String, language: Language },
}

/// Failed attempts for one sign-in key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThrottleState {
    pub failures: i64,
    pub locked_until: Option<Timestamp>,
}

/// The outcome of claiming a sign-in attempt for a key ([`Db::claim_sign_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The attempt is counted and the caller holds the key's check lease: it alone may check the
    /// password or PIN now.
    Check,
    /// The key is locked until then (RFC 3339).
    Locked { until: Timestamp },
    /// Another check for this key is running: the attempt is counted (`failures`) but not
    /// checked.
    Busy { failures: i64 },
}

impl Db {
    /// Forgets a key's failures and ends its check: a secret was just checked and was right (an
    /// electronic signature, whose own write may still fail or be refused). One statement, as
    /// the throttle's other counters are.
    pub async fn clear_sign_in(&self, key: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    /// The staff account with this username (a name holding a NUL names nobody, as for patients).
    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffRow>, StorageError> {
        if username.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, username, role, password_hash, disabled FROM staff_users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StaffRow {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                role: row.try_get("role")?,
                password_hash: row.try_get("password_hash")?,
                disabled: row.try_get::<i64, _>("disabled")? == 1,
            })
        })
        .transpose()
    }

    /// Every staff account with its last sign-in, live sessions and any lockout in force at
    /// `now`, by username.
    pub async fn staff_accounts(&self, now: &str) -> Result<Vec<StaffAccountRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT u.username, u.role, u.disabled, u.created_at, \
             (SELECT MAX(s.created_at) FROM sessions s WHERE s.staff_user_id = u.id) AS last_sign_in_at, \
             (SELECT COUNT(*) FROM sessions s WHERE s.staff_user_id = u.id AND s.revoked_at IS NULL \
              AND s.expires_at > $1) AS live_sessions, \
             (SELECT t.locked_until FROM sign_in_throttle t WHERE t.key = 'staff:' || u.username \
              AND t.locked_until > $1) AS locked_until \
             FROM staff_users u ORDER BY u.username",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StaffAccountRow {
                    username: row.try_get("username")?,
                    role: row.try_get("role")?,
                    disabled: row.try_get::<i64, _>("disabled")? == 1,
                    created_at: row.try_get("created_at")?,
                    last_sign_in_at: row.try_get("last_sign_in_at")?,
                    live_sessions: row.try_get("live_sessions")?,
                    locked_until: row.try_get("locked_until")?,
                })
            })
            .collect()
    }

    /// Whether the account has a live password code with this hash at `now` (read before the
    /// costly hashing; the write that uses it checks again).
    pub async fn password_code_live(
        &self,
        staff_id: i64,
        code_hash: &str,
        now: &str,
    ) -> Result<bool, StorageError> {
        let row = sqlx::query(
            "SELECT id FROM staff_password_codes WHERE staff_user_id = $1 AND code_hash = $2 \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(staff_id)
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    pub async fn staff_count(&self) -> Result<i64, StorageError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM staff_users").fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// The subject of a live session (not expired, not revoked).
    pub async fn session_subject(
        &self,
        token_hash: &str,
    ) -> Result<Option<(i64, SessionSubject)>, StorageError> {
        let row = sqlx::query(
            "SELECT s.id, s.role, s.staff_user_id, s.patient_id, u.username, p.study_code, p.language \
             FROM sessions s \
             LEFT JOIN staff_users u ON u.id = s.staff_user_id \
             LEFT JOIN patients p ON p.id = s.patient_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
               AND (u.id IS NULL OR u.disabled = 0)",
        )
        .bind(token_hash)
        .bind(self.now_text())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session_id: i64 = row.try_get("id")?;
        let subject = match row.try_get::<Option<i64>, _>("staff_user_id")? {
            Some(id) => {
                SessionSubject::Staff { id, username: row.try_get("username")?, role: row.try_get("role")? }
            }
            None => SessionSubject::Patient {
                id: row
                    .try_get::<Option<i64>, _>("patient_id")?
                    .ok_or_else(|| StorageError::Corrupt("session without subject".into()))?,
                study_code: row.try_get("study_code")?,
                language: super::stored_language(&row.try_get::<String, _>("language")?)?,
            },
        };
        Ok(Some((session_id, subject)))
    }

    /// Counts an attempt for `key` and, when no other check of the key is running, hands this
    /// attempt the key's check lease (until `lease_until`, named by `token`), in one atomic
    /// statement. A locked key counts nothing. With `forget_before`, failures last counted before
    /// that time are forgotten first (the count decays).
    ///
    /// Every attempt counts, checked or not, and counting happens before any check, atomically:
    /// that is what makes the lockout hold under concurrency (a read-then-write count let a
    /// hundred parallel guesses all see "4 failures so far"). An attempt that counted but did
    /// not get the lease locks the key itself when the count calls for it ([`Db::lock_sign_in`]).
    pub async fn claim_sign_in(
        &self,
        key: &str,
        now: &str,
        lease_until: &str,
        token: &str,
        forget_before: Option<&str>,
    ) -> Result<Claim, StorageError> {
        // In SET, every expression reads the row as it was before the update, on both backends.
        let claimed = sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, locked_until, updated_at, checking_until, checking_token, refused) \
             VALUES ($1, 1, NULL, $2, $3, $4, 0) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN CAST($5 AS TEXT) IS NOT NULL AND sign_in_throttle.updated_at < CAST($5 AS TEXT) \
                               THEN 1 ELSE sign_in_throttle.failures + 1 END, \
               updated_at = $2, \
               checking_until = CASE WHEN sign_in_throttle.checking_until IS NULL OR sign_in_throttle.checking_until <= $2 \
                                     THEN $3 ELSE sign_in_throttle.checking_until END, \
               checking_token = CASE WHEN sign_in_throttle.checking_until IS NULL OR sign_in_throttle.checking_until <= $2 \
                                     THEN $4 ELSE sign_in_throttle.checking_token END \
             WHERE sign_in_throttle.locked_until IS NULL OR sign_in_throttle.locked_until <= $2 \
             RETURNING failures, checking_token",
        )
        .bind(key)
        .bind(now)
        .bind(lease_until)
        .bind(token)
        .bind(forget_before)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = claimed {
            let failures: i64 = row.try_get(0)?;
            let holder: Option<String> = row.try_get(1)?;
            return Ok(if holder.as_deref() == Some(token) {
                Claim::Check
            } else {
                Claim::Busy { failures }
            });
        }
        let state = self.throttle_state(key).await?;
        Ok(Claim::Locked { until: state.locked_until.map_or_else(|| super::stored_timestamp(now), Ok)? })
    }

    /// Locks `key` until `until`, unless it is already locked longer (an attempt refused unchecked
    /// that reached the limit).
    pub async fn lock_sign_in(&self, key: &str, until: &str) -> Result<(), StorageError> {
        lock_sign_in(&self.pool, key, until).await
    }

    /// Counts an attempt refused without a check (locked or busy). Returns the number refused
    /// since the last summary when a summary is due (none yet, or the last one is older than
    /// `summarise_before`): the caller then writes one audit entry with
    /// [`WriteTx::summarise_refused`].
    pub async fn note_refused_sign_in(
        &self,
        key: &str,
        summarise_before: &str,
    ) -> Result<bool, StorageError> {
        let row = sqlx::query(
            "UPDATE sign_in_throttle SET refused = refused + 1 WHERE key = $1 RETURNING refused_summarised_at",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let last: Option<String> = row.try_get(0)?;
        Ok(last.is_none_or(|last| last.as_str() <= summarise_before))
    }

    pub async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StorageError> {
        let row = sqlx::query("SELECT failures, locked_until FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => ThrottleState {
                failures: row.try_get(0)?,
                locked_until: super::stored_timestamp_opt(row.try_get(1)?)?,
            },
            None => ThrottleState::default(),
        })
    }

    pub async fn patient_credentials(
        &self,
        study_code: &str,
    ) -> Result<Option<(i64, Option<String>)>, StorageError> {
        let row = sqlx::query("SELECT id, pin_hash FROM patients WHERE study_code = $1")
            .bind(study_code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
    }

    /// The patient a live (unused, unrevoked, unexpired) activation code belongs to.
    pub async fn activation_code_patient(&self, code_hash: &str) -> Result<Option<(i64, i64)>, StorageError> {
        let row = sqlx::query(
            "SELECT id, patient_id FROM activation_codes \
             WHERE code_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(code_hash)
        .bind(self.now_text())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
    }
}

impl WriteTx {
    pub async fn insert_staff(
        &mut self,
        username: &str,
        role: &str,
        password_hash: &str,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO staff_users (username, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(username)
        .bind(role)
        .bind(password_hash)
        .bind(self.now_text())
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        role: &str,
        subject: (Option<i64>, Option<i64>),
        expires_at: &str,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO sessions (token_hash, role, staff_user_id, patient_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token_hash)
        .bind(role)
        .bind(subject.0)
        .bind(subject.1)
        .bind(self.now_text())
        .bind(expires_at)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    pub async fn revoke_session(&mut self, session_id: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(self.now_text())
            .bind(session_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// After a failed check: releases the check lease and returns the key's failures now (this
    /// attempt and any counted meanwhile), for the caller to lock the key when due.
    pub async fn end_sign_in_check(&mut self, key: &str) -> Result<i64, StorageError> {
        let row = sqlx::query(
            "UPDATE sign_in_throttle SET checking_until = NULL, checking_token = NULL WHERE key = $1 RETURNING failures",
        )
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }

    /// Locks `key` until `until`, unless it is already locked longer (after a failed check).
    pub async fn lock_sign_in(&mut self, key: &str, until: &str) -> Result<(), StorageError> {
        lock_sign_in(&mut *self.tx, key, until).await
    }

    /// Takes the count of refused attempts for a summary, if one is still due (another request
    /// may have written it meanwhile; write transactions are serialised, so exactly one does).
    pub async fn summarise_refused(
        &mut self,
        key: &str,
        now: &str,
        summarise_before: &str,
    ) -> Result<Option<i64>, StorageError> {
        let row = sqlx::query("SELECT refused, refused_summarised_at FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let refused: i64 = row.try_get(0)?;
        let last: Option<String> = row.try_get(1)?;
        if refused == 0 || last.is_some_and(|last| last.as_str() > summarise_before) {
            return Ok(None);
        }
        sqlx::query("UPDATE sign_in_throttle SET refused = 0, refused_summarised_at = $2 WHERE key = $1")
            .bind(key)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(Some(refused))
    }

    /// Revokes every live session of a patient (a new activation code, a new PIN) or of a staff
    /// member (disabled, signed out everywhere). Returns how many were live.
    pub async fn revoke_sessions_of(&mut self, subject: SessionOwner) -> Result<u64, StorageError> {
        let (sql, id) = match subject {
            SessionOwner::Patient(id) => {
                ("UPDATE sessions SET revoked_at = $1 WHERE patient_id = $2 AND revoked_at IS NULL", id)
            }
            SessionOwner::Staff(id) => {
                ("UPDATE sessions SET revoked_at = $1 WHERE staff_user_id = $2 AND revoked_at IS NULL", id)
            }
        };
        Ok(sqlx::query(sql).bind(self.now_text()).bind(id).execute(&mut *self.tx).await?.rows_affected())
    }

    /// Enables or disables a staff account. Returns false when it was already so.
    pub async fn set_staff_disabled(&mut self, staff_id: i64, disabled: bool) -> Result<bool, StorageError> {
        let changed = sqlx::query("UPDATE staff_users SET disabled = $1 WHERE id = $2 AND disabled <> $1")
            .bind(i64::from(disabled))
            .bind(staff_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(changed.rows_affected() == 1)
    }

    pub async fn clear_sign_in_failures(&mut self, key: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1").bind(key).execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Issues a one-time password code for a staff account, revoking any earlier live one.
    pub async fn issue_password_code(
        &mut self,
        staff_id: i64,
        code_hash: &str,
        expires_at: &str,
    ) -> Result<(), StorageError> {
        self.revoke_password_codes(staff_id).await?;
        sqlx::query(
            "INSERT INTO staff_password_codes (staff_user_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(staff_id)
        .bind(code_hash)
        .bind(self.now_text())
        .bind(expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Revokes the account's live password codes (it was disabled, or a newer code replaces them).
    pub async fn revoke_password_codes(&mut self, staff_id: i64) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE staff_password_codes SET revoked_at = $1 \
             WHERE staff_user_id = $2 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(self.now_text())
        .bind(staff_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Uses the account's live code with this hash: true once, for the first caller, while it
    /// has not expired or been revoked (writers are serialised, so two cannot both use it).
    pub async fn use_password_code(&mut self, staff_id: i64, code_hash: &str) -> Result<bool, StorageError> {
        let now = self.now_text();
        let used = sqlx::query(
            "UPDATE staff_password_codes SET used_at = $1 WHERE staff_user_id = $2 AND code_hash = $3 \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(&now)
        .bind(staff_id)
        .bind(code_hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(used.rows_affected() == 1)
    }

    pub async fn set_staff_password(
        &mut self,
        staff_id: i64,
        password_hash: &str,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE staff_users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(staff_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Issues a new activation code for a patient, revoking any earlier live one.
    pub async fn issue_activation_code(
        &mut self,
        patient_id: i64,
        code_hash: &str,
        expires_at: &str,
    ) -> Result<i64, StorageError> {
        let now = self.now_text();
        sqlx::query("UPDATE activation_codes SET revoked_at = $1 WHERE patient_id = $2 AND used_at IS NULL AND revoked_at IS NULL")
            .bind(&now)
            .bind(patient_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(sqlx::query(
            "INSERT INTO activation_codes (patient_id, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(patient_id)
        .bind(code_hash)
        .bind(expires_at)
        .bind(&now)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Extends an unused code's validity (the demo's fixed code). Returns whether one was found.
    pub async fn renew_activation_code(
        &mut self,
        code_hash: &str,
        expires_at: &str,
    ) -> Result<bool, StorageError> {
        let renewed = sqlx::query(
            "UPDATE activation_codes SET expires_at = $1, revoked_at = NULL WHERE code_hash = $2 AND used_at IS NULL",
        )
        .bind(expires_at)
        .bind(code_hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Uses an activation code once: marks it used (only if still live) and sets the PIN.
    /// Returns false when the code was used or revoked in the meantime.
    pub async fn activate_patient(
        &mut self,
        code_id: i64,
        patient_id: i64,
        pin_hash: &str,
    ) -> Result<bool, StorageError> {
        let now = self.now_text();
        let used = sqlx::query("UPDATE activation_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL")
            .bind(&now)
            .bind(code_id)
            .execute(&mut *self.tx)
            .await?;
        if used.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("UPDATE patients SET pin_hash = $1, activated_at = $2 WHERE id = $3")
            .bind(pin_hash)
            .bind(&now)
            .bind(patient_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(true)
    }
}

/// The one statement that locks a sign-in key, on the pool or inside a write transaction.
async fn lock_sign_in<'e, E>(executor: E, key: &str, until: &str) -> Result<(), StorageError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE sign_in_throttle SET locked_until = $2 WHERE key = $1 AND (locked_until IS NULL OR locked_until < $2)",
    )
    .bind(key)
    .bind(until)
    .execute(executor)
    .await?;
    Ok(())
}
