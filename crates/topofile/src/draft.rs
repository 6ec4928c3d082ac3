//! The format-independent half of loading: elements and dependencies as
//! written, each with the line it came from, validated into a [`Topology`].

use std::collections::{HashMap, HashSet};

use dialtone_model::{
    ALL_SERVICES, DependencySpec, Element, ElementKind, Redundancy, ServiceMask, Topology,
    VENDOR_CAUSE_PREFIX,
};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::TopoFileError;

/// A reference to an element as written: the id and the line it is on.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub id: String,
    pub line: usize,
}

#[derive(Debug)]
pub(crate) struct DraftDependency {
    pub dependent: Ref,
    pub members: Vec<Ref>,
    pub redundancy: Redundancy,
    /// The line of `k` for a k-of-n group (where an impossible k is reported).
    pub k: Option<(i64, usize)>,
    pub services: ServiceMask,
}

/// Targets grouped by their source, sources in order of first appearance.
#[derive(Debug, Default)]
pub(crate) struct GroupsBySource {
    groups: Vec<(Ref, Vec<Ref>)>,
    index: HashMap<String, usize>,
}

impl GroupsBySource {
    pub fn push(&mut self, source: Ref, target: Ref) {
        match self.index.get(&source.id) {
            Some(&i) => self.groups[i].1.push(target),
            None => {
                self.index.insert(source.id.clone(), self.groups.len());
                self.groups.push((source, vec![target]));
            }
        }
    }

    pub fn into_groups(self) -> Vec<(Ref, Vec<Ref>)> {
        self.groups
    }
}

/// Elements and dependencies collected from a file, not yet validated.
#[derive(Debug)]
pub(crate) struct Draft {
    file: String,
    elements: Vec<Element>,
    lines: Vec<usize>,
    index: HashMap<String, usize>,
    dependencies: Vec<DraftDependency>,
    /// Elements a shorthand implies (`software = "v1"`): created at the end
    /// unless the file defines them itself.
    implied: Vec<(Ref, ElementKind)>,
    implied_ids: HashSet<String>,
    /// Per generated link id's base, the suffix to try next: every suffix
    /// below it is taken, so a file of many parallel links loads in linear
    /// time, not quadratic.
    next_link_suffix: HashMap<String, u32>,
    /// Physical uplinks per downstream element, in file order: the element
    /// needs any one of them.
    uplinks: GroupsBySource,
}

impl Draft {
    pub fn new(file: &str) -> Draft {
        Draft {
            file: file.to_owned(),
            elements: Vec::new(),
            lines: Vec::new(),
            index: HashMap::new(),
            dependencies: Vec::new(),
            implied: Vec::new(),
            implied_ids: HashSet::new(),
            next_link_suffix: HashMap::new(),
            uplinks: GroupsBySource::default(),
        }
    }

    pub fn is_defined(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// The id of a new link from `from` up to `to` that names none of its
    /// own: `link-<from>-<to>`, or with `-2`, `-3`, ... the first not taken.
    /// Parallel links so become elements (and redundancy) of their own, and
    /// a generated id never collides with one defined before it (`a-b` to
    /// `c` and `a` to `b-c` both start from `link-a-b-c`), nor with one a
    /// shorthand names (`power = "link-a-b"`), nor with one in `reserved`:
    /// the ids the file gives links of its own, later in it.
    pub fn free_link_id(&mut self, from: &str, to: &str, reserved: &HashSet<&str>) -> String {
        let base = format!("link-{from}-{to}");
        let free = |id: &str| {
            !self.is_defined(id) && !self.implied_ids.contains(id) && !reserved.contains(id)
        };
        if free(&base) {
            return base;
        }
        let first = self.next_link_suffix.get(&base).copied().unwrap_or(2);
        let (n, id) = (first..)
            .map(|n| (n, format!("{base}-{n}")))
            .find(|(_, id)| free(id))
            .expect("some suffix is free: the draft and the reserved ids are finite");
        self.next_link_suffix.insert(base, n + 1);
        id
    }

    pub fn invalid(&self, line: usize, element: &str, message: impl Into<String>) -> TopoFileError {
        TopoFileError::Invalid {
            file: self.file.clone(),
            line,
            element: element.to_owned(),
            message: message.into(),
        }
    }

    /// Adds an element defined on `line`; a second definition of an id is refused.
    pub fn define(&mut self, element: Element, line: usize) -> Result<(), TopoFileError> {
        if element.id.trim().is_empty() {
            return Err(self.invalid(line, &element.id, "an element id cannot be empty"));
        }
        // Ids are echoed in every error, log line and page: a newline or a
        // terminal escape in one would forge lines or rewrite the screen.
        if element.id.chars().any(char::is_control) {
            return Err(self.invalid(
                line,
                &element.id,
                "an element id cannot hold control characters (newlines, tabs, escapes): use letters, digits and punctuation",
            ));
        }
        // `amf-1 ` would be another element than the `amf-1` a dependency
        // names, and the two look the same in every message.
        if element.id.trim() != element.id {
            return Err(self.invalid(
                line,
                &element.id,
                "an element id cannot begin or end with spaces: remove them",
            ));
        }
        // Regions are named on the public page, vendors and functions in
        // the assessment and logs, as ids are.
        let named = [
            ("region", &element.region),
            ("vendor", &element.vendor),
            ("function", &element.function),
        ];
        if let Some((key, _)) = (named.iter()).find(|(_, value)| {
            value
                .as_ref()
                .is_some_and(|v| v.chars().any(char::is_control))
        }) {
            return Err(self.invalid(
                line,
                &element.id,
                format!("its {key} cannot hold control characters (newlines, tabs, escapes)"),
            ));
        }
        // The assessment names a vendor its members share `vendor:NAME`; an
        // element of that name would be taken for the vendor.
        if element.id.starts_with(VENDOR_CAUSE_PREFIX) {
            return Err(self.invalid(
                line,
                &element.id,
                format!(
                    "ids beginning `{VENDOR_CAUSE_PREFIX}` are kept for shared vendors: give the element another id, and its vendor with `vendor = \"...\"`"
                ),
            ));
        }
        if let Some(&first) = self.index.get(&element.id) {
            return Err(TopoFileError::DuplicateId {
                file: self.file.clone(),
                line,
                element: element.id,
                first_line: self.lines[first],
            });
        }
        self.index.insert(element.id.clone(), self.elements.len());
        self.elements.push(element);
        self.lines.push(line);
        Ok(())
    }

    /// Records that `reference` must exist, created with `kind` if the file
    /// does not define it.
    pub fn imply(&mut self, reference: Ref, kind: ElementKind) {
        self.implied_ids.insert(reference.id.clone());
        self.implied.push((reference, kind));
    }

    pub fn depend(&mut self, dependency: DraftDependency) {
        self.dependencies.push(dependency);
    }

    /// `from` reaches the rest of the network through `link` (among others).
    pub fn uplink(&mut self, from: Ref, link: Ref) {
        self.uplinks.push(from, link);
    }

    /// Validates everything and builds the topology. Elements that a
    /// shorthand implied (`power = "grid-north"`) take their kind's
    /// `defaults` rates, as those defined in full do.
    pub fn finish(
        mut self,
        defaults: &HashMap<ElementKind, (Option<f64>, Option<f64>)>,
    ) -> Result<Topology, TopoFileError> {
        for (reference, kind) in std::mem::take(&mut self.implied) {
            // A shorthand names what the element is (`power = "x"`: x is a
            // power feed). One of another kind (a cell, or `x` also given as
            // `software = "x"`) would mislabel every common mode through it.
            match self.index.get(&reference.id) {
                Some(&i) if self.elements[i].kind != kind => {
                    let message = format!(
                        "`{}` is a {} (line {}), where this names a {}: use another id for one of them",
                        reference.id,
                        self.elements[i].kind.as_str(),
                        self.lines[i],
                        kind.as_str()
                    );
                    return Err(self.invalid(reference.line, &reference.id, message));
                }
                Some(_) => {}
                None => {
                    let mut element = Element::new(reference.id, kind);
                    if let Some(&(mtbf, mttr)) = defaults.get(&kind) {
                        element.mtbf_hours = mtbf;
                        element.mttr_hours = mttr;
                    }
                    self.define(element, reference.line)?;
                }
            }
        }
        for (from, links) in std::mem::take(&mut self.uplinks).into_groups() {
            self.dependencies.push(DraftDependency {
                dependent: from,
                members: links,
                redundancy: Redundancy::AnyOf,
                k: None,
                services: ALL_SERVICES,
            });
        }
        let mut specs = Vec::with_capacity(self.dependencies.len());
        let mut edges = Vec::new();
        for d in &self.dependencies {
            let dependent = self.resolve(&d.dependent, &d.dependent.id)?;
            for m in &d.members {
                edges.push((dependent, self.resolve(m, &d.dependent.id)?));
            }
            self.check_redundancy(d)?;
            specs.push(DependencySpec {
                dependent: d.dependent.id.clone(),
                members: d.members.iter().map(|m| m.id.clone()).collect(),
                redundancy: d.redundancy,
                services: d.services,
            });
        }
        self.check_acyclic(&edges)?;
        let lines = std::mem::take(&mut self.lines);
        let file = self.file.clone();
        Topology::new(self.elements, specs).map_err(|e| TopoFileError::Syntax {
            // Unreachable after the checks above; kept as an error, not a panic,
            // because the input is untrusted.
            file,
            line: lines.first().copied().unwrap_or(1),
            message: e.to_string(),
        })
    }

    /// The index of `reference`, made by `by` (itself, for a dependency's
    /// own element).
    fn resolve(&self, reference: &Ref, by: &str) -> Result<usize, TopoFileError> {
        self.index.get(&reference.id).copied().ok_or_else(|| {
            let (file, line) = (self.file.clone(), reference.line);
            if by == reference.id {
                TopoFileError::UnknownElement {
                    file,
                    line,
                    element: by.to_owned(),
                }
            } else {
                TopoFileError::UnknownReference {
                    file,
                    line,
                    element: by.to_owned(),
                    reference: reference.id.clone(),
                }
            }
        })
    }

    fn check_redundancy(&self, d: &DraftDependency) -> Result<(), TopoFileError> {
        let n = d.members.len();
        if n == 0 && d.redundancy != Redundancy::All {
            return Err(self.invalid(
                d.dependent.line,
                &d.dependent.id,
                "a redundant group needs at least one member",
            ));
        }
        // A member listed twice in a redundant group would count as two:
        // `any_of = ["a", "a"]` reads as a redundant pair, and the assessment
        // would report the redundancy, and common modes, of a group of one.
        // (In an all-of group a repeat changes nothing, as an edge list
        // exported twice over has it.)
        if d.redundancy != Redundancy::All {
            let mut seen = HashSet::new();
            if let Some(repeat) = d.members.iter().find(|m| !seen.insert(&m.id)) {
                return Err(self.invalid(
                    repeat.line,
                    &d.dependent.id,
                    format!(
                        "`{}` is listed twice in one group: list each member once",
                        repeat.id
                    ),
                ));
            }
        }
        if let Some((k, line)) = d.k
            && (k < 1 || k as u64 > n as u64)
        {
            return Err(TopoFileError::ImpossibleKOfN {
                file: self.file.clone(),
                line,
                element: d.dependent.id.clone(),
                k,
                n,
            });
        }
        Ok(())
    }

    /// Refuses a dependency cycle, naming its elements in order.
    fn check_acyclic(&self, edges: &[(usize, usize)]) -> Result<(), TopoFileError> {
        let mut graph = DiGraph::<(), ()>::with_capacity(self.elements.len(), edges.len());
        for _ in 0..self.elements.len() {
            graph.add_node(());
        }
        for &(a, b) in edges {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }
        let cyclic = petgraph::algo::kosaraju_scc(&graph)
            .into_iter()
            .find(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]));
        let Some(scc) = cyclic else {
            return Ok(());
        };
        // Report the cycle from the element defined first, so the message
        // does not depend on the traversal.
        let start = scc
            .iter()
            .map(|n| n.index())
            .min_by_key(|&i| (self.lines[i], i))
            .unwrap_or(0);
        let members: HashSet<usize> = scc.iter().map(|n| n.index()).collect();
        let ids: Vec<&str> = cycle_path(&graph, start, &members)
            .into_iter()
            .map(|i| self.elements[i].id.as_str())
            .collect();
        // A cycle through thousands of elements is named by its ends.
        const SHOWN: usize = 12;
        let path = if ids.len() <= SHOWN {
            ids.join(" -> ")
        } else {
            format!(
                "{} -> ... ({} more) -> {}",
                ids[..SHOWN - 2].join(" -> "),
                ids.len() - SHOWN,
                ids[ids.len() - 2..].join(" -> ")
            )
        };
        Err(TopoFileError::Cycle {
            file: self.file.clone(),
            line: self.lines[start],
            element: self.elements[start].id.clone(),
            path,
        })
    }
}

/// A shortest cycle from `start` back to itself inside one strongly
/// connected component (breadth-first, so it is short enough to read).
fn cycle_path(graph: &DiGraph<(), ()>, start: usize, members: &HashSet<usize>) -> Vec<usize> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for next in graph.neighbors(NodeIndex::new(at)).map(|n| n.index()) {
            if next == start {
                let mut path = vec![start];
                let mut cur = at;
                while cur != start {
                    path.push(cur);
                    cur = parent[&cur];
                }
                path.push(start);
                // Built backwards (start, at, ..., start): read it forwards.
                path.reverse();
                return path;
            }
            if members.contains(&next) && next != start && !parent.contains_key(&next) {
                parent.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    vec![start, start]
}
