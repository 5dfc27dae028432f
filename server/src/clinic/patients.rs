//! Patients: enrolment, treatment events and the schedule kept in step with them, activation
//! codes, the lists and pages staff read, and a patient's own assessments.

use qol_shared::api::{
    ActivationCode, AssessmentView, EnrolledPatient, EventRecord, MyAssessments, PatientDetail,
    PatientSummary, Role,
};

use super::*;

impl Clinic {
    /// Enrols a patient: pseudonymous record, identity apart, the enrolment event, the schedule
    /// and an activation code. Returns the patient and the code (shown once).
    pub async fn enrol(
        &self,
        actor: &Actor,
        staff_id: i64,
        request: &EnrolPatient,
        today: NaiveDate,
    ) -> Result<(PatientRow, String, qol_shared::Timestamp), ClinicError> {
        let mut problems = Vec::new();
        if self.protocol().stratum(&request.stratum).is_none() {
            let protocol = self.protocol();
            let strata: Vec<&str> = protocol.strata.iter().map(|s| s.code.as_str()).collect();
            problems.push(format!("stratum {:?} is not one of: {}", request.stratum, strata.join(", ")));
        }
        let language = qol_shared::Language::from_tag(&request.language);
        let wording = self.wording().await;
        if language.is_none() {
            problems.push(format!(
                "language {:?} is not one of: {}",
                request.language,
                qol_shared::Language::tags()
            ));
        } else if !wording.pack.languages.contains_key(&request.language) {
            // Her questionnaires would have no text.
            let offered: Vec<&str> = wording.pack.languages.keys().map(String::as_str).collect();
            problems.push(format!(
                "language {:?} is not in the wording pack in use; use one of: {}",
                request.language,
                offered.join(", ")
            ));
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
        if !request.identity.phone.trim().is_empty()
            && reminders::normal_phone(&request.identity.phone).is_none()
        {
            problems.push(format!(
                "identity.phone {:?} is not a phone number: write it in international form, e.g. +86 138 0013 8000",
                request.identity.phone
            ));
        }
        let email = request.identity.email.trim();
        if !email.is_empty() && reminders::normal_email(email).is_none() {
            problems.push(format!("identity.email {email:?} is not an e-mail address"));
        }
        if request.enrolled_on > today {
            problems.push(format!("enrolled_on {} is in the future", request.enrolled_on));
        }
        let prefix = &self.protocol().patient_id_prefix;
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
        let (true, Some(language)) = (problems.is_empty(), language) else {
            return Err(ClinicError::Invalid {
                message: "the patient could not be enrolled".into(),
                problems,
            });
        };
        let code = new_activation_code();
        let expires_at = self.expires_in(ACTIVATION_CODE_LIFETIME);
        let identity = qol_shared::api::Identity {
            email: reminders::normal_email(email).unwrap_or_default(),
            ..request.identity.clone()
        };
        let mut tx = self.db.begin_write().await?;
        let patient_id = match tx
            .insert_patient(
                self.study_id,
                &study_code,
                &request.stratum,
                language,
                request.reminder_channel,
                &identity,
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
        tx.issue_activation_code(
            patient_id,
            &token_hash(&normalise_activation_code(&code)),
            &expires_at.text(),
        )
        .await?;
        let events = Events::from_records([enrolment]);
        tx.store_schedule(patient_id, &self.versioned_schedule(&[], &events, today)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "patient.enrol",
                patient: Some(study_code.clone()),
                entity: "patient",
                entity_id: study_code.clone(),
                after: Some(json!({
                    "study_id": study_code, "stratum": request.stratum, "language": request.language,
                    "enrolled_on": request.enrolled_on, "identity": "recorded", "activation_code_expires_at": expires_at,
                    "reminder_channel": request.reminder_channel.as_str(),
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
    ) -> Result<(String, qol_shared::Timestamp), ClinicError> {
        let code = new_activation_code();
        let expires_at = self.expires_in(ACTIVATION_CODE_LIFETIME);
        let mut tx = self.db.begin_write().await?;
        tx.issue_activation_code(
            patient.id,
            &token_hash(&normalise_activation_code(&code)),
            &expires_at.text(),
        )
        .await?;
        // A new code is for a lost or changed phone: the old phone's sessions end now, not when
        // the new one is activated.
        let revoked = tx.revoke_sessions_of(SessionOwner::Patient(patient.id)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: "patient.activation_code_reissue",
                patient: Some(patient.study_code.clone()),
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
            .check_with(&self.protocol(), self.protocol().stratum(&patient.stratum), request.event)
            .map_err(|error| invalid(format!("the event contradicts the record: {error}")))?;
        let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        // The newest version first: a server behind another never writes an older schedule.
        self.refresh_protocol().await;
        let stored = self.db.assessments(patient.id).await?;
        let mut tx = self.db.begin_write().await?;
        let id =
            tx.insert_event(patient.id, &request.event, staff_id, reason, current.map(|row| row.id)).await?;
        tx.store_schedule(patient.id, &self.versioned_schedule(&stored, &next, today)).await?;
        tx.audit(
            actor,
            AuditEntry {
                action: if current.is_some() { "event.correct" } else { "event.record" },
                entity: "treatment_event",
                patient: Some(patient.study_code.clone()),
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
    /// writes that change it are audited. Called where events change or time passes (the
    /// scheduler, a submission), never by a read.
    pub(super) async fn sync_schedule(
        &self,
        patient_id: i64,
        events: &Events,
        today: NaiveDate,
    ) -> Result<(), ClinicError> {
        // Unscheduled reports are no part of the schedule (`versioned_schedule` passes over them).
        let stored = self.db.scheduled_assessments(patient_id).await?;
        let computed = self.versioned_schedule(&stored, events, today);
        let unchanged = computed.len() == stored.len()
            && computed.iter().all(|(item, version)| {
                stored.iter().any(|row| {
                    row.key == item.key
                        && row.window_start == item.window_start
                        && row.window_end == item.window_end
                        && row.protocol_version == *version
                })
            });
        if !unchanged {
            let mut tx = self.db.begin_write().await?;
            tx.store_schedule(patient_id, &computed).await?;
            tx.commit_derived().await?;
        }
        Ok(())
    }

    /// The stored time `duration` from now.
    fn expires_in(&self, duration: std::time::Duration) -> qol_shared::Timestamp {
        (self.now() + chrono::Duration::from_std(duration).unwrap_or_default()).into()
    }

    /// Brings one patient's stored schedule in step with `today` (the scheduler's step; the demo
    /// seed and tests, which write a history day by day, take it too).
    pub async fn keep_schedule_in_step(&self, patient_id: i64, today: NaiveDate) -> Result<(), ClinicError> {
        let (_, events) = self.events(patient_id).await?;
        self.sync_schedule(patient_id, &events, today).await
    }

    /// Brings every patient's stored schedule in step with the study's today; returns how many
    /// patients it looked at. The scheduler runs it at start and then periodically, so reads
    /// find the schedule as time has moved it without writing anything themselves.
    pub async fn keep_schedules_in_step(&self) -> Result<usize, ClinicError> {
        let today = self.today();
        // The newest protocol version once per pass (a request's session has read it already).
        self.refresh_protocol().await;
        let patients = self.db.patients().await?;
        for patient in &patients {
            self.keep_schedule_in_step(patient.id, today).await?;
        }
        Ok(patients.len())
    }

    /// The patient's assessments with their states today, as stored (a read: nothing is
    /// written), and the events they were computed from (callers need them for study days).
    pub async fn assessments(
        &self,
        patient_id: i64,
        today: NaiveDate,
    ) -> Result<(Vec<AssessmentStatus>, Events), ClinicError> {
        let (_, events) = self.events(patient_id).await?;
        let rows = self.db.assessments(patient_id).await?;
        Ok((Clinic::statuses(rows, &events, today), events))
    }

    /// Each of a patient's assessments (`Db::assessments`) with its state today under her
    /// `events`.
    pub fn statuses(rows: Vec<AssessmentRow>, events: &Events, today: NaiveDate) -> Vec<AssessmentStatus> {
        let off_study = events.off_study().map(|(date, _)| date);
        rows.into_iter()
            .map(|row| {
                let completed = row.received_at.is_some();
                let state = state_on(&row.as_scheduled(), today, completed, off_study);
                AssessmentStatus { row, state }
            })
            .collect()
    }
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
}

/// An event as the API shows it: whether a later correction replaced it.
fn event_record(row: &EventRow, rows: &[EventRow]) -> EventRecord {
    EventRecord {
        id: row.id,
        event: row.event,
        recorded_at: row.recorded_at,
        recorded_by: row.recorded_by.clone(),
        reason: row.reason.clone(),
        corrects: row.corrects,
        current: !rows.iter().any(|other| other.corrects == Some(row.id)),
        warnings: Vec::new(),
    }
}

/// An assessment as the API shows it: calendar dates only with `dates` (clinical staff and the
/// patient herself), study days for everyone.
fn assessment_view(
    clinic: &Clinic,
    status: &AssessmentStatus,
    events: &Events,
    dates: Option<Dates>,
) -> AssessmentView {
    let row = &status.row;
    AssessmentView {
        id: row.id,
        key: row.key.clone(),
        code: row.code.clone(),
        label: row.label.clone(),
        // The labels of the version it was scheduled under (a later one may rename or drop it).
        labels: clinic.protocol_of(row.protocol_version).labels_of(&row.code, row.unscheduled),
        instruments: row.instruments.clone(),
        state: status.state,
        unscheduled: row.unscheduled,
        window_start: dates.map(|_| row.window_start),
        window_end: dates.map(|_| row.window_end),
        window_start_day: Clinic::study_day(events, row.window_start),
        window_end_day: Clinic::study_day(events, row.window_end),
        received_at: dates.and(row.received_at),
        protocol_version: row.protocol_version,
        paper_entries: if row.received_at.is_none() {
            u8::try_from(row.paper_entries).unwrap_or(2)
        } else {
            0
        },
    }
}

/// Leave to show calendar dates: clinical staff (with [`IdentityAccess`]) and the patient for
/// her own record; research sees study days only.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dates(());

impl Dates {
    pub(super) fn for_session(session: &Session) -> Option<Dates> {
        (session.identity_access().is_some() || session.role == Role::Patient).then_some(Dates(()))
    }
}

impl Clinic {
    /// A patient as a list shows her; identity and the enrolment date only with `access`.
    async fn summary(
        &self,
        patient: &PatientRow,
        access: Option<IdentityAccess>,
    ) -> Result<PatientSummary, ClinicError> {
        let (rows, events) = self.events(patient.id).await?;
        let identity = match access {
            Some(_) => self.db.identity(patient.id).await?,
            None => None,
        };
        Ok(PatientSummary {
            study_id: patient.study_code.clone(),
            stratum: patient.stratum.clone(),
            language: patient.language,
            activated: patient.activated,
            off_study: events.off_study().is_some(),
            identity,
            enrolled_on: access.and_then(|_| {
                rows.iter().rev().find(|row| row.event.kind.slot() == "enrolment").map(|row| row.event.date)
            }),
        })
    }

    /// Enrols a patient as the session's staff member, today; the activation code is shown once.
    pub async fn enrol_patient(
        &self,
        session: &Session,
        request: &EnrolPatient,
    ) -> Result<EnrolledPatient, ClinicError> {
        let (patient, code, expires_at) =
            self.enrol(&session.actor(), session.staff_id()?, request, self.today()).await?;
        Ok(EnrolledPatient {
            patient: self.summary(&patient, session.identity_access()).await?,
            activation: ActivationCode { activation_code: code, expires_at },
        })
    }

    /// Every patient, as the session may see them.
    pub async fn patient_list(&self, session: &Session) -> Result<Vec<PatientSummary>, ClinicError> {
        let access = session.identity_access();
        let mut out = Vec::new();
        for patient in self.db.patients().await? {
            out.push(self.summary(&patient, access).await?);
        }
        Ok(out)
    }

    /// A patient's page: who she is, her events, and whether her sign-in is locked.
    pub async fn patient_detail(
        &self,
        session: &Session,
        study_id: &str,
    ) -> Result<PatientDetail, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        let (rows, _) = self.events(patient.id).await?;
        let throttle = self.db.throttle_state(&crate::auth::patient_sign_in_key(&patient.study_code)).await?;
        let now = qol_shared::Timestamp::from(self.now());
        Ok(PatientDetail {
            patient: self.summary(&patient, session.identity_access()).await?,
            events: rows.iter().map(|row| event_record(row, &rows)).collect(),
            sign_in_locked_until: throttle.locked_until.filter(|until| *until > now),
        })
    }

    /// Records (or corrects) an event as the session's staff member, today.
    pub async fn record_patient_event(
        &self,
        session: &Session,
        study_id: &str,
        request: &RecordEvent,
    ) -> Result<EventRecord, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        let (row, warnings) =
            self.record_event(&session.actor(), session.staff_id()?, &patient, request, self.today()).await?;
        let (rows, _) = self.events(patient.id).await?;
        Ok(EventRecord { warnings, ..event_record(&row, &rows) })
    }

    /// A new activation code for a patient (a lost or changed phone).
    pub async fn new_activation_code(
        &self,
        session: &Session,
        study_id: &str,
    ) -> Result<ActivationCode, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        let (activation_code, expires_at) = self.reissue_code(&session.actor(), &patient).await?;
        Ok(ActivationCode { activation_code, expires_at })
    }

    /// A patient's assessments today, as the session may see them (research: study days only).
    pub async fn assessment_views(
        &self,
        session: &Session,
        study_id: &str,
    ) -> Result<Vec<AssessmentView>, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        let (statuses, events) = self.assessments(patient.id, self.today()).await?;
        let dates = Dates::for_session(session);
        Ok(statuses.iter().map(|status| assessment_view(self, status, &events, dates)).collect())
    }

    /// The signed-in patient's own record.
    pub(super) async fn own_patient(&self, session: &Session) -> Result<PatientRow, ClinicError> {
        session.require(&[Role::Patient])?;
        let id = session.patient_id()?;
        self.db
            .patient_by_id(id)
            .await?
            .ok_or_else(|| ClinicError::Unauthorized("please sign in again".into()))
    }

    /// The signed-in patient's forms: due now, coming, and done.
    pub async fn my_assessments(&self, session: &Session) -> Result<MyAssessments, ClinicError> {
        let patient = self.own_patient(session).await?;
        let (statuses, events) = self.assessments(patient.id, self.today()).await?;
        let dates = Dates::for_session(session);
        let pick = |wanted: AssessmentState| {
            statuses
                .iter()
                .filter(|status| status.state == wanted)
                .map(|status| assessment_view(self, status, &events, dates))
                .collect::<Vec<_>>()
        };
        Ok(MyAssessments {
            due: pick(AssessmentState::Open),
            upcoming: pick(AssessmentState::Upcoming),
            completed: pick(AssessmentState::Completed),
        })
    }
}
