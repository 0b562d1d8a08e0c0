//! Sevwatch's storage: one [`Store`] over an embedded SQLite file or PostgreSQL, chosen once at
//! start-up. Every query is written once in portable SQL (`$N` placeholders, `RETURNING`,
//! `ON CONFLICT`, integer-millisecond times, JSON as text); the few dialect differences live in
//! `dialect.rs`.
//!
//! Every write to an incident, an alert or a timer goes through a single writer per process
//! that batches concurrent requests into one transaction (group commit, `writer`): a
//! [`batch`] loads what its operations need, the pure `sevwatch_engine` decides every effect,
//! and the batch executes them and commits. Each caller gets its answer only after the commit,
//! so a success always means durable, and many callers share one fsync. The tables only the
//! writer writes are named in `owned`.

mod alert_rows;
mod alerts;
mod batch;
mod checkpoints;
mod db;
mod dialect;
mod error;
mod fanout;
mod incident_rows;
mod incidents;
mod jobs;
mod outbox;
mod owned;
mod repeat_log;
mod runbooks;
mod shared;
mod tokens;
mod users;
mod wal_sync;
mod warm;
mod writer;

use std::sync::Arc;

use sevwatch_core::alert::AlertConfig;
use sevwatch_core::{Config, Policy, SealedEvent};
use tokio::sync::{broadcast, mpsc};

pub use alerts::AlertRow;
pub use db::Backend;
pub use error::StoreError;
pub use incidents::{Anchor, Covered, IncidentVerification, ListFilter};
pub use outbox::{OutboxAttempt, OutboxFilter, OutboxItem, STATUSES as OUTBOX_STATUSES};
pub use repeat_log::FOLD_AT as REPEAT_LOG_FOLD_AT;
pub use runbooks::{Imported, Importer, NewRunbook, RunbookRecord};
pub use sevwatch_engine::{AlertsOp, AlertsWritten, IncidentOp, JobsFired, Written};
pub use tokens::TokenInfo;
pub use users::{UserRecord, UserSource};

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: db::Db,
    writer: mpsc::Sender<writer::WriteRequest>,
    events: broadcast::Sender<SealedEvent>,
    shared: Arc<shared::Shared>,
}

impl Store {
    /// Connect, run the backend's migrations and start the writer task, with the default alert
    /// rules.
    pub async fn open(backend: &Backend, policy: Policy) -> Result<Store, StoreError> {
        Self::open_with(backend, policy, AlertConfig::default()).await
    }

    /// Like [`Store::open`], with the `[alerts]` rules of the configuration.
    pub async fn open_with(backend: &Backend, policy: Policy, alerts: AlertConfig) -> Result<Store, StoreError> {
        Self::open_configured(backend, &Config { policy, alerts, ..Config::default() }).await
    }

    /// Open with every rule of a configuration: severity policy, alerts, on-call; notifications
    /// by default (the runbooks' routes, no channels, the built-in templates).
    pub async fn open_configured(backend: &Backend, config: &Config) -> Result<Store, StoreError> {
        let templates = Arc::new(sevwatch_notify::Templates::defaults());
        Self::open_full(backend, config, sevwatch_notify::NotifyConfig::default(), templates).await
    }

    /// Open with every rule, including the notification channels, routes and templates that
    /// decide what the outbox sends.
    pub async fn open_full(
        backend: &Backend,
        config: &Config,
        notify: sevwatch_notify::NotifyConfig,
        templates: Arc<sevwatch_notify::Templates>,
    ) -> Result<Store, StoreError> {
        let db = db::Db::connect(backend).await?;
        db.migrate().await?;
        let rules = sevwatch_engine::Rules {
            policy: config.policy.clone(),
            alerts: config.alerts.clone(),
            oncall: config.oncall.clone(),
            notify,
            templates,
        };
        let shared = Arc::new(shared::Shared::new(rules, matches!(db, db::Db::Sqlite(_))));
        let (events, _) = broadcast::channel(4096);
        // On SQLite the writer has a connection of its own that commits without waiting for
        // the disk; `wal_sync` answers its batches once they are durable.
        let (writer_db, sync) = match backend {
            Backend::Sqlite { path } => {
                let writer_db = db::Db::connect_sqlite_writer(path).await?;
                repeat_log::fold_on_open(&writer_db).await?;
                (writer_db, Some(wal_sync::spawn(path.clone(), events.clone())))
            }
            Backend::Postgres { .. } => (db.clone(), None),
        };
        let writer = writer::spawn(writer_db, sync, shared.clone(), events.clone());
        fanout::spawn_listener(db.clone(), shared.replica, events.clone());
        Ok(Store { db, writer, events, shared })
    }

    pub fn policy(&self) -> &Policy {
        &self.shared.rules.policy
    }

    pub fn alert_rules(&self) -> &AlertConfig {
        &self.shared.rules.alerts
    }

    pub fn oncall(&self) -> &sevwatch_core::oncall::OnCallConfig {
        &self.shared.rules.oncall
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        self.db.name()
    }

    /// Every event committed from now on: this process's writes in commit order, then (on
    /// PostgreSQL) other replicas' as their notifications arrive.
    pub fn subscribe(&self) -> broadcast::Receiver<SealedEvent> {
        self.events.subscribe()
    }

    /// A cheap round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}
