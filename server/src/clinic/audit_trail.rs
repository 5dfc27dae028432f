//! The audit trail as admins read it: filtered entries a page at a time, the chain verified on
//! request, and the filtered entries as CSV (audited before its first byte, written a page at a
//! time into a bounded channel, as the exports are).

use chrono::TimeZone;
use qol_shared::api::{AuditChainStatus, AuditEntryView, AuditPage};
use tokio::sync::mpsc;

use super::*;
use crate::export::Chunk;
use crate::storage::{AuditFilter, AuditRow, AuditVerification};

/// The most entries one page holds.
pub const MAX_PAGE: i64 = 500;
/// Entries read at a time for the CSV.
const CSV_PAGE: i64 = 1000;

/// The columns of the audit trail's CSV.
pub const AUDIT_CSV_COLUMNS: [&str; 11] = [
    "id",
    "occurred_at",
    "actor",
    "actor_role",
    "action",
    "entity",
    "entity_id",
    "patient",
    "before",
    "after",
    "reason",
];

/// What an admin asks of the audit trail, as typed into the viewer.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// A study id.
    pub patient: Option<String>,
    /// A staff username.
    pub staff: Option<String>,
    /// An action, or a kind of action ending with a dot (`submission.`).
    pub action: Option<String>,
    /// The first and last day, in the study's time zone (both included).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

fn trimmed(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn field(problem: String) -> ClinicError {
    ClinicError::Invalid { message: problem.clone(), problems: vec![problem] }
}

impl Clinic {
    /// The storage filter for a query: names normalised, days turned into the instants the
    /// study's days begin.
    fn audit_filter(&self, query: &AuditQuery) -> Result<AuditFilter, ClinicError> {
        let action = trimmed(&query.action).map(str::to_owned);
        if let Some(action) = &action
            && (action.len() > 64 || !action.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'))
        {
            return Err(field(format!(
                "action: {action:?} is not an action (e.g. submission.correct, or submission.)"
            )));
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && to < from
        {
            return Err(field(format!("to: {to} is before from ({from})")));
        }
        let day_start = |day: NaiveDate| -> String {
            let zone = self.protocol().time_zone;
            let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
            let instant = zone
                .from_local_datetime(&midnight)
                .earliest()
                .or_else(|| zone.from_local_datetime(&(midnight + chrono::Duration::hours(1))).earliest())
                .map_or_else(|| Utc.from_utc_datetime(&midnight), |at| at.to_utc());
            timestamp_text(instant)
        };
        Ok(AuditFilter {
            patient: trimmed(&query.patient).map(crate::auth::normal_study_id),
            actor: trimmed(&query.staff).map(|name| format!("staff:{}", crate::auth::normal_username(name))),
            action,
            from: query.from.map(day_start),
            until: query.to.and_then(|to| to.succ_opt()).map(day_start),
        })
    }

    /// A page of the entries the query keeps, newest first. Reading writes nothing.
    pub async fn audit_trail(
        &self,
        query: &AuditQuery,
        before: Option<i64>,
        limit: i64,
    ) -> Result<AuditPage, ClinicError> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ClinicError::BadRequest(format!("limit: from 1 to {MAX_PAGE}")));
        }
        let filter = self.audit_filter(query)?;
        // One more than asked tells whether an older page exists.
        let mut rows = self.db.audit_entries(&filter, before, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_before = if more { rows.last().map(|row| row.id) } else { None };
        let entries = rows.into_iter().map(entry_view).collect::<Result<_, _>>()?;
        Ok(AuditPage { entries, next_before })
    }

    /// The whole chain checked now, with its head.
    pub async fn verify_audit(&self) -> Result<AuditChainStatus, ClinicError> {
        let verification = self.db.verify_audit_chain(None).await?;
        let head = self.db.audit_head().await?;
        let (intact, entries, broken_at, problem) = match verification {
            AuditVerification::Intact { entries } => (true, entries, None, None),
            AuditVerification::Broken { id, checked, problem } => (false, checked, Some(id), Some(problem)),
        };
        Ok(AuditChainStatus {
            intact,
            entries,
            head: head.to_string(),
            broken_at,
            problem,
            checked_at: qol_shared::Timestamp::from(self.now()),
        })
    }

    /// Audits the export of the filtered entries (who, and the filter), then writes them as CSV
    /// into the returned channel, oldest first.
    pub async fn start_audit_export(
        &self,
        actor: &Actor,
        query: &AuditQuery,
    ) -> Result<mpsc::Receiver<Chunk>, ClinicError> {
        let filter = self.audit_filter(query)?;
        self.db
            .audit_alone(
                actor,
                AuditEntry {
                    action: "audit.export",
                    entity: "audit_log",
                    entity_id: "audit.csv".to_owned(),
                    after: Some(json!({
                        "patient": filter.patient, "actor": filter.actor, "action": filter.action,
                        "from": query.from, "to": query.to,
                    })),
                    patient: filter.patient.clone(),
                    ..AuditEntry::default()
                },
            )
            .await?;
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        let clinic = self.clone();
        tokio::spawn(async move {
            if let Err(error) = clinic.write_audit_csv(&filter, &tx).await {
                tracing::error!(%error, "audit export failed");
                let _ = tx.send(Err(std::io::Error::other(format!("the export failed: {error}")))).await;
            }
        });
        Ok(rx)
    }

    /// Newest first from storage, a page at a time; the file lists them newest first too (as the
    /// viewer does), each page one chunk.
    async fn write_audit_csv(
        &self,
        filter: &AuditFilter,
        tx: &mpsc::Sender<Chunk>,
    ) -> Result<(), ClinicError> {
        let head = crate::export::csv_bytes(|w| w.write_record(AUDIT_CSV_COLUMNS))?;
        if tx.send(Ok(head)).await.is_err() {
            return Ok(());
        }
        let mut before = None;
        loop {
            let rows = self.db.audit_entries(filter, before, CSV_PAGE).await?;
            let Some(last) = rows.last() else { return Ok(()) };
            before = Some(last.id);
            let chunk = crate::export::csv_bytes(|w| {
                for row in &rows {
                    w.write_record([
                        row.id.to_string().as_str(),
                        &row.occurred_at,
                        &row.actor,
                        &row.actor_role,
                        &row.action,
                        &row.entity,
                        &row.entity_id,
                        row.patient.as_deref().unwrap_or_default(),
                        row.before.as_deref().unwrap_or_default(),
                        row.after.as_deref().unwrap_or_default(),
                        row.reason.as_deref().unwrap_or_default(),
                    ])?;
                }
                Ok(())
            })?;
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(());
            }
        }
    }
}

fn entry_view(row: AuditRow) -> Result<AuditEntryView, ClinicError> {
    Ok(AuditEntryView {
        id: row.id,
        occurred_at: crate::storage::stored_timestamp(&row.occurred_at)?,
        actor: row.actor,
        actor_role: row.actor_role,
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id,
        patient: row.patient,
        before: row.before,
        after: row.after,
        reason: row.reason,
    })
}
