//! The quick-start CSV edge list: `source,target[,relation]`, one edge a line.
//!
//! `source` depends on `target`. The relation is `requires` (the default: the
//! source needs every such target), `any_of` (the source needs one of its
//! `any_of` targets) or `link` (a physical link from the source up to the
//! target; the source needs one of its links, so parallel rows are
//! redundancy). Element kinds come from the id's first word (`cell-7` is a
//! cell); see `docs/topology.md`.

use std::collections::{HashMap, HashSet};

use dialtone_model::{ALL_SERVICES, Element, ElementKind, Redundancy};

use crate::TopoFileError;
use crate::draft::{Draft, DraftDependency, GroupsBySource, Ref};

pub(crate) fn parse(text: &str, file: &str) -> Result<dialtone_model::Topology, TopoFileError> {
    let mut draft = Draft::new(file);
    let mut requires = GroupsBySource::default();
    let mut any_of = GroupsBySource::default();
    let mut seen_row = false;

    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        if !seen_row {
            seen_row = true;
            // In any case, as spreadsheets write it (`Source,Target`): read
            // as an edge, it would define two routers of those names.
            let named =
                |k: usize, name: &str| fields.get(k).is_some_and(|f| f.eq_ignore_ascii_case(name));
            if named(0, "source") && named(1, "target") {
                continue;
            }
        }
        let (source, target, relation) = match fields[..] {
            [s, t] => (s, t, "requires"),
            [s, t, ""] => (s, t, "requires"),
            [s, t, r] => (s, t, r),
            _ => {
                return Err(TopoFileError::Syntax {
                    file: file.to_owned(),
                    line,
                    message: format!(
                        "expected `source,target[,relation]`, found {} fields",
                        fields.len()
                    ),
                });
            }
        };
        for id in [source, target] {
            if id.is_empty() {
                return Err(draft.invalid(line, id, "an element id cannot be empty"));
            }
            // The format has no quoting: a quote would become part of the id
            // (and hide the kind its first word names).
            if id.contains(['"', '\'']) {
                return Err(draft.invalid(
                    line,
                    id,
                    "quotes are not part of this format: write ids bare, as in `cell-7,site-3`",
                ));
            }
            if !draft.is_defined(id) {
                draft.define(guess_element(id), line)?;
            }
        }
        let s = Ref {
            id: source.to_owned(),
            line,
        };
        let t = Ref {
            id: target.to_owned(),
            line,
        };
        match relation {
            "requires" => requires.push(s, t),
            "any_of" => any_of.push(s, t),
            "link" => {
                let id = draft.free_link_id(source, target, &HashSet::new());
                draft.define(Element::new(id.clone(), ElementKind::Link), line)?;
                let link = Ref { id, line };
                draft.depend(DraftDependency {
                    dependent: link.clone(),
                    members: vec![t],
                    redundancy: Redundancy::All,
                    k: None,
                    services: ALL_SERVICES,
                });
                draft.uplink(s, link);
            }
            other => {
                return Err(draft.invalid(
                    line,
                    source,
                    format!("unknown relation `{other}`: use requires, any_of or link"),
                ));
            }
        }
    }
    for (groups, redundancy) in [(requires, Redundancy::All), (any_of, Redundancy::AnyOf)] {
        for (dependent, members) in groups.into_groups() {
            draft.depend(DraftDependency {
                dependent,
                members,
                redundancy,
                k: None,
                services: ALL_SERVICES,
            });
        }
    }
    // An edge list has no defaults: its elements take the built-in rates.
    draft.finish(&HashMap::new())
}

/// An element whose kind (and, for core functions, function) is read from
/// the first word of its id; unknown words make a router.
fn guess_element(id: &str) -> Element {
    let word = id
        .split(['-', '_', '.', ':', ' '])
        .next()
        .unwrap_or(id)
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_ascii_lowercase();
    const FUNCTIONS: [&str; 11] = [
        "amf", "smf", "upf", "mme", "sgsn", "sgw", "pgw", "ims", "hss", "udm", "pcf",
    ];
    let kind = match word.as_str() {
        "region" => ElementKind::Region,
        "cell" => ElementKind::Cell,
        "site" | "enb" | "gnb" => ElementKind::Site,
        "link" | "fiber" | "fibre" => ElementKind::Link,
        "pool" => ElementKind::CorePool,
        "dns" => ElementKind::Dns,
        "power" | "feed" | "grid" => ElementKind::PowerFeed,
        "dc" => ElementKind::DataCenter,
        "sw" | "version" => ElementKind::SoftwareVersion,
        "config" => ElementKind::ConfigSystem,
        "cert" | "certificate" => ElementKind::Certificate,
        "peer" | "peering" | "ix" => ElementKind::ExternalPeering,
        "bridge" => ElementKind::ConferenceBridge,
        w if FUNCTIONS.contains(&w) => ElementKind::CoreInstance,
        _ => ElementKind::Router,
    };
    let mut element = Element::new(id, kind);
    if kind == ElementKind::CoreInstance {
        element.function = Some(word.to_ascii_uppercase());
    }
    element
}
