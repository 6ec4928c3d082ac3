//! Planned maintenance as the public reads it: where, what may be
//! interrupted and when, never which element.

use dialtone_engine::{Maintenance, region_name, services_phrase};
use dialtone_model::{ALL_SERVICES, ElementKind, Service, ServiceMask, Timestamp, Topology};

/// A planned maintenance window in public words: where, not which element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMaintenance {
    pub id: String,
    pub name: String,
    /// Region ids affected; empty for work on the national core.
    pub regions: Vec<String>,
    /// The services the work may interrupt there.
    pub services: ServiceMask,
    /// When it was announced: the date of its "scheduled" update, which
    /// must not move with the clock (the documents' ETag would change at
    /// every render).
    pub scheduled_at: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl PlannedMaintenance {
    /// Whether the work may interrupt `service` in `region`: a window with
    /// no regions is work on the national core, and touches them all.
    pub fn touches(&self, region: &str, service: Service) -> bool {
        (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
            && self.services & service.bit() != 0
    }

    /// Statuspage's maintenance status at `now`: it starts and ends on its own.
    pub fn status(&self, now: Timestamp) -> &'static str {
        if now < self.start {
            "scheduled"
        } else if now < self.end {
            "in_progress"
        } else {
            "completed"
        }
    }

    /// When its status last changed, as of `now`: announced, started or
    /// ended.
    pub fn changed_at(&self, now: Timestamp) -> Timestamp {
        if now < self.start {
            self.scheduled_at
        } else if now < self.end {
            self.start
        } else {
            self.end
        }
    }

    /// The window for people: "from 10:05 to 10:50 UTC on 6 January 2026".
    pub fn when(&self) -> String {
        let (start, end) = (utc(self.start), utc(self.end));
        if start.date() == end.date() {
            format!(
                "from {} to {} UTC on {}",
                clock(start),
                clock(end),
                day(start)
            )
        } else {
            format!(
                "from {} UTC on {} to {} UTC on {}",
                clock(start),
                day(start),
                clock(end),
                day(end)
            )
        }
    }

    /// What customers may notice: "Calls and mobile data may be interrupted briefly."
    pub fn interruption(&self) -> String {
        format!(
            "{} may be interrupted briefly.",
            services_phrase(self.services)
        )
    }
}

/// The engine's windows as the public reads them. Windows on several
/// elements at the same time in the same region are one piece of work to a
/// customer (a site and the core function behind it, say), so they are one
/// entry, not one per element; each lists only the services the topology
/// says its elements carry to customers there.
pub fn planned_maintenance(
    topology: &Topology,
    windows: &[Maintenance],
) -> Vec<PlannedMaintenance> {
    let mut works: Vec<(Option<&str>, Vec<&Maintenance>)> = Vec::new();
    for w in windows {
        let region = topology.element(w.element).region.as_deref();
        match works
            .iter_mut()
            .find(|(r, ws)| *r == region && ws[0].start == w.start && ws[0].end == w.end)
        {
            Some((_, ws)) => ws.push(w),
            None => works.push((region, vec![w])),
        }
    }
    works
        .into_iter()
        .enumerate()
        .map(|(n, (region, ws))| {
            let elements: Vec<usize> = ws.iter().map(|w| w.element).collect();
            let lost = topology.propagate(&elements);
            let services = topology
                .elements()
                .iter()
                .zip(&lost)
                .filter(|(e, _)| {
                    e.kind == ElementKind::Cell
                        && region.is_none_or(|r| e.region.as_deref() == Some(r))
                })
                .fold(0, |mask, (_, l)| mask | l);
            PlannedMaintenance {
                id: format!("maintenance-{}", n + 1),
                name: match region {
                    Some(r) => format!("Planned maintenance in {}", region_name(r)),
                    None => "Planned core network maintenance".into(),
                },
                regions: region.map(str::to_string).into_iter().collect(),
                // Work is announced for a reason: where the model sees no
                // customer lose anything (one member of a pool, say), name
                // every service rather than promise none is touched.
                services: if services == 0 {
                    ALL_SERVICES
                } else {
                    services
                },
                scheduled_at: ws
                    .iter()
                    .map(|w| w.scheduled_at)
                    .min()
                    .unwrap_or(ws[0].start),
                start: ws[0].start,
                end: ws[0].end,
            }
        })
        .collect()
}

fn utc(t: Timestamp) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn clock(t: time::OffsetDateTime) -> String {
    t.format(time::macros::format_description!("[hour]:[minute]"))
        .unwrap_or_default()
}

fn day(t: time::OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[day padding:none] [month repr:long] [year]"
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_model::{DependencySpec, Element, Redundancy};

    /// 2026-01-06T10:05:00Z.
    const AT: Timestamp = 1_767_693_900;

    fn element(id: &str, kind: ElementKind, region: &str) -> Element {
        Element {
            region: Some(region.into()),
            ..Element::new(id, kind)
        }
    }

    /// Central: a site with a cell, whose data rides a pair of UPFs.
    /// North: a cell whose data needs one gateway.
    fn topology() -> Topology {
        Topology::new(
            vec![
                element("site-c", ElementKind::Site, "central"),
                element("upf-1", ElementKind::CoreInstance, "central"),
                element("upf-2", ElementKind::CoreInstance, "central"),
                element("cell-c", ElementKind::Cell, "central"),
                element("gw-n", ElementKind::CoreInstance, "north"),
                element("cell-n", ElementKind::Cell, "north"),
            ],
            vec![
                DependencySpec::new("cell-c", &["site-c"], Redundancy::All, ALL_SERVICES),
                DependencySpec::new(
                    "cell-c",
                    &["upf-1", "upf-2"],
                    Redundancy::AnyOf,
                    Service::Data.bit(),
                ),
                DependencySpec::new("cell-n", &["gw-n"], Redundancy::All, Service::Data.bit()),
            ],
        )
        .unwrap()
    }

    fn window(topology: &Topology, id: &str, start: Timestamp) -> Maintenance {
        Maintenance {
            element: topology.index_of(id).unwrap(),
            scheduled_at: start - 86_400,
            start,
            end: start + 45 * 60,
        }
    }

    #[test]
    fn simultaneous_work_in_one_region_is_one_entry_naming_what_it_interrupts() {
        let t = topology();
        let windows = [
            window(&t, "upf-1", AT),
            window(&t, "site-c", AT),
            window(&t, "gw-n", AT),
            window(&t, "upf-2", AT + 86_400),
        ];
        let planned = planned_maintenance(&t, &windows);
        let entries: Vec<_> = planned
            .iter()
            .map(|m| (m.name.as_str(), m.regions.clone(), m.services, m.start))
            .collect();
        assert_eq!(
            entries,
            [
                (
                    "Planned maintenance in Central",
                    vec!["central".to_string()],
                    ALL_SERVICES,
                    AT
                ),
                (
                    "Planned maintenance in North",
                    vec!["north".to_string()],
                    Service::Data.bit(),
                    AT
                ),
                // The pool carries on without it: no promise it is harmless.
                (
                    "Planned maintenance in Central",
                    vec!["central".to_string()],
                    ALL_SERVICES,
                    AT + 86_400
                ),
            ]
        );
        assert!(planned[1].touches("north", Service::Data));
        assert!(!planned[1].touches("north", Service::Voice));
        assert_eq!(
            planned[1].interruption(),
            "Mobile data may be interrupted briefly."
        );
    }

    #[test]
    fn windows_read_as_clock_times_and_dates() {
        let at = |start, end| PlannedMaintenance {
            id: "maintenance-1".into(),
            name: "Planned maintenance in Central".into(),
            regions: vec!["central".into()],
            services: ALL_SERVICES,
            scheduled_at: start,
            start,
            end,
        };
        assert_eq!(
            at(AT, AT + 45 * 60).when(),
            "from 10:05 to 10:50 UTC on 6 January 2026"
        );
        assert_eq!(
            at(AT + 13 * 3600, AT + 15 * 3600).when(),
            "from 23:05 UTC on 6 January 2026 to 01:05 UTC on 7 January 2026"
        );
    }
}
