//! The ranked list: every finding scored by the subscriber-hours it is
//! expected to cost a year (subscribers lost x probability x 8,760 h), each
//! with a concrete fix.

use dialtone_model::{ElementKind, Topology};
use serde::Serialize;

use crate::SinglePoint;
use crate::blast::SingleFailure;
use crate::cutsets::RedundantSet;
use crate::impact::Loss;
use crate::network::Network;

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
        ElementKind::CoreInstance | ElementKind::CorePool | ElementKind::ConferenceBridge => {
            format!("{id} has no redundant peer: add a standby in another data center")
        }
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

fn score(loss: &Loss, probability: f64) -> f64 {
    // Without subscriber counts (a bare edge list) a cell counts as one.
    let weight = if loss.subscribers > 0 {
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
    let mut risks = Vec::new();
    let mut explained = std::collections::HashSet::new();
    // Common modes first: they explain some single points better than a
    // generic "add a partner" would.
    for set in sets {
        let name = set_name(t, &set.members);
        for cause in &set.shared_causes {
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
            let (title, fix) = if cause.members.len() == set.members.len() {
                let all = set.members.join(", ");
                (
                    format!(
                        "{} ({}) takes {name} down at once: {all}",
                        cause.event, cause.shared
                    ),
                    common_mode_fix(&name, false, &cause.shared, &cause.event),
                )
            } else {
                let hit = match cause.members.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} and {last}", rest.join(", "))
                    }
                    _ => cause.members.join(", "),
                };
                let part = format!("{hit}, more of {name} than it can lose,");
                (
                    format!(
                        "{} ({}) takes {name} down at once: {hit}, more than it can lose",
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
                "{} ({}) alone takes {} cells down{}",
                s.element,
                kind.as_str().replace('_', " "),
                s.loss.cells,
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
    for set in sets {
        let Some(pair) = set.examples.iter().find(|c| c.events.len() == 2) else {
            continue;
        };
        let name = set_name(t, &set.members);
        risks.push(Risk {
            rank: 0,
            category: "cut set".to_owned(),
            title: format!(
                "{} and {} failing together take {} down",
                pair.events[0], pair.events[1], name
            ),
            elements: pair.events.clone(),
            loss: set.loss,
            probability: pair.probability,
            expected_subscriber_hours_per_year: score(&set.loss, pair.probability),
            fix: format!(
                "{name} survives one failure only: keep {} and {} independent (separate feeds, versions, paths) or add a member",
                pair.events[0], pair.events[1]
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
