//! Alerts from the operator's own probes (synthetic test calls, blackbox
//! checks, anything Alertmanager forwards) as observations beside the KPIs:
//! a firing probe on an element says its services are broken there, as a
//! broken KPI series would, until the alert resolves or goes stale. Root
//! cause and incidents then treat it like any other broken observation.

use dialtone_model::{ServiceMask, Timestamp};

use crate::{Engine, UnknownElement};

/// How long a firing probe counts without being heard of again.
/// Alertmanager repeats a firing alert every `repeat_interval` (4 h by
/// default): a "resolved" that never arrived must not keep an incident open
/// for ever.
pub const PROBE_STALE_SECS: i64 = 5 * 3600;

/// One alert about one element, as a probe reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeAlert {
    /// The alert's name: it tells one probe on an element from another.
    pub name: String,
    /// The topology element the probe tests.
    pub element: String,
    /// The services it found broken.
    pub services: ServiceMask,
    /// Firing, or resolved.
    pub firing: bool,
}

/// A firing probe the engine holds.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) element: usize,
    name: String,
    pub(crate) services: ServiceMask,
    /// When it began firing: the onset of what it observes.
    pub(crate) since: Timestamp,
    /// When it was last heard of firing.
    heard: Timestamp,
}

impl Engine {
    /// Records a probe's alert at network time `at`: a firing one counts as
    /// a broken observation of its element from the next minute on, until
    /// it resolves or [`PROBE_STALE_SECS`] pass without word of it.
    pub fn probe_alert(&mut self, at: Timestamp, alert: &ProbeAlert) -> Result<(), UnknownElement> {
        let element = self
            .topology()
            .index_of(&alert.element)
            .ok_or_else(|| UnknownElement(alert.element.clone()))?;
        let held = (self.probes.iter()).position(|p| p.element == element && p.name == alert.name);
        match (held, alert.firing) {
            (Some(i), true) => {
                let p = &mut self.probes[i];
                p.services = alert.services;
                p.heard = at;
            }
            (None, true) => self.probes.push(Probe {
                element,
                name: alert.name.clone(),
                services: alert.services,
                since: at,
                heard: at,
            }),
            (Some(i), false) => {
                self.probes.swap_remove(i);
            }
            (None, false) => {}
        }
        Ok(())
    }

    /// Forgets probes not heard of for [`PROBE_STALE_SECS`] at `at`.
    pub(crate) fn forget_stale_probes(&mut self, at: Timestamp) {
        self.probes.retain(|p| at - p.heard <= PROBE_STALE_SECS);
    }
}
