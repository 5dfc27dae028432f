//! The outbox as its worker sees it: claiming the next due message under a lease, and recording
//! what became of an attempt (sent, to be retried, failed), audited, only while the lease holds.

use std::time::Duration;

use super::*;
use crate::storage::OutboxMessage;

/// What became of one attempt to send a message.
#[derive(Debug)]
pub enum Attempt {
    Sent,
    /// Failed with this error; tried again at `retry_at`, or given up (`None`).
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

impl Clinic {
    /// Claims the next due message for `worker` until `lease` from now; none when nothing is due.
    /// One message per claim: each is sent within its own lease (the send is bounded well inside
    /// it), so a lease never runs out on a message still waiting its turn in a batch.
    pub async fn claim_next_message(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<OutboxMessage>, ClinicError> {
        let now = self.now();
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(2));
        let mut tx = self.db.begin_write().await?;
        let claimed = tx
            .claim_due(self.db.backend(), worker, &timestamp_text(now), &timestamp_text(lease_until), 1)
            .await?;
        tx.commit_derived().await?;
        Ok(claimed.into_iter().next())
    }

    /// Records an attempt's outcome and audits it, if `worker` still holds the message's lease;
    /// `false` when the lease ran out and another worker took the message over (its outcome
    /// stands).
    pub async fn record_attempt(
        &self,
        worker: &str,
        message: &OutboxMessage,
        attempt: Attempt,
    ) -> Result<bool, ClinicError> {
        // A patient's phone number or address stays out of the audit trail: her study id stands
        // for it (the outbox row holds the recipient).
        let recipient = match message.patient_id.filter(|_| message.purpose == "reminder") {
            Some(patient_id) => format!("patient {patient_id}"),
            None => message.recipient.clone(),
        };
        let mut tx = self.db.begin_write().await?;
        let (recorded, action, after) = match &attempt {
            Attempt::Sent => (
                tx.outbox_sent(message.id, worker, &tx.now_text()).await?,
                "notification.sent",
                json!({ "attempt": message.attempt, "channel": message.channel, "purpose": message.purpose, "recipient": recipient }),
            ),
            Attempt::Failed { error, retry_at } => {
                let retry_at = retry_at.map(timestamp_text);
                (
                    tx.outbox_attempt_failed(message.id, worker, error, retry_at.as_deref()).await?,
                    if retry_at.is_none() { "notification.failed" } else { "notification.attempt_failed" },
                    json!({ "attempt": message.attempt, "channel": message.channel, "purpose": message.purpose, "recipient": recipient,
                            "error": error, "retry_at": retry_at }),
                )
            }
        };
        if !recorded {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.audit(
            &Actor::system(),
            AuditEntry {
                action,
                entity: "outbox",
                entity_id: message.id.to_string(),
                after: Some(after),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
