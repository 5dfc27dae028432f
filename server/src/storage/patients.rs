//! Patients, their identity (a separate table), treatment events and the stored schedule.

use qol_shared::api::{Identity, MissedReason, ReminderChannel};
use qol_shared::instrument::InstrumentId;
use qol_shared::schedule::{Event, ScheduledAssessment};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StorageError, WriteTx, enum_from, enum_text, parse_date};
use qol_shared::schedule::AssessmentKey;
use qol_shared::{Language, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRow {
    pub id: i64,
    pub study_code: String,
    pub stratum: String,
    pub language: Language,
    pub activated: bool,
    pub reminder_channel: ReminderChannel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: i64,
    pub event: Event,
    pub recorded_at: Timestamp,
    pub recorded_by: String,
    pub reason: Option<String>,
    pub corrects: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentRow {
    pub id: i64,
    pub patient_id: i64,
    pub key: AssessmentKey,
    pub code: String,
    pub label: String,
    pub instruments: Vec<InstrumentId>,
    pub target: chrono::NaiveDate,
    pub window_start: chrono::NaiveDate,
    pub window_end: chrono::NaiveDate,
    pub unscheduled: bool,
    /// The receipt time of the first submission for it, if any.
    pub received_at: Option<Timestamp>,
    pub missed_reason: Option<MissedReason>,
    pub missed_note: Option<String>,
    /// The protocol version it was scheduled under (1: the study's first).
    pub protocol_version: i64,
    /// Paper entries made for it (double entry: 0, 1 or 2).
    pub paper_entries: i64,
}

impl AssessmentRow {
    pub fn as_scheduled(&self) -> ScheduledAssessment {
        ScheduledAssessment {
            key: self.key.clone(),
            code: self.code.clone(),
            label: self.label.clone(),
            occurrence: None,
            instruments: self.instruments.clone(),
            target: self.target,
            window_start: self.window_start,
            window_end: self.window_end,
            primary_post: false,
        }
    }
}

fn patient(row: &AnyRow) -> Result<PatientRow, StorageError> {
    Ok(PatientRow {
        id: row.try_get("id")?,
        study_code: row.try_get("study_code")?,
        stratum: row.try_get("stratum")?,
        language: super::stored_language(&row.try_get::<String, _>("language")?)?,
        activated: row.try_get::<Option<String>, _>("activated_at")?.is_some(),
        reminder_channel: {
            let text: String = row.try_get("reminder_channel")?;
            ReminderChannel::parse(&text)
                .ok_or_else(|| StorageError::Corrupt(format!("reminder channel {text:?}")))?
        },
    })
}

/// Treatment event records with their recorder (and patient, for reads of many patients).
pub(super) const EVENT_QUERY: &str = "SELECT e.id, e.patient_id, e.event_json, e.recorded_at, u.username, e.reason, e.corrects_id \
     FROM treatment_events e JOIN staff_users u ON u.id = e.recorded_by";

pub(super) fn event(row: &AnyRow) -> Result<EventRow, StorageError> {
    let json: String = row.try_get("event_json")?;
    Ok(EventRow {
        id: row.try_get("id")?,
        event: serde_json::from_str(&json).map_err(|e| StorageError::Corrupt(format!("event: {e}")))?,
        recorded_at: super::stored_timestamp(&row.try_get::<String, _>("recorded_at")?)?,
        recorded_by: row.try_get("username")?,
        reason: row.try_get("reason")?,
        corrects: row.try_get("corrects_id")?,
    })
}

/// The class of PostgreSQL's advisory locks that serialise one patient's unscheduled reports
/// written before the chain lock (its two-key space is not the one sqlx's migrations lock in).
const UNSCHEDULED_LOCK_CLASS: i32 = 0x716f_6c01;

const PATIENT_COLUMNS: &str = "id, study_code, stratum, language, activated_at, reminder_channel";

fn instruments_text(instruments: &[InstrumentId]) -> String {
    instruments.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(",")
}

pub(super) fn assessment(row: &AnyRow) -> Result<AssessmentRow, StorageError> {
    let instruments: String = row.try_get("instruments")?;
    Ok(AssessmentRow {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        key: AssessmentKey::from(row.try_get::<String, _>("key")?),
        code: row.try_get("code")?,
        label: row.try_get("label")?,
        instruments: instruments
            .split(',')
            .map(|id| {
                InstrumentId::parse(id).ok_or_else(|| StorageError::Corrupt(format!("instrument {id:?}")))
            })
            .collect::<Result<_, _>>()?,
        target: parse_date(&row.try_get::<String, _>("target_date")?)?,
        window_start: parse_date(&row.try_get::<String, _>("window_start")?)?,
        window_end: parse_date(&row.try_get::<String, _>("window_end")?)?,
        unscheduled: row.try_get::<i64, _>("unscheduled")? == 1,
        received_at: super::stored_timestamp_opt(row.try_get("received_at")?)?,
        missed_reason: row
            .try_get::<Option<String>, _>("missed_reason")?
            .as_deref()
            .map(enum_from)
            .transpose()?,
        missed_note: row.try_get("missed_note")?,
        protocol_version: row.try_get("protocol_version")?,
        paper_entries: row.try_get("paper_entries")?,
    })
}

pub(super) const ASSESSMENT_QUERY: &str = "SELECT a.id, a.patient_id, a.key, a.code, a.label, a.instruments, a.target_date, a.window_start, \
     a.window_end, a.unscheduled, a.missed_reason, a.missed_note, a.protocol_version, \
     (SELECT COUNT(*) FROM paper_entries p WHERE p.assessment_id = a.id) AS paper_entries, (SELECT MIN(s.received_at) FROM submissions s WHERE s.assessment_id = a.id) AS received_at \
     FROM assessments a";

impl Db {
    pub async fn patients(&self) -> Result<Vec<PatientRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PATIENT_COLUMNS} FROM patients ORDER BY study_code"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(patient).collect()
    }

    /// Up to `limit` patients after `after` in study id order: a page, so that a walk over
    /// every patient holds one page at a time.
    pub async fn patients_after(&self, after: &str, limit: i64) -> Result<Vec<PatientRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE study_code > $1 ORDER BY study_code LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(patient).collect()
    }

    /// The patient with this study id. A text holding a NUL names nobody (and PostgreSQL refuses
    /// one in a parameter), so it is not sent.
    pub async fn patient_by_code(&self, study_code: &str) -> Result<Option<PatientRow>, StorageError> {
        if study_code.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE study_code = $1"
        )))
        .bind(study_code)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(patient).transpose()
    }

    pub async fn patient_by_id(&self, id: i64) -> Result<Option<PatientRow>, StorageError> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(patient).transpose()
    }

    /// Identity: only for callers allowed to see it (nurses, admins, the patient).
    pub async fn identity(&self, patient_id: i64) -> Result<Option<Identity>, StorageError> {
        let row = sqlx::query(
            "SELECT full_name, phone, hospital_number, email FROM patient_identities WHERE patient_id = $1",
        )
        .bind(patient_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Identity {
                full_name: row.try_get(0)?,
                phone: row.try_get(1)?,
                hospital_number: row.try_get(2)?,
                email: row.try_get(3)?,
            })
        })
        .transpose()
    }

    pub async fn study_codes(&self) -> Result<Vec<String>, StorageError> {
        let rows = sqlx::query("SELECT study_code FROM patients").fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    /// Every event record of a patient, oldest first (corrections included).
    pub async fn events(&self, patient_id: i64) -> Result<Vec<EventRow>, StorageError> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{EVENT_QUERY} WHERE e.patient_id = $1 ORDER BY e.id")))
                .bind(patient_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(event).collect()
    }

    /// The patient's assessments that are in the current schedule (and unscheduled ones).
    pub async fn assessments(&self, patient_id: i64) -> Result<Vec<AssessmentRow>, StorageError> {
        self.assessments_where(patient_id, "").await
    }

    /// The patient's scheduled assessments, without her unscheduled reports: what the schedule is
    /// compared with on every form she sends (`Clinic::sync_schedule`), which a patient with many
    /// "I feel worse" reports would otherwise read in full each time.
    pub async fn scheduled_assessments(&self, patient_id: i64) -> Result<Vec<AssessmentRow>, StorageError> {
        self.assessments_where(patient_id, " AND a.unscheduled = 0").await
    }

    /// The patient's assessments in the current schedule, narrowed by `and` (a fixed condition).
    async fn assessments_where(
        &self,
        patient_id: i64,
        and: &'static str,
    ) -> Result<Vec<AssessmentRow>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_QUERY} WHERE a.patient_id = $1 AND a.withdrawn = 0{and} ORDER BY a.window_start, a.key"
        )))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(assessment).collect()
    }

    /// An assessment by id alone (staff routes); the row names its patient.
    pub async fn assessment_by_id(&self, assessment_id: i64) -> Result<Option<AssessmentRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_QUERY} WHERE a.id = $1 AND a.withdrawn = 0"
        )))
        .bind(assessment_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(assessment).transpose()
    }

    /// The patient's assessment with this id, also one that has left the schedule since her
    /// phone opened it: a form answered for it is still taken (research places it).
    pub async fn assessment_ever_scheduled(
        &self,
        patient_id: i64,
        assessment_id: i64,
    ) -> Result<Option<AssessmentRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_QUERY} WHERE a.patient_id = $1 AND a.id = $2"
        )))
        .bind(patient_id)
        .bind(assessment_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(assessment).transpose()
    }
}

impl WriteTx {
    pub async fn insert_patient(
        &mut self,
        study_id: i64,
        study_code: &str,
        stratum: &str,
        language: Language,
        reminder_channel: ReminderChannel,
        identity: &Identity,
    ) -> Result<i64, StorageError> {
        let now = self.now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO patients (study_id, study_code, stratum, language, reminder_channel, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(study_id)
        .bind(study_code)
        .bind(stratum)
        .bind(language.tag())
        .bind(reminder_channel.as_str())
        .bind(&now)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?;
        sqlx::query(
            "INSERT INTO patient_identities (patient_id, full_name, phone, hospital_number, email, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&identity.full_name)
        .bind(&identity.phone)
        .bind(&identity.hospital_number)
        .bind(&identity.email)
        .bind(&now)
        .execute(&mut *self.tx)
        .await?;
        Ok(id)
    }

    pub async fn insert_event(
        &mut self,
        patient_id: i64,
        event: &Event,
        recorded_by: i64,
        reason: Option<&str>,
        corrects: Option<i64>,
    ) -> Result<i64, StorageError> {
        let json = serde_json::to_string(event).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(sqlx::query(
            "INSERT INTO treatment_events (patient_id, slot, event_json, event_date, recorded_by, recorded_at, reason, corrects_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(patient_id)
        .bind(event.kind.slot())
        .bind(json)
        .bind(event.date.to_string())
        .bind(recorded_by)
        .bind(self.now_text())
        .bind(reason)
        .bind(corrects)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Stores a recomputed schedule: upserts each assessment by key (its id stays stable) and
    /// withdraws scheduled ones that are no longer in it.
    pub async fn store_schedule(
        &mut self,
        patient_id: i64,
        schedule: &[(ScheduledAssessment, i64)],
    ) -> Result<(), StorageError> {
        for (item, protocol_version) in schedule {
            sqlx::query(
                "INSERT INTO assessments (patient_id, key, code, label, instruments, target_date, window_start, window_end, protocol_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (patient_id, key) DO UPDATE SET label = $4, instruments = $5, target_date = $6, \
                 window_start = $7, window_end = $8, withdrawn = 0, protocol_version = $9",
            )
            .bind(patient_id)
            .bind(item.key.as_str())
            .bind(&item.code)
            .bind(&item.label)
            .bind(instruments_text(&item.instruments))
            .bind(item.target.to_string())
            .bind(item.window_start.to_string())
            .bind(item.window_end.to_string())
            .bind(*protocol_version)
            .execute(&mut *self.tx)
            .await?;
        }
        let keys: Vec<&str> = schedule.iter().map(|(item, _)| item.key.as_str()).collect();
        let rows = sqlx::query(
            "SELECT id, key FROM assessments WHERE patient_id = $1 AND unscheduled = 0 AND withdrawn = 0",
        )
        .bind(patient_id)
        .fetch_all(&mut *self.tx)
        .await?;
        for row in rows {
            let key: String = row.try_get(1)?;
            if !keys.contains(&key.as_str()) {
                sqlx::query("UPDATE assessments SET withdrawn = 1 WHERE id = $1")
                    .bind(row.try_get::<i64, _>(0)?)
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn record_missed_reason(
        &mut self,
        assessment_id: i64,
        reason: MissedReason,
        note: &str,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE assessments SET missed_reason = $1, missed_note = $2 WHERE id = $3")
            .bind(enum_text(&reason))
            .bind(note)
            .bind(assessment_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// An unscheduled QLQ-C30 ("I feel worse"), open on the day it is sent.
    /// Adds an unscheduled report's assessment, keyed `unscheduled-<n>`: the patient's n-th, so
    /// the key says nothing about the device or the time. Two reports cannot take the same n:
    /// under the chain lock writers are serialised, and a form inserted before it (on
    /// PostgreSQL, [`Db::begin_write_deferred`](super::Db::begin_write_deferred)) first takes a
    /// lock of the patient's own, held to commit, in a statement of its own so that the count's
    /// statement sees her last report's commit.
    pub async fn insert_unscheduled_assessment(
        &mut self,
        patient_id: i64,
        label: &str,
        day: chrono::NaiveDate,
        protocol_version: i64,
    ) -> Result<i64, StorageError> {
        if !self.chain_locked() {
            // Only this statement takes a lock of this class, and never under the chain lock, so
            // no holder of the chain lock waits for it.
            sqlx::query("SELECT pg_advisory_xact_lock(CAST($1 AS INTEGER), CAST($2 AS INTEGER))")
                .bind(UNSCHEDULED_LOCK_CLASS)
                .bind(patient_id)
                .execute(&mut *self.tx)
                .await?;
        }
        // Counted in the insert itself: one round trip fewer under the write lock.
        Ok(sqlx::query(
            "INSERT INTO assessments (patient_id, key, code, label, instruments, target_date, window_start, window_end, unscheduled, protocol_version) \
             VALUES ($1, 'unscheduled-' || CAST((SELECT COUNT(*) + 1 FROM assessments WHERE patient_id = $1 AND unscheduled = 1) AS TEXT), \
             'unscheduled', $2, 'qlq-c30', $3, $3, $3, 1, $4) RETURNING id",
        )
        .bind(patient_id)
        .bind(label)
        .bind(day.to_string())
        .bind(protocol_version)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }
}
