//! The 2018 AIOps Challenge KPI protocol: point-adjusted F1 with a detection delay.
//!
//! A labelled segment counts as detected if any of its first `delay + 1`
//! points is flagged; then all its points are true positives, else all are
//! false negatives. Flagged points outside segments are false positives. All
//! KPIs are pooled into one F1.
//!
//! The challenge scores each KPI on a regular grid at its smallest timestamp
//! step, a missing point labelled normal and never flagged: a labelled run
//! with a gap in it is two segments, each with its own delay ([`on_grid`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::NO_DETECTION_THRESHOLD;
use crate::online::OnlineSeries;
use crate::series::{ReadError, SeriesReader};

/// The challenge's delay: 7 points (7 min on 60 s KPIs, 35 min on 300 s ones).
pub const DELAY: usize = 7;

#[derive(Debug, thiserror::Error)]
pub enum KpiError {
    #[error("cannot list {path}: {err}; point --data at the AIOps KPI directory (*.csv.gz)")]
    Io {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error(
        "{0}: no *.csv.gz or *.csv files; expected one `timestamp,value,label,is_test` file per KPI"
    )]
    NoData(PathBuf),
    #[error("{} and {}: one KPI in two files; keep one", .0.display(), .1.display())]
    TwoCopies(PathBuf, PathBuf),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "{source_name}: no `{column}` column; expected `timestamp,value,label,is_test` (`is_test` may be left out)"
    )]
    MissingColumn {
        source_name: String,
        column: &'static str,
    },
    #[error("{source_name}: line {line}: `{column}` is `{value}`; it must be 0 or 1")]
    BadFlag {
        source_name: String,
        line: u64,
        column: &'static str,
        value: String,
    },
    #[error(
        "{source_name}: line {line}: a train row (is_test=0) after test rows; the train half must come first"
    )]
    TrainAfterTest { source_name: String, line: u64 },
    #[error(
        "{source_name}: line {line}: timestamp {timestamp} is also on line {first_line}; the scoring grid needs each timestamp once"
    )]
    RepeatedTimestamp {
        source_name: String,
        line: u64,
        first_line: u64,
        timestamp: i64,
    },
}

/// Point counts after point adjustment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Counts {
    pub fn precision(self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

/// `num / den`, 0 for an empty denominator (no flags, or no positives: nothing was found).
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The point-adjusted outcome of one series: its counts, and how many
/// labelled segments it has and how many of them were detected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Adjusted {
    #[serde(flatten)]
    pub counts: Counts,
    pub segments: u64,
    pub detected: u64,
}

/// Each point of a series as the point-adjusted rule with `delay` counts it
/// when `flagged` marks the flagged points: the rule itself, which
/// [`point_adjust`] tallies and [`row_outcomes`] maps back to a half's rows.
pub fn outcomes(labels: &[bool], flagged: &[bool], delay: usize) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(labels.len());
    let mut i = 0;
    while i < labels.len() {
        if !labels[i] {
            out.push(if flagged[i] {
                Outcome::FalsePositive
            } else {
                Outcome::Normal
            });
            i += 1;
            continue;
        }
        let end = labels[i..]
            .iter()
            .position(|&l| !l)
            .map_or(labels.len(), |k| i + k);
        let found = flagged[i..end.min(i + delay + 1)].iter().any(|&f| f);
        out.resize(
            end,
            if found {
                Outcome::Found
            } else {
                Outcome::Missed
            },
        );
        i = end;
    }
    out
}

/// The point-adjusted outcome of one series, straight from the rule; the
/// reference that [`Sweep`] must agree with.
pub fn point_adjust(labels: &[bool], flagged: &[bool], delay: usize) -> Adjusted {
    let mut a = Adjusted::default();
    for (i, o) in outcomes(labels, flagged, delay).into_iter().enumerate() {
        // A segment starts at a labelled point after an unlabelled one.
        let starts = labels[i] && (i == 0 || !labels[i - 1]);
        match o {
            Outcome::Normal => {}
            Outcome::FalsePositive => a.counts.fp += 1,
            Outcome::Found => a.counts.tp += 1,
            Outcome::Missed => a.counts.fn_ += 1,
        }
        a.segments += u64::from(starts);
        a.detected += u64::from(starts && o == Outcome::Found);
    }
    a
}

/// Everything the threshold sweep needs, reduced to events: a segment is
/// detected from the threshold at the maximum score of its first `delay + 1`
/// points on, and adds its length to TP; a point outside segments adds one FP
/// from its own score on. Sorting the events once gives every threshold's counts.
#[derive(Debug, Default)]
pub struct Sweep {
    events: Vec<Event>,
    positives: u64,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    score: f64,
    tp: u64,
    fp: u64,
}

/// A threshold and the counts it gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored {
    /// A point is flagged iff its score >= threshold.
    pub threshold: f64,
    #[serde(flatten)]
    pub counts: Counts,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scored {
    fn new(threshold: f64, counts: Counts) -> Scored {
        Scored {
            threshold,
            counts,
            precision: counts.precision(),
            recall: counts.recall(),
            f1: counts.f1(),
        }
    }
}

impl Sweep {
    /// Adds one series (a KPI's half); segments end at its edges.
    pub fn add_series(&mut self, labels: &[bool], scores: &[f64], delay: usize) {
        assert_eq!(labels.len(), scores.len(), "one label per score");
        let mut i = 0;
        while i < labels.len() {
            if labels[i] {
                let end = labels[i..]
                    .iter()
                    .position(|&l| !l)
                    .map_or(labels.len(), |k| i + k);
                let score = scores[i..end.min(i + delay + 1)]
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                let len = (end - i) as u64;
                self.positives += len;
                self.events.push(Event {
                    score,
                    tp: len,
                    fp: 0,
                });
                i = end;
            } else {
                self.events.push(Event {
                    score: scores[i],
                    tp: 0,
                    fp: 1,
                });
                i += 1;
            }
        }
    }

    /// The counts at `threshold`.
    pub fn at(&self, threshold: f64) -> Scored {
        let mut c = Counts::default();
        for e in self.events.iter().filter(|e| e.score >= threshold) {
            c.tp += e.tp;
            c.fp += e.fp;
        }
        c.fn_ = self.positives - c.tp;
        Scored::new(threshold, c)
    }

    /// The threshold with the best F1 over every distinct score (and "flag
    /// nothing"); the highest such threshold on ties, flagging least.
    pub fn best(&mut self) -> Scored {
        self.events
            .sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
        let mut c = Counts {
            fn_: self.positives,
            ..Counts::default()
        };
        let mut best = Scored::new(NO_DETECTION_THRESHOLD, c);
        // NaN never reaches a threshold, so it is never a candidate either.
        for group in self
            .events
            .chunk_by(|a, b| a.score == b.score)
            .filter(|g| !g[0].score.is_nan())
        {
            for e in group {
                c.tp += e.tp;
                c.fp += e.fp;
            }
            c.fn_ = self.positives - c.tp;
            if c.f1() > best.f1 {
                best = Scored::new(group[0].score, c);
            }
        }
        best
    }
}

/// The KPI benchmark's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiReport {
    pub kpis: usize,
    pub rows: u64,
    /// KPIs without an `is_test` column, split at their middle row ([`Split::Middle`]).
    pub split_at_middle: usize,
    /// Gaps between rows on the challenge's grid, over all halves ([`Grid::gaps`]).
    pub gaps: u64,
    /// Those inside a labelled run, each splitting it ([`Grid::gaps_in_labelled_runs`]).
    pub gaps_in_labelled_runs: u64,
    pub delay: usize,
    /// Best F1 on the train halves; its threshold is the one deployed.
    pub train: Scored,
    /// The train threshold applied unchanged to the test halves: the deployable number.
    pub test: Scored,
    /// The best threshold chosen on the test halves themselves: an optimistic oracle.
    pub test_oracle: Scored,
    /// Each KPI's test half at the deployable threshold, in file order: where
    /// the pooled F1 is won and lost. Their counts add up to [`KpiReport::test`]'s.
    pub per_kpi: Vec<KpiBreakdown>,
}

/// One KPI's test half at the deployable threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiBreakdown {
    /// The file name without `.csv.gz` or `.csv`.
    pub kpi: String,
    #[serde(flatten)]
    pub adjusted: Adjusted,
}

/// The endings of a KPI file's name, the longer first (see [`kpi_name`]).
const KPI_SUFFIXES: [&str; 2] = [".csv.gz", ".csv"];

/// The KPI files (`*.csv.gz`, or uncompressed `*.csv`) in `dir`, sorted.
pub fn data_files(dir: &Path) -> Result<Vec<PathBuf>, KpiError> {
    let io = |err| KpiError::Io {
        path: dir.to_owned(),
        err,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.to_string_lossy();
        if KPI_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(KpiError::NoData(dir.to_owned()));
    }
    paths.sort();
    // `a.csv` and `a.csv.gz` are one KPI, which must not count twice.
    let mut seen = std::collections::HashMap::new();
    for path in &paths {
        if let Some(first) = seen.insert(kpi_name(path), path) {
            return Err(KpiError::TwoCopies(first.clone(), path.clone()));
        }
    }
    Ok(paths)
}

/// Runs the detector online over each KPI file (train half then test half,
/// one fresh state per KPI) and scores it. `progress` is called once per
/// finished file.
pub fn run_detector(
    files: &[PathBuf],
    keep_test_halves: bool,
    mut progress: impl FnMut(&Path),
) -> Result<KpiRun, KpiError> {
    let mut pool = Pool::default();
    let mut rows = 0;
    let mut split_at_middle = 0;
    // The test halves wait for the train threshold, for the per-KPI figures.
    let mut test_halves = Vec::with_capacity(files.len());
    let mut kept = Vec::new();
    for path in files {
        let ([train, test], split) = score_file(path)?;
        split_at_middle += usize::from(split == Split::Middle);
        rows += (train.timestamps.len() + test.timestamps.len()) as u64;
        let [_, test_grid] = pool.add([train.parts(), test.parts()]);
        test_halves.push((kpi_name(path), test_grid.labels, test_grid.scores));
        if keep_test_halves {
            kept.push(test);
        }
        progress(path);
    }
    let Pool {
        mut train,
        mut test,
        gaps,
        gaps_in_labelled_runs,
    } = pool;
    let train_best = train.best();
    let threshold = train_best.threshold;
    let per_kpi = test_halves
        .into_iter()
        .map(|(kpi, labels, scores)| {
            let flagged: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
            KpiBreakdown {
                kpi,
                adjusted: point_adjust(&labels, &flagged, DELAY),
            }
        })
        .collect();
    let report = KpiReport {
        kpis: files.len(),
        rows,
        split_at_middle,
        gaps,
        gaps_in_labelled_runs,
        delay: DELAY,
        train: train_best,
        test: test.at(threshold),
        test_oracle: test.best(),
        per_kpi,
    };
    Ok(KpiRun {
        report,
        test_halves: kept,
    })
}

/// A run of the KPI benchmark: its report and, where asked for, each KPI's
/// test half as scored, in file order (for charts).
#[derive(Debug)]
pub struct KpiRun {
    pub report: KpiReport,
    pub test_halves: Vec<Half>,
}

/// A KPI's name: its file name without `.csv.gz` or `.csv`.
fn kpi_name(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (KPI_SUFFIXES.iter())
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(&name)
        .to_owned()
}

/// One half of a KPI file as read: each row's timestamp, value (none where
/// the file has none), label and score.
#[derive(Debug, Default)]
pub struct Half {
    /// Increasing: the file's rows are put in time order.
    pub timestamps: Vec<i64>,
    /// What the detector was given: none for an empty or non-numeric value.
    pub values: Vec<Option<f64>>,
    /// Labelled anomalous.
    pub labels: Vec<bool>,
    /// The detector's score, online over the whole file (train half first).
    pub scores: Vec<f64>,
}

impl Half {
    fn parts(&self) -> HalfParts<'_> {
        (&self.timestamps, &self.labels, &self.scores)
    }
}

/// One half of a KPI (train or test): each row's timestamp, label and score.
pub type HalfParts<'a> = (&'a [i64], &'a [bool], &'a [f64]);

/// Every KPI's halves pooled for the threshold sweeps (one F1 over all
/// KPIs), with the tally of the gaps their grids bridged.
#[derive(Debug, Default)]
pub struct Pool {
    pub train: Sweep,
    pub test: Sweep,
    /// Gaps between rows on the challenge's grid ([`Grid::gaps`]).
    pub gaps: u64,
    /// Those inside a labelled run ([`Grid::gaps_in_labelled_runs`]).
    pub gaps_in_labelled_runs: u64,
}

impl Pool {
    /// Adds one KPI's train and test halves; returns their grids.
    pub fn add(&mut self, [train, test]: [HalfParts; 2]) -> [Grid; 2] {
        let grids =
            [train, test].map(|(timestamps, labels, scores)| on_grid(timestamps, labels, scores));
        for grid in &grids {
            self.gaps += grid.gaps;
            self.gaps_in_labelled_runs += grid.gaps_in_labelled_runs;
        }
        self.train
            .add_series(&grids[0].labels, &grids[0].scores, DELAY);
        self.test
            .add_series(&grids[1].labels, &grids[1].scores, DELAY);
        grids
    }
}

/// A half's labels and scores on the challenge's grid: a row's grid index
/// is `(timestamp - first timestamp) / step` (rounded down), `step` the
/// half's smallest timestamp step. The challenge fills a missing grid point
/// with a normal label and no flag, so a labelled run with a gap in it is two
/// segments, each with its own delay, and the gap adds no false positive.
/// One unscored point (NaN, which no threshold reaches) stands for each gap,
/// however long: that is all the points it fills can change.
/// `timestamps` must increase, one per label and score.
pub fn on_grid(timestamps: &[i64], labels: &[bool], scores: &[f64]) -> Grid {
    assert!(
        timestamps.len() == labels.len() && labels.len() == scores.len(),
        "one timestamp, label and score per row"
    );
    let mut grid = Grid {
        labels: Vec::with_capacity(labels.len()),
        scores: Vec::with_capacity(scores.len()),
        ..Grid::default()
    };
    let gap_before = gap_before_row(timestamps);
    for (i, (&label, &score)) in labels.iter().zip(scores).enumerate() {
        if gap_before(i) {
            grid.labels.push(false);
            grid.scores.push(f64::NAN);
            grid.gaps += 1;
            grid.gaps_in_labelled_runs += u64::from(label && labels[i - 1]);
        }
        grid.labels.push(label);
        grid.scores.push(score);
    }
    grid
}

/// Whether grid points are missing before row `i` of a half whose rows are
/// at `timestamps` (increasing): a step of more than one point on the grid
/// of [`on_grid`].
fn gap_before_row(timestamps: &[i64]) -> impl Fn(usize) -> bool + '_ {
    let first = timestamps.first().copied().unwrap_or(0);
    let step = timestamps.windows(2).map(|w| w[1] - w[0]).min();
    assert!(step.is_none_or(|s| s > 0), "timestamps must increase");
    let index = move |timestamp: i64| (timestamp - first) / step.unwrap_or(1);
    move |i| i > 0 && index(timestamps[i]) - index(timestamps[i - 1]) > 1
}

/// How the point-adjusted rule counts one row of a half at a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Unlabelled and not flagged.
    Normal,
    /// Unlabelled and flagged.
    FalsePositive,
    /// In a labelled segment flagged within the delay.
    Found,
    /// In a labelled segment not flagged within the delay.
    Missed,
}

/// Each row of a half (as [`on_grid`] takes it) as the point-adjusted rule
/// with `delay` counts it when rows scoring `threshold` or more are flagged:
/// where a benchmark's points are won and lost, row by row. The rule runs on
/// the half's grid, as the benchmark scores it, and each row takes its point's
/// outcome.
pub fn row_outcomes(
    timestamps: &[i64],
    labels: &[bool],
    scores: &[f64],
    threshold: f64,
    delay: usize,
) -> Vec<Outcome> {
    let grid = on_grid(timestamps, labels, scores);
    let flagged: Vec<bool> = grid.scores.iter().map(|&s| s >= threshold).collect();
    let on_the_grid = outcomes(&grid.labels, &flagged, delay);
    // The grid holds the rows in order, with one point before each row that
    // a gap precedes.
    let gap_before = gap_before_row(timestamps);
    let mut point = 0;
    (0..timestamps.len())
        .map(|i| {
            point += usize::from(gap_before(i));
            point += 1;
            on_the_grid[point - 1]
        })
        .collect()
}

/// A half on the challenge's grid ([`on_grid`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    /// One label per row, and a normal one for each gap.
    pub labels: Vec<bool>,
    /// One score per row, and NaN (never flagged) for each gap.
    pub scores: Vec<f64>,
    /// Gaps between rows: steps of more than one grid point.
    pub gaps: u64,
    /// Gaps with a labelled row on each side: each splits a labelled run in two.
    pub gaps_in_labelled_runs: u64,
}

/// One row of a KPI file, with the line it was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiRow {
    pub line: u64,
    pub timestamp: i64,
    pub value: Option<f64>,
    pub label: bool,
    pub is_test: bool,
}

/// How a KPI file's rows were split into a train and a test half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// By the file's `is_test` column.
    Column,
    /// The file has no `is_test` column: the earlier half of its rows in
    /// time (rounded down) is the train half, as the data set's copy in
    /// `../shared/aiops-kpi` split every series.
    Middle,
}

/// Reads a KPI file's rows in time order, as the challenge's script sorts
/// them before it scores (and a live feed delivers them): flags must be 0
/// or 1, each timestamp must appear once, and the train half must come first.
pub fn read_file(path: &Path) -> Result<(Vec<KpiRow>, Split), KpiError> {
    let mut reader = SeriesReader::open(path)?;
    let column = |reader: &SeriesReader, column| {
        reader
            .column(column)
            .ok_or_else(|| KpiError::MissingColumn {
                source_name: reader.source_name().to_owned(),
                column,
            })
    };
    let label_col = column(&reader, "label")?;
    let test_col = reader.column("is_test");
    let source_name = reader.source_name().to_owned();
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row()? {
        let flag = |col, column| match row.field(col).trim() {
            "0" => Ok(false),
            "1" => Ok(true),
            other => Err(KpiError::BadFlag {
                source_name: source_name.clone(),
                line: row.line,
                column,
                value: other.to_owned(),
            }),
        };
        rows.push(KpiRow {
            line: row.line,
            timestamp: row.timestamp,
            value: row.value,
            label: flag(label_col, "label")?,
            is_test: test_col.map_or(Ok(false), |col| flag(col, "is_test"))?,
        });
    }
    // Stable, so a repeated timestamp keeps its lines' order.
    if !rows.is_sorted_by_key(|r| r.timestamp) {
        rows.sort_by_key(|r| r.timestamp);
    }
    let split = if test_col.is_some() {
        Split::Column
    } else {
        let train = rows.len() / 2;
        for row in &mut rows[train..] {
            row.is_test = true;
        }
        Split::Middle
    };
    for (earlier, row) in rows.iter().zip(rows.iter().skip(1)) {
        if earlier.timestamp == row.timestamp {
            return Err(KpiError::RepeatedTimestamp {
                source_name,
                line: row.line,
                first_line: earlier.line,
                timestamp: row.timestamp,
            });
        }
        if earlier.is_test && !row.is_test {
            return Err(KpiError::TrainAfterTest {
                source_name,
                line: row.line,
            });
        }
    }
    Ok((rows, split))
}

/// Scores a KPI file online, train half then test half, one fresh detector
/// for the file.
fn score_file(path: &Path) -> Result<([Half; 2], Split), KpiError> {
    let mut detector = OnlineSeries::default();
    let mut halves: [Half; 2] = Default::default();
    let (rows, split) = read_file(path)?;
    for row in rows {
        let half = &mut halves[usize::from(row.is_test)];
        half.timestamps.push(row.timestamp);
        half.values.push(row.value);
        half.labels.push(row.label);
        half.scores.push(detector.score(row.timestamp, row.value));
    }
    Ok((halves, split))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(s: &str) -> Vec<bool> {
        s.bytes().map(|b| b == b'1').collect()
    }

    #[test]
    fn flag_within_delay_detects_whole_segment() {
        // Segment of 12 points; flagged at its 8th point (offset 7 = delay): detected.
        let labels = bits("0011111111111100");
        let flagged = bits("0000000001000000");
        assert_eq!(
            point_adjust(&labels, &flagged, 7).counts,
            Counts {
                tp: 12,
                fp: 0,
                fn_: 0
            }
        );
    }

    #[test]
    fn flag_after_delay_misses_segment() {
        // Flagged at offset 8: too late, the segment is missed and the flag is not an FP.
        let labels = bits("0011111111111100");
        let flagged = bits("0000000000100000");
        assert_eq!(
            point_adjust(&labels, &flagged, 7).counts,
            Counts {
                tp: 0,
                fp: 0,
                fn_: 12
            }
        );
    }

    #[test]
    fn flags_outside_segments_are_false_positives() {
        let labels = bits("1100011000");
        let flagged = bits("0110000011");
        // First segment caught at its 2nd point; second missed; 3 flags outside.
        assert_eq!(
            point_adjust(&labels, &flagged, 0).counts,
            Counts {
                tp: 0,
                fp: 3,
                fn_: 4
            }
        );
        assert_eq!(
            point_adjust(&labels, &flagged, 1).counts,
            Counts {
                tp: 2,
                fp: 3,
                fn_: 2
            }
        );
        let c = point_adjust(&labels, &flagged, 1).counts;
        assert_eq!((c.precision(), c.recall(), c.f1()), (0.4, 0.5, 4.0 / 9.0));
    }

    #[test]
    fn segments_and_their_detection_are_counted() {
        let labels = bits("1100011000111");
        let flagged = bits("0110000011000");
        let a = point_adjust(&labels, &flagged, 1);
        assert_eq!((a.segments, a.detected), (3, 1));
        assert_eq!(a.counts.tp + a.counts.fn_, 7);
    }

    /// Writes `text` to `path`, gzip-compressed, as the KPI files are.
    fn write_gz(path: &Path, text: &str) {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    }

    /// Writes a small KPI file: a wiggling level with a labelled spike at
    /// each of `spikes` (row indices), the second half marked as test. The
    /// test half's spikes are larger, so that they beat the threshold the
    /// train half's set.
    fn write_kpi(path: &Path, rows: usize, spikes: &[usize]) {
        write_gz(path, &kpi_text(rows, spikes));
    }

    /// The text of [`write_kpi`]'s file.
    fn kpi_text(rows: usize, spikes: &[usize]) -> String {
        let mut text = String::from("timestamp,value,label,is_test\n");
        for i in 0..rows {
            let spike = spikes.contains(&i);
            // A deterministic wiggle within one unit, so the spreads are not zero.
            let noise = ((i * 7919) % 101) as f64 / 100.0;
            let is_test = u8::from(i >= rows / 2);
            let value = match (spike, is_test) {
                (false, _) => 10.0 + noise,
                (true, 0) => 60.0,
                (true, _) => 1000.0,
            };
            text += &format!(
                "{},{value},{},{is_test}\n",
                1_500_000_000 + 60 * i,
                u8::from(spike)
            );
        }
        text
    }

    #[test]
    fn per_kpi_figures_add_up_to_the_pooled_test_counts() {
        let dir = std::env::temp_dir().join(format!("dialtone-kpi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_kpi(&dir.join("b.csv.gz"), 600, &[100, 200, 450]);
        write_kpi(&dir.join("a.csv.gz"), 600, &[250, 500]);
        let files = data_files(&dir).unwrap();
        let report = run_detector(&files, false, |_| {}).unwrap().report;
        std::fs::remove_dir_all(&dir).unwrap();
        let names: Vec<&str> = report.per_kpi.iter().map(|k| k.kpi.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let mut sum = Counts::default();
        for k in &report.per_kpi {
            sum.tp += k.adjusted.counts.tp;
            sum.fp += k.adjusted.counts.fp;
            sum.fn_ += k.adjusted.counts.fn_;
        }
        assert_eq!(sum, report.test.counts);
        assert_eq!((report.gaps, report.gaps_in_labelled_runs), (0, 0));
        let segments: Vec<(u64, u64)> = (report.per_kpi.iter())
            .map(|k| (k.adjusted.segments, k.adjusted.detected))
            .collect();
        assert_eq!(segments, [(1, 1), (1, 1)]);
    }

    #[test]
    fn a_plain_csv_without_is_test_is_split_at_its_middle_row() {
        let dir = std::env::temp_dir().join(format!("dialtone-kpi-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // kpi_text marks the test half from the middle row on, so the same
        // rows without the column must score the same.
        let text = kpi_text(600, &[100, 200, 450]);
        write_gz(&dir.join("with.csv.gz"), &text);
        let without: String = (text.lines())
            .map(|line| line.rsplit_once(',').unwrap().0.to_owned() + "\n")
            .collect();
        assert!(without.starts_with("timestamp,value,label\n"));
        std::fs::write(dir.join("without.csv"), without).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a KPI").unwrap();
        let files = data_files(&dir).unwrap();
        let report = |path: &PathBuf| {
            run_detector(std::slice::from_ref(path), false, |_| {})
                .unwrap()
                .report
        };
        let (with, without) = (report(&files[0]), report(&files[1]));
        std::fs::write(dir.join("with.csv"), &text).unwrap();
        let twice = data_files(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(twice, KpiError::TwoCopies(..)), "{twice}");
        assert_eq!(files.len(), 2, "{files:?}");
        assert_eq!(
            (
                with.per_kpi[0].kpi.as_str(),
                without.per_kpi[0].kpi.as_str()
            ),
            ("with", "without")
        );
        assert_eq!((with.split_at_middle, without.split_at_middle), (0, 1));
        assert_eq!(
            (with.train, with.test, with.test_oracle),
            (without.train, without.test, without.test_oracle)
        );
        assert_eq!(without.test.counts.tp, 1, "the test half's spike is found");
    }

    #[test]
    fn segment_at_series_end_and_empty_cases() {
        assert_eq!(
            point_adjust(&bits("0111"), &bits("0001"), 7).counts,
            Counts {
                tp: 3,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(point_adjust(&[], &[], 7), Adjusted::default());
        assert_eq!(Counts::default().f1(), 0.0);
    }

    #[test]
    fn sweep_picks_best_threshold_and_splits_at_series_edges() {
        let mut s = Sweep::default();
        // Two series; the second's segment starts at its first point.
        s.add_series(&bits("0110"), &[0.9, 0.2, 0.8, 0.1], 1);
        s.add_series(&bits("11"), &[0.5, 0.3], 1);
        let best = s.best();
        // At 0.5: both segments (4 points) caught, one FP (0.9).
        assert_eq!(best.threshold, 0.5);
        assert_eq!(
            best.counts,
            Counts {
                tp: 4,
                fp: 1,
                fn_: 0
            }
        );
        assert_eq!(
            s.at(0.85).counts,
            Counts {
                tp: 0,
                fp: 1,
                fn_: 4
            }
        );
        assert_eq!(
            s.at(NO_DETECTION_THRESHOLD).counts,
            Counts {
                tp: 0,
                fp: 0,
                fn_: 4
            }
        );
    }

    fn half(rows: &[(i64, bool)]) -> Half {
        Half {
            timestamps: rows.iter().map(|r| r.0).collect(),
            values: vec![Some(0.0); rows.len()],
            labels: rows.iter().map(|r| r.1).collect(),
            scores: (0..rows.len()).map(|i| i as f64).collect(),
        }
    }

    #[test]
    fn a_gap_splits_a_segment_and_is_never_flagged() {
        // Steps of 60 s; rows missing at 180 (one point) and 420-480 (two).
        let h = half(&[
            (0, false),
            (60, true),
            (120, true),
            (240, true),
            (300, false),
            (360, false),
            (540, false),
        ]);
        let Grid {
            labels,
            scores,
            gaps,
            gaps_in_labelled_runs,
        } = on_grid(&h.timestamps, &h.labels, &h.scores);
        assert_eq!((gaps, gaps_in_labelled_runs), (2, 1));
        assert_eq!(labels, bits("011010000"));
        let unscored: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].is_nan()).collect();
        assert_eq!(unscored, [3, 7]);
        // Flagging only the run's part after the gap finds that part alone.
        let flagged: Vec<bool> = scores.iter().map(|&s| s == 3.0).collect();
        let a = point_adjust(&labels, &flagged, 7);
        assert_eq!((a.segments, a.detected), (2, 1));
        assert_eq!(
            a.counts,
            Counts {
                tp: 1,
                fp: 0,
                fn_: 2
            }
        );
    }

    #[test]
    fn a_repeated_timestamp_is_an_error_naming_its_line() {
        let dir = std::env::temp_dir().join(format!("dialtone-kpi-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.csv.gz");
        write_gz(
            &path,
            "timestamp,value,label,is_test\n60,1,0,0\n120,2,0,0\n120,3,0,1\n",
        );
        let err = run_detector(&[path], false, |_| {}).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            matches!(
                err,
                KpiError::RepeatedTimestamp {
                    line: 4,
                    first_line: 3,
                    timestamp: 120,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn rows_out_of_time_order_score_as_sorted() {
        let dir = std::env::temp_dir().join(format!("dialtone-kpi-sort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = kpi_text(600, &[100, 200, 450]);
        let sorted = dir.join("sorted.csv.gz");
        write_gz(&sorted, &text);
        // Each pair of data rows swapped: every row out of place.
        let (header, body) = text.split_once('\n').unwrap();
        let mut lines: Vec<&str> = body.lines().collect();
        for pair in lines.chunks_mut(2) {
            pair.reverse();
        }
        let shuffled = dir.join("shuffled.csv.gz");
        write_gz(&shuffled, &format!("{header}\n{}\n", lines.join("\n")));
        let report = |path: &Path| {
            run_detector(&[path.to_owned()], false, |_| {})
                .unwrap()
                .report
        };
        let (a, b) = (report(&sorted), report(&shuffled));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            (a.train, a.test, a.test_oracle),
            (b.train, b.test, b.test_oracle)
        );
        assert_eq!(a.test.counts.tp, 1, "the test half's spike is found");
    }

    proptest! {
        /// Against the challenge's own reconstruction: every grid point from
        /// the first timestamp to the last, a missing one labelled normal and
        /// not flagged.
        #[test]
        fn the_grid_scores_as_the_dense_reconstruction(
            rows in proptest::collection::vec((1i64..200, any::<bool>(), any::<bool>()), 1..60),
            delay in 0usize..4,
        ) {
            let mut t = 1_000;
            let (mut timestamps, mut labels, mut flags) = (Vec::new(), Vec::new(), Vec::new());
            for (gap, label, flag) in rows {
                t += gap;
                timestamps.push(t);
                labels.push(label);
                flags.push(flag);
            }
            let h = Half {
                timestamps: timestamps.clone(),
                values: vec![Some(0.0); labels.len()],
                labels: labels.clone(),
                scores: flags.iter().map(|&f| f64::from(u8::from(f))).collect(),
            };
            let Grid { labels: grid_labels, scores: grid_scores, .. } = on_grid(&h.timestamps, &h.labels, &h.scores);
            let grid_flags: Vec<bool> = grid_scores.iter().map(|&s| s >= 0.5).collect();
            let step = timestamps.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(1);
            let index = |ts: i64| ((ts - timestamps[0]) / step) as usize;
            let len = index(*timestamps.last().unwrap()) + 1;
            let (mut dense_labels, mut dense_flags) = (vec![false; len], vec![false; len]);
            for i in 0..timestamps.len() {
                dense_labels[index(timestamps[i])] = labels[i];
                dense_flags[index(timestamps[i])] = flags[i];
            }
            prop_assert_eq!(
                point_adjust(&grid_labels, &grid_flags, delay),
                point_adjust(&dense_labels, &dense_flags, delay)
            );
            let mut sweep = Sweep::default();
            sweep.add_series(&grid_labels, &grid_scores, delay);
            prop_assert_eq!(
                sweep.at(0.5).counts,
                point_adjust(&dense_labels, &dense_flags, delay).counts
            );
            // Row by row: the same counts, and each row as its point of the
            // dense reconstruction.
            let outcomes = row_outcomes(&h.timestamps, &h.labels, &h.scores, 0.5, delay);
            let count = |o| outcomes.iter().filter(|&&x| x == o).count() as u64;
            prop_assert_eq!(
                Counts {
                    tp: count(Outcome::Found),
                    fp: count(Outcome::FalsePositive),
                    fn_: count(Outcome::Missed),
                },
                point_adjust(&dense_labels, &dense_flags, delay).counts
            );
            let dense_timestamps: Vec<i64> =
                (0..len as i64).map(|k| timestamps[0] + k * step).collect();
            let dense_scores: Vec<f64> = dense_flags.iter().map(|&f| f64::from(u8::from(f))).collect();
            let dense = row_outcomes(&dense_timestamps, &dense_labels, &dense_scores, 0.5, delay);
            let at_rows: Vec<Outcome> = timestamps.iter().map(|&ts| dense[index(ts)]).collect();
            prop_assert_eq!(outcomes, at_rows);
        }

        #[test]
        fn sweep_agrees_with_the_rule(
            series in proptest::collection::vec(
                proptest::collection::vec((any::<bool>(), 0u8..5), 0..40), 1..4),
            delay in 0usize..4,
            threshold in 0u8..6,
        ) {
            let threshold = f64::from(threshold) / 4.0;
            let mut sweep = Sweep::default();
            let mut direct = Counts::default();
            for s in &series {
                let labels: Vec<bool> = s.iter().map(|p| p.0).collect();
                let scores: Vec<f64> = s.iter().map(|p| f64::from(p.1) / 4.0).collect();
                let flagged: Vec<bool> = scores.iter().map(|&x| x >= threshold).collect();
                sweep.add_series(&labels, &scores, delay);
                let c = point_adjust(&labels, &flagged, delay).counts;
                direct.tp += c.tp;
                direct.fp += c.fp;
                direct.fn_ += c.fn_;
            }
            prop_assert_eq!(sweep.at(threshold).counts, direct);
            let best = sweep.best();
            prop_assert!(best.f1 >= sweep.at(threshold).f1);
            prop_assert_eq!(sweep.at(best.threshold).counts, best.counts);
            prop_assert!((0.0..=1.0).contains(&best.f1));
        }
    }
}
