//! Reading incidents and their timelines, and verifying the hash chains.

use serde::Serialize;
use sevwatch_core::chain::{verify_chain, ChainProblem};
use sevwatch_core::checkpoint::{self, Checkpoint};
use sevwatch_core::{Event, EventKind, Incident, IncidentId, SealedEvent, Severity, Status, Timestamp};

use crate::db::with_pool;
use crate::{Store, StoreError};

/// Which incidents to list. Empty sets mean "any".
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub severities: Vec<Severity>,
    pub service: Option<String>,
    /// Keyset cursor: only incidents with a smaller id (the list is newest first).
    pub before: Option<IncidentId>,
    pub limit: u32,
}

/// The outcome of verifying one incident's timeline.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentVerification {
    pub incident: IncidentId,
    pub events: usize,
    pub ok: bool,
    pub problems: Vec<ChainProblem>,
    /// The checkpoint the chain was checked against, when one covered this incident.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Covered>,
}

/// A checkpoint's time and the last event of the incident it covered.
#[derive(Clone, Debug, Serialize)]
pub struct Covered {
    pub at: Timestamp,
    pub seq: i64,
}

/// What verification checks beyond each chain when a chain key exists: the newest genuine
/// checkpoint (`None` if there is none), and the time by which old events must be covered.
#[derive(Clone, Copy, Debug)]
pub struct Anchor<'a> {
    pub checkpoint: Option<&'a Checkpoint>,
    pub now: Timestamp,
}

type EventRow = (i64, i64, i64, String, String, String, String);

impl Store {
    pub async fn incident(&self, id: IncidentId) -> Result<Incident, StoreError> {
        const SQL: &str = "SELECT state FROM incidents WHERE id = $1";
        let row: Option<String> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).bind(id.0).fetch_optional(p).await)?;
        let state = row.ok_or(StoreError::NotFound(id))?;
        serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(format!("{id} row: {e}")))
    }

    /// Newest first, at most `filter.limit` (capped at 500).
    pub async fn list_incidents(&self, filter: &ListFilter) -> Result<Vec<Incident>, StoreError> {
        // One static statement for every filter combination: the IN lists have a fixed number
        // of slots, padded by repeating a value, so nothing is ever spliced into SQL text.
        const SQL: &str = "SELECT state FROM incidents \
            WHERE id < $1 AND severity IN ($2, $3, $4, $5, $6) \
            AND status IN ($7, $8, $9, $10, $11, $12, $13) \
            AND ($14 = '' OR service = $14) \
            ORDER BY id DESC LIMIT $15";
        let sev: Vec<&str> =
            pad(if filter.severities.is_empty() { &Severity::ALL[..] } else { &filter.severities }, 5, |s| s.as_str());
        let st: Vec<&str> =
            pad(if filter.statuses.is_empty() { &Status::ALL[..] } else { &filter.statuses }, 7, |s| s.as_str());
        let before = filter.before.map(|i| i.0).unwrap_or(i64::MAX);
        let limit = i64::from(filter.limit.clamp(1, 500));
        let service = filter.service.clone().unwrap_or_default();
        let rows: Vec<String> = with_pool!(&self.db, |p| {
            let mut q = sqlx::query_scalar(SQL).bind(before);
            for s in &sev {
                q = q.bind(*s);
            }
            for s in &st {
                q = q.bind(*s);
            }
            q.bind(&service).bind(limit).fetch_all(p).await
        })?;
        rows.iter().map(|s| serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }

    /// Events of one incident with `seq > after`, oldest first.
    pub async fn timeline(&self, id: IncidentId, after: i64, limit: u32) -> Result<Vec<SealedEvent>, StoreError> {
        self.incident_exists(id).await?;
        Store::read_timeline(&self.db, id, after, limit).await
    }

    pub(crate) async fn read_timeline(
        db: &crate::db::Db,
        id: IncidentId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SealedEvent>, StoreError> {
        const SQL: &str = "SELECT seq, at, incident_id, actor, data, prev_hash, hash FROM events \
            WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
        let limit = i64::from(limit.clamp(1, 10_000));
        let rows: Vec<EventRow> =
            with_pool!(db, |p| sqlx::query_as(SQL).bind(id.0).bind(after).bind(limit).fetch_all(p).await)?;
        rows.into_iter().map(|r| decode_event(id, r)).collect()
    }

    async fn incident_exists(&self, id: IncidentId) -> Result<(), StoreError> {
        const SQL: &str = "SELECT id FROM incidents WHERE id = $1";
        let found: Option<i64> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).bind(id.0).fetch_optional(p).await)?;
        found.map(|_| ()).ok_or(StoreError::NotFound(id))
    }

    /// Recompute one incident's hash chain from the stored columns.
    pub async fn verify(&self, id: IncidentId) -> Result<IncidentVerification, StoreError> {
        self.verify_anchored(id, None).await
    }

    /// Recompute one incident's hash chain and, with an anchor, check it against the
    /// checkpoint (an incident the checkpoint covered that no longer exists fails).
    pub async fn verify_anchored(
        &self,
        id: IncidentId,
        anchor: Option<Anchor<'_>>,
    ) -> Result<IncidentVerification, StoreError> {
        const HEAD: &str = "SELECT last_seq, last_hash FROM incidents WHERE id = $1";
        let head: Option<(i64, String)> =
            with_pool!(&self.db, |p| sqlx::query_as(HEAD).bind(id.0).fetch_optional(p).await)?;
        let Some(head) = head else {
            let checkpointed = anchor.and_then(|a| a.checkpoint).and_then(|c| c.head_of(id.0).map(|h| (c.at, h)));
            return match checkpointed {
                Some((at, h)) => Ok(IncidentVerification {
                    incident: id,
                    events: 0,
                    ok: false,
                    problems: vec![checkpoint::deleted(h, at)],
                    checkpoint: Some(Covered { at, seq: h.seq }),
                }),
                None => Err(StoreError::NotFound(id)),
            };
        };
        let records = self.chain_records(id, 1, i64::MAX).await?;
        let mut problems = verify_chain(id.0, &records, Some((head.0, &head.1)));
        let mut covered = None;
        if let Some(a) = anchor {
            problems.extend(checkpoint::check_against(id.0, &records, a.checkpoint, a.now));
            covered = a.checkpoint.and_then(|c| c.head_of(id.0).map(|h| Covered { at: c.at, seq: h.seq }));
        }
        Ok(IncidentVerification {
            incident: id,
            events: records.len(),
            ok: problems.is_empty(),
            problems,
            checkpoint: covered,
        })
    }

    /// Verify every incident, oldest first.
    pub async fn verify_all(&self) -> Result<Vec<IncidentVerification>, StoreError> {
        self.verify_all_anchored(None).await
    }

    /// Verify every incident, oldest first, and with an anchor also report each incident the
    /// checkpoint covered that no longer exists.
    pub async fn verify_all_anchored(
        &self,
        anchor: Option<Anchor<'_>>,
    ) -> Result<Vec<IncidentVerification>, StoreError> {
        const SQL: &str = "SELECT id FROM incidents ORDER BY id";
        let ids: Vec<i64> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).fetch_all(p).await)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(self.verify_anchored(IncidentId(*id), anchor).await?);
        }
        if let Some(cp) = anchor.and_then(|a| a.checkpoint) {
            for h in cp.heads.iter().filter(|h| ids.binary_search(&h.incident).is_err()) {
                out.push(IncidentVerification {
                    incident: IncidentId(h.incident),
                    events: 0,
                    ok: false,
                    problems: vec![checkpoint::deleted(h, cp.at)],
                    checkpoint: Some(Covered { at: cp.at, seq: h.seq }),
                });
            }
        }
        Ok(out)
    }
}

fn pad<T, F: Fn(&T) -> &'static str>(items: &[T], n: usize, name: F) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = items.iter().map(&name).collect();
    let first = v[0];
    v.resize(n, first);
    v
}

fn decode_event(
    id: IncidentId,
    (seq, at, _, actor, data, prev_hash, hash): EventRow,
) -> Result<SealedEvent, StoreError> {
    let kind: EventKind =
        serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("{id} event {seq}: {e}")))?;
    let at = Timestamp::from_millisecond(at).map_err(|e| StoreError::Corrupt(format!("{id} event {seq}: {e}")))?;
    Ok(SealedEvent { incident: id, seq, event: Event { at, actor, kind }, prev_hash, hash })
}
