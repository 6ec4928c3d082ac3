//! The HTTP shell around the pure pipeline.
//!
//! Public paths (status page, Statuspage v2 JSON, history feeds) are served
//! from bytes pre-rendered on every state change: no database access on any
//! public path, so the page keeps answering while the store is down. The
//! console and the operator API (`/api/v1/`) require a signed-in user or an
//! API token; [`routes`] is the one table that says what each route needs.
//! [`live`] runs the twin-fed pipeline, persists incidents, and re-renders.

mod access;
mod alerts;
mod api;
mod console;
mod error;
mod extract;
mod history;
pub mod live;
mod metrics;
mod published;
mod ratelimit;
mod reports;
mod serve;
mod subscribe;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use dialtone_auth::Role;
use dialtone_notify::NotifyConfig;
use dialtone_store::{AuthStore, NotifyStore, PlanStore, Store};
use tokio::sync::Mutex;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use access::{Principal, unix_now};
pub use error::ApiError;
pub use history::History;
pub use published::{Published, Rendered};
pub use ratelimit::{Rate, RateLimiter};
pub use serve::{HEADER_READ_TIMEOUT, serve};

use extract::Path;
use live::Live;
pub use metrics::Deliveries;
use metrics::{LastSnapshot, Snapshot};

/// Largest request body a route accepts, but for Alertmanager's.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest body of Alertmanager's webhook (`POST /api/v1/alerts`): it sends
/// a group's alerts in one notification, about a kilobyte each, and the
/// widest outage makes the largest group; refused, the notification would
/// be dropped, not retried.
pub const MAX_ALERTS_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A request's body, at most [`MAX_BODY_BYTES`]: one answer (413) for a
/// body too large however it was sent, its length declared or not. Every
/// body is read here or in [`read_body_up_to`], and none is read before
/// the request is signed in, so no body-limit layer is needed in front: a
/// body is read up to its route's limit and no further, and the route
/// answers in its own words (a form route with its form).
pub(crate) async fn read_body(body: axum::body::Body) -> Result<axum::body::Bytes, ApiError> {
    read_body_up_to(body, MAX_BODY_BYTES).await
}

/// A request's body, at most `limit` bytes (413 beyond).
pub(crate) async fn read_body_up_to(
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return ApiError::PayloadTooLarge(limit);
            }
            source = err.source();
        }
        ApiError::BadRequest(format!("could not read the request body: {e}"))
    })
}
/// A form's body, at most [`MAX_BODY_BYTES`], checked to be one: the one
/// place a form is read, so a body sent otherwise (multipart, bad `%`
/// escapes, not UTF-8) is refused as unreadable rather than read as a form
/// whose fields are missing, which would answer for a different request
/// (an "unknown problem ``", a sign-in form "expired").
pub(crate) async fn read_form(req: Request) -> Result<axum::body::Bytes, ApiError> {
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?;
    check_form(&parts.headers, &body)?;
    Ok(body)
}

/// A form field's value, empty where the form lacks it.
pub(crate) fn field(body: &[u8], name: &str) -> String {
    dialtone_auth::form_field(body, name).unwrap_or_default()
}

/// The names among `names` whose checkbox `{prefix}{name}` the form
/// `body` ticked, in the order of `names`.
pub(crate) fn ticked<'a>(
    body: &[u8],
    prefix: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    (names.into_iter())
        .filter(|n| dialtone_auth::form_field(body, &format!("{prefix}{n}")).is_some())
        .map(str::to_string)
        .collect()
}

/// The media type a request was sent as, without its parameters
/// (`multipart/form-data; boundary=...` is `multipart/form-data`), as sent.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let sent = headers.get(header::CONTENT_TYPE)?;
    let sent = String::from_utf8_lossy(sent.as_bytes());
    Some(
        sent.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
    )
}

/// [`read_form`]'s check, for a body already read (one that may be JSON).
/// No `Content-Type` at all is taken for a form, as `curl -d` is.
pub(crate) fn check_form(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if let Some(essence) = media_type(headers)
        && !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(ApiError::BadRequest(format!(
            "the form could not be read: it was sent as `{essence}`; send it as application/x-www-form-urlencoded, as an HTML form does by default"
        )));
    }
    dialtone_auth::form_pairs(body).map(drop).map_err(|e| {
        ApiError::BadRequest(format!(
            "the form could not be read: {e}; send it URL-encoded in UTF-8, as a browser does"
        ))
    })
}

/// Longest any request may take.
pub const REQUEST_TIMEOUT_SECS: u64 = 10;

/// How the server treats clients.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Mark cookies `Secure`: on when a TLS proxy fronts the server, so the
    /// browser never sends the session over plain HTTP.
    pub secure_cookies: bool,
    /// Per client IP, on the public routes, and apart from that on those
    /// that need a sign-in (a guessed token costs a lookup before it is
    /// refused).
    pub public_rate: Rate,
    /// Per client IP, on password sign-in attempts.
    pub login_rate: Rate,
    /// Per client IP, on customer problem reports: a person reports once,
    /// a script hammering the form should not make a surge.
    pub report_rate: Rate,
    /// Per client IP, on subscription requests: each mails a stranger or
    /// adds a webhook that every incident is posted to.
    pub subscribe_rate: Rate,
    /// How long a console session lasts.
    pub session_secs: i64,
    /// Reverse proxies in front of the server. A request from one of them
    /// is its client's, named by the nearest `X-Forwarded-For` entry that is
    /// not itself a trusted proxy; without this, every per-client limit
    /// would be one limit for everyone behind the proxy. Anyone else's
    /// `X-Forwarded-For` is ignored: a client could write anything there.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secure_cookies: false,
            public_rate: Rate {
                per_second: 50.0,
                burst: 200.0,
            },
            login_rate: Rate {
                per_second: 0.2,
                burst: 10.0,
            },
            report_rate: Rate {
                per_second: 1.0 / 60.0,
                burst: 3.0,
            },
            subscribe_rate: Rate {
                per_second: 1.0 / 60.0,
                burst: 5.0,
            },
            session_secs: 12 * 3600,
            trusted_proxies: Vec::new(),
        }
    }
}

pub(crate) struct Limits {
    pub public: RateLimiter,
    /// At the public rate, apart from it: see [`access::Budget`].
    pub signed: RateLimiter,
    pub login: RateLimiter,
    pub reports: RateLimiter,
    pub subscribe: RateLimiter,
    /// See [`ServerConfig::trusted_proxies`].
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub published: Arc<Published>,
    /// The pipeline; the live loop and operator actions take turns on it.
    pub live: Arc<Mutex<Live>>,
    /// What `/metrics` answers with while `live`'s lock is held.
    pub(crate) last_snapshot: Arc<LastSnapshot>,
    /// What the delivery task did, for `/metrics`: give it to
    /// [`live::deliver_paced`].
    pub deliveries: Arc<Deliveries>,
    /// See [`live::Sinks::report_writes`].
    pub(crate) report_writes: Arc<tokio::sync::RwLock<()>>,
    /// The network's region ids, fixed for the run: the public forms read
    /// them here, not under `live`'s lock, which a slow database save holds.
    pub(crate) regions: Arc<[String]>,
    /// The status page's name, fixed for the run (subscription mails).
    pub(crate) page_name: Arc<str>,
    pub store: Arc<dyn Store>,
    pub auth: Arc<dyn AuthStore>,
    /// Subscribers and the outbox.
    pub notify_store: Arc<dyn NotifyStore>,
    /// Changes and event watches, for a restarted run.
    pub plans: Arc<dyn PlanStore>,
    pub notify: Arc<NotifyConfig>,
    pub config: Arc<ServerConfig>,
    pub(crate) limits: Arc<Limits>,
    /// An argon2id hash of a random password, verified against when the user
    /// name is unknown so a failed sign-in takes the same time either way.
    pub(crate) dummy_hash: Arc<str>,
    /// Password verifications that may run at once: one per CPU.
    pub(crate) password_checks: Arc<tokio::sync::Semaphore>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The stores the server writes to; one SQLite file serves all three.
#[derive(Clone)]
pub struct Stores {
    pub incidents: Arc<dyn Store>,
    pub auth: Arc<dyn AuthStore>,
    pub notify: Arc<dyn NotifyStore>,
    pub plans: Arc<dyn PlanStore>,
}

impl Stores {
    /// All four from one store that implements them.
    pub fn of<S: Store + AuthStore + NotifyStore + PlanStore + 'static>(store: Arc<S>) -> Stores {
        Stores {
            incidents: store.clone(),
            auth: store.clone(),
            plans: store.clone(),
            notify: store,
        }
    }
}

impl AppState {
    /// The pipeline, locked, for a write stamped with the network's time;
    /// refused before the pipeline has one (it ingests its first minute
    /// shortly after start): stamped 0, the write would be lost to every
    /// window it belongs in. `again` says what to resend.
    pub(crate) async fn live_for_write(
        &self,
        again: &str,
    ) -> Result<tokio::sync::MutexGuard<'_, Live>, ApiError> {
        let live = self.live.lock().await;
        if live.now() == 0 {
            return Err(ApiError::Unavailable(format!(
                "the pipeline has not ingested its first minute yet: send {again} again shortly"
            )));
        }
        Ok(live)
    }

    /// The state around `live`, which it puts behind the lock that the live
    /// loop ([`live::run_paced`], given [`AppState::live`]) and operator
    /// actions share.
    pub fn new(
        published: Arc<Published>,
        live: Live,
        stores: Stores,
        notify: NotifyConfig,
        config: ServerConfig,
    ) -> Result<AppState, dialtone_auth::AuthError> {
        let random = dialtone_auth::random_secret()?;
        let dummy_hash = dialtone_auth::hash_password(&random)?;
        Ok(AppState {
            published,
            regions: live.regions().into(),
            page_name: live.page().name.as_str().into(),
            last_snapshot: Arc::new(LastSnapshot::new(Snapshot::of(&live))),
            report_writes: Arc::default(),
            deliveries: Arc::default(),
            live: Arc::new(Mutex::new(live)),
            store: stores.incidents,
            auth: stores.auth,
            notify_store: stores.notify,
            plans: stores.plans,
            notify: Arc::new(notify),
            limits: Arc::new(Limits {
                public: RateLimiter::new(config.public_rate),
                signed: RateLimiter::new(config.public_rate),
                login: RateLimiter::new(config.login_rate),
                reports: RateLimiter::new(config.report_rate),
                subscribe: RateLimiter::new(config.subscribe_rate),
                trusted_proxies: (config.trusted_proxies.iter())
                    .map(|ip| ip.to_canonical())
                    .collect(),
            }),
            config: Arc::new(config),
            dummy_hash: dummy_hash.into(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
        })
    }

    /// What the pipeline writes to after a change.
    pub fn sinks(&self) -> live::Sinks {
        live::Sinks {
            store: self.store.clone(),
            notify_store: self.notify_store.clone(),
            notify: self.notify.clone(),
            published: self.published.clone(),
            last_snapshot: self.last_snapshot.clone(),
            report_writes: self.report_writes.clone(),
        }
    }
}

/// The HTTP methods routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, rate limited per client IP.
    Public,
    /// A user with at least this role, by API token or session (+ CSRF for writes).
    Signed(Role),
}

/// One row of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    pub verb: Verb,
    pub path: &'static str,
    pub access: Access,
    /// A page for people: anonymous GETs are sent to `/login` instead of a 401.
    pub browser: bool,
}

fn route<H, T>(
    verb: Verb,
    path: &'static str,
    access: Access,
    handler: H,
) -> (RouteSpec, MethodRouter<AppState>)
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let spec = RouteSpec {
        verb,
        path,
        access,
        browser: path == "/console" || path.starts_with("/console/") || path == "/logout",
    };
    (spec, on(verb.filter(), handler))
}

/// Every route with its handler: the only place routes are declared.
fn table() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::{Public, Signed};
    use Role::{Admin, Operator, Viewer};
    use Verb::{Get, Post};
    vec![
        route(Get, "/", Public, status_page),
        route(Get, "/api/v2/{*file}", Public, public_json),
        route(Get, "/history.atom", Public, history_atom),
        route(Get, "/history.rss", Public, history_rss),
        route(Get, "/incidents/{id}", Public, incident_page),
        route(Get, "/healthz", Public, || async { "ok" }),
        route(Get, "/report", Public, reports::form),
        route(Post, "/report", Public, reports::report),
        route(Get, "/subscribe", Public, subscribe::form),
        route(Post, "/subscribe", Public, subscribe::subscribe),
        route(Get, "/subscribe/confirm", Public, subscribe::confirm_page),
        route(Post, "/subscribe/confirm", Public, subscribe::confirm),
        route(Get, "/unsubscribe", Public, subscribe::unsubscribe_page),
        route(Post, "/unsubscribe", Public, subscribe::unsubscribe),
        route(Get, "/login", Public, access::login_page),
        route(Post, "/login", Public, access::login),
        route(Get, "/login/link", Public, access::login_link_page),
        route(Post, "/login/link", Public, access::login_link),
        route(Post, "/logout", Signed(Viewer), access::logout),
        route(Get, "/logout", Signed(Viewer), api::to_console),
        route(Get, "/console", Signed(Viewer), api::console_page),
        route(Get, "/console/incidents", Signed(Viewer), api::to_console),
        route(
            Get,
            "/console/incidents/{id}",
            Signed(Viewer),
            api::to_incident,
        ),
        route(
            Post,
            "/console/incidents",
            Signed(Operator),
            api::console_declare,
        ),
        route(
            Post,
            "/console/incidents/{id}",
            Signed(Operator),
            api::console_act,
        ),
        route(
            Get,
            "/console/incidents/{id}/postmortem",
            Signed(Viewer),
            api::postmortem,
        ),
        route(Get, "/api/v1/me", Signed(Viewer), api::me),
        route(Get, "/api/v1/incidents", Signed(Viewer), api::list),
        route(Post, "/api/v1/incidents", Signed(Operator), api::declare),
        route(Get, "/api/v1/incidents/{id}", Signed(Viewer), api::get),
        route(
            Post,
            "/api/v1/incidents/{id}/acknowledge",
            Signed(Operator),
            api::acknowledge,
        ),
        route(
            Post,
            "/api/v1/incidents/{id}/assign",
            Signed(Operator),
            api::assign,
        ),
        route(
            Post,
            "/api/v1/incidents/{id}/updates",
            Signed(Operator),
            api::update,
        ),
        route(
            Post,
            "/api/v1/incidents/{id}/severity",
            Signed(Operator),
            api::severity,
        ),
        route(
            Post,
            "/api/v1/incidents/{id}/resolve",
            Signed(Operator),
            api::resolve,
        ),
        route(
            Post,
            "/api/v1/incidents/{id}/merge",
            Signed(Operator),
            api::merge,
        ),
        route(
            Post,
            "/api/v1/incidents/{id}/approve",
            Signed(Operator),
            api::approve,
        ),
        route(Get, "/api/v1/subscribers", Signed(Admin), subscribe::list),
        route(Get, "/api/v1/outbox", Signed(Admin), subscribe::outbox),
        route(
            Post,
            "/api/v1/changes",
            Signed(Operator),
            api::record_change,
        ),
        route(Get, "/api/v1/watches", Signed(Viewer), api::watches),
        route(Post, "/api/v1/watches", Signed(Operator), api::watch_event),
        route(Get, "/api/v1/audit", Signed(Admin), api::audit_log),
        route(Get, "/metrics", Signed(Viewer), metrics::metrics),
        route(Post, "/api/v1/alerts", Signed(Operator), alerts::receive),
    ]
}

/// The route table, for tests and documentation that must cover every route.
pub fn routes() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}

/// The whole HTTP application; tests drive it in-process with `oneshot`.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in table() {
        let signed = matches!(spec.access, Access::Signed(_));
        let guarded = match spec.access {
            Access::Public => handler,
            Access::Signed(role) => handler.route_layer(from_fn_with_state(
                access::Gate {
                    state: state.clone(),
                    role,
                    browser: spec.browser,
                },
                access::require,
            )),
        };
        // Every route, and before anyone is signed in: each guess at a token
        // or a session costs a database lookup.
        let budget = access::Budget {
            limits: state.limits.clone(),
            signed,
        };
        let guarded = guarded.route_layer(from_fn_with_state(budget, access::rate_limit));
        router = router.route(spec.path, guarded);
    }
    router
        .fallback(|| async { ApiError::NotFound("no such page".into()) })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::MethodNotAllowed(method.to_string())
        })
        // 503, not 408: a request runs out of time mostly waiting on us
        // (the pipeline's lock, the database). A body still arriving after
        // the timeout gets the same answer: bodies are at most 64 KiB, or
        // Alertmanager's 4 MiB from the operator's own network.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(REQUEST_TIMEOUT_SECS),
        ))
        // Outermost, so the middleware's own answers (413, 503) carry them too.
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                // No page of ours is meant to be framed: framed, a console
                // button could be clicked by a visitor tricked by another site.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    page_policy,
                )),
        )
        .with_state(state)
}

/// What an HTML page of ours may load: its inline `<style>` and nothing
/// else (the pages have no scripts, images or fonts), and its forms post
/// only back to us. Other answers need no policy: nothing in them runs.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                           base-uri 'none'; frame-ancestors 'none'";

fn page_policy<B>(resp: &Response<B>) -> Option<HeaderValue> {
    let html = (resp.headers().get(header::CONTENT_TYPE))
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    html.then(|| HeaderValue::from_static(PAGE_POLICY))
}

/// Whether `If-None-Match` names `etag` (RFC 9110: a list of tags, each
/// maybe weak, or `*`; compared weakly, as a GET is).
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Serves pre-rendered bytes with an ETag and short public caching that lets
/// caches keep serving a stale copy if we fail.
fn cached(
    headers: &HeaderMap,
    etag: &str,
    content_type: &'static str,
    body: axum::body::Bytes,
) -> Response {
    let etag_value = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let cache = HeaderValue::from_static("public, max-age=10, stale-if-error=300");
    if none_match(headers, etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";
const RSS: &str = "application/rss+xml; charset=utf-8";

/// Public handlers extract the published documents alone rather than the whole
/// state, and borrow the request's headers rather than cloning them
/// (`HeaderMap` as an extractor is a copy): they run on every public request.
impl FromRef<AppState> for Arc<Published> {
    fn from_ref(state: &AppState) -> Self {
        state.published.clone()
    }
}

async fn status_page(State(published): State<Arc<Published>>, req: Request) -> Response {
    let r = published.current();
    cached(req.headers(), &r.etag, HTML, r.status_html.clone())
}

async fn history_atom(State(published): State<Arc<Published>>, req: Request) -> Response {
    let r = published.current();
    cached(req.headers(), &r.etag, ATOM, r.history_atom.clone())
}

async fn history_rss(State(published): State<Arc<Published>>, req: Request) -> Response {
    let r = published.current();
    cached(req.headers(), &r.etag, RSS, r.history_rss.clone())
}

/// One incident's public page: where `shortlink` and the feeds' links
/// point. One that is not there is a page too: a browser followed a link.
async fn incident_page(
    State(published): State<Arc<Published>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let r = published.current();
    let page = id
        .parse::<u64>()
        .ok()
        .and_then(|id| r.incident_pages.get(&id));
    match page {
        Some(body) => cached(req.headers(), &r.etag, HTML, body.clone()),
        None => subscribe::error_page(
            &ApiError::NotFound(format!("There is no incident {id} on this status page.")),
            "No such incident",
            "<p>The status page lists the open incidents and the recent ones.</p>",
        ),
    }
}

/// Every Statuspage v2 document, by its path under `/api/v2/`.
async fn public_json(
    State(published): State<Arc<Published>>,
    Path(file): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let r = published.current();
    let body = match file.as_str() {
        "summary.json" => &r.summary_json,
        "status.json" => &r.status_json,
        "components.json" => &r.components_json,
        "incidents.json" => &r.incidents_json,
        "incidents/unresolved.json" => &r.unresolved_json,
        "scheduled-maintenances.json" => &r.maintenances_json,
        "scheduled-maintenances/upcoming.json" => &r.upcoming_maintenances_json,
        "scheduled-maintenances/active.json" => &r.active_maintenances_json,
        _ => return Err(ApiError::NotFound(format!("no such file /api/v2/{file}"))),
    };
    let mut resp = cached(req.headers(), &r.etag, JSON, body.clone());
    // Public data, read by status widgets on other sites, as Statuspage's is.
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(resp)
}
