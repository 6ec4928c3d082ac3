//! Root cause: rank the elements whose failure best explains what is observed broken.
//!
//! An observation unit is one service of one element that has KPIs (a cell's
//! calls, a core instance's procedures). For a candidate element we ask the
//! topology what would break if it failed ([`Topology`] honours pools and
//! k-of-n), then compare that prediction with the observations:
//! explained = predicted and broken, contradicted = predicted but healthy,
//! unexplained = broken but not predicted. The score is their Jaccard index,
//! so a pool member lost behind healthy peers (predicts nothing) never
//! outranks the shared software version that predicts every failing instance
//! and every dark cell.
//!
//! Pure: no I/O, no clock. Impact sets are computed lazily, only for ancestors
//! of what is broken, and cached: a topology is fixed for an explainer's life.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dialtone_model::{Candidate, ElementKind, ServiceMask, Topology};

/// What is observed, per element: the services that have KPIs and those that look broken.
#[derive(Debug, Clone)]
pub struct Observations {
    /// Services each element has KPIs for (0 = unobserved).
    pub observable: Vec<ServiceMask>,
    /// Services each element's KPIs currently show broken.
    pub broken: HashMap<usize, ServiceMask>,
}

impl Observations {
    pub fn new(observable: Vec<ServiceMask>) -> Observations {
        Observations {
            observable,
            broken: HashMap::new(),
        }
    }

    /// Number of broken observation units.
    pub fn broken_units(&self) -> u32 {
        self.broken.values().map(|m| m.count_ones()).sum()
    }
}

/// The sparse predicted impact of one element failing: (element, services lost).
pub type ImpactSet = Arc<Vec<(u32, ServiceMask)>>;

/// Ranks root-cause candidates over one topology.
#[derive(Debug)]
pub struct Explainer {
    topology: Arc<Topology>,
    cache: Mutex<HashMap<usize, ImpactSet>>,
}

impl Explainer {
    pub fn new(topology: Arc<Topology>) -> Explainer {
        Explainer {
            topology,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// What breaks if element `e` fails completely, restricted to elements whose loss is
    /// non-empty. Walks only `e`'s dependents, in the topology's evaluation order.
    pub fn impact(&self, e: usize) -> ImpactSet {
        if let Some(hit) = self.cache.lock().expect("impact cache poisoned").get(&e) {
            return hit.clone();
        }
        let computed = Arc::new(sparse_propagate(&self.topology, e));
        self.cache
            .lock()
            .expect("impact cache poisoned")
            .insert(e, computed.clone());
        computed
    }

    /// The best `top` candidates for `obs`, best first. Candidates are the broken
    /// elements and everything they depend on, directly or not.
    pub fn rank(&self, obs: &Observations, top: usize) -> Vec<Candidate> {
        let broken_total = obs.broken_units();
        if broken_total == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(Candidate, usize)> = self
            .ancestors(obs.broken.keys().copied())
            .into_iter()
            .filter_map(|c| {
                let cand = self.score(c, obs, broken_total)?;
                Some((cand, c))
            })
            .collect();
        scored.sort_by(|(a, ai), (b, bi)| {
            b.score
                .total_cmp(&a.score)
                .then(b.explained.cmp(&a.explained))
                .then(
                    kind_preference(self.topology.element(*bi).kind)
                        .cmp(&kind_preference(self.topology.element(*ai).kind)),
                )
                .then(ai.cmp(bi))
        });
        scored.truncate(top);
        scored
            .into_iter()
            .map(|(mut c, i)| {
                c.evidence = self.evidence(i, &c, obs);
                c
            })
            .collect()
    }

    fn ancestors(&self, from: impl Iterator<Item = usize>) -> Vec<usize> {
        let t = &self.topology;
        let mut seen = vec![false; t.len()];
        let mut stack: Vec<usize> = from.collect();
        let mut out = Vec::new();
        while let Some(e) = stack.pop() {
            if std::mem::replace(&mut seen[e], true) {
                continue;
            }
            out.push(e);
            for g in t.groups_of(e) {
                stack.extend(g.members.iter().copied().filter(|&m| !seen[m]));
            }
        }
        out.sort_unstable();
        out
    }

    fn score(&self, c: usize, obs: &Observations, broken_total: u32) -> Option<Candidate> {
        let impact = self.impact(c);
        let (mut explained, mut contradicted) = (0u32, 0u32);
        for &(e, lost) in impact.iter() {
            let seen = lost & obs.observable[e as usize];
            let broken = obs.broken.get(&(e as usize)).copied().unwrap_or(0);
            explained += (seen & broken).count_ones();
            contradicted += (seen & !broken).count_ones();
        }
        if explained == 0 {
            return None;
        }
        let unexplained = broken_total - explained;
        let score = f64::from(explained) / f64::from(explained + contradicted + unexplained);
        let el = self.topology.element(c);
        Some(Candidate {
            element: el.id.clone(),
            kind: el.kind.as_str().to_string(),
            score,
            explained,
            contradicted,
            unexplained,
            evidence: Vec::new(),
        })
    }

    fn evidence(&self, c: usize, cand: &Candidate, obs: &Observations) -> Vec<String> {
        let t = &self.topology;
        let impact = self.impact(c);
        let mut lines = vec![format!(
            "its failure explains {} of {} broken observations; {} it predicts broken look healthy",
            cand.explained,
            cand.explained + cand.unexplained,
            cand.contradicted
        )];
        let dependents: Vec<usize> = t.dependents(c).to_vec();
        let failing = dependents
            .iter()
            .filter(|&&d| obs.broken.contains_key(&d))
            .count();
        if !dependents.is_empty() && t.element(c).kind != ElementKind::Cell {
            lines.push(format!(
                "{failing} of its {} direct dependents are failing",
                dependents.len()
            ));
        }
        let mut regions: Vec<&str> = impact
            .iter()
            .filter(|(e, _)| obs.broken.contains_key(&(*e as usize)))
            .filter_map(|(e, _)| t.element(*e as usize).region.as_deref())
            .collect();
        regions.sort_unstable();
        regions.dedup();
        if !regions.is_empty() {
            lines.push(format!(
                "broken elements it explains sit in: {}",
                regions.join(", ")
            ));
        }
        lines
    }
}

/// When two candidates explain the same observations equally well, prefer the
/// shared hidden dependency: it names the common cause and the fix.
fn kind_preference(kind: ElementKind) -> u8 {
    match kind {
        ElementKind::SoftwareVersion
        | ElementKind::ConfigSystem
        | ElementKind::Certificate
        | ElementKind::PowerFeed => 3,
        ElementKind::CorePool | ElementKind::Dns | ElementKind::ExternalPeering => 2,
        ElementKind::Cell => 0,
        _ => 1,
    }
}

/// Propagates the failure of `root` through its dependents only.
fn sparse_propagate(t: &Topology, root: usize) -> Vec<(u32, ServiceMask)> {
    let mut lost: HashMap<usize, ServiceMask> = HashMap::new();
    lost.insert(root, dialtone_model::ALL_SERVICES);
    // Breadth-first over dependents, re-evaluating an element's groups whenever a
    // member's loss grows; masks only grow, so this reaches a fixed point.
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(e) = queue.pop_front() {
        for &d in t.dependents(e) {
            let before = lost.get(&d).copied().unwrap_or(0);
            let mut now = before;
            for g in t.groups_of(d) {
                for s in dialtone_model::Service::ALL {
                    let bit = s.bit();
                    if g.services & bit == 0 || now & bit != 0 {
                        continue;
                    }
                    let up = g
                        .members
                        .iter()
                        .filter(|m| lost.get(m).copied().unwrap_or(0) & bit == 0)
                        .count();
                    if up < g.required() {
                        now |= bit;
                    }
                }
            }
            if now != before {
                lost.insert(d, now);
                queue.push_back(d);
            }
        }
    }
    let mut out: Vec<(u32, ServiceMask)> = lost.into_iter().map(|(e, m)| (e as u32, m)).collect();
    out.sort_unstable();
    out
}
