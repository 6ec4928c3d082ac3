//! What the server's integration tests share: a pipeline, an app with a real
//! SQLite store, and users with tokens.

#![allow(dead_code)] // each test file uses its own subset

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use dialtone_auth::{Role, new_token};
use dialtone_drill::Run;
use dialtone_engine::{EngineConfig, Incident};
use dialtone_notify::NotifyConfig;
use dialtone_respond::Playbook;
use dialtone_server::live::Live;
use dialtone_server::{AppState, Published, ServerConfig, Stores, app};
use dialtone_sim::TwinConfig;
use dialtone_statuspage::PageInfo;
use dialtone_store::{AuthStore, SqliteStore};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn twin() -> TwinConfig {
    let base = TwinConfig::default();
    TwinConfig {
        seed: 2,
        cells: 60,
        fault_at: base.start + 6 * 3600,
        ..base
    }
}

/// A pipeline that has run `minutes` simulated minutes.
pub fn live_after(minutes: u32) -> Live {
    resumed_after(Vec::new(), minutes)
}

/// A pipeline started over `earlier` runs' incidents (as a restarted server
/// loads them from its store) that has run `minutes` simulated minutes.
pub fn resumed_after(earlier: Vec<Incident>, minutes: u32) -> Live {
    let mut run = Run::new(twin(), EngineConfig::default(), 1).unwrap();
    run.continue_numbering_from(earlier.iter().map(|i| i.id + 1).max().unwrap_or(1));
    // Everything public at once, as most of these tests look at the page.
    let playbook = Playbook {
        auto_publish_at: dialtone_model::Severity::Minor,
        ..Playbook::default()
    };
    let mut live = Live::new(run, earlier, PageInfo::default(), playbook);
    for _ in 0..minutes {
        live.step();
    }
    live
}

/// A live pipeline stepped until the twin's outage has an identified incident.
pub fn live_with_incident() -> Live {
    let live = live_after(6 * 60 + 5);
    assert!(
        !live.run().engine().incidents().is_empty(),
        "the outage opened an incident"
    );
    live
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub state: AppState,
}

impl Harness {
    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    /// A user with `role` and an API token for it.
    pub async fn token(&self, name: &str, role: Role) -> String {
        let user = self.store.add_user(name, role, None, 0).await.unwrap();
        let t = new_token().unwrap();
        self.store
            .add_token(user.id, &t.id, &t.secret_hash, "test", 0)
            .await
            .unwrap();
        t.plaintext
    }
}

pub async fn harness_with(live: Live, config: ServerConfig) -> Harness {
    let notify = NotifyConfig {
        base_url: "http://127.0.0.1:8080".into(),
        ..NotifyConfig::default()
    };
    harness_notifying(live, config, notify).await
}

/// A harness whose notifications go where `notify` says.
pub async fn harness_notifying(
    mut live: Live,
    config: ServerConfig,
    notify: NotifyConfig,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let published = Arc::new(Published::new(live.render()));
    let state = AppState::new(
        published,
        live,
        Stores::of(Arc::new(store.clone())),
        notify,
        config,
    )
    .unwrap();
    Harness { dir, store, state }
}

pub async fn harness(live: Live) -> Harness {
    harness_with(live, ServerConfig::default()).await
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn send(router: Router, req: Request<Body>) -> Reply {
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub async fn get(router: Router, path: &str) -> Reply {
    send(router, Request::get(path).body(Body::empty()).unwrap()).await
}

/// A request with a Bearer token and, when given, a JSON body.
pub fn authed(
    method: &str,
    path: &str,
    token: &str,
    json: Option<serde_json::Value>,
) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    match json {
        Some(j) => b
            .header("content-type", "application/json")
            .body(Body::from(j.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

pub fn assert_page(r: &Reply, status: StatusCode, parts: &[&str]) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{}",
        r.body
    );
    for part in parts {
        assert!(r.body.contains(part), "{part}: {}", r.body);
    }
}

/// Stops the program it holds (a Prometheus, an Alertmanager) when the
/// test ends, passed or not.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on just now, for a program's own web server.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of `GET path` from `addr`, or none while nothing answers there.
pub fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    http(
        addr,
        &format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n"),
    )
}

/// The body of `POST path` with a JSON `body` to `addr`, or none while
/// nothing answers there.
pub fn http_post_json(addr: SocketAddr, path: &str, body: &str) -> Option<String> {
    let head = format!(
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    http(addr, &(head + body))
}

/// Sends a whole HTTP/1.0 `request` (the server closes the connection after
/// its reply); the reply's body.
fn http(addr: SocketAddr, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}

/// The app of a harness served on a free local port, as a real client (a
/// Prometheus, an Alertmanager) reaches it.
pub struct Served {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    pub async fn start(router: Router) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(dialtone_server::serve(
            listener,
            router,
            dialtone_server::HEADER_READ_TIMEOUT,
            async move {
                let _ = stopped.await;
            },
        ));
        Served { addr, stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

/// The id of the twin's first cell.
pub fn first_cell(live: &Live) -> String {
    (live.run().engine().topology().elements().iter())
        .find(|e| e.kind == dialtone_model::ElementKind::Cell)
        .expect("the twin has cells")
        .id
        .clone()
}
