//! The clinical operations: enrolling, recording events, keeping the schedule in step with them,
//! and accepting submissions. Each write is one transaction with its audit entry. HTTP handlers
//! and the demo seed both call these; nothing here knows about HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use qol_shared::alerts::{
    AlertRules, CardChange, History, Incoming, OpenCard, Signal, Tier, card_change, held_by_snooze, replaces,
    unseen_red,
};
use qol_shared::answers::{AnswerError, Answers, RawAnswer};
use qol_shared::api::{
    AlertState, CardKind, EnrolPatient, RecordEvent, ResolutionAction, SubmissionReceipt, SubmissionRequest,
    Timeliness,
};
use qol_shared::instrument::InstrumentId;
use qol_shared::schedule::{
    AssessmentState, Event, EventKind, Events, Protocol, WindowRefusal, check_window, schedule, state_on,
};
use qol_shared::scoring::{Scores, score};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{ACTIVATION_CODE_LIFETIME, new_activation_code, normalise_activation_code, token_hash};
use crate::storage::{
    Actor, AssessmentRow, AuditEntry, Db, EventRow, NewMessage, NewSubmission, PatientRow, SessionOwner,
    StorageError, StoredSubmission, WriteTx, hex, parse_timestamp, timestamp_text,
};

/// Languages a patient can be enrolled in (the app's and the demonstration pack's).
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];
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
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(message: impl Into<String>) -> ClinicError {
    ClinicError::Invalid { message: message.into(), problems: Vec::new() }
}

/// The study a server runs and its protocol.
#[derive(Debug, Clone)]
pub struct Clinic {
    pub db: Db,
    pub study_id: i64,
    pub protocol: Protocol,
    pub on_call: OnCall,
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

/// The e-mail to the on-call addresses about a card: the study id, the kind, the tier and a link;
/// never the name, phone, diagnosis or answers.
pub fn card_email(
    public_url: &str,
    study_code: &str,
    kind: CardKind,
    tier: Tier,
    card_id: i64,
) -> (String, String) {
    let what = match kind {
        CardKind::CallRequest => "asks to be called",
        CardKind::Symptoms => "has a red symptom card",
    };
    let subject = format!("[qol] {study_code} {what}");
    let link = format!("{}/staff/worklist?card={card_id}", public_url.trim_end_matches('/'));
    let kind_text = match kind {
        CardKind::CallRequest => "call request",
        CardKind::Symptoms => "symptoms",
    };
    let body = format!(
        "Study id: {study_code}\nCard: {kind_text}\nTier: {}\n\nOpen the card (sign-in required):\n{link}\n\n\
         This message carries no name, phone number or answers; they are in the console.\n",
        tier.as_str()
    );
    (subject, body)
}

/// An assessment with its state today.
#[derive(Debug, Clone)]
pub struct AssessmentStatus {
    pub row: AssessmentRow,
    pub state: AssessmentState,
}

impl Clinic {
    /// The study's date now, in its time zone.
    pub fn today(&self) -> NaiveDate {
        self.protocol.local_date(Utc::now())
    }

    /// The study's date of a stored UTC timestamp.
    pub fn stored_date(&self, text: &str) -> Result<NaiveDate, StorageError> {
        Ok(self.protocol.local_date(parse_timestamp(text)?))
    }

    /// Enrols a patient: pseudonymous record, identity apart, the enrolment event, the schedule
    /// and an activation code. Returns the patient and the code (shown once).
    pub async fn enrol(
        &self,
        actor: &Actor,
        staff_id: i64,
        request: &EnrolPatient,
        today: NaiveDate,
    ) -> Result<(PatientRow, String, String), ClinicError> {
        let mut problems = Vec::new();
        if self.protocol.stratum(&request.stratum).is_none() {
            let strata: Vec<&str> = self.protocol.strata.iter().map(|s| s.code.as_str()).collect();
            problems.push(format!("stratum {:?} is not one of: {}", request.stratum, strata.join(", ")));
        }
        if !LANGUAGES.contains(&request.language.as_str()) {
            problems.push(format!("language {:?} is not one of: {}", request.language, LANGUAGES.join(", ")));
        }
        for (field, value) in [
            ("identity.full_name", &request.identity.full_name),
            ("identity.phone", &request.identity.phone),
            ("identity.hospital_number", &request.identity.hospital_number),
        ] {
            if value.trim().is_empty() {
                problems.push(format!("{field} is empty"));
            } else if value.chars().count() > 200 {
                problems.push(format!("{field} is longer than 200 characters"));
            }
        }
        if request.enrolled_on > today {
            problems.push(format!("enrolled_on {} is in the future", request.enrolled_on));
        }
        let prefix = &self.protocol.patient_id_prefix;
        let study_code = match &request.study_id {
            Some(code) => {
                let code = code.trim().to_uppercase();
                if !valid_study_code(&code, prefix) {
                    problems.push(format!("study_id {code:?} does not look like {prefix}-017 ({prefix}, a dash, 3 or more digits)"));
                }
                code
            }
            None => next_study_code(&self.db.study_codes().await?, prefix),
        };
        if !problems.is_empty() {
            return Err(ClinicError::Invalid {
                message: "the patient could not be enrolled".into(),
                problems,
            });
        }
        let code = new_activation_code();
        let expires_at = expires_in(ACTIVATION_CODE_LIFETIME);
        let mut tx = self.db.begin_write().await?;
        let patient_id = match tx
            .insert_patient(
                self.study_id,
                &study_code,
                &request.stratum,
                &request.language,
                &request.identity,
            )
            .await
        {
            Ok(id) => id,
            Err(error) if error.is_unique_violation() => {
                return Err(ClinicError::Conflict(format!(
                    "a patient with study id {study_code} already exists"
                )));
            }
            Err(error) => return Err(error.into()),
        };
        let enrolment = Event { kind: EventKind::Enrolment, date: request.enrolled_on };
        tx.insert_event(patient_id, &enrolment, staff_id, None, None).await?;
        tx.issue_activation_code(patient_id, &token_hash(&normalise_activation_code(&code)), &expires_at)
            .await?;
        let events = Events::from_records([enrolment]);
        tx.store_schedule(patient_id, &schedule(&self.protocol, &events, today)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "patient.enrol",
                entity: "patient",
                entity_id: study_code.clone(),
                after: Some(json!({
                    "study_id": study_code, "stratum": request.stratum, "language": request.language,
                    "enrolled_on": request.enrolled_on, "identity": "recorded", "activation_code_expires_at": expires_at,
                })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        let patient = self
            .db
            .patient_by_id(patient_id)
            .await?
            .ok_or_else(|| ClinicError::NotFound("patient".into()))?;
        Ok((patient, code, expires_at))
    }

    /// Issues a new activation code (the old one stops working).
    pub async fn reissue_code(
        &self,
        actor: &Actor,
        patient: &PatientRow,
    ) -> Result<(String, String), ClinicError> {
        let code = new_activation_code();
        let expires_at = expires_in(ACTIVATION_CODE_LIFETIME);
        let mut tx = self.db.begin_write().await?;
        tx.issue_activation_code(patient.id, &token_hash(&normalise_activation_code(&code)), &expires_at)
            .await?;
        // A new code is for a lost or changed phone: the old phone's sessions end now, not when
        // the new one is activated.
        let revoked = tx.revoke_sessions_of(SessionOwner::Patient(patient.id)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "patient.activation_code_reissue",
                entity: "patient",
                entity_id: patient.study_code.clone(),
                after: Some(json!({ "activation_code_expires_at": expires_at, "sessions_revoked": revoked })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok((code, expires_at))
    }

    pub async fn events(&self, patient_id: i64) -> Result<(Vec<EventRow>, Events), ClinicError> {
        let rows = self.db.events(patient_id).await?;
        let events = Events::from_records(rows.iter().map(|row| row.event));
        Ok((rows, events))
    }

    /// Records an event, or corrects the current one of its kind (a reason is then required),
    /// and recomputes the schedule. An impossible order of events is refused; an unusual one is
    /// recorded, and the warnings for the nurse are returned with the row.
    pub async fn record_event(
        &self,
        actor: &Actor,
        staff_id: i64,
        patient: &PatientRow,
        request: &RecordEvent,
        today: NaiveDate,
    ) -> Result<(EventRow, Vec<String>), ClinicError> {
        if request.event.date > today {
            return Err(invalid(format!(
                "the event date {} is in the future; record events when they happen",
                request.event.date
            )));
        }
        let (rows, events) = self.events(patient.id).await?;
        let slot = request.event.kind.slot();
        let current = rows.iter().rev().find(|row| row.event.kind.slot() == slot);
        let reason = request.reason.as_deref().map(str::trim).filter(|reason| !reason.is_empty());
        if current.is_some() && reason.is_none() {
            return Err(invalid(format!("{slot} is already recorded; to correct it, give a reason")));
        }
        if current.is_some_and(|row| row.event == request.event) {
            return Err(ClinicError::Conflict(format!("{slot} is already recorded with this date")));
        }
        let (next, warnings) = events
            .check_with(&self.protocol, self.protocol.stratum(&patient.stratum), request.event)
            .map_err(|error| invalid(format!("the event contradicts the record: {error}")))?;
        let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let mut tx = self.db.begin_write().await?;
        let id =
            tx.insert_event(patient.id, &request.event, staff_id, reason, current.map(|row| row.id)).await?;
        tx.store_schedule(patient.id, &schedule(&self.protocol, &next, today)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: if current.is_some() { "event.correct" } else { "event.record" },
                entity: "treatment_event",
                entity_id: format!("{}/{id}", patient.study_code),
                before: current.map(|row| json!(row.event)),
                after: Some(if warnings.is_empty() {
                    json!(request.event)
                } else {
                    json!({ "event": request.event, "warnings": warnings })
                }),
                reason: reason.map(str::to_owned),
            },
        )
        .await?;
        tx.commit().await?;
        let rows = self.db.events(patient.id).await?;
        let row =
            rows.into_iter().find(|row| row.id == id).ok_or_else(|| ClinicError::NotFound("event".into()))?;
        Ok((row, warnings))
    }

    /// Brings the stored schedule in step with the events and today (weekly assessments are
    /// scheduled two weeks ahead while the end of treatment is unknown). Derived data: the event
    /// writes that change it are audited.
    async fn sync_schedule(
        &self,
        patient_id: i64,
        events: &Events,
        today: NaiveDate,
    ) -> Result<(), ClinicError> {
        let computed = schedule(&self.protocol, events, today);
        let stored = self.db.assessments(patient_id).await?;
        let unchanged = computed.len() == stored.iter().filter(|row| !row.unscheduled).count()
            && computed.iter().all(|item| {
                stored.iter().any(|row| {
                    row.key == item.key
                        && row.window_start == item.window_start
                        && row.window_end == item.window_end
                })
            });
        if !unchanged {
            let mut tx = self.db.begin_write().await?;
            tx.store_schedule(patient_id, &computed).await?;
            tx.commit_derived().await?;
        }
        Ok(())
    }

    /// The patient's assessments with their states today, and the events they were computed
    /// from (callers need them for study days).
    pub async fn assessments(
        &self,
        patient_id: i64,
        today: NaiveDate,
    ) -> Result<(Vec<AssessmentStatus>, Events), ClinicError> {
        let (_, events) = self.events(patient_id).await?;
        self.sync_schedule(patient_id, &events, today).await?;
        let off_study = events.off_study().map(|(date, _)| date);
        let rows = self.db.assessments(patient_id).await?;
        let statuses = rows
            .into_iter()
            .map(|row| {
                let completed = row.received_at.is_some();
                let state = state_on(&row.as_scheduled(), today, completed, off_study);
                AssessmentStatus { row, state }
            })
            .collect();
        Ok((statuses, events))
    }

    /// Study day of `date`: days from cycle 1 day 1 (day 0), when it is recorded.
    pub fn study_day(events: &Events, date: NaiveDate) -> Option<i64> {
        let cycle1 = events.date_of(qol_shared::schedule::Anchor::Cycle1Day1)?;
        Some((date - cycle1).num_days())
    }

    /// Reads a card under the write lock, refusing (conflict) when it changed since the nurse saw
    /// it (`seen`: the `updated_at` she was shown), so nobody acknowledges or resolves a signal
    /// she has not seen.
    async fn card_as_seen(
        tx: &mut WriteTx,
        id: i64,
        seen: Option<&str>,
    ) -> Result<(AlertState, Tier, String), ClinicError> {
        let (state, tier, updated_at) = tx
            .card_state(id)
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no alert card {id}")))?;
        if let Some(seen) = seen
            && seen != updated_at
            && state != AlertState::Resolved
        {
            return Err(ClinicError::Conflict(format!(
                "alert card {id} changed since you opened it (a newer report joined it); look at it again"
            )));
        }
        Ok((state, tier, updated_at))
    }

    /// A nurse has seen the card. Refused (conflict) unless it is new, or when it changed since
    /// she saw it.
    pub async fn acknowledge_card(
        &self,
        actor: &Actor,
        staff_id: i64,
        id: i64,
        seen: Option<&str>,
    ) -> Result<(), ClinicError> {
        let mut tx = self.db.begin_write().await?;
        let (state, tier, _) = Self::card_as_seen(&mut tx, id, seen).await?;
        if !tx.acknowledge_card(id, staff_id, &crate::storage::now_text()).await? {
            return Err(ClinicError::Conflict(format!("alert card {id} is already {}", state.as_str())));
        }
        tx.audit(
            actor,
            AuditEntry {
                action: "alert.acknowledge",
                entity: "alert_card",
                entity_id: id.to_string(),
                before: Some(json!({ "state": state, "tier": tier })),
                after: Some(json!({ "state": AlertState::Acknowledged, "tier": tier })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A nurse has acted on the card (new or acknowledged) and closes it with what was done.
    /// Refused when it changed since she saw it.
    pub async fn resolve_card(
        &self,
        actor: &Actor,
        staff_id: i64,
        id: i64,
        action: ResolutionAction,
        note: &str,
        seen: Option<&str>,
    ) -> Result<(), ClinicError> {
        if note.chars().count() > 2000 {
            return Err(invalid("the note is longer than 2000 characters"));
        }
        let mut tx = self.db.begin_write().await?;
        let (state, tier, _) = Self::card_as_seen(&mut tx, id, seen).await?;
        if !tx.resolve_card(id, staff_id, action, note, &crate::storage::now_text()).await? {
            return Err(ClinicError::Conflict(format!("alert card {id} is already resolved")));
        }
        tx.audit(
            actor,
            AuditEntry {
                action: "alert.resolve",
                entity: "alert_card",
                entity_id: id.to_string(),
                before: Some(json!({ "state": state, "tier": tier })),
                after: Some(json!({ "state": AlertState::Resolved, "action": action })),
                reason: Some(note.to_owned()).filter(|note| !note.is_empty()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Joins a report's signals to the patient's cards, inside the submission's transaction:
    /// signals a snooze holds are left out (and listed); the rest go to the open card of their
    /// kind (opened if there is none), each subject keeping the rule that set its tier; every
    /// signal of the patient's open cards gets the report's value as its latest; a card that
    /// opens as, or becomes, red queues one e-mail per on-call address. Returns what it did, for
    /// the submission's audit entry.
    #[allow(clippy::too_many_arguments)] // one call site: the submission's transaction
    async fn raise(
        &self,
        tx: &mut WriteTx,
        patient: &PatientRow,
        signals: &[Signal],
        latest: &std::collections::BTreeMap<String, f64>,
        submission_id: i64,
        today: NaiveDate,
        now: &str,
    ) -> Result<(serde_json::Value, usize), ClinicError> {
        let mut held = Vec::new();
        let mut queued_total = 0;
        let mut by_kind: Vec<(CardKind, Vec<&Signal>)> = Vec::new();
        for signal in signals {
            let snoozes = tx.active_snoozes(patient.id, &signal.subject, today).await?;
            if snoozes.iter().any(|snooze| held_by_snooze(signal, Some(*snooze), today)) {
                tx.record_held(patient.id, &signal.subject, today, signal.value, submission_id, now).await?;
                held.push(json!({ "subject": signal.subject, "tier": signal.tier, "value": signal.value }));
                continue;
            }
            let kind = if signal.is_call_request() { CardKind::CallRequest } else { CardKind::Symptoms };
            match by_kind.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, list)) => list.push(signal),
                None => by_kind.push((kind, vec![signal])),
            }
        }
        // The latest value of every subject already on an open card, before new signals join.
        for (id, subject) in tx.open_signals(patient.id).await? {
            if let Some(value) = latest.get(&subject) {
                tx.set_latest(id, Some(*value), submission_id, now).await?;
            }
        }
        let mut cards = Vec::new();
        for (kind, list) in by_kind {
            let open = tx.open_card(patient.id, kind).await?;
            // What the open card holds of each subject, to tell red news from what it showed.
            let mut stored = Vec::with_capacity(list.len());
            for signal in &list {
                stored.push(match open {
                    Some((card_id, _, _)) => tx.card_signal(card_id, &signal.subject).await?,
                    None => None,
                });
            }
            let incoming = Incoming {
                tier: list.iter().map(|signal| signal.tier).max().unwrap_or(Tier::Info),
                unseen_red: list
                    .iter()
                    .zip(&stored)
                    .any(|(signal, stored)| unseen_red(signal, stored.map(|(_, tier)| tier))),
            };
            let change = card_change(open.map(|(_, tier, state)| OpenCard { tier, state }), incoming);
            // `tell`: the on-call addresses hear of it (a new call request, a card that opens red,
            // becomes red, or is re-opened with red news).
            let (card_id, tier, escalated, tell) = match (change, open) {
                (CardChange::Open { tier }, _) => {
                    let id = tx.insert_card(patient.id, kind, tier, submission_id, now).await?;
                    (id, tier, false, tier == Tier::Red)
                }
                (CardChange::Join { tier, escalated }, Some((id, before, _))) => {
                    tx.join_card(id, tier, escalated, submission_id, now).await?;
                    let became_red = tier == Tier::Red && before < Tier::Red;
                    (id, tier, escalated, became_red || (escalated && tier == Tier::Red))
                }
                (CardChange::Join { .. }, None) => unreachable!("a card joins only an open card"),
            };
            for (signal, stored) in list.iter().zip(&stored) {
                match stored {
                    None => {
                        tx.insert_signal(card_id, patient.id, signal, submission_id, now).await?;
                    }
                    Some((id, stored)) if replaces(*stored, signal.tier) => {
                        tx.replace_signal(*id, signal, submission_id, now).await?;
                    }
                    Some(_) => {}
                }
            }
            let mut queued = Vec::new();
            if tell {
                let (subject, body) =
                    card_email(&self.on_call.public_url, &patient.study_code, kind, tier, card_id);
                for address in &self.on_call.emails {
                    let message = NewMessage {
                        channel: "email",
                        recipient: address,
                        purpose: "alert_card",
                        card_id: Some(card_id),
                        patient_id: Some(patient.id),
                        // One message per card, report and address: a retried report queues
                        // nothing new, a re-opening report queues again.
                        dedupe_key: format!("alert-card-{card_id}-report-{submission_id}-{address}"),
                        subject: subject.clone(),
                        body: body.clone(),
                    };
                    if let Some(id) = tx.enqueue(&message, now).await? {
                        queued.push(id);
                        queued_total += 1;
                    }
                }
            }
            cards.push(json!({
                "card": card_id, "kind": kind, "tier": incoming.tier, "escalated": escalated, "emails_queued": queued,
            }));
        }
        Ok((json!({ "cards": cards, "held_by_snooze": held }), queued_total))
    }

    /// Accepts a submission: validates, scores, and stores it with its answers, scores and audit
    /// entry in one transaction. A retry with the same client id and content returns the original
    /// receipt (`false`: nothing new was stored).
    pub async fn submit(
        &self,
        actor: &Actor,
        patient: &PatientRow,
        request: &SubmissionRequest,
        now: DateTime<Utc>,
    ) -> Result<(SubmissionReceipt, bool), ClinicError> {
        let client_id = uuid::Uuid::parse_str(request.client_id.trim())
            .ok()
            // Only a random (version 4) UUID: a version 1 UUID carries the device's clock and
            // network address.
            .filter(|uuid| uuid.get_version() == Some(uuid::Version::Random))
            .ok_or_else(|| invalid("client_id must be a random (version 4) UUID generated on the device"))?
            .hyphenated()
            .to_string();
        let completed_at = chrono::DateTime::parse_from_rfc3339(&request.completed_at)
            .map_err(|_| invalid("completed_at must be an RFC 3339 time, e.g. 2026-03-16T09:30:00+08:00"))?
            .with_timezone(&Utc);
        if completed_at > now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES) {
            return Err(invalid("completed_at is in the future; check the phone's clock"));
        }
        if !LANGUAGES.contains(&request.language.as_str()) {
            return Err(invalid(format!(
                "language {:?} is not one of: {}",
                request.language,
                LANGUAGES.join(", ")
            )));
        }
        let content_hash = content_hash(request, &completed_at);

        // A retry of something already stored is answered before anything else is checked, so a
        // phone that was offline gets its receipt even after the window has closed.
        if let Some(existing) = self.db.submission_by_client_id(&client_id).await? {
            return self.replay(patient, &existing, &content_hash).await.map(|receipt| (receipt, false));
        }

        let today = self.protocol.local_date(now);
        let (_, events) = self.events(patient.id).await?;
        self.sync_schedule(patient.id, &events, today).await?;
        let (assessment, timeliness) = match request.assessment_id {
            Some(id) => {
                // An assessment that left the schedule while she was answering (an event recorded
                // or corrected meanwhile) still takes the form, within the window it had: nothing
                // she answered is turned away for a change she could not see.
                let assessment = self
                    .db
                    .assessment_ever_scheduled(patient.id, id)
                    .await?
                    .ok_or_else(|| ClinicError::NotFound(format!("you have no assessment {id}")))?;
                // A form she completed before going off study is hers to send, even late.
                if let Some((off, _)) = events.off_study()
                    && off <= assessment.window_end
                    && self.protocol.local_date(completed_at) >= off
                {
                    return Err(ClinicError::Conflict(
                        "this questionnaire no longer applies: the study has ended for you".into(),
                    ));
                }
                let timeliness = check_window(
                    &assessment.as_scheduled(),
                    self.protocol.local_date(completed_at),
                    today,
                    self.protocol.late_delivery_grace_days,
                )
                .map_err(|refusal| {
                    ClinicError::Conflict(match refusal {
                        WindowRefusal::NotOpenYet { .. } | WindowRefusal::Closed { .. } => {
                            refusal.to_string()
                        }
                    })
                })?;
                (Some(assessment), timeliness_of(timeliness))
            }
            None => {
                if events.off_study().is_some() {
                    return Err(ClinicError::Conflict(
                        "the study has ended for you; no more questionnaires are needed".into(),
                    ));
                }
                (None, Timeliness::Unscheduled)
            }
        };
        let instruments: Vec<InstrumentId> = match &assessment {
            Some(row) => row.instruments.clone(),
            None => vec![InstrumentId::QlqC30],
        };
        let (answers, scores) = parse_and_score(&instruments, &request.answers)?;

        // What the alert rules compare with: the baseline and the latest earlier submission.
        let earlier = self.db.submissions_of(patient.id).await?;
        let baseline = match earlier.iter().find(|s| s.assessment_key == "baseline") {
            Some(stored) => Some(self.db.scores_of(stored.id).await?),
            None => None,
        };
        let previous = match earlier.last() {
            Some(stored) => Some(self.db.scores_of(stored.id).await?),
            None => None,
        };
        let signals = AlertRules::from(&self.protocol.alerts).evaluate(
            &scores,
            &answers,
            History { baseline: baseline.as_deref(), previous: previous.as_deref() },
            request.call_me,
        );

        let received_at = timestamp_text(now);
        let mut tx = self.db.begin_write().await?;
        // Read again under the chain lock: a concurrent retry may have stored it meanwhile.
        if let Some(existing) = tx.submission_by_client_id(&client_id).await? {
            drop(tx);
            return self.replay(patient, &existing, &content_hash).await.map(|receipt| (receipt, false));
        }
        let assessment_id = match &assessment {
            Some(row) => {
                if tx.assessment_has_submission(row.id).await? {
                    return Err(ClinicError::Conflict("this questionnaire was already sent".into()));
                }
                row.id
            }
            None => tx.insert_unscheduled_assessment(patient.id, "Unscheduled report", today).await?,
        };
        let stored_answers: Vec<RawAnswer> = answers.iter().flat_map(Answers::to_raw).collect();
        let submission_id = tx
            .insert_submission(&NewSubmission {
                client_id: &client_id,
                content_hash: &content_hash,
                patient_id: patient.id,
                assessment_id,
                completed_at: &timestamp_text(completed_at),
                received_at: &received_at,
                timeliness: timeliness.clone(),
                language: &request.language,
                call_me: request.call_me,
                submitted_by: &actor.name,
                answers: &stored_answers,
                scores: &scores,
            })
            .await?;
        let latest = latest_values(&scores, &answers);
        let (alerts_raised, emails_queued) =
            self.raise(&mut tx, patient, &signals, &latest, submission_id, today, &received_at).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "submission.store",
                entity: "submission",
                entity_id: submission_id.to_string(),
                after: Some(json!({
                    "client_id": client_id, "assessment_id": assessment_id, "timeliness": timeliness,
                    "items": stored_answers.len(), "call_me": request.call_me, "alerts": alerts_raised,
                })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        if emails_queued > 0 {
            self.on_call.wake.wake();
        }
        let receipt =
            SubmissionReceipt { submission_id, client_id, assessment_id, received_at, timeliness, scores };
        Ok((receipt, true))
    }

    async fn replay(
        &self,
        patient: &PatientRow,
        existing: &StoredSubmission,
        content_hash: &str,
    ) -> Result<SubmissionReceipt, ClinicError> {
        if existing.patient_id != patient.id || existing.content_hash != content_hash {
            return Err(ClinicError::Conflict(
                "this client_id was already used for a different submission; generate a new one for new answers".into(),
            ));
        }
        Ok(SubmissionReceipt {
            submission_id: existing.id,
            client_id: existing.client_id.clone(),
            assessment_id: existing.assessment_id,
            received_at: existing.received_at.clone(),
            timeliness: existing.timeliness.clone(),
            scores: self.db.scores_of(existing.id).await?,
        })
    }
}

/// Splits answers by instrument (item numbers of the combined form), validates each, and scores.
/// Every problem is reported at once.
pub fn parse_and_score(
    instruments: &[InstrumentId],
    raw: &[RawAnswer],
) -> Result<(Vec<Answers>, Vec<Scores>), ClinicError> {
    let mut problems = Vec::new();
    let mut per_instrument: Vec<(InstrumentId, Vec<RawAnswer>)> =
        instruments.iter().map(|id| (*id, Vec::new())).collect();
    for answer in raw {
        let owner = per_instrument.iter_mut().find(|(id, _)| {
            u8::try_from(answer.item).is_ok_and(|item| id.instrument().item_numbers().contains(&item))
        });
        match owner {
            Some((_, list)) => list.push(answer.clone()),
            None => problems.push(format!(
                "item {} is not part of this assessment's questionnaires ({})",
                answer.item,
                instruments.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    let mut parsed = Vec::new();
    for (id, list) in per_instrument {
        match Answers::parse(id, list) {
            Ok(answers) => parsed.push(answers),
            Err(errors) => problems.extend(errors.0.iter().map(AnswerError::to_string)),
        }
    }
    if !problems.is_empty() {
        return Err(ClinicError::Invalid {
            message: "some answers are not valid; nothing was stored".into(),
            problems,
        });
    }
    let scores = parsed.iter().map(score).collect();
    Ok((parsed, scores))
}

/// SHA-256 over the canonical content of a request (answers sorted by item), so a retry is
/// recognised whatever the order of its answers.
fn content_hash(request: &SubmissionRequest, completed_at: &DateTime<Utc>) -> String {
    let mut answers = request.answers.clone();
    answers.sort_by_key(|answer| answer.item);
    let canonical = json!({
        "assessment_id": request.assessment_id,
        "completed_at": timestamp_text(*completed_at),
        "language": request.language,
        "answers": answers,
        "call_me": request.call_me,
    });
    hex(&Sha256::digest(canonical.to_string().as_bytes()))
}

fn timeliness_of(value: qol_shared::schedule::Timeliness) -> Timeliness {
    match value {
        qol_shared::schedule::Timeliness::OnTime => Timeliness::OnTime,
        qol_shared::schedule::Timeliness::LateDelivery => Timeliness::LateDelivery,
    }
}

fn expires_in(duration: std::time::Duration) -> String {
    timestamp_text(Utc::now() + chrono::Duration::from_std(duration).unwrap_or_default())
}

fn valid_study_code(code: &str, prefix: &str) -> bool {
    code.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|digits| digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The next free `PREFIX-NNN` after the highest one in use.
pub fn next_study_code(existing: &[String], prefix: &str) -> String {
    let highest = existing
        .iter()
        .filter(|code| valid_study_code(code, prefix))
        .filter_map(|code| code[prefix.len() + 1..].parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("{prefix}-{:03}", highest + 1)
}

/// Every subject a card can hold, with its value in this report: scale scores, and item answers
/// as `ITEM<n>` (their response code).
fn latest_values(scores: &[Scores], answers: &[Answers]) -> std::collections::BTreeMap<String, f64> {
    let mut latest = std::collections::BTreeMap::new();
    for instrument in scores {
        for scale in &instrument.scales {
            if let Some(value) = scale.score() {
                latest.insert(scale.code.to_string(), value);
            }
        }
    }
    for answer_set in answers {
        for (item, response) in answer_set.iter() {
            if let qol_shared::answers::Response::Code(code) = response {
                latest.insert(format!("ITEM{item}"), f64::from(code));
            }
        }
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_codes_count_up_from_the_highest_in_use() {
        assert_eq!(next_study_code(&[], "IVB"), "IVB-001");
        let existing =
            vec!["IVB-001".to_owned(), "IVB-017".to_owned(), "XYZ-999".to_owned(), "IVB-9".to_owned()];
        assert_eq!(next_study_code(&existing, "IVB"), "IVB-018");
        assert!(valid_study_code("IVB-0017", "IVB"));
        assert!(!valid_study_code("IVB-17", "IVB"));
        assert!(!valid_study_code("IVB017", "IVB"));
    }

    #[test]
    fn answers_are_split_by_instrument_and_every_problem_is_reported() {
        let both = [InstrumentId::QlqC30, InstrumentId::QlqCx24];
        let (answers, scores) =
            parse_and_score(&both, &[RawAnswer::code(1, 2), RawAnswer::code(31, 4)]).unwrap();
        assert_eq!(answers.len(), 2);
        assert_eq!(scores[1].instrument, InstrumentId::QlqCx24);
        let Err(ClinicError::Invalid { problems, .. }) = parse_and_score(
            &[InstrumentId::QlqC30],
            &[RawAnswer::code(31, 1), RawAnswer::code(2, 9), RawAnswer::code(0, 1)],
        ) else {
            panic!("expected invalid")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("item 31 is not part of this assessment's questionnaires (qlq-c30)"));
    }
}
