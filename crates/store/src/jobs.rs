//! Durable timers: a job is a row (key, kind, incident, due time) written in the same
//! transaction as the event that caused it. A batch that fires timers claims the due rows
//! first: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so with several replicas each job fires
//! once; on SQLite the single write lock does the same. A fired job is deleted in the
//! transaction that performs its effect, so a crash either does both or neither.

use sevwatch_core::{IncidentId, Timestamp};
use sevwatch_engine::{Job, JobChange, JobKind};

use crate::db::{with_pool, with_tx, Tx};
use crate::{dialect, Store, StoreError};

/// Most jobs fired in one transaction.
const MAX_FIRED: i64 = 256;
/// Rows per multi-row upsert (4 parameters each).
const ROWS_PER_STATEMENT: usize = 100;

/// Claim the jobs due at `now` (rows of unknown kinds, or with no incident, are claimed and
/// removed like the others: nothing can fire them).
pub(crate) async fn claim_due(tx: &mut Tx, now: Timestamp) -> Result<(Vec<Job>, Vec<String>), sqlx::Error> {
    let sql = dialect::claim_due_jobs(tx.is_postgres());
    let due: Vec<(String, String, Option<i64>)> =
        with_tx!(tx, |c| sqlx::query_as(sql).bind(now.as_millisecond()).bind(MAX_FIRED).fetch_all(c).await)?;
    let mut jobs = Vec::new();
    let mut unknown = Vec::new();
    for (key, kind, incident) in due {
        match (JobKind::parse(&kind), incident) {
            (Some(kind), Some(id)) => jobs.push(Job::new(kind, IncidentId(id))),
            _ => unknown.push(key),
        }
    }
    Ok((jobs, unknown))
}

/// Set and remove the batch's timers.
pub(crate) async fn write(
    tx: &mut Tx,
    changes: &std::collections::BTreeMap<Job, JobChange>,
    unknown: &[String],
) -> Result<(), sqlx::Error> {
    let mut gone: Vec<String> = unknown.to_vec();
    let mut set: Vec<(String, &Job, i64)> = Vec::new();
    for (job, change) in changes {
        match change {
            JobChange::Cancel => gone.push(job.key()),
            JobChange::At(at) => set.push((job.key(), job, at.as_millisecond())),
        }
    }
    if !gone.is_empty() {
        const SQLITE: &str = "DELETE FROM jobs WHERE key IN (SELECT value FROM json_each($1))";
        const PG: &str = "DELETE FROM jobs WHERE key = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))";
        let sql = if tx.is_postgres() { PG } else { SQLITE };
        let list = dialect::json_list(&gone);
        with_tx!(tx, |c| sqlx::query(sql).bind(&list).execute(c).await.map(|_| ()))?;
    }
    for chunk in set.chunks(ROWS_PER_STATEMENT) {
        let sql = dialect::multi_row_insert(
            "INSERT INTO jobs (key, kind, incident_id, due_at) VALUES ",
            4,
            chunk.len(),
            " ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, attempt = 0",
            tx.is_postgres(),
        );
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for (key, job, due) in chunk {
                q = q.bind(key).bind(job.kind.as_str()).bind(job.incident.0).bind(*due);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

impl Store {
    /// When the next job is due, if any (a cheap read the engine polls between firings).
    pub async fn next_job_due(&self) -> Result<Option<Timestamp>, StoreError> {
        const SQL: &str = "SELECT MIN(due_at) FROM jobs";
        let ms: Option<i64> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).fetch_one(p).await)?;
        Ok(ms.and_then(|m| Timestamp::from_millisecond(m).ok()))
    }
}
