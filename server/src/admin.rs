//! `qol admin …` (staff accounts, lockouts) and `qol audit verify | head`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

use crate::auth::{MIN_PASSWORD_LENGTH, hash_secret};
use crate::clinic::{Clinic, Locked, Outcome};
use crate::config::{AdminCommand, AuditCommand};
use crate::storage::{Actor, AuditHead, AuditVerification, Db, OpenMode};

pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateUser { username, role, database } => {
            let username = crate::auth::normal_username(&username);
            if let Some(problem) = crate::auth::username_problem(&username) {
                bail!("{problem}");
            }
            let password = read_password()?;
            if password.chars().count() < MIN_PASSWORD_LENGTH {
                bail!("the password is too short: use at least {MIN_PASSWORD_LENGTH} characters");
            }
            let db = Db::open(&database.url, OpenMode::Existing).await?;
            let hash = tokio::task::spawn_blocking(move || hash_secret(&password)).await?;
            let (clinic, _) = Clinic::open(&db, false).await?;
            clinic.create_staff(&Actor::cli(), &username, &role, &hash).await?;
            db.close().await;
            println!("created {role} {username:?}");
            Ok(())
        }
        AdminCommand::DisableUser { username, database } => {
            let db = Db::open(&database.url, OpenMode::Existing).await?;
            let outcome = clinic_of(&db).await?.set_staff_disabled(&Actor::cli(), &username, true).await;
            db.close().await;
            report(
                outcome?,
                &format!("disabled {username:?}"),
                &format!("{username:?} was already disabled"),
            );
            Ok(())
        }
        AdminCommand::EnableUser { username, database } => {
            let db = Db::open(&database.url, OpenMode::Existing).await?;
            let outcome = clinic_of(&db).await?.set_staff_disabled(&Actor::cli(), &username, false).await;
            db.close().await;
            report(outcome?, &format!("enabled {username:?}"), &format!("{username:?} was already enabled"));
            Ok(())
        }
        AdminCommand::SignOutUser { username, database } => {
            let db = Db::open(&database.url, OpenMode::Existing).await?;
            let outcome = clinic_of(&db).await?.sign_out_staff_everywhere(&Actor::cli(), &username).await;
            db.close().await;
            report(
                outcome?,
                &format!("signed {username:?} out"),
                &format!("{username:?} had no live session"),
            );
            Ok(())
        }
        AdminCommand::VapidKeys { output } => {
            let (private_pem, public_key) = crate::notify::new_vapid_keys()?;
            write_secret_file(&output, &private_pem)?;
            println!("wrote the VAPID private key to {}", output.display());
            println!("public key (the app fetches it from the server; nothing to copy): {public_key}");
            Ok(())
        }
        AdminCommand::Unlock { username, study_id, database } => {
            let db = Db::open(&database.url, OpenMode::Existing).await?;
            let (who, name) = match (&username, &study_id) {
                (Some(username), _) => (Locked::Staff(username), crate::auth::normal_username(username)),
                (None, Some(study_id)) => (Locked::Patient(study_id), crate::auth::normal_study_id(study_id)),
                (None, None) => bail!("name the account to unlock with --username or --study-id"),
            };
            let outcome = clinic_of(&db).await?.unlock(&Actor::cli(), who).await;
            db.close().await;
            report(outcome?, &format!("unlocked {name:?}"), &format!("{name:?} had no failed sign-ins"));
            Ok(())
        }
    }
}

/// Writes a new file readable by its owner only; an existing file is never overwritten.
fn write_secret_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not create {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("could not write {}", path.display()))
}

/// The service over an opened database, for the account commands.
async fn clinic_of(db: &Db) -> anyhow::Result<Clinic> {
    Ok(Clinic::open(db, false).await?.0)
}

fn report(outcome: Outcome, changed: &str, unchanged: &str) {
    let sessions = match outcome.sessions_ended {
        0 => String::new(),
        1 => "; 1 session ended".into(),
        n => format!("; {n} sessions ended"),
    };
    println!("{}{sessions}", if outcome.changed { changed } else { unchanged });
}

/// One line from stdin when it is piped; a prompt (twice, to confirm) when it is a terminal.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).context("could not read the password from stdin")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    let first = ask("password: ")?;
    let second = ask("again: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was created");
    }
    Ok(first)
}

pub async fn audit(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { expect_head, database } => {
            let db = Db::open(&database.url, OpenMode::ReadOnly).await?;
            let result = verify(&db, expect_head.as_ref()).await;
            db.close().await;
            println!("{}", result?);
            Ok(())
        }
        AuditCommand::Head { database } => {
            let db = Db::open(&database.url, OpenMode::ReadOnly).await?;
            let head = db.audit_head().await;
            db.close().await;
            println!("{}", head?);
            Ok(())
        }
    }
}

/// Verifies the chain (and that it holds `expected`); the sentence to print when intact.
pub async fn verify(db: &Db, expected: Option<&AuditHead>) -> anyhow::Result<String> {
    match db.verify_audit_chain(expected).await? {
        AuditVerification::Intact { entries } => {
            let noun = if entries == 1 { "entry" } else { "entries" };
            let held =
                expected.map_or(String::new(), |head| format!(", and it holds the recorded head {head}"));
            Ok(format!("the audit trail is intact: {entries} {noun}, every hash matches{held}"))
        }
        AuditVerification::Broken { id, checked, problem } => {
            bail!(
                "the audit trail is broken at entry {id}: {problem} ({checked} entries before it are intact)"
            )
        }
    }
}
