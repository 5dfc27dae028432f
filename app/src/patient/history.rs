//! `/history`: her past forms by date and, where the protocol shows them, a few of her scores
//! over time in plain words.

use leptos::prelude::*;
use qol_shared::api::{MyHistory, ScoreSeries};

use super::vault;
use crate::api;
use crate::common::Problem;
use crate::i18n::{Text, label_in, local_date, t, use_language};

const HISTORY: &str = "history";

/// A change of 10 points or more is the smallest patients notice as "a little" (Osoba et al.,
/// J Clin Oncol 1998;16:139–144); smaller ones read as about the same.
const NOTICEABLE: f64 = 10.0;

fn scale_name(code: &str) -> Option<Text> {
    Some(match code {
        "QL2" => Text::ScoreQl,
        "PF2" | "PF" => Text::ScorePf,
        "FA" => Text::ScoreFa,
        "PA" => Text::ScorePa,
        "EF" => Text::ScoreEf,
        "NV" => Text::ScoreNv,
        _ => return None,
    })
}

#[component]
pub fn History() -> impl IntoView {
    let language = use_language();
    let history = super::load(|| async {
        match api::my_history().await {
            Ok((history, text)) => {
                vault::save_text(HISTORY, text);
                Ok(history)
            }
            Err(failure) => vault::load::<MyHistory>(HISTORY).ok_or(failure),
        }
    });
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(Text::HistoryTitle)}</h1>
        {move || match history.get() {
            None => view! { <p class="muted">{t(Text::Loading)}</p> }.into_any(),
            Some(Err(failure)) => view! { <Problem message=failure.say(language.get())/> }.into_any(),
            Some(Ok(history)) => {
                let scores = history.scores.clone();
                view! {
                    {(!scores.is_empty()).then(|| view! {
                        <h2>{t(Text::YourScores)}</h2>
                        <p class="muted">{t(Text::ScoresLead)}</p>
                        <ul class="scores">
                            {scores.into_iter().filter_map(score_line).collect_view()}
                        </ul>
                    })}
                    <h2>{t(Text::PastForms)}</h2>
                    {history.forms.is_empty().then(|| view! { <p class="muted">{t(Text::NoFormsYet)}</p> })}
                    <ul class="sent-list" id="past-forms">
                        {history.forms.into_iter().map(|form| {
                            let labels = form.labels.clone();
                            let label = form.label.clone();
                            let on = form.completed_on;
                            // A form the study team corrected says so: never silently.
                            let corrected = form.corrected.then(|| view! { " · " <em>{t(Text::CorrectedByTeam)}</em> });
                            view! {
                                <li>
                                    <span class="card-title">{move || label_in(&labels, &label, language.get())}</span>
                                    " · " {move || local_date(on, language.get().tag())}
                                    {corrected}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }
        }}
        <p><a href="/">{t(Text::Back)}</a></p>
    }
}

/// A score as a whole number (integer formatting keeps float formatting out of the bundle).
#[allow(clippy::cast_possible_truncation)]
fn rounded(value: f64) -> i64 {
    value.round() as i64
}

/// "Overall quality of life: 58 of 100 on 1 Dec 2026 (higher is better) — better than at the
/// start."
fn score_line(series: ScoreSeries) -> Option<impl IntoView> {
    let language = use_language();
    let name = scale_name(&series.scale)?;
    let first = series.points.first()?.value;
    let latest = series.points.last()?.clone();
    let change = latest.value - first;
    let better = if series.higher_is_better { change } else { -change };
    let trend = if series.points.len() < 2 {
        None
    } else if better >= NOTICEABLE {
        Some(Text::Better)
    } else if better <= -NOTICEABLE {
        Some(Text::Worse)
    } else {
        Some(Text::AboutSame)
    };
    let direction = if series.higher_is_better { Text::HigherBetter } else { Text::LowerBetter };
    Some(view! {
        <li>
            <strong>{t(name)}</strong> ": " {rounded(latest.value)} " / 100"
            " (" {t(direction)} ") · " {move || local_date(latest.completed_on, language.get().tag())}
            {trend.map(|trend| view! { <br/> {t(trend)} })}
        </li>
    })
}
