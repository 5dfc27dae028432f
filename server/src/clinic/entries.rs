//! Forms staff enter on a patient's behalf (a paper form transcribed, a telephone or clinic
//! interview, a proxy's answers) and corrections signed with the staff member's password. Each is
//! a new submission row, validated, scored and alerted as the phone's forms are, stored in one
//! transaction with its audit entry; a stored row is never changed (docs/api.md, "Staff entry and
//! corrections").

use chrono::TimeZone;
use std::collections::BTreeMap;

use qol_shared::answers::RawResponse;
use qol_shared::api::{
    CompletionMode, CorrectionRequest, PaperEntries, PaperEntryBy, PaperEntryState, Role, StaffEntryRequest,
    SubmissionReceipt,
};
use qol_shared::{ClientId, Timestamp};

use super::alerts::{Origin, latest_values};
use super::submissions::NewForm;
use super::*;
use crate::auth::Hasher;
use crate::storage::{AssessmentRow, NewCorrection};

/// The longest paper form reference kept.
pub const MAX_FORM_REFERENCE: usize = 64;

/// A refusal of one or more fields: each problem starts with its field's name.
fn fields(message: &str, problems: Vec<String>) -> ClinicError {
    ClinicError::Invalid { message: format!("{message}: {}", problems.join("; ")), problems }
}

impl Clinic {
    /// Staff enter a questionnaire for one of her scheduled assessments. The day she completed it
    /// must fall in the assessment's window; it may be entered later than the phone's grace
    /// period allows (a paper form comes back by post). A retry with the same client id and
    /// content gets the first receipt (`false`).
    pub async fn enter_form(
        &self,
        session: &Session,
        study_id: &str,
        request: &StaffEntryRequest,
    ) -> Result<Entered, ClinicError> {
        session.require(&[Role::Nurse, Role::Admin])?;
        let patient = self.find_patient(study_id).await?;
        let now = self.now();
        let today = self.protocol().local_date(now);
        let mut problems = Vec::new();
        if request.mode == CompletionMode::SelfReport {
            problems.push(
                "mode: staff enter paper, telephone_interview, clinic_interview or proxy; self is the patient's own app"
                    .to_owned(),
            );
        }
        let reference = request.form_reference.as_deref().map(str::trim).filter(|text| !text.is_empty());
        match reference {
            None if request.mode == CompletionMode::Paper => problems
                .push("form_reference: give the paper form's reference (its number or barcode)".into()),
            Some(text) if text.chars().count() > MAX_FORM_REFERENCE || text.chars().any(char::is_control) => {
                problems.push(format!("form_reference: at most {MAX_FORM_REFERENCE} characters, on one line"))
            }
            _ => {}
        }
        if request.completed_on > today {
            problems.push(format!("completed_on: {} is after today ({today})", request.completed_on));
        }
        if !problems.is_empty() {
            return Err(fields("the form was not stored", problems));
        }
        let client_id = request.client_id.as_str().to_owned();
        let content_hash = entry_hash(request, reference);
        if let Some(existing) = self.db.submission_by_client_id(&client_id).await? {
            return self
                .replay(&patient, &existing, &content_hash)
                .await
                .map(|receipt| Entered::Stored(receipt, false));
        }
        // A paper entry sent again (double entry): where the form stands now.
        if let Some(assessment_id) = self.db.paper_entry_assessment(&client_id).await?
            && let Some(assessment) = self.db.assessment_by_id(assessment_id).await?
        {
            return Ok(Entered::Pending(self.paper_entry_state(&assessment).await?));
        }

        // The schedule brought in step first, as the phone's path does.
        let (_, events) = self.events(patient.id).await?;
        self.sync_schedule(patient.id, &events, today).await?;
        let (statuses, events) = self.assessments(patient.id, today).await?;
        let status = statuses
            .into_iter()
            .find(|status| status.row.id == request.assessment_id && !status.row.unscheduled)
            .ok_or_else(|| {
                ClinicError::NotFound(format!(
                    "assessment_id: {} is not one of {}'s scheduled assessments",
                    request.assessment_id, patient.study_code
                ))
            })?;
        let assessment = status.row;
        if status.state == AssessmentState::NotApplicable {
            return Err(refused(
                ErrorCode::StudyEnded,
                "assessment_id: this assessment no longer applies (she went off study before it)",
            ));
        }
        if let Some((off, _)) = events.off_study()
            && request.completed_on >= off
        {
            return Err(refused(
                ErrorCode::StudyEnded,
                format!("completed_on: she went off study on {off}; a form completed since does not count"),
            ));
        }
        if !(assessment.window_start..=assessment.window_end).contains(&request.completed_on) {
            return Err(ClinicError::Refused {
                code: ErrorCode::WindowClosed,
                message: format!(
                    "completed_on: {} is outside the window of {} ({} to {}); the form was not stored",
                    request.completed_on, assessment.label, assessment.window_start, assessment.window_end
                ),
                problems: vec![format!(
                    "completed_on: {} to {}",
                    assessment.window_start, assessment.window_end
                )],
            });
        }
        let timeliness =
            if today <= assessment.window_end { Timeliness::OnTime } else { Timeliness::LateDelivery };
        let (answers, scores) = parse_and_score(&assessment.instruments, &request.answers)?;
        let form = NewForm {
            client_id: &client_id,
            content_hash: &content_hash,
            assessment: Some(&assessment),
            timeliness,
            completed_at: self.midday(request.completed_on),
            language: request.language,
            call_me: request.call_me,
            mode: request.mode,
            form_reference: reference,
            answers: &answers,
            scores,
        };
        if request.mode == CompletionMode::Paper && self.protocol().paper_double_entry {
            if assessment.received_at.is_some() {
                return Err(refused(ErrorCode::AlreadySent, "this questionnaire was already sent"));
            }
            return self.double_entry(session, &patient, &assessment, request, form, today, now).await;
        }
        let (receipt, created) = self.store_form(&session.actor(), &patient, form, today, now).await?;
        Ok(Entered::Stored(receipt, created))
    }

    /// Midday of a day in the study's time zone: the time a form completed on that day is given
    /// when only its day is known, so that it reads back as that day.
    fn midday(&self, day: NaiveDate) -> Timestamp {
        let zone = self.protocol().time_zone;
        let noon = day.and_hms_opt(12, 0, 0).unwrap_or_default();
        zone.from_local_datetime(&noon)
            .earliest()
            .map_or_else(|| Timestamp::from(Utc.from_utc_datetime(&noon)), |at| Timestamp::from(at.to_utc()))
    }

    /// A stored form corrected: a new version with every answer, the reason and what the
    /// signature means, signed with the staff member's password. The corrected version is kept
    /// as it was; the new one is scored again and its alerts raised as a new form's are (a call
    /// request is not asked again).
    pub async fn correct_submission(
        &self,
        hasher: &Hasher,
        session: &Session,
        submission_id: i64,
        request: &CorrectionRequest,
    ) -> Result<SubmissionReceipt, ClinicError> {
        session.require(&[Role::Nurse, Role::Admin])?;
        let corrected = self
            .db
            .submission(submission_id)
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no submission {submission_id}")))?;
        let patient = self
            .db
            .patient_by_id(corrected.patient_id)
            .await?
            .ok_or_else(|| StorageError::Corrupt(format!("submission {submission_id} has no patient")))?;
        let all = self.db.submissions_of(patient.id).await?;
        let current = all
            .iter()
            .filter(|s| s.assessment_id == corrected.assessment_id)
            .max_by_key(|s| s.version)
            .cloned()
            .unwrap_or_else(|| corrected.clone());
        if current.id != corrected.id || request.version != current.version {
            return Err(ClinicError::Conflict(format!(
                "version: version {} of this form is the current one; correct that version (reload the page)",
                current.version
            )));
        }
        let reason = request.reason.trim();
        let mut problems: Vec<String> =
            reason_problem(reason, "say why the answers are corrected").into_iter().collect();
        if request.password.is_empty() {
            problems.push("password: enter your password to sign the correction".to_owned());
        }
        if !problems.is_empty() {
            return Err(fields("the correction was not stored", problems));
        }
        let assessment =
            self.db.assessment_ever_scheduled(patient.id, current.assessment_id).await?.ok_or_else(|| {
                StorageError::Corrupt(format!("submission {} has no assessment", current.id))
            })?;
        let (answers, scores) = parse_and_score(&assessment.instruments, &request.answers)?;
        let stored_answers: Vec<RawAnswer> = answers.iter().flat_map(Answers::to_raw).collect();
        let before_answers = self.db.answers_of(current.id).await?;
        let changed = changed_items(&before_answers, &stored_answers);
        if changed.is_empty() {
            return Err(fields(
                "the correction was not stored",
                vec![format!("answers: they are the answers of version {} already", current.version)],
            ));
        }
        // The signature is checked last, once everything else is known to be right; a right
        // password ends the check at once, so a correction refused after it (signed by someone
        // else a moment earlier) leaves nothing counted against the signer.
        let key = self.check_signature(hasher, session, &request.password).await?;
        self.db.clear_sign_in(&key).await?;

        // The alert rules, as for a new form, for her newest form only (an older form corrected
        // says nothing of how she is now, and the cards' latest values stay the newest form's);
        // and only what is new or worse than the corrected version raised (nothing the nurse
        // already handled comes back), never a call request again.
        let history =
            self.db.alert_history(patient.id, current.completed_at, Some(current.assessment_id)).await?;
        let signals = if history.newest {
            let rules = AlertRules::from(&self.protocol().alerts);
            let compared =
                History { baseline: history.baseline.as_deref(), previous: history.previous.as_deref() };
            let (old_answers, old_scores) = parse_and_score(&assessment.instruments, &before_answers)?;
            let before = rules.evaluate(&old_scores, &old_answers, compared, false);
            let mut signals = rules.evaluate(&scores, &answers, compared, false);
            signals.retain(|signal| {
                before
                    .iter()
                    .find(|old| old.subject == signal.subject)
                    .is_none_or(|old| signal.tier > old.tier)
            });
            signals
        } else {
            Vec::new()
        };
        let latest = if history.newest { latest_values(&scores, &answers) } else { Default::default() };

        let now = self.now();
        let today = self.protocol().local_date(now);
        let received_at = Timestamp::from(now);
        let actor = session.actor();
        let client_id = ClientId::parse(&uuid::Uuid::new_v4().to_string())
            .map_err(|_| StorageError::Corrupt("a new client id".into()))?;
        let content_hash = hex::encode(Sha256::digest(
            json!({ "corrects": current.id, "answers": stored_answers }).to_string().as_bytes(),
        ));
        let mut tx = self.db.begin_write().await?;
        // Read again under the chain lock: another correction may have been signed meanwhile.
        if tx.current_version_of(current.assessment_id).await?.map(|s| s.id) != Some(current.id) {
            tx.rollback().await?;
            return Err(ClinicError::Conflict(
                "version: this form was corrected by someone else a moment ago; reload the page".into(),
            ));
        }
        let new_id = tx
            .insert_submission(&NewSubmission {
                client_id: client_id.as_str(),
                content_hash: &content_hash,
                patient_id: patient.id,
                assessment_id: current.assessment_id,
                completed_at: current.completed_at,
                received_at,
                timeliness: current.timeliness,
                language: current.language,
                call_me: current.call_me,
                submitted_by: &actor.name,
                mode: current.mode,
                form_reference: current.form_reference.as_deref(),
                correction: Some(NewCorrection { corrects: &current, reason, meaning: request.meaning }),
                answers: &stored_answers,
                scores: &scores,
            })
            .await?
            // The current version was read under the chain lock and the client id is new.
            .ok_or_else(|| {
                StorageError::Corrupt(format!("the correction of form {} met a taken key", current.id))
            })?;
        let raised = self
            .raise(&mut tx, &patient, &signals, &latest, Origin::Report(new_id), today, &received_at.text())
            .await?;
        // `changed` holds (item, answer before, answer after).
        let item_values = |after: bool| {
            changed
                .iter()
                .map(|(item, before_answer, after_answer)| {
                    json!({ "item": item, "answer": if after { after_answer } else { before_answer } })
                })
                .collect::<Vec<_>>()
        };
        tx.audit(
            &actor,
            AuditEntry {
                action: "submission.correct",
                entity: "submission",
                patient: Some(patient.study_code.clone()),
                entity_id: new_id.to_string(),
                before: Some(json!({
                    "submission_id": current.id, "version": current.version,
                    "items": item_values(false),
                })),
                after: Some(json!({
                    "submission_id": new_id, "version": current.version + 1, "patient": patient.study_code,
                    "items": item_values(true),
                    "meaning": request.meaning.as_str(), "signed": "password re-entered", "alerts": raised.audit,
                    "alert_rules": if history.newest { "applied" } else { "not applied: a form completed later is stored" },
                })),
                reason: Some(reason.to_owned()),
            },
        )
        .await?;
        tx.commit().await?;
        if raised.emails_queued > 0 {
            self.on_call.wake.wake();
        }
        Ok(SubmissionReceipt {
            submission_id: new_id,
            client_id,
            assessment_id: current.assessment_id,
            received_at,
            timeliness: current.timeliness,
            scores,
        })
    }
}

/// The items whose answer differs between two versions: (item, before, after), each answer as
/// its code, `not_applicable`, or `None` when skipped.
fn changed_items(before: &[RawAnswer], after: &[RawAnswer]) -> Vec<(i64, Option<String>, Option<String>)> {
    let text = |list: &[RawAnswer], item: i64| {
        list.iter().find(|answer| answer.item == item).map(|answer| match answer.response {
            qol_shared::answers::RawResponse::Code(code) => code.to_string(),
            qol_shared::answers::RawResponse::Marker(_) => "not_applicable".to_owned(),
        })
    };
    let mut items: Vec<i64> = before.iter().chain(after).map(|answer| answer.item).collect();
    items.sort_unstable();
    items.dedup();
    items
        .into_iter()
        .map(|item| (item, text(before, item), text(after, item)))
        .filter(|(_, was, now)| was != now)
        .collect()
}

/// SHA-256 over a staff entry's content (answers sorted by item), so a retry is recognised.
fn entry_hash(request: &StaffEntryRequest, reference: Option<&str>) -> String {
    let mut answers = request.answers.clone();
    answers.sort_by_key(|answer| answer.item);
    let canonical = json!({
        "entry": "staff",
        "assessment_id": request.assessment_id,
        "mode": request.mode.as_str(),
        "completed_on": request.completed_on.to_string(),
        "form_reference": reference,
        "language": request.language,
        "answers": answers,
        "call_me": request.call_me,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_items_name_each_difference_once() {
        let before = [RawAnswer::code(1, 2), RawAnswer::code(2, 3), RawAnswer::not_applicable(50)];
        let after = [RawAnswer::code(1, 2), RawAnswer::code(2, 4), RawAnswer::code(3, 1)];
        assert_eq!(
            changed_items(&before, &after),
            vec![
                (2, Some("3".into()), Some("4".into())),
                (3, None, Some("1".into())),
                (50, Some("not_applicable".into()), None),
            ]
        );
        assert!(changed_items(&before, &before).is_empty());
    }
}

/// What an entry of a form by staff came to: stored (a submission, and whether it is new), or a
/// paper entry that does not count yet (double entry).
#[derive(Debug)]
pub enum Entered {
    Stored(SubmissionReceipt, bool),
    Pending(PaperEntries),
}

/// What two entries of a paper form are compared on.
#[derive(Debug, Clone, PartialEq)]
struct EntryContent {
    completed_on: NaiveDate,
    form_reference: Option<String>,
    language: qol_shared::Language,
    call_me: bool,
    answers: BTreeMap<i64, RawResponse>,
}

impl EntryContent {
    fn of(request: &StaffEntryRequest) -> EntryContent {
        EntryContent {
            completed_on: request.completed_on,
            form_reference: request
                .form_reference
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned),
            language: request.language,
            call_me: request.call_me,
            answers: request.answers.iter().map(|answer| (answer.item, answer.response)).collect(),
        }
    }

    /// What `self` and `other` disagree on, each named as a person reads it (`item 12`,
    /// `completed_on`), items in order.
    fn differences(&self, other: &EntryContent) -> Vec<String> {
        let mut out = Vec::new();
        if self.completed_on != other.completed_on {
            out.push("completed_on".to_owned());
        }
        if self.form_reference != other.form_reference {
            out.push("form_reference".to_owned());
        }
        if self.language != other.language {
            out.push("language".to_owned());
        }
        if self.call_me != other.call_me {
            out.push("call_me".to_owned());
        }
        let items: std::collections::BTreeSet<i64> =
            self.answers.keys().chain(other.answers.keys()).copied().collect();
        out.extend(
            items
                .into_iter()
                .filter(|item| self.answers.get(item) != other.answers.get(item))
                .map(|item| format!("item {item}")),
        );
        out
    }
}

fn stored_entry(row: &crate::storage::PaperEntryRow) -> Result<StaffEntryRequest, ClinicError> {
    serde_json::from_str(&row.request_json)
        .map_err(|error| ClinicError::Storage(StorageError::Corrupt(format!("paper entry: {error}"))))
}

impl Clinic {
    /// A paper form's entries as staff see them: who entered each and when, and, only once both
    /// are in and disagree, what they entered (a second entry is made blind).
    pub async fn paper_entries(
        &self,
        session: &Session,
        assessment_id: i64,
    ) -> Result<PaperEntries, ClinicError> {
        session.require(&[Role::Nurse, Role::Admin])?;
        let assessment = self
            .db
            .assessment_by_id(assessment_id)
            .await?
            .ok_or_else(|| ClinicError::NotFound(format!("there is no assessment {assessment_id}")))?;
        self.paper_entry_state(&assessment).await
    }

    async fn paper_entry_state(&self, assessment: &AssessmentRow) -> Result<PaperEntries, ClinicError> {
        let rows = self.db.paper_entries(assessment.id).await?;
        let entered = rows.iter().map(stored_entry).collect::<Result<Vec<_>, _>>()?;
        let differences = match entered.as_slice() {
            [first, second] => EntryContent::of(first).differences(&EntryContent::of(second)),
            _ => Vec::new(),
        };
        let state = if assessment.received_at.is_some() {
            PaperEntryState::Counted
        } else {
            match rows.len() {
                0 => PaperEntryState::None,
                1 => PaperEntryState::AwaitingSecondEntry,
                _ if differences.is_empty() => PaperEntryState::Agreed,
                _ => PaperEntryState::EntriesDiffer,
            }
        };
        let entries = rows
            .iter()
            .map(|row| {
                Ok(PaperEntryBy {
                    entered_by: row.entered_by.clone(),
                    entered_at: crate::storage::stored_timestamp(&row.entered_at)?,
                })
            })
            .collect::<Result<Vec<_>, ClinicError>>()?;
        let show = matches!(state, PaperEntryState::EntriesDiffer | PaperEntryState::Agreed);
        Ok(PaperEntries {
            double_entry: self.protocol().paper_double_entry,
            state,
            entries,
            differences,
            entered: if show { entered } else { Vec::new() },
        })
    }

    /// A paper form under double entry: the first entry is kept and counts nothing; the second,
    /// by another staff member, is compared with it: the form counts when they agree. When they
    /// disagree, a later entry resolves them: it must keep every value they agree on.
    #[allow(clippy::too_many_arguments)]
    async fn double_entry(
        &self,
        session: &Session,
        patient: &PatientRow,
        assessment: &AssessmentRow,
        request: &StaffEntryRequest,
        form: NewForm<'_>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Entered, ClinicError> {
        let actor = session.actor();
        let rows = self.db.paper_entries(assessment.id).await?;
        let this = EntryContent::of(request);
        let request_json = serde_json::to_string(request)
            .map_err(|error| ClinicError::Storage(StorageError::Corrupt(format!("paper entry: {error}"))))?;
        let entry_number = rows.len() as i64 + 1;
        if rows.len() < 2 {
            if rows.first().is_some_and(|first| first.entered_by == actor.name) {
                return Err(ClinicError::Conflict(format!(
                    "the second entry of a paper form is made by another staff member: you made the first on {}",
                    rows[0].entered_at
                )));
            }
            let differences = match rows.first() {
                Some(first) => EntryContent::of(&stored_entry(first)?).differences(&this),
                None => Vec::new(),
            };
            let mut tx = self.db.begin_write().await?;
            let stored = tx
                .insert_paper_entry(
                    assessment.id,
                    entry_number,
                    request.client_id.as_str(),
                    &request_json,
                    &actor.name,
                )
                .await;
            match stored {
                Ok(()) => {}
                Err(error) if error.is_unique_violation() => {
                    tx.rollback().await?;
                    return Err(ClinicError::Conflict(
                        "another entry of this paper form was stored a moment ago; reload the page".into(),
                    ));
                }
                Err(error) => return Err(error.into()),
            }
            tx.audit(
                &actor,
                AuditEntry {
                    action: if entry_number == 1 { "paper_entry.first" } else { "paper_entry.second" },
                    entity: "assessment",
                    patient: Some(patient.study_code.clone()),
                    entity_id: assessment.id.to_string(),
                    after: Some(json!({
                        "entry": entry_number, "form_reference": this.form_reference,
                        "differences": differences, "agree": entry_number == 2 && differences.is_empty(),
                    })),
                    ..AuditEntry::default()
                },
            )
            .await?;
            tx.commit().await?;
            if entry_number == 1 || !differences.is_empty() {
                return Ok(Entered::Pending(self.paper_entry_state(assessment).await?));
            }
            let (receipt, created) = self.store_form(&actor, patient, form, today, now).await?;
            return Ok(Entered::Stored(receipt, created));
        }
        // Both entries are in: this one resolves what they disagree on and keeps the rest.
        let first = EntryContent::of(&stored_entry(&rows[0])?);
        let second = EntryContent::of(&stored_entry(&rows[1])?);
        let disputed = first.differences(&second);
        let changed: Vec<String> =
            first.differences(&this).into_iter().filter(|field| !disputed.contains(field)).collect();
        if !changed.is_empty() {
            let problems = changed
                .iter()
                .map(|field| {
                    format!(
                        "{field}: both entries agree on it; a resolution changes only what they disagree on"
                    )
                })
                .collect();
            return Err(fields("the resolution was not stored", problems));
        }
        let (receipt, created) = self.store_form(&actor, patient, form, today, now).await?;
        if created {
            self.db
                .audit_alone(
                    &actor,
                    AuditEntry {
                        action: "paper_entry.resolve",
                        entity: "assessment",
                        patient: Some(patient.study_code.clone()),
                        entity_id: assessment.id.to_string(),
                        after: Some(json!({
                            "submission_id": receipt.submission_id, "resolved": disputed,
                            "entered_by": [rows[0].entered_by, rows[1].entered_by],
                        })),
                        ..AuditEntry::default()
                    },
                )
                .await?;
        }
        Ok(Entered::Stored(receipt, created))
    }
}
