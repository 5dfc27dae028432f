//! Alert cards and their signals (raised inside the submission's transaction), per-patient
//! snoozes, and the outbox of messages to send.

use qol_shared::alerts::{Signal, Snooze, Tier};
use qol_shared::api::{AlertState, CardKind, CardSignal, NotificationView, ResolutionAction};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Db, StorageError, WriteTx, enum_from, enum_text, placeholders};
use qol_shared::Timestamp;

/// A card as stored, with the patient's identity for nurses.
#[derive(Debug, Clone, PartialEq)]
pub struct CardRow {
    pub id: i64,
    pub patient_id: i64,
    pub study_code: String,
    pub patient_name: Option<String>,
    pub phone: Option<String>,
    pub kind: CardKind,
    pub tier: Tier,
    pub state: AlertState,
    pub escalated: bool,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub sla_from: Timestamp,
    pub latest_submission_id: Option<i64>,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    pub resolution_action: Option<ResolutionAction>,
    pub resolution_note: Option<String>,
}

/// Which cards to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct CardFilter {
    /// One state; `None` reads the open ones (new and acknowledged)…
    pub state: Option<AlertState>,
    /// …or every card, when set.
    pub all_states: bool,
    pub patient_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SnoozeRow {
    pub id: i64,
    pub patient_id: i64,
    pub study_code: String,
    pub subject: String,
    pub until: chrono::NaiveDate,
    pub tier: Tier,
    pub reason: String,
    pub created_by: String,
    pub ended_at: Option<Timestamp>,
    /// How many signals it held, the last one's time, value and report.
    pub held_count: i64,
    pub last_held_at: Option<Timestamp>,
    pub last_held_value: Option<f64>,
    pub last_held_submission_id: Option<i64>,
}

/// A message waiting in the outbox, as the worker claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub dedupe_key: String,
    /// This attempt's number (1 for the first).
    pub attempt: i64,
    pub card_id: Option<i64>,
    pub purpose: String,
    pub patient_id: Option<i64>,
    /// Reminders: the template (`window_open`…), the language tag and the assessment.
    pub template: Option<String>,
    pub language: Option<String>,
    pub assessment_key: Option<String>,
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub channel: &'a str,
    pub recipient: &'a str,
    pub purpose: &'a str,
    pub card_id: Option<i64>,
    pub patient_id: Option<i64>,
    pub dedupe_key: String,
    pub subject: String,
    pub body: String,
    /// Reminders: the template (`window_open`…), the language tag and the assessment.
    pub template: Option<&'a str>,
    pub language: Option<&'a str>,
    pub assessment_key: Option<&'a str>,
}

const CARD_QUERY: &str = "SELECT c.id, c.patient_id, p.study_code, i.full_name, i.phone, c.kind, c.tier, c.state, \
     c.escalated, c.opened_at, c.updated_at, c.sla_from, c.latest_submission_id, c.acknowledged_at, \
     ua.username AS acknowledged_by, c.resolved_at, ur.username AS resolved_by, c.resolution_action, c.resolution_note \
     FROM alert_cards c JOIN patients p ON p.id = c.patient_id \
     LEFT JOIN patient_identities i ON i.patient_id = c.patient_id \
     LEFT JOIN staff_users ua ON ua.id = c.acknowledged_by \
     LEFT JOIN staff_users ur ON ur.id = c.resolved_by";

fn card(row: &AnyRow) -> Result<CardRow, StorageError> {
    let action: Option<String> = row.try_get("resolution_action")?;
    let kind: String = row.try_get("kind")?;
    Ok(CardRow {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        study_code: row.try_get("study_code")?,
        patient_name: row.try_get("full_name")?,
        phone: row.try_get("phone")?,
        kind: CardKind::parse(&kind).ok_or_else(|| StorageError::Corrupt(format!("card kind {kind:?}")))?,
        tier: enum_from(&row.try_get::<String, _>("tier")?)?,
        state: AlertState::parse(&row.try_get::<String, _>("state")?)
            .ok_or_else(|| StorageError::Corrupt("card state".into()))?,
        escalated: row.try_get::<i64, _>("escalated")? != 0,
        opened_at: super::stored_timestamp(&row.try_get::<String, _>("opened_at")?)?,
        updated_at: super::stored_timestamp(&row.try_get::<String, _>("updated_at")?)?,
        sla_from: super::stored_timestamp(&row.try_get::<String, _>("sla_from")?)?,
        latest_submission_id: row.try_get("latest_submission_id")?,
        acknowledged_at: super::stored_timestamp_opt(row.try_get("acknowledged_at")?)?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        resolved_at: super::stored_timestamp_opt(row.try_get("resolved_at")?)?,
        resolved_by: row.try_get("resolved_by")?,
        resolution_action: action.as_deref().map(enum_from).transpose()?,
        resolution_note: row.try_get("resolution_note")?,
    })
}

fn signal(row: &AnyRow) -> Result<(i64, CardSignal), StorageError> {
    Ok((
        row.try_get("card_id")?,
        CardSignal {
            subject: row.try_get("scale")?,
            rule: enum_from(&row.try_get::<String, _>("rule")?)?,
            tier: enum_from(&row.try_get::<String, _>("tier")?)?,
            value: row.try_get("value")?,
            baseline: row.try_get("baseline")?,
            previous: row.try_get("previous")?,
            source: row.try_get("source")?,
            submission_id: row.try_get("submission_id")?,
            raised_at: super::stored_timestamp(&row.try_get::<String, _>("updated_at")?)?,
            latest_value: row.try_get("latest_value")?,
            latest_submission_id: row.try_get("latest_submission_id")?,
            latest_at: super::stored_timestamp_opt(row.try_get("latest_at")?)?,
        },
    ))
}

const NOTIFICATION_QUERY: &str = "SELECT o.id, o.channel, o.recipient, o.state, o.attempts, o.last_error, o.created_at, \
     o.next_attempt_at, o.sent_at, o.card_id, p.study_code FROM outbox o LEFT JOIN patients p ON p.id = o.patient_id";

fn notification(row: &AnyRow) -> Result<NotificationView, StorageError> {
    let state: String = row.try_get("state")?;
    Ok(NotificationView {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        recipient: row.try_get("recipient")?,
        next_attempt_at: match state.as_str() {
            "pending" => Some(super::stored_timestamp(&row.try_get::<String, _>("next_attempt_at")?)?),
            _ => None,
        },
        state,
        attempts: row.try_get::<i64, _>("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: super::stored_timestamp(&row.try_get::<String, _>("created_at")?)?,
        sent_at: super::stored_timestamp_opt(row.try_get("sent_at")?)?,
        card_id: row.try_get("card_id")?,
        study_id: row.try_get("study_code")?,
    })
}

/// `$1, $2, …` for `n` parameters from `first`.
/// An open card as a report joins it: (id, tier, state) and, by subject, the id and tier of the
/// signal it holds.
#[derive(Debug, Clone)]
pub struct OpenCardRow {
    pub card: (i64, Tier, AlertState),
    pub subjects: std::collections::HashMap<String, (i64, Tier)>,
}

impl Db {
    /// Cards (the worklist's order is the caller's).
    pub async fn cards(&self, filter: CardFilter) -> Result<Vec<CardRow>, StorageError> {
        let mut conditions = Vec::new();
        match (filter.state, filter.all_states) {
            (Some(_), _) => conditions.push("c.state = $1"),
            (None, false) => conditions.push("c.state <> 'resolved'"),
            (None, true) => {}
        }
        if filter.patient_id.is_some() {
            conditions.push(if filter.state.is_some() { "c.patient_id = $2" } else { "c.patient_id = $1" });
        }
        let mut text = CARD_QUERY.to_owned();
        if !conditions.is_empty() {
            text.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
        }
        text.push_str(" ORDER BY c.id");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
        if let Some(state) = filter.state {
            query = query.bind(state.as_str());
        }
        if let Some(patient) = filter.patient_id {
            query = query.bind(patient);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(card).collect()
    }

    pub async fn card(&self, id: i64) -> Result<Option<CardRow>, StorageError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{CARD_QUERY} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(card).transpose()
    }

    /// The signals of these cards, as (card id, signal), most urgent first within a card.
    pub async fn card_signals(&self, cards: &[i64]) -> Result<Vec<(i64, CardSignal)>, StorageError> {
        if cards.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        // In chunks: a worklist may hold many cards, a statement only so many parameters.
        for chunk in cards.chunks(500) {
            let text = format!(
                "SELECT card_id, scale, rule, tier, value, baseline, previous, source, submission_id, updated_at, \
                 latest_value, latest_submission_id, latest_at FROM alerts WHERE card_id IN ({}) ORDER BY id",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(signal(&row)?);
            }
        }
        out.sort_by(|(a, x), (b, y)| {
            a.cmp(b).then(y.tier.cmp(&x.tier)).then_with(|| x.subject.cmp(&y.subject))
        });
        Ok(out)
    }

    /// The outbox messages of these cards.
    pub async fn card_notifications(&self, cards: &[i64]) -> Result<Vec<NotificationView>, StorageError> {
        let mut out = Vec::new();
        for chunk in cards.chunks(500) {
            let text = format!(
                "{NOTIFICATION_QUERY} WHERE o.card_id IN ({}) ORDER BY o.id",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(notification(&row)?);
            }
        }
        Ok(out)
    }

    /// The latest outbox messages, newest first.
    pub async fn notifications(&self, limit: i64) -> Result<Vec<NotificationView>, StorageError> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{NOTIFICATION_QUERY} ORDER BY o.id DESC LIMIT $1")))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(notification).collect()
    }

    pub async fn snoozes(&self, patient_id: i64) -> Result<Vec<SnoozeRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT s.id, s.patient_id, p.study_code, s.subject, s.until_date, s.tier, s.reason, u.username, s.ended_at, \
             s.held_count, s.last_held_at, s.last_held_value, s.last_held_submission_id \
             FROM alert_snoozes s JOIN patients p ON p.id = s.patient_id JOIN staff_users u ON u.id = s.created_by \
             WHERE s.patient_id = $1 ORDER BY s.id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SnoozeRow {
                    id: row.try_get(0)?,
                    patient_id: row.try_get(1)?,
                    study_code: row.try_get(2)?,
                    subject: row.try_get(3)?,
                    until: super::parse_date(&row.try_get::<String, _>(4)?)?,
                    tier: enum_from(&row.try_get::<String, _>(5)?)?,
                    reason: row.try_get(6)?,
                    created_by: row.try_get(7)?,
                    ended_at: super::stored_timestamp_opt(row.try_get(8)?)?,
                    held_count: row.try_get(9)?,
                    last_held_at: super::stored_timestamp_opt(row.try_get(10)?)?,
                    last_held_value: row.try_get(11)?,
                    last_held_submission_id: row.try_get(12)?,
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// The patient's open cards, each kind's (id, tier, state) with what it holds: each subject
    /// with its signal's id and tier; and her snoozes that hold on `today`. One round trip, made
    /// under the write lock.
    pub async fn cards_and_snoozes(
        &mut self,
        patient_id: i64,
        today: chrono::NaiveDate,
    ) -> Result<(Vec<(CardKind, OpenCardRow)>, Vec<(String, Snooze)>), StorageError> {
        let rows = sqlx::query(
            "SELECT 'card', c.id, c.kind, c.tier, c.state, a.scale, a.id, a.tier \
             FROM alert_cards c LEFT JOIN alerts a ON a.card_id = c.id \
             WHERE c.patient_id = $1 AND c.state <> 'resolved' \
             UNION ALL SELECT 'snooze', NULL, NULL, tier, until_date, subject, NULL, NULL FROM alert_snoozes \
             WHERE patient_id = $1 AND ended_at IS NULL AND until_date >= $2 \
             ORDER BY 2, 7",
        )
        .bind(patient_id)
        .bind(today.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        let mut cards: Vec<(CardKind, OpenCardRow)> = Vec::new();
        let mut snoozes = Vec::new();
        for row in &rows {
            let tier: Tier = enum_from(&row.try_get::<String, _>(3)?)?;
            if row.try_get::<String, _>(0)? == "snooze" {
                let until = super::parse_date(&row.try_get::<String, _>(4)?)?;
                snoozes.push((row.try_get(5)?, Snooze { until, tier }));
                continue;
            }
            let id: i64 = row.try_get(1)?;
            let kind: String = row.try_get(2)?;
            let kind =
                CardKind::parse(&kind).ok_or_else(|| StorageError::Corrupt(format!("card kind {kind:?}")))?;
            let card = match cards.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, card)) => card,
                None => {
                    let state: String = row.try_get(4)?;
                    let state = AlertState::parse(&state)
                        .ok_or_else(|| StorageError::Corrupt("card state".into()))?;
                    cards.push((kind, OpenCardRow { card: (id, tier, state), subjects: Default::default() }));
                    &mut cards.last_mut().expect("just pushed").1
                }
            };
            // One open card per kind is the rule; the rows of any other are not this card's.
            if card.card.0 != id {
                continue;
            }
            let Some(subject) = row.try_get::<Option<String>, _>(5)? else { continue };
            let signal = (row.try_get::<i64, _>(6)?, enum_from(&row.try_get::<String, _>(7)?)?);
            // A card holds one signal per subject; should a card from before that rule hold two,
            // the first is the one kept.
            card.subjects.entry(subject).or_insert(signal);
        }
        Ok((cards, snoozes))
    }

    pub async fn insert_card(
        &mut self,
        patient_id: i64,
        kind: CardKind,
        tier: Tier,
        submission_id: Option<i64>,
        now: &str,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO alert_cards (patient_id, kind, tier, state, escalated, opened_at, updated_at, sla_from, latest_submission_id) \
             VALUES ($1, $2, $3, 'new', 0, $4, $4, $4, $5) RETURNING id",
        )
        .bind(patient_id)
        .bind(kind.as_str())
        .bind(tier.as_str())
        .bind(now)
        .bind(submission_id)
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// A newer report (or a help request, `submission_id` none: the latest report stays) joined
    /// the card: its tier (never lower), and when `escalated`, the card is new again with its
    /// service-level clock restarted.
    pub async fn join_card(
        &mut self,
        id: i64,
        tier: Tier,
        escalated: bool,
        submission_id: Option<i64>,
        now: &str,
    ) -> Result<(), StorageError> {
        let text = if escalated {
            "UPDATE alert_cards SET tier = $1, latest_submission_id = COALESCE($2, latest_submission_id), \
             updated_at = $3, state = 'new', escalated = 1, sla_from = $3, acknowledged_at = NULL, \
             acknowledged_by = NULL WHERE id = $4"
        } else {
            "UPDATE alert_cards SET tier = $1, latest_submission_id = COALESCE($2, latest_submission_id), \
             updated_at = $3 WHERE id = $4"
        };
        sqlx::query(text)
            .bind(tier.as_str())
            .bind(submission_id)
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// New signals on card `card_id`, in one statement however many (the order given is the
    /// order of their row ids).
    pub async fn insert_signals(
        &mut self,
        card_id: i64,
        patient_id: i64,
        signals: &[&Signal],
        submission_id: Option<i64>,
        now: &str,
    ) -> Result<(), StorageError> {
        if signals.is_empty() {
            return Ok(());
        }
        // $1 card, $2 patient, $3 submission, $4 time, then seven per signal from $5.
        let rows: Vec<String> = (0..signals.len())
            .map(|n| {
                let p = |k: usize| format!("${}", 5 + 7 * n + k);
                format!(
                    "($1, $2, {subject}, {tier}, {rule}, 'new', CAST({value} AS DOUBLE PRECISION), \
                     CAST({baseline} AS DOUBLE PRECISION), CAST({previous} AS DOUBLE PRECISION), {source}, $3, $4, $4, \
                     CAST({value} AS DOUBLE PRECISION), $3, $4)",
                    subject = p(0),
                    tier = p(1),
                    rule = p(2),
                    value = p(3),
                    baseline = p(4),
                    previous = p(5),
                    source = p(6),
                )
            })
            .collect();
        let text = format!(
            "INSERT INTO alerts (card_id, patient_id, scale, tier, rule, state, value, baseline, previous, source, \
             submission_id, created_at, updated_at, latest_value, latest_submission_id, latest_at) VALUES {}",
            rows.join(", ")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(card_id)
            .bind(patient_id)
            .bind(submission_id)
            .bind(now);
        for signal in signals {
            insert = bind_signal(insert.bind(&signal.subject), signal);
        }
        insert.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Stored signals of a card (by row id) replaced by signals of the same or a higher tier:
    /// rule, values and report, and the latest value of each subject `latest` has (the report's:
    /// each row is written once), in one statement however many. An id given twice takes its
    /// last signal.
    pub async fn replace_signals(
        &mut self,
        card_id: i64,
        replacements: &[(i64, &Signal)],
        submission_id: Option<i64>,
        latest: &std::collections::BTreeMap<String, f64>,
        now: &str,
    ) -> Result<(), StorageError> {
        let mut last: Vec<(i64, &Signal)> = Vec::with_capacity(replacements.len());
        for (id, signal) in replacements {
            match last.iter_mut().find(|(kept, _)| kept == id) {
                Some(kept) => kept.1 = signal,
                None => last.push((*id, signal)),
            }
        }
        if last.is_empty() {
            return Ok(());
        }
        // $1 submission, $2 time, $3 card, then eight per signal from $4 (row id first, its
        // latest value last). Both databases name a VALUES list's columns column1, column2, …
        // The card narrows the rows to its own by index: a planner that thinks the table small
        // would otherwise read all of it to join the list (the costliest statement under the
        // write lock in the load bench, ~1 ms).
        let rows: Vec<String> = (0..last.len())
            .map(|n| {
                let at = 4 + 8 * n;
                let params: Vec<String> = (at..at + 8).map(|k| format!("${k}")).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let text = format!(
            "UPDATE alerts SET tier = v.column2, rule = v.column3, value = CAST(v.column4 AS DOUBLE PRECISION), \
             baseline = CAST(v.column5 AS DOUBLE PRECISION), previous = CAST(v.column6 AS DOUBLE PRECISION), \
             source = v.column7, submission_id = $1, updated_at = $2, \
             latest_value = CASE WHEN v.column8 IS NULL THEN alerts.latest_value ELSE CAST(v.column8 AS DOUBLE PRECISION) END, \
             latest_submission_id = CASE WHEN v.column8 IS NULL THEN alerts.latest_submission_id ELSE $1 END, \
             latest_at = CASE WHEN v.column8 IS NULL THEN alerts.latest_at ELSE $2 END \
             FROM (VALUES {}) AS v WHERE alerts.card_id = $3 AND alerts.id = v.column1",
            rows.join(", ")
        );
        let mut update = sqlx::query(sqlx::AssertSqlSafe(text)).bind(submission_id).bind(now).bind(card_id);
        for (id, signal) in last {
            let latest = submission_id.and_then(|_| latest.get(&signal.subject).copied());
            update = bind_signal(update.bind(id), signal).bind(super::float_param(latest));
        }
        update.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Every signal on the patient's open cards whose subject the report has a value for gets
    /// that value as its latest: one statement for all of them. The signals this report added or
    /// replaced (they name it) wrote theirs as they were written, and are left alone.
    pub async fn set_latest_on_open_cards(
        &mut self,
        patient_id: i64,
        latest: &std::collections::BTreeMap<String, f64>,
        submission_id: i64,
        now: &str,
    ) -> Result<(), StorageError> {
        if latest.is_empty() {
            return Ok(());
        }
        // $1 patient, $2 submission, $3 time, then (subject, value) pairs from $4.
        let cases: String = (0..latest.len())
            .map(|n| format!(" WHEN ${} THEN CAST(${} AS DOUBLE PRECISION)", 4 + 2 * n, 5 + 2 * n))
            .collect();
        let subjects: Vec<String> = (0..latest.len()).map(|n| format!("${}", 4 + 2 * n)).collect();
        let text = format!(
            "UPDATE alerts SET latest_value = CASE scale{cases} END, latest_submission_id = $2, latest_at = $3 \
             WHERE card_id IN (SELECT id FROM alert_cards WHERE patient_id = $1 AND state <> 'resolved') \
             AND (submission_id IS NULL OR submission_id <> $2) AND scale IN ({})",
            subjects.join(", ")
        );
        let mut update =
            sqlx::query(sqlx::AssertSqlSafe(text)).bind(patient_id).bind(submission_id).bind(now);
        for (subject, value) in latest {
            update = update.bind(subject.as_str()).bind(super::float_param(Some(*value)));
        }
        update.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Counts a signal held by the patient's snoozes of `subject` that hold on `today`.
    pub async fn record_held(
        &mut self,
        patient_id: i64,
        subject: &str,
        today: chrono::NaiveDate,
        value: Option<f64>,
        submission_id: Option<i64>,
        now: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE alert_snoozes SET held_count = held_count + 1, last_held_at = $1, \
             last_held_value = CAST($2 AS DOUBLE PRECISION), last_held_submission_id = $3 \
             WHERE patient_id = $4 AND subject = $5 AND ended_at IS NULL AND until_date >= $6",
        )
        .bind(now)
        .bind(super::float_param(value))
        .bind(submission_id)
        .bind(patient_id)
        .bind(subject)
        .bind(today.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// When a card's service-level clock started (opened, or re-opened by an escalation).
    pub async fn card_sla_from(&mut self, id: i64) -> Result<Option<Timestamp>, StorageError> {
        let row = sqlx::query("SELECT sla_from FROM alert_cards WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| super::stored_timestamp(&row.try_get::<String, _>(0)?)).transpose()
    }

    /// A card's state, tier and last change, read under the write lock.
    pub async fn card_state(&mut self, id: i64) -> Result<Option<(AlertState, Tier, String)>, StorageError> {
        let row = sqlx::query("SELECT state, tier, updated_at FROM alert_cards WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| {
            let state: String = row.try_get(0)?;
            Ok((
                AlertState::parse(&state).ok_or_else(|| StorageError::Corrupt("card state".into()))?,
                enum_from(&row.try_get::<String, _>(1)?)?,
                row.try_get(2)?,
            ))
        })
        .transpose()
    }

    /// Acknowledges a new card. Returns false when it was not new.
    pub async fn acknowledge_card(
        &mut self,
        id: i64,
        staff_id: i64,
        now: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE alert_cards SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, updated_at = $1 \
             WHERE id = $3 AND state = 'new'",
        )
        .bind(now)
        .bind(staff_id)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Resolves a card that is not resolved yet (acknowledging it too if it was new).
    pub async fn resolve_card(
        &mut self,
        id: i64,
        staff_id: i64,
        action: ResolutionAction,
        note: &str,
        now: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE alert_cards SET state = 'resolved', resolved_at = $1, resolved_by = $2, resolution_action = $3, \
             resolution_note = $4, acknowledged_at = COALESCE(acknowledged_at, $1), \
             acknowledged_by = COALESCE(acknowledged_by, $2), updated_at = $1 WHERE id = $5 AND state <> 'resolved'",
        )
        .bind(now)
        .bind(staff_id)
        .bind(enum_text(&action))
        .bind(note)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_snooze(
        &mut self,
        patient_id: i64,
        subject: &str,
        until: chrono::NaiveDate,
        tier: Tier,
        reason: &str,
        staff_id: i64,
    ) -> Result<i64, StorageError> {
        Ok(sqlx::query(
            "INSERT INTO alert_snoozes (patient_id, subject, until_date, tier, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(patient_id)
        .bind(subject)
        .bind(until.to_string())
        .bind(tier.as_str())
        .bind(reason)
        .bind(staff_id)
        .bind(self.now_text())
        .fetch_one(&mut *self.tx)
        .await?
        .try_get(0)?)
    }

    /// Ends a snooze early. Returns false when it had already ended or is another patient's.
    pub async fn end_snooze(
        &mut self,
        id: i64,
        patient_id: i64,
        staff_id: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE alert_snoozes SET ended_at = $1, ended_by = $2 WHERE id = $3 AND patient_id = $4 AND ended_at IS NULL",
        )
        .bind(self.now_text())
        .bind(staff_id)
        .bind(id)
        .bind(patient_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a message; one already queued under the same key is left as it is. Returns its id
    /// when it was queued now.
    pub async fn enqueue(
        &mut self,
        message: &NewMessage<'_>,
        now: &str,
    ) -> Result<Option<i64>, StorageError> {
        let row = sqlx::query(
            "INSERT INTO outbox (channel, recipient, purpose, card_id, patient_id, dedupe_key, subject, body, state, \
             attempts, next_attempt_at, created_at, template, language, assessment_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9, $10, $11, $12) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(message.channel)
        .bind(message.recipient)
        .bind(message.purpose)
        .bind(message.card_id)
        .bind(message.patient_id)
        .bind(&message.dedupe_key)
        .bind(&message.subject)
        .bind(&message.body)
        .bind(now)
        .bind(message.template)
        .bind(message.language)
        .bind(message.assessment_key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| row.try_get(0)).transpose().map_err(Into::into)
    }

    /// Claims up to `limit` messages that are due and not leased by another worker (or whose
    /// lease ran out), for `lease_until`. The transaction holds the audit chain's lock, and
    /// PostgreSQL also skips rows another transaction has locked, so no message is claimed twice.
    pub async fn claim_due(
        &mut self,
        backend: Backend,
        worker: &str,
        now: &str,
        lease_until: &str,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StorageError> {
        let lock = match backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let text = format!(
            "UPDATE outbox SET lease_until = $1, leased_by = $2, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
             AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4{lock}) \
             RETURNING id, channel, recipient, subject, body, dedupe_key, attempts, card_id, purpose, patient_id, \
             template, language, assessment_key"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(lease_until)
            .bind(worker)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?;
        let mut out: Vec<OutboxMessage> = rows
            .iter()
            .map(|row| {
                Ok(OutboxMessage {
                    id: row.try_get(0)?,
                    channel: row.try_get(1)?,
                    recipient: row.try_get(2)?,
                    subject: row.try_get(3)?,
                    body: row.try_get(4)?,
                    dedupe_key: row.try_get(5)?,
                    attempt: row.try_get::<i64, _>(6)?,
                    card_id: row.try_get(7)?,
                    purpose: row.try_get(8)?,
                    patient_id: row.try_get(9)?,
                    template: row.try_get(10)?,
                    language: row.try_get(11)?,
                    assessment_key: row.try_get(12)?,
                })
            })
            .collect::<Result<_, StorageError>>()?;
        out.sort_by_key(|message| message.id);
        Ok(out)
    }

    /// The message was delivered (only by the worker that holds its lease).
    pub async fn outbox_sent(&mut self, id: i64, worker: &str, now: &str) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND leased_by = $3 AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The attempt failed: retry at `retry_at`, or give up (`None`): failed.
    pub async fn outbox_attempt_failed(
        &mut self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<&str>,
    ) -> Result<bool, StorageError> {
        let done = match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE outbox SET last_error = $1, next_attempt_at = $2, lease_until = NULL \
                     WHERE id = $3 AND leased_by = $4 AND state = 'pending'",
                )
                .bind(error)
                .bind(at)
                .bind(id)
                .bind(worker)
                .execute(&mut *self.tx)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE outbox SET state = 'failed', last_error = $1, lease_until = NULL \
                     WHERE id = $2 AND leased_by = $3 AND state = 'pending'",
                )
                .bind(error)
                .bind(id)
                .bind(worker)
                .execute(&mut *self.tx)
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
}

/// Binds a signal's tier, rule, values (baseline and previous too) and source, in that order,
/// after its subject or row id: the first seven parameters each signal has in `insert_signals`
/// and `replace_signals`.
fn bind_signal<'q>(query: super::Query<'q>, signal: &'q Signal) -> super::Query<'q> {
    query
        .bind(signal.tier.as_str())
        .bind(enum_text(&signal.rule))
        .bind(super::float_param(signal.value))
        .bind(super::float_param(signal.baseline))
        .bind(super::float_param(signal.previous))
        .bind(&signal.source)
}
