//! `dialtone bench`: NAB, the AIOps KPI set, detector throughput, assess, root cause at
//! scale, the status page.

use std::path::PathBuf;
use std::time::Instant;

use dialtone_assess::synthetic;
use dialtone_bench::ingest::{self, IngestRun};
use dialtone_bench::rca::{Fault, RcaBench, RcaBenchError};
use dialtone_bench::throughput::{self, Workload};
use dialtone_bench::{kpi, nab};
use dialtone_detect::SERIES_STATE_BYTES;
use dialtone_engine::EngineConfig;
use serde_json::json;

use super::chart::{Envelope, Legend};
use super::output::Output;
use super::{UsageError, progress_bar};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// Numenta Anomaly Benchmark: normalized score per profile at NAB's
    /// corpus-wide oracle threshold, per category, and raw totals.
    Nab(NabArgs),
    /// 2018 AIOps Challenge KPIs: point-adjusted F1 (delay 7), threshold from
    /// the train halves applied to the test halves, plus the test oracle.
    ///
    /// Each half is scored on a regular grid at its smallest timestamp step,
    /// as the challenge's own script does: a gap in a file splits a labelled
    /// run into two segments, each to be flagged within the delay. Rows are
    /// put in time order first, as that script sorts them; each timestamp
    /// must appear once. One `timestamp,value,label,is_test` file per KPI
    /// (`.csv.gz` or `.csv`); a file without `is_test` is split at its
    /// middle row, the earlier half for training.
    Kpi(KpiArgs),
    /// Detector-kernel samples per second (one thread) and state bytes per
    /// series, then the end-to-end rate through the engine's ingest path.
    ///
    /// The rates are the host's as much as the code's: the first line names
    /// the CPU and the load average at the start, and on a shared machine a
    /// rate moves by a tenth or more from one run to the next. To compare
    /// two builds, `bash scripts/compare-builds OLD NEW` runs both at once,
    /// one per core, swapping cores each round, and compares the ratios of
    /// the pairs.
    Throughput(ThroughputArgs),
    /// `dialtone assess` on a synthetic network of about N elements (whole
    /// sites and pools, so a small N makes more): time taken.
    Assess(super::assess::AssessBenchArgs),
    /// Root cause at scale: from an anomaly burst's samples to a ranked root
    /// cause, on a synthetic network, per stage (detector, observations,
    /// ranking cold and warm) and through the whole engine.
    Rca(RcaArgs),
    /// The status page under wrk while a drill runs, beside nginx serving the
    /// same page from disk: both throughputs, p50 and p99 latency.
    Statuspage(super::bench_statuspage::StatuspageArgs),
}

#[derive(Debug, clap::Args)]
struct DataArgs {
    /// The data set's directory (NAB: holding config/, data/, labels/; KPI: the *.csv.gz or *.csv files).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct NabArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Also draw every file as an SVG chart in this directory (created if
    /// missing): its values, its scores with the standard profile's threshold,
    /// the rows at or above it shaded red and NAB's windows amber.
    /// Example: `--plot-dir nab-charts`, then open
    /// `nab-charts/realKnownCause__nyc_taxi.svg`.
    #[arg(long, value_name = "DIR")]
    plot_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct KpiArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Also draw every KPI's test half as an SVG chart in this directory
    /// (created if missing): its values, its scores with the threshold chosen
    /// on the train halves, and where its points are lost at that threshold:
    /// false-positive flags shaded red, segments not found within the delay
    /// amber. Example: `--plot-dir kpi-charts`, then open
    /// `kpi-charts/<KPI>.svg`.
    #[arg(long, value_name = "DIR")]
    plot_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ThroughputArgs {
    /// Series counts to measure, comma-separated; `1e6` notation is accepted.
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = parse_count,
          default_value = "1e4,1e5,1e6,1e7")]
    series: Vec<usize>,
    /// Twin sizes, in cells, for the end-to-end rate through `Engine::ingest`.
    #[arg(long, value_name = "CELLS,...", value_delimiter = ',', value_parser = parse_count,
          default_value = "1e3,1e4")]
    ingest_cells: Vec<usize>,
    /// Timed minutes per repetition and twin size for the end-to-end rate.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..))]
    ingest_minutes: u16,
    /// Timed repetitions per series count and per twin size; the median is
    /// reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    repetitions: u16,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct RcaArgs {
    /// Elements of the synthetic topology; `1e5` notation is accepted.
    #[arg(long, default_value = "1e5", value_parser = parse_count)]
    elements: usize,
    /// KPI series over its cells and core function instances.
    #[arg(long, default_value = "1e6", value_parser = parse_count)]
    series: usize,
    /// Timed bursts per fault; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    repetitions: u16,
    /// Quiet simulated minutes before the first burst (at least the engine's
    /// start-up grace plus 5). The default, a day and an hour, times the
    /// detectors with their seasonal CUSUM live (it starts after a day); their
    /// weekly profile, which learns from the eighth day, is not yet.
    #[arg(long, alias = "warm-up-minutes", default_value_t = ingest::CUSUM_LIVE_MINUTES)]
    warmup_minutes: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// `1000000` or `1e6`.
pub(crate) fn parse_count(s: &str) -> Result<usize, String> {
    let bad = || format!("`{s}` is not a count; write e.g. 1000000 or 1e6");
    let n = match s.split_once(['e', 'E']) {
        Some((m, e)) => {
            let e: u32 = e.parse().map_err(|_| bad())?;
            m.parse::<usize>()
                .ok()
                .and_then(|m| 10usize.checked_pow(e).and_then(|p| m.checked_mul(p)))
                .ok_or_else(bad)?
        }
        None => s.parse().map_err(|_| bad())?,
    };
    // Series are addressed by u32 in the detector.
    if n == 0 || n > u32::MAX as usize {
        return Err(format!(
            "`{s}`: the count must be between 1 and {}",
            u32::MAX
        ));
    }
    Ok(n)
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Nab(a) => run_nab(a),
        BenchCommand::Kpi(a) => run_kpi(a),
        BenchCommand::Throughput(a) => run_throughput(a),
        BenchCommand::Assess(a) => super::assess::run_bench(a),
        BenchCommand::Rca(a) => run_rca(a),
        BenchCommand::Statuspage(a) => super::bench_statuspage::run(a),
    }
}

/// A progress bar on a terminal, nothing otherwise (logs and pipes stay clean).
fn progress(len: u64) -> indicatif::ProgressBar {
    progress_bar(len, "{bar:30} {pos}/{len} {msg}")
}

fn run_nab(nab_args: NabArgs) -> anyhow::Result<()> {
    let args = nab_args.data;
    let files = nab::data_files(&args.data).map_err(|e| UsageError(e.to_string()))?;
    // A bad directory fails before the run, not after it.
    if let Some(dir) = &nab_args.plot_dir {
        create_plot_dir(dir)?;
    }
    let bar = progress(files.len() as u64);
    let run = nab::run_detector(&args.data, files, |f| {
        bar.set_message(f.name.clone());
        bar.inc(1);
    })
    .map_err(|e| UsageError(e.to_string()))?;
    bar.finish_and_clear();
    // The scores first: a chart that cannot be written loses no figure.
    print_nab(&args, &run.reports)?;
    if let Some(dir) = &nab_args.plot_dir {
        // The first profile is NAB's standard one.
        plot_nab(dir, &run.files, &run.reports[0])?;
    }
    Ok(())
}

fn print_nab(args: &DataArgs, reports: &[nab::ProfileReport]) -> anyhow::Result<()> {
    if args.json {
        let out = json!({
            "benchmark": "nab",
            "data": args.data.display().to_string(),
            "threshold": "corpus-wide oracle per profile, as NAB's scoreboard",
            "profiles": reports,
        });
        outln!("{out}")?;
        return Ok(());
    }
    let total = &reports[0].total;
    outln!(
        "NAB: {} files, {} windows; threshold swept over the whole corpus per profile (NAB's oracle)",
        total.files,
        total.windows
    )?;
    outln!()?;
    outln!(
        "{:<20} {:>10} {:>10} {:>11} {:>7} {:>7} {:>7} {:>8}",
        "profile",
        "normalized",
        "threshold",
        "raw score",
        "TP",
        "FP",
        "FN",
        "TN"
    )?;
    for r in reports {
        let t = &r.total;
        outln!(
            "{:<20} {:>10} {:>10.6} {:>11.4} {:>7} {:>7} {:>7} {:>8}",
            r.profile,
            fmt_norm(t.normalized),
            r.threshold,
            t.raw.score,
            t.raw.tp,
            t.raw.fp,
            t.raw.fn_,
            t.raw.tn
        )?;
    }
    outln!()?;
    outln!("per category (normalized at each profile's threshold; n/a without windows):")?;
    out!("{:<24} {:>5} {:>7}", "category", "files", "windows")?;
    for r in reports {
        out!(" {:>20}", r.profile)?;
    }
    outln!()?;
    for (cat, c) in &reports[0].categories {
        out!("{:<24} {:>5} {:>7}", cat, c.files, c.windows)?;
        for r in reports {
            out!(" {:>20}", fmt_norm(r.categories[cat].normalized))?;
        }
        outln!()?;
    }
    outln!()?;
    outln!("TP/FP/FN/TN count rows (not windows), probation excluded, as NAB does.")?;
    Ok(())
}

/// Draws each NAB file in `dir` as `<category>__<file>.svg`, flagged at
/// `profile`'s threshold.
fn plot_nab(
    dir: &std::path::Path,
    files: &[nab::ScoredFile],
    profile: &nab::ProfileReport,
) -> anyhow::Result<()> {
    let detection = format!("{} detection", profile.profile);
    let legend = Legend {
        threshold: &detection,
        flagged: &detection,
        labelled: "NAB window",
        grey: "probation (not scored)",
    };
    for f in files {
        let mut chart = Envelope::new(profile.threshold);
        let rows = f.timestamps.iter().zip(&f.scored_values).zip(&f.scores);
        for (row, ((&t, value), &score)) in rows.enumerate() {
            if let Some(v) = *value {
                let in_window = f.file.windows.iter().any(|w| w.contains(row));
                chart.add(t, v, score, in_window);
            }
        }
        // NAB scores neither the probationary rows nor a window inside them.
        let probation = nab::probation_rows(f.file.rows);
        if let Some(&first_scored) = f.timestamps.get(probation) {
            chart.grey_before(first_scored);
        }
        let flagged = (f.scores.iter().skip(probation))
            .filter(|&&s| s >= profile.threshold)
            .count();
        let caption = format!(
            "{} rows, the first {probation} probation (not scored); {} scored windows; {flagged} \
             scored rows at or above the {} profile's threshold",
            f.file.rows,
            f.file.scored_windows(),
            profile.profile,
        );
        let stem = f.data.name.replace('/', "__");
        let svg = chart.render_svg(&f.data.name, &caption, legend);
        write_chart(dir, stem.trim_end_matches(".csv"), &svg)?;
    }
    eprintln!("charts: {} files in {}", files.len(), dir.display());
    Ok(())
}

/// Writes one benchmark chart, `<stem>.svg`, into the plot directory:
/// whole, as `detect --plot` does, so a run stopped halfway leaves the
/// chart of an earlier run, not a cut one.
fn write_chart(dir: &std::path::Path, stem: &str, svg: &str) -> anyhow::Result<()> {
    let mut chart = Output::create(&dir.join(format!("{stem}.svg")), "--plot-dir")?;
    chart.write_all(svg.as_bytes())?;
    chart.commit()
}

/// Creates `dir` and checks that a chart can be written in it, before a
/// run of minutes: an existing directory may be read-only.
fn create_plot_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let unwritable = |e: std::io::Error| {
        UsageError(format!(
            "cannot write in --plot-dir {}: {e}; choose a writable directory",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    tempfile::NamedTempFile::new_in(dir).map_err(unwritable)?;
    Ok(())
}

/// Draws each KPI's test half (as the run kept them, in file order) in `dir`
/// as `<KPI>.svg`, at the train threshold, shading where the half's points
/// are lost: false-positive flags red, missed segments amber.
fn plot_kpi(
    dir: &std::path::Path,
    test_halves: &[kpi::Half],
    report: &kpi::KpiReport,
) -> anyhow::Result<()> {
    let threshold = report.train.threshold;
    let missed = format!(
        "missed segment (no flag in its first {} points)",
        report.delay + 1
    );
    let legend = Legend {
        threshold: "train threshold",
        flagged: "false positive (flag outside a labelled segment)",
        labelled: &missed,
        // The test half alone is drawn.
        grey: "",
    };
    let bar = progress(test_halves.len() as u64);
    for (test, k) in test_halves.iter().zip(&report.per_kpi) {
        bar.set_message(k.kpi.clone());
        let outcomes = kpi::row_outcomes(
            &test.timestamps,
            &test.labels,
            &test.scores,
            threshold,
            report.delay,
        );
        let mut chart = Envelope::new(threshold);
        let rows = (test.timestamps.iter().zip(&test.values)).zip(test.scores.iter().zip(outcomes));
        for ((&t, value), (&score, outcome)) in rows {
            if let Some(v) = *value {
                let false_positive = outcome == kpi::Outcome::FalsePositive;
                let missed = outcome == kpi::Outcome::Missed;
                chart.add_marked(t, v, score, false_positive, missed);
            }
        }
        let (a, c) = (&k.adjusted, &k.adjusted.counts);
        let caption = format!(
            "test half, {} rows, at the train threshold: {} of {} labelled segments found \
             within the delay; TP {}, FN {}, FP {} points",
            test.timestamps.len(),
            a.detected,
            a.segments,
            c.tp,
            c.fn_,
            c.fp,
        );
        write_chart(dir, &k.kpi, &chart.render_svg(&k.kpi, &caption, legend))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("charts: {} KPIs in {}", test_halves.len(), dir.display());
    Ok(())
}

fn fmt_norm(n: Option<f64>) -> String {
    n.map_or_else(|| "n/a".to_owned(), |n| format!("{n:.2}"))
}

fn run_kpi(kpi_args: KpiArgs) -> anyhow::Result<()> {
    let args = kpi_args.data;
    let files = kpi::data_files(&args.data).map_err(|e| UsageError(e.to_string()))?;
    let plot_dir = kpi_args.plot_dir.as_deref();
    // A bad directory fails before the run, not after it.
    if let Some(dir) = plot_dir {
        create_plot_dir(dir)?;
    }
    let bar = progress(files.len() as u64);
    let run = kpi::run_detector(&files, plot_dir.is_some(), |path| {
        bar.set_message(
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
        bar.inc(1);
    })
    .map_err(|e| UsageError(e.to_string()))?;
    bar.finish_and_clear();
    // The scores first: a chart that cannot be written loses no figure.
    print_kpi(&args, &run.report)?;
    if let Some(dir) = plot_dir {
        plot_kpi(dir, &run.test_halves, &run.report)?;
    }
    Ok(())
}

fn print_kpi(args: &DataArgs, report: &kpi::KpiReport) -> anyhow::Result<()> {
    if args.json {
        let out = json!({
            "benchmark": "aiops-kpi",
            "data": args.data.display().to_string(),
            "kpis": report.kpis,
            "rows": report.rows,
            "split_at_middle_row": report.split_at_middle,
            "gaps": report.gaps,
            "gaps_in_labelled_runs": report.gaps_in_labelled_runs,
            "delay": report.delay,
            "train_best": report.train,
            "test_at_train_threshold": report.test,
            "test_oracle_best_f1": report.test_oracle,
            "per_kpi_test_at_train_threshold": report.per_kpi,
        });
        outln!("{out}")?;
        return Ok(());
    }
    outln!(
        "AIOps KPI: {} KPIs, {} rows; point-adjusted, delay {} points; one F1 over all KPIs",
        report.kpis,
        report.rows,
        report.delay
    )?;
    outln!(
        "on the challenge's regular grid: {} gaps between rows, {} of them inside a labelled run (each splits it into two segments)",
        report.gaps,
        report.gaps_in_labelled_runs
    )?;
    if report.split_at_middle > 0 {
        outln!(
            "{} of the KPI files have no is_test column: each is split at its middle row, the earlier half for training",
            report.split_at_middle
        )?;
    }
    outln!()?;
    outln!(
        "{:<44} {:>9} {:>7} {:>9} {:>7} {:>9} {:>9}",
        "",
        "threshold",
        "F1",
        "precision",
        "recall",
        "TP",
        "FP"
    )?;
    for (label, s) in [
        ("train halves, best threshold", &report.train),
        ("test halves, train threshold (deployable)", &report.test),
        ("test halves, best threshold (ORACLE)", &report.test_oracle),
    ] {
        outln!(
            "{:<44} {:>9.6} {:>7.4} {:>9.4} {:>7.4} {:>9} {:>9}",
            label,
            s.threshold,
            s.f1,
            s.precision,
            s.recall,
            s.counts.tp,
            s.counts.fp
        )?;
    }
    outln!()?;
    outln!("The oracle picks its threshold on the data it scores: optimistic, not deployable.")?;
    outln!()?;
    outln!("Test halves per KPI at the train threshold, most points lost (FN + FP) first:")?;
    outln!(
        "{:<38} {:>8} {:>6} {:>7} {:>7} {:>7} {:>7}",
        "KPI",
        "segments",
        "found",
        "TP",
        "FN",
        "FP",
        "F1"
    )?;
    let mut per_kpi: Vec<_> = report.per_kpi.iter().collect();
    per_kpi.sort_by_key(|k| std::cmp::Reverse(k.adjusted.counts.fn_ + k.adjusted.counts.fp));
    for k in per_kpi {
        let (a, c) = (&k.adjusted, &k.adjusted.counts);
        outln!(
            "{:<38} {:>8} {:>6} {:>7} {:>7} {:>7} {:>7.4}",
            k.kpi,
            a.segments,
            a.detected,
            c.tp,
            c.fn_,
            c.fp,
            c.f1()
        )?;
    }
    outln!()?;
    outln!(
        "A segment is found if one of its first {} points is flagged.",
        report.delay + 1
    )?;
    Ok(())
}

fn run_throughput(args: ThroughputArgs) -> anyhow::Result<()> {
    let host = Host::now();
    if !args.json {
        outln!("{}", host.line())?;
    }
    let mut rows = Vec::new();
    for &n in &args.series {
        let mut workload = Workload::new(n, 0xd1a1_7013);
        let mut bank = workload.bank();
        let bar = progress(throughput::WARM_UP_INTERVALS as u64);
        bar.set_message(format!("warm-up scrapes, {n} series"));
        workload.warm_up(&mut bank, || bar.inc(1));
        bar.finish_and_clear();
        // Per-series state plus the bank's own fields shared by all series.
        let state_bytes =
            SERIES_STATE_BYTES as f64 + std::mem::size_of_val(&bank) as f64 / n as f64;
        let intervals = workload.intervals_per_repetition();
        let rates: Vec<f64> = (0..args.repetitions)
            .map(|_| workload.repetition(&mut bank, intervals))
            .collect();
        let rate = throughput::Repeated::of(&rates);
        let row = json!({
            "series": n,
            "distinct_warmed_series": n.min(throughput::DISTINCT_SERIES),
            "repetitions": rates.len(),
            "intervals_per_repetition": intervals,
            "samples_per_sec_median": rate.median,
            "samples_per_sec_min": rate.min,
            "samples_per_sec_max": rate.max,
            "ns_per_sample_median": 1e9 / rate.median,
            "state_bytes_per_series": state_bytes,
        });
        if !args.json {
            if rows.is_empty() {
                outln!(
                    "detector kernel, one thread, {}-s scrapes of every series; median of {} repetitions",
                    throughput::INTERVAL_SECS,
                    args.repetitions
                )?;
                outln!(
                    "{:>10} {:>14} {:>12} {:>11} {:>16}",
                    "series",
                    "samples/s",
                    "ns/sample",
                    "spread",
                    "state B/series"
                )?;
            }
            outln!(
                "{:>10} {:>14.0} {:>12.2} {:>10.1}% {:>16.2}",
                n,
                rate.median,
                1e9 / rate.median,
                rate.spread_pct(),
                state_bytes,
            )?;
        }
        rows.push(row);
    }
    if !args.json {
        outln!()?;
        outln!("spread: (max - min) / median over the repetitions.")?;
        outln!("state B/series: size_of the per-series state plus the bank's shared state / N.")?;
        outln!(
            "input: synthetic KPIs (a daily swing around a level from 1 to 10^6, plus noise), each scrape's values made before the clock starts: only the detector's update is timed."
        )?;
        outln!(
            "Beyond {} series the warmed states of the first {} are copied, each copy then fed its own noise.",
            throughput::DISTINCT_SERIES,
            throughput::DISTINCT_SERIES
        )?;
    }
    let mut ingest = Vec::new();
    for &cells in &args.ingest_cells {
        let mut run = IngestRun::new(cells, 1).map_err(|e| UsageError(e.to_string()))?;
        let warm_up =
            ingest::warm_up_minutes(&EngineConfig::default()).max(ingest::STEADY_STATE_MINUTES);
        let bar = progress(warm_up as u64);
        bar.set_message(format!("warm-up minutes, {cells} cells"));
        // An hour at a time, untimed, so the bar moves.
        for start in (0..warm_up).step_by(60) {
            run.run(60.min(warm_up - start));
            bar.set_position((start + 60).min(warm_up) as u64);
        }
        bar.finish_and_clear();
        // Consecutive blocks of the twin's minutes, one per repetition.
        let (rates, ms_per_minute): (Vec<f64>, Vec<f64>) = (0..args.repetitions)
            .map(|_| {
                let (samples, secs) = run.run(args.ingest_minutes.into());
                (
                    samples as f64 / secs,
                    1e3 * secs / f64::from(args.ingest_minutes),
                )
            })
            .unzip();
        let rate = throughput::Repeated::of(&rates);
        let ms_per_minute = throughput::median(&ms_per_minute);
        if !args.json {
            if ingest.is_empty() {
                outln!()?;
                outln!(
                    "end to end: digital-twin minutes through Engine::ingest (detector, observations, \
                     root cause, incidents), one thread, after a week and an hour of warm-up; \
                     median of {} repetitions of {} timed minutes each",
                    args.repetitions,
                    args.ingest_minutes
                )?;
                outln!(
                    "{:>10} {:>10} {:>14} {:>12} {:>11} {:>12}",
                    "cells",
                    "series",
                    "samples/s",
                    "ns/sample",
                    "spread",
                    "ms/minute"
                )?;
            }
            outln!(
                "{:>10} {:>10} {:>14.0} {:>12.1} {:>10.1}% {:>12.2}",
                cells,
                run.series(),
                rate.median,
                1e9 / rate.median,
                rate.spread_pct(),
                ms_per_minute
            )?;
        }
        ingest.push(json!({
            "cells": cells,
            "series": run.series(),
            "repetitions": rates.len(),
            "timed_minutes_per_repetition": args.ingest_minutes,
            "samples_per_sec_median": rate.median,
            "samples_per_sec_min": rate.min,
            "samples_per_sec_max": rate.max,
            "ns_per_sample_median": 1e9 / rate.median,
            "ms_per_minute_median": ms_per_minute,
        }));
    }
    if args.json {
        outln!(
            "{}",
            json!({
                "benchmark": "throughput",
                "host": host.json(),
                "threads": 1,
                "results": rows,
                "ingest": ingest,
            })
        )?;
    }
    Ok(())
}

fn run_rca(args: RcaArgs) -> anyhow::Result<()> {
    let least = ingest::warm_up_minutes(&EngineConfig::default());
    if args.warmup_minutes < least {
        return Err(UsageError(format!(
            "--warmup-minutes {} is shorter than the engine's start-up grace: use at least {least}",
            args.warmup_minutes
        ))
        .into());
    }
    let host = Host::now();
    let seed = 0xd1a1_7013;
    let clock = Instant::now();
    let topology = synthetic::generate(args.elements, seed);
    let generate_secs = clock.elapsed().as_secs_f64();
    let mut bench =
        RcaBench::new(topology, args.series, seed).map_err(|e| UsageError(e.to_string()))?;
    let clock = Instant::now();
    bench.warm_up(args.warmup_minutes);
    let warm_up_secs = clock.elapsed().as_secs_f64();
    let mut reports = Vec::new();
    for fault in Fault::ALL {
        let report = bench
            .measure(fault, args.repetitions.into())
            .map_err(|e| match e {
                // Too small a network for the faults: the flags' fault.
                RcaBenchError::MissingElement(_) | RcaBenchError::Unobserved(_) => {
                    anyhow::Error::from(UsageError(e.to_string()))
                }
                e => e.into(),
            })?;
        reports.push(report);
    }
    if args.json {
        let faults: Vec<_> = reports
            .iter()
            .map(|r| {
                let medians: serde_json::Map<_, _> = r
                    .stage_medians()
                    .into_iter()
                    .map(|(stage, secs)| (format!("{stage}_secs_median"), json!(secs)))
                    .collect();
                json!({ "report": r, "medians": medians, "verdict_secs": r.verdict_secs() })
            })
            .collect();
        outln!(
            "{}",
            json!({
                "benchmark": "rca",
                "host": host.json(),
                "elements": bench.topology().len(),
                "series": bench.series(),
                "repetitions": args.repetitions,
                "generate_secs": generate_secs,
                "warmup_minutes": args.warmup_minutes,
                "warm_up_secs": warm_up_secs,
                "faults": faults,
            })
        )?;
        return Ok(());
    }
    outln!("{}", host.line())?;
    outln!(
        "root cause at scale: {} elements, {} series; network generated in {:.2} s, \
         engine warmed up in {:.1} s; median of {} bursts per fault, one thread",
        bench.topology().len(),
        bench.series(),
        generate_secs,
        warm_up_secs,
        args.repetitions
    )?;
    outln!()?;
    out!(
        "{:<20} {:>9} {:>9} {:>9}",
        "fault",
        "degraded",
        "broken",
        "elements"
    )?;
    for (stage, _) in reports[0].stage_medians() {
        out!(" {:>13}", format!("{stage} ms"))?;
    }
    outln!()?;
    for r in &reports {
        out!(
            "{:<20} {:>9} {:>9.0} {:>9.0}",
            r.fault.as_str(),
            r.degraded_series,
            median_count(&r.broken_series),
            median_count(&r.broken_elements),
        )?;
        for (_, secs) in r.stage_medians() {
            out!(" {:>13.1}", 1e3 * secs)?;
        }
        outln!()?;
    }
    outln!()?;
    for r in &reports {
        let ranked: Vec<String> = r
            .ranked
            .iter()
            .map(|c| format!("{} ({:.3})", c.element, c.score))
            .collect();
        outln!(
            "{}: injected {}, ranked {}",
            r.fault.as_str(),
            r.element,
            ranked.join(", ")
        )?;
    }
    outln!()?;
    outln!("degraded: series the fault pushes off; broken: series broken after the burst minute")?;
    outln!("(noise included); elements: elements with a broken observation.")?;
    outln!("verdict = detect + observations + rank_cold; ingest: the same burst through")?;
    outln!("Engine::ingest (incident logic, the engine's long-lived impact cache).")?;
    Ok(())
}

fn median_count(xs: &[usize]) -> f64 {
    let xs: Vec<f64> = xs.iter().map(|&x| x as f64).collect();
    throughput::median(&xs)
}

/// The machine a timing ran on: the same code's rate differs by a third
/// from one CPU to another, and by a tenth or more with what else runs
/// (BENCHMARKS.md), so a figure carries both. The CPU model and the load
/// come from Linux's `/proc` (an ARM `/proc/cpuinfo` names no model).
#[derive(Debug)]
struct Host {
    cpu: Option<String>,
    /// Logical CPUs this process may run on (after affinity and quotas).
    cpus: Option<usize>,
    /// At the start of the run.
    load_average_1m: Option<f64>,
}

impl Host {
    fn now() -> Host {
        let read = |path| std::fs::read_to_string(path).ok();
        Host {
            cpu: read("/proc/cpuinfo").and_then(|info| cpu_model(&info)),
            cpus: std::thread::available_parallelism().ok().map(|n| n.get()),
            load_average_1m: read("/proc/loadavg").and_then(|l| load_average_1m(&l)),
        }
    }

    fn line(&self) -> String {
        let load = self
            .load_average_1m
            .map_or("unknown".into(), |l| format!("{l:.2}"));
        let cpus = self.cpus.map_or("unknown".into(), |n| n.to_string());
        format!(
            "host: {}, {cpus} logical CPUs available, load average {load} at the start",
            self.cpu.as_deref().unwrap_or("unknown CPU"),
        )
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "cpu": self.cpu,
            "logical_cpus": self.cpus,
            "load_average_1m": self.load_average_1m,
        })
    }
}

/// The first `model name` of a `/proc/cpuinfo`, with its `cpu family` and
/// `model` numbers where given: a virtual machine may name only the brand
/// ("AMD EPYC"), and two generations under one name differ in rate by a
/// third (BENCHMARKS.md).
fn cpu_model(cpuinfo: &str) -> Option<String> {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim())
        })
    };
    let name = field("model name")?;
    Some(match (field("cpu family"), field("model")) {
        (Some(family), Some(model)) => format!("{name} (family {family}, model {model})"),
        _ => name.to_owned(),
    })
}

/// The one-minute load average, the first field of `/proc/loadavg`.
fn load_average_1m(loadavg: &str) -> Option<f64> {
    loadavg.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_reads_proc() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        let numbered = "processor\t: 0\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n";
        assert_eq!(
            cpu_model(numbered).as_deref(),
            Some("AMD EPYC (family 25, model 17)")
        );
        assert_eq!(cpu_model("processor\t: 0\n"), None);
        assert_eq!(load_average_1m("0.42 0.61 0.70 1/187 4242\n"), Some(0.42));
        assert_eq!(load_average_1m(""), None);
        let host = Host {
            cpu: None,
            cpus: Some(2),
            load_average_1m: Some(1.5),
        };
        assert_eq!(
            host.line(),
            "host: unknown CPU, 2 logical CPUs available, load average 1.50 at the start"
        );
    }

    #[test]
    fn series_counts_parse() {
        assert_eq!(parse_count("10000"), Ok(10_000));
        assert_eq!(parse_count("1e7"), Ok(10_000_000));
        assert_eq!(parse_count("5E3"), Ok(5_000));
        assert!(parse_count("0").is_err());
        assert!(parse_count("1e20").is_err());
        assert!(parse_count("lots").is_err());
    }
}
