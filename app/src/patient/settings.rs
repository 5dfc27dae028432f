//! The patient's reminder settings: how she is reminded (or not), the language of the messages,
//! and notifications on this phone (asked for with her consent, and turned off here too).

use leptos::prelude::*;
use leptos::task::spawn_local;
use qol_shared::Language;
use qol_shared::api::{
    PushSubscriptionRequest, ReminderChannel, ReminderSettingsView, RemovePushSubscription, SetReminders,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::common::Problem;
use crate::i18n::{Text, t};

fn channel_text(channel: ReminderChannel) -> Text {
    match channel {
        ReminderChannel::Auto => Text::ByAuto,
        ReminderChannel::Sms => Text::BySms,
        ReminderChannel::Email => Text::ByEmail,
        ReminderChannel::Push => Text::ByPush,
        ReminderChannel::Off => Text::ByOff,
    }
}

#[component]
pub fn ReminderSettings() -> impl IntoView {
    let app_language = crate::i18n::use_language();
    let changed = RwSignal::new(0_u32);
    let settings = super::load(move || {
        changed.track();
        api::my_reminders()
    });
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::ReminderSettings)}</h1>
        <p class="lead">{t(Text::ReminderLead)}</p>
        {move || match settings.get() {
            None => view! { <p class="muted">{t(Text::Loading)}</p> }.into_any(),
            Some(Ok(current)) => view! { <Form current changed/> }.into_any(),
            Some(Err(failure)) => view! { <Problem message=failure.say(app_language.get())/> }.into_any(),
        }}
        <p><a href="/">{t(Text::Back)}</a></p>
    }
}

#[component]
fn Form(current: ReminderSettingsView, changed: RwSignal<u32>) -> impl IntoView {
    let app_language = crate::i18n::use_language();
    let channel = RwSignal::new(current.channel);
    let language = RwSignal::new(current.language);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let language_now = app_language.get_untracked();
        let body = SetReminders {
            channel: channel.get_untracked(),
            language: language.get_untracked(),
            email: None,
        };
        spawn_local(async move {
            match api::set_my_reminders(&body).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                    crate::announce(Text::SavedSettings);
                    changed.update(|n| *n += 1);
                }
                Err(failure) => error.set(Some(failure.say(language_now))),
            }
        });
    };
    // The choices this site and this patient can use, and "off"; her current one always shows.
    let offered: Vec<ReminderChannel> = ReminderChannel::ALL
        .into_iter()
        .filter(|choice| {
            *choice == current.channel
                || matches!(choice, ReminderChannel::Auto | ReminderChannel::Off)
                || current.site_channels.contains(choice)
        })
        .collect();
    let status = match (current.channel, current.goes_by) {
        _ if current.site_channels.is_empty() => view! {
            <p class="state" id="reminder-status">{t(Text::SiteNotSetUp)}</p>
        }.into_any(),
        (ReminderChannel::Off, _) => view! { <p class="state" id="reminder-status">{t(Text::NotReminded)}</p> }.into_any(),
        (_, Some(by)) => view! {
            <p class="state sent" id="reminder-status">{t(Text::WeRemindBy)} ": " <strong>{t(channel_text(by))}</strong></p>
        }.into_any(),
        (_, None) => view! { <p class="state refused" id="reminder-status">{t(Text::NoWayToRemind)}</p> }.into_any(),
    };
    let push_key = current.push_public_key.clone();
    view! {
        {current.study_sends_reminders.then_some(status)}
        <form class="form" on:submit=save>
            <fieldset class="choices">
                <legend>{t(Text::RemindMeBy)}</legend>
                {offered.into_iter().map(|choice| view! {
                    <label class="choice radio">
                        <input type="radio" name="channel" value=choice.as_str() checked=choice == current.channel
                            on:change=move |_| channel.set(choice)/>
                        {t(channel_text(choice))}
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="field">
                <label for="texts-in">{t(Text::TextsIn)}</label>
                <select id="texts-in" on:change=move |ev| {
                    if let Some(choice) = Language::from_tag(&event_target_value(&ev)) { language.set(choice) }
                }>
                    {Language::ALL.into_iter().map(|choice| view! {
                        <option value=choice.tag() selected=choice == current.language>{crate::i18n::own_name(choice)}</option>
                    }).collect_view()}
                </select>
            </div>
            {move || error.get().map(|message| view! { <Problem message/> })}
            {move || saved.get().then(|| view! { <p class="muted">{t(Text::SavedSettings)}</p> })}
            <button type="submit" class="primary">{t(Text::Save)}</button>
        </form>
        {push_key.map(|key| view! { <Push key changed/> })}
    }
}

/// This phone's notifications: subscribe with the site's VAPID key after she agrees, or stop.
#[component]
fn Push(key: String, changed: RwSignal<u32>) -> impl IntoView {
    let subscribed = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<Text>);
    let supported = push_supported();
    if supported {
        spawn_local(async move {
            if let Ok(Some(endpoint)) = current_endpoint().await {
                subscribed.set(Some(endpoint));
            }
        });
    }
    let turn_on = move |_| {
        let key = key.clone();
        spawn_local(async move {
            match subscribe(&key).await {
                Ok(request) => {
                    let endpoint = request.endpoint.clone();
                    match api::subscribe_push(&request).await {
                        Ok(_) => {
                            problem.set(None);
                            subscribed.set(Some(endpoint));
                            changed.update(|n| *n += 1);
                        }
                        Err(_) => problem.set(Some(Text::PushUnavailable)),
                    }
                }
                Err(denied) => {
                    problem.set(Some(if denied { Text::PushDenied } else { Text::PushUnavailable }))
                }
            }
        });
    };
    let turn_off = move |_| {
        spawn_local(async move {
            if let Some(endpoint) = subscribed.get_untracked() {
                let _ = unsubscribe().await;
                let _ = api::unsubscribe_push(&RemovePushSubscription { endpoint }).await;
                subscribed.set(None);
                changed.update(|n| *n += 1);
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="push-heading" id="push">
            <h2 id="push-heading">{t(Text::PushTitle)}</h2>
            {if !supported {
                view! { <p class="muted">{t(Text::PushUnavailable)}</p> }.into_any()
            } else {
                view! {
                    {move || match subscribed.get() {
                        Some(_) => view! {
                            <p class="state sent">{t(Text::PushIsOn)}</p>
                            <button type="button" class="secondary" on:click=turn_off>{t(Text::PushOff)}</button>
                        }.into_any(),
                        None => view! {
                            <p>{t(Text::PushConsent)}</p>
                            <button type="button" class="secondary" on:click=turn_on.clone()>{t(Text::PushOn)}</button>
                        }.into_any(),
                    }}
                    {move || problem.get().map(|text| view! { <p class="state refused">{t(text)}</p> })}
                }.into_any()
            }}
        </section>
    }
}

/// At sign-out: this phone's push subscription was hers, so it ends (on the server while the
/// session still holds, and in the browser). Never waits for a service worker that is not there.
pub async fn forget_push() {
    if !push_supported() {
        return;
    }
    let promise = window().navigator().service_worker().get_registration();
    let Ok(found) = JsFuture::from(promise).await else { return };
    if found.is_undefined() || found.is_null() {
        return;
    }
    let registration: web_sys::ServiceWorkerRegistration = found.unchecked_into();
    let Ok(manager) = registration.push_manager() else { return };
    let Ok(promise) = manager.get_subscription() else { return };
    let Ok(subscription) = JsFuture::from(promise).await else { return };
    if subscription.is_null() || subscription.is_undefined() {
        return;
    }
    let subscription: web_sys::PushSubscription = subscription.unchecked_into();
    let _ = api::unsubscribe_push(&RemovePushSubscription { endpoint: subscription.endpoint() }).await;
    if let Ok(promise) = subscription.unsubscribe() {
        let _ = JsFuture::from(promise).await;
    }
}

fn push_supported() -> bool {
    let window = window();
    js_sys::Reflect::has(&window, &JsValue::from_str("PushManager")).unwrap_or(false)
        && js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false)
        && js_sys::Reflect::has(&window.navigator(), &JsValue::from_str("serviceWorker")).unwrap_or(false)
}

async fn registration() -> Result<web_sys::ServiceWorkerRegistration, JsValue> {
    let ready = window().navigator().service_worker().ready()?;
    Ok(JsFuture::from(ready).await?.unchecked_into())
}

async fn current_endpoint() -> Result<Option<String>, JsValue> {
    let manager = registration().await?.push_manager()?;
    let subscription = JsFuture::from(manager.get_subscription()?).await?;
    if subscription.is_null() || subscription.is_undefined() {
        return Ok(None);
    }
    Ok(Some(subscription.unchecked_into::<web_sys::PushSubscription>().endpoint()))
}

async fn unsubscribe() -> Result<(), JsValue> {
    let manager = registration().await?.push_manager()?;
    let subscription = JsFuture::from(manager.get_subscription()?).await?;
    if !subscription.is_null() && !subscription.is_undefined() {
        JsFuture::from(subscription.unchecked_into::<web_sys::PushSubscription>().unsubscribe()?).await?;
    }
    Ok(())
}

/// Asks for permission (the browser asks her), then subscribes; `Err(true)` when she said no.
async fn subscribe(key: &str) -> Result<PushSubscriptionRequest, bool> {
    let permission = web_sys::Notification::request_permission().map_err(|_| false)?;
    let answer = JsFuture::from(permission).await.map_err(|_| false)?;
    if answer.as_string().as_deref() != Some("granted") {
        return Err(true);
    }
    let manager =
        registration().await.and_then(|registration| registration.push_manager()).map_err(|_| false)?;
    let options = web_sys::PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(&JsValue::from_str(key));
    let subscription = JsFuture::from(manager.subscribe_with_options(&options).map_err(|_| false)?)
        .await
        .map_err(|_| false)?;
    let json = js_sys::JSON::stringify(&subscription).map_err(|_| false)?;
    crate::json::from_str(&String::from(json)).map_err(|_| false)
}
