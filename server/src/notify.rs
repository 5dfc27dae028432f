//! The outbox worker: delivers the messages that transactions queued in the `outbox` table
//! (e-mail to the on-call addresses today; SMS and push later), with retries and backoff, each
//! attempt audited.
//!
//! Delivery is at least once, never twice in the normal run: a worker claims one due message at a
//! time with a two-minute lease in a transaction of its own (holding the audit chain's lock;
//! PostgreSQL also skips rows another claim has locked), sends within 30 seconds or gives the
//! attempt up, then records the outcome only if it still holds the lease.
//! Two servers on one database therefore never send the same message twice; a server killed
//! between sending and recording leaves the message to be sent again after its lease runs out
//! (the `Message-ID` is the same, so mail clients show it once).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::clinic::Clinic;
use crate::clinic::outbox::Attempt;
use crate::storage::{OutboxMessage, timestamp_text};

/// The longest one delivery may take, well inside the lease, so a message is never sent by a
/// worker whose lease another has taken over.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct OutboxPacing {
    /// The first retry waits this long; each further one twice as long, up to `max_backoff`.
    pub retry_base: Duration,
    pub max_backoff: Duration,
    /// After this many failed attempts a message is marked failed (visible in the console).
    pub max_attempts: i64,
    /// How often the worker looks for due messages without being woken (other servers' messages,
    /// retries).
    pub poll: Duration,
    /// How long a claim holds a message.
    pub lease: Duration,
}

impl Default for OutboxPacing {
    fn default() -> OutboxPacing {
        OutboxPacing {
            retry_base: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30 * 60),
            // 30 s, 1, 2, 4, 8, 16 min, then every 30 min: about 3.5 hours of trying.
            max_attempts: 12,
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(120),
        }
    }
}

impl OutboxPacing {
    /// The wait before attempt `attempt + 1`, after `attempt` failed.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.retry_base.saturating_mul(2_u32.saturating_pow(doublings)).min(self.max_backoff)
    }
}

/// The SMTP connection and the sender, checked at start.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

/// An e-mail address as given on the command line, checked; `flag` names it in the error.
pub fn parse_address(flag: &str, text: &str) -> anyhow::Result<Mailbox> {
    Mailbox::from_str(text.trim())
        .map_err(|error| anyhow::anyhow!("{flag}: {text:?} is not an e-mail address ({error})"))
}

impl Mailer {
    /// From `--smtp-url` (smtp://, smtp://…?tls=required for STARTTLS, smtps://), the user and
    /// password (in the URL, or given apart), and `--mail-from`.
    pub fn new(
        smtp_url: &str,
        user: Option<&str>,
        password: Option<&str>,
        from: &str,
    ) -> anyhow::Result<Mailer> {
        let parsed = url::Url::parse(smtp_url).map_err(|error| {
            anyhow::anyhow!(
                "--smtp-url: not a URL ({error}); write e.g. smtp://mail.example.org:587?tls=required"
            )
        })?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none_or(str::is_empty) {
            anyhow::bail!(
                "--smtp-url: {:?} must be smtp://HOST[:PORT] (add ?tls=required for STARTTLS) or smtps://HOST[:PORT]",
                crate::storage::redact(smtp_url)
            );
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|error| anyhow::anyhow!("--smtp-url: {error}"))?
            .timeout(Some(Duration::from_secs(20)));
        match (user, password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
            }
            (None, None) => {}
            _ => anyhow::bail!(
                "--smtp-user and --smtp-password go together (QOL_SMTP_USER, QOL_SMTP_PASSWORD)"
            ),
        }
        Ok(Mailer { transport: builder.build(), from: parse_address("--mail-from", from)? })
    }

    async fn send(&self, message: &OutboxMessage) -> anyhow::Result<()> {
        let to = parse_address("recipient", &message.recipient)?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            // One "@" only (RFC 5322): the key holds the recipient's address.
            .message_id(Some(format!("<{}@qol>", message.dedupe_key.replace('@', "="))))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .context("could not build the message")?;
        // lettre's own timeout bounds the connection only; a server that accepts and then says
        // nothing would hold the worker (and every message behind it) forever.
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(email)).await {
            Ok(result) => result.map(drop).context("the SMTP server did not take the message"),
            Err(_) => anyhow::bail!("the SMTP server did not answer within {} s", SEND_TIMEOUT.as_secs()),
        }
    }
}

/// The worker's handle: wake it after queueing so a message leaves at once.
#[derive(Debug, Clone, Default)]
pub struct OutboxWake(Arc<Notify>);

impl OutboxWake {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Runs until the task is dropped: delivers due messages, then sleeps until woken or `poll`.
pub async fn run(clinic: Clinic, mailer: Mailer, pacing: OutboxPacing, wake: OutboxWake) {
    let worker = format!("{}-{}", std::process::id(), timestamp_text(clinic.now()));
    loop {
        match deliver_due(&clinic, &mailer, &pacing, &worker).await {
            Ok(0) => {}
            Ok(_) => continue, // more may be due
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "the outbox could not be read; trying again")
            }
        }
        tokio::select! {
            () = wake.0.notified() => {}
            () = tokio::time::sleep(pacing.poll) => {}
        }
    }
}

/// Claims and delivers the next message due now; returns how many it tried (0 or 1).
pub async fn deliver_due(
    clinic: &Clinic,
    mailer: &Mailer,
    pacing: &OutboxPacing,
    worker: &str,
) -> anyhow::Result<usize> {
    let Some(message) = clinic.claim_next_message(worker, pacing.lease).await? else { return Ok(0) };
    let outcome = match message.channel.as_str() {
        "email" => mailer.send(&message).await,
        other => Err(anyhow::anyhow!("no {other} channel is configured")),
    };
    let attempt = match outcome {
        Ok(()) => Attempt::Sent,
        Err(error) => {
            let give_up = message.attempt >= pacing.max_attempts;
            let retry_at = (!give_up).then(|| {
                clinic.now()
                    + chrono::Duration::from_std(pacing.backoff(message.attempt))
                        .unwrap_or(chrono::Duration::minutes(30))
            });
            let error = format!("{error:#}");
            tracing::warn!(message = message.id, attempt = message.attempt, error = %error, "a message could not be sent");
            Attempt::Failed { error, retry_at }
        }
    };
    // `false`: the lease ran out and another worker took the message over; its outcome stands.
    clinic.record_attempt(worker, &message, attempt).await?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_half_an_hour() {
        let pacing = OutboxPacing::default();
        let waits: Vec<u64> = (1..=8).map(|attempt| pacing.backoff(attempt).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
    }

    #[test]
    fn bad_smtp_settings_name_the_flag() {
        let error = |url: &str, from: &str| Mailer::new(url, None, None, from).unwrap_err().to_string();
        assert!(error("mail.example.org", "qol@example.org").starts_with("--smtp-url: not a URL"));
        assert!(error("http://mail.example.org", "qol@example.org").starts_with("--smtp-url: "));
        assert!(error("smtp://mail.example.org:25", "not an address").starts_with("--mail-from: "));
        assert!(
            Mailer::new(
                "smtp://user:secret@mail.example.org:587?tls=required",
                None,
                None,
                "qol@example.org"
            )
            .is_ok()
        );
        assert!(Mailer::new("smtps://mail.example.org", None, None, "Study nurse <qol@example.org>").is_ok());
        assert!(
            Mailer::new("smtp://mail.example.org", Some("user"), None, "qol@example.org")
                .unwrap_err()
                .to_string()
                .contains("go together")
        );
    }
}
