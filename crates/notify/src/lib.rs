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

pub mod channel;
pub mod config;
pub mod context;
pub mod delivery;
pub mod destination;
pub mod plan;
pub mod route;
pub mod settings;
pub mod templates;

pub use channel::webhook::verify_signature;
pub use channel::{deliver_all, http_client, Channel, HttpClient, Notification};
pub use config::{parse, ChannelConfig, ChannelKind, EmailConfig, NotifyConfig, OutboxSettings, Secret, SmtpTls};
pub use context::{context, human_duration, TemplateContext};
pub use delivery::{backoff, dead_letter, Delivery, RetryPolicy};
pub use destination::{Destinations, Network};
pub use plan::{plan, Planned, Recipient};
pub use route::{default_routes, route, ChannelRoute};
pub use templates::{Rendered, TemplateError, TemplateErrorKind, Templates};
