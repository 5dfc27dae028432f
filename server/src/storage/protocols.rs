//! Protocol amendments: version 2 onwards, kept whole, never changed (version 1 is the study's
//! own `protocol_json`).

use sqlx::Row;

use super::{Db, StorageError, WriteTx};

/// An amendment as stored.
#[derive(Debug, Clone)]
pub struct ProtocolVersionRow {
    pub version: i64,
    pub protocol_json: String,
    pub sha256: String,
    pub amended_by: String,
    pub amended_at: String,
    pub effective_on: String,
    pub reason: String,
}

/// An amendment to store.
#[derive(Debug, Clone, Copy)]
pub struct NewProtocolVersion<'a> {
    pub study_id: i64,
    pub version: i64,
    pub protocol_json: &'a str,
    pub sha256: &'a str,
    pub amended_by: &'a str,
    pub amended_at: &'a str,
    pub effective_on: &'a str,
    pub reason: &'a str,
}

impl Db {
    /// The study's amendments, oldest first.
    pub async fn protocol_versions(&self, study_id: i64) -> Result<Vec<ProtocolVersionRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT version, protocol_json, sha256, amended_by, amended_at, effective_on, reason \
             FROM protocol_versions WHERE study_id = $1 ORDER BY version",
        )
        .bind(study_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ProtocolVersionRow {
                    version: row.try_get("version")?,
                    protocol_json: row.try_get("protocol_json")?,
                    sha256: row.try_get("sha256")?,
                    amended_by: row.try_get("amended_by")?,
                    amended_at: row.try_get("amended_at")?,
                    effective_on: row.try_get("effective_on")?,
                    reason: row.try_get("reason")?,
                })
            })
            .collect()
    }

    /// The study's newest protocol version (1 when it was never amended), one indexed lookup.
    pub async fn newest_protocol_version(&self, study_id: i64) -> Result<i64, StorageError> {
        let row = sqlx::query("SELECT MAX(version) AS version FROM protocol_versions WHERE study_id = $1")
            .bind(study_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("version")?.unwrap_or(1))
    }
}

impl WriteTx {
    /// Stores an amendment; a version number already taken is a unique violation.
    pub async fn insert_protocol_version(
        &mut self,
        amendment: &NewProtocolVersion<'_>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO protocol_versions \
             (study_id, version, protocol_json, sha256, amended_by, amended_at, effective_on, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(amendment.study_id)
        .bind(amendment.version)
        .bind(amendment.protocol_json)
        .bind(amendment.sha256)
        .bind(amendment.amended_by)
        .bind(amendment.amended_at)
        .bind(amendment.effective_on)
        .bind(amendment.reason)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
