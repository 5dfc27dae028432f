//! Write transactions and the audit trail.
//!
//! Every write goes through a [`WriteTx`]: it begins with `BEGIN IMMEDIATE` on SQLite (the write
//! lock at once, no deferred-lock upgrade failures) and by locking the single row of `audit_head`
//! on PostgreSQL, so writers are serialised and audit entries chain in commit order. Each entry
//! stores the previous entry's hash and its own: SHA-256 over the previous hash and the entry's
//! fields.
//!
//! One kind of write may take the chain lock late: a new form ([`Db::begin_write_deferred`]). On
//! PostgreSQL its rows (the unscheduled assessment it may need, the submission, its answers and
//! scores) are inserted before the lock, while other writers hold it, because nothing in them
//! depends on another writer: their unique keys decide a race (the loser inserts nothing and
//! waits for the winner's commit, holding no lock a chain holder waits for). Everything that reads to decide (her cards, snoozes, the
//! audit chain) comes after [`WriteTx::lock_chain`]. SQLite takes its one lock at `BEGIN
//! IMMEDIATE` as before.
//!
//! The transaction is driven by hand on a pooled connection, not through `sqlx::Transaction`, for
//! one rule: **a connection goes back to the pool only after a successful `COMMIT` or
//! `ROLLBACK`**. A statement or commit that fails (a full disk, an I/O error) leaves the
//! transaction in a state nobody should reuse, so the connection is closed instead, which ends the
//! transaction on both backends. (Reusing it once made later "commits" land inside a transaction
//! that never ended: acknowledged, then lost.)

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{Any, Row};

use super::{Backend, Db, StorageError};

/// Who did something, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `staff:NAME`, `patient:IVB-001`, `system`, `cli`.
    pub name: String,
    pub role: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor { name: "system".into(), role: "system".into() }
    }

    pub fn cli() -> Actor {
        Actor { name: "cli".into(), role: "admin".into() }
    }
}

/// One audit entry before it is chained.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    /// The patient the entry is about (her study id), when it is about one: the audit trail
    /// viewer's patient filter.
    pub patient: Option<String>,
}

/// A transaction that holds the audit chain's head.
#[derive(Debug)]
pub struct WriteTx {
    pub(crate) tx: PoolConnection<Any>,
    last_id: i64,
    last_hash: String,
    audited: bool,
    /// Whether the head row already holds `last_id`/`last_hash` (PostgreSQL writes it with each
    /// entry, in the same statement), so the commit need not.
    head_written: bool,
    backend: Backend,
    /// Set once `COMMIT` or `ROLLBACK` succeeded; until then, dropping closes the connection.
    finished: bool,
    /// The database handle's clock, for the timestamps the transaction writes itself.
    clock: crate::clock::Clock,
    /// Whether the chain lock is held (and `last_id`/`last_hash` read under it).
    locked: bool,
    /// The study instance id the database handle read at open, checked under the lock.
    instance_id: std::sync::Arc<str>,
}

impl WriteTx {
    /// The database the transaction is on, for statements whose text differs between the two.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.finished {
            self.tx.close_on_drop();
        }
    }
}

impl Db {
    /// A write transaction holding the chain lock from its first statement.
    pub async fn begin_write(&self) -> Result<WriteTx, StorageError> {
        let mut tx = self.begin_unlocked().await?;
        tx.lock_chain().await?;
        Ok(tx)
    }

    /// A write transaction for a new form, whose rows may be inserted before the chain lock (see
    /// the module documentation): on PostgreSQL the lock is taken by [`WriteTx::lock_chain`], or
    /// by the first audit entry; SQLite's `BEGIN IMMEDIATE` takes it at once.
    pub async fn begin_write_deferred(&self) -> Result<WriteTx, StorageError> {
        let mut tx = self.begin_unlocked().await?;
        if self.backend == Backend::Sqlite {
            tx.lock_chain().await?;
        }
        Ok(tx)
    }

    async fn begin_unlocked(&self) -> Result<WriteTx, StorageError> {
        self.check_file()?;
        let connection = self.pool.acquire().await?;
        // From here on, an error drops the WriteTx, which closes the connection.
        let mut tx = WriteTx {
            tx: connection,
            last_id: 0,
            last_hash: String::new(),
            audited: false,
            head_written: false,
            backend: self.backend,
            finished: false,
            clock: self.clock().clone(),
            locked: false,
            instance_id: self.instance_id.clone(),
        };
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        sqlx::raw_sql(begin).execute(&mut *tx.tx).await?;
        Ok(tx)
    }

    /// Records `entry` in a transaction of its own (e.g. a failed sign-in, which changes nothing
    /// else but must be kept).
    pub async fn audit_alone(&self, actor: &Actor, entry: AuditEntry) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        tx.audit(actor, entry).await?;
        tx.commit().await
    }

    /// The chain's head: how many entries there are and the last one's hash. Recorded outside
    /// the database, it lets `verify_audit_chain` prove later that nothing was cut off the end
    /// and that the chain was not replaced by another.
    pub async fn audit_head(&self) -> Result<AuditHead, StorageError> {
        let row =
            sqlx::query("SELECT COUNT(*), (SELECT last_hash FROM audit_head WHERE id = 1) FROM audit_log")
                .fetch_one(&self.pool)
                .await?;
        Ok(AuditHead {
            entries: u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
            hash: row.try_get(1)?,
        })
    }

    /// Walks the whole chain and returns the id of the first entry that does not match, if any.
    /// With `expected`, a head recorded earlier, the chain must also still hold that head: its
    /// `entries`-th entry must have that hash (the chain may have grown since).
    pub async fn verify_audit_chain(
        &self,
        expected: Option<&AuditHead>,
    ) -> Result<AuditVerification, StorageError> {
        let rows = sqlx::query(
            "SELECT id, occurred_at, actor, actor_role, action, entity, entity_id, before_json, after_json, \
             reason, prev_hash, hash, patient FROM audit_log ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut previous = GENESIS.to_owned();
        let mut checked = 0;
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let fields = EntryFields {
                occurred_at: row.try_get("occurred_at")?,
                actor: row.try_get("actor")?,
                actor_role: row.try_get("actor_role")?,
                action: row.try_get("action")?,
                entity: row.try_get("entity")?,
                entity_id: row.try_get("entity_id")?,
                before: row.try_get("before_json")?,
                after: row.try_get("after_json")?,
                reason: row.try_get("reason")?,
                patient: row.try_get("patient")?,
            };
            let prev_hash: String = row.try_get("prev_hash")?;
            let hash: String = row.try_get("hash")?;
            if prev_hash != previous {
                return Ok(AuditVerification::Broken {
                    id,
                    checked,
                    problem: "its previous-hash does not match the entry before it (an entry was removed or reordered)".into(),
                });
            }
            if hash != fields.hash(&previous) {
                return Ok(AuditVerification::Broken {
                    id,
                    checked,
                    problem: "its content does not match its hash (the entry was changed)".into(),
                });
            }
            previous = hash;
            checked += 1;
            if let Some(expected) = expected.filter(|expected| expected.entries == checked)
                && previous != expected.hash
            {
                return Ok(AuditVerification::Broken {
                    id,
                    checked,
                    problem: format!(
                        "entry number {checked} does not have the recorded head's hash {} (the chain was replaced or rewritten)",
                        expected.hash
                    ),
                });
            }
        }
        if let Some(expected) = expected.filter(|expected| expected.entries > checked) {
            return Ok(AuditVerification::Broken {
                id: rows.last().map_or(0, |row| row.try_get("id").unwrap_or(0)),
                checked,
                problem: format!(
                    "the chain holds {checked} entries but the recorded head had {} (entries were cut off the end)",
                    expected.entries
                ),
            });
        }
        let head: String = sqlx::query("SELECT last_hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        if head != previous {
            return Ok(AuditVerification::Broken {
                id: rows.last().map_or(0, |row| row.try_get("id").unwrap_or(0)),
                checked,
                problem: "the chain's head does not match the last entry (entries were removed from the end)"
                    .into(),
            });
        }
        Ok(AuditVerification::Intact { entries: checked })
    }
}

/// The audit chain's head as `qol audit head` prints it and `--expect-head` reads it:
/// `ENTRIES:HASH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub entries: u64,
    pub hash: String,
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.entries, self.hash)
    }
}

impl std::str::FromStr for AuditHead {
    type Err = String;

    fn from_str(text: &str) -> Result<AuditHead, String> {
        let (entries, hash) = text.trim().split_once(':').ok_or_else(|| {
            format!("the audit head {text:?} is not ENTRIES:HASH as `qol audit head` prints it")
        })?;
        let entries = entries
            .parse()
            .map_err(|_| format!("the audit head's entry count {entries:?} is not a number"))?;
        if hash.len() != 64 || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(format!("the audit head's hash {hash:?} is not 64 hexadecimal digits"));
        }
        Ok(AuditHead { entries, hash: hash.to_ascii_lowercase() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerification {
    Intact { entries: u64 },
    Broken { id: i64, checked: u64, problem: String },
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Serialize)]
struct EntryFields {
    occurred_at: String,
    actor: String,
    actor_role: String,
    action: String,
    entity: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
    reason: Option<String>,
    patient: Option<String>,
}

impl EntryFields {
    fn hash(&self, previous: &str) -> String {
        // A JSON array is an unambiguous encoding of the fields (no separator can be forged).
        let fields = (
            previous,
            &self.occurred_at,
            &self.actor,
            &self.actor_role,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.before,
            &self.after,
            &self.reason,
        );
        // The patient joined the fields later (migration 0011): an entry that names one hashes
        // it too, and one that does not hashes exactly what entries always did.
        let encoded = match &self.patient {
            Some(patient) => serde_json::to_string(&(fields, patient)),
            None => serde_json::to_string(&fields),
        }
        .expect("strings serialise");
        hex::encode(Sha256::digest(encoded.as_bytes()))
    }
}

impl WriteTx {
    /// The clock's time as stored.
    pub fn now_text(&self) -> String {
        super::timestamp_text(self.clock.now())
    }

    /// Takes the chain lock, if this transaction does not hold it yet, and reads the chain's head
    /// under it. From here on other writers wait, and each statement sees every write committed
    /// before, so what is read now can decide what is written.
    pub async fn lock_chain(&mut self) -> Result<(), StorageError> {
        if self.locked {
            return Ok(());
        }
        let row = match self.backend {
            Backend::Sqlite => {
                sqlx::query("SELECT last_id, last_hash, instance_id FROM audit_head WHERE id = 1")
                    .fetch_one(&mut *self.tx)
                    .await?
            }
            Backend::Postgres => {
                // The chain lock (the head's row lock, held to commit) and the head in one
                // round trip: every statement from here on is made while other writers wait.
                sqlx::query(
                    "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash, instance_id",
                )
                .fetch_one(&mut *self.tx)
                .await?
            }
        };
        let instance: String = row.try_get(2)?;
        if instance != *self.instance_id {
            return Err(StorageError::NotTheStudy(
                "the database now holds another study instance (it was replaced or re-created)".into(),
            ));
        }
        self.last_id = row.try_get(0)?;
        self.last_hash = row.try_get(1)?;
        self.locked = true;
        Ok(())
    }

    /// Whether the chain lock is held: a deferred transaction's first statements are made without.
    pub(crate) fn chain_locked(&self) -> bool {
        self.locked
    }

    pub async fn audit(&mut self, actor: &Actor, entry: AuditEntry) -> Result<(), StorageError> {
        // An entry chains onto the head read under the lock.
        self.lock_chain().await?;
        let fields = EntryFields {
            occurred_at: self.now_text(),
            actor: actor.name.clone(),
            actor_role: actor.role.clone(),
            action: entry.action.to_owned(),
            entity: entry.entity.to_owned(),
            entity_id: entry.entity_id,
            before: entry.before.map(|value| value.to_string()),
            after: entry.after.map(|value| value.to_string()),
            reason: entry.reason,
            patient: entry.patient,
        };
        let hash = fields.hash(&self.last_hash);
        const INSERT: &str = "INSERT INTO audit_log (occurred_at, actor, actor_role, action, entity, entity_id, \
             before_json, after_json, reason, prev_hash, hash, patient) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12) RETURNING id";
        // PostgreSQL moves the head with the entry, in one round trip under the chain lock.
        let text = match self.backend {
            Backend::Sqlite => std::borrow::Cow::Borrowed(INSERT),
            Backend::Postgres => std::borrow::Cow::Owned(format!(
                "WITH entry AS ({INSERT}) UPDATE audit_head SET last_id = (SELECT id FROM entry), last_hash = $11 \
                 WHERE id = 1 RETURNING last_id"
            )),
        };
        let id: i64 = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(&fields.occurred_at)
            .bind(&fields.actor)
            .bind(&fields.actor_role)
            .bind(&fields.action)
            .bind(&fields.entity)
            .bind(&fields.entity_id)
            .bind(&fields.before)
            .bind(&fields.after)
            .bind(&fields.reason)
            .bind(&self.last_hash)
            .bind(&hash)
            .bind(&fields.patient)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get(0)?;
        self.head_written = self.backend == Backend::Postgres;
        self.last_id = id;
        self.last_hash = hash;
        self.audited = true;
        Ok(())
    }

    /// Commits; a transaction that wrote no audit entry is a bug, so it is refused.
    pub async fn commit(mut self) -> Result<(), StorageError> {
        if !self.audited {
            self.rollback().await?;
            return Err(StorageError::Unaudited);
        }
        if !self.head_written {
            sqlx::query("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1")
                .bind(self.last_id)
                .bind(&self.last_hash)
                .execute(&mut *self.tx)
                .await?;
        }
        self.finish("COMMIT").await
    }

    /// Commits derived data that needs no audit entry of its own (the recomputed schedule).
    pub async fn commit_derived(mut self) -> Result<(), StorageError> {
        if self.audited {
            return Err(StorageError::Unaudited);
        }
        self.finish("COMMIT").await
    }

    /// Undoes everything in the transaction.
    pub async fn rollback(mut self) -> Result<(), StorageError> {
        self.finish("ROLLBACK").await
    }

    /// Ends the transaction; only success returns the connection to the pool (see the module
    /// documentation): on error `finished` stays false and the drop closes it.
    async fn finish(&mut self, statement: &'static str) -> Result<(), StorageError> {
        sqlx::raw_sql(statement).execute(&mut *self.tx).await?;
        self.finished = true;
        Ok(())
    }
}

/// What the audit trail viewer asks for; every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// A patient's study id: the entries that name her, hers (she was the actor), and, for
    /// entries written before they named patients, those whose entity is her.
    pub patient: Option<String>,
    /// The actor exactly (`staff:NAME`, `patient:IVB-001`, `system`, `cli`).
    pub actor: Option<String>,
    /// An action exactly, or every action of a kind: `submission.` (ending with a dot).
    pub action: Option<String>,
    /// Entries at or after this stored time (RFC 3339 UTC text, as stored).
    pub from: Option<String>,
    /// Entries before this stored time.
    pub until: Option<String>,
}

/// One stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: String,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub patient: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

impl Db {
    /// The entries the filter keeps, newest first: at most `limit`, older than `before_id` when
    /// given (the next page).
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StorageError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let next = |value: String, texts: &mut Vec<String>| {
            texts.push(value);
            format!("${}", texts.len())
        };
        if let Some(patient) = &filter.patient {
            let code = next(patient.clone(), &mut texts);
            let as_actor = next(format!("patient:{patient}"), &mut texts);
            let under = next(format!("{patient}/%"), &mut texts);
            // Her rows in the tables whose ids the entries name (entries written before they
            // named patients are found through these too).
            let hers = |table: &str| {
                format!(
                    "(entity_id IN (SELECT CAST(t.id AS TEXT) FROM {table} t JOIN patients p ON p.id = t.patient_id \
                     WHERE p.study_code = {code}))"
                )
            };
            conditions.push(format!(
                "(patient = {code} OR actor = {as_actor} OR entity_id = {as_actor} \
                 OR (entity = 'patient' AND entity_id = {code}) OR entity_id LIKE {under} \
                 OR (entity = 'submission' AND {}) OR (entity = 'alert_card' AND {}) \
                 OR (entity = 'assessment' AND {}) OR (entity = 'outbox' AND {}) \
                 OR (entity = 'help_request' AND {}) OR (entity = 'push_subscription' AND {}))",
                hers("submissions"),
                hers("alert_cards"),
                hers("assessments"),
                hers("outbox"),
                hers("help_requests"),
                hers("push_subscriptions"),
            ));
        }
        if let Some(actor) = &filter.actor {
            conditions.push(format!("actor = {}", next(actor.clone(), &mut texts)));
        }
        if let Some(action) = &filter.action {
            if action.ends_with('.') {
                conditions.push(format!("action LIKE {}", next(format!("{action}%"), &mut texts)));
            } else {
                conditions.push(format!("action = {}", next(action.clone(), &mut texts)));
            }
        }
        if let Some(from) = &filter.from {
            conditions.push(format!("occurred_at >= {}", next(from.clone(), &mut texts)));
        }
        if let Some(until) = &filter.until {
            conditions.push(format!("occurred_at < {}", next(until.clone(), &mut texts)));
        }
        let before_at = texts.len() + 1;
        if before_id.is_some() {
            conditions.push(format!("id < ${before_at}"));
        }
        let limit_at = before_at + usize::from(before_id.is_some());
        let sql = format!(
            "SELECT id, occurred_at, actor, actor_role, action, entity, entity_id, patient, before_json, after_json, \
             reason FROM audit_log {} ORDER BY id DESC LIMIT ${limit_at}",
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) }
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for text in texts {
            query = query.bind(text);
        }
        if let Some(before_id) = before_id {
            query = query.bind(before_id);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRow {
                    id: row.try_get("id")?,
                    occurred_at: row.try_get("occurred_at")?,
                    actor: row.try_get("actor")?,
                    actor_role: row.try_get("actor_role")?,
                    action: row.try_get("action")?,
                    entity: row.try_get("entity")?,
                    entity_id: row.try_get("entity_id")?,
                    patient: row.try_get("patient")?,
                    before: row.try_get("before_json")?,
                    after: row.try_get("after_json")?,
                    reason: row.try_get("reason")?,
                })
            })
            .collect()
    }
}
