//! One module per subcommand; each turns flags into calls on the library crates.

pub mod assess;
pub mod bench;
pub mod demo;
pub mod detect;
pub mod drill;
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
