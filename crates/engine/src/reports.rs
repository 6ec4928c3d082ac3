//! Customer problem reports, fused with what the KPIs say.
//!
//! A surge of reports in a region about a service (see the `reports` crate)
//! either corroborates an open incident that already covers the region, or,
//! when the KPIs show nothing there, opens one held for an operator's
//! approval: customers may be seeing what no counter measures (a DNS
//! resolver, a billing bar, a handset bug), but unverified reports are not
//! published on their own.

use dialtone_model::{RegionImpact, Service, Severity, Timestamp};

use crate::incident::{region_name, services_phrase};
use crate::operator::Declaration;
use crate::{Engine, TimelineKind};

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

impl Engine {
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
        let covering = self.incidents.iter_mut().find(|i| {
            i.status.is_open()
                && i.operator.merged_into.is_none()
                && i.impact.regions.iter().any(|r| r.region == region)
        });
        if let Some(inc) = covering {
            let id = inc.id;
            if inc.operator.declared_by.as_deref() == Some(REPORTS_ACTOR) {
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
            title: format!(
                "Customers report problems with {what} in {}",
                region_name(region)
            ),
            severity: Severity::Minor,
            body: format!(
                "Customers in {} are reporting problems with {what}. We are investigating.",
                region_name(region)
            ),
        };
        let id = self
            .declare(at, REPORTS_ACTOR, &declaration)
            .expect("a short, non-empty title and body always declare")
            .id;
        let inc = self
            .incidents
            .iter_mut()
            .find(|i| i.id == id)
            .expect("just declared");
        inc.impact.regions.push(RegionImpact {
            region: region.to_string(),
            services: service.bit(),
            // No KPI measures it: the share of cells affected is unknown.
            share: [0.0; 3],
        });
        inc.awaiting_approval = true;
        inc.note(
            at,
            TimelineKind::CustomerReports,
            format!("{detail}; no KPI anomaly explains it: held for approval"),
        );
        SurgeOutcome::Opened(id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use dialtone_model::{Element, ElementKind, Topology};

    use super::*;
    use crate::EngineConfig;

    fn engine() -> Engine {
        let mut cell = Element::new("c1", ElementKind::Cell);
        cell.region = Some("north".into());
        let topology = Topology::new(vec![cell], Vec::new()).expect("valid");
        Engine::new(Arc::new(topology), Vec::new(), EngineConfig::default(), 1).expect("engine")
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
    }
}
