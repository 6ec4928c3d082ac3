/// Why a topology file was refused. Every variant but [`TopoFileError::Read`]
/// names the file and the 1-based line to fix; the message fits on one line.
#[derive(Debug, thiserror::Error)]
pub enum TopoFileError {
    #[error("{file}: cannot read the topology file: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: duplicate element id `{element}` (first defined on line {first_line})")]
    DuplicateId {
        file: String,
        line: usize,
        element: String,
        first_line: usize,
    },
    #[error(
        "{file}:{line}: `{element}` refers to unknown element `{reference}`: define it or fix the id"
    )]
    UnknownReference {
        file: String,
        line: usize,
        element: String,
        reference: String,
    },
    #[error("{file}:{line}: `{element}` needs {k} of {n} members: k must be between 1 and {n}")]
    ImpossibleKOfN {
        file: String,
        line: usize,
        element: String,
        k: i64,
        n: usize,
    },
    #[error(
        "{file}:{line}: dependency cycle through `{element}`: {path} (an element cannot depend on itself)"
    )]
    Cycle {
        file: String,
        line: usize,
        element: String,
        path: String,
    },
    #[error("{file}:{line}: `{element}`: {message}")]
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
            | TopoFileError::ImpossibleKOfN { line, .. }
            | TopoFileError::Cycle { line, .. }
            | TopoFileError::Invalid { line, .. } => Some(*line),
        }
    }
}
