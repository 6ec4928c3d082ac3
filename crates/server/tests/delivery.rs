//! Delivering the outbox against the real SQLite store: when a send fails,
//! its retry is dated from the failure, read off the clock then, not from
//! the start of the pass (a pass over many slow webhooks takes minutes, and
//! a retry dated from its start would be due again at once).

use std::sync::atomic::{AtomicI64, Ordering};

use dialtone_notify::{Courier, NotifyConfig, deliver_due, retry_delay_secs};
use dialtone_store::{Lane, NotifyStore, OutboxItem, SqliteStore};

#[tokio::test]
async fn a_retry_is_dated_from_the_failed_send_not_the_start_of_the_pass() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let page = OutboxItem {
        key: "page/1/trigger/0/alertmanager-0".into(),
        channel: "alertmanager".into(),
        // Nothing listens on the discard port: refused, a transient failure.
        destination: "http://127.0.0.1:9/api/v2/alerts".into(),
        subject: "Calls failing in North".into(),
        body: "[]".into(),
        secret: None,
        event_at: 1_000,
    };
    store.enqueue(&[page], 1_000).await.unwrap();
    // The pass starts at 1,000; by the time the send has failed it is 5,000.
    let clock = AtomicI64::new(1_000);
    let now = || clock.swap(5_000, Ordering::Relaxed);
    let courier = Courier::new(&NotifyConfig::default()).unwrap();
    let report = deliver_due(&store, &courier, &now, Lane::Pages, &|| false)
        .await
        .unwrap();
    assert_eq!(report.retrying, 1, "{report:?}");
    let [message] = &store.outbox(10).await.unwrap()[..] else {
        panic!("one message");
    };
    assert_eq!(message.attempts, 1);
    assert_eq!(message.next_attempt_at, 5_000 + retry_delay_secs(1));
}

#[tokio::test]
async fn sends_that_never_record_an_outcome_run_out_of_attempts_and_are_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let drain = OutboxItem {
        key: "mitigation/1/drain/0".into(),
        channel: "webhook".into(),
        // Never called: every attempt below ends before its send.
        destination: "http://127.0.0.1:9/drain".into(),
        subject: "Drain upf-1".into(),
        body: "{}".into(),
        secret: None,
        event_at: 1_000,
    };
    store
        .enqueue(std::slice::from_ref(&drain), 1_000)
        .await
        .unwrap();
    // A server killed mid-send twelve times: each claim is an attempt, and
    // none records an outcome.
    let mut at = 1_000;
    for _ in 0..12 {
        assert!(store.claim(&drain.key, at, at + 3_600).await.unwrap());
        at += 3_600;
    }
    let courier = Courier::new(&NotifyConfig::default()).unwrap();
    let report = deliver_due(&store, &courier, &|| at, Lane::Mitigations, &|| false)
        .await
        .unwrap();
    assert_eq!(report.gave_up, 1, "{report:?}");
    let [message] = &store.outbox(10).await.unwrap()[..] else {
        panic!("one message");
    };
    assert_eq!((message.attempts, message.gave_up_at), (12, Some(at)));
    assert!(
        message
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no outcome was recorded")),
        "{message:?}"
    );
}
