//! Kaplan–Meier estimation for time to deterioration (issue 19): the survival curve with
//! Greenwood standard errors, pointwise 95 % intervals on the log-log scale, and the median with
//! its 95 % interval read off the interval curves (Brookmeyer and Crowley 1982), as R's
//! `survival::survfit(..., conf.type = "log-log")` and `quantile()` give them (Therneau, the
//! survival package's `survfit.formula` and `quantile.survfit`). The test `it/survival.rs`
//! compares every value with R's.

/// The 0.975 quantile of the standard normal distribution (R: `qnorm(0.975)`).
pub const Z_975: f64 = 1.959_963_984_540_054;

/// One subject: the time (days) to the event or to censoring, and whether the event happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subject {
    pub time: f64,
    pub event: bool,
}

/// The curve at one distinct time (an event or a censoring).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub time: f64,
    /// At risk just before `time`.
    pub at_risk: usize,
    pub events: usize,
    pub censored: usize,
    /// The estimate just after `time`.
    pub survival: f64,
    /// Greenwood's standard error of the cumulative hazard (of log S), as R's `std.err`.
    pub std_err: f64,
    /// The 95 % interval on the log-log scale; none while the estimate is 1 or 0 (R: NA).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// A Kaplan–Meier curve and its median.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    pub steps: Vec<Step>,
    /// The median and its 95 % interval; none where a curve does not reach one half.
    pub median: Option<f64>,
    pub median_lower: Option<f64>,
    pub median_upper: Option<f64>,
}

/// The Kaplan–Meier estimate of `subjects` (times may tie; events come before censorings at the
/// same time, as R counts them).
pub fn kaplan_meier(subjects: &[Subject]) -> KaplanMeier {
    let mut times: Vec<f64> = subjects.iter().map(|s| s.time).filter(|t| t.is_finite()).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut at_risk = subjects.iter().filter(|s| s.time.is_finite()).count();
    let (mut survival, mut hazard_variance) = (1.0_f64, 0.0_f64);
    let mut steps = Vec::with_capacity(times.len());
    for time in times {
        let here = subjects.iter().filter(|s| s.time == time);
        let events = here.clone().filter(|s| s.event).count();
        let censored = here.filter(|s| !s.event).count();
        if events > 0 {
            let (n, d) = (at_risk as f64, events as f64);
            survival *= 1.0 - d / n;
            // Greenwood: the variance of the cumulative hazard grows by d / (n (n - d)).
            hazard_variance += if at_risk > events { d / (n * (n - d)) } else { f64::INFINITY };
        }
        let std_err = hazard_variance.sqrt();
        let (lower, upper) = log_log_interval(survival, std_err);
        steps.push(Step { time, at_risk, events, censored, survival, std_err, lower, upper });
        at_risk -= events + censored;
    }
    let median = crossing(&steps, |step| Some(step.survival));
    // The interval of the median: where the lower curve reaches one half (its lower end) and
    // where the upper curve does (its upper end).
    // (R leaves both curves undefined once the estimate is 0.)
    let median_lower = crossing(&steps, |step| step.lower);
    let median_upper = crossing(&steps, |step| step.upper);
    KaplanMeier { steps, median, median_lower, median_upper }
}

/// R's log-log interval: exp(-exp(log(-log S) ∓ z se / log S)).
fn log_log_interval(survival: f64, std_err: f64) -> (Option<f64>, Option<f64>) {
    if survival <= 0.0 || survival >= 1.0 || !std_err.is_finite() {
        return (None, None);
    }
    let centre = (-survival.ln()).ln();
    let spread = Z_975 * std_err / survival.ln();
    (Some((-(centre - spread).exp()).exp()), Some((-(centre + spread).exp()).exp()))
}

/// The first time a curve is at or below one half, as `quantile.survfit` reads it: where the
/// curve stays at one half (within R's tolerance) over an interval, the middle of that interval.
fn crossing(steps: &[Step], value: impl Fn(&Step) -> Option<f64>) -> Option<f64> {
    const TOLERANCE: f64 = 1.490_116_119_384_765_6e-8; // sqrt(.Machine$double.eps)
    // The curve is a step function defined at the event times (R drops censor-only times).
    let points: Vec<(f64, f64)> = steps
        .iter()
        .filter(|step| step.events > 0)
        .filter_map(|step| value(step).map(|v| (step.time, v)))
        .collect();
    let index = points.iter().position(|(_, v)| *v <= 0.5 + TOLERANCE)?;
    let (time, v) = points[index];
    if (v - 0.5).abs() < TOLERANCE {
        // Flat at one half: the middle of this time and the next event time, if any.
        return points.get(index + 1).map(|(next, _)| (time + next) / 2.0).or(Some(time));
    }
    Some(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_worked_curve() {
        // Six subjects: events at 1, 3, 3; censored at 2, 4, 5.
        let subjects: Vec<Subject> =
            [(1.0, true), (2.0, false), (3.0, true), (3.0, true), (4.0, false), (5.0, false)]
                .iter()
                .map(|&(time, event)| Subject { time, event })
                .collect();
        let fit = kaplan_meier(&subjects);
        let survival: Vec<f64> = fit.steps.iter().map(|s| s.survival).collect();
        // 5/6, then 5/6, then 5/6 * (1 - 2/4) = 5/12.
        assert!((survival[0] - 5.0 / 6.0).abs() < 1e-15);
        assert!((survival[2] - 5.0 / 12.0).abs() < 1e-15);
        assert_eq!(fit.steps[2].at_risk, 4);
        assert_eq!(fit.median, Some(3.0));
        let variance: f64 = 1.0 / (6.0 * 5.0) + 2.0 / (4.0 * 2.0);
        assert!((fit.steps[2].std_err - variance.sqrt()).abs() < 1e-15);
    }
}
