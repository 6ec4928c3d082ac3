//! Drills: the digital twin drives the very pipeline the server runs, and the
//! result is scored against the twin's ground truth.
//!
//! [`Run`] is one twin wired to one engine, advanced a minute at a time; the
//! demo paces it in real time, [`drill`] runs it flat out and scores it. Pure:
//! simulated time only, so a drill replays bit for bit.

use std::sync::Arc;

use dialtone_engine::{Engine, EngineConfig, EngineError, Incident, TimelineEntry};
use dialtone_model::{Sample, ServiceMask, Timestamp};
use dialtone_sim::{FaultTruth, SimError, Twin, TwinConfig};
use dialtone_statuspage::{PageInfo, PageState, summary};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A twin feeding an engine.
pub struct Run {
    twin: Twin,
    engine: Engine,
    samples: Vec<Sample>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("now", &self.twin.now())
            .finish()
    }
}

impl Run {
    pub fn new(
        twin_config: TwinConfig,
        engine_config: EngineConfig,
        first_incident_id: u64,
    ) -> Result<Run, DrillError> {
        // The twin's windows are planned before it starts.
        let planned_at = twin_config.start;
        let twin = Twin::new(twin_config)?;
        let topology = Arc::new(twin.topology().clone());
        let mut engine = Engine::new(
            topology,
            twin.series().to_vec(),
            engine_config,
            first_incident_id,
        )?;
        for w in twin.maintenance_windows() {
            engine.schedule_maintenance(&w.element, planned_at, w.start, w.end);
        }
        Ok(Run {
            twin,
            engine,
            samples: Vec::new(),
        })
    }

    /// Advances one simulated minute; returns its timestamp.
    pub fn step(&mut self, timeline: &mut Vec<TimelineEntry>) -> Timestamp {
        let at = self.generate();
        self.ingest(at, timeline);
        at
    }

    /// The twin's next minute of samples, not yet fed to the engine; split
    /// from [`Run::ingest`] so a benchmark can time ingest alone.
    pub fn generate(&mut self) -> Timestamp {
        self.twin.step(&mut self.samples)
    }

    /// Feeds the minute [`Run::generate`] produced to the engine.
    pub fn ingest(&mut self, at: Timestamp, timeline: &mut Vec<TimelineEntry>) {
        self.engine.ingest(at, &self.samples, timeline);
    }

    /// Fails `element` over in the twin from `at` (a mitigation): its fault
    /// stops and the KPIs recover over the following minutes. False when no
    /// fault on it is running.
    pub fn restore(&mut self, element: &str, at: Timestamp) -> bool {
        self.twin.restore(element, at)
    }

    /// Numbers new incidents from `first_id` on, after those a store already holds.
    pub fn continue_numbering_from(&mut self, first_id: u64) {
        self.engine.continue_numbering_from(first_id);
    }

    /// This minute's samples, as last fed to the engine.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    pub fn twin(&self) -> &Twin {
        &self.twin
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, for operator actions on its incidents (the server's live loop).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The twin's regions, in id order: the status page's components.
    pub fn regions(&self) -> Vec<String> {
        let regions = self.twin.topology().regions();
        regions.into_iter().map(str::to_string).collect()
    }
}

/// What to drill.
#[derive(Debug, Clone)]
pub struct DrillConfig {
    pub twin: TwinConfig,
    pub engine: EngineConfig,
    /// Simulated minutes to run; the drill covers the fault and its recovery by default.
    pub minutes: u32,
}

impl DrillConfig {
    /// A drill of `scenario` that runs until an hour after the fault and its
    /// aftermath end, or a whole week for `quiet-week`.
    pub fn new(twin: TwinConfig) -> DrillConfig {
        let aftermath = dialtone_sim::scenarios()
            .iter()
            .find(|s| s.id == twin.scenario)
            .map_or(0, |s| s.aftermath_secs);
        let minutes = if twin.scenario == "quiet-week" {
            7 * 24 * 60
        } else {
            ((twin.fault_at - twin.start + twin.fault_duration_secs + aftermath) / 60 + 60) as u32
        };
        DrillConfig {
            twin,
            engine: EngineConfig::default(),
            minutes,
        }
    }
}

/// One drill's result. Times are simulated Unix seconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scorecard {
    pub scenario: String,
    pub seed: u64,
    pub cells: usize,
    pub simulated_minutes: u32,
    /// Each injected fault and the incident that met it, in injection order.
    pub faults: Vec<FaultScore>,
    /// Incidents that match no injected fault, including a second incident
    /// about a fault another incident already covers: one fault, one incident.
    pub false_incidents: u32,
    /// False incidents opened before the first fault: during the warm-up.
    pub false_incidents_before_fault: u32,
    /// When each false incident opened and what it blamed, to see why.
    pub false_incident_details: Vec<String>,
}

/// How one injected fault was met.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultScore {
    pub root_cause_truth: String,
    pub fault_onset: Timestamp,
    /// First minute the fault's symptoms reached the KPIs.
    pub symptoms_at: Timestamp,
    pub detected_at: Option<Timestamp>,
    /// `detected_at - symptoms_at`, or 0 for an incident opened while a
    /// slowly rising fault was still short of that mark; null when not
    /// detected.
    pub time_to_detect_s: Option<i64>,
    /// What the matched incident names as its root cause.
    pub root_cause: Option<String>,
    /// 1-based rank of the truth among the incident's candidates; null if absent.
    pub root_cause_rank: Option<usize>,
    /// The confidence of each of the incident's candidates, best first: with
    /// `root_cause_rank`, what checks that confidence is calibrated.
    pub candidate_confidences: Vec<f64>,
    pub incident_id: Option<u64>,
    /// First minute the public summary.json carried the incident.
    pub status_published_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

/// Runs a whole drill, calling `progress(done, total)` every simulated hour.
pub fn drill(
    config: &DrillConfig,
    mut progress: impl FnMut(u32, u32),
) -> Result<Scorecard, DrillError> {
    let mut run = Run::new(config.twin.clone(), config.engine.clone(), 1)?;
    let page = PageInfo::default();
    let regions = run.regions();
    let hosted = dialtone_statuspage::Hosted::of(run.engine().topology());
    let mut timeline = Vec::new();
    let mut published: Vec<(u64, Timestamp)> = Vec::new();
    for minute in 0..config.minutes {
        timeline.clear();
        let at = run.step(&mut timeline);
        if !timeline.is_empty() {
            // What the public page lists, as the server hands it over.
            let public = dialtone_statuspage::public_incidents(run.engine().incidents());
            let state = PageState {
                page: &page,
                maintenances: &[],
                regions: &regions,
                incidents: &public,
                now: at,
                hosted,
            };
            for inc in summary(&state).incidents {
                let id: u64 = inc.id.parse().unwrap_or(0);
                if !published.iter().any(|(p, _)| *p == id) {
                    published.push((id, at));
                }
            }
        }
        if minute % 60 == 59 {
            progress(minute + 1, config.minutes);
        }
    }
    Ok(score(
        config,
        &run,
        run.twin().ground_truth(),
        run.engine().incidents(),
        &published,
    ))
}

/// An incident belongs to a fault when it opens while the fault or its
/// aftermath is on, or its symptoms are still fading.
fn belongs(inc: &Incident, truth: &FaultTruth, settle_secs: i64) -> bool {
    inc.opened_at >= truth.onset && inc.opened_at <= truth.settled_at + settle_secs
}

/// Where `truth`'s root cause ranks among the incident's candidates, 1-based.
fn rank_of(inc: &Incident, truth: &FaultTruth) -> Option<usize> {
    inc.candidates
        .iter()
        .position(|c| c.element == truth.root_cause)
        .map(|p| p + 1)
}

/// Whether the incident charted a broken series on an element the fault
/// took a service from: it is about this fault's symptoms, though its
/// ranking may not list the cause.
/// `lost` is what the fault takes from each element ([`lost_to`]).
fn shows_symptoms_of(run: &Run, inc: &Incident, lost: &[ServiceMask]) -> bool {
    let topology = run.twin().topology();
    let series = run.engine().series();
    inc.charted_series.iter().any(|&s| {
        topology
            .index_of(&series[s as usize].element)
            .is_some_and(|e| lost[e] != 0)
    })
}

/// What `truth`'s root cause takes from each element (nothing, for a root
/// the topology lacks).
fn lost_to(run: &Run, truth: &FaultTruth) -> Vec<ServiceMask> {
    let topology = run.twin().topology();
    match topology.index_of(&truth.root_cause) {
        Some(root) => topology.propagate(&[root]),
        None => vec![0; topology.len()],
    }
}

/// Gives each fault its own incident: of those open in its time that no
/// earlier fault took and that show its symptoms (an unrelated false alarm
/// in the same hour does not count as detecting it, even one listing the
/// root cause among its candidates), the one ranking its root cause best,
/// else the first. So two overlapping faults merged into one incident
/// leave the second undetected, and a fault split into two incidents
/// leaves one of them false.
fn match_faults<'i>(
    run: &Run,
    truths: &[FaultTruth],
    incidents: &'i [Incident],
    settle_secs: i64,
) -> Vec<Option<&'i Incident>> {
    let mut taken: Vec<u64> = Vec::new();
    truths
        .iter()
        .map(|t| {
            let lost = lost_to(run, t);
            let open_then: Vec<&Incident> = (incidents.iter())
                .filter(|i| {
                    belongs(i, t, settle_secs)
                        && !taken.contains(&i.id)
                        && shows_symptoms_of(run, i, &lost)
                })
                .collect();
            let best = (open_then.iter())
                .filter_map(|&i| rank_of(i, t).map(|r| (r, i)))
                .min_by_key(|(r, i)| (*r, i.id))
                .map(|(_, i)| i)
                .or_else(|| open_then.iter().copied().min_by_key(|i| i.id));
            taken.extend(best.map(|i| i.id));
            best
        })
        .collect()
}

fn score(
    config: &DrillConfig,
    run: &Run,
    truths: &[FaultTruth],
    incidents: &[Incident],
    published: &[(u64, Timestamp)],
) -> Scorecard {
    let matched = match_faults(run, truths, incidents, config.engine.settle_secs);
    let faults: Vec<FaultScore> = truths
        .iter()
        .zip(&matched)
        .map(|(t, inc)| FaultScore {
            root_cause_truth: t.root_cause.clone(),
            fault_onset: t.onset,
            symptoms_at: t.symptoms_at,
            detected_at: inc.map(|i| i.opened_at),
            time_to_detect_s: inc.map(|i| (i.opened_at - t.symptoms_at).max(0)),
            root_cause: inc.and_then(|i| i.root_cause.clone()),
            root_cause_rank: inc.and_then(|i| rank_of(i, t)),
            candidate_confidences: inc.map_or_else(Vec::new, |i| {
                i.candidates.iter().map(|c| c.confidence).collect()
            }),
            incident_id: inc.map(|i| i.id),
            status_published_at: inc.and_then(|i| {
                published
                    .iter()
                    .find(|(id, _)| *id == i.id)
                    .map(|(_, at)| *at)
            }),
            resolved_at: inc.and_then(|i| i.resolved_at),
        })
        .collect();
    let false_incidents: Vec<&Incident> = incidents
        .iter()
        .filter(|i| !matched.iter().flatten().any(|m| m.id == i.id))
        .collect();
    // Warm-up ends at the first fault's onset, or, in a scenario with no
    // fault (a quiet week, planned maintenance), where a fault would begin:
    // what such a scenario opens after that is what it tests.
    let warm_up_end = (truths.iter().map(|t| t.onset).min()).unwrap_or(config.twin.fault_at);
    let before = false_incidents
        .iter()
        .filter(|i| i.opened_at < warm_up_end)
        .count();
    Scorecard {
        scenario: config.twin.scenario.clone(),
        seed: config.twin.seed,
        cells: config.twin.cells,
        simulated_minutes: config.minutes,
        faults,
        false_incidents: false_incidents.len() as u32,
        false_incidents_before_fault: before as u32,
        false_incident_details: false_incidents
            .iter()
            .map(|i| {
                let top = i.candidates.first();
                format!(
                    "t+{}min {}: {} ({}, score {:.2}, {} units)",
                    (i.opened_at - config.twin.start) / 60,
                    i.title,
                    top.map_or("-", |c| c.element.as_str()),
                    top.map_or("-", |c| c.kind.as_str()),
                    top.map_or(0.0, |c| c.score),
                    top.map_or(0, |c| c.explained + c.unexplained)
                )
            })
            .collect(),
    }
}

/// What to drill as a suite: every scenario over the same seeds.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// Scenario ids, in the order rows are reported.
    pub scenarios: Vec<String>,
    /// Seeds `first_seed .. first_seed + seeds`.
    pub first_seed: u64,
    pub seeds: u64,
    pub cells: usize,
    /// Simulated seconds of normal operation before each fault.
    pub warmup_secs: i64,
}

impl SuiteConfig {
    /// Every scenario the twin knows.
    pub fn all(first_seed: u64, seeds: u64, cells: usize, warmup_secs: i64) -> SuiteConfig {
        SuiteConfig {
            scenarios: dialtone_sim::scenarios()
                .iter()
                .map(|s| s.id.to_string())
                .collect(),
            first_seed,
            seeds,
            cells,
            warmup_secs,
        }
    }

    /// The drills, in run order.
    pub fn drills(&self) -> Vec<DrillConfig> {
        let seeds = self.first_seed..self.first_seed + self.seeds;
        self.scenarios
            .iter()
            .flat_map(|scenario| seeds.clone().map(move |seed| (scenario, seed)))
            .map(|(scenario, seed)| {
                let base = TwinConfig::default();
                DrillConfig::new(TwinConfig {
                    seed,
                    cells: self.cells,
                    scenario: scenario.clone(),
                    fault_at: base.start + self.warmup_secs,
                    ..base
                })
            })
            .collect()
    }
}

/// Figures over a set of drills. Rates are over the injected faults and are
/// null when there were none; times are simulated seconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SuiteRow {
    /// A scenario id, or `total`.
    pub scenario: String,
    pub runs: u32,
    /// Faults injected (none in `quiet-week` and `planned-maintenance`, two in
    /// `overlapping-faults`): the denominator of the rates.
    pub faults: u32,
    pub detected: u32,
    pub detection_rate: Option<f64>,
    /// Over the detected runs, from the symptoms reaching the KPIs.
    pub median_time_to_detect_s: Option<i64>,
    pub p95_time_to_detect_s: Option<i64>,
    /// Share of faults whose incident named the injected root cause as its
    /// root cause (a ranking it never settled on does not count).
    pub root_cause_top1: Option<f64>,
    /// Share of faults whose incident ranked it in the first three.
    pub root_cause_top3: Option<f64>,
    pub false_incidents: u32,
    pub simulated_weeks: f64,
    pub false_incidents_per_week: f64,
}

impl SuiteRow {
    /// The figures of `cards`, labelled `scenario`.
    pub fn of(scenario: &str, cards: &[&Scorecard]) -> SuiteRow {
        let faults: Vec<&FaultScore> = cards.iter().flat_map(|c| &c.faults).collect();
        let n = faults.len() as u32;
        let share = |k: usize| (n > 0).then(|| k as f64 / f64::from(n));
        let mut ttd: Vec<i64> = faults.iter().filter_map(|f| f.time_to_detect_s).collect();
        ttd.sort_unstable();
        let false_incidents = cards.iter().map(|c| c.false_incidents).sum();
        let minutes: u64 = cards.iter().map(|c| u64::from(c.simulated_minutes)).sum();
        let simulated_weeks = minutes as f64 / (7.0 * 24.0 * 60.0);
        SuiteRow {
            scenario: scenario.to_string(),
            runs: cards.len() as u32,
            faults: n,
            detected: ttd.len() as u32,
            detection_rate: share(ttd.len()),
            median_time_to_detect_s: percentile(&ttd, 0.5),
            p95_time_to_detect_s: percentile(&ttd, 0.95),
            root_cause_top1: share(
                (faults.iter())
                    .filter(|f| f.root_cause.as_ref() == Some(&f.root_cause_truth))
                    .count(),
            ),
            root_cause_top3: share(
                (faults.iter())
                    .filter(|f| f.root_cause_rank.is_some_and(|r| r <= 3))
                    .count(),
            ),
            false_incidents,
            simulated_weeks,
            false_incidents_per_week: if simulated_weeks > 0.0 {
                f64::from(false_incidents) / simulated_weeks
            } else {
                0.0
            },
        }
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A suite's result: one row per scenario, a total, and every scorecard.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SuiteScorecard {
    pub cells: usize,
    pub first_seed: u64,
    pub seeds: u64,
    pub scenarios: Vec<SuiteRow>,
    pub total: SuiteRow,
    pub runs: Vec<Scorecard>,
}

/// Runs every drill of `config`, calling `progress(done, total)` in simulated
/// minutes over the whole suite.
pub fn suite(
    config: &SuiteConfig,
    mut progress: impl FnMut(u64, u64),
) -> Result<SuiteScorecard, DrillError> {
    let drills = config.drills();
    let total: u64 = drills.iter().map(|d| u64::from(d.minutes)).sum();
    let mut done = 0u64;
    let mut runs = Vec::with_capacity(drills.len());
    for d in &drills {
        runs.push(drill(d, |minutes, _| {
            progress(done + u64::from(minutes), total)
        })?);
        done += u64::from(d.minutes);
        progress(done, total);
    }
    let rows = config
        .scenarios
        .iter()
        .map(|s| {
            let cards: Vec<&Scorecard> = runs.iter().filter(|c| &c.scenario == s).collect();
            SuiteRow::of(s, &cards)
        })
        .collect();
    let all: Vec<&Scorecard> = runs.iter().collect();
    Ok(SuiteScorecard {
        cells: config.cells,
        first_seed: config.first_seed,
        seeds: config.seeds,
        scenarios: rows,
        total: SuiteRow::of("total", &all),
        runs,
    })
}

#[cfg(test)]
mod tests {
    use dialtone_model::{Candidate, SeriesId, SeriesKey};

    use super::*;

    #[test]
    fn without_a_fault_warm_up_ends_where_a_fault_would_begin() {
        let config = DrillConfig::new(TwinConfig {
            cells: 60,
            scenario: "quiet-week".into(),
            ..TwinConfig::default()
        });
        let run = Run::new(config.twin.clone(), config.engine.clone(), 1).expect("a twin");
        let fault_at = config.twin.fault_at;
        let incidents = [
            Incident::open(1, fault_at - 3600),
            Incident::open(2, fault_at + 3600),
        ];
        let card = score(&config, &run, &[], &incidents, &[]);
        assert_eq!(
            (card.false_incidents, card.false_incidents_before_fault),
            (2, 1)
        );
    }

    #[test]
    fn top_1_counts_a_root_cause_named_not_one_only_ranked_first() {
        let config = DrillConfig::new(TwinConfig {
            cells: 60,
            ..TwinConfig::default()
        });
        let run = Run::new(config.twin.clone(), config.engine.clone(), 1).expect("a twin");
        // A slowly rising fault: its incident opens before the symptoms'
        // mark.
        let mut truth = run.twin().ground_truth()[0].clone();
        truth.symptoms_at = truth.onset + 240;
        let mut inc = Incident::open(1, truth.onset + 60);
        // Charting a series the fault breaks: it shows the fault's symptoms.
        let lost = lost_to(&run, &truth);
        let broken = (run.engine().series().iter()).position(|key| {
            (run.twin().topology().index_of(&key.element)).is_some_and(|e| lost[e] != 0)
        });
        inc.charted_series = vec![broken.expect("the fault breaks a series") as SeriesId];
        inc.candidates = vec![Candidate {
            element: truth.root_cause.clone(),
            kind: "core_instance".into(),
            score: 0.4,
            explained: 10,
            contradicted: 0,
            unexplained: 0,
            confidence: 0.4,
            evidence: Vec::new(),
        }];
        let row = |inc: &Incident| {
            let card = score(
                &config,
                &run,
                std::slice::from_ref(&truth),
                std::slice::from_ref(inc),
                &[],
            );
            assert_eq!(card.faults[0].time_to_detect_s, Some(0));
            assert_eq!(card.faults[0].root_cause_rank, Some(1));
            let row = SuiteRow::of("s", &[&card]);
            (row.root_cause_top1, row.root_cause_top3)
        };
        assert_eq!(row(&inc), (Some(0.0), Some(1.0)), "ranked, never named");
        inc.root_cause = Some(truth.root_cause.clone());
        assert_eq!(row(&inc), (Some(1.0), Some(1.0)));
        // Naming the cause without showing its symptoms detects nothing:
        // an unrelated alarm in the same hour that lists it too.
        inc.charted_series.clear();
        let unrelated = score(
            &config,
            &run,
            std::slice::from_ref(&truth),
            std::slice::from_ref(&inc),
            &[],
        );
        assert_eq!(unrelated.faults[0].detected_at, None);
        assert_eq!(unrelated.false_incidents, 1);
    }

    #[test]
    fn only_an_incident_showing_the_faults_symptoms_detects_it_unranked() {
        let run = Run::new(
            TwinConfig {
                cells: 60,
                ..TwinConfig::default()
            },
            EngineConfig::default(),
            1,
        )
        .expect("a twin");
        let truth = &run.twin().ground_truth()[0];
        let topology = run.twin().topology();
        let root = topology
            .index_of(&truth.root_cause)
            .expect("in the topology");
        let lost = topology.propagate(&[root]);
        let affected = |s: &SeriesKey| topology.index_of(&s.element).is_some_and(|e| lost[e] != 0);
        let series = run.engine().series();
        let pick = |hit: bool| {
            series
                .iter()
                .position(|s| affected(s) == hit)
                .expect("such a series") as u32
        };
        // Neither lists the cause among its candidates, so only its symptoms can tell.
        let incident = |id: u64, charted: u32| {
            let mut inc = Incident::open(id, truth.onset + 300);
            inc.charted_series = vec![charted];
            inc
        };
        let unrelated = [incident(1, pick(false))];
        let settle = EngineConfig::default().settle_secs;
        let matched = match_faults(&run, std::slice::from_ref(truth), &unrelated, settle);
        assert!(
            matched[0].is_none(),
            "a false alarm elsewhere detects nothing"
        );
        let related = [incident(1, pick(false)), incident(2, pick(true))];
        let matched = match_faults(&run, std::slice::from_ref(truth), &related, settle);
        assert_eq!(matched[0].map(|i| i.id), Some(2));
    }
}
