//! Phase checklists. Each incident gets its own copy of the configured items when it is
//! declared, so changing the configuration later never rewrites an incident's history. Items
//! are addressed as `<phase>.<id>`, e.g. `resolution.root-cause-identified`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Phase {
    Detection,
    Triage,
    Resolution,
    PostIncident,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Detection, Phase::Triage, Phase::Resolution, Phase::PostIncident];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Detection => "detection",
            Phase::Triage => "triage",
            Phase::Resolution => "resolution",
            Phase::PostIncident => "post-incident",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Phase::ALL.into_iter().find(|p| p.as_str() == norm).ok_or_else(|| {
            format!("unknown checklist phase {s:?} (expected detection, triage, resolution or post-incident)")
        })
    }
}

/// One configured checklist item, before it is copied into an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistTemplate {
    pub phase: Phase,
    pub id: String,
    pub text: String,
}

impl ChecklistTemplate {
    pub fn key(&self) -> String {
        format!("{}.{}", self.phase, self.id)
    }
}

/// One item of one incident's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistEntry {
    /// `<phase>.<id>`
    pub key: String,
    pub phase: Phase,
    pub text: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub checked_at: Option<Timestamp>,
    pub checked_by: Option<String>,
}

/// The default items: what the source runbooks ask responders to confirm in each phase,
/// written in our own words.
pub fn default_templates() -> Vec<ChecklistTemplate> {
    let items: &[(Phase, &str, &str)] = &[
        (Phase::Detection, "alert-acknowledged", "The alert or report has been acknowledged by a responder"),
        (Phase::Detection, "severity-assessed", "A first severity has been chosen"),
        (Phase::Detection, "incident-recorded", "The incident is recorded with a title and the affected service"),
        (Phase::Detection, "oncall-notified", "The on-call people this severity requires have been told"),
        (Phase::Triage, "production-impact", "We know whether production is affected"),
        (Phase::Triage, "blast-radius", "We have an estimate of how many users or agents are hit"),
        (Phase::Triage, "data-risk", "We know whether any data is at risk"),
        (Phase::Triage, "security-angle", "A security cause has been ruled in or out"),
        (Phase::Triage, "business-impact", "The business impact is written down"),
        (Phase::Resolution, "root-cause-identified", "The root cause is known and written down"),
        (Phase::Resolution, "fix-verified", "The fix is live in production and has been checked"),
        (Phase::Resolution, "systems-recovered", "Every affected system is back to normal"),
        (Phase::Resolution, "metrics-normal", "Error rates and latency are back at their baseline"),
        (Phase::Resolution, "customers-updated", "Customers have had the final update"),
        (Phase::Resolution, "record-updated", "The incident record reflects what was done"),
        (Phase::PostIncident, "timeline-documented", "The timeline is complete and reviewed"),
        (Phase::PostIncident, "postmortem-scheduled", "The post-mortem meeting is booked"),
        (Phase::PostIncident, "action-items-created", "Follow-up action items exist with owners"),
        (Phase::PostIncident, "lessons-captured", "Lessons learned are written up"),
        (Phase::PostIncident, "runbooks-updated", "Runbooks are updated where they fell short"),
    ];
    items
        .iter()
        .map(|(phase, id, text)| ChecklistTemplate { phase: *phase, id: id.to_string(), text: text.to_string() })
        .collect()
}

/// Copy templates into a fresh, unchecked checklist for one incident.
pub fn instantiate(templates: &[ChecklistTemplate]) -> Vec<ChecklistEntry> {
    templates
        .iter()
        .map(|t| ChecklistEntry {
            key: t.key(),
            phase: t.phase,
            text: t.text.clone(),
            checked_at: None,
            checked_by: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_phase_with_unique_keys() {
        let items = default_templates();
        for phase in Phase::ALL {
            assert!(items.iter().any(|i| i.phase == phase), "{phase} has no items");
        }
        let mut keys: Vec<String> = items.iter().map(|i| i.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), items.len());
        assert!(keys.contains(&"resolution.root-cause-identified".to_string()));
    }
}
