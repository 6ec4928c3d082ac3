//! The response loop end to end, on the digital twin: a drill of
//! `core-software-version` with an email subscriber (double opt-in, through a
//! real local SMTP server: Python's aiosmtpd) and a webhook subscriber. The
//! first public update goes out within 2 simulated minutes of detection, the
//! email arrives, the webhook is correctly signed, the failover fires, the
//! incident moves to monitoring when the KPIs recover, then resolves; a
//! restarted pipeline replaying the same minutes queues no duplicate.
//!
//! Needs `python3 -m aiosmtpd`; runs when `DIALTONE_SMTP_TESTS=1` (set by
//! `scripts/test`, which installs it).

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use common::{Harness, Running, free_port, harness_notifying, press_link_button, send};
use dialtone_drill::Run;
use dialtone_engine::{EngineConfig, TimelineKind};
use dialtone_model::{IncidentStatus, Severity};
use dialtone_notify::{
    Courier, DeliveryReport, NotifyConfig, PagerConfig, SIGNATURE_HEADER, SmtpConfig, SmtpSecurity,
    deliver_due, sign,
};
use dialtone_respond::{MitigationRule, Playbook};
use dialtone_server::ServerConfig;
use dialtone_server::live::Live;
use dialtone_server::unix_now;
use dialtone_sim::TwinConfig;
use dialtone_statuspage::PageInfo;
use dialtone_store::Lane;
use serde_json::{Value, json};

type Received = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

/// An HTTP receiver standing in for a subscriber's and a pager's endpoints.
async fn receiver() -> (SocketAddr, Received) {
    let got: Received = Arc::default();
    let record = |path: &'static str, got: Received| {
        move |headers: HeaderMap, body: Bytes| {
            let got = got.clone();
            async move {
                got.lock()
                    .expect("lock")
                    .push((path.to_string(), headers, body));
                StatusCode::NO_CONTENT
            }
        }
    };
    let app = Router::new()
        .route("/hook", post(record("/hook", got.clone())))
        .route("/alertmanager", post(record("/alertmanager", got.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, got)
}

/// aiosmtpd writing every message it receives into a Maildir; killed on drop.
struct SmtpServer {
    _process: Running,
    port: u16,
}

fn smtp_server(maildir: &Path) -> SmtpServer {
    let port = free_port();
    let child = std::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .spawn()
        .expect("python3 -m aiosmtpd starts (pip install aiosmtpd)");
    let server = SmtpServer {
        _process: Running(child),
        port,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("aiosmtpd did not start listening on port {port}");
}

/// The messages in a Maildir, decoded from quoted-printable where needed.
fn mails(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .map(|m| decode_quoted_printable(&m))
        .collect()
}

fn decode_quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn twin() -> TwinConfig {
    let base = TwinConfig::default();
    TwinConfig {
        cells: 120,
        fault_at: base.start + 26 * 3600,
        ..base
    }
}

/// Publishes and pages at every severity, so the small twin's incident
/// exercises the whole playbook.
fn playbook() -> Playbook {
    Playbook {
        auto_publish_at: Severity::Minor,
        page_at: Severity::Minor,
        mitigations: vec![MitigationRule {
            at_least: Severity::Minor,
            ..MitigationRule::default()
        }],
        ..Playbook::default()
    }
}

fn fresh_live() -> Live {
    let run = Run::new(twin(), EngineConfig::default(), 1).expect("twin builds");
    Live::new(run, Vec::new(), PageInfo::default(), playbook())
}

async fn mitigated_at(h: &Harness, id: u64) -> i64 {
    let live = h.state.live.lock().await;
    live.incident(id)
        .and_then(|i| {
            i.timeline
                .iter()
                .find(|e| e.kind == TimelineKind::Mitigated)
        })
        .map_or(0, |e| e.at)
}

async fn post_json(h: &Harness, path: &str, body: Value) -> common::Reply {
    let req = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    send(h.router(), req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_notifies_subscribers_fails_over_and_resolves() {
    if std::env::var("DIALTONE_SMTP_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set DIALTONE_SMTP_TESTS=1 with aiosmtpd installed (scripts/test does)");
        return;
    }
    let maildir = tempfile::tempdir().expect("temp dir");
    let smtp = smtp_server(&maildir.path().join("mail"));
    let (hooks, received) = receiver().await;
    let notify = NotifyConfig {
        base_url: "http://status.example.net".into(),
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: SmtpSecurity::None,
            from: "Dialtone Status <status@example.net>".into(),
            username: None,
            password: None,
            timeout_secs: 10,
        }),
        pagers: vec![PagerConfig::Alertmanager {
            url: format!("http://{hooks}/alertmanager"),
            from_escalation_level: 0,
        }],
        // The webhook subscriber's receiver listens on loopback.
        allow_private_webhooks: true,
    };
    let courier = Courier::new(&notify).expect("courier");
    let h = harness_notifying(fresh_live(), ServerConfig::default(), notify.clone()).await;
    let store = h.state.notify_store.as_ref();
    let deliver = |lane| deliver_due(store, &courier, &unix_now, lane, &|| false);

    // Subscribe by email: nothing counts until the link in the email is followed.
    let r = post_json(&h, "/subscribe", json!({"email": "watcher@example.net"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let pages = deliver(Lane::Pages).await.expect("delivers");
    assert_eq!(pages.delivered, 0, "a confirmation is the public's");
    let stopping = deliver_due(store, &courier, &unix_now, Lane::Public, &|| true).await;
    assert_eq!(
        stopping.expect("reads"),
        DeliveryReport::default(),
        "a server shutting down sends nothing more, and claims nothing"
    );
    assert_eq!(deliver(Lane::Public).await.expect("delivers").delivered, 1);
    let confirmation = mails(&maildir.path().join("mail"))
        .into_iter()
        .find(|m| m.contains("Confirm your subscription"))
        .expect("the confirmation email arrived");
    let link = confirmation
        .split_whitespace()
        .find(|w| w.contains("/subscribe/confirm?token="))
        .expect("a confirmation link");
    let path = &link[link.find("/subscribe/confirm").expect("path")..];
    assert_eq!(
        press_link_button(h.router(), path).await.status,
        StatusCode::OK
    );
    assert_eq!(
        press_link_button(h.router(), path).await.status,
        StatusCode::NOT_FOUND,
        "once only"
    );

    // Subscribe a webhook: live at once, its secret shown this once.
    let r = post_json(
        &h,
        "/subscribe",
        json!({"webhook": format!("http://{hooks}/hook"), "services": ["voice", "data", "registration"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.json()["secret"].as_str().expect("secret").to_string();

    // Warm up flat out, then minute by minute with everything a live server does.
    let fault_at = twin().fault_at;
    let planned_end = fault_at + twin().fault_duration_secs;
    {
        let mut live = h.state.live.lock().await;
        while live.now() < fault_at - 120 {
            live.step();
        }
    }
    let sinks = h.state.sinks();
    let mut minutes = 0;
    let id = loop {
        {
            let mut live = h.state.live.lock().await;
            live.step();
            live.settle(&sinks).await;
        }
        for lane in Lane::ALL {
            deliver(lane).await.expect("outbox readable");
        }
        minutes += 1;
        let live = h.state.live.lock().await;
        if let Some(inc) = live.run().engine().incidents().first()
            && inc.status == IncidentStatus::Resolved
        {
            break inc.id;
        }
        assert!(minutes < 6 * 60, "the incident resolved within 6 hours");
    };

    let live = h.state.live.lock().await;
    let inc = live.incident(id).expect("incident");
    let truth = &live.run().twin().ground_truth()[0];
    assert_eq!(inc.root_cause.as_ref(), Some(&truth.root_cause));
    assert!(
        inc.timeline
            .iter()
            .any(|e| e.kind == TimelineKind::Mitigated),
        "the failover fired"
    );
    let monitoring = inc.monitoring_at.expect("moved to monitoring");
    assert!(
        monitoring < planned_end && truth.end < planned_end,
        "the KPIs recovered because of the failover, before the fault would have ended"
    );
    assert!(inc.resolved_at.is_some_and(|r| r > monitoring));
    let opened = inc.opened_at;
    drop(live);

    // The first public update went out within 2 simulated minutes.
    let outbox = h.state.notify_store.outbox(500).await.expect("outbox");
    let first_notice = outbox
        .iter()
        .filter(|m| m.item.key.starts_with(&format!("notice/{id}/")))
        .map(|m| m.item.event_at)
        .min()
        .expect("notices were queued");
    eprintln!(
        "first public update queued {} s after detection; monitoring {} min after the failover, {} min before the fault's planned end",
        first_notice - opened,
        (monitoring - mitigated_at(&h, id).await) / 60,
        (planned_end - monitoring) / 60
    );
    assert!(
        first_notice - opened <= 120,
        "first update {} s after detection",
        first_notice - opened
    );
    assert!(
        outbox.iter().all(|m| m.delivered_at.is_some()),
        "every message was delivered: {:?}",
        outbox
            .iter()
            .filter(|m| m.delivered_at.is_none())
            .collect::<Vec<_>>()
    );

    // The email subscriber got the incident by email.
    let incident_mails: Vec<String> = mails(&maildir.path().join("mail"))
        .into_iter()
        .filter(|m| !m.contains("Confirm your subscription"))
        .collect();
    assert!(
        incident_mails.len() >= 2,
        "creation and resolution emails arrived"
    );
    assert!(
        incident_mails
            .iter()
            .any(|m| m.contains("Unsubscribe: http://status.example.net/unsubscribe?token="))
    );
    for mail in &incident_mails {
        // Headers are read from the decoded text, where `=5e` of a token is no longer itself.
        for header in [
            "\nMIME-Version: 1.0",
            "\nMessage-ID: <",
            "\nList-Unsubscribe: <http://status.example.net/unsubscribe?token",
            "\nList-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ] {
            assert!(mail.contains(header), "{header} in {mail}");
        }
        let incident_page = format!("http://status.example.net/incidents/{id}");
        assert!(
            mail.split_whitespace().any(|w| w == incident_page),
            "{mail}"
        );
    }

    // The webhook subscriber got signed Statuspage envelopes, ending resolved.
    let got = received.lock().expect("lock").clone();
    let hooks_got: Vec<&(String, HeaderMap, Bytes)> =
        got.iter().filter(|(p, ..)| p == "/hook").collect();
    assert!(hooks_got.len() >= 2);
    for (_, headers, body) in &hooks_got {
        let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        assert_eq!(
            signature,
            Some(sign(&secret, body).as_str()),
            "signed with the subscriber's secret"
        );
        let v: Value = serde_json::from_slice(body).expect("JSON");
        assert!(v["meta"]["unsubscribe"].is_string() && v["page"]["status_indicator"].is_string());
        assert_eq!(v["incident"]["id"], id.to_string());
    }
    let last: Value = serde_json::from_slice(&hooks_got.last().expect("some").2).expect("JSON");
    assert_eq!(last["incident"]["status"], "resolved");
    let pages: Vec<Value> = got
        .iter()
        .filter(|(p, ..)| p == "/alertmanager")
        .map(|(_, _, b)| serde_json::from_slice(b).expect("JSON"))
        .collect();
    assert_eq!(
        pages.first().map(|p| p["status"].clone()),
        Some(json!("firing"))
    );
    assert_eq!(
        pages.last().map(|p| p["status"].clone()),
        Some(json!("resolved"))
    );
    assert!(pages.iter().all(|p| p["version"] == "4"));
    // One alert all its life: a receiver matches the resolve to the first page by these.
    let identity = |p: &Value| {
        json!([
            p["receiver"],
            p["groupKey"],
            p["alerts"][0]["labels"],
            p["alerts"][0]["fingerprint"]
        ])
    };
    assert!(
        pages.iter().all(|p| identity(p) == identity(&pages[0])),
        "{pages:?}"
    );

    // The postmortem counts what was sent.
    let admin = h.token("ada", dialtone_auth::Role::Admin).await;
    let report = send(
        h.router(),
        common::authed(
            "GET",
            &format!("/console/incidents/{id}/postmortem"),
            &admin,
            None,
        ),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report.body.contains("| webhook |") && report.body.contains("| email |"),
        "{}",
        report.body
    );
    assert!(report.body.contains("| alertmanager |"));

    // A restart replays the same minutes into the same store: nothing new is queued.
    let queued_before = h
        .state
        .notify_store
        .outbox(10_000)
        .await
        .expect("outbox")
        .len();
    let mut replay = fresh_live();
    while replay.now() < fault_at - 120 {
        replay.step();
    }
    let sinks = h.state.sinks();
    for _ in 0..minutes {
        replay.step();
        replay.settle(&sinks).await;
    }
    let queued_after = h
        .state
        .notify_store
        .outbox(10_000)
        .await
        .expect("outbox")
        .len();
    assert_eq!(queued_after, queued_before, "no duplicate after a restart");
    drop(smtp);
}
