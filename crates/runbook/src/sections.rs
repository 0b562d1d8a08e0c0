//! Builds the runbook structure from flat Markdown blocks: decides which headings are
//! incident types or procedures (sections) and which are phases inside them. Reading one
//! section's blocks (labelled lines, steps, scenarios, branches, timed options) is
//! `reader.rs`; the labelled forms are `labels.rs`, the prose control flow `flow.rs`.

mod flow;
mod labels;
mod reader;

use crate::markdown::Block;
use crate::model::{PhaseKind, Section};
use crate::severity::{is_level_word, severity_prefix, Aliases};
use crate::ParseOptions;
use labels::{alert_from_title, bold_label};

/// What a heading means to the structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Symptoms,
    Info,
    Phase(PhaseKind),
    Numbered,
    SeverityDefinition,
    Incident,
    /// "Scenario B: Network errors", "Option 2: ...": an alternative inside the section.
    Scenario,
    Topic,
}

/// Phase keywords, checked in order (so "Rollback Steps" is rollback, "Diagnosis Steps"
/// diagnosis).
const PHASE_WORDS: &[(&str, PhaseKind)] = &[
    ("rollback", PhaseKind::Rollback),
    ("roll back", PhaseKind::Rollback),
    ("revert", PhaseKind::Rollback),
    ("verif", PhaseKind::Verification),
    ("validat", PhaseKind::Verification),
    ("confirm", PhaseKind::Verification),
    ("post-recovery", PhaseKind::Verification),
    ("prevent", PhaseKind::Prevention),
    ("post-incident", PhaseKind::Prevention),
    ("post-mortem", PhaseKind::Prevention),
    ("postmortem", PhaseKind::Prevention),
    ("lessons", PhaseKind::Prevention),
    ("follow-up", PhaseKind::Prevention),
    ("mitigat", PhaseKind::Mitigation),
    ("workaround", PhaseKind::Mitigation),
    ("diagnos", PhaseKind::Diagnosis),
    ("investigat", PhaseKind::Diagnosis),
    ("troubleshoot", PhaseKind::Diagnosis),
    ("triage", PhaseKind::Diagnosis),
    ("detect", PhaseKind::Diagnosis),
    ("assess", PhaseKind::Diagnosis),
    ("debug", PhaseKind::Diagnosis),
    ("identify", PhaseKind::Diagnosis),
    ("analysis", PhaseKind::Diagnosis),
    ("response", PhaseKind::Response),
    ("resolution", PhaseKind::Response),
    ("resolve", PhaseKind::Response),
    ("remediat", PhaseKind::Response),
    ("recover", PhaseKind::Response),
    ("restore", PhaseKind::Response),
    ("repair", PhaseKind::Response),
    ("immediate action", PhaseKind::Response),
    ("actions", PhaseKind::Response),
    ("fix", PhaseKind::Response),
];

pub fn phase_kind(text: &str) -> Option<PhaseKind> {
    let lower = text.to_lowercase();
    PHASE_WORDS.iter().find(|(w, _)| lower.contains(w)).map(|(_, k)| *k)
}

fn role(text: &str, aliases: &Aliases) -> Role {
    let lower = text.to_lowercase();
    let trimmed = lower.trim_end_matches(':').trim();
    if trimmed.starts_with("symptom") || trimmed.starts_with("signs") {
        return Role::Symptoms;
    }
    if let Some((_, rest)) = severity_prefix(text, aliases) {
        let words: Vec<&str> = rest.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        // "P1 - High", "SEV2 - Major severity": a definition of the level, not an incident.
        let describes_level =
            |w: &&str| is_level_word(w, aliases) || matches!(w.to_lowercase().as_str(), "severity" | "priority");
        if words.iter().all(describes_level) {
            return Role::SeverityDefinition;
        }
        return Role::Incident;
    }
    if lower.starts_with("incident:") || lower.starts_with("alert:") {
        return Role::Incident;
    }
    if flow::scenario_label(text).is_some() {
        return Role::Scenario;
    }
    let first = trimmed.split_whitespace().next().unwrap_or("");
    let numbered = first.trim_end_matches(['.', ')', ':']).chars().all(|c| c.is_ascii_digit())
        && first.len() > 1
        && first.chars().next().is_some_and(|c| c.is_ascii_digit());
    if numbered || trimmed.starts_with("step ") {
        return Role::Numbered;
    }
    if matches!(
        trimmed,
        "overview"
            | "meaning"
            | "impact"
            | "summary"
            | "description"
            | "purpose"
            | "scope"
            | "background"
            | "context"
            | "table of contents"
            | "contents"
            | "references"
            | "related runbooks"
            | "related documentation"
            | "see also"
            | "notes"
    ) {
        return Role::Info;
    }
    match phase_kind(text) {
        Some(k) => Role::Phase(k),
        None => Role::Topic,
    }
}

/// A heading and the block range it owns.
struct Node {
    /// Index of the heading block (or `None` for the virtual document root).
    head: Option<usize>,
    level: u8,
    end: usize,
}

/// The document's blocks and how to read them.
struct Tree<'a> {
    blocks: &'a [Block],
    options: &'a ParseOptions,
}

impl Tree<'_> {
    fn heading(&self, i: usize) -> Option<(u8, &str, usize)> {
        match &self.blocks[i] {
            Block::Heading { level, text, line } => Some((*level, text.as_str(), *line)),
            _ => None,
        }
    }

    fn role(&self, text: &str) -> Role {
        role(text, &self.options.aliases)
    }

    /// Direct child headings of a node.
    fn children(&self, node: &Node) -> Vec<Node> {
        let start = node.head.map_or(0, |h| h + 1);
        let min = (start..node.end).filter_map(|i| self.heading(i).map(|h| h.0)).filter(|l| *l > node.level).min();
        let Some(min) = min else {
            return Vec::new();
        };
        let starts: Vec<usize> = (start..node.end).filter(|i| self.heading(*i).is_some_and(|h| h.0 <= min)).collect();
        starts
            .iter()
            .enumerate()
            .map(|(n, &s)| Node { head: Some(s), level: min, end: starts.get(n + 1).copied().unwrap_or(node.end) })
            .collect()
    }

    fn node_role(&self, node: &Node) -> Role {
        node.head.and_then(|h| self.heading(h)).map_or(Role::Topic, |(_, t, _)| self.role(t))
    }

    /// True when a node's own content (not its sub-sections) carries incident markers:
    /// alert/severity/symptoms labels or a symptoms sub-heading.
    fn has_markers(&self, node: &Node) -> bool {
        let start = node.head.map_or(0, |h| h + 1);
        for b in &self.blocks[start..node.end] {
            match b {
                Block::Paragraph { text, .. } => {
                    let marked = text.lines().filter_map(bold_label).any(|(label, _)| {
                        matches!(
                            label.to_lowercase().as_str(),
                            "alert" | "alerts" | "alertname" | "severity" | "symptoms"
                        )
                    });
                    if marked {
                        return true;
                    }
                }
                Block::Heading { text, .. } => match self.role(text) {
                    Role::Symptoms => return true,
                    Role::Topic | Role::Incident | Role::SeverityDefinition => return false,
                    _ => {}
                },
                _ => {}
            }
        }
        false
    }

    fn contains_incident(&self, node: &Node) -> bool {
        self.children(node)
            .iter()
            .any(|c| self.node_role(c) == Role::Incident || self.has_markers(c) || self.contains_incident(c))
    }

    fn group(&self, node: &Node, out: &mut Vec<Section>, depth: usize) {
        let group_title = node.head.and_then(|h| self.heading(h)).map(|h| h.1.to_string());
        for child in self.children(node) {
            let r = self.node_role(&child);
            let is_group = depth < 16
                && r != Role::Incident
                && !self.has_markers(&child)
                && (self.contains_incident(&child)
                    || self.children(&child).iter().any(|g| matches!(self.node_role(g), Role::Topic | Role::Incident)));
            if is_group {
                self.group(&child, out, depth + 1);
                continue;
            }
            let mut s = self.section(&child, group_title.as_deref());
            s.incident = s.incident
                || r == Role::Incident
                || self.has_markers(&child)
                || group_title
                    .as_deref()
                    .is_some_and(|g| g.to_lowercase().split_whitespace().any(|w| w == "incidents"));
            if r == Role::SeverityDefinition {
                s.incident = false;
            }
            keep(s, out);
        }
    }

    fn section(&self, node: &Node, group: Option<&str>) -> Section {
        let (title, line) =
            node.head.and_then(|h| self.heading(h)).map_or((String::new(), 1), |(_, t, l)| (t.to_string(), l));
        let start = node.head.map_or(0, |h| h + 1);
        reader::read(&title, line, group, &self.blocks[start..node.end], self.options)
    }
}

/// Builds all sections of a document. `title_index` is the heading block used as the
/// document title, if any.
pub fn build(blocks: &[Block], title_index: Option<usize>, options: &ParseOptions) -> Vec<Section> {
    let tree = Tree { blocks, options };
    let mut out = Vec::new();
    let root = Node {
        head: title_index,
        level: title_index.and_then(|i| tree.heading(i)).map_or(0, |h| h.0),
        end: blocks.len(),
    };
    let kids = tree.children(&root);
    let all_phases = !kids.is_empty()
        && kids.iter().all(|k| {
            matches!(tree.node_role(k), Role::Phase(_) | Role::Info | Role::Symptoms | Role::Numbered | Role::Scenario)
        });
    if title_index.is_some() && (all_phases || kids.is_empty()) {
        let mut s = tree.section(&root, None);
        if s.alerts.is_empty() {
            s.alerts.extend(alert_from_title(&s.title, true));
        }
        s.incident = s.incident
            || !s.alerts.is_empty()
            || s.phases
                .iter()
                .any(|p| matches!(p.kind, PhaseKind::Diagnosis | PhaseKind::Mitigation | PhaseKind::Response));
        keep(s, &mut out);
        return out;
    }
    tree.group(&root, &mut out, 0);
    out
}

fn keep(s: Section, out: &mut Vec<Section>) {
    if s.incident || s.steps().next().is_some() {
        out.push(s);
    }
}
