/// Why a topology file was refused. Every variant but [`TopoFileError::Read`]
/// names the file and the 1-based line to fix; the message fits on one line:
/// what it quotes from the file (ids, kinds, TOML's own words about a key)
/// is shown through [`one_line`].
#[derive(Debug, thiserror::Error)]
pub enum TopoFileError {
    #[error("{file}: cannot read the topology file: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {}", one_line(.message))]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "{file}:{line}: duplicate element id `{}` (first defined on line {first_line})",
        one_line(.element)
    )]
    DuplicateId {
        file: String,
        line: usize,
        element: String,
        first_line: usize,
    },
    #[error(
        "{file}:{line}: `{}` refers to unknown element `{}`: define it or fix the id",
        one_line(.element),
        one_line(.reference)
    )]
    UnknownReference {
        file: String,
        line: usize,
        element: String,
        reference: String,
    },
    #[error(
        "{file}:{line}: `{}` is not defined: define it as an element or fix the id",
        one_line(.element)
    )]
    UnknownElement {
        file: String,
        line: usize,
        element: String,
    },
    #[error(
        "{file}:{line}: `{}` needs {k} of {n} members: k must be between 1 and {n}",
        one_line(.element)
    )]
    ImpossibleKOfN {
        file: String,
        line: usize,
        element: String,
        k: i64,
        n: usize,
    },
    #[error(
        "{file}:{line}: dependency cycle through `{}`: {} (an element cannot depend on itself)",
        one_line(.element),
        one_line(.path)
    )]
    Cycle {
        file: String,
        line: usize,
        element: String,
        path: String,
    },
    #[error("{file}:{line}: `{}`: {}", one_line(.element), one_line(.message))]
    Invalid {
        file: String,
        line: usize,
        element: String,
        message: String,
    },
}

impl TopoFileError {
    /// The 1-based line the error points at, if it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            TopoFileError::Read { .. } => None,
            TopoFileError::Syntax { line, .. }
            | TopoFileError::DuplicateId { line, .. }
            | TopoFileError::UnknownReference { line, .. }
            | TopoFileError::UnknownElement { line, .. }
            | TopoFileError::ImpossibleKOfN { line, .. }
            | TopoFileError::Cycle { line, .. }
            | TopoFileError::Invalid { line, .. } => Some(*line),
        }
    }
}

/// `s` with its control characters escaped (`\n`, `\u{1b}`): a message
/// quoting the file must neither start a line of the file's making nor
/// send a terminal escape.
pub(crate) fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    s.chars()
        .map(|c| match c.is_control() {
            true => c.escape_debug().to_string(),
            false => c.to_string(),
        })
        .collect::<String>()
        .into()
}
