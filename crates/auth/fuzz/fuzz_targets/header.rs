#![no_main]

//! `Authorization` and `Cookie` header values and role names, as a request
//! or the user table may carry them.

use dialtone_auth::{Role, bearer, cookie, parse_token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(token) = bearer(text) {
        assert!(!token.is_empty() && text.contains(token));
        if let Some(t) = parse_token(token) {
            assert_eq!((t.id.len(), t.secret.len()), (16, 64));
        }
    }
    if let Some(t) = parse_token(text) {
        assert_eq!(text, format!("dt_{}_{}", t.id, t.secret));
    }
    if let Some(v) = cookie(text, "dialtone_session") {
        assert!(text.contains(v));
    }
    if let Ok(role) = Role::parse(text) {
        assert_eq!(role.as_str(), text);
    }
});
