//! What `dialtone rca` reads: telemetry, as one long `timestamp,series,value`
//! CSV or a directory of per-series `timestamp,value` CSVs, and a change file.
//!
//! Both come from outside and are untrusted: every problem is an error naming
//! the file and line (or, with `--lenient`, a warning for a series that names
//! no known element or KPI), never a panic. The rules are in `docs/rca.md`.
//! It lives here, beside the [`crate::series`] reader it builds on, rather
//! than in the CLI, so the fuzz targets in `crates/bench/fuzz` can reach it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::csv_lines::{NumberedCsv, RecordError};
use crate::series::{ReadError, SeriesReader, TimestampError, parse_timestamp};
use dialtone_model::{Kpi, Sample, SeriesId, SeriesKey, Timestamp, Topology};
use dialtone_rca::{ChangeEvent, ChangeKind};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "{source_name}: line {line}: {problem}; expected a header `timestamp,series,value` \
         (or a directory of `timestamp,value` files named ELEMENT:KPI.csv)"
    )]
    LongHeader {
        source_name: String,
        line: u64,
        problem: String,
    },
    #[error("{source_name}: line {line}: {err}")]
    Series {
        source_name: String,
        line: u64,
        err: SeriesNameError,
    },
    #[error("{path}: the file name is not a series name: {err}")]
    FileName { path: String, err: SeriesNameError },
    #[error("cannot read directory {path}: {err}")]
    Dir {
        path: String,
        #[source]
        err: std::io::Error,
    },
    #[error(
        "{path}: no samples; expected a `timestamp,series,value` CSV or a directory of \
         ELEMENT:KPI.csv files with `timestamp,value` rows"
    )]
    NoSamples { path: String },
    #[error("{source_name}: line {line}: timestamp {at} is not between 1970 and 9999")]
    TimeRange {
        source_name: String,
        line: u64,
        at: Timestamp,
    },
    #[error("{source_name}: line {line}: {problem}")]
    Change {
        source_name: String,
        line: u64,
        problem: String,
    },
}

/// A series name that does not map to one KPI of one topology element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesNameError {
    #[error("series `{0}` is not ELEMENT/KPI or ELEMENT:KPI")]
    Shape(String),
    #[error("series `{name}`: unknown element `{element}`: it is not in the topology")]
    UnknownElement { name: String, element: String },
    #[error("series `{name}`: unknown KPI `{kpi}`; use one of {}", kpi_names())]
    UnknownKpi { name: String, kpi: String },
}

/// Unix seconds from 1970 to the end of 9999. No telemetry lives outside, and
/// the engine's arithmetic on times must not overflow.
const TIME_RANGE: std::ops::RangeInclusive<Timestamp> = 0..=253_402_300_799;

/// `at`, or the error naming where it was read if it is out of [`TIME_RANGE`].
fn in_range(at: Timestamp, source_name: &str, line: u64) -> Result<Timestamp, InputError> {
    if TIME_RANGE.contains(&at) {
        Ok(at)
    } else {
        Err(InputError::TimeRange {
            source_name: source_name.to_owned(),
            line,
            at,
        })
    }
}

fn kpi_names() -> String {
    Kpi::CELL
        .into_iter()
        .chain(Kpi::CORE)
        .map(Kpi::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps `ELEMENT/KPI` or `ELEMENT:KPI` to a series key. The separator is the
/// last `/` or `:`, since KPI names have neither and element ids may.
pub fn parse_series_name(name: &str, topology: &Topology) -> Result<SeriesKey, SeriesNameError> {
    let name = name.trim();
    let (element, kpi) = name
        .rsplit_once(['/', ':'])
        .filter(|(e, k)| !e.is_empty() && !k.is_empty())
        .ok_or_else(|| SeriesNameError::Shape(name.to_owned()))?;
    if topology.index_of(element).is_none() {
        return Err(SeriesNameError::UnknownElement {
            name: name.to_owned(),
            element: element.to_owned(),
        });
    }
    let kpi = Kpi::parse(kpi).ok_or_else(|| SeriesNameError::UnknownKpi {
        name: name.to_owned(),
        kpi: kpi.to_owned(),
    })?;
    Ok(SeriesKey {
        element: element.to_owned(),
        kpi,
    })
}

/// Telemetry aligned to minutes, ready to replay through the engine.
#[derive(Debug)]
pub struct Telemetry {
    /// `series[i]` is the key of [`SeriesId`] `i`.
    pub series: Vec<SeriesKey>,
    /// Samples sorted by minute, then series; at most one per series and minute.
    samples: Vec<Sample>,
    /// Each minute with data and the index of its first sample.
    minute_starts: Vec<(Timestamp, usize)>,
    /// Data rows read, including those without a usable value.
    pub rows: u64,
    /// Rows whose value was empty, non-numeric or not finite: missing samples.
    pub missing_values: u64,
    /// With `--lenient`: one line per skipped series.
    pub warnings: Vec<String>,
}

impl Telemetry {
    /// The minutes with data, in order, each with its samples.
    pub fn minutes(&self) -> impl Iterator<Item = (Timestamp, &[Sample])> {
        let ends = self
            .minute_starts
            .iter()
            .skip(1)
            .map(|&(_, i)| i)
            .chain([self.samples.len()]);
        self.minute_starts
            .iter()
            .zip(ends)
            .map(|(&(at, start), end)| (at, &self.samples[start..end]))
    }

    pub fn minute_count(&self) -> usize {
        self.minute_starts.len()
    }

    /// Whether `at` falls from the first minute with data to the end of the
    /// last one.
    pub fn covers(&self, at: Timestamp) -> bool {
        let (first, last) = self.span();
        (first..last + 60).contains(&at)
    }

    /// The first and last minute with data ([`read_telemetry`] refuses empty telemetry).
    pub fn span(&self) -> (Timestamp, Timestamp) {
        let minute = |m: Option<&(Timestamp, usize)>| m.map_or(0, |&(at, _)| at);
        (
            minute(self.minute_starts.first()),
            minute(self.minute_starts.last()),
        )
    }
}

/// Reads `path`: a directory of per-series files, or one long CSV. In a
/// directory, `progress(done, total)` is called before the first file and
/// after each one.
pub fn read_telemetry(
    path: &Path,
    topology: &Topology,
    lenient: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Telemetry, InputError> {
    let mut builder = Builder::new(topology, lenient);
    if path.is_dir() {
        let dir_err = |err| InputError::Dir {
            path: path.display().to_string(),
            err,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(dir_err)? {
            let file = entry.map_err(dir_err)?.path();
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let stem = name.as_deref().and_then(|n| {
                n.strip_suffix(".csv.gz")
                    .or_else(|| n.strip_suffix(".csv"))
                    .map(str::to_owned)
            });
            if let Some(stem) = stem.filter(|s| !s.starts_with('.')) {
                files.push((stem, file));
            }
        }
        // Directory order is arbitrary; series ids and output must not be.
        files.sort();
        let total = files.len();
        progress(0, total);
        for (done, (stem, file)) in files.into_iter().enumerate() {
            builder.series_file(
                &stem,
                &file.display().to_string(),
                SeriesReader::open(&file)?,
            )?;
            progress(done + 1, total);
        }
    } else {
        builder.long(SeriesReader::open(path))?;
    }
    builder.finish_nonempty(&path.display().to_string())
}

/// One long `timestamp,series,value` CSV from any reader (what
/// [`read_telemetry`] does with a file); `source_name` names it in errors.
pub fn parse_long(
    input: Box<dyn Read>,
    source_name: &str,
    topology: &Topology,
    lenient: bool,
) -> Result<Telemetry, InputError> {
    let mut builder = Builder::new(topology, lenient);
    builder.long(SeriesReader::from_reader(input, source_name.to_owned()))?;
    builder.finish_nonempty(source_name)
}

/// Collects samples from any number of sources into one [`Telemetry`].
struct Builder<'t> {
    topology: &'t Topology,
    lenient: bool,
    /// Raw name as written -> series (`None`: skipped with a warning).
    names: HashMap<String, Option<SeriesId>>,
    /// `cell-1/x` and `cell-1:x` are one series.
    ids: HashMap<SeriesKey, SeriesId>,
    series: Vec<SeriesKey>,
    /// (minute, series, value) in input order.
    raw: Vec<(Timestamp, SeriesId, f64)>,
    rows: u64,
    missing_values: u64,
    warnings: Vec<String>,
}

impl<'t> Builder<'t> {
    fn new(topology: &'t Topology, lenient: bool) -> Builder<'t> {
        Builder {
            topology,
            lenient,
            names: HashMap::new(),
            ids: HashMap::new(),
            series: Vec::new(),
            raw: Vec::new(),
            rows: 0,
            missing_values: 0,
            warnings: Vec::new(),
        }
    }

    /// The id of series `name`, registering it on first sight. `Ok(None)` is
    /// a series skipped under `--lenient`; `place` says where it was met.
    fn id(
        &mut self,
        name: &str,
        place: impl FnOnce(SeriesNameError) -> InputError,
    ) -> Result<Option<SeriesId>, InputError> {
        if let Some(&id) = self.names.get(name) {
            return Ok(id);
        }
        let id = match parse_series_name(name, self.topology) {
            Ok(key) => {
                let next = self.series.len() as SeriesId;
                let id = *self.ids.entry(key.clone()).or_insert(next);
                if id == next {
                    self.series.push(key);
                }
                Some(id)
            }
            Err(err) if self.lenient => {
                self.warnings.push(format!("skipped: {}", place(err)));
                None
            }
            Err(err) => return Err(place(err)),
        };
        self.names.insert(name.to_owned(), id);
        Ok(id)
    }

    fn push(&mut self, series: SeriesId, at: Timestamp, value: Option<f64>) {
        self.rows += 1;
        match value {
            Some(v) => self.raw.push((at - at.rem_euclid(60), series, v)),
            None => self.missing_values += 1,
        }
    }

    /// Reads one long `timestamp,series,value` file, `opened` by the series
    /// reader, whose own words for a header it refuses describe
    /// `timestamp,value` files.
    fn long(&mut self, opened: Result<SeriesReader, ReadError>) -> Result<(), InputError> {
        let header = |source_name: String, line, problem: String| InputError::LongHeader {
            source_name,
            line,
            problem,
        };
        let with_series = opened.and_then(|reader| {
            let column = reader.require("series")?;
            Ok((reader, column))
        });
        let (mut reader, column) = match with_series {
            Ok(found) => found,
            Err(ReadError::Empty { source_name }) => {
                return Err(header(source_name, 1, "the file is empty".into()));
            }
            Err(ReadError::MissingColumn {
                source_name,
                line,
                column,
                ..
            }) => {
                let problem = format!("the header has no `{column}` column");
                return Err(header(source_name, line, problem));
            }
            Err(e) => return Err(e.into()),
        };
        let source_name = reader.source_name().to_owned();
        while let Some(row) = reader.next_row()? {
            let (line, value) = (row.line, row.value);
            let at = in_range(row.timestamp, &source_name, line)?;
            let name = row.field(column);
            let id = self.id(&name, |err| InputError::Series {
                source_name: source_name.clone(),
                line,
                err,
            })?;
            match id {
                Some(id) => self.push(id, at, value),
                None => self.rows += 1,
            }
        }
        Ok(())
    }

    /// One `timestamp,value` file of the series named by its file name.
    fn series_file(
        &mut self,
        name: &str,
        path: &str,
        mut reader: SeriesReader,
    ) -> Result<(), InputError> {
        let Some(id) = self.id(name, |err| InputError::FileName {
            path: path.to_owned(),
            err,
        })?
        else {
            return Ok(());
        };
        while let Some(row) = reader.next_row()? {
            let (at, value) = (in_range(row.timestamp, path, row.line)?, row.value);
            self.push(id, at, value);
        }
        Ok(())
    }

    fn finish(mut self) -> Telemetry {
        // Stable: of two samples of one series in one minute the later row wins,
        // as a live feed keyed by (series, minute) would overwrite the first.
        self.raw.sort_by_key(|&(at, s, _)| (at, s));
        let mut samples: Vec<Sample> = Vec::with_capacity(self.raw.len());
        let mut minute_starts = Vec::new();
        for (i, &(at, series, value)) in self.raw.iter().enumerate() {
            let same_key = i > 0 && self.raw[i - 1].0 == at && self.raw[i - 1].1 == series;
            if same_key && let Some(last) = samples.last_mut() {
                last.value = value;
                continue;
            }
            if minute_starts.last().is_none_or(|&(m, _)| m != at) {
                minute_starts.push((at, samples.len()));
            }
            samples.push(Sample { series, value });
        }
        Telemetry {
            series: self.series,
            samples,
            minute_starts,
            rows: self.rows,
            missing_values: self.missing_values,
            warnings: self.warnings,
        }
    }

    /// [`Builder::finish`], or [`InputError::NoSamples`] naming `path` if nothing was read.
    fn finish_nonempty(self, path: &str) -> Result<Telemetry, InputError> {
        let telemetry = self.finish();
        if telemetry.samples.is_empty() {
            return Err(InputError::NoSamples {
                path: path.to_owned(),
            });
        }
        Ok(telemetry)
    }
}

/// Reads a `timestamp,element,kind,description` change file.
pub fn read_changes(path: &Path, topology: &Topology) -> Result<Vec<ChangeEvent>, InputError> {
    let file = std::fs::File::open(path).map_err(|err| ReadError::Open {
        source_name: path.display().to_string(),
        err,
    })?;
    parse_changes(file, &path.display().to_string(), topology)
}

/// [`read_changes`] over any reader; `source_name` names it in errors.
pub fn parse_changes(
    input: impl Read,
    source_name: &str,
    topology: &Topology,
) -> Result<Vec<ChangeEvent>, InputError> {
    let problem = |line: u64, problem: String| InputError::Change {
        source_name: source_name.to_owned(),
        line,
        problem,
    };
    let record_problem = |err| match err {
        RecordError::Csv { line, err } => problem(line, err.to_string()),
        RecordError::SpansLines { line } => problem(
            line,
            "a quoted field runs on past the end of its line (an unclosed `\"`?); \
             each change is one line: close the quote, or keep the description on one line"
                .into(),
        ),
    };
    let mut reader = NumberedCsv::new(input);
    let mut bytes = csv::ByteRecord::new();
    let Some(header_line) = reader.read(&mut bytes).map_err(record_problem)? else {
        return Err(problem(
            1,
            "the file is empty; expected a header `timestamp,element,kind,description`".into(),
        ));
    };
    let header = csv::StringRecord::from_byte_record_lossy(std::mem::take(&mut bytes));
    let column = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            problem(
                header_line,
                format!(
                    "the header has no `{name}` column; expected `timestamp,element,kind,description`"
                ),
            )
        })
    };
    let (t_col, e_col, k_col, d_col) = (
        column("timestamp")?,
        column("element")?,
        column("kind")?,
        column("description")?,
    );
    let mut changes = Vec::new();
    while let Some(line) = reader.read(&mut bytes).map_err(record_problem)? {
        let record = csv::StringRecord::from_byte_record(std::mem::take(&mut bytes))
            .map_err(|e| problem(line, format!("{e}; save the file as UTF-8")))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let at = parse_timestamp(field(t_col))
            .map_err(|e: TimestampError| problem(line, e.to_string()))?;
        let at = in_range(at, source_name, line)?;
        let element = field(e_col);
        if topology.index_of(element).is_none() {
            return Err(problem(
                line,
                format!("unknown element `{element}`: it is not in the topology"),
            ));
        }
        let kind = ChangeKind::parse(field(k_col)).ok_or_else(|| {
            let kinds: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
            problem(
                line,
                format!(
                    "unknown change kind `{}`; use one of {}",
                    field(k_col),
                    kinds.join(", ")
                ),
            )
        })?;
        changes.push(ChangeEvent {
            at,
            element: element.to_owned(),
            kind,
            description: field(d_col).to_owned(),
        });
        // Its allocation serves the next row.
        bytes = record.into_byte_record();
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use dialtone_model::{Element, ElementKind};
    use proptest::prelude::*;

    use super::*;

    fn topology() -> Topology {
        let els = vec![
            Element::new("cell-1", ElementKind::Cell),
            Element::new("amf:1", ElementKind::CoreInstance),
        ];
        Topology::new(els, Vec::new()).unwrap()
    }

    fn long(text: &str, lenient: bool) -> Result<Telemetry, InputError> {
        let t = topology();
        let mut b = Builder::new(&t, lenient);
        b.long(SeriesReader::from_reader(
            Box::new(std::io::Cursor::new(text.to_owned())),
            "t.csv".into(),
        ))?;
        Ok(b.finish())
    }

    fn minutes(t: &Telemetry) -> Vec<(Timestamp, Vec<(SeriesId, f64)>)> {
        t.minutes()
            .map(|(at, s)| (at, s.iter().map(|s| (s.series, s.value)).collect()))
            .collect()
    }

    #[test]
    fn series_names_map_to_an_element_and_a_kpi() {
        let t = topology();
        let key = |e: &str, kpi| SeriesKey {
            element: e.into(),
            kpi,
        };
        assert_eq!(
            parse_series_name("cell-1/attach_success_pct", &t),
            Ok(key("cell-1", Kpi::AttachSuccess))
        );
        assert_eq!(
            parse_series_name(" cell-1:call_drop_pct", &t),
            Ok(key("cell-1", Kpi::CallDropRate))
        );
        // The last separator splits: element ids may contain one.
        assert_eq!(
            parse_series_name("amf:1:procedure_success_pct", &t),
            Ok(key("amf:1", Kpi::ProcedureSuccess))
        );
        for bad in ["cell-1", "", "/attach_success_pct", "cell-1/"] {
            assert!(matches!(
                parse_series_name(bad, &t),
                Err(SeriesNameError::Shape(_))
            ));
        }
        let e = parse_series_name("ghost/latency_ms", &t).unwrap_err();
        assert!(matches!(e, SeriesNameError::UnknownElement { .. }));
        let e = parse_series_name("cell-1/calls", &t)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown KPI `calls`") && e.contains("attach_success_pct"),
            "{e}"
        );
    }

    #[test]
    fn rows_align_to_minutes_in_time_order_and_the_last_duplicate_wins() {
        let t = long(
            "timestamp,series,value\n\
             1700000070,cell-1/attach_success_pct,99\n\
             1700000010,cell-1:attach_success_pct,98\n\
             1700000030,cell-1/attach_success_pct,97\n\
             1700000000,amf:1/procedure_success_pct,\n\
             2023-11-14T22:14:00Z,amf:1/procedure_success_pct,95\n",
            false,
        )
        .unwrap();
        assert_eq!(t.series.len(), 2, "one series however it is spelt");
        assert_eq!(
            minutes(&t),
            [
                (1_699_999_980, vec![(0, 97.0)]),
                (1_700_000_040, vec![(0, 99.0), (1, 95.0)]),
            ]
        );
        assert_eq!((t.rows, t.missing_values), (5, 1));
    }

    #[test]
    fn bad_telemetry_names_the_file_and_line() {
        let e = long("timestamp,value\n1,2\n", false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv: line 1: the header has no `series` column"),
            "{e}"
        );
        // The series reader's refusals, in this file's layout.
        let expected = "; expected a header `timestamp,series,value`";
        for (text, problem) in [
            ("", "line 1: the file is empty"),
            (
                "\ntimestamp,series\n",
                "line 2: the header has no `value` column",
            ),
            (
                "\n\nvalue,series\n",
                "line 3: the header has no `timestamp` column",
            ),
            (
                "\n\ntimestamp,value\n",
                "line 3: the header has no `series` column",
            ),
        ] {
            let e = long(text, false).unwrap_err().to_string();
            assert!(e.starts_with(&format!("t.csv: {problem}{expected}")), "{e}");
        }
        let text = "timestamp,series,value\n60,cell-1/latency_ms,1\n120,ghost/latency_ms,2\n";
        let e = long(text, false).unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv: line 3: series `ghost/latency_ms`: unknown element"),
            "{e}"
        );
        let e = long(
            "timestamp,series,value\n60,cell-1/latency_ms,1\nnoon,cell-1/latency_ms,2\n",
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("t.csv: line 3: cannot parse timestamp `noon`"),
            "{e}"
        );
        let t = long(text, true).unwrap();
        assert_eq!(t.series.len(), 1);
        assert_eq!(t.warnings.len(), 1, "one warning per series, not per row");
        assert!(t.warnings[0].contains("line 3"), "{:?}", t.warnings);
    }

    #[test]
    fn change_files_are_checked_line_by_line() {
        let t = topology();
        let parse = |text: &str| parse_changes(text.as_bytes(), "c.csv", &t);
        let ok = parse(
            "timestamp,element,kind,description\n\
             2024-05-01T12:00:00Z,cell-1,config,\"tilt, power\"\n\
             1714565000,amf:1,deploy,22.4.2\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            ok[0],
            ChangeEvent {
                at: 1_714_564_800,
                element: "cell-1".into(),
                kind: ChangeKind::Config,
                description: "tilt, power".into(),
            }
        );
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert!(err("").contains("line 1: the file is empty"));
        assert!(
            err("timestamp,element,kind\n").contains("line 1: the header has no `description`")
        );
        let head = "timestamp,element,kind,description\n";
        let e = err(&format!(
            "{head}0,cell-1,config,\"tilt, power\n1,cell-1,config,second\n"
        ));
        assert!(e.contains("line 2") && e.contains("unclosed"), "{e}");
        let e = err(&format!("{head}0,cell-1,config,x\n0,ghost,config,x\n"));
        assert!(
            e.starts_with("c.csv: line 3: unknown element `ghost`"),
            "{e}"
        );
        let e = err(&format!("{head}0,cell-1,reboot,x\n"));
        assert!(
            e.contains("line 2: unknown change kind `reboot`; use one of deploy"),
            "{e}"
        );
        assert!(
            err(&format!("{head}yesterday,cell-1,config,x\n")).contains("line 2: cannot parse")
        );
        assert!(
            err(&format!("{head}-1,cell-1,config,x\n")).contains("line 2: timestamp -1 is not")
        );
        // Blank lines and `\r\n` endings count as the lines they are.
        for ending in ["\n", "\r\n", "\r"] {
            let text = [
                "",
                "timestamp,element,kind,description",
                "0,cell-1,config,x",
                "",
                "",
            ]
            .join(ending)
                + "0,ghost,config,x"
                + ending;
            let e = err(&text);
            assert!(
                e.starts_with("c.csv: line 5: unknown element"),
                "{text:?}: {e}"
            );
            let e = err(&text.replace(",description", ",note"));
            assert!(e.starts_with("c.csv: line 2: the header has no"), "{e}");
        }
        let e = parse(&format!("{head}0,cell-1,config,caf\u{e9}\n"));
        assert_eq!(e.unwrap()[0].description, "caf\u{e9}");
        let mut latin1 = head.as_bytes().to_vec();
        latin1.extend(b"0,cell-1,config,caf\xe9\n");
        let e = parse_changes(&latin1[..], "c.csv", &t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
    }

    proptest! {
        #[test]
        fn telemetry_never_panics_and_errors_name_a_line(
            body in "[0-9a-z,.:/_ \n\"-]{0,300}",
            lenient in any::<bool>(),
        ) {
            match long(&format!("timestamp,series,value\n{body}"), lenient) {
                Ok(t) => {
                    let times: Vec<Timestamp> = t.minutes().map(|(at, _)| at).collect();
                    prop_assert!(times.windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(times.iter().all(|at| at % 60 == 0));
                }
                Err(e) => prop_assert!(e.to_string().contains(": line "), "{}", e),
            }
        }

        #[test]
        fn well_formed_rows_give_one_sample_per_series_and_minute(
            rows in proptest::collection::vec(
                (
                    0i64..100_000,
                    proptest::sample::select(vec![
                        "cell-1/latency_ms",
                        "cell-1:latency_ms",
                        "amf:1/procedure_rate",
                    ]),
                    proptest::option::of(-1e9f64..1e9),
                ),
                0..200,
            ),
        ) {
            let mut text = String::from("timestamp,series,value\n");
            for (at, name, value) in &rows {
                let value = value.map_or(String::new(), |v| v.to_string());
                text.push_str(&format!("{at},{name},{value}\n"));
            }
            let t = long(&text, false).unwrap();
            prop_assert_eq!(t.rows, rows.len() as u64);
            let valued = rows.iter().filter(|r| r.2.is_some()).count();
            prop_assert_eq!(t.missing_values as usize, rows.len() - valued);
            for (_, samples) in t.minutes() {
                prop_assert!(samples.windows(2).all(|w| w[0].series < w[1].series));
            }
        }

        #[test]
        fn change_files_never_panic(body in "[0-9a-z,.:/_ \n\"-]{0,300}") {
            let t = topology();
            let text = format!("timestamp,element,kind,description\n{body}");
            if let Err(e) = parse_changes(text.as_bytes(), "c.csv", &t) {
                prop_assert!(e.to_string().contains(": line "), "{}", e);
            }
        }
    }
}
