//! Customer problem reports: a surge nobody's KPIs explain opens an incident
//! held for approval; once approved it is public, and when it resolves the
//! reporters who left an address are owed one email, after which the
//! address is gone.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{
    Harness, Reply, authed, declare, get, harness_notifying, harness_with, live_after, send,
};
use dialtone_auth::Role;
use dialtone_engine::{Incident, REPORTS_ACTOR, TimelineKind};
use dialtone_notify::{NotifyConfig, SmtpConfig, SmtpSecurity};
use dialtone_server::live::Live;
use dialtone_server::{Rate, ServerConfig};
use dialtone_store::{NotifyStore, ReportReply};
use serde_json::json;

fn report(problem: &str, area: &str, contact: Option<&str>) -> Request<Body> {
    let mut body = json!({"problem": problem, "area": area});
    if let Some(c) = contact {
        body["contact"] = json!(c);
    }
    Request::post("/report")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// An operator's `action` on incident `id` over the API.
async fn act(h: &Harness, token: &str, id: u64, action: &str) -> Reply {
    let path = format!("/api/v1/incidents/{id}/{action}");
    send(h.router(), authed("POST", &path, token, None)).await
}

/// The ids of the incidents on the public Statuspage API.
async fn public_ids(h: &Harness) -> Vec<String> {
    let page = get(h.router(), "/api/v2/incidents.json").await.json();
    page["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

/// A server two hours into a healthy twin (its fault is hours away), with
/// email set up (nothing is sent here: replies are only queued) and reports
/// unlimited, and the area its reports will come from.
async fn mailing_harness() -> (Harness, String) {
    mailing_harness_over(live_after(120)).await
}

/// [`mailing_harness`] over `live`.
async fn mailing_harness_over(live: Live) -> (Harness, String) {
    let config = ServerConfig {
        report_rate: Rate {
            per_second: 1000.0,
            burst: 1000.0,
        },
        ..ServerConfig::default()
    };
    let notify = NotifyConfig {
        base_url: "http://status.example.net".into(),
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: 9,
            security: SmtpSecurity::None,
            from: "Dialtone Status <status@example.net>".into(),
            username: None,
            password: None,
            timeout_secs: 10,
        }),
        ..NotifyConfig::default()
    };
    let h = harness_notifying(live, config, notify).await;
    let area = h.state.live.lock().await.regions()[0].clone();
    (h, area)
}

/// Twenty reports of calls failing in `area`, the first with an address,
/// then six minutes on: a surge.
async fn surge<'h>(h: &'h Harness, area: &str) -> tokio::sync::MutexGuard<'h, Live> {
    for i in 0..20 {
        let contact = (i == 0).then_some("ana@example.net");
        let r = send(h.router(), report("cannot_call", area, contact)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut live = h.state.live.lock().await;
    for _ in 0..6 {
        live.step();
    }
    live.settle(&h.state.sinks()).await;
    live
}

/// The incident a [`surge`] in `area` opens.
async fn surge_incident(h: &Harness, area: &str) -> Incident {
    surge(h, area)
        .await
        .run()
        .engine()
        .incidents()
        .iter()
        .find(|i| i.operator.declared_by.as_deref() == Some(REPORTS_ACTOR))
        .expect("the surge opened an incident")
        .clone()
}

/// The replies to reporters in the outbox, as `admin` lists them.
async fn report_replies(h: &Harness, admin: &str) -> Vec<serde_json::Value> {
    let outbox = send(h.router(), authed("GET", "/api/v1/outbox", admin, None))
        .await
        .json();
    (outbox["messages"].as_array().unwrap().iter())
        .filter(|m| m["key"].as_str().is_some_and(|k| k.starts_with("report/")))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_surge_of_reports_opens_a_held_incident_and_reporters_hear_when_it_is_fixed() {
    let (h, area) = mailing_harness().await;
    let bad = send(h.router(), report("no_such_problem", &area, None)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("cannot_call"),
        "the error lists what is accepted"
    );
    let nowhere = send(h.router(), report("cannot_call", "atlantis", None)).await;
    assert_eq!(nowhere.status, StatusCode::BAD_REQUEST);
    // Media types ignore case: this is JSON, and its answer is JSON.
    let mut shouted = report("cannot_call", "atlantis", None);
    shouted.headers_mut().insert(
        "content-type",
        "Application/JSON; charset=utf-8".parse().unwrap(),
    );
    let shouted = send(h.router(), shouted).await;
    assert_eq!(shouted.status, StatusCode::BAD_REQUEST);
    assert!(shouted.body.contains("atlantis"), "{}", shouted.body);
    assert!(!shouted.body.contains("<html"), "{}", shouted.body);
    let inc = surge_incident(&h, &area).await;
    let id = inc.id.to_string();
    assert!(inc.awaiting_approval);
    assert!(
        !public_ids(&h).await.contains(&id),
        "unverified reports are not public before approval"
    );

    let otto = h.token("otto", Role::Operator).await;
    let approved = act(&h, &otto, inc.id, "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert!(public_ids(&h).await.contains(&id));

    // Someone in the same area without data: calls being fixed is no
    // answer to that.
    let r = send(h.router(), report("no_data", &area, Some("bo@example.net"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let resolved = act(&h, &otto, inc.id, "resolve").await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let admin = h.token("ada", Role::Admin).await;
    assert_eq!(
        report_replies(&h, &admin).await.len(),
        1,
        "one reporter of failing calls left an address"
    );
    // Their address is kept for the fix of their own problem.
    let data_fixed = ReportReply {
        incident: 99,
        areas: vec![(area.clone(), vec!["no_data".into()])],
        from: i64::MIN,
        to: i64::MAX,
        subject: "fixed".into(),
        body: "fixed".into(),
    };
    assert_eq!(
        h.store.queue_report_replies(&data_fixed, 0).await.unwrap(),
        1
    );
    let again = act(&h, &otto, inc.id, "resolve").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "resolved once");
}

/// An operator who names the areas an incident hits gets their reports on
/// it: a surge there corroborates it, where it used to open a second
/// incident. An area the topology lacks is refused, naming those it has.
#[tokio::test]
async fn reports_from_an_area_named_at_declaration_join_the_declared_incident() {
    let (h, area) = mailing_harness().await;
    let otto = h.token("otto", Role::Operator).await;
    let declare = |regions: serde_json::Value| {
        let body =
            json!({"title": "Calls failing", "body": "Looking into it.", "regions": regions});
        authed("POST", "/api/v1/incidents", &otto, Some(body))
    };
    let refused = send(h.router(), declare(json!([area, "atlantis"]))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("atlantis") && refused.body.contains(&area),
        "{}",
        refused.body
    );
    let declared = send(h.router(), declare(json!([area]))).await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let id = declared.json()["incident"]["id"].as_u64().unwrap();

    let live = surge(&h, &area).await;
    let incidents = live.run().engine().incidents();
    assert!(
        (incidents.iter()).all(|i| i.operator.declared_by.as_deref() != Some(REPORTS_ACTOR)),
        "no second incident: {incidents:?}"
    );
    let declared = incidents.iter().find(|i| i.id == id).unwrap();
    assert!(
        (declared.timeline.iter()).any(|t| t.kind == TimelineKind::CustomerReports),
        "{:?}",
        declared.timeline
    );
    drop(live);
    // The area was declared with no service named: the reporter of failing
    // calls there hears that it is fixed.
    let resolved = act(&h, &otto, id, "resolve").await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let admin = h.token("ada", Role::Admin).await;
    let replies = report_replies(&h, &admin).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
}

/// Merges incident `from` into `into` over the API.
async fn merge(h: &Harness, token: &str, into: u64, from: u64) {
    let path = format!("/api/v1/incidents/{into}/merge");
    let merged = send(
        h.router(),
        authed("POST", &path, token, Some(json!({"from": from}))),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
}

/// Merged before a restart and again after it: the first incident's
/// reporters hear when the last one it ended up in is fixed.
#[tokio::test]
async fn reporters_hear_through_merges_made_before_and_after_a_restart() {
    let (before, area) = mailing_harness().await;
    let first = surge_incident(&before, &area).await;
    let otto = before.token("otto", Role::Operator).await;
    assert_eq!(
        act(&before, &otto, first.id, "approve").await.status,
        StatusCode::OK
    );
    let second = declare(&before, &otto, "Calls failing").await;
    merge(&before, &otto, second, first.id).await;
    let earlier = dialtone_store::Store::recent_incidents(&before.store, 50)
        .await
        .unwrap();

    // Restarted a few minutes on: the first incident is closed history.
    let (h, _) = mailing_harness_over(common::resumed_after(earlier, 130)).await;
    let otto = h.token("otto", Role::Operator).await;
    let admin = h.token("ada", Role::Admin).await;
    let r = send(
        h.router(),
        report("cannot_call", &area, Some("ana@example.net")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let third = declare(&h, &otto, "Calls failing nationwide").await;
    merge(&h, &otto, third, second).await;
    let resolved = act(&h, &otto, third, "resolve").await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let replies = report_replies(&h, &admin).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
}

/// A merge resolves its source with no fix: its reporters hear when the
/// incident it joined is fixed, not at the merge (which also forgot their
/// address, so the real all-clear never reached them).
#[tokio::test]
async fn reporters_of_a_merged_incident_hear_when_the_one_it_joined_is_fixed() {
    let (h, area) = mailing_harness().await;
    let surge = surge_incident(&h, &area).await;
    let otto = h.token("otto", Role::Operator).await;
    let admin = h.token("ada", Role::Admin).await;
    let approved = act(&h, &otto, surge.id, "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    // Declared by hand later, in no area: the reports are the merged one's.
    {
        let mut live = h.state.live.lock().await;
        for _ in 0..90 {
            live.step();
        }
        live.settle(&h.state.sinks()).await;
    }
    let into = declare(&h, &otto, "Calls failing").await;
    merge(&h, &otto, into, surge.id).await;
    assert_eq!(
        report_replies(&h, &admin).await,
        Vec::<serde_json::Value>::new(),
        "not fixed yet"
    );
    let resolved = act(&h, &otto, into, "resolve").await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let replies = report_replies(&h, &admin).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0]["key"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{into}")),
        "{replies:?}"
    );
}

#[tokio::test]
async fn without_email_no_address_is_asked_for_or_kept() {
    // Before the first minute: asked to send it again, not stored at time 0.
    let early = harness_with(live_after(0), ServerConfig::default()).await;
    let area = early.state.live.lock().await.regions()[0].clone();
    let r = send(early.router(), report("cannot_call", &area, None)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(
        r.body.contains("send the report again shortly"),
        "{}",
        r.body
    );

    // A browser's form comes back with its choices.
    let posted = Request::post("/report")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("problem=no_data&area={area}")))
        .unwrap();
    let r = send(early.router(), posted).await;
    common::assert_page(
        &r,
        StatusCode::SERVICE_UNAVAILABLE,
        &[
            "send the report again shortly",
            "<form method=\"post\"",
            &format!("value=\"{area}\" selected"),
        ],
    );

    let h = harness_with(live_after(1), ServerConfig::default()).await;
    let form = get(h.router(), "/report").await;
    assert!(!form.body.contains("name=\"contact\""), "{}", form.body);
    let area = h.state.live.lock().await.regions()[0].clone();
    let r = send(
        h.router(),
        report("cannot_call", &area, Some("ana@example.net")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Nothing to write back to: a reply over every area and time finds no address.
    let reply = ReportReply {
        incident: 1,
        areas: vec![(area, vec!["cannot_call".into()])],
        from: i64::MIN,
        to: i64::MAX,
        subject: "fixed".into(),
        body: "fixed".into(),
    };
    let queued = h.store.queue_report_replies(&reply, 0).await.unwrap();
    assert_eq!(queued, 0, "no address was kept");
}

#[tokio::test]
async fn reports_are_rate_limited_per_client() {
    let h = harness_with(live_after(1), ServerConfig::default()).await;
    let area = h.state.live.lock().await.regions()[0].clone();
    // Refused reports spend nothing: a customer may correct a mistake.
    for _ in 0..5 {
        let r = send(h.router(), report("no_data", "atlantis", None)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            send(h.router(), report("no_data", &area, None))
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..3], [StatusCode::CREATED; 3]);
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);
}

/// A hostile page can submit our forms from each visitor's browser, and
/// each visitor is a fresh client to the per-client limits: forged reports
/// would add up to a surge. The browser says where a form comes from.
#[tokio::test]
async fn a_form_sent_from_another_sites_page_is_refused() {
    let plenty = Rate {
        per_second: 1000.0,
        burst: 1000.0,
    };
    let config = ServerConfig {
        report_rate: plenty,
        subscribe_rate: plenty,
        ..ServerConfig::default()
    };
    // The harness's public address is http://127.0.0.1:8080.
    let h = harness_with(live_after(1), config).await;
    let area = h.state.live.lock().await.regions()[0].clone();
    let form = |path: &str, body: String, headers: &[(&str, &str)]| {
        let mut req =
            Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(Body::from(body)).unwrap()
    };
    let report_form =
        |headers: &[(&str, &str)]| form("/report", format!("problem=no_data&area={area}"), headers);
    let forged: [&[(&str, &str)]; 5] = [
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        // Fetch Metadata decides where a browser sends it.
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.1:8080"),
        ],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
    ];
    for headers in forged {
        let r = send(h.router(), report_form(headers)).await;
        common::assert_page(
            &r,
            StatusCode::FORBIDDEN,
            &["a page on another site", "<form method=\"post\""],
        );
    }
    let counted = || async {
        h.state
            .notify_store
            .reports_since(i64::MIN)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(counted().await, 0, "nothing forged was counted");
    let ours: [&[(&str, &str)]; 5] = [
        &[],
        &[("sec-fetch-site", "same-origin")],
        &[("sec-fetch-site", "none")],
        &[("origin", "http://127.0.0.1:8080")],
        // Reached at another name than the public one: the request's own host.
        &[
            ("origin", "http://10.0.0.7:8080"),
            ("host", "10.0.0.7:8080"),
        ],
    ];
    for headers in ours {
        let r = send(h.router(), report_form(headers)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{headers:?}: {}", r.body);
    }
    assert_eq!(counted().await, 5);

    let subscribe = |headers: &[(&str, &str)]| {
        form(
            "/subscribe",
            "webhook=https%3A%2F%2Fhooks.example%2Fx".into(),
            headers,
        )
    };
    let r = send(h.router(), subscribe(&[("sec-fetch-site", "cross-site")])).await;
    common::assert_page(&r, StatusCode::FORBIDDEN, &["a page on another site"]);
    assert!(h.subscribers().await.is_empty());
    let r = send(h.router(), subscribe(&[("sec-fetch-site", "same-origin")])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
