//! `qol backup` and `qol restore`.
//!
//! SQLite: `VACUUM INTO` writes a consistent, compacted copy of the live database in one read
//! transaction, so patients keep submitting while it runs; the copy is a plain SQLite file.
//! PostgreSQL: `pg_dump --format=custom` (a consistent snapshot as well) and `pg_restore`, which
//! must be on the PATH (Debian: `postgresql-client`). Either way the copy's audit trail is
//! verified and its head printed, to be recorded outside the database; `qol audit verify
//! --expect-head` on a restored copy proves it is whole.

use std::path::Path;

use anyhow::{Context, bail};

use crate::config::{BackupArgs, RestoreArgs};
use crate::storage::{AuditHead, Backend, Db, OpenMode, redact, sqlite_path};

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    if args.output.exists() {
        bail!("{} already exists; choose a new file name for the backup", args.output.display());
    }
    let db = Db::open(&args.database.url, OpenMode::Existing).await?;
    let result = match db.backend() {
        Backend::Sqlite => backup_sqlite(&db, &args.output).await,
        Backend::Postgres => backup_postgres(&db, &args.database.url, &args.output).await,
    };
    db.close().await;
    if result.is_err() {
        let _ = std::fs::remove_file(&args.output);
    }
    let head = result?;
    println!("backup written to {}", args.output.display());
    println!("audit head {head}");
    println!(
        "record the audit head outside the database; check a restored copy with `qol audit verify --expect-head {head}`"
    );
    Ok(())
}

/// Writes the copy and returns the audit head it holds.
async fn backup_sqlite(db: &Db, output: &Path) -> anyhow::Result<AuditHead> {
    let output_text = output.to_str().context("the backup path must be valid UTF-8")?;
    db.vacuum_into(output_text)
        .await
        .with_context(|| format!("could not write the backup to {}", output.display()))?;
    let (_, head) = verified_head(&format!("sqlite://{output_text}"))
        .await
        .context("the backup's audit trail does not verify")?;
    Ok(head)
}

/// Opens a copy read-only and verifies its audit chain: the verdict's sentence and the head.
async fn verified_head(url: &str) -> anyhow::Result<(String, AuditHead)> {
    let copy = Db::open(url, OpenMode::ReadOnly).await?;
    let verified = crate::admin::verify(&copy, None).await;
    let head = copy.audit_head().await;
    copy.close().await;
    Ok((verified?, head?))
}

async fn backup_postgres(db: &Db, url: &str, output: &Path) -> anyhow::Result<AuditHead> {
    // The head read before the snapshot: the dump holds at least this chain (it may have grown).
    let head = db.audit_head().await?;
    let status = tokio::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg("--file")
        .arg(output)
        .arg("--dbname")
        .arg(url)
        .status()
        .await
        .context("could not run pg_dump; install the PostgreSQL client tools (Debian: postgresql-client)")?;
    if !status.success() {
        bail!("pg_dump failed ({status}) for {}", redact(url));
    }
    Ok(head)
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let mut magic = [0u8; 16];
    {
        use std::io::Read;
        let mut file = std::fs::File::open(&args.file)
            .with_context(|| format!("could not open the backup {}", args.file.display()))?;
        file.read_exact(&mut magic)
            .with_context(|| format!("{} is too short to be a backup", args.file.display()))?;
    }
    let backend = Backend::from_url(&args.database.url)?;
    match backend {
        Backend::Sqlite => {
            if &magic != b"SQLite format 3\0" {
                bail!("{} is not a SQLite backup made by `qol backup`", args.file.display());
            }
            let target = sqlite_path(&args.database.url)
                .context("restore needs a SQLite file path in --database-url")?;
            if target.exists() {
                bail!(
                    "{} already exists; stop the server and move the old database (and its -wal and -shm files) away first",
                    target.display()
                );
            }
            if let Some(parent) = target.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            // Copied beside the target, then renamed: a restore cut short leaves no half file
            // where the server would open it.
            let partial = target.with_extension("restoring");
            std::fs::copy(&args.file, &partial)
                .with_context(|| format!("could not copy the backup to {}", partial.display()))?;
            std::fs::File::open(&partial)?.sync_all()?;
            std::fs::rename(&partial, target)?;
        }
        Backend::Postgres => {
            if &magic[..5] != b"PGDMP" {
                bail!(
                    "{} is not a PostgreSQL backup made by `qol backup` (pg_dump --format=custom)",
                    args.file.display()
                );
            }
            if let Ok(existing) = Db::open(&args.database.url, OpenMode::ReadOnly).await {
                existing.close().await;
                bail!(
                    "{} already holds a study; restore into a new, empty database",
                    redact(&args.database.url)
                );
            }
            let status = tokio::process::Command::new("pg_restore")
                .arg("--no-owner")
                .arg("--exit-on-error")
                .arg("--dbname")
                .arg(&args.database.url)
                .arg(&args.file)
                .status()
                .await
                .context("could not run pg_restore; install the PostgreSQL client tools (Debian: postgresql-client)")?;
            if !status.success() {
                bail!("pg_restore failed ({status}) into {}", redact(&args.database.url));
            }
        }
    }
    let (verified, head) = verified_head(&args.database.url)
        .await
        .context("the restored database's audit trail does not verify")?;
    println!("restored {} into {}", args.file.display(), redact(&args.database.url));
    println!("{verified}");
    println!("audit head {head}");
    Ok(())
}
