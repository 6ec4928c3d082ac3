//! `POST /api/v1/alerts`: Alertmanager's webhook feeds probe alerts to the engine.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply, authed, first_cell, harness, live_after, sample, send};
use dialtone_auth::Role;
use dialtone_engine::ProbeAlert;
use dialtone_server::live::PROBE_STALE_SECS;
use dialtone_server::unix_now;
use dialtone_store::PlanStore;
use serde_json::json;

/// An Alertmanager (version 4) notification of `alerts`.
fn webhook(version: &str, alerts: serde_json::Value) -> serde_json::Value {
    json!({
        "version": version,
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "dialtone",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "notification_reason": "new_alerts",
        "alerts": alerts,
    })
}

fn alert(status: &str, labels: serde_json::Value) -> serde_json::Value {
    json!({
        "status": status,
        "labels": labels,
        "annotations": {"summary": "test calls fail"},
        "startsAt": "2026-01-05T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "c0ffee",
    })
}

/// Posts `body` to the receiver as `token`.
async fn post_alerts(h: &Harness, token: &str, body: serde_json::Value) -> Reply {
    send(
        h.router(),
        authed("POST", "/api/v1/alerts", token, Some(body)),
    )
    .await
}

/// A server an hour and a half into a healthy twin, the receiver's token
/// (an operator named `alertmanager`) and a cell its alerts can name.
async fn receiver() -> (Harness, String, String) {
    let live = live_after(90);
    let cell = first_cell(&live);
    let h = harness(live).await;
    let token = h.token("alertmanager", Role::Operator).await;
    (h, token, cell)
}

/// The server's `/metrics` text, read as `token`.
async fn metrics_text(h: &Harness, token: &str) -> String {
    send(h.router(), authed("GET", "/metrics", token, None))
        .await
        .body
}

#[tokio::test]
async fn a_flood_of_bad_alerts_is_counted_whole_and_named_in_part() {
    let (h, token, cell) = receiver().await;
    let mut alerts: Vec<_> = (0..5_000)
        .map(|i| alert("firing", json!({"alertname": format!("NoElement{i}")})))
        .collect();
    alerts.push(alert(
        "firing",
        json!({"alertname": "TestCallsFailing", "element": cell}),
    ));
    let r = post_alerts(&h, &token, webhook("4", json!(alerts))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let reply = r.json();
    assert_eq!(
        (&reply["accepted"], &reply["ignored_total"]),
        (&json!(1), &json!(5_000)),
        "the good alert after the flood still counts"
    );
    assert_eq!(reply["ignored"].as_array().unwrap().len(), 100);
    let metrics = metrics_text(&h, &token).await;
    assert_eq!(sample(&metrics, "dialtone_alerts_ignored_total"), 5_000.0);
}

#[tokio::test]
async fn a_firing_probe_alert_opens_an_incident_on_its_element() {
    let (h, token, cell) = receiver().await;
    let body = webhook(
        "4",
        json!([
            alert(
                "firing",
                json!({"alertname": "TestCallsFailing", "element": cell, "service": "voice,data"})
            ),
            alert("firing", json!({"alertname": "NoElement"})),
            alert(
                "firing",
                json!({"alertname": "Elsewhere", "element": "no-such-element"})
            ),
        ]),
    );
    let r = post_alerts(&h, &token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let reply = r.json();
    assert_eq!(reply["accepted"], 1, "{reply}");
    let reasons: Vec<&str> = (reply["ignored"].as_array().unwrap().iter())
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{reply}");
    assert!(reasons[0].contains("`element` label"), "{reasons:?}");
    assert!(reasons[1].contains("no-such-element"), "{reasons:?}");

    let metrics = metrics_text(&h, &token).await;
    assert_eq!(sample(&metrics, "dialtone_probes_firing"), 1.0);
    assert_eq!(sample(&metrics, "dialtone_alerts_accepted_total"), 1.0);
    assert_eq!(sample(&metrics, "dialtone_alerts_ignored_total"), 2.0);

    let mut live = h.state.live.lock().await;
    assert!(live.run().engine().incidents().is_empty());
    for _ in 0..10 {
        live.step();
    }
    let incidents = live.run().engine().incidents();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0].root_cause.as_deref(), Some(cell.as_str()));

    // Alertmanager's "resolved" never comes: after PROBE_STALE_SECS without word
    // of it, the probe is taken as resolved.
    let stale_secs = PROBE_STALE_SECS;
    live.forget_stale_probes(unix_now() + stale_secs / 2);
    assert_eq!(live.run().engine().firing_probes(), 1);
    live.forget_stale_probes(unix_now() + stale_secs + 1);
    assert_eq!(live.run().engine().firing_probes(), 0);

    // One taken up from the store after a restart keeps the age it had,
    // though the host may have been up for less than that.
    let heard_before_restart = unix_now() - stale_secs + 60;
    let probe = ProbeAlert {
        id: "heard-before-restart".into(),
        element: cell.clone(),
        services: 0b1,
        firing: true,
    };
    live.probe_alert(&probe, heard_before_restart).unwrap();
    assert_eq!(live.run().engine().firing_probes(), 1);
    live.forget_stale_probes(heard_before_restart + stale_secs + 1);
    assert_eq!(live.run().engine().firing_probes(), 0);
}

#[tokio::test]
async fn a_webhook_of_another_version_or_shape_is_refused() {
    let h = harness(live_after(1)).await;
    let token = h.token("alertmanager", Role::Operator).await;
    for (body, why) in [
        (webhook("3", json!([])), "version 4"),
        (json!({"version": "4"}), "alerts"),
    ] {
        let r = post_alerts(&h, &token, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains(why), "{}", r.body);
    }
}

/// Alertmanager sends a group's alerts in one notification, and the widest
/// outage makes the largest: far over the other routes' 64 KiB. Refused, it
/// would be dropped, not sent again.
#[tokio::test]
async fn a_wide_outages_notification_is_taken_whole() {
    let (h, token, cell) = receiver().await;
    let alerts: Vec<serde_json::Value> = (0..300)
        .map(|k| {
            let mut a = alert(
                "firing",
                json!({"alertname": "TestCallsFailing", "element": cell, "probe": format!("probe-{k}")}),
            );
            a["fingerprint"] = json!(format!("{k:016x}"));
            a["annotations"]["description"] = json!("test calls from the probe fail ".repeat(20));
            a
        })
        .collect();
    let body = webhook("4", json!(alerts.clone()));
    assert!(body.to_string().len() > dialtone_server::MAX_BODY_BYTES);
    let r = post_alerts(&h, &token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["accepted"], 300, "{}", r.body);
    // Kept for a restart, which Alertmanager would not tell for hours.
    let kept = h.store.firing_probes(0).await.unwrap();
    assert_eq!(kept.len(), 300);
    let resolved: Vec<serde_json::Value> = (alerts.into_iter())
        .map(|mut a| {
            a["status"] = json!("resolved");
            a
        })
        .collect();
    let r = post_alerts(&h, &token, webhook("4", json!(resolved))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(h.store.firing_probes(0).await.unwrap(), []);

    let padding = "x".repeat(dialtone_server::MAX_ALERTS_BODY_BYTES);
    let huge = webhook(
        "4",
        json!([alert("firing", json!({"element": cell, "pad": padding}))]),
    );
    let r = post_alerts(&h, &token, huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Its length declared, the same answer, in the API's words.
    let declared = Request::post("/api/v1/alerts")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header(
            "content-length",
            (dialtone_server::MAX_ALERTS_BODY_BYTES + 1).to_string(),
        )
        .body(Body::from(vec![
            b' ';
            dialtone_server::MAX_ALERTS_BODY_BYTES + 1
        ]))
        .expect("request");
    let r = send(h.router(), declared).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(
        r.json()["error"],
        format!(
            "the body is larger than {} bytes: send less",
            dialtone_server::MAX_ALERTS_BODY_BYTES
        ),
        "{}",
        r.body
    );
}
