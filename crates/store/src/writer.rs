//! Group commit. One writer per process receives every write from every request handler,
//! takes as many as are waiting (up to [`MAX_BATCH`]) and runs them as one [`Batch`]: load,
//! plan each with the engine, flush, commit. Only then does each caller get its answer, and
//! the events go out to live subscribers.
//!
//! A database error (a lost connection, a deadlock between replicas) rolls the whole batch back;
//! the writer then retries each operation in a batch of its own, so one bad request cannot
//! fail its neighbours. A domain refusal writes nothing and does not disturb the batch.

use std::sync::Arc;

use sevwatch_core::{SealedEvent, Timestamp};
use sevwatch_engine::{AlertsOp, AlertsWritten, IncidentOp, JobsFired, PreparedAlerts, Written};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::batch::Batch;
use crate::db::Db;
use crate::shared::Shared;
use crate::{Store, StoreError};

/// Largest number of operations sharing one transaction.
const MAX_BATCH: usize = 512;
/// Attempts for an operation retried alone after its batch failed.
const RETRIES: usize = 3;

/// Everything the writer can be asked to do in a shared transaction.
pub(crate) enum Op {
    Incident(IncidentOp),
    Alerts(PreparedAlerts),
    FireJobs(Timestamp),
}

impl Op {
    pub(crate) fn now(&self) -> Timestamp {
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
        let prepared = PreparedAlerts::new(op, &self.shared.rules, &self.shared.content_hasher);
        match self.submit(Op::Alerts(prepared)).await? {
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
    shared: Arc<Shared>,
    events: broadcast::Sender<SealedEvent>,
) -> mpsc::Sender<WriteRequest> {
    let (tx, mut rx) = mpsc::channel::<WriteRequest>(4 * MAX_BATCH);
    let on_sqlite = sync.is_some();
    let writer = async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let (ops, replies): (Vec<Op>, Vec<_>) = batch.drain(..).map(|r| (r.op, r.reply)).unzip();
            let results = commit(&db, &shared, &ops).await;
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

/// Commit `ops` together; if that fails, each alone.
pub(crate) async fn commit(db: &Db, shared: &Shared, ops: &[Op]) -> Vec<Result<Done, StoreError>> {
    match once(db, shared, ops).await {
        Ok(results) => results,
        Err(first) if ops.len() == 1 => vec![retry_alone(db, shared, &ops[0], first).await],
        Err(e) => {
            tracing::warn!(error = %e, size = ops.len(), "batch failed; retrying its operations one by one");
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                let r = match once(db, shared, std::slice::from_ref(op)).await {
                    Ok(mut v) => v.pop().expect("one op gives one result"),
                    Err(e) => retry_alone(db, shared, op, e).await,
                };
                out.push(r);
            }
            out
        }
    }
}

async fn retry_alone(db: &Db, shared: &Shared, op: &Op, mut last: sqlx::Error) -> Result<Done, StoreError> {
    for _ in 1..RETRIES {
        match once(db, shared, std::slice::from_ref(op)).await {
            Ok(mut v) => return v.pop().expect("one op gives one result"),
            Err(e) => last = e,
        }
    }
    Err(StoreError::Db(last))
}

/// Run `ops` as one batch. An error means "rolled back: retry"; each operation's own refusal
/// is in its result.
async fn once(db: &Db, shared: &Shared, ops: &[Op]) -> Result<Vec<Result<Done, StoreError>>, sqlx::Error> {
    let mut batch = Batch::begin(db, shared).await?;
    batch.load(ops).await?;
    let results = batch.run(ops);
    batch.flush().await?;
    Ok(results)
}
