//! Help requests: a patient's "I need help" (a call request without a form), stored once per
//! client id, each with the call-request card it opened or joined.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StorageError, WriteTx};
use qol_shared::Timestamp;

/// A stored help request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRequestRow {
    pub id: i64,
    pub patient_id: i64,
    pub client_id: String,
    pub received_at: Timestamp,
    pub card_id: i64,
    /// The card's service-level deadline when the request arrived: what she was told.
    pub call_back_by: Timestamp,
}

const HELP_QUERY: &str = "SELECT id, patient_id, client_id, received_at, card_id, call_back_by FROM help_requests WHERE client_id = $1";

fn help_request(row: &AnyRow) -> Result<HelpRequestRow, StorageError> {
    Ok(HelpRequestRow {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        client_id: row.try_get("client_id")?,
        received_at: super::stored_timestamp(&row.try_get::<String, _>("received_at")?)?,
        card_id: row.try_get("card_id")?,
        call_back_by: super::stored_timestamp(&row.try_get::<String, _>("call_back_by")?)?,
    })
}

impl Db {
    pub async fn help_request_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<HelpRequestRow>, StorageError> {
        let row = sqlx::query(HELP_QUERY).bind(client_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(help_request).transpose()
    }
}

impl WriteTx {
    /// The help request with this client id, read inside the transaction (after the chain lock,
    /// so a concurrent retry is seen).
    pub async fn help_request_by_client_id(
        &mut self,
        client_id: &str,
    ) -> Result<Option<HelpRequestRow>, StorageError> {
        let row = sqlx::query(HELP_QUERY).bind(client_id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(help_request).transpose()
    }

    pub async fn insert_help_request(
        &mut self,
        patient_id: i64,
        client_id: &str,
        received_at: &Timestamp,
        card_id: i64,
        call_back_by: &Timestamp,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO help_requests (patient_id, client_id, received_at, card_id, call_back_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(patient_id)
        .bind(client_id)
        .bind(received_at.text())
        .bind(card_id)
        .bind(call_back_by.text())
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }
}
