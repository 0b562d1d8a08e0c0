//! Bearer-token authentication. A request names its token in `Authorization: Bearer ...` (what
//! Alertmanager's `http_config.authorization` sends) or, on the ingest endpoints only
//! (`/api/v1/ingest/...`), for webhook senders that cannot set headers, in `?token=...`: a token
//! in a URL ends up in proxy and access logs, so nowhere else accepts one. The [`Caller`]
//! extractor resolves it; handlers then `require` the action they perform.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
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
    /// The token itself, for calls that outlive one request (an event stream re-checks it).
    token: Secret,
}

/// A token value that `Debug` never prints.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<token>")
    }
}

impl Caller {
    pub fn new(name: String, role: AccessRole, token: &str) -> Caller {
        Caller { name, role, token: Secret(token.to_string()) }
    }

    /// Is the token still valid (not revoked)? Read through the token cache, so a revocation
    /// on another replica is seen within the cache's lifetime.
    pub async fn still_valid(&self, state: &AppState) -> bool {
        matches!(state.tokens.authenticate(&state.store, &self.token.0).await, Ok(Some(_)))
    }

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
    if !parts.uri.path().starts_with("/api/v1/ingest/") {
        return None;
    }
    parts.uri.query().and_then(|q| {
        q.split('&').find_map(|kv| kv.strip_prefix("token=")).filter(|t| !t.is_empty()).map(|t| t.to_string())
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The client's address, when the server was started with it (see `throttle.rs`).
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let Some(token) = token_from(parts) else {
            if parts.uri.query().is_some_and(|q| q.split('&').any(|kv| kv.starts_with("token="))) {
                return Err(ApiError::unauthorized(
                    "?token= is accepted only on /api/v1/ingest/... (a token in a URL ends up in logs): \
                     send Authorization: Bearer <token>",
                ));
            }
            return Err(ApiError::unauthorized("missing token: send Authorization: Bearer <token>"));
        };
        if let Some(wait) = state.throttle.check(ip, Instant::now()) {
            return Err(ApiError::too_many(
                format!("too many unknown tokens from this address; try again in {} s", wait.as_secs().max(1)),
                wait,
            ));
        }
        let found = state.tokens.authenticate(&state.store, &token).await?;
        state.throttle.record(ip, found.is_some(), Instant::now());
        match found {
            Some(t) => Ok(Caller::new(t.name, t.role, &token)),
            None => Err(ApiError::unauthorized("unknown or revoked token")),
        }
    }
}
