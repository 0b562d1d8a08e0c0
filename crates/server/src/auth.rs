//! Bearer-token authentication. A request names its token in `Authorization: Bearer ...` (what
//! Alertmanager's `http_config.authorization` sends) or, for webhook senders that cannot set
//! headers, in `?token=...`. The [`Caller`] extractor resolves it; handlers then `require` the
//! action they perform.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sevwatch_core::{AccessRole, Action};

use crate::error::ApiError;
use crate::AppState;

/// Who is calling: the token's name (recorded as the actor on the timeline) and its role.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub role: AccessRole,
}

impl Caller {
    pub fn require(&self, action: Action) -> Result<&Self, ApiError> {
        if self.role.allows(action) {
            Ok(self)
        } else {
            Err(ApiError::forbidden(format!("a {} token may not do this (needs {})", self.role, needed(action))))
        }
    }
}

fn needed(action: Action) -> &'static str {
    match action {
        Action::Read => "viewer, responder, executor or admin",
        Action::Respond => "responder, executor or admin",
        Action::ExecuteOnServer => "executor or admin",
        Action::Ingest => "ingest or admin",
        Action::Administer => "admin",
    }
}

fn token_from(parts: &Parts) -> Option<String> {
    if let Some(h) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
            return Some(rest.trim().to_string());
        }
    }
    parts.uri.query().and_then(|q| {
        q.split('&').find_map(|kv| kv.strip_prefix("token=")).filter(|t| !t.is_empty()).map(|t| t.to_string())
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = token_from(parts) else {
            return Err(ApiError::unauthorized("missing token: send Authorization: Bearer <token>"));
        };
        match state.tokens.authenticate(&state.store, &token).await? {
            Some(t) => Ok(Caller { name: t.name, role: t.role }),
            None => Err(ApiError::unauthorized("unknown or revoked token")),
        }
    }
}
