//! Reads for many patients at once: what a research record is built from, for a page of
//! patients, in one query per kind (events, assessments, withdrawn assessments with forms,
//! submissions, item answers, scores) instead of several per patient, run at once on the pool's
//! connections. Rows are mapped by the same helpers as the one-patient reads as they stream in
//! (a page's raw rows are never all held at once), and grouped by patient here.
//!
//! Item answers and scores come one row per submission (each joined into one text by the
//! database): they are most of the rows, and each row costs far more to carry out of the driver
//! than to parse.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use qol_shared::answers::RawAnswer;
use qol_shared::scoring::Scores;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::patients::{ASSESSMENT_QUERY, EVENT_QUERY, assessment, event};
use super::submissions::{SUBMISSION_QUERY, joined_scores, joined_scores_sql, submission};
use super::{AssessmentRow, Db, EventRow, StorageError, StoredSubmission, placeholders};

/// What one patient's research record is built from (`Clinic::record_of`).
#[derive(Debug, Clone, Default)]
pub struct ResearchData {
    /// Every event record, oldest first (as `Db::events`).
    pub events: Vec<EventRow>,
    /// Assessments in the current schedule and unscheduled ones (as `Db::assessments`).
    pub assessments: Vec<AssessmentRow>,
    /// Assessments that left the schedule when an event was recorded or corrected and have a
    /// submission: research keeps a place for every form received.
    pub withdrawn: Vec<AssessmentRow>,
    /// Every submission, every version, in id order (as `Db::submissions_of`).
    pub submissions: Vec<StoredSubmission>,
    /// Item answers by submission id, by item (as `Db::answers_of`; a submission without any
    /// is absent).
    pub answers: HashMap<i64, Vec<RawAnswer>>,
    /// Scores by submission id (as `Db::scores_of`; a submission without any is absent).
    pub scores: HashMap<i64, Vec<Scores>>,
}

/// A submission's answers as the database joins them: `item=code` or, not applicable, `item=`,
/// separated by commas, in any order.
fn joined_answers(text: &str) -> Result<Vec<RawAnswer>, StorageError> {
    let corrupt = || StorageError::Corrupt(format!("item answers {text:?}"));
    let number = |part: &str| part.parse::<i64>().map_err(|_| corrupt());
    let mut answers = text
        .split(',')
        .map(|answer| {
            let (item, code) = answer.split_once('=').ok_or_else(corrupt)?;
            Ok(match code {
                "" => RawAnswer::not_applicable(number(item)?),
                code => RawAnswer::code(number(item)?, number(code)?),
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    answers.sort_by_key(|answer| answer.item);
    Ok(answers)
}

impl Db {
    /// Calls `each` with every row `sql` gives with `ids` bound to `$1…$n`, as they come.
    async fn each_row(
        &self,
        sql: String,
        ids: &[i64],
        mut each: impl FnMut(AnyRow) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let mut rows = query.fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            each(row)?;
        }
        Ok(())
    }

    /// The research data of each of `patients` (ids), one entry per id (empty for a patient with
    /// nothing stored). Six queries whatever the number of patients: callers pass a page (each
    /// id is a bound parameter, so a few hundred, well under either database's limit).
    /// With `with_answers` false, no item answers are read (each patient's `answers` is empty).
    pub async fn research_data(
        &self,
        patients: &[i64],
        with_answers: bool,
    ) -> Result<HashMap<i64, ResearchData>, StorageError> {
        let mut out: HashMap<i64, ResearchData> =
            patients.iter().map(|id| (*id, ResearchData::default())).collect();
        if patients.is_empty() {
            return Ok(out);
        }
        let ids = &placeholders(1, patients.len());
        // Each patient's rows keep the one-patient reads' order: each query orders as its
        // one-patient read does, and grouping keeps the order rows come in.
        let events = async {
            let mut events = Vec::new();
            let sql = format!("{EVENT_QUERY} WHERE e.patient_id IN ({ids}) ORDER BY e.id");
            self.each_row(sql, patients, |row| {
                events.push((row.try_get::<i64, _>("patient_id")?, event(&row)?));
                Ok(())
            })
            .await?;
            Ok::<_, StorageError>(events)
        };
        let assessments = |withdrawn: &'static str| async move {
            let mut rows = Vec::new();
            let sql = format!(
                "{ASSESSMENT_QUERY} WHERE a.patient_id IN ({ids}) AND {withdrawn} ORDER BY a.window_start, a.key"
            );
            self.each_row(sql, patients, |row| {
                rows.push(assessment(&row)?);
                Ok(())
            })
            .await?;
            Ok::<_, StorageError>(rows)
        };
        let submissions = async {
            let mut rows = Vec::new();
            let sql = format!("{SUBMISSION_QUERY} WHERE s.patient_id IN ({ids}) ORDER BY s.id");
            self.each_row(sql, patients, |row| {
                rows.push(submission(&row)?);
                Ok(())
            })
            .await?;
            Ok::<_, StorageError>(rows)
        };
        let of_these = format!("SELECT s.id FROM submissions s WHERE s.patient_id IN ({ids})");
        let answers = async {
            let mut answers = Vec::new();
            if !with_answers {
                return Ok(answers);
            }
            let join = self.backend.join_texts();
            let sql = format!(
                "SELECT submission_id, {join}(item || '=' || COALESCE(CAST(code AS TEXT), ''), ',') AS answers \
                 FROM item_answers WHERE submission_id IN ({of_these}) GROUP BY submission_id"
            );
            self.each_row(sql, patients, |row| {
                let id: i64 = row.try_get("submission_id")?;
                answers.push((id, joined_answers(&row.try_get::<String, _>("answers")?)?));
                Ok(())
            })
            .await?;
            Ok::<_, StorageError>(answers)
        };
        let scores = async {
            let mut scores = Vec::new();
            let sql = format!(
                "SELECT submission_id, {} AS scores FROM scores WHERE submission_id IN ({of_these}) \
                 GROUP BY submission_id",
                joined_scores_sql(self.backend)
            );
            self.each_row(sql, patients, |row| {
                let id: i64 = row.try_get("submission_id")?;
                scores.push((id, joined_scores(row.try_get::<&str, _>("scores")?)?));
                Ok(())
            })
            .await?;
            Ok::<_, StorageError>(scores)
        };
        // The forms are read before their answers and scores: a form is stored with its answers
        // and scores in one transaction, so every form read has them all, whatever arrives
        // meanwhile. (Answers and scores of a form stored after the forms were read are left out
        // below with it: it joins the next export.)
        let forms = async {
            let submissions = submissions.await?;
            let (answers, scores) = tokio::try_join!(answers, scores)?;
            Ok::<_, StorageError>((submissions, answers, scores))
        };
        let (events, scheduled, withdrawn, (submissions, answers, scores)) = tokio::try_join!(
            events,
            assessments("a.withdrawn = 0"),
            assessments(
                "a.withdrawn = 1 AND EXISTS (SELECT 1 FROM submissions s WHERE s.assessment_id = a.id)"
            ),
            forms
        )?;
        for (patient, event) in events {
            out.entry(patient).or_default().events.push(event);
        }
        for row in scheduled {
            out.entry(row.patient_id).or_default().assessments.push(row);
        }
        for row in withdrawn {
            out.entry(row.patient_id).or_default().withdrawn.push(row);
        }
        let patient_of: HashMap<i64, i64> = submissions.iter().map(|row| (row.id, row.patient_id)).collect();
        for row in submissions {
            out.entry(row.patient_id).or_default().submissions.push(row);
        }
        for (id, answers) in answers {
            if let Some(patient) = patient_of.get(&id) {
                out.entry(*patient).or_default().answers.insert(id, answers);
            }
        }
        for (id, scores) in scores {
            if let Some(patient) = patient_of.get(&id) {
                out.entry(*patient).or_default().scores.insert(id, scores);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(1, 1), "$1");
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 2), "$4, $5");
    }

    #[test]
    fn joined_answers_are_read_by_item() {
        assert_eq!(
            joined_answers("3=2,1=4,2=").unwrap(),
            vec![RawAnswer::code(1, 4), RawAnswer::not_applicable(2), RawAnswer::code(3, 2)]
        );
        assert!(joined_answers("1=x").is_err());
        assert!(joined_answers("1").is_err());
    }
}
