//! The `chain_checkpoints` table and the reads that extending a checkpoint needs. What a
//! checkpoint is, and every decision about one, is in `core/src/checkpoint.rs`; the key and
//! the copy kept in the data directory belong to the server (`server/src/checkpoint.rs`).
//!
//! Rows are written through the pool, not the writer: a checkpoint changes no incident, and on
//! SQLite it simply waits its turn for the write lock (one insert a minute at most).

use sevwatch_core::chain::ChainRecord;
use sevwatch_core::checkpoint::{Checkpoint, Head, StoredCheckpoint};
use sevwatch_core::{IncidentId, Timestamp};

use crate::db::with_pool;
use crate::{dialect, Store, StoreError};

type CheckpointRow = (i64, i64, String, String, String);

impl Store {
    /// Every incident's head as its row records it, by incident.
    pub async fn chain_heads(&self) -> Result<Vec<Head>, StoreError> {
        const SQL: &str = "SELECT id, last_seq, last_hash FROM incidents ORDER BY id";
        let rows: Vec<(i64, i64, String)> = with_pool!(&self.db, |p| sqlx::query_as(SQL).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(incident, seq, hash)| Head { incident, seq, hash }).collect())
    }

    /// Events `from..=to` of one incident, as stored (raw columns, for the verifiers). Bounded
    /// above so that an event committed after the head was read cannot look like a mismatch.
    pub async fn chain_records(&self, id: IncidentId, from: i64, to: i64) -> Result<Vec<ChainRecord>, StoreError> {
        const SQL: &str = "SELECT seq, at, actor, data, prev_hash, hash FROM events \
            WHERE incident_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq";
        let rows: Vec<(i64, i64, String, String, String, String)> =
            with_pool!(&self.db, |p| sqlx::query_as(SQL).bind(id.0).bind(from).bind(to).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(seq, at_ms, actor, data, prev_hash, hash)| ChainRecord {
                seq,
                at_ms,
                actor,
                data: serde_json::from_str(&data).ok(),
                prev_hash,
                hash,
            })
            .collect())
    }

    /// The newest `limit` checkpoints, newest first; `None` when the table does not exist
    /// (someone dropped it: the migrations create it).
    pub async fn checkpoints(&self, limit: i64) -> Result<Option<Vec<StoredCheckpoint>>, StoreError> {
        const SQL: &str = "SELECT id, at, key_id, heads, mac FROM chain_checkpoints ORDER BY at DESC, id DESC LIMIT $1";
        let rows: Result<Vec<CheckpointRow>, sqlx::Error> =
            with_pool!(&self.db, |p| sqlx::query_as(SQL).bind(limit).fetch_all(p).await);
        match rows {
            Ok(rows) => Ok(Some(rows.into_iter().map(decode).collect())),
            Err(e) if dialect::is_missing_table(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Store a checkpoint and delete all but the newest `keep` (each one covers every older
    /// one: a chain only grows). Returns the new row's id.
    pub async fn add_checkpoint(&self, cp: &Checkpoint, keep: i64) -> Result<i64, StoreError> {
        const INSERT: &str =
            "INSERT INTO chain_checkpoints (at, key_id, heads, mac) VALUES ($1, $2, $3, $4) RETURNING id";
        const PRUNE: &str = "DELETE FROM chain_checkpoints WHERE id NOT IN \
            (SELECT id FROM chain_checkpoints ORDER BY at DESC, id DESC LIMIT $1)";
        let heads = serde_json::to_string(&cp.heads).expect("heads serialise");
        let id: i64 = with_pool!(&self.db, |p| sqlx::query_scalar(INSERT)
            .bind(cp.at.as_millisecond())
            .bind(&cp.key_id)
            .bind(&heads)
            .bind(&cp.mac)
            .fetch_one(p)
            .await)?;
        with_pool!(&self.db, |p| sqlx::query(PRUNE).bind(keep).execute(p).await.map(|_| ()))?;
        Ok(id)
    }
}

/// A row that does not decode (bad time, bad JSON) is kept as `None`: verify reports it.
fn decode((id, at, key_id, heads, mac): CheckpointRow) -> StoredCheckpoint {
    let checkpoint = Timestamp::from_millisecond(at)
        .ok()
        .zip(serde_json::from_str(&heads).ok())
        .map(|(at, heads)| Checkpoint { at, key_id, heads, mac });
    StoredCheckpoint { id, checkpoint }
}
