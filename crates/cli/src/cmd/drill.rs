//! `dialtone drill`.

#[derive(Debug, clap::Args)]
pub struct DrillArgs {}

pub fn run(_args: DrillArgs) -> anyhow::Result<()> {
    anyhow::bail!("`dialtone drill` is not built yet")
}
