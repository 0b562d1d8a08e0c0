//! Alert history and silences.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use sevwatch_core::alert::{Matcher, Silence};
use sevwatch_core::{Action, Duration, IncidentId, Timestamp};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiQuery};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/silences", get(list_silences).post(create_silence))
        .route("/api/v1/silences/{id}", delete(expire_silence))
}

#[derive(Deserialize, IntoParams)]
pub struct AlertQuery {
    /// Only the alerts of this incident.
    pub incident: Option<String>,
    /// `firing` for firing alerts only.
    pub status: Option<String>,
    /// At most this many (default 100, at most 10000).
    pub limit: Option<u32>,
}

/// Alerts (one row per fingerprint: status, count, first and last seen, incident), newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery), responses((status = 200, description = "alerts: [...]")))]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let incident = q
        .incident
        .as_deref()
        .map(|s| s.parse::<IncidentId>().map_err(|m| ApiError::invalid("incident", m)))
        .transpose()?;
    let firing = match q.status.as_deref() {
        None | Some("") | Some("all") => false,
        Some("firing") => true,
        Some(other) => return Err(ApiError::invalid("status", format!("{other:?}: expected firing or all"))),
    };
    let alerts = state.store.alerts(incident, firing, q.limit.unwrap_or(100)).await?;
    Ok(Json(serde_json::json!({ "alerts": alerts })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSilence {
    /// Alertmanager-style matchers, e.g. `alertname="DiskFull"`, `service=~"db|cache"`.
    pub matchers: Vec<String>,
    /// RFC 3339; default now.
    pub starts_at: Option<String>,
    /// RFC 3339; or give `duration`.
    pub ends_at: Option<String>,
    /// e.g. `2h`, counted from `starts_at`.
    pub duration: Option<String>,
    pub comment: String,
}

fn time(field: &str, v: &str) -> Result<Timestamp, ApiError> {
    v.parse().map_err(|e| ApiError::invalid(field, format!("{v:?} is not an RFC 3339 time: {e}")))
}

/// Create a silence: matching alerts are stored and shown but open and page nothing.
#[utoipa::path(post, path = "/api/v1/silences", tag = "alerts", request_body = CreateSilence,
    responses((status = 201, description = "the silence"), (status = 422, body = crate::Problem)))]
pub async fn create_silence(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateSilence>,
) -> Result<(StatusCode, Json<Silence>), ApiError> {
    caller.require(Action::Respond)?;
    let mut matchers = Vec::new();
    for (i, m) in req.matchers.iter().enumerate() {
        matchers.push(
            m.parse::<Matcher>().map_err(|e| ApiError::invalid(&format!("matchers[{i}]"), format!("{m:?}: {e}")))?,
        );
    }
    let now = state.now();
    let starts_at = req.starts_at.as_deref().map(|v| time("starts_at", v)).transpose()?.unwrap_or(now);
    let ends_at = match (req.ends_at.as_deref(), req.duration.as_deref()) {
        (Some(e), None) => time("ends_at", e)?,
        (None, Some(d)) => {
            let d: Duration = d.parse().map_err(|e| ApiError::invalid("duration", format!("{e}")))?;
            starts_at.saturating_add(d.to_signed()).map_err(|e| ApiError::invalid("duration", e.to_string()))?
        }
        (Some(_), Some(_)) => return Err(ApiError::invalid("duration", "give ends_at or duration, not both")),
        (None, None) => return Err(ApiError::invalid("ends_at", "give ends_at or duration")),
    };
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).expect("the operating system provides randomness");
    let comment = req.comment.trim().to_string();
    let silence =
        Silence { id: hex::encode(id), matchers, starts_at, ends_at, created_by: caller.name.clone(), comment };
    silence.validate().map_err(|m| ApiError::invalid("matchers", m))?;
    // A responder silences what they are working on; quieting (nearly) everything, or for
    // longer than max_silence, is an admin's decision.
    if caller.role != sevwatch_core::AccessRole::Admin {
        if silence.is_catch_all() {
            return Err(ApiError::forbidden(
                "these matchers accept any value, so the silence would quiet nearly every alert: that needs an admin token",
            ));
        }
        let max = state.config.alerts.max_silence;
        if silence.ends_at.as_millisecond() - silence.starts_at.as_millisecond() > max.as_millis() {
            return Err(ApiError::forbidden(format!(
                "a silence longer than [alerts] max_silence ({max}) needs an admin token"
            )));
        }
    }
    if silence.comment.is_empty() || silence.comment.contains('\0') {
        return Err(ApiError::invalid("comment", "say why the alerts are silenced"));
    }
    state.store.create_silence(&silence, now).await?;
    Ok((StatusCode::CREATED, Json(silence)))
}

#[derive(Deserialize, IntoParams)]
pub struct SilenceQuery {
    /// Include expired silences.
    pub all: Option<bool>,
}

/// Silences that have not ended (or all with `all=true`).
#[utoipa::path(get, path = "/api/v1/silences", tag = "alerts", params(SilenceQuery), responses((status = 200, description = "silences: [...]")))]
pub async fn list_silences(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SilenceQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let s = state.store.silences(state.now(), q.all.unwrap_or(false)).await?;
    Ok(Json(serde_json::json!({ "silences": s })))
}

/// End a silence now.
#[utoipa::path(delete, path = "/api/v1/silences/{id}", tag = "alerts", params(("id" = String, Path)),
    responses((status = 204, description = "expired"), (status = 404, body = crate::Problem)))]
pub async fn expire_silence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::Respond)?;
    if state.store.expire_silence(&id, state.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no running silence {id:?}")))
    }
}
