//! Users, API tokens, sessions, one-time sign-in links and the audit log.
//! Only hashes of secrets reach the database.

use dialtone_auth::Role;
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{BoxFuture, SqliteStore, StoreError};

/// Someone who may use the console or the operator API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// argon2id PHC string; `None` for token-only users.
    pub password_hash: Option<String>,
}

/// A console session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: i64,
}

/// One operator action: who did what to which target, when (Unix seconds, wall clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Persistence of who may do what, and of what they did.
pub trait AuthStore: Send + Sync {
    /// Adds a user; a taken name is [`StoreError::Conflict`].
    fn add_user<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        password_hash: Option<&'a str>,
        at: i64,
    ) -> BoxFuture<'a, Result<User, StoreError>>;
    fn user_by_name<'a>(&'a self, name: &'a str)
    -> BoxFuture<'a, Result<Option<User>, StoreError>>;
    fn count_users(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
    fn add_token<'a>(
        &'a self,
        user_id: i64,
        token_id: &'a str,
        secret_hash: &'a str,
        label: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The owner of token `token_id` and the stored hash of its secret.
    fn token<'a>(
        &'a self,
        token_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(User, String)>, StoreError>>;
    /// Deletes token `token_id`: requests bearing it fail from now on.
    /// False when there is no such token.
    fn revoke_token<'a>(&'a self, token_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn add_session<'a>(
        &'a self,
        id_hash: &'a str,
        user_id: i64,
        csrf: &'a str,
        at: i64,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The unexpired session with this id hash.
    fn session<'a>(
        &'a self,
        id_hash: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<Session>, StoreError>>;
    fn delete_session<'a>(&'a self, id_hash: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    fn add_login_link<'a>(
        &'a self,
        code_hash: &'a str,
        user_id: i64,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Consumes a one-time link: the user if it existed and had not expired.
    fn take_login_link<'a>(
        &'a self,
        code_hash: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<User>, StoreError>>;
    fn audit<'a>(&'a self, entry: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The `limit` most recent audit entries, newest first.
    fn audit_log(&self, limit: u32) -> BoxFuture<'_, Result<Vec<AuditEntry>, StoreError>>;
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.password_hash";

fn user_of(row: &SqliteRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).map_err(|e| StoreError::BadRow(e.to_string()))?,
        password_hash: row.try_get("password_hash")?,
    })
}

impl AuthStore for SqliteStore {
    fn add_user<'a>(
        &'a self,
        name: &'a str,
        role: Role,
        password_hash: Option<&'a str>,
        at: i64,
    ) -> BoxFuture<'a, Result<User, StoreError>> {
        Box::pin(async move {
            let result = sqlx::query(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(at)
            .execute(&self.pool)
            .await;
            match result {
                Ok(done) => Ok(User {
                    id: done.last_insert_rowid(),
                    name: name.to_string(),
                    role,
                    password_hash: password_hash.map(str::to_string),
                }),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(
                    StoreError::Conflict(format!("a user named `{name}` already exists")),
                ),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn user_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            sqlx::query(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?1"
            ))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_of)
            .transpose()
        })
    }

    fn count_users(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&self.pool)
                .await?;
            Ok(n as u64)
        })
    }

    fn add_token<'a>(
        &'a self,
        user_id: i64,
        token_id: &'a str,
        secret_hash: &'a str,
        label: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, secret_hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(token_id)
            .bind(user_id)
            .bind(secret_hash)
            .bind(label)
            .bind(at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn token<'a>(
        &'a self,
        token_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<(User, String)>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(&format!(
                "SELECT {USER_COLUMNS}, t.secret_hash FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?1"
            ))
            .bind(token_id)
            .fetch_optional(&self.pool)
            .await?;
            row.map(|r| Ok((user_of(&r)?, r.try_get("secret_hash")?)))
                .transpose()
        })
    }

    fn revoke_token<'a>(&'a self, token_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM api_tokens WHERE id = ?1")
                .bind(token_id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn add_session<'a>(
        &'a self,
        id_hash: &'a str,
        user_id: i64,
        csrf: &'a str,
        at: i64,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // Sign-ins are rare: a good moment to forget expired sessions.
            sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1")
                .bind(at)
                .execute(&self.pool)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(id_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(at)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn session<'a>(
        &'a self,
        id_hash: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<Session>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(&format!(
                "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = ?1 AND s.expires_at > ?2"
            ))
            .bind(id_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            row.map(|r| {
                Ok(Session {
                    user: user_of(&r)?,
                    csrf: r.try_get("csrf")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .transpose()
        })
    }

    fn delete_session<'a>(&'a self, id_hash: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM sessions WHERE id_hash = ?1")
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn add_login_link<'a>(
        &'a self,
        code_hash: &'a str,
        user_id: i64,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO login_links (code_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            )
            .bind(code_hash)
            .bind(user_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn take_login_link<'a>(
        &'a self,
        code_hash: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            // Links that expired unused would otherwise stay for good.
            // First: should this fail, the link clicked is still there.
            sqlx::query("DELETE FROM login_links WHERE expires_at <= ?1")
                .bind(now)
                .execute(&self.pool)
                .await?;
            // DELETE ... RETURNING makes the link single-use even under
            // concurrent clicks; the purge above left only unexpired links.
            let link =
                sqlx::query("DELETE FROM login_links WHERE code_hash = ?1 RETURNING user_id")
                    .bind(code_hash)
                    .fetch_optional(&self.pool)
                    .await?;
            let Some(link) = link else { return Ok(None) };
            let user_id: i64 = link.try_get("user_id")?;
            sqlx::query(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"
            ))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_of)
            .transpose()
        })
    }

    fn audit<'a>(&'a self, e: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.detail)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn audit_log(&self, limit: u32) -> BoxFuture<'_, Result<Vec<AuditEntry>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
            )
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        at: r.try_get("at")?,
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        target: r.try_get("target")?,
                        detail: r.try_get("detail")?,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn users_are_unique_by_name() {
        let (_dir, s) = store().await;
        let u = s
            .add_user("ada", Role::Admin, Some("$argon2id$x"), 1)
            .await
            .unwrap();
        assert_eq!(s.user_by_name("ada").await.unwrap(), Some(u));
        let err = s.add_user("ada", Role::Viewer, None, 2).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("already exists"));
        assert_eq!(s.count_users().await.unwrap(), 1);
        assert_eq!(s.user_by_name("bob").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_revoked_token_no_longer_resolves() {
        let (_dir, s) = store().await;
        let user = s.add_user("ada", Role::Admin, None, 0).await.unwrap();
        s.add_token(user.id, "t1", "hash", "pager", 0)
            .await
            .unwrap();
        assert!(s.token("t1").await.unwrap().is_some());
        assert!(s.revoke_token("t1").await.unwrap());
        assert!(s.token("t1").await.unwrap().is_none());
        assert!(!s.revoke_token("t1").await.unwrap(), "gone already");
    }

    #[tokio::test]
    async fn tokens_and_sessions_resolve_to_their_user_until_they_expire() {
        let (_dir, s) = store().await;
        let u = s.add_user("op", Role::Operator, None, 1).await.unwrap();
        s.add_token(u.id, "0011223344556677", "hash", "ci", 1)
            .await
            .unwrap();
        let (owner, hash) = s.token("0011223344556677").await.unwrap().unwrap();
        assert_eq!((owner.name.as_str(), hash.as_str()), ("op", "hash"));
        assert!(s.token("ffffffffffffffff").await.unwrap().is_none());

        s.add_session("sh", u.id, "csrf", 10, 100).await.unwrap();
        assert_eq!(s.session("sh", 99).await.unwrap().unwrap().csrf, "csrf");
        assert!(s.session("sh", 100).await.unwrap().is_none(), "expired");
        s.delete_session("sh").await.unwrap();
        assert!(s.session("sh", 50).await.unwrap().is_none(), "signed out");
    }

    #[tokio::test]
    async fn login_links_work_once_and_not_after_expiry() {
        let (_dir, s) = store().await;
        let u = s.add_user("op", Role::Admin, None, 1).await.unwrap();
        s.add_login_link("code", u.id, 100).await.unwrap();
        assert_eq!(
            s.take_login_link("code", 50).await.unwrap().unwrap().name,
            "op"
        );
        assert!(
            s.take_login_link("code", 50).await.unwrap().is_none(),
            "single use"
        );
        s.add_login_link("late", u.id, 100).await.unwrap();
        s.add_login_link("unused", u.id, 100).await.unwrap();
        assert!(
            s.take_login_link("late", 100).await.unwrap().is_none(),
            "expired"
        );
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_links")
            .fetch_one(&s.pool)
            .await
            .unwrap();
        assert_eq!(
            left, 0,
            "expired links unused are deleted at the next sign-in by link"
        );
    }

    #[tokio::test]
    async fn the_audit_log_lists_newest_first() {
        let (_dir, s) = store().await;
        for (at, action) in [(1, "acknowledge"), (2, "resolve")] {
            let e = AuditEntry {
                at,
                actor: "op".into(),
                action: action.into(),
                target: "incident 1".into(),
                detail: String::new(),
            };
            s.audit(&e).await.unwrap();
        }
        let log = s.audit_log(10).await.unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["resolve", "acknowledge"]
        );
    }
}
