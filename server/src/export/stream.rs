//! The channel an export is written into: audited first, then written patient by patient by a
//! task of its own, so the reader (an HTTP body, `qol export`'s file) sets the pace and memory
//! stays at a few chunks.

use chrono::NaiveDate;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{Chunk, Export, head, patient_chunk};
use crate::clinic::{Clinic, ClinicError};
use crate::research;

/// Audits the export (who, which, `details`), then starts writing it: the chunks arrive on the
/// returned channel, whose bound (four chunks) is the memory bound; a failure is the last chunk,
/// and the channel closes when the export is done. The API and `qol export` both start here, so
/// nothing is exported unaudited.
pub async fn start(
    clinic: &Clinic,
    actor: &crate::storage::Actor,
    export: Export,
    details: Value,
) -> Result<mpsc::Receiver<Chunk>, ClinicError> {
    clinic
        .db
        .audit_alone(
            actor,
            crate::storage::AuditEntry {
                action: "export",
                entity: "export",
                entity_id: export.name().to_owned(),
                after: Some(details),
                ..crate::storage::AuditEntry::default()
            },
        )
        .await?;
    let (tx, rx) = mpsc::channel::<Chunk>(4);
    let clinic = clinic.clone();
    tokio::spawn(async move { run(&clinic, export, clinic.today(), tx).await });
    Ok(rx)
}

/// Writes `export` into `tx`, chunk by chunk; a failure is sent as the last chunk. Stops quietly
/// when the reader goes away.
async fn run(clinic: &Clinic, export: Export, today: NaiveDate, tx: mpsc::Sender<Chunk>) {
    if let Err(error) = produce(clinic, export, today, &tx).await {
        tracing::error!(export = export.name(), %error, "export failed");
        let _ = tx.send(Err(std::io::Error::other(format!("the export failed: {error}")))).await;
    }
}

async fn produce(
    clinic: &Clinic,
    export: Export,
    today: NaiveDate,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), ClinicError> {
    if tx.send(Ok(head(export)?)).await.is_err() || export == Export::Dictionary {
        return Ok(());
    }
    let scales = research::scales();
    let mut walk = research::Walk::new(clinic, today);
    while let Some(record) = walk.next().await? {
        if tx.send(Ok(patient_chunk(export, &record, &scales, &clinic.protocol)?)).await.is_err() {
            break;
        }
    }
    Ok(())
}
