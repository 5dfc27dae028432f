//! The nurse worklist: alert cards (list, acknowledge, resolve; a patient's cards; the outbox's
//! e-mails), per-patient snoozes, and the overdue and missed assessments (with their reasons).
//! Nurses and admins only; every action is audited.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qol_shared::alerts::{SNOOZE_MAX_TIER, Tier, sla_deadline};
use qol_shared::api::{
    AcknowledgeAlert, AlertCard, AlertState, ApiError, CardKind, CardSignal, FollowUpItem, NotificationView,
    RecordMissedReason, ResolveAlert, Role, SnoozeRequest, SnoozeView,
};
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::json::{Json, Path, Query};
use super::{AppState, Error};
use crate::storage::{AuditEntry, CardFilter, CardRow, SnoozeRow, parse_timestamp};

const NURSES: &[Role] = &[Role::Nurse, Role::Admin];
/// How many resolved cards the worklist lists (the newest).
const RESOLVED_LISTED: usize = 500;
/// The furthest a snooze may reach: a nurse looks again at least this often.
const SNOOZE_MAX_DAYS: i64 = 183;

/// Cards as the API shows them, with their signals and e-mails, at `now`. The service level
/// (`sla_working_days`, the protocol's `alerts`) counts the study site's working days from the
/// card's opening or its last escalation.
async fn cards_view(
    state: &AppState,
    rows: Vec<CardRow>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<AlertCard>, Error> {
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    // Each card's signals and e-mails, gathered once.
    let mut signals: BTreeMap<i64, Vec<CardSignal>> = BTreeMap::new();
    for (card, signal) in state.clinic.db.card_signals(&ids).await? {
        signals.entry(card).or_default().push(signal);
    }
    let mut notifications: BTreeMap<i64, Vec<NotificationView>> = BTreeMap::new();
    for notification in state.clinic.db.card_notifications(&ids).await? {
        if let Some(card) = notification.card_id {
            notifications.entry(card).or_default().push(notification);
        }
    }
    let zone = state.clinic.protocol.time_zone;
    let sla_days = state.clinic.protocol.alerts.sla_working_days;
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).naive_local();
    Ok(rows
        .into_iter()
        .map(|row| {
            let sla_from = parse_timestamp(&row.sla_from).ok();
            let acknowledged = row.acknowledged_at.as_deref().and_then(|at| parse_timestamp(at).ok());
            let open = row.state != AlertState::Resolved;
            AlertCard {
                id: row.id,
                study_id: row.study_code,
                kind: row.kind,
                tier: row.tier,
                state: row.state,
                escalated: row.escalated,
                patient_name: row.patient_name,
                phone: row.phone,
                minutes_waiting: (open && row.kind == CardKind::CallRequest)
                    // Since the request the card was opened or re-opened by.
                    .then(|| sla_from.map(|at| (now - at).num_minutes().max(0)))
                    .flatten(),
                past_sla: row.state == AlertState::New
                    && sla_from.is_some_and(|from| local(now) > sla_deadline(local(from), sla_days)),
                minutes_to_acknowledge: sla_from
                    .zip(acknowledged)
                    .map(|(from, done)| (done - from).num_minutes()),
                opened_at: row.opened_at,
                updated_at: row.updated_at,
                sla_from: row.sla_from,
                acknowledged_at: row.acknowledged_at,
                acknowledged_by: row.acknowledged_by,
                resolved_at: row.resolved_at,
                resolved_by: row.resolved_by,
                resolution_action: row.resolution_action,
                resolution_note: row.resolution_note,
                latest_submission_id: row.latest_submission_id,
                signals: signals.remove(&row.id).unwrap_or_default(),
                notifications: notifications.remove(&row.id).unwrap_or_default(),
            }
        })
        .collect())
}

/// The worklist's order: open call requests first, then red, amber, info; oldest first within
/// each (by when the service-level clock started, so an escalated card takes its new place).
fn worklist_order(cards: &mut [AlertCard]) {
    cards.sort_by(|a, b| {
        let call =
            |card: &AlertCard| card.kind == CardKind::CallRequest && card.state != AlertState::Resolved;
        call(b)
            .cmp(&call(a))
            .then(b.tier.cmp(&a.tier))
            .then_with(|| a.sla_from.cmp(&b.sla_from))
            .then(a.id.cmp(&b.id))
    });
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AlertFilter {
    /// new, acknowledged or resolved; by default the open ones (new and acknowledged).
    state: Option<String>,
    /// red, amber or info.
    tier: Option<String>,
    /// A study id: that patient's cards only.
    patient: Option<String>,
    /// call_request or symptoms.
    kind: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("session" = ["nurse", "admin"])), params(AlertFilter), responses((status = 200, description = "alert cards: open call requests first, then red, amber, info; oldest first within each", body = Vec<AlertCard>), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    filter: Result<Query<AlertFilter>, Error>,
) -> Result<axum::Json<Vec<AlertCard>>, Error> {
    // Who asks first: a stranger learns nothing from a bad query.
    caller.require(NURSES)?;
    let Query(filter) = filter?;
    let wanted_state = match filter.state.as_deref() {
        Some(text) => Some(AlertState::parse(text).ok_or_else(|| {
            Error::BadRequest(format!("state {text:?} is not one of: new, acknowledged, resolved"))
        })?),
        None => None,
    };
    let wanted_tier: Option<Tier> = match filter.tier.as_deref() {
        Some(text) => Some(
            serde_json::from_value(json!(text))
                .map_err(|_| Error::BadRequest(format!("tier {text:?} is not one of: red, amber, info")))?,
        ),
        None => None,
    };
    let wanted_kind = match filter.kind.as_deref() {
        Some(text) => Some(CardKind::parse(text).ok_or_else(|| {
            Error::BadRequest(format!("kind {text:?} is not one of: call_request, symptoms"))
        })?),
        None => None,
    };
    let patient_id = match filter.patient.as_deref() {
        Some(study_id) => Some(super::patients::find_patient(&state, study_id).await?.id),
        None => None,
    };
    let rows: Vec<CardRow> = state
        .clinic
        .db
        .cards(CardFilter { state: wanted_state, all_states: false, patient_id })
        .await?
        .into_iter()
        .filter(|row| wanted_tier.is_none_or(|tier| row.tier == tier))
        .filter(|row| wanted_kind.is_none_or(|kind| row.kind == kind))
        .collect();
    // Resolved cards pile up over a study: the newest 500 (a patient's page lists all of theirs).
    let rows = if wanted_state == Some(AlertState::Resolved) {
        let skip = rows.len().saturating_sub(RESOLVED_LISTED);
        rows.into_iter().skip(skip).collect()
    } else {
        rows
    };
    let mut cards = cards_view(&state, rows, chrono::Utc::now()).await?;
    worklist_order(&mut cards);
    Ok(axum::Json(cards))
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/alerts", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, description = "the patient's cards, open and past, newest first", body = Vec<AlertCard>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn of_patient(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<AlertCard>>, Error> {
    caller.require(NURSES)?;
    let patient = super::patients::find_patient(&state, &study_id).await?;
    let rows = state
        .clinic
        .db
        .cards(CardFilter { state: None, all_states: true, patient_id: Some(patient.id) })
        .await?;
    let mut cards = cards_view(&state, rows, chrono::Utc::now()).await?;
    cards.sort_by_key(|card| std::cmp::Reverse(card.id));
    Ok(axum::Json(cards))
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "alerts", security(("session" = ["nurse", "admin"])), responses((status = 200, description = "the latest 200 messages of the outbox, newest first, with their delivery", body = Vec<NotificationView>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<NotificationView>>, Error> {
    caller.require(NURSES)?;
    Ok(axum::Json(state.clinic.db.notifications(200).await?))
}

async fn one_card(state: &AppState, id: i64) -> Result<AlertCard, Error> {
    let row = state
        .clinic
        .db
        .card(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no alert card {id}")))?;
    let mut cards = cards_view(state, vec![row], chrono::Utc::now()).await?;
    cards.pop().ok_or_else(|| Error::NotFound(format!("there is no alert card {id}")))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path)), request_body(content = Option<AcknowledgeAlert>, description = "optional"), responses((status = 200, body = AlertCard), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "not new, or changed since the nurse saw it", body = ApiError), (status = 422, body = ApiError)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<axum::Json<AlertCard>, Error> {
    caller.require(NURSES)?;
    let staff_id = caller.staff_id().ok_or_else(|| Error::Forbidden("staff only".into()))?;
    // The body is optional: none, `{}`, or `{"seen_updated_at": …}`.
    let body: AcknowledgeAlert = if body.iter().all(u8::is_ascii_whitespace) {
        AcknowledgeAlert::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| Error::unprocessable(format!("the body is not an acknowledgement: {error}")))?
    };
    state.clinic.acknowledge_card(&caller.actor(), staff_id, id, body.seen_updated_at.as_deref()).await?;
    Ok(axum::Json(one_card(&state, id).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path)), request_body = ResolveAlert, responses((status = 200, body = AlertCard), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ResolveAlert>,
) -> Result<axum::Json<AlertCard>, Error> {
    caller.require(NURSES)?;
    let staff_id = caller.staff_id().ok_or_else(|| Error::Forbidden("staff only".into()))?;
    state
        .clinic
        .resolve_card(
            &caller.actor(),
            staff_id,
            id,
            body.action,
            body.note.trim(),
            body.seen_updated_at.as_deref(),
        )
        .await?;
    Ok(axum::Json(one_card(&state, id).await?))
}

fn snooze_view(row: SnoozeRow) -> SnoozeView {
    SnoozeView {
        id: row.id,
        study_id: row.study_code,
        subject: row.subject,
        until: row.until,
        tier: row.tier,
        reason: row.reason,
        held_count: row.held_count,
        last_held_at: row.last_held_at,
        last_held_value: row.last_held_value,
        created_by: row.created_by,
        ended_at: row.ended_at,
    }
}

/// Scale codes of both instruments, `ITEM31`…`ITEM54` and `ITEM9`/`ITEM19`: what can be snoozed.
fn snoozable(subject: &str) -> bool {
    let scale = qol_shared::instrument::InstrumentId::ALL
        .iter()
        .any(|id| id.instrument().scales.iter().any(|scale| scale.code == subject));
    // Spelled exactly as signals are (`ITEM9`, not `ITEM09` or `ITEM+9`), or it would hold nothing.
    let item = subject
        .strip_prefix("ITEM")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=54).contains(&n) && format!("ITEM{n}") == subject);
    scale || item
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/snoozes", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), request_body = SnoozeRequest, responses((status = 201, body = SnoozeView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn snooze(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
    Json(body): Json<SnoozeRequest>,
) -> Result<Response, Error> {
    caller.require(NURSES)?;
    let staff_id = caller.staff_id().ok_or_else(|| Error::Forbidden("staff only".into()))?;
    let patient = super::patients::find_patient(&state, &study_id).await?;
    if body.subject == "CALL" {
        return Err(Error::unprocessable("a call request cannot be snoozed: the patient asked to be called"));
    }
    let mut problems = Vec::new();
    if !snoozable(&body.subject) {
        problems.push(format!(
            "subject {:?} is not a scale code (e.g. FA) or an item (e.g. ITEM43)",
            body.subject
        ));
    }
    let today = state.clinic.today();
    if body.until < today {
        problems.push(format!("until {} is in the past", body.until));
    } else if body.until > today + chrono::Duration::days(SNOOZE_MAX_DAYS) {
        problems.push(format!(
            "until {} is more than {SNOOZE_MAX_DAYS} days away; snooze again when it ends",
            body.until
        ));
    }
    if body.tier.is_some_and(|tier| tier > SNOOZE_MAX_TIER) {
        problems.push("tier: a snooze holds amber or info; a red signal always comes through".into());
    }
    if body.reason.trim().is_empty() {
        problems.push("give a reason, e.g. \"expected during chemotherapy\"".into());
    } else if body.reason.trim().chars().count() > 2000 {
        problems.push("the reason is longer than 2000 characters".into());
    }
    if !problems.is_empty() {
        return Err(Error::Unprocessable { message: "the snooze could not be set".into(), problems });
    }
    // The tier held: as asked, else amber (the most a snooze holds).
    let tier = body.tier.unwrap_or(SNOOZE_MAX_TIER);
    let mut tx = state.clinic.db.begin_write().await?;
    let id =
        tx.insert_snooze(patient.id, &body.subject, body.until, tier, body.reason.trim(), staff_id).await?;
    tx.audit(
        &caller.actor(),
        AuditEntry {
            action: "alert.snooze",
            entity: "alert_snooze",
            entity_id: format!("{}/{id}", patient.study_code),
            after: Some(json!({ "subject": body.subject, "until": body.until, "tier": tier })),
            reason: Some(body.reason.trim().to_owned()),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    let row = state.clinic.db.snoozes(patient.id).await?.into_iter().find(|row| row.id == id);
    let row = row.ok_or_else(|| Error::NotFound("the snooze".into()))?;
    Ok((StatusCode::CREATED, axum::Json(snooze_view(row))).into_response())
}

#[utoipa::path(get, path = "/api/v1/patients/{study_id}/snoozes", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path)), responses((status = 200, body = Vec<SnoozeView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn snoozes(
    State(state): State<AppState>,
    caller: Caller,
    Path(study_id): Path<String>,
) -> Result<axum::Json<Vec<SnoozeView>>, Error> {
    caller.require(NURSES)?;
    let patient = super::patients::find_patient(&state, &study_id).await?;
    Ok(axum::Json(state.clinic.db.snoozes(patient.id).await?.into_iter().map(snooze_view).collect()))
}

#[utoipa::path(post, path = "/api/v1/patients/{study_id}/snoozes/{id}/end", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("study_id" = String, Path), ("id" = i64, Path)), responses((status = 200, body = SnoozeView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn end_snooze(
    State(state): State<AppState>,
    caller: Caller,
    Path((study_id, id)): Path<(String, i64)>,
) -> Result<axum::Json<SnoozeView>, Error> {
    caller.require(NURSES)?;
    let staff_id = caller.staff_id().ok_or_else(|| Error::Forbidden("staff only".into()))?;
    let patient = super::patients::find_patient(&state, &study_id).await?;
    let mut tx = state.clinic.db.begin_write().await?;
    if !tx.end_snooze(id, patient.id, staff_id).await? {
        return Err(Error::Conflict(format!(
            "snooze {id} of {} has already ended or does not exist",
            patient.study_code
        )));
    }
    tx.audit(
        &caller.actor(),
        AuditEntry {
            action: "alert.snooze_end",
            entity: "alert_snooze",
            entity_id: format!("{}/{id}", patient.study_code),
            ..AuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    let row = state.clinic.db.snoozes(patient.id).await?.into_iter().find(|row| row.id == id);
    Ok(axum::Json(snooze_view(row.ok_or_else(|| Error::NotFound("the snooze".into()))?)))
}

/// Every patient's assessments with their states today, for the follow-up lists.
async fn follow_up(
    state: &AppState,
    wanted: qol_shared::schedule::AssessmentState,
) -> Result<Vec<FollowUpItem>, Error> {
    let today = state.clinic.today();
    let mut out = Vec::new();
    for patient in state.clinic.db.patients().await? {
        let name = state.clinic.db.identity(patient.id).await?.map(|identity| identity.full_name);
        for status in state.clinic.assessments(patient.id, today).await?.0 {
            if status.state != wanted {
                continue;
            }
            let row = status.row;
            out.push(FollowUpItem {
                assessment_id: row.id,
                study_id: patient.study_code.clone(),
                patient_name: name.clone(),
                key: row.key,
                label: row.label,
                window_start: row.window_start,
                window_end: row.window_end,
                days_left: (wanted == qol_shared::schedule::AssessmentState::Open)
                    .then(|| (row.window_end - today).num_days()),
                missed_reason: row.missed_reason,
                missed_note: row.missed_note,
            });
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/assessments/overdue", tag = "alerts", security(("session" = ["nurse", "admin"])), responses((status = 200, description = "open windows not yet completed, the soonest to close first", body = Vec<FollowUpItem>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn overdue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<FollowUpItem>>, Error> {
    caller.require(NURSES)?;
    let mut items = follow_up(&state, qol_shared::schedule::AssessmentState::Open).await?;
    items.sort_by(|a, b| (a.days_left, &a.study_id).cmp(&(b.days_left, &b.study_id)));
    Ok(axum::Json(items))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MissedFilter {
    /// `true` to include those whose reason is already recorded.
    all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/assessments/missed", tag = "alerts", security(("session" = ["nurse", "admin"])), params(MissedFilter), responses((status = 200, description = "closed windows without a submission; by default those still awaiting a reason", body = Vec<FollowUpItem>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn missed(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<MissedFilter>,
) -> Result<axum::Json<Vec<FollowUpItem>>, Error> {
    caller.require(NURSES)?;
    let mut items = follow_up(&state, qol_shared::schedule::AssessmentState::Missed).await?;
    if !filter.all.unwrap_or(false) {
        items.retain(|item| item.missed_reason.is_none());
    }
    items.sort_by(|a, b| (a.window_end, &a.study_id).cmp(&(b.window_end, &b.study_id)));
    Ok(axum::Json(items))
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/missed-reason", tag = "alerts", security(("session" = ["nurse", "admin"])), params(("id" = i64, Path)), request_body = RecordMissedReason, responses((status = 200, body = FollowUpItem), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "the assessment is not missed", body = ApiError), (status = 422, body = ApiError)))]
pub async fn record_missed_reason(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RecordMissedReason>,
) -> Result<axum::Json<FollowUpItem>, Error> {
    caller.require(NURSES)?;
    if body.note.chars().count() > 2000 {
        return Err(Error::unprocessable("the note is longer than 2000 characters"));
    }
    let patient_id = state
        .clinic
        .db
        .assessment_by_id(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no assessment {id}")))?
        .patient_id;
    let today = state.clinic.today();
    let status = state
        .clinic
        .assessments(patient_id, today)
        .await?
        .0
        .into_iter()
        .find(|status| status.row.id == id)
        .ok_or_else(|| Error::NotFound(format!("there is no assessment {id}")))?;
    if status.state != qol_shared::schedule::AssessmentState::Missed {
        return Err(Error::Conflict(format!("assessment {id} is {}, not missed", status.state.as_str())));
    }
    let mut tx = state.clinic.db.begin_write().await?;
    tx.record_missed_reason(id, body.reason, body.note.trim()).await?;
    tx.audit(
        &caller.actor(),
        AuditEntry {
            action: "assessment.missed_reason",
            entity: "assessment",
            entity_id: id.to_string(),
            before: status.row.missed_reason.as_ref().map(|before| json!({ "reason": before })),
            after: Some(json!({ "reason": body.reason })),
            reason: Some(body.note.trim().to_owned()).filter(|note| !note.is_empty()),
        },
    )
    .await?;
    tx.commit().await?;
    let items = follow_up(&state, qol_shared::schedule::AssessmentState::Missed).await?;
    items
        .into_iter()
        .find(|item| item.assessment_id == id)
        .map(axum::Json)
        .ok_or_else(|| Error::NotFound("the assessment".into()))
}
