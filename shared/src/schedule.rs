//! The assessment schedule: a protocol (data, `shared/protocol/default.json`) and a patient's
//! treatment events → the assessments with their windows, and each assessment's state on a day.
//! Pure functions of their inputs: correcting an event date and recomputing moves the windows.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::instrument::InstrumentId;

pub const PROTOCOL_FORMAT: &str = "qol-protocol/1";
/// The key of the assessment every change is measured from (the protocol's first form).
pub const BASELINE: &str = "baseline";

/// Which assessment of a patient, stable across recomputation of the schedule: the protocol's
/// assessment code, plus the occurrence for repeats (`baseline`, `weekly-03`), or
/// `unscheduled-…` for an "I feel worse" report. One type wherever an assessment is named (the
/// schedule, storage, the API, research); spelled on the wire as its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssessmentKey(String);

impl AssessmentKey {
    /// The key of occurrence `occurrence` (from 1) of the assessment `code`, or of the
    /// assessment itself when it does not repeat.
    pub fn of(code: &str, occurrence: Option<u32>) -> AssessmentKey {
        AssessmentKey(match occurrence {
            Some(n) => format!("{code}-{n:02}"),
            None => code.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the baseline, the assessment every change is measured from.
    pub fn is_baseline(&self) -> bool {
        self.0 == BASELINE
    }
}

impl From<String> for AssessmentKey {
    fn from(text: String) -> AssessmentKey {
        AssessmentKey(text)
    }
}

impl From<&str> for AssessmentKey {
    fn from(text: &str) -> AssessmentKey {
        AssessmentKey(text.to_owned())
    }
}

impl std::fmt::Display for AssessmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read as its text wherever text is wanted (a CSV cell, a label, a comparison).
impl std::ops::Deref for AssessmentKey {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for AssessmentKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<String> for AssessmentKey {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<str> for AssessmentKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for AssessmentKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
const DEFAULT_PROTOCOL_JSON: &str = include_str!("../protocol/default.json");

/// A study protocol: strata and the assessments, each anchored to a clinical event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub format: String,
    pub name: String,
    /// Study ids are this prefix, a dash and a number: `IVB-017`.
    pub patient_id_prefix: String,
    /// The study's time zone (an IANA name: `Asia/Shanghai`, `Etc/GMT-8`). It decides what day
    /// it is for the study: "today", window edges, study days, the day a form was completed.
    /// Timestamps are stored in UTC.
    pub time_zone: chrono_tz::Tz,
    /// A form completed inside its window but delivered this many days after the window closed is
    /// still accepted, and flagged as late.
    pub late_delivery_grace_days: u32,
    pub strata: Vec<Stratum>,
    pub total_cycles: u8,
    pub assessments: Vec<AssessmentDefinition>,
    /// The alert rules' settings and the worklist's service level (defaults when left out).
    #[serde(default)]
    pub alerts: crate::alerts::AlertSettings,
    /// When patients are told a form is open and reminded before it closes (on, with defaults,
    /// when left out).
    #[serde(default)]
    pub reminders: crate::reminders::ReminderSettings,
    /// No day has two open forms asking the same questionnaire (see [`one_form_a_day`]): a
    /// weekly QLQ-C30 whose window overlaps a fuller form's is satisfied by that form.
    #[serde(default)]
    pub one_form_at_a_time: bool,
    /// The study team's number and the advice for emergencies, shown to patients (none when
    /// left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::patient_info::ContactSettings>,
    /// What patients see of their own results (no scores when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_view: Option<crate::patient_info::PatientViewSettings>,
    /// Paper forms count only once two staff members have entered them blind and agree (or a
    /// later entry resolved what they disagreed on): docs/api.md, "Double entry of paper forms".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paper_double_entry: bool,
    /// The study's own thresholds of meaningful change per scale and direction, with their
    /// source, for responders and time to deterioration (`thresholds=study`; 10 points on every
    /// scale when left out): docs/research.md, "Thresholds".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_thresholds: Option<crate::thresholds::StudyThresholds>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stratum {
    pub code: String,
    pub label: String,
    pub induction_cycles: u8,
}

/// The clinical events an assessment can be anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    Enrolment,
    Cycle1Day1,
    InductionResponse,
    RadiotherapyEnd,
    EndOfTreatment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentDefinition {
    pub code: String,
    pub label: String,
    /// The label in each language, by tag (`en`, `zh-Hans`); `label` where a language has none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    pub instruments: Vec<InstrumentId>,
    pub anchor: Anchor,
    /// Calendar months added to the anchor date to get the target date (follow-ups).
    #[serde(default)]
    pub offset_months: u32,
    /// The window, in days relative to the target date (both ends included).
    pub start_days: i32,
    pub end_days: i32,
    /// The window closes on this event's date instead, once it is recorded (baseline closes at
    /// cycle 1 day 1); until then `end_days` applies.
    #[serde(default)]
    pub ends_at: Option<Anchor>,
    #[serde(default)]
    pub repeat: Option<Repeat>,
    /// The primary "post" assessment of the trial (end of treatment).
    #[serde(default)]
    pub primary_post: bool,
}

/// A repeating assessment (weekly during therapy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    pub every_days: u32,
    /// Occurrences whose window starts before this event's date; while it is not recorded,
    /// occurrences up to `ahead_days` after today.
    pub until: Anchor,
    pub ahead_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the protocol is not valid JSON: {0}")]
    Json(String),
    #[error(
        "time_zone {0:?} is not an IANA time zone name (e.g. \"Asia/Shanghai\" or \"Etc/GMT-8\"; \
         note that Etc/GMT-8 is UTC+8)"
    )]
    TimeZone(String),
    #[error("the protocol's format is {0:?}; expected {PROTOCOL_FORMAT:?}")]
    Format(String),
    #[error("assessment {code:?}: {problem}")]
    Assessment { code: String, problem: String },
    #[error("the protocol has no strata")]
    NoStrata,
    #[error("alerts: {0}")]
    Alerts(String),
    /// The message names its key (`reminders.send_at: …`).
    #[error("{0}")]
    Reminders(String),
    /// The message names its key (`contact.phone: …`).
    #[error("{0}")]
    Contact(String),
    /// The message names its key (`patient_view.scores: …`).
    #[error("{0}")]
    PatientView(String),
    /// The message names its key (`change_thresholds.scales.PF2.deterioration: …`).
    #[error("{0}")]
    ChangeThresholds(String),
}

/// The label of an unscheduled report ("I feel worse"), in each language.
pub const UNSCHEDULED_LABEL: &str = "Unscheduled report";
pub const UNSCHEDULED_LABELS: [(&str, &str); 2] = [("en", UNSCHEDULED_LABEL), ("zh-Hans", "计划外报告")];

impl Protocol {
    pub fn parse(json: &str) -> Result<Protocol, ProtocolError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|error| ProtocolError::Json(error.to_string()))?;
        // Named here rather than in serde's message, which would not say what a valid one is.
        if let Some(zone) = value.get("time_zone").and_then(|zone| zone.as_str())
            && zone.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(ProtocolError::TimeZone(zone.to_owned()));
        }
        // A section's required key is named with its section, not in serde's words.
        if let Some(contact) = value.get("contact").and_then(|contact| contact.as_object())
            && !contact.contains_key("phone")
        {
            return Err(ProtocolError::Contact(
                "contact.phone: is missing: the study team's telephone number, as dialled".into(),
            ));
        }
        let protocol: Protocol =
            serde_json::from_value(value).map_err(|error| ProtocolError::Json(error.to_string()))?;
        if protocol.format != PROTOCOL_FORMAT {
            return Err(ProtocolError::Format(protocol.format));
        }
        if protocol.strata.is_empty() {
            return Err(ProtocolError::NoStrata);
        }
        if let Some(problem) = protocol.alerts.problems().into_iter().next() {
            return Err(ProtocolError::Alerts(problem));
        }
        if let Some(problem) = protocol.reminders.problems().into_iter().next() {
            return Err(ProtocolError::Reminders(problem));
        }
        if let Some(problem) = protocol.contact.iter().flat_map(|contact| contact.problems()).next() {
            return Err(ProtocolError::Contact(problem));
        }
        if let Some(problem) = protocol.patient_view.iter().flat_map(|view| view.problems()).next() {
            return Err(ProtocolError::PatientView(problem));
        }
        if let Some(problem) = protocol
            .change_thresholds
            .iter()
            .flat_map(|table| table.problems(crate::instrument::is_scale_code))
            .next()
        {
            return Err(ProtocolError::ChangeThresholds(problem));
        }
        let mut seen = std::collections::BTreeSet::new();
        for definition in &protocol.assessments {
            let problem = |problem: &str| ProtocolError::Assessment {
                code: definition.code.clone(),
                problem: problem.to_owned(),
            };
            if !seen.insert(definition.code.as_str()) {
                return Err(problem("the code is used twice"));
            }
            if definition.code.is_empty()
                || !definition.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(problem("codes are lowercase letters, digits and '-'"));
            }
            if definition.end_days < definition.start_days {
                return Err(problem("the window ends before it starts"));
            }
            if definition.instruments.is_empty() {
                return Err(problem("no instrument"));
            }
            if definition.repeat.as_ref().is_some_and(|repeat| repeat.every_days == 0) {
                return Err(problem("repeat.every_days must be at least 1"));
            }
            if let Some(text) = crate::language::text_problems("labels", &definition.labels, false).first() {
                return Err(problem(text));
            }
        }
        Ok(protocol)
    }

    /// What stops `newer` from amending this protocol while the study runs, each naming its key:
    /// study ids keep their prefix, the study's days their time zone (a day computed in another
    /// zone would move every window already open), and every stratum a patient may be enrolled
    /// in stays.
    pub fn amendment_problems(&self, newer: &Protocol) -> Vec<String> {
        let mut problems = Vec::new();
        if newer.patient_id_prefix != self.patient_id_prefix {
            problems.push(format!(
                "patient_id_prefix: is {:?}; an amendment keeps {:?} (patients' study ids are made with it)",
                newer.patient_id_prefix, self.patient_id_prefix
            ));
        }
        if newer.time_zone != self.time_zone {
            problems.push(format!(
                "time_zone: is {:?}; an amendment keeps {:?} (the study's days and every window are computed in it)",
                newer.time_zone.name(),
                self.time_zone.name()
            ));
        }
        // A repeating assessment's occurrences are numbered from its anchor at its interval
        // (`weekly-05` is the fifth week): an amendment keeps what the numbers mean.
        for definition in self.assessments.iter().filter(|d| d.repeat.is_some()) {
            let Some(amended) = newer.assessments.iter().find(|d| d.code == definition.code) else {
                continue;
            };
            let every = |d: &AssessmentDefinition| d.repeat.as_ref().map(|repeat| repeat.every_days);
            let kept = amended.anchor == definition.anchor
                && amended.start_days == definition.start_days
                && amended.offset_months == definition.offset_months
                && every(amended) == every(definition);
            if !kept {
                problems.push(format!(
                    "assessments.{}: an amendment keeps a repeating assessment's anchor, start_days and \
                     repeat.every_days (its numbered occurrences keep their meaning); add an assessment \
                     with a new code instead",
                    definition.code
                ));
            }
        }
        for stratum in &self.strata {
            if !newer.strata.iter().any(|kept| kept.code == stratum.code) {
                problems.push(format!(
                    "strata.{}: is missing; an amendment keeps every stratum (patients are enrolled in them)",
                    stratum.code
                ));
            }
        }
        problems
    }

    /// The protocol of the trial qol was built for (product.md).
    pub fn default_protocol() -> Protocol {
        Protocol::parse(DEFAULT_PROTOCOL_JSON)
            .unwrap_or_else(|error| panic!("the default protocol is invalid: {error}"))
    }

    /// Whether this is the shipped protocol (not a site's own file).
    pub fn is_shipped(&self) -> bool {
        *self == Protocol::default_protocol()
    }

    pub fn default_protocol_json() -> &'static str {
        DEFAULT_PROTOCOL_JSON
    }

    /// The study's calendar day at the instant `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    pub fn stratum(&self, code: &str) -> Option<&Stratum> {
        self.strata.iter().find(|stratum| stratum.code == code)
    }

    pub fn definition(&self, code: &str) -> Option<&AssessmentDefinition> {
        self.assessments.iter().find(|definition| definition.code == code)
    }

    /// The label of the assessment `code` in each language the protocol gives (an unscheduled
    /// report's are built in); empty for a code the protocol no longer has.
    pub fn labels_of(&self, code: &str, unscheduled: bool) -> BTreeMap<String, String> {
        if unscheduled {
            return UNSCHEDULED_LABELS
                .iter()
                .map(|(tag, text)| ((*tag).to_owned(), (*text).to_owned()))
                .collect();
        }
        self.definition(code).map(|definition| definition.labels.clone()).unwrap_or_default()
    }

    /// The score codes a patient sees in her history, in order (none unless `patient_view`
    /// says so).
    pub fn scores_shown_to_patients(&self) -> &[String] {
        self.patient_view.as_ref().map(|view| view.scores.as_slice()).unwrap_or_default()
    }

    /// After how many seconds without a touch the patient's app locks itself (`patient_view.
    /// idle_lock_minutes`, 5 minutes when left out).
    pub fn idle_lock_seconds(&self) -> u32 {
        let minutes = self.patient_view.as_ref().and_then(|view| view.idle_lock_minutes);
        minutes.unwrap_or(crate::patient_info::IDLE_LOCK_MINUTES) * 60
    }
}

/// Tumour response at the induction evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TumourResponse {
    #[serde(rename = "CR")]
    CompleteResponse,
    #[serde(rename = "PR")]
    PartialResponse,
    #[serde(rename = "SD")]
    StableDisease,
    #[serde(rename = "PD")]
    ProgressiveDisease,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OffStudyReason {
    Progression,
    Death,
    Withdrawal,
    LostToFollowUp,
}

/// A treatment event as nurses record it. Each kind (each cycle number) has one current date;
/// recording it again is a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    Enrolment,
    ChemotherapyCycle { cycle: u8 },
    InductionResponse { response: TumourResponse },
    RadiotherapyStart,
    RadiotherapyEnd,
    EndOfTreatment,
    OffStudy { reason: OffStudyReason },
}

impl EventKind {
    /// Which slot the event fills: events with the same slot replace each other.
    pub fn slot(&self) -> String {
        match self {
            EventKind::Enrolment => "enrolment".into(),
            EventKind::ChemotherapyCycle { cycle } => format!("chemotherapy_cycle_{cycle}"),
            EventKind::InductionResponse { .. } => "induction_response".into(),
            EventKind::RadiotherapyStart => "radiotherapy_start".into(),
            EventKind::RadiotherapyEnd => "radiotherapy_end".into(),
            EventKind::EndOfTreatment => "end_of_treatment".into(),
            EventKind::OffStudy { .. } => "off_study".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    #[serde(flatten)]
    pub kind: EventKind,
    pub date: NaiveDate,
}

/// The current date of each event slot of one patient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Events {
    by_slot: BTreeMap<String, Event>,
}

/// An order of events that cannot have happened: refused, naming the conflicting event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("chemotherapy cycle {cycle} is outside the protocol's cycles 1–{total}")]
    CycleOutOfRange { cycle: u8, total: u8 },
    #[error("{slot} on {date} is before enrolment on {enrolment}")]
    BeforeEnrolment { slot: String, date: NaiveDate, enrolment: NaiveDate },
    #[error(
        "chemotherapy cycle {cycle} is recorded but cycle {previous} is not: record cycle {previous} first"
    )]
    CycleSkipped { cycle: u8, previous: u8 },
    #[error(
        "chemotherapy cycle {cycle} on {date} is not after chemotherapy cycle {previous} on {previous_date}"
    )]
    CycleOutOfOrder { cycle: u8, date: NaiveDate, previous: u8, previous_date: NaiveDate },
    #[error("radiotherapy end on {end} is recorded but radiotherapy start is not: record the start first")]
    RadiotherapyEndWithoutStart { end: NaiveDate },
    #[error("radiotherapy end on {end} is before radiotherapy start on {start}")]
    RadiotherapyEndsBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error("end of treatment on {end} is before cycle 1 day 1 on {cycle1}")]
    TreatmentEndsBeforeItStarts { cycle1: NaiveDate, end: NaiveDate },
    #[error("end of treatment on {end} is before chemotherapy cycle {cycle} on {date}")]
    TreatmentEndsBeforeACycle { end: NaiveDate, cycle: u8, date: NaiveDate },
    #[error("end of treatment on {end} is before radiotherapy {which} on {radiotherapy}")]
    TreatmentEndsBeforeRadiotherapy { end: NaiveDate, which: &'static str, radiotherapy: NaiveDate },
    #[error(
        "the induction response on {date} is not after cycle 1 day 1 on {cycle1}: there was nothing to evaluate yet"
    )]
    ResponseBeforeTreatment { date: NaiveDate, cycle1: NaiveDate },
    #[error("the induction response on {date} is recorded but cycle 1 day 1 is not: record cycle 1 first")]
    ResponseWithoutTreatment { date: NaiveDate },
    #[error("{slot} on {date} is after her death on {death}")]
    AfterDeath { slot: String, date: NaiveDate, death: NaiveDate },
}

/// An order of events that is unusual but possible: accepted, and the nurse is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventWarning {
    #[error(
        "the induction response on {date} comes after {cycles} of the {stratum} stratum's {planned} induction cycles; check the cycles recorded"
    )]
    EarlyResponse { date: NaiveDate, cycles: u8, stratum: String, planned: u8 },
    #[error("end of treatment after {cycles} of the protocol's {planned} cycles; check the cycles recorded")]
    FewerCycles { cycles: u8, planned: u8 },
    #[error(
        "progressive disease at the induction response: if she leaves the study, record off study (progression); her weekly questionnaires continue until then"
    )]
    ProgressionProposesOffStudy,
    #[error("the record already had this problem, please correct it: {0}")]
    StandingProblem(String),
}

impl Events {
    /// The events in recording order; a later event of the same slot replaces an earlier one.
    pub fn from_records(records: impl IntoIterator<Item = Event>) -> Events {
        let mut by_slot = BTreeMap::new();
        for event in records {
            by_slot.insert(event.kind.slot(), event);
        }
        Events { by_slot }
    }

    pub fn get(&self, slot: &str) -> Option<&Event> {
        self.by_slot.get(slot)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.by_slot.values()
    }

    pub fn date_of(&self, anchor: Anchor) -> Option<NaiveDate> {
        let slot = match anchor {
            Anchor::Enrolment => "enrolment",
            Anchor::Cycle1Day1 => "chemotherapy_cycle_1",
            Anchor::InductionResponse => "induction_response",
            Anchor::RadiotherapyEnd => "radiotherapy_end",
            Anchor::EndOfTreatment => "end_of_treatment",
        };
        self.by_slot.get(slot).map(|event| event.date)
    }

    pub fn off_study(&self) -> Option<(NaiveDate, OffStudyReason)> {
        match self.by_slot.get("off_study") {
            Some(Event { kind: EventKind::OffStudy { reason }, date }) => Some((*date, *reason)),
            _ => None,
        }
    }

    /// The recorded chemotherapy cycles, by number.
    fn cycles(&self) -> BTreeMap<u8, NaiveDate> {
        self.by_slot
            .values()
            .filter_map(|event| match event.kind {
                EventKind::ChemotherapyCycle { cycle } => Some((cycle, event.date)),
                _ => None,
            })
            .collect()
    }

    /// Every impossible order in these events, each naming the events that conflict.
    fn order_problems(&self) -> Vec<EventError> {
        let mut problems = Vec::new();
        if let Some(enrolment) = self.date_of(Anchor::Enrolment) {
            for (slot, event) in &self.by_slot {
                if event.date < enrolment {
                    problems.push(EventError::BeforeEnrolment {
                        slot: slot.clone(),
                        date: event.date,
                        enrolment,
                    });
                }
            }
        }
        // Cycles follow each other, each after the one before.
        let cycles = self.cycles();
        for (&cycle, &date) in &cycles {
            if cycle == 1 {
                continue;
            }
            match cycles.get(&(cycle - 1)) {
                None => problems.push(EventError::CycleSkipped { cycle, previous: cycle - 1 }),
                Some(&previous_date) if date <= previous_date => {
                    problems.push(EventError::CycleOutOfOrder {
                        cycle,
                        date,
                        previous: cycle - 1,
                        previous_date,
                    });
                }
                Some(_) => {}
            }
        }
        let radiotherapy_start = self.get("radiotherapy_start").map(|event| event.date);
        let radiotherapy_end = self.get("radiotherapy_end").map(|event| event.date);
        match (radiotherapy_start, radiotherapy_end) {
            (None, Some(end)) => problems.push(EventError::RadiotherapyEndWithoutStart { end }),
            (Some(start), Some(end)) if end < start => {
                problems.push(EventError::RadiotherapyEndsBeforeStart { start, end });
            }
            _ => {}
        }
        if let Some(end) = self.date_of(Anchor::EndOfTreatment) {
            if let Some(cycle1) = self.date_of(Anchor::Cycle1Day1)
                && end < cycle1
            {
                problems.push(EventError::TreatmentEndsBeforeItStarts { cycle1, end });
            }
            if let Some((&cycle, &date)) = cycles.iter().rev().find(|(_, date)| end < **date) {
                problems.push(EventError::TreatmentEndsBeforeACycle { end, cycle, date });
            }
            let radiotherapy =
                radiotherapy_end.map(|date| ("end", date)).or(radiotherapy_start.map(|date| ("start", date)));
            if let Some((which, radiotherapy)) = radiotherapy
                && end < radiotherapy
            {
                problems.push(EventError::TreatmentEndsBeforeRadiotherapy { end, which, radiotherapy });
            }
        }
        if let Some(Event { kind: EventKind::InductionResponse { .. }, date }) =
            self.get("induction_response")
        {
            match self.date_of(Anchor::Cycle1Day1) {
                None => problems.push(EventError::ResponseWithoutTreatment { date: *date }),
                Some(cycle1) if *date <= cycle1 => {
                    problems.push(EventError::ResponseBeforeTreatment { date: *date, cycle1 });
                }
                Some(_) => {}
            }
        }
        // Nothing happens to a patient after her death.
        if let Some((death, OffStudyReason::Death)) = self.off_study() {
            for (slot, event) in &self.by_slot {
                if slot != "off_study" && event.date > death {
                    problems.push(EventError::AfterDeath { slot: slot.clone(), date: event.date, death });
                }
            }
        }
        problems
    }

    /// Checks the events as they would be with `candidate` recorded: an impossible order that
    /// `candidate` brings is refused, naming the event it conflicts with; an unusual one is
    /// accepted with warnings. Problems the record already had (recorded before these checks
    /// existed) do not block a new event: they come back as warnings, so that a death can always
    /// be recorded. `stratum` (the patient's) sets how many induction cycles come before the
    /// response.
    pub fn check_with(
        &self,
        protocol: &Protocol,
        stratum: Option<&Stratum>,
        candidate: Event,
    ) -> Result<(Events, Vec<EventWarning>), EventError> {
        if let EventKind::ChemotherapyCycle { cycle } = candidate.kind
            && (cycle == 0 || cycle > protocol.total_cycles)
        {
            return Err(EventError::CycleOutOfRange { cycle, total: protocol.total_cycles });
        }
        let mut next = self.clone();
        next.by_slot.insert(candidate.kind.slot(), candidate);
        let standing = self.order_problems();
        let mut warnings = Vec::new();
        for problem in next.order_problems() {
            if standing.contains(&problem) {
                warnings.push(EventWarning::StandingProblem(problem.to_string()));
            } else {
                return Err(problem);
            }
        }
        let cycles = next.cycles();
        if candidate.kind == EventKind::EndOfTreatment {
            let given = u8::try_from(cycles.len()).unwrap_or(u8::MAX);
            if given < protocol.total_cycles {
                warnings.push(EventWarning::FewerCycles { cycles: given, planned: protocol.total_cycles });
            }
        }
        if let EventKind::InductionResponse { response } = candidate.kind {
            if let Some(stratum) = stratum {
                let before = cycles.values().filter(|cycle| **cycle < candidate.date).count();
                let before = u8::try_from(before).unwrap_or(u8::MAX);
                if before < stratum.induction_cycles {
                    warnings.push(EventWarning::EarlyResponse {
                        date: candidate.date,
                        cycles: before,
                        stratum: stratum.code.clone(),
                        planned: stratum.induction_cycles,
                    });
                }
            }
            if response == TumourResponse::ProgressiveDisease && next.off_study().is_none() {
                warnings.push(EventWarning::ProgressionProposesOffStudy);
            }
        }
        Ok((next, warnings))
    }
}

/// One assessment of one patient, with its window (both ends included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledAssessment {
    /// Stable across recomputation: the definition code, plus the occurrence for repeats
    /// (`weekly-03`).
    pub key: AssessmentKey,
    pub code: String,
    pub label: String,
    pub occurrence: Option<u32>,
    pub instruments: Vec<InstrumentId>,
    pub target: NaiveDate,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub primary_post: bool,
}

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs())).unwrap_or(NaiveDate::MAX)
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs())).unwrap_or(NaiveDate::MIN)
    }
}

/// At most this many occurrences of a repeating assessment (two years of weeks).
const MAX_OCCURRENCES: u32 = 104;

/// The assessments due under `protocol` given `events`, ordered by window start. An assessment
/// whose anchor event is not recorded yet is not scheduled. `today` only bounds repeating
/// assessments whose end event is not recorded yet.
pub fn schedule(protocol: &Protocol, events: &Events, today: NaiveDate) -> Vec<ScheduledAssessment> {
    let mut out = Vec::new();
    let off_study = events.off_study().map(|(date, _)| date);
    for definition in &protocol.assessments {
        let Some(anchor_date) = events.date_of(definition.anchor) else { continue };
        let target = if definition.offset_months > 0 {
            match anchor_date.checked_add_months(Months::new(definition.offset_months)) {
                Some(date) => date,
                None => continue,
            }
        } else {
            anchor_date
        };
        let make =
            |target: NaiveDate, window_start, window_end, occurrence: Option<u32>| ScheduledAssessment {
                key: AssessmentKey::of(&definition.code, occurrence),
                code: definition.code.clone(),
                label: definition.label.clone(),
                occurrence,
                instruments: definition.instruments.clone(),
                target,
                window_start,
                window_end,
                primary_post: definition.primary_post,
            };
        match &definition.repeat {
            None => {
                let window_start = add_days(target, definition.start_days.into());
                let closing = definition.ends_at.and_then(|anchor| events.date_of(anchor));
                let window_end = match closing {
                    Some(date) => date.max(window_start),
                    None => add_days(target, definition.end_days.into()),
                };
                out.push(make(target, window_start, window_end, None));
            }
            Some(repeat) => {
                let until = events.date_of(repeat.until);
                let horizon = add_days(today, repeat.ahead_days.into());
                for n in 1..=MAX_OCCURRENCES {
                    let shift = i64::from(repeat.every_days) * i64::from(n - 1);
                    let window_start = add_days(anchor_date, i64::from(definition.start_days) + shift);
                    let window_end = add_days(anchor_date, i64::from(definition.end_days) + shift);
                    let within = match until {
                        Some(until) => window_start < until,
                        None => window_start <= horizon && off_study.is_none_or(|off| window_start <= off),
                    };
                    if !within {
                        break;
                    }
                    out.push(make(window_start, window_start, window_end, Some(n)));
                }
            }
        }
    }
    if protocol.one_form_at_a_time {
        // A window that ends at an event (the baseline's, at cycle 1 day 1) is the protocol's.
        let fixed: Vec<&str> = protocol
            .assessments
            .iter()
            .filter(|definition| definition.ends_at.is_some())
            .map(|definition| definition.code.as_str())
            .collect();
        one_form_a_day(&mut out, &fixed);
    }
    out.sort_by(|a, b| (a.window_start, &a.key).cmp(&(b.window_start, &b.key)));
    out
}

/// The protocol's `one_form_at_a_time` rule: no day has two open forms asking the same
/// questionnaire, so a sick patient is never asked the same QLQ-C30 items twice at once.
///
/// - Of two assessments asked once whose windows overlap and that share a questionnaire, the
///   earlier closes the day before the later opens; one left with no day (both open together) is
///   satisfied by the other and not scheduled — the primary "post" assessment (end of treatment)
///   is the one kept. An assessment in `fixed` (one whose window ends at an event: the baseline,
///   the reference every change is measured from) is never cut, and cuts nothing.
/// - Each occurrence of a repeating assessment (weekly) keeps only its days outside the windows
///   of the assessments asked once that share a questionnaire with it: the days before such a
///   window, or else the days after it. An occurrence with no day left is satisfied by the
///   fuller form and not scheduled (its number is not reused, so `weekly-05` always means the
///   fifth week).
pub fn one_form_a_day(out: &mut Vec<ScheduledAssessment>, fixed: &[&str]) {
    let shares = |a: &ScheduledAssessment, b: &ScheduledAssessment| {
        a.instruments.iter().any(|id| b.instruments.contains(id))
    };
    let overlap = |a: &ScheduledAssessment, b: &ScheduledAssessment| {
        a.window_start <= b.window_end && b.window_start <= a.window_end
    };
    let mut once: Vec<ScheduledAssessment> = out.iter().filter(|a| a.occurrence.is_none()).cloned().collect();
    // Earliest first; among equal starts the primary "post" last, so that it is kept.
    once.sort_by_key(|a| (a.window_start, a.primary_post));
    // From the latest back: each is cut by the later ones that are kept.
    let mut kept: Vec<ScheduledAssessment> = Vec::with_capacity(once.len());
    for assessment in once.into_iter().rev() {
        let mut assessment = assessment;
        for later in &kept {
            let exempt = fixed.contains(&assessment.code.as_str()) || fixed.contains(&later.code.as_str());
            if !exempt && shares(&assessment, later) && overlap(&assessment, later) {
                assessment.window_end = assessment.window_end.min(add_days(later.window_start, -1));
            }
        }
        if assessment.window_end >= assessment.window_start {
            kept.push(assessment);
        }
    }
    kept.reverse();
    let mut result = kept.clone();
    'occurrences: for occurrence in out.iter().filter(|a| a.occurrence.is_some()) {
        let mut occurrence = occurrence.clone();
        for fuller in &kept {
            if !shares(&occurrence, fuller) || !overlap(&occurrence, fuller) {
                continue;
            }
            if occurrence.window_start < fuller.window_start {
                occurrence.window_end = add_days(fuller.window_start, -1);
            } else if occurrence.window_end > fuller.window_end {
                occurrence.window_start = add_days(fuller.window_end, 1);
                occurrence.target = occurrence.window_start;
            } else {
                continue 'occurrences;
            }
        }
        result.push(occurrence);
    }
    *out = result;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AssessmentState {
    Upcoming,
    Open,
    Completed,
    Missed,
    NotApplicable,
}

impl AssessmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentState::Upcoming => "upcoming",
            AssessmentState::Open => "open",
            AssessmentState::Completed => "completed",
            AssessmentState::Missed => "missed",
            AssessmentState::NotApplicable => "not_applicable",
        }
    }
}

/// The state of `assessment` on `today`. Going off study makes an assessment whose window had not
/// opened yet not applicable; one whose window was open then (or had closed) and that was not
/// completed is missed: the patient was on study when it was due (SISAQOL counts it).
pub fn state_on(
    assessment: &ScheduledAssessment,
    today: NaiveDate,
    completed: bool,
    off_study: Option<NaiveDate>,
) -> AssessmentState {
    if completed {
        AssessmentState::Completed
    } else if off_study.is_some_and(|off| off < assessment.window_start) {
        AssessmentState::NotApplicable
    } else if off_study.is_some_and(|off| off <= assessment.window_end) {
        // Off study while the window was open: the form can no longer come.
        AssessmentState::Missed
    } else if today < assessment.window_start {
        AssessmentState::Upcoming
    } else if today <= assessment.window_end {
        AssessmentState::Open
    } else {
        AssessmentState::Missed
    }
}

pub use crate::api::Timeliness;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WindowRefusal {
    #[error("this questionnaire opens on {opens}; please answer it then")]
    NotOpenYet { opens: NaiveDate },
    #[error("the time for this questionnaire ended on {closed}; it can no longer be sent")]
    Closed { closed: NaiveDate },
}

/// Whether a form for `assessment` completed on `completed_on` (device clock) and received on
/// `received_on` (server clock) is accepted: on time, or late delivery (completed inside the
/// window, delivered after it closed but within the grace period); never `Unscheduled`.
pub fn check_window(
    assessment: &ScheduledAssessment,
    completed_on: NaiveDate,
    received_on: NaiveDate,
    grace_days: u32,
) -> Result<Timeliness, WindowRefusal> {
    let opens = assessment.window_start;
    let closed = assessment.window_end;
    if received_on < opens || completed_on < opens {
        return Err(WindowRefusal::NotOpenYet { opens });
    }
    if received_on <= closed {
        return Ok(Timeliness::OnTime);
    }
    if completed_on <= closed && received_on <= add_days(closed, grace_days.into()) {
        return Ok(Timeliness::LateDelivery);
    }
    Err(WindowRefusal::Closed { closed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assessment_key_is_its_code_and_occurrence_and_is_text_on_the_wire() {
        let week = AssessmentKey::of("weekly", Some(3));
        assert_eq!(week, "weekly-03");
        assert_eq!(serde_json::to_string(&week).unwrap(), "\"weekly-03\"");
        assert_eq!(serde_json::from_str::<AssessmentKey>("\"weekly-03\"").unwrap(), week);
        let baseline = AssessmentKey::of(BASELINE, None);
        assert!(baseline.is_baseline() && !week.is_baseline());
        assert!(week.starts_with("weekly-"), "read as text where text is wanted");
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn event(kind: EventKind, date: &str) -> Event {
        Event { kind, date: day(date) }
    }

    /// (key, window start, window end) of each scheduled assessment.
    fn windows(events: &[Event], today: &str) -> Vec<(String, String, String)> {
        schedule(&Protocol::default_protocol(), &Events::from_records(events.iter().copied()), day(today))
            .into_iter()
            .map(|a| (a.key.to_string(), a.window_start.to_string(), a.window_end.to_string()))
            .collect()
    }

    fn w(key: &str, start: &str, end: &str) -> (String, String, String) {
        (key.into(), start.into(), end.into())
    }

    const ENROLMENT: EventKind = EventKind::Enrolment;
    const C1: EventKind = EventKind::ChemotherapyCycle { cycle: 1 };

    #[test]
    fn the_default_protocol_loads_with_both_strata_and_every_assessment() {
        let protocol = Protocol::default_protocol();
        assert_eq!(protocol.stratum("nodal").unwrap().induction_cycles, 2);
        assert_eq!(protocol.stratum("hematogenous").unwrap().induction_cycles, 4);
        let codes: Vec<&str> = protocol.assessments.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "baseline",
                "weekly",
                "after-induction",
                "end-of-radiotherapy",
                "end-of-treatment",
                "follow-up-3m",
                "follow-up-6m",
                "follow-up-9m",
                "follow-up-12m",
                "follow-up-18m",
                "follow-up-24m"
            ]
        );
        assert!(protocol.definition("end-of-treatment").unwrap().primary_post);
        assert_eq!(protocol.definition("weekly").unwrap().instruments, [InstrumentId::QlqC30]);
    }

    #[test]
    fn baseline_runs_from_enrolment_until_cycle_1_day_1_once_it_is_recorded() {
        assert_eq!(
            windows(&[event(ENROLMENT, "2026-03-02")], "2026-03-02"),
            [w("baseline", "2026-03-02", "2026-04-01")]
        );
        let with_c1 = windows(&[event(ENROLMENT, "2026-03-02"), event(C1, "2026-03-09")], "2026-03-09");
        assert_eq!(with_c1[0], w("baseline", "2026-03-02", "2026-03-09"));
    }

    #[test]
    fn weekly_assessments_run_every_7_days_from_cycle_1_day_1_until_end_of_treatment() {
        let events = [
            event(ENROLMENT, "2026-03-02"),
            event(C1, "2026-03-09"),
            event(EventKind::EndOfTreatment, "2026-04-06"),
        ];
        let weekly: Vec<_> = windows(&events, "2026-03-09")
            .into_iter()
            .filter(|(key, _, _)| key.starts_with("weekly"))
            .collect();
        assert_eq!(
            weekly,
            [
                w("weekly-01", "2026-03-16", "2026-03-22"),
                w("weekly-02", "2026-03-23", "2026-03-29"),
                w("weekly-03", "2026-03-30", "2026-04-05"),
            ]
        );
    }

    #[test]
    fn while_end_of_treatment_is_unknown_weekly_assessments_reach_two_weeks_ahead() {
        let events = [event(ENROLMENT, "2026-03-02"), event(C1, "2026-03-09")];
        let keys: Vec<String> = windows(&events, "2026-03-20").into_iter().map(|(key, _, _)| key).collect();
        // Today 20 March + 14 days = 3 April: weeks starting 16, 23, 30 March.
        assert_eq!(keys, ["baseline", "weekly-01", "weekly-02", "weekly-03"]);
    }

    /// Every kind of anchor recorded: enrolment, cycle 1, response, radiotherapy, end of treatment.
    fn whole_treatment() -> [Event; 6] {
        [
            event(ENROLMENT, "2026-01-05"),
            event(C1, "2026-01-12"),
            event(EventKind::InductionResponse { response: TumourResponse::PartialResponse }, "2026-02-16"),
            event(EventKind::RadiotherapyStart, "2026-02-23"),
            event(EventKind::RadiotherapyEnd, "2026-04-10"),
            event(EventKind::EndOfTreatment, "2026-05-15"),
        ]
    }

    #[test]
    fn every_anchored_assessment_gets_its_window() {
        let events = whole_treatment();
        let all = windows(&events, "2026-05-15");
        let find = |key: &str| all.iter().find(|(k, _, _)| k == key).cloned().unwrap();
        assert_eq!(find("after-induction"), w("after-induction", "2026-02-09", "2026-02-23"));
        assert_eq!(find("end-of-radiotherapy"), w("end-of-radiotherapy", "2026-04-10", "2026-04-24"));
        assert_eq!(find("end-of-treatment"), w("end-of-treatment", "2026-05-15", "2026-06-12"));
        assert_eq!(find("follow-up-3m"), w("follow-up-3m", "2026-08-01", "2026-08-29"));
        assert_eq!(find("follow-up-24m"), w("follow-up-24m", "2028-05-01", "2028-05-29"));
        // 17 weeks from 19 January until the week starting on or after 15 May; one form a day
        // takes away the three that lie wholly inside after-induction's or end-of-radiotherapy's
        // window (weeks 4, 5 and 13; the test below has the cut ones).
        let weekly = all.iter().filter(|(key, _, _)| key.starts_with("weekly")).count();
        assert_eq!(weekly, 14);
        assert_eq!(all.len(), 1 + 14 + 1 + 1 + 1 + 6);
    }

    /// The issue's burden: at the end of treatment a patient had weekly-18, end-of-radiotherapy and
    /// end-of-treatment open at once; after induction three weekly windows overlapped.
    #[test]
    fn no_day_has_two_open_forms_asking_the_same_questionnaire() {
        let events = whole_treatment();
        let all = windows(&events, "2026-05-15");
        let find = |key: &str| all.iter().find(|(k, _, _)| k == key).cloned();
        // After induction [9, 23 Feb]: week 4 (9–15 Feb) and week 5 (16–22 Feb) are satisfied by
        // it; week 6 (23 Feb – 1 Mar) keeps the days after it.
        assert_eq!((find("weekly-04"), find("weekly-05")), (None, None));
        assert_eq!(find("weekly-06"), Some(w("weekly-06", "2026-02-24", "2026-03-01")));
        // End of radiotherapy [10, 24 Apr]: week 12 keeps the days before, 13 goes, 14 the after.
        assert_eq!(find("weekly-12"), Some(w("weekly-12", "2026-04-06", "2026-04-09")));
        assert_eq!(find("weekly-13"), None);
        assert_eq!(find("weekly-14"), Some(w("weekly-14", "2026-04-25", "2026-04-26")));
        // End of treatment from 15 May: week 17 (11–17 May) keeps 11–14 May.
        assert_eq!(find("weekly-17"), Some(w("weekly-17", "2026-05-11", "2026-05-14")));
        // Radiotherapy ending on the day treatment ends: end of treatment alone.
        let same_day = [&events[..4], &[event(EventKind::RadiotherapyEnd, "2026-05-15"), events[5]]].concat();
        let all = windows(&same_day, "2026-05-15");
        assert!(all.iter().all(|(key, _, _)| key != "end-of-radiotherapy"), "{all:?}");
        // Ending ten days before: end of radiotherapy closes the day before end of treatment opens.
        let before = [&events[..4], &[event(EventKind::RadiotherapyEnd, "2026-05-05"), events[5]]].concat();
        let all = windows(&before, "2026-05-15");
        let eort = all.iter().find(|(key, _, _)| key == "end-of-radiotherapy").cloned();
        assert_eq!(eort, Some(w("end-of-radiotherapy", "2026-05-05", "2026-05-14")));
        // And, day by day, never two open forms asking the QLQ-C30.
        let protocol = Protocol::default_protocol();
        for events in [&events[..], &same_day[..], &before[..]] {
            let scheduled =
                schedule(&protocol, &Events::from_records(events.iter().copied()), day("2026-05-15"));
            let mut date = day("2026-01-01");
            while date < day("2028-12-31") {
                let open = scheduled
                    .iter()
                    .filter(|a| a.window_start <= date && date <= a.window_end)
                    .filter(|a| a.instruments.contains(&InstrumentId::QlqC30))
                    .map(|a| a.key.as_str())
                    .collect::<Vec<_>>();
                assert!(open.len() <= 1, "{date}: {open:?}");
                date = add_days(date, 1);
            }
        }
        // The baseline is the reference: an end of treatment on cycle 1 day 1 does not cut it.
        let degenerate = [
            event(ENROLMENT, "2026-03-02"),
            event(C1, "2026-03-09"),
            event(EventKind::EndOfTreatment, "2026-03-09"),
        ];
        let all = windows(&degenerate, "2026-03-09");
        assert_eq!(all[0], w("baseline", "2026-03-02", "2026-03-09"));
        // A protocol without the rule schedules every week.
        let mut without = protocol.clone();
        without.one_form_at_a_time = false;
        let weekly = schedule(&without, &Events::from_records(events), day("2026-05-15"))
            .iter()
            .filter(|a| a.code == "weekly")
            .count();
        assert_eq!(weekly, 17);
    }

    #[test]
    fn correcting_an_event_date_moves_the_windows() {
        let first = event(EventKind::EndOfTreatment, "2026-05-15");
        let corrected = event(EventKind::EndOfTreatment, "2026-05-22");
        let base = [event(ENROLMENT, "2026-01-05"), event(C1, "2026-01-12")];
        let before: Vec<_> = base.iter().copied().chain([first]).collect();
        let after: Vec<_> = base.iter().copied().chain([first, corrected]).collect();
        let eot = |events: &[Event]| {
            windows(events, "2026-05-01").into_iter().find(|(key, _, _)| key == "end-of-treatment").unwrap()
        };
        assert_eq!(eot(&before), w("end-of-treatment", "2026-05-15", "2026-06-12"));
        assert_eq!(eot(&after), w("end-of-treatment", "2026-05-22", "2026-06-19"));
        // One more weekly assessment fits before the later end of treatment.
        let weeks = |events: &[Event]| {
            windows(events, "2026-05-01").iter().filter(|(key, _, _)| key.starts_with("weekly")).count()
        };
        assert_eq!(weeks(&after), weeks(&before) + 1);
    }

    #[test]
    fn states_follow_the_window_and_completion() {
        let events = Events::from_records([event(ENROLMENT, "2026-03-02"), event(C1, "2026-03-09")]);
        let all = schedule(&Protocol::default_protocol(), &events, day("2026-03-20"));
        let week1 = all.iter().find(|a| a.key == "weekly-01").unwrap();
        let cases = [
            ("2026-03-15", false, None, AssessmentState::Upcoming),
            ("2026-03-16", false, None, AssessmentState::Open),
            ("2026-03-22", false, None, AssessmentState::Open),
            ("2026-03-23", false, None, AssessmentState::Missed),
            ("2026-03-23", true, None, AssessmentState::Completed),
            // Off study while the window is open: missed (she was on study when it was due).
            ("2026-03-17", false, Some("2026-03-17"), AssessmentState::Missed),
            ("2026-03-18", false, Some("2026-03-16"), AssessmentState::Missed),
            ("2026-03-18", false, Some("2026-03-15"), AssessmentState::NotApplicable),
            ("2026-03-10", false, Some("2026-03-12"), AssessmentState::NotApplicable),
            ("2026-03-30", false, Some("2026-03-25"), AssessmentState::Missed),
            ("2026-03-17", true, Some("2026-03-17"), AssessmentState::Completed),
        ];
        for (today, completed, off, expected) in cases {
            let state = state_on(week1, day(today), completed, off.map(day));
            assert_eq!(state, expected, "today {today}, completed {completed}, off study {off:?}");
        }
    }

    #[test]
    fn going_off_study_stops_future_weekly_assessments_while_end_of_treatment_is_unknown() {
        let events = [
            event(ENROLMENT, "2026-03-02"),
            event(C1, "2026-03-09"),
            event(EventKind::OffStudy { reason: OffStudyReason::Withdrawal }, "2026-03-18"),
        ];
        let keys: Vec<String> = windows(&events, "2026-04-20").into_iter().map(|(key, _, _)| key).collect();
        assert_eq!(keys, ["baseline", "weekly-01"]);
    }

    #[test]
    fn the_window_rule_accepts_late_delivery_within_the_grace_period_only() {
        let events = Events::from_records([event(ENROLMENT, "2026-03-02"), event(C1, "2026-03-09")]);
        let all = schedule(&Protocol::default_protocol(), &events, day("2026-03-20"));
        let week1 = all.iter().find(|a| a.key == "weekly-01").unwrap(); // 16–22 March
        let cases = [
            ("2026-03-16", "2026-03-16", Ok(Timeliness::OnTime)),
            ("2026-03-22", "2026-03-22", Ok(Timeliness::OnTime)),
            ("2026-03-22", "2026-03-29", Ok(Timeliness::LateDelivery)),
            ("2026-03-22", "2026-03-30", Err(WindowRefusal::Closed { closed: day("2026-03-22") })),
            ("2026-03-23", "2026-03-23", Err(WindowRefusal::Closed { closed: day("2026-03-22") })),
            ("2026-03-15", "2026-03-15", Err(WindowRefusal::NotOpenYet { opens: day("2026-03-16") })),
            ("2026-03-15", "2026-03-16", Err(WindowRefusal::NotOpenYet { opens: day("2026-03-16") })),
        ];
        for (completed, received, expected) in cases {
            assert_eq!(
                check_window(week1, day(completed), day(received), 7),
                expected,
                "{completed} / {received}"
            );
        }
    }

    fn cycle(n: u8) -> EventKind {
        EventKind::ChemotherapyCycle { cycle: n }
    }

    fn response(response: TumourResponse) -> EventKind {
        EventKind::InductionResponse { response }
    }

    /// Each case: the events already recorded, the one recorded now, and the refusal's message
    /// or the warnings (empty: accepted as it is).
    #[test]
    fn the_order_of_events_is_checked_refusing_the_impossible_and_warning_of_the_unusual() {
        let protocol = Protocol::default_protocol();
        let hematogenous = protocol.stratum("hematogenous").unwrap();
        let start = [event(ENROLMENT, "2026-03-02"), event(C1, "2026-03-09")];
        let four = [
            event(ENROLMENT, "2026-03-02"),
            event(C1, "2026-03-09"),
            event(cycle(2), "2026-03-30"),
            event(cycle(3), "2026-04-20"),
            event(cycle(4), "2026-05-11"),
        ];
        let with_rt = [
            event(ENROLMENT, "2026-03-02"),
            event(C1, "2026-03-09"),
            event(EventKind::RadiotherapyStart, "2026-04-01"),
            event(EventKind::RadiotherapyEnd, "2026-05-15"),
        ];
        type Case<'a> = (&'a [Event], Event, Result<Vec<&'a str>, &'a str>);
        let cases: Vec<Case<'_>> = vec![
            (
                &start,
                event(cycle(7), "2026-05-01"),
                Err("chemotherapy cycle 7 is outside the protocol's cycles 1–6"),
            ),
            (
                &start,
                event(EventKind::RadiotherapyStart, "2026-02-01"),
                Err("radiotherapy_start on 2026-02-01 is before enrolment on 2026-03-02"),
            ),
            (
                &start,
                event(ENROLMENT, "2026-03-10"),
                Err("chemotherapy_cycle_1 on 2026-03-09 is before enrolment on 2026-03-10"),
            ),
            (
                &start,
                event(cycle(3), "2026-04-20"),
                Err("chemotherapy cycle 3 is recorded but cycle 2 is not: record cycle 2 first"),
            ),
            (
                &four[..3],
                event(cycle(3), "2026-03-20"),
                Err("chemotherapy cycle 3 on 2026-03-20 is not after chemotherapy cycle 2 on 2026-03-30"),
            ),
            // A correction of cycle 2 to after cycle 3.
            (
                &four,
                event(cycle(2), "2026-04-25"),
                Err("chemotherapy cycle 3 on 2026-04-20 is not after chemotherapy cycle 2 on 2026-04-25"),
            ),
            (
                &start,
                event(EventKind::RadiotherapyEnd, "2026-04-30"),
                Err(
                    "radiotherapy end on 2026-04-30 is recorded but radiotherapy start is not: record the start first",
                ),
            ),
            (
                &with_rt[..3],
                event(EventKind::RadiotherapyEnd, "2026-03-30"),
                Err("radiotherapy end on 2026-03-30 is before radiotherapy start on 2026-04-01"),
            ),
            (
                &start,
                event(EventKind::EndOfTreatment, "2026-03-08"),
                Err("end of treatment on 2026-03-08 is before cycle 1 day 1 on 2026-03-09"),
            ),
            (
                &four,
                event(EventKind::EndOfTreatment, "2026-05-01"),
                Err("end of treatment on 2026-05-01 is before chemotherapy cycle 4 on 2026-05-11"),
            ),
            (
                &with_rt,
                event(EventKind::EndOfTreatment, "2026-05-10"),
                Err("end of treatment on 2026-05-10 is before radiotherapy end on 2026-05-15"),
            ),
            (
                &with_rt[..3],
                event(EventKind::EndOfTreatment, "2026-03-30"),
                Err("end of treatment on 2026-03-30 is before radiotherapy start on 2026-04-01"),
            ),
            (
                &four,
                event(EventKind::OffStudy { reason: OffStudyReason::Death }, "2026-05-01"),
                Err("chemotherapy_cycle_4 on 2026-05-11 is after her death on 2026-05-01"),
            ),
            // Off study for another reason: later treatment (elsewhere) is possible.
            (
                &four,
                event(EventKind::OffStudy { reason: OffStudyReason::Withdrawal }, "2026-05-01"),
                Ok(vec![]),
            ),
            (
                &start[..1],
                event(response(TumourResponse::PartialResponse), "2026-03-20"),
                Err(
                    "the induction response on 2026-03-20 is recorded but cycle 1 day 1 is not: record cycle 1 first",
                ),
            ),
            (
                &start,
                event(response(TumourResponse::PartialResponse), "2026-03-09"),
                Err(
                    "the induction response on 2026-03-09 is not after cycle 1 day 1 on 2026-03-09: there was nothing to evaluate yet",
                ),
            ),
            // Unusual but possible: accepted, with a warning.
            (
                &start,
                event(response(TumourResponse::StableDisease), "2026-03-30"),
                Ok(vec![
                    "the induction response on 2026-03-30 comes after 1 of the hematogenous stratum's 4 induction cycles; check the cycles recorded",
                ]),
            ),
            (
                &four,
                event(response(TumourResponse::ProgressiveDisease), "2026-05-25"),
                Ok(vec![
                    "progressive disease at the induction response: if she leaves the study, record off study (progression); her weekly questionnaires continue until then",
                ]),
            ),
            (
                &four,
                event(EventKind::EndOfTreatment, "2026-06-01"),
                Ok(vec!["end of treatment after 4 of the protocol's 6 cycles; check the cycles recorded"]),
            ),
            // As planned: no warning.
            (&four, event(response(TumourResponse::PartialResponse), "2026-05-25"), Ok(vec![])),
            (&four[..4], event(cycle(4), "2026-05-11"), Ok(vec![])),
            (
                &with_rt,
                event(EventKind::EndOfTreatment, "2026-05-15"),
                Ok(vec!["end of treatment after 1 of the protocol's 6 cycles; check the cycles recorded"]),
            ),
        ];
        // A record with a problem from before these checks: a death can still be recorded, and
        // the nurse is told of the standing problem.
        let legacy = [event(ENROLMENT, "2026-03-02"), event(C1, "2026-03-09"), event(cycle(3), "2026-04-20")];
        let death = event(EventKind::OffStudy { reason: OffStudyReason::Death }, "2026-05-01");
        let cases: Vec<Case<'_>> = cases
            .into_iter()
            .chain([(
                &legacy[..],
                death,
                Ok(vec!["the record already had this problem, please correct it: chemotherapy cycle 3 is recorded but cycle 2 is not: record cycle 2 first"]),
            )])
            .collect();
        for (recorded, candidate, expected) in cases {
            let events = Events::from_records(recorded.iter().copied());
            let outcome = events
                .check_with(&protocol, Some(hematogenous), candidate)
                .map(|(_, warnings)| warnings.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|error| error.to_string());
            let expected =
                expected.map(|w| w.into_iter().map(str::to_owned).collect::<Vec<_>>()).map_err(str::to_owned);
            assert_eq!(outcome, expected, "{candidate:?} after {recorded:?}");
        }
    }

    #[test]
    fn events_read_from_json_with_their_kind_and_details() {
        let event: Event =
            serde_json::from_str(r#"{"kind": "chemotherapy_cycle", "cycle": 2, "date": "2026-03-30"}"#)
                .unwrap();
        assert_eq!(event.kind, EventKind::ChemotherapyCycle { cycle: 2 });
        let event: Event =
            serde_json::from_str(r#"{"kind": "induction_response", "response": "SD", "date": "2026-03-30"}"#)
                .unwrap();
        assert_eq!(event.kind, EventKind::InductionResponse { response: TumourResponse::StableDisease });
    }

    #[test]
    fn the_study_day_is_the_day_in_the_protocols_time_zone() {
        let protocol = Protocol::default_protocol();
        assert_eq!(protocol.time_zone, chrono_tz::Asia::Shanghai);
        // 23:00 UTC on 15 March is 07:00 on 16 March in Shanghai (UTC+8, no daylight saving).
        let at: DateTime<Utc> = "2026-03-15T23:00:00Z".parse().unwrap();
        assert_eq!(protocol.local_date(at), day("2026-03-16"));
        assert_eq!(protocol.local_date("2026-03-15T15:59:59Z".parse().unwrap()), day("2026-03-15"));
        assert_eq!(protocol.local_date("2026-03-15T16:00:00Z".parse().unwrap()), day("2026-03-16"));
        let mut value: serde_json::Value = serde_json::from_str(Protocol::default_protocol_json()).unwrap();
        value["time_zone"] = "Etc/GMT-8".into();
        let fixed = Protocol::parse(&value.to_string()).unwrap();
        assert_eq!(fixed.local_date(at), day("2026-03-16"));
        value["time_zone"] = "UTC+8".into();
        let error = Protocol::parse(&value.to_string()).unwrap_err();
        assert_eq!(error, ProtocolError::TimeZone("UTC+8".into()));
        assert!(error.to_string().contains("Asia/Shanghai"), "{error}");
        value.as_object_mut().unwrap().remove("time_zone");
        let error = Protocol::parse(&value.to_string()).unwrap_err();
        assert!(error.to_string().contains("time_zone"), "{error}");
    }

    #[test]
    fn a_protocol_with_an_inverted_window_is_refused() {
        let mut value: serde_json::Value = serde_json::from_str(Protocol::default_protocol_json()).unwrap();
        value["assessments"][2]["end_days"] = (-8).into();
        let error = Protocol::parse(&value.to_string()).unwrap_err();
        assert_eq!(error.to_string(), "assessment \"after-induction\": the window ends before it starts");
    }

    fn shipped_value() -> serde_json::Value {
        serde_json::from_str(Protocol::default_protocol_json()).unwrap()
    }

    fn refusal(value: &serde_json::Value) -> String {
        Protocol::parse(&value.to_string()).unwrap_err().to_string()
    }

    #[test]
    fn the_shipped_protocol_gives_a_contact_labels_in_both_languages_and_three_scores() {
        let protocol = Protocol::default_protocol();
        let contact = protocol.contact.as_ref().expect("the shipped protocol has a contact");
        for texts in [&contact.hours, &contact.urgent_advice] {
            assert_eq!(texts.keys().collect::<Vec<_>>(), ["en", "zh-Hans"]);
        }
        assert!(
            contact.urgent_advice["en"].contains("120") && contact.urgent_advice["zh-Hans"].contains("120")
        );
        for definition in &protocol.assessments {
            assert_eq!(definition.labels.get("en"), Some(&definition.label), "{}", definition.code);
            assert!(
                definition.labels.get("zh-Hans").is_some_and(|label| !label.is_empty()),
                "{}",
                definition.code
            );
        }
        assert_eq!(protocol.labels_of("baseline", false)["zh-Hans"], "基线");
        assert_eq!(protocol.labels_of("anything", true)["zh-Hans"], "计划外报告");
        assert!(protocol.labels_of("gone", false).is_empty());
        assert_eq!(protocol.scores_shown_to_patients(), ["QL2", "PF2", "FA"]);
        assert_eq!(protocol.idle_lock_seconds(), 300);
        let mut value = shipped_value();
        value.as_object_mut().unwrap().remove("patient_view");
        value.as_object_mut().unwrap().remove("contact");
        let plain = Protocol::parse(&value.to_string()).unwrap();
        assert!(plain.scores_shown_to_patients().is_empty() && plain.contact.is_none());
        assert_eq!(plain.idle_lock_seconds(), 300);
        let mut value = shipped_value();
        value["patient_view"]["idle_lock_minutes"] = 2.into();
        assert_eq!(Protocol::parse(&value.to_string()).unwrap().idle_lock_seconds(), 120);
    }

    #[test]
    fn a_study_threshold_table_is_read_and_refused_by_key() {
        let mut value = shipped_value();
        value["change_thresholds"] = serde_json::json!({
            "source": "the study's statistical analysis plan",
            "scales": { "PF2": { "improvement": 7, "deterioration": 12 } }
        });
        let protocol = Protocol::parse(&value.to_string()).unwrap();
        let set = crate::thresholds::Thresholds::study(protocol.change_thresholds.as_ref().unwrap());
        assert_eq!(set.change_points("PF2"), (Some(7.0), Some(12.0)));
        assert_eq!(set.change_points("FA"), (Some(10.0), Some(10.0)));
        value["change_thresholds"]["scales"]["PF3"] = serde_json::json!({ "deterioration": 10 });
        assert_eq!(refusal(&value), "change_thresholds.scales.PF3: is not a scale qol scores");
        value["change_thresholds"]["scales"].as_object_mut().unwrap().remove("PF3");
        value["change_thresholds"]["scales"]["PF2"]["deterioration"] = 0.into();
        assert_eq!(
            refusal(&value),
            "change_thresholds.scales.PF2.deterioration: 0 is not more than 0 and at most 100 points"
        );
    }

    #[test]
    fn contact_labels_and_patient_view_are_refused_by_key() {
        let mut value = shipped_value();
        value["contact"].as_object_mut().unwrap().remove("phone");
        assert_eq!(
            refusal(&value),
            "contact.phone: is missing: the study team's telephone number, as dialled"
        );
        let mut value = shipped_value();
        value["contact"]["hours"]["zh-CN"] = "周一至周五".into();
        assert_eq!(
            refusal(&value),
            "contact.hours.zh-CN: not a language qol offers; use one of: en, zh-Hans"
        );
        let mut value = shipped_value();
        value["contact"]["urgent_advice"].as_object_mut().unwrap().remove("en");
        assert_eq!(refusal(&value), "contact.urgent_advice.en: is missing (the English text is required)");
        let mut value = shipped_value();
        value["contact"]["fax"] = "1".into();
        assert!(refusal(&value).contains("unknown field `fax`"), "{}", refusal(&value));
        let mut value = shipped_value();
        value["assessments"][0]["labels"]["fr"] = "Référence".into();
        assert_eq!(
            refusal(&value),
            "assessment \"baseline\": labels.fr: not a language qol offers; use one of: en, zh-Hans"
        );
        let mut value = shipped_value();
        value["patient_view"]["scores"] = serde_json::json!(["QL2", "PF"]);
        assert!(
            refusal(&value).starts_with("patient_view.scores: \"PF\" is not a score of the questionnaires")
        );
        let mut value = shipped_value();
        value["patient_view"]["idle_lock_minutes"] = 600.into();
        assert_eq!(refusal(&value), "patient_view.idle_lock_minutes: 600 is not from 1 to 60 minutes");
    }
}
