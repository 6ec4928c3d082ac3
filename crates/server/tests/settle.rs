//! `Live::settle`'s order of writes: an incident whose saved timeline says
//! its operators were paged is saved only once the page is in the outbox. A
//! restarted run resumes from the saved timeline and pages nobody again, so
//! the other order would lose the page to a crash between the two writes,
//! and so would saving it after the queueing failed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::live_with_incident;
use dialtone_engine::{Incident, TimelineKind};
use dialtone_notify::{NotifyConfig, PagerConfig};
use dialtone_server::{AppState, Published, ServerConfig, Stores};
use dialtone_store::{BoxFuture, NotifyStore, SqliteStore, Store, StoreError};

/// The SQLite store, checking at each save that every page the incident's
/// timeline records is already queued.
struct PagesFirst {
    inner: SqliteStore,
    checked: AtomicUsize,
}

impl Store for PagesFirst {
    fn save_incident<'a>(
        &'a self,
        incident: &'a Incident,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let paged = (incident.timeline.iter())
                .filter(|e| e.kind == TimelineKind::Paged)
                .count();
            if paged > 0 {
                let queued = self.inner.outbox_for_incident(incident.id).await?;
                let pages = (queued.iter())
                    .filter(|m| m.item.key.starts_with("page/"))
                    .count();
                assert!(
                    pages >= paged,
                    "incident {} saved with {paged} pages in its timeline, {pages} in the outbox",
                    incident.id
                );
                self.checked.fetch_add(1, Ordering::Relaxed);
            }
            self.inner.save_incident(incident).await
        })
    }

    fn recent_incidents(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>> {
        self.inner.recent_incidents(limit)
    }

    fn incident(&self, id: u64) -> BoxFuture<'_, Result<Option<Incident>, StoreError>> {
        self.inner.incident(id)
    }

    fn next_incident_id(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.inner.next_incident_id()
    }
}

/// One pager, never delivered to here: the tests read the outbox.
fn paging() -> NotifyConfig {
    NotifyConfig {
        base_url: "http://127.0.0.1:8080".into(),
        pagers: vec![PagerConfig::Alertmanager {
            url: "http://127.0.0.1:9/alerts".into(),
            from_escalation_level: 0,
        }],
        ..NotifyConfig::default()
    }
}

#[tokio::test]
async fn an_incident_is_saved_only_after_its_pages_are_queued() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path()).await.unwrap();
    let incidents = Arc::new(PagesFirst {
        inner: sqlite.clone(),
        checked: AtomicUsize::new(0),
    });
    let mut live = live_with_incident();
    let notify = paging();
    let sqlite = Arc::new(sqlite);
    let stores = Stores {
        incidents: incidents.clone(),
        auth: sqlite.clone(),
        plans: sqlite.clone(),
        notify: sqlite,
    };
    let published = Arc::new(Published::new(live.render()));
    let state = AppState::new(published, live, stores, notify, ServerConfig::default()).unwrap();

    let mut live = state.live.lock().await;
    live.settle(&state.sinks()).await;
    assert!(
        incidents.checked.load(Ordering::Relaxed) > 0,
        "an incident with a page was saved"
    );
    assert_eq!(live.unsaved(), 0);
    assert_eq!(live.unqueued(), 0);
}

#[tokio::test]
async fn no_incident_is_saved_while_its_pages_cannot_be_queued() {
    let (incidents_dir, outbox_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let incidents = Arc::new(SqliteStore::open(incidents_dir.path()).await.unwrap());
    let outbox = SqliteStore::open(outbox_dir.path()).await.unwrap();
    // A store that refuses every write, as one whose disk filled up.
    outbox.close().await;
    let mut live = live_with_incident();
    let notify = paging();
    let stores = Stores {
        incidents: incidents.clone(),
        auth: incidents.clone(),
        plans: incidents.clone(),
        notify: Arc::new(outbox),
    };
    let published = Arc::new(Published::new(live.render()));
    let state = AppState::new(published, live, stores, notify, ServerConfig::default()).unwrap();

    let mut live = state.live.lock().await;
    let (unsaved, unqueued) = (live.unsaved(), live.unqueued());
    assert!(
        unsaved > 0 && unqueued > 0,
        "the incident is new and its page not yet queued"
    );
    live.settle(&state.sinks()).await;
    assert_eq!((live.unsaved(), live.unqueued()), (unsaved, unqueued));
    assert!(
        incidents.recent_incidents(10).await.unwrap().is_empty(),
        "an incident was saved while its page could not be queued"
    );
}

/// A store whose saves never finish, as one behind a lock held elsewhere.
struct Stalls;

impl Store for Stalls {
    fn save_incident<'a>(&'a self, _: &'a Incident) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::pending())
    }

    fn recent_incidents(&self, _: u32) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn incident(&self, _: u64) -> BoxFuture<'_, Result<Option<Incident>, StoreError>> {
        Box::pin(async { Ok(None) })
    }

    fn next_incident_id(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Ok(1) })
    }
}

/// A save cut off part way (a request's timeout, its client gone) leaves
/// every incident it had not saved dirty, for the next save to write.
#[tokio::test]
async fn a_save_cut_off_leaves_its_incidents_to_the_next() {
    let mut live = live_with_incident();
    let cut = tokio::time::timeout(std::time::Duration::from_millis(50), live.save(&Stalls)).await;
    assert!(cut.is_err(), "the save never finishes");
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    live.save(&store).await;
    let saved = store.recent_incidents(100).await.unwrap();
    assert!(!saved.is_empty());
    assert_eq!(saved.len(), live.run().engine().incidents().len());
}

/// A closed incident resolved long enough ago leaves the engine for the
/// earlier runs' history, as a restart would put it: still found, shown and
/// updatable, while the engine keeps only what it may still advance.
#[tokio::test]
async fn a_long_closed_incident_is_retired_from_the_engine_and_still_answers() {
    use dialtone_engine::OperatorAction;
    let mut live = live_with_incident();
    let open = (live.run().engine().incidents().iter()).find(|i| i.status.is_open());
    let id = open.expect("the outage's incident is open").id;
    live.act(id, "ada", &OperatorAction::Resolve { body: None })
        .unwrap();
    live.retire_closed(live.now() + 1);
    assert!(
        (live.run().engine().incidents().iter()).all(|i| i.id != id),
        "retired from the engine"
    );
    assert!(live.incident(id).is_some(), "still found");
    assert!(live.incidents().iter().any(|i| i.id == id), "still listed");
    let update = OperatorAction::Update {
        status: Some(dialtone_model::IncidentStatus::Postmortem),
        body: "A postmortem follows.".into(),
    };
    live.act(id, "ada", &update).unwrap();
    let timeline = &live.incident(id).unwrap().timeline;
    assert!(
        timeline
            .iter()
            .any(|e| e.public_body == "A postmortem follows."),
        "{timeline:#?}"
    );
}

/// Of the closed incidents held outside the engine, only the newest
/// `CLOSED_KEPT` stay in memory; the store answers for the rest by id.
#[test]
fn only_the_newest_closed_incidents_stay_in_memory() {
    use dialtone_model::IncidentStatus;
    use dialtone_server::live::CLOSED_KEPT;
    let closed: Vec<Incident> = (1..=CLOSED_KEPT as u64 + 5)
        .map(|id| {
            let mut inc = Incident::open(id, id as i64 * 60);
            inc.status = IncidentStatus::Resolved;
            inc.resolved_at = Some(id as i64 * 60 + 30);
            inc
        })
        .collect();
    let mut live = common::resumed_after(closed, 0);
    live.retire_closed(0);
    assert_eq!(live.incidents().len(), CLOSED_KEPT);
    assert!(live.incident(5).is_none() && live.incident(6).is_some());
}
