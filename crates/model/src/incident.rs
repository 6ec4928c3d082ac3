//! Incidents and their public face, in the Atlassian Statuspage v2 vocabulary.

use serde::{Deserialize, Serialize};

use crate::kpi::ServiceMask;
use crate::topology::ElementId;

/// Statuspage incident status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
}

impl IncidentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Postmortem => "postmortem",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentStatus> {
        [
            IncidentStatus::Investigating,
            IncidentStatus::Identified,
            IncidentStatus::Monitoring,
            IncidentStatus::Resolved,
            IncidentStatus::Postmortem,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    pub const fn is_open(self) -> bool {
        !matches!(self, IncidentStatus::Resolved | IncidentStatus::Postmortem)
    }

    /// Whether the trouble lasts: investigating or identified. Monitoring
    /// has told the public service is restored.
    pub const fn is_ongoing(self) -> bool {
        matches!(
            self,
            IncidentStatus::Investigating | IncidentStatus::Identified
        )
    }
}

/// Statuspage incident impact, also our severity scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Minor,
    Major,
    Critical,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 4] = [
        Severity::None,
        Severity::Minor,
        Severity::Major,
        Severity::Critical,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Statuspage component status, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    /// Status of a service in a region from the share of its cells affected.
    pub fn from_affected_share(share: f64) -> ComponentStatus {
        if share <= 0.0 {
            ComponentStatus::Operational
        } else if share < 0.1 {
            ComponentStatus::DegradedPerformance
        } else if share < 0.5 {
            ComponentStatus::PartialOutage
        } else {
            ComponentStatus::MajorOutage
        }
    }
}

/// One ranked root-cause candidate and the evidence behind its rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub element: ElementId,
    pub kind: String,
    /// Jaccard agreement between what this element's failure would break and
    /// what is observed broken, in [0, 1].
    pub score: f64,
    /// Anomalous observations this candidate explains.
    pub explained: u32,
    /// Observations it predicts broken that look healthy.
    pub contradicted: u32,
    /// Anomalous observations it leaves unexplained.
    pub unexplained: u32,
    /// How sure the ranking is that this is the root cause, in [0, 1]: the
    /// agreement (plus any recent-change bonus) times the candidate's softmax
    /// share over all candidates; see `docs/rca.md`. Absent (0) in records
    /// written before it existed.
    #[serde(default)]
    pub confidence: f64,
    /// Plain-language evidence lines.
    pub evidence: Vec<String>,
}

/// What an incident affects, for the public and for severity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// Per region and service: the share of that region's cells affected.
    pub regions: Vec<RegionImpact>,
    pub cells_affected: u32,
    pub subscribers_affected: u64,
    pub emergency_calls_affected: bool,
    /// Lines served straight from a broken element rather than through a
    /// cell (a fixed-line gateway's) are hit too: a landline in the area is
    /// no way round. Absent (false) in records written before it existed.
    #[serde(default)]
    pub fixed_lines_affected: bool,
    /// How many such lines, and the regions of the elements serving them:
    /// subscribers no cell counts. Absent (0, none) in records written
    /// before they existed.
    #[serde(default)]
    pub fixed_line_subscribers_affected: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_line_regions: Vec<String>,
    /// Participants the broken conference bridges host. Conference calls
    /// are a service of their own, to callers wherever they are: no region's
    /// cells measure them. Absent (0) in records written before it existed.
    #[serde(default)]
    pub conference_participants_affected: u64,
}

impl Impact {
    /// The services broken in any region.
    pub fn services(&self) -> ServiceMask {
        self.regions.iter().fold(0, |m, r| m | r.services)
    }

    /// People hit at once: the cells' subscribers and the fixed lines, or
    /// the conference participants where those are more (they are mostly
    /// the same subscribers, so counted once). Severity is set by it.
    pub fn people_affected(&self) -> u64 {
        let subscribers = self.subscribers_affected + self.fixed_line_subscribers_affected;
        subscribers.max(self.conference_participants_affected)
    }

    /// "12000 fixed lines", or "fixed lines" in a record from before lines
    /// were counted; `None` when no fixed line is hit.
    pub fn fixed_lines_phrase(&self) -> Option<String> {
        self.fixed_lines_affected
            .then(|| match self.fixed_line_subscribers_affected {
                0 => "fixed lines".to_string(),
                n => format!("{n} fixed lines"),
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionImpact {
    pub region: String,
    pub services: ServiceMask,
    /// Share of the region's cells with each service lost, by [`crate::Service::ALL`] order.
    pub share: [f64; 3],
}
