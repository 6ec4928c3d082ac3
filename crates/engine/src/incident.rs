//! One incident's life: investigating -> identified -> monitoring -> resolved,
//! with a timeline whose public lines never name internal elements.

use std::collections::{BTreeMap, HashMap};

use dialtone_model::{
    ALL_SERVICES, Candidate, ComponentStatus, ElementId, ElementKind, Impact, IncidentStatus,
    RegionImpact, SeriesId, SeriesKey, Service, ServiceMask, Severity, Timestamp, Topology,
};
use dialtone_rca::{Explainer, ImpactSet, Observations};
use serde::{Deserialize, Serialize};

use crate::operator::OperatorState;
use crate::{EngineConfig, customer_units, in_impact};

/// Charts per incident: enough to see the shape, few enough to read.
const CHARTED_SERIES: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Detected,
    RootCauseIdentified,
    RootCauseRevised,
    Monitoring,
    SymptomsReturned,
    Resolved,
    /// An operator opened the incident by hand.
    Declared,
    Acknowledged,
    Assigned,
    /// An operator's public update, possibly changing the status.
    Updated,
    SeverityChanged,
    /// Another incident was merged into this one.
    Merged,
    /// The drafted first update waits for an operator's approval: the
    /// incident is below the playbook's auto-publish severity.
    AwaitingApproval,
    /// An operator approved the drafted update; the incident is public.
    Approved,
    /// The public update cadence is due: the owner was reminded.
    UpdateDue,
    /// A public "still working on it" update, posted when the cadence is
    /// due and nobody has written one: the public is never left without word.
    Progress,
    /// Someone was paged (or escalated to).
    Paged,
    /// A mitigation action fired.
    Mitigated,
    /// A public update was queued for subscribers.
    Notified,
    /// A surge of customer problem reports.
    CustomerReports,
    /// The incident hit a watched high-stakes event.
    EventWatch,
    /// Its symptoms are gone, but elements that showed them have stopped
    /// reporting: recovery is not declared on silence.
    Unobserved,
}

impl TimelineKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Detected => "detected",
            TimelineKind::RootCauseIdentified => "root_cause_identified",
            TimelineKind::RootCauseRevised => "root_cause_revised",
            TimelineKind::Monitoring => "monitoring",
            TimelineKind::SymptomsReturned => "symptoms_returned",
            TimelineKind::Resolved => "resolved",
            TimelineKind::Declared => "declared",
            TimelineKind::Acknowledged => "acknowledged",
            TimelineKind::Assigned => "assigned",
            TimelineKind::Updated => "updated",
            TimelineKind::SeverityChanged => "severity_changed",
            TimelineKind::Merged => "merged",
            TimelineKind::AwaitingApproval => "awaiting_approval",
            TimelineKind::Approved => "approved",
            TimelineKind::UpdateDue => "update_due",
            TimelineKind::Progress => "progress",
            TimelineKind::Paged => "paged",
            TimelineKind::Mitigated => "mitigated",
            TimelineKind::Notified => "notified",
            TimelineKind::CustomerReports => "customer_reports",
            TimelineKind::EventWatch => "event_watch",
            TimelineKind::Unobserved => "unobserved",
        }
    }

    /// Whether the entry is published on the status page.
    pub const fn is_public(self) -> bool {
        !matches!(
            self,
            TimelineKind::RootCauseRevised
                | TimelineKind::Acknowledged
                | TimelineKind::Assigned
                | TimelineKind::SeverityChanged
                | TimelineKind::Merged
                | TimelineKind::AwaitingApproval
                | TimelineKind::Approved
                | TimelineKind::UpdateDue
                | TimelineKind::Paged
                | TimelineKind::Mitigated
                | TimelineKind::Notified
                | TimelineKind::CustomerReports
                | TimelineKind::EventWatch
                | TimelineKind::Unobserved
        )
    }
}

/// Something that happened to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub incident: u64,
    pub at: Timestamp,
    pub kind: TimelineKind,
    /// The incident's status after this entry.
    pub status: IncidentStatus,
    /// Plain words for the public; no internal element names.
    pub public_body: String,
    /// What the operator sees in the console.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incident {
    pub id: u64,
    pub status: IncidentStatus,
    pub severity: Severity,
    /// Public title, e.g. "Calls and mobile data disrupted in North".
    pub title: String,
    pub opened_at: Timestamp,
    pub identified_at: Option<Timestamp>,
    pub monitoring_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// The named root cause, once identified.
    pub root_cause: Option<String>,
    /// Element index of the named root cause in the engine's topology.
    #[serde(skip)]
    pub(crate) root: Option<usize>,
    /// Ranked candidates, best first, with evidence.
    pub candidates: Vec<Candidate>,
    pub impact: Impact,
    /// Broken series worth charting.
    pub charted_series: Vec<SeriesId>,
    pub last_broken_at: Timestamp,
    /// Everything that happened, oldest first.
    pub timeline: Vec<TimelineEntry>,
    #[serde(skip)]
    previous_top: Option<usize>,
    /// The services this incident has seen broken, per element index: where
    /// its recovery must be observed before it is declared.
    #[serde(skip)]
    pub(crate) scope: BTreeMap<usize, ServiceMask>,
    /// The foci (see [`Incident::focus`]) of the incidents merged into this
    /// one, by element id: it claims their symptoms too, or they would open
    /// a new incident, in a restarted run as well (ids, not indices, as what
    /// is stored must outlive a topology's order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) merged_causes: Vec<ElementId>,
    /// The worst severity of the incidents merged into this one: its own
    /// impact, worked out again each minute, never rates it below that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) merged_severity: Option<Severity>,
    /// When what the public sees of the incident besides its updates last
    /// changed (see [`PublicFace`]): Statuspage's `updated_at` moves then too.
    #[serde(default)]
    pub(crate) public_changed_at: Timestamp,
    /// When the engine resolved it (quiet since monitoring began), not an
    /// operator: its scope is watched for the outage coming back (see
    /// [`EngineConfig::repeat_watch_secs`]).
    /// Not stored: a restarted run loads no closed incident, nor any scope.
    #[serde(skip)]
    pub(crate) engine_resolved_at: Option<Timestamp>,
    /// The face last noted; none before the first note, which is no change
    /// (not stored: a restarted run learns it again from what it loads,
    /// and `public_changed_at`, stored, keeps the time of the last change).
    #[serde(skip)]
    public_face: Option<PublicFace>,
    /// The last minute some of the scope's services were silent, which
    /// counts as not quiet (see [`Incident::unobserved_units`]).
    #[serde(skip)]
    last_unobserved_at: Timestamp,
    /// The earliest onset its claimed symptoms have shown, which ranking
    /// weighs changes against: the symptoms broken now may have begun
    /// later (the first ones recovered, or flapped), and a fix an operator
    /// made after the fault began must not pass for its cause.
    #[serde(skip)]
    pub(crate) onset: Option<Timestamp>,
    /// The status in which silence in the scope was last noted.
    #[serde(skip)]
    unobserved_noted_in: Option<IncidentStatus>,
    /// Region ids the public has been told are affected: the words that
    /// close the incident (restored, resolved) name every one of them, so no
    /// area told of trouble is left without the all-clear.
    #[serde(default)]
    pub told_regions: Vec<String>,
    /// The services the public was told were broken in each region of
    /// [`Incident::told_regions`]: whoever follows one of them there hears
    /// the all-clear, though it recovered before the rest. Records from
    /// before these were kept have none.
    #[serde(default)]
    pub told_services: BTreeMap<String, ServiceMask>,
    /// Minutes in a row, while monitoring, with broken units enough to open
    /// an incident (see [`Incident::symptoms_back`]).
    #[serde(skip)]
    returning_minutes: u32,
    /// Operator state (see `operator.rs`); `default` keeps older records readable.
    #[serde(default)]
    pub operator: OperatorState,
    /// Kept off the status page until an operator approves the drafted
    /// update (see the `respond` crate's playbook).
    #[serde(default)]
    pub awaiting_approval: bool,
    /// The watched high-stakes event this incident hit, if any.
    #[serde(default)]
    pub watch: Option<crate::EventWatch>,
}

/// What an incident may read of the engine while it advances.
pub(crate) struct View<'a> {
    pub config: &'a EngineConfig,
    pub explainer: &'a Explainer,
    pub series: &'a [SeriesKey],
    pub series_element: &'a [u32],
    pub hot: &'a [SeriesId],
    pub region_cells: &'a HashMap<String, u32>,
    /// Per element: whether it serves subscribers directly (see the engine's).
    pub serves: &'a [bool],
}

impl Incident {
    /// A new incident `id`, investigating from `at`, with nothing known yet:
    /// the engine opens them; the playbook's tests build them by hand.
    pub fn open(id: u64, at: Timestamp) -> Incident {
        Incident {
            id,
            status: IncidentStatus::Investigating,
            severity: Severity::Minor,
            title: String::new(),
            opened_at: at,
            identified_at: None,
            monitoring_at: None,
            resolved_at: None,
            updated_at: at,
            root: None,
            candidates: Vec::new(),
            impact: Impact::default(),
            charted_series: Vec::new(),
            last_broken_at: at,
            timeline: Vec::new(),
            previous_top: None,
            scope: BTreeMap::new(),
            merged_causes: Vec::new(),
            merged_severity: None,
            public_changed_at: at,
            engine_resolved_at: None,
            public_face: None,
            last_unobserved_at: Timestamp::MIN,
            onset: None,
            unobserved_noted_in: None,
            told_regions: Vec::new(),
            told_services: BTreeMap::new(),
            returning_minutes: 0,
            root_cause: None,
            operator: OperatorState::default(),
            awaiting_approval: false,
            watch: None,
        }
    }

    /// One minute of this incident's life. `claimed` is what it explains now;
    /// `ranked`, when given, is a fresh candidate ranking over `claimed`.
    pub(crate) fn advance(
        &mut self,
        at: Timestamp,
        claimed: &Observations,
        ranked: Option<Vec<Candidate>>,
        view: &View<'_>,
        timeline: &mut Vec<TimelineEntry>,
    ) {
        let units = claimed.broken_units();
        if units > 0 {
            self.last_broken_at = at;
        }
        for (&e, &m) in &claimed.broken {
            *self.scope.entry(e).or_insert(0) |= m;
        }
        // Silence matters only once nothing is broken (most minutes of an
        // outage skip the impact lookups).
        if units == 0 {
            let unobserved = self.unobserved_units(claimed, view.explainer);
            if unobserved > 0 {
                self.note_unobserved(at, unobserved, timeline);
            }
        }
        let first_minute = self.title.is_empty();
        let verdict = ranked.and_then(|ranked| self.consider(at, ranked, view));
        self.refresh_impact(claimed, view);
        self.note_public_face(at);
        self.chart_more(claimed, view);
        if first_minute {
            let detail = self.detected_detail(view.explainer.topology());
            self.push(at, TimelineKind::Detected, detail, timeline);
        }
        if let Some((kind, detail)) = verdict {
            self.push(at, kind, detail, timeline);
        }
        let cfg = view.config;
        // Counted as a new fault's are, on elements that serve subscribers:
        // a core function's KPIs blipping while monitoring would open no
        // incident, so they do not bring this one back either.
        let back = self.symptoms_back(customer_units(view.serves, &claimed.broken), cfg);
        match self.status {
            IncidentStatus::Investigating | IncidentStatus::Identified
                if units == 0
                    && at - self.last_broken_at.max(self.last_unobserved_at)
                        >= cfg.monitoring_after_secs =>
            {
                self.move_to(IncidentStatus::Monitoring, at);
                self.push(
                    at,
                    TimelineKind::Monitoring,
                    "no broken KPIs left".into(),
                    timeline,
                );
            }
            IncidentStatus::Monitoring if back => {
                let detail = format!("{units} broken observations again");
                self.reopen(at, detail, timeline);
            }
            // Not while symptoms are coming back, short of the bar so far.
            IncidentStatus::Monitoring
                if self.returning_minutes == 0
                    && self.monitoring_at.is_some_and(|m| {
                        at - m.max(self.last_unobserved_at) >= cfg.resolve_after_secs
                    }) =>
            {
                self.move_to(IncidentStatus::Resolved, at);
                self.engine_resolved_at = Some(at);
                self.push(
                    at,
                    TimelineKind::Resolved,
                    "symptoms have not returned as a fault that opens an incident since monitoring began"
                        .into(),
                    timeline,
                );
            }
            _ => {}
        }
    }

    /// Whether, while monitoring, the symptoms are back as a new fault would
    /// have to be to open an incident: `min_units_to_open` broken units for
    /// the confirmation minutes of a fault that size. After an outage the
    /// baselines are still settling, and an element's worth of KPIs blips
    /// now and then at the noise rate; telling every subscriber "problems
    /// have returned" for one broken cell KPI, then "restored" minutes later,
    /// flapped the public status for hours after a 45-minute fault (probed
    /// in the demo). Below the bar the incident stays in monitoring and
    /// resolves on its usual clock, as such a blip would open no incident.
    fn symptoms_back(&mut self, units: u32, cfg: &EngineConfig) -> bool {
        if self.status != IncidentStatus::Monitoring || units < cfg.min_units_to_open {
            self.returning_minutes = 0;
            return false;
        }
        self.returning_minutes += 1;
        self.returning_minutes >= cfg.confirm_minutes_for(units)
    }

    /// The element whose failure this incident is about: its named root
    /// cause, or else its best guess so far.
    pub(crate) fn focus(&self, topology: &Topology) -> Option<usize> {
        self.root.or_else(|| {
            self.candidates
                .first()
                .and_then(|c| topology.index_of(&c.element))
        })
    }

    /// Its focus and those of the incidents merged into it: the causes whose
    /// symptoms it claims.
    pub(crate) fn foci<'a>(&'a self, topology: &'a Topology) -> impl Iterator<Item = usize> + 'a {
        (self.focus(topology).into_iter()).chain(self.merged_foci(topology))
    }

    /// The foci of the incidents merged into it.
    fn merged_foci<'a>(&'a self, topology: &'a Topology) -> impl Iterator<Item = usize> + 'a {
        (self.merged_causes.iter()).filter_map(|id| topology.index_of(id))
    }

    /// Services of the scope's elements that stopped reporting. A fault that
    /// worsens until its elements go dark (a site's power, the transport its
    /// management rides) leaves no broken KPIs behind, and silence is not
    /// recovery: telling the public service is restored then is the worst
    /// update to give. Maintenance windows are not silent (see the engine).
    /// Only what the incident's cause (and those of the incidents merged
    /// into it) would break counts: while it settles, an incident claims
    /// every broken unit, unrelated blips included, and their elements' later
    /// silence is none of its business.
    fn unobserved_units(&self, claimed: &Observations, explainer: &Explainer) -> u32 {
        let impacts: Vec<ImpactSet> = (self.foci(explainer.topology()))
            .map(|f| explainer.impact(f))
            .collect();
        let predicted =
            |e: usize| impacts.is_empty() || impacts.iter().any(|impact| in_impact(impact, e));
        self.scope
            .iter()
            .filter(|&(&e, _)| predicted(e))
            .filter_map(|(e, &broken)| claimed.silent.get(e).map(|&silent| silent & broken))
            .map(|m| m.count_ones())
            .sum()
    }

    /// Holds the incident where it is for another minute of silence in its
    /// scope, telling the operator why once per status (a collector that
    /// flaps would otherwise write a note a minute).
    fn note_unobserved(&mut self, at: Timestamp, units: u32, timeline: &mut Vec<TimelineEntry>) {
        self.last_unobserved_at = at;
        if self.unobserved_noted_in == Some(self.status) {
            return;
        }
        self.unobserved_noted_in = Some(self.status);
        let detail = format!(
            "no broken KPIs left, but {units} services that were broken have stopped reporting \
             or are under maintenance: recovery waits until they report again (resolve by hand \
             if they are gone for good or repaired)"
        );
        timeline.push(self.note(at, TimelineKind::Unobserved, detail));
    }

    /// Names (or revises) the root cause once the same candidate leads two minutes running.
    /// Takes a fresh ranking; returns the timeline entry a newly named or
    /// revised root cause makes, for the caller to write once the impact
    /// reflects the new root (the public words name what it breaks).
    fn consider(
        &mut self,
        at: Timestamp,
        ranked: Vec<Candidate>,
        view: &View<'_>,
    ) -> Option<(TimelineKind, String)> {
        let topology = view.explainer.topology();
        let top = ranked
            .first()
            .filter(|c| c.score >= view.config.min_root_cause_score)
            .and_then(|c| topology.index_of(&c.element));
        let stable = top.is_some() && top == self.previous_top;
        self.previous_top = top;
        if stable && top != self.root {
            let revised = self.root.is_some();
            self.root = top;
            self.candidates = ranked;
            self.root_cause = Some(self.candidates[0].element.clone());
            let detail = format!(
                "root cause: {} ({:.0}% agreement)",
                self.candidates[0].element,
                self.candidates[0].score * 100.0
            );
            if revised {
                return Some((TimelineKind::RootCauseRevised, detail));
            }
            self.identified_at = Some(at);
            self.status = IncidentStatus::Identified;
            return Some((TimelineKind::RootCauseIdentified, detail));
        } else if self.root.is_none() || top == self.root {
            self.candidates = ranked;
        }
        None
    }

    fn refresh_impact(&mut self, claimed: &Observations, view: &View<'_>) {
        let topology = view.explainer.topology();
        let cells: Vec<(usize, ServiceMask)> = match self.root {
            // Its cause's predicted impact, and of the causes of the
            // incidents merged into it (it claims their symptoms and tells
            // their areas) what it has seen broken: such a cause may be
            // only a guess, whose prediction reaches past what broke.
            Some(root) => {
                let mut predicted: BTreeMap<usize, ServiceMask> = BTreeMap::new();
                for &(e, lost) in view.explainer.impact(root).iter() {
                    *predicted.entry(e as usize).or_default() |= lost;
                }
                for cause in self.merged_foci(topology) {
                    for &(e, lost) in view.explainer.impact(cause).iter() {
                        if let Some(&seen) = self.scope.get(&(e as usize)) {
                            *predicted.entry(e as usize).or_default() |= lost & seen;
                        }
                    }
                }
                predicted.into_iter().collect()
            }
            // No root yet: what is broken, as far as the likeliest cause so
            // far (and the causes merged in) explains it. A settling
            // incident claims every broken unit, and a stray blip in
            // another region named that region in the first public update
            // (probed); all that is broken where the guesses explain nothing.
            None => {
                let impacts: Vec<ImpactSet> = (self.foci(topology))
                    .map(|f| view.explainer.impact(f))
                    .collect();
                let broken = claimed.broken.iter().map(|(&e, &m)| (e, m));
                let explained: Vec<(usize, ServiceMask)> = broken
                    .clone()
                    .filter(|&(e, _)| impacts.iter().any(|impact| in_impact(impact, e)))
                    .collect();
                if explained.is_empty() {
                    broken.collect()
                } else {
                    explained
                }
            }
        };
        let mut per_region: HashMap<&str, [u32; 3]> = HashMap::new();
        let mut impact = Impact::default();
        for (e, lost) in cells {
            let el = topology.element(e);
            if lost == 0 {
                continue;
            }
            if el.kind == ElementKind::ConferenceBridge {
                impact.conference_participants_affected += u64::from(el.subscribers);
                continue;
            }
            if el.serves_fixed_lines() {
                impact.fixed_lines_affected = true;
                impact.fixed_line_subscribers_affected += u64::from(el.subscribers);
                impact.fixed_line_regions.extend(el.region.clone());
                continue;
            }
            if el.kind != ElementKind::Cell {
                continue;
            }
            impact.cells_affected += 1;
            impact.subscribers_affected += u64::from(el.subscribers);
            let cannot_call = lost & (Service::Registration.bit() | Service::Voice.bit()) != 0;
            impact.emergency_calls_affected |= el.emergency_capable && cannot_call;
            let counts = per_region
                .entry(el.region.as_deref().unwrap_or(""))
                .or_default();
            for (i, s) in Service::ALL.iter().enumerate() {
                // Without registration nothing else works either.
                if lost & (s.bit() | Service::Registration.bit()) != 0 {
                    counts[i] += 1;
                }
            }
        }
        let mut regions: Vec<RegionImpact> = per_region
            .into_iter()
            .map(|(region, counts)| {
                let total = f64::from(view.region_cells.get(region).copied().unwrap_or(1).max(1));
                let share = counts.map(|c| f64::from(c) / total);
                let services = Service::ALL
                    .iter()
                    .zip(share)
                    .filter(|(_, s)| *s > 0.0)
                    .fold(0, |m, (s, _)| m | s.bit());
                RegionImpact {
                    region: region.to_string(),
                    services,
                    share,
                }
            })
            .collect();
        regions.sort_by(|a, b| a.region.cmp(&b.region));
        impact.regions = regions;
        impact.fixed_line_regions.sort_unstable();
        impact.fixed_line_regions.dedup();
        if impact.cells_affected > 0
            || impact.conference_participants_affected > 0
            || impact.fixed_lines_affected
            || self.title.is_empty()
        {
            // A severity an operator set stands until they change it again;
            // a quiet minute (nothing affected just now) does not lower it.
            if !self.operator.severity_pinned {
                let merged = self.merged_severity.unwrap_or(Severity::None);
                self.severity = severity_of(&impact).max(merged);
            }
            self.title = public_title(&impact);
            self.impact = impact;
        }
    }

    fn chart_more(&mut self, claimed: &Observations, view: &View<'_>) {
        for &s in view.hot {
            if self.charted_series.len() >= CHARTED_SERIES {
                return;
            }
            let e = view.series_element[s as usize] as usize;
            let kpi = view.series[s as usize].kpi;
            let new_kpi = !self
                .charted_series
                .iter()
                .any(|&c| view.series[c as usize].kpi == kpi);
            if claimed.broken.contains_key(&e) && new_kpi {
                self.charted_series.push(s);
            }
        }
    }

    /// What the operator reads first: how many cells are hit or, where none
    /// is (a conference bridge, a gateway), which elements are broken, the
    /// likeliest cause first (a stray cell blip claimed in the same minute
    /// came first by index).
    fn detected_detail(&self, topology: &Topology) -> String {
        let (cells, regions) = (self.impact.cells_affected, self.impact.regions.len());
        if cells == 0 && !self.scope.is_empty() {
            const NAMED: usize = 3;
            let focus = self.focus(topology).filter(|f| self.scope.contains_key(f));
            let rest = self.scope.keys().copied().filter(|&e| Some(e) != focus);
            let mut names: Vec<&str> = (focus.into_iter().chain(rest).take(NAMED))
                .map(|e| topology.element(e).id.as_str())
                .collect();
            let more = format!("{} more", self.scope.len().saturating_sub(NAMED));
            if self.scope.len() > NAMED {
                names.push(&more);
            }
            return format!("broken KPIs on {}", names.join(", "));
        }
        format!(
            "{} in {} show{} broken KPIs",
            dialtone_model::count(cells, "cell", "cells"),
            dialtone_model::count(regions as u64, "region", "regions"),
            if cells == 1 { "s" } else { "" },
        )
    }

    /// Back from monitoring to investigating (identified, with a root
    /// cause named): the trouble is not over, and the public hears so.
    pub(crate) fn reopen(
        &mut self,
        at: Timestamp,
        detail: String,
        timeline: &mut Vec<TimelineEntry>,
    ) {
        self.status = if self.root.is_some() {
            IncidentStatus::Identified
        } else {
            IncidentStatus::Investigating
        };
        self.monitoring_at = None;
        self.push(at, TimelineKind::SymptomsReturned, detail, timeline);
    }

    /// An engine event: its public text is drafted from the impact.
    fn push(
        &mut self,
        at: Timestamp,
        kind: TimelineKind,
        detail: String,
        timeline: &mut Vec<TimelineEntry>,
    ) {
        let public_body = self.words(kind);
        timeline.push(self.record(at, kind, public_body, detail));
    }

    /// The public words of an engine event (empty for an internal one),
    /// noting the areas they name as told.
    fn words(&mut self, kind: TimelineKind) -> String {
        // Only the closing words name every area told of.
        let closing = if matches!(kind, TimelineKind::Monitoring | TimelineKind::Resolved) {
            self.closing_regions()
        } else {
            Vec::new()
        };
        let words = public_body(kind, &self.impact, &closing);
        if kind.is_public() {
            self.tell_regions();
        }
        words
    }

    /// Notes the impact's areas, with the services broken in each, as told:
    /// the public words about to go out name them.
    fn tell_regions(&mut self) {
        for r in &self.impact.regions {
            note_told(
                &mut self.told_regions,
                &mut self.told_services,
                &r.region,
                r.services,
            );
        }
        // Named in the words, so closed in them too. No service told of
        // there: each follower of the region hears, whatever they chose.
        for region in &self.impact.fixed_line_regions {
            note_told(&mut self.told_regions, &mut self.told_services, region, 0);
        }
    }

    /// Notes `areas` (regions, each with services) as told: each region
    /// once, in order, with every service told of there.
    pub(crate) fn tell(&mut self, areas: impl IntoIterator<Item = (String, ServiceMask)>) {
        for (region, services) in areas {
            note_told(
                &mut self.told_regions,
                &mut self.told_services,
                &region,
                services,
            );
        }
    }

    /// The areas told of, each with the services told of there (none where
    /// the record predates their keeping).
    pub(crate) fn told_areas(&self) -> Vec<(String, ServiceMask)> {
        (self.told_regions.iter())
            .map(|r| (r.clone(), self.told_services.get(r).copied().unwrap_or(0)))
            .collect()
    }

    /// The public words of a resolution, naming every area told of.
    pub(crate) fn resolved_words(&self) -> String {
        public_body(
            TimelineKind::Resolved,
            &self.impact,
            &self.closing_regions(),
        )
    }

    /// The areas the closing words name: those affected now (cells, then
    /// fixed lines), then any other the public was told of.
    fn closing_regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = self
            .impact
            .regions
            .iter()
            .map(|r| r.region.clone())
            .collect();
        for r in self
            .impact
            .fixed_line_regions
            .iter()
            .chain(&self.told_regions)
        {
            if !regions.contains(r) {
                regions.push(r.clone());
            }
        }
        regions
    }

    /// The areas of [`Incident::closing_regions`], each with the services
    /// broken there now or told of there before: whoever heard of trouble
    /// with a service hears how it ends, though it recovered before the
    /// rest. Every service for an area declared with none named (nothing
    /// measured which broke); none for a region clear now whose record
    /// predates the keeping of told services.
    pub fn closing_areas(&self) -> Vec<(String, ServiceMask)> {
        (self.closing_regions().into_iter())
            .map(|region| {
                let broken = (self.impact.regions.iter())
                    .find(|r| r.region == region)
                    .map_or(0, |r| match r.services {
                        0 => ALL_SERVICES,
                        named => named,
                    });
                let told = self.told_services.get(&region).copied().unwrap_or(0);
                (region, broken | told)
            })
            .collect()
    }

    /// Posts the public "still working on it" update that the update
    /// cadence calls for when nobody has written one, promising the next
    /// within `next_update_secs`. Only while the trouble lasts (investigating
    /// or identified): monitoring has said service is back.
    pub fn post_progress(&mut self, at: Timestamp, next_update_secs: i64) {
        if !self.status.is_ongoing() {
            return;
        }
        // The playbook's cadence is positive (respond checks it).
        let minutes = u64::try_from((next_update_secs + 59) / 60).unwrap_or(0);
        let body = format!(
            "{} We will post another update within {}.",
            self.words(TimelineKind::Progress),
            dialtone_model::count(minutes, "minute", "minutes")
        );
        let detail = "no public update for a cadence: posted a progress update".to_string();
        self.record(at, TimelineKind::Progress, body, detail);
    }

    /// Whether the engine advances it: not one an operator declared, nor
    /// one carried over from an earlier run. Those are the operators'.
    pub fn engine_owned(&self) -> bool {
        self.operator.declared_by.is_none() && !self.operator.carried_over
    }

    /// Whether the status page and subscribers may see the incident.
    pub fn is_public(&self) -> bool {
        !self.awaiting_approval
    }

    /// When what the public sees of the incident last changed: its latest
    /// public timeline entry, or a change of its title, rating or the
    /// component statuses its impact sets, if later. `updated_at` also
    /// moves with internal notes (paging, reminders), whose timing the
    /// status page must not show.
    pub fn public_updated_at(&self) -> Timestamp {
        (self.timeline.iter().rev())
            .find(|e| e.kind.is_public())
            .map_or(self.opened_at, |e| e.at)
            .max(self.public_changed_at)
    }

    /// Takes the public face as it is for the one to tell changes from.
    pub(crate) fn learn_public_face(&mut self) {
        self.public_face = Some(PublicFace::of(self));
    }

    /// Notes at `at` whether the public face changed since last noted.
    fn note_public_face(&mut self, at: Timestamp) {
        let face = PublicFace::of(self);
        match &self.public_face {
            Some(noted) if *noted == face => {}
            Some(_) => {
                self.public_face = Some(face);
                self.public_changed_at = self.public_changed_at.max(at);
            }
            None => self.public_face = Some(face),
        }
    }

    /// Writes an internal timeline entry (paging, mitigation, notification):
    /// what the response did, for the console and the postmortem.
    pub fn note(&mut self, at: Timestamp, kind: TimelineKind, detail: String) -> TimelineEntry {
        debug_assert!(!kind.is_public(), "notes are internal");
        self.record(at, kind, String::new(), detail)
    }

    /// Appends an entry to the incident's own timeline and returns a copy
    /// for the caller's (engine events and operator actions alike).
    pub(crate) fn record(
        &mut self,
        at: Timestamp,
        kind: TimelineKind,
        public_body: String,
        detail: String,
    ) -> TimelineEntry {
        self.updated_at = at;
        // Operator actions change the rating or title before they record.
        self.note_public_face(at);
        let entry = TimelineEntry {
            incident: self.id,
            at,
            kind,
            status: self.status,
            public_body,
            detail,
        };
        self.timeline.push(entry.clone());
        entry
    }
}

/// What the status page shows of an incident besides its updates: its
/// title, its rating (Statuspage's `impact`), per region the status each
/// service's component takes from it, and the conference callers and fixed
/// lines it hits.
/// Shares of cells move minute by minute; only a status crossing one of
/// [`ComponentStatus::from_affected_share`]'s bounds shows.
#[derive(Debug, Clone, PartialEq)]
struct PublicFace {
    title: String,
    severity: Severity,
    components: Vec<(String, [ComponentStatus; 3])>,
    conference_participants: u64,
    fixed_line_subscribers: u64,
}

impl PublicFace {
    fn of(inc: &Incident) -> PublicFace {
        PublicFace {
            title: inc.title.clone(),
            severity: inc.severity,
            components: (inc.impact.regions.iter())
                .map(|r| {
                    (
                        r.region.clone(),
                        r.share.map(ComponentStatus::from_affected_share),
                    )
                })
                .collect(),
            conference_participants: inc.impact.conference_participants_affected,
            fixed_line_subscribers: inc.impact.fixed_line_subscribers_affected,
        }
    }
}

/// Notes `services` in `region` as told, the region once, in order
/// ([`Incident::told_regions`], [`Incident::told_services`]).
fn note_told(
    regions: &mut Vec<String>,
    services_told: &mut BTreeMap<String, ServiceMask>,
    region: &str,
    services: ServiceMask,
) {
    match services_told.get_mut(region) {
        Some(told) => *told |= services,
        None => {
            services_told.insert(region.to_string(), services);
        }
    }
    if !regions.iter().any(|r| r == region) {
        regions.push(region.to_string());
    }
}

fn severity_of(impact: &Impact) -> Severity {
    match impact.people_affected() {
        s if s >= 100_000 => Severity::Critical,
        s if s >= 10_000 => Severity::Major,
        _ => Severity::Minor,
    }
}

/// "Network access, calls and mobile data" for a mask.
pub fn services_phrase(mask: ServiceMask) -> String {
    sentence_case(join_words(&service_names(mask)))
}

/// The public names of a mask's services, lower case.
fn service_names(mask: ServiceMask) -> Vec<String> {
    (Service::in_mask(mask))
        .map(|s| s.public_name().to_lowercase())
        .collect()
}

fn sentence_case(phrase: String) -> String {
    match phrase.get(..1) {
        Some(first) => first.to_uppercase() + &phrase[1..],
        None => phrase,
    }
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A region id as the public reads it: `north-east` -> `North-East`.
pub fn region_name(region: &str) -> String {
    region
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The impact's areas as the public reads them: the regions of the cells
/// and the fixed lines it hits, in id order; "some areas" where none is
/// known yet (a report-only or watched-event incident).
fn regions_phrase(impact: &Impact) -> String {
    let cells = impact.regions.iter().map(|r| &r.region);
    let ids: std::collections::BTreeSet<&String> =
        cells.chain(&impact.fixed_line_regions).collect();
    let ids: Vec<String> = ids.into_iter().cloned().collect();
    areas_phrase(&ids)
}

fn areas_phrase(region_ids: &[String]) -> String {
    if region_ids.is_empty() {
        return "some areas".into();
    }
    let names: Vec<String> = region_ids.iter().map(|r| region_name(r)).collect();
    join_words(&names)
}

fn public_title(impact: &Impact) -> String {
    let services = sentence_case(join_words(&area_service_names(impact)));
    let conference = impact.conference_participants_affected > 0;
    match (services.is_empty(), conference) {
        (true, false) => "Service disruption under investigation".into(),
        (true, true) => "Conference calls disrupted".into(),
        (false, false) => format!("{services} disrupted in {}", regions_phrase(impact)),
        // Not "... and conference calls disrupted in X": the bridge's
        // callers are anywhere.
        (false, true) => format!(
            "{services} disrupted in {}; conference calls disrupted",
            regions_phrase(impact)
        ),
    }
}

/// The public names of the services an impact takes down in its areas,
/// lower case: the cells' services, then fixed-line service.
fn area_service_names(impact: &Impact) -> Vec<String> {
    let mut names = service_names(impact.services());
    if impact.fixed_lines_affected {
        names.push("fixed-line service".into());
    }
    names
}

/// "network access, calls, fixed-line service and conference calls": the
/// services an impact takes down, conference calls included; "our
/// services" where none is known.
fn what_phrase(impact: &Impact) -> String {
    let mut names = area_service_names(impact);
    if impact.conference_participants_affected > 0 {
        names.push("conference calls".into());
    }
    match join_words(&names) {
        w if w.is_empty() => "our services".into(),
        w => w,
    }
}

/// Conference calls are hit and no region's cells are: the bridge serves
/// callers wherever they are, so the words name no area.
fn conference_only(impact: &Impact) -> bool {
    impact.regions.is_empty()
        && impact.fixed_line_regions.is_empty()
        && impact.conference_participants_affected > 0
}

/// The public words of an engine event. `closing` is every area the
/// public was told of (see [`Incident::told_regions`]).
fn public_body(kind: TimelineKind, impact: &Impact, closing: &[String]) -> String {
    let what = what_phrase(impact);
    let conference_only = conference_only(impact);
    // None for conference calls alone; "some areas" where nothing is known yet.
    let areas = (!conference_only).then(|| regions_phrase(impact));
    let for_customers_in = areas
        .as_ref()
        .map_or(String::new(), |a| format!(" for customers in {a}"));
    let in_areas = areas.map_or(String::new(), |a| format!(" in {a}"));
    // Closing words with no area known are for all (a report-only
    // incident), or for none (conference calls alone).
    let in_closing = match (closing.is_empty(), conference_only) {
        (false, _) => format!(" in {}", areas_phrase(closing)),
        (true, false) => " in all areas".to_string(),
        (true, true) => String::new(),
    };
    // A landline is the way round only where landlines still work.
    let emergency = match (impact.emergency_calls_affected, impact.fixed_lines_affected) {
        (false, _) => "",
        (true, false) => {
            " Emergency calls may not connect from affected areas: if you need help, try a landline or another network's phone."
        }
        (true, true) => {
            " Emergency calls may not connect from affected areas, from landlines either: if you need help, try another network's phone."
        }
    };
    match kind {
        TimelineKind::Detected => format!(
            "We are investigating problems with {what}{for_customers_in}.{emergency} We will post updates here as we learn more."
        ),
        TimelineKind::RootCauseIdentified | TimelineKind::RootCauseRevised => format!(
            "We have found the cause of the problems with {what}{in_areas} and are working to restore service.{emergency}"
        ),
        TimelineKind::Monitoring => {
            // Advice for phones only where phone services were lost: a
            // conference bridge's fault (no cell affected) is not fixed by
            // restarting anything.
            let restart = if impact.services() != 0 {
                " If your phone still has no service, restart it."
            } else {
                ""
            };
            format!(
                "Service has been restored{in_closing}. We are monitoring to make sure it stays that way.{restart}"
            )
        }
        TimelineKind::SymptomsReturned => format!(
            "Problems with {what}{in_areas} have returned. We are working on it.{emergency}"
        ),
        TimelineKind::Resolved => {
            format!("This incident has been resolved. Services{in_closing} are working normally.")
        }
        TimelineKind::Progress => {
            format!("We are still working to restore {what}{for_customers_in}.{emergency}")
        }
        // Operators write their own public words (see `operator.rs`).
        TimelineKind::Declared | TimelineKind::Updated => String::new(),
        // Everything else is internal: `is_public` is the one list of those.
        internal => {
            debug_assert!(!internal.is_public(), "{internal:?} needs public words");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use dialtone_model::RegionImpact;

    use super::*;

    /// What Statuspage clients poll: `updated_at` moves when a component
    /// the incident sets changes status, its title or its rating, with no
    /// update written; not when a share moves within one status, nor when
    /// the first note learns the face of an incident stored without one.
    #[test]
    fn the_public_face_moves_public_updated_at() {
        let mut inc = Incident::open(1, 1_000);
        inc.impact = impact(&["north"]);
        inc.impact.regions[0].share = [0.0, 0.05, 0.0];
        inc.note_public_face(1_060);
        assert_eq!(inc.public_updated_at(), 1_000, "first noted: no change");
        let noted = |inc: &mut Incident, at| {
            inc.note_public_face(at);
            inc.public_updated_at()
        };
        inc.impact.regions[0].share = [0.0, 0.08, 0.0];
        assert_eq!(noted(&mut inc, 1_120), 1_000, "still degraded");
        inc.impact.regions[0].share = [0.0, 0.6, 0.0];
        assert_eq!(noted(&mut inc, 1_180), 1_180, "now a major outage");
        inc.title = "Calls disrupted in North".into();
        assert_eq!(noted(&mut inc, 1_240), 1_240);
        inc.severity = Severity::Critical;
        assert_eq!(noted(&mut inc, 1_300), 1_300);
        inc.impact.conference_participants_affected = 40;
        assert_eq!(noted(&mut inc, 1_360), 1_360);
        inc.impact.fixed_line_subscribers_affected = 900;
        assert_eq!(noted(&mut inc, 1_390), 1_390);
        // An operator's action records after changing the rating.
        let entry = inc.note(1_420, TimelineKind::Paged, String::new());
        assert_eq!(noted(&mut inc, 1_480), 1_390, "{entry:?}");
        inc.severity = Severity::Major;
        inc.note(1_540, TimelineKind::SeverityChanged, String::new());
        assert_eq!(inc.public_updated_at(), 1_540);
        // Stored and read back: the face is learnt again, not taken for a
        // change, and the time of the last change is kept.
        let mut back: Incident =
            serde_json::from_str(&serde_json::to_string(&inc).unwrap()).unwrap();
        assert_eq!(noted(&mut back, 1_600), 1_540);
    }

    fn impact(regions: &[&str]) -> Impact {
        Impact {
            regions: (regions.iter())
                .map(|r| RegionImpact {
                    region: r.to_string(),
                    services: Service::Voice.bit(),
                    share: [0.0, 1.0, 0.0],
                })
                .collect(),
            ..Impact::default()
        }
    }

    #[test]
    fn conference_calls_are_told_as_such_and_alone_name_no_area() {
        let bridge = Impact {
            conference_participants_affected: 500,
            ..Impact::default()
        };
        assert_eq!(public_title(&bridge), "Conference calls disrupted");
        let said = |kind| public_body(kind, &bridge, &[]);
        assert_eq!(
            said(TimelineKind::Detected),
            "We are investigating problems with conference calls. We will post updates here as we learn more."
        );
        assert_eq!(
            said(TimelineKind::Monitoring),
            "Service has been restored. We are monitoring to make sure it stays that way."
        );
        assert_eq!(
            said(TimelineKind::Resolved),
            "This incident has been resolved. Services are working normally."
        );
        let mut both = impact(&["central"]);
        both.conference_participants_affected = 500;
        assert_eq!(
            public_title(&both),
            "Calls disrupted in Central; conference calls disrupted"
        );
        assert!(public_body(TimelineKind::Progress, &both, &[]).starts_with(
            "We are still working to restore calls and conference calls for customers in Central."
        ),);
        assert_eq!(severity_of(&bridge), Severity::Minor);
        let big_bridge = Impact {
            conference_participants_affected: 20_000,
            ..bridge
        };
        assert_eq!(severity_of(&big_bridge), Severity::Major);
        // Counted once where its callers are the cells' subscribers too
        // (summed, these would make it critical).
        both.subscribers_affected = 60_000;
        both.conference_participants_affected = 60_000;
        assert_eq!(severity_of(&both), Severity::Major);
    }

    #[test]
    fn the_all_clear_names_every_area_the_public_was_told_of() {
        // Detected while a blip in North was claimed too; the root cause's
        // impact is Central alone.
        let mut inc = Incident::open(1, 0);
        let mut timeline = Vec::new();
        inc.impact = impact(&["central", "north"]);
        inc.push(60, TimelineKind::Detected, String::new(), &mut timeline);
        inc.impact = impact(&["central"]);
        inc.push(120, TimelineKind::Monitoring, String::new(), &mut timeline);
        inc.push(180, TimelineKind::Resolved, String::new(), &mut timeline);
        assert!(
            timeline[1]
                .public_body
                .starts_with("Service has been restored in Central and North.")
        );
        assert_eq!(
            timeline[2].public_body,
            "This incident has been resolved. Services in Central and North are working normally."
        );
    }

    #[test]
    fn words_without_a_known_impact_have_no_blanks() {
        let body = public_body(TimelineKind::Detected, &Impact::default(), &[]);
        assert!(
            body.starts_with(
                "We are investigating problems with our services for customers in some areas."
            ),
            "{body}"
        );
        let body = public_body(TimelineKind::Resolved, &Impact::default(), &[]);
        assert_eq!(
            body,
            "This incident has been resolved. Services in all areas are working normally."
        );
    }

    #[test]
    fn a_fault_with_no_cell_hit_names_the_broken_elements() {
        let elements = ["bridge-1", "gw-1", "gw-2", "gw-3", "gw-4"]
            .map(|id| dialtone_model::Element::new(id, ElementKind::ConferenceBridge));
        let topology = Topology::new(elements.to_vec(), Vec::new()).unwrap();
        let mut inc = Incident::open(1, 0);
        inc.scope.insert(0, dialtone_model::ALL_SERVICES);
        assert_eq!(inc.detected_detail(&topology), "broken KPIs on bridge-1");
        inc.scope
            .extend((1..5).map(|e| (e, dialtone_model::ALL_SERVICES)));
        assert_eq!(
            inc.detected_detail(&topology),
            "broken KPIs on bridge-1, gw-1, gw-2, 2 more"
        );
        inc.root = Some(3);
        assert_eq!(
            inc.detected_detail(&topology),
            "broken KPIs on gw-3, bridge-1, gw-1, 2 more"
        );
        inc.impact = impact(&["central"]);
        inc.impact.cells_affected = 1;
        assert_eq!(
            inc.detected_detail(&topology),
            "1 cell in 1 region shows broken KPIs"
        );
    }

    #[test]
    fn a_landline_is_advised_only_while_landlines_work() {
        let mut hit = impact(&["central"]);
        hit.emergency_calls_affected = true;
        let detected = |impact: &Impact| public_body(TimelineKind::Detected, impact, &[]);
        assert!(detected(&hit).contains("try a landline or another network's phone."));
        hit.fixed_lines_affected = true;
        let words = detected(&hit);
        assert!(!words.contains("try a landline"), "{words}");
        assert!(words.contains("from landlines either"), "{words}");
    }

    #[test]
    fn phone_advice_only_where_phone_services_were_lost() {
        let restored = |impact: &Impact| public_body(TimelineKind::Monitoring, impact, &[]);
        assert!(restored(&impact(&["central"])).ends_with("restart it."));
        assert_eq!(
            restored(&Impact::default()),
            "Service has been restored in all areas. We are monitoring to make sure it stays that way."
        );
    }
}
