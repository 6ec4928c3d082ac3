//! Delivery: SMTP and HTTP, with retries from the outbox.

use std::sync::Arc;
use std::time::Duration;

use dialtone_store::{Channel, Lane, NotifyStore, OutboxItem, StoreError};
use hmac::{Hmac, Mac};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::compose::unsubscribe_url;
use crate::webhook_target::{PublicOnlyResolver, check_webhook_url};
use crate::{DELIVERY_ENV, DELIVERY_HEADER, NotifyConfig, SIGNATURE_HEADER, SmtpSecurity};

/// Attempts before a message is given up on (about 6 hours of backoff).
const MAX_ATTEMPTS: u32 = 12;
/// How long a message being sent is held back from the next passes: if its
/// outcome cannot be recorded, it is sent again after this, not every second.
/// Each claim counts from its own message's start, and no send outlasts it:
/// HTTP gives up after 30 s, SMTP after 10 s, and a mitigation command is
/// stopped at its timeout, at most an hour.
const CLAIM_SECS: i64 = 3600;
/// How long the operator's own receivers (pagers, mitigation webhooks) may
/// take, as Statuspage allows its webhooks.
const HTTP_TIMEOUT_SECS: u64 = 30;
/// How long a subscriber's webhook may take: anyone may subscribe one, and
/// a lane's deliveries go one after another, so a receiver that never
/// answers must not hold the notices behind it for long.
const SUBSCRIBER_HTTP_TIMEOUT_SECS: u64 = 10;

/// Why a message did not go out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Retrying cannot help (a refused address, a 4xx answer, no relay configured).
    #[error("{0}")]
    Permanent(String),
    /// Worth another try later (connection refused, timeout, 5xx, 429).
    #[error("{0}")]
    Transient(String),
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`, as sent in
/// [`SIGNATURE_HEADER`]. Receivers recompute it over the raw body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Seconds to wait after the `attempts`-th failure (from 1): 60 s doubling,
/// at most an hour.
pub fn retry_delay_secs(attempts: u32) -> i64 {
    (30_i64 << attempts.min(7)).min(3600)
}

/// The mail relay and how messages go through it.
#[derive(Clone)]
struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
    /// The longest one message's exchange may take: lettre's own timeout
    /// bounds only the connection, and a relay that accepts and then stalls
    /// would hold the public's lane, and a shutdown, for ever.
    timeout: Duration,
}

/// Sends outbox messages.
#[derive(Clone)]
pub struct Courier {
    smtp: Option<Relay>,
    /// For the operator's own endpoints: pagers and mitigation webhooks.
    http: reqwest::Client,
    /// For subscriber webhooks, which strangers choose: public addresses only,
    /// no redirects (see `webhook_target`), unless the configuration allows.
    subscriber_http: reqwest::Client,
    allow_private_webhooks: bool,
}

impl std::fmt::Debug for Courier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courier")
            .field("smtp", &self.smtp.is_some())
            .finish_non_exhaustive()
    }
}

impl Courier {
    pub fn new(config: &NotifyConfig) -> Result<Courier, SendError> {
        let smtp = match &config.smtp {
            None => None,
            Some(s) => {
                let builder = match s.security {
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                    }
                    SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(
                        &s.host,
                    )
                    .map_err(|e| SendError::Permanent(format!("smtp.host {}: {e}", s.host)))?,
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                        .map_err(|e| SendError::Permanent(format!("smtp.host {}: {e}", s.host)))?,
                };
                let timeout = Duration::from_secs(s.timeout_secs);
                let mut builder = builder.port(s.port).timeout(Some(timeout));
                if let (Some(u), Some(p)) = (&s.username, &s.password) {
                    builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
                }
                let from = crate::sender(&s.from)
                    .map_err(|problem| SendError::Permanent(format!("smtp.from {problem}")))?;
                Some(Relay {
                    transport: builder.build(),
                    from,
                    timeout,
                })
            }
        };
        let client = |timeout_secs| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(timeout_secs))
                .user_agent("Dialtone")
        };
        let built = |b: reqwest::ClientBuilder| {
            b.build()
                .map_err(|e| SendError::Permanent(format!("HTTP client: {e}")))
        };
        let http = built(client(HTTP_TIMEOUT_SECS))?;
        let subscriber_http = if config.allow_private_webhooks {
            built(client(SUBSCRIBER_HTTP_TIMEOUT_SECS))?
        } else {
            built(
                client(SUBSCRIBER_HTTP_TIMEOUT_SECS)
                    .dns_resolver(Arc::new(PublicOnlyResolver))
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy(),
            )?
        };
        Ok(Courier {
            smtp,
            http,
            subscriber_http,
            allow_private_webhooks: config.allow_private_webhooks,
        })
    }

    /// Sends one message.
    pub async fn send(&self, m: &OutboxItem) -> Result<(), SendError> {
        match m.channel.as_str() {
            "email" => self.email(m).await,
            "command" => run_command(m).await,
            _ => self.post(m).await,
        }
    }

    async fn email(&self, m: &OutboxItem) -> Result<(), SendError> {
        let Some(relay) = &self.smtp else {
            return Err(SendError::Permanent(
                "no SMTP relay is configured: add [notify.smtp] to the configuration".into(),
            ));
        };
        let message = email_message(&relay.from, m)?;
        let sent = tokio::time::timeout(relay.timeout, relay.transport.send(message)).await;
        let sent = sent.map_err(|_| {
            SendError::Transient(format!(
                "the mail relay did not finish within {} s (smtp.timeout_secs)",
                relay.timeout.as_secs()
            ))
        })?;
        sent.map(|_| ()).map_err(|e| {
            // The relay's code, not its words, which often repeat the address.
            let code = e.status().map(|c| c.to_string());
            let reply = code
                .as_deref()
                .map_or_else(|| "no SMTP reply".to_owned(), |c| format!("SMTP {c}"));
            if e.is_permanent() && !code.as_deref().is_some_and(is_relay_setup_code) {
                SendError::Permanent(format!("the mail relay refused the message ({reply})"))
            } else if code.is_some() {
                SendError::Transient(format!("the mail relay deferred the message ({reply})"))
            } else {
                SendError::Transient(format!("could not send through the mail relay: {e}"))
            }
        })
    }

    async fn post(&self, m: &OutboxItem) -> Result<(), SendError> {
        // Subscriber webhooks are the only messages whose destination a stranger chooses.
        let client = if m.channel == Channel::Webhook.as_str() {
            // The resolver sees names only: an address in the URL is checked here.
            check_webhook_url(&m.destination, self.allow_private_webhooks).map_err(|_| {
                SendError::Permanent(format!(
                    "the webhook at {} may not be reached (not a public address)",
                    site_of(&m.destination)
                ))
            })?;
            &self.subscriber_http
        } else {
            &self.http
        };
        let mut request = client
            .post(&m.destination)
            .header("Content-Type", "application/json")
            .header(DELIVERY_HEADER, &m.key);
        if let Some(secret) = &m.secret {
            request = request.header(SIGNATURE_HEADER, sign(secret, m.body.as_bytes()));
        }
        let to = site_of(&m.destination);
        let response = request.body(m.body.clone()).send().await.map_err(|e| {
            // A URL reqwest cannot use (unparsable, not http or https)
            // fails the same way on every try.
            if e.is_builder() {
                SendError::Permanent(format!(
                    "POST to {to}: the URL cannot be called ({}); correct it",
                    e.without_url()
                ))
            } else {
                SendError::Transient(format!("POST to {to}: {}", e.without_url()))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(SendError::Transient(format!(
                "POST to {to} answered {status}"
            )))
        } else {
            Err(SendError::Permanent(format!(
                "POST to {to} answered {status}"
            )))
        }
    }
}

/// The email for outbox row `m`, from `from`.
pub(crate) fn email_message(from: &Mailbox, m: &OutboxItem) -> Result<Message, SendError> {
    // The address stays out of the error, which admins see in the outbox
    // listing that otherwise keeps destinations to itself.
    let to = m.destination.parse().map_err(|e| {
        SendError::Permanent(format!("the destination is not an email address: {e}"))
    })?;
    // lettre adds no Message-ID. One made from the row itself is the same
    // on a redelivery (delivery is at least once), so mail systems can drop
    // the copy; the body holds a random token (unsubscribe or confirmation),
    // so a store started afresh does not reuse an earlier message's id.
    let digest = Sha256::new()
        .chain_update(&m.key)
        .chain_update([0])
        .chain_update(&m.body)
        .finalize();
    let id = format!("<{}@{}>", hex::encode(&digest[..16]), from.email.domain());
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&m.subject)
        .message_id(Some(id));
    if let Some(url) = unsubscribe_url(&m.body) {
        // RFC 8058 one-click: mail clients offer their own unsubscribe button
        // and POST `List-Unsubscribe=One-Click` to the URL. lettre has no
        // typed header for either.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    // A single part, unlike a bare body, gets lettre's `MIME-Version`, which
    // the UTF-8 text/plain content type needs.
    builder
        .singlepart(SinglePart::plain(m.body.clone()))
        .map_err(|e| SendError::Permanent(format!("could not build the email: {e}")))
}

/// SMTP replies about the relay's own setup, not the message: 530
/// authentication required, 534 and 538 a mechanism or encryption it wants,
/// 535 credentials refused. Permanent to SMTP, but every queued mail would
/// be given up until the operator fixes the configuration; retried instead.
fn is_relay_setup_code(code: &str) -> bool {
    matches!(code, "530" | "534" | "535" | "538")
}

/// A URL's scheme and host, for errors and logs: its user part or path may
/// hold a secret (an Alertmanager password, a chat service's hook path).
fn site_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "an unparsable URL".into(),
    }
}

/// A mitigation command's outbox body: its arguments and how long it may run,
/// or (queued by a version before the timeout was set per rule) the bare
/// arguments, run with the operator endpoints' timeout as then.
#[derive(Deserialize)]
#[serde(untagged)]
enum CommandRun {
    Timed {
        args: Vec<String>,
        timeout_secs: u64,
    },
    Args(Vec<String>),
}

/// Runs a mitigation command with the arguments and timeout of its body. A
/// failed or slow run is tried again, so the command is told which action
/// it runs in `DIALTONE_DELIVERY` (the outbox key, the same on every try,
/// as a webhook's `X-Dialtone-Delivery` header): a failover that did its
/// work but answered late can tell the retry from a new request.
async fn run_command(m: &OutboxItem) -> Result<(), SendError> {
    let run: CommandRun = serde_json::from_str(&m.body)
        .map_err(|e| SendError::Permanent(format!("bad command arguments: {e}")))?;
    let (args, timeout_secs) = match run {
        CommandRun::Timed { args, timeout_secs } => (args, timeout_secs),
        CommandRun::Args(args) => (args, HTTP_TIMEOUT_SECS),
    };
    let mut child = tokio::process::Command::new(&m.destination)
        .args(&args)
        .env(DELIVERY_ENV, &m.key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        // A group of its own, so that stopping it stops what it started.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| could_not_run(&m.destination, e))?;
    let mut group = StopGroupUnlessExited(child.id());
    let run = exit_status(&mut child, &mut group);
    let (status, said) = tokio::time::timeout(Duration::from_secs(timeout_secs), run)
        .await
        .map_err(|_| SendError::Transient(format!("{} took over {timeout_secs} s", m.destination)))?
        .map_err(|e| could_not_run(&m.destination, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(SendError::Transient(format!(
            "{} exited with {status}: {}",
            m.destination,
            String::from_utf8_lossy(&said).trim()
        )))
    }
}

/// A running mitigation command's process group (its id is the command's),
/// killed when this is dropped before the command is seen to exit: on a
/// timeout, or when delivery is abandoned. Killing the command alone would
/// leave what it started (a shell script's `drain-site`) running beside the
/// retry. A command that exited may leave helpers in the background on
/// purpose; they are left alone: `exit_status` disarms this as it reaps
/// the command. Until then the command's process holds the group id, which
/// so cannot have been reused.
struct StopGroupUnlessExited(Option<u32>);

impl Drop for StopGroupUnlessExited {
    fn drop(&mut self) {
        let group = (self.0)
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group {
            // Already gone is fine: the group may have ended on its own.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }
}

/// The most of a mitigation command's error output kept for its message.
const STDERR_KEPT_BYTES: usize = 4096;

/// A command that could not be started or waited for: trying again
/// will not help.
fn could_not_run(program: &str, e: std::io::Error) -> SendError {
    SendError::Permanent(format!("could not run {program}: {e}"))
}

/// Waits for `child` to exit; its status and the start of its error
/// output. Its exit decides, not the end of its output: a process it left
/// running in the background (a helper started with `&`) may hold the pipe
/// open for ever, and a failover that did its work would count as timed out
/// and run again. The pipe is read while it runs, as a full one would stall
/// it.
async fn exit_status(
    child: &mut tokio::process::Child,
    group: &mut StopGroupUnlessExited,
) -> std::io::Result<(std::process::ExitStatus, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut stderr = (child.stderr.take()).expect("run_command spawns it with its stderr piped");
    let mut said = Vec::new();
    let status = {
        let mut chunk = [0u8; 1024];
        let read_to_end = async {
            while let Ok(n @ 1..) = stderr.read(&mut chunk).await {
                keep(&mut said, &chunk[..n]);
            }
        };
        tokio::pin!(read_to_end);
        tokio::select! {
            status = child.wait() => {
                group.0 = None;
                // What it wrote just before it exited, as far as it comes at once.
                let _ = tokio::time::timeout(Duration::from_millis(100), read_to_end).await;
                status?
            }
            // Closed: only the exit is left to wait for.
            () = &mut read_to_end => {
                let status = child.wait().await;
                group.0 = None;
                status?
            }
        }
    };
    Ok((status, said))
}

/// Appends `bytes` to `said` up to [`STDERR_KEPT_BYTES`].
fn keep(said: &mut Vec<u8>, bytes: &[u8]) {
    let room = STDERR_KEPT_BYTES.saturating_sub(said.len());
    said.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: u32,
    pub retrying: u32,
    pub gave_up: u32,
}

/// Sends every message of `lane` due at wall-clock `now()`, until `stop`
/// says to: a server shutting down finishes the send in flight and starts no
/// other (one it had claimed would wait [`CLAIM_SECS`] after a restart).
/// Failures are retried with backoff, permanent ones and those out of
/// attempts are given up on. The clock is read again for each message: a
/// pass over a hundred webhooks each allowed its timeout takes many
/// minutes, and a retry dated from the pass's start would fall due at once.
pub async fn deliver_due(
    store: &dyn NotifyStore,
    courier: &Courier,
    now: &(dyn Fn() -> i64 + Sync),
    lane: Lane,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    for m in store.due_messages(now(), 100, lane).await? {
        if stop() {
            break;
        }
        // Claimed first: a store that cannot record the outcome (disk full,
        // read-only) stops the pass here, rather than after the send, where
        // every pass would send the same message again. A message deleted
        // or claimed since the pass listed it is not sent.
        let at = now();
        // Only attempts whose outcome was never recorded (the server
        // stopped mid-send) leave a due message out of attempts: a failure
        // recorded as the last one gives up there and then.
        if m.attempts >= MAX_ATTEMPTS {
            let error = format!(
                "no outcome was recorded for the last of {} attempts (the server stopped while sending): given up rather than sent again",
                m.attempts
            );
            if store.give_up_due(&m.item.key, &error, at).await? {
                tracing::warn!(key = %m.item.key, attempts = m.attempts, "delivery given up: no outcome recorded");
                report.gave_up += 1;
            }
            continue;
        }
        if !store.claim(&m.item.key, at, at + CLAIM_SECS).await? {
            continue;
        }
        let result = courier.send(&m.item).await;
        let now = now();
        match result {
            Ok(()) => {
                store.mark_delivered(&m.item.key, now).await?;
                report.delivered += 1;
            }
            Err(e) => {
                let attempts = m.attempts + 1;
                let retry = matches!(e, SendError::Transient(_)) && attempts < MAX_ATTEMPTS;
                let retry_at = retry.then(|| now + retry_delay_secs(attempts));
                tracing::warn!(key = %m.item.key, attempts, error = %e, retry = retry, "delivery failed");
                store
                    .mark_failed(&m.item.key, &e.to_string(), retry_at, now)
                    .await?;
                if retry {
                    report.retrying += 1;
                } else {
                    report.gave_up += 1;
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_url_that_cannot_be_called_is_given_up_at_once_not_retried() {
        let courier = Courier::new(&NotifyConfig::default()).expect("builds");
        for url in ["not a url", "ftp://orchestrator.example/drain"] {
            let m = OutboxItem {
                key: "page/1/trigger/0/alertmanager-0".into(),
                channel: "alertmanager".into(),
                destination: url.into(),
                subject: String::new(),
                body: "{}".into(),
                secret: None,
                event_at: 0,
            };
            let err = courier.send(&m).await.expect_err("fails");
            assert!(matches!(err, SendError::Permanent(_)), "{url}: {err:?}");
        }
    }

    #[tokio::test]
    async fn a_relay_that_stalls_after_accepting_is_given_up_on_for_now() {
        // Accepts the connection and never greets: lettre's timeout covers
        // the connection alone.
        let relay = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = relay.local_addr().unwrap().port();
        let config = NotifyConfig {
            smtp: Some(crate::SmtpConfig {
                host: "127.0.0.1".into(),
                port,
                security: crate::SmtpSecurity::None,
                from: "Status <status@example.net>".into(),
                username: None,
                password: None,
                timeout_secs: 1,
            }),
            ..NotifyConfig::default()
        };
        let courier = Courier::new(&config).expect("builds");
        let m = OutboxItem {
            key: "confirm/1".into(),
            channel: "email".into(),
            destination: "ana@example.net".into(),
            subject: "Confirm".into(),
            body: "Confirm.".into(),
            secret: None,
            event_at: 0,
        };
        // Bounded here too, so the old behaviour fails instead of hanging.
        let sent = tokio::time::timeout(Duration::from_secs(60), courier.send(&m)).await;
        let err = sent.expect("the send ends").expect_err("nothing was sent");
        assert!(
            matches!(&err, SendError::Transient(e) if e.contains("did not finish within 1 s")),
            "{err:?}"
        );
        drop(relay);
    }

    #[tokio::test]
    async fn a_mitigation_command_is_told_its_outbox_key() {
        // A body of bare arguments, as versions before per-rule timeouts queued.
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let courier = Courier::new(&NotifyConfig::default()).expect("builds");
        let m = OutboxItem {
            key: "mitigation/7/failover/amf-1".into(),
            channel: "command".into(),
            destination: "/bin/sh".into(),
            subject: String::new(),
            body: serde_json::to_string(&[
                "-c",
                &format!("printf %s \"${DELIVERY_ENV}\" > {}", seen.display()),
            ])
            .unwrap(),
            secret: None,
            event_at: 0,
        };
        courier.send(&m).await.expect("runs");
        assert_eq!(std::fs::read_to_string(&seen).unwrap(), m.key);
    }

    #[tokio::test]
    async fn a_command_that_leaves_a_helper_running_is_done_when_it_exits() {
        // The helper inherits the command's error output and holds it open
        // for 30 s; the command has 20 s and exits at once. Its error output
        // is what a failed run's message shows.
        let courier = Courier::new(&NotifyConfig::default()).expect("builds");
        let run = |script: &str| OutboxItem {
            key: "mitigation/7/failover/amf-1".into(),
            channel: "command".into(),
            destination: "/bin/sh".into(),
            subject: String::new(),
            body: serde_json::json!({"args": ["-c", script], "timeout_secs": 20}).to_string(),
            secret: None,
            event_at: 0,
        };
        courier
            .send(&run("sleep 30 & echo switched"))
            .await
            .expect("done when it exits, not when its helper lets go of its output");
        let err = (courier.send(&run("sleep 30 & echo 'standby unreachable' >&2; exit 3")))
            .await
            .expect_err("failed");
        assert!(
            matches!(&err, SendError::Transient(e) if e.contains("exit status: 3: standby unreachable")),
            "{err:?}"
        );
        // More than a read's worth, written as it exits: kept up to 4 KiB.
        let err = (courier.send(&run("head -c 6000 /dev/zero | tr '\\0' x >&2; exit 3")))
            .await
            .expect_err("failed");
        assert!(
            matches!(&err, SendError::Transient(e) if e.ends_with(&"x".repeat(STDERR_KEPT_BYTES))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_mitigation_command_runs_as_long_as_its_rule_allows() {
        let courier = Courier::new(&NotifyConfig::default()).expect("builds");
        let run = |timeout_secs: u64| OutboxItem {
            key: "mitigation/7/drain/site-3".into(),
            channel: "command".into(),
            destination: "/bin/sleep".into(),
            subject: String::new(),
            body: serde_json::json!({"args": ["2"], "timeout_secs": timeout_secs}).to_string(),
            secret: None,
            event_at: 0,
        };
        courier
            .send(&run(10))
            .await
            .expect("a 2-s drain within 10 s");
        let err = courier.send(&run(1)).await.expect_err("stopped after 1 s");
        assert!(
            matches!(&err, SendError::Transient(e) if e.contains("took over 1 s")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_timed_out_command_is_stopped_with_what_it_started() {
        let courier = Courier::new(&NotifyConfig::default()).expect("builds");
        let dir = tempfile::tempdir().expect("temp dir");
        let pid_file = dir.path().join("helper.pid");
        // A script whose helper outlives a kill of the script alone.
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let run = OutboxItem {
            key: "mitigation/7/drain/site-3".into(),
            channel: "command".into(),
            destination: "/bin/sh".into(),
            subject: String::new(),
            body: serde_json::json!({"args": ["-c", script], "timeout_secs": 1}).to_string(),
            secret: None,
            event_at: 0,
        };
        let err = courier.send(&run).await.expect_err("stopped after 1 s");
        assert!(matches!(&err, SendError::Transient(_)), "{err:?}");
        let helper = std::fs::read_to_string(&pid_file).expect("the script started its helper");
        let status = std::path::Path::new("/proc")
            .join(helper.trim())
            .join("stat");
        // Killed, it is gone once reaped; until then a zombie (`Z`).
        let stopped = || {
            std::fs::read_to_string(&status).map_or(true, |stat| {
                stat.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
        };
        for _ in 0..50 {
            if stopped() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the helper {} still runs", helper.trim());
    }
}
