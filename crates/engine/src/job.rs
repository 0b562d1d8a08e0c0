//! Durable timers as data: which kinds exist, how each is keyed, and the change a plan makes
//! to one (set it for a time, or remove it). The store keeps them as rows keyed by
//! [`Job::key`]; the keys are the ones earlier versions wrote, so stored timers keep firing.

use std::fmt;

use sevwatch_core::{IncidentId, Timestamp};

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// Page the escalation policy's steps that are due.
    Escalate,
    /// Check the SLA targets (response, resolution, update cadence).
    Sla,
    /// Resolve the incident if all its alerts stayed resolved long enough.
    AutoResolve,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [JobKind::Escalate, JobKind::Sla, JobKind::AutoResolve];

    /// The name stored in `jobs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Escalate => "escalate",
            JobKind::Sla => "sla",
            JobKind::AutoResolve => "auto_resolve",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One timer: at most one of each kind per incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Job {
    pub kind: JobKind,
    pub incident: IncidentId,
}

impl Job {
    pub fn new(kind: JobKind, incident: IncidentId) -> Job {
        Job { kind, incident }
    }

    /// The row's key: `escalate:INC-7`.
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.incident)
    }
}

/// What a plan does to a timer; the last change to a job in a batch is the one written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobChange {
    /// Create it, or move it, to fire at this time (its attempt count starts over).
    At(Timestamp),
    /// Remove it (fired, or no longer wanted).
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_stored_ones() {
        let id = IncidentId(7);
        assert_eq!(Job::new(JobKind::Escalate, id).key(), format!("escalate:{id}"));
        assert_eq!(Job::new(JobKind::AutoResolve, id).key(), format!("auto_resolve:{id}"));
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobKind::parse("nap"), None);
    }
}
