//! Time to deterioration (issue 19), its statistics first: qol's Kaplan–Meier estimate, Greenwood
//! errors, log-log intervals and median with its interval against R's `survival` package on the
//! same cohorts (`survfit(Surv(time, event) ~ 1, conf.type = "log-log")` and `quantile()`), every
//! value to 1e-9.

use qol_shared::survival::{Subject, kaplan_meier};

const R_SCRIPT: &str = r#"
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log")
f <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
for (i in seq_along(fit$time)) {
  cat("step", f(fit$time[i]), fit$n.risk[i], fit$n.event[i], fit$n.censor[i], f(fit$surv[i]),
      f(fit$std.err[i]), f(fit$lower[i]), f(fit$upper[i]), "\n")
}
q <- quantile(fit, 0.5)
cat("median", f(q$quantile), f(q$lower), f(q$upper), "\n")
"#;

/// A cohort from a fixed linear congruential sequence: integer days (ties), about 60 % events.
fn cohort(size: usize, seed: u64, longest: u64) -> Vec<Subject> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    (0..size).map(|_| Subject { time: (1 + next() % longest) as f64, event: next() % 10 < 6 }).collect()
}

/// A value as R printed it: `NA` is none (`Inf` is infinity).
pub(crate) fn parse(value: &str) -> Option<f64> {
    (value != "NA").then(|| value.parse().unwrap())
}

/// Equal to 1e-9, or both absent.
pub(crate) fn close(ours: Option<f64>, theirs: Option<f64>, what: &str) {
    match (ours, theirs) {
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9, "{what}: qol {a}, R {b}"),
        (None, None) => {}
        _ => panic!("{what}: qol {ours:?}, R {theirs:?}"),
    }
}

/// Whether R with the survival package can be run.
pub(crate) fn r_available() -> bool {
    std::process::Command::new("Rscript")
        .args(["-e", "suppressMessages(library(survival))"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// R's fit of one cohort: each distinct time's fields as R printed them (time, at risk, events,
/// censored, survival, standard error, lower, upper), and the median with its two limits.
pub(crate) struct RFit {
    pub steps: Vec<Vec<String>>,
    pub median: Vec<String>,
}

/// Runs `survfit` and `quantile` on `subjects` (time, event), written into `folder` as `name`.
pub(crate) fn survfit(folder: &std::path::Path, name: &str, subjects: &[(String, bool)]) -> RFit {
    let script = folder.join("km.R");
    if !script.is_file() {
        std::fs::write(&script, R_SCRIPT).unwrap();
    }
    let file = folder.join(format!("{name}.csv"));
    let rows: String =
        subjects.iter().map(|(time, event)| format!("{time},{}\n", u8::from(*event))).collect();
    std::fs::write(&file, format!("time,event\n{rows}")).unwrap();
    let output = std::process::Command::new("Rscript").arg(&script).arg(&file).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let fields = |prefix: &str| -> Vec<Vec<String>> {
        text.lines()
            .filter(|line| line.starts_with(prefix))
            .map(|line| line.split_whitespace().skip(1).map(str::to_owned).collect())
            .collect()
    };
    RFit { steps: fields("step "), median: fields("median ").pop().expect("R printed the median") }
}

#[test]
fn kaplan_meier_greenwood_log_log_and_the_median_agree_with_r_survival() {
    if !r_available() {
        qol_tests::skip(
            "R with the survival package is not installed",
            "apt-get install r-base-core r-cran-survival",
        );
        return;
    }
    let folder = std::env::temp_dir().join(format!("qol-survival-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    let mut compared = 0;
    // A large cohort with many ties, a small one (the median interval reaches its end), one whose
    // last subject has the event (the curve reaches 0).
    let mut ending = cohort(12, 7, 30);
    ending.push(Subject { time: 31.0, event: true });
    for (name, subjects) in
        [("large", cohort(300, 42, 400)), ("small", cohort(15, 3, 60)), ("ending", ending)]
    {
        let rows: Vec<(String, bool)> = subjects.iter().map(|s| (s.time.to_string(), s.event)).collect();
        let RFit { steps, median } = survfit(&folder, name, &rows);
        let fit = kaplan_meier(&subjects);
        assert_eq!(steps.len(), fit.steps.len(), "{name}: distinct times");
        for (theirs, ours) in steps.iter().zip(&fit.steps) {
            let what = format!("{name} at {}", ours.time);
            close(Some(ours.time), parse(&theirs[0]), &what);
            assert_eq!(
                (ours.at_risk.to_string(), ours.events.to_string(), ours.censored.to_string()),
                (theirs[1].to_owned(), theirs[2].to_owned(), theirs[3].to_owned()),
                "{what}: at risk, events, censored"
            );
            close(Some(ours.survival), parse(&theirs[4]), &format!("{what}: survival"));
            close(
                Some(ours.std_err).filter(|e| e.is_finite()),
                parse(&theirs[5]).filter(|e| e.is_finite()),
                &format!("{what}: std.err"),
            );
            close(ours.lower, parse(&theirs[6]), &format!("{what}: lower"));
            close(ours.upper, parse(&theirs[7]), &format!("{what}: upper"));
            compared += 1;
        }
        close(fit.median, parse(&median[0]), &format!("{name}: median"));
        close(fit.median_lower, parse(&median[1]), &format!("{name}: median's lower limit"));
        close(fit.median_upper, parse(&median[2]), &format!("{name}: median's upper limit"));
    }
    assert!(compared > 200, "only {compared} times compared");
    std::fs::remove_dir_all(&folder).ok();
}
