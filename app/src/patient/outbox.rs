//! The outbox: finished questionnaires stay on the phone until the server's 2xx receipt. Sending
//! is retried with backoff, and again whenever the network returns or the app becomes visible;
//! every retry carries the same client id, so the server stores each submission once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::ClientId;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::vault;
use crate::api;
use crate::local::{self, Delivery, OutboxEntry};

/// Shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    pub entries: RwSignal<Vec<OutboxEntry>>,
    flushing: RwSignal<bool>,
    /// Whether the last try ended without reaching the server (it is retried).
    failed: RwSignal<bool>,
    /// Counts the call requests the outbox has delivered, for the help screen to follow.
    pub help_delivered: RwSignal<u32>,
    /// The server no longer knows her session (it expired, or a new activation code ended it):
    /// what waits stays sealed until she signs in again.
    pub needs_sign_in: RwSignal<bool>,
}

const MAX_BACKOFF_MS: i32 = 5 * 60 * 1000;

impl Outbox {
    /// Empty until the patient's vault is open ([`Outbox::reload`]).
    pub fn new() -> Outbox {
        Outbox {
            entries: RwSignal::new(Vec::new()),
            flushing: RwSignal::new(false),
            failed: RwSignal::new(false),
            help_delivered: RwSignal::new(0),
            needs_sign_in: RwSignal::new(false),
        }
    }

    /// Reads the outbox from the open vault (after sign-in or unlock) and starts sending.
    pub fn reload(&self) {
        let entries: Vec<OutboxEntry> = vault::load(vault::OUTBOX).unwrap_or_default();
        // Anything that was "sending" when the app closed is waiting again.
        // Anything that was "sending" when the app closed is waiting again, and so is what was
        // refused for want of a session (she has just signed in).
        let entries = entries
            .into_iter()
            .map(|mut entry| {
                if matches!(entry.delivery, Delivery::Sending | Delivery::Refused { status: 401, .. }) {
                    entry.delivery = Delivery::Saved;
                }
                entry
            })
            .collect();
        self.needs_sign_in.set(false);
        self.entries.set(entries);
        self.flush();
    }

    /// Forgets the entries in memory (the phone keeps them sealed): at a lock or sign-out.
    pub fn forget(&self) {
        self.entries.set(Vec::new());
    }

    pub fn is_flushing(&self) -> bool {
        self.flushing.get()
    }

    pub fn last_attempt_failed(&self) -> bool {
        self.failed.get()
    }

    fn persist(&self) {
        self.entries.with_untracked(|entries| vault::save(vault::OUTBOX, entries));
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

    /// Queues a finished questionnaire (saved on the phone first; `replacing`, its draft, goes
    /// once it is stored) and starts sending.
    pub fn enqueue(&self, entry: OutboxEntry, replacing: Option<String>) {
        self.entries.update(|entries| {
            entries.retain(|other| other.request.client_id != entry.request.client_id);
            entries.push(entry);
        });
        match replacing {
            Some(draft) => {
                self.entries.with_untracked(|entries| vault::save_replacing(vault::OUTBOX, entries, &draft));
            }
            None => self.persist(),
        }
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
        // Nothing is sent while the phone is locked or signed out.
        if self.flushing.get_untracked() || !vault::is_open() {
            return;
        }
        self.flushing.set(true);
        let outbox = *self;
        spawn_local(async move {
            let mut retry_in: Option<i32> = None;
            outbox.failed.set(false);
            // Whose outbox this is: a reply that comes back after she signed out (or someone
            // else signed in) is not recorded in the wrong vault.
            let owner = vault::owner();
            let still_hers = {
                let owner = owner.clone();
                move || vault::owner() == owner
            };
            if let Some(help) = vault::load::<qol_shared::api::HelpRequest>(super::help::PENDING) {
                match super::help::deliver(&help, owner.clone()).await {
                    Ok(_) => outbox.help_delivered.update(|n| *n += 1),
                    Err(failure) if failure.is_transient() => {
                        outbox.failed.set(true);
                        retry_in = Some(10_000);
                    }
                    Err(_) => {}
                }
            }
            while retry_in.is_none() {
                let next = outbox.entries.with_untracked(|entries| {
                    entries.iter().find(|entry| entry.delivery == Delivery::Saved).cloned()
                });
                let Some(entry) = next else { break };
                let client_id = entry.request.client_id.clone();
                outbox.set_delivery(&client_id, Delivery::Sending, false);
                let result = api::submit(&entry.request).await;
                if !still_hers() {
                    break;
                }
                match result {
                    Ok(receipt) => {
                        outbox.set_delivery(
                            &client_id,
                            Delivery::Sent { received_at: receipt.received_at.text() },
                            true,
                        );
                        vault::remove(&local::draft_name(&entry.key));
                    }
                    Err(failure) if failure.is_transient() => {
                        outbox.set_delivery(&client_id, Delivery::Saved, true);
                        outbox.failed.set(true);
                        let delay = 2_000i32.saturating_mul(1 << entry.attempts.min(8)).min(MAX_BACKOFF_MS);
                        retry_in = Some(delay);
                        break;
                    }
                    // Her session has ended on the server: the form stays waiting, sealed, and
                    // she is asked to sign in; it goes as soon as she has.
                    Err(api::ApiFailure::Refused { status: 401, .. }) => {
                        outbox.set_delivery(&client_id, Delivery::Saved, true);
                        outbox.failed.set(true);
                        outbox.needs_sign_in.set(true);
                        break;
                    }
                    Err(failure) => {
                        let (status, code) = match &failure {
                            api::ApiFailure::Refused { status, code, .. } => (*status, *code),
                            _ => (0, qol_shared::api::ErrorCode::Other),
                        };
                        let refused = Delivery::Refused { status, code, message: failure.to_string() };
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
        let on_online = Closure::<dyn Fn()>::new(move || {
            // A sign-out made offline is finished first.
            leptos::task::spawn_local(async {
                crate::finish_pending_sign_out().await;
            });
            outbox.flush();
        });
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
