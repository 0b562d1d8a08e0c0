//! SLA breaches as the incident keeps them: which target was missed and the deadline, written
//! `response@2026-05-01T10:05:00Z` in [`EscalationState::breached`](crate::EscalationState).
//! One breach per target and deadline is recorded; the key is how "already done" is known.

use std::fmt;
use std::str::FromStr;

use crate::Timestamp;

use super::{Recipient, SlaAction};

/// The SLA target a breach is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlaTarget {
    Response,
    Resolution,
    /// A status update that was due.
    Update,
}

impl SlaTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::Response => "response",
            SlaTarget::Resolution => "resolution",
            SlaTarget::Update => "update",
        }
    }
}

impl fmt::Display for SlaTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreachKey {
    pub target: SlaTarget,
    pub deadline: Timestamp,
}

impl fmt::Display for BreachKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.target, self.deadline)
    }
}

impl FromStr for BreachKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (target, at) = s.split_once('@').ok_or_else(|| format!("breach key {s:?} has no '@'"))?;
        let target = match target {
            "response" => SlaTarget::Response,
            "resolution" => SlaTarget::Resolution,
            "update" => SlaTarget::Update,
            other => return Err(format!("breach key {s:?}: unknown target {other:?}")),
        };
        let deadline = at.parse().map_err(|e| format!("breach key {s:?}: {e}"))?;
        Ok(BreachKey { target, deadline })
    }
}

impl SlaAction {
    /// The breach this action records.
    pub fn breach(&self) -> BreachKey {
        match self {
            SlaAction::ResponseBreached { deadline } => BreachKey { target: SlaTarget::Response, deadline: *deadline },
            SlaAction::ResolutionOverdue { deadline, .. } => {
                BreachKey { target: SlaTarget::Resolution, deadline: *deadline }
            }
            SlaAction::UpdateReminder { due, .. } => BreachKey { target: SlaTarget::Update, deadline: *due },
        }
    }

    /// The action a recorded breach stands for, for "already done" checks (who was told does
    /// not matter there).
    pub fn from_breach(key: BreachKey) -> SlaAction {
        match key.target {
            SlaTarget::Response => SlaAction::ResponseBreached { deadline: key.deadline },
            SlaTarget::Resolution => {
                SlaAction::ResolutionOverdue { deadline: key.deadline, notify: Recipient::IncidentChannel }
            }
            SlaTarget::Update => SlaAction::UpdateReminder { due: key.deadline, to: Recipient::IncidentChannel },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_in_the_stored_form() {
        let deadline: Timestamp = "2026-05-01T10:05:00Z".parse().unwrap();
        let key = SlaAction::ResponseBreached { deadline }.breach();
        assert_eq!(key.to_string(), "response@2026-05-01T10:05:00Z");
        assert_eq!(key.to_string().parse::<BreachKey>(), Ok(key));
        assert_eq!(SlaAction::from_breach(key), SlaAction::ResponseBreached { deadline });
        assert!("nap@2026-05-01T10:05:00Z".parse::<BreachKey>().is_err());
        assert!("response".parse::<BreachKey>().is_err());
    }
}
