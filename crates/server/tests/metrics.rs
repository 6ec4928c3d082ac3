//! `/metrics`: the OpenMetrics text a Prometheus scrapes, from the live pipeline.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{authed, get, harness, live_after, live_with_incident, sample, send};
use dialtone_auth::Role;

#[tokio::test]
async fn metrics_count_what_the_pipeline_ingested() {
    let minutes = 30;
    let live = live_after(minutes);
    let (series, samples_a_minute) = (
        live.run().engine().series().len(),
        live.run().samples().len(),
    );
    let now = live.now();
    let h = harness(live).await;
    let token = h.token("prometheus", Role::Viewer).await;

    let r = send(h.router(), authed("GET", "/metrics", &token, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = &r.body;
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains(&format!(
            "dialtone_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert_eq!(
        sample(text, "dialtone_ingest_minutes_total"),
        f64::from(minutes)
    );
    // The twin's series all report every minute before its outage.
    assert_eq!(
        sample(text, "dialtone_ingest_samples_total"),
        (minutes as usize * samples_a_minute) as f64
    );
    assert!(sample(text, "dialtone_ingest_seconds_total") > 0.0);
    assert_eq!(sample(text, "dialtone_network_time_seconds"), now as f64);
    assert_eq!(sample(text, "dialtone_series"), series as f64);
    for severity in ["none", "minor", "major", "critical"] {
        let open = format!("dialtone_incidents_open{{severity=\"{severity}\"}}");
        assert_eq!(sample(text, &open), 0.0, "a quiet half hour");
    }
    assert_eq!(sample(text, "dialtone_incidents_unsaved"), 0.0);
    assert_eq!(sample(text, "dialtone_store_save_failures_total"), 0.0);
}

#[tokio::test]
async fn metrics_count_open_incidents_by_severity_and_need_a_token() {
    let live = live_with_incident();
    let engine = live.run().engine();
    let open: Vec<_> = (engine.incidents().iter())
        .filter(|i| i.status.is_open())
        .collect();
    assert!(!open.is_empty());
    let severity = open[0].severity.as_str();
    let expected = open
        .iter()
        .filter(|i| i.severity.as_str() == severity)
        .count();
    let broken = engine.broken_series().len();
    let h = harness(live).await;

    assert_eq!(
        get(h.router(), "/metrics").await.status,
        StatusCode::UNAUTHORIZED
    );
    let token = h.token("prometheus", Role::Viewer).await;
    let text = send(h.router(), authed("GET", "/metrics", &token, None))
        .await
        .body;
    let open = format!("dialtone_incidents_open{{severity=\"{severity}\"}}");
    assert_eq!(sample(&text, &open), expected as f64, "{text}");
    assert_eq!(sample(&text, "dialtone_series_broken"), broken as f64);
    assert!(broken > 0, "the outage breaks series");
}

/// A scrape must not wait on the pipeline: a save to an unreachable store
/// holds its lock for as long as the store takes, and a scrape stuck behind
/// it would time out just when the watcher's health matters most.
#[tokio::test]
async fn a_scrape_while_the_pipeline_is_busy_answers_with_its_last_settled_snapshot() {
    let h = harness(live_after(30)).await;
    let token = h.token("prometheus", Role::Viewer).await;
    let minutes = async || {
        let scrape = send(h.router(), authed("GET", "/metrics", &token, None));
        // Only a guard against the scrape waiting forever on the lock this
        // test holds: an answer comes at once or not at all.
        let r = tokio::time::timeout(Duration::from_secs(60), scrape)
            .await
            .expect("the scrape waited on the pipeline's lock");
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        sample(&r.body, "dialtone_ingest_minutes_total")
    };

    let mut live = h.state.live.lock().await;
    live.step();
    assert_eq!(minutes().await, 30.0, "the minute is not settled yet");
    live.settle(&h.state.sinks()).await;
    assert_eq!(minutes().await, 31.0, "settled, the lock still held");
    live.step();
    drop(live);
    assert_eq!(
        minutes().await,
        32.0,
        "the lock free: read from the pipeline"
    );
    let _busy = h.state.live.lock().await;
    assert_eq!(
        minutes().await,
        32.0,
        "what a scrape read once, a busy scrape never reads lower"
    );
}
