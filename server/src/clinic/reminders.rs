//! Reminders (docs/reminders.md): what the scheduler queues when a window opens and while a form
//! is not done, by which channel, and what the outbox worker checks before each one leaves; a
//! patient's reminder settings (hers and her nurse's to change), her push subscriptions, and
//! what nurses see of the reminders sent.

use qol_shared::api::{
    MessageState, PatientReminders, PushSubscriptionRequest, ReminderChannel, ReminderMessage,
    ReminderSettingsView, SetReminders,
};
use qol_shared::reminders::{ReminderKind, reminder_text, reminder_title};
use qol_shared::schedule::AssessmentKey;

use super::*;
use crate::storage::{OutboxMessage, ReminderRow};

/// The channels this server can send reminders by, set at start from its settings.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// An SMS gateway is configured (`--sms-gateway-url`).
    pub sms: bool,
    /// An SMTP server is configured (`--smtp-url`).
    pub email: bool,
    /// The VAPID public key (base64url) when web push is configured (`--vapid-private-key-file`).
    pub push_public_key: Option<String>,
    /// Tests only: push endpoints on any http(s) address (a push service in the test, on
    /// 127.0.0.1). Never set by a flag.
    pub any_push_endpoint: bool,
}

impl Reach {
    fn channels(&self) -> Vec<ReminderChannel> {
        let mut out = Vec::new();
        if self.sms {
            out.push(ReminderChannel::Sms);
        }
        if self.email {
            out.push(ReminderChannel::Email);
        }
        if self.push_public_key.is_some() {
            out.push(ReminderChannel::Push);
        }
        out
    }
}

/// Where a patient can be reached.
#[derive(Debug, Clone)]
struct Contact {
    phone: Option<String>,
    email: Option<String>,
    /// Her newest push subscription that still receives.
    push: Option<i64>,
    push_devices: u32,
}

impl Contact {
    /// The recipient on `channel`, when she can be reached by it.
    fn recipient(&self, channel: ReminderChannel) -> Option<String> {
        match channel {
            ReminderChannel::Sms => self.phone.clone(),
            ReminderChannel::Email => self.email.clone(),
            ReminderChannel::Push => self.push.map(|id| id.to_string()),
            ReminderChannel::Auto | ReminderChannel::Off => None,
        }
    }
}

/// The instant a local day begins in `zone` (its first valid hour on a day that skips midnight).
fn local_midnight(zone: chrono_tz::Tz, day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone as _;
    (0..24)
        .find_map(|hour| zone.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?).earliest())
        .map_or_else(|| Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN)), |at| at.to_utc())
}

/// A phone number as an SMS gateway takes it: the digits, with a leading `+` when written;
/// `None` when it is not a phone number (6 to 15 digits; spaces, dashes, dots and brackets
/// allowed between them).
pub fn normal_phone(text: &str) -> Option<String> {
    let text = text.trim();
    let (plus, rest) = match text.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", text),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    (6..=15).contains(&digits.len()).then(|| format!("{plus}{digits}"))
}

/// An e-mail address for reminders, checked (`None` when it is not one).
pub fn normal_email(text: &str) -> Option<String> {
    text.trim().parse::<lettre::Address>().ok().map(|address| address.to_string())
}

/// How an assessment's reminders went, for the follow-up lists.
#[derive(Debug, Clone, Default)]
pub(super) struct Reminded {
    pub sent: u32,
    pub last_at: Option<qol_shared::Timestamp>,
    pub last_failed: bool,
}

/// Whether the server may post to this push endpoint. The address comes from the patient's
/// browser, so it is checked like any input that makes the server send a request: https to a
/// host name (every browser's push service is one), never a literal address, `localhost` or a
/// local name, so a subscription cannot point the server at the hospital's own network.
/// Tests' own endpoints on 127.0.0.1 are let in only with `any` ([`Reach::any_push_endpoint`]).
pub fn push_endpoint_allowed(endpoint: &str, any: bool) -> bool {
    let Ok(url) = url::Url::parse(endpoint) else { return false };
    if any {
        return matches!(url.scheme(), "https" | "http") && url.host_str().is_some();
    }
    let Some(url::Host::Domain(host)) = url.host() else { return false };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    url.scheme() == "https"
        && url.port().is_none()
        && url.username().is_empty()
        && host.contains('.')
        && !["localhost", ".localhost", ".local", ".internal", ".lan", ".home.arpa"]
            .iter()
            .any(|local| host == local.trim_start_matches('.') || host.ends_with(local))
}

/// What the outbox worker does with a claimed reminder before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReminderCheck {
    Send,
    /// Not wanted any more: why.
    Cancel(String),
    /// In the quiet hours: wait until their end.
    Defer(DateTime<Utc>),
}

fn message_state(text: &str) -> MessageState {
    match text {
        "sent" => MessageState::Sent,
        "failed" => MessageState::Failed,
        "cancelled" => MessageState::Cancelled,
        _ => MessageState::Pending,
    }
}

fn reminder_message(row: ReminderRow) -> Result<ReminderMessage, ClinicError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("reminder {}: {what}", row.id));
    Ok(ReminderMessage {
        id: row.id,
        assessment_key: AssessmentKey::from(row.assessment_key.clone()),
        kind: ReminderKind::parse(&row.template).ok_or_else(|| corrupt("template"))?,
        channel: ReminderChannel::parse(&row.channel).ok_or_else(|| corrupt("channel"))?,
        state: message_state(&row.state),
        queued_at: qol_shared::Timestamp::parse(&row.created_at).map_err(|_| corrupt("created_at"))?,
        sent_at: row
            .sent_at
            .as_deref()
            .map(qol_shared::Timestamp::parse)
            .transpose()
            .map_err(|_| corrupt("sent_at"))?,
        attempts: row.attempts,
        error: row.last_error,
    })
}

impl Clinic {
    async fn contact(&self, patient_id: i64) -> Result<Contact, ClinicError> {
        let identity = self.db.identity(patient_id).await?;
        let subscriptions = self.db.push_subscriptions(patient_id).await?;
        Ok(Contact {
            phone: identity.as_ref().and_then(|identity| normal_phone(&identity.phone)),
            email: identity.as_ref().and_then(|identity| normal_email(&identity.email)),
            push: subscriptions.first().map(|subscription| subscription.id),
            push_devices: u32::try_from(subscriptions.len()).unwrap_or(u32::MAX),
        })
    }

    /// The channel a reminder goes by: the patient's choice when this site can send by it and she
    /// can be reached by it, else SMS, e-mail, push in that order; `None` when she turned
    /// reminders off or cannot be reached.
    fn goes_by(&self, choice: ReminderChannel, contact: &Contact) -> Option<ReminderChannel> {
        if choice == ReminderChannel::Off {
            return None;
        }
        let site = self.reach.channels();
        std::iter::once(choice)
            .chain([ReminderChannel::Sms, ReminderChannel::Email, ReminderChannel::Push])
            .find(|channel| site.contains(channel) && contact.recipient(*channel).is_some())
    }

    async fn reminder_settings(&self, patient: &PatientRow) -> Result<ReminderSettingsView, ClinicError> {
        let contact = self.contact(patient.id).await?;
        Ok(ReminderSettingsView {
            channel: patient.reminder_channel,
            language: patient.language,
            goes_by: self.goes_by(patient.reminder_channel, &contact),
            site_channels: self.reach.channels(),
            has_phone: contact.phone.is_some(),
            has_email: contact.email.is_some(),
            push_devices: contact.push_devices,
            push_public_key: self.reach.push_public_key.clone(),
            study_sends_reminders: self.protocol().reminders.enabled,
        })
    }

    /// The signed-in patient's reminder settings.
    pub async fn my_reminders(&self, session: &Session) -> Result<ReminderSettingsView, ClinicError> {
        let patient = self.own_patient(session).await?;
        self.reminder_settings(&patient).await
    }

    /// A nurse's view: the settings, the e-mail address, every reminder.
    pub async fn patient_reminders(
        &self,
        session: &Session,
        study_id: &str,
    ) -> Result<PatientReminders, ClinicError> {
        let Some(_identity) = session.identity_access() else {
            return Err(ClinicError::Forbidden("reminders are for the patient's care team".into()));
        };
        let patient = self.find_patient(study_id).await?;
        let email = self.db.identity(patient.id).await?.map(|identity| identity.email).unwrap_or_default();
        let messages = self
            .db
            .reminders(patient.id)
            .await?
            .into_iter()
            .map(reminder_message)
            .collect::<Result<_, _>>()?;
        Ok(PatientReminders { settings: self.reminder_settings(&patient).await?, email, messages })
    }

    /// The patient changes her own channel and language (not her e-mail address: her nurse does).
    pub async fn set_my_reminders(
        &self,
        session: &Session,
        request: &SetReminders,
    ) -> Result<ReminderSettingsView, ClinicError> {
        if request.email.is_some() {
            return Err(ClinicError::Invalid {
                message: "the settings were not changed".into(),
                problems: vec!["email: your study nurse changes the e-mail address".into()],
            });
        }
        let patient = self.own_patient(session).await?;
        self.set_reminders(session, &patient, request).await?;
        self.my_reminders(session).await
    }

    /// A nurse changes a patient's channel, language and e-mail address.
    pub async fn set_patient_reminders(
        &self,
        session: &Session,
        study_id: &str,
        request: &SetReminders,
    ) -> Result<PatientReminders, ClinicError> {
        let patient = self.find_patient(study_id).await?;
        self.set_reminders(session, &patient, request).await?;
        self.patient_reminders(session, study_id).await
    }

    async fn set_reminders(
        &self,
        session: &Session,
        patient: &PatientRow,
        request: &SetReminders,
    ) -> Result<(), ClinicError> {
        let email = match request.email.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(String::new()),
            Some(text) => Some(normal_email(text).ok_or_else(|| ClinicError::Invalid {
                message: "the settings were not changed".into(),
                problems: vec![format!("email: {text:?} is not an e-mail address")],
            })?),
        };
        let mut tx = self.db.begin_write().await?;
        tx.set_reminder_channel(patient.id, request.channel, request.language).await?;
        if let Some(email) = &email {
            tx.set_patient_email(patient.id, email).await?;
        }
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "patient.reminders",
                patient: Some(patient.study_code.clone()),
                entity: "patient",
                entity_id: patient.study_code.clone(),
                before: Some(json!({ "channel": patient.reminder_channel.as_str(), "language": patient.language.tag() })),
                after: Some(json!({
                    "channel": request.channel.as_str(), "language": request.language.tag(),
                    "email": email.as_ref().map(|email| if email.is_empty() { "removed" } else { "changed" }),
                })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The patient's browser receives push reminders from now on (with her consent, asked by the
    /// app before it subscribes).
    pub async fn subscribe_push(
        &self,
        session: &Session,
        request: &PushSubscriptionRequest,
    ) -> Result<ReminderSettingsView, ClinicError> {
        let patient = self.own_patient(session).await?;
        let mut problems = Vec::new();
        if !push_endpoint_allowed(&request.endpoint, self.reach.any_push_endpoint) {
            problems.push(format!(
                "endpoint: {:?} is not a push service's https address (a host name, not an address)",
                request.endpoint
            ));
        }
        if request.endpoint.len() > 2000 {
            problems.push("endpoint: longer than 2000 characters".into());
        }
        if crate::notify::push_keys(&request.keys.p256dh, &request.keys.auth).is_err() {
            problems
                .push("keys: not a P-256 public key (p256dh) and a 16-byte secret (auth), base64url".into());
        }
        if !problems.is_empty() {
            return Err(ClinicError::Invalid { message: "the subscription was not saved".into(), problems });
        }
        let mut tx = self.db.begin_write().await?;
        let id = tx
            .save_push_subscription(patient.id, &request.endpoint, &request.keys.p256dh, &request.keys.auth)
            .await?;
        tx.audit(
            &session.actor(),
            AuditEntry {
                action: "push.subscribe",
                patient: Some(patient.study_code.clone()),
                entity: "push_subscription",
                entity_id: id.to_string(),
                after: Some(json!({ "study_id": patient.study_code })),
                ..AuditEntry::default()
            },
        )
        .await?;
        tx.commit().await?;
        self.reminder_settings(&patient).await
    }

    /// The patient turns push reminders off on one device.
    pub async fn unsubscribe_push(
        &self,
        session: &Session,
        endpoint: &str,
    ) -> Result<ReminderSettingsView, ClinicError> {
        let patient = self.own_patient(session).await?;
        let mut tx = self.db.begin_write().await?;
        if tx.end_push_subscription(endpoint, Some(patient.id), "turned off by the patient").await?.is_some()
        {
            tx.audit(
                &session.actor(),
                AuditEntry {
                    action: "push.unsubscribe",
                    patient: Some(patient.study_code.clone()),
                    entity: "push_subscription",
                    entity_id: patient.study_code.clone(),
                    ..AuditEntry::default()
                },
            )
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        self.reminder_settings(&patient).await
    }

    /// The push service said a subscription is gone (404, 410): it receives no more.
    pub async fn push_subscription_gone(
        &self,
        subscription_id: i64,
        answer: &str,
    ) -> Result<(), ClinicError> {
        let Some(subscription) = self.db.push_subscription(subscription_id).await? else { return Ok(()) };
        let mut tx = self.db.begin_write().await?;
        if tx.end_push_subscription(&subscription.endpoint, None, answer).await?.is_some() {
            tx.audit(
                &Actor::system(),
                AuditEntry {
                    action: "push.pruned",
                    entity: "push_subscription",
                    entity_id: subscription_id.to_string(),
                    after: Some(json!({ "answer": answer })),
                    ..AuditEntry::default()
                },
            )
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(())
    }

    /// The push subscription a message goes to.
    pub async fn push_target(
        &self,
        recipient: &str,
    ) -> Result<Option<crate::storage::PushSubscriptionRow>, ClinicError> {
        let Ok(id) = recipient.parse::<i64>() else { return Ok(None) };
        Ok(self.db.push_subscription(id).await?.filter(|subscription| !subscription.ended))
    }

    /// Queues every reminder due now (the scheduler calls this every tick): for each activated
    /// patient who has not turned reminders off, each open window whose form is not received,
    /// the latest planned reminder that is due, once (its key is unique: two servers on one
    /// database queue it once), and never more than the protocol's maximum for the window.
    /// Returns how many were queued.
    pub async fn queue_due_reminders(&self) -> Result<usize, ClinicError> {
        let protocol = self.protocol();
        let settings = &protocol.reminders;
        let zone = protocol.time_zone;
        let now = self.now();
        if !settings.enabled || self.reach.channels().is_empty() || settings.is_quiet(zone, now) {
            return Ok(0);
        }
        let today = self.today();
        let mut queued = 0;
        for patient in self.db.patients().await? {
            if !patient.activated || patient.reminder_channel == ReminderChannel::Off {
                continue;
            }
            // One patient's failure (her data, a moment's storage error) does not hold back the
            // others' reminders; it is logged and her turn comes at the next pass.
            match self.queue_patient_reminders(&patient, today, now).await {
                Ok(count) => queued += count,
                Err(error) => {
                    tracing::warn!(patient = %patient.study_code, %error, "reminders could not be queued for a patient")
                }
            }
        }
        if queued > 0 {
            self.on_call.wake.wake();
        }
        Ok(queued)
    }

    /// One patient's due reminders (see [`Clinic::queue_due_reminders`]).
    async fn queue_patient_reminders(
        &self,
        patient: &PatientRow,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<usize, ClinicError> {
        let protocol = self.protocol();
        let settings = &protocol.reminders;
        let zone = protocol.time_zone;
        let study_name = settings.name_the_study.then_some(protocol.name.as_str());
        let mut queued = 0;
        {
            let (statuses, _) = self.assessments(patient.id, today).await?;
            let mut contact = None;
            for status in statuses {
                let row = &status.row;
                if status.state != AssessmentState::Open || row.unscheduled || row.received_at.is_some() {
                    continue;
                }
                let plan = settings.plan(zone, row.window_start, row.window_end);
                // Only the latest one due: a server that was down sends one reminder, not a
                // backlog.
                // The latest one due; "closes tomorrow" only on its own day (a server that missed
                // it sends "still waiting" instead).
                let Some(due) = settings
                    .due(zone, &plan, row.window_end, false, now)
                    .into_iter()
                    .rev()
                    .find(|planned| planned.kind != ReminderKind::BeforeClose || planned.day == today)
                    .copied()
                else {
                    continue;
                };
                // A reminder missed on an earlier day waits when today has one of its own still
                // to come (one a day).
                if due.day < today && plan.iter().any(|planned| planned.day == today && planned.at > now) {
                    continue;
                }
                if contact.is_none() {
                    contact = Some(self.contact(patient.id).await?);
                }
                let Some(contact) = &contact else { continue };
                let Some(channel) = self.goes_by(patient.reminder_channel, contact) else { continue };
                let Some(recipient) = contact.recipient(channel) else { continue };
                let text = reminder_text(due.kind, patient.language, study_name);
                let message = NewMessage {
                    channel: channel.as_str(),
                    recipient: &recipient,
                    purpose: "reminder",
                    card_id: None,
                    patient_id: Some(patient.id),
                    dedupe_key: format!(
                        "reminder-{}-{}-{}-{}",
                        patient.id,
                        row.key,
                        due.kind.as_str(),
                        due.day
                    ),
                    subject: reminder_title(patient.language).to_owned(),
                    body: text,
                    template: Some(due.kind.as_str()),
                    language: Some(patient.language.tag()),
                    assessment_key: Some(&row.key),
                };
                let mut tx = self.db.begin_write().await?;
                let day_start = timestamp_text(local_midnight(zone, today));
                if tx.reminders_queued(patient.id, &row.key).await? >= i64::from(settings.max_per_window)
                    || tx.reminders_queued_since(patient.id, &day_start).await? > 0
                {
                    tx.rollback().await?;
                    continue;
                }
                let Some(id) = tx.enqueue(&message, &timestamp_text(now)).await? else {
                    tx.rollback().await?;
                    continue;
                };
                tx.audit(
                    &Actor::system(),
                    AuditEntry {
                        action: "reminder.queue",
                        patient: Some(patient.study_code.clone()),
                        entity: "outbox",
                        entity_id: id.to_string(),
                        after: Some(json!({
                            "study_id": patient.study_code, "assessment": row.key, "kind": due.kind.as_str(),
                            "channel": channel.as_str(), "planned_for": timestamp_text(due.at),
                        })),
                        ..AuditEntry::default()
                    },
                )
                .await?;
                tx.commit().await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Whether a claimed reminder still goes: not when the patient turned reminders off, the form
    /// was received, or the window closed; not now in the quiet hours.
    pub async fn check_reminder(&self, message: &OutboxMessage) -> Result<ReminderCheck, ClinicError> {
        let (Some(patient_id), Some(key)) = (message.patient_id, message.assessment_key.as_deref()) else {
            return Ok(ReminderCheck::Send);
        };
        let Some(patient) = self.db.patient_by_id(patient_id).await? else {
            return Ok(ReminderCheck::Cancel("the patient is not in the study".into()));
        };
        if patient.reminder_channel == ReminderChannel::Off {
            return Ok(ReminderCheck::Cancel("not sent: reminders were turned off".into()));
        }
        // Her details as they are now: a corrected number or a removed address is not written to.
        let contact = self.contact(patient_id).await?;
        let still_hers = match ReminderChannel::parse(&message.channel) {
            Some(ReminderChannel::Push) => self
                .push_target(&message.recipient)
                .await?
                .is_some_and(|subscription| subscription.patient_id == patient_id),
            Some(channel) => contact.recipient(channel).as_deref() == Some(message.recipient.as_str()),
            None => false,
        };
        if !still_hers {
            return Ok(ReminderCheck::Cancel("not sent: her contact details changed".into()));
        }
        let (statuses, _) = self.assessments(patient_id, self.today()).await?;
        let Some(status) = statuses.iter().find(|status| &*status.row.key == key) else {
            return Ok(ReminderCheck::Cancel("not sent: the assessment left the schedule".into()));
        };
        if status.row.received_at.is_some() {
            return Ok(ReminderCheck::Cancel("not sent: the form was received".into()));
        }
        if status.state != AssessmentState::Open {
            return Ok(ReminderCheck::Cancel("not sent: the window closed".into()));
        }
        let protocol = self.protocol();
        let settings = &protocol.reminders;
        let now = self.now();
        if settings.is_quiet(protocol.time_zone, now) {
            return Ok(ReminderCheck::Defer(settings.out_of_quiet(protocol.time_zone, now)));
        }
        Ok(ReminderCheck::Send)
    }

    /// Records that a claimed reminder was cancelled or deferred (audited when cancelled); only
    /// while `worker` holds its lease.
    pub async fn hold_reminder(
        &self,
        worker: &str,
        message: &OutboxMessage,
        check: &ReminderCheck,
    ) -> Result<bool, ClinicError> {
        let mut tx = self.db.begin_write().await?;
        let done = match check {
            ReminderCheck::Send => false,
            ReminderCheck::Cancel(why) => {
                let done = tx.outbox_cancel(message.id, worker, why).await?;
                if done {
                    tx.audit(
                        &Actor::system(),
                        AuditEntry {
                            action: "reminder.cancel",
                            entity: "outbox",
                            entity_id: message.id.to_string(),
                            after: Some(json!({ "why": why })),
                            ..AuditEntry::default()
                        },
                    )
                    .await?;
                }
                done
            }
            ReminderCheck::Defer(until) => {
                // A scheduling detail, not a decision: written without an audit entry, as a
                // claim is.
                let done = tx.outbox_defer(message.id, worker, &timestamp_text(*until)).await?;
                if done {
                    tx.commit_derived().await?;
                } else {
                    tx.rollback().await?;
                }
                return Ok(done);
            }
        };
        if done {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(done)
    }

    /// Reminders sent per patient id and assessment key, the last one's time, and whether the
    /// latest one failed.
    pub(super) async fn reminders_sent(
        &self,
    ) -> Result<std::collections::HashMap<(i64, String), Reminded>, ClinicError> {
        Ok(self
            .db
            .reminders_sent()
            .await?
            .into_iter()
            .map(|count| {
                let reminded = Reminded {
                    sent: u32::try_from(count.count).unwrap_or(0),
                    last_at: qol_shared::Timestamp::parse(&count.last_at).ok(),
                    last_failed: count.last_failed,
                };
                ((count.patient_id, count.assessment_key), reminded)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_digits_with_an_optional_plus() {
        assert_eq!(normal_phone("+86 138-0013 8000").as_deref(), Some("+8613800138000"));
        assert_eq!(normal_phone("(020) 555.0100").as_deref(), Some("0205550100"));
        assert_eq!(normal_phone("call me"), None);
        assert_eq!(normal_phone("+86 12"), None);
        assert_eq!(normal_phone("1234567890123456"), None);
        assert_eq!(normal_phone("+86 138 0013 8000 ext 2"), None);
    }

    #[test]
    fn push_endpoints_are_https_push_services_never_the_local_network() {
        for allowed in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://web.push.apple.com/QGx",
        ] {
            assert!(push_endpoint_allowed(allowed, false), "{allowed}");
        }
        for refused in [
            "http://fcm.googleapis.com/fcm/send/abc",
            "https://127.0.0.1/push",
            "https://[::1]/push",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/push",
            "https://db.internal/push",
            "https://printer.local/push",
            "https://intranet/push",
            "https://user:pw@fcm.googleapis.com/x",
            "https://localhost./push",
            "https://printer.local./push",
            "https://fcm.googleapis.com:8443/x",
            "not a url",
        ] {
            assert!(!push_endpoint_allowed(refused, false), "{refused}");
        }
        assert!(push_endpoint_allowed("http://127.0.0.1:4000/push/1", true));
    }

    #[test]
    fn e_mail_addresses_are_checked() {
        assert_eq!(normal_email(" li.hua@example.cn ").as_deref(), Some("li.hua@example.cn"));
        assert_eq!(normal_email("li.hua"), None);
        assert_eq!(normal_email("Li Hua <li.hua@example.cn>"), None);
    }
}
