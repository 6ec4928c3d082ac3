//! Subscribers and the outbox.
//!
//! Every outbound message is first a row in the outbox, keyed by what it is
//! about (`notice/<incident>/<entry>/<subscriber>-<token digest>`, `page/...`): enqueueing
//! the same message twice, or again after a restart, is a no-op, and a
//! message that failed stays until it is delivered or given up on.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{BoxFuture, SqliteStore, StoreError};

/// How a subscriber hears from us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Result<Channel, StoreError> {
        match s {
            "email" => Ok(Channel::Email),
            "webhook" => Ok(Channel::Webhook),
            other => Err(StoreError::BadRow(format!("unknown channel `{other}`"))),
        }
    }
}

/// A subscription as requested: what to send where, about what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscriber {
    pub channel: Channel,
    /// An email address or a webhook URL.
    pub target: String,
    /// Service names (`registration`, `voice`, `data`); empty means all.
    pub services: Vec<String>,
    /// Region ids; empty means all.
    pub regions: Vec<String>,
}

/// A stored subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscriber {
    pub id: i64,
    pub channel: Channel,
    pub target: String,
    pub services: Vec<String>,
    pub regions: Vec<String>,
    #[serde(skip)]
    pub secret: Option<String>,
    pub confirmed: bool,
    #[serde(skip)]
    pub unsubscribe_token: String,
}

impl Subscriber {
    /// Whether an incident concerns this subscriber, given its `areas`:
    /// region ids, each with the services broken there (none named: any).
    /// It does when one area is a region they follow with a service they
    /// follow broken there: calls broken in the north and data in the
    /// south are no news to someone following data in the north. An
    /// incident in no region (conference calls) reaches those who follow
    /// everything.
    pub fn wants(&self, areas: &[(&str, Vec<&str>)]) -> bool {
        let follows =
            |mine: &[String], theirs: &str| mine.is_empty() || mine.iter().any(|m| m == theirs);
        if areas.is_empty() {
            return self.services.is_empty() && self.regions.is_empty();
        }
        areas.iter().any(|(region, services)| {
            follows(&self.regions, region)
                && (services.is_empty() || services.iter().any(|s| follows(&self.services, s)))
        })
    }
}

/// The email owed to customers who reported a problem, once it is fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReply {
    pub incident: u64,
    /// Areas (region ids) the incident covered, each with the problems (as
    /// reported: `cannot_call`, ...) it answers there: those of the services
    /// it broke there. A fix for calls is no fix for someone without data.
    pub areas: Vec<(String, Vec<String>)>,
    /// Network-time window of the reports it answers.
    pub from: i64,
    pub to: i64,
    pub subject: String,
    pub body: String,
}

/// A message to send. Listings show only its key and channel: addresses
/// and bodies carry subscribers' data, secrets sign webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    /// Idempotency key: what the message is about and for whom.
    pub key: String,
    /// `email`, `webhook`, `pagerduty`, `alertmanager`, `mitigation` ...
    pub channel: String,
    /// Address or URL.
    #[serde(skip)]
    pub destination: String,
    #[serde(skip)]
    pub subject: String,
    #[serde(skip)]
    pub body: String,
    /// HMAC key to sign the body with, for subscriber webhooks.
    #[serde(skip)]
    pub secret: Option<String>,
    /// Network time of the event the message is about.
    #[serde(skip)]
    pub event_at: i64,
}

/// A message in the outbox with its delivery state (times are wall-clock Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    #[serde(flatten)]
    pub item: OutboxItem,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
}

/// Persistence of subscribers and outbound messages.
pub trait NotifyStore: Send + Sync {
    /// Adds a subscriber; one already subscribed on that channel and target
    /// is [`StoreError::Conflict`]. A subscriber with a `confirm_hash` stays
    /// unconfirmed until [`NotifyStore::confirm_subscriber`] sees the token
    /// hashing to it, and replaces an unconfirmed one for the same target
    /// asked for at least [`CONFIRM_AGAIN_AFTER_SECS`] before `at` (the old
    /// link stops working, and its confirmation, if still undelivered, is
    /// not sent): otherwise anyone could block an address by subscribing it
    /// first, and a confirmation lost in the mail could never be asked for
    /// again. A younger unconfirmed one is a [`StoreError::Conflict`].
    fn add_subscriber<'a>(
        &'a self,
        new: &'a NewSubscriber,
        confirm_hash: Option<&'a str>,
        secret: Option<&'a str>,
        unsubscribe_token: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<Subscriber, StoreError>>;
    /// Confirms the subscriber whose token hashes to `confirm_hash`, once.
    fn confirm_subscriber<'a>(
        &'a self,
        confirm_hash: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<Option<Subscriber>, StoreError>>;
    /// Removes the subscriber holding `token`, and the notices still queued
    /// for them; false if none does.
    fn unsubscribe<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn confirmed_subscribers(&self) -> BoxFuture<'_, Result<Vec<Subscriber>, StoreError>>;
    /// At most `limit` subscribers with ids above `after`, in id order: a
    /// page of the list, which may hold millions.
    fn subscribers_after(
        &self,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Subscriber>, StoreError>>;
    /// Queues messages not queued before; returns how many were new.
    fn enqueue<'a>(
        &'a self,
        items: &'a [OutboxItem],
        now: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Undelivered messages of `lane` due by `now`, oldest first; a page not
    /// before the earlier pages about its incident to its pager are
    /// delivered or given up.
    fn due_messages(
        &self,
        now: i64,
        limit: u32,
        lane: Lane,
    ) -> BoxFuture<'_, Result<Vec<OutboxMessage>, StoreError>>;
    /// Erases the public's addresses (email, subscriber webhooks) from
    /// messages delivered or given up before `before`, and their errors,
    /// which may name them, with the webhook's signing key and a
    /// confirmation's opt-in link (kept hashed elsewhere), and the contacts
    /// left on reports received before
    /// it (told of a fix or not: 30 days is as long as the form promises to
    /// keep one); the rows stay, for postmortems and counts. Email sign-ups
    /// asked for before `before` and never confirmed go whole: anyone may
    /// ask for one, and an address its owner never confirmed is not theirs
    /// to keep (its link stops working). Returns how many.
    fn forget_destinations(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Holds the message back until `until` before it is sent, and counts the
    /// attempt: if the store then fails to record the outcome, or the server
    /// stops mid-send, the next passes do not send it again at once, and an
    /// attempt whose outcome never came still counts towards giving up. An error means the store cannot be written, and the
    /// message must not be sent. So must one this returns `false` for: it
    /// is no longer due at `now` (deleted since it was listed, as a notice
    /// whose subscriber left, or claimed by another pass).
    fn claim<'a>(
        &'a self,
        key: &'a str,
        now: i64,
        until: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Gives up on a message still due at `now` without another attempt
    /// (its attempts ran out without an outcome recorded); `false` if it is
    /// no longer due (sent, given up, or claimed since it was listed).
    fn give_up_due<'a>(
        &'a self,
        key: &'a str,
        error: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Records that the attempt [`NotifyStore::claim`] counted delivered it.
    fn mark_delivered<'a>(&'a self, key: &'a str, at: i64)
    -> BoxFuture<'a, Result<(), StoreError>>;
    /// Records that the attempt [`NotifyStore::claim`] counted failed: retried at `retry_at`, or given up on when `None`.
    fn mark_failed<'a>(
        &'a self,
        key: &'a str,
        error: &'a str,
        retry_at: Option<i64>,
        at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The most recent messages, newest first.
    fn outbox(&self, limit: u32) -> BoxFuture<'_, Result<Vec<OutboxMessage>, StoreError>>;
    /// Stores a customer report, and whether the surge detector `counted`
    /// it; returns its id.
    fn add_report<'a>(
        &'a self,
        at: i64,
        area: &'a str,
        problem: &'a str,
        contact: Option<&'a str>,
        counted: bool,
        received_at: i64,
    ) -> BoxFuture<'a, Result<i64, StoreError>>;
    /// Reports counted at network time `at` or later, oldest first: what a
    /// restarted run's surge baseline learns from again (not those the
    /// detector did not count).
    fn reports_since(&self, at: i64) -> BoxFuture<'_, Result<Vec<CountedReport>, StoreError>>;
    /// The network time of the latest report stored, counted or not: a
    /// restarted run whose network time starts over must start past it, or
    /// its replies would reach the earlier run's reporters.
    fn latest_report_at(&self) -> BoxFuture<'_, Result<Option<i64>, StoreError>>;
    /// Queues `reply` to every reporter who left a contact in its areas and
    /// time window, and forgets those contacts, in one transaction: each
    /// reporter is told once and their report keeps their address no longer
    /// (the reply's outbox row keeps it until
    /// [`NotifyStore::forget_destinations`] erases it).
    fn queue_report_replies<'a>(
        &'a self,
        reply: &'a ReportReply,
        now: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Every notice, page, mitigation and reply to a reporter about
    /// incident `id`, oldest first.
    fn outbox_for_incident(&self, id: u64)
    -> BoxFuture<'_, Result<Vec<OutboxMessage>, StoreError>>;
}

/// A customer report as counted: when (network time), where and what.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CountedReport {
    pub at: i64,
    pub area: String,
    pub problem: String,
}

/// How long an unconfirmed email subscription stands before a new request
/// may replace it: each replacement mails the address, and a stranger must
/// not be able to fill an inbox with confirmation requests.
pub const CONFIRM_AGAIN_AFTER_SECS: i64 = 600;

const SUBSCRIBER_COLUMNS: &str =
    "id, channel, target, services, regions, secret, confirmed_at, unsubscribe_token";
/// A message's lane, as [`Lane::number`] numbers them.
const LANE_OF: &str =
    "(CASE WHEN key LIKE 'page/%' THEN 0 WHEN key LIKE 'mitigation/%' THEN 1 ELSE 2 END)";

/// The outbox's delivery lanes, each passed over on its own: a page never
/// waits behind a mitigation (a failover or drain command may run for
/// minutes), and neither waits behind the public's messages (notices,
/// confirmations, replies), which a large outage queues by the thousand and
/// whose webhooks anyone may point at a receiver that never answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Pages,
    Mitigations,
    Public,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Pages, Lane::Mitigations, Lane::Public];

    /// Its position in [`Lane::ALL`], as [`LANE_OF`] numbers it.
    pub const fn number(self) -> usize {
        match self {
            Lane::Pages => 0,
            Lane::Mitigations => 1,
            Lane::Public => 2,
        }
    }

    /// Its name, in logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Pages => "pages",
            Lane::Mitigations => "mitigations",
            Lane::Public => "public",
        }
    }

    /// Whether its messages go to the operator's own people and systems.
    pub const fn is_operators(self) -> bool {
        !matches!(self, Lane::Public)
    }
}

/// A page or a notice waits while an earlier one about the same incident
/// to the same destination is still pending (its retry not yet due, or
/// failing): a resolve sent before its retrying trigger would be undone by
/// it, leaving the pager's incident open after ours resolved (a pager's
/// destination is its URL; two services on one events URL share it), and a
/// subscriber's "resolved" followed by the retried "investigating" would
/// show the incident open again. (`page/<incident>/`, `notice/<incident>/`:
/// the key up to its second slash; `outbox_pending_by_destination` finds
/// the earlier ones.)
const BEHIND_AN_EARLIER_MESSAGE: &str = "((outbox.key LIKE 'page/%' OR outbox.key LIKE 'notice/%') \
     AND EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.destination = outbox.destination \
     AND earlier.delivered_at IS NULL AND earlier.gave_up_at IS NULL \
     AND earlier.rowid < outbox.rowid \
     AND substr(earlier.key, 1, instr(earlier.key, '/') + instr(substr(earlier.key, instr(earlier.key, '/') + 1), '/')) \
       = substr(outbox.key, 1, instr(outbox.key, '/') + instr(substr(outbox.key, instr(outbox.key, '/') + 1), '/'))))";

const OUTBOX_COLUMNS: &str = "key, channel, destination, subject, body, secret, event_at, \
     attempts, next_attempt_at, delivered_at, gave_up_at, last_error";

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn subscriber_of(row: &SqliteRow) -> Result<Subscriber, StoreError> {
    let channel: String = row.try_get("channel")?;
    let services: String = row.try_get("services")?;
    let regions: String = row.try_get("regions")?;
    let confirmed_at: Option<i64> = row.try_get("confirmed_at")?;
    Ok(Subscriber {
        id: row.try_get("id")?,
        channel: Channel::parse(&channel)?,
        target: row.try_get("target")?,
        services: list(&services),
        regions: list(&regions),
        secret: row.try_get("secret")?,
        confirmed: confirmed_at.is_some(),
        unsubscribe_token: row.try_get("unsubscribe_token")?,
    })
}

fn message_of(row: &SqliteRow) -> Result<OutboxMessage, StoreError> {
    let attempts: i64 = row.try_get("attempts")?;
    let item = OutboxItem {
        key: row.try_get("key")?,
        channel: row.try_get("channel")?,
        destination: row.try_get("destination")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        secret: row.try_get("secret")?,
        event_at: row.try_get("event_at")?,
    };
    Ok(OutboxMessage {
        item,
        attempts: attempts.try_into().unwrap_or(u32::MAX),
        next_attempt_at: row.try_get("next_attempt_at")?,
        delivered_at: row.try_get("delivered_at")?,
        gave_up_at: row.try_get("gave_up_at")?,
        last_error: row.try_get("last_error")?,
    })
}

/// What an outbox key names a token by, never the token itself (admins see
/// the outbox): 64 bits of its SHA-256, which tell one token from another.
pub fn token_digest(token: &str) -> String {
    hex::encode(&Sha256::digest(token)[..8])
}

/// The outbox key of `sub`'s notice about `incident`'s timeline `entry`:
/// with a digest of the subscription's token, as for confirmations, since
/// the store reuses the highest id after its subscriber leaves, and a
/// newcomer's notice must not pass for the leaver's, already sent.
pub fn notice_key(incident: u64, entry: usize, sub: &Subscriber) -> String {
    let digest = token_digest(&sub.unsubscribe_token);
    format!("notice/{incident}/{entry}/{}-{digest}", sub.id)
}

/// Whether the subscription a notice was composed for is still confirmed,
/// as the transaction `conn` sees it: the one its key names ([`notice_key`])
/// at its destination. The store reuses the highest id after its subscriber
/// leaves, so the id alone could name a newcomer at the same address. One
/// lookup by primary key per notice, beside the notice's own insert: the
/// cost follows the batch (a single notice, or one per subscriber of a wide
/// outage), never the whole subscriber table read inside a write.
async fn still_subscribed(
    conn: &mut sqlx::SqliteConnection,
    m: &OutboxItem,
) -> Result<bool, StoreError> {
    let named = (m.key.rsplit('/').next())
        .and_then(|last| last.split_once('-'))
        .and_then(|(id, digest)| Some((id.parse::<i64>().ok()?, digest)));
    let Some((id, digest)) = named else {
        return Ok(false);
    };
    let subscription: Option<(String, String)> = sqlx::query_as(
        "SELECT target, unsubscribe_token FROM subscribers \
         WHERE id = ?1 AND confirmed_at IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(subscription
        .is_some_and(|(target, token)| target == m.destination && token_digest(&token) == digest))
}

/// Queues `m` unless its key is queued already; 1 if it was new.
async fn insert_item(
    conn: &mut sqlx::SqliteConnection,
    m: &OutboxItem,
    now: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "INSERT OR IGNORE INTO outbox (key, channel, destination, subject, body, secret, \
         event_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(&m.key)
    .bind(&m.channel)
    .bind(&m.destination)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.secret)
    .bind(m.event_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

impl SqliteStore {
    /// At most `limit` subscribers matching `filter` (an SQL condition)
    /// with ids above `after`, in id order.
    async fn subscribers_where(
        &self,
        filter: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        sqlx::query(&format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {filter} AND id > ?1 \
             ORDER BY id LIMIT ?2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(subscriber_of)
        .collect()
    }
}

/// The surge baseline's reports and the latest report's time, which both
/// search `reports_by_time` (`0010_reports_by_time.sql`).
const COUNTED_REPORTS_SINCE: &str =
    "SELECT at, area, problem FROM reports WHERE at >= ?1 AND counted ORDER BY at, id";
const LATEST_REPORT_AT: &str = "SELECT MAX(at) FROM reports";

impl NotifyStore for SqliteStore {
    fn add_subscriber<'a>(
        &'a self,
        new: &'a NewSubscriber,
        confirm_hash: Option<&'a str>,
        secret: Option<&'a str>,
        unsubscribe_token: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<Subscriber, StoreError>> {
        Box::pin(async move {
            let confirmed_at = confirm_hash.is_none().then_some(at);
            let mut tx = self.pool.begin().await?;
            if confirm_hash.is_some() {
                let replaced = sqlx::query(
                    "DELETE FROM subscribers WHERE channel = ?1 AND target = ?2 \
                     AND confirmed_at IS NULL AND created_at <= ?3",
                )
                .bind(new.channel.as_str())
                .bind(&new.target)
                .bind(at - CONFIRM_AGAIN_AFTER_SECS)
                .execute(&mut *tx)
                .await?;
                if replaced.rows_affected() > 0 {
                    sqlx::query(
                        "DELETE FROM outbox WHERE key LIKE 'confirm/%' AND destination = ?1 \
                         AND delivered_at IS NULL AND gave_up_at IS NULL",
                    )
                    .bind(&new.target)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let result = sqlx::query(
                "INSERT INTO subscribers (channel, target, services, regions, secret, confirm_hash, \
                 confirmed_at, unsubscribe_token, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(new.channel.as_str())
            .bind(&new.target)
            .bind(new.services.join(","))
            .bind(new.regions.join(","))
            .bind(secret)
            .bind(confirm_hash)
            .bind(confirmed_at)
            .bind(unsubscribe_token)
            .bind(at)
            .execute(&mut *tx)
            .await;
            match result {
                Ok(done) => {
                    tx.commit().await?;
                    Ok(Subscriber {
                        id: done.last_insert_rowid(),
                        channel: new.channel,
                        target: new.target.clone(),
                        services: new.services.clone(),
                        regions: new.regions.clone(),
                        secret: secret.map(str::to_string),
                        confirmed: confirmed_at.is_some(),
                        unsubscribe_token: unsubscribe_token.to_string(),
                    })
                }
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    Err(StoreError::Conflict(format!(
                        "{} is already subscribed; unsubscribe first to change what it receives",
                        new.target
                    )))
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    fn confirm_subscriber<'a>(
        &'a self,
        confirm_hash: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<Option<Subscriber>, StoreError>> {
        Box::pin(async move {
            sqlx::query(&format!(
                "UPDATE subscribers SET confirmed_at = ?2, confirm_hash = NULL \
                 WHERE confirm_hash = ?1 RETURNING {SUBSCRIBER_COLUMNS}"
            ))
            .bind(confirm_hash)
            .bind(at)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(subscriber_of)
            .transpose()
        })
    }

    fn unsubscribe<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let removed = sqlx::query(
                "DELETE FROM subscribers WHERE unsubscribe_token = ?1 RETURNING target",
            )
            .bind(token)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = removed else {
                return Ok(false);
            };
            // Notices still queued for them (retrying, perhaps for hours) stop too.
            let target: String = row.try_get("target")?;
            sqlx::query(
                "DELETE FROM outbox WHERE key LIKE 'notice/%' AND destination = ?1 \
                 AND delivered_at IS NULL AND gave_up_at IS NULL",
            )
            .bind(&target)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn confirmed_subscribers(&self) -> BoxFuture<'_, Result<Vec<Subscriber>, StoreError>> {
        Box::pin(self.subscribers_where("confirmed_at IS NOT NULL", i64::MIN, u32::MAX))
    }

    fn subscribers_after(
        &self,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Subscriber>, StoreError>> {
        Box::pin(self.subscribers_where("TRUE", after, limit))
    }

    fn enqueue<'a>(
        &'a self,
        items: &'a [OutboxItem],
        now: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            // It reads the subscribers, then writes: IMMEDIATE for the
            // reason `queue_report_replies` gives. Begun as a reader, a
            // delivery lane's write in between would fail it at once, and
            // the pages in the batch would wait for the next minute.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            // A notice is queued only while its subscription is
            // ([`still_subscribed`]): the subscribers were read before this
            // transaction, and one who unsubscribed in between, or left and
            // signed up again, must not get it (unsubscribing deletes only
            // the notices already queued).
            let mut added = 0;
            for m in items {
                if m.key.starts_with("notice/") && !still_subscribed(&mut tx, m).await? {
                    continue;
                }
                added += insert_item(&mut tx, m, now).await?;
            }
            tx.commit().await?;
            Ok(added)
        })
    }

    fn due_messages(
        &self,
        now: i64,
        limit: u32,
        lane: Lane,
    ) -> BoxFuture<'_, Result<Vec<OutboxMessage>, StoreError>> {
        Box::pin(async move {
            sqlx::query(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL \
                 AND next_attempt_at <= ?1 AND {LANE_OF} = ?3 AND NOT {BEHIND_AN_EARLIER_MESSAGE} \
                 ORDER BY next_attempt_at, rowid LIMIT ?2"
            ))
            .bind(now)
            .bind(limit)
            .bind(lane.number() as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message_of)
            .collect()
        })
    }

    fn forget_destinations(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            // Delivered, then given up on: one statement each, so that each
            // searches its index (`0009_indexes.sql`) rather than the whole
            // outbox.
            let mut messages = 0;
            for finished in ["delivered_at", "gave_up_at"] {
                messages += sqlx::query(&format!(
                    "UPDATE outbox SET destination = '', last_error = NULL, secret = NULL, \
                     body = CASE WHEN key LIKE 'confirm/%' THEN '' ELSE body END \
                     WHERE channel IN ('email', 'webhook') AND destination <> '' \
                     AND {finished} < ?1"
                ))
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            let reports = sqlx::query(
                "UPDATE reports SET contact = NULL WHERE contact IS NOT NULL AND received_at < ?1",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            let unconfirmed = sqlx::query(
                "DELETE FROM subscribers WHERE confirmed_at IS NULL AND created_at < ?1",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(messages + reports.rows_affected() + unconfirmed.rows_affected())
        })
    }

    fn claim<'a>(
        &'a self,
        key: &'a str,
        now: i64,
        until: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let claimed = sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?2, attempts = attempts + 1 WHERE key = ?1 \
                 AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?3",
            )
            .bind(key)
            .bind(until)
            .bind(now)
            .execute(&self.pool)
            .await?;
            Ok(claimed.rows_affected() == 1)
        })
    }

    fn give_up_due<'a>(
        &'a self,
        key: &'a str,
        error: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let given_up = sqlx::query(
                "UPDATE outbox SET gave_up_at = ?3, last_error = ?2 WHERE key = ?1 \
                 AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?3",
            )
            .bind(key)
            .bind(error)
            .bind(now)
            .execute(&self.pool)
            .await?;
            Ok(given_up.rows_affected() == 1)
        })
    }

    fn mark_delivered<'a>(
        &'a self,
        key: &'a str,
        at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE outbox SET delivered_at = ?2, last_error = NULL \
                 WHERE key = ?1 AND delivered_at IS NULL AND gave_up_at IS NULL",
            )
            .bind(key)
            .bind(at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn mark_failed<'a>(
        &'a self,
        key: &'a str,
        error: &'a str,
        retry_at: Option<i64>,
        at: i64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE outbox SET last_error = ?2, \
                 next_attempt_at = COALESCE(?3, next_attempt_at), \
                 gave_up_at = CASE WHEN ?3 IS NULL THEN ?4 END \
                 WHERE key = ?1 AND delivered_at IS NULL AND gave_up_at IS NULL",
            )
            .bind(key)
            .bind(error)
            .bind(retry_at)
            .bind(at)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn outbox(&self, limit: u32) -> BoxFuture<'_, Result<Vec<OutboxMessage>, StoreError>> {
        Box::pin(async move {
            sqlx::query(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY rowid DESC LIMIT ?1"
            ))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message_of)
            .collect()
        })
    }

    fn add_report<'a>(
        &'a self,
        at: i64,
        area: &'a str,
        problem: &'a str,
        contact: Option<&'a str>,
        counted: bool,
        received_at: i64,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query(
                "INSERT INTO reports (at, area, problem, contact, counted, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(at)
            .bind(area)
            .bind(problem)
            .bind(contact)
            .bind(counted)
            .bind(received_at)
            .execute(&self.pool)
            .await?;
            Ok(done.last_insert_rowid())
        })
    }

    fn reports_since(&self, at: i64) -> BoxFuture<'_, Result<Vec<CountedReport>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query_as(COUNTED_REPORTS_SINCE)
                .bind(at)
                .fetch_all(&self.pool)
                .await?;
            Ok(rows)
        })
    }

    fn latest_report_at(&self) -> BoxFuture<'_, Result<Option<i64>, StoreError>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(LATEST_REPORT_AT)
                .fetch_one(&self.pool)
                .await?)
        })
    }

    fn queue_report_replies<'a>(
        &'a self,
        reply: &'a ReportReply,
        now: i64,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            // It reads, then writes: begun as a reader, it would fail at once
            // (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not cover)
            // if a report arrived in between; IMMEDIATE takes the write lock
            // first and waits its turn.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut queued = 0;
            for (area, problems) in &reply.areas {
                let rows = sqlx::query(
                    "SELECT id, contact, problem FROM reports WHERE area = ?1 AND at BETWEEN ?2 AND ?3 \
                     AND contact IS NOT NULL ORDER BY id",
                )
                .bind(area)
                .bind(reply.from)
                .bind(reply.to)
                .fetch_all(&mut *tx)
                .await?;
                for row in &rows {
                    let problem: String = row.try_get("problem")?;
                    if !problems.contains(&problem) {
                        continue;
                    }
                    let id: i64 = row.try_get("id")?;
                    let item = OutboxItem {
                        key: format!("report/{id}/{}", reply.incident),
                        channel: "email".into(),
                        destination: row.try_get("contact")?,
                        subject: reply.subject.clone(),
                        body: reply.body.clone(),
                        secret: None,
                        event_at: reply.to,
                    };
                    queued += insert_item(&mut tx, &item, now).await?;
                    // Told (or about to be): the address is no longer needed.
                    sqlx::query("UPDATE reports SET contact = NULL WHERE id = ?1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(queued)
        })
    }

    fn outbox_for_incident(
        &self,
        id: u64,
    ) -> BoxFuture<'_, Result<Vec<OutboxMessage>, StoreError>> {
        Box::pin(async move {
            // Each kind's keys from `<kind>/<id>/` up to `<kind>/<id>0`
            // ('0' follows '/'), so the key's index is searched, not the
            // whole outbox scanned.
            let range = |kind: &str| {
                format!(
                    "SELECT rowid FROM outbox WHERE key >= '{kind}/' || ?1 || '/' \
                     AND key < '{kind}/' || ?1 || '0'"
                )
            };
            // Replies are keyed `report/<report>/<incident>`: among the
            // replies' keys, those ending in the incident (report ids hold
            // no `/`). Those are every reply ever queued, read on the index
            // but not narrowed by it: a postmortem's read, not a hot path.
            let replies = "SELECT rowid FROM outbox WHERE key >= 'report/' AND key < 'report0' \
                           AND key GLOB 'report/*/' || ?1";
            sqlx::query(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE rowid IN \
                 ({} UNION ALL {} UNION ALL {} UNION ALL {replies}) ORDER BY rowid",
                range("notice"),
                range("page"),
                range("mitigation")
            ))
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message_of)
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message with an empty subject and body, about a network event at 1.
    fn message(key: &str, channel: &str, destination: &str) -> OutboxItem {
        OutboxItem {
            key: key.into(),
            channel: channel.into(),
            destination: destination.into(),
            subject: String::new(),
            body: String::new(),
            secret: None,
            event_at: 1,
        }
    }

    /// Confirmed subscribers at `targets`, for notices to be queued to.
    async fn subscribed(s: &SqliteStore, targets: &[&str]) -> Vec<Subscriber> {
        let mut subs = Vec::new();
        for target in targets {
            let token = secret_token(target);
            let sub = s
                .add_subscriber(&email(target), None, None, &token, 0)
                .await;
            subs.push(sub.expect("adds"));
        }
        subs
    }

    /// An unsubscribe token no other subscriber of these tests has.
    fn secret_token(target: &str) -> String {
        static ISSUED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("u-{target}-{n}")
    }

    /// How many of `item` (one or none) `s` queued at `at`.
    async fn queued(s: &SqliteStore, item: &OutboxItem, at: i64) -> u64 {
        s.enqueue(std::slice::from_ref(item), at)
            .await
            .expect("runs")
    }

    /// `sub`'s notice about an incident's timeline entry, keyed as composed.
    fn notice(incident: u64, entry: usize, sub: &Subscriber) -> OutboxItem {
        let key = notice_key(incident, entry, sub);
        message(&key, sub.channel.as_str(), &sub.target)
    }

    /// A page to the one PagerDuty endpoint of these tests.
    fn page(key: &str) -> OutboxItem {
        message(key, "pagerduty", "https://events.example")
    }

    /// The keys of `due`, in order.
    fn keys(due: Vec<OutboxMessage>) -> Vec<String> {
        due.into_iter().map(|m| m.item.key).collect()
    }

    #[tokio::test]
    async fn messages_are_found_by_the_incident_they_are_about() {
        let (_dir, s) = store().await;
        let item = |key: &str| OutboxItem {
            key: key.into(),
            channel: "email".into(),
            destination: "a@example.net".into(),
            subject: String::new(),
            body: String::new(),
            secret: None,
            event_at: 0,
        };
        let a = &subscribed(&s, &["a@example.net"]).await[0];
        let about_1 = notice(1, 0, a);
        let items = [
            about_1.clone(),
            item("page/1/trigger/0/pagerduty"),
            notice(12, 0, a),
            item("confirm/1"),
            item("page/10/trigger/0/pagerduty"),
            item("mitigation/1/drain/upf-1"),
            item("mitigation/1"),
            item("report/7/1"),
            item("report/1/7"),
            item("report/8/11"),
        ];
        s.enqueue(&items, 0).await.expect("queues");
        let keys: Vec<String> = s
            .outbox_for_incident(1)
            .await
            .expect("lists")
            .into_iter()
            .map(|m| m.item.key)
            .collect();
        assert_eq!(
            keys,
            [
                about_1.key.as_str(),
                "page/1/trigger/0/pagerduty",
                "mitigation/1/drain/upf-1",
                "report/7/1"
            ]
        );
    }

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).await.expect("opens");
        (dir, store)
    }

    fn email(target: &str) -> NewSubscriber {
        NewSubscriber {
            channel: Channel::Email,
            target: target.into(),
            services: vec!["voice".into()],
            regions: Vec::new(),
        }
    }

    #[tokio::test]
    async fn email_subscribers_count_only_once_confirmed_and_leave_by_token() {
        let (_dir, s) = store().await;
        s.add_subscriber(&email("a@example.net"), Some("h0"), None, "u0", 9)
            .await
            .expect("adds");
        s.enqueue(&[message("confirm/1/aa", "email", "a@example.net")], 9)
            .await
            .expect("queues");
        // Asked again at once: refused, so no second mail goes out.
        assert!(matches!(
            s.add_subscriber(&email("a@example.net"), Some("h1"), None, "u1", 10)
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Asked again later, still unconfirmed: the new request replaces the
        // first, whose link no longer works and whose mail is not sent.
        let later = 9 + CONFIRM_AGAIN_AFTER_SECS;
        let again = s
            .add_subscriber(&email("a@example.net"), Some("h1"), None, "u1", later)
            .await
            .expect("replaces the unconfirmed one");
        assert!(s.outbox(10).await.expect("lists").is_empty());
        let listed = s
            .subscribers_after(i64::MIN, u32::MAX)
            .await
            .expect("lists");
        assert_eq!(listed, [again]);
        assert_eq!(listed[0].unsubscribe_token, "u1");
        assert!(s.confirmed_subscribers().await.expect("lists").is_empty());
        assert!(
            s.confirm_subscriber("h0", 11)
                .await
                .expect("runs")
                .is_none()
        );
        let confirmed = s.confirm_subscriber("h1", 12).await.expect("confirms");
        assert!(confirmed.is_some_and(|c| c.confirmed));
        // Once confirmed, the address is taken until it unsubscribes.
        assert!(matches!(
            s.add_subscriber(&email("a@example.net"), Some("h2"), None, "u2", 2 * later)
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(
            s.confirm_subscriber("h1", 13)
                .await
                .expect("runs")
                .is_none(),
            "a confirmation token works once"
        );
        let subs = s.confirmed_subscribers().await.expect("lists");
        assert_eq!(subs.len(), 1);
        assert!(subs[0].wants(&[("north", vec!["voice", "data"])]));
        assert!(!subs[0].wants(&[("north", vec!["data"])]));
        assert!(s.unsubscribe("u1").await.expect("runs"));
        assert!(!s.unsubscribe("u1").await.expect("runs"));
    }

    #[tokio::test]
    async fn the_outbox_queues_once_retries_and_gives_up() {
        let (_dir, s) = store().await;
        let hook = &subscribed(&s, &["http://127.0.0.1:9/hook"]).await[0];
        let item = OutboxItem {
            channel: "webhook".into(),
            body: "{}".into(),
            secret: Some("k".into()),
            event_at: 100,
            ..notice(1, 0, hook)
        };
        assert_eq!(
            s.enqueue(&[item.clone(), item.clone()], 1000)
                .await
                .expect("queues"),
            1
        );
        assert_eq!(
            s.enqueue(std::slice::from_ref(&item), 1001)
                .await
                .expect("queues"),
            0
        );
        let due = s.due_messages(1000, 10, Lane::Public).await.expect("lists");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].item, item);
        // Claimed for a send whose outcome is not recorded: held back, and
        // not claimed again by another pass.
        assert!(s.claim(&item.key, 1000, 1010).await.expect("claims"));
        assert!(!s.claim(&item.key, 1000, 1010).await.expect("claims"));
        assert!(!s.claim("notice/gone", 1000, 1010).await.expect("claims"));
        assert!(
            s.due_messages(1009, 10, Lane::Public)
                .await
                .expect("lists")
                .is_empty()
        );
        s.mark_failed(&item.key, "refused", Some(1030), 1000)
            .await
            .expect("marks");
        assert!(
            s.due_messages(1029, 10, Lane::Public)
                .await
                .expect("lists")
                .is_empty()
        );
        let again = s.due_messages(1030, 10, Lane::Public).await.expect("lists");
        assert_eq!(
            (again[0].attempts, again[0].last_error.as_deref()),
            (1, Some("refused"))
        );
        s.mark_failed(&item.key, "refused", None, 1030)
            .await
            .expect("marks");
        assert!(
            s.due_messages(5000, 10, Lane::Public)
                .await
                .expect("lists")
                .is_empty()
        );
        assert_eq!(s.outbox(10).await.expect("lists")[0].gave_up_at, Some(1030));
    }

    #[tokio::test]
    async fn only_a_message_still_due_is_given_up_without_an_attempt() {
        let (_dir, s) = store().await;
        let page = message(
            "page/1/trigger/0/pagerduty-0",
            "pagerduty",
            "https://pd.example",
        );
        s.enqueue(std::slice::from_ref(&page), 1000)
            .await
            .expect("queues");
        // Claimed by another pass since it was listed: not given up.
        assert!(s.claim(&page.key, 1000, 1010).await.expect("claims"));
        assert!(
            !s.give_up_due(&page.key, "ran out", 1005)
                .await
                .expect("runs")
        );
        assert!(
            s.give_up_due(&page.key, "ran out", 1010)
                .await
                .expect("runs")
        );
        assert!(
            !s.give_up_due(&page.key, "ran out", 1020)
                .await
                .expect("runs")
        );
        let stored = &s.outbox(10).await.expect("lists")[0];
        assert_eq!(
            (
                stored.gave_up_at,
                stored.attempts,
                stored.last_error.as_deref()
            ),
            (Some(1010), 1, Some("ran out"))
        );
    }

    #[tokio::test]
    async fn pages_and_mitigations_have_their_own_lanes_and_an_unsubscribed_target_gets_no_queued_notice()
     {
        let (_dir, s) = store().await;
        let sub = s
            .add_subscriber(&email("b@example.net"), None, None, "ub", 1)
            .await
            .expect("adds");
        let c = &subscribed(&s, &["c@example.net"]).await[0];
        let (to_b, to_c) = (notice(1, 0, &sub), notice(1, 0, c));
        s.enqueue(
            &[
                to_b.clone(),
                message(
                    "mitigation/1/fail over/amf-1",
                    "webhook",
                    "https://ops.example",
                ),
                to_c.clone(),
                message("report/7/1", "email", "d@example.net"),
                page("page/1/trigger/0/pagerduty-0"),
            ],
            10,
        )
        .await
        .expect("queues");
        let pages = s.due_messages(10, 10, Lane::Pages).await;
        assert_eq!(
            keys(pages.expect("lists")),
            ["page/1/trigger/0/pagerduty-0"],
            "queued last, not behind the notices or the mitigation"
        );
        let mitigations = s.due_messages(10, 10, Lane::Mitigations).await;
        assert_eq!(
            keys(mitigations.expect("lists")),
            ["mitigation/1/fail over/amf-1"]
        );
        let public = s.due_messages(10, 10, Lane::Public).await;
        assert_eq!(
            keys(public.expect("lists")),
            [to_b.key.as_str(), &to_c.key, "report/7/1"]
        );
        assert!(s.unsubscribe(&sub.unsubscribe_token).await.expect("runs"));
        let public = s.due_messages(10, 10, Lane::Public).await;
        assert_eq!(
            keys(public.expect("lists")),
            [to_c.key.as_str(), "report/7/1"]
        );
        // Composed for them before they left, queued after: not queued,
        // also once the address has signed up again (as subscriber 3).
        let late = notice(1, 1, &sub);
        assert_eq!(queued(&s, &late, 11).await, 0);
        let again = &subscribed(&s, &["b@example.net"]).await[0];
        assert_eq!(queued(&s, &late, 12).await, 0);
        assert_eq!(queued(&s, &notice(1, 1, again), 12).await, 1);
        // Left and back once more, with the same id (the store reuses the
        // highest): a notice composed for the last sign-up is still refused.
        assert!(s.unsubscribe(&again.unsubscribe_token).await.expect("runs"));
        let third = &subscribed(&s, &["b@example.net"]).await[0];
        assert_eq!(third.id, again.id, "the id came back");
        assert_eq!(queued(&s, &notice(1, 2, again), 13).await, 0);
        assert_eq!(queued(&s, &notice(1, 2, third), 13).await, 1);
    }

    #[tokio::test]
    async fn counted_reports_come_back_oldest_first_from_when_asked() {
        let (_dir, s) = store().await;
        assert_eq!(s.latest_report_at().await.expect("reads"), None);
        for (at, area) in [(300, "south"), (100, "north"), (200, "east")] {
            (s.add_report(at, area, "cannot_call", None, true, at).await).expect("stores");
        }
        // Stored for its reply, but past its sender's cap: never counted.
        (s.add_report(250, "east", "cannot_call", None, false, 250)
            .await)
            .expect("stores");
        let since = s.reports_since(200).await.expect("lists");
        let cannot_call = |at: i64, area: &str| CountedReport {
            at,
            area: area.to_string(),
            problem: "cannot_call".to_string(),
        };
        assert_eq!(since, [cannot_call(200, "east"), cannot_call(300, "south")]);
        assert_eq!(s.latest_report_at().await.expect("reads"), Some(300));
        // Uncounted reports are still someone's, owed a reply: they count.
        (s.add_report(400, "east", "cannot_call", None, false, 400)
            .await)
            .expect("stores");
        assert_eq!(s.latest_report_at().await.expect("reads"), Some(400));
    }

    #[tokio::test]
    async fn report_times_are_read_from_an_index_not_the_whole_table() {
        let (_dir, s) = store().await;
        for query in [COUNTED_REPORTS_SINCE, LATEST_REPORT_AT] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {query}"))
                    .bind(0)
                    .fetch_all(&s.pool)
                    .await
                    .expect("plans");
            let steps: Vec<&str> = plan.iter().map(|(.., detail)| detail.as_str()).collect();
            // Without an index on `at`, every row is read.
            let searched =
                |step: &&str| step.starts_with("SEARCH reports USING") && step.contains("INDEX");
            assert!(steps.iter().all(searched), "{query}: {steps:?}");
        }
    }

    #[tokio::test]
    async fn old_public_addresses_are_erased_and_the_rows_kept() {
        let (_dir, s) = store().await;
        let targets = [
            "old@example.net",
            "https://hooks.example.net/x",
            "recent@example.net",
        ];
        let subs = subscribed(&s, &targets).await;
        let (old, hook, recent) = (
            notice(1, 0, &subs[0]),
            OutboxItem {
                secret: Some("hmac-key".into()),
                ..notice(1, 0, &subs[1])
            },
            notice(2, 0, &subs[2]),
        );
        // A confirmation's body holds its opt-in link.
        let confirm = OutboxItem {
            body: "https://status.example.net/subscribe/confirm?token=t0ken".into(),
            ..message("confirm/1/d1", "email", "old@example.net")
        };
        s.enqueue(
            &[
                old.clone(),
                hook.clone(),
                page("page/1/trigger/0/pagerduty-0"),
                recent.clone(),
                confirm.clone(),
            ],
            1,
        )
        .await
        .expect("queues");
        for key in [
            old.key.as_str(),
            "page/1/trigger/0/pagerduty-0",
            &confirm.key,
        ] {
            s.mark_delivered(key, 100).await.expect("marks");
        }
        s.mark_failed(&hook.key, "refused by hooks.example.net", None, 100)
            .await
            .expect("marks");
        s.mark_delivered(&recent.key, 900).await.expect("marks");
        // Reports nobody replied to: the old one's contact goes too.
        for (received_at, contact) in [(100, "untold@example.net"), (900, "waiting@example.net")] {
            s.add_report(
                received_at,
                "north",
                "cannot_call",
                Some(contact),
                true,
                received_at,
            )
            .await
            .expect("stores");
        }
        // Sign-ups never confirmed: the old one goes, the recent one waits.
        for (target, at) in [("never@example.net", 100), ("pending@example.net", 900)] {
            s.add_subscriber(&email(target), Some(target), None, target, at)
                .await
                .expect("adds");
        }
        assert_eq!(s.forget_destinations(500).await.expect("erases"), 5);
        let kept: Vec<String> = (s
            .subscribers_after(i64::MIN, u32::MAX)
            .await
            .expect("lists")
            .into_iter())
        .map(|sub| sub.target)
        .collect();
        assert_eq!(kept, [&targets[..], &["pending@example.net"]].concat());
        let contacts: Vec<Option<String>> =
            sqlx::query_scalar("SELECT contact FROM reports ORDER BY id")
                .fetch_all(&s.pool)
                .await
                .expect("reads");
        assert_eq!(contacts, [None, Some("waiting@example.net".to_string())]);
        let rows = s.outbox(10).await.expect("lists");
        let destination = |key: &str| {
            let row = rows.iter().find(|m| m.item.key == key).expect("kept");
            (row.item.destination.clone(), row.last_error.clone())
        };
        assert_eq!(destination(&old.key), (String::new(), None));
        assert_eq!(destination(&hook.key), (String::new(), None));
        assert_eq!(
            destination("page/1/trigger/0/pagerduty-0").0,
            "https://events.example"
        );
        assert_eq!(destination(&recent.key).0, "recent@example.net");
        let erased: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT key, body, secret FROM outbox WHERE key IN (?1, ?2) ORDER BY key",
        )
        .bind(&confirm.key)
        .bind(&hook.key)
        .fetch_all(&s.pool)
        .await
        .expect("reads");
        assert_eq!(
            erased,
            [
                (confirm.key.clone(), String::new(), None),
                (hook.key.clone(), String::new(), None)
            ],
            "neither the webhook's signing key nor the opt-in link is kept"
        );
    }

    #[tokio::test]
    async fn a_resolve_waits_for_its_retrying_trigger() {
        let (_dir, s) = store().await;
        let trigger = "page/12/trigger/0/pagerduty-0";
        s.enqueue(&[page(trigger)], 10).await.expect("queues");
        s.mark_failed(trigger, "503", Some(100), 10)
            .await
            .expect("marks");
        // Resolved meanwhile; another incident pages the same pager.
        s.enqueue(
            &[
                page("page/12/resolve/0/pagerduty-0"),
                page("page/13/trigger/0/pagerduty-0"),
            ],
            20,
        )
        .await
        .expect("queues");
        assert_eq!(
            keys(s.due_messages(20, 10, Lane::Pages).await.expect("lists")),
            ["page/13/trigger/0/pagerduty-0"],
            "incident 12's resolve waits; incident 13 does not"
        );
        s.mark_delivered(trigger, 100).await.expect("marks");
        assert!(
            keys(s.due_messages(100, 10, Lane::Pages).await.expect("lists"))
                .contains(&"page/12/resolve/0/pagerduty-0".to_string())
        );
    }

    #[tokio::test]
    async fn a_subscriber_hears_of_an_incident_in_order_through_retries() {
        let (_dir, s) = store().await;
        let subs = subscribed(&s, &["https://hooks.example.net/a", "b@example.net"]).await;
        let (a, b) = (&subs[0], &subs[1]);
        let investigating = [notice(4, 0, a), notice(4, 0, b)];
        s.enqueue(&investigating, 10).await.expect("queues");
        s.mark_failed(&investigating[0].key, "503", Some(100), 10)
            .await
            .expect("marks");
        // Resolved meanwhile; another incident's notice to the same hook.
        let resolved = [notice(4, 6, a), notice(4, 6, b)];
        let other = notice(5, 0, a);
        s.enqueue(
            &[resolved[0].clone(), resolved[1].clone(), other.clone()],
            20,
        )
        .await
        .expect("queues");
        // Each subscriber's next word on incident 4 waits for the one before.
        assert_eq!(
            keys(s.due_messages(20, 10, Lane::Public).await.expect("lists")),
            [investigating[1].key.clone(), other.key.clone()]
        );
        s.mark_delivered(&investigating[1].key, 20)
            .await
            .expect("marks");
        assert_eq!(
            keys(s.due_messages(100, 10, Lane::Public).await.expect("lists")),
            [
                resolved[1].key.clone(),
                other.key.clone(),
                investigating[0].key.clone()
            ]
        );
        s.mark_delivered(&investigating[0].key, 100)
            .await
            .expect("marks");
        assert!(
            keys(s.due_messages(100, 10, Lane::Public).await.expect("lists"))
                .contains(&resolved[0].key)
        );
    }
}
