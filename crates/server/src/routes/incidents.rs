//! Incidents: declare, list, read, one POST per command, timeline and chain verification.
//! Every write is attributed to the calling token's name and answered only after commit.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sevwatch_core::{Action, Command, IncidentId, Severity, Status};
use sevwatch_store::{Anchor, IncidentOp, IncidentVerification, ListFilter};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::checkpoint::CheckpointReport;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiQuery};
use crate::views::{EventView, IncidentList, IncidentView};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/incidents", post(declare).get(list))
        .route("/api/v1/incidents/{id}", get(show))
        .route("/api/v1/incidents/{id}/ack", post(ack))
        .route("/api/v1/incidents/{id}/assign", post(assign))
        .route("/api/v1/incidents/{id}/status", post(status))
        .route("/api/v1/incidents/{id}/severity", post(severity))
        .route("/api/v1/incidents/{id}/notes", post(note))
        .route("/api/v1/incidents/{id}/check", post(check))
        .route("/api/v1/incidents/{id}/uncheck", post(uncheck))
        .route("/api/v1/incidents/{id}/resolve", post(resolve))
        .route("/api/v1/incidents/{id}/close", post(close))
        .route("/api/v1/incidents/{id}/reopen", post(reopen))
        .route("/api/v1/incidents/{id}/timeline", get(timeline))
        .route("/api/v1/incidents/{id}/verify", get(verify))
        .route("/api/v1/verify", get(verify_all))
}

fn incident_id(raw: &str) -> Result<IncidentId, ApiError> {
    raw.parse().map_err(|m: String| ApiError::not_found(m))
}

fn parse_severity(state: &AppState, field: &str, raw: &str) -> Result<Severity, ApiError> {
    state.store.policy().resolve_severity(raw).map_err(|m| ApiError::invalid(field, m))
}

/// Run one command and render the incident with the events it appended.
async fn run(
    state: &AppState,
    caller: &Caller,
    target: Option<IncidentId>,
    command: Command,
) -> Result<IncidentView, ApiError> {
    caller.require(Action::Respond)?;
    let now = state.now();
    let w = state.store.execute(IncidentOp { target, command, actor: caller.name.clone(), now }).await?;
    Ok(IncidentView::new(w.incident, &w.events, state.store.policy(), now))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    #[schema(example = "API latency 10x")]
    pub title: String,
    /// `P0`..`P4` or a configured alias (`critical`, `SEV2`, ...).
    #[schema(example = "P1")]
    pub severity: String,
    pub service: Option<String>,
    pub summary: Option<String>,
}

/// Declare an incident.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = DeclareRequest,
    responses((status = 201, body = IncidentView), (status = 422, body = crate::Problem)))]
pub async fn declare(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DeclareRequest>,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    let severity = parse_severity(&state, "severity", &req.severity)?;
    let cmd = Command::Declare { title: req.title, severity, service: req.service, summary: req.summary };
    Ok((StatusCode::CREATED, Json(run(&state, &caller, None, cmd).await?)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Comma-separated statuses, or `open` (every status before resolved), or `all`.
    pub status: Option<String>,
    /// Comma-separated severities (aliases allowed).
    pub severity: Option<String>,
    pub service: Option<String>,
    /// Page size, 1-500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List incidents, newest first, with keyset pagination.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery), responses((status = 200, body = IncidentList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    caller.require(Action::Read)?;
    let mut statuses = Vec::new();
    for part in q.status.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        match part {
            "open" => statuses.extend(Status::ALL.into_iter().filter(|s| s.is_open())),
            "all" => statuses.extend(Status::ALL),
            other => statuses.push(other.parse().map_err(|m: String| ApiError::invalid("status", m))?),
        }
    }
    let mut severities = Vec::new();
    for part in q.severity.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        severities.push(parse_severity(&state, "severity", part)?);
    }
    let before =
        q.cursor.as_deref().map(|c| c.parse::<IncidentId>().map_err(|m| ApiError::invalid("cursor", m))).transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 500"));
    }
    statuses.sort();
    statuses.dedup();
    severities.sort();
    severities.dedup();
    let service = q.service.filter(|s| !s.trim().is_empty());
    if service.as_deref().is_some_and(|s| s.contains('\0')) {
        return Err(ApiError::invalid("service", "must not contain NUL characters"));
    }
    let filter = ListFilter { statuses, severities, service, before, limit };
    let found = state.store.list_incidents(&filter).await?;
    let now = state.now();
    let next_cursor = (found.len() == limit as usize).then(|| found.last().map(|i| i.id.to_string())).flatten();
    let incidents = found.into_iter().map(|i| IncidentView::new(i, &[], state.store.policy(), now)).collect();
    Ok(Json(IncidentList { incidents, next_cursor }))
}

/// One incident with its SLA clocks, checklist, roles and last ten events.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = String, Path, description = "INC-<n>")),
    responses((status = 200, body = IncidentView), (status = 404, body = crate::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    caller.require(Action::Read)?;
    let id = incident_id(&id)?;
    let inc = state.store.incident(id).await?;
    let recent = state.store.timeline(id, (inc.event_count - 10).max(0), 10).await?;
    let suggestions = suggest_runbooks(&state, &inc).await?;
    let mut view = IncidentView::new(inc, &recent, state.store.policy(), state.now());
    view.suggested_runbooks = Some(suggestions);
    Ok(Json(view))
}

/// Runbook sections that match the incident (title and service for now; alert names and
/// `runbook_url` annotations join in once alerts arrive), at most five, best first.
async fn suggest_runbooks(
    state: &AppState,
    inc: &sevwatch_core::Incident,
) -> Result<Vec<sevwatch_runbook::Suggestion>, ApiError> {
    let mut books = Vec::new();
    for record in state.store.latest_runbooks().await? {
        books.push((record.name.clone(), crate::routes::runbooks::parse_record(&record)?));
    }
    let mut found = sevwatch_runbook::link(&books, None, None, inc.service.as_deref(), &inc.title);
    // Each attached alert's name and runbook_url annotation are stronger evidence than words.
    for row in state.store.alerts(Some(inc.id), false, 50).await? {
        let name =
            row.alert["labels"]["alertname"].as_str().or_else(|| row.alert["labels"]["__alert_rule_title__"].as_str());
        let url =
            row.alert["annotations"]["runbook_url"].as_str().or_else(|| row.alert["annotations"]["runbook"].as_str());
        found.extend(sevwatch_runbook::link(&books, name, url, inc.service.as_deref(), &inc.title));
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|s| seen.insert((s.runbook.clone(), s.section.clone())));
    found.truncate(5);
    Ok(found)
}

/// Acknowledge: someone is on it. Stops the response clock.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/ack", tag = "commands", params(("id" = String, Path)),
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem)))]
pub async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    Ok(Json(run(&state, &caller, Some(incident_id(&id)?), Command::Acknowledge).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// `commander`, `tech-lead`, `comms-lead`, `scribe` or a configured custom role.
    pub role: String,
    pub to: String,
}

/// Assign a role (or hand it off to someone else).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/assign", tag = "commands", params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, body = IncidentView), (status = 422, body = crate::Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<AssignRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(run(&state, &caller, Some(id), Command::Assign { role: r.role, to: r.to }).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `investigating`, `identified` or `monitoring`.
    pub status: String,
    pub note: Option<String>,
}

/// Post a status update.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/status", tag = "commands", params(("id" = String, Path)), request_body = StatusRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<StatusRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    let status: Status = r.status.parse().map_err(|m: String| ApiError::invalid("status", m))?;
    Ok(Json(run(&state, &caller, Some(id), Command::SetStatus { status, note: r.note }).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRequest {
    pub severity: String,
    pub reason: Option<String>,
}

/// Raise or lower the severity.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/severity", tag = "commands", params(("id" = String, Path)), request_body = SeverityRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn severity(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<SeverityRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    let severity = parse_severity(&state, "severity", &r.severity)?;
    Ok(Json(run(&state, &caller, Some(id), Command::ChangeSeverity { severity, reason: r.reason }).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub text: String,
}

/// Add a note to the timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "commands", params(("id" = String, Path)), request_body = NoteRequest,
    responses((status = 200, body = IncidentView), (status = 422, body = crate::Problem)))]
pub async fn note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<NoteRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(run(&state, &caller, Some(id), Command::AddNote { text: r.text }).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// `<phase>.<id>`, e.g. `resolution.root-cause-identified`.
    pub item: String,
}

/// Check a checklist item.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/check", tag = "commands", params(("id" = String, Path)), request_body = CheckRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CheckRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(run(&state, &caller, Some(id), Command::Check { item: r.item }).await?))
}

/// Uncheck a checklist item.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/uncheck", tag = "commands", params(("id" = String, Path)), request_body = CheckRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn uncheck(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<CheckRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(run(&state, &caller, Some(id), Command::Uncheck { item: r.item }).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub root_cause: Option<String>,
    /// Resolve even with unchecked resolution items; the event records which were open.
    #[serde(default)]
    pub force: bool,
}

/// Resolve. Refused (409) while resolution checklist items are unchecked, unless forced.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "commands", params(("id" = String, Path)), request_body = ResolveRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ResolveRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(run(&state, &caller, Some(id), Command::Resolve { root_cause: r.root_cause, force: r.force }).await?))
}

/// Close a resolved incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/close", tag = "commands", params(("id" = String, Path)),
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    Ok(Json(run(&state, &caller, Some(incident_id(&id)?), Command::Close).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    pub reason: Option<String>,
}

/// Reopen a resolved or closed incident (back to investigating).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reopen", tag = "commands", params(("id" = String, Path)), request_body = ReopenRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem)))]
pub async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ReopenRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(run(&state, &caller, Some(id), Command::Reopen { reason: r.reason }).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct TimelineQuery {
    /// Only events with a larger sequence number.
    pub after: Option<i64>,
    /// At most this many (default and maximum 10000).
    pub limit: Option<u32>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct Timeline {
    pub incident: String,
    pub events: Vec<EventView>,
}

/// The incident's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents", params(("id" = String, Path), TimelineQuery),
    responses((status = 200, body = Timeline), (status = 404, body = crate::Problem)))]
pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TimelineQuery>,
) -> Result<Json<Timeline>, ApiError> {
    caller.require(Action::Read)?;
    let id = incident_id(&id)?;
    let events = state.store.timeline(id, q.after.unwrap_or(0), q.limit.unwrap_or(10_000)).await?;
    Ok(Json(Timeline { incident: id.to_string(), events: events.iter().map(EventView::from).collect() }))
}

/// Recompute one incident's hash chain and report any edited, deleted or reordered event, and
/// (with a chain key) any rewrite since the newest checkpoint.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/verify", tag = "integrity", params(("id" = String, Path)),
    responses((status = 200, description = "the verification report: ok, events, problems[{seq, kind, detail}], checkpoint{at, seq}")))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<IncidentVerification>, ApiError> {
    caller.require(Action::Read)?;
    let id = incident_id(&id)?;
    let (latest, _) = latest_checkpoint(&state).await?;
    let anchor = state.chain_anchor.is_some().then_some(Anchor { checkpoint: latest.as_ref(), now: state.now() });
    Ok(Json(state.store.verify_anchored(id, anchor).await?))
}

#[derive(serde::Serialize)]
pub struct VerifyAll {
    pub ok: bool,
    pub incidents: usize,
    pub events: usize,
    /// What the chains were checked against beyond themselves, and what is wrong with it.
    pub checkpoint: CheckpointReport,
    pub failed: Vec<IncidentVerification>,
}

/// Verify every incident's chain, and (with a chain key) every chain against the newest
/// genuine checkpoint and the checkpoints themselves.
#[utoipa::path(get, path = "/api/v1/verify", tag = "integrity",
    responses((status = 200, description = "ok, incidents, events, checkpoint{status, at, source, incidents, problems[]}, failed[]")))]
pub async fn verify_all(State(state): State<AppState>, caller: Caller) -> Result<Json<VerifyAll>, ApiError> {
    caller.require(Action::Read)?;
    let (latest, checkpoint) = latest_checkpoint(&state).await?;
    let anchor = state.chain_anchor.is_some().then_some(Anchor { checkpoint: latest.as_ref(), now: state.now() });
    let all = state.store.verify_all_anchored(anchor).await?;
    let events = all.iter().map(|v| v.events).sum();
    let incidents = all.len();
    let failed: Vec<IncidentVerification> = all.into_iter().filter(|v| !v.ok).collect();
    Ok(Json(VerifyAll {
        ok: failed.is_empty() && checkpoint.problems.is_empty(),
        incidents,
        events,
        checkpoint,
        failed,
    }))
}

async fn latest_checkpoint(
    state: &AppState,
) -> Result<(Option<sevwatch_core::checkpoint::Checkpoint>, CheckpointReport), ApiError> {
    match &state.chain_anchor {
        Some(anchor) => Ok(anchor.latest(&state.store).await?),
        None => Ok((None, CheckpointReport::off())),
    }
}
