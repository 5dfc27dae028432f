//! The outbox: finished questionnaires stay on the phone until the server's 2xx receipt. Sending
//! is retried with backoff, and again whenever the network returns or the app becomes visible;
//! every retry carries the same client id, so the server stores each submission once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::ClientId;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::api;
use crate::local::{self, Delivery, OutboxEntry};

/// Shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    pub entries: RwSignal<Vec<OutboxEntry>>,
    flushing: RwSignal<bool>,
}

const MAX_BACKOFF_MS: i32 = 5 * 60 * 1000;

impl Outbox {
    pub fn new() -> Outbox {
        let entries: Vec<OutboxEntry> = local::load(local::OUTBOX).unwrap_or_default();
        // Anything that was "sending" when the app closed is waiting again.
        let entries = entries
            .into_iter()
            .map(|mut entry| {
                if entry.delivery == Delivery::Sending {
                    entry.delivery = Delivery::Saved;
                }
                entry
            })
            .collect();
        Outbox { entries: RwSignal::new(entries), flushing: RwSignal::new(false) }
    }

    fn persist(&self) {
        self.entries.with_untracked(|entries| local::save(local::OUTBOX, entries));
    }

    fn set_delivery(&self, client_id: &ClientId, delivery: Delivery, attempted: bool) {
        self.entries.update(|entries| {
            if let Some(entry) = entries.iter_mut().find(|entry| entry.request.client_id == *client_id) {
                entry.delivery = delivery;
                if attempted {
                    entry.attempts += 1;
                }
            }
        });
        self.persist();
    }

    /// Queues a finished questionnaire (saved on the phone first) and starts sending.
    pub fn enqueue(&self, entry: OutboxEntry) {
        self.entries.update(|entries| {
            entries.retain(|other| other.request.client_id != entry.request.client_id);
            entries.push(entry);
        });
        self.persist();
        self.flush();
    }

    /// The delivery state of the latest entry for an assessment key.
    pub fn delivery_of(&self, key: &str) -> Option<Delivery> {
        self.entries.with(|entries| {
            entries.iter().rev().find(|entry| entry.key == key).map(|entry| entry.delivery.clone())
        })
    }

    /// Sends every waiting entry, one at a time.
    pub fn flush(&self) {
        if self.flushing.get_untracked() {
            return;
        }
        self.flushing.set(true);
        let outbox = *self;
        spawn_local(async move {
            let mut retry_in: Option<i32> = None;
            loop {
                let next = outbox.entries.with_untracked(|entries| {
                    entries.iter().find(|entry| entry.delivery == Delivery::Saved).cloned()
                });
                let Some(entry) = next else { break };
                let client_id = entry.request.client_id.clone();
                outbox.set_delivery(&client_id, Delivery::Sending, false);
                match api::submit(&entry.request).await {
                    Ok(receipt) => {
                        outbox.set_delivery(
                            &client_id,
                            Delivery::Sent { received_at: receipt.received_at.text() },
                            true,
                        );
                        local::remove(&local::draft_key(&entry.key));
                    }
                    Err(failure) if failure.is_transient() => {
                        outbox.set_delivery(&client_id, Delivery::Saved, true);
                        let delay = 2_000i32.saturating_mul(1 << entry.attempts.min(8)).min(MAX_BACKOFF_MS);
                        retry_in = Some(delay);
                        break;
                    }
                    Err(failure) => {
                        let status = match &failure {
                            api::ApiFailure::Refused { status, .. } => *status,
                            _ => 0,
                        };
                        let refused = Delivery::Refused { status, message: failure.to_string() };
                        outbox.set_delivery(&client_id, refused, true);
                    }
                }
            }
            outbox.flushing.set(false);
            if let Some(delay) = retry_in {
                set_timeout(move || outbox.flush(), std::time::Duration::from_millis(delay as u64));
            }
        });
    }

    /// Retries when the network returns or the app comes back into view.
    pub fn listen(&self) {
        let outbox = *self;
        let on_online = Closure::<dyn Fn()>::new(move || outbox.flush());
        let on_visible = Closure::<dyn Fn()>::new(move || {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                outbox.flush();
            }
        });
        let _ = window().add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        let _ = document()
            .add_event_listener_with_callback("visibilitychange", on_visible.as_ref().unchecked_ref());
        // The listeners live as long as the page.
        on_online.forget();
        on_visible.forget();
    }
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}
