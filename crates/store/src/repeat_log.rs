//! The repeat log (SQLite only). Most of an alert stream is the same firing alert again: its
//! record gains one in `count` and a later `last_seen`, nothing else. Rewriting the alert's
//! row for that dirties a page of the `alerts` table per alert, and every dirty page is a 4 KiB
//! WAL frame to write, checksum and later checkpoint. Such a repeat is instead appended to
//! `alert_repeats` with the record's count and last-seen time after it: a few dozen bytes on
//! the table's last page.
//!
//! - Only on SQLite, where this process is the single writer and its warm cache holds the
//!   true record; with PostgreSQL replicas every repeat rewrites its row as before.
//! - [`fold`] moves the log into `alert_counts` (one narrow row per alert, about a hundred
//!   pages for 10,000 alerts) and empties it: once the log has [`FOLD_AT`] rows, and when the
//!   store opens. The wide `alerts` row is rewritten only when something else about the alert
//!   changes.
//! - Every value held is absolute, so an alert's count is the highest of its record's, its
//!   `alert_counts` row's and its logged rows' (likewise its last-seen time): applying a value
//!   twice, or one that a later full write already covers, changes nothing.
//! - Every reader of a record applies them: the writer's cold reads ([`logged`]) and the alert
//!   listing (`dialect::list_alerts`).

use sevwatch_core::alert::AlertRecord;
use sevwatch_core::Timestamp;

use crate::db::{with_tx, Db, Tx};
use crate::StoreError;
use sevwatch_engine::{AlertWrite, Working};

/// Fold once the log holds this many rows (a couple of MiB); reads that scan it stay cheap.
pub const FOLD_AT: usize = 32_768;
/// Rows per multi-row statement (3 parameters each).
const ROWS_PER_STATEMENT: usize = 200;

/// Apply a logged count and last-seen time (nanoseconds) to a record.
pub(crate) fn apply(record: &mut AlertRecord, count: i64, seen_ns: i64) {
    record.count = record.count.max(u64::try_from(count).unwrap_or(0));
    if let Ok(seen) = Timestamp::from_nanosecond(i128::from(seen_ns)) {
        record.last_seen = record.last_seen.max(seen);
    }
}

fn nanos(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX)
}

/// This batch's counted repeats (those not also written whole), with the record's state at
/// the end of the batch: fingerprint, count, last seen (nanoseconds).
pub(crate) fn rows(w: &Working) -> Vec<(String, i64, i64)> {
    w.effects
        .alerts
        .iter()
        .filter(|(_, write)| *write == AlertWrite::Count)
        .filter_map(|(fp, _)| w.record(fp))
        .map(counts_of)
        .collect()
}

/// A record's (fingerprint, count, last seen in nanoseconds), as the log holds them.
pub(crate) fn counts_of(r: &AlertRecord) -> (String, i64, i64) {
    (r.fingerprint.clone(), i64::try_from(r.count).unwrap_or(i64::MAX), nanos(r.last_seen))
}

/// Append `rows` to the log: the batch's last statement, run alone when it is its only one.
pub(crate) async fn append(tx: &mut Tx, rows: &[(String, i64, i64)]) -> Result<(), sqlx::Error> {
    let postgres = tx.is_postgres();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = crate::dialect::multi_row_insert(
            "INSERT INTO alert_repeats (fingerprint, count, seen_ns) VALUES ",
            3,
            chunk.len(),
            "",
            postgres,
        );
        match tx.run_alone().filter(|_| rows.len() <= ROWS_PER_STATEMENT) {
            Some(pool) => bound(sqlx::query(sql), chunk).execute(pool).await.map(|_| ())?,
            None => with_tx!(tx, |c| bound(sqlx::query(sql), chunk).execute(c).await.map(|_| ()))?,
        }
    }
    Ok(())
}

/// `q` with (fingerprint, count, nanoseconds) rows bound, for any database.
fn bound<'q, DB>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    rows: &'q [(String, i64, i64)],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for (fp, count, seen) in rows {
        q = q.bind(fp).bind(*count).bind(*seen);
    }
    q
}

/// What the log and `alert_counts` hold for the alerts in `list` (a JSON array of
/// fingerprints): each one's highest count and last-seen time (ns).
pub(crate) async fn logged(tx: &mut Tx, list: &str) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    const SQL: &str = "SELECT fingerprint, MAX(count), MAX(seen_ns) FROM (\
        SELECT fingerprint, count, seen_ns FROM alert_counts WHERE fingerprint IN (SELECT value FROM json_each($1)) \
        UNION ALL SELECT fingerprint, count, seen_ns FROM alert_repeats \
        WHERE fingerprint IN (SELECT value FROM json_each($1))) GROUP BY fingerprint";
    with_tx!(tx, |c| sqlx::query_as(SQL).bind(list).fetch_all(c).await)
}

/// How a folded value meets the one already in `alert_counts`: the higher stays.
macro_rules! keep_higher {
    () => {
        " ON CONFLICT (fingerprint) DO UPDATE SET count = MAX(alert_counts.count, excluded.count), \
         seen_ns = MAX(alert_counts.seen_ns, excluded.seen_ns)"
    };
}

/// Move the log into `alert_counts` and empty it, inside `tx`. The values are `warm` (each
/// logged alert's count and last-seen time as the warm cache has them: the committed truth,
/// so nothing is read back) when the warm cache holds every logged alert, else aggregated from
/// the log itself.
pub(crate) async fn fold(tx: &mut Tx, warm: Option<Vec<(String, i64, i64)>>) -> Result<(), sqlx::Error> {
    const FROM_LOG: &str = concat!(
        "INSERT INTO alert_counts (fingerprint, count, seen_ns) SELECT fingerprint, MAX(count), MAX(seen_ns) \
         FROM alert_repeats WHERE true GROUP BY fingerprint",
        keep_higher!()
    );
    let started = std::time::Instant::now();
    match &warm {
        Some(rows) => {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let sql = crate::dialect::multi_row_insert(
                    "INSERT INTO alert_counts (fingerprint, count, seen_ns) VALUES ",
                    3,
                    chunk.len(),
                    keep_higher!(),
                    tx.is_postgres(),
                );
                with_tx!(tx, |c| bound(sqlx::query(sql), chunk).execute(c).await.map(|_| ()))?;
            }
        }
        None => with_tx!(tx, |c| sqlx::query(FROM_LOG).execute(c).await.map(|_| ()))?,
    }
    with_tx!(tx, |c| sqlx::query("DELETE FROM alert_repeats").execute(c).await.map(|_| ()))?;
    let from = if warm.is_some() { "the warm cache" } else { "the log" };
    tracing::debug!(from, took = ?started.elapsed(), "folded the repeat log");
    Ok(())
}

/// Fold whatever a previous run left in the log, before the writer starts.
pub(crate) async fn fold_on_open(db: &Db) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    fold(&mut tx, None).await?;
    tx.commit().await?;
    Ok(())
}
