//! Group commit for incident commands. One task per process receives commands from every
//! request handler, takes as many as are waiting (up to [`MAX_BATCH`]), runs `decide` for each
//! against the current state inside one transaction, appends the sealed events, updates the
//! incident rows and commits once. Only then does each caller get its answer, and the events go
//! out to live subscribers.
//!
//! A database error (a lost connection, a deadlock between replicas) rolls the whole batch back;
//! the writer then retries each command in a transaction of its own, so one bad request cannot
//! fail its neighbours. A domain refusal writes nothing and does not disturb the batch.

use std::collections::HashMap;
use std::sync::Arc;

use sevwatch_core::alert::{AlertConfig, AlertRecord};
use sevwatch_core::chain::{seal, GENESIS};
use sevwatch_core::{decide, Command, Incident, IncidentId, Policy, SealedEvent, Timestamp};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::alert_writes::{AlertsOp, AlertsWritten, PreparedAlerts};
use crate::db::{with_tx, Db, Tx};
use crate::jobs::JobsFired;
use crate::{dialect, Store, StoreError};

/// Largest number of commands sharing one transaction.
const MAX_BATCH: usize = 512;
/// Attempts for a command retried alone after its batch failed.
const RETRIES: usize = 3;

/// One command for one incident (`target: None` declares a new one).
#[derive(Clone, Debug)]
pub struct IncidentOp {
    pub target: Option<IncidentId>,
    pub command: Command,
    pub actor: String,
    pub now: Timestamp,
}

/// The committed result of an [`IncidentOp`].
#[derive(Clone, Debug)]
pub struct Written {
    pub incident: Incident,
    pub events: Vec<SealedEvent>,
}

/// Everything the writer can be asked to do in a shared transaction.
pub(crate) enum Op {
    Incident(IncidentOp),
    Alerts(PreparedAlerts),
    FireJobs(Timestamp),
}

impl Op {
    fn now(&self) -> Timestamp {
        match self {
            Op::Incident(o) => o.now,
            Op::Alerts(o) => o.op.now,
            Op::FireJobs(now) => *now,
        }
    }
}

/// What an [`Op`] did once committed.
pub(crate) enum Done {
    Incident(Box<Written>),
    Alerts(AlertsWritten),
    Jobs(JobsFired),
}

impl Done {
    pub(crate) fn events(&self) -> &[SealedEvent] {
        match self {
            Done::Incident(w) => &w.events,
            Done::Alerts(a) => &a.events,
            Done::Jobs(j) => &j.events,
        }
    }
}

pub(crate) struct WriteRequest {
    op: Op,
    /// The answer, and the op itself: it goes back so that the caller's task, not the single
    /// writer, pays for freeing it (a 100-alert request is a few hundred allocations).
    reply: Reply,
}

/// Where a caller waits for its op's result (and the op, see [`WriteRequest::reply`]).
pub(crate) type Reply = oneshot::Sender<(Result<Done, StoreError>, Op)>;

/// The domain rules the writer applies inside its transactions.
pub(crate) struct Rules {
    pub policy: Policy,
    pub alerts: AlertConfig,
    pub oncall: sevwatch_core::oncall::OnCallConfig,
    /// Committed alert records and incident heads, kept in memory to spare reads on the hot
    /// ingest path. Only on SQLite, where this process is the single writer, so nothing else
    /// can change a row behind it; with PostgreSQL replicas every read goes to the database.
    pub warm: Option<std::sync::Mutex<Warm>>,
    /// What messages events send, and the templates that word them.
    pub notify: Notifier,
    /// Woken after a commit that queued messages.
    pub outbox_ready: Arc<tokio::sync::Notify>,
    /// Bumped whenever this process creates or ends a silence, so the warm copy is re-read.
    pub silences_changed: std::sync::atomic::AtomicU64,
    /// Hashes an alert's stored JSON, so that a repeat can tell whether its content changed
    /// (keyed at random per process).
    pub content_hasher: std::collections::hash_map::RandomState,
    /// Rows in the repeat log since it was last folded (SQLite only; see `repeat_log`).
    pub repeats_logged: std::sync::atomic::AtomicUsize,
}

/// Notification settings and templates, for writing the outbox.
pub(crate) struct Notifier {
    pub config: sevwatch_notify::NotifyConfig,
    pub templates: Arc<sevwatch_notify::Templates>,
}

/// See [`Rules::warm`]. Filled only from committed transactions.
#[derive(Default)]
pub(crate) struct Warm {
    /// Each alert's record, and the hash of its stored JSON when known.
    pub alerts: HashMap<String, (AlertRecord, Option<u64>)>,
    pub briefs: HashMap<i64, (sevwatch_core::Status, sevwatch_core::Severity)>,
    /// Alert group key -> the incident that group last opened.
    pub groups: HashMap<String, i64>,
    /// Alerts with rows in the repeat log since it was last folded.
    pub logged: std::collections::HashSet<String>,
    /// Silences that had not ended when read, with the [`Rules::silences_changed`] generation
    /// they were read at; each batch checks their times against its own `now`.
    pub silences: Option<(u64, Arc<Vec<sevwatch_core::alert::Silence>>)>,
}

/// Bound on the warm cache: past it the cache starts over (reads refill it).
const MAX_WARM: usize = 200_000;

impl Rules {
    /// Take an alert's committed record (and its content hash) out of the warm cache (no copy).
    /// The batch puts its new state back after the commit; if the batch rolls back, the record
    /// is read again next time.
    pub(crate) fn take_warm_record(&self, fp: &str) -> Option<(AlertRecord, Option<u64>)> {
        self.warm.as_ref()?.lock().expect("warm cache lock").alerts.remove(fp)
    }

    pub(crate) fn warm_group(&self, key: &str) -> Option<i64> {
        self.warm.as_ref()?.lock().expect("warm cache lock").groups.get(key).copied()
    }

    pub(crate) fn warm_brief(&self, id: i64) -> Option<(sevwatch_core::Status, sevwatch_core::Severity)> {
        self.warm.as_ref()?.lock().expect("warm cache lock").briefs.get(&id).copied()
    }

    /// The warm silences, unless a silence was created or ended since they were read.
    pub(crate) fn warm_silences(&self) -> Option<Arc<Vec<sevwatch_core::alert::Silence>>> {
        let now = self.silences_changed.load(std::sync::atomic::Ordering::SeqCst);
        match &self.warm.as_ref()?.lock().expect("warm cache lock").silences {
            Some((at, s)) if *at == now => Some(s.clone()),
            _ => None,
        }
    }

    /// Each logged alert's count and last-seen time (ns) as the warm cache has them, for folding
    /// the repeat log without reading it back; `None` when one is not warm.
    pub(crate) fn warm_logged_counts(&self) -> Option<Vec<(String, i64, i64)>> {
        let w = self.warm.as_ref()?.lock().expect("warm cache lock");
        w.logged
            .iter()
            .map(|fp| {
                let (r, _) = w.alerts.get(fp)?;
                Some(crate::repeat_log::counts_of(r))
            })
            .collect()
    }

    /// After a fold committed: nothing is logged any more (until this batch's rows are added).
    fn folded(&self) {
        if let Some(warm) = &self.warm {
            warm.lock().expect("warm cache lock").logged.clear();
        }
    }

    /// Keep silences read at generation `at` (read *before* the query, so a change during it
    /// makes the next batch read again).
    pub(crate) fn keep_silences(&self, at: u64, s: Arc<Vec<sevwatch_core::alert::Silence>>) {
        if let Some(warm) = &self.warm {
            warm.lock().expect("warm cache lock").silences = Some((at, s));
        }
    }

    /// After a commit: what the transaction wrote is now the truth.
    fn warm_up(&self, cache: BatchCache) {
        let Some(warm) = &self.warm else { return };
        let mut w = warm.lock().expect("warm cache lock");
        if w.alerts.len() + cache.alerts.len() > MAX_WARM || w.groups.len() + cache.groups.len() > MAX_WARM {
            w.alerts.clear();
            w.briefs.clear();
            w.groups.clear();
            // Records are read cold from now on, each scanning the repeat log: fold it next.
            self.repeats_logged.store(crate::repeat_log::FOLD_AT, std::sync::atomic::Ordering::Relaxed);
        }
        w.groups.extend(cache.groups);
        for (id, (inc, _)) in cache.incidents {
            w.briefs.insert(id, (inc.status, inc.severity));
        }
        w.logged.extend(cache.pending_repeats);
        let mut hashes = cache.alert_hashes;
        w.alerts.extend(cache.alerts.into_iter().map(|(fp, r)| {
            let hash = hashes.remove(&fp);
            (fp, (r, hash))
        }));
    }
}

/// Incidents, alert records and group heads already touched in the current transaction, so
/// that several operations of one batch see each other's writes.
#[derive(Default)]
pub(crate) struct BatchCache {
    pub incidents: HashMap<i64, (Incident, String)>,
    pub alerts: HashMap<String, AlertRecord>,
    pub silences: Option<Arc<Vec<sevwatch_core::alert::Silence>>>,
    /// Group heads read or set in this transaction.
    pub groups: HashMap<String, i64>,
    /// Alert rows to write before the commit, one per fingerprint (the last state wins), so a
    /// batch writes its alerts in a few multi-row statements instead of one per alert: the
    /// fingerprint and the alert's JSON; the record is the one in `alerts`.
    pub pending_alerts: Vec<(String, String)>,
    pub pending_index: HashMap<String, usize>,
    /// Hash of the JSON stored (or being stored) for alerts in `alerts`, where known.
    pub alert_hashes: HashMap<String, u64>,
    /// Fingerprints of this batch's plain repeats, for the repeat log (those also written
    /// whole are skipped there).
    pub pending_repeats: std::collections::HashSet<String>,
    /// Events sealed in this transaction, written in multi-row inserts before the commit.
    pub pending_events: Vec<SealedEvent>,
    /// Incidents whose row must be written before the commit (their state is in `incidents`),
    /// once each however many commands of the batch touched them.
    pub dirty_incidents: std::collections::BTreeSet<i64>,
}

impl Store {
    async fn submit(&self, op: Op) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(WriteRequest { op, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?.0
    }

    /// Run one command and return once its events are committed.
    pub async fn execute(&self, op: IncidentOp) -> Result<Written, StoreError> {
        match self.submit(Op::Incident(op)).await? {
            Done::Incident(w) => Ok(*w),
            _ => unreachable!("an incident op answers with Written"),
        }
    }

    /// Apply a batch of incoming alerts (one webhook request) and return once committed.
    pub async fn ingest(&self, op: AlertsOp) -> Result<AlertsWritten, StoreError> {
        // Prepared here, on the caller's task, so the single writer has less to do per alert.
        match self.submit(Op::Alerts(PreparedAlerts::new(op, &self.rules.content_hasher))).await? {
            Done::Alerts(a) => Ok(a),
            _ => unreachable!("an alerts op answers with AlertsWritten"),
        }
    }

    /// Fire every job due at `now` (each exactly once, also across replicas).
    pub async fn fire_due_jobs(&self, now: Timestamp) -> Result<JobsFired, StoreError> {
        match self.submit(Op::FireJobs(now)).await? {
            Done::Jobs(j) => Ok(j),
            _ => unreachable!("a jobs op answers with JobsFired"),
        }
    }
}

/// Start the writer. `db` is its own connection; with `sync`, that connection commits without
/// waiting for the disk and each batch's answers wait on the [`crate::wal_sync`] thread instead.
pub(crate) fn spawn(
    db: Db,
    sync: Option<std::sync::mpsc::Sender<crate::wal_sync::Answers>>,
    rules: Arc<Rules>,
    events: broadcast::Sender<SealedEvent>,
) -> mpsc::Sender<WriteRequest> {
    let (tx, mut rx) = mpsc::channel::<WriteRequest>(4 * MAX_BATCH);
    let on_sqlite = sync.is_some();
    let writer = async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let (ops, replies): (Vec<Op>, Vec<_>) = batch.drain(..).map(|r| (r.op, r.reply)).unzip();
            let results = commit_batch(&db, &rules, &ops).await;
            if let Some(sync) = &sync {
                let answers = results.into_iter().zip(replies).zip(ops).map(|((r, reply), op)| (r, reply, op));
                if sync.send(answers.collect()).is_err() {
                    tracing::error!("the WAL sync thread is gone; stopping the writer");
                    return;
                }
                continue;
            }
            for ((result, reply), op) in results.into_iter().zip(replies).zip(ops) {
                answer(result, reply, op, &events);
            }
        }
    };
    if on_sqlite {
        // Its own thread: every statement is a round trip to the connection's thread, and a
        // writer task woken on the runtime waits behind every HTTP task queued there.
        std::thread::Builder::new()
            .name("sevwatch-writer".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the writer's runtime starts")
                    .block_on(writer)
            })
            .expect("the writer thread starts");
    } else {
        tokio::spawn(writer);
    }
    tx
}

/// Tell a caller how its committed op went, and send its events to live subscribers.
pub(crate) fn answer(result: Result<Done, StoreError>, reply: Reply, op: Op, events: &broadcast::Sender<SealedEvent>) {
    if let Ok(done) = &result {
        for e in done.events() {
            // No subscribers is fine: nobody is watching the stream right now.
            let _ = events.send(e.clone());
        }
    }
    // The caller may have gone away (client disconnected); the write stands.
    let _ = reply.send((result, op));
}

async fn commit_batch(db: &Db, rules: &Rules, ops: &[Op]) -> Vec<Result<Done, StoreError>> {
    match try_batch(db, rules, ops).await {
        Ok(results) => results,
        Err(first) if ops.len() == 1 => vec![retry_alone(db, rules, &ops[0], first).await],
        Err(e) => {
            tracing::warn!(error = %e, size = ops.len(), "batch failed; retrying its commands one by one");
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                let r = match try_batch(db, rules, std::slice::from_ref(op)).await {
                    Ok(mut v) => v.pop().expect("one op gives one result"),
                    Err(e) => retry_alone(db, rules, op, e).await,
                };
                out.push(r);
            }
            out
        }
    }
}

async fn retry_alone(db: &Db, rules: &Rules, op: &Op, mut last: sqlx::Error) -> Result<Done, StoreError> {
    for _ in 1..RETRIES {
        match try_batch(db, rules, std::slice::from_ref(op)).await {
            Ok(mut v) => return v.pop().expect("one op gives one result"),
            Err(e) => last = e,
        }
    }
    Err(StoreError::Db(last))
}

/// Run `ops` in one transaction. The outer error means "roll back and retry"; the inner result
/// is each command's own outcome.
async fn try_batch(db: &Db, rules: &Rules, ops: &[Op]) -> Result<Vec<Result<Done, StoreError>>, sqlx::Error> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut tx = db.begin_write().await?;
    let mut cache = BatchCache::default();
    let fold = rules.warm.is_some() && rules.repeats_logged.load(Relaxed) >= crate::repeat_log::FOLD_AT;
    if fold {
        crate::repeat_log::fold(&mut tx, rules.warm_logged_counts()).await?;
    }
    let mut out = Vec::with_capacity(ops.len());
    let mut queued = 0;
    for op in ops {
        let result = match op {
            Op::Incident(o) => {
                let mut done = apply_op(&mut tx, &rules.policy, o, &mut cache).await?;
                // Paging happens in the same transaction as the command that asks for it, so the
                // answer already shows who was paged.
                if let Ok(w) = &mut done {
                    let id = w.incident.id;
                    match &o.command {
                        Command::Declare { .. } => {
                            crate::escalation::start(&mut tx, rules, &mut cache, id, true, o.now, &mut w.events).await?
                        }
                        Command::EscalateNow { .. } => {
                            crate::escalation::fire_escalation(&mut tx, rules, &mut cache, id, o.now, &mut w.events)
                                .await?
                        }
                        _ => {}
                    }
                    if let Some((inc, _)) = cache.incidents.get(&id.0) {
                        w.incident = inc.clone();
                    }
                }
                done.map(|w| Done::Incident(Box::new(w)))
            }
            Op::Alerts(o) => crate::alert_writes::apply_alerts(&mut tx, rules, o, &mut cache).await?.map(Done::Alerts),
            Op::FireJobs(now) => crate::jobs::fire_due(&mut tx, rules, *now, &mut cache).await?.map(Done::Jobs),
        };
        // The messages these events send are written in the same transaction as the events.
        if let Ok(done) = &result {
            if !done.events().is_empty() {
                queued += crate::outbox::enqueue(&mut tx, rules, &cache, done.events(), op.now()).await?;
            }
        }
        out.push(result);
    }
    flush_incidents(&mut tx, &mut cache).await?;
    let repeats = crate::repeat_log::rows(&cache);
    crate::alert_writes::flush(&mut tx, &mut cache).await?;
    crate::repeat_log::append(&mut tx, &repeats).await?;
    tx.commit().await?;
    let logged = repeats.len();
    if fold {
        rules.folded();
        rules.repeats_logged.store(logged, Relaxed);
    } else {
        rules.repeats_logged.fetch_add(logged, Relaxed);
    }
    rules.warm_up(cache);
    if queued > 0 {
        rules.outbox_ready.notify_one();
    }
    Ok(out)
}

pub(crate) async fn apply_op(
    tx: &mut Tx,
    policy: &Policy,
    op: &IncidentOp,
    cache: &mut BatchCache,
) -> Result<Result<Written, StoreError>, sqlx::Error> {
    let current = match op.target {
        None => None,
        Some(id) => match cache.incidents.get(&id.0) {
            Some(hit) => Some(hit.clone()),
            None => match load_for_update(tx, id).await? {
                Ok(Some(found)) => Some(found),
                Ok(None) => return Ok(Err(StoreError::NotFound(id))),
                Err(corrupt) => return Ok(Err(corrupt)),
            },
        },
    };
    let events = match decide(policy, current.as_ref().map(|c| &c.0), &op.command, &op.actor, op.now) {
        Ok(events) => events,
        Err(refused) => return Ok(Err(StoreError::Domain(refused))),
    };
    let mut events = events.into_iter();
    let (mut incident, mut prev_hash, mut sealed) = match current {
        Some((inc, hash)) => (inc, hash, Vec::new()),
        None => {
            let first = events.next().expect("a declaration yields its event");
            let id = IncidentId(next_incident_id(tx).await?);
            let inc = Incident::from_declared(id, &first).expect("decide(Declare) yields Declared first");
            let s = seal(id, 1, first, GENESIS);
            (inc, s.hash.clone(), vec![s])
        }
    };
    for e in events {
        incident.apply(&e);
        let s = seal(incident.id, incident.event_count, e, &prev_hash);
        prev_hash = s.hash.clone();
        sealed.push(s);
    }
    cache.pending_events.extend(sealed.iter().cloned());
    cache.dirty_incidents.insert(incident.id.0);
    crate::escalation::after_command(tx, &op.command, &incident, op.now).await?;
    cache.incidents.insert(incident.id.0, (incident.clone(), prev_hash));
    Ok(Ok(Written { incident, events: sealed }))
}

/// The incident as this transaction sees it (cached, or loaded and locked).
pub(crate) async fn current_state(
    tx: &mut Tx,
    cache: &mut BatchCache,
    id: IncidentId,
) -> Result<Option<Incident>, sqlx::Error> {
    if let Some((inc, _)) = cache.incidents.get(&id.0) {
        return Ok(Some(inc.clone()));
    }
    Ok(match load_for_update(tx, id).await? {
        Ok(Some((inc, hash))) => {
            cache.incidents.insert(id.0, (inc.clone(), hash));
            Some(inc)
        }
        _ => None,
    })
}

/// The next incident number. The counter row is updated inside the transaction, so a rollback
/// returns the number and concurrent writers (even on other replicas) queue on the row lock:
/// no gaps, no duplicates.
async fn next_incident_id(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    const SQL: &str = "UPDATE counters SET value = value + 1 WHERE name = 'incident' RETURNING value";
    with_tx!(tx, |c| sqlx::query_scalar::<_, i64>(SQL).fetch_one(c).await)
}

async fn load_for_update(
    tx: &mut Tx,
    id: IncidentId,
) -> Result<Result<Option<(Incident, String)>, StoreError>, sqlx::Error> {
    let sql = dialect::select_incident_for_update(tx.is_postgres());
    let row: Option<(String, String)> = with_tx!(tx, |c| sqlx::query_as(sql).bind(id.0).fetch_optional(c).await)?;
    Ok(match row {
        None => Ok(None),
        Some((state, hash)) => serde_json::from_str::<Incident>(&state)
            .map(|inc| Some((inc, hash)))
            .map_err(|e| StoreError::Corrupt(format!("{id} row: {e}"))),
    })
}

/// Events per multi-row insert (8 parameters each).
const EVENTS_PER_STATEMENT: usize = 64;

/// Write the batch's events (a few multi-row inserts) and each touched incident's row once.
async fn flush_incidents(tx: &mut Tx, cache: &mut BatchCache) -> Result<(), sqlx::Error> {
    let events = std::mem::take(&mut cache.pending_events);
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
    for id in std::mem::take(&mut cache.dirty_incidents) {
        if let Some((inc, hash)) = cache.incidents.get(&id) {
            upsert_incident(tx, inc, hash).await?;
        }
    }
    Ok(())
}

async fn upsert_incident(tx: &mut Tx, inc: &Incident, last_hash: &str) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO incidents (id, title, severity, status, service, triggered_at, updated_at, last_seq, last_hash, state) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
        ON CONFLICT (id) DO UPDATE SET title = excluded.title, severity = excluded.severity, status = excluded.status, \
        service = excluded.service, updated_at = excluded.updated_at, last_seq = excluded.last_seq, \
        last_hash = excluded.last_hash, state = excluded.state";
    let state = serde_json::to_string(inc).expect("incidents serialise");
    with_tx!(tx, |c| sqlx::query(SQL)
        .bind(inc.id.0)
        .bind(&inc.title)
        .bind(inc.severity.as_str())
        .bind(inc.status.as_str())
        .bind(inc.service.as_deref().unwrap_or(""))
        .bind(inc.triggered_at.as_millisecond())
        .bind(inc.updated_at.as_millisecond())
        .bind(inc.event_count)
        .bind(last_hash)
        .bind(&state)
        .execute(c)
        .await
        .map(|_| ()))
}
