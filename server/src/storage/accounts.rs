//! Staff accounts, sessions, activation codes and the sign-in throttle.

use sqlx::Row;

use super::{Db, StorageError, WriteTx, now_text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSubject {
    Staff { id: i64, username: String, role: String },
    Patient { id: i64, study_code: String, language: String },
}

/// Failed attempts for one sign-in key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThrottleState {
    pub failures: i64,
    pub locked_until: Option<String>,
}

impl Db {
    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffRow>, StorageError> {
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
        .bind(now_text())
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
                language: row.try_get("language")?,
            },
        };
        Ok(Some((session_id, subject)))
    }

    pub async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StorageError> {
        let row = sqlx::query("SELECT failures, locked_until FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => ThrottleState { failures: row.try_get(0)?, locked_until: row.try_get(1)? },
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
        .bind(now_text())
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
        .bind(now_text())
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
        .bind(now_text())
        .bind(expires_at)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    pub async fn revoke_session(&mut self, session_id: i64) -> Result<(), StorageError> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(session_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn record_sign_in_failure(
        &mut self,
        key: &str,
        failures: i64,
        locked_until: Option<&str>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, locked_until, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET failures = $2, locked_until = $3, updated_at = $4",
        )
        .bind(key)
        .bind(failures)
        .bind(locked_until)
        .bind(now_text())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn clear_sign_in_failures(&mut self, key: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1").bind(key).execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Issues a new activation code for a patient, revoking any earlier live one.
    pub async fn issue_activation_code(
        &mut self,
        patient_id: i64,
        code_hash: &str,
        expires_at: &str,
    ) -> Result<i64, StorageError> {
        let now = now_text();
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
        let now = now_text();
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
