//! `dialtone assess` and `dialtone bench assess`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use dialtone_assess::{Assessment, Options, Progress, assess, render_html, synthetic};
use dialtone_model::count;
use indicatif::ProgressBar;

use super::output::Output;
use super::{UsageError, progress_bar};

/// Inputs at least this large get a progress bar (on a terminal).
const PROGRESS_FROM_ELEMENTS: usize = 50_000;

/// Assess a topology: single points of failure, common modes, blast radius, availability.
///
/// Finds single points of failure, common-mode groups and cut sets, blast
/// radius and availability in a topology, and ranks the risks with fixes.
///
/// Example: dialtone assess examples/small-mobile.toml --html report.html
#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// The topology: the TOML format (docs/topology.md) or, for a `.csv`
    /// file, a `source,target[,relation]` edge list.
    #[arg(value_name = "TOPOLOGY")]
    topology: PathBuf,
    /// Print the whole assessment as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report here.
    #[arg(long, value_name = "OUT.html")]
    html: Option<PathBuf>,
    /// Monte Carlo rounds, when the exact availability is too much work.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Seed of the Monte Carlo rounds.
    #[arg(long, default_value_t = Options::default().seed)]
    seed: u64,
    /// Risks listed.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u16).range(1..))]
    top: u16,
}

#[derive(Debug, clap::Args)]
pub struct AssessBenchArgs {
    /// Elements of the synthetic topology; `1e6` notation is accepted.
    #[arg(long, default_value = "1e6", value_parser = super::bench::parse_count)]
    elements: usize,
    /// Timed repetitions; the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    repetitions: u16,
    /// Monte Carlo rounds per assessment.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Print one JSON object instead of the lines.
    #[arg(long)]
    json: bool,
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn bar(enabled: bool) -> ProgressBar {
    if enabled {
        progress_bar(1, "{bar:30} {pos}/{len} {msg}")
    } else {
        ProgressBar::hidden()
    }
}

pub fn run(args: AssessArgs) -> anyhow::Result<()> {
    let topology =
        dialtone_topofile::load(&args.topology).map_err(|e| UsageError(e.to_string()))?;
    if topology.is_empty() {
        return Err(UsageError(format!(
            "{} describes no elements: nothing to assess (is it the right file?)",
            args.topology.display()
        ))
        .into());
    }
    // Opened before the work: an unwritable report path fails first.
    let html = (args.html.as_deref())
        .map(|p| Output::create_apart(p, "--html", &args.topology))
        .transpose()?;
    let options = Options {
        monte_carlo_rounds: args.rounds,
        seed: args.seed,
        threads: threads(),
        top_risks: args.top.into(),
    };
    let progress = bar(topology.len() >= PROGRESS_FROM_ELEMENTS);
    let assessment = assess(&topology, &options, &mut |p: Progress| {
        progress.set_length(p.total);
        progress.set_position(p.done);
        progress.set_message(p.stage);
    });
    progress.finish_and_clear();
    let name = args.topology.display().to_string();
    if let Some(mut html) = html {
        html.write_all(render_html(&topology, &assessment, &name).as_bytes())?;
        html.commit()?;
    }
    let text = if args.json {
        let mut json = serde_json::to_string(&assessment)?;
        json.push('\n');
        json
    } else {
        human(&name, &assessment)
    };
    out!("{text}")?;
    Ok(())
}

/// The ranked list and availability table, as text.
fn human(name: &str, a: &Assessment) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail: the results are ignored.
    let s = &a.summary;
    let _ = writeln!(
        out,
        "{name}: {}, {}, {} subscribers, {}",
        count(s.elements as u64, "element", "elements"),
        count(s.cells as u64, "cell", "cells"),
        s.subscribers,
        count(s.regions as u64, "region", "regions")
    );
    // A file without subscriber counts is scored in cells (one each): say
    // so rather than print "0 subscribers" beside a non-zero loss.
    let unit = if s.subscribers > 0 {
        "subscriber-hours"
    } else {
        "cell-hours"
    };
    let _ = writeln!(
        out,
        "{}, {}, {} / {} minimal cut sets of order 2 / 3",
        match s.single_points_of_failure {
            1 => "1 single point of failure".to_owned(),
            n => format!("{n} single points of failure"),
        },
        count(
            s.common_mode_groups as u64,
            "common-mode cause",
            "common-mode causes"
        ),
        s.cut_sets_order_2,
        s.cut_sets_order_3
    );
    out.push('\n');
    let _ = writeln!(out, "Top risks, by expected {unit} lost a year:");
    for r in &a.risks {
        let _ = writeln!(out, "{:>3}. [{}] {}", r.rank, r.category, r.title);
        let cells = count(r.loss.cells, "cell", "cells");
        let _ = writeln!(
            out,
            "     {}{}; {:.1} {unit}/year",
            if s.subscribers > 0 {
                format!("{} subscribers on {cells}", r.loss.subscribers)
            } else {
                cells
            },
            if r.loss.emergency_cells > 0 {
                format!(
                    ", EMERGENCY CALLS lost on {}",
                    count(r.loss.emergency_cells, "cell", "cells")
                )
            } else {
                String::new()
            },
            r.expected_subscriber_hours_per_year
        );
        let _ = writeln!(out, "     fix: {}", r.fix);
    }
    out.push('\n');
    let av = &a.availability;
    let _ = writeln!(
        out,
        "Availability, elements failing independently at their MTBF/MTTR; vendor defects, \
         ranked above, are not in it ({}{}):",
        av.method,
        if av.rounds > 0 {
            format!(", {} rounds, seed {}, 95% interval", av.rounds, av.seed)
        } else {
            String::new()
        }
    );
    for r in &av.rows {
        let interval = if av.rounds > 0 {
            format!(" [{:.6}%, {:.6}%]", 100.0 * r.low, 100.0 * r.high)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {:<16} {:<12} {:>11.6}%{}  {:>9.1} min/year down",
            r.region,
            r.service,
            100.0 * r.availability,
            interval,
            r.minutes_down_per_year
        );
    }
    out
}

/// `dialtone bench assess`: generation and assessment times of a synthetic network.
pub fn run_bench(args: AssessBenchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let topology = synthetic::generate(args.elements, 0xd1a1_7013);
    let generate = started.elapsed();
    let options = Options {
        monte_carlo_rounds: args.rounds,
        threads: threads(),
        ..Options::default()
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..args.repetitions {
        let t = Instant::now();
        last = Some(assess(&topology, &options, &mut |_| {}));
        times.push(t.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    let a = last.context("at least one repetition")?;
    if args.json {
        let secs: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
        outln!(
            "{}",
            serde_json::json!({
                "benchmark": "assess",
                "elements": topology.len(),
                "dependency_groups": topology.groups().len(),
                "cells": a.summary.cells,
                "threads": options.threads,
                "monte_carlo_rounds": args.rounds,
                "generate_secs": generate.as_secs_f64(),
                "assess_secs_median": median.as_secs_f64(),
                "assess_secs": secs,
                "single_points_of_failure": a.summary.single_points_of_failure,
                "common_mode_causes": a.summary.common_mode_groups,
                "availability_method": a.availability.method,
            })
        )?;
        return Ok(());
    }
    outln!(
        "assess: {} elements, {} dependency groups, {} cells; {} threads, {} Monte Carlo rounds",
        topology.len(),
        topology.groups().len(),
        a.summary.cells,
        options.threads,
        args.rounds
    )?;
    outln!(
        "generate {:.2} s; assess median {:.2} s (min {:.2} s, max {:.2} s, {} runs)",
        generate.as_secs_f64(),
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        times.len()
    )?;
    outln!(
        "found {} single points of failure, {} common-mode causes; availability by {}",
        a.summary.single_points_of_failure,
        a.summary.common_mode_groups,
        a.availability.method
    )?;
    Ok(())
}
