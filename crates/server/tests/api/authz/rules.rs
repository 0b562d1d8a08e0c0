//! What each documented route asks of its caller, and which roles may act: the table the
//! authorization matrix in `authz.rs` checks the server against.

use sevwatch_core::{AccessRole, Action};

/// What a route asks of its caller.
#[derive(Clone, Copy, Debug)]
pub(super) enum Rule {
    /// No token is read.
    Public,
    /// The handler calls `caller.require(action)`.
    Needs(Action),
    /// PagerDuty Events v2: the body's `routing_key` must be an ingest (or admin) token.
    RoutingKey,
}

pub(super) use Rule::{Needs, Public, RoutingKey};

/// The action each documented (method, path) requires, read from the handlers
/// (`grep -n "require(" crates/server/src/routes/*.rs`).
pub(super) const RULES: &[(&str, &str, Rule)] = &[
    ("GET", "/healthz", Public),
    ("GET", "/readyz", Public),
    ("POST", "/api/v1/incidents", Needs(Action::Respond)),
    ("GET", "/api/v1/incidents", Needs(Action::Read)),
    ("GET", "/api/v1/incidents/{id}", Needs(Action::Read)),
    ("POST", "/api/v1/incidents/{id}/ack", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/assign", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/status", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/severity", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/notes", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/check", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/uncheck", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/resolve", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/close", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/reopen", Needs(Action::Respond)),
    ("GET", "/api/v1/incidents/{id}/timeline", Needs(Action::Read)),
    ("GET", "/api/v1/incidents/{id}/verify", Needs(Action::Read)),
    ("GET", "/api/v1/verify", Needs(Action::Read)),
    ("POST", "/api/v1/tokens", Needs(Action::Administer)),
    ("GET", "/api/v1/tokens", Needs(Action::Administer)),
    ("DELETE", "/api/v1/tokens/{id}", Needs(Action::Administer)),
    ("GET", "/api/v1/events/stream", Needs(Action::Read)),
    ("POST", "/api/v1/ingest/alertmanager", Needs(Action::Ingest)),
    ("POST", "/api/v1/ingest/grafana", Needs(Action::Ingest)),
    ("POST", "/api/v1/ingest/generic", Needs(Action::Ingest)),
    ("POST", "/v2/enqueue", RoutingKey),
    ("GET", "/api/v1/alerts", Needs(Action::Read)),
    ("POST", "/api/v1/silences", Needs(Action::Respond)),
    ("GET", "/api/v1/silences", Needs(Action::Read)),
    ("DELETE", "/api/v1/silences/{id}", Needs(Action::Respond)),
    ("GET", "/api/v1/schedules", Needs(Action::Read)),
    ("GET", "/api/v1/schedules/{id}/oncall", Needs(Action::Read)),
    ("GET", "/api/v1/schedules/{id}/calendar.ics", Needs(Action::Read)),
    ("GET", "/api/v1/escalation-policies", Needs(Action::Read)),
    ("POST", "/api/v1/incidents/{id}/escalate", Needs(Action::Respond)),
    ("GET", "/api/v1/incidents/{id}/comms/{template}", Needs(Action::Read)),
    ("POST", "/api/v1/incidents/{id}/comms/{template}", Needs(Action::Respond)),
    ("GET", "/api/v1/outbox", Needs(Action::Read)),
    ("GET", "/api/v1/outbox/{id}", Needs(Action::Read)),
    ("POST", "/api/v1/outbox/{id}/retry", Needs(Action::Respond)),
    ("POST", "/api/v1/outbox/retry", Needs(Action::Respond)),
    ("GET", "/api/v1/users", Needs(Action::Read)),
    ("GET", "/api/v1/users/{id}", Needs(Action::Read)),
    ("PUT", "/api/v1/users/{id}", Needs(Action::Administer)),
    ("DELETE", "/api/v1/users/{id}", Needs(Action::Administer)),
    ("POST", "/api/v1/runbooks", Needs(Action::Respond)),
    ("GET", "/api/v1/runbooks", Needs(Action::Read)),
    ("GET", "/api/v1/runbooks/{name}", Needs(Action::Read)),
    ("POST", "/api/v1/incidents/{id}/runbook-runs", Needs(Action::Respond)),
    ("GET", "/api/v1/incidents/{id}/runbook-runs/{run}", Needs(Action::Read)),
    ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/start", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/result", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/skip", Needs(Action::Respond)),
    ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/interrupt", Needs(Action::Respond)),
];

/// Which roles may perform an action, written out here rather than taken from
/// `AccessRole::allows`, so that a mistake there fails this test instead of agreeing with it.
pub(super) fn may(role: AccessRole, action: Action) -> bool {
    use AccessRole::*;
    let roles: &[AccessRole] = match action {
        Action::Read => &[Viewer, Responder, Executor, Admin],
        Action::Respond => &[Responder, Executor, Admin],
        Action::Ingest => &[Ingest, Admin],
        Action::ExecuteOnServer => &[Executor, Admin],
        Action::Administer => &[Admin],
    };
    roles.contains(&role)
}
