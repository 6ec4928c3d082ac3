//! A real Alertmanager (Debian's `prometheus-alertmanager`) sends a probe's
//! alert to `POST /api/v1/alerts` with an API token, and the engine opens an
//! incident on the element it names. Runs when `DIALTONE_PROMETHEUS_TESTS` is
//! set, as `scripts/test` does after installing the Prometheus stack.

mod common;

use std::time::{Duration, Instant};

use common::{
    Served, Tool, first_cell, harness, http_post_json, live_after, poll, prometheus_tests_enabled,
};
use dialtone_auth::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_delivers_a_probe_alert_that_opens_an_incident() {
    if !prometheus_tests_enabled() {
        return;
    }
    let live = live_after(90);
    let cell = first_cell(&live);
    let h = harness(live).await;
    let token = h.token("alertmanager", Role::Operator).await;
    let served = Served::start(h.router()).await;
    let dialtone = served.addr;

    let alertmanager = Tool::start(
        "prometheus-alertmanager",
        &format!(
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
        "--storage.path",
        // One instance: no gossip port to collide with anything.
        &["--cluster.listen-address="],
    );

    // Alertmanager starts and takes the alert a blackbox probe's rule would fire.
    let alert = serde_json::json!([{
        "labels": {"alertname": "TestCallsFailing", "element": cell, "service": "voice,data"},
        "annotations": {"summary": "test calls from the probe fail"},
    }])
    .to_string();
    let web = alertmanager.web;
    let posted = poll(move || http_post_json(web, "/api/v2/alerts", &alert)).await;
    // It notifies Dialtone after its group wait; each minute the pipeline
    // steps, the probe counts, and a small fault opens after a few minutes
    // and names its cause a little later.
    let until = Instant::now() + Duration::from_secs(60);
    let mut opened = None;
    while opened.is_none() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut live = h.state.live.lock().await;
        live.step();
        opened = (live.run().engine().incidents().first()).and_then(|i| i.root_cause.clone());
    }
    served.stop().await;
    assert!(
        posted.is_some(),
        "Alertmanager never took the alert; {}",
        alertmanager.log()
    );
    assert_eq!(opened, Some(cell), "{}", alertmanager.log());
}
