//! The operator network the twin simulates: elements, their dependencies,
//! and the per-cell and per-instance constants the telemetry is drawn from.
//!
//! Everything here is fixed at construction from the topology stream of the
//! seeded RNG, so two twins with the same seed and size are the same network.

use dialtone_model::{
    ALL_SERVICES, DependencySpec, Element, ElementKind, Kpi, Redundancy, SeriesKey, Service,
    ServiceMask, Topology,
};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::SimError;

/// Region names, in the order regions are created.
const REGION_NAMES: [&str; 6] = ["north", "south", "east", "west", "central", "coast"];
/// Each region needs a couple of sites so that it has more than one agg area.
const MIN_SITES_PER_REGION: usize = 2;
/// Sites behind one aggregation router.
const SITES_PER_AGG: usize = 20;
/// Sites fed by one utility grid segment; deliberately not a multiple of
/// [`SITES_PER_AGG`] and offset, so a grid loss and an agg loss hit different
/// cell sets and the two stay distinguishable for root-cause analysis.
const SITES_PER_GRID: usize = 15;
const GRID_OFFSET: usize = 7;
pub(crate) const CELLS_PER_SITE: usize = 3;
/// The smallest network that still has every region, pool and event.
pub(crate) const MIN_CELLS: usize = 4 * MIN_SITES_PER_REGION * CELLS_PER_SITE;

/// A core network function and how cells depend on it.
pub(crate) struct Function {
    pub name: &'static str,
    pub key: &'static str,
    /// Versions the operator has in its estate, oldest first.
    pub versions: &'static [&'static str],
    /// National pools serve every cell; regional pools serve their region.
    pub national: bool,
    /// Services a cell loses when this function's pool is down.
    pub services: ServiceMask,
    /// Procedures per second per active subscriber at full load.
    pub proc_per_sub: f32,
}

const DATA: ServiceMask = Service::Data.bit();
const VOICE: ServiceMask = Service::Voice.bit();

pub(crate) const FUNCTIONS: [Function; 6] = [
    Function {
        name: "AMF",
        key: "amf",
        versions: &["22.4.1", "22.4.2", "23.1.0"],
        national: false,
        services: ALL_SERVICES,
        proc_per_sub: 0.004,
    },
    Function {
        name: "SMF",
        key: "smf",
        versions: &["21.3.0", "22.1.2", "22.2.0"],
        national: false,
        services: DATA,
        proc_per_sub: 0.003,
    },
    Function {
        name: "UPF",
        key: "upf",
        versions: &["1.14.2", "1.15.0", "1.16.1"],
        national: false,
        services: DATA,
        proc_per_sub: 0.006,
    },
    Function {
        name: "IMS",
        key: "ims",
        versions: &["8.2.0", "8.3.1"],
        national: false,
        services: VOICE,
        proc_per_sub: 0.001,
    },
    Function {
        name: "UDM",
        key: "udm",
        versions: &["5.0.3", "5.1.0", "5.2.1"],
        national: true,
        services: ALL_SERVICES,
        proc_per_sub: 0.002,
    },
    Function {
        name: "DNS",
        key: "dns",
        versions: &["9.18.24", "9.18.28"],
        national: true,
        services: DATA,
        proc_per_sub: 0.02,
    },
];
/// Index of AMF in [`FUNCTIONS`]: the function the common-mode scenario targets.
pub(crate) const AMF: usize = 0;
/// Index of DNS in [`FUNCTIONS`]: its instances share a zone-config system.
const DNS: usize = 5;

/// Per-cell constants: level differences between cells are what make a
/// fleet look real (a rural cell is not a downtown cell).
#[derive(Debug, Clone)]
pub(crate) struct CellSpec {
    pub elem: usize,
    pub site_elem: usize,
    pub region: u8,
    pub subs: f32,
    /// Traffic (GB/min) per subscriber at full load.
    pub gb_per_sub: f32,
    /// Radio utilization is `k*load / (1 + k*load)`.
    pub util_k: f32,
    /// Mean user throughput (Mbit/s) on an empty cell.
    pub tp_base: f32,
    /// User-plane latency (ms) on an empty cell.
    pub lat_base: f32,
    /// Baseline failure fractions of attach and call setup, and the drop fraction.
    pub att_fail: f32,
    pub cs_fail: f32,
    pub drop: f32,
    /// What is left when the core behind the cell is gone: some UEs still get
    /// through on retries and other pools, so the collapse is not to zero.
    pub resid_att: f32,
    pub resid_cs: f32,
    pub resid_tp: f32,
    /// Latency multiplier at full degradation (timeouts and retransmissions).
    pub lat_mult: f32,
    /// Drop-rate jump (percentage points) when calls in progress are torn down.
    pub drop_jump: f32,
}

#[derive(Debug, Clone)]
pub(crate) struct CoreSpec {
    pub elem: usize,
    pub pool: u32,
    pub function: u8,
    /// Its power feed and data center: when either is gone the box is dark
    /// and reports nothing.
    pub hosts: [usize; 2],
    /// Normal procedure failure fraction.
    pub fail: f32,
    /// Success percent left when the instance is broken.
    pub resid: f32,
}

#[derive(Debug, Clone)]
pub(crate) struct PoolSpec {
    pub elem: usize,
    /// Region index, or `None` for a national pool.
    pub region: Option<u8>,
    pub function: u8,
    /// Indices into the core instance list.
    pub members: Vec<u32>,
}

/// A site and the cells on it, for events that pick sites.
#[derive(Debug, Clone)]
pub(crate) struct SiteSpec {
    pub region: u8,
    /// Cell indices `first..first + count`.
    pub first_cell: u32,
    pub cells: u32,
}

#[derive(Debug)]
pub(crate) struct Network {
    pub topology: Topology,
    pub regions: Vec<&'static str>,
    pub cells: Vec<CellSpec>,
    pub sites: Vec<SiteSpec>,
    pub cores: Vec<CoreSpec>,
    pub pools: Vec<PoolSpec>,
    /// Element index of each grid feed that powers sites, by region.
    pub grids: Vec<Vec<usize>>,
    /// Element index of the DNS zone configuration system.
    pub dns_config: usize,
    pub series: Vec<SeriesKey>,
}

impl Network {
    /// The series id of KPI `k` (index into [`Kpi::CELL`]) of cell `c`.
    pub fn cell_series(c: usize, k: usize) -> u32 {
        (c * Kpi::CELL.len() + k) as u32
    }

    /// First series id of core instance `i`.
    pub fn core_series(&self, i: usize) -> u32 {
        (self.cells.len() * Kpi::CELL.len() + i * Kpi::CORE.len()) as u32
    }

    pub fn id(&self, elem: usize) -> &str {
        &self.topology.element(elem).id
    }
}

/// A pool's region (`None`: national) and its members' (region, data center
/// side, software version element).
type PoolLayout = (Option<usize>, Vec<(usize, usize, usize)>);

/// Collects elements and dependency specs while building.
struct Builder {
    elements: Vec<Element>,
    deps: Vec<DependencySpec>,
}

impl Builder {
    fn add(&mut self, id: String, kind: ElementKind, region: Option<&str>) -> usize {
        let mut e = Element::new(id, kind);
        e.region = region.map(str::to_string);
        self.elements.push(e);
        self.elements.len() - 1
    }

    fn dep(
        &mut self,
        dependent: usize,
        members: &[usize],
        redundancy: Redundancy,
        services: ServiceMask,
    ) {
        let id = |i: usize| self.elements[i].id.clone();
        let spec = DependencySpec {
            dependent: id(dependent),
            members: members.iter().map(|&m| id(m)).collect(),
            redundancy,
            services,
        };
        self.deps.push(spec);
    }
}

/// Builds the network for `cells` cells from the topology RNG stream.
pub(crate) fn build(cells: usize, rng: &mut ChaCha8Rng) -> Result<Network, SimError> {
    if cells < MIN_CELLS {
        return Err(SimError::TooFewCells(cells));
    }
    let n_sites = cells.div_ceil(CELLS_PER_SITE);
    let n_regions = rng
        .random_range(4..=REGION_NAMES.len())
        .min(n_sites / MIN_SITES_PER_REGION);
    let regions: Vec<&'static str> = REGION_NAMES[..n_regions].to_vec();
    let sites_per_region = split_sites(n_sites, n_regions, rng);

    let mut b = Builder {
        elements: Vec::new(),
        deps: Vec::new(),
    };
    for r in &regions {
        b.add(format!("region-{r}"), ElementKind::Region, Some(r));
    }

    // Two data centers per region, each with its own power feed and core router.
    let mut dcs = Vec::new(); // [region][a/b] -> (dc, power)
    let mut core_routers = Vec::new();
    for r in &regions {
        let mut pair = Vec::new();
        let mut routers = Vec::new();
        for side in ["a", "b"] {
            let power = b.add(
                format!("power-dc-{r}-{side}"),
                ElementKind::PowerFeed,
                Some(r),
            );
            let dc = b.add(format!("dc-{r}-{side}"), ElementKind::DataCenter, Some(r));
            let cr = b.add(format!("cr-{r}-{side}"), ElementKind::Router, Some(r));
            b.dep(cr, &[dc, power], Redundancy::All, ALL_SERVICES);
            pair.push((dc, power));
            routers.push(cr);
        }
        dcs.push(pair);
        core_routers.push(routers);
    }

    let dns_config = b.add("config-dns-zones".into(), ElementKind::ConfigSystem, None);
    b.elements[dns_config].function = Some("DNS".into());

    // Core functions: versions, instances, pools.
    let mut cores = Vec::new();
    let mut pools = Vec::new();
    for (fi, f) in FUNCTIONS.iter().enumerate() {
        let n_versions = rng.random_range(2..=f.versions.len());
        let versions: Vec<usize> = f.versions[..n_versions]
            .iter()
            .map(|v| {
                let e = b.add(
                    format!("sw-{}-{v}", f.key),
                    ElementKind::SoftwareVersion,
                    None,
                );
                b.elements[e].function = Some(f.name.into());
                e
            })
            .collect();
        let layout: Vec<PoolLayout> = if f.national {
            // National pools spread over two regions' data centers with the
            // versions interleaved: no single version can take the pool down.
            let slots = [(0, 0), (0, 0), (1, 1), (1, 1)];
            let members = slots
                .iter()
                .enumerate()
                .map(|(k, &(r, side))| (r, side, versions[k % n_versions]))
                .collect();
            vec![(None, members)]
        } else {
            regional_versions(n_regions, &versions, fi == AMF, rng)
                .into_iter()
                .enumerate()
                .map(|(r, (va, vb))| (Some(r), vec![(r, 0, va), (r, 1, vb)]))
                .collect()
        };
        for (pool_region, members) in layout {
            let pool_id = match pool_region {
                Some(r) => format!("pool-{}-{}", f.key, regions[r]),
                None => format!("pool-{}", f.key),
            };
            let pool = b.add(
                pool_id,
                ElementKind::CorePool,
                pool_region.map(|r| regions[r]),
            );
            b.elements[pool].function = Some(f.name.into());
            let mut member_elems = Vec::new();
            let mut member_idx = Vec::new();
            let mut per_region = vec![0usize; n_regions];
            for (r, side, version) in members {
                per_region[r] += 1;
                let id = format!("{}-{}-{}", f.key, regions[r], per_region[r]);
                let inst = b.add(id, ElementKind::CoreInstance, Some(regions[r]));
                b.elements[inst].function = Some(f.name.into());
                let (dc, power) = dcs[r][side];
                let mut needs = vec![version, power, dc];
                if fi == DNS {
                    needs.push(dns_config);
                }
                b.dep(inst, &needs, Redundancy::All, ALL_SERVICES);
                member_elems.push(inst);
                member_idx.push(cores.len() as u32);
                cores.push(CoreSpec {
                    elem: inst,
                    pool: pools.len() as u32,
                    function: fi as u8,
                    hosts: [power, dc],
                    fail: rng.random_range(0.0005..0.003),
                    resid: rng.random_range(2.0..10.0),
                });
            }
            b.dep(pool, &member_elems, Redundancy::AnyOf, ALL_SERVICES);
            pools.push(PoolSpec {
                elem: pool,
                region: pool_region.map(|r| r as u8),
                function: fi as u8,
                members: member_idx,
            });
        }
    }

    // Radio access: agg routers, grid feeds, sites, cells.
    let mut cell_specs = Vec::with_capacity(cells);
    let mut sites = Vec::with_capacity(n_sites);
    let mut grids = vec![Vec::new(); n_regions];
    for (r, &region) in regions.iter().enumerate() {
        let n = sites_per_region[r];
        let n_agg = n.div_ceil(SITES_PER_AGG);
        let aggs: Vec<usize> = (1..=n_agg)
            .map(|k| {
                let agg = b.add(
                    format!("agg-{region}-{k}"),
                    ElementKind::Router,
                    Some(region),
                );
                b.dep(agg, &core_routers[r], Redundancy::AnyOf, ALL_SERVICES);
                agg
            })
            .collect();
        let n_grid = (n + GRID_OFFSET).div_ceil(SITES_PER_GRID);
        grids[r] = (1..=n_grid)
            .map(|k| {
                b.add(
                    format!("grid-{region}-{k}"),
                    ElementKind::PowerFeed,
                    Some(region),
                )
            })
            .collect();
        let pool_of = |f: usize| {
            pools
                .iter()
                .find(|p| {
                    p.function as usize == f && (p.region.is_none() || p.region == Some(r as u8))
                })
                .map(|p| p.elem)
                .expect("every function has a pool serving every region")
        };
        let needs_all: Vec<usize> = (0..FUNCTIONS.len())
            .filter(|&f| FUNCTIONS[f].services == ALL_SERVICES)
            .map(pool_of)
            .collect();
        let needs_data: Vec<usize> = (0..FUNCTIONS.len())
            .filter(|&f| FUNCTIONS[f].services == DATA)
            .map(pool_of)
            .collect();
        let needs_voice: Vec<usize> = (0..FUNCTIONS.len())
            .filter(|&f| FUNCTIONS[f].services == VOICE)
            .map(pool_of)
            .collect();
        for k in 0..n {
            let site_no = k + 1;
            let site = b.add(
                format!("site-{region}-{site_no:04}"),
                ElementKind::Site,
                Some(region),
            );
            let agg = aggs[k * n_agg / n];
            let grid = grids[r][(k + GRID_OFFSET) / SITES_PER_GRID];
            b.dep(site, &[agg, grid], Redundancy::All, ALL_SERVICES);
            let first = cell_specs.len();
            let count = CELLS_PER_SITE.min(cells - first);
            for sector in 1..=count {
                let cell = b.add(
                    format!("cell-{region}-{site_no:04}-{sector}"),
                    ElementKind::Cell,
                    Some(region),
                );
                let subs = rng.random_range(500.0f32..3000.0);
                b.elements[cell].subscribers = subs as u32;
                b.elements[cell].emergency_capable = true;
                let mut needs = vec![site];
                needs.extend(&needs_all);
                b.dep(cell, &needs, Redundancy::All, ALL_SERVICES);
                b.dep(cell, &needs_data, Redundancy::All, DATA);
                b.dep(cell, &needs_voice, Redundancy::All, VOICE);
                cell_specs.push(cell_spec(cell, site, r as u8, subs, rng));
            }
            sites.push(SiteSpec {
                region: r as u8,
                first_cell: first as u32,
                cells: count as u32,
            });
        }
    }

    let series = cell_specs
        .iter()
        .flat_map(|c| Kpi::CELL.map(|kpi| (c.elem, kpi)))
        .chain(
            cores
                .iter()
                .flat_map(|c| Kpi::CORE.map(|kpi| (c.elem, kpi))),
        )
        .map(|(e, kpi)| SeriesKey {
            element: b.elements[e].id.clone(),
            kpi,
        })
        .collect();
    let topology = Topology::new(b.elements, b.deps).map_err(SimError::Topology)?;
    Ok(Network {
        topology,
        regions,
        cells: cell_specs,
        sites,
        cores,
        pools,
        grids,
        dns_config,
        series,
    })
}

/// Splits sites over regions with uneven, seeded weights (regions differ in
/// size), at least [`MIN_SITES_PER_REGION`] each.
fn split_sites(n_sites: usize, n_regions: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let weights: Vec<f64> = (0..n_regions).map(|_| rng.random_range(0.6..1.4)).collect();
    let total: f64 = weights.iter().sum();
    let spare = n_sites - MIN_SITES_PER_REGION * n_regions;
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| MIN_SITES_PER_REGION + (spare as f64 * w / total) as usize)
        .collect();
    // Rounding leftovers go to the regions in order.
    let left = n_sites - counts.iter().sum::<usize>();
    for k in 0..left {
        counts[k % n_regions] += 1;
    }
    counts
}

/// Versions of the two instances (data center a, b) of each regional pool.
///
/// One "risk" version runs on both instances of some pools, a redundant pair
/// that is one failure domain; at least one other pool mixes it with another
/// version, so a failure of that version is visible there only on the core
/// instance; the rest are drawn freely but never both on the risk version.
/// For AMF two pools are uniform, so the common-mode scenario always spans
/// more than one region.
fn regional_versions(
    n_regions: usize,
    versions: &[usize],
    amf: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<(usize, usize)> {
    let risk = versions[rng.random_range(0..versions.len())];
    let others: Vec<usize> = versions.iter().copied().filter(|&v| v != risk).collect();
    let uniform = if amf { 2 } else { rng.random_range(1..=2) };
    let mut order: Vec<usize> = (0..n_regions).collect();
    order.shuffle(rng);
    let mut out = vec![(0, 0); n_regions];
    for (k, &r) in order.iter().enumerate() {
        let pair = if k < uniform {
            (risk, risk)
        } else if k == uniform {
            (risk, others[rng.random_range(0..others.len())])
        } else {
            let a = versions[rng.random_range(0..versions.len())];
            let b = if a == risk {
                others[rng.random_range(0..others.len())]
            } else {
                versions[rng.random_range(0..versions.len())]
            };
            (a, b)
        };
        out[r] = if rng.random_bool(0.5) {
            (pair.1, pair.0)
        } else {
            pair
        };
    }
    out
}

fn cell_spec(
    elem: usize,
    site_elem: usize,
    region: u8,
    subs: f32,
    rng: &mut ChaCha8Rng,
) -> CellSpec {
    CellSpec {
        elem,
        site_elem,
        region,
        subs,
        gb_per_sub: 2.5e-5 * rng.random_range(0.5f32..1.8),
        util_k: rng.random_range(0.7f32..3.0),
        tp_base: rng.random_range(25.0f32..90.0),
        lat_base: rng.random_range(14.0f32..38.0),
        att_fail: rng.random_range(0.002f32..0.008),
        cs_fail: rng.random_range(0.004f32..0.012),
        drop: rng.random_range(0.003f32..0.009),
        resid_att: rng.random_range(0.05f32..0.30),
        resid_cs: rng.random_range(0.03f32..0.25),
        resid_tp: rng.random_range(0.005f32..0.04),
        lat_mult: rng.random_range(2.5f32..6.0),
        drop_jump: rng.random_range(10.0f32..40.0),
    }
}
