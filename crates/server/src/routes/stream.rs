//! Live updates: `GET /api/v1/events/stream` sends every newly committed timeline event as a
//! Server-Sent Event (`event: timeline`, JSON data), optionally only those of one incident.
//! A subscriber too slow to keep up gets an `event: lagged` with the number it missed and can
//! re-read the timeline to catch up. The stream re-checks its token every [`TTL`] and at once
//! after a revocation through this process, and ends when the token is no longer valid.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::Stream;
use futures_util::StreamExt;
use serde::Deserialize;
use sevwatch_core::{Action, IncidentId};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiQuery;
use crate::token_cache::TTL;
use crate::views::EventView;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events/stream", get(stream))
}

#[derive(Deserialize, IntoParams)]
pub struct StreamQuery {
    /// Only events of this incident (`INC-<n>`).
    pub incident: Option<String>,
}

/// Server-Sent Events of new timeline events.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "incidents", params(StreamQuery),
    responses((status = 200, description = "text/event-stream of `timeline` events (EventView JSON)")))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Action::Read)?;
    let only: Option<IncidentId> =
        q.incident.as_deref().map(|s| s.parse().map_err(|m: String| ApiError::invalid("incident", m))).transpose()?;
    let rx = state.store.subscribe();
    let events = BroadcastStream::new(rx).filter_map(move |item| async move {
        match item {
            Ok(e) if only.is_none_or(|id| id == e.incident) => {
                let data = serde_json::to_string(&EventView::from(&e)).expect("event views serialise");
                Some(Item::Send(Event::default().event("timeline").id(format!("{}:{}", e.incident, e.seq)).data(data)))
            }
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Some(Item::Send(Event::default().event("lagged").data(n.to_string())))
            }
        }
    });
    let checks = futures_util::stream::unfold(state.tokens.revocations(), |mut revoked| async move {
        tokio::select! {
            _ = tokio::time::sleep(TTL) => {}
            changed = revoked.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(TTL).await;
                }
            }
        }
        Some((Item::Check, revoked))
    });
    let guarded = futures_util::stream::select(events, checks)
        .then(move |item| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                match item {
                    Item::Send(e) => Some(Some(e)),
                    Item::Check if caller.still_valid(&state).await => Some(None),
                    Item::Check => None,
                }
            }
        })
        .take_while(|item| futures_util::future::ready(item.is_some()))
        .filter_map(|item| futures_util::future::ready(item.flatten().map(Ok::<_, Infallible>)));
    Ok(Sse::new(guarded).keep_alive(KeepAlive::default()))
}

/// What the stream does next: send an event, or re-check its token.
enum Item {
    Send(Event),
    Check,
}
