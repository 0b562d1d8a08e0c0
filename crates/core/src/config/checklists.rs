//! The `[checklists]` table: a phase listed here replaces that phase's default items.

use super::check::Check;
use crate::checklist::{ChecklistTemplate, Phase};
use crate::Policy;

/// Each phase's key in `[checklists]`.
pub(super) const PHASES: [(&str, Phase); 4] = [
    ("detection", Phase::Detection),
    ("triage", Phase::Triage),
    ("resolution", Phase::Resolution),
    ("post_incident", Phase::PostIncident),
];

/// `resolution = [{ id = "rolled-back", text = "Rolled back" }]`, per phase.
pub(super) fn read(c: &Check<'_>, policy: &mut Policy) {
    c.known_keys(&PHASES.map(|(key, _)| key));
    for (key, phase) in PHASES.into_iter().filter(|(key, _)| c.has(key)) {
        let mut replacement: Vec<ChecklistTemplate> = Vec::new();
        for item in c.tables(key) {
            item.known_keys(&["id", "text"]);
            item.required("id", "");
            item.required("text", "");
            let id = item.kebab_id("id", "root-cause-identified");
            let text = item.string("text");
            if let Some(id) = id.as_ref().filter(|id| replacement.iter().any(|r| &&r.id == id)) {
                item.report("id", format!("duplicate item id {id:?}"));
            }
            if let (Some(id), Some(text)) = (id, text) {
                replacement.push(ChecklistTemplate { phase, id, text });
            }
        }
        policy.checklist.retain(|c| c.phase != phase);
        policy.checklist.extend(replacement);
    }
    policy.checklist.sort_by_key(|c| c.phase);
}
