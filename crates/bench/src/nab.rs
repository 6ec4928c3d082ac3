//! The Numenta Anomaly Benchmark (NAB v1.1) scorer, as implemented in NAB's
//! `nab/sweeper.py`, plus a runner that scores Dialtone's detector on a NAB
//! directory (`config/`, `data/`, `labels/`).
//!
//! Rows are addressed by position, never by timestamp: NAB files repeat and
//! even step back in time, and the official scores were computed by position.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dialtone_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::NO_DETECTION_THRESHOLD;
use crate::online::{Fed, OnlineSeries};
use crate::series::{ReadError, SeriesReader, TimestampError, parse_timestamp};

/// NAB's profiles, in the order its scoreboard lists them.
pub const PROFILE_NAMES: [&str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

#[derive(Debug, thiserror::Error)]
pub enum NabError {
    #[error("cannot read {path}: {err}; point --data at a NAB directory (config/, data/, labels/)")]
    Io {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error("{path} is not valid NAB JSON: {err}")]
    Json {
        path: PathBuf,
        #[source]
        err: serde_json::Error,
    },
    #[error("profiles file has no `{0}` profile; NAB's config/profiles.json defines all three")]
    MissingProfile(&'static str),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}: window bound `{bound}` is not a timestamp: {err}")]
    BadBound {
        file: String,
        bound: String,
        #[source]
        err: TimestampError,
    },
    #[error(
        "{file}: window bound `{bound}` matches {matches} data rows; it must match exactly one"
    )]
    AmbiguousBound {
        file: String,
        bound: String,
        matches: usize,
    },
    #[error("{file}: window [{start}, {end}] is empty, out of order or overlaps the previous one")]
    BadWindow {
        file: String,
        start: usize,
        end: usize,
    },
    #[error("{file}: no entry in the label file; labels and data must list the same files")]
    Unlabeled { file: String },
    #[error("label file lists {file}, which is not under data/")]
    MissingData { file: String },
    #[error("{file}: {scores} anomaly scores for {rows} rows; give one score per row")]
    LengthMismatch {
        file: String,
        scores: usize,
        rows: usize,
    },
    #[error("{0}: no data files found; expected data/<category>/<file>.csv")]
    NoData(PathBuf),
    #[error(
        "{path}: no `{column}` column; a NAB result file has `timestamp,value,anomaly_score,label`"
    )]
    ResultColumn { path: PathBuf, column: &'static str },
    #[error("{path}: line {line}: anomaly_score `{value}` is not a number")]
    ResultScore {
        path: PathBuf,
        line: u64,
        value: String,
    },
}

/// NAB's `CostMatrix` (its `tnWeight` is unused and not read).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
pub struct CostMatrix {
    #[serde(rename = "tpWeight")]
    pub tp_weight: f64,
    #[serde(rename = "fpWeight")]
    pub fp_weight: f64,
    #[serde(rename = "fnWeight")]
    pub fn_weight: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub costs: CostMatrix,
}

/// Parses NAB's `config/profiles.json`; returns the three profiles in [`PROFILE_NAMES`] order.
pub fn parse_profiles(json: &str) -> Result<Vec<Profile>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "CostMatrix")]
        cost_matrix: CostMatrix,
    }
    let map: BTreeMap<String, Entry> = serde_json::from_str(json)?;
    PROFILE_NAMES
        .iter()
        .map(|&name| {
            map.get(name)
                .map(|e| Profile {
                    name,
                    costs: e.cost_matrix,
                })
                .ok_or_else(|| serde::de::Error::custom(NabError::MissingProfile(name)))
        })
        .collect()
}

pub fn load_profiles(path: &Path) -> Result<Vec<Profile>, NabError> {
    parse_profiles(&read_to_string(path)?).map_err(|err| NabError::Json {
        path: path.to_owned(),
        err,
    })
}

fn read_to_string(path: &Path) -> Result<String, NabError> {
    std::fs::read_to_string(path).map_err(|err| NabError::Io {
        path: path.to_owned(),
        err,
    })
}

/// NAB's scaled sigmoid, `2 / (1 + e^(5x)) - 1`: 1 far before a point, -1
/// far after it; NAB cuts it to exactly -1 past x = 3.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// Rows at the start of a file that are never scored: 15 %, at most 750.
///
/// Computed in f64 like NAB (`min(floor(0.15 * N), 0.15 * 5000)`), so rounding matches.
pub fn probation_rows(rows: usize) -> usize {
    ((0.15 * rows as f64).floor() as usize).min(750)
}

/// An anomaly window: rows `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: usize,
    pub end: usize,
}

impl Window {
    fn width(self) -> usize {
        self.end - self.start + 1
    }

    /// Whether row `row` lies in this window.
    pub fn contains(self, row: usize) -> bool {
        (self.start..=self.end).contains(&row)
    }
}

/// A file's row count and windows: all the scorer needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledFile {
    /// `<category>/<file>.csv`, as in NAB's label files.
    pub name: String,
    pub rows: usize,
    pub windows: Vec<Window>,
}

/// Window bounds as NAB's `combined_windows.json` writes them, keyed by file name.
pub type WindowLabels = BTreeMap<String, Vec<[String; 2]>>;

pub fn load_window_labels(path: &Path) -> Result<WindowLabels, NabError> {
    serde_json::from_str(&read_to_string(path)?).map_err(|err| NabError::Json {
        path: path.to_owned(),
        err,
    })
}

impl LabeledFile {
    /// Places each window bound on the one row whose timestamp it names.
    pub fn locate(
        name: &str,
        timestamps: &[Timestamp],
        bounds: &[[String; 2]],
    ) -> Result<LabeledFile, NabError> {
        let row_of = |bound: &String| {
            let t = parse_timestamp(bound).map_err(|err| NabError::BadBound {
                file: name.to_owned(),
                bound: bound.clone(),
                err,
            })?;
            let mut hits = timestamps.iter().enumerate().filter(|(_, ts)| **ts == t);
            match (hits.next(), hits.count()) {
                (Some((row, _)), 0) => Ok(row),
                (first, more) => Err(NabError::AmbiguousBound {
                    file: name.to_owned(),
                    bound: bound.clone(),
                    matches: usize::from(first.is_some()) + more,
                }),
            }
        };
        let mut windows: Vec<Window> = Vec::with_capacity(bounds.len());
        for [start, end] in bounds {
            let w = Window {
                start: row_of(start)?,
                end: row_of(end)?,
            };
            // The scorer assumes sorted, disjoint windows, as NAB's labels promise.
            if w.end < w.start || windows.last().is_some_and(|prev| prev.end >= w.start) {
                return Err(NabError::BadWindow {
                    file: name.to_owned(),
                    start: w.start,
                    end: w.end,
                });
            }
            windows.push(w);
        }
        Ok(LabeledFile {
            name: name.to_owned(),
            rows: timestamps.len(),
            windows,
        })
    }

    /// The value of detecting each scored row, and the window it lies in.
    fn scored_rows(&self, costs: &CostMatrix) -> impl Iterator<Item = (usize, RowValue)> + '_ {
        let mut next = 0; // index of the first window not yet ended
        let costs = *costs;
        (probation_rows(self.rows)..self.rows).map(move |i| {
            while next < self.windows.len() && self.windows[next].end < i {
                next += 1;
            }
            let value = match self.windows.get(next) {
                Some(w) if w.start <= i => RowValue {
                    window: Some(next),
                    // Exactly tpWeight at the window's first row, falling towards 0 at its end.
                    value: costs.tp_weight
                        * scaled_sigmoid(-((w.end - i + 1) as f64) / w.width() as f64)
                        / scaled_sigmoid(-1.0),
                },
                _ => {
                    let u = match next.checked_sub(1).map(|k| self.windows[k]) {
                        None => -1.0,
                        // A one-row window divides by 0: +inf, so sigmoid -1 (NAB itself would
                        // raise ZeroDivisionError; no NAB window is one row wide).
                        Some(prev) => {
                            scaled_sigmoid((i - prev.end) as f64 / (prev.width() - 1) as f64)
                        }
                    };
                    RowValue {
                        window: None,
                        value: costs.fp_weight * u,
                    }
                }
            };
            (i, value)
        })
    }

    /// Windows that reach past probation; a window wholly inside probation is
    /// never scored, as in NAB, which only counts windows with scorable rows.
    pub fn scored_windows(&self) -> usize {
        let p = probation_rows(self.rows);
        self.windows.iter().filter(|w| w.end >= p).count()
    }

    fn check_len(&self, scores: &[f64]) -> Result<(), NabError> {
        if scores.len() == self.rows {
            Ok(())
        } else {
            Err(NabError::LengthMismatch {
                file: self.name.clone(),
                scores: scores.len(),
                rows: self.rows,
            })
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct RowValue {
    window: Option<usize>,
    value: f64,
}

/// One file's (or a sum of files') raw NAB score at one threshold, with row counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FileScore {
    pub score: f64,
    pub tp: usize,
    pub tn: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl std::ops::AddAssign for FileScore {
    fn add_assign(&mut self, o: FileScore) {
        self.score += o.score;
        self.tp += o.tp;
        self.tn += o.tn;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

/// Scores `scores` (one per row) of `file`: a row is a detection iff its score >= `threshold`.
pub fn score_file(
    file: &LabeledFile,
    scores: &[f64],
    costs: &CostMatrix,
    threshold: f64,
) -> Result<FileScore, NabError> {
    file.check_len(scores)?;
    let mut best: Vec<Option<f64>> = vec![None; file.windows.len()];
    let mut out = FileScore::default();
    let mut fp_part = 0.0;
    for (i, row) in file.scored_rows(costs) {
        let detected = scores[i] >= threshold;
        match (row.window, detected) {
            (Some(w), true) => {
                out.tp += 1;
                best[w] = Some(best[w].map_or(row.value, |b: f64| b.max(row.value)));
            }
            (Some(_), false) => out.fn_ += 1,
            (None, true) => {
                out.fp += 1;
                fp_part += row.value;
            }
            (None, false) => out.tn += 1,
        }
    }
    let p = probation_rows(file.rows);
    let window_part: f64 = file
        .windows
        .iter()
        .zip(&best)
        .filter(|(w, _)| w.end >= p)
        .map(|(_, b)| b.unwrap_or(-costs.fn_weight))
        .sum();
    out.score = fp_part + window_part;
    Ok(out)
}

/// The corpus-wide threshold that maximizes the summed raw score, and that sum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sweep {
    pub threshold: f64,
    pub score: f64,
}

/// NAB's threshold optimization: tries every distinct scored anomaly score and
/// [`NO_DETECTION_THRESHOLD`], keeping the best (the highest threshold on ties,
/// as NAB's `max` over a descending list does).
///
/// Rows are sorted once by score, descending; lowering the threshold past a
/// group of equal scores only adds those rows' detections, so each candidate
/// costs its rows, not a rescoring of the corpus.
pub fn sweep(files: &[(&LabeledFile, &[f64])], costs: &CostMatrix) -> Result<Sweep, NabError> {
    struct Point {
        score: f64,
        value: f64,
        window: Option<usize>,
    }
    let mut points = Vec::new();
    let mut windows = 0;
    let mut total = 0.0;
    for (file, scores) in files {
        file.check_len(scores)?;
        for (i, row) in file.scored_rows(costs) {
            // NaN is never >= a threshold: never a detection, never a candidate.
            if !scores[i].is_nan() {
                points.push(Point {
                    score: scores[i],
                    value: row.value,
                    window: row.window.map(|w| windows + w),
                });
            }
        }
        windows += file.windows.len();
        total -= costs.fn_weight * file.scored_windows() as f64;
    }
    points.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));

    let mut window_best: Vec<Option<f64>> = vec![None; windows];
    let mut best = Sweep {
        threshold: NO_DETECTION_THRESHOLD,
        score: total,
    };
    for group in points.chunk_by(|a, b| a.score == b.score) {
        for p in group {
            match p.window {
                None => total += p.value,
                Some(w) => {
                    let current = window_best[w].unwrap_or(-costs.fn_weight);
                    if window_best[w].is_none() || p.value > current {
                        total += p.value - current;
                        window_best[w] = Some(p.value);
                    }
                }
            }
        }
        if total > best.score {
            best = Sweep {
                threshold: group[0].score,
                score: total,
            };
        }
    }
    Ok(best)
}

/// `100 * (raw - null) / (perfect - null)`, as NAB v1.1's runner normalizes:
/// null is the null detector's score, which misses each of the `scored`
/// windows (those reaching past probation), and perfect counts every one of
/// the `labelled` windows, as the runner counts the label file's. The two
/// differ only where a window lies wholly inside probation. `None` without
/// windows, where the normalization is undefined.
pub fn normalized(raw: f64, costs: &CostMatrix, scored: usize, labelled: usize) -> Option<f64> {
    let null = -costs.fn_weight * scored as f64;
    let perfect = costs.tp_weight * labelled as f64;
    (labelled > 0).then(|| 100.0 * (raw - null) / (perfect - null))
}

/// A data file of a NAB directory.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// `<category>/<file>.csv`.
    pub name: String,
    pub category: String,
    pub path: PathBuf,
}

/// The data files under `dir/data/<category>/*.csv`, sorted by name.
pub fn data_files(dir: &Path) -> Result<Vec<DataFile>, NabError> {
    let read_dir = |path: &Path| -> Result<Vec<PathBuf>, NabError> {
        let io = |err| NabError::Io {
            path: path.to_owned(),
            err,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            out.push(entry.map_err(io)?.path());
        }
        out.sort();
        Ok(out)
    };
    let data = dir.join("data");
    let mut files = Vec::new();
    for category in read_dir(&data)?.into_iter().filter(|p| p.is_dir()) {
        let cat = category
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for path in read_dir(&category)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        {
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            files.push(DataFile {
                name: format!("{cat}/{file}"),
                category: cat.clone(),
                path,
            });
        }
    }
    if files.is_empty() {
        return Err(NabError::NoData(data));
    }
    Ok(files)
}

/// Raw and normalized score of a set of files at the corpus-wide threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupScore {
    pub files: usize,
    /// Windows scored (reaching past probation)...
    pub windows: usize,
    /// ...and labelled (see [`normalized`]).
    pub labelled_windows: usize,
    /// `None` when the group has no windows (normalization is undefined).
    pub normalized: Option<f64>,
    #[serde(flatten)]
    pub raw: FileScore,
}

/// One profile's result: NAB's oracle threshold over the whole corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    pub profile: &'static str,
    pub costs: CostMatrix,
    pub threshold: f64,
    pub total: GroupScore,
    pub categories: BTreeMap<String, GroupScore>,
}

/// A reference detector's official result file for one data file:
/// `results/<detector>/<category>/<detector>_<file>` under a NAB directory.
#[derive(Debug, Clone)]
pub struct ResultFile {
    pub path: PathBuf,
    /// Per row: its timestamp, the detector's anomaly score, and whether NAB
    /// labelled it inside a window.
    pub timestamps: Vec<Timestamp>,
    pub scores: Vec<f64>,
    pub labels: Vec<bool>,
}

/// Reads `detector`'s result file for `file` (`<category>/<file>.csv`, as the
/// labels name it) under the NAB directory `dir`.
pub fn read_result(dir: &Path, detector: &str, file: &str) -> Result<ResultFile, NabError> {
    let (category, name) = file.split_once('/').unwrap_or(("", file));
    let path = dir.join(format!("results/{detector}/{category}/{detector}_{name}"));
    let mut reader = SeriesReader::open(&path)?;
    let column = |column| {
        reader.column(column).ok_or_else(|| NabError::ResultColumn {
            path: path.clone(),
            column,
        })
    };
    let (score_col, label_col) = (column("anomaly_score")?, column("label")?);
    let (mut timestamps, mut scores, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(row) = reader.next_row()? {
        let score = row.field(score_col);
        scores.push(score.parse().map_err(|_| NabError::ResultScore {
            path: path.clone(),
            line: row.line,
            value: score.into_owned(),
        })?);
        timestamps.push(row.timestamp);
        labels.push(row.field(label_col) == "1");
    }
    Ok(ResultFile {
        path,
        timestamps,
        scores,
        labels,
    })
}

/// One data file as the detector saw it.
#[derive(Debug, Clone)]
pub struct ScoredFile {
    pub data: DataFile,
    pub file: LabeledFile,
    pub timestamps: Vec<Timestamp>,
    /// Each row's value where the detector scored it; `None` for a row passed
    /// through (no usable value, or a timestamp not after the last scored one).
    pub scored_values: Vec<Option<f64>>,
    pub scores: Vec<f64>,
}

/// What [`run_detector`] found: the report per profile, and the files.
#[derive(Debug)]
pub struct NabRun {
    pub reports: Vec<ProfileReport>,
    pub files: Vec<ScoredFile>,
}

/// Runs the detector online over `files`, the NAB directory `dir`'s data
/// files ([`data_files`], listed by the caller, which may want their count
/// first), and scores them under each profile. `progress` is called once
/// per finished file.
pub fn run_detector(
    dir: &Path,
    files: Vec<DataFile>,
    mut progress: impl FnMut(&DataFile),
) -> Result<NabRun, NabError> {
    let profiles = load_profiles(&dir.join("config/profiles.json"))?;
    let mut labels = load_window_labels(&dir.join("labels/combined_windows.json"))?;
    let mut scored = Vec::new();
    for data in files {
        let bounds = labels
            .remove(&data.name)
            .ok_or_else(|| NabError::Unlabeled {
                file: data.name.clone(),
            })?;
        let mut reader = SeriesReader::open(&data.path)?;
        let mut detector = OnlineSeries::default();
        let (mut timestamps, mut scored_values, mut scores) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(row) = reader.next_row()? {
            let fed = detector.feed(row.timestamp, row.value);
            timestamps.push(row.timestamp);
            scored_values.push(match fed {
                Fed::Scored { value, .. } => Some(value),
                Fed::NoValue | Fed::NotAfterLast => None,
            });
            scores.push(fed.score());
        }
        let file = LabeledFile::locate(&data.name, &timestamps, &bounds)?;
        progress(&data);
        scored.push(ScoredFile {
            data,
            file,
            timestamps,
            scored_values,
            scores,
        });
    }
    if let Some(file) = labels.into_keys().next() {
        return Err(NabError::MissingData { file });
    }
    let inputs: Vec<(&LabeledFile, &[f64])> = (scored.iter())
        .map(|f| (&f.file, f.scores.as_slice()))
        .collect();
    let reports = profiles
        .into_iter()
        .map(|profile| {
            let costs = profile.costs;
            let best = sweep(&inputs, &costs)?;
            let mut total = GroupScore::new();
            let mut categories: BTreeMap<String, GroupScore> = BTreeMap::new();
            for f in &scored {
                let s = score_file(&f.file, &f.scores, &costs, best.threshold)?;
                for group in [
                    &mut total,
                    categories
                        .entry(f.data.category.clone())
                        .or_insert_with(GroupScore::new),
                ] {
                    group.files += 1;
                    group.windows += f.file.scored_windows();
                    group.labelled_windows += f.file.windows.len();
                    group.raw += s;
                }
            }
            for group in std::iter::once(&mut total).chain(categories.values_mut()) {
                group.normalized = normalized(
                    group.raw.score,
                    &costs,
                    group.windows,
                    group.labelled_windows,
                );
            }
            Ok(ProfileReport {
                profile: profile.name,
                costs,
                threshold: best.threshold,
                total,
                categories,
            })
        })
        .collect::<Result<_, NabError>>()?;
    Ok(NabRun {
        reports,
        files: scored,
    })
}

impl GroupScore {
    fn new() -> GroupScore {
        GroupScore {
            files: 0,
            windows: 0,
            labelled_windows: 0,
            normalized: None,
            raw: FileScore::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STANDARD: CostMatrix = CostMatrix {
        tp_weight: 1.0,
        fp_weight: 0.11,
        fn_weight: 1.0,
    };

    #[test]
    fn sigmoid_golden_values() {
        // 2 / (1 + e^(5x)) - 1 at a few points, computed independently.
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298_151_430_5).abs() < 1e-15);
        assert!((scaled_sigmoid(1.0) + 0.986_614_298_151_430_3).abs() < 1e-15);
        assert!((scaled_sigmoid(0.5) + 0.848_283_639_957_512_9).abs() < 1e-15);
        assert!((scaled_sigmoid(-0.1) - 0.244_918_662_403_709_2).abs() < 1e-15);
        // NAB computes the curve up to 3 and cuts it to -1 only beyond.
        assert!((scaled_sigmoid(3.0) + 0.999_999_388_195_546_1).abs() < 1e-15);
        assert_eq!(scaled_sigmoid(3.000_001), -1.0);
        assert_eq!(scaled_sigmoid(1e9), -1.0);
    }

    #[test]
    fn probation_is_15_percent_capped_at_750() {
        assert_eq!(probation_rows(0), 0);
        assert_eq!(probation_rows(4032), 604);
        assert_eq!(probation_rows(20), 3);
        assert_eq!(probation_rows(5000), 750);
        assert_eq!(probation_rows(22_695), 750);
    }

    fn file(rows: usize, windows: &[(usize, usize)]) -> LabeledFile {
        LabeledFile {
            name: "t/t.csv".into(),
            rows,
            windows: windows
                .iter()
                .map(|&(start, end)| Window { start, end })
                .collect(),
        }
    }

    #[test]
    fn window_and_fp_weights_golden() {
        // 100 rows: probation 15; one window at rows 40..=49 (width 10).
        let f = file(100, &[(40, 49)]);
        let v: BTreeMap<usize, RowValue> = f.scored_rows(&STANDARD).collect();
        assert_eq!(v.len(), 85);
        assert!(!v.contains_key(&14));
        // Before any window: the full FP penalty.
        assert_eq!(v[&15].value, -0.11);
        assert_eq!(v[&15].window, None);
        // First window row is worth exactly tpWeight; the last one sig(-0.1)/sig(-1).
        assert_eq!(v[&40].window, Some(0));
        assert!((v[&40].value - 1.0).abs() < 1e-15);
        assert!((v[&49].value - 0.244_918_662_403_709_2 / 0.986_614_298_151_430_5).abs() < 1e-15);
        assert!((0..9).all(|k| v[&(40 + k)].value > v[&(41 + k)].value));
        // Just after the window the penalty is mild: fp * sig(1/9); far after, -fp.
        assert!((v[&50].value - 0.11 * scaled_sigmoid(1.0 / 9.0)).abs() < 1e-15);
        assert_eq!(v[&99].value, -0.11);
    }

    #[test]
    fn hand_scored_file() {
        let f = file(100, &[(40, 49), (70, 79)]);
        let mut scores = vec![0.0; 100];
        scores[10] = 1.0; // probation: ignored
        scores[20] = 1.0; // FP before any window: -0.11
        scores[42] = 0.8; // TP, third row of window 0
        scores[45] = 0.9; // later TP in the same window: adds nothing
        let s = score_file(&f, &scores, &STANDARD, 0.5).unwrap();
        let tp = scaled_sigmoid(-8.0 / 10.0) / scaled_sigmoid(-1.0);
        assert!((s.score - (-0.11 + tp - 1.0)).abs() < 1e-12, "{s:?}");
        assert_eq!((s.tp, s.fp, s.fn_, s.tn), (2, 1, 18, 64));
        // Above every score: all windows missed.
        assert_eq!(score_file(&f, &scores, &STANDARD, 1.1).unwrap().score, -2.0);
        assert!(score_file(&f, &scores[1..], &STANDARD, 0.5).is_err());
    }

    #[test]
    fn normalization_maps_null_to_0_and_perfect_to_100() {
        assert_eq!(normalized(-55.0, &STANDARD, 55, 55), Some(0.0));
        assert_eq!(normalized(55.0, &STANDARD, 55, 55), Some(100.0));
        assert_eq!(normalized(0.0, &STANDARD, 0, 0), None);
        // A window wholly inside probation: the null detector is not
        // scored on it, and NAB's perfect score still counts it.
        assert_eq!(normalized(-55.0, &STANDARD, 55, 56), Some(0.0));
        let all_found = normalized(55.0, &STANDARD, 55, 56).unwrap();
        assert!(
            (all_found - 100.0 * 110.0 / 111.0).abs() < 1e-12,
            "{all_found}"
        );
    }

    #[test]
    fn profiles_parse_in_nab_order() {
        let json = r#"{"reward_low_FN_rate":{"CostMatrix":{"tpWeight":1.0,"fnWeight":2.0,"fpWeight":0.11,"tnWeight":1.0}},
            "standard":{"CostMatrix":{"tpWeight":1.0,"fnWeight":1.0,"fpWeight":0.11,"tnWeight":1.0}},
            "reward_low_FP_rate":{"CostMatrix":{"tpWeight":1.0,"fnWeight":1.0,"fpWeight":0.22,"tnWeight":1.0}}}"#;
        let p = parse_profiles(json).unwrap();
        assert_eq!(p.iter().map(|p| p.name).collect::<Vec<_>>(), PROFILE_NAMES);
        assert_eq!(p[2].costs.fn_weight, 2.0);
        let e = parse_profiles(
            r#"{"standard":{"CostMatrix":{"tpWeight":1,"fnWeight":1,"fpWeight":1}}}"#,
        );
        assert!(e.unwrap_err().to_string().contains("reward_low_FP_rate"));
    }

    #[test]
    fn windows_are_located_by_exact_timestamp() {
        let ts = [0, 60, 120, 120, 180];
        let b = |a: &str, z: &str| [a.to_owned(), z.to_owned()];
        let f = LabeledFile::locate("x", &ts, &[b("1970-01-01 00:01:00.000000", "180")]).unwrap();
        assert_eq!(f.windows, vec![Window { start: 1, end: 4 }]);
        assert!(
            LabeledFile::locate("x", &ts, &[b("60", "120")]).is_err(),
            "ambiguous"
        );
        assert!(
            LabeledFile::locate("x", &ts, &[b("60", "90")]).is_err(),
            "no such row"
        );
        assert!(
            LabeledFile::locate("x", &ts, &[b("180", "60")]).is_err(),
            "reversed"
        );
    }

    proptest! {
        /// The sweep's accumulated optimum equals brute-force rescoring at every candidate.
        #[test]
        fn sweep_matches_brute_force(
            rows in 20usize..120,
            scores in proptest::collection::vec(0u8..6, 120),
            w in proptest::collection::vec((0usize..100, 1usize..12), 0..3),
        ) {
            let scores: Vec<f64> = scores[..rows].iter().map(|&s| f64::from(s) / 5.0).collect();
            let mut w = w;
            w.sort();
            let mut windows = Vec::new();
            for (start, len) in w {
                let end = (start + len - 1).min(rows - 1);
                if start < rows && windows.last().is_none_or(|p: &(usize, usize)| p.1 < start) {
                    windows.push((start, end));
                }
            }
            let f = file(rows, &windows);
            let got = sweep(&[(&f, &scores)], &STANDARD).unwrap();
            let p = probation_rows(rows);
            let mut candidates: Vec<f64> = scores[p..].to_vec();
            candidates.push(NO_DETECTION_THRESHOLD);
            let brute = candidates
                .iter()
                .map(|&t| score_file(&f, &scores, &STANDARD, t).unwrap().score)
                .fold(f64::NEG_INFINITY, f64::max);
            prop_assert!((got.score - brute).abs() < 1e-9, "sweep {got:?} brute {brute}");
            let at = score_file(&f, &scores, &STANDARD, got.threshold).unwrap().score;
            prop_assert!((at - got.score).abs() < 1e-9);
        }
    }
}
