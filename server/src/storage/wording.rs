//! Wording packs uploaded from the admin console: kept whole, never changed; the newest is the
//! pack in use.

use sqlx::Row;

use super::{Db, StorageError, WriteTx};

/// An uploaded pack as stored.
#[derive(Debug, Clone)]
pub struct WordingPackRow {
    pub id: i64,
    pub sha256: String,
    pub pack_json: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub reason: String,
}

/// A pack to store.
#[derive(Debug, Clone, Copy)]
pub struct NewWordingPack<'a> {
    pub study_id: i64,
    pub sha256: &'a str,
    pub name: &'a str,
    pub pack_json: &'a str,
    pub uploaded_by: &'a str,
    pub uploaded_at: &'a str,
    pub reason: &'a str,
    /// The uploaded pack in use when this one was applied (0: none).
    pub replaces_id: i64,
}

fn pack_row(row: &sqlx::any::AnyRow) -> Result<WordingPackRow, StorageError> {
    Ok(WordingPackRow {
        id: row.try_get("id")?,
        sha256: row.try_get("sha256")?,
        pack_json: row.try_get("pack_json")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: row.try_get("uploaded_at")?,
        reason: row.try_get("reason")?,
    })
}

const PACK_COLUMNS: &str = "id, sha256, pack_json, uploaded_by, uploaded_at, reason";

impl Db {
    /// The study's newest uploaded pack, if any.
    pub async fn newest_wording_pack(&self, study_id: i64) -> Result<Option<WordingPackRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PACK_COLUMNS} FROM wording_packs WHERE study_id = $1 ORDER BY id DESC LIMIT 1"
        )))
        .bind(study_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(pack_row).transpose()
    }

    /// The id of the study's newest uploaded pack (0: none), one indexed lookup.
    pub async fn newest_wording_pack_id(&self, study_id: i64) -> Result<i64, StorageError> {
        let row = sqlx::query("SELECT MAX(id) AS id FROM wording_packs WHERE study_id = $1")
            .bind(study_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("id")?.unwrap_or(0))
    }

    /// How many of the study's patients use each language (by tag), whatever their state: a
    /// pack must keep every language a patient's forms are in.
    pub async fn patient_languages(&self, study_id: i64) -> Result<Vec<(String, i64)>, StorageError> {
        let rows = sqlx::query(
            "SELECT language, COUNT(*) AS patients FROM patients WHERE study_id = $1 GROUP BY language ORDER BY language",
        )
        .bind(study_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("language")?, row.try_get("patients")?))).collect()
    }
}

impl WriteTx {
    /// Stores an uploaded pack (it becomes the newest). Returns its id.
    pub async fn insert_wording_pack(&mut self, pack: &NewWordingPack<'_>) -> Result<i64, StorageError> {
        let row = sqlx::query(
            "INSERT INTO wording_packs (study_id, sha256, name, pack_json, uploaded_by, uploaded_at, reason, replaces_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(pack.study_id)
        .bind(pack.sha256)
        .bind(pack.name)
        .bind(pack.pack_json)
        .bind(pack.uploaded_by)
        .bind(pack.uploaded_at)
        .bind(pack.reason)
        .bind(pack.replaces_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("id")?)
    }
}
