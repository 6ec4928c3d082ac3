//! One module per subcommand; each turns flags into calls on the library crates.

/// `print!` for reports and tables, returning `Result<(), StdoutError>` for
/// `?`: a reader that stops early (`| head`) ends the command through the
/// normal return path (temporary directories removed, children stopped) with
/// exit code 0, as a closed pipe ends a Unix filter, where `print!` would
/// panic. Defined before the modules that use it.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cmd::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` with [`out!`]'s handling of a closed pipe.
macro_rules! outln {
    () => {
        $crate::cmd::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cmd::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub mod assess;
pub mod bench;
pub mod bench_statuspage;
mod chart;
mod data_dir;
pub mod demo;
pub mod detect;
pub mod drill;
mod output;
pub mod postmortem;
pub mod rca;
pub mod scenarios;
pub mod token;
pub mod user;

/// The user gave something we cannot work with (bad input, occupied port,
/// unwritable directory): exit code 2, like a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StdoutError {
    /// The reader closed the pipe: it has what it wanted, and the command
    /// ends with exit code 0 and no message.
    #[error("standard output was closed by its reader")]
    Closed,
    #[error("writing to standard output: {0}")]
    Io(std::io::Error),
}

/// Writes to standard output for [`out!`] and [`outln!`].
pub fn write_stdout(args: std::fmt::Arguments) -> Result<(), StdoutError> {
    use std::io::Write;
    std::io::stdout()
        .lock()
        .write_fmt(args)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => StdoutError::Closed,
            _ => StdoutError::Io(e),
        })
}

/// The async runtime of a command that talks to the store and nothing
/// else: one thread is plenty.
pub fn store_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Whether `e` is a reader closing standard output, which is no failure.
pub fn is_stdout_closed(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| matches!(c.downcast_ref(), Some(StdoutError::Closed)))
}

/// 2 for a [`UsageError`] anywhere in the chain, 1 for everything else
/// (a closed standard output is no failure: see [`is_stdout_closed`]).
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.is::<UsageError>()) {
        2
    } else {
        1
    }
}

/// A progress bar drawn on stderr when it is a terminal and hidden otherwise,
/// so pipes and scripts never see escape codes. `template` is indicatif's.
pub fn progress_bar(len: u64, template: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
    }
    bar
}
