//! What the app keeps on the phone (localStorage) in the clear: cached wording, the study's
//! public details, who is signed in and the chosen language; and the shapes of what the
//! patient's vault seals (`patient/vault.rs`): questionnaire drafts and the outbox of
//! submissions not yet acknowledged by the server. Every tap is saved before anything else
//! happens.

use std::collections::BTreeMap;

use qol_shared::answers::Response;
use qol_shared::api::SubmissionRequest;
use qol_shared::instrument::InstrumentId;
use qol_shared::{ClientId, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    let text = storage()?.get_item(key).ok()??;
    crate::json::from_str(&text).ok()
}

/// Saves `value`; returns false when the phone refused (storage full or disabled).
pub fn save<T: Serialize>(key: &str, value: &T) -> bool {
    let Some(storage) = storage() else { return false };
    crate::json::to_string(value).is_ok_and(|text| storage.set_item(key, &text).is_ok())
}

/// Keeps `text` (JSON the server sent) as it is; false when the phone refused.
pub fn save_text(key: &str, text: &str) -> bool {
    storage().is_some_and(|storage| storage.set_item(key, text).is_ok())
}

pub fn remove(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

/// A questionnaire in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The assessment's key (`baseline`, `weekly-03`) or `unscheduled`.
    pub key: String,
    pub assessment_id: Option<i64>,
    pub label: String,
    /// The label per language tag (the protocol's).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub instruments: Vec<InstrumentId>,
    /// Made when the draft starts, and sent with every retry, so the server stores it once.
    pub client_id: ClientId,
    /// By item number; in JSON an object's keys are text (`{"7": 3}`), as serde_json writes them.
    pub answers: BTreeMap<u8, Response>,
    /// The screen the patient is on: 0 instructions, then one per item, then call-me, then review.
    pub position: usize,
    pub call_me: Option<bool>,
    /// Only these items (a short symptom check after "I need help"); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_items: Vec<u8>,
    /// She already asked to be called ("I need help"): the call-me question is not asked again.
    #[serde(default)]
    pub help_requested: bool,
    /// She came to an item from the review: answering it returns there.
    #[serde(default)]
    pub editing: bool,
}

/// The name a draft is sealed under in the patient's vault.
pub fn draft_name(key: &str) -> String {
    format!("draft.{key}")
}

/// Where a finished questionnaire is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", try_from = "KeptDelivery")]
pub enum Delivery {
    /// Kept on the phone, waiting to be sent (or to be retried).
    Saved,
    Sending,
    /// The server's receipt.
    Sent {
        received_at: String,
    },
    /// The server refused it for good (for example a closed window); shown in plain words.
    Refused {
        #[serde(default)]
        status: u16,
        #[serde(default)]
        code: qol_shared::api::ErrorCode,
        message: String,
    },
}

/// A [`Delivery`] as it is kept (`{"state": "refused", "status": 409, ...}`), read as one flat
/// object: the same JSON as the tagged enum's, without serde's buffering of a tagged enum's
/// content, which is 2 KB of the phone's bundle.
#[derive(Deserialize)]
struct KeptDelivery {
    state: DeliveryState,
    received_at: Option<String>,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    code: qol_shared::api::ErrorCode,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum DeliveryState {
    Saved,
    Sending,
    Sent,
    Refused,
}

impl TryFrom<KeptDelivery> for Delivery {
    type Error = &'static str;

    fn try_from(kept: KeptDelivery) -> Result<Delivery, &'static str> {
        Ok(match (kept.state, kept.received_at, kept.message) {
            (DeliveryState::Saved, ..) => Delivery::Saved,
            (DeliveryState::Sending, ..) => Delivery::Sending,
            (DeliveryState::Sent, Some(received_at), _) => Delivery::Sent { received_at },
            (DeliveryState::Sent, None, _) => return Err("missing field `received_at`"),
            (DeliveryState::Refused, _, Some(message)) => {
                Delivery::Refused { status: kept.status, code: kept.code, message }
            }
            (DeliveryState::Refused, _, None) => return Err("missing field `message`"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub request: SubmissionRequest,
    pub delivery: Delivery,
    pub attempts: u32,
}

pub const OUTBOX: &str = "qol.outbox";
pub const LANGUAGE: &str = "qol.language";

pub fn wording_key(id: InstrumentId, language: &str) -> String {
    format!("qol.wording.{id}.{language}")
}

/// A random (version 4) UUID from the browser's cryptographic generator, which works on plain
/// HTTP too (unlike `crypto.randomUUID`).
pub fn new_client_id() -> ClientId {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|window| window.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    ClientId::from_random_bytes(bytes)
}

/// Now, by the phone's clock.
pub fn now() -> Timestamp {
    // A browser's clock is a number of milliseconds; one out of range reads as 1970 (the server
    // then names the problem), never as a panic that would lose the answers.
    #[allow(clippy::cast_possible_truncation)]
    let millis = js_sys::Date::now() as i64;
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default().into()
}
