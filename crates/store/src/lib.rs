//! Where incidents live. [`Store`] is what the server needs; [`SqliteStore`] is
//! the embedded default (one file in the data directory, WAL, migrations).
//! A shared store for several servers (PostgreSQL) would implement the same
//! traits; none exists yet.

mod auth;
mod notify;
mod plans;

pub use auth::{AuditEntry, AuthStore, Session, User};
pub use notify::{
    Channel, CountedReport, Lane, NewSubscriber, NotifyStore, OutboxItem, OutboxMessage,
    ReportReply, Subscriber, notice_key, token_digest,
};
pub use plans::PlanStore;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use dialtone_engine::Incident;
use dialtone_model::IncidentStatus;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// File name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "dialtone.sqlite";

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "could not migrate the database schema: {0}; a database a newer Dialtone has migrated needs that version, or a backup from before"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "stored incident {id} is unreadable ({source}); the row was written by an incompatible version"
    )]
    Corrupt { id: i64, source: serde_json::Error },
    #[error("could not encode incident {0} for storage: {1}")]
    Encode(u64, serde_json::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("a stored row is unreadable ({0}); it was written by an incompatible version")]
    BadRow(String),
}

/// Persistence of incidents and their timelines. Saves are idempotent: saving
/// the same incident twice, or after a restart, duplicates nothing.
pub trait Store: Send + Sync {
    /// Inserts or updates the incident and appends timeline entries not yet stored.
    fn save_incident<'a>(&'a self, incident: &'a Incident)
    -> BoxFuture<'a, Result<(), StoreError>>;
    /// The `limit` most recent incidents and every one still open, oldest
    /// first, with their timelines: an open incident must come back after a
    /// restart however many have opened since.
    fn recent_incidents(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>>;
    /// Incident `id` with its timeline, however old: a server keeps only
    /// the recent ones in memory.
    fn incident(&self, id: u64) -> BoxFuture<'_, Result<Option<Incident>, StoreError>>;
    /// The id the next new incident should take.
    fn next_incident_id(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database in `data_dir` and migrates it.
    pub async fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        let url = format!("sqlite://{}", data_dir.join(SQLITE_FILE).display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Closes the pool; later calls fail. Used to prove the public page survives.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store for SqliteStore {
    fn save_incident<'a>(&'a self, inc: &'a Incident) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let record = serde_json::to_string(inc).map_err(|e| StoreError::Encode(inc.id, e))?;
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO incidents (id, status, severity, title, opened_at, updated_at, resolved_at, root_cause, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET status = ?2, severity = ?3, title = ?4, updated_at = ?6,
                     resolved_at = ?7, root_cause = ?8, record = ?9",
            )
            .bind(inc.id as i64)
            .bind(inc.status.as_str())
            .bind(inc.severity.as_str())
            .bind(&inc.title)
            .bind(inc.opened_at)
            .bind(inc.updated_at)
            .bind(inc.resolved_at)
            .bind(inc.root_cause.as_deref())
            .bind(&record)
            .execute(&mut *tx)
            .await?;
            for (seq, e) in inc.timeline.iter().enumerate() {
                sqlx::query(
                    "INSERT OR IGNORE INTO timeline (incident_id, seq, at, kind, status, public_body, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .bind(inc.id as i64)
                .bind(seq as i64)
                .bind(e.at)
                .bind(e.kind.as_str())
                .bind(e.status.as_str())
                .bind(&e.public_body)
                .bind(&e.detail)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn recent_incidents(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Incident>, StoreError>> {
        Box::pin(async move {
            // The statuses `IncidentStatus::is_open` calls closed.
            let rows = sqlx::query(
                "SELECT id, record FROM incidents
                 WHERE id IN (SELECT id FROM incidents ORDER BY id DESC LIMIT ?1)
                    OR status NOT IN (?2, ?3)
                 ORDER BY id DESC",
            )
            .bind(i64::from(limit))
            .bind(IncidentStatus::Resolved.as_str())
            .bind(IncidentStatus::Postmortem.as_str())
            .fetch_all(&self.pool)
            .await?;
            let mut out = rows
                .iter()
                .map(|r| decode_incident(r.get("id"), &r.get::<String, _>("record")))
                .collect::<Result<Vec<_>, _>>()?;
            out.reverse();
            Ok(out)
        })
    }

    fn incident(&self, id: u64) -> BoxFuture<'_, Result<Option<Incident>, StoreError>> {
        Box::pin(async move {
            let Ok(row_id) = i64::try_from(id) else {
                return Ok(None);
            };
            let record: Option<String> =
                sqlx::query_scalar("SELECT record FROM incidents WHERE id = ?1")
                    .bind(row_id)
                    .fetch_optional(&self.pool)
                    .await?;
            record.map(|r| decode_incident(row_id, &r)).transpose()
        })
    }

    fn next_incident_id(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM incidents")
                .fetch_one(&self.pool)
                .await?;
            Ok(max.map_or(1, |m| m as u64 + 1))
        })
    }
}

/// An incident's stored record, or which row is damaged.
fn decode_incident(id: i64, record: &str) -> Result<Incident, StoreError> {
    serde_json::from_str(record).map_err(|source| StoreError::Corrupt { id, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_incident_comes_back_however_many_opened_since() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        for id in 1..=5 {
            let mut inc = Incident::open(id, 1_000 * id as i64);
            if id != 2 {
                inc.status = IncidentStatus::Resolved;
            }
            store.save_incident(&inc).await.unwrap();
        }
        let ids = |incidents: Vec<Incident>| incidents.iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(ids(store.recent_incidents(2).await.unwrap()), [2, 4, 5]);
        assert_eq!(ids(store.recent_incidents(4).await.unwrap()), [2, 3, 4, 5]);
        assert_eq!(store.incident(1).await.unwrap().map(|i| i.id), Some(1));
        assert!(store.incident(6).await.unwrap().is_none());
        assert!(store.incident(u64::MAX).await.unwrap().is_none());
    }
}
