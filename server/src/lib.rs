//! `qol-server`: the qol binary's library.
//!
//! - [`config`]: the command line and the typed configuration read once at start-up.
//! - [`startup`]: [`startup::Application`] builds the whole app (database, migrations, demo seed,
//!   router) separately from running it, so tests start the real thing on port 0.
//! - [`http`]: routes, handlers, the error policy, serving the built app.
//! - [`storage`]: every SQL statement, on SQLite or PostgreSQL through `sqlx::Any`.
//! - [`score_csv`]: `qol score`, streaming CSV scoring for researchers' files.
//! - [`cli`]: `main`: dispatch, logging, error reporting; `qol serve` and `qol export`. [`admin`]:
//!   `qol admin …`, `qol audit …`.
//! - [`backup`]: `qol backup` and `qol restore`.
//! - [`auth`]: argon2id secrets, session tokens, activation codes, lockout backoff.
//! - [`clinic`]: the service, the only way from a request to storage: enrolment, events and the
//!   schedule, submissions and alerts, sessions, accounts, research records and reports, exports
//!   started, the demo seed; each write one audited transaction.
//! - [`clock`]: the one clock (the system's, or a settable one in tests and the demo seed).
//! - [`export`]: the research exports (CSV, data dictionary, FHIR NDJSON), streamed.
//! - [`notify`]: the outbox worker (e-mail to the on-call addresses), retried and audited.

pub mod admin;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod clinic;
pub mod clock;
pub mod config;
pub mod export;
pub mod http;
pub mod notify;
pub mod report;
pub mod score_csv;
pub mod startup;
pub mod storage;
