//! The ranked list: every finding scored by the subscriber-hours it is
//! expected to cost a year (subscribers lost x probability x 8,760 h), each
//! with a concrete fix.

use dialtone_model::{ElementKind, Topology, count};
use serde::Serialize;

use crate::SinglePoint;
use crate::blast::SingleFailure;
use crate::cutsets::RedundantSet;
use crate::impact::Loss;
use crate::network::{Network, service_names};

const HOURS_PER_YEAR: f64 = 8_760.0;

#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub rank: usize,
    /// `common mode`, `single point of failure` or `cut set`.
    pub category: String,
    pub title: String,
    pub elements: Vec<String>,
    pub loss: Loss,
    /// Steady-state probability the cause is in effect.
    pub probability: f64,
    pub expected_subscriber_hours_per_year: f64,
    pub fix: String,
}

/// `pool-amf (amf-1, amf-2)`.
pub(crate) fn describe_group(topology: &Topology, g: usize) -> String {
    let group = &topology.groups()[g];
    let members: Vec<&str> = group
        .members
        .iter()
        .map(|&m| topology.element(m).id.as_str())
        .collect();
    format!(
        "{} ({})",
        topology.element(group.dependent).id,
        members.join(", ")
    )
}

/// "the AMF pair", "the UPF pool of 3", "the link pair".
fn set_name(topology: &Topology, members: &[String]) -> String {
    let elements: Vec<_> = members
        .iter()
        .filter_map(|m| topology.index_of(m))
        .map(|i| topology.element(i))
        .collect();
    let function = elements
        .first()
        .and_then(|e| e.function.clone())
        .filter(|f| elements.iter().all(|e| e.function.as_deref() == Some(f)));
    let what = function.unwrap_or_else(|| {
        elements
            .first()
            .map_or("element", |e| e.kind.as_str())
            .replace('_', " ")
    });
    if members.len() == 2 {
        format!("the {what} pair")
    } else {
        format!("the {what} pool of {}", members.len())
    }
}

/// The fix for a common cause. `subject` is the set, or (`plural`) the
/// members of it the cause takes down when that is not all of them.
fn common_mode_fix(subject: &str, plural: bool, shared: &str, cause: &str) -> String {
    let verb = |one: &'static str, many: &'static str| if plural { many } else { one };
    match shared {
        "software version" => format!(
            "{subject} {} one version ({cause}): stagger upgrades so its members never run the same release",
            verb("runs", "run")
        ),
        "power feed" => format!(
            "{subject} {} off one power feed ({cause}): feed the members from independent feeds with their own backup",
            verb("hangs", "hang")
        ),
        "DNS" => format!(
            "{subject} {} through one DNS ({cause}): give each member an independent resolver",
            verb("resolves", "resolve")
        ),
        "configuration push" => format!(
            "{subject} {} its configuration from one push ({cause}): stage pushes one member at a time with automatic rollback",
            verb("takes", "take")
        ),
        "certificate" => format!(
            "{subject} {} one certificate ({cause}): give members separate certificates with staggered expiry, and alert long before expiry",
            verb("shares", "share")
        ),
        "data center" => format!(
            "{subject} {} in one data center ({cause}): place its members in different data centers",
            verb("sits", "sit")
        ),
        "vendor" => format!(
            "{subject} {} from one vendor ({cause}): run a second vendor on one member, or at least different releases",
            verb("comes", "come")
        ),
        _ => format!(
            "{subject} {} the network only through {cause}: connect its members through diverse paths",
            verb("reaches", "reach")
        ),
    }
}

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.join(", "),
    }
}

/// Whether every cell the loss counts loses every service.
fn loses_every_service(loss: &Loss) -> bool {
    loss.cells_by_service.iter().all(|&c| c == loss.cells)
}

/// What a loss takes away: "takes 2 cells down", or, when some services
/// survive, "takes voice down on 2 cells" ("takes down voice on 2 cells,
/// data on 1 cell" when the counts differ).
fn takes_down(loss: &Loss) -> String {
    let by_service = loss.cells_by_service;
    if loses_every_service(loss) {
        return format!("takes {} down", count(loss.cells, "cell", "cells"));
    }
    let lost: Vec<(&str, u32)> = service_names()
        .into_iter()
        .zip(by_service)
        .filter(|&(_, c)| c > 0)
        .collect();
    if lost.iter().all(|&(_, c)| c == lost[0].1) {
        let names: Vec<String> = lost.iter().map(|&(n, _)| n.to_owned()).collect();
        format!(
            "takes {} down on {}",
            and_list(&names),
            count(lost[0].1, "cell", "cells")
        )
    } else {
        let parts: Vec<String> = lost
            .iter()
            .map(|&(n, c)| format!("{n} on {}", count(c, "cell", "cells")))
            .collect();
        format!("takes down {}", parts.join(", "))
    }
}

/// "any 2 of upf-1, upf-2, upf-3": the members whose failing together
/// takes a redundant set down.
fn failing_members(members: &[String], tolerance: u32) -> String {
    let needed = tolerance as usize + 1;
    let n = members.len();
    if n > 5 {
        return if needed == n {
            format!("all {n} of its members")
        } else {
            format!("any {needed} of its {n} members")
        };
    }
    match (needed == n, n) {
        (true, 2) => and_list(members),
        (true, _) => format!("all of {}", members.join(", ")),
        (false, _) => format!("any {needed} of {}", members.join(", ")),
    }
}

fn single_point_fix(kind: ElementKind, id: &str, physical_cut: bool) -> String {
    match kind {
        ElementKind::Link => format!(
            "{id} is the only path{}: add a diversely routed second link",
            if physical_cut {
                " (a bridge of the physical graph)"
            } else {
                ""
            }
        ),
        ElementKind::Router => {
            format!("{id} has no partner: add a second router and dual-home what it serves")
        }
        ElementKind::Site => format!(
            "site {id} has no fallback: add backup transport and power, or overlap coverage from neighbouring sites"
        ),
        ElementKind::PowerFeed => {
            format!("{id} has no backup: add batteries and a generator, or a second feed")
        }
        ElementKind::CoreInstance | ElementKind::ConferenceBridge => {
            format!("{id} has no redundant peer: add a standby in another data center")
        }
        // A pool is already the redundancy of its members; what fails alone
        // is the pool itself: its selection and load balancing.
        ElementKind::CorePool => format!(
            "{id} as a whole (its member selection and load balancing) fails alone: make that function redundant, or split the cells over two pools"
        ),
        ElementKind::Dns => format!("{id} is the only resolver: add a second, independent DNS"),
        ElementKind::DataCenter => {
            format!("everything behind {id} lives in one data center: spread it over two")
        }
        ElementKind::SoftwareVersion => {
            format!("everything that needs {id} runs it: run two versions side by side")
        }
        ElementKind::ConfigSystem => {
            format!("{id} pushes to everything at once: stage pushes with automatic rollback")
        }
        ElementKind::Certificate => {
            format!("{id} guards everything: split it, renew early and alert long before expiry")
        }
        ElementKind::ExternalPeering => {
            format!("{id} is the only way out: add a second peering or upstream")
        }
        ElementKind::Region | ElementKind::Cell => {
            format!("{id} fails alone: give what depends on it a second path")
        }
    }
}

/// Expected subscriber-hours lost a year; in a file without any subscriber
/// counts (a bare edge list) a cell counts as one, but where counts are
/// given a cell without subscribers costs nothing.
fn score(loss: &Loss, probability: f64, by_subscribers: bool) -> f64 {
    let weight = if by_subscribers {
        loss.subscribers as f64
    } else {
        f64::from(loss.cells)
    };
    weight * probability * HOURS_PER_YEAR
}

pub(crate) fn rank(
    net: &Network<'_>,
    single: &[SingleFailure],
    spofs: &[SinglePoint],
    sets: &[RedundantSet],
    top: usize,
) -> Vec<Risk> {
    let t = net.topology;
    let by_subscribers = net.counts_subscribers();
    let score = |loss: &Loss, probability: f64| score(loss, probability, by_subscribers);
    let mut risks = Vec::new();
    let mut explained = std::collections::HashSet::new();
    // Common modes first: they explain some single points better than a
    // generic "add a partner" would.
    for set in sets {
        let name = set_name(t, &set.members);
        for cause in &set.shared_causes {
            // Listed once below, as the single point of failure it is.
            if cause.is_single_point() {
                continue;
            }
            if !explained.insert(cause.event.clone()) && cause.shared != "vendor" {
                continue;
            }
            let loss = match t.index_of(&cause.event) {
                Some(e) => single[e].loss,
                None => set.loss,
            };
            let mut elements = vec![cause.event.clone()];
            elements.extend(set.members.iter().cloned());
            // All of the set, or the part of it that is more than it can lose.
            // A cause that reaches the members through what they need is
            // fixed there: "cr-1 and cr-2 hang off one feed", not the AMFs.
            let through = if cause.via.is_empty() {
                String::new()
            } else {
                format!(" (through {})", and_list(&cause.via))
            };
            // A cause needed for some services only takes the set down for
            // those: say which, as a single point of failure's title does.
            let for_services = if loses_every_service(&loss) {
                String::new()
            } else {
                format!("; it {}", takes_down(&loss))
            };
            let (title, fix) = if cause.members.len() == set.members.len() {
                let all = set.members.join(", ");
                let fix = if cause.via.is_empty() {
                    common_mode_fix(&name, false, &cause.shared, &cause.event)
                } else {
                    let subject = format!("{}, which {name} relies on,", and_list(&cause.via));
                    common_mode_fix(&subject, cause.via.len() > 1, &cause.shared, &cause.event)
                };
                (
                    format!(
                        "{} ({}) takes {name} down at once: {all}{through}{for_services}",
                        cause.event, cause.shared
                    ),
                    fix,
                )
            } else {
                let hit = and_list(&cause.members);
                let part = format!("{hit}, more of {name} than it can lose,");
                (
                    format!(
                        "{} ({}) takes {name} down at once: {hit}{through}, more than it can lose{for_services}",
                        cause.event, cause.shared
                    ),
                    common_mode_fix(&part, true, &cause.shared, &cause.event),
                )
            };
            risks.push(Risk {
                rank: 0,
                category: "common mode".to_owned(),
                title,
                elements,
                loss,
                probability: cause.probability,
                expected_subscriber_hours_per_year: score(&loss, cause.probability),
                fix,
            });
        }
    }
    for s in spofs {
        if explained.contains(&s.element) {
            continue;
        }
        let Some(e) = t.index_of(&s.element) else {
            continue;
        };
        let kind = t.element(e).kind;
        let q = net.unavailability[e];
        risks.push(Risk {
            rank: 0,
            category: "single point of failure".to_owned(),
            title: format!(
                "{} ({}) alone {}{}",
                s.element,
                kind.as_str().replace('_', " "),
                takes_down(&s.loss),
                if s.physical_cut {
                    ", and cuts the physical graph"
                } else {
                    ""
                }
            ),
            elements: vec![s.element.clone()],
            loss: s.loss,
            probability: q,
            expected_subscriber_hours_per_year: score(&s.loss, q),
            fix: single_point_fix(kind, &s.element, s.physical_cut),
        });
    }
    // One risk per set for all its cut sets of order 2 and more: listing
    // each pair of a pool would split its loss over many lines, and naming
    // one would understate it.
    for set in sets {
        let probability = set.combination_probability;
        if probability <= 0.0 || set.combination_loss.cells == 0 {
            continue;
        }
        let name = set_name(t, &set.members);
        let who = failing_members(&set.members, set.tolerance);
        let mut elements = set.members.clone();
        // The likeliest cut set, when it is not just members failing.
        let likeliest = set
            .examples
            .first()
            .filter(|c| c.events.iter().any(|e| !set.members.contains(e)));
        let (also, keep) = match likeliest {
            Some(c) => {
                elements.extend(
                    c.events
                        .iter()
                        .filter(|e| !set.members.contains(e))
                        .cloned(),
                );
                let through = and_list(&c.events);
                (format!(", most likely through {through}"), through)
            }
            None => (String::new(), "its members".to_owned()),
        };
        let survives = match set.tolerance {
            1 => "one failure".to_owned(),
            n => format!("{n} failures"),
        };
        risks.push(Risk {
            rank: 0,
            category: "cut set".to_owned(),
            title: format!("{who} failing together take {name} down{also}"),
            elements,
            loss: set.combination_loss,
            probability,
            expected_subscriber_hours_per_year: score(&set.combination_loss, probability),
            fix: format!(
                "{name} survives {survives} only: keep {keep} independent (separate feeds, versions, paths) or add a member"
            ),
        });
    }
    risks.sort_by(|a, b| {
        b.expected_subscriber_hours_per_year
            .total_cmp(&a.expected_subscriber_hours_per_year)
            .then_with(|| a.title.cmp(&b.title))
    });
    risks.truncate(top);
    for (i, r) in risks.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    risks
}
