//! `qol-shared`: the pure core of qol, used by the server and by the app (wasm32).
//!
//! - [`instrument`]: the QLQ-C30 v3.0 and QLQ-CX24 structure as data (items, response scales,
//!   scales with their direction, the CX24 conditional section) and the scoring-algorithm version.
//! - [`alerts`]: symptom alert rules (levels, changes, CX24 items, call-me), tiers, de-duplication
//!   and snooze decisions; rules as data with their sources.
//! - [`answers`]: the parse step from untrusted answers to validated [`answers::Answers`], with
//!   typed errors.
//! - [`scoring`]: EORTC scoring (half rule, single-item rule, not applicable, C30 summary score).
//! - [`analysis`]: pre/post change (paired means, t intervals, SRM, responders) and means over time.
//! - [`reminders`]: reminders as protocol data: what is due when (quiet hours, the maximum per
//!   window, the study's time zone) and what it says, in each language.
//! - [`schedule`]: the protocol as data, and events → assessments with windows and states.
//! - [`patient_info`]: what the protocol gives patients beside their forms: the study's contact
//!   details and which of her scores her history shows.
//! - [`wording`]: wording packs (validated on load) and the shipped demonstration pack.
//! - [`api`]: the JSON types the server and app exchange.
//! - [`client_id`]: [`ClientId`], a finished questionnaire's id from the phone (random UUIDs only).
//! - [`time`]: [`Timestamp`], an instant as the API and storage spell it (RFC 3339, UTC, µs).
//! - [`language`]: [`Language`], the languages qol ships, spelled as their tags on the wire.
//!
//! This crate does no IO, has no async, and builds for `wasm32-unknown-unknown`.

pub mod alerts;
pub mod analysis;
pub mod answers;
pub mod api;
pub mod client_id;
pub mod instrument;
pub mod language;
pub mod patient_info;
pub mod plot;
pub mod reminders;
pub mod schedule;
pub mod scoring;
pub mod survival;
pub mod thresholds;
pub mod time;
pub mod ttd;
pub mod wording;

pub use answers::{AnswerError, Answers, RawAnswer, RawResponse, Response};
pub use client_id::ClientId;
pub use instrument::{InstrumentId, SCORING_ALGORITHM_VERSION};
pub use language::Language;
pub use scoring::{Outcome, ScaleScore, Scores, score};
pub use time::Timestamp;
