//! Storage: the only module that holds SQL. It speaks `sqlx::Any`, so one set of queries runs on
//! SQLite (the default, a local file) and on PostgreSQL (`DATABASE_URL=postgres://…`); each
//! backend has its own migrations folder because their DDL differs.
//!
//! Queries use `$1`-style placeholders, which both backends accept, and only the types both map
//! the same way through `Any` (i64, f64, text). Timestamps are RFC 3339 text in UTC.

mod accounts;
mod alerts;
mod audit;
pub mod batch;
mod help;
mod metrics;
mod paper_entries;
mod patients;
mod protocols;
mod reminders;
mod submissions;
mod wording;

use std::path::Path;
use std::time::Duration;

pub use accounts::{Claim, SessionOwner, SessionSubject, StaffAccountRow, StaffRow, ThrottleState};
pub use alerts::{CardFilter, CardRow, NewMessage, OutboxMessage, SnoozeRow};
pub use audit::{Actor, AuditEntry, AuditFilter, AuditHead, AuditRow, AuditVerification, WriteTx};
pub use help::HelpRequestRow;
pub use metrics::MetricsSnapshot;
pub use paper_entries::PaperEntryRow;
pub use patients::{AssessmentRow, EventRow, PatientRow};
pub use protocols::{NewProtocolVersion, ProtocolVersionRow};
pub use reminders::{PushSubscriptionRow, ReminderCount, ReminderRow};
pub use submissions::{AlertHistory, NewCorrection, NewSubmission, SentForm, StoredScore, StoredSubmission};
pub use wording::{NewWordingPack, WordingPackRow};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

use qol_shared::{Language, Timestamp};

use crate::clock::Clock;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The aggregate that joins a group's texts with a separator (`NAME(text, ',')`).
    pub(super) fn join_texts(self) -> &'static str {
        match self {
            Backend::Sqlite => "group_concat",
            Backend::Postgres => "string_agg",
        }
    }

    pub fn from_url(url: &str) -> Result<Backend, StorageError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl(redact(url)))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "database url {0:?} is not supported: use sqlite://PATH (the default is sqlite://data/qol.db) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    #[error("could not create the folder {path} for the SQLite database: {source}")]
    CreateFolder { path: String, source: std::io::Error },
    #[error("could not connect to the {backend} database at {url}: {source}")]
    Connect { backend: &'static str, url: String, source: sqlx::Error },
    #[error("could not apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("a write transaction was committed without an audit entry")]
    Unaudited,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(
        "the database at {url} holds no qol study; to start a new study there run `qol serve --init` (or `qol serve --demo` to try qol), otherwise check --database-url"
    )]
    NoStudy { url: String },
    #[error(
        "this is not the study's database any more: {0}; restart the server once the right database is back"
    )]
    NotTheStudy(String),
}

impl StorageError {
    /// Whether the error is a unique-constraint violation (mapped once, here, for both backends).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StorageError::Query(sqlx::Error::Database(error)) => error.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether the error is the storage failing rather than the request (disk full, I/O error,
    /// a locked, corrupt, missing or replaced database, a lost connection). These answer 503 with
    /// `Retry-After`: the request changed nothing and may be sent again once storage recovers.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StorageError::Connect { .. } | StorageError::NoStudy { .. } | StorageError::NotTheStudy(_) => {
                true
            }
            StorageError::Query(error) => match error {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(error) => error.code().is_some_and(|code| unavailable_code(&code)),
                _ => false,
            },
            _ => false,
        }
    }
}

/// SQLite result codes (primary code, the low byte of the extended one) and PostgreSQL SQLSTATE
/// classes that mean the storage, not the request, failed.
fn unavailable_code(code: &str) -> bool {
    if let Ok(extended) = code.parse::<i32>() {
        // SQLITE_BUSY 5, LOCKED 6, NOMEM 7, READONLY 8, IOERR 10, CORRUPT 11, FULL 13,
        // CANTOPEN 14, PROTOCOL 15, NOTADB 26.
        return matches!(extended & 0xff, 5 | 6 | 7 | 8 | 10 | 11 | 13 | 14 | 15 | 26);
    }
    // 08 connection exception, 53 insufficient resources (53100 disk full), 57 operator
    // intervention (shutdown), 58 system error (I/O), XX internal error (corruption), 3D000 the
    // database does not exist, 42P01 a table is missing (a re-created empty database), 25006 a
    // read-only transaction.
    ["08", "53", "57", "58", "XX"].iter().any(|class| code.starts_with(class))
        || matches!(code, "3D000" | "42P01" | "25006")
}

/// The stored text of a unit enum: its serde name (`on_time`, `red`, `patient_too_ill`), so
/// the database, the API and the code share one spelling.
pub fn enum_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub(crate) fn enum_from<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| StorageError::Corrupt(format!("stored value {text:?}")))
}

/// `$first, …` for `n` parameters, for a list in an SQL statement (`IN (…)`).
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A statement being bound, as the multi-row inserts and updates pass it to their binding helpers.
pub(super) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// An optional float as bound in SQL, always with `CAST($n AS DOUBLE PRECISION)`.
///
/// sqlx 0.9.0's `Any` driver declares a NULL `f64` to PostgreSQL as FLOAT4 (its mapping of
/// `AnyTypeInfoKind::Double` to `Option::<f32>::None` in `sqlx-core/src/any/arguments.rs`), which
/// breaks the cached statement for the next non-NULL value. As text the declared type is always
/// the same; Rust writes the shortest form that reads back to the same f64, so nothing is lost.
pub fn float_param(value: Option<f64>) -> Option<String> {
    value.map(|value| value.to_string())
}

/// A time as stored: RFC 3339 UTC with microseconds, which sorts as text.
pub fn timestamp_text(time: chrono::DateTime<chrono::Utc>) -> String {
    Timestamp(time).text()
}

/// A stored timestamp, typed.
pub fn stored_timestamp(text: &str) -> Result<Timestamp, StorageError> {
    Timestamp::parse(text).map_err(|_| StorageError::Corrupt(format!("timestamp {text:?}")))
}

/// A stored optional timestamp, typed.
pub fn stored_timestamp_opt(text: Option<String>) -> Result<Option<Timestamp>, StorageError> {
    text.as_deref().map(stored_timestamp).transpose()
}

/// A stored language tag, typed.
pub fn stored_language(text: &str) -> Result<Language, StorageError> {
    Language::from_tag(text).ok_or_else(|| StorageError::Corrupt(format!("language {text:?}")))
}

pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, StorageError> {
    text.parse().map_err(|_| StorageError::Corrupt(format!("date {text:?}")))
}

/// The connection pool, which backend it talks to, and which study database it opened.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The study instance id read at open (`audit_head.instance_id`); every write transaction
    /// checks it, so a replaced or re-created database is refused instead of written to.
    instance_id: std::sync::Arc<str>,
    /// SQLite: the file opened, by device and inode, so a file deleted or replaced under the
    /// running server is noticed (open connections would go on writing to the unlinked file).
    sqlite_file: Option<std::sync::Arc<FileIdentity>>,
    /// What "now" is for the timestamps storage writes itself (audit entries, sessions, codes).
    clock: Clock,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileIdentity {
    path: std::path::PathBuf,
    device: u64,
    inode: u64,
}

impl FileIdentity {
    fn of(path: &Path) -> std::io::Result<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)?;
        Ok(FileIdentity { path: path.to_owned(), device: metadata.dev(), inode: metadata.ino() })
    }
}

/// A study as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub strata: Vec<String>,
    pub is_demo: bool,
    pub protocol_json: String,
}

/// How a command opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The database must already hold a study (every command, and `qol serve` without `--init`).
    Existing,
    /// Create the database and its schema when there is none (`qol serve --init` or `--demo`);
    /// a database that holds a study is opened as it is.
    CreateIfEmpty,
    /// Read only: no migrations, no writes (`qol audit verify`).
    ReadOnly,
}

impl Db {
    /// This handle with another clock (the same pool): what a history written as it happened,
    /// or a test, runs on.
    pub fn with_clock(&self, clock: Clock) -> Db {
        Db { clock, ..self.clone() }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The clock's time as stored.
    pub fn now_text(&self) -> String {
        timestamp_text(self.clock.now())
    }

    /// Opens the study database: connects, refuses a database without a study unless `mode`
    /// allows creating one, applies the migrations (not when read-only) and reads the study
    /// instance id that every later write checks.
    pub async fn open(url: &str, mode: OpenMode) -> Result<Db, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut url = url.to_owned();
        let mut sqlite_file = None;
        if backend == Backend::Sqlite {
            let path = sqlite_path(&url).map(Path::to_owned);
            if let Some(path) = &path {
                if mode != OpenMode::CreateIfEmpty && !path.exists() {
                    return Err(StorageError::NoStudy { url: redact(&url) });
                }
                let parent = path.parent().filter(|parent| !parent.as_os_str().is_empty());
                if let Some(parent) = parent {
                    std::fs::create_dir_all(parent).map_err(|source| StorageError::CreateFolder {
                        path: parent.display().to_string(),
                        source,
                    })?;
                }
            }
            if !url.contains("mode=") && !url.contains(":memory:") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(if mode == OpenMode::ReadOnly { "mode=ro" } else { "mode=rwc" });
            }
            sqlite_file = path;
        }
        let options: AnyConnectOptions = url.parse().map_err(|source| StorageError::Connect {
            backend: backend.as_str(),
            url: redact(&url),
            source,
        })?;
        let read_only = mode == OpenMode::ReadOnly;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            // WAL lets readers run beside the writer; foreign keys are off by
                            // default in SQLite; the busy timeout makes a writer wait instead of
                            // failing.
                            connection.execute("PRAGMA foreign_keys = ON").await?;
                            connection.execute("PRAGMA busy_timeout = 5000").await?;
                            if !read_only {
                                connection.execute("PRAGMA journal_mode = WAL").await?;
                                connection.execute("PRAGMA synchronous = FULL").await?;
                            }
                        }
                        Backend::Postgres if read_only => {
                            connection.execute("SET default_transaction_read_only = on").await?;
                        }
                        Backend::Postgres => {}
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| StorageError::Connect {
                backend: backend.as_str(),
                url: redact(&url),
                source,
            })?;
        let mut db = Db { pool, backend, instance_id: "".into(), sqlite_file: None, clock: Clock::system() };
        if mode != OpenMode::CreateIfEmpty && !db.holds_a_study().await? {
            db.close().await;
            return Err(StorageError::NoStudy { url: redact(&url) });
        }
        if !read_only {
            db.migrate().await?;
        }
        let instance: String = sqlx::query("SELECT instance_id FROM audit_head WHERE id = 1")
            .fetch_one(&db.pool)
            .await?
            .try_get(0)?;
        if instance.is_empty() {
            return Err(StorageError::Corrupt("the database has no study instance id".into()));
        }
        db.instance_id = instance.into();
        if let Some(path) = sqlite_file {
            let identity = FileIdentity::of(&path)
                .map_err(|source| StorageError::CreateFolder { path: path.display().to_string(), source })?;
            db.sqlite_file = Some(std::sync::Arc::new(identity));
        }
        Ok(db)
    }

    /// Whether the database has qol's schema with a study in it (read without migrating).
    async fn holds_a_study(&self) -> Result<bool, StorageError> {
        let table = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'studies'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'studies' AND table_schema = current_schema()"
            }
        };
        let tables: i64 = sqlx::query(table).fetch_one(&self.pool).await?.try_get(0)?;
        if tables == 0 {
            return Ok(false);
        }
        let studies: i64 =
            sqlx::query("SELECT COUNT(*) FROM studies").fetch_one(&self.pool).await?.try_get(0)?;
        Ok(studies > 0)
    }

    /// The study instance id this server opened.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Refuses when the SQLite file at the database's path is no longer the one that was opened
    /// (deleted, or replaced by another file).
    fn check_file(&self) -> Result<(), StorageError> {
        let Some(opened) = &self.sqlite_file else { return Ok(()) };
        match FileIdentity::of(&opened.path) {
            Ok(now) if now == **opened => Ok(()),
            Ok(_) => Err(StorageError::NotTheStudy(format!(
                "the database file {} was replaced while the server was running",
                opened.path.display()
            ))),
            Err(_) => Err(StorageError::NotTheStudy(format!(
                "the database file {} was removed while the server was running",
                opened.path.display()
            ))),
        }
    }

    /// Proves that the database is the study's own and that a write commits now: a write
    /// transaction (which checks the file and the instance id) that updates the probe row and
    /// commits, so a full disk, a read-only or locked database fails here.
    pub async fn check_ready(&self) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE readiness_probe SET checked_at = $1 WHERE id = 1")
            .bind(self.now_text())
            .execute(&mut *tx.tx)
            .await?;
        tx.commit_derived().await
    }

    async fn migrate(&self) -> Result<(), StorageError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The SQLite `journal_mode` or PostgreSQL's server version, for start-up logs and tests.
    pub async fn describe(&self) -> Result<String, StorageError> {
        let sql = match self.backend {
            Backend::Sqlite => "PRAGMA journal_mode",
            Backend::Postgres => "SHOW server_version",
        };
        let row = sqlx::query(sql).fetch_one(&self.pool).await?;
        Ok(row.try_get::<String, _>(0)?)
    }

    /// SQLite: writes a consistent copy of the database to `path` (`VACUUM INTO`, one read
    /// transaction; writers go on meanwhile).
    pub async fn vacuum_into(&self, path: &str) -> Result<(), StorageError> {
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }

    /// The study this database holds (this version of qol runs one study per database).
    pub async fn study(&self) -> Result<Option<StudyRow>, StorageError> {
        let row = sqlx::query(
            "SELECT id, code, title, strata, is_demo, protocol_json FROM studies ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let strata: String = row.try_get("strata")?;
            Ok(StudyRow {
                id: row.try_get("id")?,
                code: row.try_get("code")?,
                title: row.try_get("title")?,
                strata: strata.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                is_demo: row.try_get::<i64, _>("is_demo")? == 1,
                protocol_json: row.try_get("protocol_json")?,
            })
        })
        .transpose()
    }
}

impl WriteTx {
    pub async fn insert_study(
        &mut self,
        code: &str,
        title: &str,
        strata: &[String],
        protocol_json: &str,
        is_demo: bool,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO studies (code, title, strata, is_demo, created_at, protocol_json) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(code)
        .bind(title)
        .bind(strata.join(","))
        .bind(i64::from(is_demo))
        .bind(self.now_text())
        .bind(protocol_json)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }
}

/// The file a `sqlite:` URL names (none for an in-memory database).
pub fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// The URL without its password, for messages and logs.
pub fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) if parsed.password().is_some() => match parsed.set_password(Some("***")) {
            Ok(()) => parsed.to_string(),
            Err(()) => "(a database URL with a password)".into(),
        },
        Ok(_) => text.to_owned(),
        // Not a URL the parser takes: nothing of what may follow a scheme's "//" is shown when
        // it could hold a password.
        Err(_) if text.contains('@') => "(a database URL with credentials)".into(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://qol:secret@db/qol"), "postgres://qol:***@db/qol");
        assert_eq!(redact("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact("sqlite://data/qol.db"), "sqlite://data/qol.db");
        assert_eq!(
            redact("postgres://qol:p%40ss@db:5432/qol?sslmode=require"),
            "postgres://qol:***@db:5432/qol?sslmode=require"
        );
        assert_eq!(redact("postgres://qol:secret@[::1"), "(a database URL with credentials)");
    }

    #[test]
    fn backends_are_chosen_by_url_scheme() {
        assert_eq!(Backend::from_url("sqlite://data/qol.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://x@y/z").unwrap(), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://x@y/z").unwrap(), Backend::Postgres);
        let error = Backend::from_url("mysql://root:pw@host/db").unwrap_err().to_string();
        assert!(error.contains("mysql://root:***@host/db") && error.contains("sqlite://"), "{error}");
    }

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(sqlite_path("sqlite://data/qol.db?mode=rwc"), Some(Path::new("data/qol.db")));
        assert_eq!(sqlite_path("sqlite:qol.db"), Some(Path::new("qol.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}
