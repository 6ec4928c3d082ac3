//! What operators told the pipeline ahead of a fault: changes made to the
//! network (`POST /api/v1/changes`) and high-stakes events to watch
//! (`POST /api/v1/watches`), and the probes firing (`POST /api/v1/alerts`).
//! The engine holds them in memory; kept here, a restarted run still weighs
//! a recent change as evidence, still watches an event scheduled before the
//! restart and still counts a probe that fired before it.

use dialtone_engine::{ChangeEvent, EventWatch, ProbeAlert};
use dialtone_model::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::{BoxFuture, SqliteStore, StoreError};

pub trait PlanStore: Send + Sync {
    fn save_change<'a>(&'a self, change: &'a ChangeEvent) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Changes that took effect at `at` or later, oldest first.
    fn changes_since(&self, at: Timestamp) -> BoxFuture<'_, Result<Vec<ChangeEvent>, StoreError>>;
    fn save_watch<'a>(&'a self, watch: &'a EventWatch) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Events that end after `at`, in the order they were scheduled.
    fn watches_ending_after(
        &self,
        at: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<EventWatch>, StoreError>>;
    /// Keeps what one notification said of probes, in one transaction: a
    /// firing alert, heard at wall-clock `heard_at`, is kept (again, with
    /// the new time), a resolved one forgotten.
    fn record_probes<'a>(
        &'a self,
        alerts: &'a [ProbeAlert],
        heard_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The probes firing and heard of at wall-clock `since` or later, each
    /// with when it was last heard of; those heard of only before are
    /// forgotten (taken as resolved, as the running server took them).
    fn firing_probes(
        &self,
        since: i64,
    ) -> BoxFuture<'_, Result<Vec<(ProbeAlert, i64)>, StoreError>>;
}

impl SqliteStore {
    /// Inserts `record` as JSON with its time `at`: `sql` names the table
    /// and the time's column, binding `?1` (time) and `?2` (record).
    async fn insert_plan(
        &self,
        sql: &str,
        at: Timestamp,
        what: &str,
        record: &impl Serialize,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(record)
            .map_err(|e| StoreError::BadRow(format!("{what}: {e}")))?;
        sqlx::query(sql)
            .bind(at)
            .bind(json)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The records `sql` selects (a `record` column, bound `?1` to `at`).
    async fn plans<T: DeserializeOwned>(
        &self,
        sql: &str,
        at: Timestamp,
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        let rows = sqlx::query(sql).bind(at).fetch_all(&self.pool).await?;
        (rows.iter())
            .map(|row| {
                let record: String = row.try_get("record")?;
                serde_json::from_str(&record)
                    .map_err(|e| StoreError::BadRow(format!("{what}: {e}")))
            })
            .collect()
    }
}

impl PlanStore for SqliteStore {
    fn save_change<'a>(&'a self, change: &'a ChangeEvent) -> BoxFuture<'a, Result<(), StoreError>> {
        let sql = "INSERT INTO changes (at, record) VALUES (?1, ?2)";
        Box::pin(self.insert_plan(sql, change.at, "change", change))
    }

    fn changes_since(&self, at: Timestamp) -> BoxFuture<'_, Result<Vec<ChangeEvent>, StoreError>> {
        let sql = "SELECT record FROM changes WHERE at >= ?1 ORDER BY at, id";
        Box::pin(self.plans(sql, at, "change"))
    }

    fn save_watch<'a>(&'a self, watch: &'a EventWatch) -> BoxFuture<'a, Result<(), StoreError>> {
        let sql = "INSERT INTO watches (ends_at, record) VALUES (?1, ?2)";
        Box::pin(self.insert_plan(sql, watch.end, "watch", watch))
    }

    fn watches_ending_after(
        &self,
        at: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<EventWatch>, StoreError>> {
        let sql = "SELECT record FROM watches WHERE ends_at > ?1 ORDER BY id";
        Box::pin(self.plans(sql, at, "watch"))
    }

    fn record_probes<'a>(
        &'a self,
        alerts: &'a [ProbeAlert],
        heard_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            for alert in alerts {
                let query = if alert.firing {
                    sqlx::query(
                        "INSERT INTO probes (element, alert_id, services, heard_at) VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (element, alert_id) DO UPDATE SET services = ?3, heard_at = ?4",
                    )
                    .bind(&alert.element)
                    .bind(&alert.id)
                    .bind(i64::from(alert.services))
                    .bind(heard_at)
                } else {
                    sqlx::query("DELETE FROM probes WHERE element = ?1 AND alert_id = ?2")
                        .bind(&alert.element)
                        .bind(&alert.id)
                };
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn firing_probes(
        &self,
        since: i64,
    ) -> BoxFuture<'_, Result<Vec<(ProbeAlert, i64)>, StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM probes WHERE heard_at < ?1")
                .bind(since)
                .execute(&self.pool)
                .await?;
            let rows = sqlx::query(
                "SELECT element, alert_id, services, heard_at FROM probes ORDER BY element, alert_id",
            )
            .fetch_all(&self.pool)
            .await?;
            (rows.iter())
                .map(|row| {
                    let services: i64 = row.try_get("services")?;
                    let alert = ProbeAlert {
                        id: row.try_get("alert_id")?,
                        element: row.try_get("element")?,
                        services: dialtone_model::ServiceMask::try_from(services).map_err(|e| {
                            StoreError::BadRow(format!("probe services {services}: {e}"))
                        })?,
                        firing: true,
                    };
                    Ok((alert, row.try_get("heard_at")?))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use dialtone_engine::ChangeKind;

    use super::*;

    #[tokio::test]
    async fn changes_and_watches_come_back_from_when_they_still_matter() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let change = |at| ChangeEvent {
            at,
            element: "amf-1".into(),
            kind: ChangeKind::Deploy,
            description: format!("rollout at {at}"),
        };
        for at in [300, 100, 200] {
            store.save_change(&change(at)).await.unwrap();
        }
        let since: Vec<Timestamp> = (store.changes_since(200).await.unwrap().iter())
            .map(|c| c.at)
            .collect();
        assert_eq!(since, [200, 300]);
        let watch = |name: &str, end| EventWatch {
            name: name.into(),
            element: "bridge-1".into(),
            start: 0,
            end,
            fallback: Some("bridge-2".into()),
        };
        store.save_watch(&watch("over", 500)).await.unwrap();
        store.save_watch(&watch("board call", 900)).await.unwrap();
        assert_eq!(
            store.watches_ending_after(500).await.unwrap(),
            [watch("board call", 900)]
        );
    }

    #[tokio::test]
    async fn firing_probes_come_back_until_resolved_or_unheard_of() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let probe = |id: &str, firing| ProbeAlert {
            id: id.into(),
            element: "cell-1".into(),
            services: 0b11,
            firing,
        };
        let alerts = [probe("a", true), probe("b", true), probe("c", true)];
        store.record_probes(&alerts, 1_000).await.unwrap();
        // Repeated later, or resolved.
        store
            .record_probes(&[probe("a", true), probe("b", false)], 5_000)
            .await
            .unwrap();
        assert_eq!(
            store.firing_probes(0).await.unwrap(),
            [(probe("a", true), 5_000), (probe("c", true), 1_000)]
        );
        // Unheard of since 2,000: taken as resolved, and gone.
        assert_eq!(
            store.firing_probes(2_000).await.unwrap(),
            [(probe("a", true), 5_000)]
        );
        assert_eq!(store.firing_probes(0).await.unwrap().len(), 1);
    }
}
