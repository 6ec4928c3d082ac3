#![no_main]

//! One field of a series file: its timestamp and its value.

use dialtone_bench::series::{parse_timestamp, parse_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_timestamp(text);
    if let Some(v) = parse_value(text) {
        assert!(v.is_finite());
    }
});
