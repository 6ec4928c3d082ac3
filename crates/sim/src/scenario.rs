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
    /// How long symptoms outlast the fault (a re-attach storm), in seconds:
    /// a drill runs that much longer.
    pub aftermath_secs: i64,
    /// The scheduled event the fault strikes during, if the scenario is
    /// about one (the leadership call on the conference bridge): the demo
    /// registers it as an event watch on the fault's element, as the NOC
    /// would have before the call.
    pub scheduled_event: Option<&'static str>,
}

/// How long the re-attach storm after `expansion-misconfig-attach-storm`'s
/// rollback keeps the core congested (AT&T: about 10 h; compressed here).
const ATTACH_STORM_SECS: i64 = 4 * HOUR;

const SCENARIOS: [ScenarioInfo; 13] = [
    ScenarioInfo {
        id: "core-software-version",
        summary: "One AMF software version fails on every instance running it (Ericsson \
                  SGSN-MME certificate, 2018): cells whose pool runs only that version lose \
                  registration, calls and data; pools mixing versions keep working.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "quiet-week",
        summary: "No fault for a week: stadium crowds, planned maintenance, collection gaps \
                  and the daily call on the conference bridge only. Every incident opened is a \
                  false one.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "single-cell-hardware-fault",
        summary: "One cell's radio unit dies: one cell goes dark. The incident must stay \
                  that small.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "regional-power-outage",
        summary: "A utility grid segment fails and the cell sites it feeds go down; the \
                  segment crosses aggregation areas, so the grid, not a router, explains it.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "dns-failure",
        summary: "A bad zone push from the DNS configuration system breaks every resolver: \
                  mobile data degrades network-wide as caches expire, over several minutes.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "planned-maintenance",
        summary: "No fault: at the fault time a UPF pool member is upgraded and a cell site \
                  is locked for work, both announced as maintenance windows.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "expansion-misconfig-attach-storm",
        summary: "A misconfigured element added during a core expansion puts every AMF into \
                  protective mode: all devices detach nationwide (AT&T, Feb 2024). After the \
                  rollback a re-attach storm keeps registration degraded for hours.",
        aftermath_secs: ATTACH_STORM_SECS,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "core-routing-filter-removed",
        summary: "A route filter removed from the routing policy floods every core router \
                  (Rogers, Jul 2022): cell sites lose backhaul, core functions and fixed \
                  broadband gateways fail together.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "peering-route-flood-zombie-ran",
        summary: "Routes from the upstream peer overwhelm every provider-edge router, which \
                  shut down (Optus, Nov 2023): cells stay on air with no core behind them, so \
                  phones cannot fall back for emergency calls; fixed broadband fails too.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "transport-mgmt-packet-storm",
        summary: "A faulty card floods one transport management channel segment node to \
                  node (CenturyLink, Dec 2018): the optical transport of its regions fails \
                  and most of their sites stop reporting: the operator loses visibility.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "fiber-cut-ims-registration-storm",
        summary: "The leased fiber that wrong link weights made the only IMS path fails \
                  (T-Mobile, Jun 2020): voice fails in its region and a re-registration \
                  storm degrades calls nationwide; data keeps working.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
    ScenarioInfo {
        id: "conference-bridge-degradation",
        summary: "The conference bridge degrades during a scheduled high-stakes call (the \
                  AT&T conference call): joins fail and legs drop; no cell is affected.",
        aftermath_secs: 0,
        scheduled_event: Some("Leadership call"),
    },
    ScenarioInfo {
        id: "overlapping-faults",
        summary: "Two independent faults at once: a grid segment fails and its sites go \
                  down; half an hour later, while that incident is open, a cell in another \
                  region loses its radio. Two incidents, each with its own cause, not one.",
        aftermath_secs: 0,
        scheduled_event: None,
    },
];

/// When the second fault of `overlapping-faults` starts, after the first: past
/// the engine's settling time (10 min by default), so the first incident no
/// longer claims everything broken, and well inside the first fault.
const SECOND_FAULT_AFTER_SECS: i64 = 30 * MIN;

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
    /// When the fault's aftermath (a re-attach storm) is over: `end` plus
    /// [`ScenarioInfo::aftermath_secs`].
    pub settled_at: Timestamp,
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
    /// Cells outside this region reach only this depth (a storm spreading
    /// from where the fault is).
    pub spread: Option<(u8, f32)>,
    /// Share of the sites it cuts off whose telemetry goes dark with them
    /// (their management rides the failed transport).
    pub blind: f32,
    /// Index into the ground truth.
    pub truth: usize,
}

/// Registration still degraded after a fault ends: everyone re-attaches at
/// once and the core admits them slowly.
#[derive(Debug, Clone)]
pub(crate) struct Storm {
    /// The fault whose end starts it.
    pub fault: usize,
    pub secs: i64,
    /// Severity right after the fault ends, falling linearly to zero.
    pub depth: f32,
}

impl Storm {
    /// Severity floor at `t`, given the fault's `end`.
    pub fn level(&self, end: Timestamp, t: Timestamp) -> f32 {
        if t < end || t >= end + self.secs {
            return 0.0;
        }
        self.depth * (1.0 - (t - end) as f32 / self.secs as f32)
    }
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
    pub storm: Option<Storm>,
    /// Scheduled calls on the conference bridge: joins surge while they run.
    pub calls: Vec<Range<Timestamp>>,
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

    let inject_at =
        |plan: &mut Plan, elem: usize, span: Range<Timestamp>, rise: f32, depth: f32| {
            plan.truths.push(FaultTruth {
                scenario: info.id.to_string(),
                root_cause: net.id(elem).to_string(),
                onset: span.start,
                symptoms_at: span.start + MIN * minutes_to_half(rise),
                end: span.end,
                settled_at: span.end + info.aftermath_secs,
                affected_cells: affected_cells(net, &[elem]),
            });
            let truth = plan.truths.len() - 1;
            plan.faults.push(Fault {
                elem,
                start: span.start,
                end: span.end,
                rise,
                depth,
                spread: None,
                blind: 0.0,
                truth,
            });
            plan.faults.len() - 1
        };
    let inject = |plan: &mut Plan, elem: usize, rise: f32, depth: f32| {
        inject_at(plan, elem, fault_at..fault_end, rise, depth)
    };
    match info.id {
        "core-software-version" => {
            inject(&mut plan, riskiest_version(net, AMF), 0.6, 1.0);
        }
        "single-cell-hardware-fault" => {
            let cell = rng.random_range(0..net.cells.len());
            inject(&mut plan, net.cells[cell].elem, 0.9, 1.0);
        }
        "regional-power-outage" => {
            let region = rng.random_range(0..net.regions.len());
            inject(&mut plan, outage_grid(net, region), 0.8, 1.0);
        }
        // Resolver caches keep some names working while their TTLs run out.
        "dns-failure" => {
            inject(&mut plan, net.dns_config, 0.15, 0.85);
        }
        "expansion-misconfig-attach-storm" => {
            let fault = inject(&mut plan, net.amf_expansion, 0.7, 1.0);
            plan.storm = Some(Storm {
                fault,
                secs: ATTACH_STORM_SECS,
                depth: 0.5,
            });
        }
        // Core routers fail within minutes of the policy push.
        "core-routing-filter-removed" => {
            inject(&mut plan, net.route_policy, 0.6, 1.0);
        }
        "peering-route-flood-zombie-ran" => {
            inject(&mut plan, net.peering, 0.7, 1.0);
        }
        "transport-mgmt-packet-storm" => {
            let segment = net.dcn[rng.random_range(0..net.dcn.len())];
            // Three sites in five are managed only over the transport.
            let f = inject(&mut plan, segment, 0.5, 1.0);
            plan.faults[f].blind = 0.6;
        }
        // The isolated region fails outright; elsewhere the re-registration
        // storm fails a bit under half the calls (T-Mobile: at least 41%).
        "fiber-cut-ims-registration-storm" => {
            let f = inject(&mut plan, net.fiber, 0.5, 1.0);
            plan.faults[f].spread = Some((net.fiber_region, 0.5));
        }
        "conference-bridge-degradation" => {
            inject(&mut plan, net.extras[net.bridge].elem, 0.4, 0.6);
            // The high-stakes call starts a little before the bridge degrades.
            plan.calls.push(fault_at - 10 * MIN..fault_end);
        }
        "overlapping-faults" => {
            // The second fault, half as long, must end inside the first.
            let least = 2 * SECOND_FAULT_AFTER_SECS;
            if cfg.fault_duration_secs < least {
                return Err(SimError::FaultTooShortToOverlap {
                    secs: cfg.fault_duration_secs,
                    after: SECOND_FAULT_AFTER_SECS,
                    least,
                });
            }
            let region = rng.random_range(0..net.regions.len());
            let grid = outage_grid(net, region);
            inject(&mut plan, grid, 0.8, 1.0);
            let dark = net.topology.propagate(&[grid]);
            let elsewhere: Vec<usize> = net
                .cells
                .iter()
                .filter(|c| usize::from(c.region) != region && dark[c.site_elem] == 0)
                .map(|c| c.elem)
                .collect();
            // Every twin has at least four regions, each on its own grid segments.
            assert!(!elsewhere.is_empty(), "a grid segment powers every region");
            let cell = elsewhere[rng.random_range(0..elsewhere.len())];
            // Shorter than the first, so both end inside the drill.
            let second = fault_at + SECOND_FAULT_AFTER_SECS;
            inject_at(
                &mut plan,
                cell,
                second..second + cfg.fault_duration_secs / 2,
                0.9,
                1.0,
            );
        }
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
    let busy = fault_at - HOUR..fault_end + info.aftermath_secs + 2 * HOUR;
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

    // A standing call on the conference bridge every afternoon: joins surge
    // and that is not a fault.
    for day in 0..7 {
        let start = place(start_day + day * DAY + 16 * HOUR, 45 * MIN);
        plan.calls.push(start..start + 45 * MIN);
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
