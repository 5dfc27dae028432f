//! How the patient's app moves between its screens, without a router library: the path is a
//! signal, links are plain anchors taken over on click, and Back and Forward follow `popstate`.
//! leptos_router did this for nine fixed paths at about 12 KB brotli of the phone's first load
//! (issue 17's 250 KB budget); the console, with its nested pages, keeps it.

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The patient's screens, by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Start,
    Activate,
    SignIn,
    SignOut,
    Help,
    History,
    Settings,
    /// `/questionnaire/<key>`: a form in progress.
    Questionnaire(String),
    /// `/instruments/<id>`: a questionnaire's wording.
    Instrument(String),
    NotFound,
}

impl Screen {
    pub fn of(path: &str) -> Screen {
        // "/help/" is "/help", as a person typing it would expect.
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed,
            _ => path,
        };
        let part = |prefix: &str| {
            path.strip_prefix(prefix)
                .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                .map(|rest| js_sys::decode_uri_component(rest).map_or_else(|_| rest.to_owned(), String::from))
        };
        match path {
            "/" => Screen::Start,
            "/activate" => Screen::Activate,
            "/sign-in" => Screen::SignIn,
            "/sign-out" => Screen::SignOut,
            "/help" => Screen::Help,
            "/history" => Screen::History,
            "/settings" => Screen::Settings,
            _ => part("/questionnaire/")
                .map(Screen::Questionnaire)
                .or_else(|| part("/instruments/").map(Screen::Instrument))
                .unwrap_or(Screen::NotFound),
        }
    }

    /// The screens anyone may open, signed in or not: the start, activation, sign-in, help and
    /// the questionnaires' wording.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Screen::Start | Screen::Activate | Screen::SignIn | Screen::Help | Screen::Instrument(_)
        )
    }
}

thread_local! {
    /// The path shown, once [`provide`] has made it: kept here so a screen can move on after an
    /// `.await`, where the reactive context is out of reach.
    static PATH: Cell<Option<RwSignal<String>>> = const { Cell::new(None) };
}

fn pathname() -> String {
    window().location().pathname().unwrap_or_else(|_| "/".to_owned())
}

/// Makes the path signal and starts following links and the history; once, when the app starts.
/// Returns the screen to show.
pub fn provide() -> Memo<Screen> {
    let path = RwSignal::new(pathname());
    PATH.with(|cell| cell.set(Some(path)));
    let back_or_forward = Closure::<dyn Fn()>::new(move || path.set(pathname()));
    let _ = window().add_event_listener_with_callback("popstate", back_or_forward.as_ref().unchecked_ref());
    back_or_forward.forget();
    let click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(follow_link);
    let _ = window().add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
    click.forget();
    let screen = Memo::new(move |_| Screen::of(&path.get()));
    provide_context(screen);
    screen
}

/// Shows `to` (a path on this site, with any query), as a new entry in the browser's history;
/// the address already shown is not entered twice (Back would seem to do nothing).
pub fn go(to: &str) {
    let location = window().location();
    let shown = format!(
        "{}{}{}",
        pathname(),
        location.search().unwrap_or_default(),
        location.hash().unwrap_or_default()
    );
    show(to, to == shown);
}

/// Shows `to` in place of the address shown: for a screen that sends her on by itself (a form
/// already sent, a sign-out done), so Back does not return to it.
pub fn replace(to: &str) {
    show(to, true);
}

fn show(to: &str, in_place: bool) {
    let moved = window().history().is_ok_and(|history| {
        if in_place {
            history.replace_state_with_url(&JsValue::NULL, "", Some(to)).is_ok()
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(to)).is_ok()
        }
    });
    if !moved {
        let _ = window().location().set_href(to);
        return;
    }
    window().scroll_to_with_x_and_y(0.0, 0.0);
    PATH.with(|cell| {
        if let Some(path) = cell.get() {
            path.set(pathname());
        }
    });
}

/// A click on a link to another of the app's screens is shown here, without a page load; every
/// other click (a new tab, a download, `rel="external"`, a `tel:` link, the skip link's `#main`,
/// another site, or a path that is not one of her screens, such as the console's) is left to
/// the browser.
fn follow_link(event: web_sys::MouseEvent) {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.alt_key()
        || event.ctrl_key()
        || event.shift_key()
    {
        return;
    }
    let Some(anchor) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .and_then(|element| element.closest("a[href]").ok().flatten())
    else {
        return;
    };
    let elsewhere =
        anchor.get_attribute("target").is_some_and(|target| !target.is_empty() && target != "_self");
    let external = anchor
        .get_attribute("rel")
        .is_some_and(|rel| rel.split_ascii_whitespace().any(|word| word == "external"));
    if elsewhere || external || anchor.has_attribute("download") {
        return;
    }
    let location = window().location();
    let Ok(url) = web_sys::Url::new_with_base(
        &anchor.get_attribute("href").unwrap_or_default(),
        &location.href().unwrap_or_default(),
    ) else {
        return;
    };
    if url.origin() != location.origin().unwrap_or_default() {
        return;
    }
    let path = url.pathname();
    let same_page = path == pathname() && url.search() == location.search().unwrap_or_default();
    // Not one of her screens (the console, with both parts built; anything else the server has):
    // a page load.
    let not_hers = Screen::of(&path) == Screen::NotFound;
    if (same_page && !url.hash().is_empty()) || not_hers {
        return;
    }
    event.prevent_default();
    go(&format!("{path}{}{}", url.search(), url.hash()));
}

/// A query parameter of the address shown (`code` in `/activate?code=…`).
pub fn query(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}
