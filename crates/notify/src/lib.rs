//! Sevwatch's communications: templates that turn an incident into the messages people read
//! (declaration, updates, resolution, escalation, customer notices, post-mortem reminders),
//! the channels that carry them (Slack, Discord, a signed generic webhook, SMTP email,
//! PagerDuty Events v2), routing by severity and service, and the retry contract every
//! channel answers with.
//!
//! Everything here is a library for the server's outbox worker and the CLI: the worker decides
//! *when* to send (timers and outbox rows live in the store); this crate decides *what* a
//! message says and *how* one delivery went. Rendering and routing are pure; only
//! [`Channel::deliver`] performs I/O, bounded by a per-request timeout so a hanging receiver
//! never holds up the others.

pub mod context;
pub mod templates;

pub use context::{context, human_duration, TemplateContext};
pub use templates::{Rendered, TemplateError, TemplateErrorKind, Templates};
