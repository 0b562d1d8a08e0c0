//! Reading alerts, and silences: created through the API, checked by the ingest path.

use serde::Serialize;
use sevwatch_core::alert::{AlertRecord, Silence};
use sevwatch_core::{IncidentId, Timestamp};

use crate::db::with_pool;
use crate::{Store, StoreError};

/// An alert as stored: its record (status, count, incident, ...) and its latest content.
#[derive(Clone, Debug, Serialize)]
pub struct AlertRow {
    #[serde(flatten)]
    pub record: AlertRecord,
    pub alert: serde_json::Value,
}

impl Store {
    /// Alerts, newest first; of one incident when given, firing only when asked.
    pub async fn alerts(
        &self,
        incident: Option<IncidentId>,
        firing_only: bool,
        limit: u32,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let sql = crate::dialect::list_alerts(matches!(self.db, crate::db::Db::Pg(_)));
        let rows: Vec<(String, String, Option<i64>, Option<i64>)> = with_pool!(&self.db, |p| sqlx::query_as(sql)
            .bind(incident.map(|i| i.0).unwrap_or(-1))
            .bind(i64::from(firing_only))
            .bind(i64::from(limit.clamp(1, 10_000)))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(r, a, count, seen_ns)| {
                let mut record: AlertRecord =
                    serde_json::from_str(&r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if let Some((count, seen_ns)) = count.zip(seen_ns) {
                    crate::repeat_log::apply(&mut record, count, seen_ns);
                }
                Ok(AlertRow {
                    record,
                    alert: serde_json::from_str(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    pub async fn create_silence(&self, s: &Silence, now: Timestamp) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO silences (id, silence, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5)";
        let json = serde_json::to_string(s).expect("silences serialise");
        with_pool!(&self.db, |p| sqlx::query(SQL)
            .bind(&s.id)
            .bind(&json)
            .bind(s.starts_at.as_millisecond())
            .bind(s.ends_at.as_millisecond())
            .bind(now.as_millisecond())
            .execute(p)
            .await
            .map(|_| ()))?;
        self.silences_changed();
        Ok(())
    }

    /// After a silence is written: the ingest path's copy must be read again. (Bumped after
    /// the write, so a read that saw the new generation also sees the new row.)
    fn silences_changed(&self) {
        self.shared.silences_changed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Silences that have not ended at `now` (active or starting later), soonest ending first.
    pub async fn silences(&self, now: Timestamp, include_expired: bool) -> Result<Vec<Silence>, StoreError> {
        const SQL: &str = "SELECT silence FROM silences WHERE ($2 = 1 OR ends_at > $1) ORDER BY ends_at, id";
        let rows: Vec<String> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(now.as_millisecond())
            .bind(i64::from(include_expired))
            .fetch_all(p)
            .await)?;
        rows.iter().map(|s| serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }

    /// End a silence now; false when there is no such silence still running.
    pub async fn expire_silence(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        const SELECT: &str = "SELECT silence FROM silences WHERE id = $1 AND ends_at > $2";
        const UPDATE: &str = "UPDATE silences SET silence = $1, ends_at = $2 WHERE id = $3";
        let row: Option<String> = with_pool!(&self.db, |p| sqlx::query_scalar(SELECT)
            .bind(id)
            .bind(now.as_millisecond())
            .fetch_optional(p)
            .await)?;
        let Some(json) = row else { return Ok(false) };
        let mut s: Silence = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        s.ends_at = now;
        if s.starts_at > now {
            s.starts_at = now;
        }
        let json = serde_json::to_string(&s).expect("silences serialise");
        with_pool!(&self.db, |p| sqlx::query(UPDATE)
            .bind(&json)
            .bind(now.as_millisecond())
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        self.silences_changed();
        Ok(true)
    }
}
