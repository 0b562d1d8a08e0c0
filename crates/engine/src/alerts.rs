//! One webhook request's alerts, and how the batch takes them in. Each alert is routed and
//! given its stored JSON on the request's own task ([`PreparedAlerts::new`]); the planner
//! ([`plan_alerts`], in `alert_one`) then decides, per route, against the batch's view.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use sevwatch_core::alert::{group_key_for, Alert, RouteMatch};
use sevwatch_core::{Command, IncidentId, SealedEvent, Severity, Timestamp};

use crate::alert_one::{self, Request};
use crate::command::follow_up;
use crate::{outbox, Rules, Working};

/// One webhook request's worth of alerts.
#[derive(Clone, Debug)]
pub struct AlertsOp {
    pub alerts: Vec<Alert>,
    /// Fingerprints (PagerDuty `dedup_key`s) whose incidents should be acknowledged.
    pub acknowledge: Vec<String>,
    /// The ingest token's name, recorded as the actor.
    pub actor: String,
    pub now: Timestamp,
}

/// An alert on one of its routes: an alert takes every route it matches (more than one only
/// through `continue`), and each route is its own group, so the extra routes track a copy of
/// the alert under `<fingerprint>@<route>`.
pub struct Routed {
    pub route: RouteMatch,
    pub group_key: String,
    /// The alert's severity on this route (the route's override, else the severity map).
    pub severity: Severity,
    /// The copy for an extra route (`None`: the alert itself).
    pub copy: Option<Alert>,
    /// The alert's JSON as stored, and its hash.
    pub json: String,
    pub content: u64,
}

/// An [`AlertsOp`] with each alert routed and its JSON made, off the single writer's path.
pub struct PreparedAlerts {
    pub op: AlertsOp,
    /// Per alert, its routes (the first is the alert itself).
    pub routed: Vec<Vec<Routed>>,
}

impl PreparedAlerts {
    pub fn new(op: AlertsOp, rules: &Rules, hasher: &RandomState) -> Self {
        let routed = op
            .alerts
            .iter()
            .map(|alert| {
                let routes = rules.alerts.route.routes_for(alert);
                routes
                    .into_iter()
                    .enumerate()
                    .map(|(i, route)| {
                        let copy = (i > 0).then(|| {
                            let mut copy = alert.clone();
                            copy.fingerprint = format!("{}@{}", alert.fingerprint, route.route_id);
                            copy
                        });
                        let a = copy.as_ref().unwrap_or(alert);
                        let json = alert_json(a);
                        let content = hasher.hash_one(&json);
                        let severity = route.severity.unwrap_or_else(|| rules.alerts.severity.severity_of(a));
                        Routed { group_key: group_key_for(&route, a), severity, route, copy, json, content }
                    })
                    .collect()
            })
            .collect();
        PreparedAlerts { op, routed }
    }

    /// Each alert on each of its routes.
    pub fn each(&self) -> impl Iterator<Item = (&Alert, &Routed)> {
        self.op
            .alerts
            .iter()
            .zip(&self.routed)
            .flat_map(|(a, rs)| rs.iter().map(move |r| (r.copy.as_ref().unwrap_or(a), r)))
    }
}

/// The alert as stored in `alerts.alert`. (Parsers refuse NUL; an escaped one from elsewhere
/// is replaced, since PostgreSQL refuses `\u0000` in text.)
fn alert_json(alert: &Alert) -> String {
    serde_json::to_string(alert).expect("alerts serialise").replace("\\u0000", "\u{fffd}")
}

#[derive(Clone, Debug, Default)]
pub struct AlertsWritten {
    pub accepted: usize,
    /// Incidents opened by this request.
    pub opened: Vec<IncidentId>,
    /// Incidents the alerts belong to, in order (`None` for alerts that opened nothing).
    pub incidents: Vec<Option<IncidentId>>,
    pub events: Vec<SealedEvent>,
}

/// Plan one request's alerts and acknowledgements.
pub fn plan_alerts(rules: &Rules, w: &mut Working, prepared: &PreparedAlerts) -> AlertsWritten {
    let op = &prepared.op;
    let mut out = AlertsWritten::default();
    let req = Request { actor: &op.actor, now: op.now };
    for (alert, routes) in op.alerts.iter().zip(&prepared.routed) {
        let mut first = None;
        for (i, routed) in routes.iter().enumerate() {
            let incident = alert_one::plan(rules, w, &req, routed.copy.as_ref().unwrap_or(alert), routed, &mut out);
            if i == 0 {
                first = incident;
            }
        }
        out.incidents.push(first);
        out.accepted += 1;
    }
    for fp in &op.acknowledge {
        if let Some(id) = w.record(fp).and_then(|r| r.incident) {
            // Already acknowledged (or resolved) is fine: the sender only tells us someone looked.
            follow_up(rules, w, id, Command::Acknowledge, &op.actor, op.now, &mut out.events);
        }
        out.accepted += 1;
    }
    outbox::plan(rules, w, &out.events, op.now);
    out
}
