//! `dialtone drill`.

use anyhow::Context;
use dialtone_drill::{
    DrillConfig, DrillError, Scorecard, SuiteConfig, SuiteRow, SuiteScorecard, drill, suite,
};
use dialtone_sim::TwinConfig;

use super::{StdoutError, UsageError, progress_bar};

/// Run one scenario headless, as fast as the machine allows, and print a scorecard.
///
/// The scorecard says: was it detected, how fast, was the injected
/// root cause ranked first, how many false incidents.
///
/// Times in the scorecard are simulated Unix seconds. With `--all`, every
/// scenario runs over `--seeds` seeds (default 3) and one suite scorecard
/// is printed: detection rate, median and p95 time to detect, root-cause
/// top-1 and top-3 accuracy and false incidents per simulated week, per
/// scenario and in total.
///
/// Example: dialtone drill --scenario core-software-version --seed 3 --json
///
/// Example: dialtone drill --all --seeds 3 --json
#[derive(Debug, clap::Args)]
pub struct DrillArgs {
    /// Scenario id (see `dialtone scenarios`).
    #[arg(long, default_value = "core-software-version")]
    scenario: String,
    /// Run every scenario and print one suite scorecard.
    #[arg(long, conflicts_with = "scenario")]
    all: bool,
    /// Seed of the digital twin; the same seed replays bit for bit.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run seeds `seed .. seed+seeds`: one scorecard each, or with `--all`
    /// one suite scorecard over them all (default 1; 3 with `--all`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    seeds: Option<u64>,
    /// Cells in the simulated network (24 to 1,000,000).
    #[arg(long, default_value_t = 300)]
    cells: usize,
    /// Simulated hours of normal operation before the fault (1 to 672: four weeks).
    #[arg(long, default_value_t = 58, value_parser = clap::value_parser!(u32).range(1..=24 * 28))]
    warmup_hours: u32,
    /// Print JSON (one object per line for several seeds) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DrillArgs) -> anyhow::Result<()> {
    if args.all {
        return run_suite(&args);
    }
    if !dialtone_sim::scenarios()
        .iter()
        .any(|s| s.id == args.scenario)
    {
        let ids: Vec<&str> = dialtone_sim::scenarios().iter().map(|s| s.id).collect();
        return Err(UsageError(format!(
            "unknown scenario `{}`: use one of {}",
            args.scenario,
            ids.join(", ")
        ))
        .into());
    }
    for seed in seed_range(args.seed, args.seeds.unwrap_or(1))? {
        let base = TwinConfig::default();
        let twin = TwinConfig {
            seed,
            cells: args.cells,
            scenario: args.scenario.clone(),
            fault_at: base.start + i64::from(args.warmup_hours) * 3600,
            ..base
        };
        let config = DrillConfig::new(twin);
        let bar = minutes_bar(config.minutes);
        let card = drill(&config, |done, _| bar.set_position(u64::from(done)))
            .map_err(exit_code_of)
            .with_context(|| format!("drill of `{}` with seed {seed}", args.scenario))?;
        bar.finish_and_clear();
        if args.json {
            outln!("{}", serde_json::to_string(&card)?)?;
        } else {
            print_card(&card)?;
        }
    }
    Ok(())
}

/// A twin refusing its configuration is the user's to fix (exit 2); an
/// engine failing is not (exit 1).
fn exit_code_of(e: DrillError) -> anyhow::Error {
    match e {
        DrillError::Sim(e) => UsageError(e.to_string()).into(),
        DrillError::Engine(e) => anyhow::Error::new(e),
    }
}

/// Seeds `seed` to `seed + seeds - 1`: the largest seed is a seed too.
fn seed_range(seed: u64, seeds: u64) -> Result<std::ops::RangeInclusive<u64>, UsageError> {
    let last = seeds
        .checked_sub(1)
        .and_then(|more| seed.checked_add(more))
        .ok_or_else(|| {
            UsageError(format!(
                "--seed {seed} with --seeds {seeds} runs past the largest seed; start lower"
            ))
        })?;
    Ok(seed..=last)
}

fn run_suite(args: &DrillArgs) -> anyhow::Result<()> {
    let seeds = args.seeds.unwrap_or(3);
    // The suite counts to `seed + seeds`, one past its last seed.
    if args.seed.checked_add(seeds).is_none() {
        return Err(UsageError(format!(
            "--all from --seed {} with --seeds {seeds} runs past the largest seed a suite can reach; start lower",
            args.seed
        ))
        .into());
    }
    let config = SuiteConfig::all(
        args.seed,
        seeds,
        args.cells,
        i64::from(args.warmup_hours) * 3600,
    );
    let total: u64 = config.drills().iter().map(|d| u64::from(d.minutes)).sum();
    let bar = minutes_bar(total);
    let card = suite(&config, |done, _| bar.set_position(done))
        .map_err(exit_code_of)
        .context("drill suite")?;
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string(&card)?)?;
    } else {
        print_suite(&card)?;
    }
    Ok(())
}

fn print_suite(card: &SuiteScorecard) -> Result<(), StdoutError> {
    outln!(
        "drill suite: {} cells, seeds {}..{}",
        card.cells,
        card.first_seed,
        card.first_seed + card.seeds - 1
    )?;
    let width = card
        .scenarios
        .iter()
        .map(|r| r.scenario.len())
        .max()
        .unwrap_or(5);
    outln!(
        "{:width$}  {:>4}  {:>8}  {:>7}  {:>7}  {:>5}  {:>5}  {:>6}  {:>7}",
        "scenario",
        "runs",
        "detected",
        "ttd med",
        "ttd p95",
        "top1",
        "top3",
        "false",
        "false/wk"
    )?;
    let row = |r: &SuiteRow| {
        let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0}%", v * 100.0));
        let secs = |v: Option<i64>| v.map_or("-".to_string(), |v| format!("{v} s"));
        let detected = if r.faults == 0 {
            "-".to_string()
        } else {
            format!("{}/{}", r.detected, r.faults)
        };
        outln!(
            "{:width$}  {:>4}  {:>8}  {:>7}  {:>7}  {:>5}  {:>5}  {:>6}  {:>7.2}",
            r.scenario,
            r.runs,
            detected,
            secs(r.median_time_to_detect_s),
            secs(r.p95_time_to_detect_s),
            pct(r.root_cause_top1),
            pct(r.root_cause_top3),
            r.false_incidents,
            r.false_incidents_per_week
        )
    };
    for r in &card.scenarios {
        row(r)?;
    }
    row(&card.total)
}

fn minutes_bar(minutes: impl Into<u64>) -> indicatif::ProgressBar {
    let bar = progress_bar(
        minutes.into(),
        "{msg} [{bar:40}] {pos}/{len} simulated minutes",
    );
    bar.set_message("drill");
    bar
}

fn print_card(c: &Scorecard) -> Result<(), StdoutError> {
    let opt = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
    outln!(
        "scenario         {} (seed {}, {} cells, {} simulated minutes)",
        c.scenario,
        c.seed,
        c.cells,
        c.simulated_minutes
    )?;
    if c.faults.is_empty() {
        outln!("faults           none injected")?;
    }
    for (n, f) in c.faults.iter().enumerate() {
        outln!("fault {}          {}", n + 1, f.root_cause_truth)?;
        outln!(
            "  detected       {}",
            if f.detected_at.is_some() { "yes" } else { "no" }
        )?;
        outln!(
            "  time to detect {} s after symptoms",
            opt(f.time_to_detect_s)
        )?;
        outln!(
            "  root cause     {} (rank {})",
            f.root_cause.as_deref().unwrap_or("-"),
            f.root_cause_rank.map_or("-".into(), |r| r.to_string())
        )?;
    }
    outln!(
        "false incidents  {} ({} during warm-up)",
        c.false_incidents,
        c.false_incidents_before_fault
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_run_up_to_and_including_the_largest() {
        assert_eq!(seed_range(u64::MAX, 1).unwrap(), u64::MAX..=u64::MAX);
        assert_eq!(seed_range(3, 2).unwrap(), 3..=4);
        let err = seed_range(u64::MAX, 2).unwrap_err();
        assert!(err.0.contains("runs past the largest seed"), "{err}");
    }
}
