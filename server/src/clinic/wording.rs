//! The wording pack in use, and a new one uploaded from the admin console: checked first (every
//! problem named by its key, the texts it changes listed), then applied in one audited
//! transaction. Uploaded packs are kept in the database, so the newest survives a restart.

use std::sync::{Arc, RwLock};

use qol_shared::api::{WordingProblem, WordingReport, WordingSummary, WordingUpload};
use qol_shared::wording::WordingPack;

use super::*;
use crate::storage::NewWordingPack;

/// Where the pack in use came from.
#[derive(Debug, Clone)]
pub enum WordingSource {
    /// The demonstration pack built into qol.
    Shipped,
    /// `--wording-pack`.
    File,
    /// From the console, kept in the database.
    Uploaded { by: String, at: qol_shared::Timestamp, reason: String },
}

/// A pack with its fingerprint and source.
#[derive(Debug)]
pub struct LoadedWording {
    pub pack: WordingPack,
    /// SHA-256 (hex) of the pack as the server writes it.
    pub sha256: String,
    pub source: WordingSource,
    /// Its row in `wording_packs` (0: not uploaded).
    pub pack_id: i64,
}

impl LoadedWording {
    fn new(pack: WordingPack, source: WordingSource, pack_id: i64) -> LoadedWording {
        LoadedWording { sha256: fingerprint(&pack), pack, source, pack_id }
    }

    /// The pack described, without its texts.
    pub fn summary(&self) -> WordingSummary {
        let (source, uploaded_by, uploaded_at, reason) = match &self.source {
            WordingSource::Shipped => ("shipped", None, None, None),
            WordingSource::File => ("file", None, None, None),
            WordingSource::Uploaded { by, at, reason } => {
                ("uploaded", Some(by.clone()), Some(*at), Some(reason.clone()))
            }
        };
        summary_of(&self.pack, self.sha256.clone(), source, uploaded_by, uploaded_at, reason)
    }
}

fn summary_of(
    pack: &WordingPack,
    sha256: String,
    source: &str,
    uploaded_by: Option<String>,
    uploaded_at: Option<qol_shared::Timestamp>,
    reason: Option<String>,
) -> WordingSummary {
    WordingSummary {
        name: pack.name.clone(),
        format: pack.format.clone(),
        demonstration: pack.demonstration,
        licence: pack.licence.clone(),
        languages: pack
            .languages
            .iter()
            .map(|(tag, wording)| (tag.clone(), wording.language_name.clone()))
            .collect(),
        sha256,
        source: source.to_owned(),
        uploaded_by,
        uploaded_at,
        reason,
    }
}

/// The pack this server last read, the one it falls back to when none is uploaded, and the lock
/// that makes this server's changes one at a time. The database decides which pack is in use.
#[derive(Debug)]
pub struct Wording {
    current: RwLock<Arc<LoadedWording>>,
    /// `--wording-pack`'s, or the demonstration pack.
    base: RwLock<Arc<LoadedWording>>,
    change: tokio::sync::Mutex<()>,
}

impl Default for Wording {
    fn default() -> Wording {
        let shipped = Arc::new(LoadedWording::new(WordingPack::demo(), WordingSource::Shipped, 0));
        Wording {
            current: RwLock::new(shipped.clone()),
            base: RwLock::new(shipped),
            change: tokio::sync::Mutex::new(()),
        }
    }
}

fn read(lock: &RwLock<Arc<LoadedWording>>) -> Arc<LoadedWording> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

fn write(lock: &RwLock<Arc<LoadedWording>>, loaded: Arc<LoadedWording>) {
    *lock.write().unwrap_or_else(std::sync::PoisonError::into_inner) = loaded;
}

impl Clinic {
    /// The wording pack in use: the newest uploaded to the database (one indexed lookup per call,
    /// so a pack applied on another server is used here from the next request), else the base
    /// pack. While the database cannot be reached, the pack this server last read.
    pub async fn wording(&self) -> Arc<LoadedWording> {
        let cached = read(&self.wording.current);
        let newest = match self.db.newest_wording_pack_id(self.study_id).await {
            Ok(newest) => newest,
            Err(error) => {
                tracing::warn!(%error, "the wording pack in use could not be checked; the last one read is used");
                return cached;
            }
        };
        if newest == cached.pack_id {
            return cached;
        }
        match self.read_wording(newest).await {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                write(&self.wording.current, loaded.clone());
                loaded
            }
            Err(error) => {
                tracing::error!(%error, "the newest wording pack could not be read; the last one read is used");
                cached
            }
        }
    }

    /// The uploaded pack `newest` (0: the base pack).
    async fn read_wording(&self, newest: i64) -> Result<LoadedWording, ClinicError> {
        let Some(row) = self.db.newest_wording_pack(self.study_id).await?.filter(|_| newest > 0) else {
            let base = read(&self.wording.base);
            return Ok(LoadedWording::new(base.pack.clone(), base.source.clone(), 0));
        };
        let pack = WordingPack::parse("the uploaded wording pack", &row.pack_json).map_err(|errors| {
            invalid(format!(
                "the wording pack uploaded at {} does not pass this version's checks; upload a corrected one:\n{errors}",
                row.uploaded_at
            ))
        })?;
        let at = crate::storage::stored_timestamp(&row.uploaded_at)?;
        Ok(LoadedWording::new(
            pack,
            WordingSource::Uploaded { by: row.uploaded_by, at, reason: row.reason },
            row.id,
        ))
    }

    /// At start: `file` (`--wording-pack`) or the demonstration pack becomes the base pack, then
    /// the pack in use is read (the newest uploaded, else the base). Returns it, described.
    pub async fn load_wording(&self, file: Option<WordingPack>) -> Result<WordingSummary, ClinicError> {
        let from_file = file.is_some();
        let base = match file {
            Some(pack) => LoadedWording::new(pack, WordingSource::File, 0),
            None => LoadedWording::new(WordingPack::demo(), WordingSource::Shipped, 0),
        };
        write(&self.wording.base, Arc::new(base));
        let newest = self.db.newest_wording_pack_id(self.study_id).await?;
        let loaded = match self.read_wording(newest).await {
            Ok(loaded) => loaded,
            // A pack this version cannot read does not stop the server: the base pack serves
            // until an admin uploads a corrected one.
            Err(error) => {
                tracing::error!(%error, "the uploaded wording pack is not used");
                let base = read(&self.wording.base);
                LoadedWording::new(base.pack.clone(), base.source.clone(), 0)
            }
        };
        if from_file && loaded.pack_id > 0 {
            tracing::warn!(
                "--wording-pack is not used: the pack uploaded from the console is (upload the file there to use it)"
            );
        }
        let summary = loaded.summary();
        write(&self.wording.current, Arc::new(loaded));
        Ok(summary)
    }

    /// The report on an uploaded pack: its problems (each by key, including a language some
    /// patient answers in that it leaves out) and the texts it changes. Writes nothing.
    pub async fn check_wording(&self, upload: &WordingUpload) -> Result<WordingReport, ClinicError> {
        Ok(self.wording_report(upload).await?.0)
    }

    async fn wording_report(
        &self,
        upload: &WordingUpload,
    ) -> Result<(WordingReport, Option<WordingPack>, i64), ClinicError> {
        let current = self.wording().await;
        let (mut problems, pack) = match WordingPack::parse("upload", &upload.pack) {
            Ok(pack) => (Vec::new(), Some(pack)),
            Err(errors) => {
                let problems = errors
                    .0
                    .into_iter()
                    .map(|error| WordingProblem { key: error.key, problem: error.problem })
                    .collect();
                // A pack that reads but has problems is still described, with its differences.
                (problems, serde_json::from_str::<WordingPack>(&upload.pack).ok())
            }
        };
        if let Some(pack) = &pack {
            let patients = self.db.patient_languages(self.study_id).await?;
            for (tag, count) in patients {
                if !pack.languages.contains_key(&tag) {
                    let noun = if count == 1 { "patient answers" } else { "patients answer" };
                    problems.push(WordingProblem {
                        key: format!("languages.{tag}"),
                        problem: format!("is missing: {count} {noun} in this language"),
                    });
                }
            }
        }
        let changed = pack.as_ref().map(|pack| current.pack.differences(pack)).unwrap_or_default();
        let valid = problems.is_empty() && pack.is_some();
        let report = WordingReport {
            valid,
            problems,
            pack: pack.as_ref().map(|pack| summary_of(pack, fingerprint(pack), "uploaded", None, None, None)),
            current: current.summary(),
            changed,
            applied: false,
        };
        Ok((report, pack.filter(|_| valid), current.pack_id))
    }

    /// Applies an uploaded pack: refused with its report (`problems`, each `KEY: PROBLEM`) when
    /// it has any, or without a reason, and nothing changes; otherwise stored with its audit
    /// entry in one transaction, then used by every request that follows. One change at a time.
    pub async fn apply_wording(
        &self,
        actor: &Actor,
        upload: &WordingUpload,
    ) -> Result<WordingReport, ClinicError> {
        let reason = upload.reason.trim();
        if let Some(problem) = reason_problem(reason, "say why the pack changes (required)") {
            return Err(ClinicError::Invalid { message: problem.clone(), problems: vec![problem] });
        }
        let _one_at_a_time = self.wording.change.lock().await;
        let (mut report, pack, _) = self.wording_report(upload).await?;
        if let Some(based_on) = &upload.based_on
            && *based_on != report.current.sha256
        {
            return Err(ClinicError::Conflict(
                "based_on: another wording pack was applied since you checked this one; check it again"
                    .into(),
            ));
        }
        // The newest stored id, even when this server could not read that pack: a pack that no
        // longer reads is replaced, never stuck.
        let replaces_id = self.db.newest_wording_pack_id(self.study_id).await?;
        let Some(pack) = pack else {
            let problems: Vec<String> = report
                .problems
                .iter()
                .map(|problem| format!("{}: {}", problem.key, problem.problem))
                .collect();
            return Err(ClinicError::Invalid {
                message: format!(
                    "the wording pack was not applied: {} problem{} (nothing changed)",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                ),
                problems,
            });
        };
        let sha256 = fingerprint(&pack);
        if sha256 == report.current.sha256 {
            let problem = "pack: is the pack in use already; nothing to apply".to_owned();
            return Err(ClinicError::Invalid { message: problem.clone(), problems: vec![problem] });
        }
        let uploaded_at = crate::storage::timestamp_text(self.now());
        let mut tx = self.db.begin_write().await?;
        let inserted = tx
            .insert_wording_pack(&NewWordingPack {
                study_id: self.study_id,
                sha256: &sha256,
                name: &pack.name,
                pack_json: &upload.pack,
                uploaded_by: &actor.name,
                uploaded_at: &uploaded_at,
                reason,
                replaces_id,
            })
            .await;
        let id = match inserted {
            Ok(id) => id,
            Err(error) if error.is_unique_violation() => {
                tx.rollback().await?;
                return Err(ClinicError::Conflict(
                    "another admin applied a wording pack a moment ago; check yours again against it".into(),
                ));
            }
            Err(error) => return Err(error.into()),
        };
        tx.audit(
            actor,
            AuditEntry {
                action: "wording.apply",
                entity: "wording_pack",
                entity_id: id.to_string(),
                before: Some(json!({
                    "name": report.current.name, "sha256": report.current.sha256, "source": report.current.source,
                })),
                after: Some(json!({
                    "name": pack.name, "sha256": sha256, "demonstration": pack.demonstration,
                    "languages": pack.languages.keys().collect::<Vec<_>>(), "texts_changed": report.changed.len(),
                })),
                reason: Some(reason.to_owned()),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        let loaded = LoadedWording::new(
            pack,
            WordingSource::Uploaded {
                by: actor.name.clone(),
                at: crate::storage::stored_timestamp(&uploaded_at)?,
                reason: reason.to_owned(),
            },
            id,
        );
        report.current = loaded.summary();
        report.applied = true;
        write(&self.wording.current, Arc::new(loaded));
        Ok(report)
    }
}
