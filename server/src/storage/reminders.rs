//! Reminders: a patient's channel and e-mail, her browsers' push subscriptions, and the
//! reminders in the outbox (how many per assessment, what became of each).

use qol_shared::api::ReminderChannel;
use sqlx::Row;

use super::{Db, StorageError, WriteTx};

/// A browser that receives push reminders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscriptionRow {
    pub id: i64,
    pub patient_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub ended: bool,
}

/// One reminder in the outbox, as nurses see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    pub id: i64,
    pub assessment_key: String,
    pub template: String,
    pub channel: String,
    pub state: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// How many reminders an assessment has had (cancelled ones not counted), and the last one's
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderCount {
    pub patient_id: i64,
    pub assessment_key: String,
    pub count: i64,
    pub last_at: String,
    /// The latest reminder for it failed.
    pub last_failed: bool,
}

const SUBSCRIPTION_COLUMNS: &str = "id, patient_id, endpoint, p256dh, auth, ended_at";

fn subscription(row: &sqlx::any::AnyRow) -> Result<PushSubscriptionRow, StorageError> {
    Ok(PushSubscriptionRow {
        id: row.try_get(0)?,
        patient_id: row.try_get(1)?,
        endpoint: row.try_get(2)?,
        p256dh: row.try_get(3)?,
        auth: row.try_get(4)?,
        ended: row.try_get::<Option<String>, _>(5)?.is_some(),
    })
}

impl Db {
    /// A patient's push subscriptions that still receive, newest first.
    pub async fn push_subscriptions(
        &self,
        patient_id: i64,
    ) -> Result<Vec<PushSubscriptionRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE patient_id = $1 AND ended_at IS NULL \
             ORDER BY id DESC"
        )))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(subscription).collect()
    }

    pub async fn push_subscription(&self, id: i64) -> Result<Option<PushSubscriptionRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(subscription).transpose()
    }

    /// Every reminder of a patient, newest first.
    pub async fn reminders(&self, patient_id: i64) -> Result<Vec<ReminderRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, assessment_key, template, channel, state, created_at, sent_at, attempts, last_error \
             FROM outbox WHERE purpose = 'reminder' AND patient_id = $1 ORDER BY id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReminderRow {
                    id: row.try_get(0)?,
                    assessment_key: row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    template: row.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                    channel: row.try_get(3)?,
                    state: row.try_get(4)?,
                    created_at: row.try_get(5)?,
                    sent_at: row.try_get(6)?,
                    attempts: row.try_get(7)?,
                    last_error: row.try_get(8)?,
                })
            })
            .collect()
    }

    /// Reminders sent per patient and assessment (for the follow-up lists): only those that
    /// left, with the last one's time.
    pub async fn reminders_sent(&self) -> Result<Vec<ReminderCount>, StorageError> {
        // Per assessment: the reminders that left, the last one's time, and the state of the
        // latest one queued (cancelled ones aside).
        let rows = sqlx::query(
            "SELECT o.patient_id, o.assessment_key, \
             (SELECT COUNT(*) FROM outbox s WHERE s.purpose = 'reminder' AND s.state = 'sent' \
              AND s.patient_id = o.patient_id AND s.assessment_key = o.assessment_key), \
             (SELECT MAX(s.sent_at) FROM outbox s WHERE s.purpose = 'reminder' AND s.state = 'sent' \
              AND s.patient_id = o.patient_id AND s.assessment_key = o.assessment_key), \
             o.state FROM outbox o WHERE o.id IN (SELECT MAX(id) FROM outbox WHERE purpose = 'reminder' \
             AND state <> 'cancelled' GROUP BY patient_id, assessment_key)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReminderCount {
                    patient_id: row.try_get(0)?,
                    assessment_key: row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    count: row.try_get(2)?,
                    last_at: row.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                    last_failed: row.try_get::<String, _>(4)? == "failed",
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// Reminders queued for one assessment of a patient, cancelled ones not counted.
    pub async fn reminders_queued(
        &mut self,
        patient_id: i64,
        assessment_key: &str,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reminder' AND patient_id = $1 AND assessment_key = $2 \
             AND state <> 'cancelled'",
        )
        .bind(patient_id)
        .bind(assessment_key)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Reminders queued for a patient since `since` (any assessment), cancelled ones not counted.
    pub async fn reminders_queued_since(
        &mut self,
        patient_id: i64,
        since: &str,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reminder' AND patient_id = $1 AND created_at >= $2 \
             AND state <> 'cancelled'",
        )
        .bind(patient_id)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    pub async fn set_reminder_channel(
        &mut self,
        patient_id: i64,
        channel: ReminderChannel,
        language: qol_shared::Language,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE patients SET reminder_channel = $1, language = $2 WHERE id = $3")
            .bind(channel.as_str())
            .bind(language.tag())
            .bind(patient_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn set_patient_email(&mut self, patient_id: i64, email: &str) -> Result<(), StorageError> {
        let now = self.now_text();
        sqlx::query("UPDATE patient_identities SET email = $1, updated_at = $2 WHERE patient_id = $3")
            .bind(email)
            .bind(now)
            .bind(patient_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records a browser's subscription for a patient (a known endpoint moves to her, with its
    /// new keys, and receives again). Returns its id.
    pub async fn save_push_subscription(
        &mut self,
        patient_id: i64,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<i64, StorageError> {
        let now = self.now_text();
        Ok(sqlx::query(
            "INSERT INTO push_subscriptions (patient_id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (endpoint) DO UPDATE SET patient_id = excluded.patient_id, p256dh = excluded.p256dh, \
             auth = excluded.auth, created_at = excluded.created_at, ended_at = NULL, ended_reason = NULL \
             RETURNING id",
        )
        .bind(patient_id)
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Ends a subscription (`reason`: the patient turned it off, or the push service said it is
    /// gone). Returns the patient's id when it was receiving until now.
    pub async fn end_push_subscription(
        &mut self,
        endpoint: &str,
        patient_id: Option<i64>,
        reason: &str,
    ) -> Result<Option<i64>, StorageError> {
        let now = self.now_text();
        let row = sqlx::query(
            "UPDATE push_subscriptions SET ended_at = $1, ended_reason = $2 \
             WHERE endpoint = $3 AND ended_at IS NULL AND ($4 < 0 OR patient_id = $4) RETURNING patient_id",
        )
        .bind(now)
        .bind(reason)
        .bind(endpoint)
        .bind(patient_id.unwrap_or(-1))
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| row.try_get(0)).transpose().map_err(Into::into)
    }

    /// A claimed reminder that is not wanted any more (only by the worker holding its lease).
    pub async fn outbox_cancel(&mut self, id: i64, worker: &str, why: &str) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'cancelled', last_error = $1, lease_until = NULL \
             WHERE id = $2 AND leased_by = $3 AND state = 'pending'",
        )
        .bind(why)
        .bind(id)
        .bind(worker)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A claimed message waits until `until` without counting as an attempt (quiet hours).
    pub async fn outbox_defer(&mut self, id: i64, worker: &str, until: &str) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, lease_until = NULL, attempts = attempts - 1 \
             WHERE id = $2 AND leased_by = $3 AND state = 'pending'",
        )
        .bind(until)
        .bind(id)
        .bind(worker)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
