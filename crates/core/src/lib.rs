//! The pure domain core of Sevwatch: severity policy, the incident lifecycle, roles, phase
//! checklists, timeline events and their hash chain, SLA clocks, and the configuration that
//! shapes them. Nothing here performs I/O or reads a clock: every function that needs the time
//! takes `now` as an argument, so the rules can be tested with a fake clock.
//!
//! The central pair is [`decide`] (validate a [`Command`] against the current [`Incident`] and
//! produce events) and [`Incident::apply`] (fold one event into the state). The store persists
//! the events; the incident row it keeps is only a cache of the fold.

pub mod access;
pub mod alert;
pub mod chain;
pub mod checklist;
pub mod checkpoint;
pub mod command;
pub mod config;
pub mod duration;
pub mod error;
pub mod event;
pub mod id;
pub mod incident;
pub mod lifecycle;
pub mod oncall;
pub mod policy;
pub mod role;
pub mod runbook_run;
pub mod severity;
pub mod sla;
pub mod text;

pub use access::{AccessRole, Action};
pub use chain::{verify_chain, ChainProblem, ChainProblemKind};
pub use checklist::{ChecklistEntry, ChecklistTemplate, Phase};
pub use command::{decide, Command};
pub use config::{Config, ConfigProblem, RunbookConfig, ServerConfig};
pub use duration::Duration;
pub use error::DomainError;
pub use event::{Event, EventKind, SealedEvent};
pub use id::IncidentId;
pub use incident::{EscalationState, Incident};
pub use lifecycle::{Status, Via};
pub use policy::{LevelPolicy, Policy, Target};
pub use role::Role;
pub use runbook_run::{BranchOutcome, Confirmation, RunBranch, RunStep, RunbookRun, StepRisk, StepStatus};
pub use severity::Severity;
pub use sla::{Clock, SlaClocks};

/// Points in time throughout Sevwatch; re-exported so callers need not name `jiff`.
pub use jiff::Timestamp;
