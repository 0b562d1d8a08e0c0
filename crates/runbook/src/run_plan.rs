//! What a run of a section copies: the steps of the chosen scenario (or of none, for a section
//! without scenarios), as the core's run steps, with each branch renumbered to the run's own
//! step numbers. One function for the server (which starts the run) and the CLI's dry run
//! (which shows it), so both show the same steps. Which scenario: the one named, else the one
//! whose label hints the incident's alert labels match; a section with scenarios and neither is
//! refused with the list, since walking every scenario is what a run must not do.
//!
//! Timed options ("rollback if unresolved after 30 min") are not copied (see
//! [`Section::steps_for`]): offering them when their time comes needs a durable timer.

use std::collections::{BTreeMap, HashMap};

use sevwatch_core::{BranchOutcome, RunBranch, RunStep, StepRisk};

use crate::model::{Outcome, PhaseKind, RiskClass, Section};

/// The steps to copy into a run, and the scenario they follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPlan {
    /// The scenario's short name ("B").
    pub scenario: Option<String>,
    /// How it was chosen: "named", "matched the alert labels", or none.
    pub chosen_by: Option<&'static str>,
    pub steps: Vec<RunStep>,
}

/// Why no plan could be made; each message lists what would work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{section:?} has no scenarios; run it without one")]
    NoScenarios { section: String },
    #[error("{section:?} has no scenario {wanted:?}; its scenarios: {list}")]
    UnknownScenario { section: String, wanted: String, list: String },
    #[error("{section:?} has scenarios and the incident's alert labels match none of them: choose one ({list})")]
    ChooseScenario { section: String, list: String },
}

/// `A (LLM API Errors); B (Network Errors)`.
pub fn scenario_list(section: &Section) -> String {
    section.scenarios().iter().map(|s| format!("{} ({})", s.name, s.trigger)).collect::<Vec<_>>().join("; ")
}

fn risk(class: RiskClass) -> StepRisk {
    match class {
        RiskClass::ReadOnly => StepRisk::ReadOnly,
        RiskClass::Mutating => StepRisk::Mutating,
        RiskClass::Destructive => StepRisk::Destructive,
        RiskClass::Unknown => StepRisk::Unknown,
    }
}

fn phase_name(k: PhaseKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "other".into())
}

/// The run of `section` for `scenario` (or the scenario `labels` match). A branch whose step
/// is not part of the run cannot be decided by that step's outcome, so it is left out.
pub fn plan(
    section: &Section,
    scenario: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> Result<RunPlan, PlanError> {
    let name = || section.title.clone();
    let (chosen, chosen_by) = match (scenario, section.scenarios().is_empty()) {
        (Some(_), true) => return Err(PlanError::NoScenarios { section: name() }),
        (None, true) => (None, None),
        (Some(wanted), false) => {
            let s = section.scenario(wanted).ok_or_else(|| PlanError::UnknownScenario {
                section: name(),
                wanted: wanted.to_string(),
                list: scenario_list(section),
            })?;
            (Some(s.name.clone()), Some("named"))
        }
        (None, false) => match section.scenario_for_labels(labels) {
            Some(s) => (Some(s.name.clone()), Some("matched the alert labels")),
            None => return Err(PlanError::ChooseScenario { section: name(), list: scenario_list(section) }),
        },
    };
    let refs = section.steps_for(chosen.as_deref()).expect("the scenario is one of the section's");
    let mut kept: Vec<_> = refs.iter().collect();
    // Drop branches whose deciding step is not kept, until none is left dangling.
    loop {
        let indexes: Vec<usize> = kept.iter().map(|r| r.index).collect();
        let before = kept.len();
        kept.retain(|r| r.step.branch.is_none_or(|b| indexes.contains(&b.after)));
        if kept.len() == before {
            break;
        }
    }
    let number: HashMap<usize, usize> = kept.iter().enumerate().map(|(i, r)| (r.index, i + 1)).collect();
    let steps = kept
        .iter()
        .map(|r| RunStep {
            title: r.step.title.clone(),
            command: r.step.command.clone(),
            risk: risk(r.step.risk.class),
            reason: r.step.risk.reason.clone(),
            phase: phase_name(r.phase.kind),
            branch: r.step.branch.map(|b| RunBranch {
                after: number[&b.after],
                on: match b.when {
                    Outcome::Success => BranchOutcome::Success,
                    Outcome::Failure => BranchOutcome::Failure,
                },
            }),
        })
        .collect();
    Ok(RunPlan { scenario: chosen, chosen_by, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = "# R\n\n## Incident: Errors\n\n### Diagnosis\n\n```bash\ncurl -s localhost/health\n```\n\n\
        ### Response Actions\n\n**Scenario A: LLM API Errors**\n\n```bash\nsystemctl restart a\n```\n\n\
        **Scenario B: Network Errors**\n\n```bash\nping -c 1 example.org\n```\n\n\
        ### Verification\n\n```bash\ncurl -s localhost/metrics\n```\n";

    #[test]
    fn a_section_with_scenarios_runs_one_of_them_and_refuses_to_guess() {
        let rb = crate::parse(MD);
        let sec = &rb.sections[0];
        let none = BTreeMap::new();
        let b = plan(sec, Some("b"), &none).unwrap();
        assert_eq!(b.scenario.as_deref(), Some("B"));
        let commands: Vec<&str> = b.steps.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(commands, ["curl -s localhost/health", "ping -c 1 example.org", "curl -s localhost/metrics"]);
        let err = plan(sec, None, &none).unwrap_err();
        assert!(err.to_string().contains("A (LLM API Errors); B (Network Errors)"), "{err}");
        assert!(matches!(plan(sec, Some("Z"), &none), Err(PlanError::UnknownScenario { .. })));
    }

    #[test]
    fn branches_are_renumbered_to_the_runs_steps() {
        let md = "# R\n\n## Fix\n\n```bash\necho diag\n# Attempt recovery\nrecover-db\n\
                  # If recovery succeeds, use it\nmv a b\n# If recovery fails, restore\ncp c b\n```\n";
        let rb = crate::parse(md);
        let p = plan(&rb.sections[0], None, &BTreeMap::new()).unwrap();
        let branches: Vec<Option<RunBranch>> = p.steps.iter().map(|s| s.branch).collect();
        assert_eq!(branches[0], None);
        assert_eq!(branches[2], Some(RunBranch { after: 2, on: BranchOutcome::Success }), "{p:?}");
        assert_eq!(branches[3], Some(RunBranch { after: 2, on: BranchOutcome::Failure }));
        assert!(matches!(plan(&rb.sections[0], Some("A"), &BTreeMap::new()), Err(PlanError::NoScenarios { .. })));
    }
}
