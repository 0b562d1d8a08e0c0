//! Who may do what through the API. Tokens carry one role; each route needs one [`Action`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AccessRole {
    /// Reads incidents and timelines.
    Viewer,
    /// Reads and changes incidents: declare, acknowledge, update, resolve.
    Responder,
    /// Sends alerts in, nothing else: what monitoring systems are given.
    Ingest,
    /// A responder that may also have the server itself run runbook steps (with
    /// `[runbooks] execute_on_server = true`): a separate grant, because it runs commands on the
    /// server's machine.
    Executor,
    /// Everything, including creating tokens.
    Admin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Respond,
    Ingest,
    /// Run a runbook step on the server's machine.
    ExecuteOnServer,
    Administer,
}

impl AccessRole {
    pub const ALL: [AccessRole; 5] =
        [AccessRole::Viewer, AccessRole::Responder, AccessRole::Ingest, AccessRole::Executor, AccessRole::Admin];

    pub fn allows(self, action: Action) -> bool {
        use AccessRole::*;
        match action {
            Action::Read => matches!(self, Viewer | Responder | Executor | Admin),
            Action::Respond => matches!(self, Responder | Executor | Admin),
            Action::Ingest => matches!(self, Ingest | Admin),
            Action::ExecuteOnServer => matches!(self, Executor | Admin),
            Action::Administer => self == Admin,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Viewer => "viewer",
            AccessRole::Responder => "responder",
            AccessRole::Ingest => "ingest",
            AccessRole::Executor => "executor",
            AccessRole::Admin => "admin",
        }
    }
}

impl fmt::Display for AccessRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AccessRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown token role {s:?} (expected viewer, responder, ingest, executor or admin)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_tokens_can_only_ingest_and_viewers_only_read() {
        assert!(AccessRole::Ingest.allows(Action::Ingest));
        assert!(!AccessRole::Ingest.allows(Action::Read));
        assert!(AccessRole::Viewer.allows(Action::Read));
        assert!(!AccessRole::Viewer.allows(Action::Respond));
        assert!(!AccessRole::Responder.allows(Action::Administer));
        assert!(AccessRole::ALL.iter().all(|r| AccessRole::Admin.allows(match r {
            AccessRole::Viewer => Action::Read,
            AccessRole::Responder => Action::Respond,
            AccessRole::Ingest => Action::Ingest,
            AccessRole::Executor => Action::ExecuteOnServer,
            AccessRole::Admin => Action::Administer,
        })));
        assert!(!AccessRole::Responder.allows(Action::ExecuteOnServer));
        assert!(AccessRole::Executor.allows(Action::Respond) && !AccessRole::Executor.allows(Action::Administer));
    }
}
