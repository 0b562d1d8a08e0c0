//! API tokens (admin only): create, list, revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sevwatch_core::{AccessRole, Action};
use sevwatch_store::TokenInfo;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/tokens", post(create).get(list)).route("/api/v1/tokens/{id}", delete(revoke))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Recorded as the actor of every write made with the token.
    pub name: String,
    /// `viewer`, `responder`, `ingest` or `admin`.
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token itself: shown once, stored only as a hash.
    pub token: String,
    pub id: i64,
    pub name: String,
    pub role: AccessRole,
}

/// Create a token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(Action::Administer)?;
    let role: AccessRole = req.role.parse().map_err(|m: String| ApiError::invalid("role", m))?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "name must be 1-100 printable characters"));
    }
    if let Some(why) = sevwatch_core::text::single_line_problem(name) {
        return Err(ApiError::invalid("name", format!("name {why}")));
    }
    let (token, info) = state.store.create_token(name, role, state.now()).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, id: info.id, name: info.name, role: info.role })))
}

/// List tokens (never their values).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, description = "tokens: [{id, name, role, created_at, revoked}]")))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Administer)?;
    let tokens: Vec<TokenInfo> = state.store.list_tokens().await?;
    Ok(Json(serde_json::json!({ "tokens": tokens })))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = crate::Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::Administer)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("no token {id:?}")))?;
    if state.store.revoke_token(id, state.now()).await? {
        state.tokens.clear();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no live token {id}")))
    }
}
