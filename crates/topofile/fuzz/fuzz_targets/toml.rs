#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // Any input: a topology or an error, never a panic; an error is
        // one line and points at a line of the file (or just past its end).
        if let Err(e) = dialtone_topofile::parse_toml(text, "fuzz.toml") {
            let message = e.to_string();
            assert!(!message.contains('\n'), "{message:?}");
            let lines = text.lines().count().max(1);
            let line = e.line().expect("a parse error names its line");
            assert!((1..=lines + 1).contains(&line), "line {line} of {lines}");
        }
    }
});
