//! Change-awareness: a deployment or configuration change on an element
//! shortly before a fault began is evidence against that element.
//!
//! Most large outages follow a change (AT&T 2024, Rogers 2022, Optus 2023 were
//! all a configuration or software push). A change is still only a hint: it
//! never makes a candidate of an element whose failure explains nothing, and
//! its bonus ([`CHANGE_BONUS`] at most) only reorders candidates that explain
//! the observations nearly equally well.
//!
//! Time is a parameter: the window is measured back from the onset of what is
//! broken ([`crate::Observations::onset`]), never from a clock. A change after
//! the onset (a rollback attempt, an operator's fix) is not evidence.

use serde::{Deserialize, Serialize};

use dialtone_model::{ElementId, ElementKind, Timestamp, Topology};

/// How long before a fault's onset a change still counts as evidence: two hours.
/// Staged rollouts and configuration pushes take effect within minutes to an
/// hour; older changes would blame every element touched that day.
pub const CHANGE_LOOKBACK_SECS: i64 = 2 * 3600;

/// The most a change adds to a candidate's ranking score (an agreement in [0, 1]).
/// A change made at the onset adds all of it; the bonus falls linearly to 0 at
/// [`CHANGE_LOOKBACK_SECS`] before the onset, so there is no cliff at the window's edge.
const CHANGE_BONUS: f64 = 0.05;

/// What kind of change an operator made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A software deployment, upgrade or rollback.
    Deploy,
    /// A configuration change (routing policy, a pushed template, DNS zone).
    Config,
    /// Hardware or cabling work.
    Hardware,
    Other,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 4] = [
        ChangeKind::Deploy,
        ChangeKind::Config,
        ChangeKind::Hardware,
        ChangeKind::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Deploy => "deploy",
            ChangeKind::Config => "config",
            ChangeKind::Hardware => "hardware",
            ChangeKind::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The change in an evidence line: "deployment 'AMF 22.4.2' on ...".
    const fn noun(self) -> &'static str {
        match self {
            ChangeKind::Deploy => "deployment",
            ChangeKind::Config => "config change",
            ChangeKind::Hardware => "hardware change",
            ChangeKind::Other => "change",
        }
    }
}

/// One change made to the network, as a change-management system reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// When the change took effect.
    pub at: Timestamp,
    /// The element changed: a topology element id.
    pub element: ElementId,
    pub kind: ChangeKind,
    /// Free text from the change record, e.g. `AMF 22.4.2 rollout wave 1`.
    pub description: String,
}

/// A change whose element is not in the topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change names element `{0}`, which is not in the topology")]
pub struct UnknownElement(pub ElementId);

/// A change, resolved to its element's index.
#[derive(Debug, Clone)]
struct Recorded {
    element: usize,
    event: ChangeEvent,
}

/// The changes known to an explainer, ordered by time.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChangeLog {
    /// Sorted by `event.at`; changes may arrive out of order.
    entries: Vec<Recorded>,
}

/// A change that counts for one candidate: what to say and how much it adds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChangeHint {
    pub bonus: f64,
    pub evidence: String,
}

impl ChangeLog {
    pub(crate) fn record(
        &mut self,
        topology: &Topology,
        event: ChangeEvent,
    ) -> Result<(), UnknownElement> {
        let element = topology
            .index_of(&event.element)
            .ok_or_else(|| UnknownElement(event.element.clone()))?;
        // After every change at the same time: equal times keep arrival order.
        let at = self.entries.partition_point(|r| r.event.at <= event.at);
        self.entries.insert(at, Recorded { element, event });
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn forget_before(&mut self, t: Timestamp) {
        let old = self.entries.partition_point(|r| r.event.at < t);
        self.entries.drain(..old);
    }

    /// The strongest change that counts for candidate `c` of a fault that began
    /// at `onset`: one on `c` itself, or on a software version, configuration
    /// system or certificate `c` directly depends on (changing those changes
    /// `c`). Other dependencies are candidates of their own and earn their own
    /// hint; a change on a router does not change the cells behind it.
    pub(crate) fn hint(
        &self,
        topology: &Topology,
        c: usize,
        onset: Timestamp,
    ) -> Option<ChangeHint> {
        let from = self
            .entries
            .partition_point(|r| r.event.at < onset.saturating_sub(CHANGE_LOOKBACK_SECS));
        let to = self.entries.partition_point(|r| r.event.at <= onset);
        self.entries[from..to]
            .iter()
            .filter_map(|r| {
                let on = if r.element == c {
                    topology.element(c).id.clone()
                } else {
                    let el = topology.element(r.element);
                    let what = configures(el.kind)?;
                    topology.dependents(r.element).binary_search(&c).ok()?;
                    format!("its {what} {}", el.id)
                };
                let age = onset - r.event.at;
                let bonus = CHANGE_BONUS * (1.0 - age as f64 / CHANGE_LOOKBACK_SECS as f64);
                let evidence = format!(
                    "{} '{}' on {on} {} min before onset",
                    r.event.kind.noun(),
                    r.event.description,
                    age / 60
                );
                Some(ChangeHint { bonus, evidence })
            })
            // The latest change wins ties: it is the likelier trigger.
            .reduce(|best, h| if h.bonus >= best.bonus { h } else { best })
    }
}

/// For kinds whose change is a change of every element that depends on them,
/// their name in an evidence line.
fn configures(kind: ElementKind) -> Option<&'static str> {
    match kind {
        ElementKind::SoftwareVersion => Some("software version"),
        ElementKind::ConfigSystem => Some("configuration system"),
        ElementKind::Certificate => Some("certificate"),
        _ => None,
    }
}
