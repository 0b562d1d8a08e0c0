//! People and their contact methods. `sevwatch.toml` defines users for the rota; through the
//! API people add themselves or keep their contacts current. A user set here replaces the
//! configured one of the same id; deleting it brings the configured one back.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sevwatch_core::oncall::{is_id, ContactMethod, User};
use sevwatch_core::Action;
use sevwatch_store::{UserRecord, UserSource};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/users", get(list)).route("/api/v1/users/{id}", get(show).put(put).delete(remove))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// `email`, `slack` (a member id or an incoming-webhook URL), `discord` or `webhook`.
    pub kind: String,
    /// The address, member id or URL.
    pub to: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutUser {
    pub name: String,
    #[serde(default)]
    pub contacts: Vec<ContactInput>,
}

/// A user as shown: webhook URLs are secrets, so only their scheme and host are.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub name: String,
    /// `config` (sevwatch.toml) or `api`.
    pub source: String,
    pub contacts: Vec<String>,
}

fn view(r: &UserRecord) -> UserView {
    UserView {
        id: r.user.id.clone(),
        name: r.user.name.clone(),
        source: match r.source {
            UserSource::Config => "config",
            UserSource::Api => "api",
        }
        .into(),
        contacts: r.user.contacts.iter().map(|c| format!("{c:?}")).collect(),
    }
}

/// Every user, configured and added through the API.
#[utoipa::path(get, path = "/api/v1/users", tag = "oncall", responses((status = 200, description = "users: [...]")))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let users: Vec<UserView> = state.store.users().await?.iter().map(view).collect();
    Ok(Json(serde_json::json!({ "users": users })))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "oncall", params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = crate::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Action::Read)?;
    Ok(Json(view(&state.store.user(&id).await?)))
}

/// Create or replace a user: name and contact methods, each validated (an email address, an
/// http(s) URL, a Slack member id).
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "oncall", params(("id" = String, Path)), request_body = PutUser,
    responses((status = 200, body = UserView), (status = 422, body = crate::Problem)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PutUser>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Action::Administer)?;
    if !is_id(&id) {
        return Err(ApiError::invalid("id", format!("{id:?} is not a kebab-case id like \"vp-engineering\"")));
    }
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.contains('\0') {
        return Err(ApiError::invalid("name", "give a display name of 1 to 100 characters"));
    }
    if let Some(why) = sevwatch_core::text::single_line_problem(&name) {
        return Err(ApiError::invalid("name", format!("name {why}")));
    }
    let mut contacts = Vec::new();
    for (i, c) in req.contacts.iter().enumerate() {
        let parsed = ContactMethod::parse(&c.kind, &c.to).map_err(|m| {
            let field = if m.starts_with("unknown contact kind") { "kind" } else { "to" };
            ApiError::invalid(&format!("contacts[{i}].{field}"), m)
        })?;
        contacts.push(parsed);
    }
    let user = User { id: id.clone(), name, contacts };
    state.store.put_user(&user, state.now()).await?;
    Ok(Json(view(&UserRecord { user, source: UserSource::Api })))
}

/// Remove a user added through the API (a configured user of the same id takes effect again).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "oncall", params(("id" = String, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Action::Administer)?;
    state.store.delete_user(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
