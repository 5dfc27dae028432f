//! Research: each patient as researchers may see them (study id, stratum, study days; never
//! identity or calendar dates), the analysis and completion reports built from those records,
//! and the exports, written patient by patient so memory stays flat however large the study.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use qol_shared::analysis::{self, Observation};
use qol_shared::answers::{RawAnswer, RawResponse};
use qol_shared::api::{AnalysisReport, CompletionRow, MissedReason, ScaleInfo, Timeliness, TimepointInfo};
use qol_shared::instrument::{InstrumentId, SCORING_ALGORITHM_VERSION, ScaleKind};
use qol_shared::schedule::AssessmentState;
use qol_shared::scoring::{Outcome, Scores};

use crate::clinic::{Clinic, ClinicError};
use crate::storage::{PatientRow, parse_timestamp};

/// The assessment every change is measured from, and the trial's primary "post".
pub const BASELINE: &str = "baseline";
pub const PRIMARY: &str = "end-of-treatment";

/// Patients read at a time when walking over all of them.
pub const PAGE: i64 = 200;

/// One patient, pseudonymised.
#[derive(Debug, Clone)]
pub struct PatientRecord {
    pub study_id: String,
    pub stratum: String,
    pub assessments: Vec<AssessmentRecord>,
}

#[derive(Debug, Clone)]
pub struct AssessmentRecord {
    pub key: String,
    pub code: String,
    pub label: String,
    pub unscheduled: bool,
    pub state: AssessmentState,
    pub target_day: Option<i64>,
    pub window_start_day: Option<i64>,
    pub window_end_day: Option<i64>,
    pub missed_reason: Option<MissedReason>,
    pub submission: Option<SubmissionRecord>,
}

/// The current version of the submission that completed an assessment.
#[derive(Debug, Clone)]
pub struct SubmissionRecord {
    pub id: i64,
    pub version: i64,
    pub completed_day: Option<i64>,
    pub timeliness: Timeliness,
    pub language: String,
    pub answers: Vec<RawAnswer>,
    pub scores: Vec<Scores>,
}

impl SubmissionRecord {
    /// qol refuses forms completed outside their window, so every scheduled submission was
    /// completed in it (a late delivery included); unscheduled reports have no window.
    pub fn in_window(&self) -> Option<bool> {
        match self.timeliness {
            Timeliness::OnTime | Timeliness::LateDelivery => Some(true),
            Timeliness::Unscheduled => None,
        }
    }

    pub fn score(&self, scale: &str) -> Option<f64> {
        self.scores.iter().find_map(|scores| scores.score(scale))
    }
}

impl PatientRecord {
    /// The patient's score of `scale` at baseline.
    pub fn baseline(&self, scale: &str) -> Option<f64> {
        self.assessments
            .iter()
            .find(|a| a.key == BASELINE)
            .and_then(|a| a.submission.as_ref())
            .and_then(|s| s.score(scale))
    }
}

impl Clinic {
    /// Everything research may see of one patient.
    pub async fn research_record(
        &self,
        patient: &PatientRow,
        today: NaiveDate,
    ) -> Result<PatientRecord, ClinicError> {
        let (statuses, events) = self.assessments(patient.id, today).await?;
        let submissions = self.db.submissions_of(patient.id).await?;
        let day = |date: NaiveDate| Clinic::study_day(&events, date);
        let mut assessments = Vec::with_capacity(statuses.len());
        for status in statuses {
            let row = status.row;
            let current = submissions.iter().filter(|s| s.assessment_id == row.id).max_by_key(|s| s.version);
            let submission = match current {
                Some(stored) => Some(SubmissionRecord {
                    id: stored.id,
                    version: stored.version,
                    completed_day: day(parse_timestamp(&stored.completed_at)?.date_naive()),
                    timeliness: stored.timeliness.clone(),
                    language: stored.language.clone(),
                    answers: self.db.answers_of(stored.id).await?,
                    scores: self.db.scores_of(stored.id).await?,
                }),
                None => None,
            };
            assessments.push(AssessmentRecord {
                key: row.key,
                code: row.code,
                label: row.label,
                unscheduled: row.unscheduled,
                state: status.state,
                target_day: day(row.target),
                window_start_day: day(row.window_start),
                window_end_day: day(row.window_end),
                missed_reason: row.missed_reason,
                submission,
            });
        }
        Ok(PatientRecord {
            study_id: patient.study_code.clone(),
            stratum: patient.stratum.clone(),
            assessments,
        })
    }

    /// Calls `each` with every patient's record, one at a time, in study id order.
    pub async fn for_each_record(
        &self,
        today: NaiveDate,
        mut each: impl FnMut(PatientRecord) -> Result<(), ClinicError>,
    ) -> Result<(), ClinicError> {
        let mut walk = Walk::new(self, today);
        while let Some(record) = walk.next().await? {
            each(record)?;
        }
        Ok(())
    }
}

/// Every patient's record in study id order, built one at a time; patients are read a page
/// ([`PAGE`]) at a time, so memory does not grow with the study.
#[derive(Debug)]
pub struct Walk<'a> {
    clinic: &'a Clinic,
    today: NaiveDate,
    page: std::vec::IntoIter<PatientRow>,
    after: String,
    done: bool,
}

impl<'a> Walk<'a> {
    pub fn new(clinic: &'a Clinic, today: NaiveDate) -> Walk<'a> {
        Walk { clinic, today, page: Vec::new().into_iter(), after: String::new(), done: false }
    }

    pub async fn next(&mut self) -> Result<Option<PatientRecord>, ClinicError> {
        loop {
            if let Some(patient) = self.page.next() {
                return Ok(Some(self.clinic.research_record(&patient, self.today).await?));
            }
            if self.done {
                return Ok(None);
            }
            let page = self.clinic.db.patients_after(&self.after, PAGE).await?;
            match page.last() {
                Some(last) => self.after = last.study_code.clone(),
                None => self.done = true,
            }
            self.page = page.into_iter();
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
    seen: BTreeMap<String, (String, Vec<i64>)>,
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

/// The pre/post analysis over every patient.
pub async fn analysis(
    clinic: &Clinic,
    today: NaiveDate,
    responder_points: f64,
) -> Result<AnalysisReport, ClinicError> {
    // Only numbers are kept per patient (scores by scale and timepoint), not whole records.
    let mut rows: Vec<(String, String, String, String, f64)> = Vec::new();
    let mut timeline = Timeline::default();
    let mut strata: Vec<String> = clinic.protocol.strata.iter().map(|s| s.code.clone()).collect();
    clinic
        .for_each_record(today, |record| {
            for assessment in &record.assessments {
                timeline.add(assessment);
                let Some(submission) =
                    (!assessment.unscheduled).then_some(()).and(assessment.submission.as_ref())
                else {
                    continue;
                };
                for scores in &submission.scores {
                    for scale in &scores.scales {
                        if let Some(score) = scale.score() {
                            rows.push((
                                record.study_id.clone(),
                                record.stratum.clone(),
                                assessment.key.clone(),
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
    let timepoints = timeline.ordered(&clinic.protocol);
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
    Ok(AnalysisReport {
        responder_points,
        baseline: BASELINE.to_owned(),
        primary: PRIMARY.to_owned(),
        algorithm_version: SCORING_ALGORITHM_VERSION.to_owned(),
        changes: analysis::change_summaries(
            &observations,
            BASELINE,
            &keys,
            &scale_kinds,
            &strata_refs,
            responder_points,
        ),
        means: analysis::timepoint_means(&observations, &keys, &scale_kinds, &strata_refs),
        timepoints,
        strata,
        scales: scale_list,
    })
}

/// Completion by assessment, in the manner SISAQOL recommends: of the patients on study whose
/// window has opened (expected), how many forms arrived, in the window, and why the others did
/// not.
pub async fn completion(clinic: &Clinic, today: NaiveDate) -> Result<Vec<CompletionRow>, ClinicError> {
    let mut rows: BTreeMap<String, CompletionRow> = BTreeMap::new();
    let mut timeline = Timeline::default();
    clinic
        .for_each_record(today, |record| {
            for assessment in record.assessments.iter().filter(|a| !a.unscheduled) {
                timeline.add(assessment);
                let row = rows.entry(assessment.key.clone()).or_insert_with(|| CompletionRow {
                    key: assessment.key.clone(),
                    label: assessment.label.clone(),
                    ..CompletionRow::default()
                });
                match assessment.state {
                    AssessmentState::Upcoming => row.not_yet_due += 1,
                    AssessmentState::NotApplicable => row.not_applicable += 1,
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
                        if submission.is_some_and(|s| s.timeliness == Timeliness::LateDelivery) {
                            row.late_delivery += 1;
                        }
                    }
                    AssessmentState::Missed => {
                        row.expected += 1;
                        row.missed += 1;
                        let reason = assessment
                            .missed_reason
                            .map_or_else(|| "awaiting_reason".to_owned(), |r| crate::storage::enum_text(&r));
                        *row.missed_reasons.entry(reason).or_default() += 1;
                    }
                }
            }
            Ok(())
        })
        .await?;
    let order = timeline.ordered(&clinic.protocol);
    let mut out: Vec<CompletionRow> = order.iter().filter_map(|t| rows.remove(&t.key)).collect();
    for row in &mut out {
        // Of the forms that could have been completed (pending ones still can be).
        let closed = row.expected - row.pending;
        row.received_rate = (closed > 0).then(|| row.received as f64 / closed as f64);
        row.in_window_rate = (closed > 0).then(|| row.in_window as f64 / closed as f64);
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
