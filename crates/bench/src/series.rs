//! Reading `timestamp,value[,...]` CSV series (NAB and AIOps KPI layouts).
//!
//! Rows are streamed, not collected: the KPI set has six million rows and
//! `dialtone detect` must handle files larger than memory. Per-row problems
//! that a live feed also has (an empty or non-numeric value) are reported in
//! the row, not as errors; only a file we cannot interpret at all is an error.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use crate::csv_lines::{NumberedCsv, RecordError};
use std::path::Path;

use dialtone_model::Timestamp;
use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Why a series file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {source_name}: {err}")]
    Open {
        source_name: String,
        #[source]
        err: std::io::Error,
    },
    #[error("{source_name}: line {line}: {err}")]
    Csv {
        source_name: String,
        line: u64,
        #[source]
        err: csv::Error,
    },
    #[error(
        "{source_name}: the file is empty; expected a header line naming its columns, \
         `timestamp` and `value` among them"
    )]
    Empty { source_name: String },
    #[error(
        "{source_name}: line {line}: the header `{header}` has no `{column}` column; \
         expected a header line starting `timestamp,value`"
    )]
    MissingColumn {
        source_name: String,
        line: u64,
        header: String,
        column: &'static str,
    },
    #[error(
        "{source_name}: line {line}: a quoted field runs on past the end of its line \
         (an unclosed `\"`?); every row of a series is one line: close or remove the quote"
    )]
    SpansLines { source_name: String, line: u64 },
    #[error("{source_name}: line {line}: {err}")]
    Timestamp {
        source_name: String,
        line: u64,
        #[source]
        err: TimestampError,
    },
}

impl ReadError {
    fn from_record(source_name: &str, err: RecordError) -> ReadError {
        let source_name = source_name.to_owned();
        match err {
            RecordError::Csv { line, err } => ReadError::Csv {
                source_name,
                line,
                err,
            },
            RecordError::SpansLines { line } => ReadError::SpansLines { source_name, line },
        }
    }
}

/// A timestamp that is neither `YYYY-MM-DD HH:MM:SS[.ffffff]`, RFC 3339 nor
/// integer Unix seconds, or Unix seconds too far out to be seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error(
        "cannot parse timestamp `{0}`; use `YYYY-MM-DD HH:MM:SS` (naive, read as UTC), RFC 3339 \
         (`2024-05-01T12:00:00Z`) or integer Unix seconds"
    )]
    Unparsed(String),
    #[error(
        "timestamp `{0}` is after the year 9999 as Unix seconds: if the file counts \
         milliseconds, divide its timestamps by 1000"
    )]
    NotSeconds(String),
}

/// The last second of the year 9999: integer timestamps beyond it are not
/// seconds (most likely milliseconds, which would read as a time 1,000
/// times as far from 1970).
const LAST_SECOND: Timestamp = 253_402_300_799;

const DATE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]");

/// Parses `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds, as NAB's
/// label files write them) as UTC, RFC 3339 (what exporters write, with its
/// offset), or integer Unix seconds.
///
/// NAB's times are naive local times; reading them as UTC keeps their order
/// and spacing, which is all a detector and the scorer need.
pub fn parse_timestamp(s: &str) -> Result<Timestamp, TimestampError> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<Timestamp>() {
        if secs.unsigned_abs() > LAST_SECOND.unsigned_abs() {
            return Err(TimestampError::NotSeconds(s.to_owned()));
        }
        return Ok(secs);
    }
    PrimitiveDateTime::parse(s, DATE_TIME)
        .map(|t| t.assume_utc())
        .or_else(|_| OffsetDateTime::parse(s, &Rfc3339))
        .map(|t| t.unix_timestamp())
        .map_err(|_| TimestampError::Unparsed(s.to_owned()))
}

/// The value of a row, or `None` when it is empty, non-numeric or not finite:
/// such a row is a missing sample, not a reason to stop.
pub fn parse_value(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// One data row. Raw fields are kept so `dialtone detect` can echo them unchanged.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub timestamp_raw: &'a str,
    pub timestamp: Timestamp,
    /// As read, whatever the bytes: a value that is not UTF-8 text is a
    /// missing sample, echoed unchanged.
    pub value_raw: &'a [u8],
    pub value: Option<f64>,
    record: &'a csv::ByteRecord,
}

impl<'a> Row<'a> {
    /// The field in column `index` (see [`SeriesReader::column`]); empty if
    /// the row is short, with U+FFFD for bytes that are not UTF-8 (columns
    /// the caller does not read may hold anything).
    pub fn field(&self, index: usize) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.record.get(index).unwrap_or_default())
    }
}

/// A streaming reader of a `timestamp,value[,...]` CSV file, gzip-compressed or not.
pub struct SeriesReader {
    source_name: String,
    reader: NumberedCsv<Box<dyn Read>>,
    headers: csv::StringRecord,
    header_line: u64,
    record: csv::ByteRecord,
    timestamp_col: usize,
    value_col: usize,
}

impl std::fmt::Debug for SeriesReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesReader")
            .field("source_name", &self.source_name)
            .finish_non_exhaustive()
    }
}

impl SeriesReader {
    /// Opens `path`; gzip (by its magic bytes, whatever the name) is
    /// decompressed on the fly.
    pub fn open(path: &Path) -> Result<SeriesReader, ReadError> {
        let source_name = path.display().to_string();
        let open_error = |err| ReadError::Open {
            source_name: source_name.clone(),
            err,
        };
        let file = File::open(path).map_err(open_error)?;
        let mut file = BufReader::with_capacity(1 << 16, file);
        let gzip = file
            .fill_buf()
            .map_err(open_error)?
            .starts_with(&[0x1f, 0x8b]);
        let input: Box<dyn Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        SeriesReader::from_reader(input, source_name)
    }

    /// Reads the header from `input`; `source_name` names the input in errors.
    pub fn from_reader(
        input: Box<dyn Read>,
        source_name: String,
    ) -> Result<SeriesReader, ReadError> {
        let mut reader = NumberedCsv::new(input);
        let mut header = csv::ByteRecord::new();
        let Some(header_line) = reader
            .read(&mut header)
            .map_err(|err| ReadError::from_record(&source_name, err))?
        else {
            return Err(ReadError::Empty { source_name });
        };
        // Not UTF-8: its names will not match, and the error shows it.
        let headers = csv::StringRecord::from_byte_record_lossy(header);
        let mut reader = SeriesReader {
            source_name,
            reader,
            headers,
            header_line,
            record: csv::ByteRecord::new(),
            timestamp_col: 0,
            value_col: 0,
        };
        reader.timestamp_col = reader.require("timestamp")?;
        reader.value_col = reader.require("value")?;
        Ok(reader)
    }

    /// The index of the column named `name`, for [`Row::field`].
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.trim() == name)
    }

    /// The index of the column named `column`, or the error naming the
    /// header's line.
    pub fn require(&self, column: &'static str) -> Result<usize, ReadError> {
        self.column(column).ok_or_else(|| ReadError::MissingColumn {
            source_name: self.source_name.clone(),
            line: self.header_line,
            header: self.headers.iter().collect::<Vec<_>>().join(","),
            column,
        })
    }

    /// The name given to errors (the path, for opened files).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The next row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, ReadError> {
        let Some(line) = (self.reader)
            .read(&mut self.record)
            .map_err(|err| ReadError::from_record(&self.source_name, err))?
        else {
            return Ok(None);
        };
        let timestamp_bytes = self.record.get(self.timestamp_col).unwrap_or_default();
        let timestamp_error = |err| ReadError::Timestamp {
            source_name: self.source_name.clone(),
            line,
            err,
        };
        // Not UTF-8: the timestamp is named as it reads, and refused.
        let timestamp_raw = std::str::from_utf8(timestamp_bytes).map_err(|_| {
            let lossy = String::from_utf8_lossy(timestamp_bytes);
            timestamp_error(TimestampError::Unparsed(lossy.trim().to_owned()))
        })?;
        let timestamp = parse_timestamp(timestamp_raw).map_err(timestamp_error)?;
        let value_raw = self.record.get(self.value_col).unwrap_or_default();
        Ok(Some(Row {
            line,
            timestamp_raw,
            timestamp,
            value_raw,
            value: std::str::from_utf8(value_raw).ok().and_then(parse_value),
            record: &self.record,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reader(text: &str) -> Result<SeriesReader, ReadError> {
        SeriesReader::from_reader(
            Box::new(std::io::Cursor::new(text.to_owned())),
            "t.csv".into(),
        )
    }

    #[test]
    fn timestamps_in_both_layouts() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Ok(0));
        assert_eq!(
            parse_timestamp("2014-04-10 07:15:00.000000"),
            Ok(1_397_114_100)
        );
        assert_eq!(parse_timestamp("2014-04-10 07:15:00"), Ok(1_397_114_100));
        assert_eq!(parse_timestamp("1397114100"), Ok(1_397_114_100));
        assert_eq!(parse_timestamp("2014-04-10T07:15:00Z"), Ok(1_397_114_100));
        assert_eq!(
            parse_timestamp("2014-04-10T09:15:00.5+02:00"),
            Ok(1_397_114_100)
        );
        assert!(parse_timestamp("2014-04-10").is_err());
        // Past year 9999 either way, the most negative integer included
        // (whose absolute value does not fit).
        for far in [
            "-9223372036854775808",
            "9223372036854775807",
            "-253402300800",
        ] {
            assert_eq!(
                parse_timestamp(far),
                Err(TimestampError::NotSeconds(far.into()))
            );
        }
        assert_eq!(parse_timestamp("-253402300799"), Ok(-253_402_300_799));
        assert!(parse_timestamp("yesterday").is_err());
        assert!(parse_timestamp("").is_err());
    }

    #[test]
    fn bad_values_are_missing_samples() {
        assert_eq!(parse_value(" 1.5 "), Some(1.5));
        assert_eq!(parse_value("-2e3"), Some(-2000.0));
        assert_eq!(parse_value(""), None);
        assert_eq!(parse_value("n/a"), None);
        assert_eq!(parse_value("NaN"), None);
        assert_eq!(parse_value("inf"), None);
    }

    #[test]
    fn rows_keep_raw_fields_and_extra_columns() {
        let mut r = reader("timestamp,value,label\n100,1.0,0\n160,,1\n220\n").unwrap();
        let label = r.column("label").unwrap();
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(
            (row.line, row.timestamp, row.value, &*row.field(label)),
            (2, 100, Some(1.0), "0")
        );
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(
            (row.value_raw, row.value, &*row.field(label)),
            (&b""[..], None, "1")
        );
        let row = r.next_row().unwrap().unwrap();
        assert_eq!((row.line, row.value, &*row.field(label)), (4, None, ""));
        assert!(r.next_row().unwrap().is_none());
    }

    #[test]
    fn gzip_is_read_whatever_the_name() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("dialtone-series-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"timestamp,value\n1,2.5\n").unwrap();
        let bytes = gz.finish().unwrap();
        for name in ["a.csv.gz", "a.csv"] {
            std::fs::write(dir.join(name), &bytes).unwrap();
            let mut r = SeriesReader::open(&dir.join(name)).unwrap();
            assert_eq!(r.next_row().unwrap().unwrap().value, Some(2.5), "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_files_name_the_problem_and_line() {
        let e = reader("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = reader("1,2\n3,4\n").unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains("no `timestamp` column"),
            "{e}"
        );
        let e = reader("timestamp,val\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("no `value` column"), "{e}");
        let e = reader("\r\n\r\ntimestamp,val\r\n1,2\r\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("no `value` column"),
            "{e}"
        );
        let mut r = reader("timestamp,value\n1,2\nnoon,3\n").unwrap();
        r.next_row().unwrap();
        let e = r.next_row().unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("`noon`"), "{e}");
        let mut r = reader("timestamp,value\n1,2\n2,\"3\n3,4\n4,5\n").unwrap();
        r.next_row().unwrap();
        let e = r.next_row().unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("unclosed"), "{e}");
        let e = parse_timestamp("1392388200000").unwrap_err().to_string();
        assert!(e.contains("milliseconds"), "{e}");
        assert_eq!(parse_timestamp("1392388200"), Ok(1_392_388_200));
        for (text, start) in [
            ("timestamp,value\n1,2\n\n2,\"3\n3\",4\n5,6\n", 4),
            ("timestamp,value\r\n1,2\r\n\r\n2,\"3\r\n3,4\r\n", 4),
            ("timestamp,value\n1,2\n2,\"3\n3,4\n4,5", 3),
            ("timestamp,value\n1,2\n2,\"3\n3,4\n4,5\n", 3),
            ("timestamp,value\n1,2\n\n2,\"3\n\"\n5,6\n", 4),
            ("timestamp,value\n1,2\n\n2,\"3\n\"\n", 4),
            ("timestamp,value\n1,2\n\n2,\"3\n\"", 4),
            ("timestamp,value\n1,2\n2,\"3\n\"\"\n", 3),
            ("timestamp,value\r\n1,2\r\n2,\"3\r\n\"\"\r\n\r\n", 3),
        ] {
            let mut r = reader(text).unwrap();
            r.next_row().unwrap();
            let e = r.next_row().unwrap_err().to_string();
            assert!(e.contains(&format!("line {start}:")), "{text:?}: {e}");
        }
        // Blank lines and `\r\n` endings count as the lines they are.
        // Bytes that are not UTF-8: in a column nobody reads or in the
        // value, the row is kept (the value a missing sample, echoed as it
        // was); in the timestamp, refused naming the line.
        let not_utf8 = b"timestamp,value,note\r\n1,2,\xff\r\n\r\n3,\xfe\r\n\xfd,4\r\n".to_vec();
        let mut r =
            SeriesReader::from_reader(Box::new(std::io::Cursor::new(not_utf8)), "t.csv".into())
                .unwrap();
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(
            (row.line, row.value, &*row.field(2)),
            (2, Some(2.0), "\u{fffd}")
        );
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(
            (row.line, row.value, row.value_raw),
            (4, None, &b"\xfe"[..])
        );
        let e = r.next_row().unwrap_err().to_string();
        assert!(e.contains("line 5") && e.contains('\u{fffd}'), "{e}");
        for text in [
            "timestamp,value\n1,2\n\n\n\nnoon,3\n",
            "timestamp,value\r\n1,2\r\n\r\n\r\n\r\nnoon,3\r\n",
            "timestamp,value\r1,2\r\r\r\rnoon,3",
        ] {
            let mut r = reader(text).unwrap();
            assert_eq!(r.next_row().unwrap().unwrap().line, 2, "{text:?}");
            let e = r.next_row().unwrap_err().to_string();
            assert!(
                e.contains("line 6") && e.contains("`noon`"),
                "{text:?}: {e}"
            );
        }
        let mut quoted = reader("timestamp,value\n\"1\",\"2\"\n").unwrap();
        assert_eq!(quoted.next_row().unwrap().unwrap().value, Some(2.0));
    }

    /// A file of rows `(value, blank lines before it)` with one line
    /// ending throughout (a `\r` before a blank `\n` line would be a
    /// `\r\n`), each row's timestamp its line: the lines the reader names,
    /// and those the rows are on.
    fn lines_named_and_true(ending: &str, rows: &[(u32, usize)]) -> (Vec<u64>, Vec<u64>) {
        let mut text = format!("timestamp,value{ending}");
        let mut line = 1;
        let mut expected = Vec::new();
        for (value, blanks) in rows {
            for _ in 0..*blanks {
                text += ending;
                line += 1;
            }
            line += 1;
            expected.push(line);
            text += &format!("{line},{value}{ending}");
        }
        let mut r = reader(&text).unwrap();
        let mut named = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            assert_eq!(row.timestamp, row.line as i64, "{text:?}");
            named.push(row.line);
        }
        (named, expected)
    }

    #[test]
    fn rows_past_many_reads_name_their_own_lines() {
        // Far more than one read of the parser's buffer, in runs of blank lines.
        let rows: Vec<(u32, usize)> = (0..20_000).map(|i| (i, i as usize % 4)).collect();
        let (named, expected) = lines_named_and_true("\r\n", &rows);
        assert_eq!(named, expected);
    }

    proptest! {
        #[test]
        fn date_times_round_trip(secs in 0i64..4_102_444_800) {
            let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let text = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second()
            );
            prop_assert_eq!(parse_timestamp(&text), Ok(secs));
            prop_assert_eq!(parse_timestamp(&secs.to_string()), Ok(secs));
        }

        #[test]
        fn parsers_never_panic(s in ".*", n in any::<i64>()) {
            let _ = parse_timestamp(&s);
            let _ = parse_timestamp(&n.to_string());
            if let Some(v) = parse_value(&s) {
                prop_assert!(v.is_finite());
            }
        }

        #[test]
        fn finite_values_round_trip(v in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            prop_assert_eq!(parse_value(&v.to_string()), Some(v));
        }

        #[test]
        fn rows_name_their_own_lines(
            ending in proptest::sample::select(vec!["\n", "\r\n", "\r"]),
            rows in proptest::collection::vec((0u32..1000, 0usize..3), 1..40),
        ) {
            let (named, expected) = lines_named_and_true(ending, &rows);
            prop_assert_eq!(named, expected);
        }

        #[test]
        fn reader_never_panics(body in "[0-9a-z,.: \n-]{0,200}") {
            if let Ok(mut r) = reader(&format!("timestamp,value\n{body}")) {
                while let Ok(Some(_)) = r.next_row() {}
            }
        }
    }
}
