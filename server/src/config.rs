//! The command line and configuration: read once at start-up into typed structs, then passed
//! down. Nothing below this module reads the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/qol.db";

/// qol: patient-reported quality of life for clinical trials.
#[derive(Debug, Parser)]
#[command(name = "qol", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the JSON API and the web app.
    Serve(Box<ServeArgs>),
    /// Score a CSV of QLQ-C30 or QLQ-CX24 item answers (paper or REDCap data) to stdout.
    Score(ScoreArgs),
    /// Administration: staff accounts and the audit trail.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a research export (pseudonymised: study ids and study days only) to a file or
    /// stdout. Audited, like the same export from the API.
    Export(ExportArgs),
    /// Make a consistent copy of the study database while the server runs (SQLite: a single
    /// file; PostgreSQL: a pg_dump custom-format archive), check its audit trail and print its
    /// audit head.
    Backup(BackupArgs),
    /// Restore a backup made by `qol backup` into a new database (a SQLite path that does not
    /// exist yet, or an empty PostgreSQL database), then check its audit trail.
    Restore(RestoreArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet.
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup file written by `qol backup`.
    pub file: PathBuf,
    /// Where to restore: a SQLite path that does not exist yet, or an empty PostgreSQL database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Which export.
    #[arg(value_parser = ["scores_long.csv", "items_long.csv", "schedule.csv", "scores_wide.csv", "dictionary.csv", "fhir.ndjson"])]
    pub name: String,
    /// The file to write; stdout when left out.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account (the first admin too). The password is read from stdin when stdin
    /// is not a terminal, and prompted for otherwise.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["admin", "nurse", "researcher"])]
        role: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Disable a staff account: it cannot sign in, and its sessions end at once.
    DisableUser {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Enable a disabled staff account again.
    EnableUser {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// End every session of a staff account (signed out everywhere).
    SignOutUser {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write a new VAPID key pair for web push reminders: the private key to a file (PEM,
    /// readable by its owner only; give it to `qol serve --vapid-private-key-file`), the public
    /// key to stdout. Touches no database.
    VapidKeys {
        /// The file to write; it must not exist yet.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Lift a sign-in lockout: a staff account (--username) or a patient (--study-id).
    Unlock {
        #[arg(long, conflicts_with = "study_id", required_unless_present = "study_id")]
        username: Option<String>,
        #[arg(long)]
        study_id: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit trail's hash chain and report the first broken entry. Read-only: it
    /// never migrates or writes the database.
    Verify {
        /// A head printed earlier by `qol audit head` (ENTRIES:HASH): the chain must still
        /// hold it, so a chain cut short or replaced by another fails.
        #[arg(long)]
        expect_head: Option<crate::storage::AuditHead>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the chain's head (ENTRIES:HASH), to record outside the database.
    Head {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Port 0 picks a free port.
    #[arg(long, env = "QOL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Folder holding the built web app (`cargo xtask dist` writes it). When it is missing the API
    /// still runs and `/` says how to build the app.
    #[arg(long, env = "QOL_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,

    /// A site's licensed wording pack (JSON, see docs/wording-packs.md). Without it qol uses its
    /// demonstration wording, which is not the validated questionnaire.
    #[arg(long, env = "QOL_WORDING_PACK")]
    pub wording_pack: Option<PathBuf>,

    /// Create a new study in an empty or missing database. Without it (or --demo) qol refuses to
    /// start on a database that holds no study, so a mistyped --database-url cannot start an
    /// empty study by accident. Never touches a database that holds a study.
    #[arg(long, env = "QOL_INIT")]
    pub init: bool,

    /// Seed a new (empty) database with the demo study (implies --init). Never touches a database
    /// that has data.
    #[arg(long, env = "QOL_DEMO")]
    pub demo: bool,

    /// Log format: human-readable text, or one JSON object per line for log collectors.
    #[arg(long, env = "QOL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Mark session cookies Secure: set this when qol is reached over HTTPS (e.g. behind a
    /// TLS-terminating proxy).
    #[arg(long, env = "QOL_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "QOL_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// The most connections served at once; further clients wait to be accepted.
    #[arg(long, env = "QOL_MAX_CONNECTIONS", default_value = "512",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,

    /// Seconds a connection may take to send a request's headers, and may stay idle between
    /// requests; then it is closed.
    #[arg(long, env = "QOL_HEADER_TIMEOUT", default_value = "10", value_parser = parse_seconds)]
    pub header_timeout: Duration,

    /// Seconds a request may take to send its body, from its headers on; then it gets 408.
    #[arg(long, env = "QOL_BODY_TIMEOUT", default_value = "30", value_parser = parse_seconds)]
    pub body_timeout: Duration,

    /// A proxy in front of qol, as an address or CIDR range (repeat for several): from these
    /// peers the client's address is read from X-Forwarded-For. From others it is ignored.
    #[arg(long = "trusted-proxy", env = "QOL_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// A bearer token for `GET /metrics` (Prometheus): with it, whoever sends
    /// `Authorization: Bearer TOKEN` reads the metrics, from anywhere; without it, only a caller
    /// on this machine that came through no proxy.
    #[arg(long, env = "QOL_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// A site's protocol file (JSON, see docs/protocol.md) for a new study: validated, every
    /// mistake named by its key. Without it the shipped protocol is used. A database that holds a
    /// study keeps its own protocol; giving a different one is refused.
    #[arg(long, env = "QOL_PROTOCOL")]
    pub protocol: Option<PathBuf>,

    /// Seconds without a touch before the patient's app locks itself, in place of the
    /// protocol's `patient_view.idle_lock_minutes` (for demonstrations and tests).
    #[arg(long, env = "QOL_IDLE_LOCK_SECONDS", value_parser = parse_seconds, hide = true)]
    pub idle_lock_seconds: Option<Duration>,

    #[command(flatten)]
    pub mail: MailArgs,

    #[command(flatten)]
    pub reminders: ReminderArgs,
}

/// Reminders to patients (docs/reminders.md): by SMS through the site's gateway, by e-mail
/// (the SMTP settings above), by web push.
#[derive(Debug, Clone, Args)]
pub struct ReminderArgs {
    /// The site's SMS gateway: each text is a JSON POST to this URL (docs/reminders.md).
    #[arg(long, env = "QOL_SMS_GATEWAY_URL", hide_env_values = true)]
    pub sms_gateway_url: Option<String>,
    /// A bearer token sent to the SMS gateway (`Authorization: Bearer …`).
    #[arg(long, env = "QOL_SMS_GATEWAY_TOKEN", hide_env_values = true)]
    pub sms_gateway_token: Option<String>,
    /// The VAPID private key for web push, as written by `qol admin vapid-keys`.
    #[arg(long, env = "QOL_VAPID_PRIVATE_KEY_FILE")]
    pub vapid_private_key_file: Option<PathBuf>,
    /// A contact push services may write to: mailto:… or https://….
    #[arg(long, env = "QOL_VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,
    /// Seconds between the scheduler's looks for reminders that are due.
    #[arg(long, env = "QOL_REMIND_EVERY_SECONDS", default_value = "30", value_parser = parse_seconds, hide = true)]
    pub remind_every: Duration,
}

/// The reminder settings as `qol serve` uses them (checked in `Application::build`).
#[derive(Debug, Clone)]
pub struct ReminderConfig {
    pub sms_gateway_url: Option<Secret>,
    pub sms_gateway_token: Option<Secret>,
    pub vapid_private_key_file: Option<PathBuf>,
    pub vapid_subject: Option<String>,
    /// How often the scheduler looks for reminders that are due.
    pub remind_every: Duration,
    /// Tests only (no flag): push endpoints on any http(s) address, e.g. a test's own on
    /// 127.0.0.1. A server takes only https push services at host names.
    pub any_push_endpoint: bool,
}

impl Default for ReminderConfig {
    fn default() -> ReminderConfig {
        ReminderConfig {
            sms_gateway_url: None,
            sms_gateway_token: None,
            vapid_private_key_file: None,
            vapid_subject: None,
            remind_every: REMIND_EVERY,
            any_push_endpoint: false,
        }
    }
}

/// The reminder scheduler's period: a reminder leaves within this of its time.
pub const REMIND_EVERY: Duration = Duration::from_secs(30);

/// E-mail to the on-call addresses when a patient asks to be called or a card becomes red.
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// The SMTP server: smtp://HOST:PORT (plain, e.g. a local relay), smtp://HOST:587?tls=required
    /// (STARTTLS) or smtps://HOST:465 (TLS). A user and password may be in the URL
    /// (smtp://USER:PASSWORD@HOST…) or in --smtp-user / --smtp-password.
    #[arg(long, env = "QOL_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    #[arg(long, env = "QOL_SMTP_USER")]
    pub smtp_user: Option<String>,
    #[arg(long, env = "QOL_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender of qol's e-mail, e.g. "qol <qol@hospital.example>".
    #[arg(long, env = "QOL_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// An on-call address told of new call requests and red cards (repeat for several; the
    /// environment variable takes a comma-separated list).
    #[arg(long = "notify-email", env = "QOL_NOTIFY_EMAILS", value_delimiter = ',')]
    pub notify_emails: Vec<String>,
    /// The address staff open qol at (e.g. https://qol.hospital.example), for links in e-mail.
    /// By default http://BIND.
    #[arg(long, env = "QOL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds before the first retry of a message that could not be sent (doubling up to 30
    /// minutes).
    #[arg(long, env = "QOL_OUTBOX_RETRY_SECONDS", default_value = "30", value_parser = parse_seconds, hide = true)]
    pub outbox_retry: Duration,
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The mail settings as `qol serve` uses them (checked in `Application::build`).
#[derive(Debug, Clone, Default)]
pub struct MailConfig {
    pub smtp_url: Option<Secret>,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<Secret>,
    pub mail_from: Option<String>,
    pub notify_emails: Vec<String>,
    pub public_url: Option<String>,
    pub outbox_retry: Option<Duration>,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (created on first use) or postgres://USER[:PASSWORD]@HOST[:PORT]/DB.
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    /// Which questionnaire the file holds: qlq-c30 (columns q1…q30) or qlq-cx24 (q31…q54).
    #[arg(long, value_parser = ["qlq-c30", "qlq-cx24"])]
    pub instrument: String,

    /// The CSV file to read; `-` reads standard input.
    pub file: PathBuf,

    /// Add a `<SCALE>_items_answered` column after the scores for each scale.
    #[arg(long)]
    pub items_answered: bool,
}

/// Everything `qol serve` needs, resolved once.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub database_url: String,
    pub dist_dir: PathBuf,
    pub wording_pack: Option<PathBuf>,
    pub init: bool,
    pub demo: bool,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `--metrics-token`: who may read `GET /metrics` from elsewhere than this machine.
    pub metrics_token: Option<String>,
    pub mail: MailConfig,
    pub reminders: ReminderConfig,
    /// The protocol file for a new study (`--protocol`); the shipped protocol when `None`.
    pub protocol_file: Option<PathBuf>,
    /// Where time comes from: the system clock, or a settable one in tests.
    pub clock: crate::clock::Clock,
    /// How often the scheduler brings every patient's schedule in step with the date.
    pub schedule_every: Duration,
    /// The patient's app's idle lock, in place of the protocol's (`--idle-lock-seconds`).
    pub idle_lock: Option<Duration>,
}

impl From<&ServeArgs> for ServeConfig {
    fn from(args: &ServeArgs) -> ServeConfig {
        ServeConfig {
            bind: args.bind,
            database_url: args.database.url.clone(),
            dist_dir: args.dist_dir.clone(),
            wording_pack: args.wording_pack.clone(),
            init: args.init,
            demo: args.demo,
            secure_cookies: args.secure_cookies,
            max_body_bytes: args.max_body_bytes,
            max_connections: args.max_connections,
            header_timeout: args.header_timeout,
            body_timeout: args.body_timeout,
            trusted_proxies: args.trusted_proxies.clone(),
            metrics_token: args.metrics_token.clone(),
            mail: MailConfig {
                smtp_url: args.mail.smtp_url.clone().map(Secret),
                smtp_user: args.mail.smtp_user.clone(),
                smtp_password: args.mail.smtp_password.clone().map(Secret),
                mail_from: args.mail.mail_from.clone(),
                notify_emails: args
                    .mail
                    .notify_emails
                    .iter()
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect(),
                public_url: args.mail.public_url.clone(),
                outbox_retry: Some(args.mail.outbox_retry),
            },
            reminders: ReminderConfig {
                sms_gateway_url: args.reminders.sms_gateway_url.clone().map(Secret),
                sms_gateway_token: args.reminders.sms_gateway_token.clone().map(Secret),
                vapid_private_key_file: args.reminders.vapid_private_key_file.clone(),
                vapid_subject: args.reminders.vapid_subject.clone(),
                remind_every: args.reminders.remind_every,
                any_push_endpoint: false,
            },
            protocol_file: args.protocol.clone(),
            clock: crate::clock::Clock::system(),
            schedule_every: SCHEDULE_EVERY,
            idle_lock: args.idle_lock_seconds,
        }
    }
}

/// The scheduler's period. Assessments are scheduled two weeks ahead, so an hour is plenty; the
/// scheduler also runs at every start.
pub const SCHEDULE_EVERY: Duration = Duration::from_secs(60 * 60);

impl ServeConfig {
    /// A configuration for tests: port 0, the given database, no app folder unless set.
    pub fn for_tests(database_url: &str) -> ServeConfig {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.to_owned(),
            dist_dir: PathBuf::from("dist-not-built"),
            wording_pack: None,
            init: true,
            demo: true,
            secure_cookies: false,
            max_body_bytes: 256 * 1024,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            metrics_token: None,
            mail: MailConfig::default(),
            reminders: ReminderConfig::default(),
            protocol_file: None,
            clock: crate::clock::Clock::system(),
            schedule_every: SCHEDULE_EVERY,
            idle_lock: None,
        }
    }
}

/// A duration given in seconds (`10`, `0.5`), more than zero.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds; write e.g. 10 or 0.5"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!("{text:?} is out of range; give more than 0 and at most 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A trusted proxy: a CIDR range (`10.0.0.0/8`, `fd00::/8`) or one address (`192.0.2.7`).
fn parse_trusted_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or CIDR range; write e.g. 10.0.0.0/8 or 192.0.2.7"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_ranges_or_single_addresses() {
        assert_eq!(parse_trusted_proxy("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_trusted_proxy(" 192.0.2.7 ").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(parse_trusted_proxy("fd00::/8").unwrap().to_string(), "fd00::/8");
        assert_eq!(
            parse_trusted_proxy("proxy.example").unwrap_err(),
            "\"proxy.example\" is not an address or CIDR range; write e.g. 10.0.0.0/8 or 192.0.2.7"
        );
    }

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_seconds("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_seconds("0.5").unwrap(), Duration::from_millis(500));
        assert!(parse_seconds("0").unwrap_err().contains("more than 0"));
        assert!(parse_seconds("ten").unwrap_err().contains("not a number of seconds"));
    }

    #[test]
    fn the_command_line_sets_the_edges_and_the_environment_lists_proxies() {
        let cli = Cli::try_parse_from([
            "qol",
            "serve",
            "--max-connections",
            "8",
            "--header-timeout",
            "1",
            "--body-timeout",
            "2.5",
            "--trusted-proxy",
            "127.0.0.0/8",
            "--trusted-proxy",
            "10.0.0.0/8,192.0.2.7",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve was given") };
        let config = ServeConfig::from(args.as_ref());
        assert_eq!(config.max_connections, 8);
        assert_eq!(config.header_timeout, Duration::from_secs(1));
        assert_eq!(config.body_timeout, Duration::from_millis(2500));
        let proxies: Vec<String> = config.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(proxies, ["127.0.0.0/8", "10.0.0.0/8", "192.0.2.7/32"]);
        assert!(Cli::try_parse_from(["qol", "serve", "--max-connections", "0"]).is_err());
    }
}
