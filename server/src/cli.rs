//! The `qol` command: parse the command line, set up logging, run the subcommand, and on failure
//! print the error with its causes and exit non-zero.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use tracing_subscriber::EnvFilter;

use crate::config::{Cli, Command, ExportArgs, LogFormat, ServeConfig};
use crate::export::Export;
use crate::startup::Application;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            init_logging(args.log_format);
            let config = ServeConfig::from(args.as_ref());
            runtime().and_then(|runtime| runtime.block_on(serve(config)))
        }
        Command::Score(args) => crate::score_csv::run(&args),
        Command::Admin(command) => runtime().and_then(|runtime| runtime.block_on(crate::admin::run(command))),
        Command::Audit(command) => {
            runtime().and_then(|runtime| runtime.block_on(crate::admin::audit(command)))
        }
        Command::Export(args) => runtime().and_then(|runtime| runtime.block_on(export(args))),
        Command::Backup(args) => runtime().and_then(|runtime| runtime.block_on(crate::backup::backup(args))),
        Command::Restore(args) => {
            runtime().and_then(|runtime| runtime.block_on(crate::backup::restore(args)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("qol: error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let application = Application::build(&config).await?;
    if application.seeded_demo() {
        tracing::info!("created the demo study in the new database");
    }
    // Printed, not only logged, so scripts and people see where to go. A closed stdout must not
    // stop the server, so write errors are ignored rather than panicking as println! would.
    let mut announcement = format!("qol is listening on http://{}\n", application.local_addr());
    if application.demo_study() {
        announcement.push_str(&crate::clinic::demo::sign_ins(&application.patient_id_prefix()));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(announcement.as_bytes()).and_then(|()| stdout.flush());
    drop(stdout);
    application.run_until_stopped().await?;
    Ok(())
}

/// `qol export NAME [--output FILE]`.
async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let export = Export::parse(&args.name).with_context(|| format!("the exports are {}", Export::names()))?;
    let db = crate::storage::Db::open(&args.database.url, crate::storage::OpenMode::Existing).await?;
    if db.study().await?.is_none() {
        bail!("the database at {} holds no study yet (start `qol serve` on it first)", args.database.url);
    }
    let (clinic, _) = crate::clinic::Clinic::open(&db, false).await?;
    let details = json!({ "via": "cli", "output": args.output.as_ref().map(|p| p.display().to_string()) });
    let mut rx = clinic.start_export(&crate::storage::Actor::cli(), export, details).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("could not create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut failure = None;
    while let Some(chunk) = rx.recv().await {
        match chunk {
            Ok(bytes) => out.write_all(&bytes).context("could not write the export")?,
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    out.flush().context("could not write the export")?;
    drop(out);
    db.close().await;
    if let Some(error) = failure {
        if let Some(path) = &args.output {
            // A partial file must not be mistaken for the export.
            let _ = std::fs::remove_file(path);
        }
        bail!("{error}");
    }
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("QOL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
