//! The front door for monitoring systems: Alertmanager, Grafana, our generic JSON, and a
//! PagerDuty Events API v2 compatible `/v2/enqueue`. Each body is parsed by the core's parser
//! for its format (a precise 4xx naming the JSON path on bad input) and handed to the store,
//! which batches concurrent requests into one transaction; 2xx means committed.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use sevwatch_core::alert::source::{alertmanager, generic, grafana, pagerduty};
use sevwatch_core::alert::{Alert, AlertSource, AlertStatus, Notification, ParseError};
use sevwatch_core::{Action, IncidentId};
use sevwatch_store::{AlertsOp, AlertsWritten};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ingest/alertmanager", post(alertmanager_webhook))
        .route("/api/v1/ingest/grafana", post(grafana_webhook))
        .route("/api/v1/ingest/generic", post(generic_webhook))
        .route("/v2/enqueue", post(pagerduty_enqueue))
}

fn body(headers: &HeaderMap, bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let bytes = bytes.map_err(|r| {
        let status = r.status();
        let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is larger than the configured limit (server.max_body_bytes)".to_string()
        } else {
            r.body_text()
        };
        ApiError::new(status, detail)
    })?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.is_empty() && !ct.to_ascii_lowercase().contains("json") {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("the body must be JSON, not {ct}")));
    }
    Ok(bytes)
}

fn parse_error(e: ParseError) -> ApiError {
    if e.path.is_empty() {
        ApiError::new(StatusCode::BAD_REQUEST, e.message)
    } else {
        let detail = format!("{}: {}", e.path, e.message);
        ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &e.path, detail)
    }
}

async fn ingest(
    state: &AppState,
    caller: &Caller,
    alerts: Vec<Alert>,
    acknowledge: Vec<String>,
) -> Result<AlertsWritten, ApiError> {
    let op = AlertsOp { alerts, acknowledge, actor: caller.name.clone(), now: state.now() };
    Ok(state.store.ingest(op).await?)
}

/// The answer to a webhook: `{status, accepted, truncated_alerts, incidents, opened}`, with
/// incident ids as `INC-<n>` (`null` for an alert that opened or joined nothing).
#[derive(serde::Serialize)]
struct Accepted<'a> {
    status: &'static str,
    accepted: usize,
    truncated_alerts: u64,
    incidents: &'a [Option<IncidentId>],
    opened: &'a [IncidentId],
}

/// Serialised straight from the committed result (every request is answered this way, so no
/// intermediate `serde_json::Value`).
fn answer(n: &Notification, w: &AlertsWritten) -> Response {
    Json(Accepted {
        status: "success",
        accepted: w.accepted,
        truncated_alerts: n.truncated_alerts,
        incidents: &w.incidents,
        opened: &w.opened,
    })
    .into_response()
}

async fn notification_webhook(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
    parse: fn(&[u8]) -> Result<Notification, ParseError>,
) -> Result<Response, ApiError> {
    caller.require(Action::Ingest)?;
    let bytes = body(&headers, bytes)?;
    let mut n = parse(&bytes).map_err(parse_error)?;
    let alerts = std::mem::take(&mut n.alerts);
    let w = ingest(&state, &caller, alerts, Vec::new()).await?;
    Ok(answer(&n, &w))
}

/// Prometheus Alertmanager webhook (version 4).
#[utoipa::path(post, path = "/api/v1/ingest/alertmanager", tag = "alerts", request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "committed: {status, accepted, incidents, opened}"), (status = 422, body = crate::Problem)))]
pub async fn alertmanager_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    notification_webhook(state, caller, headers, bytes, alertmanager::parse).await
}

/// Grafana alerting webhook (unified alerting, and legacy alerting payloads).
#[utoipa::path(post, path = "/api/v1/ingest/grafana", tag = "alerts", request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "committed"), (status = 422, body = crate::Problem)))]
pub async fn grafana_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    notification_webhook(state, caller, headers, bytes, grafana::parse).await
}

/// Sevwatch's own JSON: `{"alerts":[{"name","status","severity","summary","labels",...}]}`
/// (see `core::alert::source::generic`).
#[utoipa::path(post, path = "/api/v1/ingest/generic", tag = "alerts", request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "committed"), (status = 422, body = crate::Problem)))]
pub async fn generic_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    notification_webhook(state, caller, headers, bytes, generic::parse).await
}

/// PagerDuty's error shape, so existing integrations understand it.
fn pd_error(status: StatusCode, message: &str, errors: Vec<String>) -> Response {
    (status, Json(json!({ "status": "invalid event", "message": message, "errors": errors }))).into_response()
}

fn new_dedup_key() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    hex::encode(b)
}

/// PagerDuty Events API v2: `routing_key` is a Sevwatch ingest token.
#[utoipa::path(post, path = "/v2/enqueue", tag = "alerts", request_body(content = Object, content_type = "application/json"),
    responses((status = 202, description = "{status: success, message, dedup_key}"), (status = 400, description = "{status: invalid event, message, errors}")))]
pub async fn pagerduty_enqueue(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let bytes = match body(&headers, bytes) {
        Ok(b) => b,
        Err(e) => return pd_error(e.status, "Event object is invalid", vec![e.detail]),
    };
    let event = match pagerduty::parse(&bytes, &new_dedup_key()) {
        Ok(ev) => ev,
        Err(e) => {
            let what = if e.path.is_empty() { e.message } else { format!("{}: {}", e.path, e.message) };
            return pd_error(StatusCode::BAD_REQUEST, "Event object is invalid", vec![what]);
        }
    };
    let routing_key = match &event {
        pagerduty::PagerDutyEvent::Trigger { routing_key, .. }
        | pagerduty::PagerDutyEvent::Acknowledge { routing_key, .. }
        | pagerduty::PagerDutyEvent::Resolve { routing_key, .. } => routing_key.clone(),
        pagerduty::PagerDutyEvent::Change(_) => {
            return pd_error(
                StatusCode::BAD_REQUEST,
                "Event object is invalid",
                vec!["change events are not accepted here".into()],
            )
        }
    };
    // The routing key is a token: guessing it is throttled like any other (see throttle.rs).
    let ip = peer.map(|axum::Extension(c)| c.0.ip());
    if let Some(wait) = state.throttle.check(ip, std::time::Instant::now()) {
        let mut answer = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "status": "throttle event", "message": "too many unknown routing keys from this address",
                "errors": [format!("try again in {} s", wait.as_secs().max(1))] })),
        )
            .into_response();
        answer.headers_mut().insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
        return answer;
    }
    let found = state.tokens.authenticate(&state.store, &routing_key).await;
    if let Ok(found) = &found {
        state.throttle.record(ip, found.is_some(), std::time::Instant::now());
    }
    let (caller, token_id) = match found {
        Ok(Some(t)) if t.role.allows(Action::Ingest) => (Caller::new(t.name, t.role, &routing_key), t.id),
        Ok(_) => {
            return pd_error(
                StatusCode::BAD_REQUEST,
                "Event object is invalid",
                vec!["routing_key is not a Sevwatch ingest token".into()],
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    // As in PagerDuty, a dedup_key belongs to its integration: the alert is kept under
    // `pagerduty:<token id>:<dedup_key>`, so an acknowledge or resolve reaches only alerts that
    // this token sent through this endpoint, never another sender's or another source's.
    let scoped = |key: &str| format!("pagerduty:{token_id}:{key}");
    let (alerts, ack, dedup_key) = match event {
        pagerduty::PagerDutyEvent::Trigger { mut alert, .. } => {
            let key = std::mem::take(&mut alert.fingerprint);
            alert.fingerprint = scoped(&key);
            (vec![alert], vec![], key)
        }
        pagerduty::PagerDutyEvent::Acknowledge { dedup_key, .. } => (vec![], vec![scoped(&dedup_key)], dedup_key),
        pagerduty::PagerDutyEvent::Resolve { dedup_key, .. } => {
            let resolved = Alert::bare(AlertSource::Pagerduty, scoped(&dedup_key), AlertStatus::Resolved);
            (vec![resolved], vec![], dedup_key)
        }
        pagerduty::PagerDutyEvent::Change(_) => unreachable!("refused above"),
    };
    match ingest(&state, &caller, alerts, ack).await {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
