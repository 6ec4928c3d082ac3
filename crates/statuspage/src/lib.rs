//! The public face of Dialtone: the Atlassian Statuspage v2 JSON API and a
//! server-rendered status page, both pure functions of incident state.
//!
//! Rendering does no I/O, so the server can pre-render on every state change
//! and serve bytes from memory, and a drill can check what the public saw.

mod feed;
mod html;
mod maintenance;
mod v2;

pub use feed::{render_atom, render_rss};
pub use html::{escape, render_incident_html, render_status_html};
pub use maintenance::{PlannedMaintenance, planned_maintenance};
pub use v2::{
    Component, IncidentJson, IncidentUpdate, MaintenanceJson, Page, Status, Summary, components,
    incident_json, maintenance_json, status_of, summary,
};

use dialtone_model::Timestamp;

/// Who the page belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    /// When the page and its components (the regions and services) were set
    /// up: their `created_at`, which clients keep as first seen, so it must
    /// not move. The server sets it to when its network view began.
    pub created_at: Timestamp,
}

impl Default for PageInfo {
    fn default() -> Self {
        PageInfo {
            id: "dialtone".into(),
            name: "Dialtone Mobile".into(),
            url: "http://127.0.0.1:8080".into(),
            time_zone: "Etc/UTC".into(),
            created_at: 0,
        }
    }
}

/// What the public page is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct PageState<'a> {
    pub page: &'a PageInfo,
    /// Region ids, in display order.
    pub regions: &'a [String],
    /// Every incident known, any status, oldest first.
    pub incidents: &'a [dialtone_engine::Incident],
    /// Planned maintenance windows, any time, earliest first.
    pub maintenances: &'a [PlannedMaintenance],
    pub now: Timestamp,
    /// Participants the network's conference bridges host
    /// ([`conference_participants`]): where there are any, the page has a
    /// "Conference calls" component, in no region (its callers are anywhere).
    pub conference_participants: u64,
}

/// Participants the conference bridges of `topology` host, together.
pub fn conference_participants(topology: &dialtone_model::Topology) -> u64 {
    (topology.elements().iter())
        .filter(|e| e.kind == dialtone_model::ElementKind::ConferenceBridge)
        .map(|e| u64::from(e.subscribers))
        .sum()
}

/// `2026-01-07T10:00:00.000Z`, the timestamp form Statuspage uses.
pub fn iso8601(t: Timestamp) -> String {
    use time::macros::format_description;
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}
