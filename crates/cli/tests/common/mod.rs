//! Helpers shared by the CLI's integration tests.

#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
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

/// The command succeeded; its stderr is the failure message otherwise.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Adds `ada`, an admin, to the store in `data` the way an operator would
/// (the password from a file written in `dir`).
pub fn add_admin(dir: &Path, data: &Path) {
    let password = dir.join("password");
    std::fs::write(&password, "correct horse battery staple\n").expect("writes");
    assert_success(&dialtone(&[
        "user",
        "add",
        "ada",
        "--role",
        "admin",
        "--password-file",
        password.to_str().expect("utf-8 path"),
        "--data-dir",
        data.to_str().expect("utf-8 path"),
    ]));
}
