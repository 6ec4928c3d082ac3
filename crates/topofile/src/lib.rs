//! Dialtone's topology files: a human-writable TOML format and a plain CSV
//! edge list, both turned into a validated [`dialtone_model::Topology`].
//!
//! The format is documented in `docs/topology.md`. Every validation error
//! names the file, the line and the element, so a person can fix the file
//! without guessing: [`TopoFileError::line`] gives the line to tests and tools.
//!
//! Parsing does no I/O; [`load`] is the one function that reads a file.

mod draft;
mod edges;
mod error;
mod format;

use std::path::Path;

use dialtone_model::Topology;

pub use error::TopoFileError;

/// Reads `path` and parses it by extension: `.csv` is an edge list, anything
/// else the TOML format.
pub fn load(path: &Path) -> Result<Topology, TopoFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TopoFileError::Read {
        file: file.clone(),
        source,
    })?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        parse_csv(&text, &file)
    } else {
        parse_toml(&text, &file)
    }
}

/// Parses the TOML topology format; `file` names the source in errors.
pub fn parse_toml(text: &str, file: &str) -> Result<Topology, TopoFileError> {
    format::parse(text, file)
}

/// Parses a `source,target[,relation]` edge list; `file` names the source in errors.
/// A leading byte-order mark, which spreadsheets write, is not part of the header.
pub fn parse_csv(text: &str, file: &str) -> Result<Topology, TopoFileError> {
    edges::parse(text.strip_prefix('\u{feff}').unwrap_or(text), file)
}
