//! The live loop: the twin feeds the engine minute by minute, paced to the
//! wall clock; incidents are persisted and every document re-rendered.
//!
//! The store sits beside the loop, not in front of it: if a save fails the
//! incident stays dirty and is saved on a later minute, and the public pages,
//! rendered from memory, never notice. A slow save does hold the loop and
//! operator actions, which take turns on one lock so that each minute or
//! action is saved whole. The public forms read what they need (regions, the
//! page's name) from the server's state, not under that lock; a customer
//! report, once checked, takes it only to be counted.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dialtone_drill::Run;
use dialtone_engine::{
    ActionError, Declaration, Incident, OperatorAction, ProbeAlert, ProbeRefused, TimelineEntry,
};
use dialtone_model::{ServiceMask, Timestamp};
use dialtone_notify::{Compose, Courier, NotifyConfig, compose, deliver_due};
use dialtone_reports::{Problem, SurgeConfig, SurgeDetector};
use dialtone_respond::{Effect, MitigationAction, NoticeKind, Playbook, Responder};
use dialtone_statuspage::{Hosted, PageInfo, PageState, PlannedMaintenance};
use dialtone_store::{
    CountedReport, Lane, NotifyStore, OutboxItem, ReportReply, Store, Subscriber,
};
use tokio::sync::{Mutex, watch};

use crate::access::unix_now;
use crate::console::render_console;
use crate::metrics::{Deliveries, LastSnapshot, Snapshot};
use crate::{History, Published, Rendered};

/// Reports this long before an incident opened are answered when it resolves:
/// customers often notice first.
const REPORTS_BEFORE_SECS: i64 = 3600;

/// The problems a fix of `services` answers, as reports name them: those of
/// its services, and "something else", which names none.
fn problems_answered(services: ServiceMask) -> Vec<String> {
    (Problem::ALL.into_iter())
        .filter(|p| *p == Problem::Other || services & p.service().bit() != 0)
        .map(|p| p.as_str().to_string())
        .collect()
}

/// Minutes of KPI history kept for charts.
pub const HISTORY_MINUTES: usize = 180;

/// How long after it resolved a closed incident leaves the engine for
/// [`Live`]'s `earlier` list (network time).
pub const RETIRE_AFTER_SECS: i64 = 7 * 86_400;
/// Closed incidents kept in memory at most, the newest: as many as
/// `GET /api/v1/incidents` lists at once, so a listing never misses one.
pub const CLOSED_KEPT: usize = 1000;

/// The pipeline as the server runs it.
pub struct Live {
    run: Run,
    history: History,
    /// Closed incidents from earlier runs, shown as history. Those left
    /// open are handed to the engine ([`dialtone_engine::Engine::adopt`]):
    /// the run that tracked them has ended, so nothing advances them, but
    /// they stay open, on the page and in the API, and operators act on and
    /// merge them like any other until they close them. Dropping them at a
    /// restart hid an outage the public had been told of without a word.
    earlier: Vec<Incident>,
    regions: Vec<String>,
    page: PageInfo,
    now: Timestamp,
    dirty: BTreeSet<u64>,
    responder: Responder,
    /// Effects not yet turned into outbox rows (the store may be down).
    pending: Vec<Effect>,
    /// Customer problem reports, counted against their usual level.
    surges: SurgeDetector,
    stats: PipelineStats,
    /// Firing probes by element and alert id, and when they were last heard of.
    probes_heard: HashMap<(String, String), i64>,
    /// What the network serves outside its cells (the page's components
    /// in no region).
    hosted: Hosted,
}

/// What the pipeline did since the process started, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PipelineStats {
    /// Minutes of samples fed to the engine.
    pub minutes: u64,
    pub samples: u64,
    /// Wall-clock time spent in the engine's ingest (detectors, root cause,
    /// incidents), not in producing the samples: its rate is the live
    /// counterpart of `dialtone bench throughput`'s end-to-end figure.
    pub ingest_secs: f64,
    /// Incident saves the store refused (each is retried the next minute).
    pub save_failures: u64,
    /// Probe alerts taken from Alertmanager, and those refused (no known
    /// element, a bad `service` label, too many firing).
    pub alerts_accepted: u64,
    pub alerts_ignored: u64,
}

/// How long a firing probe counts without word of it. Alertmanager repeats
/// a firing alert every `repeat_interval` (4 h by default), in wall-clock
/// time whatever the network's clock: a "resolved" lost on its way must not
/// hold an incident for ever.
pub const PROBE_STALE_SECS: i64 = 5 * 3600;

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("now", &self.now).finish()
    }
}

impl Live {
    pub fn new(mut run: Run, earlier: Vec<Incident>, page: PageInfo, playbook: Playbook) -> Live {
        let history = History::new(run.engine().series().len(), HISTORY_MINUTES);
        let regions = run.regions();
        let hosted = Hosted::of(run.engine().topology());
        let (open, closed): (Vec<Incident>, Vec<Incident>) =
            earlier.into_iter().partition(|i| i.status.is_open());
        for inc in open {
            run.engine_mut().adopt(inc);
        }
        Live {
            run,
            history,
            earlier: closed,
            regions,
            page,
            now: 0,
            dirty: BTreeSet::new(),
            responder: Responder::new(playbook),
            pending: Vec::new(),
            surges: SurgeDetector::new(SurgeConfig::default()),
            stats: PipelineStats::default(),
            probes_heard: HashMap::new(),
            hosted,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The status page's components' regions, in display order.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    pub fn page(&self) -> &PageInfo {
        &self.page
    }

    pub fn stats(&self) -> PipelineStats {
        self.stats
    }

    /// Incidents changed since their last successful save.
    pub fn unsaved(&self) -> usize {
        self.dirty.len()
    }

    /// Notices and pages decided but not yet queued in the outbox (the
    /// store was down when they were due).
    pub fn unqueued(&self) -> usize {
        self.pending.len()
    }

    /// One simulated minute; incidents it touched become dirty (to be saved).
    pub fn step(&mut self) {
        let mut timeline = Vec::new();
        self.forget_stale_probes(crate::unix_now());
        let at = self.run.generate();
        let ingest_started = Instant::now();
        self.run.ingest(at, &mut timeline);
        self.stats.ingest_secs += ingest_started.elapsed().as_secs_f64();
        self.stats.minutes += 1;
        self.stats.samples += self.run.samples().len() as u64;
        self.now = at;
        self.history.push(self.now, self.run.samples());
        self.dirty.extend(timeline.iter().map(|e| e.incident));
        for s in self.surges.close(self.now) {
            let outcome = self
                .run
                .engine_mut()
                .report_surge(self.now, &s.area, s.service, s.reports, s.expected);
            let (dialtone_engine::SurgeOutcome::Corroborated(id)
            | dialtone_engine::SurgeOutcome::Opened(id)
            | dialtone_engine::SurgeOutcome::AlreadyOpen(id)) = outcome;
            self.dirty.insert(id);
        }
        self.respond();
        self.retire_closed(self.now.saturating_sub(RETIRE_AFTER_SECS));
    }

    /// Moves the engine's closed incidents resolved before `resolved_before`
    /// to `earlier`, where a restart would have put them, and keeps there
    /// only the newest [`CLOSED_KEPT`] (and any not yet saved): a server up
    /// for months would otherwise copy every incident it ever opened at
    /// every render. Those let go are in the store, which answers for them
    /// by id.
    pub fn retire_closed(&mut self, resolved_before: Timestamp) {
        let retired = self.run.engine_mut().retire_closed(resolved_before);
        for inc in &retired {
            self.responder.forget(inc.id);
        }
        self.earlier.extend(retired);
        if self.earlier.len() > CLOSED_KEPT {
            self.earlier
                .sort_unstable_by_key(|i| std::cmp::Reverse(i.id));
            let dirty = &self.dirty;
            let mut kept = 0;
            self.earlier.retain(|i| {
                kept += 1;
                kept <= CLOSED_KEPT || dirty.contains(&i.id)
            });
        }
    }

    /// Records a change to the network (at network time now unless given).
    pub fn record_change(
        &mut self,
        change: dialtone_engine::ChangeEvent,
    ) -> Result<(), dialtone_engine::UnknownElement> {
        self.run.engine_mut().record_change(change)
    }

    /// The engine's maintenance windows in public words: the region, never the element.
    fn planned_maintenance(&self) -> Vec<PlannedMaintenance> {
        let engine = self.run.engine();
        dialtone_statuspage::planned_maintenance(engine.topology(), engine.maintenance())
    }

    /// Records a probe's alert, `heard` at that Unix time (seconds), at
    /// network time now; it counts from the next minute. Wall-clock time,
    /// not an `Instant`: a probe heard before a restart keeps its age, even
    /// where the host has been up for less than that (an `Instant` cannot
    /// go back before the host's boot).
    pub fn probe_alert(&mut self, alert: &ProbeAlert, heard: i64) -> Result<(), ProbeRefused> {
        self.run.engine_mut().probe_alert(self.now, alert)?;
        let key = (alert.element.clone(), alert.id.clone());
        if alert.firing {
            self.probes_heard.insert(key, heard);
        } else {
            self.probes_heard.remove(&key);
        }
        Ok(())
    }

    /// Resolves the probes not heard of for [`PROBE_STALE_SECS`] at `now`, a
    /// Unix time in seconds.
    pub fn forget_stale_probes(&mut self, now: i64) {
        let engine = self.run.engine_mut();
        self.probes_heard.retain(|(element, id), heard| {
            let fresh = now.saturating_sub(*heard) <= PROBE_STALE_SECS;
            if !fresh {
                tracing::warn!(%element, alert = %id, "no word of a firing probe for 5 hours: taken as resolved");
                engine.resolve_probe(element, id);
            }
            fresh
        });
    }

    /// Counts a webhook's alerts, taken and ignored.
    pub fn count_alerts(&mut self, accepted: u64, ignored: u64) {
        self.stats.alerts_accepted += accepted;
        self.stats.alerts_ignored += ignored;
    }

    /// Schedules a high-stakes event watch.
    pub fn watch_event(
        &mut self,
        event: dialtone_engine::EventWatch,
    ) -> Result<(), dialtone_engine::UnknownElement> {
        self.run.engine_mut().watch_event(event)
    }

    /// Teaches the surge detector the reports an earlier run counted (read
    /// back [`REPORT_HISTORY_SECS`] before the run's start, oldest first): a
    /// restarted run that began with no baseline took every busy area's
    /// usual level for a surge. A report whose problem this version does
    /// not know is skipped.
    pub fn replay_reports(&mut self, reports: &[CountedReport]) {
        let known = (reports.iter())
            .filter_map(|r| Some((r.at, r.area.as_str(), Problem::parse(&r.problem)?)));
        self.surges.learn_from(known);
    }

    /// Counts a customer report from `reporter` at the current network
    /// time, which it returns, with whether it counted (see
    /// [`dialtone_reports::SurgeDetector::record`]).
    pub fn record_report(
        &mut self,
        area: &str,
        problem: Problem,
        reporter: Option<std::net::IpAddr>,
    ) -> (Timestamp, bool) {
        let counted = self.surges.record(self.now, area, problem, reporter);
        (self.now, counted)
    }

    /// The replies owed to reporters for the incidents the pending effects
    /// resolve. A merge resolves its source with no fix: those who reported
    /// its trouble hear when the incident it was merged into resolves, which
    /// answers the reports in its own areas and time and in those of every
    /// incident merged into it.
    fn report_replies(&self) -> Vec<ReportReply> {
        let resolved: Vec<&Incident> = (self.pending.iter())
            .filter_map(|e| match e {
                Effect::Notify(n) if n.kind == NoticeKind::Resolved => self.incident(n.incident),
                _ => None,
            })
            .filter(|inc| inc.operator.merged_into.is_none())
            .collect();
        if resolved.is_empty() {
            return Vec::new();
        }
        // Where each incident ended up, once for all the replies.
        let ends: Vec<(&Incident, Option<u64>)> = (self.every_incident())
            .map(|i| (i, self.merged_into(i)))
            .collect();
        (resolved.into_iter())
            .map(|inc| {
                let merged: Vec<&Incident> = (ends.iter())
                    .filter(|(_, end)| *end == Some(inc.id))
                    .map(|&(i, _)| i)
                    .collect();
                // Each area with the services broken there, or told of as
                // broken there (data may have come back before calls), in
                // the order the incidents list them.
                let mut broken: Vec<(String, ServiceMask)> = Vec::new();
                let areas = std::iter::once(inc)
                    .chain(merged.iter().copied())
                    .flat_map(Incident::closing_areas)
                    .filter(|(_, services)| *services != 0);
                for (region, services) in areas {
                    match broken.iter_mut().find(|(area, _)| *area == region) {
                        Some((_, known)) => *known |= services,
                        None => broken.push((region, services)),
                    }
                }
                let opened_at = (merged.iter().map(|i| i.opened_at)).fold(inc.opened_at, Timestamp::min);
                let places: Vec<String> =
                    broken.iter().map(|(a, _)| dialtone_engine::region_name(a)).collect();
                let areas = (broken.into_iter())
                    .map(|(area, services)| (area, problems_answered(services)))
                    .collect();
                ReportReply {
                    incident: inc.id,
                    from: opened_at - REPORTS_BEFORE_SECS,
                    to: inc.resolved_at.unwrap_or(self.now),
                    subject: format!("[{}] Fixed: {}", self.page.name, inc.title),
                    body: format!(
                        "You told us about a problem{}. It has been fixed: {}\n\nThank you for reporting it. We have now deleted your email address from the report.\n",
                        match places.as_slice() {
                            [] => String::new(),
                            places => format!(" in {}", places.join(", ")),
                        },
                        inc.timeline
                            .iter()
                            .rev()
                            .find(|e| e.kind.is_public())
                            .map_or("", |e| e.public_body.as_str())
                    ),
                    areas,
                }
            })
            .collect()
    }

    /// The incident `inc` was merged into in the end: the engine points
    /// merges into a merged incident on to its target, but not those an
    /// earlier run made, which sit in its closed history.
    fn merged_into(&self, inc: &Incident) -> Option<u64> {
        let mut into = inc.operator.merged_into?;
        // Each step is an incident merged later; a chain is no longer than
        // the incidents there are.
        let count = self.run.engine().incidents().len() + self.earlier.len();
        for _ in 0..=count {
            match self.incident(into).and_then(|i| i.operator.merged_into) {
                Some(next) => into = next,
                None => break,
            }
        }
        Some(into)
    }

    /// Applies the playbook now: twin failovers take effect at once, every
    /// other effect waits in `pending` for [`Live::outbound`].
    pub fn respond(&mut self) {
        let before: Vec<(u64, usize)> = self
            .run
            .engine()
            .incidents()
            .iter()
            .map(|i| (i.id, i.timeline.len()))
            .collect();
        let effects = self.responder.review(self.now, self.run.engine_mut());
        for (id, len) in before {
            if self.incident(id).is_some_and(|i| i.timeline.len() != len) {
                self.dirty.insert(id);
            }
        }
        for effect in effects {
            if let Effect::Mitigate(m) = &effect
                && m.action == MitigationAction::TwinFailover
            {
                let took = self.run.restore(&m.element, m.at);
                tracing::info!(incident = m.incident, element = %m.element, took, "twin failover");
            }
            self.pending.push(effect);
        }
    }

    /// The outbox rows for the effects waiting since the last successful
    /// [`Live::sent`], addressed to `subscribers`.
    pub fn outbound(&self, subscribers: &[Subscriber], notify: &NotifyConfig) -> Vec<OutboxItem> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        let all = self.incidents();
        let public = dialtone_statuspage::public_incidents(&all);
        // A webhook's page and components say what status.json says.
        let planned = self.planned_maintenance();
        let c = Compose {
            state: PageState {
                page: &self.page,
                regions: &self.regions,
                incidents: &public,
                maintenances: &planned,
                now: self.now,
                hosted: self.hosted,
            },
            all_incidents: &all,
            base_url: &notify.base_url,
            subscribers,
            pagers: &notify.pagers,
            now: self.now,
        };
        compose(&self.pending, &c)
    }

    /// The rows from [`Live::outbound`] are safely in the outbox.
    pub fn sent(&mut self) {
        self.pending.clear();
    }

    /// Every incident, oldest first: earlier runs' history and this run's
    /// (with those it carried over).
    pub fn incidents(&self) -> Vec<Incident> {
        let mut all: Vec<Incident> = self.every_incident().cloned().collect();
        all.sort_by_key(|i| i.id);
        all
    }

    /// The newest `limit` incidents, newest first, from this run and
    /// earlier ones: references, where [`Live::incidents`] copies them all.
    pub fn newest_incidents(&self, limit: usize) -> Vec<&Incident> {
        let mut newest: Vec<&Incident> = self.every_incident().collect();
        newest.sort_unstable_by_key(|i| std::cmp::Reverse(i.id));
        newest.truncate(limit);
        newest
    }

    /// The incident `id`, from this run or an earlier one.
    pub fn incident(&self, id: u64) -> Option<&Incident> {
        self.every_incident().find(|i| i.id == id)
    }

    /// Every incident, this run's and the closed ones of earlier runs, in
    /// no particular order.
    fn every_incident(&self) -> impl Iterator<Item = &Incident> {
        self.run.engine().incidents().iter().chain(&self.earlier)
    }

    /// Applies an operator action at the current network time; the incident becomes dirty.
    pub fn act(
        &mut self,
        id: u64,
        by: &str,
        action: &OperatorAction,
    ) -> Result<TimelineEntry, ActionError> {
        let at = self.now;
        let entry = if let Some(inc) = self.run.engine_mut().incident_mut(id) {
            inc.apply(at, by, action)?
        } else {
            let inc =
                (self.earlier.iter_mut().find(|i| i.id == id)).ok_or(ActionError::NotFound(id))?;
            let entry = inc.apply(at, by, action)?;
            // The playbook reviews the engine's incidents only.
            let effects = self.responder.review_closed(at, inc);
            self.pending.extend(effects);
            entry
        };
        self.dirty.insert(id);
        Ok(entry)
    }

    /// Declares an incident by hand at the current network time.
    pub fn declare(&mut self, by: &str, d: &Declaration) -> Result<Incident, ActionError> {
        let at = self.now;
        let inc = self.run.engine_mut().declare(at, by, d)?.clone();
        self.dirty.insert(inc.id);
        Ok(inc)
    }

    /// Merges open incident `from` into open incident `into`; the entry
    /// written on `into`.
    pub fn merge(&mut self, by: &str, into: u64, from: u64) -> Result<TimelineEntry, ActionError> {
        let at = self.now;
        // An earlier run's history is closed: say so, not that it is missing.
        if let Some(closed) = (self.earlier.iter()).find(|i| i.id == into || i.id == from) {
            return Err(ActionError::Closed {
                id: closed.id,
                status: closed.status.as_str(),
            });
        }
        let [merged, _closed] = self.run.engine_mut().merge(at, by, into, from)?;
        self.dirty.extend([into, from]);
        Ok(merged)
    }

    /// Renders every public document and the console as of now.
    pub fn render(&mut self) -> Rendered {
        let incidents = self.incidents();
        let public = dialtone_statuspage::public_incidents(&incidents);
        let planned = self.planned_maintenance();
        let state = PageState {
            page: &self.page,
            regions: &self.regions,
            incidents: &public,
            maintenances: &planned,
            now: self.now,
            hosted: self.hosted,
        };
        let console = render_console(
            &incidents,
            self.run.engine().series(),
            &self.history,
            &self.regions,
            self.now,
        );
        Rendered::render(&state, console)
    }

    /// Saves dirty incidents; those that fail stay dirty for the next call.
    /// An incident leaves the dirty set only once saved: a request cut off
    /// mid-save (its timeout, or its client gone) leaves the rest dirty,
    /// not forgotten.
    pub async fn save(&mut self, store: &dyn Store) {
        let ids: Vec<u64> = self.dirty.iter().copied().collect();
        for id in ids {
            let Some(inc) = self.incident(id) else {
                self.dirty.remove(&id);
                continue;
            };
            match store.save_incident(inc).await {
                Ok(()) => {
                    self.dirty.remove(&id);
                }
                Err(e) => {
                    tracing::warn!(incident = id, error = %e, "could not save incident; will retry next minute");
                    self.stats.save_failures += 1;
                }
            }
        }
    }
}

/// What the loop writes to: incidents, the outbox, the public documents and
/// the snapshot `/metrics` answers with while the loop is busy.
#[derive(Clone)]
pub struct Sinks {
    pub store: Arc<dyn Store>,
    pub notify_store: Arc<dyn NotifyStore>,
    pub notify: Arc<NotifyConfig>,
    pub published: Arc<Published>,
    pub(crate) last_snapshot: Arc<LastSnapshot>,
    /// Held shared by each customer report between being counted and
    /// stored, exclusively while replies to reporters are queued.
    pub(crate) report_writes: Arc<tokio::sync::RwLock<()>>,
}

impl Live {
    /// After a minute or an operator action: re-render, queue outbound
    /// messages, save dirty incidents. A store failure loses nothing:
    /// incidents stay dirty and effects pending until a later call succeeds.
    /// The messages go first, and incidents are saved only once every
    /// message is queued: a saved incident's timeline records its pages
    /// and notices as done (a restarted run resumes from it and does not
    /// send them again), so saving it before they were safely in the outbox
    /// would lose them to a crash in between; the other way round a crash
    /// in between queues them again, which the outbox ignores where the key
    /// is the same (pages and mitigations are keyed by incident and step),
    /// and which at worst repeats a message rather than loses one.
    /// The metrics snapshot is left before the writes, which may wait on the
    /// store, and again after them, with what they wrote or failed to.
    pub async fn settle(&mut self, sinks: &Sinks) {
        sinks.published.publish(self.render());
        sinks.last_snapshot.set(Snapshot::of(self));
        if self.queue_pending(sinks).await {
            self.save(sinks.store.as_ref()).await;
        }
        sinks.last_snapshot.set(Snapshot::of(self));
    }

    /// Queues the pending effects' messages and the reporters' replies in
    /// the outbox; on failure they stay pending. Whether nothing is left
    /// pending, so that incidents may be saved.
    async fn queue_pending(&mut self, sinks: &Sinks) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let queued = match sinks.notify_store.confirmed_subscribers().await {
            Ok(subs) => {
                let items = self.outbound(&subs, &sinks.notify);
                sinks.notify_store.enqueue(&items, unix_now()).await
            }
            Err(e) => Err(e),
        };
        let mut replied = Ok(0);
        let replies = self.report_replies();
        if queued.is_ok() && !replies.is_empty() {
            // Reports counted before this minute whose rows are still being
            // written must be in the table the replies are read from (only
            // then: a minute with nothing resolved waits for no report).
            let _no_report_in_flight = sinks.report_writes.write().await;
            for reply in replies {
                replied = sinks
                    .notify_store
                    .queue_report_replies(&reply, unix_now())
                    .await;
                if replied.is_err() {
                    break;
                }
            }
        }
        let queued = queued.and(replied);
        match queued {
            Ok(_) => {
                self.sent();
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not queue notifications; incidents stay unsaved, both retried next minute");
                false
            }
        }
    }
}

/// Runs `each` every `every` until `shutdown` flips; a late run delays the
/// next rather than bunching them up.
async fn paced<F: Future<Output = ()>>(
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut each: impl FnMut() -> F,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => break,
        }
        each().await;
    }
}

/// Runs `live` until `shutdown` flips, one simulated minute per `tick`.
///
/// The loop and operator requests share `live` behind one lock: each minute
/// and each operator action is applied, re-rendered and saved whole, so the
/// page never shows half of either.
pub async fn run_paced(
    live: Arc<Mutex<Live>>,
    sinks: Sinks,
    tick: Duration,
    shutdown: watch::Receiver<bool>,
) {
    let (live, sinks) = (&live, &sinks);
    paced(tick, shutdown, || async move {
        let mut live = live.lock().await;
        live.step();
        live.settle(sinks).await;
    })
    .await;
    live.lock().await.settle(sinks).await;
}

/// How far back a restarted run reads customer reports to relearn each
/// area's usual level for the hour of the week: four weeks, which the
/// baseline's weekly learning rate mostly rests on.
pub const REPORT_HISTORY_SECS: i64 = 28 * 86_400;

/// How long the outbox keeps the address of a message to the public after
/// it was delivered or given up: long enough to answer "did my notice go
/// out?", no longer. A report's contact that no reply reached goes too, as
/// long after the report.
const ADDRESS_RETENTION_SECS: i64 = 30 * 86_400;

/// Delivers the outbox every `every` until `shutdown` flips: the only task
/// that talks to mail relays, webhooks and pagers, outside the pipeline's
/// lock. Each lane of the outbox is passed over on its own, so neither a
/// pass over a thousand subscribers' notices (each webhook allowed its
/// timeout) nor a failover command that runs for minutes holds up a page.
/// Once an hour it also erases the public's old addresses.
pub async fn deliver_paced(
    notify_store: Arc<dyn NotifyStore>,
    courier: Courier,
    deliveries: Arc<Deliveries>,
    every: Duration,
    shutdown: watch::Receiver<bool>,
) {
    let store = notify_store.as_ref();
    let (courier, deliveries, stop) = (&courier, deliveries.as_ref(), &shutdown);
    let stopping = move || *stop.borrow();
    let stopping = &stopping;
    let lane = |lane: Lane| {
        paced(every, shutdown.clone(), move || async move {
            match deliver_due(store, courier, &unix_now, lane, stopping).await {
                Ok(pass) => {
                    deliveries.add(lane, pass);
                    if lane.is_operators() && pass.gave_up > 0 {
                        // A page given up on woke nobody, a mitigation did
                        // not run: louder than the warning each failed try logs.
                        tracing::error!(
                            given_up = pass.gave_up,
                            lane = lane.as_str(),
                            "operator messages given up on; GET /api/v1/outbox says which and why"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, ?lane, "could not read the outbox; will retry")
                }
            }
        })
    };
    tokio::join!(
        lane(Lane::Pages),
        lane(Lane::Mitigations),
        lane(Lane::Public),
        forget_paced(store, every, shutdown.clone())
    );
}

/// Erases the public's old addresses from the outbox and from unanswered
/// reports once an hour, trying
/// again every `every` after a failure.
async fn forget_paced(
    store: &dyn NotifyStore,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    // Its own loop rather than `paced`: the next due time changes between
    // runs, which a future borrowing it could not share with a spawned task.
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut forget_at = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => break,
        }
        if std::time::Instant::now() >= forget_at {
            let before = unix_now() - ADDRESS_RETENTION_SECS;
            match store.forget_destinations(before).await {
                Ok(_) => forget_at += Duration::from_secs(3600),
                Err(e) => tracing::warn!(error = %e, "could not erase old addresses; will retry"),
            }
        }
    }
}
