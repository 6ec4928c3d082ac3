//! The playbook on the digital twin: the software-version outage is
//! published, paged, mitigated by the failover the verdict triggers, and
//! recovers before the fault would have ended on its own.

use dialtone_drill::Run;
use dialtone_engine::{EngineConfig, OperatorAction, TimelineKind};
use dialtone_model::{IncidentStatus, Severity, Timestamp};
use dialtone_respond::{Effect, MitigationAction, NoticeKind, PageAction, Playbook, Responder};
use dialtone_sim::TwinConfig;

struct Outcome {
    run: Run,
    effects: Vec<(Timestamp, Effect)>,
    restored_at: Option<Timestamp>,
    fault_end: Timestamp,
}

impl Outcome {
    /// The scenario's incident: the first the engine opened.
    fn incident(&self) -> &dialtone_engine::Incident {
        self.run
            .engine()
            .incidents()
            .first()
            .expect("an incident opened")
    }
}

/// Runs the scenario with `playbook`, applying twin failovers as they fire,
/// until the first incident resolves or the fault's aftermath is long over.
fn drive(playbook: Playbook, mut before_review: impl FnMut(&mut Run, Timestamp)) -> Outcome {
    let base = TwinConfig::default();
    let twin = TwinConfig {
        cells: 120,
        fault_at: base.start + 26 * 3600,
        ..base
    };
    let fault_end = twin.fault_at + twin.fault_duration_secs;
    let last = fault_end + 4 * 3600;
    let mut run = Run::new(twin, EngineConfig::default(), 1).expect("twin builds");
    let mut responder = Responder::new(playbook);
    let mut effects = Vec::new();
    let mut restored_at = None;
    let mut timeline = Vec::new();
    loop {
        timeline.clear();
        let at = run.step(&mut timeline);
        before_review(&mut run, at);
        for effect in responder.review(at, run.engine_mut()) {
            if let Effect::Mitigate(m) = &effect
                && m.action == MitigationAction::TwinFailover
                && run.restore(&m.element, at)
            {
                restored_at.get_or_insert(at);
            }
            effects.push((at, effect));
        }
        let resolved = run
            .engine()
            .incidents()
            .first()
            .is_some_and(|i| !i.status.is_open());
        if resolved || at >= last {
            break;
        }
    }
    Outcome {
        run,
        effects,
        restored_at,
        fault_end,
    }
}

/// Publishes, pages and fails over at any severity.
fn act_on_everything() -> Playbook {
    Playbook {
        auto_publish_at: Severity::Minor,
        page_at: Severity::Minor,
        mitigations: vec![dialtone_respond::MitigationRule {
            at_least: Severity::Minor,
            ..Default::default()
        }],
        ..Playbook::default()
    }
}

#[test]
fn failover_closes_the_loop_from_detection_to_resolved() {
    let out = drive(act_on_everything(), |_, _| {});
    let inc = out.incident();
    let truth = &out.run.twin().ground_truth()[0];
    assert_eq!(inc.root_cause.as_ref(), Some(&truth.root_cause));

    let created = out
        .effects
        .iter()
        .find_map(|(at, e)| match e {
            Effect::Notify(n) if n.incident == inc.id && n.kind == NoticeKind::Created => Some(*at),
            _ => None,
        })
        .expect("subscribers were told");
    assert!(
        created - inc.opened_at <= 120,
        "first update within 2 minutes"
    );

    let restored = out.restored_at.expect("the failover fired and took");
    assert!(
        inc.timeline
            .iter()
            .any(|e| e.kind == TimelineKind::Mitigated)
    );
    let monitoring = inc.monitoring_at.expect("moved to monitoring");
    let resolved = inc.resolved_at.expect("resolved");
    assert!(restored < monitoring && monitoring < resolved);
    assert!(
        monitoring < out.fault_end,
        "recovery came from the failover, not from the fault ending on its own"
    );
    assert_eq!(inc.status, IncidentStatus::Resolved);
    let report = dialtone_respond::postmortem::render(inc, &[]);
    assert!(report.contains("mitigation 'fail over to the standby' fired on"));
    let fired = inc
        .timeline
        .iter()
        .find(|e| e.kind == TimelineKind::Mitigated);
    let minutes = (fired.expect("fired").at - inc.opened_at) / 60;
    assert!(
        report.contains(&format!("| mitigation fired | {minutes} min |")),
        "{report}"
    );
    let sent = |delivered| dialtone_respond::postmortem::Sent {
        channel: "command".into(),
        delivered,
    };
    let undelivered = dialtone_respond::postmortem::render(inc, &[sent(false), sent(false)]);
    assert!(
        undelivered.contains(&format!(
            "| mitigation fired | {minutes} min (none delivered) |"
        )),
        "{undelivered}"
    );
    let retried = dialtone_respond::postmortem::render(inc, &[sent(false), sent(true)]);
    assert!(!retried.contains("none delivered"), "{retried}");
    assert!(report.contains("Subscriber-minutes lost"));

    let pages: Vec<&PageAction> = out
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Page(p) if p.incident == inc.id => Some(&p.action),
            _ => None,
        })
        .collect();
    assert_eq!(pages.first(), Some(&&PageAction::Trigger));
    assert_eq!(pages.last(), Some(&&PageAction::Resolve));
    let resolve_notices = out
        .effects
        .iter()
        .filter(|(_, e)| matches!(e, Effect::Notify(n) if n.kind == NoticeKind::Resolved))
        .count();
    assert_eq!(resolve_notices, 1, "one resolution notice");
}

#[test]
fn below_the_threshold_the_draft_waits_for_approval_and_nothing_goes_out() {
    let mut approved_at = None;
    let out = drive(
        Playbook {
            auto_publish_at: Severity::Critical,
            page_at: Severity::Critical,
            mitigations: Vec::new(),
            ..Playbook::default()
        },
        |run, at| {
            let Some(inc) = run.engine_mut().incident_mut(1) else {
                return;
            };
            // The operator approves ten minutes after the incident opened.
            if inc.awaiting_approval && at - inc.opened_at >= 600 {
                inc.apply(at, "alice", &OperatorAction::Approve)
                    .expect("a held draft can be approved");
                approved_at = Some(at);
            }
        },
    );
    let inc = out.incident();
    assert!(
        inc.severity < Severity::Critical,
        "the scenario stays below critical"
    );
    let approved_at = approved_at.expect("the draft was held, then approved");
    let notices: Vec<(Timestamp, NoticeKind)> = out
        .effects
        .iter()
        .filter_map(|(at, e)| match e {
            Effect::Notify(n) => Some((*at, n.kind)),
            _ => None,
        })
        .collect();
    assert_eq!(notices.first().map(|n| n.1), Some(NoticeKind::Created));
    assert!(
        notices.iter().all(|(at, _)| *at >= approved_at),
        "nothing reached subscribers before approval: {notices:?}"
    );
    assert!(
        !out.effects
            .iter()
            .any(|(_, e)| matches!(e, Effect::Page(_) | Effect::Mitigate(_))),
        "no page and no mitigation below their severities"
    );
    assert!(
        out.restored_at.is_none() && inc.resolved_at.is_none_or(|r| r >= out.fault_end),
        "without a failover the outage lasts as long as the fault"
    );
}

/// The conference bridge degrades during a scheduled high-stakes call. With
/// the call watched, the incident opens sooner, pages and is published at
/// once although it is minor, and the fallback switch saves the rest of the call.
#[test]
fn a_watched_call_opens_sooner_pages_and_publishes_at_once_and_switches_to_the_fallback() {
    let run_bridge = |watched: bool| {
        let base = TwinConfig::default();
        let twin = TwinConfig {
            cells: 120,
            scenario: "conference-bridge-degradation".into(),
            fault_at: base.start + 26 * 3600,
            ..base
        };
        let fault_at = twin.fault_at;
        let fault_end = twin.fault_at + twin.fault_duration_secs;
        let mut run = Run::new(twin, EngineConfig::default(), 1).expect("twin builds");
        let bridge = run.twin().ground_truth()[0].root_cause.clone();
        if watched {
            run.engine_mut()
                .watch_event(dialtone_engine::EventWatch {
                    name: "Leadership call".into(),
                    element: bridge.clone(),
                    start: fault_at - 600,
                    end: fault_end,
                    fallback: Some("bridge-standby".into()),
                })
                .expect("the bridge is in the topology");
        }
        // Paging at major only: a watched event must page anyway.
        let mut responder = Responder::new(Playbook {
            mitigations: Vec::new(),
            ..Playbook::default()
        });
        let mut effects = Vec::new();
        let mut timeline = Vec::new();
        while run.twin().now() < fault_end + 3600 {
            timeline.clear();
            let at = run.step(&mut timeline);
            for effect in responder.review(at, run.engine_mut()) {
                if let Effect::Mitigate(m) = &effect
                    && m.action == MitigationAction::TwinFailover
                {
                    run.restore(&m.element, at);
                }
                effects.push(effect);
            }
        }
        let inc = run
            .engine()
            .incidents()
            .first()
            .cloned()
            .expect("an incident opened");
        (inc, effects, run, fault_end)
    };
    let (plain, plain_effects, _, _) = run_bridge(false);
    let (watched, watched_effects, run, fault_end) = run_bridge(true);
    eprintln!(
        "incident opened {} s earlier with the watch; degradation ended {} min before the fault would have",
        plain.opened_at - watched.opened_at,
        (fault_end - run.twin().ground_truth()[0].end) / 60
    );
    assert!(
        watched.opened_at < plain.opened_at,
        "watched opens at {} , unwatched at {}",
        watched.opened_at,
        plain.opened_at
    );
    assert!(watched.severity < Severity::Major, "{:?}", watched.severity);
    // Published at once when the call is watched; held for approval (minor) when not.
    let held = |inc: &dialtone_engine::Incident| {
        (inc.timeline.iter()).any(|e| e.kind == TimelineKind::AwaitingApproval)
    };
    assert!(held(&plain), "{:#?}", plain.timeline);
    assert!(
        !held(&watched) && watched.is_public(),
        "{:#?}",
        watched.timeline
    );
    // Told as what it is: conference calls, to callers wherever they are.
    assert_eq!(watched.title, "Conference calls disrupted");
    assert_eq!(watched.impact.conference_participants_affected, 500);
    let first_words = (watched.timeline.iter())
        .find(|e| e.kind == TimelineKind::Detected)
        .map(|e| e.public_body.as_str());
    assert_eq!(
        first_words,
        Some(
            "We are investigating problems with conference calls. We will post updates here as we learn more."
        )
    );
    assert!(
        !plain_effects.iter().any(|e| matches!(e, Effect::Page(_))),
        "a minor incident pages nobody unwatched"
    );
    assert!(
        watched_effects
            .iter()
            .any(|e| matches!(e, Effect::Page(p) if p.action == PageAction::Trigger))
    );
    assert!(
        watched_effects
            .iter()
            .any(|e| matches!(e, Effect::Mitigate(m) if m.rule.contains("bridge-standby")))
    );
    assert!(
        run.twin().ground_truth()[0].end < fault_end,
        "the switch ended the degradation early"
    );
    assert!(
        watched
            .timeline
            .iter()
            .any(|e| e.kind == TimelineKind::EventWatch)
    );
    assert!(
        run.engine()
            .watch_log()
            .iter()
            .any(|(_, l)| l.contains("pre-flight for 'Leadership call'")),
        "{:?}",
        run.engine().watch_log()
    );
}

/// Without a failover the outage lasts the fault's 90 minutes: while it
/// does, the public hears something at least once per update cadence, a
/// progress update where nobody wrote one.
#[test]
fn a_long_outage_is_never_silent_for_longer_than_the_cadence() {
    let playbook = Playbook {
        auto_publish_at: Severity::Minor,
        mitigations: Vec::new(),
        ..Playbook::default()
    };
    let cadence = playbook.update_cadence_secs;
    let out = drive(playbook, |_, _| {});
    let inc = out.incident();
    let public: Vec<(Timestamp, TimelineKind)> = (inc.timeline.iter())
        .filter(|e| e.kind.is_public())
        .map(|e| (e.at, e.kind))
        .collect();
    let monitoring = inc.monitoring_at.expect("recovered after the fault");
    assert!(monitoring - inc.opened_at > 2 * cadence, "{public:?}");
    for pair in public.windows(2).filter(|p| p[0].0 < monitoring) {
        assert!(pair[1].0 - pair[0].0 <= cadence, "{public:?}");
    }
    let progress = (inc.timeline.iter())
        .find(|e| e.kind == TimelineKind::Progress)
        .expect("a progress update");
    assert!(
        progress
            .public_body
            .ends_with("We will post another update within 30 minutes."),
        "{}",
        progress.public_body
    );
}

/// An incident an earlier run left open, announced and paged, acknowledged
/// an hour ago or paged a minute ago and not yet due an escalation, comes
/// back after a restart without a second announcement, page or mitigation.
#[test]
fn a_carried_over_incident_is_not_announced_paged_or_mitigated_again() {
    for (acknowledged_by, left_secs_ago) in [(Some("ada"), 3600), (None, 60)] {
        let effects = review_carried_over(acknowledged_by, left_secs_ago);
        assert!(effects.is_empty(), "{acknowledged_by:?}: {effects:?}");
    }
}

/// The first review after a restart of an incident the earlier run left
/// `left_secs_ago`.
fn review_carried_over(acknowledged_by: Option<&str>, left_secs_ago: i64) -> Vec<Effect> {
    let twin = TwinConfig {
        cells: 60,
        ..TwinConfig::default()
    };
    let start = twin.start;
    let mut run = Run::new(twin, EngineConfig::default(), 1).expect("twin builds");
    let left_at = start - left_secs_ago;
    let mut left = dialtone_engine::Incident::open(9, left_at);
    left.title = "Calls disrupted in North".into();
    left.severity = Severity::Critical;
    left.status = IncidentStatus::Identified;
    left.root_cause = Some(run.twin().ground_truth()[0].root_cause.to_string());
    left.operator.acknowledged_by = acknowledged_by.map(str::to_owned);
    for (kind, public_body) in [
        (
            TimelineKind::Detected,
            "We are investigating problems with calls.",
        ),
        (TimelineKind::Notified, ""),
        (TimelineKind::Paged, ""),
    ] {
        left.timeline.push(dialtone_engine::TimelineEntry {
            incident: 9,
            at: left_at,
            kind,
            status: IncidentStatus::Identified,
            public_body: public_body.into(),
            detail: String::new(),
        });
    }
    run.engine_mut().adopt(left);
    let mut responder = Responder::new(act_on_everything());
    responder.review(start, run.engine_mut())
}
