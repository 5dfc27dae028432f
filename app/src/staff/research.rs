//! The researchers' view (pseudonymised): the primary comparison (baseline → end of
//! treatment), mean change at every assessment, the mean score over time by stratum, completion,
//! and the exports.

use leptos::prelude::*;
use qol_shared::analysis::{ChangeSummary, MeanEstimate};
use qol_shared::api::{AnalysisReport, CompletionRow};
use qol_shared::plot;

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
    let thresholds = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let weekly = RwSignal::new(false);
    let plot_scale = RwSignal::new("QL2".to_owned());
    let include_out_of_window = RwSignal::new(false);
    let ttd_choice = TtdChoice {
        scale: RwSignal::new("QL2".to_owned()),
        definition: RwSignal::new("first".to_owned()),
        death: RwSignal::new("event".to_owned()),
    };
    let report = LocalResource::new(move || {
        let points = points.get();
        let set = thresholds.get();
        let include = include_out_of_window.get();
        async move { api::analysis(&set, points, include).await }
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
        <p><a id="results-report" target="_blank" rel="external"
            href=move || match thresholds.get().as_str() {
                "" => "/api/v1/research/report.html".to_owned(),
                "points" => format!("/api/v1/research/report.html?thresholds={}", points.get()),
                set => format!("/api/v1/research/report.html?thresholds={set}"),
            }>{t(S::ResultsReport)}</a></p>
        <div class="inline-fields">
            <div class="field">
                <label for="thresholds">{t(S::Thresholds)}</label>
                <select id="thresholds" prop:value=move || thresholds.get() on:change=move |ev| thresholds.set(event_target_value(&ev))>
                    <option value="">{t(S::ThresholdsStudy)}</option>
                    <option value="osoba-1998">{t(S::ThresholdsOsoba)}</option>
                    <option value="giesinger-2020">{t(S::ThresholdsGiesinger)}</option>
                    <option value="study">{t(S::ThresholdsProtocol)}</option>
                    <option value="points">{t(S::ThresholdsPoints)}</option>
                </select>
            </div>
            <div class="field">
                <label for="responder-points">{t(S::ResponderPoints)}</label>
                <input id="responder-points" type="number" min="1" max="100" step="1"
                    prop:disabled=move || thresholds.get() != "points"
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
                    <Stamped report=report.clone()/>
                    <Primary report=report.clone() group/>
                    <Changes report=report.clone() group weekly/>
                    <Means report=report.clone() plot_scale weekly include=include_out_of_window/>
                    <Ttd scales=report.scales.clone() thresholds points choice=ttd_choice/>
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
                {["scores_long.csv", "scores_wide.csv", "items_long.csv", "schedule.csv", "ttd.csv", "dictionary.csv", "fhir.ndjson"].into_iter().map(|name| view! {
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

/// When the numbers were read and under which protocol, with the thresholds and their source.
#[component]
fn Stamped(report: AnalysisReport) -> impl IntoView {
    let stamp = plot::Stamp::of_analysis(&report);
    view! {
        <p class="muted" id="research-stamp">
            {t(S::Extracted)} " " {stamp.extracted_at.clone()} " · " {t(S::ProtocolWord)} " " {stamp.protocol.clone()}
        </p>
        <p class="muted" id="thresholds-used">{t(S::ThresholdsUsed)} " " {report.thresholds.name.clone()} " — " {report.thresholds.source.clone()}</p>
    }
}

/// A figure's SVG as a PNG download, drawn on a canvas at twice its size.
fn download_png(svg: String, name: String) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    // A data: URL, which the console's content security policy allows for images.
    let url = format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(&svg));
    let Ok(image) = web_sys::HtmlImageElement::new() else { return };
    let loaded = image.clone();
    let onload = wasm_bindgen::closure::Closure::once_into_js(move || {
        let (width, height) = (loaded.natural_width() * 2, loaded.natural_height() * 2);
        let canvas = document
            .create_element("canvas")
            .ok()
            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok());
        if let Some(canvas) = canvas {
            canvas.set_width(width);
            canvas.set_height(height);
            let context = canvas
                .get_context("2d")
                .ok()
                .flatten()
                .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
            if let Some(context) = context {
                let _ = context.draw_image_with_html_image_element_and_dw_and_dh(
                    &loaded,
                    0.0,
                    0.0,
                    f64::from(width),
                    f64::from(height),
                );
                if let Ok(data) = canvas.to_data_url_with_type("image/png")
                    && let Some(link) = document
                        .create_element("a")
                        .ok()
                        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
                {
                    link.set_href(&data);
                    link.set_download(&name);
                    link.click();
                }
            }
        }
    });
    image.set_onload(Some(onload.unchecked_ref()));
    image.set_src(&url);
}

#[component]
fn Means(
    report: AnalysisReport,
    plot_scale: RwSignal<String>,
    weekly: RwSignal<bool>,
    include: RwSignal<bool>,
) -> impl IntoView {
    let scales = report.scales.clone();
    let figure = move || {
        let scale = plot_scale.get();
        let weekly = weekly.get();
        let svg = plot::means_figure(&report, &scale, weekly).unwrap_or_default();
        let png = svg.clone();
        let name = format!("means-{scale}.png");
        view! {
            <figure class="figure-wrap" id="means-figure" inner_html=svg></figure>
            <p class="downloads">
                <a id="means-svg" href=format!("/api/v1/research/means.svg?scale={scale}&weekly={weekly}&include_out_of_window={}", include.get()) download=format!("means-{scale}.svg") rel="external">{t(S::DownloadSvg)}</a>
                " · "
                <button type="button" class="link" id="means-png" on:click=move |_| download_png(png.clone(), name.clone())>{t(S::DownloadPng)}</button>
            </p>
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
            {figure}
        </section>
    }
}

fn weeks(days: Option<f64>) -> String {
    days.map_or_else(|| "–".to_owned(), |d| format!("{:.1}", d / 7.0))
}

/// What the time-to-deterioration panel shows; kept by the screen, so reloading the analysis
/// (another threshold, the out-of-window switch) keeps the choice.
#[derive(Clone, Copy)]
struct TtdChoice {
    scale: RwSignal<String>,
    definition: RwSignal<String>,
    death: RwSignal<String>,
}

/// Time to deterioration: the curves side by side, the medians, and the numbers at risk.
#[component]
fn Ttd(
    scales: Vec<qol_shared::api::ScaleInfo>,
    thresholds: RwSignal<String>,
    points: RwSignal<f64>,
    choice: TtdChoice,
) -> impl IntoView {
    let TtdChoice { scale, definition, death } = choice;
    let query = move || {
        api::ttd_query(&scale.get(), &definition.get(), &death.get(), &thresholds.get(), points.get())
    };
    let report = LocalResource::new(move || {
        let query = query();
        async move { api::ttd(&query).await }
    });
    let body = move || {
        report.get().map(|result| match result {
            Err(failure) => view! { <Failed failure/> }.into_any(),
            Ok(report) => {
                let svg = plot::ttd_figure(&report);
                let png = svg.clone();
                let name = format!("ttd-{}-{}-death-{}.png", report.scale, report.definition.as_str(), report.death.as_str());
                let times = report.groups.first().map(|g| g.at_risk.clone()).unwrap_or_default();
                let group_name = |stratum: &Option<String>| stratum.clone();
                view! {
                    <p class="muted" id="ttd-threshold">{t(S::ThresholdsUsed)} " " {report.threshold.clone()} " — " {report.thresholds.source.clone()}</p>
                    <figure class="figure-wrap" id="ttd-figure" inner_html=svg></figure>
                    <p class="downloads">
                        <a id="ttd-svg" href=format!("/api/v1/research/ttd.svg?{}", query()) download=name.replace(".png", ".svg") rel="external">{t(S::DownloadSvg)}</a>
                        " · "
                        <button type="button" class="link" id="ttd-png" on:click=move |_| download_png(png.clone(), name.clone())>{t(S::DownloadPng)}</button>
                    </p>
                    <div class="scroll" tabindex="0">
                    <table class="table numbers" id="ttd-medians">
                        <thead><tr>
                            <th scope="col">{t(S::GroupCol)}</th><th scope="col">{t(S::Included)}</th><th scope="col">{t(S::LeftOut)}</th>
                            <th scope="col">{t(S::TtdEvents)}</th><th scope="col">{t(S::OfWhichDeaths)}</th><th scope="col">{t(S::MedianWeeks)}</th>
                        </tr></thead>
                        <tbody>{report.groups.iter().map(|g| {
                            let left: usize = g.excluded.values().sum();
                            let median = match g.median_days {
                                Some(_) => format!("{} [{}, {}]", weeks(g.median_days), weeks(g.median_lower), weeks(g.median_upper)),
                                None => t(S::NotReached)().to_owned(),
                            };
                            view! {
                                <tr>
                                    <th scope="row">{group_name(&g.stratum).unwrap_or_else(|| t(S::AllPatients)().to_owned())}</th>
                                    <td>{g.included}</td><td>{left}</td><td>{g.events}</td><td>{g.deaths}</td><td>{median}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    </div>
                    <h3>{t(S::AtRiskTitle)}</h3>
                    <div class="scroll" tabindex="0">
                    <table class="table numbers" id="ttd-at-risk">
                        <thead><tr>
                            <th scope="col">{t(S::GroupCol)}</th>
                            {times.iter().map(|at| view! { <th scope="col">{format!("{} (wk {:.0})", at.label, at.day as f64 / 7.0)}</th> }).collect_view()}
                        </tr></thead>
                        <tbody>{report.groups.iter().map(|g| view! {
                            <tr>
                                <th scope="row">{group_name(&g.stratum).unwrap_or_else(|| t(S::AllPatients)().to_owned())}</th>
                                {g.at_risk.iter().map(|at| view! { <td>{at.at_risk}</td> }).collect_view()}
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                    </div>
                }.into_any()
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="ttd-heading">
            <h2 id="ttd-heading">{t(S::TtdTitle)}</h2>
            <p class="muted">{t(S::TtdLead)}</p>
            <div class="inline-fields">
                <div class="field">
                    <label for="ttd-scale">{t(S::Scale)}</label>
                    <select id="ttd-scale" prop:value=move || scale.get() on:change=move |ev| scale.set(event_target_value(&ev))>
                        {scales.into_iter().map(|s| view! { <option value=s.code.clone()>{format!("{} ({})", s.name, s.code)}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="ttd-definition">{t(S::Definition)}</label>
                    <select id="ttd-definition" prop:value=move || definition.get() on:change=move |ev| definition.set(event_target_value(&ev))>
                        <option value="first">{t(S::DefinitionFirst)}</option>
                        <option value="confirmed">{t(S::DefinitionConfirmed)}</option>
                        <option value="definitive">{t(S::DefinitionDefinitive)}</option>
                    </select>
                </div>
                <div class="field">
                    <label for="ttd-death">{t(S::Death)}</label>
                    <select id="ttd-death" prop:value=move || death.get() on:change=move |ev| death.set(event_target_value(&ev))>
                        <option value="event">{t(S::DeathEvent)}</option>
                        <option value="censor">{t(S::DeathCensor)}</option>
                    </select>
                </div>
            </div>
            <Suspense fallback=|| ()>{body}</Suspense>
        </section>
    }
}

/// A completion row's missing-reason code in the console's words.
fn reason_words(code: &str) -> impl Fn() -> &'static str + Copy {
    match qol_shared::api::MissedReason::parse(code) {
        Some(reason) => t(super::text::missed_reason(reason)),
        None => t(S::AwaitingReason),
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
                        <th scope="row">{plot::timepoint_name(row.key.as_str(), &row.label)}</th>
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
                        <td>{row.missed_reasons.iter().map(|(reason, n)| format!("{}: {n}", reason_words(reason)())).collect::<Vec<_>>().join(", ")}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}
