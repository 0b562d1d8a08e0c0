//! On-call: who can be paged ([`User`]), who is on call when ([`Schedule`]: layers of
//! rotations in IANA time zones, plus overrides), how a page climbs when nobody answers
//! ([`EscalationPolicy`] and the pure calculator [`escalate`]), what the SLA targets demand
//! ([`sla_actions`]), and the calendar export ([`to_ics`]). Everything here is a function of
//! its inputs and the `now` passed in; the engine owns timers, storage and delivery.

pub mod breach;
pub mod config;
pub mod defaults;
pub mod escalate;
pub mod escalation;
pub mod ics;
mod references;
pub mod rotation;
pub mod schedule;
pub mod sla_actions;
pub mod user;

pub use breach::{BreachKey, SlaTarget};
pub use config::{is_id, parse, OnCallConfig};
pub use escalate::{escalate, timeline, DueStep, Escalation, EscalationInput, Resolved, StepRef};
pub use escalation::{BusinessHours, EscalationPolicy, Step, Target};
pub use ics::to_ics;
pub use rotation::Rotation;
pub use schedule::{oncall, shifts, Layer, OnCall, Override, Schedule, Shift};
pub use sla_actions::{sla_actions, Recipient, SlaAction, SlaDecision, SlaInput};
pub use user::{ContactMethod, User};
