//! The outbox: every message Sevwatch sends is first a row, written in the transaction of the
//! timeline event that caused it, so a message exists exactly when its event does, and a
//! crash loses neither. The delivery worker (at the server's edge) claims due rows, delivers
//! them, and records each attempt here; retries back off exponentially with jitter and stop
//! in a dead-letter state, from which `sevwatch outbox retry` brings a message back.
//!
//! Claims are leases: a claimed row is `sending` until its lease lapses, after which any
//! worker may claim it again (the worker that held it died mid-delivery). On PostgreSQL the
//! claim skips rows another replica holds, so replicas share the work without both sending.
//! Delivery is at least once: a worker killed after the receiver accepted a message but before
//! it recorded so sends it again once the lease lapses (webhook bodies carry a stable `id` for
//! receivers that de-duplicate).

use std::time::Duration;

use serde::Serialize;
use sevwatch_core::oncall::ContactMethod;
use sevwatch_core::oncall::User;
use sevwatch_core::{IncidentId, Timestamp};
use sevwatch_engine::OutboxMessage;
use sevwatch_notify::{backoff, dead_letter, Delivery, Notification, Recipient, RetryPolicy};

use crate::db::{with_pool, with_tx, Tx};
use crate::{dialect, Store, StoreError};

/// One message and where it stands.
#[derive(Clone, Debug, Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub incident: String,
    /// The timeline event that caused it.
    pub event_seq: i64,
    /// `channel:#ops` or `user:alice`.
    pub recipient: String,
    /// For a user's message, which of their contact methods it goes to.
    #[serde(skip)]
    pub contact: Option<ContactMethod>,
    pub template: String,
    /// The message as it will be sent; absent when its template failed to render (the row is
    /// then dead, with the template error).
    #[serde(skip)]
    pub message: Option<Notification>,
    pub status: String,
    pub attempts: i64,
    /// For `pending`, when the next attempt is due.
    pub next_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_error: Option<String>,
    pub last_status: Option<i64>,
}

/// One delivery attempt.
#[derive(Clone, Debug, Serialize)]
pub struct OutboxAttempt {
    pub at: Timestamp,
    pub duration_ms: i64,
    /// `ok`, `retry` or `fail`.
    pub outcome: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

/// Which rows [`Store::outbox`] lists.
#[derive(Clone, Debug, Default)]
pub struct OutboxFilter {
    pub status: Option<String>,
    pub incident: Option<IncidentId>,
    pub limit: u32,
}

pub const STATUSES: [&str; 4] = ["pending", "sending", "sent", "dead"];

const COLUMNS: &str = "id, incident_id, event_seq, recipient, contact, template, message, status, attempts, next_at, \
    created_at, updated_at, last_error, last_status";

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// An outbox row as stored.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    incident_id: i64,
    event_seq: i64,
    recipient: String,
    contact: Option<String>,
    template: String,
    message: Option<String>,
    status: String,
    attempts: i64,
    next_at: i64,
    created_at: i64,
    updated_at: i64,
    last_error: Option<String>,
    last_status: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    at: i64,
    duration_ms: i64,
    outcome: String,
    status_code: Option<i64>,
    error: Option<String>,
}

impl Row {
    fn into_item(self) -> Result<OutboxItem, StoreError> {
        let id = self.id;
        let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("outbox {id} {what}: {e}"));
        Ok(OutboxItem {
            id,
            incident: IncidentId(self.incident_id).to_string(),
            event_seq: self.event_seq,
            recipient: self.recipient,
            contact: self.contact.map(|c| serde_json::from_str(&c)).transpose().map_err(|e| corrupt("contact", e))?,
            template: self.template,
            message: self.message.map(|m| serde_json::from_str(&m)).transpose().map_err(|e| corrupt("message", e))?,
            status: self.status,
            attempts: self.attempts,
            next_at: ts(self.next_at),
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
            last_error: self.last_error,
            last_status: self.last_status,
        })
    }
}

/// Rows per multi-row insert (9 parameters each).
const ROWS_PER_STATEMENT: usize = 100;

/// Queue the batch's messages, in its transaction: a channel's message is one row, a user's
/// one row per contact method of theirs. Returns how many rows were written.
pub(crate) async fn enqueue(tx: &mut Tx, users: &[User], messages: &[OutboxMessage]) -> Result<usize, sqlx::Error> {
    let mut rows: Vec<(&OutboxMessage, String, Option<String>)> = Vec::new();
    // Each paged user is looked up once per batch, however many messages they get.
    let mut contacts_of: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
    for m in messages {
        let contacts: Vec<Option<String>> = match &m.to {
            Recipient::Channel(_) => vec![None],
            Recipient::User(u) => {
                if !contacts_of.contains_key(u.as_str()) {
                    let found = crate::users::user_in_tx(tx, users, u).await?;
                    let encoded = found
                        .map(|user| {
                            user.contacts
                                .iter()
                                .map(|c| serde_json::to_string(c).expect("contacts serialise"))
                                .collect()
                        })
                        .unwrap_or_default();
                    contacts_of.insert(u, encoded);
                }
                contacts_of[u.as_str()].iter().cloned().map(Some).collect()
            }
        };
        for contact in contacts {
            rows.push((m, m.to.label(), contact));
        }
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = dialect::multi_row_insert(
            "INSERT INTO outbox (incident_id, event_seq, recipient, contact, template, message, status, \
             next_at, created_at, updated_at, last_error) VALUES ",
            11,
            chunk.len(),
            "",
            tx.is_postgres(),
        );
        let bodies: Vec<(Option<String>, &str, Option<String>)> = chunk
            .iter()
            .map(|(m, _, _)| match &m.message {
                Ok(n) => (Some(serde_json::to_string(n).expect("notifications serialise")), "pending", None),
                // Never send half a message: a template that fails leaves a dead row saying why.
                Err(e) => (None, "dead", Some(format!("template {} failed: {e}", m.template))),
            })
            .collect();
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for ((m, recipient, contact), (body, status, error)) in chunk.iter().zip(&bodies) {
                let at = m.at.as_millisecond();
                q = q
                    .bind(m.incident.0)
                    .bind(m.event_seq)
                    .bind(recipient)
                    .bind(contact)
                    .bind(&m.template)
                    .bind(body)
                    .bind(*status)
                    .bind(at)
                    .bind(at)
                    .bind(at)
                    .bind(error);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(rows.len())
}

/// What the worker does next with a message after an attempt: pure, so the schedule is tested
/// without a clock. Returns the new status and, for `pending`, when to try again.
pub(crate) fn after_attempt(
    id: i64,
    attempts_before: i64,
    outcome: &Delivery,
    policy: &RetryPolicy,
    now: Timestamp,
) -> (&'static str, Timestamp) {
    let attempts = u32::try_from(attempts_before + 1).unwrap_or(u32::MAX);
    match outcome {
        Delivery::Ok => ("sent", now),
        Delivery::Fail { .. } => ("dead", now),
        Delivery::Retry { .. } if dead_letter(attempts, policy.max_attempts) => ("dead", now),
        Delivery::Retry { after, .. } => {
            let wait = backoff(attempts, policy.base, policy.max, id as u64).max(after.unwrap_or_default());
            let ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            ("pending", Timestamp::from_millisecond(now.as_millisecond().saturating_add(ms)).unwrap_or(Timestamp::MAX))
        }
    }
}

impl Store {
    /// Claim up to `limit` messages due at `now` for delivery; each stays claimed for `lease`.
    pub async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let until = now.as_millisecond().saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let sql = dialect::claim_outbox(self.db.name() == "postgres");
        let mut tx = self.db.begin_write().await?;
        let rows: Vec<Row> = with_tx!(&mut tx, |c| sqlx::query_as(sql)
            .bind(now.as_millisecond())
            .bind(i64::from(limit))
            .bind(until)
            .fetch_all(c)
            .await)?;
        tx.commit().await?;
        let mut items = rows.into_iter().map(Row::into_item).collect::<Result<Vec<_>, _>>()?;
        items.sort_by_key(|i| (i.next_at, i.id));
        Ok(items)
    }

    /// Record one attempt on a claimed message and move it on (sent, retry later, or dead).
    /// Returns the new status. A claim that lapsed and was taken by another worker is left to
    /// that worker: the attempt is still recorded.
    pub async fn record_attempt(
        &self,
        item: &OutboxItem,
        outcome: &Delivery,
        started: Timestamp,
        finished: Timestamp,
    ) -> Result<&'static str, StoreError> {
        const ATTEMPT: &str = "INSERT INTO outbox_attempts (outbox_id, at, duration_ms, outcome, status_code, error) \
            VALUES ($1, $2, $3, $4, $5, $6)";
        const UPDATE: &str = "UPDATE outbox SET status = $1, attempts = attempts + 1, next_at = $2, updated_at = $3, \
            last_error = $4, last_status = $5 WHERE id = $6 AND status = 'sending' AND attempts = $7";
        let (label, error) = match outcome {
            Delivery::Ok => ("ok", None),
            Delivery::Retry { error, .. } => ("retry", Some(error.clone())),
            Delivery::Fail { error, .. } => ("fail", Some(error.clone())),
        };
        let code = outcome.status().map(i64::from);
        let (status, next) =
            after_attempt(item.id, item.attempts, outcome, &self.shared.rules.notify.outbox.retry, finished);
        let took = finished.as_millisecond() - started.as_millisecond();
        let mut tx = self.db.begin_write().await?;
        with_tx!(&mut tx, |c| sqlx::query(ATTEMPT)
            .bind(item.id)
            .bind(started.as_millisecond())
            .bind(took.max(0))
            .bind(label)
            .bind(code)
            .bind(&error)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        with_tx!(&mut tx, |c| sqlx::query(UPDATE)
            .bind(status)
            .bind(next.as_millisecond())
            .bind(finished.as_millisecond())
            .bind(&error)
            .bind(code)
            .bind(item.id)
            .bind(item.attempts)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        tx.commit().await?;
        Ok(status)
    }

    /// Messages, newest first.
    pub async fn outbox(&self, f: &OutboxFilter) -> Result<Vec<OutboxItem>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 = '' OR status = $1) AND ($2 < 0 OR incident_id = $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<Row> = with_pool!(&self.db, |p| sqlx::query_as(&sql)
            .bind(f.status.as_deref().unwrap_or(""))
            .bind(f.incident.map(|i| i.0).unwrap_or(-1))
            .bind(i64::from(f.limit.clamp(1, 10_000)))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Row::into_item).collect()
    }

    /// One message with its attempts, oldest first.
    pub async fn outbox_item(&self, id: i64) -> Result<(OutboxItem, Vec<OutboxAttempt>), StoreError> {
        let one = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        const ATTEMPTS: &str =
            "SELECT at, duration_ms, outcome, status_code, error FROM outbox_attempts WHERE outbox_id = $1 ORDER BY id";
        let row: Option<Row> = with_pool!(&self.db, |p| sqlx::query_as(&one).bind(id).fetch_optional(p).await)?;
        let item = row.ok_or_else(|| StoreError::Missing(format!("no outbox message {id}")))?.into_item()?;
        let rows: Vec<AttemptRow> = with_pool!(&self.db, |p| sqlx::query_as(ATTEMPTS).bind(id).fetch_all(p).await)?;
        let attempts = rows
            .into_iter()
            .map(|r| OutboxAttempt {
                at: ts(r.at),
                duration_ms: r.duration_ms,
                outcome: r.outcome,
                status_code: r.status_code,
                error: r.error,
            })
            .collect();
        Ok((item, attempts))
    }

    /// Queue a dead message again with a fresh set of attempts. Its earlier attempts stay on
    /// record. A message without text (its template failed) cannot be retried.
    pub async fn retry_outbox(&self, id: i64, now: Timestamp) -> Result<OutboxItem, StoreError> {
        const SQL: &str = "UPDATE outbox SET status = 'pending', attempts = 0, next_at = $1, updated_at = $1 \
            WHERE id = $2 AND status = 'dead' AND message IS NOT NULL";
        let n = with_pool!(&self.db, |p| sqlx::query(SQL)
            .bind(now.as_millisecond())
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        let (item, _) = self.outbox_item(id).await?;
        if n == 0 {
            let why = match (item.status.as_str(), item.message.is_some()) {
                ("dead", false) => format!(
                    "outbox message {id} has no text to send (its template failed: {}); fix the template, then send a new message",
                    item.last_error.as_deref().unwrap_or("unknown error")
                ),
                ("sent", _) => format!("outbox message {id} was already delivered"),
                (s, _) => format!("outbox message {id} is {s}: it is already queued"),
            };
            return Err(StoreError::Domain(sevwatch_core::DomainError::Conflict(why)));
        }
        self.shared.outbox_ready.notify_one();
        Ok(item)
    }

    /// Queue every dead message that has text again; returns how many.
    pub async fn retry_dead_outbox(&self, now: Timestamp) -> Result<u64, StoreError> {
        const SQL: &str = "UPDATE outbox SET status = 'pending', attempts = 0, next_at = $1, updated_at = $1 \
            WHERE status = 'dead' AND message IS NOT NULL";
        let n = with_pool!(&self.db, |p| sqlx::query(SQL)
            .bind(now.as_millisecond())
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.shared.outbox_ready.notify_one();
        Ok(n)
    }

    /// When the next message is due (pending, or a lapsed claim), if any.
    pub async fn next_outbox_due(&self) -> Result<Option<Timestamp>, StoreError> {
        const SQL: &str = "SELECT MIN(next_at) FROM outbox WHERE status IN ('pending', 'sending')";
        let ms: Option<i64> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).fetch_one(p).await)?;
        Ok(ms.map(ts))
    }

    /// Woken whenever a commit queued messages, so deliveries start at once.
    pub fn outbox_ready(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.shared.outbox_ready.clone()
    }

    /// The notification settings the store was opened with.
    pub fn notify_config(&self) -> &sevwatch_notify::NotifyConfig {
        &self.shared.rules.notify
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_at_the_dead_letter() {
        let p = RetryPolicy { base: Duration::from_secs(10), max: Duration::from_secs(600), max_attempts: 3 };
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let retry = Delivery::Retry { after: None, error: "HTTP 503".into(), status: Some(503) };
        let (s, at) = after_attempt(1, 0, &retry, &p, now);
        let wait = at.as_millisecond() - now.as_millisecond();
        assert_eq!(s, "pending");
        assert!((5_000..=10_000).contains(&wait), "first retry within [base/2, base]: {wait} ms");
        let (s, at) = after_attempt(1, 1, &retry, &p, now);
        assert_eq!(s, "pending");
        assert!((10_000..=20_000).contains(&(at.as_millisecond() - now.as_millisecond())));
        assert_eq!(after_attempt(1, 2, &retry, &p, now).0, "dead", "the third failure is the last");
        assert_eq!(after_attempt(1, 0, &Delivery::Ok, &p, now).0, "sent");
        let fail = Delivery::Fail { error: "HTTP 404".into(), status: Some(404) };
        assert_eq!(after_attempt(1, 0, &fail, &p, now).0, "dead", "a permanent failure is not retried");
    }

    #[test]
    fn a_receivers_retry_after_wins_when_it_is_longer() {
        let p = RetryPolicy { base: Duration::from_millis(100), max: Duration::from_secs(1), max_attempts: 5 };
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let slow = Delivery::Retry { after: Some(Duration::from_secs(30)), error: "429".into(), status: Some(429) };
        let (_, at) = after_attempt(9, 0, &slow, &p, now);
        assert_eq!(at.as_millisecond() - now.as_millisecond(), 30_000);
    }
}
