//! The patient's answers at rest: everything the phone keeps about her (drafts, the outbox of
//! forms not yet received, her cached schedule and history) is sealed with AES-GCM under a key
//! derived from her PIN (PBKDF2-HMAC-SHA-256, 600,000 iterations, a random salt per patient and
//! phone), through the browser's WebCrypto. The key is made non-extractable and held only in
//! memory while she is signed in and the app is unlocked; localStorage holds ciphertext alone.
//!
//! Screens read and write through [`load`], [`save`] and [`remove`], which work on an in-memory
//! copy opened at unlock (so they stay synchronous); each write is sealed and stored at once,
//! in the order written. [`lock`] forgets the key and the copy: nothing is readable again
//! without the PIN.
//!
//! What is stored, per study id:
//! - `qol.vault.<study id>`: the salt, the iteration count and a sealed check value, which tells
//!   a right PIN from a wrong one offline.
//! - `qol.private.<study id>.<name>`: one sealed JSON value; the storage key is the AES-GCM
//!   additional data, so a sealed value cannot be moved to another name or patient.

use std::cell::RefCell;
use std::collections::BTreeMap;

use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use crate::local;

/// OWASP's figure for PBKDF2-HMAC-SHA-256 (Password Storage Cheat Sheet, 2023).
const ITERATIONS: u32 = 600_000;
const CHECK: &str = "qol-vault-check";

/// Why the vault could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultError {
    /// The PIN does not open this phone's vault.
    WrongPin,
    /// The browser offers no WebCrypto here (an address without https).
    NoCrypto,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    salt: String,
    iterations: u32,
    check: Sealed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    iv: String,
    data: String,
}

struct Open {
    study_id: String,
    key: CryptoKey,
    plain: BTreeMap<String, String>,
}

thread_local! {
    static OPEN: RefCell<Option<Open>> = const { RefCell::new(None) };
    /// Per storage key, the number of the latest write: a slower earlier write never lands
    /// after a later one. (A few keys: a list, which is less code than a map of its own type.)
    static WRITES: RefCell<Vec<(String, u64)>> = const { RefCell::new(Vec::new()) };
    /// Raised when a patient's data is destroyed: writes sealed before then are dropped.
    static EPOCH: RefCell<u64> = const { RefCell::new(0) };
    /// Names to remove once the named write has landed ([`save_replacing`]).
    static THEN_REMOVE: RefCell<Vec<(String, Vec<String>)>> = const { RefCell::new(Vec::new()) };
}

/// Counts one more write of `stored`; returns its number.
fn next_write(stored: &str) -> u64 {
    WRITES.with(|writes| {
        let mut writes = writes.borrow_mut();
        let at = writes.iter().position(|(key, _)| key == stored).unwrap_or_else(|| {
            writes.push((stored.to_owned(), 0));
            writes.len() - 1
        });
        writes[at].1 += 1;
        writes[at].1
    })
}

/// The number of the latest write of `stored`.
fn latest_write(stored: &str) -> Option<u64> {
    WRITES.with(|writes| writes.borrow().iter().find(|(key, _)| key == stored).map(|(_, number)| *number))
}

fn record_key(study_id: &str) -> String {
    format!("qol.vault.{study_id}")
}

fn item_prefix(study_id: &str) -> String {
    format!("qol.private.{study_id}.")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|at| text.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

fn subtle() -> Result<web_sys::SubtleCrypto, VaultError> {
    let crypto = web_sys::window().and_then(|window| window.crypto().ok()).ok_or(VaultError::NoCrypto)?;
    // `crypto.subtle` is undefined outside a secure context.
    let subtle = Reflect::get(&crypto, &"subtle".into()).map_err(|_| VaultError::NoCrypto)?;
    if subtle.is_undefined() {
        return Err(VaultError::NoCrypto);
    }
    Ok(subtle.unchecked_into())
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &(*name).into(), value);
    }
    object
}

/// Random bytes from the browser's generator; an error rather than zeros when it fails (a salt
/// or an IV must never repeat).
fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0u8; N];
    let crypto = web_sys::window().and_then(|window| window.crypto().ok()).ok_or(VaultError::NoCrypto)?;
    crypto.get_random_values_with_u8_array(&mut bytes).map_err(|_| VaultError::NoCrypto)?;
    Ok(bytes)
}

async fn derive(pin: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey, VaultError> {
    let subtle = subtle()?;
    let fail = |_| VaultError::NoCrypto;
    let raw = Uint8Array::from(pin.as_bytes());
    let base = subtle
        .import_key_with_str("raw", &raw, "PBKDF2", false, &Array::of1(&"deriveKey".into()))
        .map_err(fail)?;
    let base: CryptoKey = JsFuture::from(base).await.map_err(fail)?.unchecked_into();
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", iterations.into()),
    ]);
    let aes = object(&[("name", "AES-GCM".into()), ("length", 256.into())]);
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key = subtle.derive_key_with_object_and_object(&params, &base, &aes, false, &usages).map_err(fail)?;
    Ok(JsFuture::from(key).await.map_err(fail)?.unchecked_into())
}

fn gcm(iv: &[u8], name: &str) -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
        ("additionalData", Uint8Array::from(name.as_bytes()).into()),
    ])
}

async fn seal(key: &CryptoKey, name: &str, plain: &str) -> Result<Sealed, VaultError> {
    let iv = random::<12>()?;
    let promise = subtle()?
        .encrypt_with_object_and_u8_array(&gcm(&iv, name), key, plain.as_bytes())
        .map_err(|_| VaultError::NoCrypto)?;
    let data = JsFuture::from(promise).await.map_err(|_| VaultError::NoCrypto)?;
    Ok(Sealed { iv: hex(&iv), data: hex(&Uint8Array::new(&data).to_vec()) })
}

async fn unseal(key: &CryptoKey, name: &str, sealed: &Sealed) -> Result<String, VaultError> {
    let (Some(iv), Some(data)) = (unhex(&sealed.iv), unhex(&sealed.data)) else {
        return Err(VaultError::WrongPin);
    };
    let promise = subtle()?
        .decrypt_with_object_and_u8_array(&gcm(&iv, name), key, &data)
        .map_err(|_| VaultError::NoCrypto)?;
    // AES-GCM refuses a wrong key (or altered data) as an error.
    let plain = JsFuture::from(promise).await.map_err(|_| VaultError::WrongPin)?;
    String::from_utf8(Uint8Array::new(&plain).to_vec()).map_err(|_| VaultError::WrongPin)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn stored_keys() -> Vec<String> {
    let Some(storage) = storage() else { return Vec::new() };
    let count = storage.length().unwrap_or(0);
    (0..count).filter_map(|index| storage.key(index).ok().flatten()).collect()
}

/// Opens the vault of `study_id` with `pin`, creating it when the phone has none (or, after a
/// new activation, when the PIN is a new one: what an old PIN sealed cannot be read again and is
/// left to be overwritten).
pub async fn open(study_id: &str, pin: &str) -> Result<(), VaultError> {
    match unlock(study_id, pin).await {
        Err(VaultError::WrongPin) | Ok(false) => create(study_id, pin).await,
        Err(other) => Err(other),
        Ok(true) => Ok(()),
    }
}

/// Unlocks an existing vault: `Ok(false)` when there is none, `WrongPin` when the PIN does not
/// open it. Works offline.
pub async fn unlock(study_id: &str, pin: &str) -> Result<bool, VaultError> {
    let Some(record) = local::load::<Record>(&record_key(study_id)) else { return Ok(false) };
    let salt = unhex(&record.salt).ok_or(VaultError::WrongPin)?;
    let key = derive(pin, &salt, record.iterations).await?;
    if unseal(&key, &record_key(study_id), &record.check).await? != CHECK {
        return Err(VaultError::WrongPin);
    }
    let prefix = item_prefix(study_id);
    let mut plain = BTreeMap::new();
    for stored in stored_keys().into_iter().filter(|stored| stored.starts_with(&prefix)) {
        let Some(sealed) = local::load::<Sealed>(&stored) else { continue };
        if let Ok(text) = unseal(&key, &stored, &sealed).await {
            plain.insert(stored[prefix.len()..].to_owned(), text);
        }
    }
    OPEN.with(|open| *open.borrow_mut() = Some(Open { study_id: study_id.to_owned(), key, plain }));
    Ok(true)
}

async fn create(study_id: &str, pin: &str) -> Result<(), VaultError> {
    let salt = random::<16>()?;
    let key = derive(pin, &salt, ITERATIONS).await?;
    let check = seal(&key, &record_key(study_id), CHECK).await?;
    // A vault made anew (a new activation with a new PIN): what the old PIN sealed can never be
    // opened again, so it goes, rather than be shown as kept for her.
    let prefix = item_prefix(study_id);
    for stored in stored_keys().into_iter().filter(|stored| stored.starts_with(&prefix)) {
        local::remove(&stored);
    }
    local::save(&record_key(study_id), &Record { salt: hex(&salt), iterations: ITERATIONS, check });
    let mut plain = BTreeMap::new();
    // What an earlier version of the app kept in the clear (the outbox and drafts) is taken in
    // and sealed, then removed; only when it was hers (the earlier version's signed-in patient),
    // never another patient's left behind by an earlier sign-out.
    let hers = local::load::<qol_shared::api::Me>("qol.me")
        .and_then(|me| me.study_id)
        .is_some_and(|earlier| earlier == study_id);
    if hers {
        if let Some(text) = storage().and_then(|storage| storage.get_item(local::OUTBOX).ok().flatten()) {
            plain.insert(OUTBOX.to_owned(), text);
        }
        for stored in stored_keys().into_iter().filter(|stored| stored.starts_with("qol.draft.")) {
            if let Some(text) = storage().and_then(|storage| storage.get_item(&stored).ok().flatten()) {
                plain.insert(stored["qol.".len()..].to_owned(), text);
            }
        }
    }
    OPEN.with(|open| *open.borrow_mut() = Some(Open { study_id: study_id.to_owned(), key, plain }));
    let names: Vec<String> = OPEN.with(|open| {
        open.borrow().as_ref().map(|open| open.plain.keys().cloned().collect()).unwrap_or_default()
    });
    for name in names {
        if let Some(text) =
            OPEN.with(|open| open.borrow().as_ref().and_then(|open| open.plain.get(&name).cloned()))
        {
            store(&name, text);
        }
    }
    forget_legacy();
    Ok(())
}

/// Removes what an earlier version kept in the clear.
fn forget_legacy() {
    for stored in stored_keys() {
        if stored == local::OUTBOX || stored.starts_with("qol.draft.") || stored == "qol.assessments" {
            local::remove(&stored);
        }
    }
}

/// The name the outbox is kept under.
pub const OUTBOX: &str = "outbox";

/// Whether the vault is open (signed in and unlocked).
pub fn is_open() -> bool {
    OPEN.with(|open| open.borrow().is_some())
}

/// Whose vault is open: a reply that arrives after a sign-out (or another patient's sign-in)
/// is dropped by comparing this before and after.
pub fn owner() -> Option<String> {
    OPEN.with(|open| open.borrow().as_ref().map(|open| open.study_id.clone()))
}

/// Forgets the key and the open copy: nothing is readable until the PIN is entered again.
pub fn lock() {
    OPEN.with(|open| *open.borrow_mut() = None);
}

/// Removes every trace of `study_id` from the phone: the vault and what it sealed. With
/// `keep_unsent`, the outbox and drafts stay sealed (with the vault that opens them) until she
/// signs in again.
pub fn destroy(study_id: &str, keep_unsent: bool) {
    lock();
    EPOCH.with(|epoch| *epoch.borrow_mut() += 1);
    let prefix = item_prefix(study_id);
    for stored in stored_keys() {
        let Some(name) = stored.strip_prefix(&prefix) else { continue };
        if !(keep_unsent && (name == OUTBOX || name.starts_with("draft.") || name == "help.pending")) {
            local::remove(&stored);
        }
    }
    if !keep_unsent {
        local::remove(&record_key(study_id));
    }
    forget_legacy();
}

/// A value of the open vault.
pub fn load<T: DeserializeOwned>(name: &str) -> Option<T> {
    OPEN.with(|open| {
        let open = open.borrow();
        let text = open.as_ref()?.plain.get(name)?;
        crate::json::from_str(text).ok()
    })
}

/// The names in the open vault that start with `prefix`.
pub fn names(prefix: &str) -> Vec<String> {
    OPEN.with(|open| {
        open.borrow()
            .as_ref()
            .map(|open| open.plain.keys().filter(|name| name.starts_with(prefix)).cloned().collect())
            .unwrap_or_default()
    })
}

/// Keeps `value` under `name`: at once in the open copy, then sealed into localStorage. Returns
/// false when the vault is locked (nothing is kept).
pub fn save<T: Serialize>(name: &str, value: &T) -> bool {
    let Ok(text) = crate::json::to_string(value) else { return false };
    save_text(name, text)
}

/// Keeps JSON `text` (as the server sent it) under `name`, as [`save`] does.
pub fn save_text(name: &str, text: String) -> bool {
    let kept = OPEN.with(|open| match open.borrow_mut().as_mut() {
        Some(open) => {
            open.plain.insert(name.to_owned(), text.clone());
            true
        }
        None => false,
    });
    if kept {
        store(name, text);
    }
    kept
}

/// Seals `text` and writes it, unless a later write of the same name, or the patient's sign-out
/// with her data discarded, came first.
fn store(name: &str, text: String) {
    let Some((study_id, key)) =
        OPEN.with(|open| open.borrow().as_ref().map(|open| (open.study_id.clone(), open.key.clone())))
    else {
        return;
    };
    let stored = format!("{}{name}", item_prefix(&study_id));
    let number = next_write(&stored);
    let epoch = EPOCH.with(|epoch| *epoch.borrow());
    let then_remove = THEN_REMOVE
        .with(|pending| {
            let mut pending = pending.borrow_mut();
            let at = pending.iter().position(|(waiting, _)| waiting == name)?;
            Some(pending.swap_remove(at).1)
        })
        .unwrap_or_default();
    spawn_local(async move {
        let Ok(sealed) = seal(&key, &stored, &text).await else { return };
        let latest = latest_write(&stored) == Some(number);
        if latest && EPOCH.with(|now| *now.borrow()) == epoch && local::save(&stored, &sealed) {
            // Only now that it is stored does what it replaces go (a draft, once its form is in
            // the outbox).
            for name in then_remove {
                remove_stored(&study_id, &name);
            }
        }
    });
}

/// Keeps `value` under `name`, and removes `old` once `value` is stored: a draft leaves the
/// phone only after its finished form is sealed in the outbox.
pub fn save_replacing<T: Serialize>(name: &str, value: &T, old: &str) -> bool {
    OPEN.with(|open| {
        if let Some(open) = open.borrow_mut().as_mut() {
            open.plain.remove(old);
        }
    });
    THEN_REMOVE.with(|pending| {
        let mut pending = pending.borrow_mut();
        match pending.iter_mut().find(|(waiting, _)| waiting == name) {
            Some((_, olds)) => olds.push(old.to_owned()),
            None => pending.push((name.to_owned(), vec![old.to_owned()])),
        }
    });
    save(name, value)
}

fn remove_stored(study_id: &str, name: &str) {
    let stored = format!("{}{name}", item_prefix(study_id));
    // A write still being sealed must not bring it back.
    next_write(&stored);
    local::remove(&stored);
}

/// Removes `name` from the open vault and from the phone.
pub fn remove(name: &str) {
    let study_id = OPEN.with(|open| {
        let mut open = open.borrow_mut();
        let open = open.as_mut()?;
        open.plain.remove(name);
        Some(open.study_id.clone())
    });
    if let Some(study_id) = study_id {
        remove_stored(&study_id, name);
    }
}

/// Whether the phone keeps, sealed, forms someone chose to keep at sign-out (known without any
/// PIN; whose they are is not shown).
pub fn any_sealed_unsent() -> bool {
    stored_keys().iter().any(|stored| {
        stored
            .strip_prefix("qol.private.")
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(_, name)| name == OUTBOX || name.starts_with("draft."))
    })
}
