//! A patient's scores over time: one small SVG plot per scale, with the baseline (dashed) and the
//! threshold of clinical importance (dotted) drawn. The geometry is plain functions.

use leptos::prelude::*;
use qol_shared::alerts::GIESINGER_THRESHOLDS;
use qol_shared::api::SubmissionView;
use qol_shared::instrument::{InstrumentId, ScaleKind};

/// One scale's scores, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: ScaleKind,
    /// Days since the first submission, the score, and the assessment it belongs to.
    pub points: Vec<(f64, f64, String)>,
    pub baseline: Option<f64>,
    pub threshold: Option<f64>,
}

fn when(submission: &SubmissionView) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let at = submission.completed_at.or(submission.received_at)?;
    Some(at.instant().fixed_offset())
}

/// Every scale with at least one score, in the instruments' order.
pub fn series(submissions: &[SubmissionView]) -> Vec<Series> {
    let mut dated: Vec<(chrono::DateTime<chrono::FixedOffset>, &SubmissionView)> =
        submissions.iter().filter_map(|s| when(s).map(|at| (at, s))).collect();
    dated.sort_by_key(|(at, _)| *at);
    let Some(first) = dated.first().map(|(at, _)| *at) else { return Vec::new() };
    let baseline = dated.iter().find(|(_, s)| s.assessment_key == "baseline").map(|(_, s)| *s);
    let mut all = Vec::new();
    for id in [InstrumentId::QlqC30, InstrumentId::QlqCx24] {
        for scale in id.instrument().scales {
            let score_of = |s: &SubmissionView| s.scores.iter().find_map(|scores| scores.score(scale.code));
            let points: Vec<(f64, f64, String)> = dated
                .iter()
                .filter_map(|(at, s)| {
                    let days = (*at - first).num_minutes() as f64 / (24.0 * 60.0);
                    score_of(s).map(|value| (days, value, s.assessment_key.to_string()))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            all.push(Series {
                code: scale.code,
                name: scale.name,
                kind: scale.kind,
                points,
                baseline: baseline.and_then(score_of),
                threshold: GIESINGER_THRESHOLDS.iter().find(|t| t.scale == scale.code).map(|t| t.value),
            });
        }
    }
    all
}

const WIDTH: f64 = 300.0;
const HEIGHT: f64 = 140.0;
const LEFT: f64 = 30.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 12.0;

/// The vertical position of a score (0–100, 100 at the top).
pub fn y_of(score: f64) -> f64 {
    TOP + (100.0 - score.clamp(0.0, 100.0)) / 100.0 * (HEIGHT - TOP - BOTTOM)
}

/// The horizontal positions of days; a single point sits in the middle.
pub fn x_of(days: &[f64]) -> Vec<f64> {
    let (min, max) =
        days.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), d| (lo.min(*d), hi.max(*d)));
    let span = max - min;
    days.iter()
        .map(|d| {
            if span > 0.0 {
                LEFT + (d - min) / span * (WIDTH - LEFT - RIGHT)
            } else {
                (LEFT + WIDTH - RIGHT) / 2.0
            }
        })
        .collect()
}

#[component]
pub fn Plot(series: Series) -> impl IntoView {
    let days: Vec<f64> = series.points.iter().map(|(d, _, _)| *d).collect();
    let xs = x_of(&days);
    let coordinates: Vec<(f64, f64, f64, String)> = xs
        .iter()
        .zip(&series.points)
        .map(|(x, (_, value, key))| (*x, y_of(*value), *value, key.clone()))
        .collect();
    let polyline =
        coordinates.iter().map(|(x, y, _, _)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
    let values = series.points.iter().map(|(_, v, _)| format!("{v:.0}")).collect::<Vec<_>>().join(", ");
    let label = format!("{} ({}): {values}", series.name, series.code);
    let direction = match series.kind {
        ScaleKind::Symptom => "↑ worse",
        ScaleKind::Functional | ScaleKind::Global => "↑ better",
    };
    let x_end = WIDTH - RIGHT;
    view! {
        <figure class="plot" data-scale=series.code>
            <figcaption>{series.name} " (" {series.code} ") " <span class="muted">{direction}</span></figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
                {[0.0, 50.0, 100.0].into_iter().map(|g| view! {
                    <line class="grid" x1=LEFT y1=y_of(g) x2=x_end y2=y_of(g)/>
                    <text class="axis" x=LEFT - 4.0 y=y_of(g) + 3.5 text-anchor="end">{format!("{g:.0}")}</text>
                }).collect_view()}
                {series.baseline.map(|b| view! {
                    <line class="baseline" x1=LEFT y1=y_of(b) x2=x_end y2=y_of(b) stroke-dasharray="6 4"/>
                })}
                {series.threshold.map(|t| view! {
                    <line class="threshold" x1=LEFT y1=y_of(t) x2=x_end y2=y_of(t) stroke-dasharray="2 3"/>
                })}
                <polyline class="series" points=polyline fill="none"/>
                {coordinates.into_iter().map(|(x, y, value, key)| view! {
                    <circle class="point" cx=x cy=y r="3.5"><title>{format!("{key}: {value:.1}")}</title></circle>
                }).collect_view()}
            </svg>
        </figure>
    }
}
