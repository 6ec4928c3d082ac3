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
    /// What the network serves outside its cells: the components in no
    /// region.
    pub hosted: Hosted,
}

/// The incidents the public page lists ([`PageState::incidents`]): a draft
/// awaiting an operator's approval is the console's until approved.
pub fn public_incidents(incidents: &[dialtone_engine::Incident]) -> Vec<dialtone_engine::Incident> {
    (incidents.iter())
        .filter(|i| i.is_public())
        .cloned()
        .collect()
}

/// What a network serves outside its cells, together: where it serves any
/// conference participants, the page has a "Conference calls" component,
/// and where it serves any fixed lines, a "Fixed-line phones" one, both in
/// no region, each with its status from the share an incident hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hosted {
    /// Participants the conference bridges host.
    pub conference_participants: u64,
    /// Lines the elements that serve fixed lines serve
    /// ([`dialtone_model::Element::serves_fixed_lines`]).
    pub fixed_line_subscribers: u64,
}

impl Hosted {
    pub fn of(topology: &dialtone_model::Topology) -> Hosted {
        let mut hosted = Hosted::default();
        for e in topology.elements() {
            if e.kind == dialtone_model::ElementKind::ConferenceBridge {
                hosted.conference_participants += u64::from(e.subscribers);
            } else if e.serves_fixed_lines() {
                hosted.fixed_line_subscribers += u64::from(e.subscribers);
            }
        }
        hosted
    }
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
