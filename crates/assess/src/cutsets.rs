//! Common-mode groups and minimal cut sets of order 2 and 3 per redundant
//! set, with shared attributes (a vendor) as basic events beside elements,
//! in the spirit of INDaaS's structural-independence audit.
//!
//! For a redundant set (a pool or k-of-n group) a basic event "covers" the
//! members whose failure it causes alone, per service: a resolver one member
//! needs for data alone takes it down for data, not for calls. A cut set is
//! a set of events whose covers together, for one service, exceed what the
//! set's groups carrying that service tolerate; it is minimal when no part
//! of it is a cut set. Events with the same cover are interchangeable, so
//! the search runs over cover classes and counts by multiplication.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde::Serialize;

use dialtone_model::{Service, ServiceMask, VENDOR_CAUSE_PREFIX};

use crate::impact::{Loss, Propagator};
use crate::network::{Network, VENDOR_RATES, unavailability};

/// Redundant sets analysed, most consequential first; beyond this the
/// single-failure pass still finds every common cause, without cut sets.
const MAX_SETS: usize = 2_000;
/// An ancestry bigger than this is not expanded into single-failure causes.
const MAX_CONE: usize = 5_000;
/// Order-3 search only over this many cover classes.
const MAX_CLASSES_FOR_TRIPLES: usize = 60;
const EXAMPLES: usize = 4;
/// Partial failure states (sets of members down) tracked when combining
/// independent failures; beyond this the cut sets' probabilities are summed.
const MAX_COMBINATION_STATES: usize = 4_096;
/// Probability below which a partial state of [`combined`] is dropped once
/// there are too many: about 30 nanoseconds a year each, far below anything
/// a risk ranking in subscriber-hours can show.
const NEGLIGIBLE_STATE: f64 = 1e-15;

/// Members taken down, as a bit mask per service in [`Service::ALL`] order.
type Cover = [u64; Service::ALL.len()];

/// `a` and `b` down together.
fn union(a: Cover, b: Cover) -> Cover {
    std::array::from_fn(|k| a[k] | b[k])
}

/// Whether `cover` takes the set down: for some service, more members than
/// the set tolerates for it (`needed[k]` down; `u32::MAX` for a service the
/// set does not carry).
fn downs(cover: &Cover, needed: &[u32; Service::ALL.len()]) -> bool {
    downed(cover, needed) != 0
}

/// The members down, for the services `cover` takes the set down for (see
/// [`downs`]); none if it takes it down for none. (`needed` is at least 1,
/// so a service taken down has a member down.)
fn downed(cover: &Cover, needed: &[u32; Service::ALL.len()]) -> u64 {
    (cover.iter().zip(needed))
        .filter(|&(mask, &n)| mask.count_ones() >= n)
        .fold(0, |all, (mask, _)| all | mask)
}

#[derive(Debug, Clone, Serialize)]
pub struct CutSet {
    pub events: Vec<String>,
    /// Steady-state probability that all its events are down at once.
    pub probability: f64,
}

/// The [`EXAMPLES`] likeliest cut sets offered (likeliest first, ties by
/// their events), and the sum of every one's probability.
#[derive(Default)]
struct Likeliest {
    kept: Vec<CutSet>,
    sum: f64,
}

impl Likeliest {
    /// Counts a cut set of `probability`; names its `events` only if kept.
    fn offer(&mut self, probability: f64, events: impl FnOnce() -> Vec<String>) {
        self.sum += probability;
        let least = self
            .kept
            .last()
            .map_or(f64::NEG_INFINITY, |c| c.probability);
        if self.kept.len() == EXAMPLES && probability < least {
            return;
        }
        self.kept.push(CutSet {
            events: events(),
            probability,
        });
        self.kept.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then_with(|| a.events.cmp(&b.events))
        });
        self.kept.truncate(EXAMPLES);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SharedCause {
    /// An element id, or `vendor:NAME`.
    pub event: String,
    /// What is shared: `software version`, `power feed`, `vendor`, ...
    pub shared: String,
    pub probability: f64,
    /// The members it takes down: all of them, or at least more than the
    /// set tolerates (two of a 2-of-3 pool's three on one release).
    pub members: Vec<String>,
    /// What the members need that the cause takes down, when it does not
    /// reach them directly (a feed powering the routers the members hang
    /// off); empty when the members depend on it themselves.
    pub via: Vec<String>,
}

impl SharedCause {
    /// An upstream element (a router, link, site) that takes the set down
    /// is a single point of failure for everything behind it: adding a
    /// partner to it is the fix, not diversifying the set's members.
    pub(crate) fn is_single_point(&self) -> bool {
        self.shared == UPSTREAM
    }
}

const UPSTREAM: &str = "upstream element";

#[derive(Debug, Clone, Serialize)]
pub struct RedundantSet {
    /// Elements relying on this set (first few) and how many there are.
    pub dependents: Vec<String>,
    pub dependent_count: usize,
    pub members: Vec<String>,
    /// Members that may fail with the dependents still served.
    pub tolerance: u32,
    /// Order-1 cut sets that are not members: the common modes.
    pub shared_causes: Vec<SharedCause>,
    pub order_2: u64,
    /// `None` when there were too many distinct events to search.
    pub order_3: Option<u64>,
    /// The most probable order-2 and order-3 cut sets.
    pub examples: Vec<CutSet>,
    /// Probability that independent failures combine to take the set down
    /// while none of its shared causes is in effect: all its minimal cut
    /// sets of order 2 and more together, disjoint from the shared causes so
    /// that the two are never counted twice.
    pub combination_probability: f64,
    /// What the endpoints lose when the set fails: every member down, for
    /// everything that needs them (its groups' dependents for the services
    /// those groups carry, and whatever else needs a member). A shared
    /// cause that is no element of the topology (a vendor's defect) is
    /// charged with it, even one taking only some of the members: an upper
    /// bound for that case.
    pub loss: Loss,
    /// [`RedundantSet::loss`] less what any one member takes down alone:
    /// what independent failures of members combining add, as a minimal
    /// cut set does. The rest is ranked as that member's single point of
    /// failure, and would otherwise be counted twice.
    pub combination_loss: Loss,
}

pub(crate) fn shared_label(kind: dialtone_model::ElementKind) -> &'static str {
    use dialtone_model::ElementKind as K;
    match kind {
        K::SoftwareVersion => "software version",
        K::PowerFeed => "power feed",
        K::Dns => "DNS",
        K::ConfigSystem => "configuration push",
        K::Certificate => "certificate",
        K::DataCenter => "data center",
        _ => UPSTREAM,
    }
}

/// Single-failure causes of each element, memoised.
struct Causes<'a, 't> {
    net: &'a Network<'t>,
    position: Vec<u32>,
    memo: HashMap<usize, Option<Rc<Vec<u32>>>>,
}

impl Causes<'_, '_> {
    /// Elements whose failure alone takes `e` down (with `e` itself), sorted;
    /// `None` if the ancestry is too large to expand.
    fn of(&mut self, e: usize) -> Option<Rc<Vec<u32>>> {
        if let Some(c) = self.memo.get(&e) {
            return c.clone();
        }
        let t = self.net.topology;
        let mut cone = vec![e];
        let mut seen = std::collections::HashSet::from([e]);
        let mut i = 0;
        while i < cone.len() {
            for g in t.groups_of(cone[i]) {
                for &m in &g.members {
                    if !self.memo.contains_key(&m) && seen.insert(m) {
                        cone.push(m);
                    }
                }
            }
            i += 1;
            if cone.len() > MAX_CONE {
                self.memo.insert(e, None);
                return None;
            }
        }
        cone.sort_unstable_by_key(|&x| self.position[x]);
        for x in cone {
            let mut set = vec![x as u32];
            let mut ok = true;
            for g in t.groups_of(x) {
                let tolerance = g.members.len() - g.required().min(g.members.len());
                let mut counts: HashMap<u32, usize> = HashMap::new();
                for &m in &g.members {
                    match self.memo.get(&m).cloned().flatten() {
                        Some(s) => {
                            for &c in s.iter() {
                                *counts.entry(c).or_default() += 1;
                            }
                        }
                        None => ok = false,
                    }
                }
                set.extend(
                    counts
                        .into_iter()
                        .filter(|&(_, n)| n > tolerance)
                        .map(|(c, _)| c),
                );
            }
            set.sort_unstable();
            set.dedup();
            self.memo.insert(x, ok.then(|| Rc::new(set)));
        }
        self.memo.get(&e).cloned().flatten()
    }
}

/// A redundant set: the distinct members of groups that tolerate a loss, at
/// the tolerance of its least tolerant group (one needing 2 of 3 falls where
/// one needing any of the same 3 stands, whichever the file lists first),
/// and per service the members down that take down the least tolerant group
/// carrying it (`u32::MAX` for a service no group carries); with the
/// groups' dependents, and what the endpoints lose when every member fails
/// (see [`RedundantSet::loss`] and [`RedundantSet::combination_loss`]).
struct SetToAssess {
    members: Vec<usize>,
    tolerance: u32,
    needed: [u32; Service::ALL.len()],
    deps: Vec<usize>,
    loss: Loss,
    combination_loss: Loss,
}

pub(crate) fn analyse(net: &Network<'_>) -> Vec<RedundantSet> {
    let t = net.topology;
    let mut propagator = Propagator::new(net);
    let mut sets: HashMap<Vec<usize>, SetToAssess> = HashMap::new();
    for (gi, g) in t.groups().iter().enumerate() {
        let tolerance = net.group_tolerance[gi];
        if tolerance == 0 || g.members.len() > 64 {
            continue;
        }
        let mut key = g.members.clone();
        key.sort_unstable();
        let set = sets.entry(key.clone()).or_insert_with(|| SetToAssess {
            members: key,
            tolerance,
            needed: [u32::MAX; Service::ALL.len()],
            deps: Vec::new(),
            loss: Loss::default(),
            combination_loss: Loss::default(),
        });
        set.tolerance = set.tolerance.min(tolerance);
        for (k, s) in Service::ALL.iter().enumerate() {
            if net.group_services[gi] & s.bit() != 0 {
                set.needed[k] = set.needed[k].min(tolerance + 1);
            }
        }
        set.deps.push(g.dependent);
    }
    let mut ranked: Vec<SetToAssess> = (sets.into_values())
        .map(|mut set| {
            set.deps.sort_unstable();
            set.deps.dedup();
            let members: Vec<u32> = set.members.iter().map(|&m| m as u32).collect();
            propagator.run(&members);
            set.loss = propagator.loss();
            set
        })
        .filter(|s| s.loss.cells > 0)
        .collect();
    ranked.sort_by(|a, b| {
        (b.loss.subscribers, b.loss.cells)
            .cmp(&(a.loss.subscribers, a.loss.cells))
            .then_with(|| a.members.cmp(&b.members))
    });
    ranked.truncate(MAX_SETS);
    // Only for the sets kept: each member failed alone, then all of them.
    for set in &mut ranked {
        let members: Vec<u32> = set.members.iter().map(|&m| m as u32).collect();
        let mut alone: HashMap<u32, ServiceMask> = HashMap::new();
        for &m in &members {
            propagator.run(&[m]);
            for &e in &propagator.touched {
                if net.endpoint_of[e as usize] != u32::MAX {
                    *alone.entry(e).or_default() |= propagator.lost(e as usize);
                }
            }
        }
        propagator.run(&members);
        set.combination_loss = propagator.loss_beyond(&alone);
    }

    let mut position = vec![0u32; t.len()];
    for (p, &e) in t.evaluation_order().iter().enumerate() {
        position[e] = p as u32;
    }
    let mut causes = Causes {
        net,
        position,
        memo: HashMap::new(),
    };
    let mut out = Vec::new();
    for SetToAssess {
        members,
        tolerance,
        needed,
        deps,
        loss,
        combination_loss,
    } in ranked
    {
        // The services the groups carry through the members.
        let services: ServiceMask = (Service::ALL.iter().zip(&needed))
            .filter(|&(_, &n)| n != u32::MAX)
            .fold(0, |mask, (s, _)| mask | s.bit());
        // Basic events: elements and vendors, with the members each fails.
        let mut cover: HashMap<String, (u64, f64)> = HashMap::new();
        let mut expanded = true;
        for (i, &m) in members.iter().enumerate() {
            let bit = 1u64 << i;
            match causes.of(m) {
                Some(set) => {
                    for &c in set.iter() {
                        let id = t.element(c as usize).id.clone();
                        let q = net.unavailability[c as usize];
                        cover.entry(id).or_insert((0, q)).0 |= bit;
                    }
                }
                None => expanded = false,
            }
            if let Some(v) = &t.element(m).vendor {
                cover
                    .entry(format!("{VENDOR_CAUSE_PREFIX}{v}"))
                    .or_insert((0, unavailability(VENDOR_RATES)))
                    .0 |= bit;
            }
        }
        if !expanded {
            continue;
        }
        let member_ids: Vec<&str> = members.iter().map(|&m| t.element(m).id.as_str()).collect();
        let mut shared_causes = Vec::new();
        let mut classes: HashMap<Cover, Vec<(String, f64)>> = HashMap::new();
        let mut events: Vec<(String, (u64, f64))> = cover.into_iter().collect();
        events.sort_by(|a, b| a.0.cmp(&b.0));
        let is_cut = |cover: &Cover| downs(cover, &needed);
        for (event, (mask, q)) in events {
            // Each element event's cover is what its failure alone takes
            // down for each service the set carries: the ancestry counts a
            // member as down whatever it loses, and a DNS the members need
            // for data alone is neither a common mode of their voice pool
            // nor half of a pair that takes it down.
            // A vendor event (`vendor:...`) is no element of the topology,
            // and takes its members down for everything.
            let element = t.index_of(&event);
            let cover: Cover = match element {
                Some(c) => service_cover(&mut propagator, &members, services, c),
                None => Service::ALL.map(|s| if services & s.bit() != 0 { mask } else { 0 }),
            };
            if cover == [0; Service::ALL.len()] {
                continue;
            }
            if is_cut(&cover) {
                if !member_ids.contains(&event.as_str()) {
                    // The members down for the services it takes down.
                    let down = downed(&cover, &needed);
                    let hit: Vec<usize> = (0..member_ids.len())
                        .filter(|&i| down & (1 << i) != 0)
                        .collect();
                    let (shared, via) = match element {
                        Some(c) => {
                            let hit: Vec<usize> = hit.iter().map(|&i| members[i]).collect();
                            (shared_label(t.element(c).kind), via(&mut causes, &hit, c))
                        }
                        None => ("vendor", Vec::new()),
                    };
                    shared_causes.push(SharedCause {
                        event,
                        shared: shared.to_owned(),
                        probability: q,
                        members: hit.iter().map(|&i| member_ids[i].to_owned()).collect(),
                        via,
                    });
                }
            } else {
                classes.entry(cover).or_default().push((event, q));
            }
        }
        let mut classes: Vec<(Cover, Vec<(String, f64)>)> = classes.into_iter().collect();
        classes.sort_by_key(|a| a.0);
        for (_, evs) in &mut classes {
            evs.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        let mut order_2 = 0u64;
        // The likeliest few minimal cut sets found, and the sum over all:
        // a crafted file can make millions, which must not all be kept.
        let mut found = Likeliest::default();
        // Per class, once (the pairs, the triples and the combination below
        // use each): that none of its events happens, and so that some does
        // (independent events; their sum would pass 1 for a large class or
        // a likely event).
        let class_up: Vec<(Cover, f64)> = (classes.iter())
            .map(|(mask, evs)| (*mask, evs.iter().map(|e| 1.0 - e.1).product::<f64>()))
            .collect();
        let class_q: Vec<f64> = class_up.iter().map(|(_, up)| 1.0 - up).collect();
        for a in 0..classes.len() {
            for b in a + 1..classes.len() {
                if is_cut(&union(classes[a].0, classes[b].0)) {
                    order_2 += (classes[a].1.len() * classes[b].1.len()) as u64;
                    found.offer(class_q[a] * class_q[b], || {
                        vec![classes[a].1[0].0.clone(), classes[b].1[0].0.clone()]
                    });
                }
            }
        }
        let order_3 = (classes.len() <= MAX_CLASSES_FOR_TRIPLES).then(|| {
            let mut n = 0u64;
            for a in 0..classes.len() {
                for b in a + 1..classes.len() {
                    let ab = union(classes[a].0, classes[b].0);
                    if is_cut(&ab) {
                        continue;
                    }
                    for c in b + 1..classes.len() {
                        let (ca, cb, cc) = (classes[a].0, classes[b].0, classes[c].0);
                        if is_cut(&union(ab, cc))
                            && !is_cut(&union(ca, cc))
                            && !is_cut(&union(cb, cc))
                        {
                            n += (classes[a].1.len() * classes[b].1.len() * classes[c].1.len())
                                as u64;
                            found.offer(class_q[a] * class_q[b] * class_q[c], || {
                                vec![
                                    classes[a].1[0].0.clone(),
                                    classes[b].1[0].0.clone(),
                                    classes[c].1[0].0.clone(),
                                ]
                            });
                        }
                    }
                }
            }
            n
        });
        // The sum of their probabilities: the rare-event estimate, used when
        // the exact combination is too big.
        // (An upper bound, and a probability: at most 1.)
        let cut_sum = found.sum.min(1.0);
        let examples = found.kept;
        let none_shared: f64 = shared_causes.iter().map(|c| 1.0 - c.probability).product();
        let combination_probability = none_shared * combined(&class_up, &needed).unwrap_or(cut_sum);
        let dependent_count = deps.len();
        out.push(RedundantSet {
            dependents: deps
                .iter()
                .take(3)
                .map(|&d| t.element(d).id.clone())
                .collect(),
            dependent_count,
            members: member_ids.iter().map(|s| (*s).to_owned()).collect(),
            tolerance,
            shared_causes,
            order_2,
            order_3,
            examples,
            combination_probability,
            loss,
            combination_loss,
        });
    }
    out
}

/// The members that element `cause` alone takes down, for each of
/// `services`: a redundant group fails for a service when more members than
/// it tolerates lose that service.
fn service_cover(
    propagator: &mut Propagator<'_, '_>,
    members: &[usize],
    services: ServiceMask,
    cause: usize,
) -> Cover {
    propagator.run(&[cause as u32]);
    let mut per_service: Cover = [0; Service::ALL.len()];
    for (i, &m) in members.iter().enumerate() {
        let lost = propagator.lost(m) & services;
        for (k, s) in Service::ALL.iter().enumerate() {
            if lost & s.bit() != 0 {
                per_service[k] |= 1 << i;
            }
        }
    }
    per_service
}

/// Members' needs that `cause` takes down, one per member in `hit`: what
/// the cause reaches the members through, or nothing if some member depends
/// on it directly.
fn via(causes: &mut Causes<'_, '_>, hit: &[usize], cause: usize) -> Vec<String> {
    let t = causes.net.topology;
    let direct = |m: usize| t.groups_of(m).any(|g| g.members.contains(&cause));
    if hit.iter().any(|&m| direct(m)) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for &m in hit {
        let taken: Vec<usize> = (t.groups_of(m).flat_map(|g| g.members.iter().copied()))
            .filter(|&x| {
                causes
                    .of(x)
                    .is_some_and(|c| c.binary_search(&(cause as u32)).is_ok())
            })
            .collect();
        // The need hanging right off the cause (the data center a feed
        // powers) names the path better than one further down it.
        let through = (taken.iter())
            .find(|&&x| direct(x))
            .or_else(|| taken.first());
        if let Some(&x) = through {
            let id = &t.element(x).id;
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
    }
    out
}

/// Probability that the classes down (each `(cover, probability that none
/// of its events happens)`, independently) take the set down ([`downs`]
/// with `needed`); `None` when the partial
/// states outgrow [`MAX_COMBINATION_STATES`] even without those too
/// unlikely to matter ([`NEGLIGIBLE_STATE`]).
fn combined(classes: &[(Cover, f64)], needed: &[u32; Service::ALL.len()]) -> Option<f64> {
    // Members down so far -> probability; a state that takes the set down
    // stays down whatever else fails. Ordered, so the
    // sums run in one order and a report is the same from run to run.
    let mut states: BTreeMap<Cover, f64> = BTreeMap::from([([0; Service::ALL.len()], 1.0)]);
    let mut down = 0.0;
    for &(cover, up) in classes {
        let mut next: BTreeMap<Cover, f64> = BTreeMap::new();
        for (&state, &p) in &states {
            *next.entry(state).or_default() += p * up;
            let hit = union(state, cover);
            if downs(&hit, needed) {
                down += p * (1.0 - up);
            } else {
                *next.entry(hit).or_default() += p * (1.0 - up);
            }
        }
        if next.len() > MAX_COMBINATION_STATES {
            // A large set: drop the partial states too unlikely to matter
            // (their mass bounds the error) before giving up.
            next.retain(|_, p| *p >= NEGLIGIBLE_STATE);
            if next.len() > MAX_COMBINATION_STATES {
                return None;
            }
        }
        states = next;
    }
    Some(down)
}

#[cfg(test)]
mod tests {
    use dialtone_model::{DependencySpec, Element, ElementKind, Redundancy, Topology};

    use super::*;
    use crate::{Options, assess};

    #[test]
    fn the_likeliest_cut_sets_are_kept_and_every_one_summed() {
        let mut found = Likeliest::default();
        let mut named = 0;
        for (k, p) in [0.1, 0.5, 0.2, 0.5, 0.05, 0.3, 0.01]
            .into_iter()
            .enumerate()
        {
            found.offer(p, || {
                named += 1;
                vec![format!("e{k}")]
            });
        }
        let kept: Vec<(&str, f64)> = (found.kept.iter())
            .map(|c| (c.events[0].as_str(), c.probability))
            .collect();
        assert_eq!(kept, [("e1", 0.5), ("e3", 0.5), ("e5", 0.3), ("e2", 0.2)]);
        assert!((found.sum - 1.66).abs() < 1e-12, "{}", found.sum);
        // The two least likely, offered when four likelier were kept, were
        // never named.
        assert_eq!(named, 5);
    }

    /// A resolver two AMFs need for data only takes their pool down for
    /// data: the common mode's title says so, as a single point of
    /// failure's does.
    #[test]
    fn a_common_mode_for_some_services_names_them() {
        let mut elements = Vec::new();
        for id in ["cell-1", "cell-2"] {
            let mut cell = Element::new(id, ElementKind::Cell);
            cell.subscribers = 100;
            elements.push(cell);
        }
        for id in ["pool", "pool2"] {
            elements.push(Element::new(id, ElementKind::CorePool));
        }
        for id in ["amf-1", "amf-2", "amf-3"] {
            elements.push(Element::new(id, ElementKind::CoreInstance));
        }
        elements.push(Element::new("dns-1", ElementKind::Dns));
        let (all, data) = (dialtone_model::ALL_SERVICES, Service::Data.bit());
        let deps = vec![
            DependencySpec::new("cell-1", &["pool"], Redundancy::All, all),
            DependencySpec::new("cell-2", &["pool2"], Redundancy::All, all),
            DependencySpec::new("pool", &["amf-1", "amf-2"], Redundancy::AnyOf, all),
            DependencySpec::new("pool2", &["amf-1", "amf-3"], Redundancy::AnyOf, all),
            DependencySpec::new("amf-2", &["amf-1"], Redundancy::All, all),
            DependencySpec::new("amf-1", &["dns-1"], Redundancy::All, data),
            DependencySpec::new("amf-3", &["dns-1"], Redundancy::All, data),
        ];
        let t = Topology::new(elements, deps).expect("valid");
        let a = assess(&t, &Options::default(), &mut |_| {});
        let titles: Vec<&str> = (a.risks.iter())
            .filter(|r| r.category == "common mode")
            .map(|r| r.title.as_str())
            .collect();
        assert_eq!(titles.len(), 1, "{:#?}", a.risks);
        assert!(
            titles[0].ends_with("; it takes data down on 2 cells"),
            "{titles:?}"
        );
    }

    /// Two AMFs in a voice pool serving a cell; both need `power` for
    /// everything and `dns` for data only, and each its own resolver
    /// (`dns-1`, `dns-2`) for data only too.
    #[test]
    fn a_shared_need_is_a_common_mode_only_for_the_services_the_set_carries() {
        let mut cell = Element::new("cell", ElementKind::Cell);
        cell.subscribers = 1_000;
        let elements = vec![
            cell,
            Element::new("pool", ElementKind::CorePool),
            Element::new("amf-1", ElementKind::CoreInstance),
            Element::new("amf-2", ElementKind::CoreInstance),
            Element::new("power", ElementKind::PowerFeed),
            Element::new("dns", ElementKind::CoreInstance),
            Element::new("dns-1", ElementKind::CoreInstance),
            Element::new("dns-2", ElementKind::CoreInstance),
        ];
        let all = dialtone_model::ALL_SERVICES;
        let mut deps = vec![
            DependencySpec::new("cell", &["pool"], Redundancy::All, all),
            DependencySpec::new(
                "pool",
                &["amf-1", "amf-2"],
                Redundancy::AnyOf,
                Service::Voice.bit(),
            ),
        ];
        for (amf, own) in [("amf-1", "dns-1"), ("amf-2", "dns-2")] {
            deps.push(DependencySpec::new(amf, &["power"], Redundancy::All, all));
            deps.push(DependencySpec::new(
                amf,
                &["dns", own],
                Redundancy::All,
                Service::Data.bit(),
            ));
        }
        let t = Topology::new(elements, deps).expect("valid");
        let a = assess(&t, &Options::default(), &mut |_| {});
        let pool = (a.redundant_sets.iter())
            .find(|s| s.members == ["amf-1", "amf-2"])
            .expect("the pool is assessed");
        let shared: Vec<&str> = pool
            .shared_causes
            .iter()
            .map(|c| c.event.as_str())
            .collect();
        assert_eq!(shared, ["power"], "{pool:#?}");
        // The members themselves are the only pair: not the resolvers.
        assert_eq!(pool.order_2, 1, "{pool:#?}");
    }

    /// A resolver pair that one SMF needs for data alone and another for
    /// everything. The pair failing takes data from the first SMF's cell
    /// (not voice from the cell needing that SMF for voice alone) and
    /// everything from the second's and from a cell needing two of three
    /// resolvers: not the first SMF's whole loss, nor only one dependent's.
    #[test]
    fn a_sets_loss_is_what_its_failure_takes() {
        let cell = |id: &str, subscribers| {
            let mut cell = Element::new(id, ElementKind::Cell);
            cell.subscribers = subscribers;
            cell
        };
        let mut elements = vec![
            cell("cell-a", 1_000),
            cell("cell-b", 300),
            cell("cell-c", 50),
            cell("cell-x", 7),
        ];
        for id in ["smf-1", "smf-2", "dns-1", "dns-2", "dns-3"] {
            elements.push(Element::new(id, ElementKind::CoreInstance));
        }
        let (all, data) = (dialtone_model::ALL_SERVICES, Service::Data.bit());
        let resolvers = ["dns-1", "dns-2"];
        let deps = vec![
            DependencySpec::new("smf-1", &resolvers, Redundancy::AnyOf, data),
            DependencySpec::new("smf-2", &resolvers, Redundancy::AnyOf, all),
            DependencySpec::new("cell-a", &["smf-1"], Redundancy::All, all),
            DependencySpec::new("cell-b", &["smf-1"], Redundancy::All, Service::Voice.bit()),
            DependencySpec::new("cell-c", &["smf-2"], Redundancy::All, all),
            // Not behind the pair's groups, but needing two of three
            // resolvers: lost with the pair all the same.
            DependencySpec::new(
                "cell-x",
                &["dns-1", "dns-2", "dns-3"],
                Redundancy::KOfN(2),
                all,
            ),
        ];
        let t = Topology::new(elements, deps).expect("valid");
        let a = assess(&t, &Options::default(), &mut |_| {});
        let pair = (a.redundant_sets.iter())
            .find(|s| s.members == resolvers)
            .expect("the pair is assessed");
        assert_eq!(
            (pair.loss.cells, pair.loss.subscribers),
            (3, 1_057),
            "{pair:#?}"
        );
        // Registration, voice, data.
        assert_eq!(pair.loss.subscribers_by_service, [57, 57, 1_057]);
    }

    /// A pair whose failure together takes nothing that one of them does
    /// not take alone (the cell needs `a` anyway) is no cut-set risk, though
    /// independent failures do combine to take the pair down.
    #[test]
    fn a_set_that_adds_nothing_to_its_members_alone_is_no_risk() {
        let mut cell = Element::new("cell", ElementKind::Cell);
        cell.subscribers = 100;
        let mut elements = vec![cell];
        for id in ["a", "b"] {
            elements.push(Element::new(id, ElementKind::CoreInstance));
        }
        let all = dialtone_model::ALL_SERVICES;
        let deps = vec![
            DependencySpec::new("cell", &["a", "b"], Redundancy::AnyOf, all),
            DependencySpec::new("cell", &["a"], Redundancy::All, all),
        ];
        let t = Topology::new(elements, deps).expect("valid");
        let a = assess(&t, &Options::default(), &mut |_| {});
        let pair = (a.redundant_sets.iter())
            .find(|s| s.members == ["a", "b"])
            .expect("the pair is assessed");
        assert!(pair.combination_probability > 0.0, "{pair:#?}");
        assert_eq!(pair.combination_loss.cells, 0, "{pair:#?}");
        assert!(
            !(a.risks.iter()).any(|r| r.category == "cut set"),
            "{:#?}",
            a.risks
        );
    }

    /// A member that takes a cell down alone (`amf-2` needs `amf-1`, so
    /// their pool falls with `amf-1`) is that cell's single point of
    /// failure: another set holding `amf-1` is charged only with what takes
    /// more than one of its members, here the second cell.
    #[test]
    fn a_set_is_not_charged_with_what_one_member_takes_alone() {
        let mut elements = Vec::new();
        for (id, subscribers) in [("cell-1", 100), ("cell-2", 40)] {
            let mut cell = Element::new(id, ElementKind::Cell);
            cell.subscribers = subscribers;
            cell.emergency_capable = true;
            elements.push(cell);
        }
        for id in ["amf-1", "amf-2", "amf-3"] {
            elements.push(Element::new(id, ElementKind::CoreInstance));
        }
        let all = dialtone_model::ALL_SERVICES;
        let deps = vec![
            DependencySpec::new("amf-2", &["amf-1"], Redundancy::All, all),
            DependencySpec::new("cell-1", &["amf-1", "amf-2"], Redundancy::AnyOf, all),
            DependencySpec::new("cell-2", &["amf-1", "amf-3"], Redundancy::AnyOf, all),
        ];
        let t = Topology::new(elements, deps).expect("valid");
        let a = assess(&t, &Options::default(), &mut |_| {});
        let set = |members: [&str; 2]| {
            (a.redundant_sets.iter())
                .find(|s| s.members == members)
                .expect("the set is assessed")
        };
        let counts = |loss: &Loss| (loss.cells, loss.subscribers, loss.emergency_cells);
        let pair = set(["amf-1", "amf-3"]);
        assert_eq!(counts(&pair.combination_loss), (1, 40, 1), "{pair:#?}");
        // Every member down, as a shared cause would take them: both cells.
        assert_eq!(counts(&pair.loss), (2, 140, 2), "{pair:#?}");
        // The pool that falls with `amf-1` alone adds nothing of its own.
        let pool = set(["amf-1", "amf-2"]);
        assert_eq!(counts(&pool.combination_loss), (0, 0, 0), "{pool:#?}");
        let cut_set_risks: Vec<&str> = (a.risks.iter())
            .filter(|r| r.category == "cut set")
            .map(|r| r.title.as_str())
            .collect();
        assert_eq!(cut_set_risks.len(), 1, "{cut_set_risks:?}");
        assert!(cut_set_risks[0].contains("amf-3"), "{cut_set_risks:?}");
    }

    /// A cell behind `groups` (members, redundancy, services) and the
    /// `needs` of their members (member, need, services): each element a
    /// core instance, each failing a thousandth of the time.
    fn assessed(
        groups: &[(&[&str], Redundancy, ServiceMask)],
        needs: &[(&str, &str, ServiceMask)],
    ) -> crate::Assessment {
        let mut cell = Element::new("cell", ElementKind::Cell);
        cell.subscribers = 1_000;
        let mut ids: Vec<&str> = Vec::new();
        let named = groups.iter().flat_map(|g| g.0.iter().copied());
        for id in named.chain(needs.iter().flat_map(|n| [n.0, n.1])) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let elements = std::iter::once(cell)
            .chain(
                ids.iter()
                    .map(|&id| Element::new(id, ElementKind::CoreInstance)),
            )
            .collect();
        let spec = |dependent: &str, members: &[&str], redundancy, services| DependencySpec {
            dependent: dependent.into(),
            members: members.iter().map(|&m| m.into()).collect(),
            redundancy,
            services,
        };
        let deps = (groups.iter())
            .map(|&(members, redundancy, services)| spec("cell", members, redundancy, services))
            .chain(
                (needs.iter())
                    .map(|&(m, need, services)| spec(m, &[need], Redundancy::All, services)),
            )
            .collect();
        let t = Topology::new(elements, deps).expect("valid");
        assess(&t, &Options::default(), &mut |_| {})
    }

    /// One UPF of a pool needs a resolver for data alone, the other an IMS
    /// for calls alone: with both down, data still flows through the second
    /// and calls through the first. No cut set of the pool.
    #[test]
    fn needs_of_different_services_make_no_cut_set_together() {
        let all = dialtone_model::ALL_SERVICES;
        let a = assessed(
            &[(&["upf-1", "upf-2"], Redundancy::AnyOf, all)],
            &[
                ("upf-1", "dns-1", Service::Data.bit()),
                ("upf-2", "ims-2", Service::Voice.bit()),
            ],
        );
        let pool = (a.redundant_sets.iter())
            .find(|s| s.members == ["upf-1", "upf-2"])
            .expect("the pool is assessed");
        // The members themselves, and each with the other's need for the
        // service that need carries.
        assert_eq!(pool.order_2, 3, "{pool:#?}");
        let pairs: Vec<&[String]> = pool.examples.iter().map(|c| &c.events[..]).collect();
        assert!(
            !pairs.contains(&&["dns-1".to_string(), "ims-2".to_string()][..]),
            "{pairs:?}"
        );
    }

    /// Calls need two of three members, data any one: a need two members
    /// share for data alone takes down no group.
    #[test]
    fn a_need_is_judged_by_the_tolerance_of_the_groups_carrying_its_service() {
        let a = assessed(
            &[
                (&["a", "b", "c"], Redundancy::KOfN(2), Service::Voice.bit()),
                (&["a", "b", "c"], Redundancy::AnyOf, Service::Data.bit()),
            ],
            &[
                ("a", "feed", Service::Data.bit()),
                ("b", "feed", Service::Data.bit()),
            ],
        );
        let set = (a.redundant_sets.iter())
            .find(|s| s.members == ["a", "b", "c"])
            .expect("the set is assessed");
        assert!(set.shared_causes.is_empty(), "{set:#?}");
        // Calls fall with any two members down; data only with all three,
        // as the feed and `c` together take them.
        assert_eq!(set.order_2, 4, "{set:#?}");
    }

    /// One power feed under two redundant pairs: two sets it takes down,
    /// one common-mode cause in the summary.
    #[test]
    fn a_cause_shared_by_two_sets_is_counted_once() {
        let mut cell = Element::new("cell", ElementKind::Cell);
        cell.subscribers = 1_000;
        let mut elements = vec![cell, Element::new("feed", ElementKind::PowerFeed)];
        let all = dialtone_model::ALL_SERVICES;
        let mut deps = Vec::new();
        for pair in [["amf-1", "amf-2"], ["smf-1", "smf-2"]] {
            deps.push(DependencySpec {
                dependent: "cell".into(),
                members: pair.iter().map(|&m| m.into()).collect(),
                redundancy: Redundancy::AnyOf,
                services: all,
            });
            for member in pair {
                elements.push(Element::new(member, ElementKind::CoreInstance));
                deps.push(DependencySpec {
                    dependent: member.into(),
                    members: vec!["feed".into()],
                    redundancy: Redundancy::All,
                    services: all,
                });
            }
        }
        let t = Topology::new(elements, deps).expect("valid");
        let a = assess(&t, &Options::default(), &mut |_| {});
        let taken_down = (a.redundant_sets.iter())
            .filter(|s| s.shared_causes.iter().any(|c| c.event == "feed"))
            .count();
        assert_eq!(taken_down, 2, "{:#?}", a.redundant_sets);
        assert_eq!(a.summary.common_mode_groups, 1);
    }

    /// Fourteen members, each down one time in a thousand, and the set down
    /// from eight: its partial states outgrow the limit until the ones too
    /// unlikely to matter are dropped.
    #[test]
    fn a_large_set_is_combined_without_its_negligible_states() {
        let classes: Vec<(Cover, f64)> = (0..14).map(|i| ([0, 1u64 << i, 0], 1.0 - 1e-3)).collect();
        let p = combined(&classes, &[u32::MAX, 8, u32::MAX]).expect("pruned to fit");
        // At most the exact chance (about C(14, 8) * 1e-24, the likeliest way
        // down), less the pruned states' mass, and not all of it pruned.
        let exact: f64 = (8..=14)
            .map(|k| {
                let ways = (0..k).fold(1.0, |c, i| c * f64::from(14 - i) / f64::from(i + 1));
                ways * 1e-3f64.powi(k) * 0.999f64.powi(14 - k)
            })
            .sum();
        assert!(p <= exact && p >= 0.3 * exact, "{p} against {exact}");
        let small = combined(&classes[..4], &[u32::MAX, 2, u32::MAX]).unwrap();
        // 1 - P(0 down) - P(1 down) for four members at 1e-3.
        let exact = 1.0 - 0.999f64.powi(4) - 4.0 * 1e-3 * 0.999f64.powi(3);
        assert!((small - exact).abs() < 1e-15, "{small} vs {exact}");
    }
}
