//! Building the application apart from running it: [`Application::build`] connects to the
//! database, applies migrations, seeds the demo study when asked, loads the wording pack and
//! binds the listener; [`Application::run_until_stopped`] serves until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use qol_shared::wording::WordingPack;
use tokio::net::TcpListener;

use crate::clinic::Clinic;
use crate::config::ServeConfig;
use crate::http::serve::{Edges, serve};
use crate::http::{AppState, app};
use crate::storage::{Db, OpenMode, redact};

/// How long a sign-in waits for a turn to hash before it is told the server is busy (503).
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    clinic: Arc<Clinic>,
    /// The scheduler's period (see [`scheduler`]).
    schedule_every: std::time::Duration,
    /// The reminder scheduler's period (see [`reminder_scheduler`]).
    remind_every: std::time::Duration,
    seeded_demo: bool,
    demo_study: bool,
    shutdown: Shutdown,
    edges: Edges,
    /// The outbox worker's channels, when any is configured.
    outbox: Option<(crate::notify::Channels, crate::notify::OutboxPacing, crate::notify::OutboxWake)>,
}

/// The reminder channels, checked: the SMS gateway and web push (e-mail is [`mail_settings`]'s).
/// Every mistake names its flag.
fn reminder_channels(
    config: &ServeConfig,
) -> anyhow::Result<(Option<crate::notify::SmsGateway>, Option<crate::notify::PushSender>)> {
    let settings = &config.reminders;
    let sms = match &settings.sms_gateway_url {
        Some(url) => Some(crate::notify::SmsGateway::new(
            &url.0,
            settings.sms_gateway_token.as_ref().map(|token| token.0.as_str()),
        )?),
        None if settings.sms_gateway_token.is_some() => {
            anyhow::bail!("--sms-gateway-token needs --sms-gateway-url (the gateway to send through)")
        }
        None => None,
    };
    let push = match (&settings.vapid_private_key_file, &settings.vapid_subject) {
        (Some(path), Some(subject)) => {
            let pem = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "--vapid-private-key-file: could not read {} (write one with `qol admin vapid-keys`)",
                    path.display()
                )
            })?;
            Some(crate::notify::PushSender::new(&pem, subject)?)
        }
        (Some(_), None) => anyhow::bail!(
            "--vapid-private-key-file needs --vapid-subject (a contact for push services, e.g. mailto:qol@hospital.example)"
        ),
        (None, Some(_)) => {
            anyhow::bail!("--vapid-subject needs --vapid-private-key-file (from `qol admin vapid-keys`)")
        }
        (None, None) => None,
    };
    Ok((sms, push))
}

/// The site's protocol file, validated (`--protocol`): the protocol and the file's text.
fn site_protocol(config: &ServeConfig) -> anyhow::Result<Option<(qol_shared::schedule::Protocol, String)>> {
    let Some(path) = &config.protocol_file else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--protocol: could not read {}", path.display()))?;
    let protocol = qol_shared::schedule::Protocol::parse(&text).map_err(|error| {
        anyhow::anyhow!("--protocol: {} is not a valid protocol: {error}", path.display())
    })?;
    Ok(Some((protocol, text)))
}

/// The mail settings, checked: the mailer, the on-call addresses and the worker's pacing; `None`
/// when no SMTP server is given. Every mistake names its flag.
fn mail_settings(
    config: &ServeConfig,
) -> anyhow::Result<Option<(crate::notify::Mailer, Vec<String>, crate::notify::OutboxPacing)>> {
    let mail = &config.mail;
    let Some(smtp_url) = &mail.smtp_url else {
        if !mail.notify_emails.is_empty() {
            anyhow::bail!(
                "--notify-email needs --smtp-url (the SMTP server to send through) and --mail-from"
            );
        }
        return Ok(None);
    };
    let from = mail
        .mail_from
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--smtp-url needs --mail-from (the sender address)"))?;
    if mail.notify_emails.is_empty() {
        tracing::warn!(
            "no --notify-email: e-mail goes to patients' reminders only, not to an on-call address"
        );
    }
    let mut emails = Vec::new();
    for address in &mail.notify_emails {
        emails.push(crate::notify::parse_address("--notify-email", address)?.email.to_string());
    }
    if let Some(url) = &mail.public_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        anyhow::bail!("--public-url: {url:?} must start with https:// (or http://)");
    }
    let mailer = crate::notify::Mailer::new(
        &smtp_url.0,
        mail.smtp_user.as_deref(),
        mail.smtp_password.as_ref().map(|secret| secret.0.as_str()),
        from,
    )?;
    let mut pacing = crate::notify::OutboxPacing::default();
    if let Some(retry) = mail.outbox_retry {
        pacing.retry_base = retry;
        pacing.poll = pacing.poll.min(retry);
    }
    Ok(Some((mailer, emails, pacing)))
}

impl Application {
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Application> {
        let file_wording = match &config.wording_pack {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("could not read the wording pack {}", path.display()))?;
                Some(
                    WordingPack::parse(&path.display().to_string(), &text)
                        .map_err(|errors| anyhow::anyhow!("the wording pack is invalid:\n{errors}"))?,
                )
            }
            None => None,
        };
        // Checked before the database is touched: a bad flag changes nothing.
        let mail = mail_settings(config)?;
        let (sms, push) = reminder_channels(config)?;
        let site_protocol = site_protocol(config)?;
        let mode = if config.init || config.demo { OpenMode::CreateIfEmpty } else { OpenMode::Existing };
        let db = Db::open(&config.database_url, mode).await?.with_clock(config.clock.clone());
        let (mut clinic, seeded_demo) = Clinic::open_with(
            &db,
            config.demo,
            site_protocol.as_ref().map(|(protocol, text)| (protocol, text.as_str())),
        )
        .await
        .map_err(|error| anyhow::anyhow!("could not set up the study: {error}"))?;
        clinic.idle_lock = config.idle_lock;
        let wording = clinic
            .load_wording(file_wording)
            .await
            .map_err(|error| anyhow::anyhow!("could not load the wording pack: {error}"))?;
        clinic
            .renew_demo_code()
            .await
            .map_err(|error| anyhow::anyhow!("could not set up the study: {error}"))?;
        // Schedules as the date has moved them while the server was down; reads never write.
        clinic
            .keep_schedules_in_step()
            .await
            .map_err(|error| anyhow::anyhow!("could not bring the schedules in step: {error}"))?;
        let demo_study = db.study().await?.is_some_and(|study| study.is_demo);
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
            wording_source = %wording.source,
            demonstration_wording = wording.demonstration,
            "qol is ready"
        );
        let mut channels = crate::notify::Channels { mail: None, sms, push };
        let mut pacing = crate::notify::OutboxPacing::default();
        if let Some((mailer, emails, mail_pacing)) = mail {
            clinic.on_call.emails = emails;
            channels.mail = Some(mailer);
            pacing = mail_pacing;
        } else if let Some(retry) = config.mail.outbox_retry {
            pacing.retry_base = retry;
            pacing.poll = pacing.poll.min(retry);
        }
        clinic.reach = crate::clinic::reminders::Reach {
            sms: channels.sms.is_some(),
            email: channels.mail.is_some(),
            push_public_key: channels.push.as_ref().map(crate::notify::PushSender::public_key),
            any_push_endpoint: config.reminders.any_push_endpoint,
        };
        if clinic.protocol().reminders.enabled
            && channels.sms.is_none()
            && channels.mail.is_none()
            && channels.push.is_none()
        {
            tracing::warn!(
                "the protocol sends reminders but no channel is configured (--sms-gateway-url, --smtp-url, \
                 --vapid-private-key-file): no reminder will leave"
            );
        }
        let outbox = (!channels.is_empty()).then_some((channels, pacing));
        clinic.on_call.public_url = config
            .mail
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", listener.local_addr().unwrap_or(config.bind)));
        let wake = clinic.on_call.wake.clone();
        let clinic = Arc::new(clinic);
        let state = AppState {
            clinic: clinic.clone(),
            secure_cookies: config.secure_cookies,
            hasher: crate::auth::Hasher::new(HASHING_WAIT),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            metrics: crate::http::metrics::Metrics::new(config.metrics_token.clone()),
        };
        let shutdown = Shutdown::install().context("could not listen for SIGTERM and Ctrl-C")?;
        let edges = Edges::from_config(config);
        Ok(Application {
            listener,
            router: app(state, config),
            db,
            clinic,
            schedule_every: config.schedule_every,
            remind_every: config.reminders.remind_every,
            seeded_demo,
            demo_study,
            shutdown,
            edges,
            outbox: outbox.map(|(channels, pacing)| (channels, pacing, wake)),
        })
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

    /// The study's patient id prefix (`IVB`), from its protocol.
    pub fn patient_id_prefix(&self) -> String {
        self.clinic.protocol().patient_id_prefix.clone()
    }

    /// Whether this start created the demo study (a new database with `--demo`).
    pub fn seeded_demo(&self) -> bool {
        self.seeded_demo
    }

    /// Whether the database holds the demo study (whose sign-ins are printed at start).
    pub fn demo_study(&self) -> bool {
        self.demo_study
    }

    /// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `stop` completes (or a signal arrives), then lets requests in flight finish.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let db = self.db.clone();
        let shutdown = self.shutdown;
        let worker = self.outbox.map(|(channels, pacing, wake)| {
            tokio::spawn(crate::notify::run(self.clinic.as_ref().clone(), channels, pacing, wake))
        });
        let scheduler = tokio::spawn(scheduler(self.clinic.clone(), self.schedule_every));
        let reminders = tokio::spawn(reminder_scheduler(self.clinic.clone(), self.remind_every));
        let either = async move {
            tokio::select! {
                () = shutdown.wait() => {}
                () = stop => tracing::info!("stop requested, shutting down"),
            }
        };
        serve(self.listener, self.router, self.edges, either).await?;
        if let Some(worker) = worker {
            worker.abort();
        }
        scheduler.abort();
        reminders.abort();
        db.close().await;
        tracing::info!("qol stopped");
        Ok(())
    }
}

/// Brings every patient's schedule in step with the date, every `every` (the first pass ran at
/// build): weekly assessments are scheduled two weeks ahead while treatment goes on, so the
/// schedule moves with time, not only with events. A failed pass (the database away) is logged
/// and tried again at the next.
async fn scheduler(clinic: Arc<Clinic>, every: std::time::Duration) {
    loop {
        tokio::time::sleep(every).await;
        match clinic.keep_schedules_in_step().await {
            Ok(patients) => tracing::debug!(patients, "schedules in step"),
            Err(error) => {
                tracing::warn!(%error, "the schedules could not be brought in step; trying again later")
            }
        }
    }
}

/// Queues the reminders that are due, every `every` (docs/reminders.md). Each reminder's key is
/// unique, so servers sharing a database queue it once; a failed pass is logged and tried again.
async fn reminder_scheduler(clinic: Arc<Clinic>, every: std::time::Duration) {
    loop {
        match clinic.queue_due_reminders().await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(queued, "reminders queued"),
            Err(error) => tracing::warn!(%error, "reminders could not be queued; trying again later"),
        }
        tokio::time::sleep(every).await;
    }
}

/// SIGTERM and SIGINT (Ctrl-C), registered when the application is built, so a signal that
/// arrives as soon as the server says it is listening already stops it gracefully.
#[derive(Debug)]
struct Shutdown {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> std::io::Result<Shutdown> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Shutdown {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
            _ = self.interrupt.recv() => tracing::info!("Ctrl-C received, shutting down"),
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received, shutting down");
        }
    }
}
