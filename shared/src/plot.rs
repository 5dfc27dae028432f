//! The research figures as SVG text (issue 19), drawn once here for the research screen, the
//! downloadable files and the results report: the mean score over time, and time to
//! deterioration. Every figure has a real time axis (study weeks from cycle 1 day 1), one panel
//! per group side by side, the numbers under it (n per timepoint, or at risk), intervals clipped
//! to the scale's 0–100 with the clipping marked, and a stamp: when the data were extracted and
//! under which protocol version.

use std::fmt::Write;

use crate::analysis::TimepointMean;
use crate::ttd::TtdGroup;

const PANEL: f64 = 330.0;
const GAP: f64 = 24.0;
const LEFT: f64 = 52.0;
const TOP: f64 = 52.0;
const PLOT_H: f64 = 190.0;
/// Below the plot: the axis, its title, then the numbers (one line per row).
const AXIS_H: f64 = 42.0;
const ROW_H: f64 = 15.0;

/// What every figure is stamped with.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    /// "2026-12-03 06:40 UTC".
    pub extracted_at: String,
    /// "IVB-QOL v2".
    pub protocol: String,
}

impl Stamp {
    /// The stamp of data read at `extracted_at`, shown in the study's time zone (an IANA name),
    /// under protocol `name` version `version`.
    pub fn new(extracted_at: &crate::Timestamp, time_zone: &str, name: &str, version: i64) -> Stamp {
        let instant = extracted_at.instant();
        let extracted_at = match time_zone.parse::<chrono_tz::Tz>() {
            Ok(zone) => format!("{} {time_zone}", instant.with_timezone(&zone).format("%Y-%m-%d %H:%M")),
            Err(_) => format!("{} UTC", instant.format("%Y-%m-%d %H:%M")),
        };
        Stamp { extracted_at, protocol: format!("{name} v{version}") }
    }

    fn line(&self) -> String {
        format!("Data extracted {} · protocol {} · qol", self.extracted_at, self.protocol)
    }
}

/// Text made safe inside SVG (and HTML).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Stamp {
    /// The stamp of an analysis report.
    pub fn of_analysis(report: &crate::api::AnalysisReport) -> Stamp {
        Stamp::new(&report.extracted_at, &report.time_zone, &report.protocol_name, report.protocol_version)
    }
}

/// The means figure of `scale` from an analysis report (the weekly forms too when `weekly`), or
/// none for a scale qol does not score: what the research screen shows, `means.svg` and the
/// results report draw.
pub fn means_figure(report: &crate::api::AnalysisReport, scale: &str, weekly: bool) -> Option<String> {
    let info = report.scales.iter().find(|s| s.code == scale)?;
    let points: Vec<MeanPoint> = report
        .timepoints
        .iter()
        .filter(|t| weekly || !t.key.as_str().starts_with("weekly-"))
        .filter_map(|t| {
            Some(MeanPoint {
                key: t.key.to_string(),
                label: t.label.clone(),
                day: t.median_target_day? as f64,
            })
        })
        .collect();
    let groups: Vec<Option<String>> =
        std::iter::once(None).chain(report.strata.iter().cloned().map(Some)).collect();
    Some(means_svg(&info.code, &info.name, &groups, &points, &report.means, &Stamp::of_analysis(report)))
}

/// The time-to-deterioration figure of a TTD report (the screen, `ttd.svg`, the results report).
pub fn ttd_figure(report: &crate::api::TtdReport) -> String {
    ttd_svg(
        &report.scale,
        &report.scale_name,
        report.definition.as_str(),
        &report.groups,
        &Stamp::new(&report.extracted_at, &report.time_zone, &report.protocol_name, report.protocol_version),
    )
}

/// An assessment's name in a table: its label, with the repeat's number for repeats
/// ("Weekly during therapy (3)" for `weekly-03`).
pub fn timepoint_name(key: &str, label: &str) -> String {
    match key.rsplit_once('-') {
        Some((_, number)) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
            let number = number.trim_start_matches('0');
            format!("{label} ({})", if number.is_empty() { "0" } else { number })
        }
        _ => label.to_owned(),
    }
}

/// A group's name for people.
pub fn group_name(stratum: Option<&str>) -> String {
    stratum.map_or_else(|| "All patients".to_owned(), |s| format!("Stratum {s}"))
}

/// The x axis: study days mapped to a panel, ticks every few weeks.
struct Axis {
    from: f64,
    to: f64,
}

impl Axis {
    fn new(days: impl Iterator<Item = f64>) -> Axis {
        let (mut from, mut to) = (0.0_f64, 7.0_f64);
        for day in days {
            from = from.min(day);
            to = to.max(day);
        }
        // Whole weeks, with a little room either side.
        Axis { from: (from / 7.0).floor() * 7.0, to: (to / 7.0).ceil() * 7.0 + 3.0 }
    }

    fn x(&self, panel: usize, day: f64) -> f64 {
        let left = LEFT + panel as f64 * (PANEL + GAP);
        left + (day - self.from) / (self.to - self.from) * PANEL
    }

    /// Tick days: every 1, 2, 4, 8 … weeks, at most 8 ticks.
    fn ticks(&self) -> Vec<f64> {
        let weeks = (self.to - self.from) / 7.0;
        let mut step = 1.0;
        while weeks / step > 8.0 {
            step *= 2.0;
        }
        let first = (self.from / 7.0 / step).ceil() * step;
        let mut out = Vec::new();
        let mut week = first;
        while week * 7.0 <= self.to {
            out.push(week * 7.0);
            week += step;
        }
        out
    }
}

fn y_of(value: f64) -> f64 {
    TOP + (100.0 - value.clamp(0.0, 100.0)) / 100.0 * PLOT_H
}

fn frame(svg: &mut String, axis: &Axis, panel: usize, title: &str, subtitle: &str, y_title: &str) {
    let left = axis.x(panel, axis.from);
    let right = axis.x(panel, axis.to);
    let _ = write!(
        svg,
        r#"<text class="panel-title" x="{left:.1}" y="{:.1}" font-size="13" font-weight="bold">{}</text><text x="{left:.1}" y="{:.1}" font-size="11">{}</text>"#,
        TOP - 24.0,
        escape(title),
        TOP - 9.0,
        escape(subtitle)
    );
    for g in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = y_of(g);
        let _ = write!(
            svg,
            r##"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#d0d4da" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{g:.0}</text>"##,
            left - 4.0,
            y + 4.0
        );
    }
    let bottom = y_of(0.0);
    for day in axis.ticks() {
        let x = axis.x(panel, day);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333" stroke-width="1"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 16.0,
            day / 7.0 + 0.0
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{left:.1}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" stroke="#333" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">Weeks from cycle 1 day 1</text>"##,
        (left + right) / 2.0,
        bottom + 31.0
    );
    if panel == 0 {
        let _ = write!(
            svg,
            r#"<text font-size="11" text-anchor="middle" transform="translate(14,{:.1}) rotate(-90)">{}</text>"#,
            TOP + PLOT_H / 2.0,
            escape(y_title)
        );
    }
}

fn open(svg: &mut String, panels: usize, rows: usize, label: &str) -> (f64, f64) {
    let width = LEFT + panels.max(1) as f64 * (PANEL + GAP);
    let height = TOP + PLOT_H + AXIS_H + rows as f64 * ROW_H + 30.0;
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="figure" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="{}" font-family="sans-serif" fill="#111"><rect width="100%" height="100%" fill="#fff"/>"##,
        escape(label)
    );
    (width, height)
}

fn close(svg: &mut String, stamp: &Stamp, height: f64, note: Option<&str>) {
    let mut text = stamp.line();
    if let Some(note) = note {
        text = format!("{note} · {text}");
    }
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="{:.1}" font-size="10" fill="#444">{}</text></svg>"##,
        height - 8.0,
        escape(&text)
    );
}

/// One timepoint of the means figure.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanPoint {
    pub key: String,
    pub label: String,
    pub day: f64,
}

/// The mean score of one scale over time, a panel per group (all patients, then each stratum):
/// the mean with its 95 % interval at each timepoint's usual day, n under each.
pub fn means_svg(
    scale: &str,
    scale_name: &str,
    groups: &[Option<String>],
    timepoints: &[MeanPoint],
    means: &[TimepointMean],
    stamp: &Stamp,
) -> String {
    // Only timepoints some group has a score at: follow-ups nobody has reached yet would squeeze
    // the data into a corner.
    let timepoints: Vec<&MeanPoint> = timepoints
        .iter()
        .filter(|t| means.iter().any(|m| m.scale == scale && m.timepoint == t.key && m.estimate.n > 0))
        .collect();
    let axis = Axis::new(timepoints.iter().map(|t| t.day));
    let mut svg = String::new();
    let label = format!("Mean {scale_name} ({scale}) over time, with 95 % intervals, by group");
    let (_, height) = open(&mut svg, groups.len(), 1, &label);
    let mut clipped_any = false;
    for (panel, group) in groups.iter().enumerate() {
        frame(&mut svg, &axis, panel, &group_name(group.as_deref()), "", &format!("{scale} score (0–100)"));
        let points: Vec<(f64, &TimepointMean, &MeanPoint)> = timepoints
            .iter()
            .copied()
            .filter_map(|t| {
                means
                    .iter()
                    .find(|m| m.scale == scale && m.timepoint == t.key && &m.stratum == group)
                    .map(|m| (axis.x(panel, t.day), m, t))
            })
            .collect();
        let line: Vec<String> = points
            .iter()
            .filter_map(|(x, m, _)| m.estimate.mean.map(|mean| format!("{x:.1},{:.1}", y_of(mean))))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#1f4e8c" stroke-width="2"/>"##,
            line.join(" ")
        );
        let n_y = y_of(0.0) + AXIS_H + ROW_H - 2.0;
        if panel == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{n_y:.1}" font-size="10" text-anchor="end">n</text>"#,
                axis.x(panel, axis.from) - 8.0
            );
        }
        for (x, m, t) in &points {
            let _ = write!(
                svg,
                r#"<text class="n" x="{x:.1}" y="{n_y:.1}" font-size="10" text-anchor="middle">{}</text>"#,
                m.estimate.n
            );
            let Some(mean) = m.estimate.mean else { continue };
            if let (Some(low), Some(high)) = (m.estimate.ci_low, m.estimate.ci_high) {
                let _ = write!(
                    svg,
                    r##"<line class="ci" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#1f4e8c" stroke-width="1.5"/>"##,
                    y_of(low),
                    y_of(high)
                );
                // An interval past the scale's ends is cut there and marked with an arrowhead.
                if high > 100.0 {
                    clipped_any = true;
                    let y = y_of(100.0);
                    let _ = write!(
                        svg,
                        r##"<path class="clipped" d="M{:.1},{:.1} L{x:.1},{:.1} L{:.1},{:.1} Z" fill="#b3261e"><title>interval clipped at 100 (upper limit {high:.1})</title></path>"##,
                        x - 4.0,
                        y + 6.0,
                        y - 1.0,
                        x + 4.0,
                        y + 6.0
                    );
                }
                if low < 0.0 {
                    clipped_any = true;
                    let y = y_of(0.0);
                    let _ = write!(
                        svg,
                        r##"<path class="clipped" d="M{:.1},{:.1} L{x:.1},{:.1} L{:.1},{:.1} Z" fill="#b3261e"><title>interval clipped at 0 (lower limit {low:.1})</title></path>"##,
                        x - 4.0,
                        y - 6.0,
                        y + 1.0,
                        x + 4.0,
                        y - 6.0
                    );
                }
            }
            let _ = write!(
                svg,
                r##"<circle cx="{x:.1}" cy="{:.1}" r="3.5" fill="#1f4e8c"><title>{}: {mean:.1} (n={})</title></circle>"##,
                y_of(mean),
                escape(&t.label),
                m.estimate.n
            );
        }
    }
    let note = clipped_any.then_some("▲ an interval past 0 or 100 is cut there");
    close(&mut svg, stamp, height, note);
    svg
}

/// Time to deterioration: a Kaplan–Meier panel per group with its 95 % interval (dashed), the
/// censored times marked, the median line, and the numbers at risk under each.
pub fn ttd_svg(
    scale: &str,
    scale_name: &str,
    definition: &str,
    groups: &[TtdGroup],
    stamp: &Stamp,
) -> String {
    // The curves' own times: numbers at risk are shown only where the curves reach.
    let axis = Axis::new(groups.iter().flat_map(|g| g.curve.iter().map(|s| s.day)));
    let mut svg = String::new();
    let label = format!(
        "Time to {definition} deterioration of {scale_name} ({scale}): Kaplan–Meier estimates with 95 % intervals, by group"
    );
    let (_, height) = open(&mut svg, groups.len(), 2, &label);
    for (panel, group) in groups.iter().enumerate() {
        let subtitle = format!(
            "n={}, {} event{}, median {}",
            group.included,
            group.events,
            if group.events == 1 { "" } else { "s" },
            group.median_days.map_or_else(|| "not reached".to_owned(), |d| format!("{:.1} weeks", d / 7.0))
        );
        frame(
            &mut svg,
            &axis,
            panel,
            &group_name(group.stratum.as_deref()),
            &subtitle,
            "Without deterioration (%)",
        );
        let start = axis.x(panel, 0.0);
        // The half-way line the median is read at.
        let _ = write!(
            svg,
            r##"<line x1="{start:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#999" stroke-dasharray="2 3"/>"##,
            axis.x(panel, axis.to),
            y = y_of(50.0)
        );
        let step_path = |value: &dyn Fn(&crate::ttd::CurveStep) -> Option<f64>| {
            let mut d = format!("M{start:.1},{:.1}", y_of(100.0));
            for step in &group.curve {
                let x = axis.x(panel, step.day);
                let Some(v) = value(step) else { continue };
                let v = v * 100.0;
                let _ = write!(d, " H{x:.1} V{:.1}", y_of(v));
            }
            let _ = write!(d, " H{:.1}", axis.x(panel, group.curve.last().map_or(0.0, |s| s.day)));
            d
        };
        let _ = write!(
            svg,
            r##"<path class="ci-lower" d="{}" fill="none" stroke="#1f4e8c" stroke-width="1" stroke-dasharray="4 3"/><path class="ci-upper" d="{}" fill="none" stroke="#1f4e8c" stroke-width="1" stroke-dasharray="4 3"/>"##,
            step_path(&|s| s.lower.or(if s.survival <= 0.0 { None } else { Some(s.survival) })),
            step_path(&|s| s.upper.or(if s.survival <= 0.0 { None } else { Some(s.survival) })),
        );
        let _ = write!(
            svg,
            r##"<path class="km" d="{}" fill="none" stroke="#1f4e8c" stroke-width="2"/>"##,
            step_path(&|s| Some(s.survival))
        );
        for step in group.curve.iter().filter(|s| s.censored > 0) {
            let x = axis.x(panel, step.day);
            let y = y_of(step.survival * 100.0);
            let _ = write!(
                svg,
                r##"<line class="censor" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111" stroke-width="1.5"><title>censored at day {}: {}</title></line>"##,
                y - 5.0,
                y + 5.0,
                step.day,
                step.censored
            );
        }
        let rows_y = y_of(0.0) + AXIS_H;
        if panel == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">At risk</text>"#,
                axis.x(panel, axis.from) - 8.0,
                rows_y + ROW_H - 2.0
            );
        }
        for at in group.at_risk.iter().filter(|at| (at.day as f64) <= axis.to) {
            let _ = write!(
                svg,
                r#"<text class="at-risk" x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle"><title>{}</title>{}</text>"#,
                axis.x(panel, at.day as f64),
                rows_y + ROW_H - 2.0,
                escape(&at.label),
                at.at_risk
            );
        }
    }
    close(&mut svg, stamp, height, Some("dashed: 95 % interval (log-log); ticks: censored"));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::MeanEstimate;

    fn stamp() -> Stamp {
        Stamp { extracted_at: "2026-12-03 06:40 UTC".into(), protocol: "IVB <test> v2".into() }
    }

    #[test]
    fn a_clipped_interval_is_cut_and_marked_and_days_are_placed_on_a_time_axis() {
        let timepoints = vec![
            MeanPoint { key: "baseline".into(), label: "Baseline".into(), day: -7.0 },
            MeanPoint { key: "end-of-treatment".into(), label: "End of treatment".into(), day: 126.0 },
        ];
        let estimate = |mean, low, high| MeanEstimate {
            n: 2,
            mean: Some(mean),
            sd: Some(1.0),
            ci_low: Some(low),
            ci_high: Some(high),
        };
        let means = vec![
            TimepointMean {
                scale: "QL2".into(),
                timepoint: "baseline".into(),
                stratum: None,
                estimate: estimate(70.8, 17.9, 123.8),
            },
            TimepointMean {
                scale: "QL2".into(),
                timepoint: "end-of-treatment".into(),
                stratum: None,
                estimate: estimate(50.0, 40.0, 60.0),
            },
        ];
        let svg = means_svg("QL2", "Global health status", &[None], &timepoints, &means, &stamp());
        assert_eq!(svg.matches(r#"class="clipped""#).count(), 1, "{svg}");
        assert!(svg.contains("interval clipped at 100 (upper limit 123.8)"));
        assert!(svg.contains("IVB &lt;test&gt; v2"), "the stamp is escaped");
        assert!(svg.contains("Weeks from cycle 1 day 1"));
        assert_eq!(timepoint_name("weekly-03", "Weekly during therapy"), "Weekly during therapy (3)");
        assert_eq!(timepoint_name("follow-up-3m", "Follow-up 3 months"), "Follow-up 3 months");
        assert_eq!(timepoint_name("baseline", "Baseline"), "Baseline");
        // −7 and 126 sit 133 days apart on an axis from −7 to 129: 18 weeks apart, not one step.
        let axis = Axis::new([-7.0, 126.0].into_iter());
        assert!((axis.x(0, 126.0) - axis.x(0, -7.0) - 133.0 / 136.0 * PANEL).abs() < 1e-9);
        // Nothing past the frame: every y is inside it.
        let bottom = y_of(0.0);
        assert!(bottom > y_of(100.0));
        assert_eq!(y_of(123.8), y_of(100.0));
    }
}
