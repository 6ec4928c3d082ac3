//! The HTTP app in-process: Statuspage v2 shape (golden file), caching headers,
//! and the public page served from memory with the database gone.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dialtone_drill::Run;
use dialtone_engine::EngineConfig;
use dialtone_server::live::Live;
use dialtone_server::{AppState, Published, app};
use dialtone_sim::TwinConfig;
use dialtone_statuspage::PageInfo;
use dialtone_store::{SqliteStore, Store};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A live pipeline stepped until the twin's outage has an identified incident.
fn live_with_incident() -> Live {
    let base = TwinConfig::default();
    let twin = TwinConfig {
        seed: 2,
        cells: 60,
        fault_at: base.start + 6 * 3600,
        ..base
    };
    let run = Run::new(twin, EngineConfig::default(), 1).unwrap();
    let mut live = Live::new(run, Vec::new(), PageInfo::default());
    for _ in 0..(6 * 60 + 5) {
        live.step();
    }
    assert!(
        !live.run().engine().incidents().is_empty(),
        "the outage opened an incident"
    );
    live
}

async fn get(app: axum::Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn summary_json_has_the_statuspage_v2_shape() {
    let mut live = live_with_incident();
    let published = Arc::new(Published::new(live.render()));
    let (status, headers, body) = get(app(AppState { published }), "/api/v2/summary.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=10")
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    insta::assert_json_snapshot!("summary", json);
}

#[tokio::test]
async fn etag_revalidation_answers_not_modified() {
    let mut live = live_with_incident();
    let published = Arc::new(Published::new(live.render()));
    let router = app(AppState { published });
    let (_, headers, _) = get(router.clone(), "/").await;
    let etag = headers["etag"].to_str().unwrap().to_string();
    let resp = router
        .oneshot(
            Request::get("/")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let published = Arc::new(Published::new(live_with_incident().render()));
    let (status, _, body) = get(app(AppState { published }), "/api/v2/nope.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no such file"));
}

#[tokio::test]
async fn the_status_page_keeps_answering_while_the_database_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let mut live = live_with_incident();
    live.save(&store).await;
    assert_eq!(store.recent_incidents(10).await.unwrap().len(), 1);
    let published = Arc::new(Published::new(live.render()));
    store.close().await;
    drop(dir);
    // The pipeline goes on; saves fail and are retried, the public page is fresh.
    live.step();
    live.save(&store).await;
    published.publish(live.render());
    let (status, _, body) = get(app(AppState { published }), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("disrupted in"), "the incident is on the page");
    assert!(
        store.recent_incidents(10).await.is_err(),
        "the store really is gone"
    );
}
