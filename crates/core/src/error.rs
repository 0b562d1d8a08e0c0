//! Why a command was refused. Only the variants callers branch on (they map to HTTP 422 / 409).

use crate::Status;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The command itself is malformed: a field is empty, too long or unknown. HTTP 422.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The lifecycle table does not allow this move. HTTP 409.
    #[error("cannot move an incident from {from} to {to}")]
    IllegalTransition { from: Status, to: Status },
    /// The command is well formed but conflicts with the incident's state. HTTP 409.
    #[error("{0}")]
    Conflict(String),
}

impl DomainError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError::Invalid { field: field.to_string(), message: message.into() }
    }
}
