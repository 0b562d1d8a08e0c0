//! What the store's handles and its writer share: the rules every write is planned by, and
//! the few pieces of process state around them.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use sevwatch_engine::Rules;

use crate::warm::Warm;

pub(crate) struct Shared {
    pub rules: Rules,
    /// Only on SQLite, where this process is the single writer (see `warm`).
    pub warm: Option<Mutex<Warm>>,
    /// Woken after a commit that queued messages.
    pub outbox_ready: Arc<tokio::sync::Notify>,
    /// Bumped whenever this process creates or ends a silence, so the warm copy is re-read.
    pub silences_changed: AtomicU64,
    /// Hashes an alert's stored JSON, so that a repeat can tell whether its content changed
    /// (keyed at random per process).
    pub content_hasher: std::collections::hash_map::RandomState,
    /// This process among the replicas (random), so it skips its own notifications.
    pub replica: u64,
    /// Rows in the repeat log since it was last folded (SQLite only; see `repeat_log`).
    pub repeats_logged: AtomicUsize,
    /// Test hook: how many of the next batches fail half-way through their writes.
    #[cfg(test)]
    pub fail_flushes: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(rules: Rules, warm: bool) -> Shared {
        Shared {
            rules,
            warm: warm.then(Default::default),
            outbox_ready: Arc::default(),
            silences_changed: AtomicU64::new(0),
            content_hasher: Default::default(),
            repeats_logged: AtomicUsize::new(0),
            replica: {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b).expect("randomness");
                u64::from_le_bytes(b)
            },
            #[cfg(test)]
            fail_flushes: AtomicUsize::new(0),
        }
    }

    pub(crate) fn warm(&self) -> Option<std::sync::MutexGuard<'_, Warm>> {
        self.warm.as_ref().map(|w| w.lock().expect("warm cache lock"))
    }
}
