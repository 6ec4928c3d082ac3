//! Effects to outbox rows, purely.

use dialtone_engine::Incident;
use dialtone_model::{Service, ServiceMask, Severity};
use dialtone_respond::{Effect, MitigationAction, Notice, Page, PageAction};
use dialtone_statuspage::{PageState, incident_json, iso8601, status_of};
use dialtone_store::{Channel, OutboxItem, Subscriber, notice_key, token_digest};
use serde_json::json;

use crate::PagerConfig;

/// What composing needs besides the effects.
#[derive(Debug, Clone, Copy)]
pub struct Compose<'a> {
    /// The public page as of now: only public incidents.
    pub state: PageState<'a>,
    /// Every incident, public or held, for pages and mitigations.
    pub all_incidents: &'a [Incident],
    /// The status page's public address.
    pub base_url: &'a str,
    /// Confirmed subscribers.
    pub subscribers: &'a [Subscriber],
    pub pagers: &'a [PagerConfig],
    /// Network time now.
    pub now: i64,
}

/// A command's `args` with `{element}` and `{incident}` filled in, in one
/// pass: an element id that itself holds `{incident}` goes in as written.
fn command_args(args: &[String], element: &str, incident: u64) -> Vec<String> {
    let incident = incident.to_string();
    (args.iter())
        .map(|a| {
            (a.split("{element}"))
                .map(|part| part.replace("{incident}", &incident))
                .collect::<Vec<_>>()
                .join(element)
        })
        .collect()
}

/// The outbox rows for `effects`. Twin failovers are the shell's to apply and
/// produce no message.
pub fn compose(effects: &[Effect], c: &Compose<'_>) -> Vec<OutboxItem> {
    let mut out = Vec::new();
    for effect in effects {
        match effect {
            Effect::Notify(n) => notice(n, c, &mut out),
            Effect::Page(p) => page(p, c, &mut out),
            Effect::Mitigate(m) => {
                let key = format!("mitigation/{}/{}/{}", m.incident, m.rule, m.element);
                let verdict = json!({
                    "incident_id": m.incident.to_string(),
                    "rule": m.rule,
                    "element": m.element,
                    "at": iso8601(m.at),
                });
                match &m.action {
                    MitigationAction::TwinFailover => {}
                    MitigationAction::Webhook { url } => out.push(OutboxItem {
                        key,
                        channel: "mitigation".into(),
                        destination: url.clone(),
                        subject: m.rule.clone(),
                        body: verdict.to_string(),
                        secret: None,
                        event_at: m.at,
                    }),
                    MitigationAction::Command {
                        program,
                        args,
                        timeout_secs,
                    } => {
                        let args = command_args(args, &m.element, m.incident);
                        out.push(OutboxItem {
                            key,
                            channel: "command".into(),
                            destination: program.clone(),
                            subject: m.rule.clone(),
                            body: json!({"args": args, "timeout_secs": timeout_secs}).to_string(),
                            secret: None,
                            event_at: m.at,
                        });
                    }
                }
            }
        }
    }
    out
}

fn find<'a>(c: &Compose<'a>, id: u64) -> Option<&'a Incident> {
    c.all_incidents.iter().find(|i| i.id == id)
}

/// Service names the incident affects, anywhere.
fn services_of(inc: &Incident) -> Vec<&'static str> {
    Service::in_mask(inc.impact.services())
        .map(Service::as_str)
        .collect()
}

/// The areas a notice about the incident concerns
/// ([`Incident::closing_areas`]), by name; an area with no services named
/// concerns every service.
fn areas_of(areas: &[(String, ServiceMask)]) -> Vec<(&str, Vec<&'static str>)> {
    (areas.iter())
        .map(|(region, services)| {
            let services = Service::in_mask(*services).map(Service::as_str);
            (region.as_str(), services.collect())
        })
        .collect()
}

/// How a notice email's last line opens; it ends with [`UNSUBSCRIBE_LABEL`]
/// and the subscriber's unsubscribe URL.
const FOOTER_OPENING: &str = "You receive this because you subscribed to ";
const UNSUBSCRIBE_LABEL: &str = " Unsubscribe: ";

/// The unsubscribe URL a notice email ends with, for the courier's
/// `List-Unsubscribe` header: the outbox row holds no headers, and reading
/// the body's own footer back keeps rows queued before the header existed
/// working. The confirmation email has no such footer, so no header.
pub(crate) fn unsubscribe_url(body: &str) -> Option<&str> {
    let footer = body.lines().last()?.strip_prefix(FOOTER_OPENING)?;
    let (_, url) = footer.rsplit_once(UNSUBSCRIBE_LABEL)?;
    Some(url)
}

fn notice(n: &Notice, c: &Compose<'_>, out: &mut Vec<OutboxItem>) {
    // Only public incidents reach subscribers.
    let Some(inc) = c.state.incidents.iter().find(|i| i.id == n.incident) else {
        return;
    };
    let Some(entry) = inc.timeline.get(n.entry) else {
        return;
    };
    let closing = inc.closing_areas();
    let areas = areas_of(&closing);
    for sub in c.subscribers.iter().filter(|s| s.wants(&areas)) {
        let key = notice_key(inc.id, n.entry, sub);
        let unsubscribe = format!("{}/unsubscribe?token={}", c.base_url, sub.unsubscribe_token);
        let item = match sub.channel {
            Channel::Email => OutboxItem {
                key,
                channel: Channel::Email.as_str().into(),
                destination: sub.target.clone(),
                subject: format!(
                    "[{}] {}: {}",
                    c.state.page.name,
                    inc.title,
                    entry.status.as_str()
                ),
                body: format!(
                    "{}\n\nStatus: {}\nPosted: {}\n\nFollow this incident: {}/incidents/{}\n\n{FOOTER_OPENING}{}.{UNSUBSCRIBE_LABEL}{}\n",
                    entry.public_body,
                    entry.status.as_str(),
                    iso8601(entry.at),
                    c.base_url,
                    inc.id,
                    c.state.page.name,
                    unsubscribe
                ),
                secret: None,
                event_at: entry.at,
            },
            Channel::Webhook => {
                let status = status_of(&c.state);
                let envelope = json!({
                    "meta": {
                        "unsubscribe": unsubscribe,
                        "documentation": "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/",
                        "generated_at": iso8601(c.now),
                    },
                    "page": {
                        "id": c.state.page.id,
                        "status_indicator": status.indicator,
                        "status_description": status.description,
                    },
                    "incident": incident_json(&c.state, inc),
                });
                OutboxItem {
                    key,
                    channel: Channel::Webhook.as_str().into(),
                    destination: sub.target.clone(),
                    subject: n.kind.as_str().into(),
                    body: envelope.to_string(),
                    secret: sub.secret.clone(),
                    event_at: entry.at,
                }
            }
        };
        out.push(item);
    }
}

const fn pagerduty_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Major => "error",
        Severity::Minor => "warning",
        Severity::None => "info",
    }
}

/// The `receiver` of every Alertmanager-format page.
const ALERTMANAGER_RECEIVER: &str = "dialtone";

fn page(p: &Page, c: &Compose<'_>, out: &mut Vec<OutboxItem>) {
    let Some(inc) = find(c, p.incident) else {
        return;
    };
    let services = services_of(inc);
    let regions: Vec<&str> = (inc.impact.regions.iter())
        .map(|r| r.region.as_str())
        .collect();
    let console = format!("{}/console#incident-{}", c.base_url, inc.id);
    let summary = format!(
        "{} [{}]{}",
        inc.title,
        inc.severity.as_str(),
        inc.root_cause
            .as_deref()
            .map(|r| format!(" root cause: {r}"))
            .unwrap_or_default()
    );
    let summary: String = summary.chars().take(1024).collect();
    let action = match p.action {
        PageAction::Trigger => "trigger",
        PageAction::Acknowledge => "acknowledge",
        PageAction::Resolve => "resolve",
    };
    // Numbered: two pagers of one kind (two PagerDuty services) are two
    // messages. A pager for a later escalation level hears of the incident
    // once the page reaches that level, and of its acknowledgement and
    // resolution after that (the page's level is the highest it reached).
    for (number, pager) in c.pagers.iter().enumerate() {
        if !pager.pages_at(p.level) {
            continue;
        }
        let body = match pager {
            // Escalation sends another trigger under the same dedup_key: PagerDuty
            // merges it into the open alert rather than opening a second one, so
            // the alert gains the root cause and the new escalation target.
            PagerConfig::Pagerduty { routing_key, .. } => {
                let mut body = json!({
                "routing_key": routing_key,
                "event_action": action,
                "dedup_key": format!("dialtone-incident-{}", inc.id),
                "payload": {
                    "summary": summary,
                    "source": "dialtone",
                    "severity": pagerduty_severity(inc.severity),
                    "timestamp": iso8601(p.at),
                    "class": "outage",
                    "custom_details": {
                        "incident_id": inc.id.to_string(),
                        "status": inc.status.as_str(),
                        "escalation_level": p.level,
                        "escalation_target": p.target,
                        "services": services,
                        "subscribers_affected": inc.impact.subscribers_affected,
                        "emergency_calls_affected": inc.impact.emergency_calls_affected,
                    },
                },
                "links": [{"href": console, "text": "Incident in the Dialtone console"}],
                "client": "Dialtone",
                "client_url": c.base_url,
                });
                // An empty component or group would name none: PagerDuty gets
                // the component once the root cause is known, and the group
                // where the incident touches a region (a core or
                // conference-only one may touch none).
                if let Some(root) = &inc.root_cause {
                    body["payload"]["component"] = json!(root);
                }
                if !regions.is_empty() {
                    body["payload"]["group"] = json!(regions.join(","));
                }
                body
            }
            PagerConfig::Alertmanager { .. } => {
                let status = match p.action {
                    PageAction::Trigger => "firing",
                    PageAction::Resolve => "resolved",
                    // An alert is firing or resolved: a receiver of this
                    // format has nothing to acknowledge.
                    PageAction::Acknowledge => continue,
                };
                // Labels are the alert's identity, so they hold only what stays
                // the same from the first page to the resolve: a receiver
                // matching the resolve to its alert by labels would otherwise
                // keep an alert of an earlier severity or escalation target
                // firing. What changes is told in the annotations.
                let labels = json!({
                    "alertname": "DialtoneIncident",
                    "incident": inc.id.to_string(),
                });
                let mut annotations = json!({
                    "summary": summary,
                    "severity": inc.severity.as_str(),
                    "escalation_level": p.level.to_string(),
                    "escalation_target": p.target,
                    "regions": regions.join(","),
                });
                if let Some(root) = &inc.root_cause {
                    annotations["root_cause"] = json!(root);
                }
                json!({
                    "version": "4",
                    "groupKey": format!("{{}}:{{incident=\"{}\"}}", inc.id),
                    "truncatedAlerts": 0,
                    "status": status,
                    // The receiver is the integration notified (Alertmanager's
                    // configured receiver), the same one all the alert's life.
                    "receiver": ALERTMANAGER_RECEIVER,
                    "groupLabels": {"incident": inc.id.to_string()},
                    "commonLabels": labels,
                    "commonAnnotations": annotations,
                    "externalURL": c.base_url,
                    "alerts": [{
                        "status": status,
                        "labels": labels,
                        "annotations": annotations,
                        "startsAt": iso8601(inc.opened_at),
                        "endsAt": inc.resolved_at.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), iso8601),
                        "generatorURL": console,
                        "fingerprint": format!("{:016x}", inc.id),
                    }],
                })
            }
        };
        out.push(OutboxItem {
            key: format!(
                "page/{}/{}/{}/{}-{number}",
                inc.id,
                action,
                p.level,
                pager.name()
            ),
            channel: pager.name().into(),
            destination: pager.url().to_string(),
            subject: summary.clone(),
            body: body.to_string(),
            secret: None,
            event_at: p.at,
        });
    }
}

/// The double opt-in email: nothing is sent to `target` until its owner
/// follows the link. Keyed by a digest of the token too (never the token,
/// which admins would see in the outbox): a subscriber id can come back
/// after an unconfirmed request is replaced (the store reuses the highest
/// id), and each request's link must go out.
pub fn confirmation_email(
    page_name: &str,
    base_url: &str,
    target: &str,
    subscriber_id: i64,
    token: &str,
    at: i64,
) -> OutboxItem {
    OutboxItem {
        key: format!("confirm/{subscriber_id}/{}", token_digest(token)),
        channel: Channel::Email.as_str().into(),
        destination: target.to_string(),
        subject: format!("[{page_name}] Confirm your subscription"),
        body: format!(
            "Someone, hopefully you, asked to receive {page_name} incident notifications at this address.\n\n\
             Confirm: {base_url}/subscribe/confirm?token={token}\n\n\
             If it was not you, ignore this message: nothing more will be sent.\n"
        ),
        secret: None,
        event_at: at,
    }
}

#[cfg(test)]
mod tests;
