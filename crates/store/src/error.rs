//! What the store reports: only the cases callers handle differently, plus the database's own.

use sevwatch_core::{DomainError, IncidentId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(IncidentId),
    /// Something other than an incident does not exist (`no outbox message 12`).
    #[error("{0}")]
    Missing(String),
    /// The domain refused the command; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Stored data that does not decode (for example an event edited by hand).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The writer task is gone (the server is shutting down).
    #[error("the store is shutting down")]
    Closed,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
