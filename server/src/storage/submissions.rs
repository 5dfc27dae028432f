//! Submissions (immutable), their item answers and their scores.

use qol_shared::answers::RawAnswer;
use qol_shared::api::{CompletionMode, CorrectionMeaning, Timeliness};
use qol_shared::instrument::InstrumentId;
use qol_shared::scoring::{Outcome, ScaleScore, Scores};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StorageError, WriteTx, enum_from, enum_text};
use qol_shared::schedule::AssessmentKey;
use qol_shared::{Language, Timestamp};

/// What is stored for one submission.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub client_id: &'a str,
    pub content_hash: &'a str,
    pub patient_id: i64,
    pub assessment_id: i64,
    pub completed_at: Timestamp,
    pub received_at: Timestamp,
    pub timeliness: Timeliness,
    pub language: Language,
    pub call_me: bool,
    pub submitted_by: &'a str,
    pub mode: CompletionMode,
    pub form_reference: Option<&'a str>,
    /// Set on a correction: the version it corrects, why, and what the signature means.
    pub correction: Option<NewCorrection<'a>>,
    pub answers: &'a [RawAnswer],
    pub scores: &'a [Scores],
}

/// What a correction adds to the row it stores.
#[derive(Debug, Clone, Copy)]
pub struct NewCorrection<'a> {
    pub corrects: &'a StoredSubmission,
    pub reason: &'a str,
    pub meaning: CorrectionMeaning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubmission {
    pub id: i64,
    pub client_id: String,
    pub content_hash: String,
    pub patient_id: i64,
    pub assessment_id: i64,
    pub assessment_key: AssessmentKey,
    pub version: i64,
    pub completed_at: Timestamp,
    pub received_at: Timestamp,
    pub timeliness: Timeliness,
    pub language: Language,
    pub call_me: bool,
    pub mode: CompletionMode,
    pub form_reference: Option<String>,
    /// `patient:IVB-001` or `staff:NAME` (on a correction: its signer).
    pub submitted_by: String,
    /// On a correction: the row it corrects, why, and what the signature means.
    pub corrects_id: Option<i64>,
    pub correction_reason: Option<String>,
    pub signature_meaning: Option<CorrectionMeaning>,
}

impl StoredSubmission {
    /// Of a patient's submissions (every version), the current version of each form, in the
    /// order the forms were first received.
    pub fn current_versions(all: &[StoredSubmission]) -> Vec<&StoredSubmission> {
        let superseded: std::collections::HashSet<i64> = all.iter().filter_map(|s| s.corrects_id).collect();
        // The first version's id of each assessment orders the forms.
        let mut first: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        for submission in all {
            let id = first.entry(submission.assessment_id).or_insert(submission.id);
            *id = (*id).min(submission.id);
        }
        let mut current: Vec<&StoredSubmission> =
            all.iter().filter(|s| !superseded.contains(&s.id)).collect();
        current.sort_by_key(|s| (first.get(&s.assessment_id).copied().unwrap_or(s.id), s.id));
        current
    }
}

/// A sent form as its patient's history lists it: the submission and its assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct SentForm {
    pub submission_id: i64,
    pub assessment_id: i64,
    pub key: AssessmentKey,
    pub code: String,
    pub label: String,
    pub unscheduled: bool,
    pub version: i64,
    pub completed_at: Timestamp,
    pub received_at: Timestamp,
}

/// One stored score row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScore {
    pub instrument: InstrumentId,
    pub scale: ScaleScore,
    pub algorithm_version: String,
}

pub(super) const SUBMISSION_QUERY: &str = "SELECT s.id, s.client_id, s.content_hash, s.patient_id, s.assessment_id, a.key, s.version, \
     s.completed_at, s.received_at, s.timeliness, s.language, s.call_me, s.mode, s.form_reference, s.submitted_by, \
     s.corrects_id, s.correction_reason, s.signature_meaning \
     FROM submissions s JOIN assessments a ON a.id = s.assessment_id";

pub(super) fn submission(row: &AnyRow) -> Result<StoredSubmission, StorageError> {
    Ok(StoredSubmission {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        content_hash: row.try_get("content_hash")?,
        patient_id: row.try_get("patient_id")?,
        assessment_id: row.try_get("assessment_id")?,
        assessment_key: AssessmentKey::from(row.try_get::<String, _>("key")?),
        version: row.try_get("version")?,
        completed_at: super::stored_timestamp(&row.try_get::<String, _>("completed_at")?)?,
        received_at: super::stored_timestamp(&row.try_get::<String, _>("received_at")?)?,
        timeliness: enum_from(&row.try_get::<String, _>("timeliness")?)?,
        language: super::stored_language(&row.try_get::<String, _>("language")?)?,
        call_me: row.try_get::<i64, _>("call_me")? == 1,
        mode: {
            let text: String = row.try_get("mode")?;
            CompletionMode::parse(&text).ok_or_else(|| StorageError::Corrupt(format!("mode {text:?}")))?
        },
        form_reference: row.try_get("form_reference")?,
        submitted_by: row.try_get("submitted_by")?,
        corrects_id: row.try_get("corrects_id")?,
        correction_reason: row.try_get("correction_reason")?,
        signature_meaning: row
            .try_get::<Option<String>, _>("signature_meaning")?
            .map(|text| enum_from(&text))
            .transpose()?,
    })
}

impl Db {
    pub async fn submission_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<StoredSubmission>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SUBMISSION_QUERY} WHERE s.client_id = $1")))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(submission).transpose()
    }

    pub async fn submissions_of(&self, patient_id: i64) -> Result<Vec<StoredSubmission>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBMISSION_QUERY} WHERE s.patient_id = $1 ORDER BY s.id"
        )))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(submission).collect()
    }

    pub async fn submission(&self, id: i64) -> Result<Option<StoredSubmission>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SUBMISSION_QUERY} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(submission).transpose()
    }

    /// Every form the patient sent, with its assessment (also one that has left the schedule
    /// since), in the order received: the current version of each.
    pub async fn sent_forms(&self, patient_id: i64) -> Result<Vec<SentForm>, StorageError> {
        let rows = sqlx::query(
            "SELECT s.id, s.assessment_id, a.key, a.code, a.label, a.unscheduled, s.version, s.completed_at, \
             (SELECT MIN(earliest.received_at) FROM submissions earliest WHERE earliest.assessment_id = s.assessment_id) \
             FROM submissions s JOIN assessments a ON a.id = s.assessment_id \
             WHERE s.patient_id = $1 AND NOT EXISTS (SELECT 1 FROM submissions later WHERE later.corrects_id = s.id) \
             ORDER BY a.id, s.id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SentForm {
                    submission_id: row.try_get(0)?,
                    assessment_id: row.try_get(1)?,
                    key: AssessmentKey::from(row.try_get::<String, _>(2)?),
                    code: row.try_get(3)?,
                    label: row.try_get(4)?,
                    unscheduled: row.try_get::<i64, _>(5)? != 0,
                    version: row.try_get(6)?,
                    completed_at: super::stored_timestamp(&row.try_get::<String, _>(7)?)?,
                    received_at: super::stored_timestamp(&row.try_get::<String, _>(8)?)?,
                })
            })
            .collect()
    }

    pub async fn answers_of(&self, submission_id: i64) -> Result<Vec<RawAnswer>, StorageError> {
        let rows = sqlx::query(
            "SELECT item, code, not_applicable FROM item_answers WHERE submission_id = $1 ORDER BY item",
        )
        .bind(submission_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let item: i64 = row.try_get(0)?;
                Ok(match row.try_get::<Option<i64>, _>(1)? {
                    Some(code) => RawAnswer::code(item, code),
                    None => RawAnswer::not_applicable(item),
                })
            })
            .collect()
    }

    /// The stored scores of a submission, grouped by instrument in instrument order.
    pub async fn scores_of(&self, submission_id: i64) -> Result<Vec<Scores>, StorageError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SCORE_QUERY} WHERE submission_id = $1")))
            .bind(submission_id)
            .fetch_all(&self.pool)
            .await?;
        grouped_scores(&rows)
    }
}

/// The stored score rows (`scores`), with their submission.
pub(super) const SCORE_QUERY: &str = "SELECT submission_id, instrument, scale, score, raw_score, items_answered, items_in_scale, missing_reason, algorithm_version \
     FROM scores";

/// One submission's score rows, grouped by instrument in instrument order.
pub(super) fn grouped_scores(rows: &[AnyRow]) -> Result<Vec<Scores>, StorageError> {
    let mut grouped: Vec<Scores> = Vec::new();
    for row in rows {
        let instrument_text: String = row.try_get("instrument")?;
        let instrument = InstrumentId::parse(&instrument_text)
            .ok_or_else(|| StorageError::Corrupt(format!("instrument {instrument_text:?}")))?;
        let code: String = row.try_get("scale")?;
        let answered = u8::try_from(row.try_get::<i64, _>("items_answered")?).unwrap_or(u8::MAX);
        let in_scale = u8::try_from(row.try_get::<i64, _>("items_in_scale")?).unwrap_or(u8::MAX);
        let outcome = match (
            row.try_get::<Option<f64>, _>("score")?,
            row.try_get::<Option<String>, _>("missing_reason")?,
        ) {
            (Some(score), _) => Outcome::Scored {
                score,
                raw_score: row.try_get::<Option<f64>, _>("raw_score")?.unwrap_or(f64::NAN),
                items_answered: answered,
                items_in_scale: in_scale,
            },
            (None, Some(reason)) => Outcome::Missing {
                reason: enum_from(&reason)?,
                items_answered: answered,
                items_in_scale: in_scale,
            },
            (None, None) => {
                return Err(StorageError::Corrupt(format!("score {code} has neither value nor reason")));
            }
        };
        let version: String = row.try_get("algorithm_version")?;
        let scale = ScaleScore { code: code.into(), outcome };
        match grouped
            .iter_mut()
            .find(|scores| scores.instrument == instrument && scores.algorithm_version == version)
        {
            Some(scores) => scores.scales.push(scale),
            None => {
                grouped.push(Scores { instrument, algorithm_version: version.into(), scales: vec![scale] })
            }
        }
    }
    // Rows come back in no particular order: restore the instruments' documented order.
    grouped.sort_by_key(|scores| scores.instrument);
    for scores in &mut grouped {
        let order: Vec<&str> = scores.instrument.instrument().score_codes().collect();
        scores
            .scales
            .sort_by_key(|scale| order.iter().position(|code| *code == scale.code).unwrap_or(usize::MAX));
    }
    Ok(grouped)
}

impl WriteTx {
    /// The submission with this client id, read inside the transaction (after the chain lock, so
    /// a concurrent retry is seen).
    pub async fn submission_by_client_id(
        &mut self,
        client_id: &str,
    ) -> Result<Option<StoredSubmission>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SUBMISSION_QUERY} WHERE s.client_id = $1")))
            .bind(client_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(submission).transpose()
    }

    pub async fn assessment_has_submission(&mut self, assessment_id: i64) -> Result<bool, StorageError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM submissions WHERE assessment_id = $1")
            .bind(assessment_id)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get(0)?;
        Ok(count > 0)
    }

    /// The current version of a form, read under the chain lock (a correction signed meanwhile
    /// is seen).
    pub async fn current_version_of(
        &mut self,
        assessment_id: i64,
    ) -> Result<Option<StoredSubmission>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBMISSION_QUERY} WHERE s.assessment_id = $1 ORDER BY s.version DESC LIMIT 1"
        )))
        .bind(assessment_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(submission).transpose()
    }

    pub async fn insert_submission(&mut self, new: &NewSubmission<'_>) -> Result<i64, StorageError> {
        let id: i64 = sqlx::query(
            "INSERT INTO submissions (client_id, content_hash, patient_id, assessment_id, completed_at, received_at, \
             timeliness, language, call_me, submitted_by, mode, form_reference, version, corrects_id, correction_reason, \
             signature_meaning) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(new.client_id)
        .bind(new.content_hash)
        .bind(new.patient_id)
        .bind(new.assessment_id)
        .bind(new.completed_at.text())
        .bind(new.received_at.text())
        .bind(enum_text(&new.timeliness))
        .bind(new.language.tag())
        .bind(i64::from(new.call_me))
        .bind(new.submitted_by)
        .bind(new.mode.as_str())
        .bind(new.form_reference)
        .bind(new.correction.map_or(1, |c| c.corrects.version + 1))
        .bind(new.correction.map(|c| c.corrects.id))
        .bind(new.correction.map(|c| c.reason))
        .bind(new.correction.map(|c| c.meaning.as_str()))
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?;
        // One statement per table, whatever the number of rows: every statement is a round trip
        // made while the write lock is held.
        if !new.answers.is_empty() {
            let sql = multi_row_insert(
                "INSERT INTO item_answers (submission_id, item, code, not_applicable)",
                new.answers.len(),
                |n| format!("($1, ${}, ${}, ${})", n, n + 1, n + 2),
                3,
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
            for answer in new.answers {
                let (code, not_applicable) = match answer.response {
                    qol_shared::answers::RawResponse::Code(code) => (Some(code), 0i64),
                    qol_shared::answers::RawResponse::Marker(_) => (None, 1i64),
                };
                insert = insert.bind(answer.item).bind(code).bind(not_applicable);
            }
            insert.execute(&mut *self.tx).await?;
        }
        let rows: Vec<(&Scores, &ScaleScore)> = new
            .scores
            .iter()
            .flat_map(|scores| scores.scales.iter().map(move |scale| (scores, scale)))
            .collect();
        if !rows.is_empty() {
            let sql = multi_row_insert(
                "INSERT INTO scores (submission_id, instrument, scale, score, raw_score, items_answered, \
                 items_in_scale, missing_reason, algorithm_version)",
                rows.len(),
                |n| {
                    format!(
                        "($1, ${}, ${}, CAST(${} AS DOUBLE PRECISION), CAST(${} AS DOUBLE PRECISION), ${}, ${}, ${}, ${})",
                        n,
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6,
                        n + 7
                    )
                },
                8,
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
            for (scores, scale) in rows {
                let (score, raw, answered, in_scale, reason) = match scale.outcome {
                    Outcome::Scored { score, raw_score, items_answered, items_in_scale } => {
                        (Some(score), Some(raw_score), items_answered, items_in_scale, None)
                    }
                    Outcome::Missing { reason, items_answered, items_in_scale } => {
                        (None, None, items_answered, items_in_scale, Some(enum_text(&reason)))
                    }
                };
                insert = insert
                    .bind(scores.instrument.as_str())
                    .bind(scale.code.as_ref())
                    .bind(super::float_param(score))
                    .bind(super::float_param(raw))
                    .bind(i64::from(answered))
                    .bind(i64::from(in_scale))
                    .bind(reason)
                    .bind(scores.algorithm_version.as_ref());
            }
            insert.execute(&mut *self.tx).await?;
        }
        Ok(id)
    }
}

/// `head VALUES row, row, …` for `rows` rows: `row(n)` writes one row's tuple whose own
/// parameters start at `$n` (`$1` is shared by every row), each row taking `per_row` parameters.
fn multi_row_insert(head: &str, rows: usize, row: impl Fn(usize) -> String, per_row: usize) -> String {
    let tuples: Vec<String> = (0..rows).map(|index| row(2 + index * per_row)).collect();
    format!("{head} VALUES {}", tuples.join(", "))
}
