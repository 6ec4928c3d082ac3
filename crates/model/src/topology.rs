//! The network as Dialtone sees it: elements and what each one needs to work.
//!
//! Shared hidden dependencies (a software version, a power feed) are elements
//! too, so a version that fails on every instance running it is just one more
//! element failing; redundancy lives in [`DependencyGroup`]s.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::kpi::{Service, ServiceMask};

/// The stable, human-readable id of an element, e.g. `amf-north-1`.
pub type ElementId = String;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    Region,
    Cell,
    Site,
    Router,
    Link,
    /// One instance of a core network function (an AMF, a UPF, ...).
    CoreInstance,
    /// A pool or redundant pair of core instances.
    CorePool,
    Dns,
    PowerFeed,
    DataCenter,
    SoftwareVersion,
    ConfigSystem,
    Certificate,
    ExternalPeering,
    ConferenceBridge,
}

impl ElementKind {
    pub const ALL: [ElementKind; 15] = [
        ElementKind::Region,
        ElementKind::Cell,
        ElementKind::Site,
        ElementKind::Router,
        ElementKind::Link,
        ElementKind::CoreInstance,
        ElementKind::CorePool,
        ElementKind::Dns,
        ElementKind::PowerFeed,
        ElementKind::DataCenter,
        ElementKind::SoftwareVersion,
        ElementKind::ConfigSystem,
        ElementKind::Certificate,
        ElementKind::ExternalPeering,
        ElementKind::ConferenceBridge,
    ];

    /// The kind named by [`ElementKind::as_str`].
    pub fn parse(name: &str) -> Option<ElementKind> {
        ElementKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ElementKind::Region => "region",
            ElementKind::Cell => "cell",
            ElementKind::Site => "site",
            ElementKind::Router => "router",
            ElementKind::Link => "link",
            ElementKind::CoreInstance => "core_instance",
            ElementKind::CorePool => "core_pool",
            ElementKind::Dns => "dns",
            ElementKind::PowerFeed => "power_feed",
            ElementKind::DataCenter => "data_center",
            ElementKind::SoftwareVersion => "software_version",
            ElementKind::ConfigSystem => "config_system",
            ElementKind::Certificate => "certificate",
            ElementKind::ExternalPeering => "external_peering",
            ElementKind::ConferenceBridge => "conference_bridge",
        }
    }
}

/// How the reliability assessment names a vendor shared by elements as a
/// cause (`vendor:Acme`): no element id may begin with it.
pub const VENDOR_CAUSE_PREFIX: &str = "vendor:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub id: ElementId,
    pub kind: ElementKind,
    /// Region id for elements that sit in one region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// For core elements: the function, e.g. `AMF`, `UPF`, `IMS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Subscribers served directly: a cell's; a conference bridge's
    /// participants; on another element, the fixed lines it serves (see
    /// [`Element::serves_fixed_lines`]).
    #[serde(default)]
    pub subscribers: u32,
    #[serde(default)]
    pub emergency_capable: bool,
    /// Mean time between failures in hours, when known; reliability tools
    /// fall back to a per-kind default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtbf_hours: Option<f64>,
    /// Mean time to repair in hours, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mttr_hours: Option<f64>,
}

impl Element {
    pub fn new(id: impl Into<ElementId>, kind: ElementKind) -> Element {
        Element {
            id: id.into(),
            kind,
            region: None,
            function: None,
            vendor: None,
            subscribers: 0,
            emergency_capable: false,
            mtbf_hours: None,
            mttr_hours: None,
        }
    }

    /// Whether this element serves subscribers without a cell or a
    /// conference bridge: fixed lines, such as a fixed-line gateway's.
    pub fn serves_fixed_lines(&self) -> bool {
        self.subscribers > 0
            && !matches!(self.kind, ElementKind::Cell | ElementKind::ConferenceBridge)
    }
}

/// How many members of a dependency group must be up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redundancy {
    /// Every member is needed.
    All,
    /// One member is enough (a pool).
    AnyOf,
    /// At least `k` members.
    KOfN(u32),
}

/// "Element `dependent` provides `services` only while `redundancy` of `members` are up."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DependencyGroup {
    pub dependent: usize,
    pub members: Vec<usize>,
    pub redundancy: Redundancy,
    pub services: ServiceMask,
}

impl DependencyGroup {
    /// How many members must be up for the group to hold.
    pub fn required(&self) -> usize {
        match self.redundancy {
            Redundancy::All => self.members.len(),
            Redundancy::AnyOf => 1,
            Redundancy::KOfN(k) => k as usize,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TopologyError {
    #[error("duplicate element id `{0}`: every element needs its own id")]
    DuplicateId(ElementId),
    #[error("unknown element `{0}` referenced by `{1}`: define it first or fix the reference")]
    UnknownReference(ElementId, ElementId),
    #[error("`{dependent}` needs {k} of {n} members: k must be between 1 and n")]
    ImpossibleKOfN {
        dependent: ElementId,
        k: u32,
        n: usize,
    },
    #[error("dependency cycle through `{0}`: an element cannot (indirectly) depend on itself")]
    Cycle(ElementId),
    #[error("`{0}` has a redundant group with no members: list at least one")]
    EmptyRedundantGroup(ElementId),
    #[error(
        "`{dependent}` lists `{member}` twice in one redundant group: a member counted twice is redundancy that is not there"
    )]
    RepeatedMember {
        dependent: ElementId,
        member: ElementId,
    },
}

/// A validated topology: elements, dependency groups, and an evaluation order.
#[derive(Debug, Clone)]
pub struct Topology {
    elements: Vec<Element>,
    index: HashMap<ElementId, usize>,
    groups: Vec<DependencyGroup>,
    /// Groups of each element, by element index.
    groups_of: Vec<Vec<usize>>,
    /// Elements with dependencies before their dependents.
    order: Vec<usize>,
    /// Dependents of each element (reverse edges), by element index.
    dependents: Vec<Vec<usize>>,
}

/// A dependency as written by a builder: ids, not indices.
#[derive(Debug, Clone)]
pub struct DependencySpec {
    pub dependent: ElementId,
    pub members: Vec<ElementId>,
    pub redundancy: Redundancy,
    pub services: ServiceMask,
}

impl DependencySpec {
    /// `dependent` needs `members` with `redundancy`, for `services`.
    pub fn new(
        dependent: &str,
        members: &[&str],
        redundancy: Redundancy,
        services: ServiceMask,
    ) -> DependencySpec {
        DependencySpec {
            dependent: dependent.into(),
            members: members.iter().map(|&m| m.into()).collect(),
            redundancy,
            services,
        }
    }
}

impl Topology {
    /// Validates and indexes a topology.
    pub fn new(
        elements: Vec<Element>,
        deps: Vec<DependencySpec>,
    ) -> Result<Topology, TopologyError> {
        let mut index = HashMap::with_capacity(elements.len());
        for (i, e) in elements.iter().enumerate() {
            if index.insert(e.id.clone(), i).is_some() {
                return Err(TopologyError::DuplicateId(e.id.clone()));
            }
        }
        let lookup = |id: &ElementId, by: &ElementId| {
            index
                .get(id)
                .copied()
                .ok_or_else(|| TopologyError::UnknownReference(id.clone(), by.clone()))
        };
        let mut groups = Vec::with_capacity(deps.len());
        for d in deps {
            let dependent = lookup(&d.dependent, &d.dependent)?;
            let members = d
                .members
                .iter()
                .map(|m| lookup(m, &d.dependent))
                .collect::<Result<Vec<_>, _>>()?;
            if d.redundancy != Redundancy::All {
                if members.is_empty() {
                    return Err(TopologyError::EmptyRedundantGroup(d.dependent));
                }
                let mut seen = HashSet::with_capacity(members.len());
                if let Some(&twice) = members.iter().find(|&&m| !seen.insert(m)) {
                    return Err(TopologyError::RepeatedMember {
                        dependent: d.dependent,
                        member: elements[twice].id.clone(),
                    });
                }
            }
            if let Redundancy::KOfN(k) = d.redundancy
                && (k == 0 || k as usize > members.len())
            {
                return Err(TopologyError::ImpossibleKOfN {
                    dependent: d.dependent,
                    k,
                    n: members.len(),
                });
            }
            groups.push(DependencyGroup {
                dependent,
                members,
                redundancy: d.redundancy,
                services: d.services,
            });
        }
        let n = elements.len();
        let mut groups_of = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for (gi, g) in groups.iter().enumerate() {
            groups_of[g.dependent].push(gi);
            for &m in &g.members {
                dependents[m].push(g.dependent);
            }
        }
        for d in &mut dependents {
            d.sort_unstable();
            d.dedup();
        }
        let order = evaluation_order(&elements, &groups, &groups_of, &dependents)?;
        Ok(Topology {
            elements,
            index,
            groups,
            groups_of,
            order,
            dependents,
        })
    }

    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The region ids its elements name, each once, in id order.
    pub fn regions(&self) -> Vec<&str> {
        let mut regions: Vec<&str> = (self.elements.iter())
            .filter_map(|e| e.region.as_deref())
            .collect();
        regions.sort_unstable();
        regions.dedup();
        regions
    }

    pub fn element(&self, i: usize) -> &Element {
        &self.elements[i]
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn groups(&self) -> &[DependencyGroup] {
        &self.groups
    }

    /// The dependency groups of element `i`.
    pub fn groups_of(&self, i: usize) -> impl Iterator<Item = &DependencyGroup> {
        self.groups_of[i].iter().map(|&g| &self.groups[g])
    }

    /// Elements that directly depend on element `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// Every element, each after all the elements it depends on.
    pub fn evaluation_order(&self) -> &[usize] {
        &self.order
    }

    pub fn len(&self) -> usize {
        self.elements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Which services each element loses when the elements in `failed` fail
    /// completely, honouring redundancy. Returns one mask per element.
    pub fn propagate(&self, failed: &[usize]) -> Vec<ServiceMask> {
        let mut lost = vec![0 as ServiceMask; self.elements.len()];
        for &f in failed {
            lost[f] = crate::kpi::ALL_SERVICES;
        }
        self.propagate_into(&mut lost);
        lost
    }

    /// Like [`Topology::propagate`], starting from per-element losses already
    /// in `lost` (a partial loss, such as one service of one element).
    pub fn propagate_into(&self, lost: &mut [ServiceMask]) {
        for &e in &self.order {
            for &gi in &self.groups_of[e] {
                let g = &self.groups[gi];
                for s in Service::ALL {
                    let bit = s.bit();
                    if g.services & bit == 0 || lost[e] & bit != 0 {
                        continue;
                    }
                    let up = g.members.iter().filter(|&&m| lost[m] & bit == 0).count();
                    if up < g.required() {
                        lost[e] |= bit;
                    }
                }
            }
        }
    }
}

/// Kahn's algorithm over "member before dependent".
fn evaluation_order(
    elements: &[Element],
    groups: &[DependencyGroup],
    groups_of: &[Vec<usize>],
    dependents: &[Vec<usize>],
) -> Result<Vec<usize>, TopologyError> {
    let n = elements.len();
    let mut pending = vec![0usize; n];
    for (e, gs) in groups_of.iter().enumerate() {
        let mut members: Vec<usize> = gs
            .iter()
            .flat_map(|&g| groups[g].members.iter().copied())
            .collect();
        members.sort_unstable();
        members.dedup();
        pending[e] = members.len();
    }
    let mut ready: Vec<usize> = (0..n).filter(|&e| pending[e] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(e) = ready.pop() {
        order.push(e);
        for &d in &dependents[e] {
            pending[d] -= 1;
            if pending[d] == 0 {
                ready.push(d);
            }
        }
    }
    if order.len() < n {
        let stuck = (0..n).find(|&e| pending[e] > 0).unwrap_or(0);
        return Err(TopologyError::Cycle(elements[stuck].id.clone()));
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::ALL_SERVICES;

    fn dep(d: &str, m: &[&str], r: Redundancy) -> DependencySpec {
        DependencySpec::new(d, m, r, ALL_SERVICES)
    }

    fn pool_topology() -> Topology {
        let els = ["v1", "v2", "a", "b", "pool", "cell"]
            .iter()
            .map(|id| Element::new(*id, ElementKind::CoreInstance))
            .collect();
        Topology::new(
            els,
            vec![
                dep("a", &["v1"], Redundancy::All),
                dep("b", &["v2"], Redundancy::All),
                dep("pool", &["a", "b"], Redundancy::AnyOf),
                dep("cell", &["pool"], Redundancy::All),
            ],
        )
        .unwrap()
    }

    #[test]
    fn one_pool_member_lost_degrades_nothing_downstream() {
        let t = pool_topology();
        let lost = t.propagate(&[t.index_of("a").unwrap()]);
        assert_eq!(lost[t.index_of("cell").unwrap()], 0);
        assert_eq!(lost[t.index_of("a").unwrap()], ALL_SERVICES);
    }

    #[test]
    fn both_versions_lost_takes_the_cell_down() {
        let t = pool_topology();
        let lost = t.propagate(&[t.index_of("v1").unwrap(), t.index_of("v2").unwrap()]);
        assert_eq!(lost[t.index_of("cell").unwrap()], ALL_SERVICES);
    }

    #[test]
    fn cycles_unknown_ids_and_bad_k_are_refused() {
        let els = vec![
            Element::new("x", ElementKind::Router),
            Element::new("y", ElementKind::Router),
        ];
        let cyc = Topology::new(
            els.clone(),
            vec![
                dep("x", &["y"], Redundancy::All),
                dep("y", &["x"], Redundancy::All),
            ],
        );
        assert!(matches!(cyc, Err(TopologyError::Cycle(_))));
        let unknown = Topology::new(els.clone(), vec![dep("x", &["z"], Redundancy::All)]);
        assert_eq!(
            unknown.unwrap_err(),
            TopologyError::UnknownReference("z".into(), "x".into())
        );
        let k = Topology::new(els.clone(), vec![dep("x", &["y"], Redundancy::KOfN(2))]);
        assert!(matches!(k, Err(TopologyError::ImpossibleKOfN { .. })));
        let empty = Topology::new(els.clone(), vec![dep("x", &[], Redundancy::AnyOf)]);
        assert_eq!(
            empty.unwrap_err(),
            TopologyError::EmptyRedundantGroup("x".into())
        );
        let twice = Topology::new(els, vec![dep("x", &["y", "y"], Redundancy::KOfN(2))]);
        assert_eq!(
            twice.unwrap_err(),
            TopologyError::RepeatedMember {
                dependent: "x".into(),
                member: "y".into()
            }
        );
    }
}
