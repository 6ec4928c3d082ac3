//! `dialtone scenarios`.

#[derive(Debug, clap::Args)]
pub struct ScenariosArgs {}

pub fn run(_args: ScenariosArgs) -> anyhow::Result<()> {
    anyhow::bail!("`dialtone scenarios` is not built yet")
}
