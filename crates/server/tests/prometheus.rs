//! A real Prometheus (Debian's `prometheus`) scrapes `/metrics` with an API
//! token and stores what it read. Runs when `DIALTONE_PROMETHEUS_TESTS` is
//! set, as `scripts/test` does after installing Prometheus.

mod common;

use std::net::SocketAddr;

use common::{Served, Tool, harness, http_get, live_after, poll, prometheus_tests_enabled};
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
    if !prometheus_tests_enabled() {
        return;
    }
    let minutes = 20;
    let live = live_after(minutes);
    let series = live.run().engine().series().len();
    let h = harness(live).await;
    let token = h.token("prometheus", Role::Viewer).await;
    let served = Served::start(h.router()).await;
    let dialtone = served.addr;
    let prometheus = Tool::start(
        "prometheus",
        &format!(
            "scrape_configs:\n  \
               - job_name: dialtone\n    \
                 scrape_interval: 1s\n    \
                 authorization:\n      \
                   type: Bearer\n      \
                   credentials: {token}\n    \
                 static_configs:\n      \
                   - targets: ['{dialtone}']\n"
        ),
        "--storage.tsdb.path",
        &[],
    );

    // Prometheus starts, scrapes every second, and answers queries.
    let web = prometheus.web;
    let scraped = poll(move || query(web, "dialtone_series")).await;
    let read = |promql: &'static str| tokio::task::spawn_blocking(move || query(web, promql));
    let (up, ingested) = (
        read("up").await.unwrap(),
        read("dialtone_ingest_minutes_total").await.unwrap(),
    );
    served.stop().await;
    assert_eq!(scraped, Some(series as f64), "{}", prometheus.log());
    assert_eq!(up, Some(1.0));
    assert_eq!(ingested, Some(f64::from(minutes)));
}
