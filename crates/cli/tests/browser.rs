//! A real headless Chromium, driven over WebDriver by Debian's chromedriver,
//! walks the demo: a visitor subscribes a webhook, the status page switches
//! from healthy to an incident naming the affected services, an operator
//! signs in to the console, which explains it, acknowledges the incident and
//! publishes an update, and the status page shows the update.
//!
//! Runs only where the test command set DIALTONE_BROWSER_TESTS=1 (it installs
//! `chromium` and `chromium-driver`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// A child process killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_quiet(command: &mut Command) -> Killed {
    Killed(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}")),
    )
}

/// Starts chromedriver and opens a headless Chromium session through it.
async fn browser(profile: &std::path::Path) -> (Killed, Client) {
    let port = free_port();
    let driver = spawn_quiet(
        Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}")),
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let started = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) if started.elapsed() < Duration::from_secs(30) => {
                eprintln!("waiting for chromedriver: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("chromedriver did not start a session: {e}"),
        }
    }
}

/// Reloads `url` until the text of `css` satisfies `wanted`, and returns it.
async fn wait_for_text(
    client: &Client,
    url: &str,
    css: &str,
    limit: Duration,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < limit {
        if client.goto(url).await.is_ok()
            && let Ok(element) = client.find(Locator::Css(css)).await
        {
            last = element.text().await.unwrap_or_default();
            if wanted(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("gave up after {limit:?} waiting on {url} ({css}); last text: {last}");
}

/// Waits, without navigating, until the text of `css` on the page the
/// browser lands on (after a form submission, say) satisfies `wanted`.
async fn wait_here(client: &Client, css: &str, wanted: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if wanted(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("gave up waiting on the current page ({css}); last text: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_walks_subscribe_incident_sign_in_acknowledge_and_publish() {
    if std::env::var("DIALTONE_BROWSER_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set DIALTONE_BROWSER_TESTS=1 (scripts/test does) to run the browser test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    // The console needs a signed-in user: add one the way an operator would.
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "correct horse battery staple\n").unwrap();
    let added = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args([
            "user",
            "add",
            "otto",
            "--role",
            "operator",
            "--password-file",
        ])
        .arg(&password_file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // No automatic failover: the incident must stay open while the operator acts.
    let config = dir.path().join("dialtone.toml");
    std::fs::write(&config, "[playbook]\nmitigations = []\n").unwrap();
    let _demo = spawn_quiet(
        Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["demo", "--listen", &listen, "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&config)
            .args(["--cells", "120", "--warmup-hours", "8", "--speed", "120"])
            .args(["--fault-after-mins", "60", "--fault-mins", "600"]),
    );
    let (_driver, client) = browser(&dir.path().join("chromium")).await;
    let page = format!("http://{listen}/");

    // Looked at first: the fault is a simulated hour (30 s at this speed)
    // after the demo starts serving, room for a slow browser start.
    let healthy = wait_for_text(&client, &page, "#status", Duration::from_secs(120), |t| {
        !t.is_empty()
    })
    .await;
    assert!(
        healthy.contains("All Systems Operational"),
        "healthy before the fault, got: {healthy}"
    );

    // A visitor subscribes a webhook through the form.
    let subscribe = format!("http://{listen}/subscribe");
    wait_for_text(&client, &subscribe, "h1", Duration::from_secs(120), |t| {
        t.contains("Get notified")
    })
    .await;
    let form = client.form(Locator::Css("form")).await.unwrap();
    form.set_by_name("webhook", "https://hooks.example.invalid/status")
        .await
        .unwrap();
    form.submit().await.unwrap();
    let answer = wait_here(&client, "body", |t| t.contains("subscribed")).await;
    assert!(
        answer.contains("Webhook subscribed") && answer.contains("X-Dialtone-Signature"),
        "the subscription is confirmed with its signing secret: {answer}"
    );

    let body = wait_for_text(&client, &page, "body", Duration::from_secs(120), |t| {
        t.contains("disrupted in")
    })
    .await;
    let banner = client.find(Locator::Css("#status")).await.unwrap();
    assert!(
        !banner
            .text()
            .await
            .unwrap()
            .contains("All Systems Operational")
    );
    assert!(
        ["Network access", "Calls", "Mobile data"]
            .iter()
            .any(|service| body.contains(service)),
        "the incident names an affected service: {body}"
    );

    client
        .goto(&format!("http://{listen}/console"))
        .await
        .unwrap();
    assert!(
        client.current_url().await.unwrap().path() == "/login",
        "the console sends strangers to the sign-in page"
    );
    let form = client.form(Locator::Css("#login")).await.unwrap();
    form.set_by_name("username", "otto").await.unwrap();
    form.set_by_name("password", "correct horse battery staple")
        .await
        .unwrap();
    form.submit().await.unwrap();
    // Wait for the sign-in's answer before navigating: a `goto` while the
    // POST is still in flight (argon2 is slow in a debug build on a busy
    // machine) abandons it, and with it the session cookie.
    wait_here(&client, "body", |t| !t.contains("Password")).await;
    let console = format!("http://{listen}/console");
    // Until the timeline says the cause is named: candidates are ranked each
    // minute, but a leader is named only once it has held for two.
    let ranking = wait_for_text(&client, &console, "body", Duration::from_secs(60), |t| {
        t.contains("root cause: sw-amf-")
    })
    .await;
    let mut causes = Vec::new();
    for cause in client
        .find_all(Locator::Css("[id^=\"root-cause-\"]"))
        .await
        .unwrap()
    {
        causes.push(cause.text().await.unwrap());
    }
    assert!(
        causes.iter().any(|c| c.starts_with("sw-amf-")),
        "an incident names the faulty version as its root cause: {causes:?} in {ranking}"
    );
    // Data rows only: the table's header row has no `td`.
    let candidates = client
        .find_all(Locator::Css(".candidates td:first-child"))
        .await
        .unwrap();
    assert!(candidates.len() >= 2, "a ranking, not a single guess");
    let charts = client.find_all(Locator::Css("svg polyline")).await.unwrap();
    assert!(!charts.is_empty(), "KPI charts are drawn");

    // The operator acknowledges, then publishes an update...
    client
        .form(Locator::Css("form.acknowledge"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    // Each form answers with a redirect to the console: wait for it there
    // rather than navigate, which could abandon the POST in flight.
    let acknowledged = wait_here(&client, "body", |t| t.contains("Acknowledged by otto")).await;
    assert!(
        acknowledged.contains("acknowledged by otto"),
        "the timeline records it"
    );
    let words = "Engineers are moving traffic to the standby core; next update in 30 minutes.";
    let update = client.form(Locator::Css("form.update")).await.unwrap();
    update.set_by_name("body", words).await.unwrap();
    update.submit().await.unwrap();
    wait_here(&client, "body", |t| t.contains("update by otto")).await;

    // ...and the public page shows it.
    wait_for_text(&client, &page, "body", Duration::from_secs(30), |t| {
        t.contains(words)
    })
    .await;

    client.close().await.unwrap();
}
