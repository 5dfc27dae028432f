//! Paper forms entered twice, blind (when the protocol asks for it): each entry kept as entered,
//! never changed.

use sqlx::Row;

use super::{Db, StorageError, WriteTx};

/// One entry of a paper form.
#[derive(Debug, Clone)]
pub struct PaperEntryRow {
    /// 1 or 2.
    pub entry: i64,
    pub client_id: String,
    /// The entry as the console sent it (a `StaffEntryRequest`).
    pub request_json: String,
    pub entered_by: String,
    pub entered_at: String,
}

impl Db {
    /// An assessment's entries, first one first.
    pub async fn paper_entries(&self, assessment_id: i64) -> Result<Vec<PaperEntryRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT entry, client_id, request_json, entered_by, entered_at FROM paper_entries \
             WHERE assessment_id = $1 ORDER BY entry",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PaperEntryRow {
                    entry: row.try_get("entry")?,
                    client_id: row.try_get("client_id")?,
                    request_json: row.try_get("request_json")?,
                    entered_by: row.try_get("entered_by")?,
                    entered_at: row.try_get("entered_at")?,
                })
            })
            .collect()
    }

    /// The assessment an entry with this client id was made for (a retry).
    pub async fn paper_entry_assessment(&self, client_id: &str) -> Result<Option<i64>, StorageError> {
        let row = sqlx::query("SELECT assessment_id FROM paper_entries WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("assessment_id")).transpose()?)
    }
}

impl WriteTx {
    /// Stores entry 1 or 2 of an assessment's paper form; the same entry number twice is a
    /// unique violation.
    pub async fn insert_paper_entry(
        &mut self,
        assessment_id: i64,
        entry: i64,
        client_id: &str,
        request_json: &str,
        entered_by: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO paper_entries (assessment_id, entry, client_id, request_json, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(assessment_id)
        .bind(entry)
        .bind(client_id)
        .bind(request_json)
        .bind(entered_by)
        .bind(self.now_text())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
