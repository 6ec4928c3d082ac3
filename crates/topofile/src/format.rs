//! The TOML topology format (reference: `docs/topology.md`).

use std::collections::{BTreeMap, HashMap, HashSet};

use dialtone_model::{ALL_SERVICES, Element, ElementKind, Redundancy, Service, ServiceMask};
use serde::Deserialize;
use toml::Spanned;

use crate::TopoFileError;
use crate::draft::{Draft, DraftDependency, Ref};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    /// Per-kind failure and repair rates for elements that give none.
    #[serde(default)]
    defaults: BTreeMap<String, Spanned<RatesDoc>>,
    #[serde(default)]
    element: Vec<ElementDoc>,
    #[serde(default)]
    dependency: Vec<DependencyDoc>,
    #[serde(default)]
    link: Vec<LinkDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatesDoc {
    mtbf_hours: Option<Spanned<f64>>,
    mttr_hours: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementDoc {
    id: Spanned<String>,
    kind: Spanned<String>,
    region: Option<String>,
    function: Option<String>,
    vendor: Option<String>,
    #[serde(default)]
    subscribers: u32,
    #[serde(default)]
    emergency: bool,
    mtbf_hours: Option<Spanned<f64>>,
    mttr_hours: Option<Spanned<f64>>,
    software: Option<Spanned<String>>,
    power: Option<Spanned<String>>,
    dns: Option<Spanned<String>>,
    config: Option<Spanned<String>>,
    certificate: Option<Spanned<String>>,
    data_center: Option<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    any_of: Option<Spanned<Vec<Spanned<String>>>>,
    k_of_n: Option<KOfNDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KOfNDoc {
    k: Spanned<i64>,
    of: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DependencyDoc {
    element: Spanned<String>,
    needs: Vec<Spanned<String>>,
    redundancy: Option<Spanned<String>>,
    k: Option<Spanned<i64>>,
    services: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkDoc {
    id: Option<Spanned<String>>,
    from: Spanned<String>,
    to: Spanned<String>,
    region: Option<String>,
    vendor: Option<String>,
    mtbf_hours: Option<Spanned<f64>>,
    mttr_hours: Option<Spanned<f64>>,
}

/// Byte offsets to 1-based line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines(starts)
    }

    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset).max(1)
    }

    fn of_span<T>(&self, s: &Spanned<T>) -> usize {
        self.of(s.span().start)
    }

    fn reference(&self, s: &Spanned<String>) -> Ref {
        Ref {
            id: s.get_ref().clone(),
            line: self.of_span(s),
        }
    }
}

pub(crate) fn parse(text: &str, file: &str) -> Result<dialtone_model::Topology, TopoFileError> {
    let lines = Lines::new(text);
    let doc: FileDoc = toml::from_str(text).map_err(|e| TopoFileError::Syntax {
        file: file.to_owned(),
        line: e.span().map_or(1, |s| lines.of(s.start)),
        message: e.message().trim().replace('\n', " "),
    })?;
    let mut draft = Draft::new(file);
    let defaults = kind_defaults(&doc.defaults, &lines, &draft)?;

    for e in &doc.element {
        let line = lines.of_span(&e.id);
        let id = e.id.get_ref();
        let kind = ElementKind::parse(e.kind.get_ref()).ok_or_else(|| {
            draft.invalid(
                lines.of_span(&e.kind),
                id,
                format!(
                    "unknown kind `{}`: use one of {}",
                    e.kind.get_ref(),
                    kind_names()
                ),
            )
        })?;
        let mut element = Element::new(id.clone(), kind);
        element.region = e.region.clone();
        element.function = e.function.clone();
        element.vendor = e.vendor.clone();
        element.subscribers = e.subscribers;
        element.emergency_capable = e.emergency;
        let (mtbf, mttr) = defaults.get(&kind).copied().unwrap_or_default();
        element.mtbf_hours = hours(&e.mtbf_hours, &lines, &draft, id)?.or(mtbf);
        element.mttr_hours = hours(&e.mttr_hours, &lines, &draft, id)?.or(mttr);
        draft.define(element, line)?;

        let dependent = Ref {
            id: id.clone(),
            line,
        };
        let shorthands = [
            (&e.software, ElementKind::SoftwareVersion),
            (&e.power, ElementKind::PowerFeed),
            (&e.dns, ElementKind::Dns),
            (&e.config, ElementKind::ConfigSystem),
            (&e.certificate, ElementKind::Certificate),
            (&e.data_center, ElementKind::DataCenter),
        ];
        let mut needs: Vec<Ref> = e.needs.iter().map(|n| lines.reference(n)).collect();
        for (value, kind) in shorthands {
            if let Some(v) = value {
                let r = lines.reference(v);
                draft.imply(r.clone(), kind);
                needs.push(r);
            }
        }
        if !needs.is_empty() {
            draft.depend(DraftDependency {
                dependent: dependent.clone(),
                members: needs,
                redundancy: Redundancy::All,
                k: None,
                services: ALL_SERVICES,
            });
        }
        if let Some(pool) = &e.any_of {
            draft.depend(DraftDependency {
                dependent: Ref {
                    id: id.clone(),
                    line: lines.of_span(pool),
                },
                members: pool.get_ref().iter().map(|m| lines.reference(m)).collect(),
                redundancy: Redundancy::AnyOf,
                k: None,
                services: ALL_SERVICES,
            });
        }
        if let Some(kn) = &e.k_of_n {
            draft.depend(k_of_n(
                dependent.clone(),
                &kn.k,
                &kn.of,
                ALL_SERVICES,
                &lines,
            ));
        }
    }

    for d in &doc.dependency {
        let dependent = lines.reference(&d.element);
        let services = match &d.services {
            Some(names) => services(names, &lines, &draft, &dependent)?,
            None => ALL_SERVICES,
        };
        let redundancy = d
            .redundancy
            .as_ref()
            .map_or("all", |r| r.get_ref().as_str());
        let redundancy_line = d
            .redundancy
            .as_ref()
            .map_or(dependent.line, |r| lines.of_span(r));
        let members: Vec<Ref> = d.needs.iter().map(|m| lines.reference(m)).collect();
        let dependency = match (redundancy, &d.k) {
            (plain @ ("all" | "any_of"), None) => DraftDependency {
                dependent,
                members,
                redundancy: if plain == "all" {
                    Redundancy::All
                } else {
                    Redundancy::AnyOf
                },
                k: None,
                services,
            },
            ("k_of_n", Some(k)) => k_of_n(dependent, k, &d.needs, services, &lines),
            ("k_of_n", None) => {
                return Err(draft.invalid(
                    redundancy_line,
                    &dependent.id,
                    "redundancy = \"k_of_n\" needs `k`",
                ));
            }
            ("all" | "any_of", Some(k)) => {
                return Err(draft.invalid(
                    lines.of_span(k),
                    &dependent.id,
                    "`k` only goes with redundancy = \"k_of_n\"",
                ));
            }
            (other, _) => {
                return Err(draft.invalid(
                    redundancy_line,
                    &dependent.id,
                    format!("unknown redundancy `{other}`: use all, any_of or k_of_n"),
                ));
            }
        };
        draft.depend(dependency);
    }

    // A link the file names takes its name wherever it stands: a link
    // before it that names none must not take it first.
    let named: HashSet<&str> = (doc.link.iter())
        .filter_map(|l| l.id.as_ref().map(|id| id.get_ref().as_str()))
        .collect();
    for l in &doc.link {
        let from = lines.reference(&l.from);
        let to = lines.reference(&l.to);
        let id = match &l.id {
            Some(id) => id.get_ref().clone(),
            None => draft.free_link_id(&from.id, &to.id, &named),
        };
        let line = l.id.as_ref().map_or(from.line, |i| lines.of_span(i));
        let mut element = Element::new(id.clone(), ElementKind::Link);
        element.region = l.region.clone();
        element.vendor = l.vendor.clone();
        let (mtbf, mttr) = defaults
            .get(&ElementKind::Link)
            .copied()
            .unwrap_or_default();
        element.mtbf_hours = hours(&l.mtbf_hours, &lines, &draft, &id)?.or(mtbf);
        element.mttr_hours = hours(&l.mttr_hours, &lines, &draft, &id)?.or(mttr);
        draft.define(element, line)?;
        let link = Ref { id, line };
        draft.depend(DraftDependency {
            dependent: link.clone(),
            members: vec![to],
            redundancy: Redundancy::All,
            k: None,
            services: ALL_SERVICES,
        });
        draft.uplink(from, link);
    }

    draft.finish(&defaults)
}

fn k_of_n(
    dependent: Ref,
    k: &Spanned<i64>,
    members: &[Spanned<String>],
    services: ServiceMask,
    lines: &Lines,
) -> DraftDependency {
    let value = *k.get_ref();
    DraftDependency {
        dependent,
        members: members.iter().map(|m| lines.reference(m)).collect(),
        // Out-of-range values are reported by the draft with this line.
        redundancy: Redundancy::KOfN(u32::try_from(value).unwrap_or(0)),
        k: Some((value, lines.of_span(k))),
        services,
    }
}

type Rates = (Option<f64>, Option<f64>);

fn kind_defaults(
    doc: &BTreeMap<String, Spanned<RatesDoc>>,
    lines: &Lines,
    draft: &Draft,
) -> Result<HashMap<ElementKind, Rates>, TopoFileError> {
    let mut out = HashMap::new();
    for (name, rates) in doc {
        let line = lines.of_span(rates);
        let kind = ElementKind::parse(name).ok_or_else(|| {
            draft.invalid(
                line,
                name,
                format!(
                    "[defaults.{name}] names no element kind: use one of {}",
                    kind_names()
                ),
            )
        })?;
        let r = rates.get_ref();
        out.insert(
            kind,
            (
                hours(&r.mtbf_hours, lines, draft, name)?,
                hours(&r.mttr_hours, lines, draft, name)?,
            ),
        );
    }
    Ok(out)
}

/// The longest MTBF or MTTR taken: an element that as good as never fails
/// (a file may say so with 1e12), and far from where `mtbf + mttr`
/// overflows to infinity and turns an unavailability into 0.
const MAX_HOURS: f64 = 1e15;

fn hours(
    value: &Option<Spanned<f64>>,
    lines: &Lines,
    draft: &Draft,
    element: &str,
) -> Result<Option<f64>, TopoFileError> {
    match value {
        None => Ok(None),
        Some(v) if *v.get_ref() > 0.0 && *v.get_ref() <= MAX_HOURS => Ok(Some(*v.get_ref())),
        Some(v) => Err(draft.invalid(
            lines.of_span(v),
            element,
            format!(
                "{} hours is not a duration: give a positive number of at most {MAX_HOURS:e} (about 10^11 years)",
                v.get_ref()
            ),
        )),
    }
}

fn services(
    names: &[Spanned<String>],
    lines: &Lines,
    draft: &Draft,
    element: &Ref,
) -> Result<ServiceMask, TopoFileError> {
    let mut mask = 0;
    for name in names {
        let bit = match name.get_ref().as_str() {
            "all" => ALL_SERVICES,
            other => Service::parse(other).map(Service::bit).ok_or_else(|| {
                draft.invalid(
                    lines.of_span(name),
                    &element.id,
                    format!("unknown service `{other}`: use registration, voice, data or all"),
                )
            })?,
        };
        mask |= bit;
    }
    if mask == 0 {
        return Err(draft.invalid(
            element.line,
            &element.id,
            "services cannot be empty: leave it out to mean all services",
        ));
    }
    Ok(mask)
}

fn kind_names() -> String {
    ElementKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
