//! One module per subcommand; each turns flags into calls on the library crates.

/// `print!` for reports and tables: a reader that stops early (`| head`) ends
/// the command quietly, as a closed pipe ends a Unix filter, where `print!`
/// would panic. Defined before the modules that use it.
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
pub mod demo;
pub mod detect;
pub mod drill;
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

/// Writes to standard output for [`out!`] and [`outln!`]. A closed pipe
/// exits with 0 (the reader has what it wanted); any other write error
/// exits with 1 and says so, as `print!` cannot return it.
pub fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// 2 for a [`UsageError`] anywhere in the chain, 1 for everything else.
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
