//! `dialtone`: the thin command line over Dialtone's crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod config;

/// Outage detection and response for telecom operators.
///
/// Dialtone watches every KPI series of a network, names the element that
/// explains the symptoms, opens an incident and tells the public on a
/// Statuspage-compatible status page.
#[derive(Debug, Parser)]
#[command(name = "dialtone", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A subcommand whose arguments' doc comment teaches (a summary line, the
/// details, examples) takes its help from there: a doc comment on the
/// variant would replace it.
#[derive(Debug, Subcommand)]
enum Command {
    Demo(cmd::demo::DemoArgs),
    Drill(cmd::drill::DrillArgs),
    /// List the digital twin's scenarios.
    Scenarios(cmd::scenarios::ScenariosArgs),
    Detect(cmd::detect::DetectArgs),
    /// Benchmarks: NAB, the AIOps KPI set, throughput, assess, the status page under load.
    Bench(cmd::bench::BenchArgs),
    Rca(cmd::rca::RcaArgs),
    Assess(cmd::assess::AssessArgs),
    Postmortem(cmd::postmortem::PostmortemArgs),
    /// Console and API users: add one, or print a one-time sign-in link.
    User(cmd::user::UserArgs),
    /// API tokens for the operator API.
    Token(cmd::token::TokenArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with success; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            return match e.print() {
                // Help asked for but not written (a full disk): no success.
                // A closed pipe (`| head`) means the reader has what it wanted.
                Err(w) if code == 0 && w.kind() != std::io::ErrorKind::BrokenPipe => {
                    ExitCode::from(1)
                }
                _ => ExitCode::from(code),
            };
        }
    };
    let result = match cli.command {
        Command::Demo(args) => cmd::demo::run(args),
        Command::Drill(args) => cmd::drill::run(args),
        Command::Scenarios(args) => cmd::scenarios::run(args),
        Command::Detect(args) => cmd::detect::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Assess(args) => cmd::assess::run(args),
        Command::Postmortem(args) => cmd::postmortem::run(args),
        Command::Rca(args) => cmd::rca::run(args),
        Command::User(args) => cmd::user::run(args),
        Command::Token(args) => cmd::token::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader has what it wanted (`| head`).
        Err(e) if cmd::is_stdout_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dialtone: error: {e:#}");
            ExitCode::from(cmd::exit_code(&e))
        }
    }
}
