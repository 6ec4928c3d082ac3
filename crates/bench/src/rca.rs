//! Root cause at scale (issue 3): from the arrival of the minute whose samples
//! carry an anomaly burst to a ranked root cause, on a seeded synthetic operator
//! network ([`dialtone_assess::synthetic`]) with up to millions of series.
//!
//! The engine is the real one, warmed up past its start-up grace on KPI-like
//! values (the throughput benchmark's [`Workload`]). Series are the twin's:
//! [`Kpi::CELL`] per cell and [`Kpi::CORE`] per core function instance; when
//! more series are asked for than the network has KPIs, each KPI is reported
//! again (as a cell reports per carrier), so the engine maps every series to
//! its element and services exactly as in production.
//!
//! A fault degrades every series whose element loses a service the series
//! measures ([`Topology::propagate`]). Each repetition feeds quiet minutes until
//! the last burst has left the broken set, then one burst minute through the
//! engine's public halves, timed one by one: [`Engine::detect`] (detector bank
//! and broken-series bookkeeping), [`Engine::observations`], then
//! [`Explainer::rank`] on a fresh explainer (cold: empty impact cache) and once
//! more (warm). Then quiet minutes again and one more burst through the whole
//! [`Engine::ingest`] (incident logic included, the engine's long-lived impact
//! cache), timed as one. Samples are built before each clock starts.

use std::sync::Arc;
use std::time::Instant;

use dialtone_engine::{Engine, EngineConfig, EngineError};
use dialtone_model::{Direction, ElementKind, Kpi, Sample, SeriesKey, Timestamp, Topology};
use dialtone_rca::Explainer;
use serde::Serialize;

use crate::ingest::warm_up_minutes;
use crate::throughput::{Workload, median};

/// Candidates ranked per verdict, as many as the engine keeps per incident.
const RANKED: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum RcaBenchError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the synthetic network has no element `{0}`; ask for more elements")]
    MissingElement(&'static str),
    #[error("no series measures what `{0}` breaks; ask for more series")]
    Unobserved(&'static str),
    #[error(
        "injected `{injected}` ({degraded} series degraded, {broken} broken), \
         but the explainer ranked first: {}", ranked.join(", ")
    )]
    WrongRootCause {
        injected: &'static str,
        degraded: usize,
        broken: usize,
        /// Element (score), best first.
        ranked: Vec<String>,
    },
}

/// The faults injected, by the synthetic network's element names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The AMF software version both of region r000's AMF instances run (the
    /// generator's planted common mode): the region's AMF pool goes, and every
    /// cell in the region loses every service.
    SharedCoreVersion,
    /// One site: its three cells.
    OneSite,
}

impl Fault {
    pub const ALL: [Fault; 2] = [Fault::OneSite, Fault::SharedCoreVersion];

    pub const fn element(self) -> &'static str {
        match self {
            Fault::SharedCoreVersion => "sw-amf-r000-1",
            Fault::OneSite => "site-r000-0",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Fault::SharedCoreVersion => "shared-core-version",
            Fault::OneSite => "one-site",
        }
    }
}

/// One candidate of a verdict, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub element: String,
    pub score: f64,
    pub confidence: f64,
}

/// What one fault's repetitions measured; times in seconds, one entry per repetition.
#[derive(Debug, Clone, Serialize)]
pub struct FaultReport {
    pub fault: Fault,
    pub element: &'static str,
    /// Series the fault degrades.
    pub degraded_series: usize,
    /// Series broken after the burst minute (noise alarms included).
    pub broken_series: Vec<usize>,
    /// Elements with a broken observation after the burst minute.
    pub broken_elements: Vec<usize>,
    /// The last repetition's verdict, best first.
    pub ranked: Vec<Ranked>,
    pub detect_secs: Vec<f64>,
    pub observations_secs: Vec<f64>,
    pub rank_cold_secs: Vec<f64>,
    pub rank_warm_secs: Vec<f64>,
    /// The same burst through the whole [`Engine::ingest`].
    pub ingest_secs: Vec<f64>,
}

impl FaultReport {
    /// Detector, observations and a cold ranking, per repetition: the verdict
    /// latency of an explainer that has never seen these candidates.
    pub fn verdict_secs(&self) -> Vec<f64> {
        self.detect_secs
            .iter()
            .zip(&self.observations_secs)
            .zip(&self.rank_cold_secs)
            .map(|((detect, observations), rank)| detect + observations + rank)
            .collect()
    }

    /// Median of each stage, in report order, with its name.
    pub fn stage_medians(&self) -> [(&'static str, f64); 6] {
        [
            ("detect", median(&self.detect_secs)),
            ("observations", median(&self.observations_secs)),
            ("rank_cold", median(&self.rank_cold_secs)),
            ("rank_warm", median(&self.rank_warm_secs)),
            ("verdict", median(&self.verdict_secs())),
            ("ingest", median(&self.ingest_secs)),
        ]
    }
}

/// A warmed-up engine over a synthetic network, ready for bursts.
#[derive(Debug)]
pub struct RcaBench {
    topology: Arc<Topology>,
    engine: Engine,
    workload: Workload,
    /// Per series: the index of the element it measures.
    series_element: Vec<usize>,
    samples: Vec<Sample>,
    /// Quiet minutes between bursts: past the engine's hold, so one burst's
    /// series have left the broken set before the next.
    recovery_minutes: usize,
}

impl RcaBench {
    /// An engine with `series` series over the network `topology`, not yet warmed up.
    pub fn new(topology: Topology, series: usize, seed: u64) -> Result<RcaBench, RcaBenchError> {
        let topology = Arc::new(topology);
        let keys = series_keys(&topology, series);
        let series_element = keys
            .iter()
            .map(|k| {
                topology
                    .index_of(&k.element)
                    .expect("keys name topology elements")
            })
            .collect();
        let config = EngineConfig::default();
        let recovery_minutes = (config.hold_secs / 60) as usize + 2;
        let samples = (0..keys.len() as u32)
            .map(|series| Sample { series, value: 0.0 })
            .collect();
        let engine = Engine::new(topology.clone(), keys, config, 1)?;
        Ok(RcaBench {
            topology,
            // Without the daily swing: a detector learns a daily profile over
            // days, and a warm-up of hours would leave a swing's slope alarming
            // on a share of a million series no operator network would run with.
            workload: Workload::new(engine.series().len(), seed).without_daily_swing(),
            engine,
            series_element,
            samples,
            recovery_minutes,
        })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn series(&self) -> usize {
        self.samples.len()
    }

    /// Feeds `minutes` quiet minutes: at least [`warm_up_minutes`], past the
    /// engine's start-up grace, so the incident logic runs.
    pub fn warm_up(&mut self, minutes: usize) {
        self.quiet_minutes(minutes.max(warm_up_minutes(&EngineConfig::default())));
    }

    /// Injects `fault` `repetitions` times and times each verdict; fails if the
    /// injected element is not ranked first.
    pub fn measure(
        &mut self,
        fault: Fault,
        repetitions: usize,
    ) -> Result<FaultReport, RcaBenchError> {
        let root = self
            .topology
            .index_of(fault.element())
            .ok_or(RcaBenchError::MissingElement(fault.element()))?;
        let lost = self.topology.propagate(&[root]);
        let degraded: Vec<usize> = (0..self.series())
            .filter(|&s| lost[self.series_element[s]] & self.engine.series()[s].kpi.services() != 0)
            .collect();
        if degraded.is_empty() {
            return Err(RcaBenchError::Unobserved(fault.element()));
        }
        let mut report = FaultReport {
            fault,
            element: fault.element(),
            degraded_series: degraded.len(),
            broken_series: Vec::new(),
            broken_elements: Vec::new(),
            ranked: Vec::new(),
            detect_secs: Vec::new(),
            observations_secs: Vec::new(),
            rank_cold_secs: Vec::new(),
            rank_warm_secs: Vec::new(),
            ingest_secs: Vec::new(),
        };
        let mut timeline = Vec::new();
        for _ in 0..repetitions {
            self.quiet_minutes(self.recovery_minutes);
            let at = self.next_minute(&degraded);
            let clock = Instant::now();
            self.engine.detect(at, &self.samples);
            report.detect_secs.push(clock.elapsed().as_secs_f64());
            let clock = Instant::now();
            let obs = self.engine.observations();
            report.observations_secs.push(clock.elapsed().as_secs_f64());
            let explainer = Explainer::new(self.topology.clone());
            let clock = Instant::now();
            let cold = explainer.rank(&obs, RANKED);
            report.rank_cold_secs.push(clock.elapsed().as_secs_f64());
            let clock = Instant::now();
            let warm = explainer.rank(&obs, RANKED);
            report.rank_warm_secs.push(clock.elapsed().as_secs_f64());
            for verdict in [&cold, &warm] {
                if verdict.first().map(|c| c.element.as_str()) != Some(fault.element()) {
                    return Err(RcaBenchError::WrongRootCause {
                        injected: fault.element(),
                        degraded: degraded.len(),
                        broken: self.engine.broken_series().len(),
                        ranked: verdict
                            .iter()
                            .map(|c| format!("{} ({:.4})", c.element, c.score))
                            .collect(),
                    });
                }
            }
            report.broken_series.push(self.engine.broken_series().len());
            report.broken_elements.push(obs.broken.len());
            report.ranked = warm
                .into_iter()
                .map(|c| Ranked {
                    element: c.element,
                    score: c.score,
                    confidence: c.confidence,
                })
                .collect();

            self.quiet_minutes(self.recovery_minutes);
            let at = self.next_minute(&degraded);
            let clock = Instant::now();
            self.engine.ingest(at, &self.samples, &mut timeline);
            report.ingest_secs.push(clock.elapsed().as_secs_f64());
            timeline.clear();
        }
        Ok(report)
    }

    fn quiet_minutes(&mut self, minutes: usize) {
        let mut timeline = Vec::new();
        for _ in 0..minutes {
            let at = self.next_minute(&[]);
            self.engine.ingest(at, &self.samples, &mut timeline);
            timeline.clear();
        }
    }

    /// Fills `samples` with the next minute's values, the `degraded` series
    /// pushed far to their bad side; returns the minute.
    fn next_minute(&mut self, degraded: &[usize]) -> Timestamp {
        let at = self.workload.next_scrape(self.workload.series());
        for (sample, &value) in self.samples.iter_mut().zip(self.workload.scrape()) {
            sample.value = value;
        }
        for &s in degraded {
            let value = &mut self.samples[s].value;
            *value = match self.engine.series()[s].kpi.direction() {
                Direction::Up => *value * 10.0,
                Direction::Down | Direction::Both => *value * 0.1,
            };
        }
        at
    }
}

/// `count` series over the elements that have KPIs in the twin: cells and core
/// function instances. Dealt KPI-major (every element's first KPI, then every
/// element's second, ...), so a short count still observes every element, and
/// a long one reports each KPI again.
fn series_keys(topology: &Topology, count: usize) -> Vec<SeriesKey> {
    let kpis = |kind: ElementKind| -> &'static [Kpi] {
        match kind {
            ElementKind::Cell => &Kpi::CELL,
            ElementKind::CoreInstance => &Kpi::CORE,
            _ => &[],
        }
    };
    let round: Vec<SeriesKey> = (0..Kpi::CELL.len().max(Kpi::CORE.len()))
        .flat_map(|k| {
            topology.elements().iter().filter_map(move |e| {
                kpis(e.kind).get(k).map(|&kpi| SeriesKey {
                    element: e.id.clone(),
                    kpi,
                })
            })
        })
        .collect();
    round.iter().cycle().take(count).cloned().collect()
}

#[cfg(test)]
mod tests {
    use dialtone_assess::synthetic;

    use super::*;

    #[test]
    fn series_cover_every_observed_element_then_repeat() {
        let topology = synthetic::generate(1_000, 1);
        let cells = topology
            .elements()
            .iter()
            .filter(|e| e.kind == ElementKind::Cell)
            .count();
        let keys = series_keys(&topology, cells);
        assert!(
            keys.iter()
                .all(|k| k.kpi == Kpi::CELL[0] || k.kpi == Kpi::CORE[0])
        );
        let keys = series_keys(&topology, 10_000);
        assert_eq!(keys.len(), 10_000);
        let attach = keys.iter().filter(|k| k.kpi == Kpi::AttachSuccess).count();
        assert!(
            attach >= 2 * cells,
            "{attach} attach series for {cells} cells"
        );
    }

    #[test]
    fn the_injected_root_cause_is_ranked_first() {
        let mut bench = RcaBench::new(synthetic::generate(1_000, 7), 10_000, 7).unwrap();
        bench.warm_up(0);
        for fault in Fault::ALL {
            let report = bench.measure(fault, 1).unwrap();
            assert_eq!(report.ranked[0].element, fault.element());
            assert!(report.broken_series[0] >= report.degraded_series / 2);
            assert_eq!(report.ingest_secs.len(), 1);
        }
    }
}
