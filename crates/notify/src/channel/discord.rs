//! Discord webhooks: one embed per message, its colour showing the severity (green once
//! resolved), with severity, status, commander and service as inline fields. Mentions are
//! disabled, so an `@everyone` in an incident's text stays text.

use serde_json::{json, Value};
use sevwatch_core::{Severity, Status};

use super::{truncate, Notification};

/// Discord's limits: embed title 256 characters, description 4096, field value 1024.
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELD_MAX: usize = 1024;

/// The embed colour (0xRRGGBB): red, orange, amber, blue and grey from P0 to P4; green when
/// the incident is resolved or closed, so a channel's history reads at a glance.
pub fn colour(severity: Severity, status: Status) -> u32 {
    if !status.is_open() {
        return 0x2E7D32;
    }
    match severity {
        Severity::P0 => 0xC62828,
        Severity::P1 => 0xEF6C00,
        Severity::P2 => 0xF9A825,
        Severity::P3 => 0x1565C0,
        Severity::P4 => 0x757575,
    }
}

fn field(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": truncate(value, FIELD_MAX), "inline": true })
}

/// The JSON body for a Discord webhook.
pub fn payload(n: &Notification) -> Value {
    let mut fields = vec![
        field("Severity", n.severity.as_str()),
        field("Status", n.status.as_str()),
        field("Commander", n.commander.as_deref().unwrap_or("unassigned")),
    ];
    if let Some(svc) = &n.service {
        fields.push(field("Service", svc));
    }
    let mut embed = json!({
        "title": truncate(&n.subject, TITLE_MAX),
        "description": truncate(&n.body, DESCRIPTION_MAX),
        "color": colour(n.severity, n.status),
        "fields": fields,
        "footer": { "text": format!("{} · Sevwatch", n.incident_id) },
    });
    if let Some(link) = &n.link {
        embed["url"] = json!(link);
    }
    json!({
        "username": "Sevwatch",
        "embeds": [embed],
        "allowed_mentions": { "parse": [] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_red_to_grey_and_turn_green_when_resolved() {
        let open: Vec<u32> = Severity::ALL.iter().map(|s| colour(*s, Status::Investigating)).collect();
        assert_eq!(open, [0xC62828, 0xEF6C00, 0xF9A825, 0x1565C0, 0x757575]);
        assert_eq!(colour(Severity::P0, Status::Resolved), 0x2E7D32);
        assert_eq!(colour(Severity::P3, Status::Closed), 0x2E7D32);
    }
}
