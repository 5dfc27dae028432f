//! What a patient has beside her forms (docs/api.md): "I need help" (a call request without a
//! form, on her nurse's worklist at once) and her own history (the forms she sent and, where the
//! protocol shows them, some of her scores over time).

use std::collections::BTreeMap;

use chrono::TimeZone;
use qol_shared::Timestamp;
use qol_shared::alerts::{HELP_BUTTON_REQUEST, call_request, sla_deadline};
use qol_shared::api::{HelpReceipt, HelpRequest, MyHistory, PastForm, ScorePoint, ScoreSeries};
use qol_shared::patient_info::higher_is_better;

use super::alerts::Origin;
use super::*;
use crate::storage::HelpRequestRow;

impl Clinic {
    /// The signed-in patient asks to be called. Stored once per client id, in one transaction
    /// with the call request it raises: her call-request card is opened (or joined: a second
    /// request, or a form's "please call me", never makes a second card), as a form's "please
    /// call me" would, with the same tier, service level and e-mail to the on-call addresses;
    /// no submission is made. Answers the receipt and whether it was stored now (`false`: a
    /// retry of one stored).
    pub async fn request_help(
        &self,
        session: &Session,
        request: &HelpRequest,
    ) -> Result<(HelpReceipt, bool), ClinicError> {
        let patient = self.own_patient(session).await?;
        let client_id = request.client_id.as_str();
        // A retry is answered before anything else, with what she was told the first time.
        if let Some(existing) = self.db.help_request_by_client_id(client_id).await? {
            return replay(&patient, &existing).map(|receipt| (receipt, false));
        }
        let now = self.now();
        let received_at = Timestamp::from(now);
        let mut tx = self.db.begin_write().await?;
        // Read again under the chain lock: a concurrent retry may have stored it meanwhile.
        if let Some(existing) = tx.help_request_by_client_id(client_id).await? {
            tx.rollback().await?;
            return replay(&patient, &existing).map(|receipt| (receipt, false));
        }
        let raised = self
            .raise(
                &mut tx,
                &patient,
                &[call_request(HELP_BUTTON_REQUEST)],
                &BTreeMap::new(),
                Origin::HelpRequest { client_id },
                self.protocol().local_date(now),
                &received_at.text(),
            )
            .await?;
        let card_id = raised
            .cards
            .iter()
            .find(|(kind, _)| *kind == CardKind::CallRequest)
            .map(|(_, id)| *id)
            .ok_or_else(|| StorageError::Corrupt("a help request raised no call-request card".into()))?;
        let sla_from = tx
            .card_sla_from(card_id)
            .await?
            .ok_or_else(|| StorageError::Corrupt(format!("alert card {card_id} is gone")))?;
        // She is told a time still to come: when her card's service level has already run out
        // (an earlier request nobody has answered yet), the clock for what she is told starts
        // from this request; the worklist still shows the card past its service level.
        let card_deadline = self.call_back_by(&sla_from);
        let call_back_by =
            if card_deadline.instant() > now { card_deadline } else { self.call_back_by(&received_at) };
        let id = tx.insert_help_request(patient.id, client_id, &received_at, card_id, &call_back_by).await?;
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "help_request.store",
                entity: "help_request",
                patient: Some(patient.study_code.clone()),
                entity_id: id.to_string(),
                after: Some(json!({
                    "client_id": client_id, "card": card_id, "call_back_by": call_back_by.text(),
                    "alerts": raised.audit,
                })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        if raised.emails_queued > 0 {
            self.on_call.wake.wake();
        }
        Ok((HelpReceipt { received_at, call_back_by }, true))
    }

    /// The end of the service level of a card whose clock started at `sla_from`: working days in
    /// the study's time zone.
    fn call_back_by(&self, sla_from: &Timestamp) -> Timestamp {
        let zone = self.protocol().time_zone;
        let local = sla_from.instant().with_timezone(&zone).naive_local();
        let deadline = sla_deadline(local, self.protocol().alerts.sla_working_days);
        // A local time a clock change skipped: the hour after.
        let instant = zone
            .from_local_datetime(&deadline)
            .earliest()
            .or_else(|| zone.from_local_datetime(&(deadline + chrono::Duration::hours(1))).earliest())
            .map_or_else(|| Utc.from_utc_datetime(&deadline), |at| at.to_utc());
        Timestamp::from(instant)
    }

    /// The signed-in patient's history: the forms she sent, newest first (a corrected form once,
    /// as its latest version), and the scores the protocol's `patient_view` shows her, each
    /// oldest first, with a point for every form that has a value for the scale.
    pub async fn my_history(&self, session: &Session) -> Result<MyHistory, ClinicError> {
        let patient = self.own_patient(session).await?;
        let mut latest: BTreeMap<i64, crate::storage::SentForm> = BTreeMap::new();
        for form in self.db.sent_forms(patient.id).await? {
            match latest.get(&form.assessment_id) {
                Some(kept) if kept.version >= form.version => {}
                _ => {
                    latest.insert(form.assessment_id, form);
                }
            }
        }
        let mut sent: Vec<crate::storage::SentForm> = latest.into_values().collect();
        // Oldest first, as the scores are drawn.
        sent.sort_by(|a, b| a.completed_at.cmp(&b.completed_at).then(a.submission_id.cmp(&b.submission_id)));
        let protocol = self.protocol();
        let shown = protocol.scores_shown_to_patients();
        let mut scores: Vec<ScoreSeries> = shown
            .iter()
            .map(|code| ScoreSeries {
                scale: code.clone(),
                higher_is_better: higher_is_better(code).unwrap_or(true),
                points: Vec::new(),
            })
            .collect();
        if !scores.is_empty() {
            for form in &sent {
                let completed_on = self.stored_date(&form.completed_at);
                let stored = self.db.scores_of(form.submission_id).await?;
                for series in &mut scores {
                    if let Some(value) = stored.iter().find_map(|instrument| instrument.score(&series.scale))
                    {
                        series.points.push(ScorePoint { completed_on, value });
                    }
                }
            }
        }
        let forms = sent
            .iter()
            .rev()
            .map(|form| PastForm {
                key: form.key.clone(),
                label: form.label.clone(),
                labels: self.protocol().labels_of(&form.code, form.unscheduled),
                completed_on: self.stored_date(&form.completed_at),
                received_at: form.received_at,
                unscheduled: form.unscheduled,
                corrected: form.version > 1,
            })
            .collect();
        Ok(MyHistory { forms, scores })
    }
}

/// The receipt of a help request already stored; refused when the client id is another
/// patient's.
fn replay(patient: &PatientRow, existing: &HelpRequestRow) -> Result<HelpReceipt, ClinicError> {
    if existing.patient_id != patient.id {
        return Err(ClinicError::Conflict(
            "this client_id was already used for another request; generate a new one".into(),
        ));
    }
    Ok(HelpReceipt { received_at: existing.received_at, call_back_by: existing.call_back_by })
}
