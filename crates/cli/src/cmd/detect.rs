//! `dialtone detect`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use dialtone_bench::online::OnlineSeries;
use dialtone_bench::series::SeriesReader;

use super::UsageError;

/// Scores each row of a `timestamp,value` CSV as the server would have live.
///
/// The detector runs strictly online: a row's score depends only on the rows
/// before it. Rows with an empty or non-numeric value, or a timestamp not after
/// the last scored one, pass through with score 0.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// CSV with a `timestamp,value` header (NAB layout; extra columns are
    /// ignored). Timestamps are `YYYY-MM-DD HH:MM:SS`, RFC 3339 or Unix seconds. A
    /// `.gz` file is decompressed on the fly.
    #[arg(long, value_name = "FILE.csv")]
    input: PathBuf,
    /// Write `timestamp,value,anomaly_score` here (replaced atomically)
    /// instead of standard output.
    #[arg(long, value_name = "OUT.csv")]
    output: Option<PathBuf>,
}

pub fn run(args: DetectArgs) -> anyhow::Result<()> {
    let reader = SeriesReader::open(&args.input).map_err(|e| UsageError(e.to_string()))?;
    match &args.output {
        Some(path) => write_atomically(path, |out| score(reader, out)),
        None => {
            let result = score(reader, BufWriter::new(io::stdout().lock()));
            // A closed pipe (`| head`) means the reader has what it wanted.
            match result {
                Err(e) if is_broken_pipe(&e) => Ok(()),
                other => other,
            }
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let io = c.downcast_ref::<io::Error>().or_else(|| {
            match c.downcast_ref::<csv::Error>()?.kind() {
                csv::ErrorKind::Io(io) => Some(io),
                _ => None,
            }
        });
        io.is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Streams scored rows to `out`; bad input is a [`UsageError`] naming the line.
fn score(mut reader: SeriesReader, out: impl Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["timestamp", "value", "anomaly_score"])?;
    let mut detector = OnlineSeries::default();
    let mut score_text = String::new();
    while let Some(row) = reader.next_row().map_err(|e| UsageError(e.to_string()))? {
        let s = detector.score(row.timestamp, row.value);
        score_text.clear();
        std::fmt::Write::write_fmt(&mut score_text, format_args!("{s}"))?;
        writer.write_record([row.timestamp_raw, row.value_raw, score_text.as_str()])?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes `path` through a temporary file beside it, renamed into place only
/// when `write` succeeds: a failed run leaves any previous file untouched and
/// no partial output behind.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| UsageError(format!("--output {} names no file", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut out = File::create(&tmp).map(BufWriter::new).map_err(|e| {
        UsageError(format!(
            "cannot write to {}: {e}; choose an --output in a writable directory",
            dir.display()
        ))
    })?;
    let result = write(&mut out)
        .and_then(|()| out.flush().context("flushing output"))
        .and_then(|()| out.get_ref().sync_all().context("syncing output"))
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("renaming output to {}", path.display()))
        });
    if result.is_err() {
        // Best effort: the error being returned matters more than a failed cleanup.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> SeriesReader {
        SeriesReader::from_reader(Box::new(io::Cursor::new(text.to_owned())), "in.csv".into())
            .unwrap()
    }

    #[test]
    fn one_output_row_per_input_row_in_order() {
        let mut input = String::from("timestamp,value,label\n");
        for t in 0..200 {
            input.push_str(&format!(
                "{},{},0\n",
                1000 + 60 * t,
                if t == 150 { 1e6 } else { 5.0 }
            ));
        }
        input.push_str("1000,5,0\n99999,,0\n99999,abc,0\n");
        let mut out = Vec::new();
        score(reader(&input), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "timestamp,value,anomaly_score");
        assert_eq!(lines.len(), 1 + 203);
        assert!(lines[1].starts_with("1000,5,"));
        let spike: f64 = lines[151].rsplit(',').next().unwrap().parse().unwrap();
        assert!(spike > 0.5, "a 200000x spike scores {spike}");
        assert_eq!(&lines[201..], ["1000,5,0", "99999,,0", "99999,abc,0"]);
    }

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("dialtone-detect-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        std::fs::write(&path, "previous").unwrap();
        let err = write_atomically(&path, |out| {
            score(reader("timestamp,value\n1,2\nnoon,3\n"), out)
        });
        assert!(err.unwrap_err().to_string().contains("line 3"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary file removed"
        );
        write_atomically(&path, |out| score(reader("timestamp,value\n1,2\n"), out)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "timestamp,value,anomaly_score\n1,2,0\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
