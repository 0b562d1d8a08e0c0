//! PagerDuty Events API v2, outbound: Sevwatch incidents become PagerDuty alerts for teams
//! that page through PagerDuty. The incident id is the `dedup_key`, so every message about one
//! incident lands on the same PagerDuty alert: the first triggers it, acknowledging in
//! Sevwatch acknowledges it, resolving resolves it.

use serde_json::{json, Value};
use sevwatch_core::{Severity, Status};

use super::{truncate, Notification};

/// The Events v2 action for an incident in `status`.
pub fn action(status: Status) -> &'static str {
    match status {
        Status::Triggered => "trigger",
        Status::Resolved | Status::Closed => "resolve",
        Status::Acknowledged | Status::Investigating | Status::Identified | Status::Monitoring => "acknowledge",
    }
}

/// PagerDuty's four severities; P3 and P4 are both `info`.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::P0 => "critical",
        Severity::P1 => "error",
        Severity::P2 => "warning",
        Severity::P3 | Severity::P4 => "info",
    }
}

/// The event to enqueue. Acknowledge and resolve events carry only the key and action, as
/// the API asks; a trigger carries the payload (summary at most 1024 characters).
pub fn event(n: &Notification, routing_key: &str) -> Value {
    let action = action(n.status);
    let mut v = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": n.incident_id,
    });
    if action == "trigger" {
        v["payload"] = json!({
            "summary": truncate(&format!("[{}] {}: {}", n.severity, n.incident_id, n.title), 1024),
            "source": n.service.as_deref().unwrap_or("sevwatch"),
            "severity": severity(n.severity),
            "component": n.service,
            "class": n.severity.as_str(),
            "custom_details": {
                "status": n.status,
                "commander": n.commander,
                "message": n.body,
            },
        });
        v["client"] = json!("Sevwatch");
        if let Some(link) = &n.link {
            v["client_url"] = json!(link);
            v["links"] = json!([{ "href": link, "text": format!("{} in Sevwatch", n.incident_id) }]);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_maps_onto_trigger_acknowledge_and_resolve() {
        let actions: Vec<&str> = Status::ALL.iter().map(|s| action(*s)).collect();
        assert_eq!(
            actions,
            ["trigger", "acknowledge", "acknowledge", "acknowledge", "acknowledge", "resolve", "resolve"]
        );
    }

    #[test]
    fn severities_map_onto_pagerdutys_four() {
        let s: Vec<&str> = Severity::ALL.iter().map(|s| severity(*s)).collect();
        assert_eq!(s, ["critical", "error", "warning", "info", "info"]);
    }
}
