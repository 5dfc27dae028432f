//! The researchers' view (pseudonymised): the primary comparison (baseline → end of
//! treatment), mean change at every assessment, the mean score over time by stratum, completion,
//! and the exports.

use leptos::prelude::*;
use qol_shared::analysis::{ChangeSummary, MeanEstimate, TimepointMean};
use qol_shared::api::{AnalysisReport, CompletionRow};

use super::text::S;
use super::{Failed, Part, Shell, api};
use crate::i18n::t;

#[component]
pub fn Research() -> impl IntoView {
    view! { <Shell part=Part::Research><ResearchBody/></Shell> }
}

fn one(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// "−4.2 [−31.0, 22.6]", or as much of it as exists.
fn with_interval(estimate: &MeanEstimate) -> String {
    match (estimate.mean, estimate.ci_low, estimate.ci_high) {
        (Some(mean), Some(low), Some(high)) => format!("{mean:+.1} [{low:+.1}, {high:+.1}]"),
        (Some(mean), _, _) => format!("{mean:+.1}"),
        _ => "–".to_owned(),
    }
}

fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.0} %", v * 100.0))
}

#[component]
fn ResearchBody() -> impl IntoView {
    let points = RwSignal::new(10.0_f64);
    let group = RwSignal::new(String::new());
    let weekly = RwSignal::new(false);
    let plot_scale = RwSignal::new("QL2".to_owned());
    let include_out_of_window = RwSignal::new(false);
    let report = LocalResource::new(move || {
        let points = points.get();
        let include = include_out_of_window.get();
        async move { api::analysis(points, include).await }
    });
    let completion = LocalResource::new(api::completion);
    let set_points = move |ev: leptos::ev::Event| {
        if let Ok(value) = event_target_value(&ev).parse::<f64>()
            && value > 0.0
            && value <= 100.0
        {
            points.set(value);
        }
    };
    view! {
        <h1 id="screen-heading" tabindex="-1">{t(S::ResearchTitle)}</h1>
        <p class="muted">{t(S::ResearchLead)}</p>
        <div class="inline-fields">
            <div class="field">
                <label for="responder-points">{t(S::ResponderPoints)}</label>
                <input id="responder-points" type="number" min="1" max="100" step="1"
                    prop:value=move || points.get().to_string() on:change=set_points/>
            </div>
            <div class="field">
                <label for="group">{t(S::Group)}</label>
                <select id="group" prop:value=move || group.get() on:change=move |ev| group.set(event_target_value(&ev))>
                    <option value="">{t(S::AllPatients)}</option>
                    {move || report.get().and_then(Result::ok).map(|r| r.strata.into_iter().map(|code| {
                        view! { <option value=code.clone()>{code.clone()}</option> }
                    }).collect_view())}
                </select>
            </div>
        </div>
        <Suspense fallback=|| ()>
            {move || report.get().map(|result| match result {
                Ok(report) => view! {
                    <Primary report=report.clone() group/>
                    <Changes report=report.clone() group weekly/>
                    <Means report=report.clone() plot_scale weekly/>
                    <OutOfWindow report include=include_out_of_window/>
                }.into_any(),
                Err(failure) => view! { <Failed failure/> }.into_any(),
            })}
        </Suspense>
        <section class="panel" aria-labelledby="completion-heading">
            <h2 id="completion-heading">{t(S::CompletionTitle)}</h2>
            <p class="muted">{t(S::CompletionLead)}</p>
            <Suspense fallback=|| ()>
                {move || completion.get().map(|result| match result {
                    Ok(rows) => view! { <Completion rows/> }.into_any(),
                    Err(failure) => view! { <Failed failure/> }.into_any(),
                })}
            </Suspense>
        </section>
        <section class="panel" aria-labelledby="exports-heading">
            <h2 id="exports-heading">{t(S::ExportsTitle)}</h2>
            <p class="muted">{t(S::ExportsLead)}</p>
            <ul class="exports">
                {["scores_long.csv", "scores_wide.csv", "items_long.csv", "schedule.csv", "dictionary.csv", "fhir.ndjson"].into_iter().map(|name| view! {
                    <li><a href=format!("/api/v1/exports/{name}") download=name rel="external">{name}</a></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The forms the analysis leaves out by default, why, and the switch that counts them.
#[component]
fn OutOfWindow(report: AnalysisReport, include: RwSignal<bool>) -> impl IntoView {
    let forms = report.out_of_window;
    let count = forms.len();
    view! {
        <section class="panel" aria-labelledby="out-of-window-heading">
            <h2 id="out-of-window-heading">{t(S::OutOfWindowTitle)} " (" {count} ")"</h2>
            <p class="muted">{t(S::OutOfWindowLead)}</p>
            {if forms.is_empty() {
                view! { <p id="out-of-window-none">{t(S::NoOutOfWindow)}</p> }.into_any()
            } else {
                view! {
                    <label class="check">
                        <input id="include-out-of-window" type="checkbox"
                            prop:checked=move || include.get()
                            on:change=move |ev| include.set(event_target_checked(&ev))/>
                        " " {t(S::IncludeOutOfWindow)}
                    </label>
                    <div class="scroll" tabindex="0">
                    <table class="table" id="out-of-window">
                        <thead><tr>
                            <th scope="col">{t(S::StudyId)}</th>
                            <th scope="col">{t(S::Assessment)}</th>
                            <th scope="col">{t(S::Placement)}</th>
                            <th scope="col">{t(S::Reason)}</th>
                        </tr></thead>
                        <tbody>
                            {forms.into_iter().map(|form| view! {
                                <tr>
                                    <td>{form.study_id}</td>
                                    <td>{form.assessment.to_string()}</td>
                                    <td>{form.placement.as_str()}</td>
                                    <td>{form.reason}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

fn group_matches(summary_stratum: &Option<String>, group: &str) -> bool {
    match summary_stratum {
        None => group.is_empty(),
        Some(stratum) => stratum == group,
    }
}

#[component]
fn Primary(report: AnalysisReport, group: RwSignal<String>) -> impl IntoView {
    let primary = report.primary.clone();
    move || {
        let wanted = group.get();
        let rows: Vec<ChangeSummary> = report
            .changes
            .iter()
            .filter(|c| c.timepoint == primary && group_matches(&c.stratum, &wanted))
            .cloned()
            .collect();
        let name = |code: &str| {
            report.scales.iter().find(|s| s.code == code).map_or(code.to_owned(), |s| s.name.clone())
        };
        view! {
            <section class="panel" aria-labelledby="primary-heading">
                <h2 id="primary-heading">{t(S::PrimaryTitle)}</h2>
                <table class="table numbers" id="primary">
                    <thead><tr>
                        <th scope="col">{t(S::Scale)}</th><th scope="col">{t(S::NPaired)}</th>
                        <th scope="col">{t(S::MeanBaseline)}</th><th scope="col">{t(S::MeanLater)}</th>
                        <th scope="col">{t(S::MeanChange)}</th><th scope="col">{t(S::Srm)}</th>
                        <th scope="col">{t(S::ImprovedStableWorse)}</th>
                    </tr></thead>
                    <tbody>{rows.into_iter().map(|c| view! {
                        <tr data-scale=c.scale.clone()>
                            <th scope="row">{name(&c.scale)} " (" {c.scale.clone()} ")"</th>
                            <td>{c.n_paired}</td>
                            <td>{one(c.baseline.mean)}</td>
                            <td>{one(c.at_timepoint.mean)}</td>
                            <td class="change">{with_interval(&c.change)}</td>
                            <td>{c.srm.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))}</td>
                            <td>{format!(
                                "{} ({}) / {} ({}) / {} ({})",
                                c.improved, rate(c.improved_proportion),
                                c.stable, rate(c.stable_proportion),
                                c.deteriorated, rate(c.deteriorated_proportion)
                            )}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </section>
        }
    }
}

fn shown_timepoints(report: &AnalysisReport, weekly: bool) -> Vec<(String, String)> {
    report
        .timepoints
        .iter()
        .filter(|t| weekly || !t.key.starts_with("weekly-"))
        .map(|t| (t.key.to_string(), t.label.clone()))
        .collect()
}

#[component]
fn Changes(report: AnalysisReport, group: RwSignal<String>, weekly: RwSignal<bool>) -> impl IntoView {
    move || {
        let wanted = group.get();
        let timepoints: Vec<(String, String)> = shown_timepoints(&report, weekly.get())
            .into_iter()
            .filter(|(key, _)| *key != report.baseline)
            .collect();
        let cell = |scale: &str, timepoint: &str| {
            report
                .changes
                .iter()
                .find(|c| c.scale == scale && c.timepoint == timepoint && group_matches(&c.stratum, &wanted))
                .map_or_else(
                    || "–".to_owned(),
                    |c| format!("{} (n={})", with_interval(&c.change), c.n_paired),
                )
        };
        view! {
            <section class="panel" aria-labelledby="changes-heading">
                <h2 id="changes-heading">{t(S::ChangesTitle)}</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=move || weekly.get() on:change=move |ev| weekly.set(event_target_checked(&ev))/>
                    " " {t(S::IncludeWeekly)}
                </label>
                <div class="scroll" tabindex="0">
                    <table class="table numbers" id="changes">
                        <thead><tr>
                            <th scope="col">{t(S::Scale)}</th>
                            {timepoints.iter().map(|(key, _)| view! { <th scope="col">{key.clone()}</th> }).collect_view()}
                        </tr></thead>
                        <tbody>{report.scales.iter().map(|scale| view! {
                            <tr>
                                <th scope="row">{scale.code.clone()}</th>
                                {timepoints.iter().map(|(key, _)| view! { <td>{cell(&scale.code, key)}</td> }).collect_view()}
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            </section>
        }
    }
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 95.0;

fn y_of(score: f64) -> f64 {
    TOP + (100.0 - score.clamp(0.0, 100.0)) / 100.0 * (HEIGHT - TOP - BOTTOM)
}

/// One group's means over time: x position and the mean.
struct Line<'a> {
    group: usize,
    stratum: Option<String>,
    points: Vec<(f64, &'a TimepointMean)>,
}

/// Each group's look: the stroke class, the dash pattern and the marker (never colour alone).
const LOOKS: [(&str, &str); 3] = [("all", ""), ("g1", "6 3"), ("g2", "2 3")];

#[component]
fn Means(report: AnalysisReport, plot_scale: RwSignal<String>, weekly: RwSignal<bool>) -> impl IntoView {
    let scales = report.scales.clone();
    let legend_groups: Vec<String> =
        std::iter::once("all".to_owned()).chain(report.strata.iter().cloned()).collect();
    let plot = move || {
        let scale = plot_scale.get();
        let timepoints = shown_timepoints(&report, weekly.get());
        let count = timepoints.len().max(1);
        let x_of = |index: usize| {
            if count == 1 {
                (LEFT + WIDTH - RIGHT) / 2.0
            } else {
                LEFT + index as f64 / (count - 1) as f64 * (WIDTH - LEFT - RIGHT)
            }
        };
        let groups: Vec<Option<String>> =
            std::iter::once(None).chain(report.strata.iter().cloned().map(Some)).collect();
        let offset = |g: usize| (g as f64 - 1.0) * 4.0;
        let series: Vec<Line<'_>> = groups
            .iter()
            .enumerate()
            .map(|(g, stratum)| {
                let points = timepoints
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (key, _))| {
                        report
                            .means
                            .iter()
                            .find(|m| m.scale == scale && &m.timepoint == key && &m.stratum == stratum)
                            .filter(|m| m.estimate.mean.is_some())
                            .map(|m| (x_of(i) + offset(g), m))
                    })
                    .collect();
                Line { group: g, stratum: stratum.clone(), points }
            })
            .collect();
        let label = format!(
            "{scale}: {}",
            series
                .iter()
                .map(|line| format!(
                    "{}: {}",
                    line.stratum.as_deref().unwrap_or("all"),
                    line.points.iter().map(|(_, m)| one(m.estimate.mean)).collect::<Vec<_>>().join(", ")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        view! {
            <svg class="means-plot" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
                {[0.0, 25.0, 50.0, 75.0, 100.0].into_iter().map(|g| view! {
                    <line class="grid" x1=LEFT y1=y_of(g) x2=WIDTH - RIGHT y2=y_of(g)/>
                    <text class="axis" x=LEFT - 4.0 y=y_of(g) + 3.5 text-anchor="end">{format!("{g:.0}")}</text>
                }).collect_view()}
                {timepoints.iter().enumerate().map(|(i, (key, _))| view! {
                    <text class="axis" transform=format!("translate({:.1},{:.1}) rotate(-40)", x_of(i), HEIGHT - BOTTOM + 12.0) text-anchor="end">{key.clone()}</text>
                }).collect_view()}
                {series.into_iter().map(|Line { group: g, points, .. }| {
                    let (class, dash) = LOOKS[g.min(2)];
                    let line = points.iter().map(|(x, m)| format!("{x:.1},{:.1}", y_of(m.estimate.mean.unwrap_or_default()))).collect::<Vec<_>>().join(" ");
                    view! {
                        <g class=format!("series {class}")>
                            <polyline points=line fill="none" stroke-dasharray=dash/>
                            {points.into_iter().map(|(x, m)| {
                                let mean = m.estimate.mean.unwrap_or_default();
                                view! {
                                    {m.estimate.ci_low.zip(m.estimate.ci_high).map(|(lo, hi)| view! {
                                        <line class="ci" x1=x y1=y_of(lo) x2=x y2=y_of(hi)/>
                                    })}
                                    <circle cx=x cy=y_of(mean) r=if g == 0 { "4" } else { "3" }>
                                        <title>{format!("{}: {} (n={})", m.timepoint, with_interval(&m.estimate), m.estimate.n)}</title>
                                    </circle>
                                }
                            }).collect_view()}
                        </g>
                    }
                }).collect_view()}
            </svg>
        }
    };
    view! {
        <section class="panel" aria-labelledby="means-heading">
            <h2 id="means-heading">{t(S::MeansTitle)}</h2>
            <div class="field">
                <label for="plot-scale">{t(S::Scale)}</label>
                <select id="plot-scale" prop:value=move || plot_scale.get() on:change=move |ev| plot_scale.set(event_target_value(&ev))>
                    {scales.into_iter().map(|scale| view! {
                        <option value=scale.code.clone()>{format!("{} ({})", scale.name, scale.code)}</option>
                    }).collect_view()}
                </select>
            </div>
            {plot}
            <p class="legend">
                {legend_groups.into_iter().enumerate().map(|(g, name)| view! {
                    <span class=format!("key {}", LOOKS[g.min(2)].0)>{if g == 0 { t(S::AllPatients)().to_owned() } else { name }}</span>
                }).collect_view()}
            </p>
        </section>
    }
}

#[component]
fn Completion(rows: Vec<CompletionRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">{t(S::NoData)}</p> }.into_any();
    }
    view! {
        <div class="scroll" tabindex="0">
            <table class="table numbers" id="completion">
                <thead><tr>
                    <th scope="col">{t(S::Assessment)}</th>
                    <th scope="col">{t(S::ReceivedN)}</th>
                    <th scope="col">{t(S::DenominatorFixed)}</th><th scope="col">{t(S::RateFixed)}</th>
                    <th scope="col">{t(S::DenominatorAvailable)}</th><th scope="col">{t(S::RateAvailable)}</th>
                    <th scope="col">{t(S::InWindow)}</th>
                    <th scope="col">{t(S::Pending)}</th><th scope="col">{t(S::MissedN)}</th>
                    <th scope="col">{t(S::NotScheduled)}</th>
                    <th scope="col">{t(S::OffStudyBefore)}</th><th scope="col">{t(S::DiedBefore)}</th>
                    <th scope="col">{t(S::MissingReasons)}</th>
                </tr></thead>
                <tbody>{rows.into_iter().map(|row| view! {
                    <tr data-key=row.key.to_string()>
                        <th scope="row">{row.key.to_string()}</th>
                        <td class="received">{row.received}</td>
                        <td class="fixed">{row.denominator_fixed}</td>
                        <td>{rate(row.received_rate_fixed)}</td>
                        <td class="available">{row.denominator_available}</td>
                        <td>{rate(row.received_rate)}</td>
                        <td>{row.in_window}</td>
                        <td>{row.pending}</td>
                        <td>{row.missed}</td>
                        <td>{row.not_scheduled}</td>
                        <td>{row.off_study_before}</td>
                        <td>{row.died_before}</td>
                        <td>{row.missed_reasons.iter().map(|(reason, n)| format!("{reason}: {n}")).collect::<Vec<_>>().join(", ")}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}
