//! The engine: fires durable timers (jobs) when they come due. Jobs are rows; this loop only
//! asks the store when the next one is due and, once it is, has the writer fire every due job
//! in one transaction (exactly once, also with several replicas on PostgreSQL). After a crash
//! or a restart, jobs that came due meanwhile fire on the first pass.

use std::time::Duration;

use sevwatch_core::Timestamp;
use sevwatch_store::Store;

/// Longest the engine sleeps between checks, so jobs written by other replicas are noticed.
const MAX_NAP: Duration = Duration::from_millis(250);

pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = Timestamp::now();
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
            if !nap.is_zero() {
                tokio::time::sleep(nap).await;
            }
        }
    })
}
