//! Durable timers: a job is a row (key, kind, incident, due time) written in the same
//! transaction as the event that caused it. The writer fires due jobs in its own transaction:
//! on PostgreSQL the rows are claimed `FOR UPDATE SKIP LOCKED`, so with several replicas each
//! job fires once; on SQLite the single write lock does the same. A fired job is deleted in the
//! transaction that performs its effect, so a crash either does both or neither.

use sevwatch_core::alert::{auto_resolve, AutoResolve};
use sevwatch_core::{Command, IncidentId, SealedEvent, Timestamp};

use crate::db::{with_pool, with_tx, Tx};
use crate::writer::{apply_op, BatchCache, Rules};
use crate::{dialect, IncidentOp, Store, StoreError};

/// Most jobs fired in one transaction.
const MAX_FIRED: i64 = 256;

#[derive(Clone, Debug, Default)]
pub struct JobsFired {
    pub fired: usize,
    pub events: Vec<SealedEvent>,
}

pub(crate) fn auto_resolve_key(id: IncidentId) -> String {
    format!("auto_resolve:{id}")
}

/// Create or move a job.
pub(crate) async fn schedule(
    tx: &mut Tx,
    key: &str,
    kind: &str,
    incident: Option<IncidentId>,
    due: Timestamp,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO jobs (key, kind, incident_id, due_at) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, attempt = 0";
    with_tx!(tx, |c| sqlx::query(SQL)
        .bind(key)
        .bind(kind)
        .bind(incident.map(|i| i.0))
        .bind(due.as_millisecond())
        .execute(c)
        .await
        .map(|_| ()))
}

pub(crate) async fn cancel(tx: &mut Tx, key: &str) -> Result<(), sqlx::Error> {
    const SQL: &str = "DELETE FROM jobs WHERE key = $1";
    with_tx!(tx, |c| sqlx::query(SQL).bind(key).execute(c).await.map(|_| ()))
}

pub(crate) async fn fire_due(
    tx: &mut Tx,
    rules: &Rules,
    now: Timestamp,
    cache: &mut BatchCache,
) -> Result<Result<JobsFired, StoreError>, sqlx::Error> {
    let sql = dialect::claim_due_jobs(tx.is_postgres());
    let due: Vec<(String, String, Option<i64>)> =
        with_tx!(tx, |c| sqlx::query_as(sql).bind(now.as_millisecond()).bind(MAX_FIRED).fetch_all(c).await)?;
    let mut out = JobsFired::default();
    for (key, kind, incident) in due {
        // Removed before its effect runs, so the effect may schedule the job's successor.
        cancel(tx, &key).await?;
        out.fired += 1;
        let Some(id) = incident.map(IncidentId) else { continue };
        match kind.as_str() {
            "escalate" => crate::escalation::fire_escalation(tx, rules, cache, id, now, &mut out.events).await?,
            "sla" => crate::escalation::fire_sla(tx, rules, cache, id, now, &mut out.events).await?,
            _ => {}
        }
        if kind == "auto_resolve" {
            fire_auto_resolve(tx, rules, cache, &key, id, now, &mut out.events).await?;
        }
    }
    Ok(Ok(out))
}

/// Resolve the incident if its alerts are still all resolved and quiet long enough. Checked
/// again at firing time: an alert may have fired since the job was written (then nothing
/// happens), or the job may fire a moment before the quiet period ends, since job times are
/// whole milliseconds and the records' are not (then it is set again for that moment).
async fn fire_auto_resolve(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    key: &str,
    id: IncidentId,
    now: Timestamp,
    events: &mut Vec<SealedEvent>,
) -> Result<(), sqlx::Error> {
    let records = crate::alert_writes::records_of(tx, cache, id).await?;
    match auto_resolve(records.iter(), rules.alerts.auto_resolve_after) {
        AutoResolve::Cancel => Ok(()),
        AutoResolve::At(t) if t > now => {
            let next = Timestamp::from_millisecond(t.as_millisecond() + 1).unwrap_or(t);
            schedule(tx, key, "auto_resolve", Some(id), next).await
        }
        AutoResolve::At(_) => {
            let root_cause = format!(
                "resolved by itself: every alert resolved and none fired again for {}",
                rules.alerts.auto_resolve_after
            );
            let op = IncidentOp {
                target: Some(id),
                command: Command::Resolve { root_cause: Some(root_cause), force: true },
                actor: "sevwatch".into(),
                now,
            };
            // Already resolved by a person: nothing to do.
            if let Ok(w) = apply_op(tx, &rules.policy, &op, cache).await? {
                events.extend(w.events);
            }
            Ok(())
        }
    }
}

impl Store {
    /// When the next job is due, if any (a cheap read the engine polls between firings).
    pub async fn next_job_due(&self) -> Result<Option<Timestamp>, StoreError> {
        const SQL: &str = "SELECT MIN(due_at) FROM jobs";
        let ms: Option<i64> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).fetch_one(p).await)?;
        Ok(ms.and_then(|m| Timestamp::from_millisecond(m).ok()))
    }
}
