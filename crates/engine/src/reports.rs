//! Customer problem reports, fused with what the KPIs say.
//!
//! A surge of reports in a region about a service (see the `reports` crate)
//! either corroborates an open incident that already covers the region, or,
//! when the KPIs show nothing there, opens one held for an operator's
//! approval: customers may be seeing what no counter measures (a DNS
//! resolver, a billing bar, a handset bug), but unverified reports are not
//! published on their own.

use dialtone_model::{IncidentStatus, RegionImpact, Service, ServiceMask, Severity, Timestamp};

use crate::incident::{region_name, services_phrase};
use crate::operator::{Declaration, MAX_BODY_CHARS, MAX_TITLE_CHARS};
use crate::{Engine, Incident, TimelineEntry, TimelineKind};

/// Who a report-opened incident is declared by.
pub const REPORTS_ACTOR: &str = "customer reports";

/// What a surge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurgeOutcome {
    /// An open incident covering the region got the evidence.
    Corroborated(u64),
    /// A new incident, awaiting approval.
    Opened(u64),
    /// An open report-opened incident for the region already has it.
    AlreadyOpen(u64),
}

impl Incident {
    /// Whether customer reports alone opened this incident.
    fn opened_by_reports(&self) -> bool {
        self.operator.declared_by.as_deref() == Some(REPORTS_ACTOR)
    }
}

/// How long an incident opened from customer reports alone, and never
/// published, stays open without a new surge: the reports have stopped and
/// nobody confirmed it, and left open it would stand for ever and take every
/// later surge in its area. One an operator took up (acknowledged or
/// assigned), or that absorbed another incident's cause by a merge, is
/// theirs, or that cause's, to close.
const REPORTS_QUIET_SECS: i64 = 4 * 3600;

impl Engine {
    /// Closes, unpublished, the report-only incidents nobody confirmed whose
    /// reports stopped [`REPORTS_QUIET_SECS`] ago.
    pub(crate) fn close_quiet_report_incidents(
        &mut self,
        at: Timestamp,
        timeline: &mut Vec<TimelineEntry>,
    ) {
        for inc in self
            .incidents
            .iter_mut()
            .filter(|i| i.status.is_open() && i.awaiting_approval && i.opened_by_reports())
            .filter(|i| {
                i.operator.acknowledged_by.is_none()
                    && i.operator.assignee.is_none()
                    && i.merged_causes.is_empty()
            })
        {
            let last_surge = (inc.timeline.iter().rev())
                .find(|e| e.kind == TimelineKind::CustomerReports)
                .map_or(inc.opened_at, |e| e.at);
            if at.saturating_sub(last_surge) < REPORTS_QUIET_SECS {
                continue;
            }
            inc.move_to(IncidentStatus::Resolved, at);
            timeline.push(inc.record(
                at,
                TimelineKind::Resolved,
                "Customer reports about this have stopped.".into(),
                format!(
                    "closed unpublished: no customer reports for {} h and nobody confirmed it",
                    REPORTS_QUIET_SECS / 3600
                ),
            ));
        }
    }

    /// Fuses a surge of `reports` customer reports (against `expected`) about
    /// `service` in `region` at network time `at`.
    pub fn report_surge(
        &mut self,
        at: Timestamp,
        region: &str,
        service: Service,
        reports: u32,
        expected: f64,
    ) -> SurgeOutcome {
        let what = services_phrase(service.bit()).to_lowercase();
        let detail = format!(
            "customer reports: {reports} about {what} in {} within a bucket (usually {expected:.1})",
            region_name(region)
        );
        let covers = |i: &Incident| {
            i.status.is_open()
                && i.operator.merged_into.is_none()
                && i.impact.regions.iter().any(|r| r.region == region)
        };
        // An incident from the KPIs (or a person) is corroborated before one
        // opened from reports alone: those only add the surge to themselves.
        let covering = (self.incidents.iter())
            .position(|i| covers(i) && !i.opened_by_reports())
            .or_else(|| self.incidents.iter().position(covers));
        if let Some(inc) = covering.map(|i| &mut self.incidents[i]) {
            let id = inc.id;
            if inc.opened_by_reports() {
                // Its services are what customers reported: a surge about
                // another one widens it, title included.
                if let Some(r) = inc.impact.regions.iter_mut().find(|r| r.region == region)
                    && r.services & service.bit() == 0
                {
                    r.services |= service.bit();
                    inc.title = reports_title(r.services, region);
                }
                inc.note(at, TimelineKind::CustomerReports, detail);
                return SurgeOutcome::AlreadyOpen(id);
            }
            inc.note(
                at,
                TimelineKind::CustomerReports,
                format!("{detail}; corroborates this incident"),
            );
            return SurgeOutcome::Corroborated(id);
        }
        let declaration = Declaration {
            title: reports_title(service.bit(), region),
            severity: Severity::Minor,
            body: clipped(
                format!(
                    "Customers in {} are reporting problems with {what}. We are investigating.",
                    region_name(region)
                ),
                MAX_BODY_CHARS,
            ),
            // The area and service reported, below: a report's area need
            // not be in the topology (the server checks it against its own).
            regions: Vec::new(),
        };
        let reported = RegionImpact {
            region: region.to_string(),
            services: service.bit(),
            // No KPI measures it: the share of cells affected is unknown.
            share: [0.0; 3],
        };
        let inc = self
            .open_declared(at, REPORTS_ACTOR, &declaration, vec![reported])
            .expect("a short, non-empty title and body always declare");
        let id = inc.id;
        inc.awaiting_approval = true;
        inc.note(
            at,
            TimelineKind::CustomerReports,
            format!("{detail}; no KPI anomaly explains it: held for approval"),
        );
        SurgeOutcome::Opened(id)
    }
}

/// The public title of an incident opened from customer reports alone.
fn reports_title(services: ServiceMask, region: &str) -> String {
    clipped(
        format!(
            "Customers report problems with {} in {}",
            services_phrase(services).to_lowercase(),
            region_name(region)
        ),
        MAX_TITLE_CHARS,
    )
}

/// `text` cut to at most `max` characters, an ellipsis last where it was
/// cut: a region's name comes from the topology file, of any length, and
/// words past the declaration's limits would fail it.
fn clipped(text: String, max: usize) -> String {
    if text.chars().nth(max).is_none() {
        return text;
    }
    let cut = text
        .char_indices()
        .nth(max - 1)
        .map_or(text.len(), |(i, _)| i);
    format!("{}…", text[..cut].trim_end())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use dialtone_model::{Element, ElementKind, Topology};

    use super::*;
    use crate::{ActionError, EngineConfig, OperatorAction};

    fn engine() -> Engine {
        engine_in("north")
    }

    fn engine_in(region: &str) -> Engine {
        let mut cell = Element::new("c1", ElementKind::Cell);
        cell.region = Some(region.into());
        let topology = Topology::new(vec![cell], Vec::new()).expect("valid");
        Engine::new(Arc::new(topology), Vec::new(), EngineConfig::default(), 1).expect("engine")
    }

    #[test]
    fn reports_from_an_area_a_declared_incident_names_corroborate_it() {
        let mut e = engine_in("north");
        let declaration = |regions: &[&str]| Declaration {
            title: "Calls failing".into(),
            severity: Severity::Major,
            body: "Looking into it.".into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
        };
        let refused = e.declare(60, "noc", &declaration(&["north", "nowhere"]));
        assert_eq!(
            refused.unwrap_err(),
            ActionError::UnknownRegion {
                region: "nowhere".into(),
                known: "north".into()
            }
        );
        assert!(
            e.incidents().is_empty(),
            "a refused declaration opens nothing"
        );
        let declared = e.declare(60, "noc", &declaration(&["north", "north"]));
        let declared = declared.unwrap().id;
        let regions: Vec<&str> = (e.incidents()[0].impact.regions.iter())
            .map(|r| r.region.as_str())
            .collect();
        assert_eq!(regions, ["north"], "named twice, kept once");
        let surge = e.report_surge(600, "north", Service::Voice, 30, 0.5);
        assert_eq!(surge, SurgeOutcome::Corroborated(declared));
        assert_eq!(e.incidents().len(), 1);
    }

    #[test]
    fn a_region_of_any_name_length_opens_an_incident_on_reports() {
        let region = "ö".repeat(6000);
        let mut e = engine_in(&region);
        let opened = e.report_surge(600, &region, Service::Voice, 30, 0.5);
        assert!(matches!(opened, SurgeOutcome::Opened(_)), "{opened:?}");
        let inc = &e.incidents()[0];
        assert_eq!(inc.title.chars().count(), MAX_TITLE_CHARS);
        assert!(inc.title.ends_with('…'), "{}", inc.title);
        assert_eq!(clipped("abc".into(), 3), "abc", "exactly at the limit");
        assert_eq!(clipped("abcd".into(), 3), "ab…");
    }

    #[test]
    fn a_report_only_incident_nobody_confirmed_closes_once_reports_stop() {
        let mut e = engine();
        let SurgeOutcome::Opened(id) = e.report_surge(600, "north", Service::Voice, 30, 0.5) else {
            panic!("opens");
        };
        e.report_surge(900, "north", Service::Voice, 20, 0.5);
        let mut timeline = Vec::new();
        e.close_quiet_report_incidents(900 + REPORTS_QUIET_SECS - 60, &mut timeline);
        assert!(
            e.incidents()[0].status.is_open(),
            "reports came 4 h ago less a minute"
        );
        e.close_quiet_report_incidents(900 + REPORTS_QUIET_SECS, &mut timeline);
        assert_eq!(e.incidents()[0].status, IncidentStatus::Resolved);
        assert_eq!(timeline.len(), 1);
        // A new surge in that area opens a new incident, not the stale one.
        let later = e.report_surge(
            900 + REPORTS_QUIET_SECS + 60,
            "north",
            Service::Voice,
            30,
            0.5,
        );
        assert!(
            matches!(later, SurgeOutcome::Opened(new) if new != id),
            "{later:?}"
        );
        // One an operator acknowledged stays theirs, however quiet.
        let SurgeOutcome::Opened(taken) = e.report_surge(
            900 + REPORTS_QUIET_SECS + 120,
            "south",
            Service::Voice,
            30,
            0.5,
        ) else {
            panic!("opens");
        };
        let inc = e.incidents.iter_mut().find(|i| i.id == taken).unwrap();
        inc.apply(
            900 + REPORTS_QUIET_SECS + 180,
            "ada",
            &OperatorAction::Acknowledge,
        )
        .unwrap();
        e.close_quiet_report_incidents(900 + 3 * REPORTS_QUIET_SECS, &mut timeline);
        let status = |id: u64| e.incidents.iter().find(|i| i.id == id).unwrap().status;
        assert!(status(taken).is_open(), "acknowledged: not closed");
        let SurgeOutcome::Opened(untouched) = later else {
            unreachable!("checked above");
        };
        assert_eq!(
            status(untouched),
            IncidentStatus::Resolved,
            "the same quiet closes one nobody took up"
        );
    }

    #[test]
    fn a_surge_nobody_explains_opens_a_held_incident_and_the_next_one_adds_to_it() {
        let mut e = engine();
        let first = e.report_surge(600, "north", Service::Voice, 30, 0.5);
        let SurgeOutcome::Opened(id) = first else {
            panic!("{first:?}");
        };
        let inc = &e.incidents()[0];
        assert!(
            inc.awaiting_approval,
            "unverified reports are not published alone"
        );
        assert_eq!(inc.impact.regions[0].region, "north");
        assert_eq!(
            e.report_surge(900, "north", Service::Data, 12, 0.5),
            SurgeOutcome::AlreadyOpen(id)
        );
        assert_eq!(e.incidents().len(), 1, "one fault, one incident");
        let inc = &e.incidents()[0];
        let both = Service::Voice.bit() | Service::Data.bit();
        assert_eq!(inc.impact.regions[0].services, both, "widened to data");
        assert_eq!(inc.title, reports_title(both, "north"));
        assert_ne!(inc.title, reports_title(Service::Voice.bit(), "north"));
    }
}
