//! The pure pipeline: per-minute samples in; anomalies, root cause and incident
//! lifecycle out.
//!
//! sources -> [`dialtone_detect`] -> correlate -> [`dialtone_rca`] -> incidents.
//! The engine never reads the clock and does no I/O: the caller hands it each
//! minute's timestamp, so a drill replays bit for bit and the server, the drill
//! and the demo share one code path.

mod incident;
mod operator;
mod probes;
mod reports;
mod watch;

use incident::View;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dialtone_detect::{DetectorBank, DetectorConfig};
use dialtone_model::{
    ElementId, ElementKind, Sample, SeriesId, SeriesKey, ServiceMask, Timestamp, Topology,
};
use dialtone_rca::{CHANGE_LOOKBACK_SECS, Explainer, Observations};

pub use dialtone_rca::{ChangeEvent, ChangeKind, UnknownElement};
pub use incident::{Incident, TimelineEntry, TimelineKind, region_name, services_phrase};
pub use operator::{ActionError, Declaration, OperatorAction, OperatorState};
pub use probes::{MAX_PROBE_ID_BYTES, MAX_PROBES, ProbeAlert, ProbeRefused};
pub use reports::{REPORTS_ACTOR, SurgeOutcome};
pub use watch::{EventWatch, PREFLIGHT_SECS, WATCH_SENSITIVITY};

/// How the engine turns anomalies into incidents. Defaults suit per-minute KPIs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub detector: DetectorConfig,
    /// A series stays broken this long after its last anomalous sample, so a
    /// noisy outage does not flicker.
    pub hold_secs: i64,
    /// Broken customer-facing services (one cell's calls, say: services of an
    /// element that serves subscribers), explained by one element and not by
    /// an open incident, needed to open an incident.
    pub min_units_to_open: u32,
    /// Consecutive minutes a large fault must persist before an incident opens.
    pub confirm_minutes: u32,
    /// Broken customer-facing services from which a fault counts as large.
    pub large_fault_units: u32,
    /// Consecutive minutes a smaller fault must persist.
    pub small_fault_confirm_minutes: u32,
    /// The best candidate must score at least this to be named the root cause.
    pub min_root_cause_score: f64,
    /// Seconds without broken units before an incident moves to monitoring.
    pub monitoring_after_secs: i64,
    /// Seconds in monitoring, still quiet, before it resolves.
    pub resolve_after_secs: i64,
    /// Candidates kept per incident.
    pub candidates_kept: usize,
    /// No incident opens this long after the first sample: baselines are still
    /// being learned and their alarms mean nothing yet.
    pub startup_grace_secs: i64,
    /// An incident younger than this claims every broken unit and may revise its
    /// root cause as symptoms spread.
    pub settle_secs: i64,
    /// How long after the engine resolves an incident a series of its scope
    /// back as far from normal as the outage held it counts as broken again,
    /// whatever its score: the detector's memory of an episode damps the same
    /// outage coming back for hours (about 3 at one sample a minute, 15 at
    /// one every 5 minutes), and a repeat must open an incident.
    pub repeat_watch_secs: i64,
}

impl EngineConfig {
    /// Minutes a fault of `units` broken units must persist: small faults
    /// longer, as one cell's noise looks like one cell dying for a minute.
    fn confirm_minutes_for(&self, units: u32) -> u32 {
        if units >= self.large_fault_units {
            self.confirm_minutes
        } else {
            self.small_fault_confirm_minutes
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            detector: DetectorConfig::default(),
            hold_secs: 180,
            min_units_to_open: 2,
            confirm_minutes: 2,
            large_fault_units: 10,
            small_fault_confirm_minutes: 5,
            min_root_cause_score: 0.5,
            monitoring_after_secs: 300,
            resolve_after_secs: 900,
            candidates_kept: 5,
            startup_grace_secs: 3600,
            settle_secs: 600,
            repeat_watch_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("series `{0}` names element `{1}`, which is not in the topology")]
    UnknownElement(String, ElementId),
}

/// A planned window in which an element's symptoms are expected and page nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub element: usize,
    /// When it was announced: the public's "scheduled" update is dated then.
    pub scheduled_at: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
}

pub struct Engine {
    config: EngineConfig,
    explainer: Explainer,
    series: Vec<SeriesKey>,
    series_element: Vec<u32>,
    bank: DetectorBank,
    /// The detectors' scores of the minute being ingested, one per sample
    /// (kept to reuse its allocation).
    scores: Vec<f64>,
    /// Last anomalous minute per series (i64::MIN: never).
    last_anomalous: Vec<Timestamp>,
    /// Per series: the minute it last became broken (joined `hot`), the onset
    /// of its current episode.
    hot_since: Vec<Timestamp>,
    /// Series that were anomalous within the hold; pruned each minute.
    hot: Vec<SeriesId>,
    /// Per series: broken, and not yet seen back near its seasonal baseline
    /// (see [`Engine::detect`]): a gap in its data does not end that.
    unrecovered: Vec<bool>,
    /// Per element: the services its series measure.
    observable: Vec<ServiceMask>,
    /// Per element: the services its series that reported this minute measure.
    reporting: Vec<ServiceMask>,
    /// Per element: whether it serves subscribers directly (a cell, a fixed
    /// gateway, a conference bridge): its broken services are customer-facing.
    serves: Vec<bool>,
    maintenance: Vec<Maintenance>,
    /// Indices into `maintenance` of the windows open this minute.
    open_windows: Vec<usize>,
    /// Per element: whether an open window covers it (the window's element
    /// or anything its failure would break). Rebuilt only when `open_windows`
    /// changes, so a broken series costs one lookup instead of a scan of
    /// every window's impact set.
    maintained: Vec<bool>,
    /// The incidents the engine resolved within `repeat_watch_secs`, by
    /// id, and per element whether one's scope holds it: rebuilt only when
    /// those incidents change, so a sample costs one lookup.
    repeat_watching: Vec<u64>,
    repeat_watched: Vec<bool>,
    incidents: Vec<Incident>,
    next_incident_id: u64,
    /// The coherent fault not yet confirmed, if one was seen last minute.
    pending: Option<Pending>,
    now: Timestamp,
    first_sample_at: Option<Timestamp>,
    /// Cells per region, for the share of a region an incident affects.
    region_cells: HashMap<String, u32>,
    /// Firing probes (see `probes.rs`).
    probes: probes::Probes,
    /// Scheduled high-stakes events (see `watch.rs`).
    watches: Vec<watch::Watch>,
    /// Per element: whether an event watch is on for it this minute.
    watched: Vec<bool>,
    watch_log: Vec<(Timestamp, String)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("series", &self.series.len())
            .field("incidents", &self.incidents.len())
            .field("now", &self.now)
            .finish()
    }
}

impl Engine {
    /// `series[i]` is the key of [`SeriesId`] `i`; `first_incident_id` continues a store's numbering.
    pub fn new(
        topology: Arc<Topology>,
        series: Vec<SeriesKey>,
        config: EngineConfig,
        first_incident_id: u64,
    ) -> Result<Engine, EngineError> {
        let mut bank = DetectorBank::with_capacity(config.detector, series.len());
        let mut series_element = Vec::with_capacity(series.len());
        let serves = topology
            .elements()
            .iter()
            .map(|e| e.subscribers > 0)
            .collect();
        let mut observable = vec![0; topology.len()];
        for key in &series {
            let e = topology
                .index_of(&key.element)
                .ok_or_else(|| EngineError::UnknownElement(key.name(), key.element.clone()))?;
            series_element.push(e as u32);
            observable[e] |= key.kpi.services();
            bank.add_series(key.kpi.direction());
        }
        let n = series.len();
        let mut region_cells = HashMap::new();
        for el in topology.elements() {
            if el.kind == ElementKind::Cell {
                *region_cells
                    .entry(el.region.clone().unwrap_or_default())
                    .or_insert(0) += 1;
            }
        }
        let n_elements = topology.len();
        Ok(Engine {
            config,
            explainer: Explainer::new(topology),
            series,
            series_element,
            bank,
            scores: Vec::new(),
            last_anomalous: vec![Timestamp::MIN; n],
            hot_since: vec![Timestamp::MIN; n],
            hot: Vec::new(),
            unrecovered: vec![false; n],
            observable,
            reporting: vec![0; n_elements],
            serves,
            maintenance: Vec::new(),
            probes: probes::Probes::new(),
            watches: Vec::new(),
            watched: vec![false; n_elements],
            watch_log: Vec::new(),
            open_windows: Vec::new(),
            maintained: vec![false; n_elements],
            repeat_watching: Vec::new(),
            repeat_watched: vec![false; n_elements],
            incidents: Vec::new(),
            next_incident_id: first_incident_id,
            pending: None,
            now: Timestamp::MIN,
            first_sample_at: None,
            region_cells,
        })
    }

    pub fn topology(&self) -> &Topology {
        self.explainer.topology()
    }

    /// The root-cause ranker, with the changes recorded so far.
    pub fn explainer(&self) -> &Explainer {
        &self.explainer
    }

    /// Records a configuration change or deployment; rankings of faults that
    /// begin within [`CHANGE_LOOKBACK_SECS`] after it weigh it as evidence.
    pub fn record_change(&mut self, change: ChangeEvent) -> Result<(), UnknownElement> {
        self.explainer.record_change(change)
    }

    /// How many changes are kept for root cause: those of the last day and
    /// the lookback, and any dated later.
    pub fn changes_kept(&self) -> usize {
        self.explainer.changes_kept()
    }

    pub fn series(&self) -> &[SeriesKey] {
        &self.series
    }

    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// Numbers new incidents from `first_id` on (never backwards).
    pub fn continue_numbering_from(&mut self, first_id: u64) {
        self.next_incident_id = self.next_incident_id.max(first_id);
    }

    /// Every maintenance window scheduled, in the order given.
    pub fn maintenance(&self) -> &[Maintenance] {
        &self.maintenance
    }

    /// Plans a window on `element` from `start` to `end`, announced at
    /// `scheduled_at`; false if the topology has no such element.
    pub fn schedule_maintenance(
        &mut self,
        element: &str,
        scheduled_at: Timestamp,
        start: Timestamp,
        end: Timestamp,
    ) -> bool {
        match self.topology().index_of(element) {
            Some(e) => {
                self.maintenance.push(Maintenance {
                    element: e,
                    scheduled_at: scheduled_at.min(start),
                    start,
                    end,
                });
                true
            }
            None => false,
        }
    }

    /// Series that are broken right now, in series order.
    pub fn broken_series(&self) -> &[SeriesId] {
        &self.hot
    }

    /// Feeds one minute of samples; appends what happened to incidents to `timeline`.
    pub fn ingest(&mut self, at: Timestamp, samples: &[Sample], timeline: &mut Vec<TimelineEntry>) {
        self.refresh_watches(at);
        self.detect(at, samples);
        self.run_preflights(at);
        let started = self.first_sample_at.unwrap_or(at);
        if at - started >= self.config.startup_grace_secs {
            self.refresh_maintenance(at);
            // A server runs for months: keep only the changes a fault that
            // began in the last day could still be weighed against.
            self.explainer
                .forget_changes_before(at - CHANGE_RETENTION_SECS - CHANGE_LOOKBACK_SECS);
            let obs = self.observations();
            self.update_incidents(at, &obs, timeline);
        }
    }

    /// Runs the detectors over one minute of samples and updates which series
    /// are broken, without touching incidents: what `dialtone rca` replays a
    /// file through before it reads [`Engine::observations`].
    ///
    /// A minute holds at most one sample per series (the twin and `dialtone
    /// rca`'s readers make it so). A series sampled twice is scored twice, in
    /// order, but the hold test that keeps an outage's series broken reads
    /// its detector after both.
    pub fn detect(&mut self, at: Timestamp, samples: &[Sample]) {
        self.now = at;
        self.first_sample_at.get_or_insert(at);
        let threshold = self.bank.config().alarm_threshold;
        self.reporting.fill(0);
        // The elements open incidents of the engine's own claim (see below):
        // built only once a sample below the threshold has an unrecovered series.
        let mut in_scope: Option<HashSet<usize>> = None;
        self.refresh_repeat_watch(at);
        // All of the minute's scores first, in one pass over the detectors.
        // The hold test below then reads a series' state after the minute,
        // which is after its sample unless the minute holds it twice.
        self.scores.resize(samples.len(), 0.0);
        self.bank.update_samples(at, samples, &mut self.scores);
        for (s, &score) in samples.iter().zip(&self.scores) {
            let e = self.series_element[s.series as usize] as usize;
            self.reporting[e] |= self.series[s.series as usize].kpi.services();
            // A watched event's element alarms earlier (see `watch.rs`).
            let threshold = if self.watched[e] {
                threshold * WATCH_SENSITIVITY
            } else {
                threshold
            };
            let i = s.series as usize;
            let last = self.last_anomalous[i];
            let hot = last != Timestamp::MIN && last >= at - self.config.hold_secs;
            let scored = score >= threshold && self.series[i].kpi.services() != 0;
            // The detector's score lets go of a broken series after its hold
            // (hours), taking the level for a new normal, but an open
            // incident's symptom is not over while the series is as far from
            // where it was: without this a fault of more than two hours was
            // announced as restored while it went on (probed). Only where an
            // open incident claims the element: otherwise, once an operator
            // closes the incident of a genuine new normal, the series would
            // open another.
            let held = !scored
                && self.unrecovered[i]
                && in_scope
                    .get_or_insert_with(|| {
                        (self.incidents.iter())
                            .filter(|i| i.status.is_open() && i.engine_owned())
                            .flat_map(|i| i.scope.keys().copied())
                            .collect()
                    })
                    .contains(&e)
                && self.bank.still_away(s.series, at, s.value);
            // The same outage back after the engine resolved it (an
            // operator's resolution may have accepted a new normal).
            let back = !scored
                && !held
                && self.repeat_watched[e]
                && self.series[i].kpi.services() != 0
                && self.bank.still_away(s.series, at, s.value);
            if scored || held || back {
                if !hot {
                    self.hot.push(s.series);
                    self.hot_since[i] = at;
                }
                self.last_anomalous[i] = at;
            }
            self.unrecovered[i] = scored || held || back;
        }
        let hold = self.config.hold_secs;
        let last = &self.last_anomalous;
        self.hot.retain(|&s| last[s as usize] >= at - hold);
        self.hot.sort_unstable();
        self.hot.dedup();
    }

    /// Brings `repeat_watched` up to date for the incidents the engine
    /// resolved within `repeat_watch_secs` of `at`.
    fn refresh_repeat_watch(&mut self, at: Timestamp) {
        let since = at.saturating_sub(self.config.repeat_watch_secs);
        let watching: Vec<u64> = (self.incidents.iter())
            .filter(|i| i.engine_resolved_at.is_some_and(|r| r >= since))
            .map(|i| i.id)
            .collect();
        if watching == self.repeat_watching {
            return;
        }
        self.repeat_watched.fill(false);
        for inc in self.incidents.iter().filter(|i| watching.contains(&i.id)) {
            for &e in inc.scope.keys() {
                self.repeat_watched[e] = true;
            }
        }
        self.repeat_watching = watching;
    }

    /// Brings `maintained` up to date for the windows open at `at`.
    fn refresh_maintenance(&mut self, at: Timestamp) {
        let open: Vec<usize> = (0..self.maintenance.len())
            .filter(|&i| self.maintenance[i].start <= at && at < self.maintenance[i].end)
            .collect();
        if open == self.open_windows {
            return;
        }
        self.maintained.fill(false);
        for &i in &open {
            let e = self.maintenance[i].element;
            self.maintained[e] = true;
            for &(d, _) in self.explainer.impact(e).iter() {
                self.maintained[d as usize] = true;
            }
        }
        self.open_windows = open;
    }

    /// What is observed this minute: the services each element reports, those
    /// broken (outside maintenance) and those gone silent, with the onset.
    pub fn observations(&self) -> Observations {
        let mut obs = Observations::new(self.reporting.clone());
        for (e, (&all, &now)) in self.observable.iter().zip(&self.reporting).enumerate() {
            if all & !now != 0 && !self.maintained[e] {
                obs.silent.insert(e, all & !now);
            }
        }
        for &s in &self.hot {
            let e = self.series_element[s as usize] as usize;
            // What stopped reporting is unknown, neither broken nor healthy: a
            // collector gap must not look like an outage, and an element that
            // went dark with a failed transport must not contradict the cause.
            if self.maintained[e] || self.reporting[e] & self.series[s as usize].kpi.services() == 0
            {
                continue;
            }
            *obs.broken.entry(e).or_insert(0) |= self.series[s as usize].kpi.services();
        }
        // A firing probe observes its services at its element, broken.
        for (&(e, _), p) in self
            .probes
            .iter()
            .filter(|((e, _), _)| !self.maintained[*e])
        {
            obs.observable[e] |= p.services;
            *obs.broken.entry(e).or_insert(0) |= p.services;
            // Observed broken by the probe, so not silent: one unit must not
            // count as both (a candidate would be credited for it twice).
            if let Some(silent) = obs.silent.get_mut(&e) {
                *silent &= !p.services;
                if *silent == 0 {
                    obs.silent.remove(&e);
                }
            }
        }
        obs.onset = self.onset_of(&obs.broken);
        obs
    }

    /// When the oldest broken series or firing probe behind `broken` became broken.
    fn onset_of(&self, broken: &HashMap<usize, ServiceMask>) -> Option<Timestamp> {
        let behind =
            |e: usize, services: ServiceMask| broken.get(&e).is_some_and(|m| m & services != 0);
        let series = self
            .hot
            .iter()
            .filter(|&&s| {
                behind(
                    self.series_element[s as usize] as usize,
                    self.series[s as usize].kpi.services(),
                )
            })
            .map(|&s| self.hot_since[s as usize]);
        let probes = (self.probes.iter())
            .filter(|((e, _), p)| behind(*e, p.services))
            .map(|(_, p)| p.since);
        series.chain(probes).min()
    }

    fn update_incidents(
        &mut self,
        at: Timestamp,
        obs: &Observations,
        timeline: &mut Vec<TimelineEntry>,
    ) {
        // Each open incident claims the broken units it explains, the
        // operators' first, then the engine's oldest first; what nobody
        // claims may be a new fault. A young incident claims everything, so
        // the first minutes of one outage, while its symptoms spread, stay one incident.
        let mut residual = obs.broken.clone();
        let mut incidents = std::mem::take(&mut self.incidents);
        // A declared or adopted incident is the operators' to advance, but it
        // still claims the symptoms of its own cause (an adopted one has the
        // root cause or candidates its earlier run found) and of the
        // incidents merged into it, or they would open a new one: after a
        // restart mid-outage, the same outage a second time. They claim
        // first: a young incident of the engine's takes everything left, and
        // would take their outage for its own.
        for inc in incidents
            .iter()
            .filter(|i| i.status.is_open() && !i.engine_owned())
        {
            for f in inc.foci(self.explainer.topology()) {
                claim(&self.explainer, f, &mut residual);
            }
        }
        // Incidents an operator declared, and those carried over from an
        // earlier run, are the operators' alone: the engine never advances them.
        for inc in incidents
            .iter_mut()
            .filter(|i| i.status.is_open() && i.engine_owned())
        {
            let settling = at - inc.opened_at < self.config.settle_secs;
            // Past settling, an incident claims what its cause (or, unnamed, its best
            // guess) predicts, and what those of the incidents merged into it do, so a
            // fault that is not its own opens a new one.
            let claimed = if settling {
                let claimed = std::mem::take(&mut residual);
                // Only ranking reads it, and only a settling incident is ranked.
                inc.onset = inc.onset.into_iter().chain(self.onset_of(&claimed)).min();
                claimed
            } else {
                let mut claimed = HashMap::new();
                for f in inc.foci(self.explainer.topology()) {
                    for (e, m) in claim(&self.explainer, f, &mut residual) {
                        *claimed.entry(e).or_insert(0) |= m;
                    }
                }
                claimed
            };
            let mut claimed_obs = Observations {
                observable: obs.observable.clone(),
                onset: inc.onset,
                broken: claimed,
                silent: obs.silent.clone(),
            };
            // Not once service is restored: naming a cause then would tell
            // the public "working to restore service" after "service has
            // been restored", for a blip short of the symptoms-returned bar.
            // If the symptoms do come back, it is ranked again from there.
            let restoring = inc.status.is_ongoing();
            let ranked = if settling && restoring && claimed_obs.broken_units() > 0 {
                Some(
                    self.explainer
                        .rank(&claimed_obs, self.config.candidates_kept),
                )
            } else {
                None
            };
            // What the incident saw broken and is now under maintenance is
            // not seen to recover: a window hides KPIs, it mends nothing (an
            // operator may well open one to repair the fault). For holding
            // the incident only: ranking leaves maintenance out, as silence.
            if !self.open_windows.is_empty() {
                for (&e, &seen) in inc.scope.iter().filter(|&(&e, _)| self.maintained[e]) {
                    *claimed_obs.silent.entry(e).or_insert(0) |= seen;
                }
            }
            inc.advance(at, &claimed_obs, ranked, &self.view(), timeline);
        }
        self.incidents = incidents;
        self.close_quiet_report_incidents(at, timeline);
        let residual_obs = Observations {
            observable: obs.observable.clone(),
            onset: self.onset_of(&residual),
            broken: residual,
            silent: obs.silent.clone(),
        };
        let Some(fault) = self.coherent_fault(&residual_obs) else {
            self.pending = None;
            return;
        };
        // A fault persists when the same elements stay broken. Counting any coherent
        // fault would chain unrelated one-minute blips on different cells (each held
        // for a few minutes) into one "persistent" small fault.
        let minutes = match &self.pending {
            Some(p) if overlaps(&p.elements, &fault.elements) => p.minutes + 1,
            _ => 1,
        };
        // Small faults must persist longer: one cell's noise looks like one cell dying
        // for a minute or two, a dying cell stays dead.
        // A fault on a watched event's element opens at once: the event cannot wait.
        let watch = self.watch_over(at, &fault.elements).cloned();
        let needed = if watch.is_some() {
            1
        } else {
            self.config.confirm_minutes_for(fault.cell_units)
        };
        if minutes < needed {
            self.pending = Some(Pending {
                elements: fault.elements,
                minutes,
            });
            return;
        }
        self.pending = None;
        let ranked = fault.ranked;
        let mut inc = Incident::open(self.next_incident_id, at);
        self.next_incident_id += 1;
        inc.advance(at, &residual_obs, Some(ranked), &self.view(), timeline);
        if let Some(w) = watch {
            timeline.push(inc.note(
                at,
                TimelineKind::EventWatch,
                format!(
                    "degradation during the watched event '{}' on {}{}",
                    w.name,
                    w.element,
                    w.fallback
                        .as_deref()
                        .map(|f| format!(": fallback {f} ready to switch"))
                        .unwrap_or_default()
                ),
            ));
            inc.watch = Some(w);
        }
        self.incidents.push(inc);
    }

    fn view(&self) -> View<'_> {
        View {
            config: &self.config,
            explainer: &self.explainer,
            series: &self.series,
            series_element: &self.series_element,
            hot: &self.hot,
            region_cells: &self.region_cells,
            serves: &self.serves,
        }
    }

    /// A ranking of `residual` when one element explains it well enough to be a
    /// customer-facing fault: enough broken cell services, coherent, and not
    /// planned maintenance. Scattered noise and a pool member lost behind
    /// healthy peers (no cell breaks) are not.
    fn coherent_fault(&self, residual: &Observations) -> Option<CoherentFault> {
        if customer_units(&self.serves, &residual.broken) < self.config.min_units_to_open {
            return None;
        }
        let ranked = self.explainer.rank(residual, self.config.candidates_kept);
        let top = ranked.first()?;
        let root = self.topology().index_of(&top.element)?;
        let mut explained = residual.broken.clone();
        let impact = self.explainer.impact(root);
        explained.retain(|e, m| {
            *m &= impact
                .binary_search_by_key(&(*e as u32), |&(i, _)| i)
                .map_or(0, |i| impact[i].1);
            *m != 0
        });
        let explained_units = customer_units(&self.serves, &explained);
        let coherent = top.score >= self.config.min_root_cause_score
            && explained_units >= self.config.min_units_to_open
            && !self.maintained[root];
        if !coherent {
            return None;
        }
        let mut elements: Vec<usize> = explained.into_keys().collect();
        elements.sort_unstable();
        Some(CoherentFault {
            ranked,
            cell_units: explained_units,
            elements,
        })
    }
}

/// Changes are kept this long past their lookback window, for faults whose
/// symptoms began up to a day ago and are still being ranked.
const CHANGE_RETENTION_SECS: i64 = 24 * 3600;

/// A coherent fault seen this minute, not yet an incident.
struct CoherentFault {
    ranked: Vec<dialtone_model::Candidate>,
    /// Broken customer-facing services its top candidate explains.
    cell_units: u32,
    /// Broken elements its top candidate explains, sorted.
    elements: Vec<usize>,
}

/// A coherent fault waiting to be confirmed.
#[derive(Debug)]
struct Pending {
    /// Broken elements it explained last minute, sorted.
    elements: Vec<usize>,
    /// Consecutive minutes it has been seen.
    minutes: u32,
}

/// Whether two sorted element lists share an element.
fn overlaps(a: &[usize], b: &[usize]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// How far down the dependents a knock-on symptom is traced (a core instance,
/// its pool, the cells the pool serves).
const KNOCK_ON_DEPTH: usize = 3;

/// Moves the units `root`'s failure predicts out of `residual`, with their
/// knock-on symptoms, and returns them. A knock-on symptom is a broken unit on
/// an element that serves what `root` took down: an AMF whose cells lost power
/// sees their devices detach, though nothing in the topology makes the AMF
/// fail. Left in the residual, such leftovers would blur a second, independent
/// fault elsewhere into one that nothing explains well. Cells serve nothing, so
/// a dark cell is never claimed as a knock-on.
fn claim(
    explainer: &Explainer,
    root: usize,
    residual: &mut HashMap<usize, ServiceMask>,
) -> HashMap<usize, ServiceMask> {
    let impact = explainer.impact(root);
    let mut claimed = HashMap::new();
    for &(e, lost) in impact.iter() {
        if let Some(broken) = residual.get_mut(&(e as usize)) {
            let mine = *broken & lost;
            if mine != 0 {
                claimed.insert(e as usize, mine);
                *broken &= !lost;
            }
        }
    }
    let topology = explainer.topology();
    residual.retain(|&e, m| {
        if *m == 0 {
            return false;
        }
        let knock_on = serves_any(topology, e, KNOCK_ON_DEPTH, &|d| in_impact(&impact, d));
        if knock_on {
            *claimed.entry(e).or_insert(0) |= *m;
        }
        !knock_on
    });
    claimed
}

/// Whether element `e` is in `impact` (sorted by element, as
/// [`Explainer::impact`] gives it).
fn in_impact(impact: &[(u32, ServiceMask)], e: usize) -> bool {
    impact
        .binary_search_by_key(&(e as u32), |&(i, _)| i)
        .is_ok()
}

/// Broken services on elements that serve subscribers (`serves`): the
/// customer-facing units a fault is measured in, to open an incident or to
/// bring one back.
pub(crate) fn customer_units(serves: &[bool], broken: &HashMap<usize, ServiceMask>) -> u32 {
    (broken.iter())
        .filter(|&(&e, _)| serves[e])
        .map(|(_, m)| m.count_ones())
        .sum()
}

/// Whether an element within `depth` levels of dependents below `e` satisfies `hit`.
fn serves_any(topology: &Topology, e: usize, depth: usize, hit: &impl Fn(usize) -> bool) -> bool {
    let mut level = vec![e];
    let mut seen = std::collections::HashSet::from([e]);
    for _ in 0..depth {
        let next: Vec<usize> = level
            .iter()
            .flat_map(|&d| topology.dependents(d).iter().copied())
            .filter(|&d| seen.insert(d))
            .collect();
        if next.iter().any(|&d| hit(d)) {
            return true;
        }
        level = next;
    }
    false
}

#[cfg(test)]
mod tests {
    use dialtone_model::{
        ALL_SERVICES, DependencySpec, Element, IncidentStatus, Kpi, Redundancy, Service,
    };
    use dialtone_rca::ChangeKind;

    use super::*;

    /// The two sites' engine with a board call on `x1` in its first hour.
    fn watching_x1_for_an_hour() -> Engine {
        let mut engine = two_sites();
        engine
            .watch_event(EventWatch {
                name: "board call".into(),
                element: "x1".into(),
                start: START,
                end: START + 3600,
                fallback: None,
            })
            .unwrap();
        engine
    }

    #[test]
    fn a_preflight_reads_the_minute_it_runs_in() {
        // The event's pre-flight is due at the very first minute: every KPI
        // of `x1` reports it, healthy.
        let mut engine = watching_x1_for_an_hour();
        run_with(&mut engine, 0..1, healthy);
        let [(at, line)] = engine.watch_log() else {
            panic!("{:?}", engine.watch_log());
        };
        assert_eq!(*at, START);
        assert!(
            line.ends_with("all its KPIs report and look normal"),
            "{line}"
        );
    }

    #[test]
    fn a_closed_incident_merged_into_an_open_one_is_not_retired() {
        let mut e = two_sites();
        let d = |title: &str| Declaration {
            title: title.into(),
            severity: dialtone_model::Severity::Major,
            body: "Investigating.".into(),
            regions: Vec::new(),
        };
        let a = e.declare(100, "ada", &d("Calls failing")).unwrap().id;
        let s = e.declare(110, "ada", &d("Calls failing again")).unwrap().id;
        let c = e.declare(120, "ada", &d("Data slow")).unwrap().id;
        e.merge(200, "ada", a, s).unwrap();
        e.incident_mut(c)
            .unwrap()
            .apply(300, "ada", &OperatorAction::Resolve { body: None })
            .unwrap();
        let retired: Vec<u64> = e.retire_closed(1_000).iter().map(|i| i.id).collect();
        assert_eq!(retired, [c], "the merged one waits for its open target");
        let kept: Vec<u64> = e.incidents().iter().map(|i| i.id).collect();
        assert_eq!(kept, [a, s]);
        e.incident_mut(a)
            .unwrap()
            .apply(400, "ada", &OperatorAction::Resolve { body: None })
            .unwrap();
        assert_eq!(
            e.retire_closed(1_000).len(),
            2,
            "both go once the target closed"
        );
    }

    #[test]
    fn a_preflight_hears_the_probes_failing_on_its_element() {
        let mut engine = watching_x1_for_an_hour();
        let probe = ProbeAlert {
            id: "test-calls".into(),
            element: "x1".into(),
            services: ALL_SERVICES,
            firing: true,
        };
        engine.probe_alert(START - 60, &probe).unwrap();
        run_with(&mut engine, 0..1, healthy);
        let [(_, line)] = engine.watch_log() else {
            panic!("{:?}", engine.watch_log());
        };
        assert!(
            line.ends_with("1 of its probes fail: consider the fallback now"),
            "{line}"
        );
    }

    #[test]
    fn an_element_is_no_longer_watched_after_a_gap_past_its_events_record() {
        let mut engine = watching_x1_for_an_hour();
        let x1 = engine.topology().index_of("x1").unwrap();
        engine.refresh_watches(START);
        assert!(engine.watched[x1]);
        // The next minute comes two days later: the event is over and
        // dropped from the list in the same pass.
        engine.refresh_watches(START + 2 * 86_400);
        assert_eq!(engine.watches().count(), 0);
        assert!(!engine.watched[x1]);
    }

    #[test]
    fn a_carried_score_cannot_alarm_a_watched_element() {
        // A sample carried over a gap in the data only ranks: the lowered
        // alarm level of a watched event's elements must stay above it.
        let threshold = EngineConfig::default().detector.alarm_threshold;
        assert!(threshold * WATCH_SENSITIVITY > dialtone_detect::MAX_CARRIED_SCORE);
    }

    /// A cell serving 1,000 subscribers.
    fn cell(id: &str) -> Element {
        let mut cell = Element::new(id, ElementKind::Cell);
        cell.subscribers = 1000;
        cell
    }

    /// `dependent` needs every one of `members`, for every service.
    fn needs(dependent: &str, members: &[&str]) -> DependencySpec {
        DependencySpec::new(dependent, members, Redundancy::All, ALL_SERVICES)
    }

    /// The attach success of each of `elements`.
    fn attach_success(elements: &[&str]) -> Vec<SeriesKey> {
        (elements.iter())
            .map(|e| SeriesKey {
                element: e.to_string(),
                kpi: Kpi::AttachSuccess,
            })
            .collect()
    }

    fn engine_over(els: Vec<Element>, deps: Vec<DependencySpec>, series: Vec<SeriesKey>) -> Engine {
        let topology = Arc::new(Topology::new(els, deps).unwrap());
        Engine::new(topology, series, EngineConfig::default(), 1).unwrap()
    }

    /// Cells `a1` and `a2` behind a site and a router that explain them
    /// equally well, so only a change can tell the two apart.
    fn engine() -> Engine {
        let els = vec![
            Element::new("site-x", ElementKind::Site),
            Element::new("router-x", ElementKind::Router),
            cell("a1"),
            cell("a2"),
            cell("b"),
        ];
        let deps = ["a1", "a2"]
            .map(|c| needs(c, &["site-x", "router-x"]))
            .to_vec();
        engine_over(els, deps, attach_success(&["a1", "a2", "b"]))
    }

    /// Cells `x1`, `x2` behind `site-x` in the north and `y1`, `y2` behind
    /// `site-y` in the south.
    fn two_sites() -> Engine {
        let mut els = vec![
            Element::new("site-x", ElementKind::Site),
            Element::new("site-y", ElementKind::Site),
        ];
        let cells = ["x1", "x2", "y1", "y2"];
        for id in cells {
            let mut cell = cell(id);
            let region = if id.starts_with('x') {
                "north"
            } else {
                "south"
            };
            cell.region = Some(region.into());
            els.push(cell);
        }
        let deps = cells
            .map(|c| needs(c, &[&format!("site-{}", &c[..1])]))
            .to_vec();
        engine_over(els, deps, attach_success(&cells))
    }

    /// Healthy KPIs on every cell of [`two_sites`] throughout.
    fn healthy(_: i64, _: u32) -> Option<f64> {
        Some(98.5)
    }

    /// Test calls and data sessions failing on x1: two customer-facing
    /// services, enough to open an incident on one cell.
    fn test_calls_failing_on_x1(firing: bool) -> ProbeAlert {
        ProbeAlert {
            id: "ActiveTestsFailing".into(),
            element: "x1".into(),
            services: Service::Voice.bit() | Service::Data.bit(),
            firing,
        }
    }

    #[test]
    fn a_firing_probe_is_a_broken_observation_until_it_resolves() {
        // Active tests fail on x1, whose only KPI measures registration: no
        // KPI can see it, the probe does.
        let mut engine = two_sites();
        run_with(&mut engine, 0..FAULT_MINUTE, healthy);
        let fired = START + 60 * FAULT_MINUTE;
        engine
            .probe_alert(fired, &test_calls_failing_on_x1(true))
            .unwrap();
        // Held: as long as the probe fires, the incident never reaches
        // monitoring, though every KPI stays healthy; once it resolves,
        // monitoring comes within the 30 minutes below.
        let firing = run_with(&mut engine, FAULT_MINUTE..FAULT_MINUTE + 45, healthy);
        assert_eq!(
            first(&firing, TimelineKind::Monitoring),
            None,
            "{firing:#?}"
        );
        let [inc] = engine.incidents() else {
            panic!("one incident: {:#?}", engine.incidents());
        };
        assert_eq!(inc.root_cause.as_deref(), Some("x1"), "{inc:#?}");
        assert!(inc.opened_at >= fired, "{inc:#?}");
        let regions: Vec<&str> = inc
            .impact
            .regions
            .iter()
            .map(|r| r.region.as_str())
            .collect();
        assert_eq!(regions, ["north"]);
        // What the cause's failure breaks: at least what the probe found.
        let tested = Service::Voice.bit() | Service::Data.bit();
        assert_eq!(inc.impact.regions[0].services & tested, tested);

        let resolved = START + 60 * (FAULT_MINUTE + 45);
        engine
            .probe_alert(resolved, &test_calls_failing_on_x1(false))
            .unwrap();
        let timeline = run_with(&mut engine, FAULT_MINUTE + 45..FAULT_MINUTE + 75, healthy);
        assert!(
            first(&timeline, TimelineKind::Monitoring).is_some_and(|m| m > FAULT_MINUTE + 45),
            "{timeline:#?}"
        );
    }

    #[test]
    fn monitoring_is_never_followed_by_news_of_the_cause_without_the_symptoms_back() {
        // A short fault on two cells, then one cell's blip: the incident
        // may reach monitoring before its root cause has led two minutes
        // running, and the blip's ranking named it then, telling the public
        // "working to restore service" after "service has been restored"
        // (a 2-minute fault with a blip 10 minutes after it did).
        for (minutes, blip) in (1..=12).flat_map(|m| (m + 1..m + 15).map(move |b| (m, b))) {
            let mut engine = two_sites();
            let timeline = run_with(&mut engine, 0..FAULT_MINUTE + 60, |minute, series| {
                let fault = (FAULT_MINUTE..FAULT_MINUTE + minutes).contains(&minute);
                Some(
                    if (series < 2 && fault) || (series == 0 && minute == FAULT_MINUTE + blip) {
                        40.0
                    } else {
                        98.5
                    },
                )
            });
            let mut monitoring = false;
            for e in &timeline {
                match e.kind {
                    TimelineKind::Monitoring => monitoring = true,
                    TimelineKind::SymptomsReturned => monitoring = false,
                    TimelineKind::RootCauseIdentified | TimelineKind::RootCauseRevised => {
                        assert!(!monitoring, "{minutes}-minute fault: {timeline:#?}");
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn a_unit_a_probe_finds_broken_is_not_also_silent() {
        // x1's registration KPI stops reporting while a registration probe
        // on x1 fires: one broken unit, not a broken and a silent one.
        let mut engine = two_sites();
        run_with(&mut engine, 0..FAULT_MINUTE, healthy);
        let probe = ProbeAlert {
            services: Service::Registration.bit(),
            ..test_calls_failing_on_x1(true)
        };
        engine
            .probe_alert(START + 60 * FAULT_MINUTE, &probe)
            .unwrap();
        let x1_silent = |minute: i64, series: u32| healthy(minute, series).filter(|_| series != 0);
        run_with(&mut engine, FAULT_MINUTE..FAULT_MINUTE + 1, x1_silent);
        let x1 = engine.topology().index_of("x1").unwrap();
        let obs = engine.observations();
        assert_eq!(obs.broken.get(&x1), Some(&Service::Registration.bit()));
        assert_eq!(obs.silent.get(&x1), None, "{:?}", obs.silent);
    }

    #[test]
    fn probes_are_refused_on_unknown_elements_and_past_the_limit() {
        let mut engine = two_sites();
        let elsewhere = ProbeAlert {
            element: "nowhere".into(),
            ..test_calls_failing_on_x1(true)
        };
        assert_eq!(
            engine.probe_alert(START, &elsewhere),
            Err(ProbeRefused::UnknownElement("nowhere".into()))
        );
        let long_id = ProbeAlert {
            id: "f".repeat(MAX_PROBE_ID_BYTES + 1),
            ..test_calls_failing_on_x1(true)
        };
        assert_eq!(
            engine.probe_alert(START, &long_id),
            Err(ProbeRefused::IdTooLong(MAX_PROBE_ID_BYTES + 1))
        );
        let nothing_broken = ProbeAlert {
            services: 0,
            ..test_calls_failing_on_x1(true)
        };
        assert_eq!(
            engine.probe_alert(START, &nothing_broken),
            Err(ProbeRefused::NoService)
        );
        assert_eq!(engine.firing_probes(), 0);
        for k in 0..MAX_PROBES {
            let alert = ProbeAlert {
                id: k.to_string(),
                ..test_calls_failing_on_x1(true)
            };
            engine.probe_alert(START, &alert).unwrap();
        }
        let one_more = test_calls_failing_on_x1(true);
        assert_eq!(
            engine.probe_alert(START, &one_more),
            Err(ProbeRefused::TooMany)
        );
        // Those firing can still change and resolve.
        let known = ProbeAlert {
            id: "7".into(),
            ..test_calls_failing_on_x1(false)
        };
        engine.probe_alert(START, &known).unwrap();
        assert_eq!(engine.firing_probes(), MAX_PROBES - 1);
        engine.probe_alert(START, &one_more).unwrap();
        assert_eq!(engine.firing_probes(), MAX_PROBES);
    }

    #[test]
    fn silence_outside_the_cause_does_not_hold_an_incident() {
        // `b`, behind neither site-x nor router-x, blips while the incident
        // settles (so it claims `b` too), then loses its collector for good.
        const RECOVERED: i64 = FAULT_MINUTE + 15;
        let level = |minute: i64, series: u32| match (series, minute) {
            (2, m) if (FAULT_MINUTE + 2..FAULT_MINUTE + 5).contains(&m) => Some(40.0),
            (2, m) if m >= FAULT_MINUTE + 8 => None,
            (_, m) if (FAULT_MINUTE..RECOVERED).contains(&m) => Some(40.0),
            _ => Some(98.5),
        };
        let mut engine = engine();
        let timeline = run_with(&mut engine, 0..RECOVERED + 30, level);
        let inc = &engine.incidents()[0];
        assert!(inc.scope.contains_key(&4), "b was claimed: {:?}", inc.scope);
        assert_recovers_in_plain_sight(&timeline, RECOVERED - 1);
    }

    #[test]
    fn an_event_over_for_a_day_is_no_longer_listed() {
        let mut engine = engine();
        let watch = EventWatch {
            name: "Board call".into(),
            element: "site-x".into(),
            start: START + 60 * 30,
            end: START + 60 * 90,
            fallback: None,
        };
        engine.watch_event(watch).unwrap();
        let ok = |_, _| Some(98.5);
        run_with(&mut engine, 0..100, ok);
        assert_eq!(engine.watches().count(), 1);
        assert_eq!(engine.watch_log().len(), 1, "its pre-flight");
        run_with(&mut engine, 100..90 + 24 * 60, ok);
        assert_eq!(engine.watches().count(), 1, "over for less than a day");
        run_with(&mut engine, 90 + 24 * 60..100 + 24 * 60, ok);
        assert_eq!(engine.watches().count(), 0);
        assert!(engine.watch_log().is_empty());
    }

    #[test]
    fn maintenance_started_mid_outage_does_not_restore_it() {
        // The operator opens a window on the failed site to repair it: its
        // cells' KPIs no longer count, and must not count as recovered.
        const WINDOW: i64 = FAULT_MINUTE + 20;
        let level = a_cells_down_from_the_fault;
        let mut engine = engine();
        run_with(&mut engine, 0..WINDOW, level);
        let (start, end) = (START + 60 * WINDOW, START + 60 * (WINDOW + 120));
        assert!(engine.schedule_maintenance("site-x", start, start, end));
        let timeline = run_with(&mut engine, WINDOW..WINDOW + 60, level);
        assert_eq!(
            first(&timeline, TimelineKind::Monitoring),
            None,
            "{timeline:#?}"
        );
        assert_eq!(first(&timeline, TimelineKind::Unobserved), Some(WINDOW));
    }

    /// A fixed-line gateway fails alone: no cell is hit, yet its lines are
    /// subscribers in a region, and the rating and the public words say so.
    #[test]
    fn a_gateway_alone_is_rated_and_named_by_its_lines() {
        let mut gateway = Element::new("bng-north", ElementKind::Router);
        gateway.subscribers = 12_000;
        gateway.region = Some("north".into());
        let mut a1 = cell("a1");
        a1.region = Some("north".into());
        let key = |element: &str, kpi| SeriesKey {
            element: element.into(),
            kpi,
        };
        let series = vec![
            key("bng-north", Kpi::AttachSuccess),
            key("bng-north", Kpi::CallSetupSuccess),
            key("a1", Kpi::AttachSuccess),
        ];
        let mut engine = engine_over(vec![gateway, a1], Vec::new(), series);
        run_with(
            &mut engine,
            0..FAULT_MINUTE + 15,
            a_cells_down_from_the_fault,
        );
        let [inc] = engine.incidents() else {
            panic!("one incident: {:#?}", engine.incidents());
        };
        assert_eq!(
            (
                inc.impact.cells_affected,
                inc.impact.fixed_line_subscribers_affected,
                &inc.impact.fixed_line_regions[..],
            ),
            (0, 12_000, &["north".to_string()][..])
        );
        assert_eq!(inc.severity, dialtone_model::Severity::Major);
        assert_eq!(inc.title, "Fixed-line service disrupted in North");
        let detected = (inc.timeline.iter())
            .find(|e| e.kind == TimelineKind::Detected)
            .expect("detected");
        assert!(
            (detected.public_body).starts_with(
                "We are investigating problems with fixed-line service for customers in North."
            ),
            "{}",
            detected.public_body
        );
        // And closed where it was opened.
        assert_eq!(
            inc.resolved_words(),
            "This incident has been resolved. Services in North are working normally."
        );
        assert_eq!(inc.closing_areas(), [("north".to_string(), 0)]);
    }

    #[test]
    fn a_merged_guess_adds_only_what_was_broken() {
        // Site x fails; later two of site y's three cells, whose incident,
        // its cause only a guess yet, is merged into x's. The guess
        // predicts y3 too: y3 never broke, and stays out of the impact.
        const Y_FAILS: i64 = FAULT_MINUTE + 20;
        let mut els = vec![
            Element::new("site-x", ElementKind::Site),
            Element::new("site-y", ElementKind::Site),
        ];
        let cells = ["x1", "x2", "y1", "y2", "y3"];
        els.extend(cells.map(cell));
        let deps = cells
            .map(|c| needs(c, &[&format!("site-{}", &c[..1])]))
            .to_vec();
        let mut engine = engine_over(els, deps, attach_success(&cells));
        let level = |minute: i64, series: u32| {
            let down = match series {
                0 | 1 => minute >= FAULT_MINUTE,
                2 | 3 => minute >= Y_FAILS,
                _ => false,
            };
            Some(if down { 40.0 } else { 98.5 })
        };
        run_with(&mut engine, 0..Y_FAILS + 5, level);
        let [x, y] = engine.incidents() else {
            panic!("two incidents: {:#?}", engine.incidents());
        };
        assert_eq!(y.root, None, "still a guess: {y:#?}");
        let guess = y
            .focus(engine.topology())
            .map(|f| engine.topology().element(f).id.clone());
        assert_eq!(guess.as_deref(), Some("site-y"));
        let (x, y) = (x.id, y.id);
        engine
            .merge(START + 60 * (Y_FAILS + 2), "noc", x, y)
            .unwrap();
        run_with(&mut engine, Y_FAILS + 2..Y_FAILS + 10, level);
        let target = &engine.incidents()[0];
        assert_eq!(target.impact.cells_affected, 4, "{target:#?}");
    }

    /// Left open by an earlier run: the engine never advances it, yet an
    /// operator's new rating is news for Statuspage clients.
    #[test]
    fn an_adopted_incident_rerated_by_an_operator_shows_as_updated() {
        let mut engine = engine();
        let stored = serde_json::to_string(&Incident::open(7, START)).unwrap();
        engine.adopt(serde_json::from_str(&stored).unwrap());
        let rerate = OperatorAction::SetSeverity(dialtone_model::Severity::Critical);
        (engine.incident_mut(7).unwrap())
            .apply(START + 600, "ada", &rerate)
            .unwrap();
        assert_eq!(engine.incidents()[0].public_updated_at(), START + 600);
    }

    #[test]
    fn an_outage_back_hours_after_it_was_resolved_opens_an_incident() {
        // a1 and a2 fail for ten minutes; their incident resolves. Two
        // hours after the first alarm the detector's hold is over, but
        // its memory of the episode still damps the same outage coming
        // back: the engine must see it all the same, unless an operator
        // resolved the first (who may have accepted a new normal).
        const BACK_FOR_GOOD: i64 = FAULT_MINUTE + 10;
        const AGAIN: i64 = FAULT_MINUTE + 130;
        let level = |minute: i64, series: u32| {
            let down = (FAULT_MINUTE..BACK_FOR_GOOD).contains(&minute) || minute >= AGAIN;
            Some(if series < 2 && down { 40.0 } else { 98.5 })
        };
        let incidents_after = |by_hand: bool| {
            let mut engine = engine();
            run_with(&mut engine, 0..BACK_FOR_GOOD + 8, level);
            if by_hand {
                let id = engine.incidents()[0].id;
                let resolve = OperatorAction::Resolve { body: None };
                (engine.incident_mut(id).unwrap())
                    .apply(START + 60 * (BACK_FOR_GOOD + 8), "ada", &resolve)
                    .unwrap();
            }
            run_with(&mut engine, BACK_FOR_GOOD + 8..AGAIN, level);
            let [first] = engine.incidents() else {
                panic!("one incident: {:#?}", engine.incidents());
            };
            assert_eq!(first.status, IncidentStatus::Resolved, "{first:#?}");
            run_with(&mut engine, AGAIN..AGAIN + 15, level);
            engine.incidents().len()
        };
        assert_eq!(incidents_after(false), 2);
        assert_eq!(incidents_after(true), 1);
    }

    #[test]
    fn a_merged_incidents_symptoms_open_no_new_one() {
        // Site x fails, then site y once x's incident has settled: two
        // incidents, which an operator merges. Y's cells stay broken.
        const Y_FAILS: i64 = FAULT_MINUTE + 20;
        let level = |minute: i64, series: u32| {
            let down = minute >= if series < 2 { FAULT_MINUTE } else { Y_FAILS };
            Some(if down { 40.0 } else { 98.5 })
        };
        let mut engine = two_sites();
        run_with(&mut engine, 0..Y_FAILS + 15, level);
        let ids: Vec<u64> = engine.incidents().iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), 2, "{:#?}", engine.incidents());
        let at = START + 60 * (Y_FAILS + 15);
        // Rated worse than its own impact would be: the merged incident's
        // rating stands over the target's minutes that follow.
        engine.incident_mut(ids[1]).unwrap().severity = dialtone_model::Severity::Critical;
        engine.merge(at, "noc", ids[0], ids[1]).unwrap();
        run_with(&mut engine, Y_FAILS + 15..Y_FAILS + 45, level);
        assert_eq!(engine.incidents().len(), 2, "{:#?}", engine.incidents());
        let target = &engine.incidents()[0];
        assert_eq!(
            target.severity,
            dialtone_model::Severity::Critical,
            "{target:#?}"
        );
    }

    #[test]
    fn an_ongoing_incident_merged_into_a_monitored_one_reopens_it_and_keeps_its_watch() {
        // Site x fails and recovers: its incident is monitoring. Site y
        // then fails, under a watched event; an operator merges y's
        // incident into x's.
        const X_BACK: i64 = FAULT_MINUTE + 10;
        const Y_FAILS: i64 = X_BACK + 8;
        let level = |minute: i64, series: u32| {
            let down = if series < 2 {
                (FAULT_MINUTE..X_BACK).contains(&minute)
            } else {
                minute >= Y_FAILS
            };
            Some(if down { 40.0 } else { 98.5 })
        };
        let mut engine = two_sites();
        run_with(&mut engine, 0..Y_FAILS + 8, level);
        let [x, y] = [0, 1].map(|i| engine.incidents()[i].id);
        assert_eq!(engine.incidents()[0].status, IncidentStatus::Monitoring);
        let watch = EventWatch {
            name: "Board call".into(),
            element: "site-y".into(),
            start: START,
            end: START + 86_400,
            fallback: None,
        };
        engine.incident_mut(y).unwrap().watch = Some(watch.clone());
        let at = START + 60 * (Y_FAILS + 8);
        engine.merge(at, "noc", x, y).unwrap();
        let target = &engine.incidents()[0];
        assert_ne!(target.status, IncidentStatus::Monitoring, "{target:#?}");
        let last = target.timeline.last().unwrap();
        assert_eq!(last.kind, TimelineKind::SymptomsReturned);
        // Of y's trouble, in y's area.
        assert!(last.public_body.contains("South"), "{}", last.public_body);
        assert_eq!(target.watch.as_ref(), Some(&watch));
        // And so it stays, minute after minute, while y's fault lasts (x's
        // area too: the impact of a named cause is what it breaks).
        run_with(&mut engine, Y_FAILS + 8..Y_FAILS + 12, level);
        let target = &engine.incidents()[0];
        let regions: Vec<&str> = (target.impact.regions.iter())
            .map(|r| r.region.as_str())
            .collect();
        assert!(regions.contains(&"south"), "{target:#?}");
        assert!(target.title.contains("South"), "{}", target.title);
    }

    #[test]
    fn a_merge_carries_the_areas_told_and_repoints_earlier_merges() {
        let mut engine = engine();
        let declaration = |title: &str| Declaration {
            title: title.into(),
            severity: dialtone_model::Severity::Minor,
            body: "We are looking into it.".into(),
            regions: Vec::new(),
        };
        let mut ids = Vec::new();
        let told = [
            ("Calls", "north", Service::Voice),
            ("Data", "south", Service::Data),
            ("Sign-on", "east", Service::Registration),
        ];
        for (title, region, service) in told {
            let id = engine
                .declare(START, "noc", &declaration(title))
                .unwrap()
                .id;
            engine
                .incident_mut(id)
                .unwrap()
                .tell([(region.into(), service.bit())]);
            ids.push(id);
        }
        let [a, b, c] = ids[..] else { unreachable!() };
        engine.merge(START + 60, "noc", b, a).unwrap();
        engine.merge(START + 120, "noc", c, b).unwrap();
        let merged_into = |id| {
            engine
                .incidents()
                .iter()
                .find(|i| i.id == id)
                .unwrap()
                .operator
                .merged_into
        };
        assert_eq!((merged_into(a), merged_into(b)), (Some(c), Some(c)));
        let told_by_c = |engine: &Engine| {
            let c = engine.incidents().iter().find(|i| i.id == c).unwrap();
            c.told_regions.clone()
        };
        assert_eq!(told_by_c(&engine), ["east", "south", "north"]);
        let c_told = &engine.incidents().iter().find(|i| i.id == c).unwrap();
        assert_eq!(
            c_told.told_areas(),
            told.map(|(_, region, service)| (region.to_string(), service.bit()))
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
        );

        // A draft cannot take a public incident's followers.
        let draft = engine
            .declare(START, "noc", &declaration("Voice"))
            .unwrap()
            .id;
        engine.incident_mut(draft).unwrap().awaiting_approval = true;
        let refused = engine.merge(START + 180, "noc", draft, c);
        assert!(
            matches!(refused, Err(ActionError::MergeIntoDraft { .. })),
            "{refused:?}"
        );
        // Merged the other way, the draft's areas were never told of anything.
        engine.incident_mut(draft).unwrap().told_regions = vec!["west".into()];
        engine.merge(START + 180, "noc", c, draft).unwrap();
        assert_eq!(told_by_c(&engine), ["east", "south", "north"]);
    }

    #[test]
    fn an_incident_merged_into_a_declared_one_opens_no_new_one() {
        // The operator declares the outage by hand, then merges the
        // engine's own incident about it into theirs.
        let level = a_cells_down_from_the_fault;
        let mut engine = two_sites();
        run_with(&mut engine, 0..FAULT_MINUTE + 15, level);
        let at = START + 60 * (FAULT_MINUTE + 15);
        let declaration = Declaration {
            title: "Calls failing in the east".into(),
            severity: dialtone_model::Severity::Major,
            body: "We are looking into it.".into(),
            regions: Vec::new(),
        };
        let declared = engine.declare(at, "noc", &declaration).unwrap().id;
        let found = engine.incidents()[0].id;
        engine.merge(at, "noc", declared, found).unwrap();
        // The server restarts: the next run adopts the open incident as the
        // store gives it back (a declared one has no root of its own).
        let stored = serde_json::to_value(&*engine.incident_mut(declared).unwrap()).unwrap();
        let mut restarted = two_sites();
        restarted.adopt(serde_json::from_value(stored).unwrap());
        run_with(&mut engine, FAULT_MINUTE + 15..FAULT_MINUTE + 45, level);
        assert_eq!(engine.incidents().len(), 2, "{:#?}", engine.incidents());
        run_with(&mut restarted, 0..FAULT_MINUTE + 45, level);
        let ids: Vec<u64> = restarted.incidents().iter().map(|i| i.id).collect();
        assert_eq!(ids, [declared], "{:#?}", restarted.incidents());
    }

    #[test]
    fn a_new_fault_after_a_restart_leaves_the_adopted_outage_alone() {
        // Site x fails and its incident names it. The server restarts: the
        // next run adopts that incident. Then site y fails: its incident,
        // young and claiming whatever is left, must not take x's cells.
        const Y_FAILS: i64 = FAULT_MINUTE + 20;
        let level = |minute: i64, series: u32| {
            let down = minute >= if series < 2 { FAULT_MINUTE } else { Y_FAILS };
            Some(if down { 40.0 } else { 98.5 })
        };
        let mut engine = two_sites();
        run_with(&mut engine, 0..FAULT_MINUTE + 15, level);
        let found = &engine.incidents()[0];
        assert_eq!(found.root_cause.as_deref(), Some("site-x"), "{found:#?}");
        let stored = serde_json::to_value(found).unwrap();
        let mut restarted = two_sites();
        restarted.adopt(serde_json::from_value(stored).unwrap());
        run_with(&mut restarted, 0..Y_FAILS + 8, level);
        let incidents = restarted.incidents();
        assert_eq!(incidents.len(), 2, "{incidents:#?}");
        let topology = restarted.topology();
        let seen: Vec<&str> = (incidents[1].scope.keys())
            .map(|&e| topology.element(e).id.as_str())
            .collect();
        assert!(!seen.is_empty());
        assert!(
            !seen.iter().any(|id| id.starts_with('x') || *id == "site-x"),
            "{seen:?}"
        );
    }

    const START: Timestamp = 1_700_000_040;
    const FAULT_MINUTE: i64 = 150;

    /// Runs three hours; `a1` and `a2` lose registrations from [`FAULT_MINUTE`].
    fn run(engine: &mut Engine) {
        run_with(engine, 0..180, a_cells_down_from_the_fault);
    }

    /// The level of series `series` at `minute`: the first two (`a1` and
    /// `a2`, or `x1` and `x2`) lose registrations from [`FAULT_MINUTE`] on.
    fn a_cells_down_from_the_fault(minute: i64, series: u32) -> Option<f64> {
        Some(if series < 2 && minute >= FAULT_MINUTE {
            40.0
        } else {
            98.5
        })
    }

    /// Runs `minutes` of jittered samples: `level(minute, series)` is the
    /// series' level, `None` where it does not report. Returns the timeline.
    fn run_with(
        engine: &mut Engine,
        minutes: std::ops::Range<i64>,
        level: impl Fn(i64, u32) -> Option<f64>,
    ) -> Vec<TimelineEntry> {
        let mut noise = 0x2545_f491_4f6c_dd1d_u64;
        let mut timeline = Vec::new();
        for minute in minutes {
            let samples: Vec<Sample> = (0..engine.series().len() as u32)
                .filter_map(|series| {
                    noise ^= noise << 13;
                    noise ^= noise >> 7;
                    noise ^= noise << 17;
                    let jitter = (noise % 1000) as f64 / 1000.0 - 0.5;
                    level(minute, series).map(|value| Sample {
                        series,
                        value: value + jitter,
                    })
                })
                .collect();
            engine.ingest(START + 60 * minute, &samples, &mut timeline);
        }
        timeline
    }

    /// An incident whose cells, bad last at minute `last_bad`, report
    /// healthy from then on notes no silence and moves to monitoring after
    /// the engine's three-minute hold and five quiet minutes.
    fn assert_recovers_in_plain_sight(timeline: &[TimelineEntry], last_bad: i64) {
        assert_eq!(first(timeline, TimelineKind::Unobserved), None);
        assert_eq!(
            first(timeline, TimelineKind::Monitoring),
            Some(last_bad + 3 + 5)
        );
    }

    /// The minute of the first timeline entry of `kind`.
    fn first(timeline: &[TimelineEntry], kind: TimelineKind) -> Option<i64> {
        timeline
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| (e.at - START) / 60)
    }

    #[test]
    fn silence_after_the_symptoms_is_not_recovery() {
        const DARK_FROM: i64 = FAULT_MINUTE + 15;
        const BACK_AT: i64 = DARK_FROM + 50;
        // The broken cells go dark (a site's power, say), then come back healthy.
        let level = |back: i64| {
            move |minute: i64, series: u32| match minute {
                m if series == 2 || m < FAULT_MINUTE || m >= back => Some(98.5),
                m if m < DARK_FROM => Some(40.0),
                _ => None,
            }
        };
        let mut engine = engine();
        let timeline = run_with(&mut engine, 0..BACK_AT + 40, level(BACK_AT));
        let detected = first(&timeline, TimelineKind::Detected).expect("the fault opens one");
        assert!(detected < DARK_FROM, "{detected}");
        assert_eq!(
            first(&timeline, TimelineKind::Unobserved),
            Some(DARK_FROM),
            "{timeline:#?}"
        );
        let unobserved = timeline
            .iter()
            .filter(|e| e.kind == TimelineKind::Unobserved)
            .count();
        assert_eq!(unobserved, 1, "noted once per status");
        // Quiet counts from the last silent minute, then as ever: monitoring
        // five minutes after it, resolved fifteen minutes after that.
        assert_eq!(
            first(&timeline, TimelineKind::Monitoring),
            Some(BACK_AT + 4),
            "{timeline:#?}"
        );
        assert_eq!(first(&timeline, TimelineKind::Resolved), Some(BACK_AT + 19));

        // The same cells recovering in plain sight move on without waiting.
        let mut engine = super::tests::engine();
        let timeline = run_with(&mut engine, 0..BACK_AT, level(DARK_FROM));
        assert_recovers_in_plain_sight(&timeline, DARK_FROM - 1);
    }

    #[test]
    fn a_blip_while_monitoring_is_not_the_symptoms_returning() {
        // a1 and a2 recover; while the incident monitors, a1 alone blips for
        // a minute (one broken unit, under the two an incident needs), then
        // both fail again for good before it resolves.
        const RECOVERED: i64 = FAULT_MINUTE + 15;
        const MONITORING: i64 = RECOVERED - 1 + 3 + 5;
        const BLIP: i64 = MONITORING + 3;
        const AGAIN: i64 = MONITORING + 8;
        let level = |minute: i64, series: u32| {
            let down = match (series, minute) {
                (2, _) => false,
                (0, m) if m == BLIP => true,
                (_, m) => (FAULT_MINUTE..RECOVERED).contains(&m) || m >= AGAIN,
            };
            Some(if down { 40.0 } else { 98.5 })
        };
        let mut engine = engine();
        let timeline = run_with(&mut engine, 0..AGAIN + 20, level);
        assert_recovers_in_plain_sight(&timeline, RECOVERED - 1);
        let kinds: Vec<(i64, TimelineKind)> = (timeline.iter())
            .filter(|e| e.at - START >= 60 * MONITORING)
            .map(|e| ((e.at - START) / 60, e.kind))
            .filter(|(_, k)| {
                matches!(
                    k,
                    TimelineKind::SymptomsReturned
                        | TimelineKind::Monitoring
                        | TimelineKind::Resolved
                        | TimelineKind::Detected
                )
            })
            .collect();
        // The blip changes nothing; the second failure is back once it is
        // what would open an incident: two broken units for the five minutes
        // a fault that small must last.
        assert_eq!(
            kinds,
            [
                (MONITORING, TimelineKind::Monitoring),
                (AGAIN + 4, TimelineKind::SymptomsReturned),
            ],
            "{timeline:#?}"
        );
    }

    #[test]
    fn an_adopted_incident_is_the_operators_and_keeps_its_number() {
        // An incident the engine of an earlier run opened, left identified
        // when that run ended: this engine advances nothing on it, however
        // quiet the network, and numbers new incidents after it.
        let mut engine = engine();
        let mut left = Incident::open(41, START);
        left.status = IncidentStatus::Identified;
        engine.adopt(left);
        let timeline = run_with(&mut engine, 0..60, |_, _| Some(98.5));
        assert!(timeline.is_empty(), "{timeline:#?}");
        let adopted = &engine.incidents()[0];
        assert_eq!(adopted.status, IncidentStatus::Identified);
        assert!(adopted.operator.carried_over && !adopted.engine_owned());
        let declaration = Declaration {
            title: "Calls failing".into(),
            severity: dialtone_model::Severity::Major,
            body: "Looking into it.".into(),
            regions: Vec::new(),
        };
        assert_eq!(engine.declare(START, "noc", &declaration).unwrap().id, 42);
    }

    #[test]
    fn a_core_functions_blip_while_monitoring_does_not_bring_the_incident_back() {
        // Cells `a1` and `a2` behind one AMF, which reports its own
        // procedure success: an outage of all three, then, while monitoring,
        // ten minutes of the AMF's KPI alone. That would open no incident (it
        // breaks no service on an element that serves subscribers), so it
        // does not bring this one back either.
        let els = vec![
            Element::new("amf", ElementKind::CoreInstance),
            cell("a1"),
            cell("a2"),
        ];
        let deps = ["a1", "a2"].map(|c| needs(c, &["amf"])).to_vec();
        let mut series = attach_success(&["a1", "a2"]);
        series.push(SeriesKey {
            element: "amf".into(),
            kpi: Kpi::ProcedureSuccess,
        });
        let mut engine = engine_over(els, deps, series);
        const RECOVERED: i64 = FAULT_MINUTE + 20;
        let timeline = run_with(&mut engine, 0..RECOVERED + 90, |minute, series| {
            let outage = (FAULT_MINUTE..RECOVERED).contains(&minute);
            let blip = series == 2 && (RECOVERED + 9..RECOVERED + 19).contains(&minute);
            Some(if outage || blip { 40.0 } else { 98.5 })
        });
        let monitoring = first(&timeline, TimelineKind::Monitoring);
        assert!(
            monitoring.is_some_and(|m| m < RECOVERED + 9),
            "{timeline:#?}"
        );
        assert_eq!(
            first(&timeline, TimelineKind::SymptomsReturned),
            None,
            "{timeline:#?}"
        );
    }

    #[test]
    fn an_outage_carried_over_a_restart_opens_no_second_incident() {
        // The server restarts mid-outage: the new run adopts the open
        // incident as its store gave it back, and the same symptoms, seen
        // again by fresh detectors, belong to it.
        let mut before = engine();
        run(&mut before);
        let [open] = before.incidents() else {
            panic!("one incident: {:#?}", before.incidents());
        };
        assert!(open.root_cause.is_some(), "{open:#?}");
        let stored: Incident = serde_json::from_value(serde_json::to_value(open).unwrap()).unwrap();
        let mut after = engine();
        after.adopt(stored);
        run(&mut after);
        let ids: Vec<u64> = after.incidents().iter().map(|i| i.id).collect();
        assert_eq!(ids, [open.id], "{:#?}", after.incidents());
    }

    #[test]
    fn an_outage_longer_than_the_detectors_hold_is_not_restored() {
        // a1 and a2 stay broken for four hours, past the detector's two-hour
        // hold on a score: the incident must wait for the cells to recover.
        const RECOVERED: i64 = FAULT_MINUTE + 240;
        let level = |minute: i64, series: u32| {
            let down = series < 2 && (FAULT_MINUTE..RECOVERED).contains(&minute);
            Some(if down { 40.0 } else { 98.5 })
        };
        let mut engine = engine();
        let timeline = run_with(&mut engine, 0..RECOVERED + 30, level);
        assert!(first(&timeline, TimelineKind::Detected).is_some());
        assert_recovers_in_plain_sight(&timeline, RECOVERED - 1);
    }

    #[test]
    fn a_gap_in_a_long_outage_does_not_end_it() {
        // As above, with ten minutes of no data from both cells after the
        // detector's hold has let go: they come back as broken as before.
        const RECOVERED: i64 = FAULT_MINUTE + 240;
        const GAP: std::ops::Range<i64> = FAULT_MINUTE + 150..FAULT_MINUTE + 160;
        let level = |minute: i64, series: u32| match (series, minute) {
            (0 | 1, m) if GAP.contains(&m) => None,
            (0 | 1, m) if (FAULT_MINUTE..RECOVERED).contains(&m) => Some(40.0),
            _ => Some(98.5),
        };
        let mut engine = engine();
        let timeline = run_with(&mut engine, 0..RECOVERED + 30, level);
        assert_eq!(
            first(&timeline, TimelineKind::Monitoring),
            Some(RECOVERED - 1 + 3 + 5),
            "{timeline:#?}"
        );
    }

    #[test]
    fn the_first_update_names_the_areas_the_likeliest_cause_explains() {
        // Site x's cells fail; a cell behind site y, in another region,
        // blips while the incident opens and settles.
        let mut engine = two_sites();
        let level = |minute: i64, series: u32| {
            let down = match series {
                0 | 1 => minute >= FAULT_MINUTE,
                2 => (FAULT_MINUTE + 3..FAULT_MINUTE + 6).contains(&minute),
                _ => false,
            };
            Some(if down { 40.0 } else { 98.5 })
        };
        let timeline = run_with(&mut engine, 0..FAULT_MINUTE + 15, level);
        let detected = (timeline.iter())
            .find(|e| e.kind == TimelineKind::Detected)
            .expect("site x's fault opens one");
        assert!(
            detected.public_body.contains("for customers in North."),
            "{}",
            detected.public_body
        );
    }

    /// Cells behind `site-x` whose calls fail, and, if `gateway`, a fixed-line
    /// gateway behind it too: whether the public words still advise a landline.
    fn advises_a_landline(gateway: bool) -> bool {
        let mut els = vec![Element::new("site-x", ElementKind::Site)];
        for id in ["x1", "x2"] {
            let mut cell = Element::new(id, ElementKind::Cell);
            cell.subscribers = 1000;
            cell.emergency_capable = true;
            cell.region = Some("north".into());
            els.push(cell);
        }
        let mut gw = Element::new("gw-x", ElementKind::Router);
        gw.subscribers = if gateway { 5000 } else { 0 };
        gw.region = Some("north".into());
        els.push(gw);
        let deps = ["x1", "x2", "gw-x"]
            .map(|e| DependencySpec {
                dependent: e.into(),
                members: vec!["site-x".into()],
                redundancy: Redundancy::All,
                services: ALL_SERVICES,
            })
            .to_vec();
        let series = [("x1", Kpi::AttachSuccess), ("x2", Kpi::AttachSuccess)]
            .into_iter()
            .chain([("gw-x", Kpi::ProcedureSuccess)])
            .map(|(e, kpi)| SeriesKey {
                element: e.into(),
                kpi,
            })
            .collect();
        let topology = Arc::new(Topology::new(els, deps).unwrap());
        let mut engine = Engine::new(topology, series, EngineConfig::default(), 1).unwrap();
        let level = |minute: i64, _| Some(if minute >= FAULT_MINUTE { 40.0 } else { 98.5 });
        let timeline = run_with(&mut engine, 0..FAULT_MINUTE + 15, level);
        let words: Vec<&str> = (timeline.iter())
            .filter(|e| e.public_body.contains("Emergency calls"))
            .map(|e| e.public_body.as_str())
            .collect();
        assert!(!words.is_empty(), "{timeline:#?}");
        words.iter().all(|w| w.contains("try a landline"))
    }

    #[test]
    fn a_landline_is_advised_only_where_no_fixed_line_gateway_is_hit() {
        assert!(advises_a_landline(false));
        assert!(!advises_a_landline(true));
    }

    #[test]
    fn a_change_after_the_fault_began_is_no_evidence_when_later_symptoms_remain() {
        // a1 and a2 are broken for five minutes from the fault; a2 recovers
        // for four and breaks again, while the incident is still settling.
        // A change on router-x falls in the pause: what is broken then began
        // after the change, but the fault began before it.
        let level = |minute: i64, series: u32| {
            let first = (FAULT_MINUTE..FAULT_MINUTE + 5).contains(&minute);
            let broken = first || (series == 1 && minute >= FAULT_MINUTE + 9);
            Some(if series < 2 && broken { 40.0 } else { 98.5 })
        };
        let mut engine = engine();
        let change = ChangeEvent {
            at: START + 60 * (FAULT_MINUTE + 8),
            element: "router-x".into(),
            kind: ChangeKind::Config,
            description: "rollback of the QoS policy".into(),
        };
        engine.record_change(change).unwrap();
        run_with(&mut engine, 0..FAULT_MINUTE + 20, level);
        let inc = engine.incidents().first().expect("an incident");
        let evidence: Vec<&String> = (inc.candidates.iter()).flat_map(|c| &c.evidence).collect();
        assert!(
            !evidence.iter().any(|l| l.contains("rollback")),
            "{evidence:#?}"
        );
    }

    #[test]
    fn a_recorded_change_names_the_changed_element_on_the_live_path() {
        let mut plain = engine();
        run(&mut plain);
        let top = |e: &Engine| e.incidents()[0].candidates[0].clone();
        assert_eq!(plain.incidents().len(), 1);
        assert_eq!(top(&plain).element, "site-x");
        let onset = plain.observations().onset.expect("a1 and a2 are broken");
        assert_eq!(onset, START + 60 * FAULT_MINUTE);

        let mut changed = engine();
        let change = ChangeEvent {
            at: START + 60 * (FAULT_MINUTE - 20),
            element: "router-x".into(),
            kind: ChangeKind::Config,
            description: "new QoS policy".into(),
        };
        changed.record_change(change.clone()).unwrap();
        assert!(
            changed
                .record_change(ChangeEvent {
                    element: "ghost".into(),
                    ..change
                })
                .is_err()
        );
        run(&mut changed);
        let top = top(&changed);
        assert_eq!(top.element, "router-x");
        assert!(
            top.evidence
                .iter()
                .any(|l| l == "config change 'new QoS policy' on router-x 20 min before onset"),
            "{:?}",
            top.evidence
        );
    }
}
