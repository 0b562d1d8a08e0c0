//! The batch's reads and writes of `alerts`, `alert_groups` and `silences`: records, group
//! heads and attached records loaded for a whole batch at once (the keys passed as one JSON
//! array), and the batch's alert rows and group heads written in multi-row statements.

use std::collections::HashMap;

use sevwatch_core::alert::{AlertRecord, Silence};
use sevwatch_core::{IncidentId, Timestamp};
use sevwatch_engine::{AlertWrite, Known, Working};

use crate::db::{with_tx, Tx};
use crate::dialect;

/// The stored records of `fingerprints` (absent ones are not returned), with what the repeat
/// log holds applied (SQLite). A record that no longer decodes is treated as unknown rather
/// than failing the webhook.
pub(crate) async fn load_records(tx: &mut Tx, fingerprints: &[&str]) -> Result<Vec<(String, Known)>, sqlx::Error> {
    const SQLITE: &str =
        "SELECT fingerprint, record FROM alerts WHERE fingerprint IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT fingerprint, record FROM alerts \
        WHERE fingerprint = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))";
    let postgres = tx.is_postgres();
    let list = dialect::json_list(fingerprints);
    let rows: Vec<(String, String)> =
        with_tx!(tx, |c| sqlx::query_as(if postgres { PG } else { SQLITE }).bind(&list).fetch_all(c).await)?;
    let mut found: HashMap<String, AlertRecord> =
        rows.into_iter().filter_map(|(fp, r)| Some((fp, serde_json::from_str(&r).ok()?))).collect();
    if !postgres && !found.is_empty() {
        for (fp, count, seen_ns) in crate::repeat_log::logged(tx, &list).await? {
            if let Some(r) = found.get_mut(&fp) {
                crate::repeat_log::apply(r, count, seen_ns);
            }
        }
    }
    Ok(fingerprints.iter().map(|fp| (fp.to_string(), Known { record: found.remove(*fp), content: None })).collect())
}

/// Every record attached to each of `incidents`, as stored.
pub(crate) async fn load_attached(
    tx: &mut Tx,
    incidents: &[IncidentId],
) -> Result<Vec<(IncidentId, Vec<AlertRecord>)>, sqlx::Error> {
    const SQLITE: &str =
        "SELECT incident_id, record FROM alerts WHERE incident_id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT incident_id, record FROM alerts \
        WHERE incident_id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))";
    let sql = if tx.is_postgres() { PG } else { SQLITE };
    let list = dialect::json_list(incidents.iter().map(|i| i.0));
    let rows: Vec<(i64, String)> = with_tx!(tx, |c| sqlx::query_as(sql).bind(&list).fetch_all(c).await)?;
    let mut by: HashMap<IncidentId, Vec<AlertRecord>> = incidents.iter().map(|i| (*i, Vec::new())).collect();
    for (id, r) in rows {
        if let (Some(list), Ok(r)) = (by.get_mut(&IncidentId(id)), serde_json::from_str(&r)) {
            list.push(r);
        }
    }
    Ok(by.into_iter().collect())
}

/// The incident each group key last opened (`None` for groups that never opened one).
pub(crate) async fn load_heads(tx: &mut Tx, keys: &[&str]) -> Result<Vec<(String, Option<IncidentId>)>, sqlx::Error> {
    const SQLITE: &str =
        "SELECT group_key, incident_id FROM alert_groups WHERE group_key IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT group_key, incident_id FROM alert_groups \
        WHERE group_key = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))";
    let sql = if tx.is_postgres() { PG } else { SQLITE };
    let list = dialect::json_list(keys);
    let rows: Vec<(String, i64)> = with_tx!(tx, |c| sqlx::query_as(sql).bind(&list).fetch_all(c).await)?;
    let mut found: HashMap<String, i64> = rows.into_iter().collect();
    Ok(keys.iter().map(|k| (k.to_string(), found.remove(*k).map(IncidentId))).collect())
}

/// Silences that have not ended at `now`, including those that start later (each alert checks
/// the silence's times against its own `now`).
pub(crate) async fn unended_silences(tx: &mut Tx, now: Timestamp) -> Result<Vec<Silence>, sqlx::Error> {
    const SQL: &str = "SELECT silence FROM silences WHERE ends_at > $1";
    let rows: Vec<String> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(now.as_millisecond()).fetch_all(c).await)?;
    Ok(rows.iter().filter_map(|s| serde_json::from_str(s).ok()).collect())
}

/// Rows per multi-row upsert: 8 parameters a row stays far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 100;

/// Write every alert row the batch writes whole (counted repeats go to the repeat log).
pub(crate) async fn upsert_records(tx: &mut Tx, w: &Working) -> Result<(), sqlx::Error> {
    let rows: Vec<(&AlertRecord, &str)> = w
        .effects
        .alerts
        .iter()
        .filter_map(|(fp, write)| match write {
            AlertWrite::Whole { json } => Some((w.record(fp)?, json)),
            AlertWrite::Count => None,
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = dialect::multi_row_insert(
            "INSERT INTO alerts (fingerprint, source, status, incident_id, group_key, last_seen, record, alert) VALUES ",
            8,
            chunk.len(),
            " ON CONFLICT (fingerprint) DO UPDATE SET source = excluded.source, status = excluded.status, \
             incident_id = excluded.incident_id, group_key = excluded.group_key, last_seen = excluded.last_seen, \
             record = excluded.record, alert = excluded.alert",
            tx.is_postgres(),
        );
        let records: Vec<String> =
            chunk.iter().map(|(r, _)| serde_json::to_string(r).expect("alert records serialise")).collect();
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for ((r, alert_json), record) in chunk.iter().zip(&records) {
                q = q
                    .bind(&r.fingerprint)
                    .bind(r.source.as_str())
                    .bind(r.status.as_str())
                    .bind(r.incident.map(|i| i.0))
                    .bind(&r.group_key)
                    .bind(r.last_seen.as_millisecond())
                    .bind(record)
                    .bind(*alert_json);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Write the batch's group heads.
pub(crate) async fn upsert_heads(tx: &mut Tx, w: &Working) -> Result<(), sqlx::Error> {
    let heads: Vec<(&String, &IncidentId)> = w.effects.heads.iter().collect();
    for chunk in heads.chunks(ROWS_PER_STATEMENT) {
        let sql = dialect::multi_row_insert(
            "INSERT INTO alert_groups (group_key, incident_id) VALUES ",
            2,
            chunk.len(),
            " ON CONFLICT (group_key) DO UPDATE SET incident_id = excluded.incident_id",
            tx.is_postgres(),
        );
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for (key, id) in chunk {
                q = q.bind(*key).bind(id.0);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}
