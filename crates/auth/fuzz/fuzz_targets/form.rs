#![no_main]

//! `application/x-www-form-urlencoded` bodies: the sign-in, console, report
//! and subscribe forms all read their fields through `form_field`.

use dialtone_auth::{form_field, percent_decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["csrf", "email", "webhook", "problem", "area", "contact"] {
        let _ = form_field(data, name);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(decoded) = percent_decode(text) {
            // Decoding never grows the text: `%XX` is three bytes for one.
            assert!(decoded.len() <= text.len());
        }
    }
});
