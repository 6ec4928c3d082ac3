//! `dialtone postmortem`: the Markdown report of one incident.

use std::path::PathBuf;

use anyhow::Context;
use dialtone_store::Store;

use super::UsageError;
use super::data_dir::LOCK_FILE;
use super::data_dir::open_existing;
use super::output::Output;
use super::user::DataDir;

/// Write the Markdown postmortem of an incident.
///
/// The report holds response times, impact (subscriber-minutes lost), root
/// cause with its evidence, actions, communications sent, the whole
/// timeline, and sections for the lessons.
/// The console shows the same report at /console/incidents/ID/postmortem.
///
/// Example: dialtone postmortem 3 --output incident-3.md
#[derive(Debug, clap::Args)]
pub struct PostmortemArgs {
    /// The incident's number.
    incident: u64,
    /// Write here instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    data: DataDir,
}

pub fn run(args: PostmortemArgs) -> anyhow::Result<()> {
    let runtime = super::store_runtime()?;
    // Opened before any work: a bad path fails first.
    let wal = format!("{}-wal", dialtone_store::SQLITE_FILE);
    let shm = format!("{}-shm", dialtone_store::SQLITE_FILE);
    // The lock too: a report renamed over it would unlock a running server's directory.
    let store_files = [dialtone_store::SQLITE_FILE, &wal, &shm, LOCK_FILE];
    let output = (args.output.as_deref())
        .map(|p| Output::create_apart_from_store(p, "--output", &args.data.data_dir, &store_files))
        .transpose()?;
    runtime.block_on(async {
        let store = open_existing(&args.data.data_dir).await?;
        let incident = store
            .incident(args.incident)
            .await
            .context("reading the incident")?
            .ok_or_else(|| {
                UsageError(format!(
                    "there is no incident {} in {}",
                    args.incident,
                    args.data.data_dir.display()
                ))
            })?;
        let report = dialtone_notify::postmortem(&store, &incident)
            .await
            .context("reading the outbox")?;
        match output {
            Some(mut output) => {
                output.write_all(report.as_bytes())?;
                output.commit()?;
            }
            None => out!("{report}")?,
        }
        Ok(())
    })
}
