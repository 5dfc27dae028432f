//! The service: every way from a request (or a command, or the scheduler) to storage. Each
//! write is one transaction with its audit entry; every view the API returns is built here, for
//! the session asking. Nothing here knows about HTTP; `http` parses, calls one method, responds.
//!
//! - [`patients`]: enrolment, events (and the schedule kept in step with them), activation codes,
//!   the patient lists and pages, a patient's own assessments.
//! - [`submissions`]: accepting a questionnaire (validated, scored, alerts raised, in one
//!   transaction) and the submission views.
//! - [`alerts`]: cards, acknowledge and resolve, snoozes, the follow-up lists and missed reasons.
//! - [`help`]: a patient's "I need help" (a call request without a form) and her history.
//! - [`sessions`]: sign-in (throttled, audited), activation, sign-out, who a token is.
//! - [`accounts`]: disabling, enabling, signing out staff, lifting lockouts, creating staff.
//! - [`research`]: the pseudonymous patient record, the analysis and completion reports.
//! - [`exports`]: starting an audited export.
//! - [`outbox`]: what the outbox worker claims and records.
//! - [`reminders`]: reminders queued by the scheduler and checked before they leave; a patient's
//!   reminder settings and push subscriptions.
//! - [`protocol`]: the protocol's versions, amendments (checked, applied) and the schedule each
//!   assessment follows.
//! - [`wording`]: the wording pack in use, and one uploaded from the console (checked, applied).
//! - [`demo`]: the `--demo` seed.

pub mod accounts;
mod alerts;
pub mod audit_trail;
pub mod demo;
mod entries;
mod exports;
mod help;
pub mod outbox;
mod patients;
pub mod protocol;
pub mod reminders;
pub mod research;
mod sessions;
mod submissions;
pub mod wording;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qol_shared::alerts::{
    AlertRules, CardChange, History, Incoming, OpenCard, Signal, Tier, card_change, held_by_snooze, replaces,
    unseen_red,
};
use qol_shared::answers::{AnswerError, Answers, RawAnswer};
use qol_shared::api::{
    AlertState, CardKind, EnrolPatient, ErrorCode, RecordEvent, ResolutionAction, SubmissionReceipt,
    SubmissionRequest, Timeliness,
};
use qol_shared::instrument::InstrumentId;
use qol_shared::schedule::{
    AssessmentState, Event, EventKind, Events, Protocol, WindowRefusal, check_window, state_on,
};
use qol_shared::scoring::{Scores, score};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{ACTIVATION_CODE_LIFETIME, new_activation_code, normalise_activation_code, token_hash};
use crate::storage::{
    Actor, AssessmentRow, AuditEntry, Db, EventRow, NewMessage, NewSubmission, PatientRow, SessionOwner,
    StorageError, StoredSubmission, WriteTx, timestamp_text,
};

pub use accounts::{AccountError, Locked, Outcome};
pub use alerts::{CardQuery, card_email};
pub use entries::Entered;
pub use sessions::{IdentityAccess, Session, SignedIn};
pub use submissions::parse_and_score;

use crate::clock::Clock;

/// A device clock this far ahead of the server's is still believed.
const CLOCK_SKEW_MINUTES: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ClinicError {
    #[error("{message}")]
    Invalid { message: String, problems: Vec<String> },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// A request that makes no sense whatever the data (a parameter out of range).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts: `locked` when the key is locked out after failures, not when another
    /// check of the same key is running.
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after_seconds: u64, locked: bool },
    /// A refusal a patient meets and her app explains in her language: its stable `code` says
    /// what it is (and the HTTP status follows from it); `problems` lists each invalid answer.
    #[error("{message}")]
    Refused { code: ErrorCode, message: String, problems: Vec<String> },
    /// An export could not be written (a CSV writer's failure; nothing to do with storage).
    #[error("the export could not be written: {0}")]
    Export(#[from] csv::Error),
    /// No turn to hash a secret came soon enough (see [`crate::auth::Hasher`]).
    #[error("the server is busy; try again in a moment")]
    Overloaded,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The longest reason kept (a correction, a wording pack, a protocol amendment).
pub const MAX_REASON: usize = 500;

/// What is wrong with a required reason (`why`: what an empty one is told), if anything.
fn reason_problem(reason: &str, why: &str) -> Option<String> {
    if reason.is_empty() {
        Some(format!("reason: {why}"))
    } else if reason.chars().count() > MAX_REASON {
        Some(format!("reason: at most {MAX_REASON} characters"))
    } else {
        None
    }
}

/// SHA-256 (hex) of a protocol or wording pack as the server writes it, the same whatever the
/// file's spacing. Both are plain data: writing them cannot fail.
pub fn fingerprint(value: &impl serde::Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    hex::encode(Sha256::digest(json.as_bytes()))
}

fn invalid(message: impl Into<String>) -> ClinicError {
    ClinicError::Invalid { message: message.into(), problems: Vec::new() }
}

/// A refusal with its stable code (see [`ClinicError::Refused`]).
fn refused(code: ErrorCode, message: impl Into<String>) -> ClinicError {
    ClinicError::Refused { code, message: message.into(), problems: Vec::new() }
}

/// The study a server runs, its protocol, and the database behind it (reached only from here).
#[derive(Debug, Clone)]
pub struct Clinic {
    db: Db,
    pub study_id: i64,
    /// The protocol's versions (see [`Clinic::protocol`]).
    protocols: Arc<protocol::Protocols>,
    pub on_call: OnCall,
    /// The channels reminders can go by on this server.
    pub reach: reminders::Reach,
    /// The patient's app's idle lock when the command line sets one (`--idle-lock-seconds`);
    /// the protocol's otherwise.
    pub idle_lock: Option<std::time::Duration>,
    /// The wording pack in use (the demonstration pack until [`Clinic::load_wording`]).
    pub wording: Arc<wording::Wording>,
}

/// Who is told, away from the screen, when a patient asks to be called or a card becomes red.
#[derive(Debug, Clone, Default)]
pub struct OnCall {
    /// The on-call e-mail addresses (`--notify-email`); none: no e-mail is queued.
    pub emails: Vec<String>,
    /// The console's address as staff reach it (`--public-url`), for the link in the e-mail.
    pub public_url: String,
    /// Wakes the outbox worker when a transaction queued a message.
    pub wake: crate::notify::OutboxWake,
}

/// An assessment with its state today.
#[derive(Debug, Clone)]
pub struct AssessmentStatus {
    pub row: AssessmentRow,
    pub state: AssessmentState,
}

/// The protocol stored with a study. Studies created before protocols named their time zone were
/// all created from the shipped protocol, whose site is the shipped default's zone: that zone is
/// filled in (and said in the log) rather than refusing to start.
fn stored_protocol(json: &str) -> Result<Protocol, StorageError> {
    let corrupt = |error: &dyn std::fmt::Display| StorageError::Corrupt(format!("stored protocol: {error}"));
    let mut value: serde_json::Value = serde_json::from_str(json).map_err(|error| corrupt(&error))?;
    if let Some(fields) = value.as_object_mut()
        && !fields.contains_key("time_zone")
    {
        let zone = Protocol::default_protocol().time_zone.name();
        tracing::warn!(
            time_zone = zone,
            "the stored protocol names no time zone; using the shipped protocol's"
        );
        fields.insert("time_zone".into(), zone.into());
    }
    Protocol::parse(&value.to_string()).map_err(|error| corrupt(&error))
}

impl Clinic {
    /// Opens the study of this database, creating it on first start (the demo study, seeded,
    /// with `demo`). Returns the clinic and whether demo data was seeded now. The clinic reads
    /// time from the database handle's clock. Opening an existing study writes nothing.
    pub async fn open(db: &Db, demo: bool) -> Result<(Clinic, bool), ClinicError> {
        Clinic::open_with(db, demo, None).await
    }

    /// [`Clinic::open`], a new study taking a site's protocol (`--protocol`: the file's text,
    /// already validated). A database that holds a study keeps its own: a different protocol is
    /// refused (an amendment is not a new study).
    pub async fn open_with(
        db: &Db,
        demo: bool,
        site_protocol: Option<(&Protocol, &str)>,
    ) -> Result<(Clinic, bool), ClinicError> {
        if let Some(study) = db.study().await? {
            let protocol = if study.protocol_json.is_empty() {
                Protocol::default_protocol()
            } else {
                stored_protocol(&study.protocol_json)?
            };
            let clinic = Clinic {
                db: db.clone(),
                study_id: study.id,
                protocols: Arc::new(protocol::Protocols::first(protocol.clone())),
                on_call: OnCall::default(),
                reach: reminders::Reach::default(),
                idle_lock: None,
                wording: Arc::default(),
            };
            clinic.read_protocol_versions().await?;
            // The study's first protocol, or its amended one, may be given again at each start.
            if let Some((given, _)) = site_protocol
                && *given != protocol
                && *given != *clinic.protocol()
            {
                return Err(ClinicError::Conflict(format!(
                    "--protocol: this database already holds the study {} under another protocol; a protocol \
                     file starts a new study on an empty database (leave --protocol out to run this one)",
                    study.code
                )));
            }
            return Ok((clinic, false));
        }
        let (protocol, protocol_json) = match site_protocol {
            Some((protocol, json)) => (protocol.clone(), json),
            None => (Protocol::default_protocol(), Protocol::default_protocol_json()),
        };
        let strata: Vec<String> = protocol.strata.iter().map(|s| s.code.clone()).collect();
        let (code, title) = match (demo, protocol.is_shipped()) {
            (true, true) => (demo::DEMO_STUDY_CODE.to_owned(), demo::DEMO_STUDY_TITLE.to_owned()),
            (false, true) => (demo::STUDY_CODE.to_owned(), protocol.name.clone()),
            (true, false) => {
                (format!("{}-DEMO", protocol.patient_id_prefix), format!("Demo: {}", protocol.name))
            }
            (false, false) => (format!("{}-QOL", protocol.patient_id_prefix), protocol.name.clone()),
        };
        let (code, title) = (code.as_str(), title.as_str());
        let mut tx = db.begin_write().await?;
        let study_id = tx.insert_study(code, title, &strata, protocol_json, demo).await?;
        tx.audit(
            &Actor::system(),
            AuditEntry {
                action: "study.create",
                entity: "study",
                entity_id: code.to_owned(),
                after: Some(json!({ "title": title, "strata": strata, "demo": demo })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        let clinic = Clinic {
            db: db.clone(),
            study_id,
            protocols: Arc::new(protocol::Protocols::first(protocol)),
            on_call: OnCall::default(),
            reach: reminders::Reach::default(),
            idle_lock: None,
            wording: Arc::default(),
        };
        if demo {
            demo::seed(&clinic).await?;
            demo::refresh_demo_activation_code(&clinic).await?;
        }
        Ok((clinic, demo))
    }

    /// This clinic on a clock that stands at `when` (the same database): for writing a history
    /// as it happened (the demo seed, tests).
    pub fn at(&self, when: DateTime<Utc>) -> Clinic {
        Clinic { db: self.db.with_clock(Clock::fixed(when)), ..self.clone() }
    }

    pub fn clock(&self) -> &Clock {
        self.db.clock()
    }

    /// The clinic's now.
    pub fn now(&self) -> DateTime<Utc> {
        self.db.clock().now()
    }

    /// The study's date now, in its time zone.
    pub fn today(&self) -> NaiveDate {
        self.protocol().local_date(self.now())
    }

    /// The study's date of an instant.
    pub fn stored_date(&self, at: &qol_shared::Timestamp) -> NaiveDate {
        self.protocol().local_date(at.instant())
    }

    pub async fn events(&self, patient_id: i64) -> Result<(Vec<EventRow>, Events), ClinicError> {
        let rows = self.db.events(patient_id).await?;
        let events = Clinic::events_of(&rows);
        Ok((rows, events))
    }

    /// The events a patient's event records (every one, oldest first) make.
    pub fn events_of(rows: &[EventRow]) -> Events {
        Events::from_records(rows.iter().map(|row| row.event))
    }

    /// What `GET /metrics` reports from the database (counts only: nothing about anyone).
    pub async fn metrics_snapshot(&self) -> Result<crate::storage::MetricsSnapshot, ClinicError> {
        Ok(self.db.metrics_snapshot().await?)
    }

    /// Study day of `date`: days from cycle 1 day 1 (day 0), when it is recorded.
    pub fn study_day(events: &Events, date: NaiveDate) -> Option<i64> {
        let cycle1 = events.date_of(qol_shared::schedule::Anchor::Cycle1Day1)?;
        Some((date - cycle1).num_days())
    }

    /// The patient with this study id, as typed (made normal here).
    pub async fn find_patient(&self, study_id: &str) -> Result<PatientRow, ClinicError> {
        self.db
            .patient_by_code(&crate::auth::normal_study_id(study_id))
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no patient {study_id:?}")))
    }

    /// Whether a write transaction can begin on the study's own database now (`/readyz`).
    pub async fn check_ready(&self) -> Result<(), ClinicError> {
        Ok(self.db.check_ready().await?)
    }

    /// The public description of the study.
    pub async fn study_summary(&self) -> Result<qol_shared::api::StudySummary, ClinicError> {
        let study = self
            .db
            .study()
            .await?
            .ok_or_else(|| ClinicError::NotFound("no study is set up on this server yet".into()))?;
        let contact = self.protocol().contact.as_ref().map(|contact| qol_shared::api::StudyContact {
            phone: contact.phone.clone(),
            hours: contact.hours.clone(),
            urgent_advice: contact.urgent_advice.clone(),
            call_back_working_days: self.protocol().alerts.sla_working_days,
        });
        Ok(qol_shared::api::StudySummary {
            code: study.code,
            title: study.title,
            strata: study.strata,
            contact,
            idle_lock_seconds: match self.idle_lock {
                Some(lock) => u32::try_from(lock.as_secs().max(1)).unwrap_or(u32::MAX),
                None => self.protocol().idle_lock_seconds(),
            },
            today: Some(self.today()),
        })
    }
}
