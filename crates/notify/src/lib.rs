//! Outbound messages.
//!
//! [`compose`] turns the playbook's effects into outbox rows, purely: a
//! Statuspage webhook envelope or an email per subscriber of what the
//! incident affects, a PagerDuty Events v2 or Alertmanager v4 body per
//! configured pager, a JSON call per mitigation webhook. The [`Courier`]
//! delivers due rows over SMTP and HTTP, signing subscriber webhooks with
//! HMAC-SHA256, and [`deliver_due`] retries failures with backoff. The
//! outbox's keys queue every message once per subscriber and event, across
//! restarts; delivery is at least once (a crash between sending and marking
//! the row delivered sends it again).

mod compose;
mod courier;
mod webhook_target;

pub use compose::{Compose, compose, confirmation_email};
pub use courier::{Courier, DeliveryReport, SendError, deliver_due, retry_delay_secs, sign};
pub use webhook_target::{TargetError, check_webhook_url, is_public};

use dialtone_engine::Incident;
use dialtone_respond::postmortem::{Sent, render};
use dialtone_respond::{InvalidSetting, check_http_url};
use dialtone_store::{NotifyStore, StoreError};

/// The incident's postmortem, with what the outbox sent about it: the one
/// report `dialtone postmortem` writes and the console serves.
pub async fn postmortem(
    store: &dyn NotifyStore,
    incident: &Incident,
) -> Result<String, StoreError> {
    let sent: Vec<Sent> = store
        .outbox_for_incident(incident.id)
        .await?
        .into_iter()
        .map(|m| Sent {
            channel: m.item.channel,
            delivered: m.delivered_at.is_some(),
        })
        .collect();
    Ok(render(incident, &sent))
}

use serde::{Deserialize, Serialize};

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>` on subscriber webhooks.
pub const SIGNATURE_HEADER: &str = "X-Dialtone-Signature";
/// Header carrying the outbox key, so a receiver can drop a redelivery.
pub const DELIVERY_HEADER: &str = "X-Dialtone-Delivery";
/// The same key, for a mitigation command: in its environment.
pub const DELIVERY_ENV: &str = "DIALTONE_DELIVERY";

/// Where outbound messages go: the `[notify]` table of the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// The status page's public address, for links in messages; empty means
    /// the address the server listens on.
    pub base_url: String,
    /// The mail relay; without one, email subscriptions are refused.
    pub smtp: Option<SmtpConfig>,
    /// Who pages are sent to.
    pub pagers: Vec<PagerConfig>,
    /// Let subscriber webhooks reach loopback, private and link-local
    /// addresses. Off by default, because anyone may subscribe a webhook and
    /// Dialtone would POST wherever it points; turn it on only where every
    /// subscriber is trusted (a lab, a test with local receivers).
    pub allow_private_webhooks: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (a relay on this host only).
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The sender, e.g. `Dialtone Status <status@example.net>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

/// The longest [`SmtpConfig::timeout_secs`]: a relay slower than this is down,
/// and every email waits for it.
pub const MAX_SMTP_TIMEOUT_SECS: u64 = 300;

impl NotifyConfig {
    /// Checks the values serde cannot: URLs that can be called, an SMTP
    /// relay that can be reached and logged in to: caught when the
    /// configuration is loaded rather than retried forever from the outbox.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let invalid = |key: &str, problem: String| InvalidSetting::new("notify", key, problem);
        // Empty: the server fills in its listen address.
        if !self.base_url.is_empty() {
            check_http_url(&self.base_url)
                .map_err(|p| invalid("base_url", format!("`{}` {p}", self.base_url)))?;
        }
        for (i, pager) in self.pagers.iter().enumerate() {
            // The URL may carry credentials (Alertmanager basic auth): not repeated.
            check_http_url(pager.url()).map_err(|p| {
                invalid(
                    "pagers.url",
                    format!("the URL of pager {} ({}) {p}", i + 1, pager.name()),
                )
            })?;
        }
        if let Some(smtp) = &self.smtp {
            if smtp.port == 0 {
                return Err(invalid(
                    "smtp.port",
                    "0 is no port: use the relay's, usually 587 (starttls) or 465 (tls)".into(),
                ));
            }
            if !(1..=MAX_SMTP_TIMEOUT_SECS).contains(&smtp.timeout_secs) {
                return Err(invalid(
                    "smtp.timeout_secs",
                    format!(
                        "{} is out of range: use 1 to {MAX_SMTP_TIMEOUT_SECS}",
                        smtp.timeout_secs
                    ),
                ));
            }
            if let Err(problem) = sender(&smtp.from) {
                return Err(invalid("smtp.from", problem));
            }
            if smtp.security == SmtpSecurity::None && !is_this_host(&smtp.host) {
                return Err(invalid(
                    "smtp.security",
                    format!(
                        "`none` would send mail, and any password, to `{}` unencrypted: \
                         it is only for a relay on this host (localhost, 127.0.0.1, ::1); \
                         use starttls or tls",
                        smtp.host
                    ),
                ));
            }
            match (&smtp.username, &smtp.password) {
                (Some(_), None) => {
                    return Err(invalid(
                        "smtp.username",
                        "is set without smtp.password, so Dialtone would not log in: \
                         add the password, or remove the username for a relay that needs no login"
                            .into(),
                    ));
                }
                (None, Some(_)) => {
                    return Err(invalid(
                        "smtp.password",
                        "is set without smtp.username, so Dialtone would not log in: \
                         add the username, or remove the password for a relay that needs no login"
                            .into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The relay's sender address `from`, or what is wrong with it (to follow
/// the key's name).
pub(crate) fn sender(from: &str) -> Result<lettre::message::Mailbox, String> {
    from.parse().map_err(|e| {
        format!("`{from}` is not an address ({e}); write it as `Name <status@example.net>`")
    })
}

/// Whether `host` names this machine: `localhost` or a loopback address
/// (IPv6 without brackets, as the relay's host is written).
fn is_this_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn default_smtp_port() -> u16 {
    587
}

fn default_timeout_secs() -> u64 {
    10
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

/// One paging destination. `from_escalation_level` is the playbook's
/// escalation level from which it is paged (0, the default: from the first
/// page): a second PagerDuty service for the level-1 team is paged only when
/// the page escalates, and then told of the acknowledgement and the
/// resolution with the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PagerConfig {
    /// PagerDuty Events API v2.
    Pagerduty {
        #[serde(default = "default_pagerduty_url")]
        url: String,
        routing_key: String,
        #[serde(default)]
        from_escalation_level: usize,
    },
    /// Anything that takes Alertmanager's webhook (version 4).
    Alertmanager {
        url: String,
        #[serde(default)]
        from_escalation_level: usize,
    },
}

fn default_pagerduty_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".into()
}

impl PagerConfig {
    /// Its kind, as the configuration names it.
    pub fn name(&self) -> &'static str {
        match self {
            PagerConfig::Pagerduty { .. } => "pagerduty",
            PagerConfig::Alertmanager { .. } => "alertmanager",
        }
    }

    fn url(&self) -> &str {
        match self {
            PagerConfig::Pagerduty { url, .. } | PagerConfig::Alertmanager { url, .. } => url,
        }
    }

    /// Whether a page at escalation `level` (and its acknowledgement and
    /// resolution) goes to this pager.
    pub fn pages_at(&self, level: usize) -> bool {
        match self {
            PagerConfig::Pagerduty {
                from_escalation_level,
                ..
            }
            | PagerConfig::Alertmanager {
                from_escalation_level,
                ..
            } => *from_escalation_level <= level,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp() -> SmtpConfig {
        SmtpConfig {
            host: "mail.example.net".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            from: "Dialtone <status@example.net>".into(),
            username: None,
            password: None,
            timeout_secs: 10,
        }
    }

    fn refused(config: NotifyConfig) -> String {
        config.validate().expect_err("refused").to_string()
    }

    #[test]
    fn urls_that_cannot_be_called_are_refused_naming_the_key() {
        assert!(NotifyConfig::default().validate().is_ok());
        let err = refused(NotifyConfig {
            base_url: "not a url".into(),
            ..NotifyConfig::default()
        });
        assert!(
            err.starts_with("notify.base_url: `not a url` is not a URL"),
            "{err}"
        );
        for (url, problem) in [("not a url", "is not a URL"), ("ftp://x", "scheme `ftp`")] {
            let err = refused(NotifyConfig {
                pagers: vec![
                    PagerConfig::Pagerduty {
                        url: default_pagerduty_url(),
                        routing_key: "k".into(),
                        from_escalation_level: 0,
                    },
                    PagerConfig::Alertmanager {
                        url: url.into(),
                        from_escalation_level: 0,
                    },
                ],
                ..NotifyConfig::default()
            });
            assert!(
                err.starts_with("notify.pagers.url: the URL of pager 2 (alertmanager)")
                    && err.contains(problem),
                "{err}"
            );
        }
    }

    #[test]
    fn an_smtp_relay_that_cannot_work_is_refused_naming_the_key() {
        let with = |smtp: SmtpConfig| NotifyConfig {
            smtp: Some(smtp),
            ..NotifyConfig::default()
        };
        assert!(with(smtp()).validate().is_ok());
        for local in ["localhost", "127.0.0.1", "::1"] {
            let plain = SmtpConfig {
                host: local.into(),
                security: SmtpSecurity::None,
                ..smtp()
            };
            assert!(with(plain).validate().is_ok(), "{local}");
        }
        let cases = [
            (SmtpConfig { port: 0, ..smtp() }, "notify.smtp.port: 0"),
            (
                SmtpConfig {
                    timeout_secs: 0,
                    ..smtp()
                },
                "notify.smtp.timeout_secs: 0 is out of range",
            ),
            (
                SmtpConfig {
                    username: Some("dialtone".into()),
                    ..smtp()
                },
                "notify.smtp.username: is set without smtp.password",
            ),
            (
                SmtpConfig {
                    password: Some("secret".into()),
                    ..smtp()
                },
                "notify.smtp.password: is set without smtp.username",
            ),
            (
                SmtpConfig {
                    from: "status desk".into(),
                    ..smtp()
                },
                "notify.smtp.from: `status desk` is not an address",
            ),
            (
                SmtpConfig {
                    security: SmtpSecurity::None,
                    ..smtp()
                },
                "notify.smtp.security: `none` would send mail, and any password, to `mail.example.net` unencrypted",
            ),
        ];
        for (config, message) in cases {
            let err = refused(with(config));
            assert!(err.starts_with(message), "{err}");
        }
    }
}
