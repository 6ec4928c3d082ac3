//! `POST /api/v1/alerts`: a receiver of Alertmanager's webhook (version 4),
//! so the probes an operator already runs (test calls, blackbox checks) feed
//! the engine beside the KPIs ([`dialtone_engine::ProbeAlert`]). An alert
//! names the topology element its probe tests in an `element` label, and
//! may name the services it found broken in a `service` label
//! (`registration`, `voice`, `data`, comma-separated; all three if absent).
//! Alerts without an element Dialtone knows are answered as ignored, with the
//! reason, and the rest are still taken. A firing alert not heard of again
//! for [`crate::live::PROBE_STALE_SECS`] is taken as resolved.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::{Extension, Json};
use dialtone_engine::{ProbeAlert, ProbeRefused};
use dialtone_model::{ALL_SERVICES, Service, ServiceMask};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{Principal, audit_done, unix_now};
use crate::api::parse_json;
use crate::extract::Body;
use crate::{ApiError, AppState, MAX_ALERTS_BODY_BYTES};

/// The webhook's envelope, read leniently: senders add fields (newer
/// Alertmanagers send `notification_reason`), and only these matter here.
#[derive(Debug, Deserialize)]
struct Webhook {
    version: String,
    alerts: Vec<Alert>,
    #[serde(default, rename = "truncatedAlerts")]
    truncated_alerts: u64,
}

#[derive(Debug, Deserialize)]
struct Alert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    fingerprint: String,
}

/// The probe alert an Alertmanager alert stands for, or why it is ignored.
fn probe_of(alert: &Alert) -> Result<ProbeAlert, String> {
    let firing = match alert.status.as_str() {
        "firing" => true,
        "resolved" => false,
        other => return Err(format!("status `{other}`: expected firing or resolved")),
    };
    let element = alert.labels.get("element").ok_or(
        "no `element` label: label the alert with the id of the topology element its probe tests",
    )?;
    // The fingerprint tells alerts with the same name on one element apart
    // (two probe sources, say); a sender without one gets one per name.
    let id = match alert.fingerprint.as_str() {
        "" => alert.labels.get("alertname").cloned().unwrap_or_default(),
        fingerprint => fingerprint.to_owned(),
    };
    Ok(ProbeAlert {
        id,
        element: element.clone(),
        services: alert
            .labels
            .get("service")
            .map_or(Ok(ALL_SERVICES), |s| services_of(s))?,
        firing,
    })
}

/// `voice,data` as a mask.
fn services_of(names: &str) -> Result<ServiceMask, String> {
    let mut mask = 0;
    for name in names.split(',').map(str::trim) {
        let service = Service::parse(name).ok_or_else(|| {
            format!("service `{name}` in the `service` label: use registration, voice or data")
        })?;
        mask |= service.bit();
    }
    Ok(mask)
}

/// `POST /api/v1/alerts`: each firing alert counts as a broken observation of
/// its element from the next minute until it resolves.
pub(crate) async fn receive(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Body(body): Body<MAX_ALERTS_BODY_BYTES>,
) -> Result<Json<Value>, ApiError> {
    let webhook: Webhook = parse_json(&body)?;
    if webhook.truncated_alerts > 0 {
        // Alertmanager's `max_alerts` cut the group: those alerts are not
        // here, and their probes will not count.
        tracing::warn!(
            truncated = webhook.truncated_alerts,
            "Alertmanager left alerts out of a notification (max_alerts); raise it to let them count"
        );
    }
    if webhook.version != "4" {
        return Err(ApiError::BadRequest(format!(
            "webhook version `{}`: Dialtone reads Alertmanager's version 4",
            webhook.version
        )));
    }
    let mut ignored = Vec::new();
    let mut ignored_total = 0u64;
    // Alertmanager retries: by then the pipeline has a network time.
    let mut live = state.live_for_write("the alerts").await?;
    let heard = unix_now();
    let mut taken_probes = Vec::new();
    for alert in &webhook.alerts {
        let taken = probe_of(alert).and_then(|probe| {
            (live.probe_alert(&probe, heard).map(|()| probe)).map_err(|e| match e {
                ProbeRefused::UnknownElement(_) => {
                    format!("{e}: label the alert with a topology element id")
                }
                ProbeRefused::TooMany | ProbeRefused::NoService => e.to_string(),
                ProbeRefused::IdTooLong(_) => {
                    format!("{e}: send Alertmanager's own fingerprint, or a shorter alertname")
                }
            })
        });
        match taken {
            Ok(probe) => taken_probes.push(probe),
            Err(reason) => {
                ignored_total += 1;
                // Every alert is still judged, but a flood of bad ones
                // (a body may hold hundreds of thousands) is named only
                // in part: the log and the answer stay small.
                if ignored.len() < IGNORED_LISTED {
                    tracing::warn!(fingerprint = %alert.fingerprint, %reason, "ignored an alert");
                    ignored.push(json!({
                        "fingerprint": alert.fingerprint,
                        "alertname": alert.labels.get("alertname"),
                        "reason": reason,
                    }));
                }
            }
        }
    }
    if ignored_total > ignored.len() as u64 {
        tracing::warn!(
            ignored = ignored_total,
            listed = ignored.len(),
            "ignored more alerts than are listed one by one"
        );
    }
    let accepted = taken_probes.len() as u64;
    live.count_alerts(accepted, ignored_total);
    // Kept for a restarted run, which Alertmanager tells of a firing alert
    // again only after its repeat interval; under the lock, so two
    // notifications reach the store in the order they counted. Taken
    // already, they are not refused when the store is down: a restart
    // would then wait for Alertmanager's repeat, as before.
    if !taken_probes.is_empty()
        && let Err(e) = state.plans.record_probes(&taken_probes, heard).await
    {
        tracing::warn!(error = %e, "could not keep the probes' alerts for a restart");
    }
    drop(live);
    audit_done(
        &state,
        &who.name,
        "receive_alerts",
        "alertmanager".into(),
        format!("{accepted} taken, {ignored_total} ignored"),
    )
    .await;
    Ok(Json(
        json!({ "accepted": accepted, "ignored": ignored, "ignored_total": ignored_total }),
    ))
}

/// Ignored alerts an answer (and the log) names one by one; `ignored_total`
/// counts them all.
const IGNORED_LISTED: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(status: &str, labels: &[(&str, &str)]) -> Alert {
        Alert {
            status: status.into(),
            labels: labels
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            fingerprint: "f1".into(),
        }
    }

    #[test]
    fn an_alert_names_its_element_and_services() {
        let probe = probe_of(&alert(
            "firing",
            &[
                ("alertname", "TestCallsFailing"),
                ("element", "cell-north-0001-1"),
                ("service", "voice, data"),
            ],
        ))
        .unwrap();
        assert_eq!(
            probe,
            ProbeAlert {
                id: "f1".into(),
                element: "cell-north-0001-1".into(),
                services: Service::Voice.bit() | Service::Data.bit(),
                firing: true,
            }
        );
        let mut unprinted = alert(
            "resolved",
            &[("alertname", "DnsDown"), ("element", "dns-1")],
        );
        unprinted.fingerprint.clear();
        let resolved = probe_of(&unprinted).unwrap();
        assert_eq!(
            (resolved.id.as_str(), resolved.services, resolved.firing),
            ("DnsDown", ALL_SERVICES, false)
        );
    }

    #[test]
    fn an_alert_without_an_element_or_with_an_unknown_service_is_ignored_with_the_reason() {
        let no_element = probe_of(&alert("firing", &[("alertname", "X")])).unwrap_err();
        assert!(no_element.contains("`element` label"), "{no_element}");
        let bad_service =
            probe_of(&alert("firing", &[("element", "e"), ("service", "sms")])).unwrap_err();
        assert!(bad_service.contains("service `sms`"), "{bad_service}");
        let bad_status = probe_of(&alert("pending", &[("element", "e")])).unwrap_err();
        assert!(bad_status.contains("status `pending`"), "{bad_status}");
    }
}
