//! `dictionary.csv`: what every column of the other exports holds, and its codes. The dictionary
//! is a table of data, written out whole as the export's first and only chunk; a test checks that
//! it covers every column the CSV exports write, and names no column they do not.

use qol_shared::instrument::SCORING_ALGORITHM_VERSION;

use super::csv_bytes;
use crate::clinic::ClinicError;

/// The dictionary's own columns.
pub const COLUMNS: &[&str] = &["file", "column", "type", "description", "values"];

/// One row of the dictionary: a column of one export, or of every export that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The export's name, or `*`: the column means the same in every file that has it.
    pub file: &'static str,
    pub column: &'static str,
    /// Written as `type`: text, integer, number, boolean, code, or FHIR R4.
    pub kind: &'static str,
    pub description: &'static str,
    /// The values it takes, and what its codes mean.
    pub values: &'static str,
}

/// What every column means, in the order it is written.
pub const ENTRIES: &[Entry] = &[
    Entry {
        file: "*",
        column: "study_id",
        kind: "text",
        description: "Pseudonymous patient id; never a name, phone or hospital number",
        values: "e.g. IVB-017",
    },
    Entry {
        file: "*",
        column: "stratum",
        kind: "text",
        description: "Stratum at enrolment",
        values: "nodal = distant lymph node metastasis; hematogenous = blood-borne distant metastasis",
    },
    Entry {
        file: "*",
        column: "assessment",
        kind: "text",
        description: "The assessment: its code, with a number for repeats; unscheduled reports are unscheduled-<n>",
        values: "baseline; weekly-01, weekly-02, …; after-induction; end-of-radiotherapy; end-of-treatment; follow-up-3m … follow-up-24m; unscheduled-…",
    },
    Entry {
        file: "*",
        column: "assessment_code",
        kind: "text",
        description: "The protocol's assessment code (the same for every repeat)",
        values: "baseline, weekly, after-induction, end-of-radiotherapy, end-of-treatment, follow-up-3m, …, unscheduled",
    },
    Entry {
        file: "*",
        column: "target_study_day",
        kind: "integer",
        description: "Target day of the assessment, in days from cycle 1 day 1 (day 0); empty until cycle 1 is recorded",
        values: "negative before treatment",
    },
    Entry {
        file: "*",
        column: "actual_study_day",
        kind: "integer",
        description: "Day the patient completed the form (device clock), in days from cycle 1 day 1 (day 0)",
        values: "empty when not completed or cycle 1 not recorded",
    },
    Entry {
        file: "*",
        column: "in_window",
        kind: "boolean",
        description: "Completed inside the assessment's window as the current treatment events give it (recomputed on every export, not frozen at submission); empty for unscheduled reports",
        values: "true, false, empty",
    },
    Entry {
        file: "*",
        column: "placement",
        kind: "code",
        description: "Where the form sits now that the events are what they are (docs/research.md, Placement); the analysis counts in_window and rematched forms, the others only when asked",
        values: "in_window; out_of_window = the window moved away from the completion day after an event was recorded or corrected (e.g. a baseline completed after cycle 1 day 1: not used as baseline); rematched = its own assessment left the schedule, the form counts for the assessment whose window it falls in; not_in_schedule = its own assessment left the schedule and no window fits: kept under its old key; unscheduled = an \"I feel worse\" report",
    },
    Entry {
        file: "*",
        column: "sent_for",
        kind: "text",
        description: "For a rematched form: the assessment it was sent for",
        values: "empty unless placement is rematched",
    },
    Entry {
        file: "*",
        column: "mode",
        kind: "code",
        description: "Who filled the form in and how (a sensitivity analysis may leave out the forms staff entered: GET /api/v1/research/analysis?modes=self)",
        values: "self = the patient in the app; paper = a paper form transcribed by staff; telephone_interview, clinic_interview = staff asked the questions and entered her answers; proxy = someone else answered for her, entered by staff; empty when no form came",
    },
    Entry {
        file: "*",
        column: "version",
        kind: "integer",
        description: "The version of the form these values come from: 1 as received, one more for each signed correction (docs/api.md, Staff entry and corrections); always the current version",
        values: "1 or more; empty when no form came",
    },
    Entry {
        file: "*",
        column: "protocol_version",
        kind: "integer",
        description: "The version of the protocol the assessment was scheduled under: 1 is the protocol the study started with, one more for each amendment (docs/protocol.md, Amendments); an assessment whose window opened before an amendment took effect keeps the earlier version",
        values: "1 or more",
    },
    Entry {
        file: "*",
        column: "instrument",
        kind: "text",
        description: "The questionnaire",
        values: "qlq-c30 = EORTC QLQ-C30 v3.0; qlq-cx24 = EORTC QLQ-CX24",
    },
    Entry {
        file: "scores_long.csv",
        column: "scale",
        kind: "text",
        description: "EORTC scale code (scoring manual), or C30SUM, the QLQ-C30 summary score (Giesinger et al. 2016)",
        values: "see scores_wide.csv columns",
    },
    Entry {
        file: "scores_long.csv",
        column: "score",
        kind: "number",
        description: "Linear-transformed score 0-100, unrounded (a value within 1e-9 of a whole number is written as that number); empty when missing",
        values: "0-100",
    },
    Entry {
        file: "scores_long.csv",
        column: "raw_score",
        kind: "number",
        description: "Raw score: mean of the answered items of the scale",
        values: "1-4 or 1-7",
    },
    Entry {
        file: "scores_long.csv",
        column: "items_answered",
        kind: "integer",
        description: "Items of the scale answered (for C30SUM: component scales present)",
        values: "",
    },
    Entry {
        file: "scores_long.csv",
        column: "items_in_scale",
        kind: "integer",
        description: "Items in the scale (for C30SUM: 13 components)",
        values: "",
    },
    Entry {
        file: "scores_long.csv",
        column: "missing_reason",
        kind: "code",
        description: "Why the score is missing",
        values: "too_few_items_answered = under half the items (half rule); item_not_answered = single-item scale skipped; not_applicable = section does not apply to the patient; component_missing = a C30SUM component is missing",
    },
    Entry {
        file: "scores_long.csv",
        column: "algorithm_version",
        kind: "text",
        description: "Version of qol's scoring algorithm that computed the score",
        values: SCORING_ALGORITHM_VERSION,
    },
    Entry {
        file: "scores_long.csv",
        column: "baseline_score",
        kind: "number",
        description: "The patient's score on this scale at a baseline completed in its window",
        values: "empty when no baseline score, or when the baseline was completed after cycle 1 day 1",
    },
    Entry {
        file: "scores_long.csv",
        column: "change_from_baseline",
        kind: "number",
        description: "score minus baseline_score; empty on the baseline rows themselves",
        values: "-100 to 100",
    },
    Entry {
        file: "scores_long.csv",
        column: "change_category",
        kind: "code",
        description: "Change by the study's thresholds (the protocol's change_thresholds, else 10 points: Osoba et al. 1998), in the direction of the scale",
        values: "improved, stable, deteriorated; empty without both scores and on the baseline rows",
    },
    Entry {
        file: "scores_long.csv",
        column: "threshold",
        kind: "number",
        description: "Threshold for clinical importance (Giesinger et al. 2020, J Clin Epidemiol 118:1-8); empty for scales without one",
        values: "",
    },
    Entry {
        file: "scores_long.csv",
        column: "past_threshold",
        kind: "boolean",
        description: "Score below the threshold (functioning) or at or above it (symptoms)",
        values: "true, false, empty",
    },
    Entry {
        file: "items_long.csv",
        column: "item",
        kind: "integer",
        description: "Item number on the combined form",
        values: "1-30 QLQ-C30; 31-54 QLQ-CX24",
    },
    Entry {
        file: "items_long.csv",
        column: "response_code",
        kind: "integer",
        description: "The answer's code; empty when not applicable",
        values: "1 not at all, 2 a little, 3 quite a bit, 4 very much; items 29-30: 1 very poor to 7 excellent",
    },
    Entry {
        file: "items_long.csv",
        column: "not_applicable",
        kind: "boolean",
        description: "The item's section does not apply to the patient (QLQ-CX24 items 50-54)",
        values: "true, false",
    },
    Entry {
        file: "items_long.csv",
        column: "missing_reason",
        kind: "code",
        description: "Why response_code is empty; every item of the form's questionnaires has a row",
        values: "skipped = the patient left the item unanswered; not_applicable = its section does not apply; empty when answered",
    },
    Entry {
        file: "schedule.csv",
        column: "label",
        kind: "text",
        description: "The assessment's name in the protocol",
        values: "",
    },
    Entry {
        file: "schedule.csv",
        column: "unscheduled",
        kind: "boolean",
        description: "A report the patient sent on their own (\"I feel worse\")",
        values: "true, false",
    },
    Entry {
        file: "schedule.csv",
        column: "window_start_day",
        kind: "integer",
        description: "First day of the window, study day",
        values: "",
    },
    Entry {
        file: "schedule.csv",
        column: "window_end_day",
        kind: "integer",
        description: "Last day of the window, study day",
        values: "",
    },
    Entry {
        file: "schedule.csv",
        column: "status",
        kind: "code",
        description: "The assessment's state on the export day",
        values: "upcoming = window not open; open = window open, not completed; completed; missed = window closed without a form, or open when she went off study; not_applicable = off study before the window opened; no_window = the event it is anchored to is not recorded (no window yet: compare today's study day and off_study_day with the usual day to rebuild the fixed denominator)",
    },
    Entry {
        file: "schedule.csv",
        column: "off_study_day",
        kind: "integer",
        description: "The study day she went off study (every row of the patient); empty while on study",
        values: "",
    },
    Entry {
        file: "schedule.csv",
        column: "off_study_reason",
        kind: "code",
        description: "Why she went off study",
        values: "progression, death, withdrawal, lost_to_follow_up; empty while on study",
    },
    Entry {
        file: "schedule.csv",
        column: "late_delivery",
        kind: "boolean",
        description: "Completed in the window but delivered after it closed (from the phone: within the grace period; a paper form staff entered: whenever it came back); recomputed from the current window",
        values: "true, false, empty",
    },
    Entry {
        file: "schedule.csv",
        column: "missed_reason",
        kind: "code",
        description: "Why a missed form was missed, as staff recorded it (free-text notes are not exported: they may name people); empty unless the status is missed",
        values: "patient_too_ill, declined, technical_problem, forgot, other; empty = not recorded yet",
    },
    Entry {
        file: "scores_wide.csv",
        column: "<scale code>",
        kind: "number",
        description: "One column per scale: the score 0-100, as in scores_long.csv",
        values: "QL2 PF2 RF2 EF CF SF FA NV PA DY SL AP CO DI FI C30SUM and the QLQ-CX24 scales",
    },
    Entry {
        file: "ttd.csv",
        column: "scale",
        kind: "code",
        description: "The scale whose time to deterioration this row gives",
        values: "QL2 PF2 RF2 EF CF SF FA NV PA DY SL AP CO DI FI C30SUM and the QLQ-CX24 scales",
    },
    Entry {
        file: "ttd.csv",
        column: "definition",
        kind: "code",
        description: "What counts as deterioration, against the baseline score (docs/research.md, \"Time to deterioration\")",
        values: "first = the first form worse by at least the threshold; confirmed = and the next form worse too (at the last form: unconfirmed); definitive = and no later form back within the threshold (at the last form: definitive)",
    },
    Entry {
        file: "ttd.csv",
        column: "death",
        kind: "code",
        description: "How a death before deterioration is counted",
        values: "event = an event on the day of death; censor = censored at the last form",
    },
    Entry {
        file: "ttd.csv",
        column: "threshold_set",
        kind: "code",
        description: "The threshold set: the protocol's change_thresholds, else 10 points on every scale",
        values: "osoba-1998 = 10 points (Osoba et al. 1998); study = the protocol's change_thresholds",
    },
    Entry {
        file: "ttd.csv",
        column: "threshold",
        kind: "text",
        description: "This scale's thresholds in the set, in words",
        values: "e.g. improved ≥ 10, deteriorated ≥ 10 points",
    },
    Entry {
        file: "ttd.csv",
        column: "baseline_score",
        kind: "number",
        description: "The reference: the baseline score, from a baseline completed in its window; empty = none (the row is excluded)",
        values: "0-100",
    },
    Entry {
        file: "ttd.csv",
        column: "status",
        kind: "code",
        description: "Whether time_days ends in an event, in censoring, or the patient is left out of this analysis",
        values: "event, censored, excluded",
    },
    Entry {
        file: "ttd.csv",
        column: "time_days",
        kind: "integer",
        description: "Days from cycle 1 day 1 (day 0) to the study day the deteriorated form was completed, the day of death, or the last form after baseline (0 without one); empty when excluded",
        values: "0 or more",
    },
    Entry {
        file: "ttd.csv",
        column: "reason",
        kind: "code",
        description: "Why the time ends there, or why the patient is left out",
        values: "deterioration; death; last_form = censored at the last form; died_censored_at_last_form; no_form_after_baseline = censored at day 0; no_baseline, no_treatment_start (cycle 1 day 1 not recorded), past_level_at_baseline, no_threshold = excluded",
    },
    Entry {
        file: "fhir.ndjson",
        column: "(resource)",
        kind: "FHIR R4",
        description: "One resource per line: Questionnaire (2), Patient (pseudonymous: the study id only), QuestionnaireResponse (per instrument per submission; the study day, the placement and for a rematched form the assessment it was sent for in extensions, no dates), Observation (per score, derivedFrom its QuestionnaireResponse, with the same extensions)",
        values: "",
    },
];

/// The whole export: the header, then one row per entry.
pub(super) fn table() -> Result<Vec<u8>, ClinicError> {
    csv_bytes(|w| {
        w.write_record(COLUMNS)?;
        for entry in ENTRIES {
            w.write_record([entry.file, entry.column, entry.kind, entry.description, entry.values])?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use qol_shared::instrument::InstrumentId;

    use super::*;
    use crate::clinic::research;
    use crate::export::{Export, ITEMS_LONG, SCHEDULE, SCORES_LONG, TTD, head, scores_wide_columns};

    /// The CSV exports (the dictionary apart) and the columns each writes.
    fn csv_files() -> Vec<(&'static str, Vec<String>)> {
        let owned = |columns: &[&str]| columns.iter().map(|c| (*c).to_owned()).collect();
        vec![
            (Export::ScoresLong.name(), owned(SCORES_LONG)),
            (Export::ItemsLong.name(), owned(ITEMS_LONG)),
            (Export::Schedule.name(), owned(SCHEDULE)),
            (Export::ScoresWide.name(), scores_wide_columns()),
            (Export::Ttd.name(), owned(TTD)),
        ]
    }

    /// Whether `entry` explains `column` of `file`: its own entry, one for every file, or (for
    /// the wide file's scale columns) the one entry for all of them.
    fn explains(entry: &Entry, file: &str, column: &str) -> bool {
        let scale = research::scales().iter().any(|s| s.code == column);
        (entry.file == file || entry.file == "*")
            && (entry.column == column
                || (file == Export::ScoresWide.name() && entry.column == "<scale code>" && scale))
    }

    #[test]
    fn every_column_of_every_csv_export_has_exactly_one_entry() {
        for (file, columns) in csv_files() {
            for column in &columns {
                let entries: Vec<&Entry> = ENTRIES.iter().filter(|e| explains(e, file, column)).collect();
                assert_eq!(entries.len(), 1, "{file} column {column}: {entries:?}");
            }
        }
    }

    #[test]
    fn every_entry_names_a_column_an_export_writes() {
        let files = csv_files();
        for entry in ENTRIES {
            if entry.file == Export::Fhir.name() {
                continue;
            }
            let used = files.iter().any(|(file, columns)| {
                (entry.file == "*" || entry.file == *file)
                    && columns.iter().any(|column| explains(entry, file, column))
            });
            assert!(used, "no export writes {entry:?}");
        }
        assert!(ENTRIES.iter().any(|e| e.file == Export::Fhir.name()), "the FHIR file is described");
    }

    #[test]
    fn the_wide_files_entry_lists_every_qlq_c30_scale() {
        let entry = ENTRIES.iter().find(|e| e.column == "<scale code>").unwrap();
        let listed: Vec<&str> = entry.values.split_whitespace().collect();
        for scale in research::scales().iter().filter(|s| s.instrument == InstrumentId::QlqC30) {
            assert!(listed.contains(&scale.code.as_str()), "{} is not listed: {}", scale.code, entry.values);
        }
    }

    #[test]
    fn the_export_is_the_table_read_back_whole() {
        let bytes = head(Export::Dictionary).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(reader.headers().unwrap(), COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), ENTRIES.len());
        for (row, entry) in rows.iter().zip(ENTRIES) {
            assert_eq!(row, &[entry.file, entry.column, entry.kind, entry.description, entry.values][..]);
        }
        let version = rows.iter().find(|row| &row[1] == "algorithm_version").unwrap();
        assert_eq!(&version[4], SCORING_ALGORITHM_VERSION);
    }
}
