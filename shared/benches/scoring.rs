//! Scoring throughput: one C30 + one CX24 questionnaire (parse + score) per iteration.
//! Run with `cargo bench -p qol-shared` or as part of `cargo xtask bench`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qol_shared::{Answers, InstrumentId, RawAnswer, score};
use std::hint::black_box;

fn patterns() -> Vec<(Vec<RawAnswer>, Vec<RawAnswer>)> {
    // 64 varied response patterns, some with skipped items, generated deterministically.
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as i64
    };
    (0..64)
        .map(|_| {
            let mut pick = |items: std::ops::RangeInclusive<i64>, seven: i64| {
                items
                    .filter_map(|item| {
                        let roll = next();
                        (roll % 10 != 0).then(|| {
                            let top = if item >= seven { 7 } else { 4 };
                            // Item 49 at least "a little": items 50–54 apply.
                            let lowest = if item == 49 { 2 } else { 1 };
                            RawAnswer::code(item, (lowest + roll % top).min(top))
                        })
                    })
                    .collect::<Vec<_>>()
            };
            (pick(1..=30, 29), pick(31..=54, 99))
        })
        .collect()
}

fn scoring(c: &mut Criterion) {
    let patterns = patterns();
    let mut group = c.benchmark_group("scoring");
    group.throughput(Throughput::Elements(patterns.len() as u64));
    group.bench_function("c30_plus_cx24_parse_and_score", |b| {
        b.iter(|| {
            for (c30, cx24) in &patterns {
                let c30 = Answers::parse(InstrumentId::QlqC30, c30.iter().cloned()).unwrap();
                let cx24 = Answers::parse(InstrumentId::QlqCx24, cx24.iter().cloned()).unwrap();
                black_box((score(&c30), score(&cx24)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
