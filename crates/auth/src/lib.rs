//! Who may do what, as pure functions the server and the CLI share.
//!
//! - API tokens: 256 random bits, shown once as `dt_<id>_<secret>`; the store
//!   keeps the public id and the SHA-256 of the secret, and the secret is
//!   compared in constant time, so neither a database leak nor response timing
//!   gives a token away.
//! - Console logins: argon2id password hashes in PHC form.
//! - Sessions: a random cookie value; the store keeps only its SHA-256 and a
//!   per-session CSRF token (synchronizer pattern) that every form and every
//!   cookie-authenticated write must echo.
//! - Roles: viewer < operator < admin.
//!
//! Parsers here read untrusted bytes (headers, cookies, form bodies); they are
//! total and property-tested.

mod parse;

pub use parse::{BadForm, bearer, cookie, form_field, form_pairs, percent_decode};

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The names of the cookies Dialtone sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieNames {
    /// The console session.
    pub session: &'static str,
    /// The double-submit cookie that protects the login form itself, before
    /// there is a session to tie a CSRF token to.
    pub login_csrf: &'static str,
}

impl CookieNames {
    /// The names for cookies that are `Secure` or not. Secure ones carry the
    /// `__Host-` prefix: a browser then keeps such a cookie only if this very
    /// host set it over HTTPS, for the whole site and no other domain, so
    /// neither a sibling subdomain nor an attacker on a plain-HTTP path can
    /// plant one (a planted login cookie would pass the form's double-submit
    /// check and sign the victim in as the attacker).
    pub const fn new(secure: bool) -> CookieNames {
        if secure {
            CookieNames {
                session: "__Host-dialtone_session",
                login_csrf: "__Host-dialtone_login_csrf",
            }
        } else {
            CookieNames {
                session: "dialtone_session",
                login_csrf: "dialtone_login_csrf",
            }
        }
    }
}
/// Header a cookie-authenticated API write must carry the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field console forms carry the session's CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// Shortest password accepted: long passphrases beat composition rules.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted, so hashing cost stays bounded.
pub const MAX_PASSWORD_LEN: usize = 1024;

const TOKEN_PREFIX: &str = "dt_";
const TOKEN_ID_HEX: usize = 16;
const SECRET_HEX: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the password is too short: use at least {MIN_PASSWORD_LEN} characters (a passphrase works well)"
    )]
    PasswordTooShort,
    #[error("the password is too long: use at most {MAX_PASSWORD_LEN} characters")]
    PasswordTooLong,
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error("unknown role `{0}`: use viewer, operator or admin")]
    UnknownRole(String),
}

/// What a principal may do; each role may do everything the lower ones may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads the console and the operator API.
    Viewer,
    /// Also acts on incidents.
    Operator,
    /// Also reads the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AuthError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AuthError::UnknownRole(s.to_string()))
    }

    /// Whether this role may do what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(buf)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// SHA-256 of `data`, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Equality that takes the same time wherever the inputs first differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A freshly minted API token. `plaintext` is shown to its owner once and never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Public, non-secret lookup key.
    pub id: String,
    /// SHA-256 hex of the secret part: what the store keeps.
    pub secret_hash: String,
    pub plaintext: String,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token itself, not even in a debug log.
        f.debug_struct("NewToken").field("id", &self.id).finish()
    }
}

/// Mints a token: a 64-bit public id and a 256-bit secret.
pub fn new_token() -> Result<NewToken, AuthError> {
    let id = hex(&random::<8>()?);
    let secret = hex(&random::<32>()?);
    Ok(NewToken {
        plaintext: format!("{TOKEN_PREFIX}{id}_{secret}"),
        secret_hash: sha256_hex(secret.as_bytes()),
        id,
    })
}

/// A token as presented by a client, split into its lookup id and secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedToken<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

/// Splits `dt_<16 hex>_<64 hex>`; anything else is not a token.
pub fn parse_token(s: &str) -> Option<PresentedToken<'_>> {
    let rest = s.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let lower_hex = |p: &str, n: usize| {
        p.len() == n && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (lower_hex(id, TOKEN_ID_HEX) && lower_hex(secret, SECRET_HEX))
        .then_some(PresentedToken { id, secret })
}

/// Whether a presented secret hashes to the stored hash, compared in constant time.
pub fn token_matches(secret: &str, stored_hash: &str) -> bool {
    constant_time_eq(&sha256_hex(secret.as_bytes()), stored_hash)
}

fn argon2id() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(AuthError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(AuthError::PasswordTooLong);
    }
    let salt =
        SaltString::encode_b64(&random::<16>()?).map_err(|e| AuthError::Hash(e.to_string()))?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string; a malformed hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN * 4 {
        return false;
    }
    PasswordHash::new(phc)
        .is_ok_and(|h| argon2id().verify_password(password.as_bytes(), &h).is_ok())
}

/// A new console session: the cookie value goes to the browser, the rest to the store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    pub cookie_value: String,
    pub id_hash: String,
    pub csrf: String,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewSession { .. }")
    }
}

pub fn new_session() -> Result<NewSession, AuthError> {
    let cookie_value = random_secret()?;
    Ok(NewSession {
        id_hash: sha256_hex(cookie_value.as_bytes()),
        csrf: random_secret()?,
        cookie_value,
    })
}

/// 256 random bits as hex: session ids, CSRF tokens, one-time login codes.
pub fn random_secret() -> Result<String, AuthError> {
    Ok(hex(&random::<32>()?))
}

/// `Set-Cookie` value for a cookie scripts cannot read and other sites cannot send.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_viewer_operator_admin() {
        assert!(Role::Admin.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Admin));
        assert_eq!(Role::parse("operator").unwrap(), Role::Operator);
        assert!(
            Role::parse("root")
                .unwrap_err()
                .to_string()
                .contains("viewer")
        );
    }

    #[test]
    fn a_token_round_trips_and_only_its_secret_matches() {
        let t = new_token().unwrap();
        let p = parse_token(&t.plaintext).unwrap();
        assert_eq!(p.id, t.id);
        assert_eq!(p.secret.len(), 64, "256 bits of secret");
        assert!(token_matches(p.secret, &t.secret_hash));
        let other = new_token().unwrap();
        assert!(!token_matches(p.secret, &other.secret_hash));
        assert!(
            !t.plaintext.contains(&t.secret_hash),
            "the hash is not the secret"
        );
        assert!(
            !format!("{t:?}").contains(p.secret),
            "Debug hides the secret"
        );
    }

    #[test]
    fn malformed_tokens_are_not_tokens() {
        let t = new_token().unwrap().plaintext;
        assert!(parse_token(&t[..t.len() - 1]).is_none());
        assert!(parse_token(&t.to_uppercase()).is_none());
        assert!(parse_token(&t.replacen("dt_", "xx_", 1)).is_none());
        assert!(parse_token("").is_none());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
        assert!(matches!(
            hash_password("short"),
            Err(AuthError::PasswordTooShort)
        ));
    }

    #[test]
    fn sessions_store_only_a_hash_and_cookies_are_locked_down() {
        let s = new_session().unwrap();
        assert_eq!(s.id_hash, sha256_hex(s.cookie_value.as_bytes()));
        assert_ne!(s.csrf, s.cookie_value);
        let secure = CookieNames::new(true);
        let c = set_cookie(secure.session, &s.cookie_value, 60, true);
        // `__Host-` is kept only with Secure, Path=/ and no Domain.
        assert!(c.starts_with("__Host-dialtone_session="), "{c}");
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(c.contains(attr), "{c} has {attr}");
        }
        assert!(!c.contains("Domain"), "{c}");
        let plain = CookieNames::new(false);
        assert!(!set_cookie(plain.session, "v", 60, false).contains("Secure"));
        assert!(clear_cookie(plain.session, false).contains("Max-Age=0"));
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
