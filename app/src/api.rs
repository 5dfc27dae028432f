//! The app's only HTTP code: typed calls to the qol JSON API. Screens call these functions and
//! never build a request themselves; request and response types come from `qol-shared`.
//! The session travels as the HttpOnly cookie the server sets; the app never sees the token.

use qol_shared::api::{
    ApiError, ErrorCode, InstrumentSummary, Me, MyAssessments, PatientActivation, PatientSignIn, SessionInfo,
    StaffSignIn, StudySummary, SubmissionRequest,
};
use qol_shared::instrument::InstrumentId;
use qol_shared::wording::InstrumentView;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// No answer from the server: offline, or the server is down. Worth retrying.
    Unreachable,
    /// The server answered with an error. `status` tells whether retrying can help (5xx);
    /// `code` what it was, to be said in the person's language.
    Refused { status: u16, code: ErrorCode, message: String },
    /// The answer was not what this version of the app understands.
    Unexpected(String),
}

impl ApiFailure {
    /// Whether the same request may succeed later without change.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiFailure::Unreachable => true,
            ApiFailure::Refused { status, .. } => *status >= 500 || *status == 429,
            ApiFailure::Unexpected(_) => false,
        }
    }
}

impl ApiFailure {
    /// What happened, in `language`: the refusal's code in the app's own words (the server's
    /// English sentence is added in English, where it says more).
    pub fn say(&self, language: qol_shared::Language) -> String {
        use crate::i18n::{Text, text};
        let key = match self {
            ApiFailure::Unreachable => Text::Offline,
            ApiFailure::Unexpected(_) => Text::ServerProblem,
            ApiFailure::Refused { code, status, .. } => match code {
                ErrorCode::WrongCredentials => Text::WrongCredentials,
                ErrorCode::LockedOut => Text::LockedOut,
                ErrorCode::TryAgainShortly | ErrorCode::Unavailable => Text::TryAgainShortly,
                ErrorCode::PinFormat => Text::PinFormat,
                ErrorCode::ActivationCodeInvalid => Text::ActivationCodeInvalid,
                ErrorCode::StudyEnded => Text::RefusedStudyEnded,
                ErrorCode::WindowClosed | ErrorCode::AlreadySent => Text::RefusedConflict,
                ErrorCode::AnswersInvalid | ErrorCode::Invalid => Text::RefusedInvalid,
                ErrorCode::SignInRequired => Text::RefusedSignIn,
                _ if *status == 401 => Text::RefusedSignIn,
                _ if *status == 409 => Text::RefusedConflict,
                _ if *status == 422 => Text::RefusedInvalid,
                _ => Text::ServerProblem,
            },
        };
        text(language, key).to_owned()
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Unreachable => f.write_str("cannot reach the qol server; check the connection"),
            ApiFailure::Refused { message, .. } => f.write_str(message),
            ApiFailure::Unexpected(detail) => write!(f, "unexpected answer from the server: {detail}"),
        }
    }
}

/// A call's answer: its status and its body as text, or why there was none. Not generic, so
/// one copy serves every call (each type read adds only its own parsing: [`request`]).
async fn fetch(method: &str, path: &str, body: Option<String>) -> Result<(u16, String), ApiFailure> {
    // A patient's sign-out that has not reached the server yet holds on this phone: nothing is
    // asked of her session until it has ended.
    if (path.starts_with("/api/v1/me") || path == "/api/v1/auth/me")
        && crate::local::load::<bool>(crate::SIGN_OUT_PENDING) == Some(true)
    {
        return Err(ApiFailure::Refused {
            status: 401,
            code: ErrorCode::SignInRequired,
            message: "signed out on this phone".into(),
        });
    }
    let window = web_sys::window().ok_or(ApiFailure::Unreachable)?;
    let response = match early(method, path) {
        Some(answer) => JsFuture::from(answer).await,
        None => JsFuture::from(window.fetch_with_request(&new_request(method, path, body)?)).await,
    };
    let response = response.map_err(|_| ApiFailure::Unreachable)?;
    let response: web_sys::Response =
        response.dyn_into().map_err(|_| ApiFailure::Unexpected("not a response".into()))?;
    let body = response.text().map_err(|_| ApiFailure::Unreachable)?;
    let text =
        JsFuture::from(body).await.map_err(|_| ApiFailure::Unreachable)?.as_string().unwrap_or_default();
    let status = response.status();
    if !response.ok() {
        let (code, message) = crate::json::from_str::<ApiError>(&text)
            .map(|error| (error.code, error.error))
            .unwrap_or_else(|_| (ErrorCode::Other, format!("the server answered {status}")));
        return Err(ApiFailure::Refused { status, code, message });
    }
    Ok((status, text))
}

async fn request<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, T, String), ApiFailure> {
    let (status, text) = fetch(method, path, body).await?;
    let value = crate::json::from_str(if text.is_empty() { "null" } else { &text });
    value.map(|value| (status, value, text)).map_err(ApiFailure::Unexpected)
}

/// A GET the boot script started while the app downloaded (`globalThis.qolEarly`, written by
/// `cargo xtask dist`: xtask/src/dist.rs, `boot_script`): the same request, asked one round trip
/// sooner. Each is taken once; later calls fetch anew.
fn early(method: &str, path: &str) -> Option<js_sys::Promise> {
    if method != "GET" {
        return None;
    }
    let pending = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("qolEarly")).ok()?;
    if !pending.is_object() {
        return None;
    }
    let key = JsValue::from_str(path);
    let answer = js_sys::Reflect::get(&pending, &key).ok()?.dyn_into::<js_sys::Promise>().ok()?;
    let _ = js_sys::Reflect::delete_property(pending.unchecked_ref::<js_sys::Object>(), &key);
    Some(answer)
}

fn new_request(method: &str, path: &str, body: Option<String>) -> Result<web_sys::Request, ApiFailure> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    if let Some(body) = body {
        let headers = web_sys::Headers::new().map_err(|_| ApiFailure::Unexpected("headers".into()))?;
        headers
            .set("content-type", "application/json")
            .map_err(|_| ApiFailure::Unexpected("headers".into()))?;
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
    }
    web_sys::Request::new_with_str_and_init(path, &init).map_err(|_| ApiFailure::Unexpected("request".into()))
}

/// A GET whose answer the phone keeps: the value, and the server's JSON text to keep as it is
/// (kept as text, the types need no `Serialize` in the patient's bundle).
pub(crate) async fn get_keeping<T: DeserializeOwned>(path: &str) -> Result<(T, String), ApiFailure> {
    request("GET", path, None).await.map(|(_, value, text)| (value, text))
}

pub(crate) async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    request("GET", path, None).await.map(|(_, value, _)| value)
}

pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<(u16, T), ApiFailure> {
    let body = crate::json::to_string(body).map_err(ApiFailure::Unexpected)?;
    request("POST", path, Some(body)).await.map(|(status, value, _)| (status, value))
}

pub async fn study() -> Result<StudySummary, ApiFailure> {
    get("/api/v1/study").await
}

pub async fn instruments() -> Result<Vec<InstrumentSummary>, ApiFailure> {
    get("/api/v1/instruments").await
}

pub async fn instrument(id: InstrumentId, language: &str) -> Result<InstrumentView, ApiFailure> {
    get(&format!("/api/v1/instruments/{id}?lang={language}")).await
}

/// Who is signed in, or `None`.
pub async fn me() -> Result<Option<Me>, ApiFailure> {
    match get("/api/v1/auth/me").await {
        Ok(me) => Ok(Some(me)),
        Err(ApiFailure::Refused { status: 401, .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

pub async fn activate(activation_code: String, pin: String) -> Result<Me, ApiFailure> {
    post::<_, SessionInfo>("/api/v1/auth/patient/activate", &PatientActivation { activation_code, pin })
        .await
        .map(|(_, session)| session.me)
}

pub async fn patient_sign_in(study_id: String, pin: String) -> Result<Me, ApiFailure> {
    post::<_, SessionInfo>("/api/v1/auth/patient/sign-in", &PatientSignIn { study_id, pin })
        .await
        .map(|(_, session)| session.me)
}

pub async fn staff_sign_in(username: String, password: String) -> Result<Me, ApiFailure> {
    post::<_, SessionInfo>("/api/v1/auth/staff/sign-in", &StaffSignIn { username, password })
        .await
        .map(|(_, session)| session.me)
}

pub async fn sign_out() -> Result<(), ApiFailure> {
    /// The sign-out's body: an empty object.
    #[derive(Serialize)]
    struct Nothing {}
    post::<_, serde::de::IgnoredAny>("/api/v1/auth/sign-out", &Nothing {}).await.map(|_| ())
}

pub async fn help_request(
    body: &qol_shared::api::HelpRequest,
) -> Result<qol_shared::api::HelpReceipt, ApiFailure> {
    post("/api/v1/me/help-requests", body).await.map(|(_, receipt)| receipt)
}

pub async fn my_history() -> Result<(qol_shared::api::MyHistory, String), ApiFailure> {
    get_keeping("/api/v1/me/history").await
}

pub async fn my_assessments() -> Result<(MyAssessments, String), ApiFailure> {
    get_keeping("/api/v1/me/assessments").await
}

/// What the phone reads of a submission's receipt (the rest, such as the scores, stays unread).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub received_at: qol_shared::Timestamp,
}

pub async fn submit(request: &SubmissionRequest) -> Result<Received, ApiFailure> {
    post("/api/v1/me/submissions", request).await.map(|(_, receipt)| receipt)
}

pub async fn my_reminders() -> Result<qol_shared::api::ReminderSettingsView, ApiFailure> {
    get("/api/v1/me/reminders").await
}

pub async fn set_my_reminders(
    body: &qol_shared::api::SetReminders,
) -> Result<qol_shared::api::ReminderSettingsView, ApiFailure> {
    post("/api/v1/me/reminders", body).await.map(|(_, value)| value)
}

pub async fn subscribe_push(
    body: &qol_shared::api::PushSubscriptionRequest,
) -> Result<qol_shared::api::ReminderSettingsView, ApiFailure> {
    post("/api/v1/me/push-subscription", body).await.map(|(_, value)| value)
}

pub async fn unsubscribe_push(
    body: &qol_shared::api::RemovePushSubscription,
) -> Result<qol_shared::api::ReminderSettingsView, ApiFailure> {
    post("/api/v1/me/push-subscription/remove", body).await.map(|(_, value)| value)
}
