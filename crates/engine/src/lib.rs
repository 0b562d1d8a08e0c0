//! Sevwatch's write rules, pure: given what the store loaded for a batch (a [`Working`]), each
//! planner decides everything an operation causes and records it as data in
//! [`Effects`]: sealed events, incident rows, alert rows, group heads, timers ([`Job`]) and
//! outbox messages. The store loads, calls a planner, and executes the effects in one
//! transaction; it decides nothing. Nothing here performs I/O or reads a clock.
//!
//! - [`plan_command`]: an incident command, and what follows it (paging on a declaration or
//!   an "escalate now", SLA checks moved by a severity change or a reopen);
//! - [`plan_alerts`]: one webhook request's alerts (open, join, repeat, raise, resolve,
//!   auto-resolve, flapping, silences, maintenance, inhibition);
//! - [`plan_jobs`]: timers that fell due (escalation steps, SLA checks, auto-resolve).
//!
//! [`needs`] says what a batch must load first.

mod alert_one;
mod alerts;
mod command;
mod effects;
mod escalation;
mod job;
mod jobs;
pub mod needs;
mod outbox;
mod rules;
mod working;

pub use alerts::{plan_alerts, AlertsOp, AlertsWritten, PreparedAlerts, Routed};
pub use command::{plan_command, IncidentOp, Refusal, Written};
pub use effects::{AlertWrite, AlertWrites, Effects, OutboxMessage};
pub use escalation::ENGINE;
pub use job::{Job, JobChange, JobKind};
pub use jobs::{plan_jobs, JobsFired};
pub use rules::Rules;
pub use working::{Known, Parts, Slot, Working};

#[cfg(test)]
mod tests;
