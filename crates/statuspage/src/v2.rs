//! Statuspage v2 shapes (see `shared/reference/formats.md`): field names and
//! enums exactly as Atlassian's public API has them, so existing clients work.

use dialtone_engine::{Incident, TimelineEntry, region_name};
use dialtone_model::{ComponentStatus, Impact, Service, Severity, Timestamp};
use serde::Serialize;

use crate::{PageState, PlannedMaintenance, iso8601};

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
        updated_at: iso8601(page_updated_at(state)),
    }
}

/// When the page last changed: an incident's public update, or a
/// maintenance window announced, started or ended (components and status
/// change with it). Never the clock: a quiet page's documents, and so their
/// ETag, stay the same from one render to the next.
pub(crate) fn page_updated_at(state: &PageState<'_>) -> Timestamp {
    (state.incidents.iter().map(Incident::public_updated_at))
        .chain(state.maintenances.iter().map(|m| m.changed_at(state.now)))
        .max()
        .unwrap_or(state.page.created_at)
}

fn component_id(region: &str, service: Option<Service>) -> String {
    match service {
        Some(s) => format!("{region}-{}", s.as_str()),
        None => format!("region-{region}"),
    }
}

/// Status of one service in one region: the worst over ongoing incidents,
/// and under maintenance while a window that may interrupt it there is in
/// progress (an outage there is still worse).
fn service_status(state: &PageState<'_>, region: &str, service_index: usize) -> ComponentStatus {
    let service = Service::ALL[service_index];
    let quiet = if maintenance_in_progress(state, |m| m.touches(region, service)) {
        ComponentStatus::UnderMaintenance
    } else {
        ComponentStatus::Operational
    };
    state
        .incidents
        .iter()
        .filter(|i| i.status.is_ongoing())
        .flat_map(|i| i.impact.regions.iter())
        .filter(|r| r.region == region)
        .map(|r| ComponentStatus::from_affected_share(r.share[service_index]))
        .fold(quiet, ComponentStatus::max)
}

/// Whether a maintenance window for which `concerns` holds is in progress.
fn maintenance_in_progress(
    state: &PageState<'_>,
    concerns: impl Fn(&PlannedMaintenance) -> bool,
) -> bool {
    state
        .maintenances
        .iter()
        .any(|m| m.status(state.now) == "in_progress" && concerns(m))
}

/// The worst status of any component on the page, as [`components`] lists them.
fn worst_component(state: &PageState<'_>) -> ComponentStatus {
    let services = (state.regions.iter())
        .flat_map(|region| (0..Service::ALL.len()).map(|i| service_status(state, region, i)));
    let network_wide = network_wide(state).map(|n| n.status(state));
    (services.chain(network_wide)).fold(ComponentStatus::Operational, ComponentStatus::max)
}

/// Regions as group components, each holding one component per service.
pub fn components(state: &PageState<'_>) -> Vec<Component> {
    // Not the time of rendering nor of the first incident: those moved,
    // where clients keep a component's `created_at` as first seen.
    let created = iso8601(state.page.created_at);
    let updated = iso8601(page_updated_at(state));
    // What every component shares; each kind below sets what it differs in.
    let component = |id, name, status: ComponentStatus, position| Component {
        id,
        name,
        status: status.as_str(),
        created_at: created.clone(),
        updated_at: updated.clone(),
        position,
        description: None,
        showcase: true,
        start_date: None,
        group_id: None,
        page_id: state.page.id.clone(),
        group: false,
        only_show_if_degraded: false,
        components: None,
    };
    let mut out = Vec::new();
    let mut position = 1;
    for region in state.regions {
        let group_id = component_id(region, None);
        let statuses: [ComponentStatus; Service::ALL.len()] =
            std::array::from_fn(|i| service_status(state, region, i));
        let children: Vec<Component> = (Service::ALL.iter().zip(statuses).enumerate())
            .map(|(i, (s, status))| Component {
                group_id: Some(group_id.clone()),
                ..component(
                    component_id(region, Some(*s)),
                    format!("{} – {}", region_name(region), s.public_name()),
                    status,
                    position + 1 + i as u32,
                )
            })
            .collect();
        let worst = (statuses.into_iter().max()).unwrap_or(ComponentStatus::Operational);
        out.push(Component {
            description: Some(format!("Services in the {} region", region_name(region))),
            showcase: false,
            group: true,
            components: Some(children.iter().map(|c| c.id.clone()).collect()),
            ..component(group_id.clone(), region_name(region), worst, position)
        });
        position += 1 + Service::ALL.len() as u32;
        out.extend(children);
    }
    for n in network_wide(state) {
        out.push(Component {
            description: Some(n.description.into()),
            ..component(n.id.into(), n.name.into(), n.status(state), position)
        });
        position += 1;
    }
    out
}

/// A component in no region: conference calls, whose callers are anywhere,
/// and fixed-line phones, which a network has few of in each region.
struct NetworkWide {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    /// How many the network serves: participants or lines.
    hosted: u64,
    /// How many of them an incident hits.
    hit: fn(&Impact) -> u64,
}

/// The components in no region that the network has (those it hosts any
/// of), in page order.
fn network_wide(state: &PageState<'_>) -> impl Iterator<Item = NetworkWide> {
    [
        NetworkWide {
            id: "conference-calls",
            name: "Conference calls",
            description: "Conference calls, wherever their callers are",
            hosted: state.hosted.conference_participants,
            hit: |impact| impact.conference_participants_affected,
        },
        NetworkWide {
            id: "fixed-line-phones",
            name: "Fixed-line phones",
            description: "Phones on fixed lines, wherever they are",
            hosted: state.hosted.fixed_line_subscribers,
            hit: |impact| impact.fixed_line_subscribers_affected,
        },
    ]
    .into_iter()
    .filter(|n| n.hosted > 0)
}

impl NetworkWide {
    /// The worst over ongoing incidents, by the share of what the network
    /// hosts that each has hit.
    fn status(&self, state: &PageState<'_>) -> ComponentStatus {
        (state.incidents.iter())
            .filter(|i| i.status.is_ongoing())
            .map(|i| {
                ComponentStatus::from_affected_share(
                    (self.hit)(&i.impact) as f64 / self.hosted as f64,
                )
            })
            .fold(ComponentStatus::Operational, ComponentStatus::max)
    }
}

/// One incident in Statuspage's shape; updates newest first, as Statuspage lists them.
pub fn incident_json(state: &PageState<'_>, inc: &Incident) -> IncidentJson {
    let id = inc.id.to_string();
    let all = components(state);
    let network_wide: Vec<NetworkWide> = network_wide(state).collect();
    let affected: Vec<Component> = all
        .into_iter()
        .filter(|c| {
            let network_wide =
                (network_wide.iter()).any(|n| n.id == c.id && (n.hit)(&inc.impact) > 0);
            network_wide
                || !c.group
                    && inc.impact.regions.iter().any(|r| {
                        Service::ALL.iter().enumerate().any(|(i, s)| {
                            r.share[i] > 0.0 && c.id == component_id(&r.region, Some(*s))
                        })
                    })
        })
        .collect();
    // Numbered among the public entries alone: numbers counting the whole
    // timeline would show where internal entries (pages, assignments) lie.
    let public: Vec<&TimelineEntry> = (inc.timeline.iter())
        .filter(|e| e.kind.is_public())
        .collect();
    let updates = (public.into_iter().enumerate().rev())
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
        updated_at: iso8601(inc.public_updated_at()),
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
pub fn maintenance_json(state: &PageState<'_>, m: &PlannedMaintenance) -> MaintenanceJson {
    let status = m.status(state.now);
    let mut steps = vec![(
        "scheduled",
        m.scheduled_at,
        format!("{} is scheduled {}. {}", m.name, m.when(), m.interruption()),
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
            state.regions.iter().any(|r| {
                Service::ALL
                    .iter()
                    .any(|s| m.touches(r, *s) && c.id == component_id(r, Some(*s)))
            })
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

/// The page's overall indicator: the worst ongoing incident's impact, at
/// least minor while a component shows an outage.
///
/// Statuspage's own indicator counts monitoring incidents too, but there an
/// operator sets components by hand. Ours follow the incidents, and a
/// monitoring incident's components are back to operational and its update
/// says service is restored: counting it would put "Major System Outage"
/// over a page of working services. The incident itself stays listed.
pub fn status_of(state: &PageState<'_>) -> Status {
    let worst = state
        .incidents
        .iter()
        .filter(|i| i.status.is_ongoing())
        .map(|i| i.severity)
        .max()
        .unwrap_or(Severity::None);
    // An operator may set an ongoing incident's severity to none while its
    // components still show an outage: the banner must not say all is well
    // above them. Components at worst degraded say so, in the words of
    // Statuspage's descriptions (`shared/reference/formats.md`).
    let components = worst_component(state);
    let unrated = worst == Severity::None && components > ComponentStatus::UnderMaintenance;
    let worst = if unrated { Severity::Minor } else { worst };
    let description = match worst {
        Severity::None if maintenance_in_progress(state, |_| true) => "Service Under Maintenance",
        Severity::None => "All Systems Operational",
        Severity::Minor if unrated && components == ComponentStatus::DegradedPerformance => {
            "Degraded System Service"
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PageInfo, render_atom, render_rss, render_status_html};
    use dialtone_engine::TimelineKind;
    use dialtone_model::{ALL_SERVICES, Impact, IncidentStatus, RegionImpact};

    #[test]
    fn conference_calls_and_fixed_lines_are_components_of_no_region() {
        type Case = (
            &'static str,
            &'static str,
            fn(&mut Impact) -> &mut u64,
            fn(u64) -> crate::Hosted,
        );
        let cases: [Case; 2] = [
            (
                "conference-calls",
                "Conference calls",
                |impact| &mut impact.conference_participants_affected,
                |n| crate::Hosted {
                    conference_participants: n,
                    ..Default::default()
                },
            ),
            (
                "fixed-line-phones",
                "Fixed-line phones",
                |impact| &mut impact.fixed_line_subscribers_affected,
                |n| crate::Hosted {
                    fixed_line_subscribers: n,
                    ..Default::default()
                },
            ),
        ];
        let page = PageInfo::default();
        let regions = vec!["north".to_string()];
        for (id, name, hit, hosted) in cases {
            let mut inc = Incident::open(1, 0);
            inc.severity = Severity::Minor;
            *hit(&mut inc.impact) = 500;
            let page_with = |incidents: &[Incident], served| {
                let state = PageState {
                    page: &page,
                    regions: &regions,
                    incidents,
                    maintenances: &[],
                    now: 600,
                    hosted: hosted(served),
                };
                (summary(&state), render_status_html(&state))
            };
            let (quiet, _) = page_with(&[], 0);
            assert!(!quiet.components.iter().any(|c| c.id == id), "{id}");
            let (s, html) = page_with(std::slice::from_ref(&inc), 500);
            let component = s.components.last().unwrap();
            assert_eq!(
                (
                    component.id.as_str(),
                    component.name.as_str(),
                    component.status
                ),
                (id, name, "major_outage")
            );
            assert_eq!(component.group_id, None);
            assert!(
                s.components[..s.components.len() - 1]
                    .iter()
                    .all(|c| c.status == "operational"),
                "{id}: no region's services are hit"
            );
            let affected: Vec<&str> = (s.incidents[0].components.iter())
                .map(|c| c.id.as_str())
                .collect();
            assert_eq!(affected, [id]);
            let row = format!(
                "<tr><td>All regions</td><td>{name}</td><td class=\"st major_outage\">major outage</td></tr>"
            );
            assert!(html.contains(&row), "{html}");
            // A quarter of what the network serves: a partial outage.
            let (s, _) = page_with(std::slice::from_ref(&inc), 2000);
            assert_eq!(
                s.components.last().unwrap().status,
                "partial_outage",
                "{id}"
            );
            // Rated none by an operator, the banner still speaks of the outage.
            let mut unrated = inc.clone();
            unrated.severity = Severity::None;
            let (s, _) = page_with(std::slice::from_ref(&unrated), 500);
            assert_eq!(s.status.description, "Minor Service Outage", "{id}");
        }
        // Both on one page: each after the regions, in their own positions.
        let state = PageState {
            page: &page,
            regions: &regions,
            incidents: &[],
            maintenances: &[],
            now: 600,
            hosted: crate::Hosted {
                conference_participants: 10,
                fixed_line_subscribers: 10,
            },
        };
        let components = summary(&state).components;
        let tail: Vec<(&str, u32)> = (components.iter().rev().take(2).rev())
            .map(|c| (c.id.as_str(), c.position))
            .collect();
        assert_eq!(tail, [("conference-calls", 5), ("fixed-line-phones", 6)]);
    }

    #[test]
    fn a_monitoring_incident_leaves_the_banner_to_the_recovered_components() {
        let page = PageInfo::default();
        let regions = vec!["north".to_string()];
        let mut outage = Incident::open(1, 0);
        outage.severity = Severity::Critical;
        outage.impact.regions = vec![RegionImpact {
            region: "north".into(),
            services: ALL_SERVICES,
            share: [1.0; 3],
        }];
        let seen = |severity, status, share| {
            let mut inc = outage.clone();
            inc.severity = severity;
            inc.status = status;
            inc.impact.regions[0].share = [share; 3];
            let incidents = [inc];
            let state = PageState {
                page: &page,
                regions: &regions,
                incidents: &incidents,
                maintenances: &[],
                now: 600,
                hosted: crate::Hosted::default(),
            };
            let s = summary(&state);
            let html = render_status_html(&state);
            let banner = format!(
                "<div class=\"banner {}\" id=\"status\">{}</div>",
                s.status.indicator, s.status.description
            );
            assert!(
                html.contains(&banner),
                "the page's banner agrees with the JSON"
            );
            assert_eq!(s.incidents.len(), 1, "still listed until resolved");
            (
                s.status.indicator,
                s.status.description,
                s.components[1].status,
            )
        };
        assert_eq!(
            seen(Severity::Critical, IncidentStatus::Investigating, 1.0),
            ("critical", "Major System Outage", "major_outage")
        );
        assert_eq!(
            seen(Severity::Critical, IncidentStatus::Monitoring, 1.0),
            ("none", "All Systems Operational", "operational")
        );
        // Severity set to none by hand, the outage still on: not "all well".
        assert_eq!(
            seen(Severity::None, IncidentStatus::Investigating, 1.0),
            ("minor", "Minor Service Outage", "major_outage")
        );
        // Unrated, with every component at most degraded: said as such.
        assert_eq!(
            seen(Severity::None, IncidentStatus::Investigating, 0.05),
            ("minor", "Degraded System Service", "degraded_performance")
        );
    }

    /// The page over `incidents` and `maintenances` at `now`, with no
    /// conference call hit.
    fn page_at<'a>(
        page: &'a PageInfo,
        regions: &'a [String],
        incidents: &'a [Incident],
        maintenances: &'a [PlannedMaintenance],
        now: Timestamp,
    ) -> PageState<'a> {
        PageState {
            page,
            regions,
            incidents,
            maintenances,
            now,
            hosted: crate::Hosted::default(),
        }
    }

    #[test]
    fn a_components_creation_time_stays_as_time_passes_and_incidents_open() {
        let page = PageInfo::default();
        let regions = vec!["north".to_string()];
        let outage = [Incident::open(1, 1_767_780_000)];
        let created = |incidents: &[Incident], now| {
            let state = page_at(&page, &regions, incidents, &[], now);
            components(&state)
                .into_iter()
                .map(|c| c.created_at)
                .collect::<Vec<_>>()
        };
        let before = created(&[], 1_767_770_000);
        assert_eq!(created(&[], 1_767_775_000), before);
        assert_eq!(created(&outage, 1_767_780_600), before);
    }

    /// Work on mobile data in North from 10:05 to 10:50 UTC on 6 January
    /// 2026, announced the day before.
    fn data_maintenance_in_north() -> [PlannedMaintenance; 1] {
        [PlannedMaintenance {
            id: "maintenance-1".into(),
            name: "Planned maintenance in North".into(),
            regions: vec!["north".into()],
            services: Service::Data.bit(),
            scheduled_at: 1_767_600_000,
            start: 1_767_693_900,
            end: 1_767_696_600,
        }]
    }

    #[test]
    fn the_page_changes_when_an_incident_or_a_maintenance_does_not_with_the_clock() {
        let page = PageInfo {
            created_at: 1_767_000_000,
            ..PageInfo::default()
        };
        let regions = vec!["north".to_string()];
        let window = data_maintenance_in_north();
        let outage = [Incident::open(1, 1_767_780_000)];
        let updated = |incidents: &[Incident], maintenances: &[PlannedMaintenance], now| {
            let state = page_at(&page, &regions, incidents, maintenances, now);
            summary(&state).page.updated_at
        };
        assert_eq!(updated(&[], &[], 1_767_500_000), iso8601(1_767_000_000));
        assert_eq!(updated(&[], &[], 1_767_600_000), iso8601(1_767_000_000));
        assert_eq!(updated(&[], &window, 1_767_650_000), iso8601(1_767_600_000));
        assert_eq!(updated(&[], &window, 1_767_694_000), iso8601(1_767_693_900));
        assert_eq!(updated(&[], &window, 1_767_700_000), iso8601(1_767_696_600));
        assert_eq!(
            updated(&outage, &window, 1_767_780_060),
            iso8601(1_767_780_000)
        );
    }

    #[test]
    fn internal_notes_and_the_clock_change_no_public_document() {
        let page = PageInfo::default();
        let regions = vec!["north".to_string()];
        let mut outage = Incident::open(1, 1_767_780_000);
        let quiet = outage.clone();
        outage.note(
            1_767_780_300,
            TimelineKind::Paged,
            "paged noc-primary".into(),
        );
        let documents = |incidents: &[Incident], now| {
            let state = page_at(&page, &regions, incidents, &[], now);
            (
                summary(&state).page.updated_at,
                incident_json(&state, &incidents[0]).updated_at,
                render_status_html(&state),
                render_atom(&state),
                render_rss(&state),
            )
        };
        let before = documents(std::slice::from_ref(&quiet), 1_767_780_060);
        assert_eq!(before.0, iso8601(1_767_780_000));
        assert_eq!(before.1, iso8601(1_767_780_000));
        assert_eq!(
            documents(std::slice::from_ref(&outage), 1_767_790_000),
            before
        );
    }

    #[test]
    fn maintenance_names_only_the_services_it_may_interrupt_and_when_for_people() {
        let page = PageInfo::default();
        let regions = vec!["north".to_string()];
        let window = data_maintenance_in_north();
        let state = page_at(&page, &regions, &[], &window, 1_767_694_000);
        let m = maintenance_json(&state, &window[0]);
        let listed: Vec<_> = m
            .incident
            .components
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(listed, ["north-data"]);
        let status = |id: &str| {
            components(&state)
                .into_iter()
                .find(|c| c.id == id)
                .map(|c| c.status)
        };
        assert_eq!(status("north-data"), Some("under_maintenance"));
        assert_eq!(status("north-voice"), Some("operational"));
        let announced = m.incident.incident_updates.last().map(|u| u.body.as_str());
        assert_eq!(
            announced,
            Some(
                "Planned maintenance in North is scheduled from 10:05 to 10:50 UTC on 6 January 2026. \
                 Mobile data may be interrupted briefly."
            )
        );
        assert_eq!(
            (m.scheduled_for.as_str(), m.scheduled_until.as_str()),
            ("2026-01-06T10:05:00.000Z", "2026-01-06T10:50:00.000Z")
        );
        assert!(render_status_html(&state).contains(
            "<strong>In progress</strong> – from 10:05 to 10:50 UTC on 6 January 2026. \
             Mobile data may be interrupted briefly."
        ));
    }
}
