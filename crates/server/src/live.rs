//! The live loop: the twin feeds the engine minute by minute, paced to the
//! wall clock; incidents are persisted and every document re-rendered.
//!
//! The store sits beside the loop, not in front of it: if a save fails the
//! incident stays dirty and is saved on a later minute, and the public pages,
//! rendered from memory, never notice.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use dialtone_drill::Run;
use dialtone_engine::{ActionError, Declaration, Incident, OperatorAction, TimelineEntry};
use dialtone_model::Timestamp;
use dialtone_statuspage::{PageInfo, PageState};
use dialtone_store::Store;
use tokio::sync::{Mutex, watch};

use crate::console::render_console;
use crate::{History, Published, Rendered};

/// Minutes of KPI history kept for charts.
pub const HISTORY_MINUTES: usize = 180;

/// The pipeline as the server runs it.
pub struct Live {
    run: Run,
    history: History,
    /// Resolved incidents from earlier runs, shown as history.
    earlier: Vec<Incident>,
    regions: Vec<String>,
    page: PageInfo,
    version: u64,
    now: Timestamp,
    dirty: BTreeSet<u64>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("now", &self.now).finish()
    }
}

impl Live {
    pub fn new(run: Run, earlier: Vec<Incident>, page: PageInfo) -> Live {
        let history = History::new(run.engine().series().len(), HISTORY_MINUTES);
        let regions = run.regions();
        Live {
            run,
            history,
            earlier: earlier
                .into_iter()
                .filter(|i| !i.status.is_open())
                .collect(),
            regions,
            page,
            version: 0,
            now: 0,
            dirty: BTreeSet::new(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn run(&self) -> &Run {
        &self.run
    }

    /// One simulated minute; incidents it touched become dirty (to be saved).
    pub fn step(&mut self) {
        let mut timeline = Vec::new();
        self.now = self.run.step(&mut timeline);
        self.history.push(self.now, self.run.samples());
        self.dirty.extend(timeline.iter().map(|e| e.incident));
    }

    /// Every incident, oldest first: earlier runs' history, then this run's.
    pub fn incidents(&self) -> Vec<Incident> {
        self.earlier
            .iter()
            .chain(self.run.engine().incidents())
            .cloned()
            .collect()
    }

    /// The incident `id`, from this run or an earlier one.
    pub fn incident(&self, id: u64) -> Option<&Incident> {
        self.run
            .engine()
            .incidents()
            .iter()
            .chain(&self.earlier)
            .find(|i| i.id == id)
    }

    /// Applies an operator action at the current network time; the incident becomes dirty.
    pub fn act(
        &mut self,
        id: u64,
        by: &str,
        action: &OperatorAction,
    ) -> Result<TimelineEntry, ActionError> {
        let at = self.now;
        let in_run = self.run.engine().incidents().iter().any(|i| i.id == id);
        let inc = if in_run {
            self.run.engine_mut().incident_mut(id)
        } else {
            self.earlier.iter_mut().find(|i| i.id == id)
        }
        .ok_or(ActionError::NotFound(id))?;
        let entry = inc.apply(at, by, action)?;
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

    /// Merges open incident `from` into open incident `into`.
    pub fn merge(&mut self, by: &str, into: u64, from: u64) -> Result<(), ActionError> {
        let at = self.now;
        self.run.engine_mut().merge(at, by, into, from)?;
        self.dirty.extend([into, from]);
        Ok(())
    }

    /// Renders every public document and the console as of now.
    pub fn render(&mut self) -> Rendered {
        self.version += 1;
        let incidents = self.incidents();
        let state = PageState {
            page: &self.page,
            regions: &self.regions,
            incidents: &incidents,
            now: self.now,
        };
        let console = render_console(
            &incidents,
            self.run.engine().series(),
            &self.history,
            self.now,
        );
        Rendered::render(&state, console, self.version)
    }

    /// Saves dirty incidents; those that fail stay dirty for the next call.
    pub async fn save(&mut self, store: &dyn Store) {
        let dirty = std::mem::take(&mut self.dirty);
        for id in dirty {
            let Some(inc) = self.incident(id) else {
                continue;
            };
            if let Err(e) = store.save_incident(inc).await {
                tracing::warn!(incident = id, error = %e, "could not save incident; will retry next minute");
                self.dirty.insert(id);
            }
        }
    }
}

/// Runs `live` until `shutdown` flips, one simulated minute per `tick`.
///
/// The loop and operator requests share `live` behind one lock: each minute
/// and each operator action is applied, re-rendered and saved whole, so the
/// page never shows half of either.
pub async fn run_paced(
    live: Arc<Mutex<Live>>,
    store: Arc<dyn Store>,
    published: Arc<Published>,
    tick: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => break,
        }
        let mut live = live.lock().await;
        live.step();
        published.publish(live.render());
        live.save(store.as_ref()).await;
    }
    live.lock().await.save(store.as_ref()).await;
}
