//! Accepting a questionnaire: validated, scored, its alerts raised and its e-mails queued, in one
//! transaction; a retry answered with the original receipt. And the submissions as staff and the
//! patient read them.

use qol_shared::api::{CompletionMode, CorrectionView, SubmissionView};
use qol_shared::schedule::UNSCHEDULED_LABEL;
use qol_shared::{ClientId, Timestamp};

use super::alerts::{Origin, latest_values};
use super::*;

impl Clinic {
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
        // The client id (a random UUID), the completion time and the language were checked as the
        // request was read (their types).
        let client_id = request.client_id.as_str().to_owned();
        let completed_at = request.completed_at.instant();
        if completed_at > now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES) {
            return Err(invalid("completed_at is in the future; check the phone's clock"));
        }
        let content_hash = content_hash(request, &completed_at);

        // A retry of something already stored is answered before anything else is checked, so a
        // phone that was offline gets its receipt even after the window has closed.
        if let Some(existing) = self.db.submission_by_client_id(&client_id).await? {
            return self.replay(patient, &existing, &content_hash).await.map(|receipt| (receipt, false));
        }

        let today = self.protocol().local_date(now);
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
                    && self.protocol().local_date(completed_at) >= off
                {
                    return Err(refused(
                        ErrorCode::StudyEnded,
                        "this questionnaire no longer applies: the study has ended for you",
                    ));
                }
                let timeliness = check_window(
                    &assessment.as_scheduled(),
                    self.protocol().local_date(completed_at),
                    today,
                    self.protocol().late_delivery_grace_days,
                )
                .map_err(|refusal| {
                    refused(
                        ErrorCode::WindowClosed,
                        match refusal {
                            WindowRefusal::NotOpenYet { .. } | WindowRefusal::Closed { .. } => {
                                refusal.to_string()
                            }
                        },
                    )
                })?;
                (Some(assessment), timeliness)
            }
            None => {
                if events.off_study().is_some() {
                    return Err(refused(
                        ErrorCode::StudyEnded,
                        "the study has ended for you; no more questionnaires are needed",
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

        let form = NewForm {
            client_id: &client_id,
            content_hash: &content_hash,
            assessment: assessment.as_ref(),
            timeliness,
            completed_at: request.completed_at,
            language: request.language,
            call_me: request.call_me,
            mode: CompletionMode::SelfReport,
            form_reference: None,
            answers: &answers,
            scores,
        };
        self.store_form(actor, patient, form, today, now).await
    }

    /// Stores a new form (the phone's or one staff entered): its answers, scores, alerts and
    /// audit entry in one transaction. `true`: newly stored; a retry gets its first receipt.
    pub(super) async fn store_form(
        &self,
        actor: &Actor,
        patient: &PatientRow,
        form: NewForm<'_>,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(SubmissionReceipt, bool), ClinicError> {
        let NewForm {
            client_id,
            content_hash,
            assessment,
            timeliness,
            completed_at,
            language,
            call_me,
            mode,
            form_reference,
            answers,
            scores,
        } = form;
        let history = self.db.alert_history(patient.id, completed_at, None).await?;
        // A form staff enter after a newer one arrived (a paper form back by post) is stored and
        // scored, but raises no alert: her newer form says how she is now, and the cards' latest
        // values stay that form's.
        let alerting = mode == CompletionMode::SelfReport || history.newest;
        let signals = if alerting {
            AlertRules::from(&self.protocol().alerts).evaluate(
                &scores,
                answers,
                History { baseline: history.baseline.as_deref(), previous: history.previous.as_deref() },
                call_me,
            )
        } else {
            Vec::new()
        };

        let received_at = Timestamp::from(now);
        // On PostgreSQL the form's rows go in before the chain lock (their unique keys settle a
        // race; see `storage::audit`), so other writers wait only for her cards and the audit.
        let mut tx = self.db.begin_write_deferred().await?;
        let assessment_id = match assessment {
            Some(row) => row.id,
            None => {
                tx.insert_unscheduled_assessment(
                    patient.id,
                    UNSCHEDULED_LABEL,
                    today,
                    self.protocol_version(),
                )
                .await?
            }
        };
        let stored_answers: Vec<RawAnswer> = answers.iter().flat_map(Answers::to_raw).collect();
        let inserted = tx
            .insert_submission(&NewSubmission {
                client_id,
                content_hash,
                patient_id: patient.id,
                assessment_id,
                completed_at,
                received_at,
                timeliness,
                language,
                call_me,
                submitted_by: &actor.name,
                mode,
                form_reference,
                correction: None,
                answers: &stored_answers,
                scores: &scores,
            })
            .await?;
        // Nothing inserted: a concurrent retry stored it meanwhile, or another form its
        // assessment (the unique keys said so in the insert's round trip, after waiting for the
        // rival's commit if it had not committed yet).
        let Some(submission_id) = inserted else {
            let stored = tx.already_stored(client_id, Some(assessment_id)).await?;
            drop(tx);
            if stored.client_id {
                // Committed by its rival, so read outside the transaction.
                let existing = self.db.submission_by_client_id(client_id).await?.ok_or_else(|| {
                    StorageError::Corrupt(format!("the form {client_id:?} was stored, then not found"))
                })?;
                return self.replay(patient, &existing, content_hash).await.map(|receipt| (receipt, false));
            }
            if stored.assessment {
                return Err(refused(ErrorCode::AlreadySent, "this questionnaire was already sent"));
            }
            return Err(StorageError::Corrupt(format!(
                "the form {client_id:?} was refused a key no form holds"
            ))
            .into());
        };
        // Her cards and snoozes are read, and the cards written, under the chain lock.
        tx.lock_chain().await?;
        let latest = if alerting { latest_values(&scores, answers) } else { Default::default() };
        let raised = self
            .raise(
                &mut tx,
                patient,
                &signals,
                &latest,
                Origin::Report(submission_id),
                today,
                &received_at.text(),
            )
            .await?;
        let (alerts_raised, emails_queued) = (raised.audit, raised.emails_queued);
        tx.audit(
            actor,
            AuditEntry {
                action: "submission.store",
                entity: "submission",
                patient: Some(patient.study_code.clone()),
                entity_id: submission_id.to_string(),
                after: Some(json!({
                    "client_id": client_id, "assessment_id": assessment_id, "timeliness": timeliness,
                    "items": stored_answers.len(), "call_me": call_me, "alerts": alerts_raised,
                    "mode": mode.as_str(), "form_reference": form_reference,
                    "alert_rules": if alerting { "applied" } else { "not applied: a form completed later is stored" },
                })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        if emails_queued > 0 {
            self.on_call.wake.wake();
        }
        let receipt = SubmissionReceipt {
            submission_id,
            client_id: ClientId::parse(client_id)
                .map_err(|_| StorageError::Corrupt(format!("client id {client_id:?}")))?,
            assessment_id,
            received_at,
            timeliness,
            scores,
        };
        Ok((receipt, true))
    }

    pub(super) async fn replay(
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
            client_id: ClientId::parse(&existing.client_id)
                .map_err(|_| StorageError::Corrupt(format!("client id {:?}", existing.client_id)))?,
            assessment_id: existing.assessment_id,
            received_at: existing.received_at,
            timeliness: existing.timeliness,
            scores: self.db.scores_of(existing.id).await?,
        })
    }
}

/// A new form to store, checked and scored.
pub(super) struct NewForm<'a> {
    pub client_id: &'a str,
    pub content_hash: &'a str,
    /// `None`: an unscheduled report (its assessment is made as it is stored).
    pub assessment: Option<&'a AssessmentRow>,
    pub timeliness: Timeliness,
    pub completed_at: Timestamp,
    pub language: qol_shared::Language,
    pub call_me: bool,
    pub mode: CompletionMode,
    pub form_reference: Option<&'a str>,
    pub answers: &'a [Answers],
    pub scores: Vec<Scores>,
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
            Some((_, list)) => list.push(*answer),
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
        return Err(ClinicError::Refused {
            code: ErrorCode::AnswersInvalid,
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
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

impl Clinic {
    /// A patient's submissions with answers and scores; dates only with `dates`.
    async fn submission_views_of(
        &self,
        patient: &PatientRow,
        dates: Option<super::patients::Dates>,
        staff: Option<super::IdentityAccess>,
    ) -> Result<Vec<SubmissionView>, ClinicError> {
        let (_, events) = self.events(patient.id).await?;
        let mut out = Vec::new();
        let all = self.db.submissions_of(patient.id).await?;
        let superseded: std::collections::HashSet<i64> = all.iter().filter_map(|s| s.corrects_id).collect();
        let versions: std::collections::HashMap<i64, i64> = all.iter().map(|s| (s.id, s.version)).collect();
        for stored in all.iter() {
            let completed_on = self.protocol().local_date(stored.completed_at.instant());
            out.push(SubmissionView {
                id: stored.id,
                assessment_id: stored.assessment_id,
                assessment_key: stored.assessment_key.clone(),
                version: stored.version,
                timeliness: stored.timeliness,
                completed_at: dates.map(|_| stored.completed_at),
                received_at: dates.map(|_| stored.received_at),
                completed_study_day: Clinic::study_day(&events, completed_on),
                language: stored.language,
                call_me: stored.call_me,
                mode: stored.mode,
                // Who entered or signed, the paper's number and a correction's reason are for the
                // study team: free text and staff names are neither for research nor for her.
                form_reference: staff.and(stored.form_reference.clone()),
                entered_by: staff
                    .filter(|_| stored.mode != CompletionMode::SelfReport && stored.corrects_id.is_none())
                    .map(|_| stored.submitted_by.clone()),
                current: !superseded.contains(&stored.id),
                correction: match (stored.corrects_id, stored.signature_meaning) {
                    (Some(corrects), Some(meaning)) => Some(CorrectionView {
                        corrects: versions.get(&corrects).copied().unwrap_or(stored.version - 1),
                        meaning,
                        reason: staff.and(stored.correction_reason.clone()),
                        signed_by: staff.map(|_| stored.submitted_by.clone()),
                        signed_at: staff.map(|_| stored.received_at),
                    }),
                    _ => None,
                },
                answers: self.db.answers_of(stored.id).await?,
                scores: self.db.scores_of(stored.id).await?,
            });
        }
        Ok(out)
    }

    /// A patient's submissions as the session may see them (research: study days only).
    pub async fn submission_views(
        &self,
        session: &Session,
        study_id: &str,
    ) -> Result<Vec<SubmissionView>, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        self.submission_views_of(
            &patient,
            super::patients::Dates::for_session(session),
            session.identity_access(),
        )
        .await
    }

    /// The signed-in patient's own submissions.
    pub async fn my_submissions(&self, session: &Session) -> Result<Vec<SubmissionView>, ClinicError> {
        let patient = self.own_patient(session).await?;
        self.submission_views_of(&patient, super::patients::Dates::for_session(session), None).await
    }

    /// The signed-in patient sends a questionnaire, received now. `true`: newly stored.
    pub async fn submit_mine(
        &self,
        session: &Session,
        request: &SubmissionRequest,
    ) -> Result<(SubmissionReceipt, bool), ClinicError> {
        let patient = self.own_patient(session).await?;
        self.submit(&session.actor(), &patient, request, self.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_split_by_instrument_and_every_problem_is_reported() {
        let both = [InstrumentId::QlqC30, InstrumentId::QlqCx24];
        let (answers, scores) =
            parse_and_score(&both, &[RawAnswer::code(1, 2), RawAnswer::code(31, 4)]).unwrap();
        assert_eq!(answers.len(), 2);
        assert_eq!(scores[1].instrument, InstrumentId::QlqCx24);
        let Err(ClinicError::Refused { code: ErrorCode::AnswersInvalid, problems, .. }) = parse_and_score(
            &[InstrumentId::QlqC30],
            &[RawAnswer::code(31, 1), RawAnswer::code(2, 9), RawAnswer::code(0, 1)],
        ) else {
            panic!("expected invalid")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("item 31 is not part of this assessment's questionnaires (qlq-c30)"));
    }
}
