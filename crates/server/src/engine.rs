//! The engine: fires durable timers (jobs) when they come due, and writes the chain checkpoints.
//! Jobs are rows; this loop only asks the store when the next one is due and, once it is, has
//! the writer fire every due job in one transaction (exactly once, also with several replicas
//! on PostgreSQL). After a crash or a restart, jobs that came due meanwhile fire on the first
//! pass. Each pass is one [`tick`] at a time the loop reads from the clock; tests call `tick`
//! (or its steps) with a time of their choosing instead of waiting.

use std::sync::Arc;
use std::time::Duration;

use sevwatch_core::Timestamp;
use sevwatch_store::Store;

use crate::checkpoint::ChainAnchor;

/// Longest the engine sleeps between checks, so jobs written by other replicas are noticed.
const MAX_NAP: Duration = Duration::from_millis(250);

/// The engine without chain checkpoints (no key).
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    spawn_with(store, None)
}

/// The engine; with an anchor, every pass also runs its checkpoint step.
pub fn spawn_with(store: Store, anchor: Option<Arc<ChainAnchor>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let nap = tick(&store, anchor.as_deref(), Timestamp::now()).await;
            if !nap.is_zero() {
                tokio::time::sleep(nap).await;
            }
        }
    })
}

/// One pass at `now`: fire the jobs due, then write a chain checkpoint if one is due (after the
/// jobs, so pages never wait for it). Returns how long to wait before the next pass (zero when
/// more jobs may be due).
pub async fn tick(store: &Store, anchor: Option<&ChainAnchor>, now: Timestamp) -> Duration {
    let nap = match store.next_job_due().await {
        Ok(Some(due)) if due <= now => {
            if let Err(e) = store.fire_due_jobs(now).await {
                tracing::warn!(error = %e, "firing due jobs failed; retrying");
            }
            Duration::ZERO
        }
        Ok(Some(due)) => {
            Duration::from_millis((due.as_millisecond() - now.as_millisecond()).max(1) as u64).min(MAX_NAP)
        }
        Ok(None) => MAX_NAP,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the job table");
            MAX_NAP
        }
    };
    if let Some(anchor) = anchor {
        anchor.tick(store, now).await;
    }
    nap
}
