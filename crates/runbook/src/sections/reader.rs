//! Reads one section's blocks in order: labelled lines (`**Alert:**`, `**Severity:**`,
//! `**SLO:**`, `**Trigger:**`, symptoms), `alertname=` matchers, phases from sub-headings and
//! bold labels, and the steps of each code block, placing every step in its scenario, timed
//! option or branch, and keeping captured output as the previous step's expected output.

use super::flow::{branch_for, condition, names, scenario_label, Condition, Previous};
use super::labels::{
    alert_from_title, alertname_matchers, backticked_alert, bold_label, label_matchers, plain_label,
    severity_in_heading, strip_marks, time_window, window_start,
};
use super::{phase_kind, role, Role};
use crate::markdown::Block;
use crate::model::{Branch, Phase, PhaseKind, Scenario, Section, Step, TimedOption};
use crate::severity::{severity_in, severity_prefix};
use crate::steps::{steps_of_block, BlockStep};
use crate::ParseOptions;

/// Reads a section: its heading (`title` at `line`), the heading it is grouped under, and
/// the blocks it owns.
pub(super) fn read(title: &str, line: usize, group: Option<&str>, blocks: &[Block], options: &ParseOptions) -> Section {
    let aliases = &options.aliases;
    let mut section =
        Section { title: title.to_string(), line, group: group.map(str::to_string), ..Section::default() };
    section.severity = severity_prefix(title, aliases).map(|(s, _)| s).or_else(|| severity_in_heading(title, aliases));
    if let Some(alert) = alert_from_title(title, false).or_else(|| backticked_alert(title)) {
        section.alerts.push(alert);
    }
    let default_kind = phase_kind(title).or_else(|| group.and_then(phase_kind)).unwrap_or(PhaseKind::Other);
    let mut r = Reader {
        section,
        options,
        default_kind,
        symptoms_mode: false,
        scenario: None,
        option: None,
        option_in_item: false,
        window: None,
        heading_title: None,
        lead_in: None,
        label_condition: None,
        group_start: 0,
        prev_group_start: 0,
        placed: Vec::new(),
    };
    for block in blocks {
        r.block(block);
    }
    r.section.phases.retain(|p| !p.steps.is_empty() || !p.options.is_empty() || p.kind != PhaseKind::Other);
    r.section
}

/// The scenario steps are currently placed in.
struct ScenarioScope {
    index: usize,
    /// Level of the heading it came from; `None` for a bold label (ended by any heading).
    level: Option<u8>,
    /// The label gave no trigger: the next paragraph is it.
    wants_trigger: bool,
}

/// A condition from a label or lead-in, and the text it was read from.
#[derive(Clone)]
struct Pending {
    condition: Condition,
    subject: String,
    source: String,
}

/// What the reader remembers about each step it placed, by section step index.
struct Placed {
    condition_source: Option<String>,
    /// (phase, option) the step belongs to.
    option: Option<(usize, usize)>,
}

/// Mutable state while reading one section's blocks.
struct Reader<'o> {
    section: Section,
    options: &'o ParseOptions,
    default_kind: PhaseKind,
    symptoms_mode: bool,
    scenario: Option<ScenarioScope>,
    /// (phase, option) of the timed option steps are placed in, and whether it is a list
    /// item's (then only code inside list items belongs to it).
    option: Option<(usize, usize)>,
    option_in_item: bool,
    window: Option<String>,
    /// Title from a numbered sub-heading, for code blocks below it.
    heading_title: Option<String>,
    /// The prose directly before the next block (a paragraph), if any.
    lead_in: Option<String>,
    /// A condition from the last label ("**Step 2: If Restart Fails, Rollback**"), for every
    /// step up to the next label.
    label_condition: Option<Pending>,
    /// Index of the first step since the last label or heading, and of the group before.
    group_start: usize,
    prev_group_start: usize,
    placed: Vec<Placed>,
}

impl Reader<'_> {
    fn phase(&mut self) -> &mut Phase {
        if self.section.phases.is_empty() {
            let kind = self.default_kind;
            let title = self.section.title.clone();
            self.new_phase(kind, title, self.section.line);
        }
        self.section.phases.last_mut().expect("a phase was just ensured")
    }

    /// Starts a phase. Scenarios are ended by the caller, which knows whether the heading is
    /// inside the scenario's own heading.
    fn new_phase(&mut self, kind: PhaseKind, title: String, line: usize) {
        self.option = None;
        self.window = None;
        self.heading_title = None;
        self.new_group();
        self.section.phases.push(Phase { kind, title, line, steps: Vec::new(), options: Vec::new() });
    }

    /// A label or heading: conditions and step groups start again.
    fn new_group(&mut self) {
        self.label_condition = None;
        if self.group_start < self.placed.len() {
            self.prev_group_start = self.group_start;
        }
        self.group_start = self.placed.len();
    }

    fn block(&mut self, block: &Block) {
        let lead_in = self.lead_in.take();
        match block {
            Block::Heading { text, line, level } => self.heading(text, *line, *level),
            Block::Paragraph { text, line } => {
                self.paragraph(text, *line);
                self.lead_in = Some(text.clone());
            }
            Block::Item { text, line } => self.item(text, *line),
            Block::Code { lang, body, line, context } => self.code(lang, body, *line, context.as_deref(), lead_in),
        }
    }

    fn heading(&mut self, text: &str, line: usize, level: u8) {
        self.symptoms_mode = false;
        let inside_scenario = self.scenario.as_ref().is_some_and(|s| s.level.is_some_and(|l| level > l));
        if !inside_scenario {
            self.scenario = None;
        }
        match role(text, &self.options.aliases) {
            Role::Symptoms => self.symptoms_mode = true,
            Role::Numbered => {
                let title = strip_marks(text);
                self.phase();
                self.new_group();
                self.label_condition = self.pending(&title);
                self.heading_title = Some(title);
            }
            Role::Phase(k) => self.new_phase(k, text.to_string(), line),
            Role::Info => self.new_phase(PhaseKind::Other, text.to_string(), line),
            _ => {
                // An unlabelled sub-heading (or a scenario's) continues the phase before it.
                let kind = self.section.phases.last().map_or(self.default_kind, |p| p.kind);
                self.new_phase(kind, text.to_string(), line);
                if !inside_scenario {
                    self.start_scenario(text, line, Some(level));
                }
            }
        }
    }

    /// Starts a scenario when `label` is one ("Scenario B: Network Errors").
    fn start_scenario(&mut self, label: &str, line: usize, level: Option<u8>) -> bool {
        let Some((name, trigger)) = scenario_label(&strip_marks(label)) else {
            return false;
        };
        let index = match self.section.scenarios.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.section.scenarios.push(Scenario {
                    name,
                    title: strip_marks(label),
                    trigger: trigger.clone(),
                    labels: label_matchers(label).into_iter().collect(),
                    line,
                });
                self.section.scenarios.len() - 1
            }
        };
        self.scenario = Some(ScenarioScope { index, level, wants_trigger: trigger.is_empty() });
        true
    }

    fn pending(&self, text: &str) -> Option<Pending> {
        let (condition, subject) = condition(text)?;
        Some(Pending { condition, subject, source: text.to_string() })
    }

    fn code(&mut self, lang: &str, body: &str, line: usize, context: Option<&str>, lead_in: Option<String>) {
        for name in body.lines().flat_map(alertname_matchers) {
            self.add_alert(name);
        }
        let context =
            context.map(|c| strip_marks(c.split(" - ").next().unwrap_or(c)).trim_end_matches(':').to_string());
        let block = steps_of_block(
            lang,
            body,
            line,
            context.as_deref().or(self.heading_title.as_deref()),
            lead_in.as_deref(),
            self.options.classify,
        );
        if let Some(output) = block.leading_output {
            self.keep_output(output);
        }
        if block.steps.is_empty() {
            return;
        }
        self.symptoms_mode = false;
        // A code block outside any list item is not part of a listed option.
        if context.is_none() && self.option_in_item {
            self.option = None;
        }
        // A condition written just before the block ("If that fails:") or in the list item
        // around it applies to the whole block.
        let block_condition = context
            .as_deref()
            .and_then(|c| self.pending(c))
            .or_else(|| lead_in.as_deref().and_then(|l| self.pending(l.lines().last().unwrap_or(l))));
        for s in block.steps {
            self.place(s, block_condition.as_ref());
        }
    }

    /// Adds one step to the current phase, in the current scenario and option, with the
    /// branch its condition gives.
    fn place(&mut self, block_step: BlockStep, block_condition: Option<&Pending>) {
        let BlockStep { mut step, fresh_title } = block_step;
        let index = self.placed.len();
        step.scenario = self.scenario.as_ref().map(|s| self.section.scenarios[s.index].name.clone());
        step.window = self.window.clone();
        let own = fresh_title.then(|| step.title.as_deref().and_then(|t| self.pending(t))).flatten();
        let pending = own.as_ref().or(block_condition).or(self.label_condition.as_ref()).cloned();
        if let Some(p) = &pending {
            step.branch = self.branch(p, &step);
        }
        let source = step.branch.and(pending.map(|p| p.source));
        if let Some((phase, option)) = self.option {
            self.section.phases[phase].options[option].steps.push(index);
        }
        self.placed.push(Placed { condition_source: source, option: self.option });
        self.phase().steps.push(step);
    }

    /// The branch of a step with condition `p`, placed after the step before it in the same
    /// scenario and option; a condition with no such step before it is not a branch. A named
    /// subject ("If restart fails") waits for the latest step of this group or the group
    /// before that names it; a generic one ("If it fails") for the step just before.
    fn branch(&self, p: &Pending, step: &Step) -> Option<Branch> {
        let index = self.placed.len().checked_sub(1)?;
        let steps: Vec<&Step> = self.section.steps().collect();
        let prev = steps[index];
        let placed = &self.placed[index];
        if prev.scenario != step.scenario || placed.option != self.option {
            return None;
        }
        let decider = if p.subject.is_empty() {
            Some(index)
        } else {
            (self.prev_group_start.min(index)..=index).rev().find(|&i| {
                let s = steps[i];
                let same_place = s.scenario == step.scenario && self.placed[i].option == self.option;
                same_place && names(&p.subject, &format!("{} {}", s.title.as_deref().unwrap_or(""), s.command))
            })
        };
        let previous = Previous { branch: prev.branch, condition_source: placed.condition_source.as_deref() };
        branch_for(p.condition, &p.source, &previous, decider)
    }

    /// Captured output before any command of its block: what the step before printed.
    fn keep_output(&mut self, output: String) {
        if let Some(prev) = self.section.phases.iter_mut().rev().find_map(|p| p.steps.last_mut()) {
            match &mut prev.expected_output {
                Some(existing) => {
                    existing.push('\n');
                    existing.push_str(&output);
                }
                None => prev.expected_output = Some(output),
            }
        }
    }

    fn add_alert(&mut self, name: String) {
        if !name.is_empty() && !self.section.alerts.contains(&name) {
            self.section.alerts.push(name);
        }
    }

    fn paragraph(&mut self, text: &str, line: usize) {
        if let Some(scope) = &mut self.scenario {
            let scenario = &mut self.section.scenarios[scope.index];
            scenario.labels.extend(text.lines().flat_map(label_matchers).filter(|(k, _)| k != "alertname"));
            if std::mem::take(&mut scope.wants_trigger) && bold_label(text).is_none() {
                let first = text.split(". ").next().unwrap_or(text);
                scenario.trigger = strip_marks(first).replace('\n', " ");
            }
        }
        for (n, l) in text.lines().enumerate() {
            for name in alertname_matchers(l) {
                self.add_alert(name);
            }
            let Some((label, rest)) = bold_label(l).or_else(|| plain_label(l)) else {
                continue;
            };
            let key = label.to_lowercase();
            match key.as_str() {
                "alert" | "alerts" | "alertname" | "alert name" => {
                    for a in rest.split([',', ' ']).map(|a| a.trim().trim_matches('`')) {
                        self.add_alert(a.to_string());
                    }
                }
                "severity" | "priority" | "level" if self.section.severity.is_none() => {
                    self.section.severity = severity_in(&rest, &self.options.aliases);
                }
                "slo" => self.section.slo = Some(strip_marks(&rest)),
                "trigger" | "threshold" | "condition" => self.section.trigger = Some(strip_marks(&rest)),
                _ if key.starts_with("symptom") => {
                    self.symptoms_mode = true;
                    if !rest.is_empty() {
                        self.section.symptoms.push(strip_marks(&rest));
                    }
                }
                _ if rest.is_empty() && n == 0 && text.lines().count() == 1 => self.label(&label, line),
                _ => {}
            }
        }
    }

    /// A paragraph that is only a bold label: a phase, a scenario, a timed option, or a step
    /// group (possibly with a condition: "**Step 2: If Restart Fails, Rollback**").
    fn label(&mut self, label: &str, line: usize) {
        self.symptoms_mode = false;
        let key = label.to_lowercase();
        let window = time_window(label);
        let phase = phase_kind(label).filter(|_| !key.starts_with("step") && scenario_label(label).is_none());
        match phase {
            Some(kind)
                if self
                    .section
                    .phases
                    .last()
                    .is_none_or(|p| p.kind != kind || p.steps.is_empty() || key.len() < 16) =>
            {
                self.scenario = None;
                self.new_phase(kind, label.to_string(), line);
                self.window = window;
            }
            _ => {
                self.phase();
                self.new_group();
                if self.start_scenario(label, line, None) {
                    return;
                }
                if window.as_deref().is_some_and(|w| w.to_lowercase().contains("after")) {
                    self.timed_option(label, "", line);
                    self.option_in_item = false;
                    return;
                }
                self.label_condition = self.pending(strip_step_number(label));
                self.window = window;
            }
        }
    }

    fn item(&mut self, text: &str, line: usize) {
        for name in alertname_matchers(text) {
            self.add_alert(name);
        }
        if self.symptoms_mode {
            self.section.symptoms.push(strip_marks(text));
            return;
        }
        if let Some(scope) = &self.scenario {
            let labels = label_matchers(text).into_iter().filter(|(k, _)| k != "alertname");
            self.section.scenarios[scope.index].labels.extend(labels);
        }
        let in_mitigation = self.section.phases.last().is_some_and(|p| p.kind == PhaseKind::Mitigation);
        if let Some((label, rest)) = bold_label(text) {
            let timed = time_window(&label).is_some_and(|w| w.to_lowercase().contains("after"));
            if in_mitigation || timed {
                self.timed_option(&label, &rest, line);
                self.option_in_item = true;
            }
        }
    }

    /// A listed option: "**Rollback (if unresolved after 30 min):** revert the deploy".
    fn timed_option(&mut self, label: &str, rest: &str, line: usize) {
        let window = time_window(label);
        let text = strip_marks(rest);
        let after = window.as_deref().and_then(window_start).or_else(|| {
            // "**Incident Commander:** Activate if unresolved after 5 min"
            let lower = text.to_lowercase();
            lower.find("after ").and_then(|i| window_start(&lower[i..]))
        });
        let label_clean = label.split('(').next().unwrap_or(label).trim().to_string();
        self.phase();
        let phase = self.section.phases.len() - 1;
        let options = &mut self.section.phases[phase].options;
        options.push(TimedOption { label: label_clean, window: window.clone(), after, text, line, steps: Vec::new() });
        self.option = Some((phase, options.len() - 1));
        self.window = window;
        self.new_group();
    }
}

/// "Step 2: If Restart Fails, Rollback (2-5 minutes)" -> "If Restart Fails, Rollback (2-5
/// minutes)".
fn strip_step_number(label: &str) -> &str {
    let lower = label.to_lowercase();
    if lower.starts_with("step ") {
        if let Some((_, rest)) = label.split_once([':', '.', '-']) {
            return rest.trim();
        }
    }
    label
}
