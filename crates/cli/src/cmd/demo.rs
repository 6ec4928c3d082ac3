//! `dialtone demo`.

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("`dialtone demo` is not built yet")
}
