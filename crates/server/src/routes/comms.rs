//! Communications: render a template for an incident (a preview; sending goes through the
//! outbox, which is not wired yet).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use sevwatch_core::{Action, IncidentId, Timestamp};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/incidents/{id}/comms/{template}", get(preview))
}

/// Render template `template` (`incident-declared`, `status-update`, `resolved`,
/// `escalation-notice`, `customer-initial`, `customer-progress`, `customer-resolution`,
/// `postmortem-reminder`) for the incident. Query parameters fill extra fields (`impact`,
/// `update`, `actions`, ...). A template error names the file, line and missing field.
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
    let id: IncidentId = id.parse().map_err(ApiError::not_found)?;
    let inc = state.store.incident(id).await?;
    if !state.templates.names().contains(&template.as_str()) {
        return Err(ApiError::not_found(format!(
            "no template {template:?} (templates: {})",
            state.templates.names().join(", ")
        )));
    }
    let extra: BTreeMap<String, String> = extra.into_iter().collect();
    let ctx = sevwatch_notify::context(&inc, state.store.policy(), Timestamp::now(), &extra);
    let rendered = state.templates.render(&template, &ctx).map_err(|e| {
        let field = e.field.clone().unwrap_or_else(|| "template".into());
        ApiError::invalid(&field, e.to_string())
    })?;
    Ok(Json(
        serde_json::json!({ "incident": id.to_string(), "template": template, "subject": rendered.subject, "body": rendered.body }),
    ))
}
