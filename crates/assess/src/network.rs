//! The topology rearranged for the analyses: flat arrays indexed by element
//! and group, built once, so the hot loops never hash or allocate.

use dialtone_model::{ElementKind, Service, Topology};

/// Default mean time between failures and to repair, in hours, per kind.
/// Rough industry orders of magnitude: fibers and power feeds fail more often
/// than routers; a software version fails (a severe defect) about once a year
/// and is rolled back in hours; logical pools and regions barely fail alone.
pub fn default_rates(kind: ElementKind) -> (f64, f64) {
    match kind {
        ElementKind::Region => (1.0e7, 1.0),
        ElementKind::Cell => (50_000.0, 4.0),
        ElementKind::Site => (100_000.0, 6.0),
        ElementKind::Router => (150_000.0, 4.0),
        ElementKind::Link => (40_000.0, 8.0),
        ElementKind::CoreInstance => (50_000.0, 2.0),
        ElementKind::CorePool => (1.0e6, 1.0),
        ElementKind::Dns => (50_000.0, 1.0),
        ElementKind::PowerFeed => (20_000.0, 4.0),
        ElementKind::DataCenter => (200_000.0, 12.0),
        ElementKind::SoftwareVersion => (8_760.0, 4.0),
        ElementKind::ConfigSystem => (17_520.0, 2.0),
        ElementKind::Certificate => (43_800.0, 6.0),
        ElementKind::ExternalPeering => (8_760.0, 2.0),
        ElementKind::ConferenceBridge => (20_000.0, 2.0),
    }
}

/// A vendor-wide defect, as a basic event: once a decade, a day to work around.
pub const VENDOR_RATES: (f64, f64) = (87_600.0, 24.0);

/// Steady-state unavailability of a component with these rates.
pub fn unavailability((mtbf, mttr): (f64, f64)) -> f64 {
    mttr / (mtbf + mttr)
}

pub(crate) struct Network<'t> {
    pub topology: &'t Topology,
    /// Groups each element is a member of (once per membership), CSR.
    member_start: Vec<u32>,
    member_groups: Vec<u32>,
    /// Per group: the dependent, the services it carries, and how many
    /// members may be lost before the dependent loses them.
    pub group_dependent: Vec<u32>,
    pub group_services: Vec<u8>,
    pub group_tolerance: Vec<u32>,
    /// Endpoint number per element (`u32::MAX`: not an endpoint).
    pub endpoint_of: Vec<u32>,
    pub endpoints: Vec<u32>,
    /// Per endpoint: its region number and weight (subscribers).
    pub endpoint_region: Vec<u32>,
    pub regions: Vec<String>,
    pub unavailability: Vec<f64>,
}

impl<'t> Network<'t> {
    pub fn new(topology: &'t Topology) -> Network<'t> {
        let n = topology.len();
        let groups = topology.groups();
        let mut counts = vec![0u32; n + 1];
        for g in groups {
            for &m in &g.members {
                counts[m + 1] += 1;
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let member_start = counts.clone();
        let mut fill = counts;
        let mut member_groups = vec![0u32; member_start[n] as usize];
        for (gi, g) in groups.iter().enumerate() {
            for &m in &g.members {
                member_groups[fill[m] as usize] = gi as u32;
                fill[m] += 1;
            }
        }
        let group_dependent = groups.iter().map(|g| g.dependent as u32).collect();
        let group_services = groups.iter().map(|g| g.services).collect();
        let group_tolerance = groups
            .iter()
            .map(|g| (g.members.len().saturating_sub(g.required())) as u32)
            .collect();

        // Subscribers are served at cells; a topology without cells (a bare
        // edge list) serves them at the elements nothing depends on.
        let has_cells = topology
            .elements()
            .iter()
            .any(|e| e.kind == ElementKind::Cell);
        let mut endpoint_of = vec![u32::MAX; n];
        let mut endpoints = Vec::new();
        let mut endpoint_region = Vec::new();
        let mut regions: Vec<String> = Vec::new();
        let mut region_index = std::collections::HashMap::new();
        for (i, e) in topology.elements().iter().enumerate() {
            let is_endpoint = if has_cells {
                e.kind == ElementKind::Cell
            } else {
                topology.dependents(i).is_empty() && topology.groups_of(i).next().is_some()
            };
            if !is_endpoint {
                continue;
            }
            endpoint_of[i] = endpoints.len() as u32;
            endpoints.push(i as u32);
            let region = e.region.clone().unwrap_or_else(|| "(no region)".to_owned());
            let r = *region_index.entry(region.clone()).or_insert_with(|| {
                regions.push(region);
                regions.len() - 1
            });
            endpoint_region.push(r as u32);
        }
        let unavailability = topology
            .elements()
            .iter()
            .map(|e| {
                let (mtbf, mttr) = default_rates(e.kind);
                unavailability((e.mtbf_hours.unwrap_or(mtbf), e.mttr_hours.unwrap_or(mttr)))
            })
            .collect();
        Network {
            topology,
            member_start,
            member_groups,
            group_dependent,
            group_services,
            group_tolerance,
            endpoint_of,
            endpoints,
            endpoint_region,
            regions,
            unavailability,
        }
    }

    pub fn len(&self) -> usize {
        self.topology.len()
    }

    /// The groups element `e` is a member of.
    pub fn member_of(&self, e: usize) -> &[u32] {
        &self.member_groups[self.member_start[e] as usize..self.member_start[e + 1] as usize]
    }

    /// Whether the file gives subscriber counts at all. If it does, every
    /// figure weighs cells by subscribers, so a cell without any counts for
    /// nothing; if not (a bare edge list), every cell counts as one.
    pub fn counts_subscribers(&self) -> bool {
        (0..self.endpoints.len()).any(|k| self.weight(k) > 0)
    }

    pub fn weight(&self, endpoint: usize) -> u64 {
        u64::from(
            self.topology
                .element(self.endpoints[endpoint] as usize)
                .subscribers,
        )
    }
}

/// Service names in bit order, for reports.
pub fn service_names() -> [&'static str; 3] {
    Service::ALL.map(Service::as_str)
}
