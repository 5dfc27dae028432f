//! Submissions (immutable), their item answers and their scores.

use qol_shared::answers::RawAnswer;
use qol_shared::api::{CompletionMode, CorrectionMeaning, Timeliness};
use std::borrow::Cow;

use qol_shared::instrument::{InstrumentId, SCORING_ALGORITHM_VERSION};
use qol_shared::scoring::{Outcome, ScaleScore, Scores};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Db, Query, StorageError, WriteTx, enum_from, enum_text};
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
        let sql = format!("SELECT {} FROM scores WHERE submission_id = $1", joined_scores_sql(self.backend));
        let joined: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(submission_id).fetch_one(&self.pool).await?;
        joined.as_deref().map_or(Ok(Vec::new()), joined_scores)
    }

    /// What the alert rules compare a form completed at `completed_at` with, in one statement:
    /// the scores of her baseline and of the form completed before it (the current version of
    /// each; `own`: the assessment of a stored form being corrected, left out), and whether no
    /// form of hers was completed later (only her newest form says how she is now). Of forms
    /// completed at the same instant, the one first received (its first version's id) comes
    /// first.
    pub async fn alert_history(
        &self,
        patient_id: i64,
        completed_at: Timestamp,
        own: Option<i64>,
    ) -> Result<AlertHistory, StorageError> {
        // Stored times are one fixed-width UTC text, so they compare as text. A form's first
        // version is its original unless it is a correction (the smallest id of its assessment).
        let joined = joined_scores_sql(self.backend);
        let sql = format!(
            "WITH forms AS (\
               SELECT s.id, s.completed_at, a.key, \
                      CASE WHEN s.corrects_id IS NULL THEN s.id \
                           ELSE (SELECT MIN(f.id) FROM submissions f WHERE f.assessment_id = s.assessment_id) END AS first_id \
               FROM submissions s JOIN assessments a ON a.id = s.assessment_id \
               WHERE s.patient_id = $1 AND s.assessment_id <> $2 \
                 AND NOT EXISTS (SELECT 1 FROM submissions later WHERE later.corrects_id = s.id)), \
             baseline AS (SELECT id FROM forms WHERE key = '{BASELINE}' ORDER BY completed_at, first_id, id LIMIT 1), \
             previous AS (SELECT id FROM forms WHERE completed_at <= $3 \
                          ORDER BY completed_at DESC, first_id DESC, id DESC LIMIT 1) \
             SELECT 'baseline', (SELECT {joined} FROM scores WHERE submission_id = baseline.id) FROM baseline \
             UNION ALL SELECT 'previous', (SELECT {joined} FROM scores WHERE submission_id = previous.id) FROM previous \
             UNION ALL SELECT 'later', NULL WHERE EXISTS (SELECT 1 FROM forms WHERE completed_at > $3)",
            BASELINE = qol_shared::schedule::BASELINE,
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(patient_id)
            .bind(own.unwrap_or(0)) // ids start at 1: 0 leaves nothing out
            .bind(completed_at.text())
            .fetch_all(&self.pool)
            .await?;
        let mut history = AlertHistory { baseline: None, previous: None, newest: true };
        for row in &rows {
            let joined: Option<String> = row.try_get(1)?;
            let scores = || joined.as_deref().map_or(Ok(Vec::new()), joined_scores);
            match row.try_get::<String, _>(0)?.as_str() {
                "baseline" => history.baseline = Some(scores()?),
                "previous" => history.previous = Some(scores()?),
                _ => history.newest = false,
            }
        }
        Ok(history)
    }
}

/// What the alert rules compare a form with, and whether it is her newest by completion.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertHistory {
    pub baseline: Option<Vec<Scores>>,
    pub previous: Option<Vec<Scores>>,
    pub newest: bool,
}

/// One submission's scores joined into one text by the database (an aggregate over `scores`
/// rows), read back by [`joined_scores`]: `;` between scores and `|` between a score's fields
/// (instrument, scale, score, raw score, items answered, items in scale, missing reason,
/// algorithm version; blank for NULL). One row per submission instead of one per score: each row
/// costs far more to carry out of the driver than its text costs to parse (exports read every
/// score of a study).
///
/// A number is written so that it reads back to the same `f64`. PostgreSQL writes `x` and its
/// eight bytes in hex (`float8send`): exact for every number. SQLite has no such function. A
/// number below 128 whose bits all lie above 2^-56 (every raw score, and every score but a few
/// below 0.0625) it writes as `i` and the whole number it is times 2^56: scaling by a power of two is exact, and a
/// whole number of at most 53 significant bits converts back exactly. Any other number it writes
/// with 20 significant digits (`printf('%!.19e')`, slower): every digit its conversion computes
/// (`sqlite3FpDecode`, in double-double arithmetic), none rounded away. For magnitudes between
/// about 1e-82 and 9e18 that conversion multiplies only by exact powers of ten, so the text is
/// within a few units of the 19th digit, far inside the half unit in the last place (about 1e-16
/// of the value) that Rust's correctly rounded parse needs; every score (0–100) and raw score
/// (1–7) is in that range. (Outside it, SQLite's inexact constants can move the last bit.) A
/// test reads random numbers of that range, and scores, back bit for bit on both databases.
pub(super) fn joined_scores_sql(backend: Backend) -> String {
    /// 2^56, as SQL writes it.
    const SCALED: &str = "72057594037927936.0";
    let number = |column: &str| match backend {
        Backend::Sqlite => format!(
            "CASE WHEN {column} IS NULL THEN '' \
             WHEN abs({column}) < 128.0 AND {column} * {SCALED} = CAST({column} * {SCALED} AS INTEGER) \
             THEN 'i' || CAST({column} * {SCALED} AS INTEGER) ELSE printf('%!.19e', {column}) END"
        ),
        Backend::Postgres => format!("COALESCE('x' || encode(float8send({column}), 'hex'), '')"),
    };
    let join = backend.join_texts();
    format!(
        "{join}(instrument || '|' || scale || '|' || {} || '|' || {} || '|' || items_answered || '|' || \
         items_in_scale || '|' || COALESCE(missing_reason, '') || '|' || algorithm_version, ';')",
        number("score"),
        number("raw_score")
    )
}

/// One submission's scores from their joined text ([`joined_scores_sql`]), grouped by
/// instrument in instrument order, each instrument's scales in their documented order.
pub(super) fn joined_scores(text: &str) -> Result<Vec<Scores>, StorageError> {
    let corrupt = || StorageError::Corrupt(format!("scores {text:?}"));
    let number = |field: &str| -> Result<Option<f64>, StorageError> {
        if field.is_empty() {
            return Ok(None);
        }
        let value = if let Some(hex) = field.strip_prefix('x') {
            u64::from_str_radix(hex, 16).ok().map(f64::from_bits)
        } else if let Some(scaled) = field.strip_prefix('i') {
            // At most 53 significant bits, so the conversion is exact, as is dividing by 2^56.
            scaled.parse::<i64>().ok().map(|n| n as f64 / (1u64 << 56) as f64)
        } else {
            field.parse::<f64>().ok()
        };
        value.map(Some).ok_or_else(corrupt)
    };
    let count = |field: &str| -> Result<u8, StorageError> {
        let n: i64 = field.parse().map_err(|_| corrupt())?;
        Ok(u8::try_from(n).unwrap_or(u8::MAX))
    };
    let mut grouped: Vec<Scores> = Vec::new();
    for row in text.split(';') {
        let mut fields = row.split('|');
        let mut field = || fields.next().ok_or_else(corrupt);
        let (instrument_text, code, score, raw_score) = (field()?, field()?, field()?, field()?);
        let (answered, in_scale, reason, version) = (field()?, field()?, field()?, field()?);
        if fields.next().is_some() {
            return Err(corrupt());
        }
        let instrument = InstrumentId::parse(instrument_text)
            .ok_or_else(|| StorageError::Corrupt(format!("instrument {instrument_text:?}")))?;
        let (answered, in_scale) = (count(answered)?, count(in_scale)?);
        let outcome = match (number(score)?, reason) {
            (Some(score), _) => Outcome::Scored {
                score,
                raw_score: number(raw_score)?.unwrap_or(f64::NAN),
                items_answered: answered,
                items_in_scale: in_scale,
            },
            (None, "") => {
                return Err(StorageError::Corrupt(format!("score {code} has neither value nor reason")));
            }
            (None, reason) => Outcome::Missing {
                reason: enum_from(reason)?,
                items_answered: answered,
                items_in_scale: in_scale,
            },
        };
        // The codes and the version this build writes are its own constants: borrowed, not copied.
        let code = match instrument.instrument().score_codes().find(|known| *known == code) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(code.to_owned()),
        };
        let scale = ScaleScore { code, outcome };
        match grouped
            .iter_mut()
            .find(|scores| scores.instrument == instrument && scores.algorithm_version == version)
        {
            Some(scores) => scores.scales.push(scale),
            None => {
                let version = if version == SCORING_ALGORITHM_VERSION {
                    Cow::Borrowed(SCORING_ALGORITHM_VERSION)
                } else {
                    Cow::Owned(version.to_owned())
                };
                grouped.push(Scores { instrument, algorithm_version: version, scales: vec![scale] })
            }
        }
    }
    // The database joins rows in no particular order: restore the instruments' documented order.
    grouped.sort_by_key(|scores| scores.instrument);
    for scores in &mut grouped {
        let order: Vec<&str> = scores.instrument.instrument().score_codes().collect();
        scores
            .scales
            .sort_by_key(|scale| order.iter().position(|code| *code == scale.code).unwrap_or(usize::MAX));
    }
    Ok(grouped)
}

/// What is already stored of a form about to be stored, read under the chain lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyStored {
    /// A form with its client id (a retry, or a concurrent one that won).
    pub client_id: bool,
    /// A form for its assessment.
    pub assessment: bool,
}

impl WriteTx {
    /// Whether a form with `client_id`, or one for `assessment_id`, is stored, read inside the
    /// transaction after [`WriteTx::insert_submission`] found a key taken (the insert waited for
    /// the rival's commit, so the rival is seen): one round trip.
    pub async fn already_stored(
        &mut self,
        client_id: &str,
        assessment_id: Option<i64>,
    ) -> Result<AlreadyStored, StorageError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM submissions WHERE client_id = $1), \
             (SELECT COUNT(*) FROM submissions WHERE assessment_id = $2)",
        )
        .bind(client_id)
        .bind(assessment_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(AlreadyStored {
            client_id: row.try_get::<i64, _>(0)? > 0,
            assessment: row.try_get::<i64, _>(1)? > 0,
        })
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

    /// Stores a new form: its submission row, answers and scores; `None`, and nothing written,
    /// when a form with its client id or the same version of its assessment is stored (the
    /// unique keys tell, so no read before it is needed). One statement per table whatever the
    /// number of rows on SQLite, where it is made under the write lock, and one in all on
    /// PostgreSQL (its inserts can be parts of one statement), where a new form makes it before
    /// the lock ([`Db::begin_write_deferred`](super::Db::begin_write_deferred)).
    pub async fn insert_submission(&mut self, new: &NewSubmission<'_>) -> Result<Option<i64>, StorageError> {
        const SUBMISSION: &str = "INSERT INTO submissions (client_id, content_hash, patient_id, assessment_id, \
             completed_at, received_at, timeliness, language, call_me, submitted_by, mode, form_reference, version, \
             corrects_id, correction_reason, signature_meaning) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING";
        /// The submission's own parameters; the answers' and scores' follow.
        const SUBMISSION_PARAMETERS: usize = 16;
        const ANSWERS: &str = "INSERT INTO item_answers (submission_id, item, code, not_applicable)";
        const SCORES: &str = "INSERT INTO scores (submission_id, instrument, scale, score, raw_score, \
             items_answered, items_in_scale, missing_reason, algorithm_version)";
        // A row's own parameters from `$n`, without the submission's id.
        let answer_row = |n: usize| format!("${n}, ${}, ${}", n + 1, n + 2);
        let score_row = |n: usize| {
            format!(
                "${n}, ${}, CAST(${} AS DOUBLE PRECISION), CAST(${} AS DOUBLE PRECISION), ${}, ${}, ${}, ${}",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            )
        };
        let scores: Vec<(&Scores, &ScaleScore)> = new
            .scores
            .iter()
            .flat_map(|scores| scores.scales.iter().map(move |scale| (scores, scale)))
            .collect();
        match self.backend() {
            Backend::Postgres => {
                let mut sql = format!("WITH s AS ({SUBMISSION} RETURNING id)");
                let mut next = SUBMISSION_PARAMETERS + 1;
                if !new.answers.is_empty() {
                    let rows = tuples(new.answers.len(), 3, &mut next, |n| format!("({})", answer_row(n)));
                    sql.push_str(&format!(
                        ", a AS ({ANSWERS} SELECT s.id, v.* FROM s, (VALUES {rows}) AS v)"
                    ));
                }
                if !scores.is_empty() {
                    let rows = tuples(scores.len(), 8, &mut next, |n| format!("({})", score_row(n)));
                    sql.push_str(&format!(", c AS ({SCORES} SELECT s.id, v.* FROM s, (VALUES {rows}) AS v)"));
                }
                sql.push_str(" SELECT id FROM s");
                let query = bind_submission(sqlx::query(sqlx::AssertSqlSafe(sql)), new);
                let query = bind_scores(bind_answers(query, new.answers), &scores);
                let row = query.fetch_optional(&mut *self.tx).await?;
                Ok(row.map(|row| row.try_get(0)).transpose()?)
            }
            Backend::Sqlite => {
                let row = bind_submission(
                    sqlx::query(sqlx::AssertSqlSafe(format!("{SUBMISSION} RETURNING id"))),
                    new,
                )
                .fetch_optional(&mut *self.tx)
                .await?;
                let Some(id) = row.map(|row| row.try_get::<i64, _>(0)).transpose()? else {
                    return Ok(None);
                };
                // `$1` is the submission's id in every row.
                if !new.answers.is_empty() {
                    let rows = tuples(new.answers.len(), 3, &mut 2, |n| format!("($1, {})", answer_row(n)));
                    let query = sqlx::query(sqlx::AssertSqlSafe(format!("{ANSWERS} VALUES {rows}"))).bind(id);
                    bind_answers(query, new.answers).execute(&mut *self.tx).await?;
                }
                if !scores.is_empty() {
                    let rows = tuples(scores.len(), 8, &mut 2, |n| format!("($1, {})", score_row(n)));
                    let query = sqlx::query(sqlx::AssertSqlSafe(format!("{SCORES} VALUES {rows}"))).bind(id);
                    bind_scores(query, &scores).execute(&mut *self.tx).await?;
                }
                Ok(Some(id))
            }
        }
    }
}

/// `rows` tuples, `row(n)` writing one whose parameters start at `$n`, each taking `per_row`;
/// `next` is the first one's and moves past the last.
fn tuples(rows: usize, per_row: usize, next: &mut usize, row: impl Fn(usize) -> String) -> String {
    let tuples: Vec<String> = (0..rows).map(|index| row(*next + index * per_row)).collect();
    *next += rows * per_row;
    tuples.join(", ")
}

/// Binds the submission row's 16 parameters, in [`WriteTx::insert_submission`]'s order.
fn bind_submission<'q>(query: Query<'q>, new: &NewSubmission<'q>) -> Query<'q> {
    query
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
}

/// Binds each answer's item, code and not-applicable mark.
fn bind_answers<'q>(mut query: Query<'q>, answers: &[RawAnswer]) -> Query<'q> {
    for answer in answers {
        let (code, not_applicable) = match answer.response {
            qol_shared::answers::RawResponse::Code(code) => (Some(code), 0i64),
            qol_shared::answers::RawResponse::Marker(_) => (None, 1i64),
        };
        query = query.bind(answer.item).bind(code).bind(not_applicable);
    }
    query
}

/// Binds each score row's eight values.
fn bind_scores<'q>(mut query: Query<'q>, rows: &[(&'q Scores, &'q ScaleScore)]) -> Query<'q> {
    for (scores, scale) in rows {
        let (score, raw, answered, in_scale, reason) = match scale.outcome {
            Outcome::Scored { score, raw_score, items_answered, items_in_scale } => {
                (Some(score), Some(raw_score), items_answered, items_in_scale, None)
            }
            Outcome::Missing { reason, items_answered, items_in_scale } => {
                (None, None, items_answered, items_in_scale, Some(enum_text(&reason)))
            }
        };
        query = query
            .bind(scores.instrument.as_str())
            .bind(scale.code.as_ref())
            .bind(super::float_param(score))
            .bind(super::float_param(raw))
            .bind(i64::from(answered))
            .bind(i64::from(in_scale))
            .bind(reason)
            .bind(scores.algorithm_version.as_ref());
    }
    query
}
