//! One module per subcommand; each turns flags into calls on the library crates.

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
