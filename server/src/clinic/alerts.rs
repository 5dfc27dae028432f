//! Alert cards (raised with a submission, acknowledged, resolved), snoozes, the follow-up lists
//! and the reasons for missed assessments.

use std::collections::BTreeMap;

use qol_shared::alerts::{SNOOZE_MAX_TIER, sla_deadline};
use qol_shared::api::{
    AcknowledgeAlert, AlertCard, CardSignal, FollowUpItem, NotificationView, RecordMissedReason,
    ResolveAlert, SnoozeRequest, SnoozeView,
};

use qol_shared::Timestamp;

use super::*;
use crate::storage::{CardFilter, CardRow, SnoozeRow};

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

/// What brought signals to a patient's cards: a report (a stored submission), or a help request
/// (the "I need help" button: a call request without a form).
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    Report(i64),
    HelpRequest { client_id: &'a str },
}

impl Origin<'_> {
    fn submission_id(self) -> Option<i64> {
        match self {
            Origin::Report(id) => Some(id),
            Origin::HelpRequest { .. } => None,
        }
    }

    /// Names it in an e-mail's deduplication key: a retry queues nothing new.
    fn dedupe_part(self) -> String {
        match self {
            Origin::Report(id) => format!("report-{id}"),
            Origin::HelpRequest { client_id } => format!("help-{client_id}"),
        }
    }
}

/// What [`Clinic::raise`] did: for the audit entry, the e-mails it queued, and each card (kind,
/// id) the signals went to.
#[derive(Debug)]
pub(super) struct Raised {
    pub audit: serde_json::Value,
    pub emails_queued: usize,
    pub cards: Vec<(CardKind, i64)>,
}

impl Clinic {
    /// Reads a card under the write lock, refusing (conflict) when it changed since the nurse saw
    /// it (`seen`: the `updated_at` she was shown), so nobody acknowledges or resolves a signal
    /// she has not seen.
    async fn card_as_seen(
        tx: &mut WriteTx,
        id: i64,
        seen: Option<&Timestamp>,
    ) -> Result<(AlertState, Tier, String), ClinicError> {
        let (state, tier, updated_at) = tx
            .card_state(id)
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no alert card {id}")))?;
        if let Some(seen) = seen
            && seen.text() != updated_at
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
        seen: Option<&Timestamp>,
    ) -> Result<(), ClinicError> {
        let mut tx = self.db.begin_write().await?;
        let (state, tier, _) = Self::card_as_seen(&mut tx, id, seen).await?;
        if !tx.acknowledge_card(id, staff_id, &tx.now_text()).await? {
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
        seen: Option<&Timestamp>,
    ) -> Result<(), ClinicError> {
        if note.chars().count() > 2000 {
            return Err(invalid("the note is longer than 2000 characters"));
        }
        let mut tx = self.db.begin_write().await?;
        let (state, tier, _) = Self::card_as_seen(&mut tx, id, seen).await?;
        if !tx.resolve_card(id, staff_id, action, note, &tx.now_text()).await? {
            return Err(ClinicError::Conflict(format!("alert card {id} is already resolved")));
        }
        tx.audit(
            actor,
            AuditEntry {
                action: "alert.resolve",
                patient: None,
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

    /// Joins a report's (or a help request's) signals to the patient's cards, inside its own
    /// transaction: signals a snooze holds are left out (and listed); the rest go to the open
    /// card of their kind (opened if there is none), each subject keeping the rule that set its
    /// tier; every signal of the patient's open cards gets the report's value as its latest; a
    /// card that opens as, or becomes, red queues one e-mail per on-call address.
    #[allow(clippy::too_many_arguments)] // two call sites: a submission's and a help request's transactions
    pub(super) async fn raise(
        &self,
        tx: &mut WriteTx,
        patient: &PatientRow,
        signals: &[Signal],
        latest: &std::collections::BTreeMap<String, f64>,
        origin: Origin<'_>,
        today: NaiveDate,
        now: &str,
    ) -> Result<Raised, ClinicError> {
        let submission_id = origin.submission_id();
        let mut held = Vec::new();
        let mut queued_total = 0;
        let mut raised_on = Vec::new();
        let mut by_kind: Vec<(CardKind, Vec<&Signal>)> = Vec::new();
        // Every read and write below is made under the write lock, so her open cards and snoozes
        // are one read, and each kind's writes one round trip each however many signals.
        let (mut open_cards, snoozes) = if signals.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            tx.cards_and_snoozes(patient.id, today).await?
        };
        for signal in signals {
            let snoozed = snoozes
                .iter()
                .filter(|(subject, _)| *subject == signal.subject)
                .any(|(_, snooze)| held_by_snooze(signal, Some(*snooze), today));
            if snoozed {
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
        let mut cards = Vec::new();
        for (kind, list) in by_kind {
            let (open, on_card) = match open_cards.iter().position(|(k, _)| *k == kind) {
                Some(at) => {
                    let (_, row) = open_cards.swap_remove(at);
                    (Some(row.card), row.subjects)
                }
                None => (None, Default::default()),
            };
            // What the open card holds of each subject, to tell red news from what it showed.
            let stored: Vec<Option<(i64, Tier)>> =
                list.iter().map(|signal| on_card.get(&signal.subject).copied()).collect();
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
            // New subjects join the card and higher or equal tiers replace what it showed: a
            // statement for each, whatever the number of signals (they are made under the lock).
            let mut added = Vec::new();
            let mut replaced = Vec::new();
            for (signal, stored) in list.iter().zip(&stored) {
                match stored {
                    None => added.push(*signal),
                    Some((id, stored)) if replaces(*stored, signal.tier) => replaced.push((*id, *signal)),
                    Some(_) => {}
                }
            }
            tx.insert_signals(card_id, patient.id, &added, submission_id, now).await?;
            tx.replace_signals(card_id, &replaced, submission_id, latest, now).await?;
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
                        // One message per card, report (or help request) and address: a
                        // retried report queues nothing new, a re-opening report queues again.
                        dedupe_key: format!("alert-card-{card_id}-{}-{address}", origin.dedupe_part()),
                        subject: subject.clone(),
                        body: body.clone(),
                        template: None,
                        language: None,
                        assessment_key: None,
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
            raised_on.push((kind, card_id));
        }
        // The latest value of every subject on an open card that this report did not add or
        // replace (those wrote theirs): each row is written once.
        if let Some(submission_id) = submission_id {
            tx.set_latest_on_open_cards(patient.id, latest, submission_id, now).await?;
        }
        Ok(Raised {
            audit: json!({ "cards": cards, "held_by_snooze": held }),
            emails_queued: queued_total,
            cards: raised_on,
        })
    }
}

/// Every subject a card can hold, with its value in this report: scale scores, and item answers
/// as `ITEM<n>` (their response code).
pub(super) fn latest_values(
    scores: &[Scores],
    answers: &[Answers],
) -> std::collections::BTreeMap<String, f64> {
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

/// How many resolved cards the worklist lists (the newest).
const RESOLVED_LISTED: usize = 500;
/// The furthest a snooze may reach: a nurse looks again at least this often.
const SNOOZE_MAX_DAYS: i64 = 183;

/// Which cards the worklist asks for.
#[derive(Debug, Clone, Default)]
pub struct CardQuery {
    /// By default the open ones (new and acknowledged).
    pub state: Option<AlertState>,
    pub tier: Option<Tier>,
    pub kind: Option<CardKind>,
    /// A study id, as typed: that patient's cards only.
    pub patient: Option<String>,
}

/// The worklist's order: open call requests first, then red, amber, info; oldest first within
/// each (by when the service-level clock started, so an escalated card takes its new place).
fn worklist_order(cards: &mut [AlertCard]) {
    cards.sort_by(|a, b| {
        let call =
            |card: &AlertCard| card.kind == CardKind::CallRequest && card.state != AlertState::Resolved;
        call(b)
            .cmp(&call(a))
            .then(b.tier.cmp(&a.tier))
            .then_with(|| a.sla_from.cmp(&b.sla_from))
            .then(a.id.cmp(&b.id))
    });
}

fn snooze_view(row: SnoozeRow) -> SnoozeView {
    SnoozeView {
        id: row.id,
        study_id: row.study_code,
        subject: row.subject,
        until: row.until,
        tier: row.tier,
        reason: row.reason,
        held_count: row.held_count,
        last_held_at: row.last_held_at,
        last_held_value: row.last_held_value,
        created_by: row.created_by,
        ended_at: row.ended_at,
    }
}

/// Scale codes of both instruments, `ITEM31`…`ITEM54` and `ITEM9`/`ITEM19`: what can be snoozed.
fn snoozable(subject: &str) -> bool {
    let scale = qol_shared::instrument::InstrumentId::ALL
        .iter()
        .any(|id| id.instrument().scales.iter().any(|scale| scale.code == subject));
    // Spelled exactly as signals are (`ITEM9`, not `ITEM09` or `ITEM+9`), or it would hold nothing.
    let item = subject
        .strip_prefix("ITEM")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=54).contains(&n) && format!("ITEM{n}") == subject);
    scale || item
}

impl Clinic {
    /// Cards as the API shows them, with their signals and e-mails, now. The service level
    /// (`sla_working_days`, the protocol's `alerts`) counts the study site's working days from
    /// the card's opening or its last escalation.
    async fn cards_view(&self, rows: Vec<CardRow>) -> Result<Vec<AlertCard>, ClinicError> {
        let now = self.now();
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        // Each card's signals and e-mails, gathered once.
        let mut signals: BTreeMap<i64, Vec<CardSignal>> = BTreeMap::new();
        for (card, signal) in self.db.card_signals(&ids).await? {
            signals.entry(card).or_default().push(signal);
        }
        let mut notifications: BTreeMap<i64, Vec<NotificationView>> = BTreeMap::new();
        for notification in self.db.card_notifications(&ids).await? {
            if let Some(card) = notification.card_id {
                notifications.entry(card).or_default().push(notification);
            }
        }
        let zone = self.protocol().time_zone;
        let sla_days = self.protocol().alerts.sla_working_days;
        let local = |at: DateTime<Utc>| at.with_timezone(&zone).naive_local();
        Ok(rows
            .into_iter()
            .map(|row| {
                let sla_from = row.sla_from.instant();
                let acknowledged = row.acknowledged_at.map(|at| at.instant());
                let open = row.state != AlertState::Resolved;
                AlertCard {
                    id: row.id,
                    study_id: row.study_code,
                    kind: row.kind,
                    tier: row.tier,
                    state: row.state,
                    escalated: row.escalated,
                    patient_name: row.patient_name,
                    phone: row.phone,
                    minutes_waiting: (open && row.kind == CardKind::CallRequest)
                        // Since the request the card was opened or re-opened by.
                        .then(|| (now - sla_from).num_minutes().max(0)),
                    past_sla: row.state == AlertState::New
                        && local(now) > sla_deadline(local(sla_from), sla_days),
                    minutes_to_acknowledge: acknowledged.map(|done| (done - sla_from).num_minutes()),
                    opened_at: row.opened_at,
                    updated_at: row.updated_at,
                    sla_from: row.sla_from,
                    acknowledged_at: row.acknowledged_at,
                    acknowledged_by: row.acknowledged_by,
                    resolved_at: row.resolved_at,
                    resolved_by: row.resolved_by,
                    resolution_action: row.resolution_action,
                    resolution_note: row.resolution_note,
                    latest_submission_id: row.latest_submission_id,
                    signals: signals.remove(&row.id).unwrap_or_default(),
                    notifications: notifications.remove(&row.id).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// The worklist: cards in their order (resolved ones: the newest 500).
    pub async fn alert_cards(&self, query: &CardQuery) -> Result<Vec<AlertCard>, ClinicError> {
        let patient_id = match query.patient.as_deref() {
            Some(study_id) => Some(self.find_patient(study_id).await?.id),
            None => None,
        };
        let rows: Vec<CardRow> = self
            .db
            .cards(CardFilter { state: query.state, all_states: false, patient_id })
            .await?
            .into_iter()
            .filter(|row| query.tier.is_none_or(|tier| row.tier == tier))
            .filter(|row| query.kind.is_none_or(|kind| row.kind == kind))
            .collect();
        // Resolved cards pile up over a study: the newest 500 (a patient's page lists all of theirs).
        let rows = if query.state == Some(AlertState::Resolved) {
            let skip = rows.len().saturating_sub(RESOLVED_LISTED);
            rows.into_iter().skip(skip).collect()
        } else {
            rows
        };
        let mut cards = self.cards_view(rows).await?;
        worklist_order(&mut cards);
        Ok(cards)
    }

    /// A patient's cards, open and past, newest first.
    pub async fn patient_cards(&self, study_id: &str) -> Result<Vec<AlertCard>, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        let rows =
            self.db.cards(CardFilter { state: None, all_states: true, patient_id: Some(patient.id) }).await?;
        let mut cards = self.cards_view(rows).await?;
        cards.sort_by_key(|card| std::cmp::Reverse(card.id));
        Ok(cards)
    }

    /// The latest `limit` messages of the outbox, newest first, with their delivery.
    pub async fn notifications(&self, limit: i64) -> Result<Vec<NotificationView>, ClinicError> {
        Ok(self.db.notifications(limit).await?)
    }

    async fn one_card(&self, id: i64) -> Result<AlertCard, ClinicError> {
        let row = self
            .db
            .card(id)
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no alert card {id}")))?;
        let mut cards = self.cards_view(vec![row]).await?;
        cards.pop().ok_or_else(|| ClinicError::NotFound(format!("there is no alert card {id}")))
    }

    /// The session's nurse has seen the card; returns it as it is now.
    pub async fn acknowledge(
        &self,
        session: &Session,
        id: i64,
        request: &AcknowledgeAlert,
    ) -> Result<AlertCard, ClinicError> {
        let staff_id = session.staff_id()?;
        self.acknowledge_card(&session.actor(), staff_id, id, request.seen_updated_at.as_ref()).await?;
        self.one_card(id).await
    }

    /// The session's nurse closes the card with what was done; returns it as it is now.
    pub async fn resolve(
        &self,
        session: &Session,
        id: i64,
        request: &ResolveAlert,
    ) -> Result<AlertCard, ClinicError> {
        let staff_id = session.staff_id()?;
        self.resolve_card(
            &session.actor(),
            staff_id,
            id,
            request.action,
            request.note.trim(),
            request.seen_updated_at.as_ref(),
        )
        .await?;
        self.one_card(id).await
    }

    /// Holds a patient's amber or info signals of one subject until a date, with a reason.
    pub async fn snooze(
        &self,
        session: &Session,
        study_id: &str,
        request: &SnoozeRequest,
    ) -> Result<SnoozeView, ClinicError> {
        let staff_id = session.staff_id()?;
        let patient = self.find_patient(study_id).await?;
        if request.subject == "CALL" {
            return Err(invalid("a call request cannot be snoozed: the patient asked to be called"));
        }
        let mut problems = Vec::new();
        if !snoozable(&request.subject) {
            problems.push(format!(
                "subject {:?} is not a scale code (e.g. FA) or an item (e.g. ITEM43)",
                request.subject
            ));
        }
        let today = self.today();
        if request.until < today {
            problems.push(format!("until {} is in the past", request.until));
        } else if request.until > today + chrono::Duration::days(SNOOZE_MAX_DAYS) {
            problems.push(format!(
                "until {} is more than {SNOOZE_MAX_DAYS} days away; snooze again when it ends",
                request.until
            ));
        }
        if request.tier.is_some_and(|tier| tier > SNOOZE_MAX_TIER) {
            problems.push("tier: a snooze holds amber or info; a red signal always comes through".into());
        }
        let reason = request.reason.trim();
        if reason.is_empty() {
            problems.push("give a reason, e.g. \"expected during chemotherapy\"".into());
        } else if reason.chars().count() > 2000 {
            problems.push("the reason is longer than 2000 characters".into());
        }
        if !problems.is_empty() {
            return Err(ClinicError::Invalid { message: "the snooze could not be set".into(), problems });
        }
        // The tier held: as asked, else amber (the most a snooze holds).
        let tier = request.tier.unwrap_or(SNOOZE_MAX_TIER);
        let mut tx = self.db.begin_write().await?;
        let id =
            tx.insert_snooze(patient.id, &request.subject, request.until, tier, reason, staff_id).await?;
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "alert.snooze",
                patient: Some(patient.study_code.clone()),
                entity: "alert_snooze",
                entity_id: format!("{}/{id}", patient.study_code),
                after: Some(json!({ "subject": request.subject, "until": request.until, "tier": tier })),
                reason: Some(reason.to_owned()),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        let row = self.db.snoozes(patient.id).await?.into_iter().find(|row| row.id == id);
        Ok(snooze_view(row.ok_or_else(|| ClinicError::NotFound("the snooze".into()))?))
    }

    pub async fn snoozes(&self, study_id: &str) -> Result<Vec<SnoozeView>, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        Ok(self.db.snoozes(patient.id).await?.into_iter().map(snooze_view).collect())
    }

    /// Ends a snooze now.
    pub async fn end_snooze(
        &self,
        session: &Session,
        study_id: &str,
        id: i64,
    ) -> Result<SnoozeView, ClinicError> {
        let staff_id = session.staff_id()?;
        let patient = self.find_patient(study_id).await?;
        let mut tx = self.db.begin_write().await?;
        if !tx.end_snooze(id, patient.id, staff_id).await? {
            return Err(ClinicError::Conflict(format!(
                "snooze {id} of {} has already ended or does not exist",
                patient.study_code
            )));
        }
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "alert.snooze_end",
                patient: Some(patient.study_code.clone()),
                entity: "alert_snooze",
                entity_id: format!("{}/{id}", patient.study_code),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        let row = self.db.snoozes(patient.id).await?.into_iter().find(|row| row.id == id);
        Ok(snooze_view(row.ok_or_else(|| ClinicError::NotFound("the snooze".into()))?))
    }

    /// Every patient's assessments in state `wanted` today, for the follow-up lists.
    async fn follow_up(&self, wanted: AssessmentState) -> Result<Vec<FollowUpItem>, ClinicError> {
        let today = self.today();
        let reminded = self.reminders_sent().await?;
        let mut out = Vec::new();
        for patient in self.db.patients().await? {
            let name = self.db.identity(patient.id).await?.map(|identity| identity.full_name);
            for status in self.assessments(patient.id, today).await?.0 {
                if status.state != wanted {
                    continue;
                }
                let row = status.row;
                let reminders = reminded.get(&(patient.id, row.key.to_string())).cloned().unwrap_or_default();
                out.push(FollowUpItem {
                    assessment_id: row.id,
                    study_id: patient.study_code.clone(),
                    patient_name: name.clone(),
                    key: row.key,
                    label: row.label,
                    window_start: row.window_start,
                    window_end: row.window_end,
                    days_left: (wanted == AssessmentState::Open).then(|| (row.window_end - today).num_days()),
                    missed_reason: row.missed_reason,
                    missed_note: row.missed_note,
                    reminders_sent: reminders.sent,
                    last_reminded_at: reminders.last_at,
                    last_reminder_failed: reminders.last_failed,
                });
            }
        }
        Ok(out)
    }

    /// Open windows not yet completed, the soonest to close first.
    pub async fn overdue(&self) -> Result<Vec<FollowUpItem>, ClinicError> {
        let mut items = self.follow_up(AssessmentState::Open).await?;
        items.sort_by(|a, b| (a.days_left, &a.study_id).cmp(&(b.days_left, &b.study_id)));
        Ok(items)
    }

    /// Closed windows without a submission; with `all`, also those whose reason is recorded.
    pub async fn missed(&self, all: bool) -> Result<Vec<FollowUpItem>, ClinicError> {
        let mut items = self.follow_up(AssessmentState::Missed).await?;
        if !all {
            items.retain(|item| item.missed_reason.is_none());
        }
        items.sort_by(|a, b| (a.window_end, &a.study_id).cmp(&(b.window_end, &b.study_id)));
        Ok(items)
    }

    /// Why a missed assessment was missed, recorded by the session's nurse.
    pub async fn record_missed_reason(
        &self,
        session: &Session,
        id: i64,
        request: &RecordMissedReason,
    ) -> Result<FollowUpItem, ClinicError> {
        if request.note.chars().count() > 2000 {
            return Err(invalid("the note is longer than 2000 characters"));
        }
        let patient_id = self
            .db
            .assessment_by_id(id)
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no assessment {id}")))?
            .patient_id;
        let status = self
            .assessments(patient_id, self.today())
            .await?
            .0
            .into_iter()
            .find(|status| status.row.id == id)
            .ok_or_else(|| ClinicError::NotFound(format!("there is no assessment {id}")))?;
        if status.state != AssessmentState::Missed {
            return Err(ClinicError::Conflict(format!(
                "assessment {id} is {}, not missed",
                status.state.as_str()
            )));
        }
        let note = request.note.trim();
        let mut tx = self.db.begin_write().await?;
        tx.record_missed_reason(id, request.reason, note).await?;
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "assessment.missed_reason",
                patient: None,
                entity: "assessment",
                entity_id: id.to_string(),
                before: status.row.missed_reason.as_ref().map(|before| json!({ "reason": before })),
                after: Some(json!({ "reason": request.reason })),
                reason: Some(note.to_owned()).filter(|note| !note.is_empty()),
            },
        )
        .await?;
        tx.commit().await?;
        let items = self.follow_up(AssessmentState::Missed).await?;
        items
            .into_iter()
            .find(|item| item.assessment_id == id)
            .ok_or_else(|| ClinicError::NotFound("the assessment".into()))
    }
}
