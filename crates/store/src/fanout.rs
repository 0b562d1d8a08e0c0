//! Every replica's live subscribers see every committed event (PostgreSQL). A batch that seals
//! events sends `NOTIFY sevwatch_events` in its own transaction (delivered only if it commits)
//! naming the events by incident and sequence range; each replica listens, reads the events it
//! did not write itself and sends them to its subscribers, after its own. A notification lost
//! while a listener reconnects is logged; subscribers can re-read the timeline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sevwatch_core::{IncidentId, SealedEvent};
use tokio::sync::broadcast;

use crate::db::{with_tx, Db, Tx};
use crate::{Store, StoreError};

pub(crate) const CHANNEL: &str = "sevwatch_events";
/// PostgreSQL refuses payloads of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_000;

/// One notification: who wrote, and which events (incident, first seq, last seq).
#[derive(Serialize, Deserialize)]
struct Payload {
    from: u64,
    spans: Vec<(i64, i64, i64)>,
}

/// Announce `events` (sealed by this batch) to the other replicas, inside the batch's
/// transaction.
pub(crate) async fn announce(tx: &mut Tx, from: u64, events: &[SealedEvent]) -> Result<(), sqlx::Error> {
    if !tx.is_postgres() || events.is_empty() {
        return Ok(());
    }
    let mut spans: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for e in events {
        let span = spans.entry(e.incident.0).or_insert((e.seq, e.seq));
        span.0 = span.0.min(e.seq);
        span.1 = span.1.max(e.seq);
    }
    let all: Vec<(i64, i64, i64)> = spans.into_iter().map(|(id, (a, b))| (id, a, b)).collect();
    // About 30 bytes a span: split long lists so each payload stays under the limit.
    for chunk in all.chunks(MAX_PAYLOAD / 40) {
        let payload = serde_json::to_string(&Payload { from, spans: chunk.to_vec() }).expect("payloads serialise");
        with_tx!(tx, |c| sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&payload)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Listen for other replicas' events and send them to this process's subscribers.
pub(crate) fn spawn_listener(db: Db, me: u64, events: broadcast::Sender<SealedEvent>) {
    let Db::Pg(pool) = db.clone() else { return };
    tokio::spawn(async move {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => return tracing::error!(error = %e, "cannot listen for other replicas' events"),
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            return tracing::error!(error = %e, "cannot listen for other replicas' events");
        }
        loop {
            let note = match listener.try_recv().await {
                Ok(Some(n)) => n,
                Ok(None) => {
                    tracing::warn!("the event listener reconnected; events of other replicas may have been missed");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the event listener failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            let Ok(p) = serde_json::from_str::<Payload>(note.payload()) else { continue };
            if p.from == me {
                continue;
            }
            for (id, first, last) in p.spans {
                match Store::events_between(&db, IncidentId(id), first, last).await {
                    Ok(evs) => evs.into_iter().for_each(|e| drop(events.send(e))),
                    Err(e) => tracing::warn!(error = %e, "could not read another replica's events"),
                }
            }
        }
    });
}

impl Store {
    /// Events `first..=last` of an incident.
    async fn events_between(db: &Db, id: IncidentId, first: i64, last: i64) -> Result<Vec<SealedEvent>, StoreError> {
        Store::read_timeline(db, id, first - 1, u32::try_from(last - first + 1).unwrap_or(u32::MAX)).await
    }
}
