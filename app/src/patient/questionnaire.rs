//! The questionnaire: the instructions (how many questions, about how long, and that she can
//! stop and come back), then one item per screen (a tap answers and moves on; Back is always
//! there), the "please call me" question, and a review that lists every answer by section (a
//! tap edits one and comes back). Every tap is saved (sealed) on the phone, so closing the
//! browser resumes at the same screen. Sending puts the answers in the outbox, which delivers
//! them.

use leptos::prelude::*;
use qol_shared::answers::{RawAnswer, Response};
use qol_shared::api::SubmissionRequest;
use qol_shared::instrument::InstrumentId;
use qol_shared::wording::{InstrumentView, ItemView, SectionView};

use super::outbox::Outbox;
use super::vault;
use crate::api::{self, ApiFailure};
use crate::common::Problem;
use crate::i18n::{Text, label_in, t, use_language};
use crate::local::{self, Delivery, Draft, OutboxEntry};

/// The wording of each instrument of the draft, from the server or, offline, from the phone.
async fn load_views(
    instruments: Vec<InstrumentId>,
    language: &'static str,
) -> Result<Vec<InstrumentView>, ApiFailure> {
    let mut views = Vec::new();
    for id in instruments {
        let cache = local::wording_key(id, language);
        match api::get_keeping::<InstrumentView>(&format!("/api/v1/instruments/{id}?lang={language}")).await {
            Ok((view, text)) => {
                local::save_text(&cache, &text);
                views.push(view);
            }
            Err(failure) => views.push(local::load(&cache).ok_or(failure)?),
        }
    }
    Ok(views)
}

#[derive(Debug, Clone, PartialEq)]
struct Form {
    views: Vec<InstrumentView>,
    items: Vec<ItemView>,
    sections: Vec<SectionView>,
}

impl Form {
    /// The form of `views`, with only the items `only` when it is not empty.
    fn new(views: Vec<InstrumentView>, only: &[u8]) -> Form {
        let items = views
            .iter()
            .flat_map(|view| view.items.clone())
            .filter(|item| only.is_empty() || only.contains(&item.number))
            .collect();
        let sections = views.iter().flat_map(|view| view.sections.clone()).collect();
        Form { views, items, sections }
    }

    /// Screens: 0 instructions, 1..=n items, n+1 call-me, n+2 review.
    fn call_me_screen(&self) -> usize {
        self.items.len() + 1
    }

    fn review_screen(&self) -> usize {
        self.items.len() + 2
    }

    /// Whether `position` is an item of a section the patient marked not applicable.
    fn skipped(&self, draft: &Draft, position: usize) -> bool {
        position >= 1
            && position <= self.items.len()
            && draft.answers.get(&self.items[position - 1].number) == Some(&Response::NotApplicable)
    }

    /// The screen after `from`: an answer given from the review goes back to it; the call-me
    /// question is not asked of someone who has just asked for a call.
    fn next(&self, draft: &Draft, from: usize) -> usize {
        if draft.editing {
            return self.review_screen();
        }
        let mut position = (from + 1).min(self.review_screen());
        while self.skipped(draft, position) || (position == self.call_me_screen() && draft.help_requested) {
            position += 1;
        }
        position
    }

    fn previous(&self, draft: &Draft, from: usize) -> usize {
        let mut position = from.saturating_sub(1);
        while position > 0
            && (self.skipped(draft, position) || (position == self.call_me_screen() && draft.help_requested))
        {
            position -= 1;
        }
        position
    }

    /// About how long the form takes: ten seconds a question, at least two minutes.
    fn minutes(&self) -> usize {
        (self.items.len() * 10).div_ceil(60).max(2)
    }

    fn unanswered(&self, draft: &Draft) -> Vec<(usize, ItemView)> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, item)| !draft.answers.contains_key(&item.number))
            .map(|(index, item)| (index + 1, item.clone()))
            .collect()
    }
}

fn focus_heading() {
    request_animation_frame(|| {
        if let Some(heading) = document().get_element_by_id("screen-heading") {
            use wasm_bindgen::JsCast;
            if let Ok(heading) = heading.dyn_into::<web_sys::HtmlElement>() {
                let _ = heading.focus();
            }
        }
    });
}

#[component]
pub fn Questionnaire(key: String) -> impl IntoView {
    let Some(initial) = vault::load::<Draft>(&local::draft_name(&key)) else {
        // Nothing in progress under this key (already sent, or a stale link): back home, in its
        // place, so Back does not come here again.
        super::nav::replace("/");
        return view! { <p class="muted">{t(Text::Loading)}</p> }.into_any();
    };
    let draft = RwSignal::new(initial);
    let language = use_language();
    let outbox = expect_context::<Outbox>();
    let (instruments, only) =
        draft.with_untracked(|draft| (draft.instruments.clone(), draft.only_items.clone()));
    let form = super::load(move || {
        let instruments = instruments.clone();
        let only = only.clone();
        let language = language.get().tag();
        async move { load_views(instruments, language).await.map(|views| Form::new(views, &only)) }
    });

    // Focus moves to each new screen's heading, and to the first one once the wording arrives.
    Effect::new(move |_| {
        draft.with(|draft| draft.position);
        form.track();
        focus_heading();
    });

    let send = move |form: &Form| {
        let mut draft = draft.get_untracked();
        // A draft resumed from an older app may disagree with item 49's rule: settle it first.
        qol_shared::answers::settle_sections(&mut draft.answers);
        let answers = form
            .items
            .iter()
            .filter_map(|item| {
                draft.answers.get(&item.number).map(|response| match response {
                    Response::Code(code) => RawAnswer::code(item.number.into(), (*code).into()),
                    Response::NotApplicable => RawAnswer::not_applicable(item.number.into()),
                })
            })
            .collect();
        let request = SubmissionRequest {
            client_id: draft.client_id.clone(),
            assessment_id: draft.assessment_id,
            completed_at: local::now(),
            language: language.get_untracked(),
            answers,
            call_me: draft.call_me.unwrap_or(false),
        };
        // The outbox holds the answers now; the draft goes once they are stored there.
        outbox.enqueue(
            OutboxEntry {
                key: draft.key.clone(),
                label: draft.label.clone(),
                labels: draft.labels.clone(),
                request,
                delivery: Delivery::Saved,
                attempts: 0,
            },
            Some(local::draft_name(&draft.key)),
        );
        // The form is sent: home takes its place in the history.
        super::nav::replace("/");
    };

    view! {
        {move || match form.get() {
            None => view! { <p class="muted">{t(Text::Loading)}</p> }.into_any(),
            Some(Err(failure)) => view! { <Problem message=failure.say(language.get())/> }.into_any(),
            Some(Ok(form)) => {
                (move || {
                    let current = draft.get();
                    let position = current.position.min(form.review_screen());
                    if position == 0 {
                        instructions(&form, draft).into_any()
                    } else if position <= form.items.len() {
                        item_screen(&form, &current, position, draft).into_any()
                    } else if position == form.call_me_screen() {
                        call_me_screen(&form, &current, draft).into_any()
                    } else {
                        let form_for_send = form.clone();
                        review_screen(&form, &current, draft, move || send(&form_for_send)).into_any()
                    }
                })
                .into_any()
            }
        }}
    }
    .into_any()
}

/// Applies a change to the draft and saves it on the phone at once.
fn change(draft: RwSignal<Draft>, apply: impl FnOnce(&mut Draft)) {
    draft.update(apply);
    draft.with_untracked(|draft| vault::save(&local::draft_name(&draft.key), draft));
}

fn go_to(draft: RwSignal<Draft>, position: usize) {
    change(draft, |draft| {
        draft.position = position;
        draft.editing = false;
    });
}

/// Opens one answer from the review; answering it comes back to the review.
fn edit(draft: RwSignal<Draft>, position: usize) {
    change(draft, |draft| {
        draft.position = position;
        draft.editing = true;
    });
}

fn notice(form: &Form) -> Option<impl IntoView + use<>> {
    form.views
        .iter()
        .find_map(|view| view.notice.clone())
        .map(|notice| view! { <p class="notice" role="note">{notice}</p> })
}

/// Back, always visible on every screen after the instructions (back to the review when she
/// came from it).
fn back_button(form: &Form, current: &Draft, draft: RwSignal<Draft>) -> impl IntoView + use<> {
    let (previous, label) = if current.editing {
        (form.review_screen(), Text::BackToReview)
    } else {
        (form.previous(current, current.position), Text::Back)
    };
    view! {
        <button type="button" class="back" on:click=move |_| go_to(draft, previous)>
            "← " {t(label)}
        </button>
    }
}

fn instructions(form: &Form, draft: RwSignal<Draft>) -> impl IntoView + use<> {
    let label = draft.with_untracked(|draft| draft.label.clone());
    let first = form.next(&draft.get_untracked(), 0);
    let started = draft.with_untracked(|draft| !draft.answers.is_empty());
    let count = form.items.len();
    let minutes = form.minutes();
    let language = use_language();
    let labels = draft.with_untracked(|draft| draft.labels.clone());
    view! {
        <h1 id="screen-heading" tabindex="-1">{move || label_in(&labels, &label, language.get())}</h1>
        {notice(form)}
        <p class="lead" id="form-size">
            {count} " " {t(Text::QuestionsAbout)} " " {minutes} " " {t(Text::Minutes)}
        </p>
        <p class="muted">{t(Text::StopResume)}</p>
        {form.views.iter().map(|view| view! {
            <section class="instructions">
                <h2>{view.title.clone()}</h2>
                <p>{view.instructions.clone()}</p>
            </section>
        }).collect_view()}
        <button type="button" class="primary" on:click=move |_| go_to(draft, first)>
            {if started { t(Text::Continue) } else { t(Text::Start) }}
        </button>
    }
}

fn item_screen(
    form: &Form,
    current: &Draft,
    position: usize,
    draft: RwSignal<Draft>,
) -> impl IntoView + use<> {
    let item = form.items[position - 1].clone();
    let number = item.number;
    let selected = current.answers.get(&number).copied();
    let next = form.next(current, position);
    let total = form.items.len();
    // The first item of a conditional section carries its note and the "does not apply" choice,
    // unless an answer already decided the section (CX24 item 49): then it applies. The rule is
    // the instrument's (shared), not the cached wording's.
    let decided = InstrumentId::ALL
        .iter()
        .find_map(|id| id.instrument().section_of(number))
        .and_then(|defined| defined.not_applicable_when)
        .is_some_and(|(gate, _)| matches!(current.answers.get(&gate), Some(Response::Code(_))));
    let section = item
        .section
        .as_ref()
        .and_then(|id| {
            form.sections.iter().find(|section| &section.id == id && section.items.first() == Some(&number))
        })
        .filter(|_| !decided)
        .cloned();
    let form_for_skip = form.clone();
    let options = item.options.clone();
    view! {
        // Not a live region: focus moves to the question, which is read with its number.
        <p class="progress">
            {t(Text::QuestionOf)} " " {position} " " {t(Text::Of)} " " {total}
        </p>
        <progress max=total value=position aria-hidden="true"></progress>
        {notice(form).map(|notice| view! { <div class="notice-compact">{notice}</div> })}
        {section.map(|section| {
            let items = section.items.clone();
            let form = form_for_skip.clone();
            view! {
                <div class="section-note">
                    <p>{section.text.clone()}</p>
                    <button type="button" class="secondary" on:click=move |_| {
                        change(draft, |draft| {
                            for item in &items {
                                draft.answers.insert(*item, Response::NotApplicable);
                            }
                        });
                        let after = form.next(&draft.get_untracked(), position);
                        go_to(draft, after);
                    }>{t(Text::NotApplicableSection)}</button>
                </div>
            }
        })}
        <h1 id="screen-heading" tabindex="-1" class="question">{item.text.clone()}</h1>
        <div class="options" role="group" aria-labelledby="screen-heading">
            {options.into_iter().map(|option| {
                let code = option.code;
                let chosen = selected == Some(Response::Code(code));
                let section_items = item.section.as_ref().and_then(|id| form_for_skip.sections.iter().find(|s| &s.id == id)).map(|s| s.items.clone());
                let form = form_for_skip.clone();
                view! {
                    <button
                        type="button"
                        class="option"
                        class:chosen=chosen
                        aria-pressed=if chosen { "true" } else { "false" }
                        on:click=move |_| {
                            change(draft, |draft| {
                                // Answering inside a section that was marked not applicable
                                // means it applies after all.
                                if let Some(items) = &section_items {
                                    for other in items {
                                        if draft.answers.get(other) == Some(&Response::NotApplicable) {
                                            draft.answers.remove(other);
                                        }
                                    }
                                }
                                draft.answers.insert(number, Response::Code(code));
                                // An answer that decides a section (CX24 item 49): "not at all"
                                // makes its items not applicable, so they are skipped; any other
                                // answer makes them apply again. The rule is the instrument's
                                // (shared), not the cached wording's.
                                qol_shared::answers::settle_sections(&mut draft.answers);
                                draft.position = form.next(draft, position);
                            });
                        }
                    >
                        {option.label.clone()}
                    </button>
                }
            }).collect_view()}
        </div>
        <nav class="flow" aria-label=t(Text::QuestionOf)>
            {back_button(form, current, draft)}
            <button type="button" class="link" on:click=move |_| change(draft, |draft| {
                draft.position = next;
                draft.editing = false;
            })>{t(Text::Next)}</button>
        </nav>
    }
}

fn call_me_screen(form: &Form, current: &Draft, draft: RwSignal<Draft>) -> impl IntoView + use<> {
    let review = form.review_screen();
    let chosen = current.call_me;
    let choice = move |value: bool| {
        move |_| {
            change(draft, |draft| {
                draft.call_me = Some(value);
                draft.position = review;
                draft.editing = false;
            })
        }
    };
    view! {
        <h1 id="screen-heading" tabindex="-1" class="question">{t(Text::CallMeTitle)}</h1>
        <div class="options" role="group" aria-labelledby="screen-heading">
            <button type="button" class="option" class:chosen=chosen == Some(true)
                aria-pressed=if chosen == Some(true) { "true" } else { "false" } on:click=choice(true)>
                {t(Text::CallMeYes)}
            </button>
            <button type="button" class="option" class:chosen=chosen == Some(false)
                aria-pressed=if chosen == Some(false) { "true" } else { "false" } on:click=choice(false)>
                {t(Text::CallMeNo)}
            </button>
        </div>
        <nav class="flow" aria-label=t(Text::CallMeTitle)>{back_button(form, current, draft)}</nav>
    }
}

fn review_screen<S: Fn() + 'static>(
    form: &Form,
    current: &Draft,
    draft: RwSignal<Draft>,
    send: S,
) -> impl IntoView + use<S> {
    let unanswered = form.unanswered(current).len();
    // Every answer, by questionnaire and, inside one, by its conditional section.
    let groups: Vec<(String, Vec<(usize, ItemView)>)> = form
        .views
        .iter()
        .flat_map(|view| {
            let numbers: Vec<u8> = view.items.iter().map(|item| item.number).collect();
            let mut groups: Vec<(String, Vec<(usize, ItemView)>)> = Vec::new();
            for (index, item) in
                form.items.iter().enumerate().filter(|(_, item)| numbers.contains(&item.number))
            {
                let title =
                    match item.section.as_ref().and_then(|id| form.sections.iter().find(|s| &s.id == id)) {
                        Some(section) => section.text.clone(),
                        None => view.title.clone(),
                    };
                match groups.last_mut() {
                    Some((last, items)) if *last == title => items.push((index + 1, item.clone())),
                    _ => groups.push((title, vec![(index + 1, item.clone())])),
                }
            }
            groups
        })
        .collect();
    let answers = current.answers.clone();
    let call_me = current.call_me;
    let help_requested = current.help_requested;
    let call_me_screen = form.call_me_screen();
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::ReviewTitle)}</h1>
        {notice(form)}
        {if unanswered == 0 {
            view! { <p class="lead all-answered">{t(Text::AllAnswered)}</p> }.into_any()
        } else {
            view! { <p class="lead some-unanswered">{t(Text::Unanswered)} ": " {unanswered} ". " {t(Text::UnansweredHelp)}</p> }.into_any()
        }}
        // Send first, so a keyboard or screen-reader user need not pass every answer to reach it.
        <button type="button" class="primary send" on:click=move |_| send()>{t(Text::SendNow)}</button>
        <p class="muted">{t(Text::ReviewLead)}</p>
        {groups.into_iter().map(|(title, items)| {
            let answers = answers.clone();
            view! {
                <h2>{title}</h2>
                <ul class="review">
                    {items.into_iter().map(|(position, item)| {
                        let answer = match answers.get(&item.number) {
                            Some(Response::Code(code)) => item.options.iter().find(|o| o.code == *code).map(|o| o.label.clone()),
                            Some(Response::NotApplicable) => Some(t(Text::DoesNotApply)().to_owned()),
                            None => None,
                        };
                        let missing = answer.is_none();
                        view! {
                            <li><button type="button" class="review-row" class:missing=missing on:click=move |_| edit(draft, position)>
                                <span class="review-question">{item.number} ". " {item.text.clone()}</span>
                                <span class="review-answer">{answer.unwrap_or_else(|| t(Text::NotAnsweredShort)().to_owned())}</span>
                            </button></li>
                        }
                    }).collect_view()}
                </ul>
            }
        }).collect_view()}
        <h2>{t(Text::CallMeShort)}</h2>
        <ul class="review">
            <li>{if help_requested {
                view! { <p class="review-row"><span class="review-question">{t(Text::CallMeTitle)}</span><span class="review-answer">{t(Text::HelpAlreadyAsked)}</span></p> }.into_any()
            } else {
                view! {
                    <button type="button" class="review-row" id="review-call-me" on:click=move |_| edit(draft, call_me_screen)>
                        <span class="review-question">{t(Text::CallMeTitle)}</span>
                        <span class="review-answer">{match call_me {
                            Some(true) => t(Text::CallMeYes)(),
                            Some(false) => t(Text::CallMeNo)(),
                            None => t(Text::NotAnsweredShort)(),
                        }}</span>
                    </button>
                }.into_any()
            }}</li>
        </ul>
        <nav class="flow" aria-label=t(Text::ReviewTitle)>{back_button(form, current, draft)}</nav>
    }
}
