//! The operator API under `/api/v1/` and the console's forms: both turn a
//! request into an operator action and go through [`operate`].

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use dialtone_auth::{CSRF_FIELD, form_field, form_pairs};
use dialtone_engine::{ActionError, Declaration, Incident, OperatorAction, TimelineEntry};
use dialtone_model::{IncidentStatus, Severity, Timestamp};
use dialtone_statuspage::iso8601;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::access::{Principal, audit_done};
use crate::console::{SEVERITIES, STATUSES, escape, personalise, region_checkboxes, select};
use crate::extract::{Body, Path, Query};
use crate::live::Live;
use crate::{ApiError, AppState, field, read_form, ticked};

/// Audit entries listed by `GET /api/v1/audit`.
const AUDIT_LISTED: u32 = 500;

/// The times an operator may give, in Unix seconds: 2000-01-01 up to the
/// end of 9999. Wider would be a typo (milliseconds, a sign) the engine
/// would hold on to and never act on, or overflow on.
const EARLIEST: Timestamp = 946_684_800;
const LATEST: Timestamp = 253_402_300_799;

/// How far ahead of network time a change may be dated: a change record
/// says what was or is being done; one dated further ahead would be kept,
/// unweighed, until then.
const CHANGE_AHEAD_SECS: Timestamp = 86_400;
/// The most changes kept for root cause at once (a day and the lookback's
/// worth at over one a second): each is held in memory and searched.
const MAX_CHANGES_KEPT: usize = 100_000;
/// How far ahead an event may be watched, and how long it may last: the
/// engine holds each watch until a day after its end.
const WATCH_AHEAD_SECS: Timestamp = 366 * 86_400;
const MAX_WATCH_SECS: Timestamp = 7 * 86_400;
/// The most watches held at once (scanned every minute, all listed).
const MAX_WATCHES: usize = 1_000;

/// Whether `t` is more than `ahead` after the network's time `now`; never
/// before the first minute (`now` 0), when there is no time to measure from.
fn too_far_ahead(now: Timestamp, t: Timestamp, ahead: Timestamp) -> bool {
    now != 0 && t > now.saturating_add(ahead)
}

/// `t`, the request's field `name`, if it is within [`EARLIEST`]..=[`LATEST`].
fn network_time(name: &str, t: Timestamp) -> Result<Timestamp, ApiError> {
    if (EARLIEST..=LATEST).contains(&t) {
        return Ok(t);
    }
    Err(ApiError::BadRequest(format!(
        "`{name}` is {t}: give Unix seconds between {EARLIEST} (2000-01-01) and {LATEST} (the end of 9999)"
    )))
}

/// Applies `f` to the live state under its lock, re-renders every document,
/// saves the touched incidents and writes the audit row (logged, not
/// answered, if it fails), whose `target` is named from `f`'s result (a declared incident's id is known only then).
/// `refused` words the engine's refusals for where they are shown (the API
/// or a console page).
async fn operate<T>(
    state: &AppState,
    who: &Principal,
    action: &str,
    target: impl FnOnce(&T) -> String,
    detail: String,
    refused: fn(ActionError) -> ApiError,
    f: impl FnOnce(&mut Live) -> Result<T, ActionError>,
) -> Result<T, ApiError> {
    let out = {
        // An action is dated by the network's time, as what it acts on is.
        let mut live = state.live_for_write("the request").await?;
        let out = f(&mut live).map_err(refused)?;
        // The playbook sees the action at once: an approved draft or a
        // published update reaches subscribers without waiting a minute.
        live.respond();
        // A failed save leaves the incident dirty; the loop retries it.
        live.settle(&state.sinks()).await;
        out
    };
    audit_done(state, &who.name, action, target(&out), detail).await;
    Ok(out)
}

pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the request body is not the JSON this endpoint takes: {e}"
        ))
    })
}

/// The statuses an API caller may set; the console offers [`STATUSES`].
const API_STATUSES: [&str; 5] = [
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
];

/// Status `s`, one of those `offered` (the console's dropdown has no
/// `postmortem`); refused, the error lists what the caller can send.
fn parse_status(s: &str, offered: &[&str]) -> Result<IncidentStatus, ApiError> {
    (IncidentStatus::parse(s).filter(|_| offered.contains(&s))).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown status `{s}`: use one of {}",
            offered.join(", ")
        ))
    })
}

fn parse_severity(s: &str) -> Result<Severity, ApiError> {
    Severity::parse(s).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown severity `{s}`: use none, minor, major or critical"
        ))
    })
}

fn at(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(iso8601(t)))
}

/// The list view of an incident.
fn summary(i: &Incident) -> Value {
    json!({
        "id": i.id,
        "title": i.title,
        "status": i.status.as_str(),
        "severity": i.severity.as_str(),
        "opened_at": iso8601(i.opened_at),
        "updated_at": iso8601(i.updated_at),
        "resolved_at": at(i.resolved_at),
        "root_cause": i.root_cause,
        "declared_by": i.operator.declared_by,
        "acknowledged_by": i.operator.acknowledged_by,
        "assignee": i.operator.assignee,
        "merged_into": i.operator.merged_into,
    })
}

/// Incident `id` as the pipeline holds it, or, older than what it keeps in
/// memory (the most recent and every open one), as stored.
async fn find_incident(state: &AppState, id: u64) -> Result<Option<Incident>, ApiError> {
    let in_memory = state.live.lock().await.incident(id).cloned();
    match in_memory {
        Some(inc) => Ok(Some(inc)),
        None => Ok(state.store.incident(id).await?),
    }
}

async fn incident_json(state: &AppState, id: u64) -> Result<Json<Value>, ApiError> {
    let inc = find_incident(state, id)
        .await?
        .ok_or(ActionError::NotFound(id))?;
    Ok(Json(json!({ "incident": inc })))
}

/// `GET /api/v1/me`
pub(crate) async fn me(Extension(who): Extension<Principal>) -> Json<Value> {
    Json(json!({ "name": who.name, "role": who.role }))
}

/// How many incidents `GET /api/v1/incidents` lists unless asked, and at most.
const INCIDENTS_LISTED: usize = 100;
/// All of them in memory ([`crate::live::CLOSED_KEPT`] closed, and every open one).
const MAX_INCIDENTS_LISTED: usize = crate::live::CLOSED_KEPT;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/incidents[?limit=N]`: the newest `N` (100 unless asked, at
/// most 1,000) in summary, newest first; each whole record is at its own URL.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(INCIDENTS_LISTED);
    if !(1..=MAX_INCIDENTS_LISTED).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit={limit}: list 1 to {MAX_INCIDENTS_LISTED} incidents at a time; older ones are at /api/v1/incidents/{{id}}"
        )));
    }
    let live = state.live.lock().await;
    let incidents: Vec<Value> = live
        .newest_incidents(limit)
        .into_iter()
        .map(summary)
        .collect();
    Ok(Json(json!({ "incidents": incidents })))
}

/// `GET /api/v1/incidents/{id}`: the whole record, timeline and evidence included.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    incident_json(&state, id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclareBody {
    title: String,
    body: String,
    severity: Option<String>,
    /// Region ids where customers are affected; none if not yet known.
    #[serde(default)]
    regions: Vec<String>,
}

fn declaration(
    title: String,
    body: String,
    severity: Option<&str>,
    regions: Vec<String>,
) -> Result<Declaration, ApiError> {
    Ok(Declaration {
        title,
        body,
        severity: severity.map_or(Ok(Severity::Minor), parse_severity)?,
        regions,
    })
}

async fn declare_as(
    state: &AppState,
    who: &Principal,
    d: Declaration,
) -> Result<Incident, ApiError> {
    let detail = d.title.clone();
    let name = who.name.clone();
    operate(
        state,
        who,
        "declare",
        |inc: &Incident| format!("incident {}", inc.id),
        detail,
        ApiError::from,
        |live| live.declare(&name, &d),
    )
    .await
}

/// `POST /api/v1/incidents`: declares one by hand.
pub(crate) async fn declare(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let b: DeclareBody = parse_json(&body)?;
    let d = declaration(b.title, b.body, b.severity.as_deref(), b.regions)?;
    let inc = declare_as(&state, &who, d).await?;
    Ok((StatusCode::CREATED, Json(json!({ "incident": inc }))).into_response())
}

/// Applies `action` to incident `id` with its audit row; returns the timeline entry.
async fn apply(
    state: &AppState,
    who: &Principal,
    id: u64,
    action: OperatorAction,
    refused: fn(ActionError) -> ApiError,
) -> Result<TimelineEntry, ApiError> {
    let detail = match &action {
        OperatorAction::Assign { to } => format!("to {to}"),
        OperatorAction::Update { status, body } => {
            format!("{}: {body}", status.map_or("same status", |s| s.as_str()))
        }
        OperatorAction::SetSeverity(s) => s.as_str().to_string(),
        OperatorAction::Resolve { body } => body.clone().unwrap_or_default(),
        OperatorAction::Acknowledge | OperatorAction::Approve => String::new(),
    };
    let name = who.name.clone();
    operate(
        state,
        who,
        action.name(),
        |_| format!("incident {id}"),
        detail,
        refused,
        |live| live.act(id, &name, &action),
    )
    .await
}

/// Merges incident `from` into `into`, with its audit row.
async fn merge_as(
    state: &AppState,
    who: &Principal,
    into: u64,
    from: u64,
    refused: fn(ActionError) -> ApiError,
) -> Result<TimelineEntry, ApiError> {
    let name = who.name.clone();
    operate(
        state,
        who,
        "merge",
        |_| format!("incident {into}"),
        format!("from incident {from}"),
        refused,
        |live| live.merge(&name, into, from),
    )
    .await
}

/// [`apply`], answering with the entry and the incident after it.
async fn act(
    state: &AppState,
    who: &Principal,
    id: u64,
    action: OperatorAction,
) -> Result<Json<Value>, ApiError> {
    let entry = apply(state, who, id, action, ApiError::from).await?;
    answer(state, id, entry).await
}

/// What an action on incident `id` answers: the entry it wrote and the
/// incident after it.
async fn answer(state: &AppState, id: u64, entry: TimelineEntry) -> Result<Json<Value>, ApiError> {
    let live = state.live.lock().await;
    let inc = live.incident(id).ok_or(ActionError::NotFound(id))?;
    Ok(Json(json!({ "entry": entry, "incident": inc })))
}

/// `POST /api/v1/incidents/{id}/acknowledge`
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    act(&state, &who, id, OperatorAction::Acknowledge).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    assignee: String,
}

/// `POST /api/v1/incidents/{id}/assign` `{"assignee": "..."}`
pub(crate) async fn assign(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let b: AssignBody = parse_json(&body)?;
    act(&state, &who, id, OperatorAction::Assign { to: b.assignee }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    body: String,
    status: Option<String>,
}

/// `POST /api/v1/incidents/{id}/updates` `{"body": "...", "status": "identified"}`
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let b: UpdateBody = parse_json(&body)?;
    let status = (b.status.as_deref())
        .map(|s| parse_status(s, &API_STATUSES))
        .transpose()?;
    act(
        &state,
        &who,
        id,
        OperatorAction::Update {
            status,
            body: b.body,
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityBody {
    severity: String,
}

/// `POST /api/v1/incidents/{id}/severity` `{"severity": "major"}`
pub(crate) async fn severity(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let b: SeverityBody = parse_json(&body)?;
    act(
        &state,
        &who,
        id,
        OperatorAction::SetSeverity(parse_severity(&b.severity)?),
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    body: Option<String>,
}

/// `POST /api/v1/incidents/{id}/resolve`, optionally `{"body": "..."}`
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let b: ResolveBody = if body.is_empty() {
        ResolveBody::default()
    } else {
        parse_json(&body)?
    };
    act(&state, &who, id, OperatorAction::Resolve { body: b.body }).await
}

/// `GET /console/incidents/{id}/postmortem`: the report as Markdown, the
/// same text `dialtone postmortem` writes; a failure is a page, as the
/// console's link is followed by a browser.
pub(crate) async fn postmortem(State(state): State<AppState>, id: ConsoleId) -> Response {
    let report = async {
        let Path(id) = id?;
        let inc = (find_incident(&state, id).await?)
            .ok_or(ActionError::NotFound(id))
            .map_err(on_console)?;
        Ok::<_, ApiError>(dialtone_notify::postmortem(state.notify_store.as_ref(), &inc).await?)
    };
    match report.await {
        Ok(markdown) => (
            [
                (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            markdown,
        )
            .into_response(),
        Err(e) => not_done(None, "", &Bytes::new(), &e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    element: String,
    kind: String,
    description: String,
    /// Network time (Unix seconds) the change took effect; now if absent.
    at: Option<Timestamp>,
}

/// Refuses an element id the topology does not have, before anything is kept.
fn known_element(live: &Live, id: &str) -> Result<(), ApiError> {
    match live.run().engine().topology().index_of(id) {
        Some(_) => Ok(()),
        None => Err(ApiError::BadRequest(format!(
            "`{id}` is not an element of the topology: name a topology element id"
        ))),
    }
}

/// `POST /api/v1/changes`: a deployment or configuration change from a
/// change-management system; a fault starting soon after on that element
/// (or on what depends on its version or configuration) weighs it as evidence.
pub(crate) async fn record_change(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let b: ChangeBody = parse_json(&body)?;
    let kind = dialtone_engine::ChangeKind::parse(&b.kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown change kind `{}`: use deploy, config, hardware or other",
            b.kind
        ))
    })?;
    if b.description.trim().is_empty() || b.description.chars().count() > 500 {
        return Err(ApiError::BadRequest(
            "describe the change in 1 to 500 characters".into(),
        ));
    }
    let at = b.at.map(|t| network_time("at", t)).transpose()?;
    let change = {
        let mut live = state.live_for_write("the change").await?;
        let now = live.now();
        let change = dialtone_engine::ChangeEvent {
            at: at.unwrap_or(now),
            element: b.element.clone(),
            kind,
            description: b.description.trim().to_string(),
        };
        known_element(&live, &change.element)?;
        if too_far_ahead(now, change.at, CHANGE_AHEAD_SECS) {
            return Err(ApiError::BadRequest(format!(
                "`at` is {}, more than a day after the network's time {now}: record a change when it is made",
                change.at
            )));
        }
        if live.run().engine().changes_kept() >= MAX_CHANGES_KEPT {
            return Err(ApiError::Conflict(format!(
                "{MAX_CHANGES_KEPT} changes are kept already (those of the last day): record changes as they are made, not in bulk"
            )));
        }
        // Kept before it counts, under the lock as an operator action is:
        // a restarted run must weigh what this one weighs.
        state.plans.save_change(&change).await?;
        live.record_change(change.clone())
            .expect("known_element found the element under this lock");
        change
    };
    audit_done(
        &state,
        &who.name,
        "record_change",
        format!("element {}", change.element),
        format!("{}: {}", kind.as_str(), change.description),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "change": change }))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchBody {
    name: String,
    element: String,
    /// Network time (Unix seconds) the event starts and ends.
    start: Timestamp,
    end: Timestamp,
    fallback: Option<String>,
}

/// `POST /api/v1/watches`: schedules a high-stakes event ("the leadership
/// call on bridge X from 14:00 to 15:00"): pre-flight 15 minutes before,
/// earlier alarms and instant incidents on its element during it, paging at
/// any severity and the switch to `fallback` when it degrades.
pub(crate) async fn watch_event(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let b: WatchBody = parse_json(&body)?;
    if b.name.trim().is_empty() || b.name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "name the event in 1 to 200 characters".into(),
        ));
    }
    // Copied into the incident's timeline and every pre-flight line.
    if b.fallback
        .as_ref()
        .is_some_and(|f| f.trim().is_empty() || f.chars().count() > 200)
    {
        return Err(ApiError::BadRequest(
            "name the fallback in 1 to 200 characters, or leave it out".into(),
        ));
    }
    let (start, end) = (network_time("start", b.start)?, network_time("end", b.end)?);
    if end <= start {
        return Err(ApiError::BadRequest(format!(
            "the event must end after it starts: it starts at {start} and ends at {end}; give start < end in Unix seconds"
        )));
    }
    let event = dialtone_engine::EventWatch {
        name: b.name.trim().to_string(),
        element: b.element,
        start,
        end,
        fallback: b.fallback,
    };
    if end - start > MAX_WATCH_SECS {
        return Err(ApiError::BadRequest(format!(
            "the event lasts {} s: watch an event of at most 7 days ({MAX_WATCH_SECS} s)",
            end - start
        )));
    }
    {
        // Not before the first minute: there is no time yet to measure
        // "within the year" from.
        let mut live = state.live_for_write("the watch").await?;
        known_element(&live, &event.element)?;
        let now = live.now();
        if too_far_ahead(now, start, WATCH_AHEAD_SECS) {
            return Err(ApiError::BadRequest(format!(
                "the event starts at {start}, more than a year after the network's time {now}: schedule it within the year"
            )));
        }
        if live.run().engine().watches().count() >= MAX_WATCHES {
            return Err(ApiError::Conflict(format!(
                "{MAX_WATCHES} events are watched already (with those ended within the day): wait for some to end"
            )));
        }
        // Kept before it counts, as a change is.
        state.plans.save_watch(&event).await?;
        live.watch_event(event.clone())
            .expect("known_element found the element under this lock");
    }
    audit_done(
        &state,
        &who.name,
        "watch_event",
        format!("element {}", event.element),
        format!("{} {}..{}", event.name, event.start, event.end),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "watch": event }))).into_response())
}

/// `GET /api/v1/watches`: scheduled events and what their pre-flights found.
pub(crate) async fn watches(State(state): State<AppState>) -> Json<Value> {
    let live = state.live.lock().await;
    let engine = live.run().engine();
    let watches: Vec<&dialtone_engine::EventWatch> = engine.watches().collect();
    let log: Vec<Value> = engine
        .watch_log()
        .iter()
        .map(|(at, line)| json!({"at": iso8601(*at), "message": line}))
        .collect();
    Json(json!({ "watches": watches, "log": log }))
}

/// `POST /api/v1/incidents/{id}/approve`: publishes a drafted update held
/// below the playbook's auto-publish severity.
pub(crate) async fn approve(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    act(&state, &who, id, OperatorAction::Approve).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    from: u64,
}

/// `POST /api/v1/incidents/{id}/merge` `{"from": 12}`: incident 12 joins `id`.
pub(crate) async fn merge(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let b: MergeBody = parse_json(&body)?;
    let entry = merge_as(&state, &who, id, b.from, ApiError::from).await?;
    answer(&state, id, entry).await
}

/// `GET /api/v1/audit`: the newest audit entries (admins only).
pub(crate) async fn audit_log(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let entries = state.auth.audit_log(AUDIT_LISTED).await?;
    Ok(Json(json!({ "entries": entries })))
}

/// `GET /console`: the pre-rendered console for this session.
pub(crate) async fn console_page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Response {
    let r = state.published.current();
    let html = personalise(&String::from_utf8_lossy(&r.console_html), &who);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// `GET /console/incidents`: where the browser's address bar is left after
/// a declare form failed; reloading it shows the console. Also `GET /logout`
/// (the sign-out address reloaded or linked): only the button's POST signs
/// out, as a GET may be a prefetch or a page of another site.
pub(crate) async fn to_console() -> Redirect {
    Redirect::to("/console")
}

/// `GET /console/incidents/{id}`: likewise after an incident's form failed.
pub(crate) async fn to_incident(id: ConsoleId) -> Response {
    match id {
        Ok(Path(id)) => Redirect::to(&format!("/console#incident-{id}")).into_response(),
        Err(e) => not_done(None, "", &Bytes::new(), &e),
    }
}

/// The incident id in a console path, or why it is none: the console's
/// handlers answer a malformed one with a page ([`not_done`]), as a
/// browser follows their links, where the extractor's refusal is JSON.
type ConsoleId = Result<Path<u64>, ApiError>;

/// An engine refusal as a console page words it: the engine's "no such
/// incident" points API callers at the API's list, a browser at the console.
fn on_console(e: ActionError) -> ApiError {
    match e {
        ActionError::NotFound(id) => ApiError::NotFound(format!(
            "there is no incident {id}: the console lists the open incidents and the recent ones"
        )),
        e => e.into(),
    }
}

/// A console form (or console link) that failed, as a page: what was wrong,
/// and what was typed, so an operator's words are never lost to a race with
/// another operator, an expired session or a slip.
///
/// Only a form refused for a value in it (400) is offered again, editable,
/// with `csrf` (the session's token) to send it: a conflict (409: the
/// incident moved on, e.g. acknowledged, merged or resolved meanwhile) or a
/// missing incident would be refused again however it is sent, so the way
/// on is the console, showing the incident as it now is. Nor is anything
/// resent after a server error (it may have been applied: the audit log
/// failing comes after the action) or a refusal by the access guard (who
/// sent it may not, or not any longer, or did not mean to). What cannot be
/// resent is shown to copy.
pub(crate) fn not_done(csrf: Option<&str>, path: &str, body: &Bytes, error: &ApiError) -> Response {
    let resend = csrf.filter(|_| matches!(error, ApiError::BadRequest(_)));
    let readonly = if resend.is_some() { "" } else { " readonly" };
    let mut fields = String::new();
    let sent = |name| form_field(body, name);
    if resend.is_some() {
        if let Some(action) = sent("action") {
            fields += &format!(
                "<input type=\"hidden\" name=\"action\" value=\"{}\">",
                escape(&action)
            );
        }
        // Choices come back as dropdowns: a refused value is not chosen again.
        for (name, label, options) in [
            ("status", "Status", &STATUSES),
            ("severity", "Severity", &SEVERITIES),
        ] {
            if let Some(v) = sent(name) {
                fields += &format!("<label>{label} {}</label>", select(name, options, &v));
            }
        }
        // The areas a declaration ticked come back ticked, to untick.
        let ticked_areas: Vec<String> = (form_pairs(body).unwrap_or_default().into_iter())
            .filter_map(|(k, _)| k.strip_prefix("region_").map(str::to_string))
            .collect();
        if !ticked_areas.is_empty() {
            fields += &format!(
                "<fieldset><legend>Areas affected</legend>{}</fieldset>",
                region_checkboxes(&ticked_areas, |_| true)
            );
        }
    }
    for (name, label) in [
        ("title", "Title"),
        ("assignee", "Assign to"),
        ("into", "Merge into incident #"),
    ] {
        if let Some(v) = sent(name) {
            fields += &format!(
                "<label>{label} <input name=\"{name}\" value=\"{}\"{readonly}></label>",
                escape(&v)
            );
        }
    }
    if let Some(b) = sent("body") {
        fields += &format!(
            "<label>Text <textarea name=\"body\" rows=\"6\" cols=\"60\"{readonly}>{}</textarea></label>",
            escape(&b)
        );
    }
    let form = match resend {
        Some(token) => format!(
            "<form method=\"post\" action=\"{}\">{fields}\
             <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{}\">\
             <button type=\"submit\">Send again</button></form>",
            escape(path),
            escape(token)
        ),
        None if fields.is_empty() => String::new(),
        None => format!("<p>What you sent, to copy:</p>{fields}"),
    };
    let back = if matches!(error, ApiError::Unauthorized(_)) {
        "<a href=\"/login\">Sign in again</a>, then go on from the console"
    } else {
        "<a href=\"/console\">Back to the console</a>"
    };
    crate::subscribe::error_page(error, "Not done", &format!("{form}<p>{back}</p>"))
}

/// `POST /console/incidents`: the console's declare form.
pub(crate) async fn console_declare(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    req: Request,
) -> Response {
    const PATH: &str = "/console/incidents";
    let body = match read_form(req).await {
        Ok(body) => body,
        Err(e) => return not_done(None, PATH, &Bytes::new(), &e),
    };
    let declared = async {
        let severity = form_field(&body, "severity");
        let regions = ticked(&body, "region_", state.regions.iter().map(String::as_str));
        let d = declaration(
            field(&body, "title"),
            field(&body, "body"),
            severity.as_deref(),
            regions,
        )?;
        declare_as(&state, &who, d).await
    };
    match declared.await {
        Ok(inc) => Redirect::to(&format!("/console#incident-{}", inc.id)).into_response(),
        Err(e) => not_done(who.csrf.as_deref(), PATH, &body, &e),
    }
}

/// `POST /console/incidents/{id}`: the console's per-incident forms.
pub(crate) async fn console_act(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    id: ConsoleId,
    req: Request,
) -> Response {
    let path = req.uri().path().to_owned();
    let body = match read_form(req).await {
        Ok(body) => body,
        Err(e) => return not_done(None, &path, &Bytes::new(), &e),
    };
    // What was typed is shown to copy: the form was sent to no incident.
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return not_done(None, &path, &body, &e),
    };
    // The incident the console shows next: a merged one's is the one it joined.
    let done = async {
        if field(&body, "action") == "merge" {
            let into = field(&body, "into").trim().parse().map_err(|_| {
                ApiError::BadRequest(
                    "give the number of the incident this one is the same problem as".into(),
                )
            })?;
            merge_as(&state, &who, into, id, on_console).await?;
            return Ok(into);
        }
        apply(&state, &who, id, console_action(&body)?, on_console).await?;
        Ok::<_, ApiError>(id)
    };
    match done.await {
        Ok(shown) => Redirect::to(&format!("/console#incident-{shown}")).into_response(),
        Err(e) => not_done(who.csrf.as_deref(), &path, &body, &e),
    }
}

/// The operator action a console form asks for (merging aside: [`console_act`]).
fn console_action(body: &Bytes) -> Result<OperatorAction, ApiError> {
    Ok(match field(body, "action").as_str() {
        "acknowledge" => OperatorAction::Acknowledge,
        "assign" => OperatorAction::Assign {
            to: field(body, "assignee"),
        },
        "update" => OperatorAction::Update {
            status: Some(parse_status(&field(body, "status"), &STATUSES)?),
            body: field(body, "body"),
        },
        "severity" => OperatorAction::SetSeverity(parse_severity(&field(body, "severity"))?),
        // The resolve form's words are optional: left blank, the engine's own.
        "resolve" => OperatorAction::Resolve {
            body: Some(field(body, "body")).filter(|b| !b.trim().is_empty()),
        },
        "approve" => OperatorAction::Approve,
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown console action `{other}`: use acknowledge, approve, assign, update, severity, merge or resolve"
            )));
        }
    })
}
