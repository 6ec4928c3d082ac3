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

    /// Every subscriber the store holds, in id order.
    pub async fn subscribers(&self) -> Vec<dialtone_store::Subscriber> {
        (self.state.notify_store)
            .subscribers_after(i64::MIN, u32::MAX)
            .await
            .expect("subscribers")
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

/// Declares an incident by hand over the API with `token`; its id.
pub async fn declare(h: &Harness, token: &str, title: &str) -> u64 {
    let body = serde_json::json!({"title": title, "body": "Investigating.", "severity": "major"});
    let declared = send(
        h.router(),
        authed("POST", "/api/v1/incidents", token, Some(body)),
    )
    .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    declared.json()["incident"]["id"].as_u64().unwrap()
}

/// Follows a mail's link as a person does: the page it leads to must be one
/// button, and pressing it posts the link's token to the form's action.
pub async fn press_link_button(router: Router, path: &str) -> Reply {
    let shown = get(router.clone(), path).await;
    assert_page(&shown, StatusCode::OK, &["<button type=\"submit\">"]);
    let between = |from: &str| {
        let at = shown
            .body
            .find(from)
            .unwrap_or_else(|| panic!("{from}: {}", shown.body))
            + from.len();
        shown.body[at..].split('"').next().unwrap().to_string()
    };
    let (action, token) = (between("action=\""), between("name=\"token\" value=\""));
    let press = Request::post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}")))
        .unwrap();
    send(router, press).await
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

/// Stops the program it holds (a Prometheus, an Alertmanager, an SMTP
/// server) when the test ends, passed or not.
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
/// its reply); the reply's body if its status is a success.
fn http(addr: SocketAddr, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?;
    status.starts_with('2').then(|| body.to_owned())
}

/// Whether the tests against the real Prometheus stack run: when
/// `DIALTONE_PROMETHEUS_TESTS` is set, as `scripts/test` does after
/// installing it. Says so when they do not.
pub fn prometheus_tests_enabled() -> bool {
    let enabled = std::env::var_os("DIALTONE_PROMETHEUS_TESTS").is_some();
    if !enabled {
        eprintln!("skipped: set DIALTONE_PROMETHEUS_TESTS=1 (scripts/test does) to run");
    }
    enabled
}

/// A program of the Prometheus stack (Debian's `prometheus`,
/// `prometheus-alertmanager`) run for a test: its config, storage and log in
/// a temporary directory, its web server on a free port; stopped on drop.
pub struct Tool {
    pub web: SocketAddr,
    program: &'static str,
    dir: tempfile::TempDir,
    _process: Running,
}

impl Tool {
    /// Starts `program` with `config` as its `--config.file`, `storage_flag`
    /// pointing into its directory, its web server on a free port, and `extra`.
    pub fn start(program: &'static str, config: &str, storage_flag: &str, extra: &[&str]) -> Tool {
        let dir = tempfile::tempdir().unwrap();
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let process = std::process::Command::new(program)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "{storage_flag}={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{program} starts (scripts/test installs Debian's): {e}"));
        Tool {
            web,
            program,
            dir,
            _process: Running(process),
        }
    }

    /// What it logged so far, for a failed assertion.
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        format!("{}'s log:\n{log}", self.program)
    }
}

/// `f` (blocking I/O, run off the async threads) every 250 ms until it gives
/// something or a minute has passed.
pub async fn poll<T: Send + 'static>(
    f: impl Fn() -> Option<T> + Clone + Send + 'static,
) -> Option<T> {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = tokio::task::spawn_blocking(f.clone()).await.unwrap();
        if got.is_some() || std::time::Instant::now() > until {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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

/// The value of the OpenMetrics sample line `name` (with its labels, if any) in `text`.
pub fn sample(text: &str, name: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .unwrap_or_else(|| panic!("no sample `{name}` in:\n{text}"));
    line[name.len()..].trim().parse().unwrap()
}
