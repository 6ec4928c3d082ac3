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
//! A change on a candidate shortly before the onset (see `changes.rs`) adds a
//! small bounded bonus and an evidence line. Each candidate carries a
//! confidence in [0, 1] (see [`Candidate::confidence`] and `docs/rca.md`):
//! its ranking score (agreement plus any change bonus, capped at 1) times its
//! share of the softmax over every candidate's ranking score, so it rises with
//! the candidate's own fit and falls as rivals close in.
//!
//! Pure: no I/O, no clock. Impact sets are computed lazily, only for ancestors
//! of what is broken, and cached: a topology is fixed for an explainer's life.

mod changes;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use dialtone_model::{Candidate, ElementKind, ServiceMask, Timestamp, Topology, count};

pub use changes::{CHANGE_LOOKBACK_SECS, ChangeEvent, ChangeKind, UnknownElement};
use changes::{ChangeHint, ChangeLog};

/// What is observed, per element: the services that have KPIs and those that look broken.
#[derive(Debug, Clone)]
pub struct Observations {
    /// Services each element has KPIs for (0 = unobserved).
    pub observable: Vec<ServiceMask>,
    /// Services each element's KPIs currently show broken.
    pub broken: HashMap<usize, ServiceMask>,
    /// Services whose KPIs usually report but stopped: not in `observable`.
    pub silent: HashMap<usize, ServiceMask>,
    /// When the oldest of the `broken` observations began: changes are looked
    /// up in the window before it. `None` ignores changes.
    pub onset: Option<Timestamp>,
}

impl Observations {
    pub fn new(observable: Vec<ServiceMask>) -> Observations {
        Observations {
            observable,
            broken: HashMap::new(),
            silent: HashMap::new(),
            onset: None,
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
    impacts: Mutex<Impacts>,
    changes: ChangeLog,
}

/// The impact sets computed so far, and the dense per-element loss that
/// computing one more propagates through: one array for the explainer's life,
/// cleared by what each propagation touched, so a propagation costs what it
/// breaks rather than a hash lookup per group member.
#[derive(Debug)]
struct Impacts {
    cache: HashMap<usize, ImpactSet>,
    lost: Vec<ServiceMask>,
}

/// A candidate while ranking: its element, its agreement, the silent units it
/// predicts, the change that counts for it and the score it is ranked by. The
/// public [`Candidate`] (with its strings) is only built for the ones returned.
struct Scored {
    element: usize,
    score: f64,
    explained: u32,
    contradicted: u32,
    unexplained: u32,
    dark: u32,
    change: Option<ChangeHint>,
    /// Agreement plus the change bonus.
    ranking: f64,
}

/// The broken and silent services of every element, as dense arrays: a
/// candidate's score reads one entry per element it predicts broken.
struct Dense {
    broken: Vec<ServiceMask>,
    silent: Vec<ServiceMask>,
}

impl Dense {
    fn new(obs: &Observations) -> Dense {
        let spread = |sparse: &HashMap<usize, ServiceMask>| {
            let mut dense = vec![0; obs.observable.len()];
            for (&e, &m) in sparse {
                dense[e] = m;
            }
            dense
        };
        Dense {
            broken: spread(&obs.broken),
            silent: spread(&obs.silent),
        }
    }
}

impl Explainer {
    pub fn new(topology: Arc<Topology>) -> Explainer {
        Explainer {
            impacts: Mutex::new(Impacts {
                cache: HashMap::new(),
                lost: vec![0; topology.len()],
            }),
            topology,
            changes: ChangeLog::default(),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Remembers a change, in any order of arrival, for rankings whose onset follows it.
    pub fn record_change(&mut self, change: ChangeEvent) -> Result<(), UnknownElement> {
        self.changes.record(&self.topology, change)
    }

    /// How many changes are remembered.
    pub fn changes_kept(&self) -> usize {
        self.changes.len()
    }

    /// Forgets changes before `t`: no ranking with an onset before
    /// `t + CHANGE_LOOKBACK_SECS` will be asked for.
    pub fn forget_changes_before(&mut self, t: Timestamp) {
        self.changes.forget_before(t);
    }

    /// What breaks if element `e` fails completely, restricted to elements whose loss is
    /// non-empty. Walks only `e`'s dependents, breadth first, until no loss grows.
    pub fn impact(&self, e: usize) -> ImpactSet {
        let mut impacts = self.impacts.lock().expect("impact cache poisoned");
        let Impacts { cache, lost } = &mut *impacts;
        cache
            .entry(e)
            .or_insert_with(|| Arc::new(sparse_propagate(&self.topology, e, lost)))
            .clone()
    }

    /// The best `top` candidates for `obs`, best first. Candidates are the broken
    /// elements and everything they depend on, directly or not.
    pub fn rank(&self, obs: &Observations, top: usize) -> Vec<Candidate> {
        let broken_total = obs.broken_units();
        if broken_total == 0 {
            return Vec::new();
        }
        let dense = Dense::new(obs);
        let mut scored: Vec<Scored> = self
            .ancestors(obs.broken.keys().copied())
            .into_iter()
            .filter_map(|c| {
                let mut s = self.score(c, obs, &dense, broken_total)?;
                s.change = obs
                    .onset
                    .and_then(|onset| self.changes.hint(&self.topology, c, onset));
                s.ranking = s.score + s.change.as_ref().map_or(0.0, |h| h.bonus);
                Some(s)
            })
            .collect();
        scored.sort_by(|a, b| {
            b.ranking
                .total_cmp(&a.ranking)
                .then(b.explained.cmp(&a.explained))
                // Of two that fit what reports equally, the one that also
                // predicts what went dark.
                .then(b.dark.cmp(&a.dark))
                .then(
                    kind_preference(self.topology.element(b.element).kind)
                        .cmp(&kind_preference(self.topology.element(a.element).kind)),
                )
                .then(a.element.cmp(&b.element))
        });
        let confidence = confidences(scored.iter().map(|s| s.ranking));
        // The leader's line, taken by the first candidate only.
        let mut lead = lead_line(&self.topology, &scored);
        scored
            .into_iter()
            .zip(confidence)
            .take(top)
            .map(|(s, confidence)| {
                let el = self.topology.element(s.element);
                let mut c = Candidate {
                    element: el.id.clone(),
                    kind: el.kind.as_str().to_string(),
                    score: s.score,
                    explained: s.explained,
                    contradicted: s.contradicted,
                    unexplained: s.unexplained,
                    confidence,
                    evidence: Vec::new(),
                };
                c.evidence = self.evidence(s.element, &c, s.dark, obs);
                c.evidence.extend(s.change.map(|h| h.evidence));
                c.evidence.extend(lead.take());
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

    /// The candidate `c` with its agreement and the silent units it predicts,
    /// unless it explains nothing; no change weighed yet.
    fn score(
        &self,
        c: usize,
        obs: &Observations,
        dense: &Dense,
        broken_total: u32,
    ) -> Option<Scored> {
        let impact = self.impact(c);
        let (mut explained, mut contradicted, mut dark) = (0u32, 0u32, 0u32);
        for &(e, lost) in impact.iter() {
            let e = e as usize;
            let seen = lost & obs.observable[e];
            let broken = dense.broken[e];
            explained += (seen & broken).count_ones();
            contradicted += (seen & !broken).count_ones();
            dark += (lost & dense.silent[e]).count_ones();
        }
        if explained == 0 {
            return None;
        }
        let unexplained = broken_total - explained;
        let agree = f64::from(explained) + SILENT_WEIGHT * f64::from(dark);
        let score = agree / (agree + f64::from(contradicted + unexplained));
        Some(Scored {
            element: c,
            score,
            explained,
            contradicted,
            unexplained,
            dark,
            change: None,
            ranking: score,
        })
    }

    /// Evidence lines for candidate `c`, which predicts `dark` silent units.
    fn evidence(&self, c: usize, cand: &Candidate, dark: u32, obs: &Observations) -> Vec<String> {
        let t = &self.topology;
        let impact = self.impact(c);
        let healthy = cand.contradicted;
        let mut lines = vec![format!(
            "its failure explains {} of {}; {healthy} it predicts broken {} healthy",
            cand.explained,
            count(
                cand.explained + cand.unexplained,
                "broken observation",
                "broken observations"
            ),
            if healthy == 1 { "looks" } else { "look" }
        )];
        if dark > 0 {
            lines.push(format!(
                "{} it predicts broken stopped reporting",
                count(dark, "observation", "observations")
            ));
        }
        if t.element(c).kind != ElementKind::Cell {
            lines.extend(served_line(t, c, obs));
        }
        // As the score counts them: a broken service the failure predicts
        // and the element reports, not any broken element in its reach.
        let explained: Vec<usize> = impact
            .iter()
            .map(|&(e, lost)| (e as usize, lost))
            .filter(|&(e, lost)| {
                (obs.broken.get(&e)).is_some_and(|&broken| broken & lost & obs.observable[e] != 0)
            })
            .map(|(e, _)| e)
            .collect();
        let mut regions: Vec<&str> = explained
            .iter()
            .filter_map(|&e| t.element(e).region.as_deref())
            .collect();
        regions.sort_unstable();
        regions.dedup();
        if !regions.is_empty() {
            // Of what it explains, some may sit in no region: the noun is
            // for how many it explains.
            let subject = if explained.len() == 1 {
                "the broken element it explains sits"
            } else {
                "broken elements it explains sit"
            };
            lines.push(format!("{subject} in: {}", regions.join(", ")));
        }
        lines
    }
}

/// How many of the elements `c` serves, directly or not, are failing, out of
/// those with KPIs: its direct dependents are often sites or links that report
/// nothing, and counting those would read as evidence against a cause whose
/// cells are all down. `None` if nothing depends on `c`.
fn served_line(t: &Topology, c: usize, obs: &Observations) -> Option<String> {
    let mut seen = HashSet::from([c]);
    let mut stack = vec![c];
    let (mut served, mut observed, mut failing) = (0u32, 0u32, 0u32);
    while let Some(e) = stack.pop() {
        for &d in t.dependents(e) {
            if !seen.insert(d) {
                continue;
            }
            stack.push(d);
            served += 1;
            // Failing counts among the observed only, or a count could
            // read "3 of the 2 observed".
            let seen = obs.observable[d] != 0;
            observed += u32::from(seen);
            failing += u32::from(seen && obs.broken.contains_key(&d));
        }
    }
    match (served, observed) {
        (0, _) => None,
        (_, 0) => Some(format!(
            "nothing it serves is observed ({})",
            count(served, "element", "elements")
        )),
        _ => Some(format!(
            "{failing} of the {} it serves {} failing",
            count(observed, "observed element", "observed elements"),
            if failing == 1 { "is" } else { "are" }
        )),
    }
}

/// How sharply confidence concentrates on the leader: a lead of 0.05 in
/// ranking score is odds of e to 1 between two candidates. Chosen so that a
/// lead of one observation in twenty is telling and a lead of a few hundredths
/// is not; checked against the drill suite (`docs/rca.md`), not fitted to it.
const CONFIDENCE_SHARPNESS: f64 = 20.0;

/// Each candidate's confidence, in ranking order: its ranking score, capped at
/// one, times its softmax share over all candidates. Monotone: a better ranking
/// score never has a lower confidence, and a rival's gain lowers everyone else's.
fn confidences(ranking: impl Iterator<Item = f64> + Clone) -> Vec<f64> {
    let best = ranking.clone().fold(f64::NEG_INFINITY, f64::max);
    let weight = |r: f64| (CONFIDENCE_SHARPNESS * (r - best)).exp();
    let total: f64 = ranking.clone().map(weight).sum();
    ranking.map(|r| r.min(1.0) * weight(r) / total).collect()
}

/// The leader's margin over the runner-up, as an evidence line.
fn lead_line(t: &Topology, scored: &[Scored]) -> Option<String> {
    let [first, second, ..] = scored else {
        return scored
            .first()
            .map(|_| "no other element's failure explains any of it".to_string());
    };
    let runner_up = &t.element(second.element).id;
    // Sorted best first, so the margin is never negative. A margin that
    // prints as 0.00 must not read as a lead: an exact tie is none (the order
    // between the two is then only the tie-breaks), and a hair's lead says so.
    let margin = first.ranking - second.ranking;
    let shown = format!("{margin:.2}");
    Some(if margin <= 0.0 {
        format!("tied with the runner-up {runner_up}")
    } else if shown == "0.00" {
        format!("ranks less than 0.01 above the runner-up {runner_up}")
    } else {
        format!("ranks {shown} above the runner-up {runner_up}")
    })
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

/// Propagates the failure of `root` through its dependents only. `lost` is
/// all zero, one entry per element, and is left so.
fn sparse_propagate(
    t: &Topology,
    root: usize,
    lost: &mut [ServiceMask],
) -> Vec<(u32, ServiceMask)> {
    lost[root] = dialtone_model::ALL_SERVICES;
    // Breadth-first over dependents, re-evaluating an element's groups whenever a
    // member's loss grows; masks only grow, so this reaches a fixed point. The
    // queue holds each element once per growth and doubles as the touched list.
    let mut queue = vec![root];
    let mut next = 0;
    while let Some(&e) = queue.get(next) {
        next += 1;
        for &d in t.dependents(e) {
            let before = lost[d];
            let mut now = before;
            for g in t.groups_of(d) {
                for s in dialtone_model::Service::ALL {
                    let bit = s.bit();
                    if g.services & bit == 0 || now & bit != 0 {
                        continue;
                    }
                    let up = g.members.iter().filter(|&&m| lost[m] & bit == 0).count();
                    if up < g.required() {
                        now |= bit;
                    }
                }
            }
            if now != before {
                lost[d] = now;
                queue.push(d);
            }
        }
    }
    queue.sort_unstable();
    queue.dedup();
    queue
        .into_iter()
        .map(|e| (e as u32, std::mem::take(&mut lost[e])))
        .collect()
}

#[cfg(test)]
mod tests {
    use dialtone_model::{ALL_SERVICES, DependencySpec, Element, Redundancy, Service};

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

    /// Cell `a` behind a site and a router that explain it equally well; the
    /// router runs software `os-1`; cell `b` hangs off its own site.
    fn tie() -> Explainer {
        let els = vec![
            Element::new("router-a", ElementKind::Router),
            Element::new("site-a", ElementKind::Site),
            Element::new("os-1", ElementKind::SoftwareVersion),
            Element::new("a", ElementKind::Cell),
            Element::new("site-b", ElementKind::Site),
            Element::new("b", ElementKind::Cell),
        ];
        let dep = |d: &str, m: &[&str]| DependencySpec {
            dependent: d.into(),
            members: m.iter().map(|s| s.to_string()).collect(),
            redundancy: Redundancy::All,
            services: ALL_SERVICES,
        };
        let deps = vec![
            dep("router-a", &["os-1"]),
            dep("a", &["site-a", "router-a"]),
            dep("b", &["site-b"]),
        ];
        Explainer::new(Arc::new(Topology::new(els, deps).unwrap()))
    }

    const ONSET: Timestamp = 1_000_000;

    /// `a` broken since [`ONSET`], `b` healthy.
    fn a_broken(x: &Explainer) -> Observations {
        let t = x.topology();
        let mut obs = Observations::new(vec![0; t.len()]);
        for id in ["a", "b"] {
            obs.observable[t.index_of(id).unwrap()] = ALL_SERVICES;
        }
        obs.broken.insert(t.index_of("a").unwrap(), ALL_SERVICES);
        obs.onset = Some(ONSET);
        obs
    }

    fn change(element: &str, minutes_before: i64) -> ChangeEvent {
        ChangeEvent {
            at: ONSET - 60 * minutes_before,
            element: element.into(),
            kind: ChangeKind::Config,
            description: "reroute".into(),
        }
    }

    fn order(ranked: &[Candidate]) -> Vec<&str> {
        ranked.iter().map(|c| c.element.as_str()).collect()
    }

    #[test]
    fn a_recent_change_tips_a_tie() {
        let mut x = tie();
        let obs = a_broken(&x);
        let before = x.rank(&obs, 5);
        assert_eq!(order(&before)[..3], ["os-1", "router-a", "site-a"]);
        x.record_change(change("site-a", 14)).unwrap();
        let after = x.rank(&obs, 5);
        assert_eq!(order(&after)[..2], ["site-a", "os-1"]);
        assert!(
            after[0]
                .evidence
                .contains(&"config change 'reroute' on site-a 14 min before onset".to_string()),
            "{:?}",
            after[0].evidence
        );
        assert_eq!(after[0].score, 1.0, "the agreement itself is unchanged");
        assert!(after[0].confidence > before[2].confidence);
    }

    #[test]
    fn a_change_on_a_version_counts_for_what_runs_it() {
        let mut x = tie();
        let obs = a_broken(&x);
        x.record_change(change("os-1", 30)).unwrap();
        let ranked = x.rank(&obs, 5);
        assert_eq!(order(&ranked)[..3], ["os-1", "router-a", "site-a"]);
        assert!(
            ranked[1]
                .evidence
                .iter()
                .any(|l| l.contains("on its software version os-1 30 min before onset"))
        );
        assert!(
            ranked[2]
                .evidence
                .iter()
                .all(|l| !l.contains("before onset"))
        );
    }

    #[test]
    fn changes_outside_the_window_do_nothing() {
        let mut x = tie();
        let obs = a_broken(&x);
        let before = x.rank(&obs, 5);
        x.record_change(change("site-a", 121)).unwrap();
        // A change after the onset is a reaction to the fault, not its cause.
        x.record_change(change("site-a", -5)).unwrap();
        assert_eq!(x.rank(&obs, 5), before);
        // Without an onset there is no window.
        x.record_change(change("site-a", 1)).unwrap();
        let unknown_onset = Observations { onset: None, ..obs };
        assert_eq!(order(&x.rank(&unknown_onset, 5)), order(&before));
        x.forget_changes_before(ONSET);
        assert_eq!(x.changes.hint(x.topology(), 1, ONSET + 60), None);
    }

    #[test]
    fn a_change_alone_makes_no_candidate_and_lifts_only_near_equals() {
        let mut x = tie();
        x.record_change(change("b", 1)).unwrap();
        x.record_change(change("site-b", 1)).unwrap();
        let mut quiet = a_broken(&x);
        quiet.broken.clear();
        assert!(x.rank(&quiet, 5).is_empty());
        let ranked = x.rank(&a_broken(&x), 10);
        assert!(
            ranked
                .iter()
                .all(|c| c.element != "b" && c.element != "site-b")
        );
        // The power feed explains `a` alone (1.0), the segment also predicts the
        // healthy `b` (0.5): a change on the segment does not outweigh that.
        let mut x = explainer();
        let t = x.topology();
        let mut obs = Observations::new(vec![0; t.len()]);
        for id in ["a", "b"] {
            obs.observable[t.index_of(id).unwrap()] = ALL_SERVICES;
        }
        obs.broken.insert(t.index_of("a").unwrap(), ALL_SERVICES);
        obs.onset = Some(ONSET);
        x.record_change(change("segment", 0)).unwrap();
        assert_eq!(x.rank(&obs, 1)[0].element, "grid");
        assert_eq!(
            x.record_change(change("ghost", 0)),
            Err(UnknownElement("ghost".into()))
        );
    }

    #[test]
    fn confidence_is_a_share_capped_by_agreement() {
        let c = confidences([1.0, 1.0].into_iter());
        assert_eq!(c, [0.5, 0.5]);
        let c = confidences([1.0, 0.5, 0.2].into_iter());
        assert!(c[0] > 0.999 && c[1] < 1e-4, "{c:?}");
        let c = confidences([0.6].into_iter());
        assert_eq!(c, [0.6]);
        let c = confidences([1.04, 1.0].into_iter());
        assert!(c[0] <= 1.0 && c[0] > c[1], "{c:?}");
        // Ranked candidates carry it, best first, never increasing.
        let x = tie();
        let ranked = x.rank(&a_broken(&x), 10);
        assert!(
            ranked
                .windows(2)
                .all(|w| w[0].confidence >= w[1].confidence)
        );
        assert!(ranked.iter().map(|c| c.confidence).sum::<f64>() <= 1.0 + 1e-12);
        assert!(
            ranked[0]
                .evidence
                .iter()
                .any(|l| l == "tied with the runner-up router-a"),
            "{:?}",
            ranked[0].evidence
        );
        assert_eq!(ranked[0].confidence, ranked[1].confidence);
    }

    /// The leader's line for a leader ranked `first` and a runner-up ranked `second`.
    fn lead(first: f64, second: f64) -> String {
        let x = tie();
        let scored = [(0, first), (1, second)].map(|(element, ranking)| Scored {
            element,
            score: ranking,
            explained: 1,
            contradicted: 0,
            unexplained: 0,
            dark: 0,
            change: None,
            ranking,
        });
        lead_line(x.topology(), &scored).unwrap()
    }

    #[test]
    fn a_lead_that_prints_as_nothing_is_not_called_one() {
        assert_eq!(lead(0.8, 0.8), "tied with the runner-up site-a");
        assert_eq!(
            lead(0.8, 0.797),
            "ranks less than 0.01 above the runner-up site-a"
        );
        assert_eq!(lead(1.0, 0.75), "ranks 0.25 above the runner-up site-a");
    }

    /// Router `agg` serves sites `s1` (cells `c1`, `c2`) and `s2` (cell `c3`),
    /// which report nothing themselves; router `hub`, which has KPIs, serves
    /// only the unobserved site `s3`. Everything is in region `north`.
    fn aggregation() -> (Explainer, Observations) {
        let mut els: Vec<Element> = ["agg", "hub"]
            .map(|id| Element::new(id, ElementKind::Router))
            .into();
        els.extend(["s1", "s2", "s3"].map(|id| Element::new(id, ElementKind::Site)));
        els.extend(["c1", "c2", "c3"].map(|id| Element::new(id, ElementKind::Cell)));
        for el in &mut els {
            el.region = Some("north".into());
        }
        let dep = |d: &str, m: &str| DependencySpec {
            dependent: d.into(),
            members: vec![m.into()],
            redundancy: Redundancy::All,
            services: ALL_SERVICES,
        };
        let deps = vec![
            dep("s1", "agg"),
            dep("s2", "agg"),
            dep("s3", "hub"),
            dep("c1", "s1"),
            dep("c2", "s1"),
            dep("c3", "s2"),
        ];
        let x = Explainer::new(Arc::new(Topology::new(els, deps).unwrap()));
        let t = x.topology();
        let mut observable = vec![0; t.len()];
        for id in ["hub", "c1", "c2", "c3"] {
            observable[t.index_of(id).unwrap()] = Service::Registration.bit();
        }
        let obs = Observations::new(observable);
        (x, obs)
    }

    fn evidence_of<'a>(ranked: &'a [Candidate], id: &str) -> &'a [String] {
        &ranked.iter().find(|c| c.element == id).unwrap().evidence
    }

    fn mark_broken(x: &Explainer, obs: &mut Observations, ids: &[&str]) {
        for id in ids {
            let e = x.topology().index_of(id).unwrap();
            obs.broken.insert(e, Service::Registration.bit());
        }
    }

    #[test]
    fn what_a_cause_serves_is_counted_where_it_is_observed() {
        let (x, mut obs) = aggregation();
        mark_broken(&x, &mut obs, &["c1", "c2", "c3", "hub"]);
        let ranked = x.rank(&obs, 10);
        // Its direct dependents, the sites, report nothing: all its cells are down.
        assert!(
            evidence_of(&ranked, "agg")
                .contains(&"3 of the 3 observed elements it serves are failing".into()),
            "{ranked:?}"
        );
        assert!(
            evidence_of(&ranked, "s2")
                .contains(&"1 of the 1 observed element it serves is failing".into())
        );
        assert!(
            evidence_of(&ranked, "hub")
                .contains(&"nothing it serves is observed (1 element)".into())
        );
        // A cell serves nothing: no such line.
        assert_eq!(evidence_of(&ranked, "c3").len(), 2, "{ranked:?}");
    }

    #[test]
    fn the_regions_named_are_those_of_what_the_cause_explains() {
        // `s` carries all of `c2`'s services but only `c1`'s calls; `c1` in
        // the south loses registration, which `s` does not explain.
        let mut els = vec![Element::new("s", ElementKind::Site)];
        for (id, region) in [("c1", "south"), ("c2", "north")] {
            let mut cell = Element::new(id, ElementKind::Cell);
            cell.region = Some(region.into());
            els.push(cell);
        }
        let dep = |d: &str, services| DependencySpec {
            dependent: d.into(),
            members: vec!["s".into()],
            redundancy: Redundancy::All,
            services,
        };
        let deps = vec![dep("c1", Service::Voice.bit()), dep("c2", ALL_SERVICES)];
        let x = Explainer::new(Arc::new(Topology::new(els, deps).unwrap()));
        let t = x.topology();
        let mut observable = vec![0; t.len()];
        for id in ["c1", "c2"] {
            observable[t.index_of(id).unwrap()] =
                Service::Registration.bit() | Service::Voice.bit();
        }
        let mut obs = Observations::new(observable);
        mark_broken(&x, &mut obs, &["c1", "c2"]);
        let ranked = x.rank(&obs, 10);
        let lines = evidence_of(&ranked, "s");
        assert!(
            lines.contains(&"the broken element it explains sits in: north".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn evidence_counts_agree_with_their_nouns() {
        let (x, mut obs) = aggregation();
        mark_broken(&x, &mut obs, &["c1"]);
        let ranked = x.rank(&obs, 10);
        assert_eq!(
            evidence_of(&ranked, "s1")[..3],
            [
                "its failure explains 1 of 1 broken observation; 1 it predicts broken looks healthy",
                "1 of the 2 observed elements it serves is failing",
                "the broken element it explains sits in: north",
            ]
        );
        assert!(evidence_of(&ranked, "agg")[0].ends_with("; 2 it predicts broken look healthy"));
        // `c2` stops reporting: silent, so no longer observable.
        let c2 = x.topology().index_of("c2").unwrap();
        obs.observable[c2] = 0;
        obs.silent.insert(c2, Service::Registration.bit());
        let ranked = x.rank(&obs, 10);
        assert!(
            evidence_of(&ranked, "s1")
                .contains(&"1 observation it predicts broken stopped reporting".into())
        );
    }
}
