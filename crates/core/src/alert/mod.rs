//! Alerts in: every webhook format Sevwatch accepts is normalised to one [`Alert`] (with a
//! stable fingerprint), then the pure rules decide what happens to it: which severity it maps
//! to, which route (service, team, escalation policy) it takes, which group it joins, whether a
//! silence, a maintenance window or an inhibiting P0 quiets it, and whether it opens, joins,
//! repeats or resolves an incident. Nothing here reads a clock or touches the network: the
//! ingest endpoint parses the body with a parser from [`source`], looks up the stored
//! [`AlertRecord`] and the group's open incident, and calls [`decide`] with `now`.

pub mod config;
mod decide;
mod flap;
mod group;
mod inhibit;
mod json;
pub mod limits;
mod maintenance;
mod matcher;
mod model;
mod route;
mod severity_map;
mod silence;
pub mod source;

pub use config::AlertConfig;
pub use decide::{auto_resolve, decide, AlertDecision, AlertOutcome, AlertRecord, AutoResolve, Ctx, Suppression};
pub use flap::FlapRule;
pub use group::{group_key, group_key_for};
pub use inhibit::inhibited;
pub use json::check_unique_keys;
pub use maintenance::{in_maintenance, MaintenanceWindow, Recurrence, WindowSchedule};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use model::{fingerprint, Alert, AlertSource, AlertStatus, Link, LinkKind, Notification, ParseError};
pub use route::{GroupBy, Route, RouteMatch};
pub use severity_map::SeverityMap;
pub use silence::{silences_alert, Silence};
