//! `dialtone detect`.

#[derive(Debug, clap::Args)]
pub struct DetectArgs {}

pub fn run(_args: DetectArgs) -> anyhow::Result<()> {
    anyhow::bail!("`dialtone detect` is not built yet")
}
