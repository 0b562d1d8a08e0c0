//! The only SQL that differs between SQLite and PostgreSQL. Everything else is written once.

/// Read an incident for update. PostgreSQL locks the row so that replicas sharing the database
/// serialise their writes to one incident; SQLite needs no lock because `BEGIN IMMEDIATE`
/// already holds the database's single write lock (and it rejects `FOR UPDATE`).
pub(crate) fn select_incident_for_update(postgres: bool) -> &'static str {
    if postgres {
        "SELECT state, last_hash FROM incidents WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT state, last_hash FROM incidents WHERE id = $1"
    }
}
