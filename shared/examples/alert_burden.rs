//! Alert burden: how many things a nurse is asked to look at, before and after the card model.
//!
//! Run with `cargo run --release -p qol-shared --example alert_burden` (or as part of
//! `cargo xtask bench`). It prints one JSON object on stdout. Deterministic: a fixed seed and a
//! hand-written PRNG (splitmix64 to seed, xorshift64* to draw), no dependencies beyond the crate.
//!
//! # The synthetic cohort
//!
//! 40 patients, each with the shipped schedule (`shared/protocol/default.json`), as report times
//! in weeks from cycle 1 day 1:
//! - baseline (week 0, QLQ-C30 + QLQ-CX24);
//! - 18 weekly QLQ-C30 reports (weeks 1 to 18, through the end of treatment);
//! - 3 QLQ-C30 + QLQ-CX24 reports: after induction (week 6, a few days after that week's weekly
//!   report), end of radiotherapy (week 10, likewise) and end of treatment (week 20);
//! - 6 follow-ups, QLQ-C30 + QLQ-CX24, 3, 6, 9, 12, 18 and 24 months after the end of treatment.
//!
//! That is 28 reports a patient. Each report after baseline is missing with probability 5 %
//! (baseline is always there: it is an entry condition). "Previous" is the latest report actually
//! sent, whatever its questionnaires (as the server does), so a CX24 scale is compared with the
//! previous report only when that report had a CX24 too.
//!
//! Treatment: six 3-weekly cycles of paclitaxel + cisplatin (doses at weeks 0, 3, …, 15) and pelvic
//! radiotherapy to the primary in weeks 3 to 8.
//!
//! Every item has a latent severity in response steps above "not at all" (0 = not at all,
//! 3 = very much), built from a few per-patient trajectories over time `t` (weeks):
//! - **acute chemotherapy** effect by position in the cycle: strongest in the week after a dose,
//!   weaker in the second, least in the third; none after week 18;
//! - **cumulative chemotherapy** (fatigue, anaemia), rising over the six cycles and fading over
//!   about two months after treatment;
//! - **pelvic radiotherapy** (diarrhoea, cramps, urinary and bowel items, vaginal irritation):
//!   rising from week 3 to a peak at week 8, then fading with a 3-week time constant;
//! - **peripheral neuropathy** (paclitaxel, CX24 item 40): cumulative, rising from week 6 to a peak
//!   at week 18, then recovering slowly to 40 % of the peak;
//! - **disease pain** (items 9, 19, CX24 39) and **bleeding** (43): present at baseline in most
//!   patients, improving with response (70 % responders); non-responders keep their pain, and it
//!   rises slowly in follow-up (progression);
//! - **late effects**: menopausal symptoms (item 44, the half of patients premenopausal at entry:
//!   radiotherapy ends ovarian function) rising from week 6 to week 20; lymphoedema (item 38) in
//!   one patient in five, rising over the first 30 weeks of follow-up; body image and sexual worry
//!   a little worse during treatment and after;
//! - fatigue, nausea and vomiting, appetite loss, constipation (antiemetics, opioids), dyspnoea
//!   (anaemia), insomnia and financial difficulties as mixtures of the above;
//! - **functioning** items (physical, role, cognitive, social) rise with an overall toxicity index
//!   (a weighted sum of fatigue, nausea, appetite loss, diarrhoea and pain), each item at its own
//!   level (strenuous activity is limited first, needing help to eat last); emotional functioning
//!   follows a per-patient anxiety level that eases after treatment; global QoL (items 29 and 30,
//!   1 to 7) falls with the toxicity index.
//!
//! The patient scales the treatment trajectories by her own susceptibilities (general,
//! radiotherapy, neuropathy: each about N(1, 0.3–0.4)). An item's response is
//! `round(1 + latent + patient offset + item offset + N(0, 0.35))`, clamped to 1–4: the patient
//! offset is her reporting style (N(0, 0.2)), the item offset her own level on that item
//! (N(0, 0.3)); global QoL is `round(5.2 − 1.2 × toxicity + her offset N(0, 0.5) + N(0, 0.6))`,
//! clamped to 1–7. With this noise, an item whose latent level (with her offsets) is "not at all"
//! is answered "a little" in about 8 % of reports: the ordinary report-to-report wobble that a
//! one-step rule on a single-item scale sees.
//!
//! 10 % of patients (4, chosen at random) have one **bad week** during treatment (a weekly report
//! in weeks 2–17): nausea and vomiting, diarrhoea or pain jumps by 1.8 steps and fatigue by 1.0
//! for that report.
//!
//! The patient asks to be called after a report with probability 3 %, or 25 % when she answered
//! "very much" on pain (item 9 or 19). Item 49 (sexually active) is "not at all", so items 50–54
//! do not apply.
//!
//! # The nurse
//!
//! Main model: the nurse acknowledges every open card (alert) the day it is raised and resolves it
//! before the patient's next report. So no card is open when a report arrives: every report's
//! signals either open new cards or, if there are none, nothing. A second variant
//! (`nurse_every_other_report`) resolves only after every second report of the patient, so half the
//! reports find the previous report's cards still open (acknowledged): their signals join those
//! cards (a card becoming red counts as a red card; a higher tier escalates it) and, before the
//! change, a signal on a subject whose alert is still open updates that alert instead of opening
//! one.
//!
//! # What is counted
//!
//! "After" (this change, `qol_shared::alerts`): `AlertRules::default().evaluate` with the
//! patient's baseline scores and the previous report's scores; the signals gather on at most one
//! `symptoms` card and one `call_request` card per patient (`card_change`). Cards opened, red cards
//! (opened red, or became red while open), call-request cards, and signals.
//!
//! "Before" (the rules until this change, reproduced in [`before`]): one alert per subject (scale,
//! item or call request); each alert counts like a card.
//!
//! Per 100 reports: cards (alerts), red cards (alerts), call requests; and signals per report.

use std::collections::BTreeMap;

use qol_shared::alerts::{
    AlertRules, CardChange, History, Incoming, OpenCard, Rule, Signal, Tier, alerting_scale, card_change,
    unseen_red,
};
use qol_shared::api::AlertState;
use qol_shared::instrument::ScaleKind;
use qol_shared::{Answers, InstrumentId, RawAnswer, Scores, score};

const PATIENTS: usize = 40;
const SEED: u64 = 0x5eed_a1e7_2026;
/// Item-level noise, in response steps.
const NOISE: f64 = 0.35;
const MISSING: f64 = 0.05;
/// Patients with a bad week: 10 % of the cohort, chosen at random.
const BAD_WEEKS: usize = PATIENTS / 10;
const CALL: f64 = 0.03;
const CALL_IN_PAIN: f64 = 0.25;

/// splitmix64 (to spread a seed) feeding xorshift64* (the stream).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // (0, 1]
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n
    }
}

/// One scheduled report.
#[derive(Clone, Copy)]
struct Visit {
    week: f64,
    cx24: bool,
    /// A weekly on-treatment report (a bad week can fall on one).
    weekly: bool,
}

fn schedule() -> Vec<Visit> {
    let mut visits = vec![Visit { week: 0.0, cx24: true, weekly: false }];
    visits.extend((1..=18).map(|week| Visit { week: f64::from(week), cx24: false, weekly: true }));
    // After induction and end of radiotherapy a few days after that week's weekly report; end of
    // treatment at week 20.
    visits.extend([6.5, 10.5, 20.0].map(|week| Visit { week, cx24: true, weekly: false }));
    // Follow-ups: months after the end of treatment, 13 weeks a quarter.
    visits.extend([3.0, 6.0, 9.0, 12.0, 18.0, 24.0].map(|months| Visit {
        week: 20.0 + months * 13.0 / 3.0,
        cx24: true,
        weekly: false,
    }));
    visits.sort_by(|a, b| a.week.total_cmp(&b.week));
    visits
}

#[derive(Clone, Copy, PartialEq)]
enum Spike {
    NauseaVomiting,
    Diarrhoea,
    Pain,
}

/// What is fixed for one patient.
struct Patient {
    style: f64,
    item_offset: [f64; 55],
    global_offset: f64,
    susceptibility: f64,
    radiotherapy: f64,
    neuropathy: f64,
    pain: f64,
    bleeding: f64,
    responder: bool,
    premenopausal: bool,
    lymphoedema: bool,
    anxiety: f64,
    financial: f64,
    /// The week of her bad week and what spikes.
    bad_week: Option<(f64, Spike)>,
}

fn clamp(value: f64, low: f64, high: f64) -> f64 {
    value.max(low).min(high)
}

impl Patient {
    fn draw(rng: &mut Rng, has_bad_week: bool) -> Patient {
        let mut item_offset = [0.0; 55];
        for offset in item_offset.iter_mut() {
            *offset = 0.3 * rng.normal();
        }
        let bad_week = has_bad_week.then(|| {
            let week = 2.0 + rng.below(16) as f64;
            let spike = [Spike::NauseaVomiting, Spike::Diarrhoea, Spike::Pain][rng.below(3)];
            (week, spike)
        });
        Patient {
            style: 0.2 * rng.normal(),
            item_offset,
            global_offset: 0.5 * rng.normal(),
            susceptibility: clamp(1.0 + 0.3 * rng.normal(), 0.3, 2.0),
            radiotherapy: clamp(1.0 + 0.35 * rng.normal(), 0.3, 2.0),
            neuropathy: clamp(1.0 + 0.4 * rng.normal(), 0.2, 2.0),
            pain: rng.between(0.2, 1.6),
            bleeding: rng.between(0.0, 1.2),
            responder: rng.chance(0.7),
            premenopausal: rng.chance(0.5),
            lymphoedema: rng.chance(0.2),
            anxiety: rng.between(0.3, 1.2),
            financial: rng.between(0.0, 1.0),
            bad_week,
        }
    }

    /// Latent severity of every item 1–48 (index = item number) at `visit`, and the overall
    /// toxicity index.
    fn latent(&self, visit: Visit) -> ([f64; 55], f64) {
        let t = visit.week;
        let treating = t <= 18.5;
        // Position in the 3-weekly cycle: the weekly report at week k covers week k-1..k.
        let acute = if treating && t >= 1.0 {
            match (t.floor() as i64) % 3 {
                1 => 1.0,
                2 => 0.4,
                _ => 0.15,
            }
        } else {
            0.0
        };
        let on = if treating { 1.0 } else { (-(t - 18.5) / 8.0).exp() };
        let cumulative = (t.min(18.0) / 18.0) * on;
        let radiotherapy = if t < 3.0 {
            0.0
        } else if t <= 8.0 {
            (t - 3.0) / 5.0
        } else {
            (-(t - 8.0) / 3.0).exp()
        };
        let peak_neuropathy = self.neuropathy * 1.8;
        let neuropathy = if t <= 18.0 {
            peak_neuropathy * clamp((t - 6.0) / 12.0, 0.0, 1.0)
        } else {
            peak_neuropathy * (0.4 + 0.6 * (-(t - 18.0) / 26.0).exp())
        };
        let pain = if self.responder {
            self.pain * (0.3 + 0.7 * (-t / 5.0).exp())
        } else {
            self.pain + 0.8 * clamp((t - 20.0) / 52.0, 0.0, 1.0)
        };
        let bleeding = if self.responder { self.bleeding * (-t / 4.0).exp() } else { self.bleeding * 0.7 };
        let late = if t > 20.0 { 1.0 } else { 0.0 };
        let s = self.susceptibility;
        let rt = self.radiotherapy * radiotherapy;

        let spike = |which: Spike| match self.bad_week {
            Some((week, spike)) if visit.weekly && week == t && spike == which => 1.8,
            _ => 0.0,
        };
        let bad = if self.bad_week.is_some_and(|(week, _)| visit.weekly && week == t) { 1.0 } else { 0.0 };
        let pain = pain + spike(Spike::Pain);
        let fatigue =
            s * (0.5 * on + 0.4 * acute + 0.4 * cumulative + 0.5 * radiotherapy) + 0.15 * pain + bad;
        let nausea = s * (0.9 * acute + 0.15 * on + 0.3 * radiotherapy) + spike(Spike::NauseaVomiting);
        let appetite = s * (0.4 * on + 0.5 * acute + 0.3 * radiotherapy)
            + 0.1 * pain
            + 0.5 * spike(Spike::NauseaVomiting);
        let diarrhoea = 1.7 * rt + 0.2 * s * acute + spike(Spike::Diarrhoea);
        let toxicity = 0.35 * fatigue + 0.2 * nausea + 0.15 * appetite + 0.15 * diarrhoea + 0.3 * pain;

        let mut latent = [0.0; 55];
        // Physical functioning: strenuous activity limited first, help with eating last.
        for (item, base, weight) in
            [(1, 0.6, 0.8), (2, 0.4, 0.7), (3, 0.1, 0.5), (4, 0.0, 0.6), (5, -0.3, 0.3)]
        {
            latent[item] = base + weight * toxicity;
        }
        latent[6] = 0.2 + 0.8 * toxicity;
        latent[7] = 0.2 + 0.8 * toxicity;
        latent[8] = 0.35 * s * cumulative;
        latent[9] = pain;
        latent[10] = fatigue;
        latent[11] = 0.3 + 0.25 * toxicity + 0.2 * self.anxiety;
        latent[12] = fatigue - 0.2;
        latent[13] = appetite;
        latent[14] = nausea;
        latent[15] = nausea - 0.6;
        latent[16] = 0.5 * s * acute + 0.25 * pain;
        latent[17] = diarrhoea;
        latent[18] = fatigue;
        latent[19] = pain - 0.2;
        latent[20] = 0.1 + 0.3 * toxicity + 0.2 * on;
        let anxiety = self.anxiety * if treating { 1.0 } else { 0.7 };
        for (item, extra) in [(21, 0.0), (22, 0.3), (23, -0.1), (24, -0.1)] {
            latent[item] = anxiety + extra + 0.2 * toxicity;
        }
        latent[25] = 0.1 + 0.3 * toxicity + 0.2 * on;
        latent[26] = 0.1 + 0.6 * toxicity;
        latent[27] = 0.1 + 0.6 * toxicity;
        latent[28] = self.financial + 0.3 * on;
        // QLQ-CX24.
        latent[31] = rt + 0.2 * s * acute;
        latent[32] = 0.8 * rt + 0.2 * late;
        latent[33] = 0.5 * rt;
        latent[34] = 0.3 + 0.9 * rt;
        latent[35] = 0.8 * rt;
        latent[36] = 0.2 + 0.5 * rt;
        latent[37] = 0.3 * rt;
        latent[38] = 0.1 + if self.lymphoedema { 1.5 * clamp((t - 20.0) / 30.0, 0.0, 1.0) } else { 0.0 };
        latent[39] = 0.6 * pain;
        latent[40] = neuropathy;
        latent[41] = rt + 0.3 * late;
        latent[42] = 0.8 * rt + 0.5 * bleeding;
        latent[43] = bleeding;
        latent[44] = if self.premenopausal { 1.8 * clamp((t - 6.0) / 14.0, 0.0, 1.0) } else { 0.4 };
        latent[45..=47].fill(0.3 + 0.6 * on + 0.2 * late);
        latent[48] = 0.6 + 0.3 * late;
        (latent, toxicity)
    }
}

/// One report as sent.
struct Report {
    answers: Vec<Answers>,
    scores: Vec<Scores>,
    call_me: bool,
}

/// The patient's answer to a 4-point item whose latent severity is `latent`.
fn four_point(patient: &Patient, item: usize, latent: f64, rng: &mut Rng) -> RawAnswer {
    let value = 1.0 + latent + patient.style + patient.item_offset[item] + NOISE * rng.normal();
    RawAnswer::code(item as i64, clamp(value.round(), 1.0, 4.0) as i64)
}

fn answer(patient: &Patient, visit: Visit, rng: &mut Rng) -> Report {
    let (latent, toxicity) = patient.latent(visit);
    let mut c30: Vec<RawAnswer> = (1..=28).map(|item| four_point(patient, item, latent[item], rng)).collect();
    for item in [29, 30] {
        let value = 5.2 - 1.2 * toxicity + patient.global_offset + 0.6 * rng.normal();
        c30.push(RawAnswer::code(item, clamp(value.round(), 1.0, 7.0) as i64));
    }
    let mut answers = vec![Answers::parse(InstrumentId::QlqC30, c30).expect("valid C30 answers")];
    if visit.cx24 {
        // Item 49 "not at all": items 50–54 do not apply and are left out.
        let cx24 = (31..=48)
            .map(|item| four_point(patient, item, latent[item], rng))
            .chain([RawAnswer::code(49, 1)])
            .collect::<Vec<_>>();
        answers.push(Answers::parse(InstrumentId::QlqCx24, cx24).expect("valid CX24 answers"));
    }
    let in_pain =
        [9, 19].into_iter().any(|item| answers[0].response(item) == Some(qol_shared::Response::Code(4)));
    let call_me = rng.chance(if in_pain { CALL_IN_PAIN } else { CALL });
    let scores = answers.iter().map(score).collect();
    Report { answers, scores, call_me }
}

// ------------------------------------------------------------------------------------------------
// BEFORE: the alert rules until the card model, reproduced only to measure against. Not used by
// qol; the rules in use are `qol_shared::alerts`.
// ------------------------------------------------------------------------------------------------

/// The alert rules until this change, as they were (one alert per subject).
mod before {
    use qol_shared::alerts::{
        CX24_VERY_MUCH, GIESINGER_2020, GIESINGER_THRESHOLDS, History, OSOBA_1998, PATIENT_REQUEST, Rule,
        Signal, Tier, past_threshold,
    };
    use qol_shared::instrument::ScaleKind;
    use qol_shared::{Answers, InstrumentId, Response, Scores};

    const DEFAULT_CHANGE: f64 = 10.0;
    const RED_CHANGE: f64 = 20.0;
    const RED_ITEMS: [u8; 7] = [9, 19, 33, 35, 39, 43, 53];

    fn find(scores: Option<&[Scores]>, code: &str) -> Option<f64> {
        scores?.iter().find_map(|instrument| instrument.score(code))
    }

    pub fn worsening(kind: ScaleKind, before: f64, now: f64) -> f64 {
        match kind {
            ScaleKind::Symptom => now - before,
            ScaleKind::Functional | ScaleKind::Global => before - now,
        }
    }

    /// The old `AlertRules::evaluate`: QLQ-C30 scales only (10 / 20 points on every scale, single
    /// items included, so one step of 33.3 points was red), Giesinger levels, "very much" on the
    /// pain items (red) and on every CX24 symptom item (amber; red for bleeding and pain), the call
    /// request; at most one signal per subject, the most urgent.
    pub fn evaluate(
        scores: &[Scores],
        answers: &[Answers],
        history: History<'_>,
        call_me: bool,
    ) -> Vec<Signal> {
        let mut signals: Vec<Signal> = Vec::new();
        let mut offer = |signal: Signal| match signals.iter_mut().find(|s| s.subject == signal.subject) {
            Some(existing) if existing.tier < signal.tier => *existing = signal,
            Some(_) => {}
            None => signals.push(signal),
        };
        for instrument in scores {
            // The CX24 scales were not judged; CX24 was judged by its items.
            if instrument.instrument == InstrumentId::QlqCx24 {
                continue;
            }
            for scale in instrument.instrument.instrument().scales {
                let Some(value) = instrument.score(scale.code) else { continue };
                let baseline = find(history.baseline, scale.code);
                let previous = find(history.previous, scale.code);
                let signal = |tier, rule, source: &str| Signal {
                    subject: scale.code.to_owned(),
                    tier,
                    rule,
                    value: Some(value),
                    baseline,
                    previous,
                    source: source.to_owned(),
                };
                for (before, rule) in
                    [(baseline, Rule::WorseThanBaseline), (previous, Rule::WorseThanPrevious)]
                {
                    if let Some(before) = before {
                        let worse = worsening(scale.kind, before, value);
                        if worse >= RED_CHANGE {
                            offer(signal(Tier::Red, rule, OSOBA_1998));
                        } else if worse >= DEFAULT_CHANGE {
                            offer(signal(Tier::Amber, rule, OSOBA_1998));
                        }
                    }
                }
                if let Some(threshold) = GIESINGER_THRESHOLDS.iter().find(|t| t.scale == scale.code)
                    && past_threshold(scale.kind, threshold.value, value)
                {
                    let was_past =
                        previous.is_some_and(|before| past_threshold(scale.kind, threshold.value, before));
                    if was_past {
                        offer(signal(Tier::Info, Rule::AboveThreshold, GIESINGER_2020));
                    } else {
                        offer(signal(Tier::Amber, Rule::NewlyAboveThreshold, GIESINGER_2020));
                    }
                }
            }
        }
        for answer_set in answers {
            let definition = answer_set.instrument().instrument();
            for (item, response) in answer_set.iter() {
                let Some(definition_item) = definition.item(item) else { continue };
                let is_symptom = definition
                    .scale(definition_item.scale)
                    .is_some_and(|scale| scale.kind == ScaleKind::Symptom);
                if response != Response::Code(4)
                    || definition_item.response_scale.highest() != 4
                    || !is_symptom
                {
                    continue;
                }
                let red = RED_ITEMS.contains(&item);
                if !red && answer_set.instrument() != InstrumentId::QlqCx24 {
                    continue;
                }
                offer(Signal {
                    subject: format!("ITEM{item}"),
                    tier: if red { Tier::Red } else { Tier::Amber },
                    rule: Rule::VeryMuchOnItem,
                    value: Some(4.0),
                    baseline: None,
                    previous: None,
                    source: CX24_VERY_MUCH.to_owned(),
                });
            }
        }
        if call_me {
            offer(Signal {
                subject: "CALL".into(),
                tier: Tier::Red,
                rule: Rule::CallMe,
                value: None,
                baseline: None,
                previous: None,
                source: PATIENT_REQUEST.to_owned(),
            });
        }
        signals.sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.subject.cmp(&b.subject)));
        signals
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Nurse {
    /// Acknowledges the same day, resolves before the next report.
    SameDay,
    /// Acknowledges the same day, resolves only after every second report.
    EveryOtherReport,
}

#[derive(Default)]
struct Tally {
    cards: u64,
    red: u64,
    calls: u64,
    signals: u64,
    /// Cards re-opened while acknowledged (a higher tier, red news or a new call request); the
    /// variant only.
    escalated: u64,
    /// Cards (alerts) opened, by the tier they opened at.
    opened_by_tier: BTreeMap<&'static str, u64>,
}

/// One patient's open cards ("after") or open alerts by subject ("before").
#[derive(Default)]
struct Open {
    cards: [Option<OpenCard>; 2],
    /// What each open card holds: the tier of each subject.
    held: [BTreeMap<String, Tier>; 2],
    alerts: BTreeMap<String, Tier>,
}

fn after_step(signals: &[Signal], open: &mut Open, tally: &mut Tally) {
    tally.signals += signals.len() as u64;
    for (slot, call) in [(0, false), (1, true)] {
        let mine: Vec<&Signal> = signals.iter().filter(|s| s.is_call_request() == call).collect();
        let Some(tier) = mine.iter().map(|s| s.tier).max() else {
            continue;
        };
        let held = &mut open.held[slot];
        let incoming = Incoming {
            tier,
            unseen_red: open.cards[slot].is_some()
                && mine.iter().any(|s| unseen_red(s, held.get(&s.subject).copied())),
        };
        for signal in &mine {
            let entry = held.entry(signal.subject.clone()).or_insert(signal.tier);
            *entry = (*entry).max(signal.tier);
        }
        let card = &mut open.cards[slot];
        match card_change(*card, incoming) {
            CardChange::Open { tier } => {
                tally.cards += 1;
                tally.calls += u64::from(call);
                tally.red += u64::from(tier == Tier::Red);
                *tally.opened_by_tier.entry(tier.as_str()).or_default() += 1;
                *card = Some(OpenCard { tier, state: AlertState::New });
            }
            CardChange::Join { tier, escalated } => {
                let was = card.expect("a card joins only an open card");
                tally.red += u64::from(tier == Tier::Red && was.tier < Tier::Red);
                tally.escalated += u64::from(escalated);
                let state = if escalated { AlertState::New } else { was.state };
                *card = Some(OpenCard { tier, state });
            }
        }
    }
}

fn before_step(signals: &[Signal], open: &mut Open, tally: &mut Tally) {
    tally.signals += signals.len() as u64;
    for signal in signals {
        match open.alerts.get_mut(&signal.subject) {
            Some(tier) => {
                tally.red += u64::from(signal.tier == Tier::Red && *tier < Tier::Red);
                *tier = (*tier).max(signal.tier);
            }
            None => {
                tally.cards += 1;
                tally.calls += u64::from(signal.is_call_request());
                tally.red += u64::from(signal.tier == Tier::Red);
                *tally.opened_by_tier.entry(signal.tier.as_str()).or_default() += 1;
                open.alerts.insert(signal.subject.clone(), signal.tier);
            }
        }
    }
}

/// The nurse's day after a report: everything acknowledged; resolved per the nurse model.
fn nurse_day(nurse: Nurse, index: usize, open: &mut Open) {
    for card in open.cards.iter_mut().flatten() {
        card.state = AlertState::Acknowledged;
    }
    if nurse == Nurse::SameDay || index % 2 == 1 {
        *open = Open::default();
    }
}

/// Red signals raised by a change rule on a single-item scale whose worsening is exactly one
/// response step (33.3 points): red under the old rules, never under the new.
fn red_one_step_single_item(signal: &Signal) -> bool {
    if signal.tier != Tier::Red || !matches!(signal.rule, Rule::WorseThanBaseline | Rule::WorseThanPrevious) {
        return false;
    }
    let Some(scale) = alerting_scale(&signal.subject) else { return false };
    let Some(value) = signal.value else { return false };
    if scale.items.len() != 1 {
        return false;
    }
    let worst = [signal.baseline, signal.previous]
        .into_iter()
        .flatten()
        .map(|before| before::worsening(scale.kind, before, value))
        .fold(f64::MIN, f64::max);
    (worst * f64::from(scale.range) / 100.0).round() == 1.0
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::AboveThreshold => "above_threshold",
        Rule::NewlyAboveThreshold => "newly_above_threshold",
        Rule::SevereBand => "severe_band",
        Rule::StillSevere => "still_severe",
        Rule::WorseThanBaseline => "worse_than_baseline",
        Rule::WorseThanPrevious => "worse_than_previous",
        Rule::VeryMuchOnItem => "very_much_on_item",
        Rule::CallMe => "call_me",
    }
}

fn per_100(count: u64, reports: u64) -> f64 {
    (1000.0 * count as f64 / reports as f64).round() / 10.0
}

fn summary(tally: &Tally, reports: u64) -> serde_json::Value {
    serde_json::json!({
        "cards_per_100": per_100(tally.cards, reports),
        "red_per_100": per_100(tally.red, reports),
        "call_requests_per_100": per_100(tally.calls, reports),
        "signals_per_report": (100.0 * tally.signals as f64 / reports as f64).round() / 100.0,
    })
}

fn main() {
    let rules = AlertRules::default();
    let visits = schedule();
    let mut rng = Rng::new(SEED);
    let mut reports = 0u64;
    let nurses = [Nurse::SameDay, Nurse::EveryOtherReport];
    let mut before_tally: [Tally; 2] = Default::default();
    let mut after_tally: [Tally; 2] = Default::default();
    // Red signals by rule, per model; red one-step single-item changes; reports with any signal.
    let mut red_by_rule: [BTreeMap<&'static str, u64>; 2] = Default::default();
    let mut one_step_red = [0u64; 2];
    let mut one_step_into_severe_band = 0u64;
    let mut with_signals = [0u64; 2];
    let mut cx24_scale_signals = 0u64;
    let mut with_red = [0u64; 2];
    let mut unlucky: Vec<usize> = Vec::new();
    while unlucky.len() < BAD_WEEKS {
        let patient = rng.below(PATIENTS);
        if !unlucky.contains(&patient) {
            unlucky.push(patient);
        }
    }

    for number in 0..PATIENTS {
        let patient = Patient::draw(&mut rng, unlucky.contains(&number));
        let sent: Vec<Report> = visits
            .iter()
            .enumerate()
            .filter_map(|(index, visit)| {
                let missing = index > 0 && rng.chance(MISSING);
                let report = answer(&patient, *visit, &mut rng);
                (!missing).then_some(report)
            })
            .collect();
        reports += sent.len() as u64;
        let mut open_before: [Open; 2] = Default::default();
        let mut open_after: [Open; 2] = Default::default();
        for (index, report) in sent.iter().enumerate() {
            let history = if index == 0 {
                History::default()
            } else {
                History { baseline: Some(&sent[0].scores), previous: Some(&sent[index - 1].scores) }
            };
            let old = before::evaluate(&report.scores, &report.answers, history, report.call_me);
            let new = rules.evaluate(&report.scores, &report.answers, history, report.call_me);
            for (model, signals) in [(0, &old), (1, &new)] {
                with_signals[model] += u64::from(!signals.is_empty());
                with_red[model] += u64::from(signals.iter().any(|s| s.tier == Tier::Red));
                for signal in signals.iter().filter(|s| s.tier == Tier::Red) {
                    *red_by_rule[model].entry(rule_name(signal.rule)).or_default() += 1;
                    one_step_red[model] += u64::from(red_one_step_single_item(signal));
                }
            }
            for signal in &new {
                let scale = alerting_scale(&signal.subject);
                cx24_scale_signals += u64::from(
                    scale.is_some() && InstrumentId::QlqC30.instrument().scale(&signal.subject).is_none(),
                );
                // Red because a single-item symptom scale went one step from "a little" into its
                // severe band ("quite a bit"): the band rule, not the step rule.
                if signal.rule == Rule::SevereBand
                    && let Some(scale) = scale
                    && scale.items.len() == 1
                    && scale.kind == ScaleKind::Symptom
                    && let (Some(value), Some(previous)) = (signal.value, signal.previous)
                    && ((value - previous) * f64::from(scale.range) / 100.0).round() == 1.0
                {
                    one_step_into_severe_band += 1;
                }
            }
            for (n, nurse) in nurses.into_iter().enumerate() {
                before_step(&old, &mut open_before[n], &mut before_tally[n]);
                after_step(&new, &mut open_after[n], &mut after_tally[n]);
                nurse_day(nurse, index, &mut open_before[n]);
                nurse_day(nurse, index, &mut open_after[n]);
            }
        }
    }
    assert_eq!(one_step_red[1], 0, "a one-step change on a single-item scale is never red by the step rule");

    let by_rule = |counts: &BTreeMap<&'static str, u64>| -> serde_json::Value {
        counts
            .iter()
            .map(|(rule, count)| ((*rule).to_owned(), serde_json::json!(per_100(*count, reports))))
            .collect()
    };
    let by_tier = |tally: &Tally| -> serde_json::Value {
        tally
            .opened_by_tier
            .iter()
            .map(|(tier, count)| ((*tier).to_owned(), serde_json::json!(per_100(*count, reports))))
            .collect()
    };
    let output = serde_json::json!({
        "patients": PATIENTS,
        "reports": reports,
        "scheduled": PATIENTS * visits.len(),
        "before": summary(&before_tally[0], reports),
        "after": summary(&after_tally[0], reports),
        "nurse_every_other_report": {
            "before": summary(&before_tally[1], reports),
            "after": summary(&after_tally[1], reports),
            "after_escalated_per_100": per_100(after_tally[1].escalated, reports),
        },
        "detail": {
            "patients_with_a_bad_week": BAD_WEEKS,
            "reports_with_any_signal_pct": {
                "before": per_100(with_signals[0], reports),
                "after": per_100(with_signals[1], reports),
            },
            "reports_with_a_red_signal_pct": {
                "before": per_100(with_red[0], reports),
                "after": per_100(with_red[1], reports),
            },
            "opened_by_tier_per_100": {
                "before": by_tier(&before_tally[0]),
                "after": by_tier(&after_tally[0]),
            },
            "red_signals_by_rule_per_100": {
                "before": by_rule(&red_by_rule[0]),
                "after": by_rule(&red_by_rule[1]),
            },
            "red_one_step_single_item_change_per_100": {
                "before": per_100(one_step_red[0], reports),
                "after": per_100(one_step_red[1], reports),
            },
            "after_red_one_step_into_severe_band_per_100": per_100(one_step_into_severe_band, reports),
            "after_cx24_scale_signals_per_100": per_100(cx24_scale_signals, reports),
        },
    });
    println!("{output}");
}
