//! Human actions on incidents, beside the automatic lifecycle.
//!
//! The console and the operator API turn requests into [`OperatorAction`]s and
//! the server applies them to the engine that owns the incidents. The engine
//! keeps running around them: an operator may acknowledge, assign, pin the
//! severity of and publish updates on an incident the engine opened, and the
//! engine still moves it to monitoring when the KPIs recover. An incident an
//! operator declared by hand is the operator's alone: the engine never
//! advances it, since it cannot see what the operator saw.

use dialtone_model::{ElementId, IncidentStatus, RegionImpact, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{Engine, Incident, TimelineEntry, TimelineKind};

/// Longest public title accepted.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest public update accepted.
pub const MAX_BODY_CHARS: usize = 5000;

/// What operators did to an incident, kept with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorState {
    /// Who declared it by hand; `None` when the engine opened it.
    pub declared_by: Option<String>,
    /// Left open by an earlier run of the server, whose network view ended
    /// with it: this run's engine does not advance it, and operators close
    /// it (see [`Engine::adopt`]).
    #[serde(default)]
    pub carried_over: bool,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub assignee: Option<String>,
    /// An operator set the severity; the engine no longer derives it from impact.
    pub severity_pinned: bool,
    /// The incident this one was merged into.
    pub merged_into: Option<u64>,
}

/// One thing an operator does to an existing incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorAction {
    Acknowledge,
    Assign {
        to: String,
    },
    /// Publishes `body` to the public, optionally moving the status.
    Update {
        status: Option<IncidentStatus>,
        body: String,
    },
    SetSeverity(Severity),
    /// Resolves with the given public words, or a standard line.
    Resolve {
        body: Option<String>,
    },
    /// Publishes an incident whose drafted update awaited approval.
    Approve,
}

impl OperatorAction {
    /// The audit log's name for the action.
    pub fn name(&self) -> &'static str {
        match self {
            OperatorAction::Acknowledge => "acknowledge",
            OperatorAction::Assign { .. } => "assign",
            OperatorAction::Update { .. } => "update",
            OperatorAction::SetSeverity(_) => "set_severity",
            OperatorAction::Resolve { .. } => "resolve",
            OperatorAction::Approve => "approve",
        }
    }
}

/// A hand-declared incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// Public title: what customers notice, no internal element names.
    pub title: String,
    pub severity: Severity,
    /// The first public update.
    pub body: String,
    /// Region ids of the topology where customers are affected, if known:
    /// customer reports from there corroborate this incident instead of
    /// opening another, and subscribers there hear of it. Empty: "some
    /// areas", as before anything is known.
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("there is no incident {0}: list them with GET /api/v1/incidents")]
    NotFound(u64),
    #[error("incident {id} is {status}: declare a new incident instead of changing a closed one")]
    Closed { id: u64, status: &'static str },
    #[error("incident {id} was merged into incident {into}: act on incident {into} instead")]
    Merged { id: u64, into: u64 },
    #[error(
        "incident {id} cannot go from {from} to {to}: a resolved incident can only move to postmortem, and only a resolved one can"
    )]
    Transition {
        id: u64,
        from: &'static str,
        to: &'static str,
    },
    #[error("the {0} is empty: {hint}", hint = what_to_write(.0))]
    Empty(&'static str),
    #[error("the {field} has {chars} characters: keep it to {max}")]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
    #[error("incident {0} is already acknowledged by {1}")]
    AlreadyAcknowledged(u64, String),
    #[error("there is no region {region:?}: name one of {known}")]
    UnknownRegion { region: String, known: String },
    #[error("cannot merge incident {0} into itself: name two different incidents")]
    SelfMerge(u64),
    #[error("incident {0} is already public: there is no draft to approve")]
    AlreadyPublic(u64),
    #[error(
        "incident {into} awaits approval and incident {from} is public: approve {into} first, or merge {into} into {from}"
    )]
    MergeIntoDraft { into: u64, from: u64 },
}

/// What to put in `field`, [`text`]'s field, where it was left empty.
fn what_to_write(field: &str) -> &'static str {
    match field {
        "assignee" => "name the person or team who takes the incident on",
        "title" => "write what customers notice, without internal element names",
        _ => "write what customers should know",
    }
}

fn text(field: &'static str, s: &str, max: usize) -> Result<String, ActionError> {
    let s = s.trim();
    let chars = s.chars().count();
    if chars == 0 {
        return Err(ActionError::Empty(field));
    }
    if chars > max {
        return Err(ActionError::TooLong { field, chars, max });
    }
    Ok(s.to_string())
}

impl Incident {
    /// Applies one operator action at network time `at`; returns the timeline entry it wrote.
    pub fn apply(
        &mut self,
        at: Timestamp,
        by: &str,
        action: &OperatorAction,
    ) -> Result<TimelineEntry, ActionError> {
        if let Some(into) = self.operator.merged_into {
            return Err(ActionError::Merged { id: self.id, into });
        }
        let closed = || ActionError::Closed {
            id: self.id,
            status: self.status.as_str(),
        };
        // Only an update (towards a postmortem) acts on a closed incident: a
        // severity raised on a resolved one would publish it, an approval
        // would announce it as new.
        let updating = matches!(action, OperatorAction::Update { .. });
        if !updating && !self.status.is_open() {
            return Err(closed());
        }
        match action {
            OperatorAction::Acknowledge => {
                if let Some(who) = &self.operator.acknowledged_by {
                    return Err(ActionError::AlreadyAcknowledged(self.id, who.clone()));
                }
                self.operator.acknowledged_by = Some(by.to_string());
                self.operator.acknowledged_at = Some(at);
                Ok(self.record(
                    at,
                    TimelineKind::Acknowledged,
                    String::new(),
                    format!("acknowledged by {by}"),
                ))
            }
            OperatorAction::Assign { to } => {
                let to = text("assignee", to, 100)?;
                let detail = format!("assigned to {to} by {by}");
                self.operator.assignee = Some(to);
                Ok(self.record(at, TimelineKind::Assigned, String::new(), detail))
            }
            OperatorAction::SetSeverity(severity) => {
                let detail = format!(
                    "severity {} -> {} by {by}",
                    self.severity.as_str(),
                    severity.as_str()
                );
                self.severity = *severity;
                self.operator.severity_pinned = true;
                Ok(self.record(at, TimelineKind::SeverityChanged, String::new(), detail))
            }
            OperatorAction::Update { status, body } => {
                let body = text("update text", body, MAX_BODY_CHARS)?;
                let to = status.unwrap_or(self.status);
                self.check_transition(to)?;
                self.move_to(to, at);
                // Sent back to investigating or identified: the quiet so far
                // does not count, or the next minute would move it straight
                // on to monitoring, telling the public service is restored.
                if status.is_some() && to.is_ongoing() {
                    self.last_broken_at = at;
                }
                let detail = format!("update by {by} ({})", to.as_str());
                Ok(self.record(at, TimelineKind::Updated, body, detail))
            }
            OperatorAction::Resolve { body } => {
                let body = match body {
                    Some(b) => text("resolution text", b, MAX_BODY_CHARS)?,
                    // The engine's own words, naming every area the public was told of.
                    None => self.resolved_words(),
                };
                self.move_to(IncidentStatus::Resolved, at);
                Ok(self.record(
                    at,
                    TimelineKind::Resolved,
                    body,
                    format!("resolved by {by}"),
                ))
            }
            OperatorAction::Approve => {
                if !self.awaiting_approval {
                    return Err(ActionError::AlreadyPublic(self.id));
                }
                self.awaiting_approval = false;
                Ok(self.note(
                    at,
                    TimelineKind::Approved,
                    format!("drafted update approved by {by}; the incident is public"),
                ))
            }
        }
    }

    fn check_transition(&self, to: IncidentStatus) -> Result<(), ActionError> {
        use IncidentStatus::{Postmortem, Resolved};
        let allowed = match (self.status, to) {
            (from, to) if from.is_open() => to != Postmortem,
            (Resolved | Postmortem, Postmortem) => true,
            _ => false,
        };
        allowed.then_some(()).ok_or(ActionError::Transition {
            id: self.id,
            from: self.status.as_str(),
            to: to.as_str(),
        })
    }

    pub(crate) fn move_to(&mut self, to: IncidentStatus, at: Timestamp) {
        match to {
            IncidentStatus::Identified if self.identified_at.is_none() => {
                self.identified_at = Some(at);
            }
            // Only on the way in: an update posted while monitoring must not
            // restart the clock towards resolving (updates every few minutes
            // would keep it from ever resolving).
            IncidentStatus::Monitoring if self.status != IncidentStatus::Monitoring => {
                self.monitoring_at = Some(at);
            }
            IncidentStatus::Resolved => self.resolved_at = Some(at),
            _ => {}
        }
        // Back to investigating or identified: no longer monitoring (the page
        // and the postmortem would show a recovery that did not hold).
        if to.is_ongoing() {
            self.monitoring_at = None;
        }
        self.status = to;
    }
}

impl Engine {
    /// Opens an incident by hand; the engine will not advance it.
    pub fn declare(
        &mut self,
        at: Timestamp,
        by: &str,
        d: &Declaration,
    ) -> Result<&Incident, ActionError> {
        let regions = self.affected_regions(&d.regions)?;
        Ok(self.open_declared(at, by, d, regions)?)
    }

    /// Opens the incident `d` declares, affecting `regions` (its own
    /// `regions` not read: [`Engine::declare`] checks them against the
    /// topology, customer reports name their area and service).
    pub(crate) fn open_declared(
        &mut self,
        at: Timestamp,
        by: &str,
        d: &Declaration,
        regions: Vec<RegionImpact>,
    ) -> Result<&mut Incident, ActionError> {
        let title = text("title", &d.title, MAX_TITLE_CHARS)?;
        let body = text("first update", &d.body, MAX_BODY_CHARS)?;
        let mut inc = Incident::open(self.next_incident_id, at);
        self.next_incident_id += 1;
        inc.title = title;
        inc.impact.regions = regions;
        inc.severity = d.severity;
        inc.operator.severity_pinned = true;
        inc.operator.declared_by = Some(by.to_string());
        inc.record(
            at,
            TimelineKind::Declared,
            body,
            format!("declared by {by}"),
        );
        self.incidents.push(inc);
        Ok(self.incidents.last_mut().expect("just pushed"))
    }

    /// The impact of a declaration's `regions`, each checked against the
    /// topology and kept once, in the order given. No service is named:
    /// nothing measures which ones broke, and an area with none named
    /// concerns every service (subscribers of any hear of it).
    fn affected_regions(&self, regions: &[String]) -> Result<Vec<RegionImpact>, ActionError> {
        let mut impact: Vec<RegionImpact> = Vec::with_capacity(regions.len());
        let known = self.topology().regions();
        for region in regions {
            if known.binary_search(&region.as_str()).is_err() {
                return Err(ActionError::UnknownRegion {
                    region: region.clone(),
                    known: known.join(", "),
                });
            }
            if !impact.iter().any(|r| &r.region == region) {
                impact.push(RegionImpact {
                    region: region.clone(),
                    services: 0,
                    share: [0.0; 3],
                });
            }
        }
        Ok(impact)
    }

    /// Takes in an open incident left by an earlier run (loaded from the
    /// store at a restart): the run that tracked it has ended, so the
    /// engine holds it as it holds a declared one, advancing nothing, and
    /// operators act on and merge it like any other.
    pub fn adopt(&mut self, mut inc: Incident) {
        inc.operator.carried_over = true;
        // What the public sees of it now, so an operator's change to it
        // moves its `updated_at` (the engine never advances it).
        inc.learn_public_face();
        self.next_incident_id = self.next_incident_id.max(inc.id + 1);
        let at = self.incidents.partition_point(|i| i.id < inc.id);
        self.incidents.insert(at, inc);
    }

    /// Hands over the closed incidents resolved before `resolved_before`,
    /// oldest first. The engine advances only open incidents; a closed one
    /// kept for a long-running server's whole life would only be copied and
    /// walked every minute. One merged into an incident still open stays:
    /// a later merge of that one re-points it here, and the reply to its
    /// reporters goes out when the target closes. Numbering goes on from
    /// where it was.
    pub fn retire_closed(&mut self, resolved_before: Timestamp) -> Vec<Incident> {
        // Called every minute: most minutes nothing is due.
        let due = |i: &Incident| i.resolved_at.is_some_and(|t| t < resolved_before);
        if !self.incidents.iter().any(|i| !i.status.is_open() && due(i)) {
            return Vec::new();
        }
        let open: std::collections::HashSet<u64> = (self.incidents.iter())
            .filter(|i| i.status.is_open())
            .map(|i| i.id)
            .collect();
        let (retired, kept): (Vec<Incident>, Vec<Incident>) = std::mem::take(&mut self.incidents)
            .into_iter()
            .partition(|i| {
                !i.status.is_open()
                    && due(i)
                    && !i
                        .operator
                        .merged_into
                        .is_some_and(|into| open.contains(&into))
            });
        self.incidents = kept;
        retired
    }

    /// The engine's incident `id`, for operator actions.
    pub fn incident_mut(&mut self, id: u64) -> Option<&mut Incident> {
        self.incidents.iter_mut().find(|i| i.id == id)
    }

    /// Merges open incident `from` into `into`: `from` resolves, pointing the
    /// public to `into`, which takes the worse severity (and its event watch,
    /// if it has none), and which an ongoing `from` takes back from
    /// monitoring. Returns the merge's entries on `into` and on `from`.
    pub fn merge(
        &mut self,
        at: Timestamp,
        by: &str,
        into: u64,
        from: u64,
    ) -> Result<[TimelineEntry; 2], ActionError> {
        if into == from {
            return Err(ActionError::SelfMerge(into));
        }
        let find = |id: u64| {
            self.incidents
                .iter()
                .position(|i| i.id == id)
                .ok_or(ActionError::NotFound(id))
        };
        let (t, f) = (find(into)?, find(from)?);
        for i in [t, f] {
            let inc = &self.incidents[i];
            if let Some(into) = inc.operator.merged_into {
                return Err(ActionError::Merged { id: inc.id, into });
            }
            if !inc.status.is_open() {
                return Err(ActionError::Closed {
                    id: inc.id,
                    status: inc.status.as_str(),
                });
            }
        }
        // The source's last word to the public is "follow the updates
        // there": there must be a public incident to follow.
        if self.incidents[t].awaiting_approval && !self.incidents[f].awaiting_approval {
            return Err(ActionError::MergeIntoDraft { into, from });
        }
        let (from_title, from_severity, from_ongoing) = {
            let source = &mut self.incidents[f];
            // Still broken: its impact is what the merged incident has now.
            let ongoing = (source.status.is_ongoing()).then(|| source.impact.clone());
            source.operator.merged_into = Some(into);
            source.move_to(IncidentStatus::Resolved, at);
            (source.title.clone(), source.severity, ongoing)
        };
        let closed = self.incidents[f].record(
            at,
            TimelineKind::Resolved,
            format!("This incident is being handled together with incident {into}: follow the updates there."),
            format!("merged into incident {into} by {by}"),
        );
        // The target claims the source's symptoms from now on, and must see
        // the source's elements recover too.
        let topology = self.explainer.topology();
        let source = &mut self.incidents[f];
        let own = source
            .focus(topology)
            .map(|i| topology.element(i).id.clone());
        let causes: Vec<ElementId> = own
            .into_iter()
            .chain(source.merged_causes.iter().cloned())
            .collect();
        let scope = std::mem::take(&mut source.scope);
        // Areas the source told of trouble hear the all-clear from the
        // target; a draft told nobody.
        let told = match source.awaiting_approval {
            true => Vec::new(),
            false => source.told_areas(),
        };
        // A watched event stays watched: its severity bar and its fallback
        // go with it.
        let watch = source.watch.clone();
        let target = &mut self.incidents[t];
        target.tell(told);
        if target.watch.is_none() {
            target.watch = watch;
        }
        target.severity = target.severity.max(from_severity);
        target.merged_severity = target.merged_severity.max(Some(from_severity));
        target.merged_causes.extend(causes);
        target.merged_causes.sort_unstable();
        target.merged_causes.dedup();
        for (e, m) in scope {
            *target.scope.entry(e).or_insert(0) |= m;
        }
        // Incidents merged into the source earlier point on to the target:
        // acting on one names an incident that takes actions.
        for earlier in &mut self.incidents {
            if earlier.operator.merged_into == Some(from) {
                earlier.operator.merged_into = Some(into);
            }
        }
        let target = &mut self.incidents[t];
        let merged = target.record(
            at,
            TimelineKind::Merged,
            String::new(),
            format!("incident {from} ({from_title}) merged into this one by {by}"),
        );
        // An ongoing fault merged into an incident the engine is monitoring
        // reopens it: else its resolve timer, running since service came
        // back, would tell the public "resolved" while the merged fault
        // lasts (and the merged incident's last word sent them here).
        // (The entry goes on its timeline, where the playbook finds it.)
        if let Some(impact) = from_ongoing
            && target.status == IncidentStatus::Monitoring
            && target.engine_owned()
        {
            // Its own symptoms are gone: what is broken now is the merged
            // incident's, and the words that reopen it name those areas.
            target.impact = impact;
            target.last_broken_at = at;
            target.reopen(
                at,
                format!("incident {from}, still ongoing, merged into this one"),
                &mut Vec::new(),
            );
        }
        Ok([merged, closed])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> Incident {
        let mut i = Incident::open(7, 100);
        i.title = "Calls disrupted in North".into();
        i
    }

    fn update(status: Option<IncidentStatus>, body: &str) -> OperatorAction {
        OperatorAction::Update {
            status,
            body: body.into(),
        }
    }

    #[test]
    fn a_resolution_without_words_names_the_areas_the_public_was_told_of() {
        let mut i = incident();
        i.told_regions = vec!["north".into(), "south-east".into()];
        let e = i
            .apply(160, "ada", &OperatorAction::Resolve { body: None })
            .unwrap();
        assert_eq!(
            e.public_body,
            "This incident has been resolved. Services in North and South-East are working normally."
        );
    }

    #[test]
    fn an_update_while_monitoring_keeps_the_time_monitoring_began() {
        let mut i = incident();
        i.apply(
            200,
            "ada",
            &update(Some(IncidentStatus::Monitoring), "Restored."),
        )
        .unwrap();
        assert_eq!(i.monitoring_at, Some(200));
        i.apply(500, "ada", &update(None, "Still watching."))
            .unwrap();
        i.apply(
            800,
            "ada",
            &update(Some(IncidentStatus::Monitoring), "Still fine."),
        )
        .unwrap();
        assert_eq!(i.monitoring_at, Some(200));
        assert_eq!(i.status, IncidentStatus::Monitoring);
    }

    #[test]
    fn acknowledge_records_who_once() {
        let mut i = incident();
        let e = i.apply(160, "ada", &OperatorAction::Acknowledge).unwrap();
        assert_eq!(e.kind, TimelineKind::Acknowledged);
        assert!(!e.kind.is_public(), "acknowledging is internal");
        assert_eq!(i.operator.acknowledged_by.as_deref(), Some("ada"));
        let again = i
            .apply(170, "bob", &OperatorAction::Acknowledge)
            .unwrap_err();
        assert_eq!(again, ActionError::AlreadyAcknowledged(7, "ada".into()));
    }

    #[test]
    fn updates_walk_the_statuses_forward_to_postmortem() {
        let mut i = incident();
        for (at, s) in [
            (200, IncidentStatus::Identified),
            (300, IncidentStatus::Monitoring),
            (400, IncidentStatus::Resolved),
            (500, IncidentStatus::Postmortem),
        ] {
            let e = i.apply(at, "ada", &update(Some(s), "words")).unwrap();
            assert_eq!((e.status, e.public_body.as_str()), (s, "words"));
        }
        assert_eq!(i.identified_at, Some(200));
        assert_eq!(i.resolved_at, Some(400));
        let back = i.apply(
            600,
            "ada",
            &update(Some(IncidentStatus::Investigating), "x"),
        );
        assert!(matches!(back, Err(ActionError::Transition { .. })));
    }

    #[test]
    fn postmortem_needs_a_resolved_incident_and_updates_need_words() {
        let mut i = incident();
        let early = i.apply(200, "ada", &update(Some(IncidentStatus::Postmortem), "x"));
        assert!(matches!(early, Err(ActionError::Transition { .. })));
        assert_eq!(
            i.apply(200, "ada", &update(None, "   ")),
            Err(ActionError::Empty("update text"))
        );
        let long = "x".repeat(MAX_BODY_CHARS + 1);
        assert!(matches!(
            i.apply(200, "ada", &update(None, &long)),
            Err(ActionError::TooLong { .. })
        ));
        assert_eq!(i.timeline.len(), 0, "a refused action writes nothing");
    }

    #[test]
    fn a_pinned_severity_and_a_resolution_stick() {
        let mut i = incident();
        i.apply(200, "ada", &OperatorAction::SetSeverity(Severity::Critical))
            .unwrap();
        assert!(i.operator.severity_pinned);
        i.apply(300, "ada", &OperatorAction::Resolve { body: None })
            .unwrap();
        assert_eq!(i.status, IncidentStatus::Resolved);
        assert!(matches!(
            i.apply(310, "ada", &OperatorAction::Resolve { body: None }),
            Err(ActionError::Closed { .. })
        ));
    }

    #[test]
    fn a_closed_incident_takes_only_updates() {
        let mut i = incident();
        i.awaiting_approval = true;
        i.apply(300, "ada", &OperatorAction::Resolve { body: None })
            .unwrap();
        for action in [
            OperatorAction::SetSeverity(Severity::Critical),
            OperatorAction::Approve,
            OperatorAction::Assign { to: "bob".into() },
            OperatorAction::Acknowledge,
        ] {
            assert!(
                matches!(
                    i.apply(310, "ada", &action),
                    Err(ActionError::Closed { .. })
                ),
                "{action:?}"
            );
        }
        i.apply(
            320,
            "ada",
            &update(Some(IncidentStatus::Postmortem), "notes"),
        )
        .unwrap();
    }

    #[test]
    fn sent_back_to_investigating_the_quiet_starts_again() {
        let mut i = incident();
        i.apply(200, "ada", &update(Some(IncidentStatus::Monitoring), "ok"))
            .unwrap();
        i.apply(
            900,
            "ada",
            &update(Some(IncidentStatus::Investigating), "not yet"),
        )
        .unwrap();
        assert_eq!(i.last_broken_at, 900);
        assert_eq!(i.monitoring_at, None, "no longer monitoring");
        // Monitoring again later counts from then.
        i.apply(
            1500,
            "ada",
            &update(Some(IncidentStatus::Monitoring), "ok now"),
        )
        .unwrap();
        assert_eq!(i.monitoring_at, Some(1500));
    }
}
