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
/// A national network's worth, and then some: beyond it a twin would only
/// exhaust memory (ten billion cells asked for 7 TB).
pub(crate) const MAX_CELLS: usize = 1_000_000;

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
/// Index of IMS in [`FUNCTIONS`]: its signalling rides the leased fiber.
pub(crate) const IMS: usize = 3;
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

/// What an extra element serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtraKind {
    /// A fixed broadband gateway: sessions of one region's fixed lines.
    Bng,
    /// The conference bridge: call joins.
    Bridge,
}

/// An element outside the cell and core-pool structure whose two
/// [`Kpi::CORE`] series read as its procedure success and rate.
#[derive(Debug, Clone)]
pub(crate) struct ExtraSpec {
    pub elem: usize,
    pub kind: ExtraKind,
    /// Procedures per second at full load.
    pub rate: f32,
    pub fail: f32,
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
    /// The routing policy every core router runs (the Rogers 2022 filter).
    pub route_policy: usize,
    /// The upstream peering every provider-edge router learns routes from.
    pub peering: usize,
    /// The configuration added with the mobility-core expansion, which every
    /// AMF instance loads (AT&T 2024).
    pub amf_expansion: usize,
    /// Transport management channel segments; region `r` rides segment `r % 2`.
    pub dcn: Vec<usize>,
    /// The leased fiber IMS signalling is routed over (T-Mobile 2020) and
    /// the region at its far end.
    pub fiber: usize,
    pub fiber_region: u8,
    /// Elements with KPIs beside cells and core instances: fixed broadband
    /// gateways and the conference bridge.
    pub extras: Vec<ExtraSpec>,
    /// Index into `extras` of the conference bridge.
    pub bridge: usize,
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

    /// First series id of extra element `i`.
    pub fn extra_series(&self, i: usize) -> u32 {
        self.core_series(self.cores.len() + i)
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
    if cells > MAX_CELLS {
        return Err(SimError::TooManyCells(cells));
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

    // The shared layers the real outages went through. None draws from the
    // RNG, so adding them left every seed's network as it was.
    let route_policy = b.add(
        "config-core-route-policy".into(),
        ElementKind::ConfigSystem,
        None,
    );
    let peering = b.add(
        "peering-ix-upstream".into(),
        ElementKind::ExternalPeering,
        None,
    );
    let amf_expansion = b.add(
        "config-amf-expansion".into(),
        ElementKind::ConfigSystem,
        None,
    );
    b.elements[amf_expansion].function = Some("AMF".into());
    let dcn: Vec<usize> = (1..=2)
        .map(|k| b.add(format!("dcn-transport-mgmt-{k}"), ElementKind::Link, None))
        .collect();

    // Two data centers per region, each with its own power feed, core router
    // and provider-edge router.
    let mut dcs = Vec::new(); // [region][a/b] -> (dc, power)
    let mut core_routers = Vec::new();
    let mut edge_routers = Vec::new();
    for r in &regions {
        let mut pair = Vec::new();
        let mut routers = Vec::new();
        let mut edges = Vec::new();
        for side in ["a", "b"] {
            let power = b.add(
                format!("power-dc-{r}-{side}"),
                ElementKind::PowerFeed,
                Some(r),
            );
            let dc = b.add(format!("dc-{r}-{side}"), ElementKind::DataCenter, Some(r));
            let cr = b.add(format!("cr-{r}-{side}"), ElementKind::Router, Some(r));
            b.dep(
                cr,
                &[dc, power, route_policy],
                Redundancy::All,
                ALL_SERVICES,
            );
            // The edge carries RAN and fixed traffic into the core and learns
            // internet routes from the peer: a route flood shuts it down.
            let pe = b.add(format!("pe-{r}-{side}"), ElementKind::Router, Some(r));
            b.dep(pe, &[cr, peering], Redundancy::All, ALL_SERVICES);
            pair.push((dc, power));
            routers.push(cr);
            edges.push(pe);
        }
        dcs.push(pair);
        core_routers.push(routers);
        edge_routers.push(edges);
    }
    // IMS signalling between regions rides one leased fiber to the biggest
    // region: the link weights leave no other path, a single point of failure
    // for voice everywhere.
    let fiber_region = (0..n_regions)
        .max_by_key(|&r| (sites_per_region[r], std::cmp::Reverse(r)))
        .expect("at least four regions");
    let fiber = b.add(
        format!("fiber-leased-{}", regions[fiber_region]),
        ElementKind::Link,
        Some(regions[fiber_region]),
    );

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
                let mut needs = vec![version, power, dc, core_routers[r][side]];
                if fi == DNS {
                    needs.push(dns_config);
                }
                if fi == AMF {
                    needs.push(amf_expansion);
                }
                b.dep(inst, &needs, Redundancy::All, ALL_SERVICES);
                if fi == IMS {
                    b.dep(inst, &[fiber], Redundancy::All, VOICE);
                }
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
    let mut extras = Vec::new();
    for (r, &region) in regions.iter().enumerate() {
        let n = sites_per_region[r];
        // The region's optical transport, managed over one channel segment:
        // a storm on that channel takes the transport down (CenturyLink 2018).
        let otn = b.add(format!("otn-{region}"), ElementKind::Link, Some(region));
        b.dep(otn, &[dcn[r % dcn.len()]], Redundancy::All, ALL_SERVICES);
        let n_agg = n.div_ceil(SITES_PER_AGG);
        let aggs: Vec<usize> = (1..=n_agg)
            .map(|k| {
                let agg = b.add(
                    format!("agg-{region}-{k}"),
                    ElementKind::Router,
                    Some(region),
                );
                b.dep(agg, &core_routers[r], Redundancy::AnyOf, ALL_SERVICES);
                b.dep(agg, &[otn], Redundancy::All, ALL_SERVICES);
                agg
            })
            .collect();
        let bng = b.add(format!("bng-{region}"), ElementKind::Router, Some(region));
        b.dep(bng, &edge_routers[r], Redundancy::AnyOf, ALL_SERVICES);
        extras.push(ExtraSpec {
            elem: bng,
            kind: ExtraKind::Bng,
            rate: 4.0 * n as f32,
            fail: 0.001,
            resid: 4.0,
        });
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
                // The RAN reaches the core through either edge router.
                b.dep(cell, &edge_routers[r], Redundancy::AnyOf, ALL_SERVICES);
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
        // Fixed lines behind the gateway, for the blast radius.
        b.elements[bng].subscribers = (n * 1500) as u32;
    }

    // The conference bridge, hosted in the first region's data center a.
    let bridge_elem = b.add(
        "bridge-conference-1".into(),
        ElementKind::ConferenceBridge,
        Some(regions[0]),
    );
    let (dc, power) = dcs[0][0];
    b.dep(
        bridge_elem,
        &[dc, power, core_routers[0][0]],
        Redundancy::All,
        ALL_SERVICES,
    );
    // Participants it can host.
    b.elements[bridge_elem].subscribers = 500;
    let bridge = extras.len();
    extras.push(ExtraSpec {
        elem: bridge_elem,
        kind: ExtraKind::Bridge,
        rate: 0.5,
        fail: 0.002,
        resid: 35.0,
    });

    let series = cell_specs
        .iter()
        .flat_map(|c| Kpi::CELL.map(|kpi| (c.elem, kpi)))
        .chain(
            cores
                .iter()
                .map(|c| c.elem)
                .chain(extras.iter().map(|x| x.elem))
                .flat_map(|e| Kpi::CORE.map(|kpi| (e, kpi))),
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
        route_policy,
        peering,
        amf_expansion,
        dcn,
        fiber,
        fiber_region: fiber_region as u8,
        extras,
        bridge,
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
