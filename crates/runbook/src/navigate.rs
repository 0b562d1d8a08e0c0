//! Walking a parsed section the way its author meant it: the steps every run takes, the steps
//! of one chosen scenario, the alternatives that wait for an earlier step's outcome, and the
//! timed options offered later. Steps are named by their index in [`Section::steps`] order,
//! the one numbering [`Branch::after`] and [`TimedOption::steps`] use; a run that copies a
//! subset of the steps keeps these indexes to find the alternatives again.
//!
//! Who uses it: runs (which steps to copy, which choice to ask after a step), the CLI and API
//! (`--scenario B`, listing scenarios), and the linter (what is defined before a step).

use std::collections::BTreeMap;

use crate::model::{Branch, Outcome, Phase, Scenario, Section, Step, TimedOption};

/// One step with its place in the section.
#[derive(Clone, Copy, Debug)]
pub struct StepRef<'a> {
    /// Index in [`Section::steps`] order.
    pub index: usize,
    pub phase: &'a Phase,
    pub step: &'a Step,
}

impl Section {
    /// All steps of all phases, in document order: the alternatives of every scenario and
    /// branch and the steps of timed options included.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.phases.iter().flat_map(|p| p.steps.iter())
    }

    /// [`Section::steps`] with each step's index and phase.
    pub fn indexed_steps(&self) -> impl Iterator<Item = StepRef<'_>> {
        self.phases
            .iter()
            .flat_map(|phase| phase.steps.iter().map(move |step| (phase, step)))
            .enumerate()
            .map(|(index, (phase, step))| StepRef { index, phase, step })
    }

    /// The step at `index` in [`Section::steps`] order.
    pub fn step(&self, index: usize) -> Option<&Step> {
        self.steps().nth(index)
    }

    /// The section's scenarios, in document order (empty when it has none).
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The scenario called `name`: its short name ("B"), its title, or its title up to the
    /// colon ("Scenario B"), compared case-insensitively.
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        let wanted = name.trim();
        self.scenarios.iter().find(|s| {
            s.name.eq_ignore_ascii_case(wanted)
                || s.title.eq_ignore_ascii_case(wanted)
                || s.title.split(':').next().is_some_and(|head| head.trim().eq_ignore_ascii_case(wanted))
        })
    }

    /// The steps a run takes: every step outside scenarios and timed options, plus the steps
    /// of `scenario` when one is named, in document order. Branch alternatives are included,
    /// marked by [`Step::branch`]; a run takes one of each group (see
    /// [`Section::alternatives_after`]). `None` when `scenario` names no scenario of this
    /// section. With `scenario` `None` a section that has scenarios yields only its common
    /// steps: which scenario applies is for the responder (or the alert's labels) to say.
    pub fn steps_for(&self, scenario: Option<&str>) -> Option<Vec<StepRef<'_>>> {
        let chosen = match scenario {
            Some(name) => Some(self.scenario(name)?.name.as_str()),
            None => None,
        };
        let in_option = self.option_step_indexes();
        Some(
            self.indexed_steps()
                .filter(|r| !in_option.contains(&r.index))
                .filter(|r| r.step.scenario.is_none() || r.step.scenario.as_deref() == chosen)
                .collect(),
        )
    }

    /// The scenario whose label hints all match `labels` (alert labels), when exactly one
    /// scenario with hints does.
    pub fn scenario_for_labels(&self, labels: &BTreeMap<String, String>) -> Option<&Scenario> {
        let mut matching = self.scenarios.iter().filter(|s| s.matches(labels));
        let first = matching.next()?;
        matching.next().is_none().then_some(first)
    }

    /// The alternatives that wait for the outcome of step `index`, in document order (empty
    /// when none do). Each has `branch.after == index`.
    pub fn alternatives_after(&self, index: usize) -> Vec<StepRef<'_>> {
        self.indexed_steps().filter(|r| r.step.branch.is_some_and(|b| b.after == index)).collect()
    }

    /// Every timed option of every phase, in document order.
    pub fn timed_options(&self) -> impl Iterator<Item = &TimedOption> {
        self.phases.iter().flat_map(|p| p.options.iter())
    }

    /// The steps of one timed option.
    pub fn option_steps(&self, option: &TimedOption) -> Vec<StepRef<'_>> {
        self.indexed_steps().filter(|r| option.steps.contains(&r.index)).collect()
    }

    fn option_step_indexes(&self) -> Vec<usize> {
        self.timed_options().flat_map(|o| o.steps.iter().copied()).collect()
    }
}

impl Scenario {
    /// True when the scenario names label hints and `labels` has every one of them.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.labels.is_empty() && self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

impl Step {
    /// True when the step runs only after an earlier step's outcome.
    pub fn is_branch(&self) -> bool {
        self.branch.is_some()
    }

    /// True when the step applies after `outcome` of step `index`.
    pub fn applies_after(&self, index: usize, outcome: Outcome) -> bool {
        self.branch == Some(Branch { after: index, when: outcome })
    }
}
