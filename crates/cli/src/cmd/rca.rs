//! `dialtone rca`: the root cause of what a telemetry file shows, offline.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use dialtone_bench::series::parse_timestamp;
use dialtone_bench::telemetry as input;
use dialtone_engine::{Engine, EngineConfig};
use dialtone_model::{Candidate, Timestamp, count};
use dialtone_rca::Observations;
use serde::Serialize;

use super::{UsageError, progress_bar};

/// Inputs with at least this many minutes get a progress bar (on a terminal).
const PROGRESS_FROM_MINUTES: usize = 10_000;

/// Rank root-cause candidates for a telemetry file over a topology, with evidence.
///
/// Names the elements whose failure best explains what the telemetry shows,
/// ranked, with confidence and evidence.
///
/// Every series runs through the detector the server runs, minute by minute;
/// broken observations are derived exactly as the live engine derives them,
/// and the candidates are ranked at the minute with the most broken
/// observations (or at `--at`). The first hour only trains the detectors.
/// Series names are `ELEMENT/KPI` or `ELEMENT:KPI` (docs/rca.md).
///
/// Example: dialtone rca --topology examples/small-mobile.toml
///   --telemetry examples/small-mobile-telemetry.csv --changes examples/small-mobile-changes.csv
#[derive(Debug, clap::Args)]
pub struct RcaArgs {
    /// The topology (docs/topology.md): TOML, or a `.csv` edge list.
    #[arg(long, value_name = "TOPOLOGY")]
    topology: PathBuf,
    /// One `timestamp,series,value` CSV, or a directory of `timestamp,value`
    /// CSVs named `ELEMENT:KPI.csv` (`.csv.gz` too).
    #[arg(long, value_name = "PATH")]
    telemetry: PathBuf,
    /// Changes made to the network: a `timestamp,element,kind,description` CSV.
    #[arg(long, value_name = "CHANGES.csv")]
    changes: Option<PathBuf>,
    /// Rank at this time (Unix seconds, `YYYY-MM-DD HH:MM:SS` or RFC 3339)
    /// instead of at the peak.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_at)]
    at: Option<Timestamp>,
    /// Skip series that name an unknown element or KPI, with a warning, instead of failing.
    #[arg(long)]
    lenient: bool,
    /// Candidates listed.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    top: u16,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_at(s: &str) -> Result<Timestamp, String> {
    parse_timestamp(s).map_err(|e| e.to_string())
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
    series: usize,
    minutes: usize,
    first_minute: Timestamp,
    last_minute: Timestamp,
    /// The minute ranked.
    at: Timestamp,
    /// When the oldest broken observation there began.
    onset: Option<Timestamp>,
    broken_observations: u32,
    changes: usize,
    candidates: Vec<Candidate>,
}

/// The observations of the minute to rank.
struct Snapshot {
    at: Timestamp,
    obs: Observations,
}

pub fn run(args: RcaArgs) -> anyhow::Result<()> {
    let topology =
        dialtone_topofile::load(&args.topology).map_err(|e| UsageError(e.to_string()))?;
    let changes = match &args.changes {
        Some(path) => {
            input::read_changes(path, &topology).map_err(|e| UsageError(e.to_string()))?
        }
        None => Vec::new(),
    };
    // A long file is one read; a directory shows its files going by.
    let reading = if args.telemetry.is_dir() {
        progress_bar(0, "reading {bar:30} {pos}/{len} files")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let telemetry =
        input::read_telemetry(&args.telemetry, &topology, args.lenient, |done, total| {
            reading.set_length(total as u64);
            reading.set_position(done as u64);
        })
        .map_err(|e| UsageError(e.to_string()))?;
    reading.finish_and_clear();
    for w in &telemetry.warnings {
        eprintln!("dialtone: warning: {w}");
    }
    let (first, last) = telemetry.span();
    if let Some(at) = args.at
        && !telemetry.covers(at)
    {
        let (side, edge) = if at < first {
            ("before the first", first)
        } else {
            ("after the last", last)
        };
        return Err(UsageError(format!(
            "--at {} is {side} sample ({}): give a time the telemetry covers",
            utc(at),
            utc(edge)
        ))
        .into());
    }
    // Within the first hour nothing is judged broken yet: ranking there
    // would report "nothing is broken" where the truth is "cannot tell".
    let trained_from = first + EngineConfig::default().startup_grace_secs;
    if let Some(at) = args.at
        && at < trained_from
    {
        return Err(UsageError(format!(
            "--at {} is within the telemetry's first hour, which only trains the detectors: \
             give a time from {} on",
            utc(at),
            utc(trained_from)
        ))
        .into());
    }
    let mut engine = Engine::new(
        Arc::new(topology),
        telemetry.series.clone(),
        EngineConfig::default(),
        1,
    )
    .context("building the engine")?;
    let change_count = changes.len();
    for change in changes {
        engine.record_change(change).context("recording a change")?;
    }
    let chosen = replay(&mut engine, &telemetry, args.at, trained_from).ok_or_else(|| {
        UsageError(format!(
            "the telemetry ends at {}, within an hour of its start: the first hour only \
             trains the detectors; give more history",
            utc(last)
        ))
    })?;
    let report = Report {
        series: telemetry.series.len(),
        minutes: telemetry.minute_count(),
        first_minute: first,
        last_minute: last,
        at: chosen.at,
        onset: chosen.obs.onset,
        broken_observations: chosen.obs.broken_units(),
        candidates: engine.explainer().rank(&chosen.obs, usize::from(args.top)),
        changes: change_count,
    };
    let text = if args.json {
        serde_json::to_string(&report)? + "\n"
    } else {
        human(&report, telemetry.rows, telemetry.missing_values)
    };
    out!("{text}")?;
    Ok(())
}

/// Feeds `telemetry` through the engine's detectors minute by minute and
/// returns the minute to rank: the last one at or before `at`, or else the
/// first with the most broken observations from `trained_from` on, the end
/// of the first hour (the last minute if nothing broke). `None` if the
/// telemetry ends before then.
fn replay(
    engine: &mut Engine,
    telemetry: &input::Telemetry,
    at: Option<Timestamp>,
    trained_from: Timestamp,
) -> Option<Snapshot> {
    let bar = if telemetry.minute_count() >= PROGRESS_FROM_MINUTES {
        progress_bar(
            telemetry.minute_count() as u64,
            "replaying {bar:30} {pos}/{len} minutes",
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut peak: Option<Snapshot> = None;
    let mut last = None;
    for (minute, samples) in telemetry.minutes() {
        if at.is_some_and(|t| minute > t) {
            break;
        }
        engine.detect(minute, samples);
        bar.inc(1);
        last = Some(minute);
        // Observations cost a pass over the topology: only build them when
        // something is broken and they could be the peak.
        if at.is_none() && minute >= trained_from && !engine.broken_series().is_empty() {
            let obs = engine.observations();
            if peak
                .as_ref()
                .is_none_or(|p| obs.broken_units() > p.obs.broken_units())
            {
                peak = Some(Snapshot { at: minute, obs });
            }
        }
    }
    bar.finish_and_clear();
    let last = last?;
    let at_last = || Snapshot {
        at: last,
        obs: engine.observations(),
    };
    match at {
        Some(_) => Some(at_last()),
        None => peak.or_else(|| (last >= trained_from).then(at_last)),
    }
}

/// `2024-05-01 12:00 UTC`; Unix seconds if out of range.
fn utc(t: Timestamp) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(format).ok())
        .unwrap_or_else(|| t.to_string())
}

fn human(r: &Report, rows: u64, missing: u64) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} series, {} ({} to {}), {} ({missing} without a value), {}",
        r.series,
        count(r.minutes as u64, "minute", "minutes"),
        utc(r.first_minute),
        utc(r.last_minute),
        count(rows, "row", "rows"),
        count(r.changes as u64, "change", "changes")
    );
    let onset = r
        .onset
        .map_or(String::new(), |o| format!(", broken since {}", utc(o)));
    let _ = writeln!(
        out,
        "ranked at {}: {}{onset}",
        utc(r.at),
        count(
            u64::from(r.broken_observations),
            "broken observation",
            "broken observations"
        )
    );
    if r.candidates.is_empty() {
        let _ = writeln!(out, "nothing is broken: no root cause to name");
    }
    for (i, c) in r.candidates.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>3}. {} ({})  confidence {:.2}  agreement {:.2}",
            i + 1,
            c.element,
            c.kind,
            c.confidence,
            c.score
        );
        for line in &c.evidence {
            let _ = writeln!(out, "       {line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_read_in_the_singular() {
        let report = Report {
            series: 1,
            minutes: 1,
            first_minute: 1_714_564_800,
            last_minute: 1_714_564_800,
            at: 1_714_564_800,
            onset: None,
            broken_observations: 1,
            changes: 1,
            candidates: Vec::new(),
        };
        let text = human(&report, 1, 0);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "1 series, 1 minute (2024-05-01 12:00 UTC to 2024-05-01 12:00 UTC), \
             1 row (0 without a value), 1 change"
        );
        assert_eq!(
            lines.next().unwrap(),
            "ranked at 2024-05-01 12:00 UTC: 1 broken observation"
        );
    }
}
