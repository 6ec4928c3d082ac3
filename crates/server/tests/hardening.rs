//! Answers to requests a browser or a client would not send, found by
//! probing the release binary: headers every answer carries, times out of
//! range, forms that cannot be read, links and subscriptions sent twice.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, assert_page, authed, get, harness, live_after, live_with_incident, send};
use dialtone_auth::Role;
use dialtone_store::PlanStore;
use serde_json::json;

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", content_type)
        .body(body.into())
        .expect("request")
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Every answer forbids sniffing and framing; a page allows its inline
/// style and nothing more, which is all the pages use.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let h = harness(live_with_incident()).await;
    let viewer = h.token("vera", Role::Viewer).await;
    let pages = [
        get(h.router(), "/").await,
        get(h.router(), "/incidents/1").await,
        get(h.router(), "/subscribe").await,
        get(h.router(), "/login").await,
        send(h.router(), authed("GET", "/console", &viewer, None)).await,
    ];
    let others = [
        get(h.router(), "/api/v2/summary.json").await,
        send(h.router(), authed("GET", "/api/v1/me", &viewer, None)).await,
        get(h.router(), "/no/such/page").await,
        get(h.router(), "/history.atom").await,
    ];
    let header = |r: &Reply, name: &str| {
        r.headers
            .get(name)
            .map(|v| v.to_str().expect("text").to_owned())
    };
    for r in pages.iter().chain(&others) {
        assert_eq!(
            header(r, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(header(r, "x-frame-options").as_deref(), Some("DENY"));
    }
    for r in &pages {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let policy = header(r, "content-security-policy").expect("a policy");
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        // What the policy lets through is all a page uses.
        assert!(r.body.contains("<style>"), "{}", r.body);
        for unused in ["<script", " style=", "<img", "<link", "<iframe"] {
            assert!(!r.body.contains(unused), "{unused} in {}", r.body);
        }
    }
    for r in &others {
        assert_eq!(header(r, "content-security-policy"), None, "{}", r.body);
    }
}

/// Times outside 2000..=9999 are refused with what to send: the engine
/// would keep such a watch and never fire it.
#[tokio::test]
async fn watch_and_change_times_out_of_range_are_refused() {
    // A minute in, so the network has a time to measure "ahead" from.
    let h = harness(live_after(1)).await;
    let otto = h.token("otto", Role::Operator).await;
    let bridge = "bridge-conference-1";
    let refused = |r: Reply| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("give Unix seconds between 946684800 (2000-01-01)"),
            "{}",
            r.body
        );
    };
    for (start, end) in [
        (i64::MIN, i64::MAX),
        (1_767_700_000, i64::MAX),
        (1_767_700_000_000, 1_767_700_003_600),
        (-5, 1_767_700_000),
    ] {
        let watch = json!({"name": "w", "element": bridge, "start": start, "end": end});
        refused(
            send(
                h.router(),
                authed("POST", "/api/v1/watches", &otto, Some(watch)),
            )
            .await,
        );
    }
    // An event that ends as it starts is no event: said as what to send.
    let instant =
        json!({"name": "w", "element": bridge, "start": 1_767_700_000, "end": 1_767_700_000});
    let r = send(
        h.router(),
        authed("POST", "/api/v1/watches", &otto, Some(instant)),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let error = r.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("must end after it starts"), "{error}");
    let listed = send(h.router(), authed("GET", "/api/v1/watches", &otto, None)).await;
    assert_eq!(listed.json()["watches"], json!([]), "none was kept");
    for at in [i64::MIN, i64::MAX, 0] {
        let change = json!({"element": bridge, "kind": "deploy", "description": "x", "at": at});
        refused(
            send(
                h.router(),
                authed("POST", "/api/v1/changes", &otto, Some(change)),
            )
            .await,
        );
    }
    let now = h.state.live.lock().await.now();
    let change_at = |at: i64| {
        let change = json!({"element": bridge, "kind": "deploy", "description": "x", "at": at});
        send(
            h.router(),
            authed("POST", "/api/v1/changes", &otto, Some(change)),
        )
    };
    let ok = change_at(now + 86_400).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    // Kept unweighed until its time, and a change is recorded when made.
    let ahead = change_at(now + 86_401).await;
    assert_eq!(ahead.status, StatusCode::BAD_REQUEST, "{}", ahead.body);
    assert!(
        ahead.body.contains("more than a day after"),
        "{}",
        ahead.body
    );

    // A watch is held until a day after its end: one far off, or lasting
    // for ever, would stay.
    let watch = |start: i64, end: i64| {
        let watch = json!({"name": "w", "element": bridge, "start": start, "end": end});
        send(
            h.router(),
            authed("POST", "/api/v1/watches", &otto, Some(watch)),
        )
    };
    let year = 366 * 86_400;
    let far = watch(now + year + 1, now + year + 3_600).await;
    assert_eq!(far.status, StatusCode::BAD_REQUEST, "{}", far.body);
    assert!(far.body.contains("within the year"), "{}", far.body);
    let endless = watch(now, now + 7 * 86_400 + 1).await;
    assert_eq!(endless.status, StatusCode::BAD_REQUEST, "{}", endless.body);
    assert!(endless.body.contains("at most 7 days"), "{}", endless.body);
    let ok = watch(now + year, now + year + 7 * 86_400).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
}

/// Each watch and change is held in memory and scanned: an operator's
/// token, leaked or in a runaway script, cannot add them without bound.
#[tokio::test]
async fn watches_and_changes_are_held_up_to_a_limit() {
    let h = harness(live_after(1)).await;
    let otto = h.token("otto", Role::Operator).await;
    let bridge = "bridge-conference-1";
    let now = {
        let mut live = h.state.live.lock().await;
        let now = live.now();
        for k in 0..1_000 {
            let event = dialtone_engine::EventWatch {
                name: format!("call {k}"),
                element: bridge.into(),
                start: now + 3_600,
                end: now + 7_200,
                fallback: None,
            };
            live.watch_event(event).expect("known element");
        }
        for k in 0..100_000 {
            let change = dialtone_engine::ChangeEvent {
                at: now - 100_000 + k,
                element: bridge.into(),
                kind: dialtone_engine::ChangeKind::Config,
                description: "x".into(),
            };
            live.record_change(change).expect("known element");
        }
        now
    };
    let watch =
        json!({"name": "one more", "element": bridge, "start": now + 3_600, "end": now + 7_200});
    let r = send(
        h.router(),
        authed("POST", "/api/v1/watches", &otto, Some(watch)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("1000 events are watched already"),
        "{}",
        r.body
    );
    let change = json!({"element": bridge, "kind": "deploy", "description": "one more"});
    let r = send(
        h.router(),
        authed("POST", "/api/v1/changes", &otto, Some(change)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("100000 changes are kept already"),
        "{}",
        r.body
    );
    // Refused before they were stored: a restart would not bring them in.
    assert!(h.store.watches_ending_after(0).await.unwrap().is_empty());
    assert!(h.store.changes_since(0).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_empty_assignee_is_asked_for_by_what_it_is() {
    let h = harness(live_with_incident()).await;
    let otto = h.token("otto", Role::Operator).await;
    let r = send(
        h.router(),
        authed(
            "POST",
            "/api/v1/incidents/1/assign",
            &otto,
            Some(json!({"assignee": "  "})),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["error"],
        "the assignee is empty: name the person or team who takes the incident on"
    );
}

/// The public answer for a subscribed webhook URL, with what differs
/// between any two answers (the secret, the unsubscribe link) blanked.
fn shape(r: &Reply) -> (StatusCode, serde_json::Value) {
    let mut body = r.json();
    for random in ["secret", "unsubscribe"] {
        assert!(body[random].is_string(), "{}", r.body);
        body[random] = json!("");
    }
    (r.status, body)
}

/// A webhook URL already subscribed gets the answer a new one gets: anyone
/// may know a URL, and must not learn from the form that it is subscribed.
/// No second row is stored, and no row number is shown.
#[tokio::test]
async fn a_webhook_subscribed_again_answers_as_a_new_one() {
    let h = harness(live_after(0)).await;
    let region = h.state.live.lock().await.regions()[0].clone();
    let hook = |url: &str| {
        let body =
            json!({"webhook": url, "services": ["voice", "voice"], "regions": [region, region]});
        post("/subscribe", "application/json", body.to_string())
    };
    let first = send(h.router(), hook("https://hooks.example.net/a")).await;
    let again = send(h.router(), hook("https://hooks.example.net/a")).await;
    let other = send(h.router(), hook("https://hooks.example.net/b")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.json()["subscriber"].get("id"), None, "{}", first.body);
    let (mut new, mut old) = (shape(&other), shape(&again));
    for answer in [&mut new.1, &mut old.1] {
        answer["subscriber"]["target"] = json!("");
    }
    assert_eq!(old, new);
    assert_ne!(first.json()["secret"], again.json()["secret"]);
    let form = |url: &str| post("/subscribe", FORM, format!("webhook={url}"));
    let (form_again, form_new) = (
        send(h.router(), form("https%3A%2F%2Fhooks.example.net%2Fa")).await,
        send(h.router(), form("https%3A%2F%2Fhooks.example.net%2Fc")).await,
    );
    assert_eq!(form_again.status, form_new.status, "{}", form_again.body);
    assert!(
        form_again.body.contains("Webhook subscribed"),
        "{}",
        form_again.body
    );

    // The admin's list shows each URL once, its names once each.
    let admin = h.token("ada", Role::Admin).await;
    let list = send(
        h.router(),
        authed("GET", "/api/v1/subscribers", &admin, None),
    )
    .await;
    let subs = list.json()["subscribers"].as_array().unwrap().clone();
    let a: Vec<&serde_json::Value> = (subs.iter())
        .filter(|s| s["target"] == "https://hooks.example.net/a")
        .collect();
    assert_eq!(a.len(), 1, "{subs:?}");
    assert_eq!(a[0]["services"], json!(["voice"]));
    assert_eq!(a[0]["regions"], json!([region]));
    assert!(a[0]["id"].is_i64(), "the admin still sees the row");

    // Read a page at a time, the pages together the whole list.
    let mut paged = Vec::new();
    let mut after = json!(0);
    while let Some(from) = after.as_i64() {
        let path = format!("/api/v1/subscribers?after={from}&limit=2");
        let page = send(h.router(), authed("GET", &path, &admin, None))
            .await
            .json();
        let rows = page["subscribers"].as_array().unwrap();
        assert!(rows.len() <= 2, "{page}");
        paged.extend(rows.iter().cloned());
        after = page["next_after"].clone();
    }
    assert_eq!(paged, subs);
    assert!(subs.len() > 2, "more than one page: {subs:?}");
    let refused = send(
        h.router(),
        authed("GET", "/api/v1/subscribers?limit=0", &admin, None),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("next_after"), "{}", refused.body);
}

/// A blank address is no address: the answer says to give one.
#[tokio::test]
async fn a_blank_webhook_is_a_missing_one() {
    let h = harness(live_after(0)).await;
    for body in [
        json!({"webhook": "  "}),
        json!({"email": " ", "webhook": ""}),
    ] {
        let r = send(
            h.router(),
            post("/subscribe", "application/json", body.to_string()),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json()["error"],
            "give an email address or a webhook URL to send notifications to"
        );
    }
}

/// A link with its token twice is a bad link like any other: the page, not
/// a parser's JSON error.
#[tokio::test]
async fn a_link_with_two_tokens_gets_the_bad_link_page() {
    let h = harness(live_after(0)).await;
    for path in ["/subscribe/confirm", "/unsubscribe"] {
        let r = get(h.router(), &format!("{path}?token=a&token=b")).await;
        assert_page(&r, StatusCode::NOT_FOUND, &["Link not valid"]);
    }
}

/// A form that cannot be read is refused as such, not read as one whose
/// fields are missing ("unknown problem ``", "the form expired"), and, as a
/// browser sent it, on a page: the form again where there is one to fill in.
#[tokio::test]
async fn an_unreadable_form_is_refused_as_unreadable() {
    let h = harness(live_after(0)).await;
    let area = h.state.live.lock().await.regions()[0].clone();
    let multipart = "multipart/form-data; boundary=x";
    let parts = format!(
        "--x\r\nContent-Disposition: form-data; name=\"problem\"\r\n\r\nno_signal\r\n--x\r\n\
         Content-Disposition: form-data; name=\"area\"\r\n\r\n{area}\r\n--x--\r\n"
    );
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "/report",
            FORM,
            format!("problem=%ZZ&area={area}").into(),
            "`%`",
        ),
        ("/subscribe", FORM, b"email=%FF".to_vec(), "not UTF-8"),
        (
            "/report",
            FORM,
            b"problem=no_signal&area=\xff".to_vec(),
            "not UTF-8",
        ),
        ("/report", multipart, parts.into(), "multipart/form-data"),
        (
            "/login",
            FORM,
            b"csrf=%ZZ&username=a&password=b".to_vec(),
            "`%`",
        ),
        (
            "/login/link",
            multipart,
            b"--x--".to_vec(),
            "multipart/form-data",
        ),
        ("/subscribe", FORM, b"webhook=%E2%82".to_vec(), "`%`"),
        ("/unsubscribe", FORM, b"token=%".to_vec(), "`%`"),
        ("/subscribe/confirm", FORM, b"token=%".to_vec(), "`%`"),
    ];
    for (path, content_type, body, why) in cases {
        let r = send(h.router(), post(path, content_type, body)).await;
        assert_page(&r, StatusCode::BAD_REQUEST, &[]);
        let shown = r.body.split("the form could not be read: ").nth(1);
        assert!(
            shown.is_some_and(|error| error.contains(why)),
            "{path}: {}",
            r.body
        );
        let form_again = match path {
            "/login" | "/login/link" => "action=\"/login\"",
            "/unsubscribe" => "Open the link in the notification again",
            "/subscribe/confirm" => "Open the link in the email again",
            _ => "<form method=\"post\"",
        };
        assert!(r.body.contains(form_again), "{path}: {}", r.body);
    }
    // A console form too, past its CSRF check or with a token.
    let otto = h.token("otto", Role::Operator).await;
    let mut console = post("/console/incidents/1", FORM, "action=%ZZ");
    (console.headers_mut()).insert("authorization", format!("Bearer {otto}").parse().unwrap());
    let r = send(h.router(), console).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("the form could not be read"), "{}", r.body);
}

/// A public page that is not there is a page saying so; the public JSON
/// keeps its JSON error.
#[tokio::test]
async fn a_missing_incident_page_is_a_page() {
    let h = harness(live_with_incident()).await;
    let r = get(h.router(), "/incidents/999").await;
    assert_page(&r, StatusCode::NOT_FOUND, &["no incident 999"]);
    let r = get(h.router(), "/api/v2/nothing.json").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].is_string(), "{}", r.body);
}

/// RFC 8058 one-click: a mail client POSTs to the List-Unsubscribe URL, the
/// token in its query, with a multipart body saying `List-Unsubscribe=One-Click`.
#[tokio::test]
async fn a_one_click_unsubscribe_with_the_token_in_the_address_works() {
    let h = harness(live_after(0)).await;
    let subscribed = send(
        h.router(),
        post(
            "/subscribe",
            "application/json",
            json!({"webhook": "https://hooks.example.net/one-click"}).to_string(),
        ),
    )
    .await;
    assert_eq!(
        subscribed.status,
        StatusCode::CREATED,
        "{}",
        subscribed.body
    );
    let link = subscribed.json()["unsubscribe"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &link[link.find("/unsubscribe").unwrap()..];
    let multipart = "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n";
    let clicked = send(
        h.router(),
        post(path, "multipart/form-data; boundary=b", multipart),
    )
    .await;
    assert_eq!(clicked.status, StatusCode::OK, "{}", clicked.body);
    assert!(clicked.body.contains("Unsubscribed"), "{}", clicked.body);
    let again = send(h.router(), post(path, FORM, "List-Unsubscribe=One-Click")).await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "used up: {}",
        again.body
    );
}

/// A route asked with a method it does not take says so, as every other
/// refusal does, with the methods it does take in `Allow`.
#[tokio::test]
async fn a_method_a_route_does_not_take_gets_405_naming_the_method() {
    let h = harness(live_after(0)).await;
    let viewer = h.token("vera", Role::Viewer).await;
    let r = send(h.router(), authed("GET", "/api/v1/alerts", &viewer, None)).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
    assert!(r.body.contains("does not take GET"), "{}", r.body);
    let allow = r
        .headers
        .get("allow")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(allow.as_deref(), Some("POST"), "{:?}", r.headers);
    let r = send(
        h.router(),
        Request::put("/report").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
    assert!(r.body.contains("does not take PUT"), "{}", r.body);
}
