//! `fhir.ndjson`: FHIR R4 resources, one per line: the two Questionnaires first, then for each
//! patient her Patient (pseudonymous: the study id only) and, per submitted form, a
//! QuestionnaireResponse per questionnaire with an Observation per score.

use qol_shared::api::ScaleInfo;
use qol_shared::instrument::InstrumentId;
use qol_shared::scoring::{MissingReason, Outcome};
use serde_json::{Value, json};

use super::submitted;
use crate::research::{AssessmentRecord, PatientRecord, SubmissionRecord, answer_code};

/// The head of the export: the two Questionnaires.
pub(super) fn questionnaires() -> Vec<u8> {
    let mut out = Vec::new();
    for id in [InstrumentId::QlqC30, InstrumentId::QlqCx24] {
        push_line(&mut out, &questionnaire(id));
    }
    out
}

/// One patient's resources: her Patient, then each form's QuestionnaireResponses and
/// Observations.
pub(super) fn patient(record: &PatientRecord, scales: &[ScaleInfo]) -> Vec<u8> {
    let mut out = Vec::new();
    push_line(&mut out, &fhir_patient(record));
    for (assessment, submission) in submitted(record) {
        for resource in fhir_submission(record, assessment, submission, scales) {
            push_line(&mut out, &resource);
        }
    }
    out
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

fn push_line(out: &mut Vec<u8>, value: &Value) {
    // Serialising a serde_json::Value cannot fail.
    out.extend(serde_json::to_vec(value).unwrap_or_default());
    out.push(b'\n');
}

const QOL_SYSTEM: &str = "urn:qol";

pub fn questionnaire_url(id: InstrumentId) -> String {
    format!("{QOL_SYSTEM}:questionnaire:{}", id.as_str())
}

fn questionnaire(id: InstrumentId) -> Value {
    let instrument = id.instrument();
    json!({
        "resourceType": "Questionnaire",
        "id": id.as_str(),
        "url": questionnaire_url(id),
        "version": instrument.version,
        "name": instrument.name.replace([' ', '-'], ""),
        "title": instrument.name,
        "status": "active",
        "description": "Item topics only (qol's neutral labels): the validated wording is the EORTC's and is not included.",
        "item": instrument.items.iter().map(|item| json!({
            "linkId": item.number.to_string(),
            "text": item.topic,
            "type": "choice",
            "answerOption": item.response_scale.codes().map(|code| json!({
                "valueCoding": { "system": format!("{QOL_SYSTEM}:response:{}", item.response_scale.as_str()), "code": code.to_string() }
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn fhir_patient(record: &PatientRecord) -> Value {
    json!({
        "resourceType": "Patient",
        "id": record.study_id,
        "identifier": [{ "system": format!("{QOL_SYSTEM}:study-id"), "value": record.study_id }],
        "extension": [{ "url": format!("{QOL_SYSTEM}:stratum"), "valueCode": record.stratum }],
    })
}

/// The study day, and where the form sits in the record (placement; the assessment it was sent
/// for when that is another), as extensions: FHIR has no field for either.
fn study_day_extension(submission: &SubmissionRecord) -> Value {
    let mut extensions = Vec::new();
    if let Some(day) = submission.completed_day {
        extensions.push(json!({ "url": format!("{QOL_SYSTEM}:study-day"), "valueInteger": day }));
    }
    extensions.push(
        json!({ "url": format!("{QOL_SYSTEM}:placement"), "valueCode": submission.placement.as_str() }),
    );
    if let Some(sent_for) = &submission.sent_for {
        extensions.push(json!({ "url": format!("{QOL_SYSTEM}:sent-for"), "valueString": sent_for }));
    }
    Value::Array(extensions)
}

fn response_id(submission: &SubmissionRecord, id: InstrumentId) -> String {
    format!("qr-{}-{}", submission.id, id.as_str())
}

fn fhir_submission(
    record: &PatientRecord,
    assessment: &AssessmentRecord,
    submission: &SubmissionRecord,
    scales: &[ScaleInfo],
) -> Vec<Value> {
    let subject = json!({ "reference": format!("Patient/{}", record.study_id) });
    let mut resources = Vec::new();
    for scores in &submission.scores {
        let id = scores.instrument;
        let range = if id == InstrumentId::QlqC30 { 1..=30 } else { 31..=54 };
        let items: Vec<Value> = submission
            .answers
            .iter()
            .filter(|a| range.contains(&a.item))
            .filter_map(|answer| {
                let item = id.instrument().items.iter().find(|i| i64::from(i.number) == answer.item)?;
                let code = answer_code(answer)?;
                Some(json!({
                    "linkId": answer.item.to_string(),
                    "answer": [{ "valueCoding": {
                        "system": format!("{QOL_SYSTEM}:response:{}", item.response_scale.as_str()),
                        "code": code.to_string(),
                    } }],
                }))
            })
            .collect();
        let qr = response_id(submission, id);
        resources.push(json!({
            "resourceType": "QuestionnaireResponse",
            "id": qr,
            "questionnaire": questionnaire_url(id),
            "status": "completed",
            "subject": subject,
            "identifier": { "system": format!("{QOL_SYSTEM}:assessment"), "value": format!("{}/{}", record.study_id, assessment.key) },
            "extension": study_day_extension(submission),
            "item": items,
        }));
        for scale in &scores.scales {
            let name = scales.iter().find(|s| s.code == scale.code).map_or("", |s| s.name.as_str());
            let mut observation = json!({
                "resourceType": "Observation",
                "id": format!("obs-{}-{}", submission.id, scale.code),
                "status": "final",
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey" }] }],
                "code": { "coding": [{ "system": format!("{QOL_SYSTEM}:scale:{}", id.as_str()), "code": scale.code, "display": name }] },
                "subject": subject,
                "derivedFrom": [{ "reference": format!("QuestionnaireResponse/{qr}") }],
                "method": { "text": format!("qol scoring {}", scores.algorithm_version) },
                "extension": study_day_extension(submission),
            });
            match scale.score() {
                Some(value) => {
                    observation["valueQuantity"] = json!({ "value": qol_shared::analysis::tidy(value), "unit": "score", "system": "http://unitsofmeasure.org", "code": "{score}" });
                }
                None => {
                    if let Outcome::Missing { reason, items_answered, items_in_scale } = scale.outcome {
                        let (code, text) = absent_reason(reason, items_answered, items_in_scale);
                        observation["dataAbsentReason"] = json!({ "coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": code
                        }], "text": text });
                    }
                }
            }
            resources.push(observation);
        }
    }
    resources
}
