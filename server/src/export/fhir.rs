//! `fhir.ndjson`: FHIR R4 resources, one per line: the two Questionnaires first, then for each
//! patient her Patient (pseudonymous: the study id only) and, per submitted form, a
//! QuestionnaireResponse per questionnaire with an Observation per score.
//!
//! The resources are typed: the structs below hold the parts of FHIR R4 this export writes, and
//! serde writes them. Their fields are declared in the alphabetical order of their JSON names.
//! The file was first written from `serde_json::Value`s, whose keys serde_json sorts (its
//! `preserve_order` feature is off), and keeping that order keeps the file byte for byte what it
//! was; a test checks every line of a patient's resources.

use qol_shared::api::ScaleInfo;
use qol_shared::instrument::InstrumentId;
use qol_shared::scoring::{MissingReason, Outcome, ScaleScore, Scores};
use serde::Serialize;

use super::submitted;
use crate::clinic::research::{AssessmentRecord, PatientRecord, SubmissionRecord, answer_code};

const QOL_SYSTEM: &str = "urn:qol";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const DATA_ABSENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
const UCUM: &str = "http://unitsofmeasure.org";

/// The `resourceType` of a resource. It is a field of each resource (not a serde tag) so that it
/// sits in its alphabetical place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResourceType {
    Questionnaire,
    Patient,
    QuestionnaireResponse,
    Observation,
}

/// A code in a code system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coding {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub system: String,
}

impl Coding {
    fn new(system: impl Into<String>, code: impl Into<String>) -> Coding {
        Coding { code: code.into(), display: None, system: system.into() }
    }
}

/// Codes for one concept, and the concept in words; either may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    fn coded(coding: Coding) -> CodeableConcept {
        CodeableConcept { coding: vec![coding], text: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    pub system: String,
    pub value: String,
}

/// A reference to another resource of the export, as `Type/id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub reference: String,
}

/// What FHIR has no field for (the stratum, the study day, the form's placement): qol's own
/// extensions, each with one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    pub url: String,
    #[serde(flatten)]
    pub value: ExtensionValue,
}

/// An extension's `value[x]`: the key names its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ExtensionValue {
    #[serde(rename = "valueCode")]
    Code(String),
    #[serde(rename = "valueInteger")]
    Integer(i64),
    #[serde(rename = "valueString")]
    String(String),
}

impl Extension {
    fn new(name: &str, value: ExtensionValue) -> Extension {
        Extension { url: format!("{QOL_SYSTEM}:{name}"), value }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quantity {
    pub code: String,
    pub system: String,
    pub unit: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    pub description: String,
    pub id: String,
    pub item: Vec<QuestionnaireItem>,
    pub name: String,
    pub resource_type: ResourceType,
    pub status: String,
    pub title: String,
    pub url: String,
    pub version: String,
}

/// A question: its number on the combined form, its topic (qol's neutral label, never the
/// questionnaire's wording) and its response codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireItem {
    pub answer_option: Vec<AnswerOption>,
    pub link_id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerOption {
    pub value_coding: Coding,
}

/// The pseudonymous patient: the study id and the stratum, nothing that identifies her.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub extension: Vec<Extension>,
    pub id: String,
    pub identifier: Vec<Identifier>,
    pub resource_type: ResourceType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponse {
    pub extension: Vec<Extension>,
    pub id: String,
    pub identifier: Identifier,
    pub item: Vec<ResponseItem>,
    pub questionnaire: String,
    pub resource_type: ResourceType,
    pub status: String,
    pub subject: Reference,
}

/// An answered item; an item skipped or not applicable has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    pub answer: Vec<Answer>,
    pub link_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub value_coding: Coding,
}

/// A scale's score, or why it has none (`dataAbsentReason`): exactly one of the two is present.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub category: Vec<CodeableConcept>,
    pub code: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_absent_reason: Option<CodeableConcept>,
    pub derived_from: Vec<Reference>,
    pub extension: Vec<Extension>,
    pub id: String,
    pub method: CodeableConcept,
    pub resource_type: ResourceType,
    pub status: String,
    pub subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
}

/// The head of the export: the two Questionnaires.
pub(super) fn questionnaires() -> Vec<u8> {
    let mut out = Vec::new();
    for id in [InstrumentId::QlqC30, InstrumentId::QlqCx24] {
        push_line(&mut out, &questionnaire(id));
    }
    out
}

/// One patient's resources: her Patient, then for each form and questionnaire its
/// QuestionnaireResponse followed by its Observations.
pub(super) fn patient(record: &PatientRecord, scales: &[ScaleInfo]) -> Vec<u8> {
    let mut out = Vec::new();
    push_line(&mut out, &patient_resource(record));
    for (assessment, submission) in submitted(record) {
        for scores in &submission.scores {
            push_line(&mut out, &questionnaire_response(record, assessment, submission, scores.instrument));
            for scale in &scores.scales {
                push_line(&mut out, &observation(record, assessment, submission, scores, scale, scales));
            }
        }
    }
    out
}

fn push_line(out: &mut Vec<u8>, resource: &impl Serialize) {
    // Serialising these resources cannot fail: every map key is a string.
    out.extend(serde_json::to_vec(resource).unwrap_or_default());
    out.push(b'\n');
}

/// A Questionnaire's canonical URL, which each QuestionnaireResponse names.
pub fn questionnaire_url(id: InstrumentId) -> String {
    format!("{QOL_SYSTEM}:questionnaire:{}", id.as_str())
}

fn response_system(item: &qol_shared::instrument::Item) -> String {
    format!("{QOL_SYSTEM}:response:{}", item.response_scale.as_str())
}

fn questionnaire(id: InstrumentId) -> Questionnaire {
    let instrument = id.instrument();
    let item = instrument
        .items
        .iter()
        .map(|item| QuestionnaireItem {
            answer_option: item
                .response_scale
                .codes()
                .map(|code| AnswerOption {
                    value_coding: Coding::new(response_system(item), code.to_string()),
                })
                .collect(),
            link_id: item.number.to_string(),
            text: item.topic.to_owned(),
            kind: "choice".to_owned(),
        })
        .collect();
    Questionnaire {
        description: "Item topics only (qol's neutral labels): the validated wording is the EORTC's and is not included.".to_owned(),
        id: id.as_str().to_owned(),
        item,
        name: instrument.name.replace([' ', '-'], ""),
        resource_type: ResourceType::Questionnaire,
        status: "active".to_owned(),
        title: instrument.name.to_owned(),
        url: questionnaire_url(id),
        version: instrument.version.to_owned(),
    }
}

fn patient_resource(record: &PatientRecord) -> Patient {
    Patient {
        extension: vec![Extension::new("stratum", ExtensionValue::Code(record.stratum.clone()))],
        id: record.study_id.clone(),
        identifier: vec![Identifier {
            system: format!("{QOL_SYSTEM}:study-id"),
            value: record.study_id.clone(),
        }],
        resource_type: ResourceType::Patient,
    }
}

fn subject(record: &PatientRecord) -> Reference {
    Reference { reference: format!("Patient/{}", record.study_id) }
}

/// The study day, where the form sits in the record (placement; the assessment it was sent for
/// when that is another), its completion mode, its version and the protocol version of its
/// assessment, as extensions: FHIR has no field for these.
fn study_day_extensions(assessment: &AssessmentRecord, submission: &SubmissionRecord) -> Vec<Extension> {
    let mut extensions = Vec::new();
    if let Some(day) = submission.completed_day {
        extensions.push(Extension::new("study-day", ExtensionValue::Integer(day)));
    }
    extensions
        .push(Extension::new("placement", ExtensionValue::Code(submission.placement.as_str().to_owned())));
    if let Some(sent_for) = &submission.sent_for {
        extensions.push(Extension::new("sent-for", ExtensionValue::String(sent_for.to_string())));
    }
    // Who filled it in and how, and the version of the form (a signed correction is a new one).
    extensions.push(Extension::new("mode", ExtensionValue::Code(submission.mode.as_str().to_owned())));
    extensions.push(Extension::new("version", ExtensionValue::Integer(submission.version)));
    // The protocol version the assessment was scheduled under.
    extensions.push(Extension::new("protocol-version", ExtensionValue::Integer(assessment.protocol_version)));
    extensions
}

fn response_id(submission: &SubmissionRecord, id: InstrumentId) -> String {
    format!("qr-{}-{}", submission.id, id.as_str())
}

/// The form's answers to one questionnaire.
fn questionnaire_response(
    record: &PatientRecord,
    assessment: &AssessmentRecord,
    submission: &SubmissionRecord,
    id: InstrumentId,
) -> QuestionnaireResponse {
    let range = if id == InstrumentId::QlqC30 { 1..=30 } else { 31..=54 };
    let item = submission
        .answers
        .iter()
        .filter(|a| range.contains(&a.item))
        .filter_map(|answer| {
            let item = id.instrument().items.iter().find(|i| i64::from(i.number) == answer.item)?;
            let code = answer_code(answer)?;
            Some(ResponseItem {
                answer: vec![Answer { value_coding: Coding::new(response_system(item), code.to_string()) }],
                link_id: answer.item.to_string(),
            })
        })
        .collect();
    QuestionnaireResponse {
        extension: study_day_extensions(assessment, submission),
        id: response_id(submission, id),
        identifier: Identifier {
            system: format!("{QOL_SYSTEM}:assessment"),
            value: format!("{}/{}", record.study_id, assessment.key),
        },
        item,
        questionnaire: questionnaire_url(id),
        resource_type: ResourceType::QuestionnaireResponse,
        status: "completed".to_owned(),
        subject: subject(record),
    }
}

/// One scale's score of one questionnaire of the form.
fn observation(
    record: &PatientRecord,
    assessment: &AssessmentRecord,
    submission: &SubmissionRecord,
    scores: &Scores,
    scale: &ScaleScore,
    scales: &[ScaleInfo],
) -> Observation {
    let id = scores.instrument;
    let name = scales.iter().find(|s| s.code == scale.code).map_or("", |s| s.name.as_str());
    let value_quantity = scale.score().map(|value| Quantity {
        code: "{score}".to_owned(),
        system: UCUM.to_owned(),
        unit: "score".to_owned(),
        value: qol_shared::analysis::tidy(value),
    });
    let data_absent_reason = match scale.outcome {
        Outcome::Missing { reason, items_answered, items_in_scale } => {
            let (code, text) = absent_reason(reason, items_answered, items_in_scale);
            Some(CodeableConcept { coding: vec![Coding::new(DATA_ABSENT_REASON, code)], text: Some(text) })
        }
        Outcome::Scored { .. } => None,
    };
    Observation {
        category: vec![CodeableConcept::coded(Coding::new(OBSERVATION_CATEGORY, "survey"))],
        code: CodeableConcept::coded(Coding {
            display: Some(name.to_owned()),
            ..Coding::new(format!("{QOL_SYSTEM}:scale:{}", id.as_str()), scale.code.to_string())
        }),
        data_absent_reason,
        derived_from: vec![Reference {
            reference: format!("QuestionnaireResponse/{}", response_id(submission, id)),
        }],
        extension: study_day_extensions(assessment, submission),
        id: format!("obs-{}-{}", submission.id, scale.code),
        method: CodeableConcept {
            coding: Vec::new(),
            text: Some(format!("qol scoring {}", scores.algorithm_version)),
        },
        resource_type: ResourceType::Observation,
        status: "final".to_owned(),
        subject: subject(record),
        value_quantity,
    }
}

/// The FHIR data-absent-reason code of a missing score, and the reason in words.
fn absent_reason(reason: MissingReason, answered: u8, in_scale: u8) -> (&'static str, String) {
    match reason {
        // The patient was asked and left the items unanswered.
        MissingReason::TooFewItemsAnswered => (
            "asked-declined",
            format!("{answered} of the scale's {in_scale} items answered: fewer than half (half rule)"),
        ),
        MissingReason::ItemNotAnswered => {
            ("asked-declined", "the scale's single item was not answered".into())
        }
        MissingReason::NotApplicable => {
            ("not-applicable", "the scale's section does not apply to the patient".into())
        }
        // The summary cannot be computed from what is there.
        MissingReason::ComponentMissing => (
            "unknown",
            format!(
                "{answered} of the summary's {in_scale} component scales scored: the summary needs all of them"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use qol_shared::answers::{Answers, RawAnswer};
    use qol_shared::api::Placement;
    use qol_shared::instrument::SCORING_ALGORITHM_VERSION;
    use qol_shared::schedule::AssessmentState;
    use serde_json::Value;

    use super::*;
    use crate::clinic::research;

    /// A patient with one form: items 1–3 (physical functioning keeps 2 of 5) and 17 (diarrhoea,
    /// one item) skipped, item 49 "not at all" so items 50–54 do not apply; completed on study
    /// day 14 for weekly-03 and rematched to end-of-treatment.
    fn record() -> PatientRecord {
        let answers: Vec<RawAnswer> = (1..=54)
            .filter(|item| ![1, 2, 3, 17].contains(item))
            .map(|item| match item {
                29 | 30 => RawAnswer::code(item, 5),
                49 => RawAnswer::code(item, 1),
                50..=54 => RawAnswer::not_applicable(item),
                _ => RawAnswer::code(item, 2),
            })
            .collect();
        let scores = [(InstrumentId::QlqC30, 1..=30), (InstrumentId::QlqCx24, 31..=54)]
            .map(|(id, items)| {
                let own = answers.iter().filter(|a| items.contains(&a.item)).cloned();
                qol_shared::scoring::score(&Answers::parse(id, own).unwrap())
            })
            .to_vec();
        let submission = SubmissionRecord {
            id: 7,
            version: 1,
            completed_day: Some(14),
            placement: Placement::Rematched,
            sent_for: Some("weekly-03".into()),
            late_delivery: false,
            language: "en".into(),
            mode: qol_shared::api::CompletionMode::Paper,
            answers,
            scores,
        };
        PatientRecord {
            study_id: "IVB-017".into(),
            stratum: "nodal".into(),
            today_day: Some(20),
            off_study: None,
            assessments: vec![AssessmentRecord {
                key: "end-of-treatment".into(),
                code: "end-of-treatment".into(),
                label: "End of treatment".into(),
                unscheduled: false,
                scheduled: true,
                state: AssessmentState::Completed,
                target_reached: true,
                target_day: Some(15),
                window_start_day: Some(8),
                window_end_day: Some(22),
                missed_reason: None,
                protocol_version: 1,
                submission: Some(submission),
            }],
        }
    }

    fn lines() -> Vec<String> {
        let mut bytes = questionnaires();
        bytes.extend(patient(&record(), &research::scales()));
        String::from_utf8(bytes).unwrap().lines().map(str::to_owned).collect()
    }

    fn resource(lines: &[String], id: &str) -> Value {
        lines
            .iter()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no resource {id}"))
    }

    #[test]
    fn every_key_is_in_alphabetical_order_as_the_file_has_always_been_written() {
        let lines = lines();
        let scales = research::scales().len();
        assert_eq!(lines.len(), 2 + 1 + 2 + scales, "questionnaires, patient, responses, scores");
        for line in &lines {
            // serde_json's own maps sort their keys: a line read and written again is unchanged
            // only when every struct declares its fields in that order.
            let again = serde_json::to_string(&serde_json::from_str::<Value>(line).unwrap()).unwrap();
            assert_eq!(&again, line);
        }
    }

    #[test]
    fn the_patient_is_her_study_id_and_stratum_and_nothing_else() {
        assert_eq!(
            serde_json::to_string(&patient_resource(&record())).unwrap(),
            r#"{"extension":[{"url":"urn:qol:stratum","valueCode":"nodal"}],"id":"IVB-017","identifier":[{"system":"urn:qol:study-id","value":"IVB-017"}],"resourceType":"Patient"}"#
        );
    }

    #[test]
    fn a_missing_score_says_why_and_a_present_one_has_its_value() {
        let lines = lines();
        let diarrhoea = lines.iter().find(|line| line.contains(r#""id":"obs-7-DI""#)).unwrap();
        let rest = format!(
            r#""id":"obs-7-DI","method":{{"text":"qol scoring {SCORING_ALGORITHM_VERSION}"}},"resourceType":"Observation","status":"final","subject":{{"reference":"Patient/IVB-017"}}}}"#
        );
        let expected = [
            r#"{"category":[{"coding":[{"code":"survey","system":"http://terminology.hl7.org/CodeSystem/observation-category"}]}],"code":{"coding":[{"code":"DI","display":"diarrhoea","system":"urn:qol:scale:qlq-c30"}]},"#,
            r#""dataAbsentReason":{"coding":[{"code":"asked-declined","system":"http://terminology.hl7.org/CodeSystem/data-absent-reason"}],"text":"the scale's single item was not answered"},"#,
            r#""derivedFrom":[{"reference":"QuestionnaireResponse/qr-7-qlq-c30"}],"extension":[{"url":"urn:qol:study-day","valueInteger":14},{"url":"urn:qol:placement","valueCode":"rematched"},{"url":"urn:qol:sent-for","valueString":"weekly-03"},{"url":"urn:qol:mode","valueCode":"paper"},{"url":"urn:qol:version","valueInteger":1},{"url":"urn:qol:protocol-version","valueInteger":1}],"#,
            &rest,
        ]
        .concat();
        assert_eq!(diarrhoea, &expected);

        let absent = |id: &str| {
            let observation = resource(&lines, id);
            assert!(observation.get("valueQuantity").is_none(), "{observation}");
            let reason = &observation["dataAbsentReason"];
            (
                reason["coding"][0]["code"].as_str().unwrap().to_owned(),
                reason["text"].as_str().unwrap().to_owned(),
            )
        };
        assert_eq!(
            absent("obs-7-PF2"),
            (
                "asked-declined".into(),
                "2 of the scale's 5 items answered: fewer than half (half rule)".into()
            )
        );
        assert_eq!(absent("obs-7-CXSV").0, "not-applicable");
        assert_eq!(absent("obs-7-C30SUM").0, "unknown");

        // Both global items at 5 of 7: (5 - 1) / 6 × 100.
        let global = resource(&lines, "obs-7-QL2");
        assert!(global.get("dataAbsentReason").is_none(), "{global}");
        let quantity = &global["valueQuantity"];
        assert!((quantity["value"].as_f64().unwrap() - 400.0 / 6.0).abs() < 1e-9, "{quantity}");
        assert_eq!((quantity["unit"].as_str(), quantity["code"].as_str()), (Some("score"), Some("{score}")));
    }

    #[test]
    fn a_response_holds_only_the_answered_items_of_its_questionnaire() {
        let lines = lines();
        let linked = |id: &str| -> Vec<String> {
            let response = resource(&lines, id);
            assert_eq!(response["identifier"]["value"], "IVB-017/end-of-treatment");
            assert_eq!(response["subject"]["reference"], "Patient/IVB-017");
            response["item"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["linkId"].as_str().unwrap().to_owned())
                .collect()
        };
        let c30 = linked("qr-7-qlq-c30");
        assert_eq!(c30.len(), 26, "30 items less the four skipped: {c30:?}");
        assert!(!c30.iter().any(|item| ["1", "2", "3", "17"].contains(&item.as_str())));
        let cx24 = linked("qr-7-qlq-cx24");
        assert_eq!(cx24.first().map(String::as_str), Some("31"));
        assert_eq!(cx24.last().map(String::as_str), Some("49"), "items 50-54 do not apply: {cx24:?}");
    }
}
