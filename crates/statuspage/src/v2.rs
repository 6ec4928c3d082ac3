//! Statuspage v2 shapes (see `shared/reference/formats.md`): field names and
//! enums exactly as Atlassian's public API has them, so existing clients work.

use dialtone_engine::{Incident, region_name};
use dialtone_model::{ComponentStatus, IncidentStatus, Service, Severity};
use serde::Serialize;

use crate::{PageState, iso8601};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub indicator: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub position: u32,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AffectedComponent {
    pub code: String,
    pub name: String,
    pub old_status: &'static str,
    pub new_status: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentUpdate {
    pub id: String,
    pub status: &'static str,
    pub body: String,
    pub incident_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    pub affected_components: Option<Vec<AffectedComponent>>,
    pub deliver_notifications: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentJson {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    pub impact: &'static str,
    pub shortlink: String,
    pub started_at: String,
    pub page_id: String,
    pub incident_updates: Vec<IncidentUpdate>,
    pub components: Vec<Component>,
}

/// A scheduled maintenance: an incident's fields plus its window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MaintenanceJson {
    #[serde(flatten)]
    pub incident: IncidentJson,
    pub scheduled_for: String,
    pub scheduled_until: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub page: Page,
    pub components: Vec<Component>,
    pub incidents: Vec<IncidentJson>,
    pub scheduled_maintenances: Vec<MaintenanceJson>,
    pub status: Status,
}

fn page(state: &PageState<'_>) -> Page {
    Page {
        id: state.page.id.clone(),
        name: state.page.name.clone(),
        url: state.page.url.clone(),
        time_zone: state.page.time_zone.clone(),
        updated_at: iso8601(
            state
                .incidents
                .iter()
                .map(|i| i.updated_at)
                .max()
                .unwrap_or(state.now),
        ),
    }
}

fn component_id(region: &str, service: Option<Service>) -> String {
    match service {
        Some(s) => format!("{region}-{}", s.as_str()),
        None => format!("region-{region}"),
    }
}

/// Status of one service in one region: the worst over open incidents, and
/// under maintenance while a window covering the region is in progress
/// (an outage there is still worse).
fn service_status(state: &PageState<'_>, region: &str, service_index: usize) -> ComponentStatus {
    let quiet = if maintenance_in_progress(state, Some(region)) {
        ComponentStatus::UnderMaintenance
    } else {
        ComponentStatus::Operational
    };
    state
        .incidents
        .iter()
        .filter(|i| i.status.is_open() && i.status != IncidentStatus::Monitoring)
        .flat_map(|i| i.impact.regions.iter())
        .filter(|r| r.region == region)
        .map(|r| ComponentStatus::from_affected_share(r.share[service_index]))
        .fold(quiet, ComponentStatus::max)
}

/// Whether a maintenance window is in progress in `region` (any region for
/// `None`); a window with no regions is work on the national core, and
/// covers them all.
fn maintenance_in_progress(state: &PageState<'_>, region: Option<&str>) -> bool {
    state
        .maintenances
        .iter()
        .any(|m| m.status(state.now) == "in_progress" && region.is_none_or(|r| m.covers(r)))
}

/// Regions as group components, each holding one component per service.
pub fn components(state: &PageState<'_>) -> Vec<Component> {
    let created = iso8601(
        state
            .incidents
            .first()
            .map_or(state.now, |i| i.opened_at.min(state.now)),
    );
    let updated = page(state).updated_at;
    let mut out = Vec::new();
    let mut position = 1;
    for region in state.regions {
        let group_id = component_id(region, None);
        let children: Vec<Component> = Service::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| Component {
                id: component_id(region, Some(*s)),
                name: format!("{} – {}", region_name(region), s.public_name()),
                status: service_status(state, region, i).as_str(),
                created_at: created.clone(),
                updated_at: updated.clone(),
                position: position + 1 + i as u32,
                description: None,
                showcase: true,
                start_date: None,
                group_id: Some(group_id.clone()),
                page_id: state.page.id.clone(),
                group: false,
                only_show_if_degraded: false,
                components: None,
            })
            .collect();
        let worst = Service::ALL
            .iter()
            .enumerate()
            .map(|(i, _)| service_status(state, region, i))
            .max()
            .unwrap_or(ComponentStatus::Operational);
        out.push(Component {
            id: group_id.clone(),
            name: region_name(region),
            status: worst.as_str(),
            created_at: created.clone(),
            updated_at: updated.clone(),
            position,
            description: Some(format!("Services in the {} region", region_name(region))),
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: state.page.id.clone(),
            group: true,
            only_show_if_degraded: false,
            components: Some(children.iter().map(|c| c.id.clone()).collect()),
        });
        position += 1 + Service::ALL.len() as u32;
        out.extend(children);
    }
    out
}

/// One incident in Statuspage's shape; updates newest first, as Statuspage lists them.
pub fn incident_json(state: &PageState<'_>, inc: &Incident) -> IncidentJson {
    let id = inc.id.to_string();
    let all = components(state);
    let affected: Vec<Component> =
        all.into_iter()
            .filter(|c| {
                !c.group
                    && inc.impact.regions.iter().any(|r| {
                        Service::ALL.iter().enumerate().any(|(i, s)| {
                            r.share[i] > 0.0 && c.id == component_id(&r.region, Some(*s))
                        })
                    })
            })
            .collect();
    let updates = inc
        .timeline
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, e)| e.kind.is_public())
        .map(|(n, e)| IncidentUpdate {
            id: format!("{id}-{n}"),
            status: e.status.as_str(),
            body: e.public_body.clone(),
            incident_id: id.clone(),
            created_at: iso8601(e.at),
            updated_at: iso8601(e.at),
            display_at: iso8601(e.at),
            affected_components: None,
            deliver_notifications: true,
        })
        .collect();
    IncidentJson {
        id: id.clone(),
        name: inc.title.clone(),
        status: inc.status.as_str(),
        created_at: iso8601(inc.opened_at),
        updated_at: iso8601(inc.updated_at),
        monitoring_at: inc.monitoring_at.map(iso8601),
        resolved_at: inc.resolved_at.map(iso8601),
        impact: inc.severity.as_str(),
        shortlink: format!("{}/incidents/{id}", state.page.url),
        started_at: iso8601(inc.opened_at),
        page_id: state.page.id.clone(),
        incident_updates: updates,
        components: affected,
    }
}

/// One planned maintenance in Statuspage's shape. Its status follows the
/// clock (scheduled, in progress, completed) and each step it has reached
/// is an update, newest first.
pub fn maintenance_json(state: &PageState<'_>, m: &crate::PlannedMaintenance) -> MaintenanceJson {
    let status = m.status(state.now);
    let mut steps = vec![(
        "scheduled",
        m.scheduled_at,
        format!(
            "{} is scheduled from {} to {}. Service may be interrupted briefly.",
            m.name,
            iso8601(m.start),
            iso8601(m.end)
        ),
    )];
    if status != "scheduled" {
        steps.push((
            "in_progress",
            m.start,
            "Scheduled maintenance is in progress.".into(),
        ));
    }
    if status == "completed" {
        steps.push((
            "completed",
            m.end,
            "Scheduled maintenance has been completed.".into(),
        ));
    }
    let updates = steps
        .iter()
        .enumerate()
        .rev()
        .map(|(n, (s, at, body))| IncidentUpdate {
            id: format!("{}-{n}", m.id),
            status: s,
            body: body.clone(),
            incident_id: m.id.clone(),
            created_at: iso8601(*at),
            updated_at: iso8601(*at),
            display_at: iso8601(*at),
            affected_components: None,
            deliver_notifications: true,
        })
        .collect();
    let affected: Vec<Component> = components(state)
        .into_iter()
        .filter(|c| {
            !c.group
                && state
                    .regions
                    .iter()
                    .any(|r| m.covers(r) && c.group_id.as_deref() == Some(&component_id(r, None)))
        })
        .collect();
    let last = steps.last().map_or(m.start, |s| s.1);
    MaintenanceJson {
        incident: IncidentJson {
            id: m.id.clone(),
            name: m.name.clone(),
            status,
            created_at: iso8601(steps[0].1),
            updated_at: iso8601(last),
            monitoring_at: None,
            resolved_at: (status == "completed").then(|| iso8601(m.end)),
            impact: "maintenance",
            // The status page lists scheduled maintenance; it has no page of its own.
            shortlink: format!("{}/", state.page.url),
            started_at: iso8601(m.start),
            page_id: state.page.id.clone(),
            incident_updates: updates,
            components: affected,
        },
        scheduled_for: iso8601(m.start),
        scheduled_until: iso8601(m.end),
    }
}

/// The page's overall indicator: the worst open incident's impact.
pub fn status_of(state: &PageState<'_>) -> Status {
    let worst = state
        .incidents
        .iter()
        .filter(|i| i.status.is_open())
        .map(|i| i.severity)
        .max()
        .unwrap_or(Severity::None);
    let description = match worst {
        Severity::None if maintenance_in_progress(state, None) => "Service Under Maintenance",
        Severity::None => "All Systems Operational",
        Severity::Minor => "Minor Service Outage",
        Severity::Major => "Partial System Outage",
        Severity::Critical => "Major System Outage",
    };
    Status {
        indicator: worst.as_str(),
        description,
    }
}

/// `/api/v2/summary.json`: unresolved incidents, newest first.
pub fn summary(state: &PageState<'_>) -> Summary {
    Summary {
        page: page(state),
        components: components(state),
        incidents: state
            .incidents
            .iter()
            .rev()
            .filter(|i| i.status.is_open())
            .map(|i| incident_json(state, i))
            .collect(),
        scheduled_maintenances: state
            .maintenances
            .iter()
            .filter(|m| m.status(state.now) != "completed")
            .map(|m| maintenance_json(state, m))
            .collect(),
        status: status_of(state),
    }
}
