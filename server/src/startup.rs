//! Building the application apart from running it: [`Application::build`] connects to the
//! database, applies migrations, seeds the demo study when asked, loads the wording pack and
//! binds the listener; [`Application::run_until_stopped`] serves until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use qol_shared::wording::WordingPack;
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::http::{AppState, app};
use crate::storage::{Db, redact};

#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    seeded_demo: bool,
}

impl Application {
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Application> {
        let wording = match &config.wording_pack {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("could not read the wording pack {}", path.display()))?;
                WordingPack::parse(&path.display().to_string(), &text)
                    .map_err(|errors| anyhow::anyhow!("the wording pack is invalid:\n{errors}"))?
            }
            None => WordingPack::demo(),
        };
        let db = Db::connect(&config.database_url).await?;
        let seeded_demo =
            if config.demo { db.seed_demo_study(&chrono::Utc::now().to_rfc3339()).await? } else { false };
        let listener = TcpListener::bind(config.bind).await.with_context(|| {
            format!(
                "could not listen on {}; is another server using it? choose another with --bind",
                config.bind
            )
        })?;
        tracing::info!(
            database = %redact(&config.database_url),
            backend = db.backend().as_str(),
            wording = %wording.name,
            demonstration_wording = wording.demonstration,
            "qol is ready"
        );
        let state = AppState { db: db.clone(), wording: Arc::new(wording) };
        Ok(Application { listener, router: app(state, config), db, seeded_demo })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether this start created the demo study (a new database with `--demo`).
    pub fn seeded_demo(&self) -> bool {
        self.seeded_demo
    }

    /// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let db = self.db.clone();
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown_signal()).await?;
        db.close().await;
        tracing::info!("qol stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
