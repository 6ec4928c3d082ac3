#![no_main]

//! The text `wrk --latency` prints, read by `dialtone bench statuspage`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dialtone_bench::wrk::parse(text);
    }
});
