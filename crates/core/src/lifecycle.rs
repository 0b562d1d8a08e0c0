//! The incident lifecycle: its states and the one table of legal transitions.
//!
//! ```text
//! triggered -> acknowledged -> investigating <-> identified <-> monitoring -> resolved -> closed
//!                                     ^------------------- reopen ------------------'--------'
//! ```
//! Every state change goes through [`check_transition`], so the table below is the only place
//! that says which moves are allowed and by which command.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    Triggered,
    Acknowledged,
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Closed,
}

/// The command through which a transition happens. The same pair of states can be legal by one
/// command and not by another: `resolved -> investigating` is a reopen, not a status update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Acknowledge,
    StatusUpdate,
    Resolve,
    Close,
    Reopen,
}

use Status::*;

/// Every legal transition: (from, to, via). Nothing else is allowed.
const TRANSITIONS: &[(Status, Status, Via)] = &[
    (Triggered, Acknowledged, Via::Acknowledge),
    (Triggered, Investigating, Via::StatusUpdate),
    (Triggered, Identified, Via::StatusUpdate),
    (Triggered, Monitoring, Via::StatusUpdate),
    (Acknowledged, Investigating, Via::StatusUpdate),
    (Acknowledged, Identified, Via::StatusUpdate),
    (Acknowledged, Monitoring, Via::StatusUpdate),
    (Investigating, Identified, Via::StatusUpdate),
    (Investigating, Monitoring, Via::StatusUpdate),
    (Identified, Investigating, Via::StatusUpdate),
    (Identified, Monitoring, Via::StatusUpdate),
    (Monitoring, Investigating, Via::StatusUpdate),
    (Monitoring, Identified, Via::StatusUpdate),
    (Triggered, Resolved, Via::Resolve),
    (Acknowledged, Resolved, Via::Resolve),
    (Investigating, Resolved, Via::Resolve),
    (Identified, Resolved, Via::Resolve),
    (Monitoring, Resolved, Via::Resolve),
    (Resolved, Closed, Via::Close),
    (Resolved, Investigating, Via::Reopen),
    (Closed, Investigating, Via::Reopen),
];

/// Ok when `via` may move an incident from `from` to `to`; otherwise the error names both states.
pub fn check_transition(from: Status, to: Status, via: Via) -> Result<(), DomainError> {
    if TRANSITIONS.contains(&(from, to, via)) {
        Ok(())
    } else {
        Err(DomainError::IllegalTransition { from, to })
    }
}

impl Status {
    pub const ALL: [Status; 7] = [Triggered, Acknowledged, Investigating, Identified, Monitoring, Resolved, Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Triggered => "triggered",
            Acknowledged => "acknowledged",
            Investigating => "investigating",
            Identified => "identified",
            Monitoring => "monitoring",
            Resolved => "resolved",
            Closed => "closed",
        }
    }

    /// Open means someone still has work to do before the incident can be resolved.
    pub fn is_open(self) -> bool {
        !matches!(self, Resolved | Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == lower)
            .ok_or_else(|| format!("unknown status {s:?} (expected one of triggered, acknowledged, investigating, identified, monitoring, resolved, closed)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_legal() {
        let path = [
            (Triggered, Acknowledged, Via::Acknowledge),
            (Acknowledged, Investigating, Via::StatusUpdate),
            (Investigating, Identified, Via::StatusUpdate),
            (Identified, Monitoring, Via::StatusUpdate),
            (Monitoring, Resolved, Via::Resolve),
            (Resolved, Closed, Via::Close),
            (Closed, Investigating, Via::Reopen),
        ];
        for (from, to, via) in path {
            assert!(check_transition(from, to, via).is_ok(), "{from} -> {to}");
        }
    }

    #[test]
    fn an_illegal_move_names_both_states() {
        let err = check_transition(Closed, Identified, Via::StatusUpdate).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("closed") && text.contains("identified"), "{text}");
        assert!(check_transition(Resolved, Investigating, Via::StatusUpdate).is_err());
        assert!(check_transition(Triggered, Closed, Via::Close).is_err());
    }

    #[test]
    fn no_transition_leaves_a_state_for_itself() {
        for (from, to, _) in TRANSITIONS {
            assert_ne!(from, to);
        }
    }
}
