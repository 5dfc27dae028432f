//! Storage: the only module that holds SQL. It speaks `sqlx::Any`, so one set of queries runs on
//! SQLite (the default, a local file) and on PostgreSQL (`DATABASE_URL=postgres://…`); each
//! backend has its own migrations folder because their DDL differs.
//!
//! Queries use `$1`-style placeholders, which both backends accept, and only the types both map
//! the same way through `Any` (i64, f64, text). Timestamps are RFC 3339 text in UTC.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
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
}

/// The connection pool and which backend it talks to.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// A study as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyRow {
    pub code: String,
    pub title: String,
    pub strata: Vec<String>,
    pub is_demo: bool,
}

impl Db {
    /// Connects (creating a SQLite file and its folder if needed) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            let parent = sqlite_path(&url).and_then(|path| path.parent().map(Path::to_owned));
            if let Some(parent) = parent.filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(&parent).map_err(|source| StorageError::CreateFolder {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            if !url.contains("mode=") && !url.contains(":memory:") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str("mode=rwc");
            }
        }
        let options: AnyConnectOptions = url.parse().map_err(|source| StorageError::Connect {
            backend: backend.as_str(),
            url: redact(&url),
            source,
        })?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; foreign keys are off by default
                        // in SQLite; the busy timeout makes a writer wait instead of failing.
                        connection.execute("PRAGMA foreign_keys = ON").await?;
                        connection.execute("PRAGMA busy_timeout = 5000").await?;
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA synchronous = FULL").await?;
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
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
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

    /// Answers when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
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

    /// Creates the demo study when the database has no study yet. Returns whether it did.
    pub async fn seed_demo_study(&self, now_rfc3339: &str) -> Result<bool, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let count: i64 =
            sqlx::query("SELECT COUNT(*) FROM studies").fetch_one(&mut *transaction).await?.try_get(0)?;
        if count > 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO studies (code, title, strata, is_demo, created_at) VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(DEMO_STUDY_CODE)
        .bind(DEMO_STUDY_TITLE)
        .bind("nodal,hematogenous")
        .bind(now_rfc3339)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// The first study (this version of qol runs one study per database).
    pub async fn study(&self) -> Result<Option<StudyRow>, StorageError> {
        let row = sqlx::query("SELECT code, title, strata, is_demo FROM studies ORDER BY id LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let strata: String = row.try_get("strata")?;
            Ok(StudyRow {
                code: row.try_get("code")?,
                title: row.try_get("title")?,
                strata: strata.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                is_demo: row.try_get::<i64, _>("is_demo")? == 1,
            })
        })
        .transpose()
    }
}

pub const DEMO_STUDY_CODE: &str = "IVB-DEMO";
pub const DEMO_STUDY_TITLE: &str =
    "Demo: chemotherapy plus radiotherapy to the primary lesion for stage IVB cervical cancer";

fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &credentials[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
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

    #[tokio::test]
    async fn a_new_sqlite_file_is_created_in_wal_mode_and_seeded_once() {
        let folder = std::env::temp_dir().join(format!("qol-storage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        let url = format!("sqlite://{}/nested/qol.db", folder.display());
        let db = Db::connect(&url).await.unwrap();
        assert_eq!(db.describe().await.unwrap(), "wal");
        assert!(db.seed_demo_study("2026-01-01T00:00:00Z").await.unwrap());
        assert!(!db.seed_demo_study("2026-01-02T00:00:00Z").await.unwrap());
        let study = db.study().await.unwrap().unwrap();
        assert_eq!(study.code, DEMO_STUDY_CODE);
        assert_eq!(study.strata, ["nodal", "hematogenous"]);
        db.close().await;
        // Reopening applies no migration twice and keeps the data.
        let again = Db::connect(&url).await.unwrap();
        assert_eq!(again.study().await.unwrap().unwrap().code, DEMO_STUDY_CODE);
        again.close().await;
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
