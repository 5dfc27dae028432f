//! Alerts (raised inside the submission's transaction) and per-patient snoozes.

use qol_shared::alerts::{Rule, Signal, Tier};
use qol_shared::api::{AlertState, ResolutionAction};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StorageError, WriteTx, enum_from, enum_text, now_text};

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub patient_id: i64,
    pub study_code: String,
    pub patient_name: Option<String>,
    pub subject: String,
    pub tier: Tier,
    pub rule: Rule,
    pub source: String,
    pub state: AlertState,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub previous: Option<f64>,
    pub submission_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution_action: Option<ResolutionAction>,
    pub resolution_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnoozeRow {
    pub id: i64,
    pub patient_id: i64,
    pub study_code: String,
    pub subject: String,
    pub until: chrono::NaiveDate,
    pub reason: String,
    pub created_by: String,
    pub ended_at: Option<String>,
}

const ALERT_QUERY: &str = "SELECT a.id, a.patient_id, p.study_code, i.full_name, a.scale, a.tier, a.rule, a.source, a.state, \
     a.value, a.baseline, a.previous, a.submission_id, a.created_at, a.updated_at, a.acknowledged_at, ua.username AS acknowledged_by, \
     a.resolved_at, ur.username AS resolved_by, a.resolution_action, a.resolution_note \
     FROM alerts a JOIN patients p ON p.id = a.patient_id \
     LEFT JOIN patient_identities i ON i.patient_id = a.patient_id \
     LEFT JOIN staff_users ua ON ua.id = a.acknowledged_by \
     LEFT JOIN staff_users ur ON ur.id = a.resolved_by";

fn alert(row: &AnyRow) -> Result<AlertRow, StorageError> {
    let action: Option<String> = row.try_get("resolution_action")?;
    Ok(AlertRow {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        study_code: row.try_get("study_code")?,
        patient_name: row.try_get("full_name")?,
        subject: row.try_get("scale")?,
        tier: enum_from(&row.try_get::<String, _>("tier")?)?,
        rule: enum_from(&row.try_get::<String, _>("rule")?)?,
        source: row.try_get("source")?,
        state: AlertState::parse(&row.try_get::<String, _>("state")?)
            .ok_or_else(|| StorageError::Corrupt("alert state".into()))?,
        value: row.try_get("value")?,
        baseline: row.try_get("baseline")?,
        previous: row.try_get("previous")?,
        submission_id: row.try_get("submission_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolution_action: action.as_deref().map(enum_from).transpose()?,
        resolution_note: row.try_get("resolution_note")?,
    })
}

impl Db {
    /// Alerts, optionally of one state: the worklist's order (tier, then age) is the caller's.
    pub async fn alerts(&self, state: Option<AlertState>) -> Result<Vec<AlertRow>, StorageError> {
        let rows = match state {
            Some(state) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{ALERT_QUERY} WHERE a.state = $1 ORDER BY a.id")))
                    .bind(state.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{ALERT_QUERY} ORDER BY a.id")))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(alert).collect()
    }

    pub async fn alert(&self, id: i64) -> Result<Option<AlertRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ALERT_QUERY} WHERE a.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(alert).transpose()
    }

    pub async fn snoozes(&self, patient_id: i64) -> Result<Vec<SnoozeRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT s.id, s.patient_id, p.study_code, s.subject, s.until_date, s.reason, u.username, s.ended_at \
             FROM alert_snoozes s JOIN patients p ON p.id = s.patient_id JOIN staff_users u ON u.id = s.created_by \
             WHERE s.patient_id = $1 ORDER BY s.id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SnoozeRow {
                    id: row.try_get(0)?,
                    patient_id: row.try_get(1)?,
                    study_code: row.try_get(2)?,
                    subject: row.try_get(3)?,
                    until: super::parse_date(&row.try_get::<String, _>(4)?)?,
                    reason: row.try_get(5)?,
                    created_by: row.try_get(6)?,
                    ended_at: row.try_get(7)?,
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// The open (not resolved) alert of a patient for a subject, with its tier.
    pub async fn open_alert(
        &mut self,
        patient_id: i64,
        subject: &str,
    ) -> Result<Option<(i64, Tier)>, StorageError> {
        let row = sqlx::query(
            "SELECT id, tier FROM alerts WHERE patient_id = $1 AND scale = $2 AND state <> 'resolved'",
        )
        .bind(patient_id)
        .bind(subject)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| Ok((row.try_get(0)?, enum_from(&row.try_get::<String, _>(1)?)?))).transpose()
    }

    /// The last day of a snooze holding on `today` for the subject, if any.
    pub async fn active_snooze(
        &mut self,
        patient_id: i64,
        subject: &str,
        today: chrono::NaiveDate,
    ) -> Result<Option<chrono::NaiveDate>, StorageError> {
        let row = sqlx::query(
            "SELECT MAX(until_date) FROM alert_snoozes WHERE patient_id = $1 AND subject = $2 AND ended_at IS NULL AND until_date >= $3",
        )
        .bind(patient_id)
        .bind(subject)
        .bind(today.to_string())
        .fetch_one(&mut *self.tx)
        .await?;
        row.try_get::<Option<String>, _>(0)?.as_deref().map(super::parse_date).transpose()
    }

    pub async fn insert_alert(
        &mut self,
        patient_id: i64,
        signal: &Signal,
        submission_id: i64,
    ) -> Result<i64, StorageError> {
        let now = now_text();
        Ok(sqlx::query(
            "INSERT INTO alerts (patient_id, scale, tier, rule, state, value, baseline, previous, source, submission_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'new', CAST($5 AS DOUBLE PRECISION), CAST($6 AS DOUBLE PRECISION), \
             CAST($7 AS DOUBLE PRECISION), $8, $9, $10, $10) RETURNING id",
        )
        .bind(patient_id)
        .bind(&signal.subject)
        .bind(enum_text(&signal.tier))
        .bind(enum_text(&signal.rule))
        .bind(super::float_param(signal.value))
        .bind(super::float_param(signal.baseline))
        .bind(super::float_param(signal.previous))
        .bind(&signal.source)
        .bind(submission_id)
        .bind(&now)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Updates an open alert with a newer signal (never lowering its tier).
    pub async fn update_alert(
        &mut self,
        id: i64,
        signal: &Signal,
        tier: Tier,
        submission_id: i64,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE alerts SET tier = $1, rule = $2, value = CAST($3 AS DOUBLE PRECISION), \
             baseline = CAST($4 AS DOUBLE PRECISION), previous = CAST($5 AS DOUBLE PRECISION), source = $6, \
             submission_id = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(enum_text(&tier))
        .bind(enum_text(&signal.rule))
        .bind(super::float_param(signal.value))
        .bind(super::float_param(signal.baseline))
        .bind(super::float_param(signal.previous))
        .bind(&signal.source)
        .bind(submission_id)
        .bind(now_text())
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Acknowledges a new alert. Returns false when it was not new.
    pub async fn acknowledge_alert(&mut self, id: i64, staff_id: i64) -> Result<bool, StorageError> {
        let now = now_text();
        let done = sqlx::query(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, updated_at = $1 \
             WHERE id = $3 AND state = 'new'",
        )
        .bind(&now)
        .bind(staff_id)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Resolves an alert that is not resolved yet (acknowledging it too if it was new).
    pub async fn resolve_alert(
        &mut self,
        id: i64,
        staff_id: i64,
        action: ResolutionAction,
        note: &str,
    ) -> Result<bool, StorageError> {
        let now = now_text();
        let done = sqlx::query(
            "UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_by = $2, resolution_action = $3, \
             resolution_note = $4, acknowledged_at = COALESCE(acknowledged_at, $1), \
             acknowledged_by = COALESCE(acknowledged_by, $2), updated_at = $1 WHERE id = $5 AND state <> 'resolved'",
        )
        .bind(&now)
        .bind(staff_id)
        .bind(enum_text(&action))
        .bind(note)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_snooze(
        &mut self,
        patient_id: i64,
        subject: &str,
        until: chrono::NaiveDate,
        reason: &str,
        staff_id: i64,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO alert_snoozes (patient_id, subject, until_date, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(patient_id)
        .bind(subject)
        .bind(until.to_string())
        .bind(reason)
        .bind(staff_id)
        .bind(now_text())
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Ends a snooze early. Returns false when it had already ended or is another patient's.
    pub async fn end_snooze(
        &mut self,
        id: i64,
        patient_id: i64,
        staff_id: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE alert_snoozes SET ended_at = $1, ended_by = $2 WHERE id = $3 AND patient_id = $4 AND ended_at IS NULL",
        )
        .bind(now_text())
        .bind(staff_id)
        .bind(id)
        .bind(patient_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
