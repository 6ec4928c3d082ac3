//! `dialtone detect`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;

use dialtone_bench::online::{Fed, OnlineSeries};
use dialtone_bench::series::{Row, SeriesReader};
use dialtone_detect::DetectorConfig;

use super::UsageError;
use super::chart::{Envelope, Legend};
use super::output::{Output, same_destination};

/// Score a `timestamp,value` CSV with the detector the server runs.
///
/// Each row is scored as the server would have scored it live.
///
/// The detector runs strictly online: a row's score depends only on the rows
/// before it. Rows with an empty or non-numeric value, or a timestamp not after
/// the last scored one, pass through with score 0. A summary goes to standard
/// error: rows scored and passed through, and the rows at or above the
/// server's alarm threshold.
///
/// Example: dialtone detect --input cpu.csv --output scored.csv --plot cpu.svg
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// CSV with a `timestamp,value` header (NAB layout; extra columns are
    /// ignored). Timestamps are `YYYY-MM-DD HH:MM:SS`, RFC 3339 or Unix seconds. A
    /// `.gz` file is decompressed on the fly. A row whose value is empty or
    /// not a finite number, or whose timestamp is not after the previous
    /// one, is passed through with score 0; a timestamp that cannot be read
    /// stops the run, naming its line.
    #[arg(long, value_name = "FILE.csv")]
    input: PathBuf,
    /// Write `timestamp,value,anomaly_score` here instead of standard output:
    /// a file is replaced only once every row is scored (a device or
    /// `/dev/stdout` is written in place). The path is checked before any work.
    #[arg(long, value_name = "OUT.csv")]
    output: Option<PathBuf>,
    /// Also draw the series and its scores as an SVG chart here (replaced
    /// atomically): values as a min/max band over time, scores below with
    /// the alarm threshold, alarms shaded red and, where the file has a
    /// `label` column, its anomalies amber. Any length of file draws in at
    /// most 1,000 time columns.
    #[arg(long, value_name = "CHART.svg")]
    plot: Option<PathBuf>,
}

/// What one run did, for the summary on standard error and the chart.
#[derive(Debug)]
struct Summary {
    rows: u64,
    no_value: u64,
    not_after_last: u64,
    /// The first row passed through for its timestamp: its line and
    /// timestamp as written. One timestamp far ahead leaves every row after
    /// it unscored, and the summary says where to look.
    first_not_after: Option<(u64, String)>,
    /// Rows the file's `label` column marks anomalous, scored or not.
    labelled: u64,
    /// Scored rows: the chart's envelope (alarms counted there).
    envelope: Envelope,
    /// The first rows at or above the alarm threshold, as written in the file.
    first_alarms: Vec<String>,
}

/// Alarmed rows the summary names.
const NAMED_ALARMS: usize = 5;

impl Summary {
    fn new(alarm_threshold: f64) -> Summary {
        Summary {
            rows: 0,
            no_value: 0,
            not_after_last: 0,
            first_not_after: None,
            labelled: 0,
            envelope: Envelope::new(alarm_threshold),
            first_alarms: Vec::new(),
        }
    }

    fn count(&mut self, row: &Row, labelled: bool, fed: Fed) {
        self.rows += 1;
        self.labelled += u64::from(labelled);
        match fed {
            Fed::Scored { score, value } => {
                let alarmed = self.envelope.add(row.timestamp, value, score, labelled);
                if alarmed && self.first_alarms.len() < NAMED_ALARMS {
                    self.first_alarms.push(row.timestamp_raw.to_owned());
                }
            }
            Fed::NoValue => self.no_value += 1,
            Fed::NotAfterLast => {
                self.not_after_last += 1;
                (self.first_not_after)
                    .get_or_insert_with(|| (row.line, row.timestamp_raw.to_owned()));
            }
        }
    }

    /// The chart's caption and the first line of the summary.
    fn headline(&self) -> String {
        let mut line = format!(
            "{} rows, {} at or above the alarm threshold {}",
            self.rows,
            self.envelope.alarms(),
            self.envelope.threshold(),
        );
        if self.labelled > 0 {
            line += &format!("; {} labelled anomalous", self.labelled);
        }
        let passed = self.no_value + self.not_after_last;
        if passed > 0 {
            line += &format!(
                "; {passed} passed through with score 0 ({} without a usable value, {} not \
                 after the previous timestamp)",
                self.no_value, self.not_after_last
            );
        }
        line
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.headline())?;
        if let Some((line, timestamp)) = &self.first_not_after {
            write!(
                f,
                "\nfirst row not after the previous timestamp: line {line} ({timestamp}); rows \
                 are scored in file order, so sort the file by time, or fix a timestamp \
                 far ahead before it"
            )?;
        }
        if !self.first_alarms.is_empty() {
            let more = self.envelope.alarms() > self.first_alarms.len() as u64;
            write!(
                f,
                "\nfirst alarms: {}{}",
                self.first_alarms.join(", "),
                if more { ", ..." } else { "" }
            )?;
        }
        Ok(())
    }
}

pub fn run(args: DetectArgs) -> anyhow::Result<()> {
    let reader = SeriesReader::open(&args.input).map_err(|e| UsageError(e.to_string()))?;
    if let (Some(scores), Some(chart)) = (&args.output, &args.plot)
        && same_destination(scores, chart)
    {
        return Err(
            UsageError("--output and --plot name the same file: give each its own".into()).into(),
        );
    }
    // Both outputs open before any work: a bad path fails first.
    let output = (args.output.as_deref())
        .map(|p| Output::create_apart(p, "--output", &args.input))
        .transpose()?;
    let plot = (args.plot.as_deref())
        .map(|p| Output::create_apart(p, "--plot", &args.input))
        .transpose()?;
    let summary = match output {
        Some(mut output) => {
            let to = output.name().to_owned();
            let summary = score(reader, output.writer(), &to)?;
            output.commit()?;
            Some(summary)
        }
        None => match score(
            reader,
            BufWriter::new(io::stdout().lock()),
            "standard output",
        ) {
            Ok(summary) => Some(summary),
            // A closed pipe (`| head`) means the reader has what it wanted.
            Err(e) if is_broken_pipe(&e) => None,
            Err(e) => return Err(e),
        },
    };
    let Some(summary) = summary else {
        if let Some(path) = &args.plot {
            eprintln!(
                "no chart written to {}: standard output closed before the last row; \
                 write the scores with --output to chart the whole file",
                path.display()
            );
        }
        return Ok(());
    };
    if let Some(mut plot) = plot {
        let title = args.input.file_name().unwrap_or_default().to_string_lossy();
        let legend = Legend {
            threshold: "alarm",
            flagged: "alarm",
            labelled: "labelled anomalous",
            // Every row is scored: never shown.
            grey: "",
        };
        let svg = summary
            .envelope
            .render_svg(&title, &summary.headline(), legend);
        plot.write_all(svg.as_bytes())?;
        plot.commit()?;
    }
    eprintln!("{summary}");
    if let Some(path) = &args.plot {
        eprintln!("chart: {}", path.display());
    }
    Ok(())
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

/// Streams scored rows to `out` (named `to` in errors); bad input is a
/// [`UsageError`] naming the line.
fn score(mut reader: SeriesReader, out: impl Write, to: &str) -> anyhow::Result<Summary> {
    let writing = || format!("writing {to}");
    let mut writer = csv::Writer::from_writer(out);
    (writer.write_record(["timestamp", "value", "anomaly_score"])).with_context(writing)?;
    let config = DetectorConfig::default();
    let mut detector = OnlineSeries::new(config);
    let mut summary = Summary::new(config.alarm_threshold);
    let mut score_text = String::new();
    // A benchmark file's labels, if it has them, for the chart.
    let label = reader.column("label");
    while let Some(row) = reader.next_row().map_err(|e| UsageError(e.to_string()))? {
        let fed = detector.feed(row.timestamp, row.value);
        let labelled = label.is_some_and(|c| row.field(c).trim() == "1");
        summary.count(&row, labelled, fed);
        score_text.clear();
        std::fmt::Write::write_fmt(&mut score_text, format_args!("{}", fed.score()))?;
        (writer.write_record([
            row.timestamp_raw.as_bytes(),
            row.value_raw,
            score_text.as_bytes(),
        ]))
        .with_context(writing)?;
    }
    writer.flush().with_context(writing)?;
    Ok(summary)
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
                "{},{},{}\n",
                1000 + 60 * t,
                if t == 150 { 1e6 } else { 5.0 },
                u8::from(t == 150)
            ));
        }
        input.push_str("1000,5,0\n99999,,0\n99999,abc,0\n");
        let mut out = Vec::new();
        let summary = score(reader(&input), &mut out, "test").unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "timestamp,value,anomaly_score");
        assert_eq!(lines.len(), 1 + 203);
        assert!(lines[1].starts_with("1000,5,"));
        let spike: f64 = lines[151].rsplit(',').next().unwrap().parse().unwrap();
        assert!(spike > 0.5, "a 200000x spike scores {spike}");
        assert_eq!(&lines[201..], ["1000,5,0", "99999,,0", "99999,abc,0"]);
        assert_eq!(
            (summary.rows, summary.no_value, summary.not_after_last),
            (203, 2, 1)
        );
        assert_eq!(summary.envelope.alarms(), 1, "the spike alone: {summary}");
        assert_eq!(summary.first_alarms, [(1000 + 60 * 150).to_string()]);
        let text = summary.to_string();
        assert!(
            text.starts_with(
                "203 rows, 1 at or above the alarm threshold 0.52; 1 labelled anomalous; 3 passed \
                 through with score 0 (2 without a usable value, 1 not after"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nfirst row not after the previous timestamp: line 202 (1000);"),
            "{text}"
        );
        assert!(text.ends_with("\nfirst alarms: 10000"), "{text}");
    }

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("dialtone-detect-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        std::fs::write(&path, "previous").unwrap();
        let mut out = Output::create(&path, "--output").unwrap();
        let err = score(
            reader("timestamp,value\n1,2\nnoon,3\n"),
            out.writer(),
            "test",
        )
        .map(drop);
        drop(out);
        assert!(err.unwrap_err().to_string().contains("line 3"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary file removed"
        );
        let mut out = Output::create(&path, "--output").unwrap();
        score(reader("timestamp,value\n1,2\n"), out.writer(), "test").unwrap();
        out.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "timestamp,value,anomaly_score\n1,2,0\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
