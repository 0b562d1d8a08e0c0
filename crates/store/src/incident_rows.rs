//! The batch's reads and writes of `incidents`, `events` and the incident counter: loaded for
//! a whole batch at once (one statement per kind, the ids passed as one JSON array), and
//! written in multi-row statements before the commit.

use sevwatch_core::{Incident, IncidentId, SealedEvent};
use sevwatch_engine::Slot;

use crate::db::{with_tx, Tx};
use crate::dialect;

/// The incidents `ids` with their last hash, locked for the batch on PostgreSQL (replicas
/// sharing the database serialise their writes to one incident; SQLite's write lock already
/// does). Every id gets a slot: missing, or corrupt when its state does not decode.
pub(crate) async fn load(tx: &mut Tx, ids: &[IncidentId]) -> Result<Vec<(IncidentId, Slot)>, sqlx::Error> {
    const SQLITE: &str = "SELECT id, state, last_hash FROM incidents WHERE id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT id, state, last_hash FROM incidents \
        WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint)) ORDER BY id FOR UPDATE";
    let sql = if tx.is_postgres() { PG } else { SQLITE };
    let list = dialect::json_list(ids.iter().map(|i| i.0));
    let rows: Vec<(i64, String, String)> = with_tx!(tx, |c| sqlx::query_as(sql).bind(&list).fetch_all(c).await)?;
    let mut out: Vec<(IncidentId, Slot)> = rows
        .into_iter()
        .map(|(id, state, hash)| {
            let id = IncidentId(id);
            let slot = match serde_json::from_str::<Incident>(&state) {
                Ok(inc) => Slot::Ready(Box::new(inc), hash),
                Err(e) => Slot::Corrupt(format!("{id} row: {e}")),
            };
            (id, slot)
        })
        .collect();
    for id in ids {
        if !out.iter().any(|(found, _)| found == id) {
            out.push((*id, Slot::Missing));
        }
    }
    Ok(out)
}

/// Open P0 incidents on `service` (up to 64: enough to find one the batch has not touched).
pub(crate) async fn open_p0(tx: &mut Tx, service: &str) -> Result<Vec<IncidentId>, sqlx::Error> {
    const SQL: &str = "SELECT id FROM incidents WHERE service = $1 AND severity = 'P0' \
        AND status NOT IN ('resolved', 'closed') LIMIT 64";
    let ids: Vec<i64> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(service).fetch_all(c).await)?;
    Ok(ids.into_iter().map(IncidentId).collect())
}

/// The last incident number given out. On PostgreSQL the counter row stays locked until the
/// batch ends, so replicas never give out the same number; a rollback gives the numbers back.
pub(crate) async fn counter(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    const SQLITE: &str = "SELECT value FROM counters WHERE name = 'incident'";
    const PG: &str = "SELECT value FROM counters WHERE name = 'incident' FOR UPDATE";
    let sql = if tx.is_postgres() { PG } else { SQLITE };
    with_tx!(tx, |c| sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await)
}

pub(crate) async fn set_counter(tx: &mut Tx, value: i64) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE counters SET value = $1 WHERE name = 'incident'";
    with_tx!(tx, |c| sqlx::query(SQL).bind(value).execute(c).await.map(|_| ()))
}

/// Events per multi-row insert (8 parameters each).
const EVENTS_PER_STATEMENT: usize = 64;

pub(crate) async fn insert_events(tx: &mut Tx, events: &[SealedEvent]) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let sql = dialect::multi_row_insert(
            "INSERT INTO events (incident_id, seq, at, actor, type, data, prev_hash, hash) VALUES ",
            8,
            chunk.len(),
            "",
            tx.is_postgres(),
        );
        let data: Vec<String> =
            chunk.iter().map(|s| serde_json::to_string(&s.event.kind).expect("event kinds serialise")).collect();
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for (s, d) in chunk.iter().zip(&data) {
                q = q
                    .bind(s.incident.0)
                    .bind(s.seq)
                    .bind(s.event.at.as_millisecond())
                    .bind(&s.event.actor)
                    .bind(s.event.kind.type_name())
                    .bind(d)
                    .bind(&s.prev_hash)
                    .bind(&s.hash);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Incident rows per multi-row upsert (10 parameters each).
const INCIDENTS_PER_STATEMENT: usize = 50;

/// Write each incident's row (its state after the batch, and its last hash).
pub(crate) async fn upsert(tx: &mut Tx, incidents: &[(&Incident, &str)]) -> Result<(), sqlx::Error> {
    for chunk in incidents.chunks(INCIDENTS_PER_STATEMENT) {
        let sql = dialect::multi_row_insert(
            "INSERT INTO incidents (id, title, severity, status, service, triggered_at, updated_at, last_seq, \
             last_hash, state) VALUES ",
            10,
            chunk.len(),
            " ON CONFLICT (id) DO UPDATE SET title = excluded.title, severity = excluded.severity, \
             status = excluded.status, service = excluded.service, updated_at = excluded.updated_at, \
             last_seq = excluded.last_seq, last_hash = excluded.last_hash, state = excluded.state",
            tx.is_postgres(),
        );
        let states: Vec<String> =
            chunk.iter().map(|(inc, _)| serde_json::to_string(inc).expect("incidents serialise")).collect();
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for ((inc, hash), state) in chunk.iter().zip(&states) {
                q = q
                    .bind(inc.id.0)
                    .bind(&inc.title)
                    .bind(inc.severity.as_str())
                    .bind(inc.status.as_str())
                    .bind(inc.service.as_deref().unwrap_or(""))
                    .bind(inc.triggered_at.as_millisecond())
                    .bind(inc.updated_at.as_millisecond())
                    .bind(inc.event_count)
                    .bind(*hash)
                    .bind(state);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}
