//! The crisis playbook as a pure state machine.
//!
//! Once a minute (and after operator actions) the shell hands the
//! [`Responder`] the engine at network time `at`; it returns the [`Effect`]s
//! the playbook calls for and writes what it did into the incidents'
//! timelines. It never reads the clock and does no I/O: the shell delivers
//! notices and pages and runs mitigations, so a drill replays bit for bit.
//!
//! Per incident, the playbook:
//! - publishes the drafted first update at or above `auto_publish_at` (or
//!   at once where the incident hits a watched high-stakes event), and
//!   below it holds the incident off the status page until an operator
//!   approves (the incident's `awaiting_approval`);
//! - queues every public timeline entry of a public incident for subscribers
//!   as a [`Notice`], each exactly once per responder (the shell's outbox is
//!   keyed by incident and entry, so a restart duplicates nothing);
//! - pages the first escalation level at or above `page_at`, escalates one
//!   level each `escalate_after_secs` after that first page while nobody
//!   acknowledges and service is not restored (monitoring stops the clock),
//!   and resolves the page when the incident resolves or is merged into
//!   another;
//! - fires each matching [`MitigationRule`] once on the named root cause;
//! - reminds the owner when `update_cadence_secs` pass without a public
//!   update, and on an incident the engine opened posts a public progress
//!   update then (promising the next within the cadence): an outage never
//!   leaves the public without word for longer than the cadence.

pub mod postmortem;

use std::collections::HashMap;

use dialtone_engine::{Engine, Incident, TimelineKind};
use dialtone_model::{ElementKind, IncidentStatus, Severity, Timestamp};
use serde::{Deserialize, Serialize};

/// What the response to an incident is, by severity. Operators write it in
/// the `[playbook]` table of the configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Playbook {
    /// Incidents at or above this severity go public at once; below it the
    /// drafted update waits for one-click approval.
    pub auto_publish_at: Severity,
    /// A public update is due this long after the last one.
    pub update_cadence_secs: i64,
    /// Incidents at or above this severity page the first escalation level.
    pub page_at: Severity,
    /// Who is paged, in escalation order (PagerDuty services, Alertmanager receivers).
    pub escalation: Vec<String>,
    /// Unacknowledged this long, a page escalates to the next level.
    pub escalate_after_secs: i64,
    /// Mitigations the root-cause verdict may trigger.
    pub mitigations: Vec<MitigationRule>,
    /// How to switch a watched event to its fallback when it degrades.
    pub event_fallback: MitigationAction,
}

impl Default for Playbook {
    fn default() -> Self {
        Playbook {
            auto_publish_at: Severity::Major,
            update_cadence_secs: 30 * 60,
            page_at: Severity::Major,
            escalation: vec![
                "noc-primary".to_string(),
                "noc-secondary".to_string(),
                "duty-manager".to_string(),
            ],
            escalate_after_secs: 15 * 60,
            mitigations: vec![MitigationRule::default()],
            event_fallback: MitigationAction::TwinFailover,
        }
    }
}

/// The longest [`Playbook::escalate_after_secs`] and
/// [`Playbook::update_cadence_secs`]: 30 days. Longer is a typo (or an
/// attempt at "never", which these keys do not mean), and bounded values keep
/// the escalation arithmetic far from overflow.
pub const MAX_INTERVAL_SECS: i64 = 30 * 24 * 3600;

/// A configuration setting that cannot work (of the playbook here, of
/// `[notify]` in `dialtone-notify`), caught when the configuration is loaded
/// rather than when an incident needs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct InvalidSetting {
    /// The key, as written in the configuration file (`playbook.escalate_after_secs`).
    pub key: String,
    /// What is wrong and what to write instead.
    pub problem: String,
}

impl InvalidSetting {
    /// `key` of the configuration's `section`.
    pub fn new(section: &str, key: &str, problem: String) -> InvalidSetting {
        InvalidSetting {
            key: format!("{section}.{key}"),
            problem,
        }
    }
}

impl Playbook {
    /// Checks the values serde cannot: intervals in range, mitigation names
    /// distinct (a rule is fired once per name and element, so a second rule
    /// of the same name would never fire), webhook URLs that can be called.
    /// An empty `escalation` is valid: it means nobody is paged.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let invalid = |key: &str, problem: String| InvalidSetting::new("playbook", key, problem);
        if !(1..=MAX_INTERVAL_SECS).contains(&self.escalate_after_secs) {
            return Err(invalid(
                "escalate_after_secs",
                format!(
                    "{} is out of range: use 1 to {MAX_INTERVAL_SECS} (30 days); to page nobody, set escalation = []",
                    self.escalate_after_secs
                ),
            ));
        }
        // `none` is the lowest severity, so "at none" means "always": an
        // operator who writes it more likely means "never".
        let some_severity = |key: &str, severity: Severity, always: &str, never: &str| {
            if severity == Severity::None {
                Err(invalid(
                    key,
                    format!("`none` would {always}: use minor, major or critical{never}"),
                ))
            } else {
                Ok(())
            }
        };
        some_severity(
            "auto_publish_at",
            self.auto_publish_at,
            "publish every incident at once, even one no service feels",
            "",
        )?;
        some_severity(
            "page_at",
            self.page_at,
            "page for every incident, even one no service feels",
            "; to page nobody, set escalation = []",
        )?;
        if !(0..=MAX_INTERVAL_SECS).contains(&self.update_cadence_secs) {
            return Err(invalid(
                "update_cadence_secs",
                format!(
                    "{} is out of range: use 1 to {MAX_INTERVAL_SECS} (30 days), or 0 for no reminders",
                    self.update_cadence_secs
                ),
            ));
        }
        for (i, rule) in self.mitigations.iter().enumerate() {
            if let Some(first) = self.mitigations[..i]
                .iter()
                .position(|r| r.name == rule.name)
            {
                return Err(invalid(
                    "mitigations",
                    format!(
                        "rules {} and {} are both named `{}` (a rule without a name is named `{}`), \
                         so the second would never fire: give each rule its own name",
                        first + 1,
                        i + 1,
                        rule.name,
                        MitigationRule::default().name
                    ),
                ));
            }
            some_severity(
                "mitigations.at_least",
                rule.at_least,
                &format!(
                    "fire rule `{}` on every incident it matches, however slight",
                    rule.name
                ),
                "; to keep a rule from firing, remove it",
            )?;
            check_action(
                &rule.action,
                "mitigations.action",
                &format!("rule `{}`", rule.name),
            )?;
        }
        check_action(&self.event_fallback, "event_fallback", "the event fallback")?;
        Ok(())
    }
}

/// What makes a mitigation action unusable, named as `key` (the TOML path
/// of the action) and `whose` (which rule, in words).
fn check_action(action: &MitigationAction, key: &str, whose: &str) -> Result<(), InvalidSetting> {
    let invalid = |sub: &str, problem: String| {
        InvalidSetting::new("playbook", &format!("{key}.{sub}"), problem)
    };
    match action {
        MitigationAction::TwinFailover => Ok(()),
        MitigationAction::Webhook { url } => check_http_url(url)
            .map_err(|problem| invalid("webhook.url", format!("`{url}` of {whose} {problem}"))),
        MitigationAction::Command { timeout_secs, .. } => {
            if (1..=MAX_COMMAND_TIMEOUT_SECS).contains(timeout_secs) {
                Ok(())
            } else {
                Err(invalid(
                    "command.timeout_secs",
                    format!(
                        "{timeout_secs} of {whose} is out of range: use 1 to {MAX_COMMAND_TIMEOUT_SECS} (an hour)"
                    ),
                ))
            }
        }
    }
}

/// Whether `url` can be POSTed to: http or https, with a host. Or what is
/// wrong with it, to follow the key's name in a configuration error (the
/// notify crate's pager and base URLs use it too).
pub fn check_http_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("is not a URL ({e}): write it as https://host/path"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "has the scheme `{}`: only http and https can be called",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("names no host: write it as https://host/path".to_string());
    }
    Ok(())
}

/// "When the root cause is one of these kinds and the incident is this bad,
/// run this action on it."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MitigationRule {
    /// Shown in the timeline and the postmortem, e.g. "fail over to the standby".
    pub name: String,
    /// Root-cause element kinds the rule applies to; empty means any.
    pub root_kinds: Vec<ElementKind>,
    /// Least severity at which it fires on its own.
    pub at_least: Severity,
    /// What to run; the shell knows how.
    pub action: MitigationAction,
}

impl Default for MitigationRule {
    fn default() -> Self {
        MitigationRule {
            name: "fail over to the standby".to_string(),
            root_kinds: vec![
                ElementKind::CoreInstance,
                ElementKind::CorePool,
                ElementKind::SoftwareVersion,
                ElementKind::ConferenceBridge,
            ],
            at_least: Severity::Major,
            action: MitigationAction::TwinFailover,
        }
    }
}

/// How a mitigation reaches the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MitigationAction {
    /// The digital twin's failover: traffic moves to the standby and the
    /// element's fault stops affecting service (drills and the demo).
    TwinFailover,
    /// POST the verdict as JSON to an orchestrator.
    Webhook { url: String },
    /// Run a program; `{element}` and `{incident}` in `args` are replaced.
    /// A run past `timeout_secs` is stopped and tried again later.
    Command {
        program: String,
        args: Vec<String>,
        #[serde(default = "default_command_timeout_secs")]
        timeout_secs: u64,
    },
}

/// How long a mitigation command may run unless its rule says: a failover
/// or a drain takes minutes, not the seconds a webhook gets.
const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 300;
/// The longest a command may be given: its lane waits for it.
const MAX_COMMAND_TIMEOUT_SECS: u64 = 3600;

fn default_command_timeout_secs() -> u64 {
    DEFAULT_COMMAND_TIMEOUT_SECS
}

/// Something the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Notify(Notice),
    Page(Page),
    Mitigate(Mitigation),
}

/// A public timeline entry to send to the subscribers of what it affects.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub incident: u64,
    /// Index of the entry in the incident's timeline: with `incident`, the
    /// idempotency key of every delivery made for it.
    pub entry: usize,
    pub kind: NoticeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// The incident's first public words.
    Created,
    Updated,
    Resolved,
}

impl NoticeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Created => "create",
            NoticeKind::Updated => "update",
            NoticeKind::Resolved => "resolve",
        }
    }
}

/// Outbound paging, in the shape both PagerDuty and Alertmanager understand.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub incident: u64,
    pub action: PageAction,
    /// Escalation level, 0 for the first.
    pub level: usize,
    /// Who, from [`Playbook::escalation`].
    pub target: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    Trigger,
    /// Someone took the incident on in Dialtone: the pager stops escalating
    /// (PagerDuty's `acknowledge`).
    Acknowledge,
    Resolve,
}

/// A mitigation to run on the named root cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Mitigation {
    pub incident: u64,
    pub rule: String,
    pub action: MitigationAction,
    pub element: String,
    pub at: Timestamp,
}

/// The page of an incident: the escalation level reached, when it was
/// first paged, and when its unacknowledged clock started (escalation
/// counts from then): the first page, moved on while the incident is
/// monitoring, as time with service restored does not count.
#[derive(Debug, Clone, Copy)]
struct Paged {
    level: usize,
    first_at: Timestamp,
    clock_from: Timestamp,
}

/// What the responder has done for one incident.
#[derive(Debug, Clone, Default)]
struct Tracking {
    /// Timeline entries already looked at for notices.
    seen_entries: usize,
    /// Whether the first public notice went out.
    announced: bool,
    /// Highest escalation level paged and when the first level was, if any:
    /// escalation counts from the first page, not from the opening (an
    /// incident that became pageable late would otherwise escalate a minute
    /// after its first page).
    paged: Option<Paged>,
    /// Whether the page was acknowledged (someone took the incident on).
    page_acknowledged: bool,
    page_resolved: bool,
    /// Mitigations fired, by rule name and element.
    fired: Vec<(String, String)>,
    /// When the owner was last reminded of the update cadence.
    reminded_at: Option<Timestamp>,
    /// Whether the publish-or-hold decision was made.
    decided: bool,
}

impl Tracking {
    /// Where the responder of the run that left `inc` open stood, read back
    /// from its timeline: what it published, announced and paged is done,
    /// and a restart must neither announce it again nor page level 0 anew.
    fn resumed(inc: &Incident) -> Tracking {
        let paged: Vec<Timestamp> = (inc.timeline.iter())
            .filter(|e| e.kind == TimelineKind::Paged)
            .map(|e| e.at)
            .collect();
        let last_notified = (inc.timeline.iter()).rposition(|e| e.kind == TimelineKind::Notified);
        Tracking {
            // Subscribers were told of everything before the last `notified`
            // note: a public entry after it (an operator's update saved just
            // before the earlier run stopped) is still theirs to hear. The
            // outbox's keys keep one queued twice from being sent twice.
            seen_entries: last_notified.map_or(0, |last| last + 1),
            announced: last_notified.is_some(),
            // Each page or escalation wrote one `paged` entry.
            paged: paged.first().map(|&first_at| Paged {
                level: paged.len() - 1,
                first_at,
                clock_from: first_at,
            }),
            decided: true,
            // The earlier run told the pager when someone took it on.
            page_acknowledged: inc.operator.acknowledged_by.is_some(),
            // And reminded the owner: not again at once.
            reminded_at: (inc.timeline.iter().rev())
                .find(|e| e.kind == TimelineKind::UpdateDue)
                .map(|e| e.at),
            ..Tracking::default()
        }
    }
}

/// The playbook, applied.
#[derive(Debug, Clone)]
pub struct Responder {
    playbook: Playbook,
    tracking: HashMap<u64, Tracking>,
}

impl Responder {
    pub fn new(playbook: Playbook) -> Responder {
        Responder {
            playbook,
            tracking: HashMap::new(),
        }
    }

    /// Forgets what it tracked of incident `id`, retired from the engine:
    /// an action on it later is reviewed as one from an earlier run is
    /// ([`Responder::review_closed`]).
    pub fn forget(&mut self, id: u64) {
        self.tracking.remove(&id);
    }

    pub fn playbook(&self) -> &Playbook {
        &self.playbook
    }

    /// Applies the playbook to every incident of `engine` at network time `at`.
    pub fn review(&mut self, at: Timestamp, engine: &mut Engine) -> Vec<Effect> {
        let ids: Vec<u64> = engine.incidents().iter().map(|i| i.id).collect();
        let mut effects = Vec::new();
        for id in ids {
            let root_kind = engine
                .incidents()
                .iter()
                .find(|i| i.id == id)
                .and_then(|i| {
                    let root = i.root_cause.as_deref()?;
                    let topology = engine.topology();
                    Some(topology.element(topology.index_of(root)?).kind)
                });
            let Some(inc) = engine.incident_mut(id) else {
                continue;
            };
            let track = (self.tracking.entry(id)).or_insert_with(|| {
                if inc.operator.carried_over {
                    Tracking::resumed(inc)
                } else {
                    Tracking::default()
                }
            });
            review_incident(&self.playbook, at, inc, root_kind, track, &mut effects);
        }
        effects
    }

    /// The notices an operator's action owes on `inc`, an incident closed
    /// in an earlier run (a postmortem posted after a restart), which no
    /// engine holds and [`Responder::review`] never sees.
    pub fn review_closed(&mut self, at: Timestamp, inc: &mut Incident) -> Vec<Effect> {
        let track = (self.tracking.entry(inc.id)).or_insert_with(|| Tracking::resumed(inc));
        let mut effects = Vec::new();
        notify(at, inc, track, &mut effects);
        effects
    }
}

fn review_incident(
    playbook: &Playbook,
    at: Timestamp,
    inc: &mut Incident,
    root_kind: Option<ElementKind>,
    track: &mut Tracking,
    effects: &mut Vec<Effect>,
) {
    if inc.operator.merged_into.is_some() {
        // Folded into another incident, which pages and acts for both: its
        // own page is resolved, and its last public entries (the merge) go
        // out; nothing else acts on it.
        resolve_page(playbook, at, inc, track, effects);
        notify(at, inc, track, effects);
        return;
    }
    let open = inc.status.is_open();
    publish_or_hold(playbook, at, inc, track);
    if open {
        page(playbook, at, inc, track, effects);
        acknowledge_page(playbook, at, inc, track, effects);
        // An earlier run's mitigations acted on the network that run saw;
        // this run fires none for its incidents.
        if !inc.operator.carried_over {
            mitigate(playbook, at, inc, root_kind, track, effects);
        }
        remind(playbook, at, inc, track);
    } else {
        resolve_page(playbook, at, inc, track, effects);
    }
    notify(at, inc, track, effects);
}

/// Tells the pager, once, that someone took the paged incident on, so it
/// stops escalating on its side as Dialtone does.
fn acknowledge_page(
    playbook: &Playbook,
    at: Timestamp,
    inc: &Incident,
    track: &mut Tracking,
    effects: &mut Vec<Effect>,
) {
    if inc.operator.acknowledged_by.is_some() {
        let (paged, done) = (track.paged, &mut track.page_acknowledged);
        follow_up_page(
            playbook,
            at,
            inc,
            paged,
            done,
            PageAction::Acknowledge,
            effects,
        );
    }
}

/// Resolves the incident's page, once, if it was paged.
fn resolve_page(
    playbook: &Playbook,
    at: Timestamp,
    inc: &Incident,
    track: &mut Tracking,
    effects: &mut Vec<Effect>,
) {
    let (paged, done) = (track.paged, &mut track.page_resolved);
    follow_up_page(playbook, at, inc, paged, done, PageAction::Resolve, effects);
}

/// Sends `action` for the incident's page at its level, once (`done`
/// remembers), if it was paged.
fn follow_up_page(
    playbook: &Playbook,
    at: Timestamp,
    inc: &Incident,
    paged: Option<Paged>,
    done: &mut bool,
    action: PageAction,
    effects: &mut Vec<Effect>,
) {
    let Some(Paged { level, .. }) = paged else {
        return;
    };
    if std::mem::replace(done, true) {
        return;
    }
    effects.push(Effect::Page(Page {
        incident: inc.id,
        action,
        level,
        target: target(playbook, level),
        at,
    }));
}

/// Whether `inc` is below a severity `threshold` of the playbook. One that
/// hits a watched high-stakes event is below none: it pages and is published
/// at once, whatever its severity, as the people on that call must not hear
/// nothing while it lasts.
fn below(inc: &Incident, threshold: Severity) -> bool {
    inc.severity < threshold && inc.watch.is_none()
}

/// Holds a fresh engine-opened incident below `auto_publish_at` for approval;
/// publishes a held one once its severity reaches the threshold.
fn publish_or_hold(playbook: &Playbook, at: Timestamp, inc: &mut Incident, track: &mut Tracking) {
    if !track.decided {
        track.decided = true;
        // A person who declares an incident by hand has already decided to
        // publish it; one carried over from an earlier run was decided then.
        if inc.engine_owned() && inc.status.is_open() && below(inc, playbook.auto_publish_at) {
            inc.awaiting_approval = true;
            inc.note(
                at,
                TimelineKind::AwaitingApproval,
                format!(
                    "drafted first update held for approval: severity {} is below auto-publish at {}",
                    inc.severity.as_str(),
                    playbook.auto_publish_at.as_str()
                ),
            );
        }
    } else if inc.awaiting_approval
        && inc.engine_owned()
        && inc.severity >= playbook.auto_publish_at
    {
        // An engine-opened incident that grew. Incidents opened from customer
        // reports alone wait for a person whatever their severity.
        inc.awaiting_approval = false;
        inc.note(
            at,
            TimelineKind::Approved,
            format!(
                "published without approval: severity rose to {}",
                inc.severity.as_str()
            ),
        );
    }
}

fn target(playbook: &Playbook, level: usize) -> String {
    playbook
        .escalation
        .get(level)
        .or(playbook.escalation.last())
        .cloned()
        .unwrap_or_else(|| "on-call".to_string())
}

fn page(
    playbook: &Playbook,
    at: Timestamp,
    inc: &mut Incident,
    track: &mut Tracking,
    effects: &mut Vec<Effect>,
) {
    // Acknowledged, someone owns it: no first page (one acknowledged before
    // it reached the paging severity would wake the on-call for nothing)
    // and no escalation.
    if playbook.escalation.is_empty()
        || below(inc, playbook.page_at)
        || inc.operator.acknowledged_by.is_some()
    {
        return;
    }
    // Service restored (monitoring): nobody more needs waking for it. The
    // page stays open until the incident is resolved, and the clock stops:
    // if the trouble comes back, the next level is due a whole interval
    // later, not at once for the time spent monitoring.
    if !inc.status.is_ongoing() {
        if let Some(paged) = &mut track.paged {
            let served = playbook
                .escalate_after_secs
                .saturating_mul(paged.level as i64);
            paged.clock_from = at.saturating_sub(served);
        }
        return;
    }
    let (first_at, clock_from) = track.paged.map_or((at, at), |p| (p.first_at, p.clock_from));
    let due_level = match track.paged {
        None => 0,
        Some(Paged { level, .. }) => {
            let unacknowledged = at - clock_from;
            let next = level + 1;
            if next >= playbook.escalation.len()
                // Saturating: a playbook built in code skips `validate`, and a
                // wrapped product would escalate at once.
                || unacknowledged < playbook.escalate_after_secs.saturating_mul(next as i64)
            {
                return;
            }
            next
        }
    };
    track.paged = Some(Paged {
        level: due_level,
        first_at,
        clock_from,
    });
    let who = target(playbook, due_level);
    let detail = if due_level == 0 {
        format!("paged {who} (severity {})", inc.severity.as_str())
    } else {
        format!(
            "escalated to {who}: not acknowledged {} min after the first page",
            (at - first_at) / 60
        )
    };
    inc.note(at, TimelineKind::Paged, detail);
    effects.push(Effect::Page(Page {
        incident: inc.id,
        action: PageAction::Trigger,
        level: due_level,
        target: who,
        at,
    }));
}

fn mitigate(
    playbook: &Playbook,
    at: Timestamp,
    inc: &mut Incident,
    root_kind: Option<ElementKind>,
    track: &mut Tracking,
    effects: &mut Vec<Effect>,
) {
    if let Some(w) = inc.watch.clone() {
        // The prepared fallback first: the event is running now.
        let rule = match &w.fallback {
            Some(f) => format!("switch '{}' to the fallback {f}", w.name),
            None => format!("fail '{}' over", w.name),
        };
        fire(
            inc,
            track,
            effects,
            Mitigation {
                incident: inc.id,
                rule,
                action: playbook.event_fallback.clone(),
                element: w.element,
                at,
            },
        );
    }
    let (Some(root), Some(kind)) = (inc.root_cause.clone(), root_kind) else {
        return;
    };
    for rule in &playbook.mitigations {
        let applies = inc.severity >= rule.at_least
            && (rule.root_kinds.is_empty() || rule.root_kinds.contains(&kind));
        if applies {
            let m = Mitigation {
                incident: inc.id,
                rule: rule.name.clone(),
                action: rule.action.clone(),
                element: root.clone(),
                at,
            };
            fire(inc, track, effects, m);
        }
    }
}

/// Fires `m` once per rule and element: a note in the timeline, and the effect.
fn fire(inc: &mut Incident, track: &mut Tracking, effects: &mut Vec<Effect>, m: Mitigation) {
    let key = (m.rule.clone(), m.element.clone());
    if track.fired.contains(&key) {
        return;
    }
    track.fired.push(key);
    inc.note(
        m.at,
        TimelineKind::Mitigated,
        format!("mitigation '{}' fired on {}", m.rule, m.element),
    );
    effects.push(Effect::Mitigate(m));
}

fn remind(playbook: &Playbook, at: Timestamp, inc: &mut Incident, track: &mut Tracking) {
    if inc.awaiting_approval || playbook.update_cadence_secs <= 0 {
        return;
    }
    // An approval publishes the drafted updates: the cadence runs from it,
    // not from when they were drafted, or approving an incident held past
    // the cadence would post a holding update over the drafted words.
    let last_public = inc
        .timeline
        .iter()
        .rev()
        .find(|e| e.kind.is_public() || e.kind == TimelineKind::Approved)
        .map_or(inc.opened_at, |e| e.at);
    let since = last_public.max(track.reminded_at.unwrap_or(i64::MIN));
    if at - since >= playbook.update_cadence_secs {
        track.reminded_at = Some(at);
        let owner = inc
            .operator
            .assignee
            .clone()
            .or_else(|| inc.operator.acknowledged_by.clone())
            .unwrap_or_else(|| "the incident owner".to_string());
        inc.note(
            at,
            TimelineKind::UpdateDue,
            format!(
                "public update due: {} min since the last one; reminded {owner}",
                (at - last_public) / 60
            ),
        );
        // A person who declared an incident writes its words; the engine's
        // own get a holding update in theirs.
        if inc.engine_owned() {
            inc.post_progress(at, playbook.update_cadence_secs);
        }
    }
}

/// Queues each new public entry of a public incident, once.
fn notify(at: Timestamp, inc: &mut Incident, track: &mut Tracking, effects: &mut Vec<Effect>) {
    if inc.awaiting_approval {
        return;
    }
    let mut fresh: Vec<(usize, IncidentStatus)> = inc
        .timeline
        .iter()
        .enumerate()
        .skip(track.seen_entries)
        .filter(|(_, e)| e.kind.is_public())
        .map(|(i, e)| (i, e.status))
        .collect();
    track.seen_entries = inc.timeline.len();
    if !track.announced && fresh.len() > 1 {
        // Published after a hold: subscribers hear where things stand now,
        // not every step they missed.
        fresh.drain(..fresh.len() - 1);
    }
    let mut queued = 0;
    for (entry, status) in fresh {
        let kind = if !track.announced {
            NoticeKind::Created
        } else if status == IncidentStatus::Resolved {
            NoticeKind::Resolved
        } else {
            NoticeKind::Updated
        };
        track.announced = true;
        effects.push(Effect::Notify(Notice {
            incident: inc.id,
            entry,
            kind,
        }));
        queued += 1;
    }
    if queued > 0 {
        inc.note(
            at,
            TimelineKind::Notified,
            format!("{queued} public update(s) queued for subscribers"),
        );
        // The note itself is internal; skip it next time.
        track.seen_entries = inc.timeline.len();
    }
}

#[cfg(test)]
mod tests {
    use dialtone_engine::{OperatorAction, TimelineEntry};

    use super::*;

    #[test]
    fn a_playbook_reads_from_toml_with_defaults_for_what_is_left_out() {
        let p: Playbook = toml::from_str(
            r#"
            auto_publish_at = "critical"
            escalation = ["noc"]
            [[mitigations]]
            name = "drain"
            root_kinds = ["site"]
            action = { webhook = { url = "https://orchestrator.example/drain" } }
            "#,
        )
        .expect("parses");
        assert_eq!(p.auto_publish_at, Severity::Critical);
        assert_eq!(p.update_cadence_secs, 1800);
        assert_eq!(p.mitigations[0].root_kinds, vec![ElementKind::Site]);
        assert_eq!(
            p.mitigations[0].action,
            MitigationAction::Webhook {
                url: "https://orchestrator.example/drain".into()
            }
        );
        let typo = toml::from_str::<Playbook>("auto_publish = \"major\"");
        assert!(typo.is_err(), "unknown keys are refused, not ignored");
        let typo = toml::from_str::<Playbook>(
            "[[mitigations]]\naction = { command = { program = \"x\", args = [], timeout = 60 } }",
        );
        assert!(
            typo.is_err_and(|e| e.to_string().contains("timeout")),
            "unknown keys inside an action are refused too"
        );
    }

    #[test]
    fn a_severity_of_none_is_refused_where_it_would_mean_always() {
        for (toml, key) in [
            ("auto_publish_at = \"none\"", "playbook.auto_publish_at"),
            ("page_at = \"none\"", "playbook.page_at"),
            (
                "[[mitigations]]\nat_least = \"none\"",
                "playbook.mitigations.at_least",
            ),
        ] {
            let p: Playbook = toml::from_str(toml).expect("parses");
            let e = p.validate().expect_err(toml);
            assert_eq!(e.key, key);
            assert!(e.problem.contains("use minor, major or critical"), "{e}");
        }
        let p: Playbook = toml::from_str("page_at = \"minor\"").expect("parses");
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn a_command_runs_five_minutes_unless_its_rule_says_and_at_most_an_hour() {
        let command = |timeout: &str| {
            let p: Playbook = toml::from_str(&format!(
                "[[mitigations]]\naction = {{ command = {{ program = \"/usr/local/bin/drain\", args = [\"{{element}}\"]{timeout} }} }}"
            ))
            .expect("parses");
            (
                p.validate().map_err(|e| e.to_string()),
                p.mitigations[0].action.clone(),
            )
        };
        let (valid, action) = command("");
        assert!(valid.is_ok(), "{valid:?}");
        assert!(matches!(
            action,
            MitigationAction::Command {
                timeout_secs: 300,
                ..
            }
        ));
        assert!(command(", timeout_secs = 3600").0.is_ok());
        for out_of_range in [", timeout_secs = 0", ", timeout_secs = 3601"] {
            let refused = command(out_of_range).0.expect_err("refused");
            assert!(refused.contains("timeout_secs"), "{refused}");
        }
    }

    #[test]
    fn the_event_fallback_is_checked_as_a_mitigation_rule_is() {
        let fallback = |action: &str| {
            toml::from_str::<Playbook>(&format!("event_fallback = {action}"))
                .expect("parses")
                .validate()
                .map_err(|e| e.to_string())
        };
        assert!(
            fallback("{ command = { program = \"/usr/local/bin/bridge-failover\", args = [] } }")
                .is_ok()
        );
        let err = fallback("{ command = { program = \"x\", args = [], timeout_secs = 0 } }")
            .expect_err("a command stopped at once is refused");
        assert!(
            err.starts_with(
                "playbook.event_fallback.command.timeout_secs: 0 of the event fallback"
            ),
            "{err}"
        );
        let err = fallback("{ webhook = { url = \"ftp://bridge\" } }").expect_err("refused");
        assert!(
            err.starts_with("playbook.event_fallback.webhook.url: "),
            "{err}"
        );
    }

    #[test]
    fn escalation_counts_from_the_first_page_not_the_opening() {
        // Opened at 0, pageable (major) only from minute 50.
        let p = Playbook::default();
        let mut inc = Incident::open(1, 0);
        let mut track = Tracking::default();
        let mut effects = Vec::new();
        inc.severity = Severity::Minor;
        page(&p, 50 * 60 - 60, &mut inc, &mut track, &mut effects);
        assert!(effects.is_empty(), "minor: no page");
        inc.severity = Severity::Major;
        let levels = |effects: &[Effect]| -> Vec<usize> {
            (effects.iter())
                .filter_map(|e| match e {
                    Effect::Page(p) => Some(p.level),
                    _ => None,
                })
                .collect()
        };
        for minute in 50..50 + p.escalate_after_secs / 60 {
            page(&p, minute * 60, &mut inc, &mut track, &mut effects);
        }
        assert_eq!(levels(&effects), [0], "no escalation before its time");
        // Restored when the escalation falls due, for three intervals:
        // nobody more is woken, and the clock stops.
        let due = 50 * 60 + p.escalate_after_secs;
        inc.status = IncidentStatus::Monitoring;
        let relapse = due + 3 * p.escalate_after_secs;
        for at in (due..relapse).step_by(60) {
            page(&p, at, &mut inc, &mut track, &mut effects);
        }
        assert_eq!(levels(&effects), [0], "service restored: no escalation");
        // Back: the next level is due a whole interval after the last
        // restored minute.
        inc.status = IncidentStatus::Identified;
        let next_due = relapse - 60 + p.escalate_after_secs;
        for at in (relapse..next_due).step_by(60) {
            page(&p, at, &mut inc, &mut track, &mut effects);
        }
        assert_eq!(levels(&effects), [0], "not at once on the relapse");
        page(&p, next_due, &mut inc, &mut track, &mut effects);
        assert_eq!(levels(&effects), [0, 1]);
        // A first page never goes out for a restored incident.
        let (mut restored, mut fresh) = (Incident::open(2, 0), Tracking::default());
        restored.severity = Severity::Major;
        restored.status = IncidentStatus::Monitoring;
        let mut none = Vec::new();
        page(&p, 600, &mut restored, &mut fresh, &mut none);
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn a_merged_incident_resolves_its_page_once() {
        let p = Playbook::default();
        let mut inc = Incident::open(2, 0);
        let mut track = Tracking {
            paged: Some(Paged {
                level: 1,
                first_at: 0,
                clock_from: 0,
            }),
            ..Tracking::default()
        };
        inc.operator.merged_into = Some(1);
        let mut effects = Vec::new();
        for minute in [10, 11] {
            review_incident(&p, minute * 60, &mut inc, None, &mut track, &mut effects);
        }
        let resolves: Vec<_> = (effects.iter())
            .filter_map(|e| match e {
                Effect::Page(p) if p.action == PageAction::Resolve => Some(p.level),
                _ => None,
            })
            .collect();
        assert_eq!(resolves, [1]);
    }

    #[test]
    fn an_acknowledged_page_is_acknowledged_to_the_pager_once() {
        let p = Playbook::default();
        let mut inc = Incident::open(3, 0);
        inc.severity = Severity::Major;
        let mut track = Tracking::default();
        let mut effects = Vec::new();
        review_incident(&p, 60, &mut inc, None, &mut track, &mut effects);
        inc.operator.acknowledged_by = Some("ada".into());
        for minute in [2, 3] {
            review_incident(&p, minute * 60, &mut inc, None, &mut track, &mut effects);
        }
        let pages: Vec<(PageAction, usize)> = (effects.iter())
            .filter_map(|e| match e {
                Effect::Page(p) => Some((p.action, p.level)),
                _ => None,
            })
            .collect();
        assert_eq!(
            pages,
            [(PageAction::Trigger, 0), (PageAction::Acknowledge, 0)]
        );
    }

    #[test]
    fn an_incident_acknowledged_before_it_is_severe_enough_to_page_pages_nobody() {
        let p = Playbook::default();
        let mut inc = Incident::open(3, 0);
        inc.severity = Severity::Minor;
        inc.operator.acknowledged_by = Some("ada".into());
        let mut track = Tracking::default();
        let mut effects = Vec::new();
        review_incident(&p, 60, &mut inc, None, &mut track, &mut effects);
        inc.severity = Severity::Major;
        for minute in 2..40 {
            review_incident(&p, minute * 60, &mut inc, None, &mut track, &mut effects);
        }
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::Page(_))),
            "{effects:#?}"
        );
    }

    /// `inc` with a public "detected" entry at `at`.
    fn detected_at(mut inc: Incident, at: Timestamp) -> Incident {
        inc.timeline.push(TimelineEntry {
            incident: inc.id,
            at,
            kind: TimelineKind::Detected,
            status: inc.status,
            public_body: "We are investigating problems with calls.".into(),
            detail: String::new(),
        });
        inc
    }

    fn updates_due(inc: &Incident) -> usize {
        (inc.timeline.iter())
            .filter(|e| e.kind == TimelineKind::UpdateDue)
            .count()
    }

    #[test]
    fn the_cadence_runs_from_an_approval_not_from_the_held_draft() {
        let p = Playbook::default();
        let mut inc = detected_at(Incident::open(3, 0), 0);
        inc.awaiting_approval = true;
        let approved = 3 * p.update_cadence_secs;
        inc.apply(approved, "ada", &OperatorAction::Approve)
            .unwrap();
        // Held when first reviewed, as a minor incident is.
        let mut track = Tracking {
            decided: true,
            ..Tracking::default()
        };
        let mut effects = Vec::new();
        review_incident(&p, approved + 60, &mut inc, None, &mut track, &mut effects);
        assert_eq!(updates_due(&inc), 0, "{:#?}", inc.timeline);
        let due = approved + p.update_cadence_secs;
        review_incident(&p, due, &mut inc, None, &mut track, &mut effects);
        assert_eq!(updates_due(&inc), 1, "{:#?}", inc.timeline);
    }

    #[test]
    fn a_reminder_is_not_repeated_after_a_restart() {
        let p = Playbook::default();
        let mut inc = detected_at(Incident::open(3, 0), 0);
        inc.severity = Severity::Major;
        // Declared by a person: the reminder is all it gets, no holding
        // update (which would itself restart the cadence).
        inc.operator.declared_by = Some("ada".into());
        let mut track = Tracking::default();
        let mut effects = Vec::new();
        let due = p.update_cadence_secs;
        review_incident(&p, due, &mut inc, None, &mut track, &mut effects);
        assert_eq!(updates_due(&inc), 1);
        let mut resumed = Tracking::resumed(&inc);
        review_incident(&p, due + 60, &mut inc, None, &mut resumed, &mut effects);
        assert_eq!(updates_due(&inc), 1, "{:#?}", inc.timeline);
    }

    #[test]
    fn an_update_saved_just_before_a_restart_still_reaches_subscribers() {
        let p = Playbook::default();
        let mut inc = detected_at(Incident::open(3, 0), 0);
        inc.severity = Severity::Major;
        let mut track = Tracking::default();
        let mut effects = Vec::new();
        review_incident(&p, 60, &mut inc, None, &mut track, &mut effects);
        let update = OperatorAction::Update {
            status: None,
            body: "Engineers are rerouting calls.".into(),
        };
        inc.apply(120, "ada", &update).unwrap();
        // The earlier run stopped here; the next resumes from the timeline.
        let mut effects = Vec::new();
        let mut resumed = Tracking::resumed(&inc);
        review_incident(&p, 180, &mut inc, None, &mut resumed, &mut effects);
        let notices: Vec<NoticeKind> = (effects.iter())
            .filter_map(|e| match e {
                Effect::Notify(n) => Some(n.kind),
                _ => None,
            })
            .collect();
        assert_eq!(notices, [NoticeKind::Updated], "{:#?}", inc.timeline);
    }

    #[test]
    fn a_playbook_with_values_that_cannot_work_is_refused_naming_the_key() {
        let refused = |p: Playbook| p.validate().expect_err("refused").to_string();
        assert!(Playbook::default().validate().is_ok());
        let no_paging = Playbook {
            escalation: Vec::new(),
            update_cadence_secs: 0,
            ..Playbook::default()
        };
        assert!(no_paging.validate().is_ok(), "no paging, no reminders");
        for secs in [0, -60, i64::MAX, MAX_INTERVAL_SECS + 1] {
            let err = refused(Playbook {
                escalate_after_secs: secs,
                ..Playbook::default()
            });
            assert!(
                err.starts_with("playbook.escalate_after_secs: ") && err.contains("30 days"),
                "{err}"
            );
        }
        let err = refused(Playbook {
            update_cadence_secs: -1,
            ..Playbook::default()
        });
        assert!(err.starts_with("playbook.update_cadence_secs: -1"), "{err}");

        let unnamed: Playbook = toml::from_str(
            "[[mitigations]]\nat_least = \"minor\"\n[[mitigations]]\nat_least = \"critical\"\n",
        )
        .expect("parses");
        let err = refused(unnamed);
        assert!(
            err.contains("rules 1 and 2 are both named `fail over to the standby`"),
            "{err}"
        );

        for (url, problem) in [
            ("ftp://x", "scheme `ftp`"),
            ("not a url", "is not a URL"),
            ("https://", "is not a URL"),
        ] {
            let err = refused(Playbook {
                mitigations: vec![MitigationRule {
                    action: MitigationAction::Webhook { url: url.into() },
                    ..MitigationRule::default()
                }],
                ..Playbook::default()
            });
            assert!(
                err.starts_with("playbook.mitigations.action.webhook.url: ")
                    && err.contains(problem),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn a_huge_escalation_interval_never_wraps_into_paging_every_level() {
        let p = Playbook {
            escalate_after_secs: 1 << 62,
            escalation: vec!["a".into(), "b".into(), "c".into()],
            ..Playbook::default()
        };
        let mut inc = Incident::open(1, 0);
        inc.severity = Severity::Major;
        let mut track = Tracking::default();
        let mut effects = Vec::new();
        for at in [0, 1 << 62, (1 << 62) + 60] {
            page(&p, at, &mut inc, &mut track, &mut effects);
        }
        assert_eq!(effects.len(), 2, "levels 0 and 1 only: {effects:?}");
    }

    #[test]
    fn escalation_stays_on_the_last_level_once_it_runs_out() {
        let p = Playbook::default();
        assert_eq!(target(&p, 0), "noc-primary");
        assert_eq!(target(&p, 7), "duty-manager");
        let none = Playbook {
            escalation: Vec::new(),
            ..Playbook::default()
        };
        assert_eq!(target(&none, 0), "on-call");
    }
}
