#![no_main]

//! `dialtone rca --changes`: a `timestamp,element,kind,description` file.

use dialtone_bench::telemetry::parse_changes;
use libfuzzer_sys::fuzz_target;

mod topology;

fuzz_target!(|data: &[u8]| {
    let topology = topology::two_elements();
    match parse_changes(data, "fuzz.csv", &topology) {
        Ok(changes) => {
            for c in changes {
                assert!(topology.index_of(&c.element).is_some());
            }
        }
        Err(e) => assert!(e.to_string().contains(": line "), "{e}"),
    }
});
