//! Incoming alerts, applied inside the writer's transaction: for each alert, find its route,
//! severity and group, load what is known (its record, its group's open incident, active
//! silences, an inhibiting P0), let `core::alert::decide` choose, then write the outcome (a new
//! incident, an attachment, a severity raise, a resolution and its auto-resolve timer) and the
//! alert's record. The caller hears back only after the commit.

use sevwatch_core::alert::{
    auto_resolve, decide, group_key_for, in_maintenance, inhibited, silences_alert, Alert, AlertOutcome, AlertRecord,
    AlertStatus, AutoResolve, Ctx, RouteMatch, Silence,
};
use sevwatch_core::text::{escape, Newlines};
use sevwatch_core::{Command, IncidentId, SealedEvent, Severity, Status, Timestamp};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::db::{with_tx, Tx};
use crate::writer::{apply_op, BatchCache, Rules};
use crate::{IncidentOp, StoreError};

/// One webhook request's worth of alerts.
#[derive(Clone, Debug)]
pub struct AlertsOp {
    pub alerts: Vec<Alert>,
    /// Fingerprints (PagerDuty `dedup_key`s) whose incidents should be acknowledged.
    pub acknowledge: Vec<String>,
    /// The ingest token's name, recorded as the actor.
    pub actor: String,
    pub now: Timestamp,
}

/// An [`AlertsOp`] with each alert's stored JSON, and its hash, already made off the writer's
/// path.
pub(crate) struct PreparedAlerts {
    pub op: AlertsOp,
    pub json: Vec<(String, u64)>,
}

impl PreparedAlerts {
    pub(crate) fn new(op: AlertsOp, hasher: &RandomState) -> Self {
        let json = op
            .alerts
            .iter()
            .map(|a| {
                let json = alert_json(a);
                let hash = hasher.hash_one(&json);
                (json, hash)
            })
            .collect();
        PreparedAlerts { op, json }
    }
}

/// The alert as stored in `alerts.alert`. (Parsers refuse NUL; an escaped one from elsewhere
/// is replaced, since PostgreSQL refuses `\u0000` in text.)
fn alert_json(alert: &Alert) -> String {
    serde_json::to_string(alert).expect("alerts serialise").replace("\\u0000", "\u{fffd}")
}

#[derive(Clone, Debug, Default)]
pub struct AlertsWritten {
    pub accepted: usize,
    /// Incidents opened by this request.
    pub opened: Vec<IncidentId>,
    /// Incidents the alerts belong to, in order (`None` for alerts that opened nothing).
    pub incidents: Vec<Option<IncidentId>>,
    pub events: Vec<SealedEvent>,
}

/// Incident titles and services come from senders: keep them within the core's limits.
/// (Titles are already one line, `Alert::title`; a service from a label is made one the same
/// way, so the core never refuses the declaration an alert asks for.)
fn clean(s: &str, max: usize) -> String {
    let t: String = s.chars().filter(|c| *c != '\0').take(max).collect();
    if t.trim().is_empty() {
        "(untitled alert)".into()
    } else {
        t
    }
}

pub(crate) async fn apply_alerts(
    tx: &mut Tx,
    rules: &Rules,
    prepared: &PreparedAlerts,
    cache: &mut BatchCache,
) -> Result<Result<AlertsWritten, StoreError>, sqlx::Error> {
    let op = &prepared.op;
    let mut out = AlertsWritten::default();
    // One read of the silences per transaction, shared by every request in the batch; on
    // SQLite, kept across batches until this process changes one.
    let silences = match &cache.silences {
        Some(s) => s.clone(),
        None => {
            let s = match rules.warm_silences() {
                Some(s) => s,
                None => {
                    let at = rules.silences_changed.load(std::sync::atomic::Ordering::SeqCst);
                    let s = std::sync::Arc::new(unended_silences(tx, op.now).await?);
                    rules.keep_silences(at, s.clone());
                    s
                }
            };
            cache.silences = Some(s.clone());
            s
        }
    };
    for (alert, (json, hash)) in op.alerts.iter().zip(&prepared.json) {
        // An alert takes every route it matches (more than one only through `continue`); each
        // route is its own group, so the extra routes track the alert under
        // `<fingerprint>@<route>` and may open incidents of their own.
        let mut first = None;
        for (i, route) in rules.alerts.route.routes_for(alert).into_iter().enumerate() {
            let incident = if i == 0 {
                apply_one(tx, rules, op, alert, (json, *hash), route, &silences, cache, &mut out).await?
            } else {
                let mut copy = alert.clone();
                copy.fingerprint = format!("{}@{}", alert.fingerprint, route.route_id);
                let copy_json = alert_json(&copy);
                let copy_hash = rules.content_hasher.hash_one(&copy_json);
                apply_one(tx, rules, op, &copy, (&copy_json, copy_hash), route, &silences, cache, &mut out).await?
            };
            if i == 0 {
                first = incident;
            }
        }
        out.incidents.push(first);
        out.accepted += 1;
    }
    for fp in &op.acknowledge {
        let rec = match cache.alerts.get(fp) {
            Some(r) => Some(r.clone()),
            None => load_record(tx, fp).await?,
        };
        if let Some(id) = rec.and_then(|r| r.incident) {
            // Already acknowledged (or resolved) is fine: the sender only tells us someone looked.
            if let Ok(w) = run(tx, rules, cache, Some(id), Command::Acknowledge, op).await? {
                out.events.extend(w);
            }
        }
        out.accepted += 1;
    }
    Ok(Ok(out))
}

/// Run one incident command inside the transaction; a domain refusal is returned, not raised.
async fn run(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    target: Option<IncidentId>,
    command: Command,
    op: &AlertsOp,
) -> Result<Result<Vec<SealedEvent>, StoreError>, sqlx::Error> {
    let iop = IncidentOp { target, command, actor: op.actor.clone(), now: op.now };
    Ok(apply_op(tx, &rules.policy, &iop, cache).await?.map(|w| w.events))
}

/// Status and severity of an incident: from this batch when it touched it, else a light read
/// (the full state is loaded, and locked, only when a command is applied to it).
async fn incident_brief(
    tx: &mut Tx,
    rules: &Rules,
    cache: &BatchCache,
    id: IncidentId,
) -> Result<Option<(Status, Severity)>, sqlx::Error> {
    if let Some((inc, _)) = cache.incidents.get(&id.0) {
        return Ok(Some((inc.status, inc.severity)));
    }
    if let Some(brief) = rules.warm_brief(id.0) {
        return Ok(Some(brief));
    }
    const SQL: &str = "SELECT status, severity FROM incidents WHERE id = $1";
    let row: Option<(String, String)> = with_tx!(tx, |c| sqlx::query_as(SQL).bind(id.0).fetch_optional(c).await)?;
    Ok(row.and_then(|(st, sev)| Some((st.parse::<Status>().ok()?, sev.parse::<Severity>().ok()?))))
}

#[allow(clippy::too_many_arguments)]
async fn apply_one(
    tx: &mut Tx,
    rules: &Rules,
    op: &AlertsOp,
    alert: &Alert,
    // The alert's JSON as stored, and its hash.
    (alert_json, content): (&str, u64),
    route: RouteMatch,
    silences: &[Silence],
    cache: &mut BatchCache,
    out: &mut AlertsWritten,
) -> Result<Option<IncidentId>, sqlx::Error> {
    let cfg = &rules.alerts;
    let now = op.now;
    let severity = route.severity.unwrap_or_else(|| cfg.severity.severity_of(alert));
    let key = group_key_for(&route, alert);
    // Taken, not copied: every path below puts the alert's new record back (`stage` or
    // `log_repeat`). The content hash is known when this process stored the alert.
    let fp = &alert.fingerprint;
    let (known, known_content) = match cache.alerts.remove(fp) {
        Some(r) => (Some(r), cache.alert_hashes.get(fp).copied()),
        None => match rules.take_warm_record(fp) {
            Some((r, hash)) => (Some(r), hash),
            None => (load_record(tx, fp).await?, None),
        },
    };
    // A repeat of a firing alert only needs its own incident (to see whether it should be
    // raised); everything else needs the group's open incident.
    let repeat_of = known
        .as_ref()
        .filter(|k| k.status == AlertStatus::Firing && alert.status == AlertStatus::Firing)
        .and_then(|k| k.incident);
    let head = match repeat_of {
        Some(id) => Some(id),
        None => group_head(tx, rules, cache, &key).await?,
    };
    let group_incident = match head {
        Some(id) => {
            incident_brief(tx, rules, cache, id).await?.filter(|(st, _)| st.is_open()).map(|(_, sev)| (id, sev))
        }
        None => None,
    };
    let service = route.service.clone();
    let silenced = silences.iter().any(|s| silences_alert(s, alert, now));
    let in_maint = service.as_deref().is_some_and(|svc| cfg.maintenance.iter().any(|w| in_maintenance(w, svc, now)));
    let mut ctx =
        Ctx { severity, group_key: key.clone(), silenced, in_maintenance: in_maint, inhibited: false, flap: cfg.flap };
    let mut d = decide(alert, known.as_ref(), group_incident, &ctx, now);
    // Inhibition only changes whether to page, so the open-P0 lookup is made only when the
    // decision would page.
    if d.page && severity != Severity::P0 {
        if let Some(svc) = service.as_deref() {
            if open_p0_on(tx, cache, svc).await? && inhibited(Some(svc), severity, [(Some(svc), Severity::P0)]) {
                ctx.inhibited = true;
                d = decide(alert, known.as_ref(), group_incident, &ctx, now);
            }
        }
    }
    // Same content, nothing but a count: logged, not rewritten (SQLite; see `repeat_log`).
    let plain = rules.warm.is_some() && known_content == Some(content) && d.is_plain_repeat(known.as_ref());
    let mut record = d.record;
    let name = alert.name().map(str::to_string);
    let attach = |severity| Command::AttachAlert {
        fingerprint: alert.fingerprint.clone(),
        name: name.clone(),
        source: alert.source.as_str().to_string(),
        severity,
        summary: alert.summary.clone().map(|s| clean(&s, 4096)),
    };
    match d.outcome {
        AlertOutcome::Open { title, severity } => {
            let declare = Command::Declare {
                title: clean(&title, sevwatch_core::command::MAX_TITLE),
                severity,
                service: service
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| clean(&escape(s, Newlines::Escape), sevwatch_core::command::MAX_NAME)),
                summary: alert.annotations.get("description").map(|s| clean(s, 16 * 1024)),
            };
            if let Ok(events) = run(tx, rules, cache, None, declare, op).await? {
                let id = events[0].incident;
                out.events.extend(events);
                out.opened.push(id);
                if let Ok(e) = run(tx, rules, cache, Some(id), attach(severity), op).await? {
                    out.events.extend(e);
                }
                crate::escalation::start(tx, rules, cache, id, d.page, now, &mut out.events).await?;
                set_group_head(tx, cache, &key, id).await?;
                record.incident = Some(id);
            }
        }
        AlertOutcome::Join { incident, raise_to } => {
            // A re-fire cancels a pending auto-resolve. (Were one missed, the job still checks
            // the alerts again when it fires.)
            let pending = crate::writer::current_state(tx, cache, incident).await?.and_then(|i| i.auto_resolve_at);
            if let Ok(e) = run(tx, rules, cache, Some(incident), attach(severity), op).await? {
                out.events.extend(e);
            }
            raise(tx, rules, cache, incident, raise_to, alert, op, out).await?;
            if pending.is_some() {
                crate::jobs::cancel(tx, &crate::jobs::auto_resolve_key(incident)).await?;
            }
        }
        AlertOutcome::Repeat { incident: Some(incident), raise_to } => {
            raise(tx, rules, cache, incident, raise_to, alert, op, out).await?;
        }
        AlertOutcome::Resolved { incident: Some(incident) } => {
            let resolved = Command::RecordAlertResolved { fingerprint: alert.fingerprint.clone(), name: name.clone() };
            if let Ok(e) = run(tx, rules, cache, Some(incident), resolved, op).await? {
                out.events.extend(e);
            }
            cache.alerts.insert(record.fingerprint.clone(), record.clone());
            let siblings = records_of(tx, cache, incident).await?;
            if let AutoResolve::At(at) = auto_resolve(siblings.iter(), cfg.auto_resolve_after) {
                if let Ok(e) =
                    run(tx, rules, cache, Some(incident), Command::RecordAllAlertsResolved { auto_resolve_at: at }, op)
                        .await?
                {
                    out.events.extend(e);
                }
                crate::jobs::schedule(tx, &crate::jobs::auto_resolve_key(incident), "auto_resolve", Some(incident), at)
                    .await?;
            }
        }
        AlertOutcome::Repeat { incident: None, .. }
        | AlertOutcome::Resolved { incident: None }
        | AlertOutcome::Suppressed(_)
        | AlertOutcome::ResolvedUnknown => {}
    }
    if d.became_flapping {
        if let Some(id) = record.incident {
            let flag = Command::FlagFlapping { fingerprint: alert.fingerprint.clone(), name };
            if let Ok(e) = run(tx, rules, cache, Some(id), flag, op).await? {
                out.events.extend(e);
            }
        }
    }
    let incident = record.incident;
    if plain {
        log_repeat(cache, record, content);
    } else {
        stage(cache, record, alert_json, content);
    }
    Ok(incident)
}

#[allow(clippy::too_many_arguments)]
async fn raise(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    incident: IncidentId,
    raise_to: Option<Severity>,
    alert: &Alert,
    op: &AlertsOp,
    out: &mut AlertsWritten,
) -> Result<(), sqlx::Error> {
    if let Some(to) = raise_to {
        let reason = format!("alert {} fires at {to}", alert.name().unwrap_or(&alert.fingerprint));
        if let Ok(e) =
            run(tx, rules, cache, Some(incident), Command::ChangeSeverity { severity: to, reason: Some(reason) }, op)
                .await?
        {
            out.events.extend(e);
        }
    }
    Ok(())
}

async fn load_record(tx: &mut Tx, fp: &str) -> Result<Option<AlertRecord>, sqlx::Error> {
    const SQL: &str = "SELECT record FROM alerts WHERE fingerprint = $1";
    let row: Option<String> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(fp).fetch_optional(c).await)?;
    // A record that no longer decodes is treated as unknown rather than failing the webhook.
    let Some(mut record) = row.and_then(|s| serde_json::from_str::<AlertRecord>(&s).ok()) else { return Ok(None) };
    if !tx.is_postgres() {
        if let Some((count, seen_ns)) = crate::repeat_log::logged(tx, fp).await? {
            crate::repeat_log::apply(&mut record, count, seen_ns);
        }
    }
    Ok(Some(record))
}

/// Every alert record attached to `incident`, with this batch's changes applied.
pub(crate) async fn records_of(
    tx: &mut Tx,
    cache: &BatchCache,
    incident: IncidentId,
) -> Result<Vec<AlertRecord>, sqlx::Error> {
    const SQL: &str = "SELECT record FROM alerts WHERE incident_id = $1";
    let rows: Vec<String> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(incident.0).fetch_all(c).await)?;
    let mut out: Vec<AlertRecord> = rows
        .iter()
        .filter_map(|s| serde_json::from_str::<AlertRecord>(s).ok())
        .map(|r| cache.alerts.get(&r.fingerprint).cloned().unwrap_or(r))
        .filter(|r| r.incident == Some(incident))
        .collect();
    for r in cache.alerts.values() {
        if r.incident == Some(incident) && !out.iter().any(|o| o.fingerprint == r.fingerprint) {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// Make `r` the alert's state in this batch and queue its row for [`flush`]; a later state of
/// the same fingerprint replaces it.
fn stage(cache: &mut BatchCache, r: AlertRecord, alert_json: &str, content: u64) {
    match cache.pending_index.get(&r.fingerprint) {
        Some(&i) => cache.pending_alerts[i].1 = alert_json.to_string(),
        None => {
            cache.pending_index.insert(r.fingerprint.clone(), cache.pending_alerts.len());
            cache.pending_alerts.push((r.fingerprint.clone(), alert_json.to_string()));
        }
    }
    cache.alert_hashes.insert(r.fingerprint.clone(), content);
    cache.alerts.insert(r.fingerprint.clone(), r);
}

/// Make `r` (a plain repeat) the alert's state in this batch and queue it for the repeat log,
/// unless its row is written whole anyway (then that write carries the new count).
fn log_repeat(cache: &mut BatchCache, r: AlertRecord, content: u64) {
    if !cache.pending_index.contains_key(&r.fingerprint) {
        cache.pending_repeats.insert(r.fingerprint.clone());
    }
    cache.alert_hashes.insert(r.fingerprint.clone(), content);
    cache.alerts.insert(r.fingerprint.clone(), r);
}

/// Rows per multi-row upsert: 8 parameters a row stays far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 100;

/// `INSERT ... VALUES (...), (...) ON CONFLICT ... DO UPDATE` for `rows` rows.
fn upsert_sql(rows: usize, postgres: bool) -> &'static str {
    crate::dialect::multi_row_insert(
        "INSERT INTO alerts (fingerprint, source, status, incident_id, group_key, last_seen, record, alert) VALUES ",
        8,
        rows,
        " ON CONFLICT (fingerprint) DO UPDATE SET source = excluded.source, status = excluded.status, \
         incident_id = excluded.incident_id, group_key = excluded.group_key, last_seen = excluded.last_seen, \
         record = excluded.record, alert = excluded.alert",
        postgres,
    )
}

/// Write every staged alert row, before the transaction commits.
pub(crate) async fn flush(tx: &mut Tx, cache: &mut BatchCache) -> Result<(), sqlx::Error> {
    let rows = std::mem::take(&mut cache.pending_alerts);
    cache.pending_index.clear();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = upsert_sql(chunk.len(), tx.is_postgres());
        let staged: Vec<&AlertRecord> =
            chunk.iter().map(|(fp, _)| cache.alerts.get(fp).expect("a staged alert has its record")).collect();
        let records: Vec<String> =
            staged.iter().map(|r| serde_json::to_string(r).expect("alert records serialise")).collect();
        with_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for ((r, (_, alert_json)), record) in staged.iter().zip(chunk).zip(&records) {
                q = q
                    .bind(&r.fingerprint)
                    .bind(r.source.as_str())
                    .bind(r.status.as_str())
                    .bind(r.incident.map(|i| i.0))
                    .bind(&r.group_key)
                    .bind(r.last_seen.as_millisecond())
                    .bind(record)
                    .bind(alert_json);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// The incident a group last opened: from this batch, the warm cache (SQLite) or the table.
async fn group_head(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    key: &str,
) -> Result<Option<IncidentId>, sqlx::Error> {
    if let Some(id) = cache.groups.get(key).copied().or_else(|| rules.warm_group(key)) {
        return Ok(Some(IncidentId(id)));
    }
    const SQL: &str = "SELECT incident_id FROM alert_groups WHERE group_key = $1";
    let id: Option<i64> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(key).fetch_optional(c).await)?;
    if let Some(id) = id {
        cache.groups.insert(key.to_string(), id);
    }
    Ok(id.map(IncidentId))
}

async fn set_group_head(tx: &mut Tx, cache: &mut BatchCache, key: &str, id: IncidentId) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO alert_groups (group_key, incident_id) VALUES ($1, $2) \
        ON CONFLICT (group_key) DO UPDATE SET incident_id = excluded.incident_id";
    with_tx!(tx, |c| sqlx::query(SQL).bind(key).bind(id.0).execute(c).await.map(|_| ()))?;
    cache.groups.insert(key.to_string(), id.0);
    Ok(())
}

/// Whether an open P0 exists on `service`, as this transaction sees it: incident rows are
/// written at the end of the batch, so the batch's own incidents are read from its cache.
async fn open_p0_on(tx: &mut Tx, cache: &BatchCache, service: &str) -> Result<bool, sqlx::Error> {
    let open_p0 = |i: &sevwatch_core::Incident| {
        i.severity == Severity::P0 && i.status.is_open() && i.service.as_deref() == Some(service)
    };
    if cache.incidents.values().any(|(i, _)| open_p0(i)) {
        return Ok(true);
    }
    const SQL: &str = "SELECT id FROM incidents WHERE service = $1 AND severity = 'P0' \
        AND status NOT IN ('resolved', 'closed') LIMIT 64";
    let found: Vec<i64> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(service).fetch_all(c).await)?;
    Ok(found.iter().any(|id| !cache.incidents.contains_key(id)))
}

/// Silences that have not ended at `now`, including those that start later (each alert checks
/// the silence's times against its own `now`).
async fn unended_silences(tx: &mut Tx, now: Timestamp) -> Result<Vec<Silence>, sqlx::Error> {
    const SQL: &str = "SELECT silence FROM silences WHERE ends_at > $1";
    let rows: Vec<String> = with_tx!(tx, |c| sqlx::query_scalar(SQL).bind(now.as_millisecond()).fetch_all(c).await)?;
    Ok(rows.iter().filter_map(|s| serde_json::from_str(s).ok()).collect())
}
