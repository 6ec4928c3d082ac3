//! Scenarios: which fault is injected where, plus the normal events every
//! run carries (a stadium crowd, planned maintenance, collection gaps) so the
//! pipeline is tested against what is not an outage, too.

use std::ops::Range;

use dialtone_model::{ElementId, ElementKind, Timestamp};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::network::{AMF, FUNCTIONS, Network};
use crate::{SimError, TwinConfig};

/// A scenario the twin can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScenarioInfo {
    pub id: &'static str,
    pub summary: &'static str,
}

const SCENARIOS: [ScenarioInfo; 6] = [
    ScenarioInfo {
        id: "core-software-version",
        summary: "One AMF software version fails on every instance running it (Ericsson \
                  SGSN-MME certificate, 2018): cells whose pool runs only that version lose \
                  registration, calls and data; pools mixing versions keep working.",
    },
    ScenarioInfo {
        id: "quiet-week",
        summary: "No fault: a stadium crowd, planned maintenance and collection gaps only. \
                  Every incident opened is a false one.",
    },
    ScenarioInfo {
        id: "single-cell-hardware-fault",
        summary: "One cell's radio unit dies: one cell goes dark. The incident must stay \
                  that small.",
    },
    ScenarioInfo {
        id: "regional-power-outage",
        summary: "A utility grid segment fails and the cell sites it feeds go down; the \
                  segment crosses aggregation areas, so the grid, not a router, explains it.",
    },
    ScenarioInfo {
        id: "dns-failure",
        summary: "A bad zone push from the DNS configuration system breaks every resolver: \
                  mobile data degrades network-wide as caches expire, over several minutes.",
    },
    ScenarioInfo {
        id: "planned-maintenance",
        summary: "No fault: at the fault time a UPF pool member is upgraded and a cell site \
                  is locked for work, both announced as maintenance windows.",
    },
];

/// Every scenario the twin knows.
pub fn scenarios() -> &'static [ScenarioInfo] {
    &SCENARIOS
}

/// The valid scenario ids, comma separated, for error messages.
pub(crate) fn scenario_ids() -> String {
    SCENARIOS
        .iter()
        .map(|s| s.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The truth about one injected fault, for scoring a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultTruth {
    pub scenario: String,
    /// The element that failed, e.g. `sw-amf-22.4.1`.
    pub root_cause: ElementId,
    /// When the element failed.
    pub onset: Timestamp,
    /// The first minute in which the affected cells' KPIs are at least half
    /// way to their full degradation.
    pub symptoms_at: Timestamp,
    /// When the fault ended (moved earlier by [`crate::Twin::restore`]); KPIs
    /// take some minutes more to recover.
    pub end: Timestamp,
    /// Cells that lose at least one service, by [`dialtone_model::Topology::propagate`].
    pub affected_cells: usize,
}

/// A planned outage of one element that the pipeline can be told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub element: ElementId,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// An injected failure of one element over `[start, end)`.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub elem: usize,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Share of the remaining way to `depth` that the affected cells' KPIs
    /// move each minute: 0.6 is abrupt, 0.15 a slow slide.
    pub rise: f32,
    /// How far the KPIs go at worst (1 = the cell's full fault profile).
    pub depth: f32,
    /// Index into the ground truth.
    pub truth: usize,
}

/// A crowd at a venue: cells' load multiplied for a few hours.
#[derive(Debug, Clone)]
pub(crate) struct Crowd {
    pub cells: Range<usize>,
    /// Peak multiplier per cell of `cells`.
    pub peak: Vec<f32>,
    /// Fans arrive over the 30 min before kickoff and leave over 20 min after the final whistle.
    pub kickoff: Timestamp,
}

const CROWD_ARRIVAL: i64 = 30 * 60;
const CROWD_MATCH: i64 = 120 * 60;
const CROWD_LEAVING: i64 = 20 * 60;

impl Crowd {
    /// The load multiplier of a cell with peak `peak` at `t`.
    pub fn factor(&self, peak: f32, t: Timestamp) -> f32 {
        let full_time = self.kickoff + CROWD_MATCH;
        let share = if t < self.kickoff - CROWD_ARRIVAL || t >= full_time + CROWD_LEAVING {
            0.0
        } else if t < self.kickoff {
            1.0 - (self.kickoff - t) as f32 / CROWD_ARRIVAL as f32
        } else if t < full_time {
            1.0
        } else {
            1.0 - (t - full_time) as f32 / CROWD_LEAVING as f32
        };
        1.0 + (peak - 1.0) * share
    }

    fn span(&self) -> Range<Timestamp> {
        self.kickoff - CROWD_ARRIVAL..self.kickoff + CROWD_MATCH + CROWD_LEAVING
    }
}

/// Series that emit nothing over `[start, end)`: a collector restart, a
/// dropped file transfer.
#[derive(Debug, Clone)]
pub(crate) struct Gap {
    pub series: Vec<Range<u32>>,
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub faults: Vec<Fault>,
    pub truths: Vec<FaultTruth>,
    pub maintenance: Vec<MaintenanceWindow>,
    /// Element index of each maintenance window.
    pub maintenance_elems: Vec<usize>,
    pub crowds: Vec<Crowd>,
    pub gaps: Vec<Gap>,
}

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Plans the scenario's fault and the run's normal events from the event RNG stream.
pub(crate) fn plan(
    cfg: &TwinConfig,
    net: &Network,
    rng: &mut ChaCha8Rng,
) -> Result<Plan, SimError> {
    let Some(info) = SCENARIOS.iter().find(|s| s.id == cfg.scenario) else {
        return Err(SimError::UnknownScenario(cfg.scenario.clone()));
    };
    let fault_at = (cfg.fault_at + MIN - 1).div_euclid(MIN) * MIN;
    let fault_end = fault_at + cfg.fault_duration_secs;
    let mut plan = Plan::default();

    let mut inject = |elem: usize, rise: f32, depth: f32| {
        plan.truths.push(FaultTruth {
            scenario: info.id.to_string(),
            root_cause: net.id(elem).to_string(),
            onset: fault_at,
            symptoms_at: fault_at + MIN * minutes_to_half(rise),
            end: fault_end,
            affected_cells: affected_cells(net, &[elem]),
        });
        plan.faults.push(Fault {
            elem,
            start: fault_at,
            end: fault_end,
            rise,
            depth,
            truth: plan.truths.len() - 1,
        });
    };
    match info.id {
        "core-software-version" => inject(riskiest_version(net, AMF), 0.6, 1.0),
        "single-cell-hardware-fault" => {
            let cell = rng.random_range(0..net.cells.len());
            inject(net.cells[cell].elem, 0.9, 1.0);
        }
        "regional-power-outage" => {
            let region = rng.random_range(0..net.regions.len());
            inject(outage_grid(net, region), 0.8, 1.0);
        }
        // Resolver caches keep some names working while their TTLs run out.
        "dns-failure" => inject(net.dns_config, 0.15, 0.85),
        "planned-maintenance" => {
            let upfs: Vec<u32> = net
                .pools
                .iter()
                .filter(|p| FUNCTIONS[p.function as usize].key == "upf")
                .flat_map(|p| p.members.iter().copied())
                .collect();
            let upf = net.cores[upfs[rng.random_range(0..upfs.len())] as usize].elem;
            let site = rng.random_range(0..net.sites.len());
            let site = net.cells[net.sites[site].first_cell as usize].site_elem;
            for elem in [upf, site] {
                plan.maintenance_elems.push(elem);
                plan.maintenance.push(MaintenanceWindow {
                    element: net.id(elem).to_string(),
                    start: fault_at,
                    end: fault_end,
                });
            }
        }
        _ => {}
    }

    // Normal events are placed at fixed times of the first days and moved a
    // day on while they would overlap the scenario's window, so every fault
    // is scored on its own.
    let start_day = cfg.start.div_euclid(DAY) * DAY;
    let busy = fault_at - HOUR..fault_end + 2 * HOUR;
    let place = |at: Timestamp, len: i64| {
        let mut at = at;
        while at < busy.end && at + len > busy.start {
            at += DAY;
        }
        at
    };

    // Evening match on day 0, Saturday afternoon match on day 5.
    for (day, hour) in [(0, 19), (5, 15)] {
        let site = rng.random_range(0..net.sites.len());
        let first = net.sites[site].first_cell as usize;
        let mut last = first + net.sites[site].cells as usize;
        if let Some(next) = net.sites.get(site + 1)
            && next.region == net.sites[site].region
        {
            last += next.cells as usize;
        }
        let mut crowd = Crowd {
            cells: first..last,
            peak: (first..last).map(|_| rng.random_range(3.0..5.0)).collect(),
            kickoff: start_day + day * DAY + hour * HOUR,
        };
        let span = crowd.span();
        crowd.kickoff = place(span.start, span.end - span.start) + CROWD_ARRIVAL;
        plan.crowds.push(crowd);
    }

    // A night upgrade of one member of a regional pool: its peer carries the load.
    let regional: Vec<&crate::network::PoolSpec> =
        net.pools.iter().filter(|p| p.region.is_some()).collect();
    let pool = regional[rng.random_range(0..regional.len())];
    let member = net.cores[pool.members[rng.random_range(0..pool.members.len())] as usize].elem;
    let start = place(start_day + DAY + HOUR, 2 * HOUR);
    plan.maintenance_elems.push(member);
    plan.maintenance.push(MaintenanceWindow {
        element: net.id(member).to_string(),
        start,
        end: start + 2 * HOUR,
    });

    // Collection gaps: a whole site, then a few scattered series, then another site.
    let n_cell_series = net.cells.len() * dialtone_model::Kpi::CELL.len();
    for (at, whole_site) in [
        (15 * HOUR + 20 * MIN, true),
        (DAY + 11 * HOUR + 5 * MIN, false),
        (3 * DAY + 8 * HOUR + 40 * MIN, true),
    ] {
        let len = rng.random_range(5..=10) * MIN;
        let series = if whole_site {
            let site = &net.sites[rng.random_range(0..net.sites.len())];
            let first = Network::cell_series(site.first_cell as usize, 0);
            let end = Network::cell_series((site.first_cell + site.cells) as usize, 0);
            std::iter::once(first..end).collect()
        } else {
            (0..4)
                .map(|_| {
                    let s = rng.random_range(0..n_cell_series) as u32;
                    s..s + 1
                })
                .collect()
        };
        let start = place(start_day + at, len);
        plan.gaps.push(Gap {
            series,
            start,
            end: start + len,
        });
    }
    Ok(plan)
}

/// The grid feed to fail in `region`: the one feeding the most cells among
/// those whose cells no single router also explains (in a small region one
/// grid and one agg router feed the same sites, and no analysis could tell
/// them apart); falls back to other regions, then to any grid.
fn outage_grid(net: &Network, region: usize) -> usize {
    let cells_of = |e: usize| {
        let lost = net.topology.propagate(&[e]);
        net.cells
            .iter()
            .map(|c| lost[c.elem] != 0)
            .collect::<Vec<bool>>()
    };
    let routers: Vec<Vec<bool>> = (0..net.topology.len())
        .filter(|&e| net.topology.element(e).kind == ElementKind::Router)
        .map(cells_of)
        .collect();
    let distinct = |&g: &usize| !routers.contains(&cells_of(g));
    let biggest = |grids: &mut dyn Iterator<Item = usize>| {
        grids.max_by_key(|&g| (affected_cells(net, &[g]), std::cmp::Reverse(g)))
    };
    let others = net.grids.iter().enumerate().filter(|&(r, _)| r != region);
    biggest(&mut net.grids[region].iter().copied().filter(distinct))
        .or_else(|| biggest(&mut others.flat_map(|(_, g)| g.iter().copied()).filter(distinct)))
        .or_else(|| biggest(&mut net.grids[region].iter().copied()))
        .expect("every region has a grid feed")
}

/// Minutes after onset until a fault rising by `rise` per minute is half way.
fn minutes_to_half(rise: f32) -> i64 {
    let mut sev = 0.0f32;
    let mut k = 0;
    loop {
        sev += (1.0 - sev) * rise;
        if sev >= 0.5 {
            return k;
        }
        k += 1;
    }
}

/// Cells that lose at least one service when `failed` fail.
pub(crate) fn affected_cells(net: &Network, failed: &[usize]) -> usize {
    let lost = net.topology.propagate(failed);
    net.cells.iter().filter(|c| lost[c.elem] != 0).count()
}

/// The software version of function `f` whose failure leaves the most cells
/// without service (the first in version order on a tie).
pub(crate) fn riskiest_version(net: &Network, f: usize) -> usize {
    let prefix = format!("sw-{}-", FUNCTIONS[f].key);
    let versions = (0..net.topology.len()).filter(|&e| net.id(e).starts_with(&prefix));
    versions
        .map(|v| (affected_cells(net, &[v]), std::cmp::Reverse(v)))
        .max()
        .map(|(_, std::cmp::Reverse(v))| v)
        .expect("every function has versions")
}
