//! The JSON shapes the API returns: an incident with its SLA clocks and events, and timeline
//! events with a one-line human summary. Computed at the edge from core types and `now`.

use serde::Serialize;
use sevwatch_core::sla::clocks;
use sevwatch_core::{Incident, Policy, SealedEvent, SlaClocks, Timestamp};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct EventView {
    /// `INC-<n>`
    pub incident: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    /// The event type, e.g. `declared`, `acknowledged`, `note_added`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The event's own fields.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// One line for humans.
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&SealedEvent> for EventView {
    fn from(e: &SealedEvent) -> Self {
        let mut data = serde_json::to_value(&e.event.kind).expect("event kinds serialise");
        if let Some(obj) = data.as_object_mut() {
            obj.remove("type");
        }
        EventView {
            incident: e.incident.to_string(),
            seq: e.seq,
            at: e.event.at.to_string(),
            actor: e.event.actor.clone(),
            kind: e.event.kind.type_name().to_string(),
            data,
            summary: e.event.kind.describe(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// An incident as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    /// Human severity name from the policy, e.g. `Critical`.
    pub severity_name: String,
    pub sla: SlaClocks,
    /// For a command: the events it appended. For a read: the most recent events.
    pub events: Vec<EventView>,
    /// On a read: runbook sections matching this incident, best first, with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub suggested_runbooks: Option<Vec<sevwatch_runbook::Suggestion>>,
}

impl IncidentView {
    pub fn new(incident: Incident, events: &[SealedEvent], policy: &Policy, now: Timestamp) -> Self {
        IncidentView {
            sla: clocks(&incident, policy, now),
            severity_name: policy.level(incident.severity).name.clone(),
            events: events.iter().map(EventView::from).collect(),
            incident,
            suggested_runbooks: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
