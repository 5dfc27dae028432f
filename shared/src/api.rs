//! The JSON types of qol's HTTP API. The server produces them and the app consumes them, so
//! neither side writes a JSON shape by hand.

use serde::{Deserialize, Serialize};

use crate::instrument::InstrumentId;
use crate::{ClientId, Language, Timestamp};

/// The body of every error response, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// A lowercase sentence: what failed and what to do.
    pub error: String,
    /// What kind of refusal this is, stable across versions: the app says it in the person's own
    /// language from this code, and shows `error` only as detail.
    #[serde(default)]
    pub code: ErrorCode,
    /// Every individual problem, when there are several (e.g. each invalid answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The stable code of an error response. Specific codes name the refusals a patient meets
/// (sign-in, activation, sending a form); every other refusal has its status's general code.
/// A code this version does not know reads as `other`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// 401: wrong study id or PIN (or staff username or password).
    WrongCredentials,
    /// 403: the password entered to sign a correction is not the signer's (`problems:
    /// ["password"]`); nothing was stored, and the attempt counts towards the lockout.
    SignatureRefused,
    /// 429: too many failed attempts; wait (`Retry-After`).
    LockedOut,
    /// 429: another attempt with the same details is being checked; try again in a moment.
    TryAgainShortly,
    /// 422: a PIN must be 4 to 8 digits.
    PinFormat,
    /// 401: the activation code is mistyped, used or expired.
    ActivationCodeInvalid,
    /// 409: the form's window has closed, or is not open yet.
    WindowClosed,
    /// 409: this form was already sent.
    AlreadySent,
    /// 409: the study has ended for this patient.
    StudyEnded,
    /// 422: some answers were refused (`problems` lists them).
    AnswersInvalid,
    /// 401: no session, or it ended; sign in again.
    SignInRequired,
    /// 403: this role may not do this.
    Forbidden,
    /// 404.
    NotFound,
    /// 409, not one of the above.
    Conflict,
    /// 422, not one of the above.
    Invalid,
    /// 400.
    BadRequest,
    /// 413.
    TooLarge,
    /// 408.
    TimedOut,
    /// 415.
    UnsupportedMediaType,
    /// 503: busy or the database is unavailable; try again shortly (`Retry-After`).
    Unavailable,
    /// 500.
    Internal,
    /// A code this version does not know.
    #[default]
    #[serde(other)]
    Other,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::WrongCredentials => "wrong_credentials",
            ErrorCode::SignatureRefused => "signature_refused",
            ErrorCode::LockedOut => "locked_out",
            ErrorCode::TryAgainShortly => "try_again_shortly",
            ErrorCode::PinFormat => "pin_format",
            ErrorCode::ActivationCodeInvalid => "activation_code_invalid",
            ErrorCode::WindowClosed => "window_closed",
            ErrorCode::AlreadySent => "already_sent",
            ErrorCode::StudyEnded => "study_ended",
            ErrorCode::AnswersInvalid => "answers_invalid",
            ErrorCode::SignInRequired => "sign_in_required",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Invalid => "invalid",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::TimedOut => "timed_out",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Other => "other",
        }
    }
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthStatus {
    pub status: String,
    pub version: String,
}

/// One entry of `GET /api/v1/instruments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstrumentSummary {
    pub id: InstrumentId,
    pub name: String,
    pub version: String,
    pub item_count: usize,
    pub scale_codes: Vec<String>,
    /// Languages the loaded wording pack offers.
    pub languages: Vec<String>,
    /// Present when the loaded wording is the demonstration pack.
    pub notice: Option<String>,
}

/// `GET /api/v1/study`: the public description of the study this server runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudySummary {
    pub code: String,
    pub title: String,
    pub strata: Vec<String>,
    /// Whom a patient rings, and what to do in an emergency (the protocol's `contact` section);
    /// public, so the app can show it before sign-in and keep it for offline use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<StudyContact>,
    /// The patient's app locks itself after this many seconds without a touch, and asks for her
    /// PIN (the protocol's `patient_view.idle_lock_minutes`; 5 minutes when left out).
    #[serde(default = "default_idle_lock_seconds")]
    pub idle_lock_seconds: u32,
    /// The study's date now, in its time zone: what forms default a date to (a browser's own
    /// date may already be another day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<chrono::NaiveDate>,
}

fn default_idle_lock_seconds() -> u32 {
    300
}

/// The study's contact details for patients, from the protocol. Texts are keyed by language tag
/// (`en`, `zh-Hans`); a language without its own text uses English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudyContact {
    /// The study team's telephone number, as dialled (`+86 10 1234 5678`).
    pub phone: String,
    /// When the number is answered, per language ("Monday to Friday, 8:00 to 17:00").
    pub hours: std::collections::BTreeMap<String, String>,
    /// What to do in an emergency or out of hours, per language.
    pub urgent_advice: std::collections::BTreeMap<String, String>,
    /// A call request is answered within this many working days (the worklist's service level).
    pub call_back_working_days: u32,
}

/// `POST /api/v1/me/help-requests`: the patient asks her nurse to call, before (or without) any
/// questions. Sent again with the same `client_id`, it is stored once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HelpRequest {
    pub client_id: ClientId,
}

/// The answer to a help request (201 stored, 200 a retry of one stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HelpReceipt {
    pub received_at: Timestamp,
    /// The end of the service level: the nurse calls by then (working days, the study's zone).
    pub call_back_by: Timestamp,
}

/// `GET /api/v1/me/history`: the signed-in patient's own sent forms, newest first, and, where
/// the protocol turns it on (`patient_view.scores`), some of her scores over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyHistory {
    pub forms: Vec<PastForm>,
    /// Empty unless the protocol shows patients their scores.
    pub scores: Vec<ScoreSeries>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PastForm {
    pub key: crate::schedule::AssessmentKey,
    pub label: String,
    /// The label per language tag, from the protocol (`label` when a language has none).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// The day she completed it, in the study's time zone.
    pub completed_on: chrono::NaiveDate,
    pub received_at: Timestamp,
    pub unscheduled: bool,
    /// The study team corrected it (a signed correction): her history says so.
    #[serde(default)]
    pub corrected: bool,
}

/// One scale's scores over time, oldest first (0 to 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreSeries {
    /// The scale's code (`QL2`, `FA`, `PA`).
    pub scale: String,
    /// True for global health and functioning scales; false for symptoms.
    pub higher_is_better: bool,
    pub points: Vec<ScorePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScorePoint {
    pub completed_on: chrono::NaiveDate,
    pub value: f64,
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sessions

/// Who is calling. Patients see only their own data; researchers never see identity or dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Patient,
    Nurse,
    Researcher,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Nurse => "nurse",
            Role::Researcher => "researcher",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Patient, Role::Nurse, Role::Researcher, Role::Admin]
            .into_iter()
            .find(|role| role.as_str() == text)
    }

    pub fn is_staff(self) -> bool {
        self != Role::Patient
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffSignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientActivation {
    pub activation_code: String,
    /// 4 to 8 digits, chosen by the patient.
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientSignIn {
    pub study_id: String,
    pub pin: String,
}

/// The answer to a successful sign-in. The token also arrives as an HttpOnly cookie; API
/// clients send it as `Authorization: Bearer …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub token: String,
    pub expires_at: Timestamp,
    pub me: Me,
}

/// `GET /api/v1/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub role: Role,
    /// Staff only.
    pub username: Option<String>,
    /// Patients only.
    pub study_id: Option<String>,
    pub language: Option<Language>,
}

// ---------------------------------------------------------------------------------------------
// Patients, events and assessments

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub full_name: String,
    /// The patient's mobile number, in international form (`+86 138 0013 8000`): reminders by
    /// SMS go to it, and nurses call it from a card.
    pub phone: String,
    pub hospital_number: String,
    /// An e-mail address for reminders, when the patient has one ("" or left out: none).
    #[serde(default)]
    pub email: String,
}

/// `POST /api/v1/patients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolPatient {
    /// Left out, the next free id (`IVB-001`, `IVB-002`, …) is given.
    #[serde(default)]
    pub study_id: Option<String>,
    pub stratum: String,
    /// `en` or `zh-CN` ([`Language`]'s tags). Text, not the type, so that a form with several
    /// mistakes is answered with every one of them at once, this one included.
    pub language: String,
    pub identity: Identity,
    /// The enrolment date (the baseline window opens on it).
    pub enrolled_on: chrono::NaiveDate,
    /// How the patient wants to be reminded (left out: [`ReminderChannel::Auto`]).
    #[serde(default)]
    pub reminder_channel: ReminderChannel,
}

// ---------------------------------------------------------------------------------------------
// Reminders (docs/reminders.md)

/// How a patient is reminded that a questionnaire is open. `Auto` picks SMS when she has a
/// phone number and the site has an SMS gateway, else e-mail, else web push; a chosen channel
/// that cannot be used (no gateway, no address, no subscription) falls back the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReminderChannel {
    #[default]
    Auto,
    Sms,
    Email,
    Push,
    /// The patient asked not to be reminded.
    Off,
}

impl ReminderChannel {
    pub const ALL: [ReminderChannel; 5] = [
        ReminderChannel::Auto,
        ReminderChannel::Sms,
        ReminderChannel::Email,
        ReminderChannel::Push,
        ReminderChannel::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderChannel::Auto => "auto",
            ReminderChannel::Sms => "sms",
            ReminderChannel::Email => "email",
            ReminderChannel::Push => "push",
            ReminderChannel::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<ReminderChannel> {
        ReminderChannel::ALL.into_iter().find(|channel| channel.as_str() == text)
    }
}

/// A patient's reminder settings as she (`GET /api/v1/me/reminders`) or a nurse (inside
/// [`PatientReminders`]) sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderSettingsView {
    pub channel: ReminderChannel,
    pub language: Language,
    /// What a reminder would go by now (the chosen channel or its fallback); `None` when she
    /// has turned reminders off or cannot be reached by any channel the site has.
    pub goes_by: Option<ReminderChannel>,
    /// The channels this site can send by (an SMS gateway, an SMTP server, push keys).
    pub site_channels: Vec<ReminderChannel>,
    pub has_phone: bool,
    pub has_email: bool,
    /// Devices that receive push reminders.
    pub push_devices: u32,
    /// The site's VAPID public key (base64url), for subscribing to push; absent without push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_public_key: Option<String>,
    /// Whether the protocol sends reminders at all.
    pub study_sends_reminders: bool,
}

/// `POST /api/v1/me/reminders` (the patient) and `POST /api/v1/patients/{study_id}/reminders`
/// (a nurse): the channel and the language of the texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetReminders {
    pub channel: ReminderChannel,
    pub language: Language,
    /// Nurses only: a new e-mail address for reminders ("" removes it); left out, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /api/v1/me/push-subscription`: a browser's push subscription (`PushSubscription.toJSON()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionRequest {
    pub endpoint: String,
    pub keys: PushKeys,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
}

/// `POST /api/v1/me/push-subscription/remove`: this device stops receiving push reminders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemovePushSubscription {
    pub endpoint: String,
}

/// Where a message stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MessageState {
    /// Waiting to be sent, or to be tried again.
    Pending,
    Sent,
    /// Given up: the error says why.
    Failed,
    /// Not sent after all: the form was received, the window closed, or reminders were turned off
    /// before its turn.
    Cancelled,
}

/// One reminder sent (or tried) to a patient, as a nurse sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderMessage {
    pub id: i64,
    pub assessment_key: crate::schedule::AssessmentKey,
    pub kind: crate::reminders::ReminderKind,
    pub channel: ReminderChannel,
    pub state: MessageState,
    pub queued_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub attempts: i64,
    /// Why the last attempt failed, or why it was cancelled.
    pub error: Option<String>,
}

/// `GET /api/v1/patients/{study_id}/reminders`: the settings and every reminder, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientReminders {
    pub settings: ReminderSettingsView,
    /// The e-mail address reminders go to ("" when none).
    pub email: String,
    pub messages: Vec<ReminderMessage>,
}

/// A staff account as the admin console lists it (`GET /api/v1/staff`, admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffAccount {
    pub username: String,
    pub role: Role,
    /// A disabled account cannot sign in and has no live session.
    pub disabled: bool,
    pub created_at: Timestamp,
    /// When the account last signed in; none if it never has.
    pub last_sign_in_at: Option<Timestamp>,
    /// Sessions neither expired nor ended.
    pub live_sessions: u64,
    /// Until when sign-in is refused after failed attempts, while that lasts.
    pub locked_until: Option<Timestamp>,
}

/// The study's setup as the server runs it (`GET /api/v1/admin/setup`, admins only): the
/// protocol, and the wording pack's description (not its texts). Each has a fingerprint, the
/// SHA-256 of its JSON as loaded, which tells two versions apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudySetup {
    /// The protocol in use (its newest version), as its file says it (docs/protocol.md).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub protocol: crate::schedule::Protocol,
    pub protocol_sha256: String,
    /// The version in use: 1 is the protocol the study started with, each amendment one more.
    pub protocol_version: i64,
    /// Every version, oldest first.
    pub protocol_versions: Vec<ProtocolVersionView>,
    pub wording: WordingSummary,
}

/// One version of the study's protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtocolVersionView {
    pub version: i64,
    pub name: String,
    pub sha256: String,
    /// The study's day it took effect (an amendment): assessments whose window opens from this
    /// day on follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_on: Option<chrono::NaiveDate>,
    /// Who amended the protocol, when and why (absent for version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amended_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amended_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A protocol amendment sent from the console: `POST /api/v1/admin/protocol/check` reports on
/// it, `POST /api/v1/admin/protocol` applies it (admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtocolUpload {
    /// The new protocol file's text (docs/protocol.md).
    pub protocol: String,
    /// Why the protocol changes (required to apply it; at most 500 characters).
    #[serde(default)]
    pub reason: String,
    /// The version the report was read against (`current_version`): applying is refused (409)
    /// when another amendment came in since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<i64>,
}

/// One value an amendment changes: its path in the protocol (`assessments.weekly.end_days`),
/// and the JSON before and after (absent: not there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtocolChange {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// The report on a protocol amendment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtocolReport {
    /// No problem and something changes: it can be applied.
    pub valid: bool,
    /// Every problem, each naming its key.
    pub problems: Vec<String>,
    /// What it changes, compared with the version in use.
    pub changes: Vec<ProtocolChange>,
    /// The version in use now.
    pub current_version: i64,
    /// The version it becomes (or became).
    pub version: i64,
    /// Whether this request applied it.
    pub applied: bool,
}

/// A wording pack, described: its texts are the questionnaires' (`GET /api/v1/instruments/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WordingSummary {
    pub name: String,
    pub format: String,
    /// The shipped demonstration pack (our own neutral labels), not a licensed translation.
    pub demonstration: bool,
    pub licence: String,
    /// Each language's tag and name.
    pub languages: Vec<(String, String)>,
    pub sha256: String,
    /// Where the server took it from: `uploaded` (from the console, kept in the database),
    /// `file` (`--wording-pack`) or `shipped` (the demonstration pack).
    pub source: String,
    /// Who uploaded it, when and why (an uploaded pack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A wording pack sent from the console: `POST /api/v1/admin/wording/check` reports on it,
/// `POST /api/v1/admin/wording` applies it (admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WordingUpload {
    /// The pack file's text (docs/wording-packs.md).
    pub pack: String,
    /// Why it replaces the pack in use (required to apply it; at most 500 characters).
    #[serde(default)]
    pub reason: String,
    /// The SHA-256 of the pack in use when the report was read (`current.sha256`): applying is
    /// refused (409) when another pack came in since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<String>,
}

/// One problem in an uploaded pack: the dotted key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WordingProblem {
    pub key: String,
    pub problem: String,
}

/// The validation report on an uploaded pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WordingReport {
    /// No problem: it can be applied.
    pub valid: bool,
    /// Every problem, each naming its key; empty when valid.
    pub problems: Vec<WordingProblem>,
    /// The uploaded pack described, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<WordingSummary>,
    /// The pack in use now.
    pub current: WordingSummary,
    /// The keys whose text the upload changes, adds or takes out, compared with the pack in use.
    pub changed: Vec<String>,
    /// Whether this request applied it (only `POST /api/v1/admin/wording`, only when valid).
    pub applied: bool,
}

/// A new staff account (`POST /api/v1/staff`, admins only). It has no password: its holder sets
/// one with the one-time code in the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewStaff {
    /// Letters, digits, '.', '_' and '-'; kept in lower case.
    pub username: String,
    /// `admin`, `nurse` or `researcher`.
    pub role: Role,
}

/// A one-time code with which a staff account sets its password: for a new account, or after a
/// reset by an admin. Shown once; it works once, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffPasswordCode {
    pub username: String,
    pub code: String,
    pub expires_at: Timestamp,
}

/// `POST /api/v1/auth/staff/set-password`: a staff member sets their password with the code an
/// admin gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetStaffPassword {
    pub username: String,
    pub code: String,
    /// At least 12 characters.
    pub password: String,
}

/// What an account operation (unlock, disable, enable, sign out everywhere) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountChange {
    /// False when the account already was in the asked-for state (nothing to do).
    pub changed: bool,
    /// How many live sessions were ended.
    pub sessions_ended: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivationCode {
    /// Shown once, to hand to the patient; only its hash is stored.
    pub activation_code: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolledPatient {
    pub patient: PatientSummary,
    pub activation: ActivationCode,
}

/// A patient as the caller may see them: identity and calendar dates for nurses and admins,
/// neither for researchers (who get study days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientSummary {
    pub study_id: String,
    pub stratum: String,
    pub language: Language,
    pub activated: bool,
    pub off_study: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled_on: Option<chrono::NaiveDate>,
}

/// `POST /api/v1/patients/{study_id}/events`: record an event, or correct one (same kind, or same
/// cycle) with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordEvent {
    pub event: crate::schedule::Event,
    /// Required when the event corrects an earlier one.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRecord {
    pub id: i64,
    pub event: crate::schedule::Event,
    pub recorded_at: Timestamp,
    pub recorded_by: String,
    pub reason: Option<String>,
    /// The record this one corrects.
    pub corrects: Option<i64>,
    /// Whether this is the event's current date (not corrected since).
    pub current: bool,
    /// When it was just recorded: what is unusual about it, for the nurse to check (an early
    /// response evaluation, fewer cycles than planned, progression that may mean off study).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientDetail {
    pub patient: PatientSummary,
    pub events: Vec<EventRecord>,
    /// Until when the patient's sign-in is locked after repeated wrong PINs (RFC 3339, UTC);
    /// absent when it is not locked. A nurse can lift it (`POST …/unlock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_locked_until: Option<Timestamp>,
}

/// One assessment as a caller sees it. Dates are present for patients, nurses and admins;
/// researchers get study days (days from cycle 1 day 1) instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssessmentView {
    pub id: i64,
    pub key: crate::schedule::AssessmentKey,
    pub code: String,
    pub label: String,
    /// The label per language tag, from the protocol's `labels` (`label` when a language has
    /// none).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    pub instruments: Vec<crate::instrument::InstrumentId>,
    pub state: crate::schedule::AssessmentState,
    pub unscheduled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end: Option<chrono::NaiveDate>,
    /// Study days of the window, when cycle 1 day 1 is recorded.
    pub window_start_day: Option<i64>,
    pub window_end_day: Option<i64>,
    /// The receipt of the submission that completed it.
    pub received_at: Option<Timestamp>,
    /// The protocol version it was scheduled under (1 in a view kept from before versions).
    #[serde(default = "first_protocol_version")]
    pub protocol_version: i64,
    /// Paper entries made for it while it has no form (double entry: 1 waits for a second, 2
    /// disagree); 0 otherwise.
    #[serde(default)]
    pub paper_entries: u8,
}

fn first_protocol_version() -> i64 {
    1
}

/// `GET /api/v1/me/assessments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyAssessments {
    pub due: Vec<AssessmentView>,
    pub upcoming: Vec<AssessmentView>,
    pub completed: Vec<AssessmentView>,
}

// ---------------------------------------------------------------------------------------------
// Submissions

/// `POST /api/v1/me/submissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmissionRequest {
    /// Generated on the device; a retry with the same id never creates a second submission.
    pub client_id: ClientId,
    /// The scheduled assessment; left out for an unscheduled QLQ-C30 ("I feel worse").
    #[serde(default)]
    pub assessment_id: Option<i64>,
    /// When the patient finished the form, by the device's clock (RFC 3339).
    pub completed_at: Timestamp,
    pub language: Language,
    /// Item numbers of the combined form: QLQ-C30 1–30, QLQ-CX24 31–54.
    pub answers: Vec<crate::answers::RawAnswer>,
    /// The patient asked to be called (asked at the end of each form; not an EORTC item).
    #[serde(default)]
    pub call_me: bool,
}

/// Who filled in a form and how (ISPOR's mixed-modes guidance: the mode is planned and
/// recorded). `self` is the patient on her phone; the others are entered by staff on her behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CompletionMode {
    /// The patient, in the app.
    #[serde(rename = "self")]
    SelfReport,
    /// She filled in a paper form; staff transcribed it.
    Paper,
    /// Staff read the questions to her over the telephone and entered her answers.
    TelephoneInterview,
    /// The same, in the clinic.
    ClinicInterview,
    /// Someone else answered for her (a relative or carer), entered by staff.
    Proxy,
}

impl CompletionMode {
    pub const ALL: [CompletionMode; 5] = [
        CompletionMode::SelfReport,
        CompletionMode::Paper,
        CompletionMode::TelephoneInterview,
        CompletionMode::ClinicInterview,
        CompletionMode::Proxy,
    ];
    /// The modes staff enter.
    pub const STAFF: [CompletionMode; 4] = [
        CompletionMode::Paper,
        CompletionMode::TelephoneInterview,
        CompletionMode::ClinicInterview,
        CompletionMode::Proxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompletionMode::SelfReport => "self",
            CompletionMode::Paper => "paper",
            CompletionMode::TelephoneInterview => "telephone_interview",
            CompletionMode::ClinicInterview => "clinic_interview",
            CompletionMode::Proxy => "proxy",
        }
    }

    pub fn parse(text: &str) -> Option<CompletionMode> {
        CompletionMode::ALL.into_iter().find(|mode| mode.as_str() == text)
    }
}

/// `POST /api/v1/patients/{study_id}/submissions`: staff enter a questionnaire for one of her
/// scheduled assessments (a paper form, an interview, a proxy's answers). Validated, scored and
/// alerted as the phone's are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffEntryRequest {
    /// Generated by the console; a retry with the same id never stores a second form.
    pub client_id: ClientId,
    pub assessment_id: i64,
    /// Any mode but `self`.
    pub mode: CompletionMode,
    /// The day she completed it (the study's calendar), inside the assessment's window.
    pub completed_on: chrono::NaiveDate,
    /// The paper form's reference (its barcode or number): required for `paper`.
    #[serde(default)]
    pub form_reference: Option<String>,
    /// The language the questions were asked in.
    pub language: Language,
    /// Item numbers of the combined form: QLQ-C30 1–30, QLQ-CX24 31–54.
    pub answers: Vec<crate::answers::RawAnswer>,
    /// She asked to be called.
    #[serde(default)]
    pub call_me: bool,
}

/// Where a paper form under double entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PaperEntryState {
    /// No entry yet.
    None,
    /// One entry: another staff member enters the form again, blind.
    AwaitingSecondEntry,
    /// Two entries that disagree: a later entry resolves what they disagree on.
    EntriesDiffer,
    /// Two entries that agree, not yet stored as a form (a failure in between): entering it
    /// again stores it.
    Agreed,
    /// The form counts (a submission).
    Counted,
}

/// Who made one entry of a paper form, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperEntryBy {
    pub entered_by: String,
    pub entered_at: Timestamp,
}

/// `GET /api/v1/assessments/{id}/paper-entries`, and the 202 answer of a paper entry that does
/// not count yet (double entry: docs/api.md, "Double entry of paper forms").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperEntries {
    /// The study enters paper forms twice (the protocol's `paper_double_entry`).
    pub double_entry: bool,
    pub state: PaperEntryState,
    /// Who entered each entry and when, first first.
    pub entries: Vec<PaperEntryBy>,
    /// What the two entries disagree on (`completed_on`, `item 12`, …); empty until both are in.
    pub differences: Vec<String>,
    /// What each entry holds, once both are in (never before: the second is made blind).
    pub entered: Vec<StaffEntryRequest>,
}

/// What a correction's electronic signature means (21 CFR 11.50: the signer's name, the time
/// and the meaning of the signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CorrectionMeaning {
    /// The stored answers differ from the paper form or the interview notes.
    CorrectedTranscriptionError,
    /// The patient told staff that an answer she gave was not the one she meant.
    CorrectedAtPatientsRequest,
}

impl CorrectionMeaning {
    pub const ALL: [CorrectionMeaning; 2] =
        [CorrectionMeaning::CorrectedTranscriptionError, CorrectionMeaning::CorrectedAtPatientsRequest];

    pub fn as_str(self) -> &'static str {
        match self {
            CorrectionMeaning::CorrectedTranscriptionError => "corrected_transcription_error",
            CorrectionMeaning::CorrectedAtPatientsRequest => "corrected_at_patients_request",
        }
    }
}

/// `POST /api/v1/submissions/{id}/corrections`: a new version of a stored form, signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The version being corrected: it must still be the current one.
    pub version: i64,
    /// Every answer of the corrected form (not only the changed ones).
    pub answers: Vec<crate::answers::RawAnswer>,
    pub meaning: CorrectionMeaning,
    /// Why (required, at most 500 characters).
    pub reason: String,
    /// The signer's own password, entered again: the electronic signature.
    pub password: String,
}

/// A stored correction's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionView {
    /// The version it corrects.
    pub corrects: i64,
    pub meaning: CorrectionMeaning,
    /// Why (nurses and admins only: free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `staff:NAME` (nurses and admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<Timestamp>,
}

/// How a form arrived: in its window, after it closed but within the grace period (completed
/// inside it), or outside any schedule (an "I feel worse" report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Timeliness {
    OnTime,
    LateDelivery,
    Unscheduled,
}

/// The answer to a stored submission (201), or to a retry of it (200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmissionReceipt {
    pub submission_id: i64,
    pub client_id: ClientId,
    pub assessment_id: i64,
    pub received_at: Timestamp,
    pub timeliness: Timeliness,
    pub scores: Vec<crate::scoring::Scores>,
}

/// A stored submission with its answers and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmissionView {
    pub id: i64,
    pub assessment_id: i64,
    pub assessment_key: crate::schedule::AssessmentKey,
    pub version: i64,
    pub timeliness: Timeliness,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// Study day of completion (researchers see this instead of dates).
    pub completed_study_day: Option<i64>,
    pub language: Language,
    pub call_me: bool,
    /// Who filled it in and how.
    pub mode: CompletionMode,
    /// A paper form's reference (nurses and admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_reference: Option<String>,
    /// Staff who entered it on her behalf (nurses and admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_by: Option<String>,
    /// This version is the one that counts (a later correction supersedes it otherwise).
    pub current: bool,
    /// Present on a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionView>,
    pub answers: Vec<crate::answers::RawAnswer>,
    pub scores: Vec<crate::scoring::Scores>,
}

// ---------------------------------------------------------------------------------------------
// The nurse worklist: alerts, snoozes, overdue and missed assessments

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertState {
    New,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::New => "new",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<AlertState> {
        [AlertState::New, AlertState::Acknowledged, AlertState::Resolved]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What the nurse did about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResolutionAction {
    CalledPatient,
    AdvisedSelfCare,
    ArrangedClinicVisit,
    ReferredToEmergency,
    NoActionNeeded,
}

/// What a card is about: the patient asked to be called, or their answers need a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CardKind {
    CallRequest,
    Symptoms,
}

impl CardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::CallRequest => "call_request",
            CardKind::Symptoms => "symptoms",
        }
    }

    pub fn parse(text: &str) -> Option<CardKind> {
        [CardKind::CallRequest, CardKind::Symptoms].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One signal on a card: a scale, an item, or the call request. It keeps the rule that set its
/// tier (with the value, baseline and previous value of that report) and the subject's value at
/// the patient's latest report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardSignal {
    /// A scale code, `ITEM<n>` or `CALL`.
    pub subject: String,
    pub rule: crate::alerts::Rule,
    pub tier: crate::alerts::Tier,
    /// The value in the report whose rule set this tier.
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub previous: Option<f64>,
    pub source: String,
    /// The report whose rule set this tier.
    pub submission_id: Option<i64>,
    pub raised_at: Timestamp,
    /// The subject's value in the patient's latest report that had it (an item's response code,
    /// a scale's score; absent for the call request), and that report.
    pub latest_value: Option<f64>,
    pub latest_submission_id: Option<i64>,
    pub latest_at: Option<Timestamp>,
}

/// Delivery of one message from the outbox (an e-mail to an on-call address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: i64,
    /// `email` (SMS and push later).
    pub channel: String,
    pub recipient: String,
    /// `pending` (waiting or being retried), `sent`, or `failed` (gave up after the last retry).
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub next_attempt_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub card_id: Option<i64>,
    pub study_id: Option<String>,
}

/// A card on the nurses' worklist: at most one open card per patient for symptoms and one for a
/// call request; new signals join the open card. Nurses see the patient's name and phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertCard {
    pub id: i64,
    pub study_id: String,
    pub kind: CardKind,
    /// The highest tier among the card's signals; it never falls while the card is open.
    pub tier: crate::alerts::Tier,
    pub state: AlertState,
    /// A higher tier arrived after a nurse acknowledged the card: it is new again and its
    /// service-level clock restarted.
    pub escalated: bool,
    pub patient_name: Option<String>,
    /// The patient's phone, to call from the card.
    pub phone: Option<String>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the service-level clock started: opened, or re-opened by an escalation.
    pub sla_from: Timestamp,
    /// An open call request: minutes since the patient asked.
    pub minutes_waiting: Option<i64>,
    /// Still new past the service level (one working day by default).
    pub past_sla: bool,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    pub resolution_action: Option<ResolutionAction>,
    pub resolution_note: Option<String>,
    /// Minutes from the service-level start to the acknowledgement, once acknowledged.
    pub minutes_to_acknowledge: Option<i64>,
    /// The latest report that joined the card.
    pub latest_submission_id: Option<i64>,
    /// Most urgent first.
    pub signals: Vec<CardSignal>,
    /// The e-mails this card sent to the on-call addresses, with their delivery.
    pub notifications: Vec<NotificationView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveAlert {
    pub action: ResolutionAction,
    #[serde(default)]
    pub note: String,
    /// The card's `updated_at` as the nurse saw it: when a newer report has joined the card
    /// since, the action is refused (409) so that nothing she has not seen is closed. Optional
    /// for API clients; the console always sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_updated_at: Option<Timestamp>,
}

/// `POST /api/v1/alerts/{id}/acknowledge` (the body may be left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcknowledgeAlert {
    /// As in [`ResolveAlert`]: refused (409) when the card changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_updated_at: Option<Timestamp>,
}

/// `POST /api/v1/patients/{study_id}/snoozes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnoozeRequest {
    /// The scale code (or `ITEM<n>`) whose signals are held.
    pub subject: String,
    /// The highest tier held: a signal above it goes through. By default the subject's tier on
    /// the patient's open card, or amber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<crate::alerts::Tier>,
    /// The last day the snooze holds.
    pub until: chrono::NaiveDate,
    /// Why, e.g. "expected during chemotherapy".
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnoozeView {
    pub id: i64,
    pub study_id: String,
    pub subject: String,
    pub until: chrono::NaiveDate,
    /// The highest tier it holds.
    pub tier: crate::alerts::Tier,
    pub reason: String,
    pub created_by: String,
    pub ended_at: Option<Timestamp>,
    /// How many signals it held (kept from the worklist), and the last one's time and value.
    pub held_count: i64,
    pub last_held_at: Option<Timestamp>,
    pub last_held_value: Option<f64>,
}

/// Why an assessment was missed, as staff record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MissedReason {
    PatientTooIll,
    Declined,
    TechnicalProblem,
    Forgot,
    Other,
}

impl MissedReason {
    pub const ALL: [MissedReason; 5] = [
        MissedReason::PatientTooIll,
        MissedReason::Declined,
        MissedReason::TechnicalProblem,
        MissedReason::Forgot,
        MissedReason::Other,
    ];

    /// As stored and exported: `patient_too_ill`, …
    pub fn as_str(self) -> &'static str {
        match self {
            MissedReason::PatientTooIll => "patient_too_ill",
            MissedReason::Declined => "declined",
            MissedReason::TechnicalProblem => "technical_problem",
            MissedReason::Forgot => "forgot",
            MissedReason::Other => "other",
        }
    }

    /// In words (English), for reports.
    pub fn describe(self) -> &'static str {
        match self {
            MissedReason::PatientTooIll => "Patient too ill",
            MissedReason::Declined => "Declined",
            MissedReason::TechnicalProblem => "Technical problem",
            MissedReason::Forgot => "Forgot",
            MissedReason::Other => "Other reason",
        }
    }

    /// A completion row's reason code (`awaiting_reason` when staff have not given one yet).
    pub fn parse(code: &str) -> Option<MissedReason> {
        MissedReason::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

/// A completion row's missing-reason code in words (English).
pub fn missed_reason_words(code: &str) -> String {
    match MissedReason::parse(code) {
        Some(reason) => reason.describe().to_owned(),
        None if code == AWAITING_REASON => "Awaiting a reason from the study team".to_owned(),
        None => code.to_owned(),
    }
}

/// The completion rows' code for a missed form no reason has been given for yet.
pub const AWAITING_REASON: &str = "awaiting_reason";

/// `POST /api/v1/assessments/{id}/missed-reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordMissedReason {
    pub reason: MissedReason,
    #[serde(default)]
    pub note: String,
}

/// An assessment on the nurses' overdue or missed list (nurses see the patient's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpItem {
    pub assessment_id: i64,
    pub study_id: String,
    pub patient_name: Option<String>,
    pub key: crate::schedule::AssessmentKey,
    pub label: String,
    pub window_start: chrono::NaiveDate,
    pub window_end: chrono::NaiveDate,
    /// Days until the window closes (overdue list; 0 = closes today).
    pub days_left: Option<i64>,
    pub missed_reason: Option<MissedReason>,
    pub missed_note: Option<String>,
    /// Reminders sent for this assessment, and when the last one was.
    #[serde(default)]
    pub reminders_sent: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reminded_at: Option<Timestamp>,
    /// The latest reminder for it could not be sent (the patient was not reached; her page says
    /// why).
    #[serde(default)]
    pub last_reminder_failed: bool,
}

// ---------------------------------------------------------------------------------------------
// Research (pseudonymised: study ids, strata and study days only)

/// An assessment as a timepoint of the analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimepointInfo {
    pub key: crate::schedule::AssessmentKey,
    pub label: String,
    /// The median over patients of the target study day (days from cycle 1 day 1).
    pub median_target_day: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScaleInfo {
    pub instrument: crate::instrument::InstrumentId,
    pub code: String,
    pub name: String,
    pub kind: crate::instrument::ScaleKind,
}

/// `GET /api/v1/research/analysis`: change from baseline at every assessment, for all patients
/// and per stratum, and the mean of each scale at each assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalysisReport {
    /// Points of change that count as improved or deteriorated on a scale the threshold set
    /// does not list (`thresholds` gives every scale's own).
    pub responder_points: f64,
    /// The threshold set responders are judged by, with its source.
    pub thresholds: crate::thresholds::Thresholds,
    /// When these numbers were read (docs/research.md: every report is stamped).
    pub extracted_at: crate::Timestamp,
    /// The study's time zone (the stamp shows the extraction time in it).
    pub time_zone: String,
    /// The protocol in use then: its name and version.
    pub protocol_name: String,
    pub protocol_version: i64,
    pub baseline: String,
    /// The primary comparison: baseline against this assessment (end of treatment).
    pub primary: String,
    pub algorithm_version: String,
    /// In the order they happen.
    pub timepoints: Vec<TimepointInfo>,
    pub strata: Vec<String>,
    pub scales: Vec<ScaleInfo>,
    pub changes: Vec<crate::analysis::ChangeSummary>,
    pub means: Vec<crate::analysis::TimepointMean>,
    /// Whether the forms in `out_of_window` are in the numbers above (`include_out_of_window`).
    pub out_of_window_included: bool,
    /// Forms completed outside their assessment's current window, or whose assessment left the
    /// schedule: left out of the numbers unless asked for (docs/research.md, "Placement").
    pub out_of_window: Vec<OutOfWindowForm>,
    /// The completion modes counted (`modes`; all of them unless asked otherwise).
    pub modes: Vec<CompletionMode>,
    /// Forms left out because their mode was not asked for (a sensitivity analysis).
    pub left_out_by_mode: u64,
}

/// Time to deterioration of one scale by one definition (`GET /api/v1/research/ttd`): a
/// Kaplan–Meier curve per group (all patients, then each stratum), docs/research.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TtdReport {
    pub scale: String,
    pub scale_name: String,
    pub definition: crate::ttd::Definition,
    pub death: crate::ttd::DeathRule,
    pub thresholds: crate::thresholds::Thresholds,
    /// This scale's threshold in words.
    pub threshold: String,
    pub extracted_at: crate::Timestamp,
    pub time_zone: String,
    pub protocol_name: String,
    pub protocol_version: i64,
    /// Forms completed outside their window are not counted (as in the analysis).
    pub groups: Vec<crate::ttd::TtdGroup>,
}

/// Where a received form sits in the research record, derived from the current events each time
/// it is read (docs/research.md, "Placement").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Placement {
    /// Completed inside its assessment's current window.
    InWindow,
    /// Its assessment is still scheduled, but an event recorded or corrected since moved the
    /// window away from the day the form was completed (a baseline completed after cycle 1 day 1).
    OutOfWindow,
    /// Its assessment left the schedule; the form was completed inside the window of another
    /// assessment, still without a form, that asks one of its questionnaires, and counts there.
    Rematched,
    /// Its assessment left the schedule and no other window fits: kept under its old key.
    NotInSchedule,
    /// A report the patient sent on their own ("I feel worse").
    Unscheduled,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::InWindow => "in_window",
            Placement::OutOfWindow => "out_of_window",
            Placement::Rematched => "rematched",
            Placement::NotInSchedule => "not_in_schedule",
            Placement::Unscheduled => "unscheduled",
        }
    }

    /// Counted at its timepoint by default.
    pub fn in_window(self) -> Option<bool> {
        match self {
            Placement::InWindow | Placement::Rematched => Some(true),
            Placement::OutOfWindow | Placement::NotInSchedule => Some(false),
            Placement::Unscheduled => None,
        }
    }
}

/// A received form the analysis leaves out by default, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutOfWindowForm {
    pub study_id: String,
    pub assessment: crate::schedule::AssessmentKey,
    pub placement: Placement,
    pub completed_study_day: Option<i64>,
    pub window_start_day: Option<i64>,
    pub window_end_day: Option<i64>,
    /// In words, for the research screen.
    pub reason: String,
}

/// `GET /api/v1/research/completion`: one row per assessment (SISAQOL-style).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompletionRow {
    pub key: crate::schedule::AssessmentKey,
    pub label: String,
    /// Patients on study whose window has opened.
    pub expected: usize,
    pub received: usize,
    /// Completed inside the window (qol refuses forms completed outside it).
    pub in_window: usize,
    /// Completed inside the window, delivered after it closed (within the grace period).
    pub late_delivery: usize,
    /// Window open now, not yet completed.
    pub pending: usize,
    pub missed: usize,
    /// Missed forms by the reason staff recorded (`awaiting_reason` when none yet).
    pub missed_reasons: std::collections::BTreeMap<String, usize>,
    /// Window not yet open.
    pub not_yet_due: usize,
    /// Off study before the window opened (any reason): `off_study_before` + `died_before`.
    pub not_applicable: usize,
    /// Off study before the window opened (or before the timepoint's usual day, when the window
    /// was never computed), for a reason other than death.
    pub off_study_before: usize,
    /// Died before the window opened (or before the timepoint's usual day).
    pub died_before: usize,
    /// On study past the timepoint's usual day (the median target day over the patients who have
    /// it), but the event it is anchored to is not recorded: no window yet. In the fixed
    /// denominator only.
    pub not_scheduled: usize,
    /// SISAQOL's fixed denominator: patients alive and on study who reached the timepoint's
    /// target day, whether or not their window was computed (completed + missed + those whose
    /// target day has come with the window open + `not_scheduled`).
    pub denominator_fixed: usize,
    /// SISAQOL's available-case denominator: patients whose window has opened and closed, or
    /// who completed it (completed + missed = expected − pending).
    pub denominator_available: usize,
    /// received / denominator_available.
    pub received_rate: Option<f64>,
    /// received / denominator_fixed.
    pub received_rate_fixed: Option<f64>,
    /// in_window / denominator_available.
    pub in_window_rate: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// The audit trail (admins)

/// One audit entry as the admin's viewer shows it: who, when, what, on which entity, before and
/// after (JSON text, as stored), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub id: i64,
    pub occurred_at: Timestamp,
    /// `staff:NAME`, `patient:IVB-001`, `system` or `cli`.
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// The patient the entry is about, by study id (entries written before entries named
    /// patients have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/v1/audit`: a page of entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Ask with `before` set to this for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// `GET /api/v1/audit/verify`: the whole chain checked now, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditChainStatus {
    pub intact: bool,
    /// Entries checked.
    pub entries: u64,
    /// The chain's head as `qol audit head` prints it (`ENTRIES:HASH`): record it to prove later
    /// that nothing was cut off or replaced.
    pub head: String,
    /// The first entry that does not match, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub checked_at: Timestamp,
}
