#![no_main]

//! `dialtone rca`'s long `timestamp,series,value` telemetry file, strict and
//! lenient, against a two-element topology.

use dialtone_bench::telemetry::parse_long;
use libfuzzer_sys::fuzz_target;

mod topology;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let topology = topology::two_elements();
    let input = Box::new(std::io::Cursor::new(text.to_vec()));
    let Ok(t) = parse_long(input, "fuzz.csv", &topology, flags & 1 == 1) else {
        return;
    };
    let mut previous = None;
    for (at, samples) in t.minutes() {
        assert_eq!(at.rem_euclid(60), 0, "minutes are aligned");
        assert!(previous.is_none_or(|p| p < at), "minutes are in order");
        previous = Some(at);
        assert!(!samples.is_empty());
        assert!(samples.windows(2).all(|w| w[0].series < w[1].series));
        assert!(samples.iter().all(|s| (s.series as usize) < t.series.len()));
    }
    let (first, last) = t.span();
    assert!(first <= last);
});
