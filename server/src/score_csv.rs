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
use qol_shared::answers::{AnswerError, Answers, RawAnswer};
use qol_shared::instrument::{Instrument, InstrumentId};
use qol_shared::scoring::{Outcome, score_each};

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
    let codes: Vec<&str> = definition.score_codes().collect();
    let mut header_out: Vec<String> = headers
        .iter()
        .zip(&columns)
        .filter(|(_, column)| matches!(column, Column::PassThrough))
        .map(|(name, _)| name.to_owned())
        .collect();
    header_out.extend(codes.iter().map(|code| (*code).to_owned()));
    if items_answered {
        header_out.extend(definition.scales.iter().map(|scale| format!("{}_items_answered", scale.code)));
    }
    writer.write_record(&header_out)?;

    // Per row, nothing is allocated: the record, the answers, the outcomes and the number text are
    // reused, and a scale's score text is formatted once per (items answered, sum of codes).
    let mut record = csv::StringRecord::new();
    let mut raw = Vec::with_capacity(definition.items.len());
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(codes.len());
    let mut texts = ScoreTexts::new(definition);
    let mut number = Vec::with_capacity(32);
    while reader.read_record(&mut record).context("could not read the CSV")? {
        let line = record.position().map_or(0, |position| position.line());
        raw.clear();
        for (index, (cell, column)) in record.iter().zip(&columns).enumerate() {
            match column {
                Column::PassThrough => writer.write_field(cell)?,
                // The common cell, one digit, read without the general parse.
                Column::Item(item) => match cell.as_bytes() {
                    [digit @ b'0'..=b'9'] => {
                        raw.push(RawAnswer::code((*item).into(), i64::from(digit - b'0')))
                    }
                    [] => {}
                    _ => {
                        let name = headers.get(index).unwrap_or_default();
                        if let Some(answer) = parse_cell(definition, *item, cell, line, name)? {
                            raw.push(answer);
                        }
                    }
                },
            }
        }
        let answers = Answers::parse(instrument, raw.iter().copied()).map_err(|errors| {
            let first = &errors.0[0];
            anyhow::anyhow!("line {line}, {}", describe(first, &headers, &columns))
        })?;
        outcomes.clear();
        score_each(&answers, |_, outcome| outcomes.push(outcome));
        for (index, outcome) in outcomes.iter().enumerate() {
            writer.write_field(texts.get(index, outcome, &mut number))?;
        }
        if items_answered {
            for outcome in &outcomes[..definition.scales.len()] {
                number.clear();
                write!(number, "{}", outcome.items_answered())?;
                writer.write_field(&number)?;
            }
        }
        writer.write_record(None::<&[u8]>)?;
    }
    writer.flush()?;
    Ok(())
}

/// The text of each scale's scores, formatted once: a scale's score depends only on how many of
/// its items were answered and the sum of their codes, so a file of a million rows has a few
/// hundred distinct score texts per scale. The text is `f64`'s `Display` (shortest round trip),
/// and a blank for a missing score. The summary, a mean of 13 scores, is formatted each time.
struct ScoreTexts {
    /// Per scale: the largest sum of codes + 1, and the texts by `answered * width + sum`.
    scales: Vec<(usize, Texts)>,
}

/// A scale's score texts, each formatted when first met.
type Texts = Vec<Option<Box<[u8]>>>;

impl ScoreTexts {
    fn new(definition: &Instrument) -> ScoreTexts {
        let scales = definition
            .scales
            .iter()
            .map(|scale| {
                let highest = scale
                    .items
                    .iter()
                    .filter_map(|item| definition.item(*item))
                    .map(|item| usize::from(item.response_scale.highest()))
                    .max()
                    .unwrap_or(0);
                let width = scale.items.len() * highest + 1;
                (width, vec![None; (scale.items.len() + 1) * width])
            })
            .collect();
        ScoreTexts { scales }
    }

    /// The text of score `index`'s `outcome`; `number` is scratch space for a text not kept.
    /// Inlined into the row loop: a text met before is a few loads away.
    #[inline]
    fn get<'a>(&'a mut self, index: usize, outcome: &Outcome, number: &'a mut Vec<u8>) -> &'a [u8] {
        let Outcome::Scored { score, raw_score, items_answered, .. } = *outcome else { return b"" };
        // The sum of the codes, back from their mean (a small whole number; the mean is at least
        // 1, so adding a half and truncating rounds it).
        let sum = (raw_score * f64::from(items_answered) + 0.5) as usize;
        let slot = self.scales.get_mut(index).and_then(|(width, texts)| {
            let at = usize::from(items_answered) * *width + sum;
            (sum < *width).then_some(at).and_then(|at| texts.get_mut(at))
        });
        match slot {
            Some(Some(text)) => text,
            Some(slot) => slot.insert(format(score, number).into()),
            None => format(score, number),
        }
    }
}

/// `score` as `f64`'s `Display` writes it, into `number`: a scale's text once, the summary's on
/// every row.
#[inline(never)]
fn format(score: f64, number: &mut Vec<u8>) -> &[u8] {
    number.clear();
    // Writing to a Vec cannot fail.
    let _ = write!(number, "{score}");
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
