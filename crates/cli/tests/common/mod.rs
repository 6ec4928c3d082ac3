//! Helpers shared by the CLI's integration tests.

#![allow(dead_code)] // each test file uses its own subset

use std::process::{Command, Output, Stdio};

/// Runs the built `dialtone` binary with `args` and no stdin.
pub fn dialtone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

/// The command failed as a usage error (exit 2) saying `needle`.
pub fn assert_usage_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
}
