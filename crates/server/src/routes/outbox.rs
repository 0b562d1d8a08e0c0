//! The outbox: every message Sevwatch has sent or will send, with its attempts, and retrying
//! the dead letters.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sevwatch_core::{Action, IncidentId};
use sevwatch_store::{OutboxFilter, OUTBOX_STATUSES};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiQuery;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/outbox", get(list))
        .route("/api/v1/outbox/retry", post(retry_dead))
        .route("/api/v1/outbox/{id}", get(show))
        .route("/api/v1/outbox/{id}/retry", post(retry))
}

#[derive(Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent` or `dead`.
    pub status: Option<String>,
    pub incident: Option<String>,
    /// At most this many (default 100, at most 10000).
    pub limit: Option<u32>,
}

/// Messages, newest first: recipient, template, status, attempts, last error.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox", params(OutboxQuery),
    responses((status = 200, description = "messages: [...]"), (status = 422, body = crate::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let status = q.status.filter(|s| !s.is_empty() && s != "all");
    if let Some(s) = &status {
        if !OUTBOX_STATUSES.contains(&s.as_str()) {
            return Err(ApiError::invalid("status", format!("{s:?}: expected one of {}", OUTBOX_STATUSES.join(", "))));
        }
    }
    let incident = q
        .incident
        .as_deref()
        .map(|s| s.parse::<IncidentId>().map_err(|m| ApiError::invalid("incident", m)))
        .transpose()?;
    let f = OutboxFilter { status, incident, limit: q.limit.unwrap_or(100) };
    let mut messages = state.store.outbox(&f).await?;
    for m in &mut messages {
        m.last_error = m.last_error.take().map(|e| shown_error(&caller, e));
    }
    Ok(Json(serde_json::json!({ "messages": messages })))
}

/// Longest delivery error shown to a caller who is not an admin.
const SHOWN_ERROR: usize = 300;

/// Delivery errors quote receivers' answers and, through the HTTP client, the URL they went
/// to, whose path is often the secret. Admins see them whole; everyone else sees them with
/// every URL reduced to its host and cut to [`SHOWN_ERROR`] characters.
fn shown_error(caller: &Caller, error: String) -> String {
    if caller.role == sevwatch_core::AccessRole::Admin {
        return error;
    }
    let redacted = sevwatch_core::oncall::user::redact_urls(&error);
    if redacted.chars().count() <= SHOWN_ERROR {
        return redacted;
    }
    let mut cut: String = redacted.chars().take(SHOWN_ERROR).collect();
    cut.push_str("… (cut; an admin token shows it whole)");
    cut
}

fn outbox_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(format!("no outbox message {raw:?}")))
}

/// One message: its text, where it goes and every attempt (time, outcome, status code, error).
#[utoipa::path(get, path = "/api/v1/outbox/{id}", tag = "outbox", params(("id" = i64, Path)),
    responses((status = 200, description = "the message and its attempts"), (status = 404, body = crate::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let (mut item, mut attempts) = state.store.outbox_item(outbox_id(&id)?).await?;
    item.last_error = item.last_error.take().map(|e| shown_error(&caller, e));
    for a in &mut attempts {
        a.error = a.error.take().map(|e| shown_error(&caller, e));
    }
    let message = item.message.as_ref().map(|n| serde_json::json!({ "subject": n.subject, "body": n.body }));
    let contact = item.contact.as_ref().map(|c| format!("{c:?}"));
    Ok(Json(serde_json::json!({ "message": item, "text": message, "contact": contact, "attempts": attempts })))
}

/// Queue a dead message again, with a fresh set of attempts.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "outbox", params(("id" = i64, Path)),
    responses((status = 200, description = "the message, queued"), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Respond)?;
    let item = state.store.retry_outbox(outbox_id(&id)?, state.now()).await?;
    Ok(Json(serde_json::json!({ "message": item })))
}

/// Queue every dead message again.
#[utoipa::path(post, path = "/api/v1/outbox/retry", tag = "outbox", responses((status = 200, description = "{retried: n}")))]
pub async fn retry_dead(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Respond)?;
    let n = state.store.retry_dead_outbox(state.now()).await?;
    Ok(Json(serde_json::json!({ "retried": n })))
}
