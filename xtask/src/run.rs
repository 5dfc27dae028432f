//! `cargo xtask run`: the app, built, and qol serving it on SQLite with the demo study.

use std::process::Command;

use anyhow::Context;

use crate::util::{cargo, root, run as run_command, target_dir};

const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DATABASE_URL: &str = "sqlite://data/qol.db";

pub fn run(extra: &[String]) -> anyhow::Result<()> {
    let dist = crate::dist::dist()?;
    run_command(cargo().args(["build", "--package", "qol-server", "--bin", "qol"]))?;
    let qol = target_dir().join("debug/qol");
    let bind = extra
        .windows(2)
        .find(|pair| pair[0] == "--bind")
        .map_or(DEFAULT_BIND.to_owned(), |pair| pair[1].clone());
    println!();
    println!("qol: open http://{bind}/ in a browser (Ctrl-C stops the server)");
    println!("qol: database {DATABASE_URL} (delete data/ to start again from the demo seed)");
    println!(
        "qol: app build {} ({} brotli first load)",
        dist.dir.display(),
        crate::dist::kb(dist.first_load_brotli())
    );
    println!("qol: the demo sign-ins are printed by the server below");
    println!();
    let mut command = Command::new(qol);
    command
        .current_dir(root())
        .args(["serve", "--demo", "--database-url", DATABASE_URL, "--dist-dir"])
        .arg(&dist.dir);
    if !extra.iter().any(|arg| arg == "--bind") {
        command.args(["--bind", DEFAULT_BIND]);
    }
    command.args(extra);
    let status = command.status().context("could not start qol")?;
    anyhow::ensure!(status.success(), "qol exited with {status}");
    Ok(())
}
