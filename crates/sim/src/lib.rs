//! Dialtone's digital twin: a seeded operator network and its per-minute
//! telemetry, with normal events that are not outages and injected faults
//! that spread along the topology.
//!
//! A pure core: no clock, no I/O. Time is whatever [`TwinConfig::start`]
//! says and advances one minute per [`Twin::step`], so a drill replays bit
//! for bit from its seed.
//!
//! Randomness comes from independent ChaCha8 streams of the seed: the
//! network, the event plan, the per-minute noise of cells and core instances,
//! and that of the other elements with KPIs (gateways, the bridge). Changing
//! the scenario therefore never changes the network, and a fault never shifts
//! the noise of cells it does not touch.

mod network;
mod scenario;
mod telemetry;

use std::ops::Range;

use dialtone_model::{
    ALL_SERVICES, Sample, SeriesKey, Service, Timestamp, Topology, TopologyError,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use network::{ExtraKind, FUNCTIONS, MAX_CELLS, MIN_CELLS, Network};
pub use scenario::{FaultTruth, MaintenanceWindow, ScenarioInfo, scenarios};
use scenario::{Plan, scenario_ids};
use telemetry::{CellState, DATA, RAN, REG, VOICE};

/// How to build and run a twin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinConfig {
    pub seed: u64,
    pub cells: usize,
    /// A [`scenarios`] id.
    pub scenario: String,
    /// First minute produced, Unix seconds, a multiple of 60.
    pub start: Timestamp,
    /// When the scenario's fault (or, for `planned-maintenance`, its window)
    /// begins; rounded up to the minute.
    pub fault_at: Timestamp,
    pub fault_duration_secs: i64,
}

/// Monday 2026-01-05T00:00:00Z.
const DEFAULT_START: Timestamp = 1_767_571_200;

impl Default for TwinConfig {
    fn default() -> TwinConfig {
        TwinConfig {
            seed: 1,
            cells: 300,
            scenario: "core-software-version".into(),
            start: DEFAULT_START,
            // Wednesday 10:00, a busy weekday morning.
            fault_at: DEFAULT_START + 2 * 86_400 + 10 * 3600,
            fault_duration_secs: 90 * 60,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("unknown scenario `{0}`: use one of {ids}", ids = scenario_ids())]
    UnknownScenario(String),
    #[error(
        "{0} cells is too few: the twin needs at least {MIN_CELLS} so every region has sites and pools"
    )]
    TooFewCells(usize),
    #[error("{0} cells is more than the twin simulates: use at most {MAX_CELLS}")]
    TooManyCells(usize),
    #[error("start {0} is not on a minute boundary: use a multiple of 60 seconds")]
    UnalignedStart(Timestamp),
    #[error("fault_at {fault_at} is before start {start}: inject the fault after the twin starts")]
    FaultBeforeStart {
        fault_at: Timestamp,
        start: Timestamp,
    },
    #[error("fault duration {0} s is not positive: give the fault a length in seconds")]
    BadFaultDuration(i64),
    #[error(
        "fault duration {secs} s is too short for `overlapping-faults`: its second fault starts \
         {after} s into the first and lasts half as long, so use at least {least} s for both to overlap"
    )]
    FaultTooShortToOverlap { secs: i64, after: i64, least: i64 },
    /// A bug in the network builder, not in the configuration.
    #[error("the twin built an invalid topology (a bug in dialtone-sim, please report it): {0}")]
    Topology(#[from] TopologyError),
}

/// Per-minute decay of each severity channel once its fault is gone. Lost
/// registration recovers slowest: every UE re-attaches at once (the storm
/// that followed AT&T's 2024 and KDDI's 2022 outages).
const DECAY: [f32; 4] = [0.8, 0.6, 0.6, 0.5];
/// Below this a severity is recovered and snaps to zero.
const SETTLED: f32 = 0.002;

/// The digital twin. See the crate docs.
#[derive(Debug)]
pub struct Twin {
    cfg: TwinConfig,
    net: Network,
    plan: Plan,
    noise: ChaCha8Rng,
    extra_noise: ChaCha8Rng,
    now: Timestamp,
    cells: Vec<CellState>,
    /// Stadium load multiplier per cell this minute.
    crowd: Vec<f32>,
    /// Severity per core instance, like [`CellState::sev`].
    core_sev: Vec<f32>,
    /// Severity per extra element (gateways, the bridge).
    extra_sev: Vec<f32>,
    /// What is down this minute: fault roots, then maintenance elements.
    down: (Vec<usize>, Vec<usize>),
    /// Derived from `down` (recomputed only when it changes).
    cell_target: Vec<u8>,
    cell_silent: Vec<bool>,
    core_broken: Vec<bool>,
    core_silent: Vec<bool>,
    extra_broken: Vec<bool>,
    extra_silent: Vec<bool>,
    pool_up: Vec<u32>,
    rise: f32,
    depth: f32,
    /// Per cell: how far its KPIs go under the current faults.
    cell_depth: Vec<f32>,
    /// The running faults' spread and blind share (see [`scenario::Fault`]).
    spread: Option<(u8, f32)>,
    blind: f32,
    /// Cells and core instances the re-attach storm hits, and its level this minute.
    storm_cells: Vec<bool>,
    storm_cores: Vec<bool>,
    storm_level: f32,
    /// Per region this minute: subscribers attempting to register, those
    /// registered, and those re-attaching after an outage.
    region_load: Vec<[f32; 3]>,
    gaps: Vec<Range<u32>>,
}

impl Twin {
    pub fn new(cfg: TwinConfig) -> Result<Twin, SimError> {
        if cfg.start.rem_euclid(60) != 0 {
            return Err(SimError::UnalignedStart(cfg.start));
        }
        if cfg.fault_at < cfg.start {
            return Err(SimError::FaultBeforeStart {
                fault_at: cfg.fault_at,
                start: cfg.start,
            });
        }
        if cfg.fault_duration_secs <= 0 {
            return Err(SimError::BadFaultDuration(cfg.fault_duration_secs));
        }
        let seed = cfg.seed;
        let stream = |n: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(n);
            rng
        };
        // Check the scenario before the (larger) network build.
        if !scenarios().iter().any(|s| s.id == cfg.scenario) {
            return Err(SimError::UnknownScenario(cfg.scenario.clone()));
        }
        let net = network::build(cfg.cells, &mut stream(0))?;
        let plan = scenario::plan(&cfg, &net, &mut stream(1))?;
        let n_cells = net.cells.len();
        let n_cores = net.cores.len();
        let n_pools = net.pools.len();
        let n_regions = net.regions.len();
        let n_extras = net.extras.len();
        let (storm_cells, storm_cores) = match &plan.storm {
            Some(storm) => {
                let lost = net.topology.propagate(&[plan.faults[storm.fault].elem]);
                (
                    net.cells.iter().map(|c| lost[c.elem] != 0).collect(),
                    net.cores.iter().map(|c| lost[c.elem] != 0).collect(),
                )
            }
            None => (vec![false; n_cells], vec![false; n_cores]),
        };
        let mut twin = Twin {
            now: cfg.start,
            cfg,
            noise: stream(2),
            extra_noise: stream(3),
            cells: vec![CellState::default(); n_cells],
            crowd: vec![1.0; n_cells],
            core_sev: vec![0.0; n_cores],
            extra_sev: vec![0.0; n_extras],
            down: (Vec::new(), Vec::new()),
            cell_target: vec![0; n_cells],
            cell_silent: vec![false; n_cells],
            core_broken: vec![false; n_cores],
            core_silent: vec![false; n_cores],
            extra_broken: vec![false; n_extras],
            extra_silent: vec![false; n_extras],
            pool_up: vec![0; n_pools],
            rise: 0.6,
            depth: 1.0,
            cell_depth: vec![1.0; n_cells],
            spread: None,
            blind: 0.0,
            storm_cells,
            storm_cores,
            storm_level: 0.0,
            region_load: vec![[0.0; 3]; n_regions],
            gaps: Vec::new(),
            net,
            plan,
        };
        twin.derive();
        Ok(twin)
    }

    pub fn config(&self) -> &TwinConfig {
        &self.cfg
    }

    pub fn topology(&self) -> &Topology {
        &self.net.topology
    }

    /// Every series the twin emits; a series' index is its [`dialtone_model::SeriesId`].
    /// Cells come first (six KPIs each, in [`Kpi::CELL`] order), then core
    /// instances, then the fixed broadband gateways and the conference bridge
    /// (two each, in [`Kpi::CORE`] order: procedure success and rate).
    pub fn series(&self) -> &[SeriesKey] {
        &self.net.series
    }

    /// The minute the next [`Twin::step`] produces.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn ground_truth(&self) -> &[FaultTruth] {
        &self.plan.truths
    }

    pub fn maintenance_windows(&self) -> &[MaintenanceWindow] {
        &self.plan.maintenance
    }

    /// Ends the fault on `element` from `at` (a failover or repair), or from
    /// [`Twin::now`] if `at` is already past: minutes produced are not
    /// rewritten. KPIs then recover over the following minutes. Returns
    /// false when no fault on that element has started and is still running
    /// by then; the ground truth's `end` follows.
    pub fn restore(&mut self, element: &str, at: Timestamp) -> bool {
        let Some(elem) = self.net.topology.index_of(element) else {
            return false;
        };
        let at = at.max(self.now).div_euclid(60) * 60;
        let mut restored = false;
        for f in &mut self.plan.faults {
            if f.elem == elem && f.start <= at && at < f.end {
                f.end = at;
                // The aftermath (an attach storm) follows the new end.
                let truth = &mut self.plan.truths[f.truth];
                truth.settled_at += at - truth.end;
                truth.end = at;
                restored = true;
            }
        }
        restored
    }

    /// Produces this minute's samples into `out` (cleared first), in series
    /// order with missing series left out, and advances one minute.
    pub fn step(&mut self, out: &mut Vec<Sample>) -> Timestamp {
        out.clear();
        let t = self.now;
        self.refresh(t);
        let load = telemetry::load_at(t);
        // Two matches may share cells: each cell takes the larger crowd, so
        // one match's quiet hours never erase the other's load. (Only the
        // crowds' cells ever leave 1.)
        for c in &self.plan.crowds {
            self.crowd[c.cells.clone()].fill(1.0);
        }
        for c in &self.plan.crowds {
            for (cell, &peak) in c.cells.clone().zip(&c.peak) {
                self.crowd[cell] = self.crowd[cell].max(c.factor(peak, t));
            }
        }
        self.region_load.fill([0.0; 3]);
        out.reserve(self.net.series.len());

        for (c, spec) in self.net.cells.iter().enumerate() {
            let st = &mut self.cells[c];
            let target = self.cell_target[c];
            let depth = self.cell_depth[c];
            for (ch, sev) in st.sev.iter_mut().enumerate() {
                if target & (1 << ch) != 0 {
                    *sev += (depth - *sev) * self.rise;
                } else if *sev > 0.0 {
                    *sev *= DECAY[ch];
                    if *sev < SETTLED {
                        *sev = 0.0;
                    }
                }
            }
            if self.storm_cells[c] {
                st.sev[REG] = st.sev[REG].max(self.storm_level);
            }
            let (values, [attempting, registered]) =
                telemetry::cell_minute(spec, st, load, self.crowd[c], &mut self.noise);
            let region = &mut self.region_load[spec.region as usize];
            region[0] += attempting;
            region[1] += registered;
            if target & (1 << REG) == 0 {
                region[2] += spec.subs * load * st.sev[REG];
            }
            if !self.cell_silent[c] {
                let first = Network::cell_series(c, 0);
                out.extend(
                    values
                        .iter()
                        .zip(first..)
                        .map(|(&value, series)| Sample { series, value }),
                );
            }
        }

        let national = self
            .region_load
            .iter()
            .fold([0.0; 3], |a, r| std::array::from_fn(|k| a[k] + r[k]));
        for (i, spec) in self.net.cores.iter().enumerate() {
            let pool = &self.net.pools[spec.pool as usize];
            let f = &FUNCTIONS[spec.function as usize];
            let [attempting, registered, storm] = match pool.region {
                Some(r) => self.region_load[r as usize],
                None => national,
            };
            // Functions that register UEs see every attempt, and the storm of
            // re-attaches after an outage; the others serve registered UEs.
            let subs = if f.services == ALL_SERVICES {
                attempting + 4.0 * storm
            } else {
                registered
            };
            let demand = f.proc_per_sub * subs;
            let members = pool.members.len() as f32;
            let up = self.pool_up[spec.pool as usize];
            let sev = &mut self.core_sev[i];
            if self.core_broken[i] {
                *sev += (1.0 - *sev) * 0.7;
            } else if *sev > 0.0 {
                *sev *= 0.5;
                if *sev < SETTLED {
                    *sev = 0.0;
                }
            }
            // The storm congests the instances that admit the re-attaches.
            if self.storm_cores[i] {
                *sev = sev.max(self.storm_level);
            }
            let peers_up = up > u32::from(!self.core_broken[i]);
            let values = telemetry::core_minute(
                spec.fail,
                spec.resid,
                demand / up.max(1) as f32,
                demand / members,
                peers_up,
                *sev,
                &mut self.noise,
            );
            if !self.core_silent[i] {
                let first = self.net.core_series(i);
                out.extend(
                    values
                        .iter()
                        .zip(first..)
                        .map(|(&value, series)| Sample { series, value }),
                );
            }
        }

        let on_call = self.plan.calls.iter().any(|c| c.contains(&t));
        for (i, spec) in self.net.extras.iter().enumerate() {
            let demand = spec.rate
                * match spec.kind {
                    ExtraKind::Bng => load,
                    // Hundreds of participants join within minutes of the start.
                    ExtraKind::Bridge if on_call => 20.0,
                    ExtraKind::Bridge => load,
                };
            let sev = &mut self.extra_sev[i];
            if self.extra_broken[i] {
                *sev += (self.depth - *sev) * self.rise;
            } else if *sev > 0.0 {
                *sev *= 0.5;
                if *sev < SETTLED {
                    *sev = 0.0;
                }
            }
            let values = telemetry::core_minute(
                spec.fail,
                spec.resid,
                demand,
                demand,
                false,
                *sev,
                &mut self.extra_noise,
            );
            if !self.extra_silent[i] {
                let first = self.net.extra_series(i);
                out.extend(
                    values
                        .iter()
                        .zip(first..)
                        .map(|(&value, series)| Sample { series, value }),
                );
            }
        }

        if !self.gaps.is_empty() {
            let gaps = &self.gaps;
            out.retain(|s| !gaps.iter().any(|g| g.contains(&s.series)));
        }
        self.now += 60;
        t
    }

    /// Works out what is down at `t` and, only when that changed, what every
    /// cell and instance loses (propagation is the expensive part).
    fn refresh(&mut self, t: Timestamp) {
        self.gaps.clear();
        for g in &self.plan.gaps {
            if g.start <= t && t < g.end {
                self.gaps.extend(g.series.iter().cloned());
            }
        }
        let mut faults: Vec<usize> = Vec::new();
        let (mut rise, mut depth) = (0.0f32, 0.0f32);
        let (mut spread, mut blind) = (None, 0.0f32);
        for f in &self.plan.faults {
            if f.start <= t && t < f.end {
                faults.push(f.elem);
                rise = rise.max(f.rise);
                depth = depth.max(f.depth);
                spread = spread.or(f.spread);
                blind = blind.max(f.blind);
            }
        }
        self.storm_level = self
            .plan
            .storm
            .as_ref()
            .map_or(0.0, |s| s.level(self.plan.faults[s.fault].end, t));
        let mut maint: Vec<usize> = self
            .plan
            .maintenance
            .iter()
            .zip(&self.plan.maintenance_elems)
            .filter(|(w, _)| w.start <= t && t < w.end)
            .map(|(_, &e)| e)
            .collect();
        faults.sort_unstable();
        maint.sort_unstable();
        if !faults.is_empty() {
            self.rise = rise;
            self.depth = depth;
            self.spread = spread;
            self.blind = blind;
        }
        if (&faults, &maint) != (&self.down.0, &self.down.1) {
            self.down = (faults, maint);
            self.derive();
        }
    }

    /// Recomputes the per-cell and per-instance consequences of `self.down`.
    fn derive(&mut self) {
        let topo = &self.net.topology;
        let all: Vec<usize> = self.down.0.iter().chain(&self.down.1).copied().collect();
        let lost = topo.propagate(&all);
        let planned = topo.propagate(&self.down.1);
        for (c, spec) in self.net.cells.iter().enumerate() {
            // A site locked for work reports nothing rather than looking broken;
            // so does a site cut off with the transport its management rides
            // (a fixed share of sites, picked by id so the choice is stable).
            let blinded = self.blind > 0.0
                && lost[spec.site_elem] != 0
                && ((spec.site_elem % 100) as f32) < 100.0 * self.blind;
            let silent =
                planned[spec.site_elem] != 0 || self.down.1.contains(&spec.elem) || blinded;
            self.cell_depth[c] = match self.spread {
                Some((region, depth)) if region != spec.region => depth * self.depth,
                _ => self.depth,
            };
            let mut target = 0u8;
            if !silent {
                for (ch, service) in [
                    (REG, Service::Registration),
                    (VOICE, Service::Voice),
                    (DATA, Service::Data),
                ] {
                    if lost[spec.elem] & service.bit() != 0 {
                        target |= 1 << ch;
                    }
                }
                if lost[spec.site_elem] != 0 || self.down.0.contains(&spec.elem) {
                    target = 1 << RAN;
                }
            }
            self.cell_target[c] = target;
            self.cell_silent[c] = silent;
        }
        for (i, spec) in self.net.cores.iter().enumerate() {
            // An instance in maintenance, or whose power or data center is
            // gone, is dark: its KPIs go away instead of going bad.
            let silent = planned[spec.elem] != 0 || spec.hosts.iter().any(|&h| lost[h] != 0);
            self.core_broken[i] = lost[spec.elem] != 0 && !silent;
            self.core_silent[i] = silent;
        }
        for (i, spec) in self.net.extras.iter().enumerate() {
            self.extra_silent[i] = planned[spec.elem] != 0;
            self.extra_broken[i] = lost[spec.elem] != 0 && !self.extra_silent[i];
        }
        for (p, pool) in self.net.pools.iter().enumerate() {
            self.pool_up[p] = pool
                .members
                .iter()
                .filter(|&&m| lost[self.net.cores[m as usize].elem] == 0)
                .count() as u32;
        }
    }
}

#[cfg(test)]
mod tests;
