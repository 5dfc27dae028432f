//! The QoL results report (`GET /api/v1/research/report.html`, issue 19) and the research
//! figures as files: one HTML page a statistician can print to PDF from the browser, built from
//! the same reports the API gives (analysis, completion, time to deterioration), with human
//! labels, the thresholds and their sources, and the extraction stamp. Pure rendering: the
//! numbers come from `clinic::research`, the figures from `qol_shared::plot`.

use std::fmt::Write;

use qol_shared::analysis::ChangeSummary;
use qol_shared::api::{AnalysisReport, CompletionRow, ScaleInfo, TtdReport, missed_reason_words};
use qol_shared::plot::{Stamp, escape, means_figure, timepoint_name, ttd_figure};
use qol_shared::ttd::{DeathRule, Definition};

use crate::clinic::research::scales;

/// The scale the report draws (global health status / QoL).
const FIGURE_SCALE: &str = "QL2";

/// What the report computes time to deterioration for: every scale, by each definition, with
/// death as an event and as censoring.
pub fn ttd_asked() -> Vec<(ScaleInfo, Definition, DeathRule)> {
    let mut out = Vec::new();
    for scale in scales() {
        for definition in Definition::ALL {
            for death in DeathRule::ALL {
                out.push((scale.clone(), definition, death));
            }
        }
    }
    out
}

fn one(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.0} %", v * 100.0))
}

fn weeks(days: Option<f64>) -> String {
    days.map_or_else(|| "NR".to_owned(), |d| format!("{:.1}", d / 7.0))
}

fn change(c: &ChangeSummary) -> String {
    match (c.change.mean, c.change.ci_low, c.change.ci_high) {
        (Some(mean), Some(low), Some(high)) => format!("{mean:+.1} [{low:+.1}, {high:+.1}]"),
        (Some(mean), _, _) => format!("{mean:+.1}"),
        _ => "–".to_owned(),
    }
}

const STYLE: &str = "body{font-family:sans-serif;color:#111;max-width:1100px;margin:1.5rem auto;padding:0 1rem;line-height:1.4}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}th,td{border:1px solid #bbb;padding:.25rem .45rem;text-align:right}\
th[scope=row],thead th{text-align:left;background:#f2f4f7}td{white-space:nowrap}td.words{text-align:left;white-space:normal}.muted{color:#444;font-size:.85rem}\
figure{margin:1rem 0}svg{max-width:100%;height:auto}@media print{h2{break-before:auto}figure,table{break-inside:avoid}}";

/// The report's content security policy: nothing but its own style sheet (by hash) and inline
/// SVG; no script at all.
pub fn content_security_policy() -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// The whole report.
pub fn html(analysis: &AnalysisReport, completion: &[CompletionRow], ttd: &[TtdReport]) -> String {
    let stamp = Stamp::of_analysis(analysis);
    let name_of = |code: &str| {
        analysis.scales.iter().find(|s| s.code == code).map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let label_of = |key: &str| {
        analysis.timepoints.iter().find(|t| t.key == key).map_or_else(|| key.to_owned(), |t| t.label.clone())
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>QoL results: {name}</title><style>{STYLE}</style></head><body><main>\
         <h1>Quality-of-life results: {name}</h1>\
         <p id=\"stamp\">Data extracted {at} · protocol {name} version {version} · scoring algorithm {algorithm} · forms completed outside their window are left out ({left}) · completion modes: {modes}</p>",
        name = escape(&analysis.protocol_name),
        at = escape(&stamp.extracted_at),
        version = analysis.protocol_version,
        algorithm = escape(&analysis.algorithm_version),
        left = analysis.out_of_window.len(),
        modes = escape(
            &analysis.modes.iter().map(|m| m.as_str().replace('_', " ")).collect::<Vec<_>>().join(", ")
        ),
    );

    // 1. Flow (CONSORT-PRO): who was asked, who answered, with both SISAQOL denominators.
    let enrolled = ttd.first().and_then(|t| t.groups.first()).map_or(0, |g| g.patients);
    let baseline = completion.iter().find(|r| r.key == analysis.baseline.as_str());
    let _ = write!(
        h,
        "<h2 id=\"flow\">Flow of questionnaires</h2><p>Enrolled: <strong>{enrolled}</strong>. Baseline completed in its window: <strong>{}</strong>.</p>\
         <p class=\"muted\">Expected (fixed): patients alive and on study who reached the assessment's day. Available: windows opened and closed (Coens et al. 2020, SISAQOL).</p>\
         <table id=\"flow-table\"><thead><tr><th scope=\"col\">Assessment</th><th scope=\"col\">Received</th><th scope=\"col\">Expected (fixed)</th><th scope=\"col\">Rate</th><th scope=\"col\">Available</th><th scope=\"col\">Rate</th><th scope=\"col\">In window</th><th scope=\"col\">Still open</th><th scope=\"col\">Missed</th><th scope=\"col\">Off study before</th><th scope=\"col\">Died before</th><th scope=\"col\">Why missed</th></tr></thead><tbody>",
        baseline.map_or(0, |r| r.in_window)
    );
    for row in completion {
        let reasons = row
            .missed_reasons
            .iter()
            .map(|(code, n)| format!("{}: {n}", missed_reason_words(code)))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"words\">{}</td></tr>",
            escape(&timepoint_name(row.key.as_str(), &row.label)),
            row.received,
            row.denominator_fixed,
            percent(row.received_rate_fixed),
            row.denominator_available,
            percent(row.received_rate),
            row.in_window,
            row.pending,
            row.missed,
            row.off_study_before,
            row.died_before,
            escape(&reasons)
        );
    }
    h.push_str("</tbody></table>");

    // 2. The primary comparison and responders.
    let primary_label = label_of(&analysis.primary);
    let _ = write!(
        h,
        "<h2 id=\"primary\">Baseline to {p}: mean change and responders (all patients)</h2>\
         <p class=\"muted\">Paired patients; mean change with its 95 % t interval; SRM = mean change / SD of change. Responders by the thresholds below ({set}).</p>\
         <table id=\"primary-table\"><thead><tr><th scope=\"col\">Scale</th><th scope=\"col\">n paired</th><th scope=\"col\">Baseline mean</th><th scope=\"col\">{p} mean</th><th scope=\"col\">Change [95 % CI]</th><th scope=\"col\">SRM</th><th scope=\"col\">Improved</th><th scope=\"col\">Stable</th><th scope=\"col\">Deteriorated</th></tr></thead><tbody>",
        p = escape(&primary_label),
        set = escape(&analysis.thresholds.name),
    );
    for c in analysis.changes.iter().filter(|c| c.timepoint == analysis.primary && c.stratum.is_none()) {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{} ({})</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{} ({})</td><td>{} ({})</td></tr>",
            escape(&name_of(&c.scale)),
            escape(&c.scale),
            c.n_paired,
            one(c.baseline.mean),
            one(c.at_timepoint.mean),
            change(c),
            c.srm.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}")),
            c.improved,
            percent(c.improved_proportion),
            c.stable,
            percent(c.stable_proportion),
            c.deteriorated,
            percent(c.deteriorated_proportion),
        );
    }
    h.push_str("</tbody></table>");
    if let Some(figure) = means_figure(analysis, FIGURE_SCALE, false) {
        let _ = write!(
            h,
            "<figure>{figure}<figcaption class=\"muted\">Mean {} over time by group.</figcaption></figure>",
            escape(&name_of(FIGURE_SCALE))
        );
    }

    // 3. Time to deterioration.
    let _ = write!(
        h,
        "<h2 id=\"ttd\">Time to deterioration (all patients)</h2>\
         <p class=\"muted\">Kaplan–Meier medians in weeks from cycle 1 day 1 with 95 % intervals (Brookmeyer–Crowley, log-log); NR: not reached. Reference: baseline. First: {}; confirmed: {}; definitive: {}. Each with death as an event and as censoring.</p>\
         <table id=\"ttd-table\"><thead><tr><th scope=\"col\" rowspan=\"2\">Scale</th><th scope=\"col\" rowspan=\"2\">Included (left out)</th>",
        Definition::First.describe(),
        Definition::Confirmed.describe(),
        Definition::Definitive.describe()
    );
    for definition in Definition::ALL {
        let _ = write!(h, "<th scope=\"colgroup\" colspan=\"2\">{}</th>", definition.as_str());
    }
    h.push_str("</tr><tr>");
    for _ in Definition::ALL {
        h.push_str("<th scope=\"col\">death = event</th><th scope=\"col\">death censored</th>");
    }
    h.push_str("</tr></thead><tbody>");
    for scale in &analysis.scales {
        let of = |definition: Definition, death: DeathRule| {
            ttd.iter()
                .find(|t| t.scale == scale.code && t.definition == definition && t.death == death)
                .and_then(|t| t.groups.first())
        };
        let Some(first) = of(Definition::First, DeathRule::Event) else { continue };
        let left_out: usize = first.excluded.values().sum();
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{} ({})</th><td>{} ({left_out})</td>",
            escape(&scale.name),
            escape(&scale.code),
            first.included
        );
        for definition in Definition::ALL {
            for death in DeathRule::ALL {
                let cell = of(definition, death).map_or_else(
                    || "–".to_owned(),
                    |g| {
                        if g.included == 0 {
                            "–".to_owned()
                        } else {
                            format!(
                                "{} [{}, {}] ({} ev.)",
                                weeks(g.median_days),
                                weeks(g.median_lower),
                                weeks(g.median_upper),
                                g.events
                            )
                        }
                    },
                );
                let _ = write!(h, "<td>{cell}</td>");
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    if let Some(report) = ttd
        .iter()
        .find(|t| t.scale == FIGURE_SCALE && t.definition == Definition::First && t.death == DeathRule::Event)
    {
        let reasons: Vec<String> = report
            .groups
            .first()
            .map(|g| g.excluded.iter().map(|(why, n)| format!("{}: {n}", exclusion_words(why))).collect())
            .unwrap_or_default();
        let _ = write!(
            h,
            "<figure>{}<figcaption class=\"muted\">Time to first deterioration of {} (death as an event). Left out: {}.</figcaption></figure>",
            ttd_figure(report),
            escape(&report.scale_name),
            if reasons.is_empty() { "none".to_owned() } else { escape(&reasons.join("; ")) }
        );
    }

    // 4. Thresholds and their sources.
    let _ = write!(
        h,
        "<h2 id=\"thresholds\">Thresholds used</h2><p>Set <strong>{}</strong> ({}): {}.</p><table id=\"thresholds-table\"><thead><tr><th scope=\"col\">Scale</th><th scope=\"col\">Threshold</th></tr></thead><tbody>",
        escape(&analysis.thresholds.name),
        match analysis.thresholds.kind {
            qol_shared::thresholds::ThresholdKind::Change => "change from baseline",
            qol_shared::thresholds::ThresholdKind::Level => "level passed since baseline",
        },
        escape(&analysis.thresholds.source)
    );
    for scale in &analysis.scales {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{} ({})</th><td>{}</td></tr>",
            escape(&scale.name),
            escape(&scale.code),
            escape(&analysis.thresholds.describe(&scale.code))
        );
    }
    h.push_str("</tbody></table>");

    // 5. Missing data.
    let missed: usize = completion.iter().map(|r| r.missed).sum();
    let mut reasons: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for row in completion {
        for (code, n) in &row.missed_reasons {
            *reasons.entry(missed_reason_words(code)).or_default() += n;
        }
    }
    let _ = write!(
        h,
        "<h2 id=\"missing\">Missing data</h2><ul><li>Forms missed: {missed}{}</li><li>Forms completed outside their window, left out of every number above: {}</li><li>Forms left out by completion mode: {}</li></ul>",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                escape(&reasons.iter().map(|(why, n)| format!("{why}: {n}")).collect::<Vec<_>>().join("; "))
            )
        },
        analysis.out_of_window.len(),
        analysis.left_out_by_mode
    );
    let _ = write!(
        h,
        "<p class=\"muted\">{}</p></main></body></html>",
        escape(&format!("Data extracted {} · protocol {}", stamp.extracted_at, stamp.protocol))
    );
    h
}

/// A TTD exclusion code in words.
pub fn exclusion_words(code: &str) -> String {
    qol_shared::ttd::Exclusion::ALL
        .into_iter()
        .find(|e| e.as_str() == code)
        .map_or_else(|| code.to_owned(), |e| e.describe().to_owned())
}
