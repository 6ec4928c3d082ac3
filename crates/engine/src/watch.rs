//! High-stakes event watch: "the leadership call on bridge X, 14:00 to 15:00".
//!
//! From a pre-flight check `PREFLIGHT_SECS` before the start until the end,
//! the event's element is watched harder: its series alarm at a lower
//! detector threshold, and a fault that breaks it opens an incident at
//! once instead of after the usual persistence. Such an incident carries
//! the watch, so the playbook pages at any severity and switches to the
//! prepared fallback.

use dialtone_model::Timestamp;
use dialtone_rca::UnknownElement;
use serde::{Deserialize, Serialize};

use crate::Engine;

/// The pre-flight check runs this long before the event starts.
pub const PREFLIGHT_SECS: i64 = 15 * 60;
/// The watched element's alarm threshold, as a share of the usual one.
pub const WATCH_SENSITIVITY: f64 = 0.85;

/// A scheduled event and what it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventWatch {
    /// e.g. "Board call".
    pub name: String,
    /// The element the event runs on, e.g. the conference bridge.
    pub element: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// What to switch to if it degrades, e.g. the standby bridge.
    pub fallback: Option<String>,
}

impl EventWatch {
    /// Whether the watch is on at `at`: from the pre-flight to the end.
    /// Saturating: a watch read back from anywhere must not panic the engine.
    pub fn is_on(&self, at: Timestamp) -> bool {
        self.start.saturating_sub(PREFLIGHT_SECS) <= at && at < self.end
    }
}

/// How long an event stays listed, with its pre-flight, after it ends.
const WATCHES_KEPT_SECS: i64 = 86_400;

/// A watch the engine holds, resolved to its element.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub event: EventWatch,
    pub element: usize,
    pub preflight_done: bool,
}

impl Engine {
    /// Schedules an event watch; the element must be in the topology.
    pub fn watch_event(&mut self, event: EventWatch) -> Result<(), UnknownElement> {
        let element = self
            .topology()
            .index_of(&event.element)
            .ok_or_else(|| UnknownElement(event.element.clone()))?;
        self.watches.push(Watch {
            event,
            element,
            preflight_done: false,
        });
        Ok(())
    }

    /// Every scheduled watch.
    pub fn watches(&self) -> impl Iterator<Item = &EventWatch> {
        self.watches.iter().map(|w| &w.event)
    }

    /// What the watches found, oldest first: pre-flight results.
    pub fn watch_log(&self) -> &[(Timestamp, String)] {
        &self.watch_log
    }

    /// Marks the elements watched at `at`: before the minute's detection,
    /// which alarms them at a lower level.
    pub(crate) fn refresh_watches(&mut self, at: Timestamp) {
        // An event over for a day is history, and so is a pre-flight line
        // written a day ago: the lists keep what a shift needs, not every
        // event since the start.
        // Two events may share an element: it is watched while either is
        // on. Cleared before the old are dropped: a minute that comes a day
        // after an event's end (a gap) must not leave its element watched.
        for w in &self.watches {
            self.watched[w.element] = false;
        }
        let kept_from = at.saturating_sub(WATCHES_KEPT_SECS);
        self.watches.retain(|w| w.event.end > kept_from);
        self.watch_log.retain(|&(logged, _)| logged > kept_from);
        for w in &self.watches {
            self.watched[w.element] |= w.event.is_on(at);
        }
    }

    /// Runs the pre-flight checks due at `at`: after the minute's
    /// detection, so that the verdict reads this minute's samples (before
    /// it, the first minute a watch is on would find nothing reporting).
    pub(crate) fn run_preflights(&mut self, at: Timestamp) {
        for i in 0..self.watches.len() {
            let w = &self.watches[i];
            if w.preflight_done || !w.event.is_on(at) {
                continue;
            }
            let e = w.element;
            let broken = self
                .hot
                .iter()
                .filter(|&&s| self.series_element[s as usize] as usize == e)
                .count();
            let reporting = self.reporting[e] == self.observable[e];
            // The operator's own probes speak for it too, and for an element
            // with no KPIs they alone do.
            let failing = (self.probes.keys()).filter(|&&(el, _)| el == e).count();
            let verdict = match (reporting, broken, failing) {
                (_, _, p) if p > 0 => {
                    format!("{p} of its probes fail: consider the fallback now")
                }
                _ if self.observable[e] == 0 => {
                    "it has no KPIs and none of its probes fails: only probes watch it".to_string()
                }
                (true, 0, _) => "all its KPIs report and look normal".to_string(),
                (false, _, _) => {
                    "some of its KPIs are not reporting: check collection before the event"
                        .to_string()
                }
                (true, n, _) => {
                    format!("{n} of its KPI series look anomalous: consider the fallback now")
                }
            };
            let event = &self.watches[i].event;
            let line = format!(
                "pre-flight for '{}' on {}: {verdict}{}",
                event.name,
                event.element,
                event
                    .fallback
                    .as_deref()
                    .map(|f| format!("; fallback {f} ready"))
                    .unwrap_or_default()
            );
            self.watch_log.push((at, line));
            self.watches[i].preflight_done = true;
        }
    }

    /// The active watch on any of `elements`, if one is on.
    pub(crate) fn watch_over(&self, at: Timestamp, elements: &[usize]) -> Option<&EventWatch> {
        self.watches
            .iter()
            .find(|w| w.event.is_on(at) && elements.contains(&w.element))
            .map(|w| &w.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_from_the_start_of_time_is_on_until_its_end() {
        let event = EventWatch {
            name: "w".into(),
            element: "e".into(),
            start: Timestamp::MIN,
            end: Timestamp::MAX,
            fallback: None,
        };
        assert!(event.is_on(Timestamp::MIN));
        assert!(event.is_on(0));
        assert!(!event.is_on(Timestamp::MAX));
    }
}
