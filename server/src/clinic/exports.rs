//! Starting an export: audited before its first byte, then written patient by patient into a
//! bounded channel by a task of its own (the formats are `crate::export`'s).

use tokio::sync::mpsc;

use super::research::{self, Walk};
use super::*;
use crate::export::{self, Chunk, Export};

impl Clinic {
    /// Audits the export (who, which, `details`), then starts writing it: the chunks arrive on
    /// the returned channel, whose bound (four chunks) is the memory bound; a failure is the
    /// last chunk, and the channel closes when the export is done. The API and `qol export` both
    /// start here, so nothing is exported unaudited.
    pub async fn start_export(
        &self,
        actor: &Actor,
        which: Export,
        details: serde_json::Value,
    ) -> Result<mpsc::Receiver<Chunk>, ClinicError> {
        self.db
            .audit_alone(
                actor,
                AuditEntry {
                    action: "export",
                    entity: "export",
                    entity_id: which.name().to_owned(),
                    after: Some(details),
                    ..AuditEntry::default()
                },
            )
            .await?;
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        let clinic = self.clone();
        tokio::spawn(async move { clinic.write_export(which, clinic.today(), tx).await });
        Ok(rx)
    }

    /// Writes `which` into `tx`, chunk by chunk; a failure is sent as the last chunk. Stops
    /// quietly when the reader goes away.
    async fn write_export(&self, which: Export, today: NaiveDate, tx: mpsc::Sender<Chunk>) {
        if let Err(error) = self.produce_export(which, today, &tx).await {
            tracing::error!(export = which.name(), %error, "export failed");
            let _ = tx.send(Err(std::io::Error::other(format!("the export failed: {error}")))).await;
        }
    }

    async fn produce_export(
        &self,
        which: Export,
        today: NaiveDate,
        tx: &mpsc::Sender<Chunk>,
    ) -> Result<(), ClinicError> {
        if tx.send(Ok(export::head(which)?)).await.is_err() || which == Export::Dictionary {
            return Ok(());
        }
        let scales = research::scales();
        let mut walk = Walk::new(self, today);
        if !which.writes_answers() {
            walk = walk.without_answers();
        }
        while let Some(record) = walk.next().await? {
            if tx
                .send(Ok(export::patient_chunk(
                    which,
                    &record,
                    &scales,
                    &self.protocol(),
                    self.protocol_version(),
                )?))
                .await
                .is_err()
            {
                break;
            }
        }
        Ok(())
    }
}
