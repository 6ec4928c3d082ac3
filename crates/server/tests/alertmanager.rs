//! A real Alertmanager (Debian's `prometheus-alertmanager`) sends a probe's
//! alert to `POST /api/v1/alerts` with an API token, and the engine opens an
//! incident on the element it names. Runs when `DIALTONE_PROMETHEUS_TESTS` is
//! set, as `scripts/test` does after installing the Prometheus stack.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Running, Served, first_cell, free_port, harness, http_post_json, live_after};
use dialtone_auth::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_delivers_a_probe_alert_that_opens_an_incident() {
    if std::env::var_os("DIALTONE_PROMETHEUS_TESTS").is_none() {
        eprintln!("skipped: set DIALTONE_PROMETHEUS_TESTS=1 (scripts/test does) to run");
        return;
    }
    let live = live_after(90);
    let cell = first_cell(&live);
    let h = harness(live).await;
    let token = h.token("alertmanager", Role::Operator).await;
    let served = Served::start(h.router()).await;
    let dialtone = served.addr;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  \
               receiver: dialtone\n  \
               group_wait: 1s\n  \
               group_interval: 1s\n\
             receivers:\n  \
               - name: dialtone\n    \
                 webhook_configs:\n      \
                   - url: http://{dialtone}/api/v1/alerts\n        \
                     http_config:\n          \
                       authorization:\n            \
                         credentials: {token}\n"
        ),
    )
    .unwrap();
    let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
    let _alertmanager = Running(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            // One instance: no gossip port to collide with anything.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus-alertmanager is installed (scripts/test installs Debian's)"),
    );

    // Alertmanager starts and takes the alert a blackbox probe's rule would fire.
    let alert = serde_json::json!([{
        "labels": {"alertname": "TestCallsFailing", "element": cell, "service": "voice,data"},
        "annotations": {"summary": "test calls from the probe fail"},
    }])
    .to_string();
    let until = Instant::now() + Duration::from_secs(60);
    let mut posted = None;
    while posted.is_none() && Instant::now() < until {
        let alert = alert.clone();
        posted = tokio::task::spawn_blocking(move || http_post_json(web, "/api/v2/alerts", &alert))
            .await
            .unwrap();
        if posted.is_none() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // It notifies Dialtone after its group wait; each minute the pipeline
    // steps, the probe counts, and a small fault opens after a few minutes
    // and names its cause a little later.
    let mut opened = None;
    while opened.is_none() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut live = h.state.live.lock().await;
        live.step();
        opened = (live.run().engine().incidents().first()).and_then(|i| i.root_cause.clone());
    }
    served.stop().await;
    let log = std::fs::read_to_string(dir.path().join("alertmanager.log")).unwrap();
    assert!(
        posted.is_some(),
        "Alertmanager never answered; its log:\n{log}"
    );
    assert_eq!(opened, Some(cell), "Alertmanager's log:\n{log}");
}
