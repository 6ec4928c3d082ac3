use dialtone_engine::Incident;
use dialtone_model::{Severity, Timestamp};
use dialtone_respond::{Mitigation, NoticeKind};
use dialtone_statuspage::PageInfo;
use serde_json::json;

use super::*;

/// One pager of each kind we speak.
fn pagers() -> [PagerConfig; 2] {
    [
        PagerConfig::Pagerduty {
            url: "https://events.pagerduty.com/v2/enqueue".into(),
            routing_key: "R0UT1NG".into(),
            from_escalation_level: 0,
        },
        PagerConfig::Alertmanager {
            url: "http://127.0.0.1:9093/hook".into(),
            from_escalation_level: 0,
        },
    ]
}

fn incident() -> Incident {
    serde_json::from_value(json!({
        "id": 7,
        "status": "identified",
        "severity": "major",
        "title": "Calls and mobile data disrupted in North",
        "opened_at": 1_767_780_000,
        "identified_at": 1_767_780_120,
        "monitoring_at": null,
        "resolved_at": null,
        "updated_at": 1_767_780_120,
        "root_cause": "sw-amf-v2",
        "candidates": [],
        "impact": {
            "regions": [{"region": "north", "services": 6, "share": [0.0, 0.5, 0.5]}],
            "cells_affected": 40,
            "subscribers_affected": 52_000,
            "emergency_calls_affected": true
        },
        "charted_series": [],
        "last_broken_at": 1_767_780_120,
        "timeline": [
            {"incident": 7, "at": 1_767_780_000, "kind": "detected", "status": "investigating",
             "public_body": "We are investigating problems with calls in North.", "detail": "40 cells"},
            {"incident": 7, "at": 1_767_780_060, "kind": "paged", "status": "investigating",
             "public_body": "", "detail": "paged noc-primary"}
        ]
    }))
    .expect("fixture is an incident")
}

fn subscriber(id: i64, channel: Channel, target: &str, regions: &[&str]) -> Subscriber {
    Subscriber {
        id,
        channel,
        target: target.into(),
        services: Vec::new(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        secret: (channel == Channel::Webhook).then(|| "s3cret".to_string()),
        confirmed: true,
        unsubscribe_token: format!("u{id}"),
    }
}

/// What composes the messages: the page's state and everyone to tell, at `now`.
fn composer<'a>(
    page: &'a PageInfo,
    regions: &'a [String],
    incidents: &'a [Incident],
    subscribers: &'a [Subscriber],
    pagers: &'a [PagerConfig],
    now: Timestamp,
) -> Compose<'a> {
    Compose {
        state: PageState {
            page,
            maintenances: &[],
            regions,
            incidents,
            now,
            hosted: dialtone_statuspage::Hosted::default(),
        },
        all_incidents: incidents,
        base_url: "https://status.example.net",
        subscribers,
        pagers,
        now,
    }
}

#[test]
fn every_effect_becomes_its_message_in_the_formats_we_speak() {
    let incidents = vec![incident()];
    let page = PageInfo::default();
    let regions = vec!["north".to_string(), "south".to_string()];
    let subscribers = vec![
        subscriber(1, Channel::Email, "ana@example.net", &[]),
        subscriber(2, Channel::Webhook, "http://127.0.0.1:9/hook", &["north"]),
        subscriber(3, Channel::Email, "south-only@example.net", &["south"]),
    ];
    let pagers = pagers();
    let c = composer(
        &page,
        &regions,
        &incidents,
        &subscribers,
        &pagers,
        1_767_780_120,
    );
    let effects = vec![
        Effect::Notify(Notice {
            incident: 7,
            entry: 0,
            kind: NoticeKind::Created,
        }),
        Effect::Page(Page {
            incident: 7,
            action: PageAction::Trigger,
            level: 0,
            target: "noc-primary".into(),
            at: 1_767_780_060,
        }),
        Effect::Mitigate(Mitigation {
            incident: 7,
            rule: "fail over to the standby".into(),
            action: MitigationAction::Webhook {
                url: "https://orchestrator.example.net/failover".into(),
            },
            element: "sw-amf-v2".into(),
            at: 1_767_780_120,
        }),
        Effect::Mitigate(Mitigation {
            incident: 7,
            rule: "twin".into(),
            action: MitigationAction::TwinFailover,
            element: "sw-amf-v2".into(),
            at: 1_767_780_120,
        }),
    ];
    let items = compose(&effects, &c);
    assert!(
        !items
            .iter()
            .any(|i| i.destination == "south-only@example.net"),
        "subscribers of other regions hear nothing"
    );
    let shown: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            json!({
                "key": i.key,
                "channel": i.channel,
                "destination": i.destination,
                "subject": i.subject,
                "body": serde_json::from_str::<serde_json::Value>(&i.body)
                    .unwrap_or_else(|_| json!(i.body)),
                "signed": i.secret.is_some(),
                "event_at": i.event_at,
            })
        })
        .collect();
    insta::assert_json_snapshot!("compose", shown);
}

#[test]
fn signatures_are_hmac_sha256_in_hex() {
    // RFC 4231, test case 2.
    assert_eq!(
        crate::sign("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn retries_back_off_to_an_hour() {
    let delays: Vec<i64> = (1..=9).map(crate::retry_delay_secs).collect();
    assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
}

#[test]
fn the_confirmation_email_carries_the_link_and_nothing_else_goes_out() {
    let m = confirmation_email(
        "Dialtone Mobile",
        "https://s.example",
        "a@example.net",
        4,
        "tok",
        9,
    );
    // `printf tok | sha256sum` begins 1a7674eb4ee78df7; the key never holds the token.
    assert_eq!(m.key, "confirm/4/1a7674eb4ee78df7");
    assert!(
        m.body
            .contains("https://s.example/subscribe/confirm?token=tok")
    );
}

/// The notices of incident 7's first update to `subscribers`, as composed
/// with `incidents` on a page of `regions`.
fn first_notices(
    incidents: &[Incident],
    regions: &[String],
    subscribers: &[Subscriber],
) -> Vec<OutboxItem> {
    let page = PageInfo::default();
    let c = composer(&page, regions, incidents, subscribers, &[], 1_767_780_120);
    let notice = Effect::Notify(Notice {
        incident: 7,
        entry: 0,
        kind: NoticeKind::Created,
    });
    compose(&[notice], &c)
}

/// A notice for subscriber `sub` of incident 7's first update, as composed.
fn notice_to(sub: Subscriber) -> OutboxItem {
    first_notices(&[incident()], &["north".to_string()], &[sub]).remove(0)
}

#[test]
fn a_reused_subscriber_id_gets_a_notice_of_its_own() {
    // The store gives a newcomer the id of the subscriber who left last; the
    // outbox skips a key it holds, so the key must tell the two apart.
    let leaver = subscriber(7, Channel::Email, "left@example.net", &[]);
    let newcomer = Subscriber {
        target: "new@example.net".into(),
        unsubscribe_token: "another".into(),
        ..leaver.clone()
    };
    let (old, new) = (notice_to(leaver.clone()), notice_to(newcomer));
    assert_ne!(old.key, new.key);
    assert_eq!(
        old.key,
        notice_to(leaver).key,
        "the same subscription, the same key"
    );
    assert!(new.key.starts_with("notice/7/0/7-"), "{}", new.key);
}

fn formatted(m: &OutboxItem) -> String {
    let from = "Dialtone Status <status@example.net>"
        .parse()
        .expect("a mailbox");
    let message = crate::courier::email_message(&from, m).expect("builds");
    String::from_utf8(message.formatted()).expect("ASCII")
}

#[test]
fn a_notice_email_has_the_headers_mail_systems_expect_and_links_its_incident() {
    // As long as a real token: the header may not be folded or encoded.
    let token = "5e6716963fe70543e4d8566177750857bb114285c25e8c48e3ea72a5d5c983b2";
    let m = notice_to(Subscriber {
        unsubscribe_token: token.into(),
        ..subscriber(1, Channel::Email, "ana@example.net", &[])
    });
    assert!(
        m.body
            .contains("Follow this incident: https://status.example.net/incidents/7\n"),
        "{}",
        m.body
    );
    let mail = formatted(&m);
    let header = |name: &str| {
        mail.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
    };
    assert_eq!(header("MIME-Version").as_deref(), Some("1.0"));
    assert_eq!(
        header("List-Unsubscribe").as_deref(),
        Some(format!("<https://status.example.net/unsubscribe?token={token}>").as_str())
    );
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let id = header("Message-ID").expect("a Message-ID");
    assert!(id.starts_with('<') && id.ends_with("@example.net>"), "{id}");
    assert_eq!(
        formatted(&m)
            .lines()
            .find(|l| l.starts_with("Message-ID: ")),
        Some(format!("Message-ID: {id}").as_str()),
        "a redelivery is the same message"
    );
    let other = notice_to(subscriber(2, Channel::Email, "bo@example.net", &[]));
    assert!(
        !formatted(&other).contains(&id),
        "another message, another id"
    );
}

#[test]
fn the_confirmation_email_has_a_message_id_but_no_unsubscribe_header() {
    let m = confirmation_email(
        "Dialtone Mobile",
        "https://s.example",
        "a@example.net",
        4,
        "tok",
        9,
    );
    let mail = formatted(&m);
    assert!(mail.contains("Message-ID: <"), "{mail}");
    assert!(!mail.contains("List-Unsubscribe"), "{mail}");
}

/// The PagerDuty and Alertmanager bodies paging `target` about `inc`.
fn pages(inc: &Incident, action: PageAction, level: usize, target: &str) -> Vec<serde_json::Value> {
    let incidents = [inc.clone()];
    let page = PageInfo::default();
    let pagers = pagers();
    let c = composer(&page, &[], &incidents, &[], &pagers, inc.updated_at);
    let effect = Effect::Page(Page {
        incident: inc.id,
        action,
        level,
        target: target.into(),
        at: inc.updated_at,
    });
    compose(&[effect], &c)
        .iter()
        .map(|i| serde_json::from_str(&i.body).expect("JSON"))
        .collect()
}

#[test]
fn a_pager_for_a_later_escalation_level_hears_of_the_incident_once_it_escalates() {
    let team = |routing_key: &str, level| PagerConfig::Pagerduty {
        url: "https://events.pagerduty.com/v2/enqueue".into(),
        routing_key: routing_key.into(),
        from_escalation_level: level,
    };
    let pagers = [team("NOC", 0), team("DUTY-MANAGER", 1)];
    let inc = incident();
    let incidents = [inc.clone()];
    let page = PageInfo::default();
    let c = composer(&page, &[], &incidents, &[], &pagers, inc.updated_at);
    let keys_for = |action, level| {
        let effect = Effect::Page(Page {
            incident: inc.id,
            action,
            level,
            target: "whoever".into(),
            at: inc.updated_at,
        });
        (compose(&[effect], &c).iter())
            .map(|m| {
                let body: serde_json::Value = serde_json::from_str(&m.body).unwrap();
                body["routing_key"].as_str().unwrap().to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keys_for(PageAction::Trigger, 0), ["NOC"]);
    assert_eq!(keys_for(PageAction::Trigger, 1), ["NOC", "DUTY-MANAGER"]);
    assert_eq!(keys_for(PageAction::Resolve, 1), ["NOC", "DUTY-MANAGER"]);
    assert_eq!(keys_for(PageAction::Resolve, 0), ["NOC"], "never escalated");
}

#[test]
fn pagerduty_is_given_a_group_only_where_the_incident_touches_a_region() {
    let group = |inc: &Incident| {
        let bodies = pages(inc, PageAction::Trigger, 0, "noc-primary");
        bodies[0]["payload"].get("group").cloned()
    };
    assert_eq!(group(&incident()), Some(json!("north")));
    let mut core = incident();
    core.impact.regions.clear();
    assert_eq!(group(&core), None, "not an empty string");
}

#[test]
fn an_acknowledgement_reaches_pagerduty_and_not_alertmanager() {
    let bodies = pages(&incident(), PageAction::Acknowledge, 0, "noc-primary");
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["event_action"], "acknowledge");
    assert_eq!(bodies[0]["dedup_key"], "dialtone-incident-7");
}

#[test]
fn an_alert_keeps_its_identity_from_first_page_through_escalation_to_resolve() {
    let mut first = incident();
    first.root_cause = None;
    first.severity = Severity::Minor;
    let mut escalated = incident();
    escalated.severity = Severity::Critical;
    let mut resolved = escalated.clone();
    resolved.resolved_at = Some(1_767_782_000);
    let alertmanager = [
        pages(&first, PageAction::Trigger, 0, "noc-primary"),
        pages(&escalated, PageAction::Trigger, 1, "noc-secondary"),
        pages(&resolved, PageAction::Resolve, 1, "noc-secondary"),
    ]
    .map(|mut bodies| bodies.remove(1));
    let identity = |v: &serde_json::Value| {
        json!([
            v["receiver"],
            v["groupKey"],
            v["commonLabels"],
            v["alerts"][0]["labels"],
            v["alerts"][0]["fingerprint"]
        ])
    };
    for v in &alertmanager[1..] {
        assert_eq!(identity(v), identity(&alertmanager[0]));
    }
    let told = alertmanager.map(|v| v["alerts"][0]["annotations"]["escalation_target"].clone());
    assert_eq!(
        told,
        [
            json!("noc-primary"),
            json!("noc-secondary"),
            json!("noc-secondary")
        ]
    );
}

#[test]
fn a_root_cause_not_yet_known_is_left_out_not_sent_empty() {
    let mut inc = incident();
    inc.root_cause = None;
    let bodies = pages(&inc, PageAction::Trigger, 0, "noc-primary");
    let pagerduty = &bodies[0]["payload"];
    assert_eq!(pagerduty["source"], "dialtone", "{pagerduty}");
    assert!(pagerduty.get("component").is_none(), "{pagerduty}");
    let annotations = &bodies[1]["alerts"][0]["annotations"];
    assert!(annotations.get("root_cause").is_none(), "{annotations}");
}

/// An incident with calls only broken in the north now and data only in
/// the west, whose public was told of the south too before its impact
/// narrowed.
fn narrowed() -> Incident {
    let mut narrowed = incident();
    narrowed.impact.regions[0].services = Service::Voice.bit();
    let mut west = narrowed.impact.regions[0].clone();
    west.region = "west".into();
    west.services = Service::Data.bit();
    narrowed.impact.regions.push(west);
    narrowed.told_regions = vec!["north".into(), "south".into(), "west".into()];
    narrowed
}

/// Whom the first notice of `inc` reaches among email subscribers, each
/// following one `(region, service)`: their addresses, numbered from 1.
fn reached(inc: Incident, following: &[(&str, &str)]) -> Vec<String> {
    let regions = ["north", "south", "west"].map(String::from);
    let subscribers: Vec<Subscriber> = (following.iter().zip(1..))
        .map(|(&(region, service), id)| Subscriber {
            services: vec![service.to_string()],
            ..subscriber(id, Channel::Email, &format!("{id}@example.net"), &[region])
        })
        .collect();
    (first_notices(&[inc], &regions, &subscribers).into_iter())
        .map(|i| i.destination)
        .collect()
}

#[test]
fn notices_reach_each_area_told_of_and_only_the_services_broken_there() {
    // Stored before told services were kept (none here): the south, clear
    // now, hears of any service.
    let told = reached(
        narrowed(),
        &[
            ("north", "voice"),
            ("north", "data"),
            ("south", "data"),
            ("west", "voice"),
            ("west", "data"),
        ],
    );
    assert_eq!(told, ["1@example.net", "3@example.net", "5@example.net"]);
}

#[test]
fn fixed_lines_down_reach_whoever_follows_their_region() {
    // A gateway alone: no cell's service broken, no fixed-line service to
    // follow, so each follower of its region hears, whatever they chose.
    let mut inc = incident();
    inc.impact.regions.clear();
    inc.told_regions.clear();
    inc.impact.fixed_lines_affected = true;
    inc.impact.fixed_line_subscribers_affected = 12_000;
    inc.impact.fixed_line_regions = vec!["west".into()];
    let told = reached(
        inc,
        &[("north", "voice"), ("west", "voice"), ("west", "data")],
    );
    assert_eq!(told, ["2@example.net", "3@example.net"]);
}

#[test]
fn an_area_hears_the_end_of_every_service_it_was_told_of() {
    // The public heard of calls and data broken in the north, calls in the
    // south and data in the west; data then recovered in the north and
    // everything in the south, before the rest.
    let mut inc = narrowed();
    inc.told_services = [
        ("north", Service::Voice.bit() | Service::Data.bit()),
        ("south", Service::Voice.bit()),
        ("west", Service::Data.bit()),
    ]
    .into_iter()
    .map(|(r, m)| (r.to_string(), m))
    .collect();
    let told = reached(
        inc,
        &[
            ("north", "voice"),
            ("north", "data"),
            ("south", "data"),
            ("south", "voice"),
            ("west", "voice"),
            ("west", "data"),
        ],
    );
    assert_eq!(
        told,
        [
            "1@example.net",
            "2@example.net",
            "4@example.net",
            "6@example.net"
        ]
    );
}

#[test]
fn command_placeholders_are_filled_once_each_and_never_inside_what_fills_them() {
    let args = [
        "{element}",
        "--incident={incident}",
        "{element}/{incident}",
        "plain",
    ]
    .map(String::from);
    assert_eq!(
        command_args(&args, "odd-{incident}-id", 7),
        [
            "odd-{incident}-id",
            "--incident=7",
            "odd-{incident}-id/7",
            "plain"
        ]
    );
}
