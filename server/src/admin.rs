//! `qol admin create-user` and `qol audit verify`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use serde_json::json;

use crate::auth::{MIN_PASSWORD_LENGTH, hash_secret};
use crate::config::{AdminCommand, AuditCommand};
use crate::storage::{Actor, AuditEntry, AuditVerification, Db};

pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateUser { username, role, database } => {
            let username = username.trim().to_lowercase();
            if username.is_empty()
                || !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                bail!("username {username:?} may only hold letters, digits, '.', '_' and '-'");
            }
            let password = read_password()?;
            if password.chars().count() < MIN_PASSWORD_LENGTH {
                bail!("the password is too short: use at least {MIN_PASSWORD_LENGTH} characters");
            }
            let db = Db::connect(&database.url).await?;
            let hash = tokio::task::spawn_blocking(move || hash_secret(&password)).await?;
            let mut tx = db.begin_write().await?;
            match tx.insert_staff(&username, &role, &hash).await {
                Ok(_) => {}
                Err(error) if error.is_unique_violation() => {
                    bail!("a user named {username:?} already exists")
                }
                Err(error) => return Err(error.into()),
            }
            tx.audit(
                &Actor::cli(),
                AuditEntry {
                    action: "staff.create",
                    entity: "staff_user",
                    entity_id: username.clone(),
                    after: Some(json!({ "role": role })),
                    ..AuditEntry::default()
                },
            )
            .await?;
            tx.commit().await?;
            db.close().await;
            println!("created {role} {username:?}");
            Ok(())
        }
    }
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
        AuditCommand::Verify { database } => {
            let db = Db::connect(&database.url).await?;
            let result = db.verify_audit_chain().await?;
            db.close().await;
            match result {
                AuditVerification::Intact { entries } => {
                    let noun = if entries == 1 { "entry" } else { "entries" };
                    println!("the audit trail is intact: {entries} {noun}, every hash matches");
                    Ok(())
                }
                AuditVerification::Broken { id, checked, problem } => {
                    bail!(
                        "the audit trail is broken at entry {id}: {problem} ({checked} entries before it are intact)"
                    )
                }
            }
        }
    }
}
