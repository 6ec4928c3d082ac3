//! The topology the telemetry and change-file targets read against: one cell
//! and one core instance, whose id has the `:` that series names also use.

use dialtone_model::{Element, ElementKind, Topology};

pub fn two_elements() -> Topology {
    Topology::new(
        vec![
            Element::new("cell-1", ElementKind::Cell),
            Element::new("amf:1", ElementKind::CoreInstance),
        ],
        Vec::new(),
    )
    .expect("a valid topology")
}
