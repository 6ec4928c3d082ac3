//! What operators told the pipeline ahead of a fault: changes made to the
//! network (`POST /api/v1/changes`) and high-stakes events to watch
//! (`POST /api/v1/watches`). The engine holds them in memory; kept here, a
//! restarted run still weighs a recent change as evidence and still watches
//! an event scheduled before the restart.

use dialtone_engine::{ChangeEvent, EventWatch};
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
}
