//! `dialtone scenarios`.

/// List the digital twin's scenarios, one per line.
#[derive(Debug, clap::Args)]
pub struct ScenariosArgs {
    /// Print a JSON array instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ScenariosArgs) -> anyhow::Result<()> {
    let all = dialtone_sim::scenarios();
    if args.json {
        let list: Vec<_> = all
            .iter()
            .map(|s| serde_json::json!({"id": s.id, "summary": s.summary}))
            .collect();
        outln!("{}", serde_json::to_string_pretty(&list)?)?;
    } else {
        let width = all.iter().map(|s| s.id.len()).max().unwrap_or(0);
        for s in all {
            outln!("{:width$}  {}", s.id, s.summary)?;
        }
    }
    Ok(())
}
