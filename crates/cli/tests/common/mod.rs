//! Helpers shared by the CLI's integration tests.

use std::process::{Command, Output, Stdio};

/// Runs the built `dialtone` binary with `args` and no stdin.
pub fn dialtone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}
