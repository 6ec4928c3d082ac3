//! The physical graph: elements joined by link elements, undirected. Its cut
//! vertices and bridges are places where one box or one fiber separates the
//! network; parallel links between the same two ends are redundancy.

use std::collections::HashMap;

use dialtone_model::{ElementKind, Topology};
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct PhysicalFindings {
    /// Elements whose removal splits the physical graph and costs service.
    pub cut_vertices: Vec<String>,
    /// Single links (not one of parallel links) whose removal splits the
    /// physical graph and costs service.
    pub bridges: Vec<String>,
}

/// Cut vertices and bridges of the physical graph, reported when their loss
/// also costs some cell its service (`costs_service`): a router at the edge
/// of a drawn-in core is a cut vertex in graph terms, yet harmless when what
/// hangs off it is redundant elsewhere.
pub(crate) fn analyse(
    topology: &Topology,
    costs_service: &dyn Fn(usize) -> bool,
) -> (PhysicalFindings, Vec<bool>, Vec<bool>) {
    let n = topology.len();
    let mut node_of: HashMap<usize, NodeIndex> = HashMap::new();
    let mut element_of: Vec<usize> = Vec::new();
    let mut graph = UnGraph::<(), ()>::new_undirected();
    // Links between the same two ends, bundled: petgraph's bridge search
    // expects a simple graph, and a bundle of two or more is never a bridge.
    let mut bundles: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (l, e) in topology.elements().iter().enumerate() {
        if e.kind != ElementKind::Link {
            continue;
        }
        // Each end once: a link may name one end in two groups (one per
        // service), which is still one link, not two in parallel.
        let mut ups: Vec<usize> = topology
            .groups_of(l)
            .flat_map(|g| g.members.iter().copied())
            .collect();
        ups.sort_unstable();
        ups.dedup();
        for &down in topology.dependents(l) {
            for &up in &ups {
                if up != down {
                    bundles
                        .entry((down.min(up), down.max(up)))
                        .or_default()
                        .push(l);
                }
            }
        }
    }
    let mut node = |e: usize, graph: &mut UnGraph<(), ()>| {
        *node_of.entry(e).or_insert_with(|| {
            element_of.push(e);
            graph.add_node(())
        })
    };
    let mut keys: Vec<(usize, usize)> = bundles.keys().copied().collect();
    keys.sort_unstable();
    let mut edge_bundle = Vec::with_capacity(keys.len());
    for (a, b) in keys {
        let (na, nb) = (node(a, &mut graph), node(b, &mut graph));
        graph.add_edge(na, nb, ());
        edge_bundle.push((a, b));
    }
    let mut is_cut_vertex = vec![false; n];
    for v in petgraph::algo::articulation_points::articulation_points(&graph) {
        let e = element_of[v.index()];
        is_cut_vertex[e] = costs_service(e);
    }
    let mut is_bridge = vec![false; n];
    for edge in petgraph::algo::bridges(&graph) {
        let links = &bundles[&edge_bundle[edge.id().index()]];
        if let [only] = links[..] {
            is_bridge[only] = costs_service(only);
        }
    }
    let ids = |flags: &[bool]| {
        let mut v: Vec<String> = flags
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(i, _)| topology.element(i).id.clone())
            .collect();
        v.sort();
        v
    };
    let findings = PhysicalFindings {
        cut_vertices: ids(&is_cut_vertex),
        bridges: ids(&is_bridge),
    };
    (findings, is_cut_vertex, is_bridge)
}

#[cfg(test)]
mod tests {
    use dialtone_model::{DependencySpec, Element, Redundancy, Service};

    use super::*;

    #[test]
    fn a_link_that_names_its_end_once_per_service_is_still_a_bridge() {
        let elements = vec![
            Element::new("r1", ElementKind::Router),
            Element::new("r2", ElementKind::Router),
            Element::new("fiber", ElementKind::Link),
        ];
        let needs = |dependent: &str, member: &str, services| DependencySpec {
            dependent: dependent.into(),
            members: vec![member.into()],
            redundancy: Redundancy::All,
            services,
        };
        let deps = vec![
            needs("r1", "fiber", dialtone_model::ALL_SERVICES),
            needs("fiber", "r2", Service::Voice.bit()),
            needs("fiber", "r2", Service::Data.bit()),
        ];
        let topology = Topology::new(elements, deps).expect("valid");
        let (findings, _, _) = analyse(&topology, &|_| true);
        assert_eq!(findings.bridges, ["fiber"]);
    }
}
