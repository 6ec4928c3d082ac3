#![no_main]

//! `dialtone rca --changes`: a `timestamp,element,kind,description` file.

use dialtone_bench::telemetry::parse_changes;
use dialtone_model::{Element, ElementKind, Topology};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let topology = Topology::new(
        vec![
            Element::new("cell-1", ElementKind::Cell),
            Element::new("amf:1", ElementKind::CoreInstance),
        ],
        Vec::new(),
    )
    .expect("a valid topology");
    match parse_changes(data, "fuzz.csv", &topology) {
        Ok(changes) => {
            for c in changes {
                assert!(topology.index_of(&c.element).is_some());
            }
        }
        Err(e) => assert!(e.to_string().contains(": line "), "{e}"),
    }
});
