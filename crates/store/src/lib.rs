//! Sevwatch's storage: one [`Store`] over an embedded SQLite file or PostgreSQL, chosen once at
//! start-up. Every query is written once in portable SQL (`$N` placeholders, `RETURNING`,
//! `ON CONFLICT`, integer-millisecond times, JSON as text); the few dialect differences live in
//! `dialect.rs`.
//!
//! Incident commands go through a single writer task per process that batches concurrent
//! requests into one transaction (group commit): each caller gets its answer only after the
//! commit, so a success always means durable, and many callers share one fsync.

mod db;
mod dialect;
mod error;
mod incidents;
mod runbooks;
mod tokens;
mod writer;

use std::sync::Arc;

use sevwatch_core::{Policy, SealedEvent};
use tokio::sync::{broadcast, mpsc};

pub use db::Backend;
pub use error::StoreError;
pub use incidents::{IncidentVerification, ListFilter};
pub use runbooks::{Imported, RunbookRecord};
pub use tokens::TokenInfo;
pub use writer::{IncidentOp, Written};

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: db::Db,
    writer: mpsc::Sender<writer::WriteRequest>,
    events: broadcast::Sender<SealedEvent>,
    policy: Arc<Policy>,
}

impl Store {
    /// Connect, run the backend's migrations and start the writer task.
    pub async fn open(backend: &Backend, policy: Policy) -> Result<Store, StoreError> {
        let db = db::Db::connect(backend).await?;
        db.migrate().await?;
        let policy = Arc::new(policy);
        let (events, _) = broadcast::channel(4096);
        let writer = writer::spawn(db.clone(), policy.clone(), events.clone());
        Ok(Store { db, writer, events, policy })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        self.db.name()
    }

    /// Every event committed from now on, in commit order (this process's writes).
    pub fn subscribe(&self) -> broadcast::Receiver<SealedEvent> {
        self.events.subscribe()
    }

    /// A cheap round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}
