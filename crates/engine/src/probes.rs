//! Alerts from the operator's own probes (synthetic test calls, blackbox
//! checks, anything Alertmanager forwards) as observations beside the KPIs:
//! a firing probe on an element says its services are broken there, as a
//! broken KPI series would, until the alert resolves. Root cause and
//! incidents then treat it like any other broken observation. When an alert
//! is lost on its way is the caller's concern: the engine has no clock (the
//! server forgets probes it has not heard of for a while).

use std::collections::HashMap;

use dialtone_model::{ServiceMask, Timestamp};

use crate::Engine;

/// The most probes that may fire at once: alerts come from outside, and
/// each firing one is held until it resolves.
pub const MAX_PROBES: usize = 10_000;

/// The longest alert id held: Alertmanager's fingerprints are 16 hex
/// digits, and each id is kept, and stored, while its probe fires.
pub const MAX_PROBE_ID_BYTES: usize = 256;

/// One alert about one element, as a probe reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeAlert {
    /// What tells this alert from others on the element (Alertmanager's
    /// fingerprint of its labels): the same id resolves what it fired.
    pub id: String,
    /// The topology element the probe tests.
    pub element: String,
    /// The services it found broken.
    pub services: ServiceMask,
    /// Firing, or resolved.
    pub firing: bool,
}

/// Why a probe's alert was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeRefused {
    #[error("no element `{0}` in the topology")]
    UnknownElement(String),
    #[error("{MAX_PROBES} probes fire already: resolve some first")]
    TooMany,
    #[error("an alert id of {0} bytes: at most {MAX_PROBE_ID_BYTES} are kept")]
    IdTooLong(usize),
    #[error("a firing alert that names no broken service")]
    NoService,
}

/// A firing probe the engine holds, by element and alert id.
pub(crate) type Probes = HashMap<(usize, String), Probe>;

#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) services: ServiceMask,
    /// When it was first heard of firing: the onset of what it observes.
    pub(crate) since: Timestamp,
}

impl Engine {
    /// Records a probe's alert at network time `at`: a firing one counts as
    /// a broken observation of its element from the next minute on, until
    /// an alert with its id resolves it.
    pub fn probe_alert(&mut self, at: Timestamp, alert: &ProbeAlert) -> Result<(), ProbeRefused> {
        let element = self
            .topology()
            .index_of(&alert.element)
            .ok_or_else(|| ProbeRefused::UnknownElement(alert.element.clone()))?;
        if alert.id.len() > MAX_PROBE_ID_BYTES {
            return Err(ProbeRefused::IdTooLong(alert.id.len()));
        }
        if alert.firing && alert.services == 0 {
            // It would claim the element as broken while nothing is.
            return Err(ProbeRefused::NoService);
        }
        let key = (element, alert.id.clone());
        if !alert.firing {
            self.probes.remove(&key);
        } else if let Some(p) = self.probes.get_mut(&key) {
            p.services = alert.services;
        } else if self.probes.len() >= MAX_PROBES {
            return Err(ProbeRefused::TooMany);
        } else {
            let services = alert.services;
            self.probes.insert(
                key,
                Probe {
                    services,
                    since: at,
                },
            );
        }
        Ok(())
    }

    /// Resolves probe `id` on `element`, as its resolved alert would: for a
    /// caller that takes a probe it has not heard of for too long as
    /// resolved. Nothing if no such probe fires.
    pub fn resolve_probe(&mut self, element: &str, id: &str) {
        if let Some(element) = self.topology().index_of(element) {
            self.probes.remove(&(element, id.to_owned()));
        }
    }

    /// Probes firing now.
    pub fn firing_probes(&self) -> usize {
        self.probes.len()
    }
}
