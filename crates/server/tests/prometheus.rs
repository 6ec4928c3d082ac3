//! A real Prometheus (Debian's `prometheus`) scrapes `/metrics` with an API
//! token and stores what it read. Runs when `DIALTONE_PROMETHEUS_TESTS` is
//! set, as `scripts/test` does after installing Prometheus.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Running, Served, free_port, harness, http_get, live_after};
use dialtone_auth::Role;

/// The value of an instant query's single sample, once Prometheus has one.
fn query(prometheus: SocketAddr, promql: &str) -> Option<f64> {
    let body = http_get(prometheus, &format!("/api/v1/query?query={promql}"))?;
    let reply: serde_json::Value = serde_json::from_str(&body).ok()?;
    let value = reply["data"]["result"].get(0)?["value"][1].as_str()?;
    value.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_metrics_with_a_token() {
    if std::env::var_os("DIALTONE_PROMETHEUS_TESTS").is_none() {
        eprintln!("skipped: set DIALTONE_PROMETHEUS_TESTS=1 (scripts/test does) to run");
        return;
    }
    let minutes = 20;
    let live = live_after(minutes);
    let series = live.run().engine().series().len();
    let h = harness(live).await;
    let token = h.token("prometheus", Role::Viewer).await;
    let served = Served::start(h.router()).await;
    let dialtone = served.addr;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "scrape_configs:\n  \
               - job_name: dialtone\n    \
                 scrape_interval: 1s\n    \
                 authorization:\n      \
                   type: Bearer\n      \
                   credentials: {token}\n    \
                 static_configs:\n      \
                   - targets: ['{dialtone}']\n"
        ),
    )
    .unwrap();
    let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Running(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus is installed (scripts/test installs Debian's)"),
    );

    // Prometheus starts, scrapes every second, and answers queries.
    let until = Instant::now() + Duration::from_secs(60);
    let scraped = loop {
        let got = tokio::task::spawn_blocking(move || query(web, "dialtone_series"))
            .await
            .unwrap();
        if got.is_some() || Instant::now() > until {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let read = |promql: &'static str| tokio::task::spawn_blocking(move || query(web, promql));
    let (up, ingested) = (
        read("up").await.unwrap(),
        read("dialtone_ingest_minutes_total").await.unwrap(),
    );
    served.stop().await;
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap();
    assert_eq!(scraped, Some(series as f64), "Prometheus's log:\n{log}");
    assert_eq!(up, Some(1.0));
    assert_eq!(ingested, Some(f64::from(minutes)));
}
