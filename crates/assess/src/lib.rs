//! The reliability assessment of a [`Topology`]: single points of failure,
//! common-mode groups, minimal cut sets, blast radius, availability, ranked
//! risks with their fixes, and an HTML report.
//!
//! Pure: no I/O and no clock. Progress is reported through a callback so a
//! command line can draw a bar; Monte Carlo is seeded.

mod availability;
mod blast;
mod cutsets;
mod html;
mod impact;
mod network;
mod physical;
mod risks;
pub mod synthetic;

use dialtone_model::Topology;
use serde::Serialize;

pub use availability::{Availability, AvailabilityRow};
pub use cutsets::{CutSet, RedundantSet, SharedCause};
pub use html::render_html;
pub use impact::Loss;
pub use network::default_rates;
pub use physical::PhysicalFindings;
pub use risks::Risk;

#[derive(Debug, Clone)]
pub struct Options {
    /// Monte Carlo rounds when the exact availability is too much work.
    pub monte_carlo_rounds: u32,
    pub seed: u64,
    /// Worker threads for the single-failure pass.
    pub threads: usize,
    /// Risks kept in the ranked list.
    pub top_risks: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            monte_carlo_rounds: 10_000,
            seed: 0xd1a1_7013,
            threads: 2,
            top_risks: 25,
        }
    }
}

/// Where the assessment is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub elements: usize,
    pub dependency_groups: usize,
    pub cells: usize,
    pub subscribers: u64,
    pub regions: usize,
    pub single_points_of_failure: usize,
    /// Distinct common-mode causes (each once, however many redundant sets
    /// it takes down), not counting upstream single points of failure. The
    /// name is the JSON field's since it was first written.
    pub common_mode_groups: usize,
    pub redundant_sets_analysed: usize,
    pub cut_sets_order_2: u64,
    pub cut_sets_order_3: u64,
}

/// An element whose loss alone takes service away from subscribers.
#[derive(Debug, Clone, Serialize)]
pub struct SinglePoint {
    pub element: String,
    pub kind: String,
    pub loss: Loss,
    /// A cut vertex or bridge of the physical (link) graph.
    pub physical_cut: bool,
    /// Redundant groups it defeats without being their member.
    pub defeats_redundant_groups: u32,
    /// Some of those groups, as `dependent (member, member)`.
    pub defeats: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlastRadius {
    pub element: String,
    pub kind: String,
    pub loss: Loss,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub summary: Summary,
    pub risks: Vec<Risk>,
    pub single_points_of_failure: Vec<SinglePoint>,
    pub redundant_sets: Vec<RedundantSet>,
    pub physical: PhysicalFindings,
    pub availability: Availability,
    /// Every element but the cells whose failure costs some cell its
    /// service, largest first.
    pub blast_radius: Vec<BlastRadius>,
}

/// Assesses `topology`. `progress` is called from this thread only.
pub fn assess(
    topology: &Topology,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Assessment {
    let net = network::Network::new(topology);
    let single = blast::single_failures(&net, options.threads, &mut |done, total| {
        progress(Progress {
            stage: "single failures",
            done,
            total,
        })
    });
    progress(Progress {
        stage: "physical graph",
        done: 0,
        total: 1,
    });
    let (physical, cut_vertex, bridge) = physical::analyse(topology, &|e| single[e].loss.cells > 0);
    progress(Progress {
        stage: "cut sets",
        done: 0,
        total: 1,
    });
    let redundant_sets = cutsets::analyse(&net);
    progress(Progress {
        stage: "availability",
        done: 0,
        total: 1,
    });
    let availability = availability::assess(&net, options.monte_carlo_rounds, options.seed);

    let mut blast_radius = Vec::new();
    let mut spofs = Vec::new();
    for (e, s) in single.iter().enumerate() {
        if s.loss.cells == 0 || net.endpoint_of[e] != u32::MAX {
            continue;
        }
        let element = topology.element(e);
        blast_radius.push(BlastRadius {
            element: element.id.clone(),
            kind: element.kind.as_str().to_owned(),
            loss: s.loss,
        });
        spofs.push(SinglePoint {
            element: element.id.clone(),
            kind: element.kind.as_str().to_owned(),
            loss: s.loss,
            physical_cut: cut_vertex[e] || bridge[e],
            defeats_redundant_groups: s.defeated_groups,
            defeats: s
                .examples
                .iter()
                .map(|&g| risks::describe_group(topology, g as usize))
                .collect(),
        });
    }
    let by_impact = |a: &Loss, b: &Loss| {
        (b.subscribers, b.cells, b.emergency_cells).cmp(&(
            a.subscribers,
            a.cells,
            a.emergency_cells,
        ))
    };
    blast_radius
        .sort_by(|a, b| by_impact(&a.loss, &b.loss).then_with(|| a.element.cmp(&b.element)));
    spofs.sort_by(|a, b| by_impact(&a.loss, &b.loss).then_with(|| a.element.cmp(&b.element)));

    let risks = risks::rank(&net, &single, &spofs, &redundant_sets, options.top_risks);
    let summary = Summary {
        elements: topology.len(),
        dependency_groups: topology.groups().len(),
        cells: net.endpoints.len(),
        subscribers: (0..net.endpoints.len()).map(|k| net.weight(k)).sum(),
        regions: net.regions.len(),
        single_points_of_failure: spofs.len(),
        // Each cause once, however many redundant sets it takes down.
        common_mode_groups: (redundant_sets.iter())
            .flat_map(|s| &s.shared_causes)
            .filter(|c| !c.is_single_point())
            .map(|c| c.event.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        redundant_sets_analysed: redundant_sets.len(),
        cut_sets_order_2: redundant_sets.iter().map(|s| s.order_2).sum(),
        cut_sets_order_3: redundant_sets.iter().filter_map(|s| s.order_3).sum(),
    };
    progress(Progress {
        stage: "done",
        done: 1,
        total: 1,
    });
    Assessment {
        summary,
        risks,
        single_points_of_failure: spofs,
        redundant_sets,
        physical,
        availability,
        blast_radius,
    }
}
