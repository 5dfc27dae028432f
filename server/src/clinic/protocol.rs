//! The study's protocol and its amendments: version 1 is the protocol the study started with,
//! each amendment one more, kept whole in the database (the newest is the protocol in use on
//! every server of the study). An amendment is checked first (every problem named, every value
//! it changes listed), then applied with a reason in one audited transaction; the schedules then
//! move forward under it, while an assessment whose window opened before it took effect (or that
//! has a form or a missed reason) keeps the version it was scheduled under.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use qol_shared::api::{ProtocolChange, ProtocolReport, ProtocolUpload, ProtocolVersionView};
use qol_shared::schedule::{AssessmentKey, Events, ScheduledAssessment, schedule};
use serde_json::Value;

use super::*;
use crate::storage::{AssessmentRow, NewProtocolVersion};

/// One version of the protocol.
#[derive(Debug)]
pub struct VersionedProtocol {
    pub version: i64,
    pub protocol: Arc<Protocol>,
    /// SHA-256 (hex) of the protocol as the server writes it.
    pub sha256: String,
    /// The study's day an amendment took effect (none for version 1).
    pub effective_on: Option<NaiveDate>,
    /// Who amended it, when and why (none for version 1).
    pub amended: Option<(String, qol_shared::Timestamp, String)>,
}

/// Every version this server has read, oldest first (never empty), and the lock that makes this
/// server's amendments one at a time.
#[derive(Debug)]
pub struct Protocols {
    versions: RwLock<Arc<Vec<Arc<VersionedProtocol>>>>,
    change: tokio::sync::Mutex<()>,
}

impl Protocols {
    /// The study's first protocol alone.
    pub fn first(protocol: Protocol) -> Protocols {
        let first = VersionedProtocol {
            version: 1,
            sha256: fingerprint(&protocol),
            protocol: Arc::new(protocol),
            effective_on: None,
            amended: None,
        };
        Protocols {
            versions: RwLock::new(Arc::new(vec![Arc::new(first)])),
            change: tokio::sync::Mutex::new(()),
        }
    }

    fn all(&self) -> Arc<Vec<Arc<VersionedProtocol>>> {
        self.versions.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn newest(&self) -> Arc<VersionedProtocol> {
        let all = self.all();
        // Never empty: it starts with version 1 and only grows.
        all.last().cloned().unwrap_or_else(|| unreachable!("a study has a first protocol"))
    }

    /// Replaces the versions read, unless another reading already put in as many (two
    /// refreshes at once never go back to fewer versions).
    fn set_if_newer(&self, versions: Vec<Arc<VersionedProtocol>>) {
        let mut current = self.versions.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if versions.len() > current.len() {
            *current = Arc::new(versions);
        }
    }
}

/// Every value that differs between two JSON documents, by dotted path (array elements by their
/// `code` when they have one, else by index), in path order.
fn json_changes(before: &Value, after: &Value) -> Vec<ProtocolChange> {
    fn flatten(value: &Value, path: String, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, inner) in map {
                    let next = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    flatten(inner, next, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (index, inner) in items.iter().enumerate() {
                    let name = inner
                        .get("code")
                        .and_then(Value::as_str)
                        .map_or_else(|| index.to_string(), str::to_owned);
                    flatten(inner, format!("{path}.{name}"), out);
                }
            }
            other => {
                out.insert(path, other.to_string());
            }
        }
    }
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    flatten(before, String::new(), &mut old);
    flatten(after, String::new(), &mut new);
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| old.get(*path) != new.get(*path))
        .map(|path| ProtocolChange {
            path: path.clone(),
            before: old.get(path).cloned(),
            after: new.get(path).cloned(),
        })
        .collect()
}

fn refusal(problems: Vec<String>) -> ClinicError {
    let message = format!(
        "the amendment was not applied: {} problem{} (nothing changed)",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    ClinicError::Invalid { message, problems }
}

impl Clinic {
    /// The protocol in use (the newest version this server has read).
    pub fn protocol(&self) -> Arc<Protocol> {
        self.protocols.newest().protocol.clone()
    }

    /// The version of the protocol in use.
    pub fn protocol_version(&self) -> i64 {
        self.protocols.newest().version
    }

    /// The protocol of `version` (the newest when this server has not read it).
    pub fn protocol_of(&self, version: i64) -> Arc<Protocol> {
        let all = self.protocols.all();
        all.iter()
            .find(|known| known.version == version)
            .map_or_else(|| self.protocol(), |known| known.protocol.clone())
    }

    /// Reads the amendments when the database holds a newer version than this server has (one
    /// indexed lookup). Every signed-in request and every schedule step calls it, so an
    /// amendment applied on another server is used here from the next request. A failure is
    /// logged and the versions already read stay in use: a request is never refused for it.
    pub async fn refresh_protocol(&self) {
        if let Err(error) = self.read_protocol_versions().await {
            tracing::error!(%error, "the protocol's newer versions could not be read; the versions already read stay in use");
        }
    }

    /// [`Clinic::refresh_protocol`], failing when the versions cannot be read (an amendment is
    /// checked against the newest version, or not at all).
    pub(super) async fn read_protocol_versions(&self) -> Result<(), ClinicError> {
        let newest = self.db.newest_protocol_version(self.study_id).await?;
        let known = self.protocols.all();
        if known.last().is_some_and(|last| last.version >= newest) {
            return Ok(());
        }
        let mut versions = vec![known[0].clone()];
        for row in self.db.protocol_versions(self.study_id).await? {
            let protocol = Protocol::parse(&row.protocol_json).map_err(|error| {
                StorageError::Corrupt(format!("protocol version {}: {error}", row.version))
            })?;
            let effective_on = NaiveDate::parse_from_str(&row.effective_on, "%Y-%m-%d").map_err(|error| {
                StorageError::Corrupt(format!("protocol version {}: {error}", row.version))
            })?;
            let at = crate::storage::stored_timestamp(&row.amended_at)?;
            versions.push(Arc::new(VersionedProtocol {
                version: row.version,
                protocol: Arc::new(protocol),
                sha256: row.sha256,
                effective_on: Some(effective_on),
                amended: Some((row.amended_by, at, row.reason)),
            }));
        }
        self.protocols.set_if_newer(versions);
        Ok(())
    }

    /// The protocol in use (with its fingerprint, version and every version) and the wording pack
    /// described: the admin's Study setup. Reading writes nothing.
    pub async fn study_setup(&self) -> Result<qol_shared::api::StudySetup, ClinicError> {
        self.read_protocol_versions().await?;
        let newest = self.protocols.newest();
        Ok(qol_shared::api::StudySetup {
            protocol: (*newest.protocol).clone(),
            protocol_sha256: newest.sha256.clone(),
            protocol_version: newest.version,
            protocol_versions: self.protocol_history(),
            wording: self.wording().await.summary(),
        })
    }

    /// Every version, oldest first, as the setup page shows them.
    pub fn protocol_history(&self) -> Vec<ProtocolVersionView> {
        self.protocols
            .all()
            .iter()
            .map(|version| ProtocolVersionView {
                version: version.version,
                name: version.protocol.name.clone(),
                sha256: version.sha256.clone(),
                effective_on: version.effective_on,
                amended_by: version.amended.as_ref().map(|(by, _, _)| by.clone()),
                amended_at: version.amended.as_ref().map(|(_, at, _)| *at),
                reason: version.amended.as_ref().map(|(_, _, reason)| reason.clone()),
            })
            .collect()
    }

    /// The schedule to store for a patient whose stored assessments are `stored`: each with the
    /// protocol version it follows. A stored assessment keeps the version it was scheduled under
    /// when its window opened on or before the day the next version took effect, or it has a form
    /// or a missed reason (computed under that version, so a corrected event still moves it);
    /// one stored under a version this server has not read yet is left as it is. Every other
    /// follows the newest version, except an assessment the newest version adds whose window had
    /// already closed when it took effect (a form nobody could send is not a missed one).
    /// Unscheduled reports in `stored` are passed over.
    pub(super) fn versioned_schedule(
        &self,
        stored: &[AssessmentRow],
        events: &Events,
        today: NaiveDate,
    ) -> Vec<(ScheduledAssessment, i64)> {
        let versions = self.protocols.all();
        let Some(newest) = versions.last() else { return Vec::new() };
        let under = |version: i64| versions.iter().position(|v| v.version == version);
        let mut computed: BTreeMap<usize, Vec<ScheduledAssessment>> = BTreeMap::new();
        let mut schedule_of = |index: usize| -> Vec<ScheduledAssessment> {
            computed
                .entry(index)
                .or_insert_with(|| schedule(&versions[index].protocol, events, today))
                .clone()
        };
        let newest_schedule = schedule_of(versions.len() - 1);
        let mut out = Vec::new();
        let mut placed: Vec<AssessmentKey> = Vec::new();
        for row in stored.iter().filter(|row| !row.unscheduled) {
            if row.protocol_version > newest.version {
                out.push((row.as_scheduled(), row.protocol_version));
                placed.push(row.key.clone());
                continue;
            }
            let Some(index) = under(row.protocol_version) else { continue };
            let bound = row.received_at.is_some() || row.missed_reason.is_some();
            let opened_before_next = versions
                .get(index + 1)
                .and_then(|next| next.effective_on)
                .is_none_or(|next_day| row.window_start <= next_day);
            if bound || (index + 1 < versions.len() && opened_before_next) {
                placed.push(row.key.clone());
                // Not in its own version's schedule any more (an event was corrected): withdrawn.
                if let Some(item) = schedule_of(index).into_iter().find(|item| item.key == row.key) {
                    out.push((item, row.protocol_version));
                }
            }
        }
        let previous = if versions.len() > 1 { schedule_of(versions.len() - 2) } else { Vec::new() };
        for item in newest_schedule {
            if placed.contains(&item.key) {
                continue;
            }
            let known = stored.iter().any(|row| !row.unscheduled && row.key == item.key)
                || previous.iter().any(|earlier| earlier.key == item.key);
            let closed_before = newest.effective_on.is_some_and(|day| item.window_end < day);
            if known || !closed_before {
                out.push((item, newest.version));
            }
        }
        out.sort_by(|a, b| (a.0.window_start, &a.0.key).cmp(&(b.0.window_start, &b.0.key)));
        out
    }

    /// The report on an amendment: its problems (an invalid protocol, a change an amendment may
    /// not make, nothing changed) and every value it changes. Writes nothing.
    pub async fn check_protocol(&self, upload: &ProtocolUpload) -> Result<ProtocolReport, ClinicError> {
        self.read_protocol_versions().await?;
        Ok(self.protocol_report(upload).0)
    }

    fn protocol_report(&self, upload: &ProtocolUpload) -> (ProtocolReport, Option<Protocol>) {
        let current = self.protocols.newest();
        let mut problems = Vec::new();
        let mut changes = Vec::new();
        let parsed = match Protocol::parse(&upload.protocol) {
            Ok(protocol) => Some(protocol),
            Err(error) => {
                problems.push(format!("protocol: {error}"));
                None
            }
        };
        if let Some(newer) = &parsed {
            problems.extend(current.protocol.amendment_problems(newer));
            let before = serde_json::to_value(&*current.protocol).unwrap_or(Value::Null);
            let after = serde_json::to_value(newer).unwrap_or(Value::Null);
            changes = json_changes(&before, &after);
            if changes.is_empty() {
                problems.push(format!("protocol: is version {} already; nothing to amend", current.version));
            }
        }
        let valid = problems.is_empty();
        let report = ProtocolReport {
            valid,
            problems,
            changes,
            current_version: current.version,
            version: current.version + 1,
            applied: false,
        };
        (report, parsed.filter(|_| valid))
    }

    /// Applies an amendment: refused (nothing changes) with its report's problems, or without a
    /// reason; otherwise stored as the next version with its audit entry, in effect from today
    /// (the study's day), and every patient's schedule moved forward under it.
    pub async fn amend_protocol(
        &self,
        actor: &Actor,
        upload: &ProtocolUpload,
    ) -> Result<ProtocolReport, ClinicError> {
        let reason = upload.reason.trim();
        if let Some(problem) = reason_problem(reason, "say why the protocol changes (required)") {
            return Err(refusal(vec![problem]));
        }
        let _one_at_a_time = self.protocols.change.lock().await;
        self.read_protocol_versions().await?;
        let (mut report, protocol) = self.protocol_report(upload);
        if let Some(based_on) = upload.based_on
            && based_on != report.current_version
        {
            return Err(ClinicError::Conflict(format!(
                "based_on: the protocol is at version {} since you checked against version {based_on}; check \
                 your amendment again against it",
                report.current_version
            )));
        }
        let Some(protocol) = protocol else { return Err(refusal(report.problems)) };
        let current = self.protocols.newest();
        let sha256 = fingerprint(&protocol);
        let effective_on = self.today();
        let amended_at = crate::storage::timestamp_text(self.now());
        let mut tx = self.db.begin_write().await?;
        let stored = tx
            .insert_protocol_version(&NewProtocolVersion {
                study_id: self.study_id,
                version: report.version,
                protocol_json: &upload.protocol,
                sha256: &sha256,
                amended_by: &actor.name,
                amended_at: &amended_at,
                effective_on: &effective_on.to_string(),
                reason,
            })
            .await;
        match stored {
            Ok(()) => {}
            Err(error) if error.is_unique_violation() => {
                tx.rollback().await?;
                return Err(ClinicError::Conflict(format!(
                    "version {} was applied by another admin a moment ago; check yours again against it",
                    report.version
                )));
            }
            Err(error) => return Err(error.into()),
        }
        tx.audit(
            actor,
            AuditEntry {
                action: "protocol.amend",
                entity: "protocol",
                entity_id: report.version.to_string(),
                before: Some(json!({ "version": current.version, "sha256": current.sha256 })),
                after: Some(json!({
                    "version": report.version, "sha256": sha256, "name": protocol.name,
                    "effective_on": effective_on, "changes": report.changes,
                })),
                reason: Some(reason.to_owned()),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        // Stored: from here on nothing may answer as if it were not.
        self.refresh_protocol().await;
        report.applied = true;
        // Stored: the schedules follow it now (the scheduler would at its next step anyway).
        if let Err(error) = self.keep_schedules_in_step().await {
            tracing::error!(%error, "the schedules could not be moved to the amended protocol now; the scheduler will");
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_changes_name_each_path_with_its_values() {
        let before = json!({ "name": "A", "assessments": [{ "code": "weekly", "end_days": 6 }, { "code": "fu", "end_days": 3 }], "list": [1, 2] });
        let after = json!({ "name": "A", "assessments": [{ "code": "weekly", "end_days": 4 }], "list": [1, 2, 3], "extra": true });
        let changes = json_changes(&before, &after);
        let text: Vec<(String, Option<String>, Option<String>)> =
            changes.into_iter().map(|c| (c.path, c.before, c.after)).collect();
        assert_eq!(
            text,
            [
                ("assessments.fu.code".into(), Some("\"fu\"".into()), None),
                ("assessments.fu.end_days".into(), Some("3".into()), None),
                ("assessments.weekly.end_days".into(), Some("6".into()), Some("4".into())),
                ("extra".into(), None, Some("true".into())),
                ("list.2".into(), None, Some("3".into())),
            ]
        );
        assert!(json_changes(&before, &before).is_empty());
    }
}
