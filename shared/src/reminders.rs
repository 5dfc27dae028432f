//! Reminders as protocol data and pure decisions (product.md, "Reminders"): when a window opens
//! the patient is told; if the form is not done she is reminded some days later and the day
//! before the window closes; never more than the protocol's maximum per window, never in quiet
//! hours (a reminder falling in them waits for their end), never after the form is received or
//! the window has closed. Every time here is the study's, in its time zone.
//!
//! This module decides *what* is due and *what it says*; sending (SMS gateway, e-mail, web push
//! through the outbox) is the server's.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::Language;

/// Why a patient is reminded; also the name of the fixed SMS template a gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReminderKind {
    /// The window has opened.
    WindowOpen,
    /// Some days after it opened, the form is not done.
    NotDone,
    /// The window closes tomorrow.
    BeforeClose,
}

impl ReminderKind {
    pub fn parse(text: &str) -> Option<ReminderKind> {
        [ReminderKind::WindowOpen, ReminderKind::NotDone, ReminderKind::BeforeClose]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::WindowOpen => "window_open",
            ReminderKind::NotDone => "not_done",
            ReminderKind::BeforeClose => "before_close",
        }
    }
}

/// Quiet hours, local to the study: `start` to `end`, across midnight when `end` is earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`, e.g. `21:00`.
    pub start: String,
    /// `HH:MM`, e.g. `08:00`.
    pub end: String,
}

/// The protocol's `"reminders": {…}`; every field may be left out and then takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReminderSettings {
    /// Reminders are sent at all (on by default: missing data is the first threat to a QoL
    /// endpoint).
    pub enabled: bool,
    /// Tell the patient on the day a window opens.
    pub when_window_opens: bool,
    /// If not done, remind this many days after the window opened (default: 2).
    pub days_after_opening: Vec<u32>,
    /// If not done, remind the day before the window closes.
    pub day_before_close: bool,
    /// At most this many messages per window.
    pub max_per_window: u32,
    /// The local time a day's reminder is sent, `HH:MM`.
    pub send_at: String,
    pub quiet_hours: QuietHours,
    /// Texts name the study (its name in the protocol) only when this is set; by default they
    /// name neither the study nor a diagnosis.
    pub name_the_study: bool,
}

impl Default for ReminderSettings {
    fn default() -> ReminderSettings {
        ReminderSettings {
            enabled: true,
            when_window_opens: true,
            days_after_opening: vec![2],
            day_before_close: true,
            max_per_window: 3,
            send_at: "09:00".into(),
            quiet_hours: QuietHours { start: "21:00".into(), end: "08:00".into() },
            name_the_study: false,
        }
    }
}

fn clock_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

/// One reminder of one window: why, on which study day, and the instant it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub kind: ReminderKind,
    pub day: NaiveDate,
    pub at: DateTime<Utc>,
}

impl ReminderSettings {
    /// Every problem, each naming its key under `reminders`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, value) in [
            ("send_at", &self.send_at),
            ("quiet_hours.start", &self.quiet_hours.start),
            ("quiet_hours.end", &self.quiet_hours.end),
        ] {
            if clock_time(value).is_none() {
                problems.push(format!(
                    "reminders.{key}: {value:?} is not a time of day as HH:MM (e.g. \"09:00\")"
                ));
            }
        }
        if self.enabled && self.max_per_window == 0 {
            problems.push("reminders.max_per_window: at least 1 while reminders are enabled".into());
        }
        if self.days_after_opening.iter().any(|days| *days == 0 || *days > 366) {
            problems.push("reminders.days_after_opening: each from 1 to 366 days".into());
        }
        if let (Some(send), Some(_)) = (clock_time(&self.send_at), clock_time(&self.quiet_hours.start))
            && self.is_quiet_time(send)
        {
            problems.push(format!(
                "reminders.send_at: {} falls in the quiet hours ({} to {})",
                self.send_at, self.quiet_hours.start, self.quiet_hours.end
            ));
        }
        problems
    }

    /// Whether a local time of day is in the quiet hours (`start` included, `end` not).
    fn is_quiet_time(&self, time: NaiveTime) -> bool {
        let (Some(start), Some(end)) =
            (clock_time(&self.quiet_hours.start), clock_time(&self.quiet_hours.end))
        else {
            return false;
        };
        if start <= end { start <= time && time < end } else { time >= start || time < end }
    }

    /// Whether the instant `at` falls in the study's quiet hours.
    pub fn is_quiet(&self, zone: chrono_tz::Tz, at: DateTime<Utc>) -> bool {
        self.is_quiet_time(at.with_timezone(&zone).time())
    }

    /// The instant of `time` on `day` in `zone` (a time skipped by a clock change: an hour later).
    fn instant(zone: chrono_tz::Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = day.and_time(time);
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| zone.from_local_datetime(&(local + Duration::hours(1))).earliest())
            .map_or_else(|| Utc.from_utc_datetime(&local), |at| at.to_utc())
    }

    /// Moves an instant in the quiet hours to their end (the same or the next local day); an
    /// instant outside them stays.
    pub fn out_of_quiet(&self, zone: chrono_tz::Tz, at: DateTime<Utc>) -> DateTime<Utc> {
        if !self.is_quiet(zone, at) {
            return at;
        }
        let Some(end) = clock_time(&self.quiet_hours.end) else { return at };
        let local = at.with_timezone(&zone);
        let day =
            if local.time() < end { local.date_naive() } else { local.date_naive() + Duration::days(1) };
        Self::instant(zone, day, end)
    }

    /// The reminders of a window from `window_start` to `window_end` (both included): on the
    /// day it opens, `days_after_opening` later, the day before it closes; one a day (the
    /// window's opening first, then its closing); at most `max_per_window`, the opening and the
    /// last call kept first; each at `send_at`, moved out of quiet hours; none that would fall
    /// after the window has closed. Empty when reminders are off.
    pub fn plan(&self, zone: chrono_tz::Tz, window_start: NaiveDate, window_end: NaiveDate) -> Vec<Planned> {
        let Some(send_at) = clock_time(&self.send_at).filter(|_| self.enabled) else { return Vec::new() };
        // In order of importance: what is kept when the maximum or a shared day leaves room for
        // fewer.
        let mut wanted: Vec<(ReminderKind, NaiveDate)> = Vec::new();
        if self.when_window_opens {
            wanted.push((ReminderKind::WindowOpen, window_start));
        }
        if self.day_before_close && window_end > window_start {
            wanted.push((ReminderKind::BeforeClose, window_end - Duration::days(1)));
        }
        for days in &self.days_after_opening {
            wanted.push((ReminderKind::NotDone, window_start + Duration::days(i64::from(*days))));
        }
        let mut out: Vec<Planned> = Vec::new();
        for (kind, day) in wanted {
            if day > window_end || out.iter().any(|planned| planned.day == day) {
                continue;
            }
            if out.len() >= self.max_per_window as usize {
                break;
            }
            let at = self.out_of_quiet(zone, Self::instant(zone, day, send_at));
            if at.with_timezone(&zone).date_naive() > window_end {
                continue;
            }
            out.push(Planned { kind, day, at });
        }
        out.sort_by_key(|planned| planned.at);
        out
    }

    /// The planned reminders due at `now`: their time has come, the form is not `done`, the
    /// window has not closed, and `now` is outside the quiet hours (a server that was down sends
    /// a missed reminder when they end, not at night).
    pub fn due<'a>(
        &self,
        zone: chrono_tz::Tz,
        planned: &'a [Planned],
        window_end: NaiveDate,
        done: bool,
        now: DateTime<Utc>,
    ) -> Vec<&'a Planned> {
        if done || now.with_timezone(&zone).date_naive() > window_end || self.is_quiet(zone, now) {
            return Vec::new();
        }
        planned.iter().filter(|planned| planned.at <= now).collect()
    }
}

/// The title of a push notification (a phone shows it above the text).
pub fn reminder_title(language: Language) -> &'static str {
    match language {
        Language::English => "Questionnaire reminder",
        Language::Chinese => "问卷提醒",
    }
}

/// What a reminder says, in the patient's language: no diagnosis, no study name unless the
/// protocol asks for it (`study`), no link (an SMS template cannot carry one).
pub fn reminder_text(kind: ReminderKind, language: Language, study: Option<&str>) -> String {
    let body = match (language, kind) {
        (Language::English, ReminderKind::WindowOpen) => {
            "Your questionnaire is ready. Please open the app to answer it."
        }
        (Language::English, ReminderKind::NotDone) => {
            "A reminder: your questionnaire is still waiting for you in the app."
        }
        (Language::English, ReminderKind::BeforeClose) => {
            "Your questionnaire closes tomorrow. Please answer it in the app today if you can."
        }
        (Language::Chinese, ReminderKind::WindowOpen) => "您的问卷已准备好，请打开应用填写。",
        (Language::Chinese, ReminderKind::NotDone) => "温馨提醒：您的问卷仍在应用中等待您填写。",
        (Language::Chinese, ReminderKind::BeforeClose) => "您的问卷明天截止，请尽量今天在应用中填写。",
    };
    match study {
        Some(name) => format!("[{name}] {body}"),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn local(zone: chrono_tz::Tz, at: DateTime<Utc>) -> String {
        at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
    }

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn a_week_long_window_gets_its_opening_a_reminder_and_a_last_call_at_nine() {
        let plan = ReminderSettings::default().plan(SHANGHAI, day("2026-03-16"), day("2026-03-22"));
        let shown: Vec<(ReminderKind, String)> =
            plan.iter().map(|p| (p.kind, local(SHANGHAI, p.at))).collect();
        assert_eq!(
            shown,
            [
                (ReminderKind::WindowOpen, "2026-03-16 09:00".to_owned()),
                (ReminderKind::NotDone, "2026-03-18 09:00".to_owned()),
                (ReminderKind::BeforeClose, "2026-03-21 09:00".to_owned()),
            ]
        );
        // 09:00 in Shanghai is 01:00 UTC: the study's clock, not UTC.
        assert_eq!(plan[0].at.to_rfc3339(), "2026-03-16T01:00:00+00:00");
    }

    #[test]
    fn short_windows_get_one_message_a_day_and_never_more_than_the_maximum() {
        let settings = ReminderSettings::default();
        // Four days: day 2 after opening is also the day before it closes; the last call wins.
        let plan = settings.plan(SHANGHAI, day("2026-03-16"), day("2026-03-19"));
        let kinds: Vec<(ReminderKind, NaiveDate)> = plan.iter().map(|p| (p.kind, p.day)).collect();
        assert_eq!(
            kinds,
            [(ReminderKind::WindowOpen, day("2026-03-16")), (ReminderKind::BeforeClose, day("2026-03-18"))]
        );
        // One day: only the opening.
        let plan = settings.plan(SHANGHAI, day("2026-03-16"), day("2026-03-16"));
        assert_eq!(plan.len(), 1);
        // A maximum of 2 keeps the opening and the last call.
        let two =
            ReminderSettings { max_per_window: 2, days_after_opening: vec![1, 2, 3], ..settings.clone() };
        let kinds: Vec<ReminderKind> =
            two.plan(SHANGHAI, day("2026-03-16"), day("2026-03-30")).iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ReminderKind::WindowOpen, ReminderKind::BeforeClose]);
        // Off: nothing.
        let off = ReminderSettings { enabled: false, ..settings };
        assert!(off.plan(SHANGHAI, day("2026-03-16"), day("2026-03-22")).is_empty());
    }

    #[test]
    fn quiet_hours_defer_to_their_end_and_nothing_is_due_in_them() {
        // Quiet from 08:00 to 12:00 (a hospital's rounds, say): the 09:00 reminder waits to 12:00.
        let settings = ReminderSettings {
            send_at: "07:30".into(),
            quiet_hours: QuietHours { start: "07:00".into(), end: "12:00".into() },
            ..ReminderSettings::default()
        };
        assert!(
            settings
                .problems()
                .iter()
                .any(|p| p.starts_with("reminders.send_at: 07:30 falls in the quiet hours"))
        );
        let plan = settings.plan(SHANGHAI, day("2026-03-16"), day("2026-03-22"));
        assert_eq!(local(SHANGHAI, plan[0].at), "2026-03-16 12:00");
        // Across midnight: 23:30 is quiet, and so is 07:59; 08:00 is not.
        let night = ReminderSettings::default();
        let at = |text: &str| {
            SHANGHAI.from_local_datetime(&text.parse::<chrono::NaiveDateTime>().unwrap()).unwrap().to_utc()
        };
        assert!(night.is_quiet(SHANGHAI, at("2026-03-16T23:30:00")));
        assert!(night.is_quiet(SHANGHAI, at("2026-03-17T07:59:00")));
        assert!(!night.is_quiet(SHANGHAI, at("2026-03-17T08:00:00")));
        // A server back at 23:30 sends nothing until the quiet hours end.
        let plan = night.plan(SHANGHAI, day("2026-03-16"), day("2026-03-22"));
        assert!(night.due(SHANGHAI, &plan, day("2026-03-22"), false, at("2026-03-16T23:30:00")).is_empty());
        assert_eq!(night.due(SHANGHAI, &plan, day("2026-03-22"), false, at("2026-03-17T08:00:00")).len(), 1);
    }

    #[test]
    fn nothing_is_due_once_the_form_is_in_or_the_window_closed() {
        let settings = ReminderSettings::default();
        let plan = settings.plan(SHANGHAI, day("2026-03-16"), day("2026-03-22"));
        let noon = |text: &str| {
            SHANGHAI.from_local_datetime(&day(text).and_hms_opt(12, 0, 0).unwrap()).unwrap().to_utc()
        };
        assert_eq!(settings.due(SHANGHAI, &plan, day("2026-03-22"), false, noon("2026-03-18")).len(), 2);
        assert!(settings.due(SHANGHAI, &plan, day("2026-03-22"), true, noon("2026-03-18")).is_empty());
        assert!(settings.due(SHANGHAI, &plan, day("2026-03-22"), false, noon("2026-03-23")).is_empty());
        assert!(settings.due(SHANGHAI, &plan, day("2026-03-22"), false, noon("2026-03-15")).is_empty());
    }

    #[test]
    fn the_shipped_protocol_reminds_and_a_protocol_file_is_checked_by_key() {
        let shipped = crate::schedule::Protocol::default_protocol();
        assert_eq!(shipped.reminders, ReminderSettings::default());
        assert!(shipped.reminders.enabled);
        let mut file: serde_json::Value =
            serde_json::from_str(crate::schedule::Protocol::default_protocol_json()).unwrap();
        // A protocol written before reminders existed takes the defaults.
        file.as_object_mut().unwrap().remove("reminders");
        assert!(crate::schedule::Protocol::parse(&file.to_string()).unwrap().reminders.enabled);
        file["reminders"] = serde_json::json!({ "send_at": "25:00" });
        let error = crate::schedule::Protocol::parse(&file.to_string()).unwrap_err().to_string();
        assert!(error.starts_with("reminders.send_at: \"25:00\""), "{error}");
        file["reminders"] = serde_json::json!({ "sms_at": "09:00" });
        let error = crate::schedule::Protocol::parse(&file.to_string()).unwrap_err().to_string();
        assert!(error.contains("sms_at"), "an unknown key is named: {error}");
    }

    #[test]
    fn bad_settings_name_their_key() {
        let bad = ReminderSettings {
            send_at: "9am".into(),
            max_per_window: 0,
            days_after_opening: vec![0],
            quiet_hours: QuietHours { start: "21:00".into(), end: "25:00".into() },
            ..ReminderSettings::default()
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("reminders.send_at: \"9am\""));
        assert!(problems[1].starts_with("reminders.quiet_hours.end: \"25:00\""));
        assert!(problems.iter().any(|p| p.starts_with("reminders.max_per_window")));
        assert!(problems.iter().any(|p| p.starts_with("reminders.days_after_opening")));
        assert!(ReminderSettings::default().problems().is_empty());
    }

    #[test]
    fn texts_name_neither_study_nor_diagnosis_unless_the_protocol_says() {
        for language in Language::ALL {
            for kind in [ReminderKind::WindowOpen, ReminderKind::NotDone, ReminderKind::BeforeClose] {
                let text = reminder_text(kind, language, None);
                for word in ["cancer", "cervical", "IVB", "癌", "宫颈", "http"] {
                    assert!(!text.contains(word), "{text}");
                }
                // One SMS each: 160 GSM characters, or 70 in UCS-2 (Chinese).
                let limit = if language == Language::Chinese { 70 } else { 160 };
                assert!(text.chars().count() <= limit, "one SMS: {text}");
                assert!(reminder_text(kind, language, Some("QOL")).starts_with("[QOL] "));
            }
        }
    }
}
