//! The floor under `qol score`: the `csv` crate alone reading a file and writing one of the shape
//! `qol score` writes (the first column, then 16 score-like numbers per row), with the same
//! buffers. `cargo xtask bench` divides `qol score`'s time by this one's.
//!
//! Usage: `csv_floor FILE.csv > /dev/null`

use std::io::{BufReader, BufWriter, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: csv_floor FILE.csv")?;
    let input = BufReader::with_capacity(64 * 1024, std::fs::File::open(path)?);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let mut writer = csv::Writer::from_writer(BufWriter::new(std::io::stdout().lock()));
    writer.write_field("id")?;
    for n in 0..16 {
        writer.write_field(format!("S{n}"))?;
    }
    writer.write_record(None::<&[u8]>)?;
    // Every cell is read (and checked as UTF-8, as qol's reader does); the numbers written are
    // typical score texts, mixed in length as real scores are.
    const SCORES: [&str; 4] = ["66.66666666666667", "0", "33.33333333333333", "100"];
    let mut record = csv::StringRecord::new();
    let mut row = 0usize;
    while reader.read_record(&mut record)? {
        writer.write_field(record.get(0).unwrap_or_default())?;
        let cells = record.iter().skip(1).filter(|cell| !cell.is_empty()).count();
        for n in 0..16 {
            writer.write_field(SCORES[(row + n + cells) % SCORES.len()])?;
        }
        writer.write_record(None::<&[u8]>)?;
        row += 1;
    }
    writer.flush()?;
    std::io::stdout().flush()?;
    Ok(())
}
