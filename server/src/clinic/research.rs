//! Research: each patient as researchers may see them (study id, stratum, study days; never
//! identity or calendar dates), the analysis and completion reports built from those records,
//! and the exports, written patient by patient so memory stays flat however large the study.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use qol_shared::analysis::{self, Observation};
use qol_shared::answers::{RawAnswer, RawResponse};
use qol_shared::api::{
    AnalysisReport, CompletionRow, MissedReason, OutOfWindowForm, Placement, ScaleInfo, Timeliness,
    TimepointInfo, TtdReport,
};
use qol_shared::instrument::{InstrumentId, SCORING_ALGORITHM_VERSION, ScaleKind};
use qol_shared::schedule::{AssessmentKey, AssessmentState, OffStudyReason, state_on};
use qol_shared::scoring::{Outcome, Scores};
use qol_shared::thresholds::Thresholds;
use qol_shared::ttd::{self, DeathRule, Definition, Series};

use super::{Clinic, ClinicError};
use crate::storage::batch::ResearchData;
use crate::storage::{AssessmentRow, PatientRow, StorageError, StoredSubmission};

/// The assessment every change is measured from (the protocol module's), and the trial's
/// primary "post".
pub use qol_shared::schedule::BASELINE;
pub const PRIMARY: &str = "end-of-treatment";

/// Patients read at a time when walking over all of them.
pub const PAGE: i64 = 200;

/// One patient, pseudonymised.
#[derive(Debug, Clone)]
pub struct PatientRecord {
    pub study_id: String,
    pub stratum: String,
    /// Today as a study day (days from cycle 1 day 1), when cycle 1 is recorded.
    pub today_day: Option<i64>,
    /// When she went off study (study day, when cycle 1 is recorded) and why.
    pub off_study: Option<(Option<i64>, OffStudyReason)>,
    pub assessments: Vec<AssessmentRecord>,
}

#[derive(Debug, Clone)]
pub struct AssessmentRecord {
    pub key: AssessmentKey,
    pub code: String,
    pub label: String,
    pub unscheduled: bool,
    /// In the schedule the current events give (false for a form's assessment that left it).
    pub scheduled: bool,
    pub state: AssessmentState,
    /// Its target day has come (a date comparison: also before cycle 1 is recorded).
    pub target_reached: bool,
    pub target_day: Option<i64>,
    pub window_start_day: Option<i64>,
    pub window_end_day: Option<i64>,
    pub missed_reason: Option<MissedReason>,
    /// The protocol version it was scheduled under (docs/protocol.md, "Amendments").
    pub protocol_version: i64,
    pub submission: Option<SubmissionRecord>,
}

/// The current version of the submission that completed an assessment.
#[derive(Debug, Clone)]
pub struct SubmissionRecord {
    pub id: i64,
    pub version: i64,
    pub completed_day: Option<i64>,
    /// Where the form sits now (derived from the current events, never stored).
    pub placement: Placement,
    /// The assessment it was sent for, when that is not the one it now counts for.
    pub sent_for: Option<AssessmentKey>,
    /// Completed in the window and delivered after it closed (within the grace period).
    pub late_delivery: bool,
    pub language: String,
    /// Who filled it in and how.
    pub mode: qol_shared::api::CompletionMode,
    pub answers: Vec<RawAnswer>,
    pub scores: Vec<Scores>,
}

impl SubmissionRecord {
    /// Completed inside the assessment's current window; unscheduled reports have none.
    pub fn in_window(&self) -> Option<bool> {
        self.placement.in_window()
    }

    pub fn timeliness(&self) -> Timeliness {
        match (self.placement, self.late_delivery) {
            (Placement::Unscheduled, _) => Timeliness::Unscheduled,
            (_, true) => Timeliness::LateDelivery,
            (_, false) => Timeliness::OnTime,
        }
    }

    pub fn score(&self, scale: &str) -> Option<f64> {
        self.scores.iter().find_map(|scores| scores.score(scale))
    }
}

impl PatientRecord {
    /// Her scores of `scale` for time to deterioration: the baseline (as [`Self::baseline`]),
    /// then every later scheduled form completed in its window, by study day; `None` without
    /// cycle 1 day 1 (no time origin).
    pub fn ttd_series(&self, scale: &str) -> Option<Series> {
        self.today_day?;
        let mut later: Vec<(i64, f64)> = self
            .assessments
            .iter()
            .filter(|a| a.key != BASELINE && !a.unscheduled && a.scheduled)
            .filter_map(|a| a.submission.as_ref())
            .filter(|s| s.in_window() == Some(true))
            .filter_map(|s| Some((s.completed_day?, s.score(scale)?)))
            // Time starts at cycle 1 day 1: a form before it is no time after it.
            .filter(|(day, _)| *day >= 0)
            .collect();
        later.sort_by_key(|(day, _)| *day);
        let death_day = match self.off_study {
            Some((day, OffStudyReason::Death)) => day,
            _ => None,
        };
        Some(Series { baseline: self.baseline(scale), later, death_day })
    }

    /// Her time to deterioration on `scale`.
    pub fn ttd_outcome(
        &self,
        scale: &ScaleInfo,
        thresholds: &Thresholds,
        definition: Definition,
        death: DeathRule,
    ) -> ttd::Outcome {
        match self.ttd_series(&scale.code) {
            None => ttd::Outcome::Excluded(ttd::Exclusion::NoTreatmentStart),
            Some(series) => ttd::outcome(&series, &scale.code, scale.kind, thresholds, definition, death),
        }
    }

    /// The patient's score of `scale` at baseline, from a baseline completed in its window (a
    /// baseline completed after cycle 1 day 1 is a protocol deviation and is not one).
    pub fn baseline(&self, scale: &str) -> Option<f64> {
        self.assessments
            .iter()
            .find(|a| a.key == BASELINE && a.scheduled)
            .and_then(|a| a.submission.as_ref())
            .filter(|s| s.in_window() == Some(true))
            .and_then(|s| s.score(scale))
    }
}

/// A form as received, with the days that decide its placement.
struct Received<'a> {
    stored: &'a StoredSubmission,
    completed_on: NaiveDate,
    received_on: NaiveDate,
    instruments: Vec<InstrumentId>,
    placement: Placement,
    sent_for: Option<AssessmentKey>,
}

/// An assessment of the record being built, with the form placed in it.
struct Place<'a> {
    row: AssessmentRow,
    state: AssessmentState,
    scheduled: bool,
    form: Option<Received<'a>>,
}

impl Clinic {
    /// Everything research may see of one patient, built from her data as read for a page of
    /// patients ([`crate::storage::Db::research_data`], by [`Walk`]). Every form received has a
    /// place in it (docs/research.md, "Placement"): in its assessment, in the assessment whose
    /// window it now falls in when its own left the schedule, or under its old key, flagged.
    fn record_of(
        &self,
        patient: &PatientRow,
        data: ResearchData,
        today: NaiveDate,
    ) -> Result<PatientRecord, ClinicError> {
        let ResearchData { events, assessments, withdrawn, submissions: stored, mut answers, mut scores } =
            data;
        let events = Clinic::events_of(&events);
        let statuses = Clinic::statuses(assessments, &events, today);
        // The current version of each assessment's submission.
        let mut current: BTreeMap<i64, &StoredSubmission> = BTreeMap::new();
        // When each form first arrived: a correction's own time is when it was signed.
        let mut first_received: BTreeMap<i64, &qol_shared::Timestamp> = BTreeMap::new();
        for submission in &stored {
            let first = first_received.entry(submission.assessment_id).or_insert(&submission.received_at);
            if submission.received_at < **first {
                *first = &submission.received_at;
            }
            let entry = current.entry(submission.assessment_id).or_insert(submission);
            if submission.version > entry.version {
                *entry = submission;
            }
        }
        let received = |row: &AssessmentRow| -> Result<Option<Received<'_>>, ClinicError> {
            let Some(stored) = current.get(&row.id).copied() else { return Ok(None) };
            let completed_on = self.stored_date(&stored.completed_at);
            Ok(Some(Received {
                stored,
                completed_on,
                received_on: self
                    .stored_date(first_received.get(&row.id).copied().unwrap_or(&stored.received_at)),
                instruments: row.instruments.clone(),
                placement: if row.unscheduled {
                    Placement::Unscheduled
                } else if (row.window_start..=row.window_end).contains(&completed_on) {
                    Placement::InWindow
                } else {
                    Placement::OutOfWindow
                },
                sent_for: None,
            }))
        };
        let day = |date: NaiveDate| Clinic::study_day(&events, date);
        let off_study = events.off_study().map(|(date, _)| date);
        let mut places: Vec<Place<'_>> = Vec::with_capacity(statuses.len() + withdrawn.len());
        // Every current form, with the assessment it was sent for and whether that one is still
        // scheduled.
        let mut forms = Vec::new();
        for status in statuses {
            if let Some(form) = received(&status.row)? {
                forms.push((status.row.clone(), true, form));
            }
            places.push(Place { row: status.row, state: status.state, scheduled: true, form: None });
        }
        for row in withdrawn {
            if let Some(form) = received(&row)? {
                forms.push((row, false, form));
            }
        }
        // 1. A form inside its own assessment's current window keeps it.
        let mut waiting = Vec::new();
        for (own, scheduled, form) in forms {
            let home = places.iter_mut().find(|place| place.row.id == own.id);
            match home {
                Some(place) if scheduled && form.placement != Placement::OutOfWindow => {
                    place.form = Some(form)
                }
                _ => waiting.push((own, scheduled, form)),
            }
        }
        // 2. The others, earliest first, go to a free scheduled assessment whose window holds the
        //    day they were completed: another occurrence of the same assessment (a weekly form
        //    after cycle 1 was corrected), or — when their own assessment left the schedule, or
        //    is a repeat whose window moved or was cut (one form a day) — any that asks one of
        //    their questionnaires (a weekly QLQ-C30 completed after an end of treatment recorded
        //    late is that end of treatment's QLQ-C30; its QLQ-CX24 scales stay missing). A
        //    baseline completed after cycle 1 day 1 stays out of window.
        waiting.sort_by_key(|(_, _, form)| (form.completed_on, form.stored.id));
        let mut unplaced = Vec::new();
        for (own, scheduled, mut form) in waiting {
            let repeat = self
                .protocol_of(own.protocol_version)
                .definition(&own.code)
                .is_some_and(|d| d.repeat.is_some());
            let fits = |place: &Place<'_>| {
                place.scheduled
                    && place.form.is_none()
                    && place.row.id != own.id
                    && !place.row.unscheduled
                    && place.state != AssessmentState::NotApplicable
                    && (place.row.window_start..=place.row.window_end).contains(&form.completed_on)
            };
            let same = places.iter().position(|place| fits(place) && place.row.code == own.code);
            let other = || {
                places.iter().position(|place| {
                    (!scheduled || repeat)
                        && fits(place)
                        && place.row.instruments.iter().any(|id| form.instruments.contains(id))
                })
            };
            match same.or_else(other) {
                Some(index) => {
                    form.placement = Placement::Rematched;
                    form.sent_for = Some(own.key.clone());
                    places[index].state = AssessmentState::Completed;
                    places[index].form = Some(form);
                }
                None => unplaced.push((own, scheduled, form)),
            }
        }
        // 3. The rest keep their own key: in their own assessment when it is still free (out of
        //    window), else as a row of their own (not in the schedule any more, or out of window
        //    with its place taken by a form that fits it).
        for (own, scheduled, mut form) in unplaced {
            form.placement = if scheduled { Placement::OutOfWindow } else { Placement::NotInSchedule };
            match places.iter_mut().find(|place| place.row.id == own.id && place.form.is_none()) {
                Some(place) => place.form = Some(form),
                None => places.push(Place {
                    row: own,
                    state: AssessmentState::Completed,
                    scheduled: false,
                    form: Some(form),
                }),
            }
        }
        // 4. An assessment whose own form moved elsewhere is in the state it would have without it.
        for place in places
            .iter_mut()
            .filter(|place| place.form.is_none() && place.state == AssessmentState::Completed)
        {
            place.state = state_on(&place.row.as_scheduled(), today, false, off_study);
        }
        // Rows of their own before the scheduled row of the same key, which the analysis reads
        // last (and so keeps) when out-of-window forms are included.
        places.sort_by(|a, b| {
            (a.row.window_start, &a.row.key, a.scheduled).cmp(&(b.row.window_start, &b.row.key, b.scheduled))
        });
        let mut assessments = Vec::with_capacity(places.len());
        for Place { row, state, scheduled, form } in places {
            let submission = match form {
                Some(form) => Some(SubmissionRecord {
                    id: form.stored.id,
                    version: form.stored.version,
                    mode: form.stored.mode,
                    completed_day: day(form.completed_on),
                    placement: form.placement,
                    late_delivery: form.placement.in_window() == Some(true)
                        && form.received_on > row.window_end,
                    sent_for: form.sent_for,
                    language: form.stored.language.tag().to_owned(),
                    answers: answers.remove(&form.stored.id).unwrap_or_default(),
                    scores: scores.remove(&form.stored.id).unwrap_or_default(),
                }),
                None => None,
            };
            assessments.push(AssessmentRecord {
                key: row.key,
                code: row.code,
                label: row.label,
                unscheduled: row.unscheduled,
                scheduled,
                state,
                target_reached: row.target <= today,
                target_day: day(row.target),
                window_start_day: day(row.window_start),
                window_end_day: day(row.window_end),
                missed_reason: row.missed_reason,
                protocol_version: row.protocol_version,
                submission,
            });
        }
        Ok(PatientRecord {
            study_id: patient.study_code.clone(),
            stratum: patient.stratum.clone(),
            today_day: day(today),
            off_study: events.off_study().map(|(date, reason)| (day(date), reason)),
            assessments,
        })
    }

    /// The threshold set asked for: `osoba-1998`, `giesinger-2020`, `study`, or a number of
    /// points; by default the study's own table when the protocol has one, else 10 points.
    pub fn thresholds(&self, choice: Option<&str>) -> Result<Thresholds, ClinicError> {
        let protocol = self.protocol();
        let study = || {
            protocol.change_thresholds.as_ref().map(Thresholds::study).ok_or_else(|| {
                ClinicError::BadRequest(
                    "thresholds: this study's protocol has no change_thresholds; the sets are osoba-1998, giesinger-2020 or a number of points".into(),
                )
            })
        };
        match choice.map(str::trim) {
            None | Some("") => Ok(protocol
                .change_thresholds
                .as_ref()
                .map_or_else(|| Thresholds::points(analysis::DEFAULT_RESPONDER_POINTS), Thresholds::study)),
            Some("osoba-1998") => Ok(Thresholds::points(analysis::DEFAULT_RESPONDER_POINTS)),
            Some("giesinger-2020") => Ok(Thresholds::giesinger_2020()),
            Some("study") => study(),
            Some(text) => match text.parse::<f64>() {
                Ok(points) if points.is_finite() && points > 0.0 && points <= 100.0 => {
                    Ok(Thresholds::points(points))
                }
                Ok(_) => Err(ClinicError::BadRequest(
                    "thresholds: a number of points must be more than 0 and at most 100".into(),
                )),
                Err(_) => Err(ClinicError::BadRequest(format!(
                    "thresholds: {text:?} is not a threshold set; the sets are osoba-1998, giesinger-2020, study (the protocol's change_thresholds) or a number of points"
                ))),
            },
        }
    }

    /// The pre/post analysis today (see [`analysis`]).
    pub async fn research_analysis(
        &self,
        thresholds: Thresholds,
        include_out_of_window: bool,
        modes: &[qol_shared::api::CompletionMode],
    ) -> Result<AnalysisReport, ClinicError> {
        if modes.is_empty() {
            return Err(ClinicError::BadRequest("modes: name at least one completion mode".into()));
        }
        analysis(self, self.today(), thresholds, include_out_of_window, modes).await
    }

    /// Time to deterioration of `scale` today (see [`ttd`]).
    pub async fn research_ttd(
        &self,
        scale: &str,
        definition: Definition,
        death: DeathRule,
        thresholds: Thresholds,
    ) -> Result<TtdReport, ClinicError> {
        let info = scales().into_iter().find(|s| s.code == scale).ok_or_else(|| {
            ClinicError::BadRequest(format!(
                "scale: {scale:?} is not a scale qol scores; the scales are {}",
                scales().iter().map(|s| s.code.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let reports = ttd(self, self.today(), &[(info, definition, death)], &thresholds).await?;
        // One asked, one answered.
        reports.into_iter().next().ok_or_else(|| ClinicError::NotFound("no report".into()))
    }

    /// Time to deterioration for many (scale, definition, death rule) at once, in one walk.
    pub async fn research_ttd_many(
        &self,
        asked: &[(ScaleInfo, Definition, DeathRule)],
        thresholds: &Thresholds,
    ) -> Result<Vec<TtdReport>, ClinicError> {
        ttd(self, self.today(), asked, thresholds).await
    }

    /// Completion per assessment today (see [`completion`]).
    pub async fn research_completion(&self) -> Result<Vec<CompletionRow>, ClinicError> {
        completion(self, self.today()).await
    }

    /// Calls `each` with every patient's record, one at a time, in study id order. The records
    /// hold no item answers (each submission's `answers` is empty): the reports that walk this way
    /// (analysis, time to deterioration, completion) are built from scores and schedules, and
    /// answers are a third of what a page reads. A caller that needs answers walks a [`Walk`].
    pub async fn for_each_record(
        &self,
        today: NaiveDate,
        mut each: impl FnMut(PatientRecord) -> Result<(), ClinicError>,
    ) -> Result<(), ClinicError> {
        let mut walk = Walk::new(self, today).without_answers();
        while let Some(record) = walk.next().await? {
            each(record)?;
        }
        Ok(())
    }
}

/// Every patient's record in study id order, built one at a time; patients, and what their
/// records are built from, are read a page ([`PAGE`]) at a time (a few queries a page), so memory
/// does not grow with the study. The next page is read while this one's records are built and
/// written (by a task of its own, so reading and writing use a core each): at most two pages are
/// held.
#[derive(Debug)]
pub struct Walk<'a> {
    clinic: &'a Clinic,
    today: NaiveDate,
    page: std::vec::IntoIter<PatientRow>,
    /// The page's data by patient id; each patient's is taken when her record is built.
    data: HashMap<i64, ResearchData>,
    next: Next,
    /// Whether item answers are read (see [`Walk::without_answers`]).
    answers: bool,
}

/// A page of patients and what their records are built from.
type Page = (Vec<PatientRow>, HashMap<i64, ResearchData>);

/// Where a walk stands with its next page.
#[derive(Debug)]
enum Next {
    /// Nothing read yet.
    First,
    /// The next page, being read.
    Reading(tokio::task::JoinHandle<Result<Page, StorageError>>),
    /// The last page was empty: every patient was walked.
    Done,
}

impl<'a> Walk<'a> {
    pub fn new(clinic: &'a Clinic, today: NaiveDate) -> Walk<'a> {
        Walk {
            clinic,
            today,
            page: Vec::new().into_iter(),
            data: HashMap::new(),
            next: Next::First,
            answers: true,
        }
    }

    /// A walk whose records hold no item answers (each submission's `answers` is empty), for a
    /// caller that writes none: answers are a third of what a page reads.
    pub fn without_answers(mut self) -> Walk<'a> {
        self.answers = false;
        self
    }

    /// Starts reading the page after `after` (a study code; empty for the first page).
    fn read_page(&self, after: String) -> tokio::task::JoinHandle<Result<Page, StorageError>> {
        let (db, answers) = (self.clinic.db.clone(), self.answers);
        tokio::spawn(async move {
            let page = db.patients_after(&after, PAGE).await?;
            let ids: Vec<i64> = page.iter().map(|patient| patient.id).collect();
            let data = db.research_data(&ids, answers).await?;
            Ok((page, data))
        })
    }

    pub async fn next(&mut self) -> Result<Option<PatientRecord>, ClinicError> {
        loop {
            if let Some(patient) = self.page.next() {
                let data = self.data.remove(&patient.id).unwrap_or_default();
                return Ok(Some(self.clinic.record_of(&patient, data, self.today)?));
            }
            let reading = match std::mem::replace(&mut self.next, Next::Done) {
                Next::First => self.read_page(String::new()),
                Next::Reading(reading) => reading,
                Next::Done => return Ok(None),
            };
            let (page, data) = match reading.await {
                Ok(read) => read?,
                Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
                Err(failed) => {
                    return Err(StorageError::Corrupt(format!("a page read stopped: {failed}")).into());
                }
            };
            // The next page is read while this one's records are built and written; the last
            // page's data is all taken by now, so two pages are held at most.
            if let Some(last) = page.last() {
                self.next = Next::Reading(self.read_page(last.study_code.clone()));
            }
            self.data = data;
            self.page = page.into_iter();
        }
    }
}

impl Drop for Walk<'_> {
    /// A walk left before its end (a reader who went away) stops its read.
    fn drop(&mut self) {
        if let Next::Reading(reading) = &self.next {
            reading.abort();
        }
    }
}

/// Every scale a score exists for, in the instruments' order (the C30 summary after C30).
pub fn scales() -> Vec<ScaleInfo> {
    let mut out = Vec::new();
    for id in [InstrumentId::QlqC30, InstrumentId::QlqCx24] {
        let instrument = id.instrument();
        for scale in instrument.scales {
            out.push(ScaleInfo {
                instrument: id,
                code: scale.code.to_owned(),
                name: scale.name.to_owned(),
                kind: scale.kind,
            });
        }
        if let Some(summary) = instrument.summary {
            out.push(ScaleInfo {
                instrument: id,
                code: summary.code.to_owned(),
                name: summary.name.to_owned(),
                // Higher is better, as for functioning.
                kind: ScaleKind::Functional,
            });
        }
    }
    out
}

/// Orders assessment keys the way they happen: by the median target study day over patients,
/// then by the order the protocol lists them.
#[derive(Debug, Default)]
struct Timeline {
    seen: BTreeMap<AssessmentKey, (String, Vec<i64>)>,
}

impl Timeline {
    fn add(&mut self, assessment: &AssessmentRecord) {
        if assessment.unscheduled {
            return;
        }
        let entry =
            self.seen.entry(assessment.key.clone()).or_insert_with(|| (assessment.label.clone(), Vec::new()));
        entry.1.extend(assessment.target_day);
    }

    fn ordered(self, protocol: &qol_shared::schedule::Protocol) -> Vec<TimepointInfo> {
        let mut out: Vec<TimepointInfo> = self
            .seen
            .into_iter()
            .map(|(key, (label, mut days))| {
                days.sort_unstable();
                TimepointInfo { median_target_day: days.get(days.len() / 2).copied(), key, label }
            })
            .collect();
        let protocol_index = |key: &str| {
            protocol
                .assessments
                .iter()
                .position(|d| key == d.code || key.starts_with(&format!("{}-", d.code)))
        };
        out.sort_by_key(|t| {
            (
                t.key != BASELINE,
                t.median_target_day.unwrap_or(i64::MAX),
                protocol_index(&t.key),
                t.key.clone(),
            )
        });
        out
    }
}

/// Why a form is left out of the analysis by default, in words.
fn out_of_window_reason(assessment: &AssessmentRecord, submission: &SubmissionRecord) -> String {
    let show = |day: Option<i64>| day.map_or_else(|| "?".to_owned(), |day| day.to_string());
    let completed = show(submission.completed_day);
    let window = format!("days {} to {}", show(assessment.window_start_day), show(assessment.window_end_day));
    if submission.placement == Placement::NotInSchedule {
        return format!(
            "{} left the schedule when an event was recorded or corrected; the form was completed on study day {completed} and no other assessment with its questionnaires had a free window then",
            assessment.key
        );
    }
    let before = submission.completed_day.zip(assessment.window_start_day).is_some_and(|(c, s)| c < s);
    let after = submission.completed_day.zip(assessment.window_end_day).is_some_and(|(c, e)| c > e);
    match (before, after) {
        (false, true) if assessment.key == BASELINE => format!(
            "completed on study day {completed}, after cycle 1 day 1 (the baseline window was {window}): a baseline after treatment began is a protocol deviation"
        ),
        (true, _) => format!(
            "completed on study day {completed}, before its window ({window}) as the current events give it"
        ),
        (_, true) => format!(
            "completed on study day {completed}, after its window ({window}) as the current events give it"
        ),
        _ => format!(
            "completed on study day {completed}, outside its window ({window}) as the current events give it"
        ),
    }
}

/// The pre/post analysis over every patient. Forms completed outside their current window are
/// listed and left out unless `include_out_of_window`.
pub async fn analysis(
    clinic: &Clinic,
    today: NaiveDate,
    thresholds: Thresholds,
    include_out_of_window: bool,
    modes: &[qol_shared::api::CompletionMode],
) -> Result<AnalysisReport, ClinicError> {
    let extracted_at = qol_shared::Timestamp::from(clinic.now());
    let mut left_out_by_mode = 0;
    // Only numbers are kept per patient (scores by scale and timepoint), not whole records.
    let mut rows: Vec<(String, String, String, String, f64)> = Vec::new();
    let mut timeline = Timeline::default();
    let mut strata: Vec<String> = clinic.protocol().strata.iter().map(|s| s.code.clone()).collect();
    let mut out_of_window = Vec::new();
    clinic
        .for_each_record(today, |record| {
            for assessment in &record.assessments {
                let Some(submission) =
                    (!assessment.unscheduled).then_some(()).and(assessment.submission.as_ref())
                else {
                    if assessment.scheduled {
                        timeline.add(assessment);
                    }
                    continue;
                };
                // A sensitivity analysis leaves out the forms of the modes not asked for, as if
                // they had not come.
                if !modes.contains(&submission.mode) {
                    left_out_by_mode += 1;
                    if assessment.scheduled {
                        timeline.add(assessment);
                    }
                    continue;
                }
                if submission.in_window() == Some(false) {
                    out_of_window.push(OutOfWindowForm {
                        study_id: record.study_id.clone(),
                        assessment: assessment.key.clone(),
                        placement: submission.placement,
                        completed_study_day: submission.completed_day,
                        window_start_day: assessment.window_start_day,
                        window_end_day: assessment.window_end_day,
                        reason: out_of_window_reason(assessment, submission),
                    });
                    if !include_out_of_window {
                        if assessment.scheduled {
                            timeline.add(assessment);
                        }
                        continue;
                    }
                }
                timeline.add(assessment);
                for scores in &submission.scores {
                    for scale in &scores.scales {
                        if let Some(score) = scale.score() {
                            rows.push((
                                record.study_id.clone(),
                                record.stratum.clone(),
                                assessment.key.to_string(),
                                scale.code.to_string(),
                                score,
                            ));
                        }
                    }
                }
            }
            if !strata.contains(&record.stratum) {
                strata.push(record.stratum.clone());
            }
            Ok(())
        })
        .await?;
    let timepoints = timeline.ordered(&clinic.protocol());
    let observations: Vec<Observation<'_>> = rows
        .iter()
        .map(|(patient, stratum, timepoint, scale, score)| Observation {
            patient,
            stratum,
            timepoint,
            scale,
            score: *score,
        })
        .collect();
    let scale_list = scales();
    let scale_kinds: Vec<(&str, ScaleKind)> = scale_list.iter().map(|s| (s.code.as_str(), s.kind)).collect();
    let keys: Vec<&str> = timepoints.iter().map(|t| t.key.as_str()).collect();
    let strata_refs: Vec<&str> = strata.iter().map(String::as_str).collect();
    let protocol = clinic.protocol();
    Ok(AnalysisReport {
        responder_points: thresholds.default_points.unwrap_or(analysis::DEFAULT_RESPONDER_POINTS),
        extracted_at,
        time_zone: protocol.time_zone.name().to_owned(),
        protocol_name: protocol.name.clone(),
        protocol_version: clinic.protocol_version(),
        baseline: BASELINE.to_owned(),
        primary: PRIMARY.to_owned(),
        algorithm_version: SCORING_ALGORITHM_VERSION.to_owned(),
        changes: analysis::change_summaries(
            &observations,
            BASELINE,
            &keys,
            &scale_kinds,
            &strata_refs,
            &thresholds,
        ),
        means: analysis::timepoint_means(&observations, &keys, &scale_kinds, &strata_refs),
        timepoints,
        strata,
        scales: scale_list,
        out_of_window_included: include_out_of_window,
        out_of_window,
        modes: modes.to_vec(),
        left_out_by_mode,
        thresholds,
    })
}

/// The usual (median target) day of each assessment asked once, for the numbers at risk:
/// (key, label, day), day 0 at the earliest.
fn at_risk_times(
    timepoints: &[TimepointInfo],
    protocol: &qol_shared::schedule::Protocol,
) -> Vec<(String, String, i64)> {
    let once = |key: &str| protocol.assessments.iter().any(|d| d.repeat.is_none() && d.code == key);
    let mut out: Vec<(String, String, i64)> = timepoints
        .iter()
        .filter(|t| once(t.key.as_str()))
        .filter_map(|t| Some((t.key.to_string(), t.label.clone(), t.median_target_day?.max(0))))
        .collect();
    out.sort_by_key(|(_, _, day)| *day);
    out
}

/// Time to deterioration over every patient, for each of `asked` (scale, definition, death
/// rule) in one walk: a curve for all, then one per stratum.
pub async fn ttd(
    clinic: &Clinic,
    today: NaiveDate,
    asked: &[(ScaleInfo, Definition, DeathRule)],
    thresholds: &Thresholds,
) -> Result<Vec<TtdReport>, ClinicError> {
    let extracted_at = qol_shared::Timestamp::from(clinic.now());
    let protocol = clinic.protocol();
    let mut strata: Vec<String> = protocol.strata.iter().map(|s| s.code.clone()).collect();
    // Per patient: her stratum and an outcome for each of `asked`.
    let mut outcomes: Vec<(String, Vec<ttd::Outcome>)> = Vec::new();
    let mut timeline = Timeline::default();
    clinic
        .for_each_record(today, |record| {
            for assessment in record.assessments.iter().filter(|a| a.scheduled) {
                timeline.add(assessment);
            }
            if !strata.contains(&record.stratum) {
                strata.push(record.stratum.clone());
            }
            let own = asked
                .iter()
                .map(|(scale, definition, death)| record.ttd_outcome(scale, thresholds, *definition, *death))
                .collect();
            outcomes.push((record.stratum.clone(), own));
            Ok(())
        })
        .await?;
    let times = at_risk_times(&timeline.ordered(&protocol), &protocol);
    let mut reports = Vec::with_capacity(asked.len());
    for (index, (scale, definition, death)) in asked.iter().enumerate() {
        let of = |stratum: Option<&str>| -> Vec<ttd::Outcome> {
            outcomes
                .iter()
                .filter(|(s, _)| stratum.is_none_or(|wanted| s == wanted))
                .map(|(_, own)| own[index])
                .collect()
        };
        let mut groups = vec![ttd::group(None, &of(None), &times)];
        for stratum in &strata {
            groups.push(ttd::group(Some(stratum.clone()), &of(Some(stratum)), &times));
        }
        reports.push(TtdReport {
            scale: scale.code.clone(),
            scale_name: scale.name.clone(),
            definition: *definition,
            death: *death,
            threshold: thresholds.describe(&scale.code),
            thresholds: thresholds.clone(),
            extracted_at,
            time_zone: protocol.time_zone.name().to_owned(),
            protocol_name: protocol.name.clone(),
            protocol_version: clinic.protocol_version(),
            groups,
        });
    }
    Ok(reports)
}

/// What completion needs to know of a patient after the walk: whether, and when, she reached the
/// timepoints her record has no window for yet.
struct Reach {
    today_day: Option<i64>,
    off_study: Option<(Option<i64>, OffStudyReason)>,
    keys: std::collections::BTreeSet<AssessmentKey>,
}

/// Completion by assessment, as SISAQOL recommends (Coens et al. 2020): for each, the forms
/// received over two denominators — the fixed one (patients alive and on study who reached the
/// timepoint's day, whether or not their window was computed) and the available-case one
/// (windows opened and closed) — and why the others did not come.
pub async fn completion(clinic: &Clinic, today: NaiveDate) -> Result<Vec<CompletionRow>, ClinicError> {
    let mut rows: BTreeMap<AssessmentKey, CompletionRow> = BTreeMap::new();
    let mut timeline = Timeline::default();
    let mut reaches = Vec::new();
    // The assessments asked once (not the weekly repeats): the only ones estimated for a patient
    // whose record has no window for them, so the only keys kept per patient.
    let protocol = clinic.protocol();
    let once: Vec<&str> =
        protocol.assessments.iter().filter(|d| d.repeat.is_none()).map(|d| d.code.as_str()).collect();
    clinic
        .for_each_record(today, |record| {
            let mut keys = std::collections::BTreeSet::new();
            // A form whose assessment left the schedule is no assessment anyone expects now.
            for assessment in record.assessments.iter().filter(|a| !a.unscheduled && a.scheduled) {
                timeline.add(assessment);
                if once.contains(&assessment.key.as_str()) {
                    keys.insert(assessment.key.clone());
                }
                let row = rows.entry(assessment.key.clone()).or_insert_with(|| CompletionRow {
                    key: assessment.key.clone(),
                    label: assessment.label.clone(),
                    ..CompletionRow::default()
                });
                let reached = assessment.target_reached;
                match assessment.state {
                    AssessmentState::Upcoming => row.not_yet_due += 1,
                    AssessmentState::NotApplicable => {
                        row.not_applicable += 1;
                        match record.off_study {
                            Some((_, OffStudyReason::Death)) => row.died_before += 1,
                            _ => row.off_study_before += 1,
                        }
                    }
                    AssessmentState::Open => {
                        row.expected += 1;
                        row.pending += 1;
                    }
                    AssessmentState::Completed => {
                        row.expected += 1;
                        row.received += 1;
                        let submission = assessment.submission.as_ref();
                        if submission.and_then(SubmissionRecord::in_window) == Some(true) {
                            row.in_window += 1;
                        }
                        if submission.is_some_and(|s| s.late_delivery) {
                            row.late_delivery += 1;
                        }
                    }
                    AssessmentState::Missed => {
                        row.expected += 1;
                        row.missed += 1;
                        let reason = assessment.missed_reason.map_or_else(
                            || qol_shared::api::AWAITING_REASON.to_owned(),
                            |r| r.as_str().to_owned(),
                        );
                        *row.missed_reasons.entry(reason).or_default() += 1;
                    }
                }
                // Fixed: completed or missed, or its day has come with the window open.
                let fixed = match assessment.state {
                    AssessmentState::Completed | AssessmentState::Missed => true,
                    AssessmentState::Open | AssessmentState::Upcoming => reached,
                    AssessmentState::NotApplicable => false,
                };
                if fixed {
                    row.denominator_fixed += 1;
                }
            }
            reaches.push(Reach { today_day: record.today_day, off_study: record.off_study, keys });
            Ok(())
        })
        .await?;
    let order = timeline.ordered(&clinic.protocol());
    // The timepoints asked once (not the weekly repeats): a patient without one has not had its
    // anchor event recorded. By its usual day (the median over the patients who have it) she
    // counts in the fixed denominator if still on study, or as off study / died before it.
    for timepoint in &order {
        let (Some(usual), true) = (timepoint.median_target_day, once.contains(&timepoint.key.as_str()))
        else {
            continue;
        };
        let Some(row) = rows.get_mut(&timepoint.key) else { continue };
        for reach in reaches.iter().filter(|reach| !reach.keys.contains(&timepoint.key)) {
            match reach.off_study {
                Some((Some(off), reason)) if off < usual => {
                    row.not_applicable += 1;
                    if reason == OffStudyReason::Death {
                        row.died_before += 1;
                    } else {
                        row.off_study_before += 1;
                    }
                }
                // Off study on or after the usual day: she reached it.
                Some((Some(_), _)) => {
                    row.not_scheduled += 1;
                    row.denominator_fixed += 1;
                }
                Some((None, _)) => {}
                None if reach.today_day.is_some_and(|now| now >= usual) => {
                    row.not_scheduled += 1;
                    row.denominator_fixed += 1;
                }
                None => {}
            }
        }
    }
    let mut out: Vec<CompletionRow> = order.iter().filter_map(|t| rows.remove(&t.key)).collect();
    for row in &mut out {
        // Of the forms that could have been completed (pending ones still can be).
        row.denominator_available = row.expected - row.pending;
        let rate = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
        row.received_rate = rate(row.received, row.denominator_available);
        row.in_window_rate = rate(row.in_window, row.denominator_available);
        row.received_rate_fixed = rate(row.received, row.denominator_fixed);
    }
    Ok(out)
}

/// An answer's code, or `None` when not applicable.
pub fn answer_code(answer: &RawAnswer) -> Option<i64> {
    match answer.response {
        RawResponse::Code(code) => Some(code),
        RawResponse::Marker(_) => None,
    }
}

/// A scored or missing outcome's columns: score, raw score, items answered, items in scale,
/// missing reason.
pub fn outcome_columns(outcome: &Outcome) -> (Option<f64>, Option<f64>, u8, u8, Option<String>) {
    match outcome {
        Outcome::Scored { score, raw_score, items_answered, items_in_scale } => {
            (Some(*score), Some(*raw_score), *items_answered, *items_in_scale, None)
        }
        Outcome::Missing { reason, items_answered, items_in_scale } => {
            (None, None, *items_answered, *items_in_scale, Some(crate::storage::enum_text(reason)))
        }
    }
}
