//! Who is asking, and may they: API tokens and console sessions, roles, CSRF,
//! per-IP rate limits, and the sign-in and sign-out pages.
//!
//! Every route declares its [`Access`] in the route table (`lib.rs`); the
//! layers here enforce it before any handler runs, so a handler cannot forget.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use dialtone_auth::{
    CSRF_FIELD, CSRF_HEADER, CookieNames, Role, bearer, clear_cookie, constant_time_eq, cookie,
    form_field, new_session, parse_token, random_secret, set_cookie, sha256_hex, token_matches,
    verify_password,
};
use dialtone_store::{AuditEntry, User};

use crate::console::escape;
use crate::{ApiError, AppState, Limits, check_form, field, media_type, read_body, read_form};

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// The session's CSRF token, for cookie-authenticated requests.
    pub csrf: Option<String>,
    /// SHA-256 of the session id, for cookie-authenticated requests.
    pub session: Option<String>,
}

/// Unix seconds from the wall clock: sessions, links, the audit log and
/// delivery retries are about people (network time is the pipeline's).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Why a public form's request is refused as sent from another site's
/// page, if it is: a hostile page can submit a form to us from each
/// visitor's browser, and each visitor's address is a fresh client to the
/// per-client limits, so forged problem reports could add up to a surge.
/// Browsers say where a request comes from (Fetch Metadata's
/// `Sec-Fetch-Site`; anything but `same-origin`, or `none` for one the user
/// typed, is another site's); a browser too old for that still sends
/// `Origin` with a form, which must then be the request's own `Host` or the
/// public `base_url`. Programs send neither header and pass: they are not
/// anyone's browser.
pub(crate) fn sent_from_another_site(headers: &HeaderMap, base_url: &str) -> Option<ApiError> {
    let refused = || {
        Some(ApiError::Forbidden(
            "this form was sent from a page on another site: use the form on this status page"
                .into(),
        ))
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            _ => refused(),
        };
    }
    // Neither header: not a browser's request.
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok());
    let own_host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let ours = origin.is_some_and(|origin| {
        own_host.is_some_and(|host| origin.authority() == host)
            || url::Url::parse(base_url).is_ok_and(|public| public.origin() == origin.origin())
    });
    if ours { None } else { refused() }
}

/// The address a request is counted against: the connection's, or, from a
/// trusted proxy, the nearest address it forwarded for that is not a
/// trusted proxy too (entries further left were written by the client, or
/// by proxies nobody vouches for). An entry that is not an address (with or
/// without a port) stops the walk at the last trusted hop. IPv4 clients of
/// a dual-stack listener arrive as `::ffff:a.b.c.d` and count as `a.b.c.d`.
pub(crate) fn client_ip(req: &Request, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req.headers().get_all("x-forwarded-for").iter();
    let hops: Vec<&str> = forwarded
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    let address = |hop: &str| {
        let hop = hop.trim();
        (hop.parse::<IpAddr>())
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
            .map(|ip| ip.to_canonical())
    };
    for hop in hops.iter().rev() {
        match address(hop) {
            Ok(ip) if trusted_proxies.contains(&ip) => client = ip,
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(client)
}

fn internal(e: dialtone_auth::AuthError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Who sent these headers: a Bearer token, else a session cookie.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let bad = || {
            ApiError::Unauthorized(
                "the API token is not valid: send `Authorization: Bearer dt_...` with a token from `dialtone token create`".into(),
            )
        };
        let token = value
            .to_str()
            .ok()
            .and_then(bearer)
            .and_then(parse_token)
            .ok_or_else(bad)?;
        let (user, hash) = state.auth.token(token.id).await?.ok_or_else(bad)?;
        if !token_matches(token.secret, &hash) {
            return Err(bad());
        }
        return Ok(Principal {
            name: user.name,
            role: user.role,
            csrf: None,
            session: None,
        });
    }
    if let Some(value) = session_cookie(headers, state.config.secure_cookies) {
        let id_hash = sha256_hex(value.as_bytes());
        let session = state
            .auth
            .session(&id_hash, unix_now())
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "your session has expired or was signed out: sign in again at /login".into(),
                )
            })?;
        return Ok(Principal {
            name: session.user.name,
            role: session.user.role,
            csrf: Some(session.csrf),
            session: Some(id_hash),
        });
    }
    Err(ApiError::Unauthorized(
        "this needs a signed-in user: sign in at /login, or send `Authorization: Bearer <token>` (create one with `dialtone token create`)".into(),
    ))
}

/// What one route requires; see [`require`].
#[derive(Clone)]
pub(crate) struct Gate {
    pub state: AppState,
    pub role: Role,
    /// A page for people: an anonymous GET is sent to the sign-in page.
    pub browser: bool,
}

/// Authenticates, checks the role and, for cookie-authenticated writes, the
/// CSRF token; hands the [`Principal`] to the handler as an extension.
pub(crate) async fn require(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    if gate.browser && req.method() == Method::POST {
        return require_form(&gate, req, next).await;
    }
    let get = req.method() == Method::GET;
    match admit(&gate, req).await {
        Ok(req) => next.run(req).await,
        Err(ApiError::Unauthorized(_)) if gate.browser && get => {
            Redirect::to("/login").into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// [`require`] for a console form or the sign-out button: a browser shows
/// the answer in the console's place, so a refusal is a page saying why,
/// with what was typed to copy, rather than JSON and the words lost.
async fn require_form(gate: &Gate, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(e) => return refused_form(gate, &path, &Bytes::new(), &e),
    };
    match admit(gate, Request::from_parts(parts, Body::from(body.clone()))).await {
        Ok(req) => next.run(req).await,
        Err(e) => refused_form(gate, &path, &body, &e),
    }
}

fn refused_form(gate: &Gate, path: &str, body: &Bytes, e: &ApiError) -> Response {
    if path == "/logout" && matches!(e, ApiError::Unauthorized(_)) {
        // Already signed out (the session expired or was ended elsewhere):
        // what the button asked for is done.
        let mut resp = Redirect::to("/login").into_response();
        let secure = gate.state.config.secure_cookies;
        let stale = clear_cookie(CookieNames::new(secure).session, secure);
        if let Ok(v) = HeaderValue::from_str(&stale) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        return resp;
    }
    crate::api::not_done(None, path, body, e)
}

async fn admit(gate: &Gate, req: Request) -> Result<Request, ApiError> {
    let principal = authenticate(&gate.state, req.headers()).await?;
    if !principal.role.allows(gate.role) {
        return Err(ApiError::Forbidden(format!(
            "{} {} needs the {} role; {} is {}: ask an admin",
            req.method(),
            req.uri().path(),
            gate.role,
            principal.name,
            principal.role
        )));
    }
    let mut req = match &principal.csrf {
        Some(expected) if !req.method().is_safe() => check_csrf(req, expected).await?,
        _ => req,
    };
    req.extensions_mut().insert(principal);
    Ok(req)
}

/// A cookie-authenticated write must echo the session's CSRF token, in the
/// `X-CSRF-Token` header (API) or the `csrf` form field (console forms).
async fn check_csrf(req: Request, expected: &str) -> Result<Request, ApiError> {
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        let ok = v.to_str().is_ok_and(|v| constant_time_eq(v, expected));
        return if ok {
            Ok(req)
        } else {
            Err(ApiError::Forbidden(format!(
                "wrong CSRF token in the {CSRF_HEADER} header: send the token of the session the cookie is for"
            )))
        };
    }
    // A form however encoded is read as one, so a multipart form is refused
    // as unreadable (saying how to send it) rather than as forged.
    let is_form = media_type(req.headers()).is_some_and(|e| {
        e.eq_ignore_ascii_case("application/x-www-form-urlencoded")
            || e.eq_ignore_ascii_case("multipart/form-data")
    });
    if !is_form {
        return Err(ApiError::Forbidden(format!(
            "missing CSRF token: send the session's token in the {CSRF_HEADER} header or the `{CSRF_FIELD}` form field"
        )));
    }
    let (parts, body) = req.into_parts();
    let bytes = read_body(body).await?;
    check_form(&parts.headers, &bytes)?;
    let ok = form_field(&bytes, CSRF_FIELD).is_some_and(|v| constant_time_eq(&v, expected));
    if !ok {
        return Err(ApiError::Forbidden(
            "this form is out of date: its CSRF token is not your session's (the console was opened before you signed in again, or the form came from another site). Reload the console and send it from there".into(),
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Which per-client budget a route draws on: the public's, or the one for
/// routes that need a sign-in (each guessed token or session costs a lookup
/// before it is refused). Two budgets, so that a crowd on the status page,
/// behind a proxy Dialtone was not told of, cannot shut out the console,
/// Alertmanager's alerts or Prometheus's scrapes.
#[derive(Clone)]
pub(crate) struct Budget {
    pub limits: Arc<Limits>,
    pub signed: bool,
}

/// Rate limit for every route, before anything else. It takes the limiters
/// alone, not the whole [`AppState`]: the state is cloned for every request,
/// and each of its shared fields is a reference count both cores would
/// fight over.
pub(crate) async fn rate_limit(State(budget): State<Budget>, req: Request, next: Next) -> Response {
    let limits = &budget.limits;
    let limiter = if budget.signed {
        &limits.signed
    } else {
        &limits.public
    };
    match limiter.admit(client_ip(&req, &limits.trusted_proxies)) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Writes one audit row; a sign-in or sign-out is not complete without it
/// (the answer is 503, which the user can retry).
pub(crate) async fn audit(
    state: &AppState,
    actor: &str,
    action: &str,
    target: String,
    detail: String,
) -> Result<(), ApiError> {
    let entry = AuditEntry {
        at: unix_now(),
        actor: actor.to_string(),
        action: action.to_string(),
        target,
        detail,
    };
    state.auth.audit(&entry).await.map_err(|e| {
        // The database's words stay in the log: the answer may go to
        // someone not signed in (a refused sign-in is audited too).
        tracing::error!(error = %e, ?entry, "could not write the audit log");
        ApiError::Unavailable(format!(
            "`{action}` was done but the audit log could not be written; the server's log says why"
        ))
    })
}

/// Writes the audit row of an action already done: a row that cannot be
/// written is logged, not answered, as a client that retries on 5xx would
/// do the action twice (declare an incident again, resend alerts that
/// Alertmanager then counts twice).
pub(crate) async fn audit_done(
    state: &AppState,
    actor: &str,
    action: &str,
    target: String,
    detail: String,
) {
    // Logged by `audit`; the answer is the action's.
    let _ = audit(state, actor, action, target, detail).await;
}

const HTML: &str = "text/html; charset=utf-8";
/// Who a failed sign-in was, in the audit log, when the name given is no user's.
const UNKNOWN_USER: &str = "(unknown user name)";
/// Login-form CSRF cookie lifetime: long enough to type a password.
const LOGIN_FORM_SECS: i64 = 600;

/// A sign-in page around `form` (its `csrf` field filled with `csrf`).
fn sign_in_html(form: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in · Dialtone</title>\
<style>body{{font-family:system-ui,sans-serif;background:#11151c;color:#e6e9ef}}main{{max-width:360px;margin:80px auto}}\
input{{display:block;width:100%;margin:6px 0 12px;padding:6px}}.err{{color:#ef5350}}</style></head><body><main>\
<h1>Dialtone console</h1>{form}</main></body></html>"
    )
}

/// The sign-in form, with `message` (what went wrong) above it and
/// `username` typed in (the name from a refused attempt, so only the
/// password is typed again).
fn login_html(csrf: &str, message: Option<&str>, username: &str) -> String {
    sign_in_html(&format!(
        "{}<form method=\"post\" action=\"/login\" id=\"login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>User<input name=\"username\" value=\"{}\" autocomplete=\"username\" autocapitalize=\"none\" required></label>\
<label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">Sign in</button></form>",
        message.map_or(String::new(), |m| format!(
            "<p class=\"err\" id=\"error\">{}</p>",
            escape(m)
        )),
        escape(csrf),
        escape(username)
    ))
}

fn login_form(
    state: &AppState,
    status: axum::http::StatusCode,
    message: Option<&str>,
) -> Result<Response, ApiError> {
    login_form_for(state, status, message, "")
}

/// [`login_form`] with `username` typed in.
fn login_form_for(
    state: &AppState,
    status: axum::http::StatusCode,
    message: Option<&str>,
    username: &str,
) -> Result<Response, ApiError> {
    sign_in_page(state, status, |csrf| login_html(csrf, message, username))
}

/// A sign-in page (`html` of its CSRF token) with the double-submit cookie
/// its post must carry back ([`sign_in_post`]). Not cached, and its address
/// (a sign-in link's code) not passed on as a referrer.
fn sign_in_page(
    state: &AppState,
    status: axum::http::StatusCode,
    html: impl FnOnce(&str) -> String,
) -> Result<Response, ApiError> {
    let csrf = random_secret().map_err(internal)?;
    let secure = state.config.secure_cookies;
    let cookie = set_cookie(
        CookieNames::new(secure).login_csrf,
        &csrf,
        LOGIN_FORM_SECS,
        secure,
    );
    Ok((
        status,
        [
            (header::SET_COOKIE, cookie),
            (header::CONTENT_TYPE, HTML.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::REFERRER_POLICY, "no-referrer".to_string()),
        ],
        html(&csrf),
    )
        .into_response())
}

/// `GET /login`: the sign-in form, with a double-submit CSRF cookie.
pub(crate) async fn login_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    login_form(&state, axum::http::StatusCode::OK, None)
}

/// The session cookie a request carries, if any, by the name cookies
/// `secure` or not have.
fn session_cookie(headers: &HeaderMap, secure: bool) -> Option<&str> {
    (headers.get(header::COOKIE))
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie(h, CookieNames::new(secure).session))
}

/// Starts a session for `user` and sends the browser to the console. The
/// session the browser signed in over (`previous`, its cookie), if any,
/// ends: its cookie is replaced, and a copy of it must not outlive it.
async fn start_session(
    state: &AppState,
    user: &User,
    how: &str,
    previous: Option<String>,
) -> Result<Response, ApiError> {
    let session = new_session().map_err(internal)?;
    let now = unix_now();
    state
        .auth
        .add_session(
            &session.id_hash,
            user.id,
            &session.csrf,
            now,
            now + state.config.session_secs,
        )
        .await?;
    let finished: Result<(), ApiError> = async {
        audit(
            state,
            &user.name,
            "login",
            format!("user {}", user.name),
            how.to_string(),
        )
        .await?;
        // Signed in: the browser's previous session ends, so an id planted
        // before sign-in is worth nothing after it.
        if let Some(previous) = previous {
            (state.auth)
                .delete_session(&sha256_hex(previous.as_bytes()))
                .await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = finished {
        // Not signed in after all: the new session goes (its cookie is
        // never sent), and whoever was signed in on this browser still is.
        let _ = state.auth.delete_session(&session.id_hash).await;
        return Err(e);
    }
    let secure = state.config.secure_cookies;
    let mut resp = Redirect::to("/console").into_response();
    let headers = resp.headers_mut();
    for c in [
        set_cookie(
            CookieNames::new(secure).session,
            &session.cookie_value,
            state.config.session_secs,
            secure,
        ),
        clear_cookie(CookieNames::new(secure).login_csrf, secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// A post from a sign-in page (the form or a link's button): counted against
/// the client's sign-in budget (both try a secret), then its body if it
/// carries the page's double-submit pair (the cookie set with the page and
/// its `csrf` field, equal); if not, `Err` holds the sign-in form again,
/// saying `expired`.
async fn sign_in_post(
    state: &AppState,
    req: Request,
    expired: &str,
) -> Result<Result<axum::body::Bytes, Response>, ApiError> {
    let ip = client_ip(&req, &state.limits.trusted_proxies);
    state.limits.login.admit(ip)?;
    let cookie_csrf = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie(h, CookieNames::new(state.config.secure_cookies).login_csrf))
        .map(str::to_string);
    let body = read_form(req).await?;
    let sent = field(&body, CSRF_FIELD);
    if cookie_csrf.is_some_and(|c| !c.is_empty() && constant_time_eq(&c, &sent)) {
        Ok(Ok(body))
    } else {
        login_form(state, axum::http::StatusCode::FORBIDDEN, Some(expired)).map(Err)
    }
}

/// The sign-in form again, saying why `e` refused a post from a sign-in
/// page, with the status and headers `e` carries: a browser is answered
/// with a page it can sign in from, never JSON.
fn refused_sign_in(state: &AppState, e: &ApiError) -> Result<Response, ApiError> {
    let mut form = login_form(state, e.status(), Some(&e.to_string()))?;
    e.add_headers(form.headers_mut());
    Ok(form)
}

/// `POST /login`: checks the form's CSRF cookie, the rate limit and the password.
pub(crate) async fn login(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    match password_sign_in(&state, req).await {
        Err(e) => refused_sign_in(&state, &e),
        done => done,
    }
}

async fn password_sign_in(state: &AppState, req: Request) -> Result<Response, ApiError> {
    // Kept past `req`, which reading the form takes.
    let previous = session_cookie(req.headers(), state.config.secure_cookies).map(str::to_owned);
    let body = match sign_in_post(state, req, "The form expired. Please sign in again.").await? {
        Ok(body) => body,
        Err(form) => return Ok(form),
    };
    let (name, password) = (field(&body, "username"), field(&body, "password"));
    // Names are lowercase; a phone keyboard capitalises the first letter.
    // Typed as is first: a user added before names had to be lowercase
    // may still have capitals.
    let lower = name.to_lowercase();
    let user = match state.auth.user_by_name(&name).await? {
        None if name != lower => state.auth.user_by_name(&lower).await?,
        found => found,
    };
    let phc = user.as_ref().and_then(|u| u.password_hash.clone());
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    // An unknown user still costs one verification, so timing does not tell
    // which names exist.
    let dummy = state.dummy_hash.clone();
    // Each verification holds argon2's 19 MiB while it runs: a burst of
    // sign-in posts from many clients (each within its own rate limit) runs
    // only as many at once as there are permits, the rest waiting their
    // turn within the request's timeout, rather than hundreds of blocking
    // threads' worth of memory.
    let permit = (state.password_checks.clone().acquire_owned().await)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let verified = tokio::task::spawn_blocking(move || {
        let verified =
            verify_password(&password, phc.as_deref().unwrap_or(&dummy)) && phc.is_some();
        drop(permit);
        verified
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match user {
        Some(user) if verified => start_session(state, &user, "password", previous).await,
        _ => {
            // A name that is nobody's is kept out of the log: it is often a
            // password typed into the wrong field.
            let who = user.map_or_else(|| UNKNOWN_USER.to_owned(), |u| u.name);
            audit(
                state,
                &who,
                "login_failed",
                format!("user {who}"),
                String::new(),
            )
            .await?;
            login_form_for(
                state,
                axum::http::StatusCode::UNAUTHORIZED,
                Some("Wrong user name or password."),
                &name,
            )
        }
    }
}

/// `GET /login/link?code=...`: a one-time sign-in link (printed by `dialtone demo`
/// and `dialtone user link`) opens a page whose button signs in: a chat's or
/// mail scanner's preview of the link, which only GETs it, must not use the
/// code up (nor sign the scanner in). The button posts with the login form's
/// CSRF pair, so another site cannot sign a visitor into its own account.
pub(crate) async fn login_link_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let code = query
        .as_deref()
        .and_then(|q| form_field(q.as_bytes(), "code"))
        .unwrap_or_default();
    sign_in_page(&state, axum::http::StatusCode::OK, |csrf| {
        sign_in_html(&format!(
            "<p>This one-time link signs you in once.</p>\
<form method=\"post\" action=\"/login/link\" id=\"link\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"code\" value=\"{}\"><button type=\"submit\">Continue to the console</button></form>",
            escape(csrf),
            escape(&code)
        ))
    })
}

/// `POST /login/link`: the button of [`login_link_page`] uses the code.
/// A browser's page: what went wrong is shown on the sign-in form.
pub(crate) async fn login_link(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    match link_sign_in(&state, req).await {
        Err(e) => refused_sign_in(&state, &e),
        done => done,
    }
}

async fn link_sign_in(state: &AppState, req: Request) -> Result<Response, ApiError> {
    let expired = "The sign-in page expired: open the link again.";
    let previous = session_cookie(req.headers(), state.config.secure_cookies).map(str::to_owned);
    let body = match sign_in_post(state, req, expired).await? {
        Ok(body) => body,
        Err(form) => return Ok(form),
    };
    let code = field(&body, "code");
    let user = state
        .auth
        .take_login_link(&sha256_hex(code.as_bytes()), unix_now())
        .await?;
    match user {
        Some(user) => start_session(state, &user, "one-time link", previous).await,
        None => login_form(
            state,
            axum::http::StatusCode::UNAUTHORIZED,
            Some(
                "This sign-in link is invalid, used or expired: sign in here, or ask for a new link.",
            ),
        ),
    }
}

/// `POST /logout`: ends the session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
) -> Result<Response, ApiError> {
    if let Some(id_hash) = &who.session {
        state.auth.delete_session(id_hash).await?;
    }
    audit(
        &state,
        &who.name,
        "logout",
        format!("user {}", who.name),
        String::new(),
    )
    .await?;
    let mut resp = Redirect::to("/login").into_response();
    let secure = state.config.secure_cookies;
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(CookieNames::new(secure).session, secure)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, forwarded: &[&str]) -> Request {
        let mut req = Request::new(Body::empty());
        let peer: IpAddr = peer.parse().expect("an address");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer, 40_000)));
        for f in forwarded {
            req.headers_mut().append(
                "x-forwarded-for",
                HeaderValue::from_str(f).expect("a header value"),
            );
        }
        req
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_nobody_else_can() {
        let proxies = [ip("10.0.0.1").unwrap(), ip("10.0.0.2").unwrap()];
        let cases = [
            // Anyone else's header is ignored.
            (from("203.0.113.9", &["198.51.100.7"]), "203.0.113.9"),
            // The proxy's word for its client.
            (from("10.0.0.1", &["198.51.100.7"]), "198.51.100.7"),
            // What the client wrote on the left is not believed.
            (from("10.0.0.1", &["6.6.6.6, 198.51.100.7"]), "198.51.100.7"),
            // Through two trusted proxies, in two header lines.
            (
                from("10.0.0.1", &["198.51.100.7", "10.0.0.2"]),
                "198.51.100.7",
            ),
            (from("10.0.0.1", &["2001:db8::5, 10.0.0.2"]), "2001:db8::5"),
            // With ports, and a proxy on a dual-stack listener.
            (from("10.0.0.1", &["198.51.100.7:5123"]), "198.51.100.7"),
            (from("10.0.0.1", &["[2001:db8::5]:443"]), "2001:db8::5"),
            (from("::ffff:10.0.0.1", &["198.51.100.7"]), "198.51.100.7"),
            (from("::ffff:203.0.113.9", &[]), "203.0.113.9"),
            // Nothing usable: the last trusted hop.
            (from("10.0.0.1", &[]), "10.0.0.1"),
            (from("10.0.0.1", &["unknown, 10.0.0.2"]), "10.0.0.2"),
        ];
        for (req, client) in cases {
            assert_eq!(client_ip(&req, &proxies), ip(client), "{:?}", req.headers());
        }
        let alone = from("10.0.0.1", &["198.51.100.7"]);
        assert_eq!(client_ip(&alone, &[]), ip("10.0.0.1"), "no proxy trusted");
    }
}
