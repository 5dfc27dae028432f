//! The outbox worker: delivers the messages that transactions queued in the `outbox` table
//! (e-mail to the on-call addresses; reminders to patients by SMS through the site's gateway, by
//! e-mail, or by web push), with retries and backoff, each attempt audited. A reminder is checked
//! again just before it leaves: not after the form was received or the window closed, not in the
//! quiet hours.
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
use crate::clinic::reminders::ReminderCheck;
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

/// How an attempt to send went wrong.
#[derive(Debug)]
pub enum SendError {
    /// Worth trying again (a network error, a 5xx, a 429).
    Retry(anyhow::Error),
    /// Trying again would not help (a 4xx: the number or the request was refused); the answer.
    Refused(String),
    /// The push subscription is gone (404, 410): pruned, and the message failed.
    Gone(String),
}

impl From<anyhow::Error> for SendError {
    fn from(error: anyhow::Error) -> SendError {
        SendError::Retry(error)
    }
}

/// The channels this server sends by; each is optional.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub mail: Option<Mailer>,
    pub sms: Option<SmsGateway>,
    pub push: Option<PushSender>,
}

impl Channels {
    pub fn is_empty(&self) -> bool {
        self.mail.is_none() && self.sms.is_none() && self.push.is_none()
    }
}

/// An answer's body, short enough to record.
async fn answer_text(mut response: reqwest::Response) -> String {
    let status = response.status();
    // The first few kilobytes only: an endpoint that answers without end must not fill memory.
    let mut bytes = Vec::new();
    while bytes.len() < 4096 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let body = String::from_utf8_lossy(&bytes);
    let body: String = body.trim().chars().take(300).collect();
    if body.is_empty() { format!("{status}") } else { format!("{status}: {body}") }
}

/// The site's SMS gateway: a JSON POST per message (docs/reminders.md, "SMS gateway").
#[derive(Clone)]
pub struct SmsGateway {
    client: reqwest::Client,
    url: url::Url,
    token: Option<String>,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsGateway")
            .field("url", &crate::storage::redact(self.url.as_str()))
            .finish_non_exhaustive()
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("could not set up the HTTP client")
}

impl SmsGateway {
    /// From `--sms-gateway-url` (http:// or https://) and the optional bearer token.
    pub fn new(url: &str, token: Option<&str>) -> anyhow::Result<SmsGateway> {
        let parsed = url::Url::parse(url.trim()).map_err(|error| {
            anyhow::anyhow!(
                "--sms-gateway-url: not a URL ({error}); write e.g. https://sms.hospital.example/send"
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            anyhow::bail!(
                "--sms-gateway-url: {:?} must be an http:// or https:// URL",
                crate::storage::redact(url)
            );
        }
        let token = token.map(str::trim).filter(|token| !token.is_empty()).map(str::to_owned);
        Ok(SmsGateway { client: http_client()?, url: parsed, token })
    }

    async fn send(&self, message: &OutboxMessage) -> Result<(), SendError> {
        let body = serde_json::json!({
            "to": message.recipient,
            "text": message.body,
            "template": message.template,
            "language": message.language,
            "message_id": message.dedupe_key,
        });
        let mut request = self.client.post(self.url.clone()).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| {
            SendError::Retry(anyhow::anyhow!("the SMS gateway could not be reached: {}", without_url(&error)))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = answer_text(response).await;
        if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(SendError::Refused(format!("the SMS gateway refused it: {answer}")))
        } else {
            Err(SendError::Retry(anyhow::anyhow!("the SMS gateway answered {answer}")))
        }
    }
}

/// A reqwest error without the secrets of the URL it names (a gateway's URL may hold a key in
/// its user, password or query).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        let mut shown = url.clone();
        shown.set_query(None);
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        text = text.replace(url.as_str(), shown.as_str());
    }
    if error.is_timeout() { format!("no answer within {} s", SEND_TIMEOUT.as_secs()) } else { text }
}

/// A browser's push keys, checked: its P-256 public key and its 16-byte secret (base64url).
pub fn push_keys(
    p256dh: &str,
    auth: &str,
) -> anyhow::Result<(web_push_native::p256::PublicKey, web_push_native::Auth)> {
    use base64::Engine as _;
    let decode = |text: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .context("not base64url")
    };
    let public = web_push_native::p256::PublicKey::from_sec1_bytes(&decode(p256dh)?)
        .map_err(|_| anyhow::anyhow!("p256dh is not a P-256 public key"))?;
    let auth: [u8; 16] = decode(auth)?.try_into().map_err(|_| anyhow::anyhow!("auth is not 16 bytes"))?;
    Ok((public, web_push_native::Auth::from(auth)))
}

/// Web push with VAPID (RFC 8292), the payload encrypted for the browser (RFC 8291).
#[derive(Clone)]
pub struct PushSender {
    client: reqwest::Client,
    key: Arc<web_push_native::jwt_simple::algorithms::ES256KeyPair>,
    subject: String,
}

impl std::fmt::Debug for PushSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSender").field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// A new VAPID key pair: (the private key as PEM, the public key as browsers take it).
pub fn new_vapid_keys() -> anyhow::Result<(String, String)> {
    let key = web_push_native::jwt_simple::algorithms::ES256KeyPair::generate();
    let pem = key.to_pem().map_err(|error| anyhow::anyhow!("could not write the key: {error}"))?;
    Ok((pem, vapid_public_key(&key)))
}

fn vapid_public_key(key: &web_push_native::jwt_simple::algorithms::ES256KeyPair) -> String {
    use base64::Engine as _;
    use web_push_native::jwt_simple::algorithms::ECDSAP256PublicKeyLike as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(key.public_key().public_key().to_bytes_uncompressed())
}

impl PushSender {
    /// From the PEM written by `qol admin vapid-keys` and the contact (`mailto:` or `https:`)
    /// push services may write to.
    pub fn new(pem: &str, subject: &str) -> anyhow::Result<PushSender> {
        let key = web_push_native::jwt_simple::algorithms::ES256KeyPair::from_pem(pem).map_err(|error| {
            anyhow::anyhow!("--vapid-private-key-file: not a P-256 private key in PEM ({error}); write one with `qol admin vapid-keys`")
        })?;
        let subject = subject.trim();
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) || subject.len() < 10 {
            anyhow::bail!(
                "--vapid-subject: {subject:?} must be a mailto: or https: contact, e.g. mailto:qol@hospital.example"
            );
        }
        Ok(PushSender { client: http_client()?, key: Arc::new(key), subject: subject.to_owned() })
    }

    /// The public key the app subscribes with (base64url, uncompressed P-256).
    pub fn public_key(&self) -> String {
        vapid_public_key(&self.key)
    }

    async fn send(&self, clinic: &Clinic, message: &OutboxMessage) -> Result<(), SendError> {
        let Some(target) =
            clinic.push_target(&message.recipient).await.map_err(|error| SendError::Retry(error.into()))?
        else {
            return Err(SendError::Refused("the device no longer receives push reminders".into()));
        };
        let (public, auth) = push_keys(&target.p256dh, &target.auth)
            .map_err(|error| SendError::Refused(format!("{error:#}")))?;
        let endpoint: axum::http::Uri = target
            .endpoint
            .parse()
            .map_err(|_| SendError::Refused("the subscription's endpoint is not a URL".into()))?;
        let payload = serde_json::json!({
            "title": message.subject,
            "body": message.body,
            "tag": format!("qol-{}", message.assessment_key.as_deref().unwrap_or("message")),
        });
        let request = web_push_native::WebPushBuilder::new(endpoint, public, auth)
            // 12 hours: within RFC 8292's 24-hour ceiling on the signature even with a clock
            // ahead, and a phone offline longer gets no stale reminder.
            .with_valid_duration(Duration::from_secs(12 * 60 * 60))
            .with_vapid(&self.key, &self.subject)
            .build(payload.to_string())
            .map_err(|error| SendError::Refused(format!("could not encrypt the message: {error}")))?;
        let request = reqwest::Request::try_from(request)
            .map_err(|error| SendError::Refused(format!("could not build the request: {error}")))?;
        let response = self.client.execute(request).await.map_err(|error| {
            SendError::Retry(anyhow::anyhow!(
                "the push service could not be reached: {}",
                without_url(&error)
            ))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = answer_text(response).await;
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            let why =
                format!("the device's push subscription has ended (the push service answered {answer})");
            clinic
                .push_subscription_gone(target.id, &why)
                .await
                .map_err(|error| SendError::Retry(error.into()))?;
            Err(SendError::Gone(why))
        } else if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(SendError::Refused(format!("the push service refused it: {answer}")))
        } else {
            Err(SendError::Retry(anyhow::anyhow!("the push service answered {answer}")))
        }
    }
}

/// Runs until the task is dropped: delivers due messages, then sleeps until woken or `poll`.
pub async fn run(clinic: Clinic, channels: Channels, pacing: OutboxPacing, wake: OutboxWake) {
    let worker = format!("{}-{}", std::process::id(), timestamp_text(clinic.now()));
    loop {
        match deliver_due(&clinic, &channels, &pacing, &worker).await {
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
    channels: &Channels,
    pacing: &OutboxPacing,
    worker: &str,
) -> anyhow::Result<usize> {
    let Some(message) = clinic.claim_next_message(worker, pacing.lease).await? else { return Ok(0) };
    if message.purpose == "reminder" {
        // A check that cannot be made counts as a failed attempt (retried, then failed), so a
        // message never stays leased and claimed without end.
        let check = match clinic.check_reminder(&message).await {
            Ok(check) => check,
            Err(error) => {
                let retry_at = (message.attempt < pacing.max_attempts).then(|| {
                    clinic.now()
                        + chrono::Duration::from_std(pacing.backoff(message.attempt))
                            .unwrap_or(chrono::Duration::minutes(30))
                });
                let error = format!("the reminder could not be checked: {error}");
                clinic.record_attempt(worker, &message, Attempt::Failed { error, retry_at }).await?;
                return Ok(1);
            }
        };
        if check != ReminderCheck::Send {
            clinic.hold_reminder(worker, &message, &check).await?;
            return Ok(1);
        }
    }
    let outcome = match message.channel.as_str() {
        "email" => match &channels.mail {
            Some(mailer) => mailer.send(&message).await.map_err(SendError::Retry),
            None => Err(SendError::Retry(anyhow::anyhow!("no SMTP server is configured (--smtp-url)"))),
        },
        "sms" => match &channels.sms {
            Some(gateway) => gateway.send(&message).await,
            None => {
                Err(SendError::Retry(anyhow::anyhow!("no SMS gateway is configured (--sms-gateway-url)")))
            }
        },
        "push" => match &channels.push {
            Some(push) => push.send(clinic, &message).await,
            None => Err(SendError::Retry(anyhow::anyhow!(
                "web push is not configured (--vapid-private-key-file)"
            ))),
        },
        other => Err(SendError::Refused(format!("no {other} channel exists"))),
    };
    let attempt = match outcome {
        Ok(()) => Attempt::Sent,
        Err(error) => {
            let (error, retry) = match error {
                SendError::Retry(error) => (format!("{error:#}"), message.attempt < pacing.max_attempts),
                SendError::Refused(answer) | SendError::Gone(answer) => (answer, false),
            };
            // A server's answer may repeat the address or number it refused: a patient's stays
            // out of the record (the outbox row holds it).
            let error = if message.purpose == "reminder"
                && message.channel != "push"
                && message.recipient.len() > 3
            {
                error.replace(&message.recipient, "<the patient's>")
            } else {
                error
            };
            let retry_at = retry.then(|| {
                clinic.now()
                    + chrono::Duration::from_std(pacing.backoff(message.attempt))
                        .unwrap_or(chrono::Duration::minutes(30))
            });
            tracing::warn!(message = message.id, attempt = message.attempt, channel = %message.channel, error = %error, "a message could not be sent");
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
