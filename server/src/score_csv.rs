//! `qol score`: scores a CSV of item answers, row by row, in constant memory.
//!
//! Input: a header row with `q1`…`q30` (QLQ-C30) or `q31`…`q54` (QLQ-CX24), in any order and any
//! letter case, beside any other columns. A blank cell (or `NA`, as R writes it) is a skipped item;
//! `not_applicable` marks a CX24 sexual-activity item (50–54) as not applicable.
//! Output: the other columns unchanged, then one column per scale; a missing score is blank and
//! numbers are written at full precision. The first bad value stops the run with its line, column
//! and the allowed codes.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, bail};
use qol_shared::answers::{AnswerError, AnswersReader, RawAnswer};
use qol_shared::instrument::{Instrument, InstrumentId};
use qol_shared::scoring::{Outcome, OutcomeTable};

use crate::config::ScoreArgs;

pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let instrument = InstrumentId::parse(&args.instrument)
        .with_context(|| format!("unknown instrument {:?}; use qlq-c30 or qlq-cx24", args.instrument))?;
    let input: Box<dyn Read> = if args.file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("could not open {}", args.file.display()))?;
        Box::new(file)
    };
    let stdout = std::io::stdout().lock();
    score_csv(
        instrument,
        BufReader::with_capacity(64 * 1024, input),
        BufWriter::new(stdout),
        args.items_answered,
    )
    .with_context(|| format!("while scoring {}", args.file.display()))
}

/// Where each input column goes.
#[derive(Debug, Clone, Copy)]
enum Column {
    PassThrough,
    Item(u8),
}

/// Scores `input` to `output`. Public so tests and benchmarks can run it on memory buffers.
pub fn score_csv(
    instrument: InstrumentId,
    input: impl Read,
    output: impl Write,
    items_answered: bool,
) -> anyhow::Result<()> {
    let definition = instrument.instrument();
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let headers = reader.headers().context("could not read the header row")?.clone();
    let columns = map_columns(definition, &headers)?;

    let mut writer = csv::Writer::from_writer(output);
    let mut header_out: Vec<String> = headers
        .iter()
        .zip(&columns)
        .filter(|(_, column)| matches!(column, Column::PassThrough))
        .map(|(name, _)| name.to_owned())
        .collect();
    header_out.extend(definition.score_codes().map(str::to_owned));
    if items_answered {
        header_out.extend(definition.scales.iter().map(|scale| format!("{}_items_answered", scale.code)));
    }
    writer.write_record(&header_out)?;

    // Per row, nothing is allocated: the record, the form and the number text are reused. A
    // scale's outcome and its text come from tables made once (a scale's score depends only on
    // its tally: items answered, the sum of their codes, whether its section applies).
    let mut record = csv::StringRecord::new();
    let mut form = AnswersReader::new(instrument);
    let table = OutcomeTable::new(instrument);
    let mut number = Vec::with_capacity(32);
    let texts: Vec<Box<[u8]>> = (0..table.len())
        .map(|entry| text(table.outcome(entry).and_then(Outcome::score), &mut number).into())
        .collect();
    let mut answered = Vec::with_capacity(definition.scales.len());
    while reader.read_record(&mut record).context("could not read the CSV")? {
        let line = record.position().map_or(0, |position| position.line());
        for (index, (cell, column)) in record.iter().zip(&columns).enumerate() {
            match column {
                Column::PassThrough => writer.write_field(cell)?,
                // The common cell, one digit, read without the general parse.
                Column::Item(item) => match cell.as_bytes() {
                    [digit @ b'0'..=b'9'] => {
                        form.add(RawAnswer::code((*item).into(), i64::from(digit - b'0')))
                    }
                    [] => {}
                    _ => {
                        let name = headers.get(index).unwrap_or_default();
                        if let Some(answer) = parse_cell(definition, *item, cell, line, name)? {
                            form.add(answer);
                        }
                    }
                },
            }
        }
        let answers = form.finish().map_err(|errors| {
            let first = &errors.0[0];
            anyhow::anyhow!("line {line}, {}", describe(first, &headers, &columns))
        })?;
        answered.clear();
        let mut written = Ok(());
        let summary = table.each(&answers, |entry, outcome| {
            if items_answered {
                answered.push(outcome.items_answered());
            }
            if written.is_ok() {
                written = match entry.and_then(|entry| texts.get(entry)) {
                    Some(text) => writer.write_field(text),
                    None => writer.write_field(text(outcome.score(), &mut number)),
                };
            }
        });
        written?;
        if let Some(summary) = summary {
            writer.write_field(text(summary.score(), &mut number))?;
        }
        if items_answered {
            for count in &answered {
                number.clear();
                write!(number, "{count}")?;
                writer.write_field(&number)?;
            }
        }
        writer.write_record(None::<&[u8]>)?;
    }
    writer.flush()?;
    Ok(())
}

/// A score's text, into `number`: blank when missing, else what `f64`'s `Display` writes (the
/// shortest text that reads back as the same number, without an exponent). `ryu` writes the same
/// shortest digits faster, with three differences, which go to `Display`:
/// - a whole number is `100.0`;
/// - a very small or large number has an exponent;
/// - a tie: when two shortest texts are equally near the number, `ryu` takes the even last digit
///   and `Display` the higher one. A tie needs a number whose exact decimal text ends one digit
///   after the shortest, so at most 18 significant digits; from 10⁻⁵ up, that is a number with at
///   most 23 binary fraction digits (×2²⁴ a whole number). Scores rarely are (a mean of thirds,
///   twelfths and thirteenths), and these go to `Display`.
///
/// A test compares the two on every score a scale can have, on summaries and on random numbers.
fn text(score: Option<f64>, number: &mut Vec<u8>) -> &[u8] {
    number.clear();
    if let Some(score) = score {
        let mut buffer = ryu::Buffer::new();
        let fast = buffer.format(score);
        if score.is_finite() && (score * 16_777_216.0).fract() != 0.0 && !fast.contains('e') {
            number.extend_from_slice(fast.as_bytes());
        } else {
            // Writing to a Vec cannot fail.
            let _ = write!(number, "{score}");
        }
    }
    number
}

fn map_columns(definition: &Instrument, headers: &csv::StringRecord) -> anyhow::Result<Vec<Column>> {
    let numbers = definition.item_numbers();
    let mut seen = vec![false; usize::from(*numbers.end()) + 1];
    let mut columns = Vec::with_capacity(headers.len());
    for name in headers {
        let item = name
            .trim()
            .strip_prefix(['q', 'Q'])
            .and_then(|digits| digits.parse::<u8>().ok())
            .filter(|number| numbers.contains(number) && !name.trim()[1..].starts_with('0'));
        match item {
            Some(number) => {
                if std::mem::replace(&mut seen[usize::from(number)], true) {
                    bail!("the header has column q{number} more than once");
                }
                columns.push(Column::Item(number));
            }
            None => columns.push(Column::PassThrough),
        }
    }
    let missing: Vec<String> =
        numbers.clone().filter(|n| !seen[usize::from(*n)]).map(|n| format!("q{n}")).collect();
    if !missing.is_empty() {
        bail!(
            "the header lacks column(s) {} for {}; a {} file needs q{}…q{} (blank cells are fine for skipped items)",
            missing.join(", "),
            definition.id,
            definition.id,
            numbers.start(),
            numbers.end()
        );
    }
    Ok(columns)
}

fn parse_cell(
    definition: &Instrument,
    item: u8,
    cell: &str,
    line: u64,
    column: &str,
) -> anyhow::Result<Option<RawAnswer>> {
    let text = cell.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("na") {
        return Ok(None);
    }
    if text.eq_ignore_ascii_case("not_applicable") {
        return Ok(Some(RawAnswer::not_applicable(item.into())));
    }
    let code = text
        .parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().filter(|v| v.fract() == 0.0 && v.abs() < 1e9).map(|v| v as i64));
    match code {
        Some(code) => Ok(Some(RawAnswer::code(item.into(), code))),
        None => bail!(
            "line {line}, column {column}: {cell:?} is not a response code; {}",
            allowed(definition, item)
        ),
    }
}

fn allowed(definition: &Instrument, item: u8) -> String {
    let scale = definition.item(item).map(|item| item.response_scale);
    let codes = scale.map_or_else(String::new, |scale| {
        scale.codes().map(|code| code.to_string()).collect::<Vec<_>>().join(", ")
    });
    let section = if definition.section_of(item).is_some() { ", not_applicable" } else { "" };
    format!("allowed: {codes}{section}, or blank for a skipped item")
}

fn describe(error: &AnswerError, headers: &csv::StringRecord, columns: &[Column]) -> String {
    let column_of = |item: u8| {
        columns
            .iter()
            .position(|column| matches!(column, Column::Item(n) if *n == item))
            .and_then(|index| headers.get(index))
            .map_or_else(|| format!("q{item}"), str::to_owned)
    };
    match error {
        AnswerError::CodeOutOfRange { item, code, lowest, highest } => format!(
            "column {}: {code} is not an allowed code; allowed: {lowest}–{highest}, or blank for a skipped item",
            column_of(*item)
        ),
        AnswerError::NotApplicableNotAllowed { item } => format!(
            "column {}: not_applicable is only allowed for the sexual-activity items q50–q54",
            column_of(*item)
        ),
        AnswerError::AnswerInNotApplicableSection { item, .. } => format!(
            "column {}: has an answer while another item of q50–q54 is not_applicable; mark all of them or none",
            column_of(*item)
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qol_shared::answers::Answers;

    fn run(instrument: InstrumentId, input: &str, counts: bool) -> anyhow::Result<String> {
        let mut output = Vec::new();
        score_csv(instrument, input.as_bytes(), &mut output, counts)?;
        Ok(String::from_utf8(output).unwrap())
    }

    fn c30_header() -> String {
        (1..=30).map(|n| format!("q{n}")).collect::<Vec<_>>().join(",")
    }

    /// The file as the plain path writes it: `score()` per row and each number's `to_string()`.
    fn reference(instrument: InstrumentId, rows: &[(String, Vec<Option<i64>>)]) -> String {
        let definition = instrument.instrument();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["id".to_owned()];
        header.extend(definition.score_codes().map(str::to_owned));
        header.extend(definition.scales.iter().map(|scale| format!("{}_items_answered", scale.code)));
        writer.write_record(&header).unwrap();
        for (id, codes) in rows {
            let raw = definition
                .items
                .iter()
                .zip(codes)
                .filter_map(|(item, code)| code.map(|code| RawAnswer::code(item.number.into(), code)));
            let scores = qol_shared::scoring::score(&Answers::parse(instrument, raw).unwrap());
            let mut record = vec![id.clone()];
            record.extend(
                definition
                    .score_codes()
                    .map(|code| scores.score(code).map(|v| v.to_string()).unwrap_or_default()),
            );
            record.extend(
                definition.scales.iter().map(|s| scores.get(s.code).unwrap().items_answered().to_string()),
            );
            writer.write_record(&record).unwrap();
        }
        String::from_utf8(writer.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn output_is_the_plain_scoring_path_s_byte_for_byte_on_varied_rows() {
        let mut state: u64 = 0x9e37_79b9;
        let mut next = move |below: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % below
        };
        for instrument in InstrumentId::ALL {
            let definition = instrument.instrument();
            let mut rows = Vec::new();
            for row in 0..3000 {
                // Some rows sparse (scales missing, the half rule at its edge), ids needing quotes.
                let blank = if row % 7 == 0 { 2 } else { 12 };
                let codes: Vec<Option<i64>> = definition
                    .items
                    .iter()
                    .map(|item| {
                        let top = u64::from(item.response_scale.highest());
                        (next(blank) != 0).then(|| 1 + next(top) as i64)
                    })
                    .collect();
                // CX24: item 49 "not at all" needs 50–54 not applicable; keep it simple and
                // answer it at least "a little".
                let codes: Vec<Option<i64>> = codes
                    .into_iter()
                    .zip(definition.items)
                    .map(|(code, item)| if item.number == 49 { Some(code.unwrap_or(2).max(2)) } else { code })
                    .collect();
                rows.push((format!("P{row},\"x\""), codes));
            }
            let mut input = String::from("id");
            for item in definition.items {
                input.push_str(&format!(",q{}", item.number));
            }
            input.push('\n');
            let mut writer = csv::Writer::from_writer(Vec::new());
            for (id, codes) in &rows {
                let mut record = vec![id.clone()];
                record.extend(codes.iter().map(|code| code.map(|c| c.to_string()).unwrap_or_default()));
                writer.write_record(&record).unwrap();
            }
            input.push_str(std::str::from_utf8(&writer.into_inner().unwrap()).unwrap());
            let output = run(instrument, &input, true).unwrap();
            assert_eq!(output, reference(instrument, &rows), "{instrument}");
        }
    }

    /// `text` writes what `Display` writes: on every score a scale can have, on summaries of
    /// random forms, and on random numbers of every size (where `ryu`'s form differs).
    #[test]
    fn a_score_s_text_is_display_s_text() {
        let mut number = Vec::new();
        let mut check = |value: f64| {
            let expected = value.to_string();
            assert_eq!(std::str::from_utf8(text(Some(value), &mut number)).unwrap(), expected);
        };
        for instrument in InstrumentId::ALL {
            let table = OutcomeTable::new(instrument);
            for entry in 0..table.len() {
                table.outcome(entry).and_then(Outcome::score).into_iter().for_each(&mut check);
            }
        }
        let mut state: u64 = 0x2545_f491;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let codes: Vec<RawAnswer> = (1..=30)
                .filter_map(|item| {
                    let top = if item >= 29 { 7 } else { 4 };
                    let roll = next();
                    (roll % 8 != 0).then(|| RawAnswer::code(item, 1 + (roll >> 8) as i64 % top))
                })
                .collect();
            let answers = Answers::parse(InstrumentId::QlqC30, codes).unwrap();
            let scores = qol_shared::scoring::score(&answers);
            scores.score("C30SUM").into_iter().for_each(&mut check);
            let uniform = (next() >> 11) as f64 / (1u64 << 53) as f64;
            // Numbers between 0 and 100 with every fraction digit, as most scores are.
            check(uniform * 100.0);
            // From 10⁻⁶ to 10¹⁷, past both ends of `ryu`'s form without an exponent.
            let spread = 10f64.powf(uniform * 23.0 - 6.0);
            check(spread);
            check(spread.trunc());
            // Numbers with few binary fraction digits, where ties are.
            check((next() % (1 << 40)) as f64 / f64::from(1u32 << (next() % 31)));
            // Any bit pattern: infinities and NaN among them.
            check(f64::from_bits(next()));
        }
        // A tie at 16 digits, and one found at 17 (2207809960752839.25: `ryu` writes …839.2, `Display` …839.3).
        for value in [
            0.0,
            -0.0,
            100.0,
            64.0 + 1.0 / 32768.0,
            8831239843011357.0 / 4.0,
            1e-7,
            1e16,
            f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            check(value);
        }
        assert_eq!(text(None, &mut number), b"");
    }

    #[test]
    fn passes_other_columns_through_in_front_and_scores_at_full_precision() {
        let input = format!(
            "id,{},visit\nA,1,2,1,1,1,2,1,2,3,2,3,3,1,1,1,2,1,2,2,2,2,3,2,1,1,2,2,1,5,4,baseline\n",
            c30_header()
        );
        let output = run(InstrumentId::QlqC30, &input, false).unwrap();
        let mut lines = output.lines();
        assert_eq!(lines.next().unwrap(), "id,visit,QL2,PF2,RF2,EF,CF,SF,FA,NV,PA,DY,SL,AP,CO,DI,FI,C30SUM");
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(&row[..2], ["A", "baseline"]);
        let ql2: f64 = row[2].parse().unwrap();
        assert!((ql2 - 58.3333).abs() < 1e-4);
        assert!(row[2].len() > 10, "full precision, not rounded: {}", row[2]);
        assert_eq!(row[9], "0"); // NV
        let summary: f64 = row[17].parse().unwrap();
        assert!((summary - 74.2735).abs() < 1e-4);
    }

    #[test]
    fn blank_cells_are_skipped_items_and_missing_scores_are_blank() {
        let mut cells = vec![""; 30];
        cells[28] = "4";
        let input = format!("{}\n{}\n", c30_header(), cells.join(","));
        let output = run(InstrumentId::QlqC30, &input, true).unwrap();
        let row: Vec<&str> = output.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(row[0], "50"); // QL2 from q29 alone
        assert!(row[1..16].iter().all(|cell| cell.is_empty()));
        assert_eq!(row[16], "1"); // QL2_items_answered
        assert_eq!(row[17], "0"); // PF2_items_answered
    }

    #[test]
    fn cx24_not_applicable_cells_are_read() {
        let header = (31..=54).map(|n| format!("Q{n}")).collect::<Vec<_>>().join(",");
        // q49 "not at all" (not sexually active): q50–q54 do not apply.
        let row = "2,1,1,3,1,2,1,2,3,1,1,2,1,4,2,3,2,3,1,not_applicable,NA,,not_applicable,not_applicable";
        let output = run(InstrumentId::QlqCx24, &format!("{header}\n{row}\n"), false).unwrap();
        let cells: Vec<&str> = output.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(cells[2], ""); // CXSV
        assert_eq!(cells[8], ""); // CXSXE
        assert!(cells[0].starts_with("21.21"));
    }

    #[test]
    fn a_bad_code_names_the_line_the_column_and_the_allowed_codes() {
        let mut cells = vec!["1"; 30];
        cells[29] = "9";
        let input = format!("{}\n{}\n{}\n", c30_header(), vec!["1"; 30].join(","), cells.join(","));
        let error = run(InstrumentId::QlqC30, &input, false).unwrap_err().to_string();
        assert_eq!(
            error,
            "line 3, column q30: 9 is not an allowed code; allowed: 1–7, or blank for a skipped item"
        );
        cells[29] = "often";
        let input = format!("{}\n{}\n", c30_header(), cells.join(","));
        let error = run(InstrumentId::QlqC30, &input, false).unwrap_err().to_string();
        assert_eq!(
            error,
            "line 2, column q30: \"often\" is not a response code; allowed: 1, 2, 3, 4, 5, 6, 7, or blank for a skipped item"
        );
    }

    #[test]
    fn a_header_without_every_item_column_is_refused() {
        let error = run(InstrumentId::QlqC30, "id,q1,q2\nA,1,1\n", false).unwrap_err().to_string();
        assert!(error.contains("lacks column(s) q3, q4"), "{error}");
        let error =
            run(InstrumentId::QlqC30, &format!("{},q1\n", c30_header()), false).unwrap_err().to_string();
        assert_eq!(error, "the header has column q1 more than once");
    }

    #[test]
    fn a_row_with_the_wrong_number_of_cells_is_refused() {
        let input = format!("{}\n1,2\n", c30_header());
        assert!(run(InstrumentId::QlqC30, &input, false).is_err());
    }

    #[test]
    fn whole_number_decimals_are_read_as_codes() {
        let mut cells = vec!["1.0"; 30];
        cells[0] = "2.5";
        let input = format!("{}\n{}\n", c30_header(), cells.join(","));
        let error = run(InstrumentId::QlqC30, &input, false).unwrap_err().to_string();
        assert!(error.starts_with("line 2, column q1: \"2.5\""), "{error}");
        let input = format!("{}\n{}\n", c30_header(), vec!["1.0"; 30].join(","));
        assert!(run(InstrumentId::QlqC30, &input, false).is_ok());
    }
}
