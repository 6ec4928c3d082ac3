#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // Any input: a topology or an error, never a panic.
        let _ = dialtone_topofile::parse_toml(text, "fuzz.toml");
    }
});
