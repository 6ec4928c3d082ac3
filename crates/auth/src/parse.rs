//! Total parsers for the untrusted bits of a request that authentication reads.

/// The credentials of an `Authorization: Bearer <token>` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, rest) = header.split_once(' ')?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of cookie `name` in a `Cookie` header value.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Why an `application/x-www-form-urlencoded` body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadForm {
    #[error("it is not UTF-8 text")]
    NotUtf8,
    /// The position of the bad pair, counting from 1: its text may be anything.
    #[error(
        "field {0} has a `%` not followed by two hex digits, or encodes bytes that are not UTF-8"
    )]
    BadEscape(usize),
}

/// Every `(name, value)` pair of an `application/x-www-form-urlencoded`
/// body, in order. One bad pair spoils the whole body: reading the others
/// would make the fields it hid look missing, and the caller would answer
/// for a different request than the one sent.
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, BadForm> {
    let body = std::str::from_utf8(body).map_err(|_| BadForm::NotUtf8)?;
    (body.split('&').filter(|pair| !pair.is_empty()).enumerate())
        .map(|(i, pair)| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            percent_decode(k)
                .zip(percent_decode(v))
                .ok_or(BadForm::BadEscape(i + 1))
        })
        .collect()
}

/// The first value of field `name` in an `application/x-www-form-urlencoded`
/// body; `None` as well where the body is not one ([`form_pairs`] says why).
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_pairs(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Decodes `+` and `%XX` as forms encode them; `None` for bad escapes or non-UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = (*bytes.get(i + 1)? as char).to_digit(16)?;
                let lo = (*bytes.get(i + 2)? as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bearer_takes_the_token_after_the_scheme() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[test]
    fn cookie_finds_its_pair_only() {
        let h = "a=1; dialtone_session=xyz; b=2";
        assert_eq!(cookie(h, "dialtone_session"), Some("xyz"));
        assert_eq!(cookie(h, "dialtone"), None);
        assert_eq!(cookie("dialtone_session", "dialtone_session"), None);
    }

    #[test]
    fn form_fields_decode() {
        let body = b"csrf=ab%2Bc&body=hello+world%21&x";
        assert_eq!(form_field(body, "csrf").as_deref(), Some("ab+c"));
        assert_eq!(form_field(body, "body").as_deref(), Some("hello world!"));
        assert_eq!(form_field(body, "x").as_deref(), Some(""));
        assert_eq!(form_field(body, "missing"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn a_bad_pair_spoils_the_whole_form() {
        assert_eq!(
            form_pairs(b"a=1&&b=x+y"),
            Ok(vec![("a".into(), "1".into()), ("b".into(), "x y".into())])
        );
        assert_eq!(
            form_pairs(b"problem=%ZZ&area=north"),
            Err(BadForm::BadEscape(1))
        );
        assert_eq!(
            form_pairs(b"area=north&problem=%FF"),
            Err(BadForm::BadEscape(2))
        );
        assert_eq!(form_pairs(b"problem=\xff"), Err(BadForm::NotUtf8));
        // The field itself is fine, but the body it came in was not read as sent.
        assert_eq!(form_field(b"area=north&problem=%ZZ", "area"), None);
    }

    /// Form encoding as browsers do it, to check decoding inverts it.
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn parsers_never_panic_on_arbitrary_input(s in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = bearer(&s);
            let _ = cookie(&s, "dialtone_session");
            let _ = form_field(&bytes, "csrf");
            let _ = form_pairs(&bytes);
            let _ = percent_decode(&s);
            let _ = crate::parse_token(&s);
        }

        #[test]
        fn percent_decode_inverts_form_encoding(s in "\\PC*") {
            prop_assert_eq!(percent_decode(&encode(&s)), Some(s));
        }

        #[test]
        fn form_field_finds_an_encoded_value(k in "[a-z]{1,8}", v in "\\PC*", other in "\\PC*") {
            let body = format!("zz={}&{}={}", encode(&other), k, encode(&v));
            let expected = if k == "zz" { other } else { v };
            prop_assert_eq!(form_field(body.as_bytes(), &k), Some(expected));
        }

        #[test]
        fn a_cookie_value_is_found_among_others(v in "[A-Za-z0-9]{0,64}") {
            let h = format!("x=1; dialtone_session={v}; y=2");
            prop_assert_eq!(cookie(&h, "dialtone_session"), Some(v.as_str()));
        }
    }
}
