//! Communications: render a template for an incident (a preview), or send it (the text goes on
//! the timeline, restarts the update cadence and is queued in the outbox for its channels).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use sevwatch_core::{Action, Command, IncidentId, Timestamp};
use sevwatch_notify::Rendered;
use sevwatch_store::{IncidentOp, OutboxFilter};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/incidents/{id}/comms/{template}", get(preview).post(send))
}

/// Render `template` for incident `id` at `now`: the whole text, or a 422 naming the file,
/// line and missing field (nothing half-rendered is ever returned or sent).
async fn render(
    state: &AppState,
    id: &str,
    template: &str,
    extra: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<(IncidentId, Rendered), ApiError> {
    let id: IncidentId = id.parse().map_err(ApiError::not_found)?;
    let inc = state.store.incident(id).await?;
    if !state.templates.names().contains(&template) {
        return Err(ApiError::not_found(format!(
            "no template {template:?} (templates: {})",
            state.templates.names().join(", ")
        )));
    }
    let ctx = sevwatch_notify::context(&inc, state.store.policy(), now, extra);
    let rendered = state.templates.render(template, &ctx).map_err(|e| {
        let field = e.field.clone().unwrap_or_else(|| "template".into());
        ApiError::invalid(&field, e.to_string())
    })?;
    Ok((id, rendered))
}

/// Render template `template` (`incident-declared`, `status-update`, `resolved`,
/// `escalation-notice`, `customer-initial`, `customer-progress`, `customer-resolution`,
/// `postmortem-reminder`, `update-reminder`) for the incident. Query parameters fill extra
/// fields (`impact`, `update`, `actions`, ...). A template error names the file, line and
/// missing field.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/comms/{template}", tag = "comms",
    params(("id" = String, Path), ("template" = String, Path)),
    responses((status = 200, description = "{template, subject, body}"), (status = 422, body = crate::Problem)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, template)): Path<(String, String)>,
    Query(extra): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let extra: BTreeMap<String, String> = extra.into_iter().collect();
    let (id, rendered) = render(&state, &id, &template, &extra, state.now()).await?;
    Ok(Json(
        serde_json::json!({ "incident": id.to_string(), "template": template, "subject": rendered.subject, "body": rendered.body }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// Extra template fields: `update`, `impact`, `actions`, `next_steps`, ...
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Channel names to post to; default: the channels routed for the incident's severity and
    /// service.
    #[serde(default)]
    pub channels: Vec<String>,
}

/// Send a communication: render `template`, record the text on the timeline (which restarts
/// the severity's update cadence) and queue it in the outbox for the channels named or routed.
/// The body may be `{}`. Answers with the text and the outbox messages created.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/comms/{template}", tag = "comms",
    params(("id" = String, Path), ("template" = String, Path)), request_body = SendRequest,
    responses((status = 201, description = "{incident, template, subject, body, seq, deliveries}"),
        (status = 409, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, template)): Path<(String, String)>,
    ApiJson(req): ApiJson<SendRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require(Action::Respond)?;
    for (i, c) in req.channels.iter().enumerate() {
        if state.store.notify_config().channel(c.trim()).is_none() {
            let known: Vec<&str> = state.store.notify_config().channels.iter().map(|c| c.name.as_str()).collect();
            return Err(ApiError::invalid(
                &format!("channels[{i}]"),
                format!("no channel named {c:?} (configured: {})", known.join(", ")),
            ));
        }
    }
    let now = state.now();
    let (id, rendered) = render(&state, &id, &template, &req.fields, now).await?;
    let command = Command::PostUpdate {
        template: template.clone(),
        subject: rendered.subject.clone(),
        body: rendered.body.clone(),
        channels: req.channels,
    };
    let w = state.store.execute(IncidentOp { target: Some(id), command, actor: caller.name.clone(), now }).await?;
    let seq = w.events.last().map(|e| e.seq).unwrap_or_default();
    let filter = OutboxFilter { incident: Some(id), limit: 1000, ..OutboxFilter::default() };
    let deliveries: Vec<_> =
        state.store.outbox(&filter).await?.into_iter().filter(|m| m.event_seq == seq).rev().collect();
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "incident": id.to_string(),
            "template": template,
            "subject": rendered.subject,
            "body": rendered.body,
            "seq": seq,
            "deliveries": deliveries,
        })),
    ))
}
