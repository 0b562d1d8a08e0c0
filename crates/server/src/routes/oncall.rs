//! On-call: schedules (who is on call now or at a time, iCalendar export), escalation
//! policies, and "escalate now" on an incident.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sevwatch_core::oncall::{oncall, shifts, to_ics, Schedule};
use sevwatch_core::{Action, Command, IncidentId, Timestamp};
use sevwatch_store::IncidentOp;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiQuery};
use crate::views::IncidentView;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/schedules", get(list_schedules))
        .route("/api/v1/schedules/{id}/oncall", get(who_is_on_call))
        .route("/api/v1/schedules/{id}/calendar.ics", get(calendar))
        .route("/api/v1/escalation-policies", get(list_policies))
        .route("/api/v1/incidents/{id}/escalate", post(escalate_now))
}

fn schedule<'a>(state: &'a AppState, id: &str) -> Result<&'a Schedule, ApiError> {
    state.store.oncall().schedule(id).ok_or_else(|| {
        let known: Vec<&str> = state.store.oncall().schedules.iter().map(|s| s.id.as_str()).collect();
        ApiError::not_found(format!("no schedule {id:?} (schedules: {})", known.join(", ")))
    })
}

fn at(q: Option<&str>, now: Timestamp) -> Result<Timestamp, ApiError> {
    match q {
        None | Some("") => Ok(now),
        Some(v) => v.parse().map_err(|e| ApiError::invalid("at", format!("{v:?} is not an RFC 3339 time: {e}"))),
    }
}

/// Every schedule with who is on call now.
#[utoipa::path(get, path = "/api/v1/schedules", tag = "oncall", responses((status = 200, description = "schedules: [{id, name, oncall}]")))]
pub async fn list_schedules(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let now = state.now();
    let list: Vec<serde_json::Value> = state
        .store
        .oncall()
        .schedules
        .iter()
        .map(|s| serde_json::json!({ "id": s.id, "name": s.name, "layers": s.layers.iter().map(|l| &l.name).collect::<Vec<_>>(), "oncall": oncall(s, now) }))
        .collect();
    Ok(Json(serde_json::json!({ "schedules": list })))
}

#[derive(Deserialize, IntoParams)]
pub struct AtQuery {
    /// RFC 3339 time (default now).
    pub at: Option<String>,
}

/// Who is on call, per layer, at a time.
#[utoipa::path(get, path = "/api/v1/schedules/{id}/oncall", tag = "oncall", params(("id" = String, Path), AtQuery),
    responses((status = 200, description = "{at, layers: [{layer, user, start, end, overridden}]}"), (status = 404, body = crate::Problem)))]
pub async fn who_is_on_call(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AtQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let s = schedule(&state, &id)?;
    let when = at(q.at.as_deref(), state.now())?;
    Ok(Json(serde_json::json!({ "schedule": s.id, "oncall": oncall(s, when) })))
}

#[derive(Deserialize, IntoParams)]
pub struct CalendarQuery {
    /// How many weeks from now (default 4, at most 52).
    pub weeks: Option<u32>,
}

/// The next weeks of shifts as an iCalendar file.
#[utoipa::path(get, path = "/api/v1/schedules/{id}/calendar.ics", tag = "oncall", params(("id" = String, Path), CalendarQuery),
    responses((status = 200, description = "text/calendar"), (status = 404, body = crate::Problem)))]
pub async fn calendar(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Action::Read)?;
    let s = schedule(&state, &id)?;
    let weeks = q.weeks.unwrap_or(4);
    if !(1..=52).contains(&weeks) {
        return Err(ApiError::invalid("weeks", "between 1 and 52"));
    }
    let now = state.now();
    let until =
        now.checked_add(jiff::SignedDuration::from_hours(24 * 7 * i64::from(weeks))).map_err(ApiError::internal)?;
    let body = to_ics(s, &shifts(s, now, until), now);
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body))
}

/// Escalation policies with their steps.
#[utoipa::path(get, path = "/api/v1/escalation-policies", tag = "oncall", responses((status = 200, description = "policies: [{id, name, repeat, steps: [{delay, targets}]}]")))]
pub async fn list_policies(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let list: Vec<serde_json::Value> = state
        .store
        .oncall()
        .policies
        .iter()
        .map(|p| {
            let steps: Vec<serde_json::Value> = p
                .steps
                .iter()
                .map(|s| serde_json::json!({ "delay": s.delay.to_string(), "targets": s.targets.iter().map(|t| t.to_string()).collect::<Vec<_>>() }))
                .collect();
            serde_json::json!({ "id": p.id, "name": p.name, "repeat": p.repeat, "steps": steps })
        })
        .collect();
    Ok(Json(serde_json::json!({ "policies": list })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    pub reason: Option<String>,
}

/// Jump to the next escalation step now (refused once the incident is acknowledged).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/escalate", tag = "commands", params(("id" = String, Path)), request_body = EscalateRequest,
    responses((status = 200, body = IncidentView), (status = 409, body = crate::Problem)))]
pub async fn escalate_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<EscalateRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    caller.require(Action::Respond)?;
    let id: IncidentId = id.parse().map_err(ApiError::not_found)?;
    let now = state.now();
    let w = state
        .store
        .execute(IncidentOp {
            target: Some(id),
            command: Command::EscalateNow { reason: r.reason },
            actor: caller.name.clone(),
            now,
        })
        .await?;
    Ok(Json(IncidentView::new(w.incident, &w.events, state.store.policy(), now)))
}
