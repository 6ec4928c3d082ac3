//! CSV records with the lines they are on, for errors that name the line.
//!
//! The csv crate's record position is where its read began: before the
//! blank lines it skipped and the `\n` left over from the previous row's
//! `\r\n`. So the breaks are counted here, in the input as the parser
//! takes it in, and a record's line is told from the byte its read ended at.
//! Both the series reader and `dialtone rca`'s change files read through this.

use std::collections::VecDeque;
use std::io::Read;

/// Why a record could not be read, and the line to name.
#[derive(Debug)]
pub(crate) enum RecordError {
    /// The parser's own error, or the input failing (a truncated gzip
    /// stream), on the line where reading had got to.
    Csv { line: u64, err: csv::Error },
    /// A quoted field runs on past the end of its line (a stray quote
    /// would take every following line into one field); the record
    /// starts on `line`. Rows of our files are one line each.
    SpansLines { line: u64 },
}

/// A CSV reader (no header handling, rows of any length) that tells the
/// line each record ends on and refuses records spanning lines.
pub(crate) struct NumberedCsv<R> {
    /// Its input counts the line breaks (`get_ref`, `get_mut`).
    reader: csv::Reader<CountingLineBreaks<R>>,
}

impl<R: Read> NumberedCsv<R> {
    pub(crate) fn new(input: R) -> NumberedCsv<R> {
        let counted = CountingLineBreaks {
            input,
            breaks: LineBreaks::default(),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Short rows (a missing value) are for the caller to judge.
            .flexible(true)
            .from_reader(counted);
        NumberedCsv { reader }
    }

    /// Reads the next record into `record`: the 1-based line it ends on,
    /// or `None` at the end of the input.
    pub(crate) fn read(
        &mut self,
        record: &mut csv::ByteRecord,
    ) -> Result<Option<u64>, RecordError> {
        let got = self.reader.read_byte_record(record);
        // The record ends with the byte before where the next read starts
        // (its line break, or its last byte at the end of the input). An
        // error is placed there too: a record the parser refused has been
        // read whole, and an input that failed stopped where reading had
        // got to.
        let read_to = self.reader.position().byte();
        let ends_at = read_to.saturating_sub(1);
        let line = self.reader.get_mut().breaks.line_of(ends_at);
        if !got.map_err(|err| RecordError::Csv { line, err })? {
            return Ok(None);
        }
        if spans_lines(record) {
            // The record started as many lines up as its fields hold breaks
            // before its last byte. A quote left open to the end of the
            // input holds that byte too: the end of the input ended the
            // record, and the input's last byte, a break, is in its last field.
            let held: u64 = record.iter().map(line_breaks_in).sum();
            let breaks = &self.reader.get_ref().breaks;
            let open_to_the_end = breaks.ended
                && read_to == breaks.taken
                && matches!(breaks.last_byte, Some(b'\n' | b'\r'))
                && (record.iter().next_back())
                    .is_some_and(|field| field.ends_with(b"\n") || field.ends_with(b"\r"));
            let line = (line + u64::from(open_to_the_end))
                .saturating_sub(held)
                .max(1);
            return Err(RecordError::SpansLines { line });
        }
        Ok(Some(line))
    }
}

/// Whether a record runs over more than one line.
fn spans_lines(record: &csv::ByteRecord) -> bool {
    record
        .iter()
        .any(|f| f.contains(&b'\n') || f.contains(&b'\r'))
}

/// The line breaks (`\n`, `\r\n` at its `\n`, a lone `\r`) in what the CSV
/// parser has taken in, so that a row's line can be told from the byte its
/// read ended at: the csv crate's own record position is where its read
/// began, before the blank lines it skipped and the `\n` left over from the
/// previous row's `\r\n`.
#[derive(Debug, Default)]
struct LineBreaks {
    /// Bytes taken in so far.
    taken: u64,
    /// A `\r` ending the bytes taken so far: a break of its own unless a
    /// `\n` follows.
    carriage_return_at: Option<u64>,
    /// Offsets of the breaks taken in and not yet passed.
    ahead: VecDeque<u64>,
    /// Breaks passed.
    passed: u64,
    /// The last byte taken, and whether the input has ended: a row the end
    /// of the input ended (the parser reads past a row's break only for
    /// the next row) whose last byte is a break ended inside a quote.
    last_byte: Option<u8>,
    ended: bool,
}

impl LineBreaks {
    /// Notes the breaks in `bytes`, the next taken in; empty at the end.
    /// The parser asks for more only once it has used up what it took
    /// before (its buffer is refilled when empty), so every row it reads
    /// from here on ends in these bytes or later, unless there are none (a
    /// row that ends the file ends in the bytes before): the breaks taken
    /// before are passed, and only one read's breaks are ever held, however
    /// many blank lines the file has.
    fn take(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.passed += self.ahead.len() as u64;
            self.ahead.clear();
        }
        if let Some(at) = self.carriage_return_at.take()
            && bytes.first() != Some(&b'\n')
        {
            self.ahead.push_back(at);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let at = self.taken + i as u64;
            match (b, bytes.get(i + 1)) {
                (b'\n', _) => self.ahead.push_back(at),
                (b'\r', None) => self.carriage_return_at = Some(at),
                (b'\r', Some(&next)) if next != b'\n' => self.ahead.push_back(at),
                _ => {}
            }
        }
        self.taken += bytes.len() as u64;
        if let Some(&b) = bytes.last() {
            self.last_byte = Some(b);
        }
        self.ended |= bytes.is_empty();
    }

    /// The 1-based line of the byte at `offset`, for offsets that never
    /// decrease from one call to the next.
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.ahead.front().is_some_and(|&at| at < offset) {
            self.ahead.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

/// The line breaks in `bytes`, counted as [`LineBreaks`] counts them.
fn line_breaks_in(bytes: &[u8]) -> u64 {
    let mut breaks = LineBreaks::default();
    breaks.take(bytes);
    breaks.take(&[]);
    breaks.ahead.len() as u64
}

/// The input, noting its line breaks in [`LineBreaks`] as the parser reads it.
struct CountingLineBreaks<R> {
    input: R,
    breaks: LineBreaks,
}

impl<R: Read> Read for CountingLineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        self.breaks.take(&buf[..n]);
        Ok(n)
    }
}
