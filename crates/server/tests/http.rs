//! The HTTP app in-process: Statuspage v2 shape (golden file), caching headers,
//! and the public page served from memory with the database gone.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{get, harness, live_with_incident};
use dialtone_store::Store;
use tower::ServiceExt;

#[tokio::test]
async fn summary_json_has_the_statuspage_v2_shape() {
    let h = harness(live_with_incident()).await;
    let r = get(h.router(), "/api/v2/summary.json").await;
    let (status, headers, body) = (r.status, r.headers, r.body);
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=10")
    );
    assert_eq!(
        headers["access-control-allow-origin"], "*",
        "status widgets on other sites may read it"
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    insta::assert_json_snapshot!("summary", json);
}

#[tokio::test]
async fn etag_revalidation_answers_not_modified() {
    let router = harness(live_with_incident()).await.router();
    let etag = get(router.clone(), "/").await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let status = |if_none_match: String| {
        let router = router.clone();
        async move {
            let request = Request::get("/").header("if-none-match", if_none_match);
            let resp = router.oneshot(request.body(Body::empty()).unwrap()).await;
            resp.unwrap().status()
        }
    };
    // As sent, weak, in a list, or any tag at all.
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"stale\", {etag}"),
        "*".into(),
    ] {
        assert_eq!(status(tag.clone()).await, StatusCode::NOT_MODIFIED, "{tag}");
    }
    assert_eq!(status("\"stale\"".into()).await, StatusCode::OK);
}

#[tokio::test]
async fn the_tag_names_the_content_across_restarts() {
    // Two processes serving the same page (a restart, or two replicas) tag
    // it alike; a tag from a counter that restarts would collide instead.
    let tag = |r: common::Reply| r.headers["etag"].to_str().unwrap().to_string();
    let first = tag(get(harness(live_with_incident()).await.router(), "/").await);
    let again = tag(get(harness(live_with_incident()).await.router(), "/").await);
    assert_eq!(first, again);
    let quiet = common::live_after(60);
    let other = tag(get(harness(quiet).await.router(), "/").await);
    assert_ne!(first, other, "another page, another tag");
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let r = get(
        harness(live_with_incident()).await.router(),
        "/api/v2/nope.json",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("no such file"));
}

#[tokio::test]
async fn the_status_page_keeps_answering_while_the_database_is_gone() {
    let h = harness(live_with_incident()).await;
    let token = h.token("ada", dialtone_auth::Role::Operator).await;
    {
        let mut live = h.state.live.lock().await;
        live.save(&h.store).await;
        assert_eq!(h.store.recent_incidents(10).await.unwrap().len(), 1);
        h.store.close().await;
        // The pipeline goes on; saves fail and are retried, the public page is fresh.
        live.step();
        live.save(&h.store).await;
        h.state.published.publish(live.render());
    }
    let r = get(h.router(), "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("disrupted in"),
        "the incident is on the page"
    );
    for path in ["/api/v2/summary.json", "/history.atom", "/history.rss"] {
        assert_eq!(get(h.router(), path).await.status, StatusCode::OK, "{path}");
    }
    assert!(
        h.store.recent_incidents(10).await.is_err(),
        "the store really is gone"
    );
    // Operator paths need the database to authenticate: they say so instead of failing open.
    let r = common::send(
        h.router(),
        common::authed("GET", "/api/v1/incidents", &token, None),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.body.contains("database is unavailable"));
}

/// The history feeds, golden: an engine-detected incident and a hand-declared
/// one whose text tries to break out of the XML.
#[tokio::test]
async fn history_feeds_match_their_golden_files() {
    let mut live = live_with_incident();
    let declaration = dialtone_engine::Declaration {
        title: "Billing <portal> & \"top-ups\" down".into(),
        severity: dialtone_model::Severity::Minor,
        body: "Top-ups fail: use the app\u{0} meanwhile ]]> <b>".into(),
        regions: Vec::new(),
    };
    live.declare("ada", &declaration).unwrap();
    let h = harness(live).await;
    let atom = get(h.router(), "/history.atom").await;
    assert_eq!(atom.status, StatusCode::OK);
    assert!(
        atom.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("atom+xml")
    );
    assert!(atom.headers.contains_key("etag"));
    insta::assert_snapshot!("history_atom", atom.body);
    let rss = get(h.router(), "/history.rss").await;
    assert!(
        rss.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("rss+xml")
    );
    insta::assert_snapshot!("history_rss", rss.body);
    // Every incident's link leads to its page, and nothing else does.
    let incidents = get(h.router(), "/api/v2/incidents.json").await;
    let incidents: serde_json::Value = serde_json::from_str(&incidents.body).unwrap();
    for inc in incidents["incidents"].as_array().unwrap() {
        let link = inc["shortlink"].as_str().unwrap();
        assert!(
            atom.body.contains(link) && rss.body.contains(link),
            "{link}"
        );
        let page = get(h.router(), link.trim_start_matches("http://127.0.0.1:8080")).await;
        assert_eq!(page.status, StatusCode::OK, "{link}");
        let section = format!("id=\"incident-{}\"", inc["id"].as_str().unwrap());
        assert!(page.body.contains(&section), "{}", page.body);
    }
    assert_eq!(
        get(h.router(), "/incidents/999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(h.router(), "/incidents/x").await.status,
        StatusCode::NOT_FOUND
    );
    for body in [&atom.body, &rss.body] {
        assert!(
            !body.contains("<portal>") && !body.contains('\u{0}'),
            "escaped"
        );
    }
}
