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
//! Telemetry that stops is a symptom too, but an ambiguous one: a collector
//! restart looks the same. Units that went silent are therefore neither
//! contradictions nor unexplained; a candidate that predicts them down earns
//! half a unit of agreement each, so the cause of a failure that also blinded
//! the operator (CenturyLink 2018) outranks one that explains only what still
//! reports. Silence alone never makes a candidate.
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
    /// Services whose KPIs usually report but stopped: not in `observable`.
    pub silent: HashMap<usize, ServiceMask>,
}

impl Observations {
    pub fn new(observable: Vec<ServiceMask>) -> Observations {
        Observations {
            observable,
            broken: HashMap::new(),
            silent: HashMap::new(),
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
        let mut scored: Vec<(Candidate, usize, u32)> = self
            .ancestors(obs.broken.keys().copied())
            .into_iter()
            .filter_map(|c| {
                let (cand, dark) = self.score(c, obs, broken_total)?;
                Some((cand, c, dark))
            })
            .collect();
        scored.sort_by(|(a, ai, a_dark), (b, bi, b_dark)| {
            b.score
                .total_cmp(&a.score)
                .then(b.explained.cmp(&a.explained))
                // Of two that fit what reports equally, the one that also
                // predicts what went dark.
                .then(b_dark.cmp(a_dark))
                .then(
                    kind_preference(self.topology.element(*bi).kind)
                        .cmp(&kind_preference(self.topology.element(*ai).kind)),
                )
                .then(ai.cmp(bi))
        });
        scored.truncate(top);
        scored
            .into_iter()
            .map(|(mut c, i, _)| {
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

    /// The candidate `c` with its score, and the silent units it predicts.
    fn score(&self, c: usize, obs: &Observations, broken_total: u32) -> Option<(Candidate, u32)> {
        let impact = self.impact(c);
        let (mut explained, mut contradicted, mut dark) = (0u32, 0u32, 0u32);
        for &(e, lost) in impact.iter() {
            let seen = lost & obs.observable[e as usize];
            let broken = obs.broken.get(&(e as usize)).copied().unwrap_or(0);
            explained += (seen & broken).count_ones();
            contradicted += (seen & !broken).count_ones();
            if !obs.silent.is_empty() {
                dark += (lost & obs.silent.get(&(e as usize)).copied().unwrap_or(0)).count_ones();
            }
        }
        if explained == 0 {
            return None;
        }
        let unexplained = broken_total - explained;
        let agree = f64::from(explained) + SILENT_WEIGHT * f64::from(dark);
        let score = agree / (agree + f64::from(contradicted + unexplained));
        let el = self.topology.element(c);
        let cand = Candidate {
            element: el.id.clone(),
            kind: el.kind.as_str().to_string(),
            score,
            explained,
            contradicted,
            unexplained,
            evidence: Vec::new(),
        };
        Some((cand, dark))
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
        let dark: u32 = impact
            .iter()
            .map(|&(e, lost)| {
                (lost & obs.silent.get(&(e as usize)).copied().unwrap_or(0)).count_ones()
            })
            .sum();
        if dark > 0 {
            lines.push(format!(
                "{dark} observations it predicts broken stopped reporting"
            ));
        }
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

/// Agreement earned by a predicted-down unit that stopped reporting, relative
/// to one that reports broken.
const SILENT_WEIGHT: f64 = 0.5;

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

#[cfg(test)]
mod tests {
    use dialtone_model::{ALL_SERVICES, DependencySpec, Element, Redundancy};

    use super::*;

    /// A power feed under cell `a` only, a transport segment under `a` and `b`.
    fn explainer() -> Explainer {
        let mut els = vec![
            Element::new("grid", ElementKind::PowerFeed),
            Element::new("segment", ElementKind::Link),
        ];
        els.extend(["a", "b"].map(|id| Element::new(id, ElementKind::Cell)));
        let dep = |d: &str, m: &[&str]| DependencySpec {
            dependent: d.into(),
            members: m.iter().map(|s| s.to_string()).collect(),
            redundancy: Redundancy::All,
            services: ALL_SERVICES,
        };
        let deps = vec![dep("a", &["grid", "segment"]), dep("b", &["segment"])];
        Explainer::new(Arc::new(Topology::new(els, deps).unwrap()))
    }

    #[test]
    fn what_went_dark_points_at_the_cause_that_predicts_it() {
        let x = explainer();
        let t = x.topology();
        let (a, b) = (t.index_of("a").unwrap(), t.index_of("b").unwrap());
        let mut observable = vec![0; t.len()];
        observable[a] = ALL_SERVICES;
        let mut obs = Observations::new(observable.clone());
        obs.broken.insert(a, ALL_SERVICES);
        // With `b` merely unobserved the power feed is the better-named cause.
        assert_eq!(x.rank(&obs, 3)[0].element, "grid");
        obs.silent.insert(b, ALL_SERVICES);
        let ranked = x.rank(&obs, 3);
        assert_eq!(ranked[0].element, "segment");
        assert!(
            ranked[0]
                .evidence
                .iter()
                .any(|l| l.contains("stopped reporting"))
        );
        // Silence alone makes no candidate: a collector gap is not an outage.
        let mut gap = Observations::new(observable);
        gap.silent.insert(b, ALL_SERVICES);
        assert!(x.rank(&gap, 3).is_empty());
    }
}
