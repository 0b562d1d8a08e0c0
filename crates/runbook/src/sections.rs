//! Builds the runbook structure from flat Markdown blocks: decides which headings are
//! incident types or procedures (sections), which are phases inside them, and reads the
//! labelled lines (`**Alert:**`, `**Severity:**`, `**SLO:**`, `**Trigger:**`, symptoms,
//! scenarios, timed options) that belong to each section.

use crate::markdown::Block;
use crate::model::{Phase, PhaseKind, Section, Severity, TimedOption};
use crate::severity::{parse_severity, severity_prefix};
use crate::steps::steps_of_block;

/// What a heading means to the structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Symptoms,
    Info,
    Phase(PhaseKind),
    Numbered,
    SeverityDefinition,
    Incident,
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

fn role(text: &str) -> Role {
    let lower = text.to_lowercase();
    let trimmed = lower.trim_end_matches(':').trim();
    if trimmed.starts_with("symptom") || trimmed.starts_with("signs") {
        return Role::Symptoms;
    }
    if let Some((_, rest)) = severity_prefix(text) {
        let words: Vec<&str> = rest.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let sev_words = [
            "critical",
            "high",
            "medium",
            "low",
            "info",
            "informational",
            "major",
            "minor",
            "warning",
            "emergency",
            "severe",
            "moderate",
        ];
        if words.iter().all(|w| sev_words.contains(&w.to_lowercase().as_str())) {
            return Role::SeverityDefinition;
        }
        return Role::Incident;
    }
    if lower.starts_with("incident:") || lower.starts_with("alert:") {
        return Role::Incident;
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

fn heading(blocks: &[Block], i: usize) -> Option<(u8, &str, usize)> {
    match &blocks[i] {
        Block::Heading { level, text, line } => Some((*level, text.as_str(), *line)),
        _ => None,
    }
}

/// Direct child headings of a node.
fn children(blocks: &[Block], node: &Node) -> Vec<Node> {
    let start = node.head.map_or(0, |h| h + 1);
    let min = (start..node.end).filter_map(|i| heading(blocks, i).map(|h| h.0)).filter(|l| *l > node.level).min();
    let Some(min) = min else {
        return Vec::new();
    };
    let starts: Vec<usize> = (start..node.end).filter(|i| heading(blocks, *i).is_some_and(|h| h.0 <= min)).collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| Node { head: Some(s), level: min, end: starts.get(n + 1).copied().unwrap_or(node.end) })
        .collect()
}

fn node_role(blocks: &[Block], node: &Node) -> Role {
    node.head.and_then(|h| heading(blocks, h)).map_or(Role::Topic, |(_, t, _)| role(t))
}

/// True when a node's own content (not its sub-sections) carries incident markers:
/// alert/severity/symptoms labels or a symptoms sub-heading.
fn has_markers(blocks: &[Block], node: &Node) -> bool {
    let start = node.head.map_or(0, |h| h + 1);
    for b in &blocks[start..node.end] {
        match b {
            Block::Paragraph { text, .. } => {
                let marked = text.lines().filter_map(bold_label).any(|(label, _)| {
                    matches!(label.to_lowercase().as_str(), "alert" | "alerts" | "alertname" | "severity" | "symptoms")
                });
                if marked {
                    return true;
                }
            }
            Block::Heading { text, .. } => match role(text) {
                Role::Symptoms => return true,
                Role::Topic | Role::Incident | Role::SeverityDefinition => return false,
                _ => {}
            },
            _ => {}
        }
    }
    false
}

fn contains_incident(blocks: &[Block], node: &Node) -> bool {
    children(blocks, node)
        .iter()
        .any(|c| node_role(blocks, c) == Role::Incident || has_markers(blocks, c) || contains_incident(blocks, c))
}

/// Builds all sections of a document. `title_index` is the heading block used as the
/// document title, if any.
pub fn build(blocks: &[Block], title_index: Option<usize>, classify: bool) -> Vec<Section> {
    let mut out = Vec::new();
    let root = Node {
        head: title_index,
        level: title_index.and_then(|i| heading(blocks, i)).map_or(0, |h| h.0),
        end: blocks.len(),
    };
    let kids = children(blocks, &root);
    let all_phases = !kids.is_empty()
        && kids
            .iter()
            .all(|k| matches!(node_role(blocks, k), Role::Phase(_) | Role::Info | Role::Symptoms | Role::Numbered));
    if title_index.is_some() && (all_phases || kids.is_empty()) {
        let mut s = section(blocks, &root, None, classify);
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
    group(blocks, &root, &mut out, 0, classify);
    out
}

fn keep(s: Section, out: &mut Vec<Section>) {
    if s.incident || s.steps().next().is_some() {
        out.push(s);
    }
}

fn group(blocks: &[Block], node: &Node, out: &mut Vec<Section>, depth: usize, classify: bool) {
    let group_title = node.head.and_then(|h| heading(blocks, h)).map(|h| h.1.to_string());
    for child in children(blocks, node) {
        let r = node_role(blocks, &child);
        let is_group = depth < 16
            && r != Role::Incident
            && !has_markers(blocks, &child)
            && (contains_incident(blocks, &child)
                || children(blocks, &child)
                    .iter()
                    .any(|g| matches!(node_role(blocks, g), Role::Topic | Role::Incident)));
        if is_group {
            group(blocks, &child, out, depth + 1, classify);
            continue;
        }
        let mut s = section(blocks, &child, group_title.as_deref(), classify);
        s.incident = s.incident
            || r == Role::Incident
            || has_markers(blocks, &child)
            || group_title.as_deref().is_some_and(|g| g.to_lowercase().split_whitespace().any(|w| w == "incidents"));
        if r == Role::SeverityDefinition {
            s.incident = false;
        }
        keep(s, out);
    }
}

/// Mutable state while reading one section's blocks.
struct Reader {
    section: Section,
    symptoms_mode: bool,
    scenario: Option<String>,
    window: Option<String>,
    /// Title from a numbered sub-heading, for code blocks below it.
    heading_title: Option<String>,
    default_kind: PhaseKind,
    classify: bool,
}

fn section(blocks: &[Block], node: &Node, group: Option<&str>, classify: bool) -> Section {
    let (title, line) =
        node.head.and_then(|h| heading(blocks, h)).map_or((String::new(), 1), |(_, t, l)| (t.to_string(), l));
    let mut section = Section { title: title.clone(), line, group: group.map(str::to_string), ..Section::default() };
    section.severity = severity_prefix(&title).map(|(s, _)| s).or_else(|| severity_in_heading(&title));
    if let Some(alert) = alert_from_title(&title, false).or_else(|| backticked_alert(&title)) {
        section.alerts.push(alert);
    }
    let default_kind = phase_kind(&title).or_else(|| group.and_then(phase_kind)).unwrap_or(PhaseKind::Other);
    let mut r = Reader {
        section,
        symptoms_mode: false,
        scenario: None,
        window: None,
        heading_title: None,
        default_kind,
        classify,
    };
    let start = node.head.map_or(0, |h| h + 1);
    for block in &blocks[start..node.end] {
        r.block(block);
    }
    r.section.phases.retain(|p| !p.steps.is_empty() || !p.options.is_empty() || p.kind != PhaseKind::Other);
    r.section
}

/// `Incident: HighErrorRate`, `Alert: X`, or a bare CamelCase title names an alert.
fn alert_from_title(title: &str, bare: bool) -> Option<String> {
    let prefixed = title.strip_prefix("Incident:").or_else(|| title.strip_prefix("Alert:"));
    if prefixed.is_none() && !bare {
        return None;
    }
    let rest = prefixed.unwrap_or(title).trim().trim_matches('`');
    let camel = !rest.is_empty()
        && !rest.contains(' ')
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rest.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && rest.chars().any(|c| c.is_ascii_lowercase())
        && rest.chars().skip(1).any(|c| c.is_ascii_uppercase());
    camel.then(|| rest.to_string())
}

/// A `P1` / `SEV2` token anywhere in a heading (`## Alert: X (SEV2)`, `## [P1] Cache down`),
/// or a severity word in parentheses or brackets (`(critical)`); a bare word such as "High"
/// in "High CPU" is not a severity.
fn severity_in_heading(title: &str) -> Option<Severity> {
    let words = title.split(|c: char| c.is_whitespace() || "()[]{},;|".contains(c));
    if let Some(s) =
        words.filter(|w| !w.is_empty()).find_map(|w| severity_prefix(w).filter(|(_, rest)| rest.is_empty()))
    {
        return Some(s.0);
    }
    title
        .split(['(', '['])
        .skip(1)
        .filter_map(|part| part.split([')', ']']).next())
        .find_map(|inner| (inner.split_whitespace().count() == 1).then(|| parse_severity(inner)).flatten())
}

/// An alert name in backticks in a heading: ``## P1 - Cache hit rate falling (`RedisHitRateLow`)``.
fn backticked_alert(title: &str) -> Option<String> {
    title.split('`').skip(1).step_by(2).map(str::trim).find_map(|t| {
        let ident = !t.is_empty()
            && t.len() <= 128
            && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        ident.then(|| t.to_string())
    })
}

/// Time window in parentheses: `(0-5 min)`, `(2-5 minutes)`, `(if unresolved after 30 min)`.
pub fn time_window(text: &str) -> Option<String> {
    let open = text.find('(')?;
    let close = open + text[open..].find(')')?;
    let inner = text[open + 1..close].trim();
    let lower = inner.to_lowercase();
    let has_digit = inner.chars().any(|c| c.is_ascii_digit());
    let has_unit =
        ["min", "hour", "sec", "day"].iter().any(|u| lower.contains(u)) || lower.ends_with('m') || lower.ends_with('h');
    (has_digit && has_unit).then(|| inner.to_string())
}

/// `**Label:** rest` / `**Label**: rest` / `**Label**` -> (label, rest).
fn bold_label(line: &str) -> Option<(String, String)> {
    let inner = line.trim().strip_prefix("**")?;
    let end = inner.find("**")?;
    let label = inner[..end].trim().trim_end_matches(':').trim().to_string();
    let rest = inner[end + 2..].trim_start_matches(':').trim().to_string();
    (!label.is_empty()).then_some((label, rest))
}

/// `Severity: critical`, `Alert name: X`, `- Alert: X` without bold: only these keys, so
/// ordinary prose with a colon is not read as metadata.
fn plain_label(line: &str) -> Option<(String, String)> {
    let t = line.trim().trim_start_matches(['-', '*']).trim_start();
    let (label, rest) = t.split_once(':')?;
    let key = label.trim().to_lowercase();
    matches!(key.as_str(), "severity" | "priority" | "alert" | "alerts" | "alert name" | "alertname")
        .then(|| (label.trim().to_string(), rest.trim().to_string()))
}

fn strip_marks(s: &str) -> String {
    s.replace("**", "").replace('`', "").trim().to_string()
}

impl Reader {
    fn phase(&mut self) -> &mut Phase {
        if self.section.phases.is_empty() {
            let kind = self.default_kind;
            let title = self.section.title.clone();
            self.new_phase(kind, title, self.section.line);
        }
        self.section.phases.last_mut().expect("a phase was just ensured")
    }

    fn new_phase(&mut self, kind: PhaseKind, title: String, line: usize) {
        self.scenario = None;
        self.window = None;
        self.heading_title = None;
        self.section.phases.push(Phase { kind, title, line, steps: Vec::new(), options: Vec::new() });
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Heading { text, line, .. } => {
                self.symptoms_mode = false;
                match role(text) {
                    Role::Symptoms => self.symptoms_mode = true,
                    Role::Numbered => {
                        let title = strip_marks(text);
                        self.phase();
                        self.heading_title = Some(title);
                    }
                    Role::Phase(k) => self.new_phase(k, text.clone(), *line),
                    Role::Info => self.new_phase(PhaseKind::Other, text.clone(), *line),
                    _ => {
                        // An unlabelled sub-heading continues the phase before it.
                        let kind = self.section.phases.last().map_or(self.default_kind, |p| p.kind);
                        self.new_phase(kind, text.clone(), *line);
                    }
                }
            }
            Block::Paragraph { text, line } => self.paragraph(text, *line),
            Block::Item { text, line } => self.item(text, *line),
            Block::Code { lang, body, line, context } => {
                let context = context
                    .as_deref()
                    .map(|c| strip_marks(c.split(" - ").next().unwrap_or(c)).trim_end_matches(':').to_string())
                    .or_else(|| self.heading_title.clone());
                let mut steps = steps_of_block(lang, body, *line, context.as_deref(), self.classify);
                if steps.is_empty() {
                    return;
                }
                self.symptoms_mode = false;
                for s in &mut steps {
                    s.scenario = self.scenario.clone();
                    s.window = self.window.clone();
                }
                self.phase().steps.extend(steps);
            }
        }
    }

    fn paragraph(&mut self, text: &str, line: usize) {
        for (n, l) in text.lines().enumerate() {
            self.alertname_mentions(l);
            let Some((label, rest)) = bold_label(l).or_else(|| plain_label(l)) else {
                continue;
            };
            let key = label.to_lowercase();
            match key.as_str() {
                "alert" | "alerts" | "alertname" | "alert name" => {
                    for a in rest.split([',', ' ']).map(|a| a.trim().trim_matches('`')) {
                        if !a.is_empty() && !self.section.alerts.iter().any(|x| x == a) {
                            self.section.alerts.push(a.to_string());
                        }
                    }
                }
                "severity" | "priority" | "level" if self.section.severity.is_none() => {
                    self.section.severity = parse_severity(&rest);
                }
                "slo" => self.section.slo = Some(strip_marks(&rest)),
                "trigger" | "threshold" | "condition" => self.section.trigger = Some(strip_marks(&rest)),
                _ if key.starts_with("symptom") => {
                    self.symptoms_mode = true;
                    if !rest.is_empty() {
                        self.section.symptoms.push(strip_marks(&rest));
                    }
                }
                _ if rest.is_empty() && n == 0 && text.lines().count() == 1 => {
                    self.symptoms_mode = false;
                    let window = time_window(&label);
                    match phase_kind(&label).filter(|_| !key.starts_with("step") && !key.starts_with("scenario")) {
                        Some(kind)
                            if self
                                .section
                                .phases
                                .last()
                                .is_none_or(|p| p.kind != kind || p.steps.is_empty() || key.len() < 16) =>
                        {
                            self.new_phase(kind, label.clone(), line);
                            self.window = window;
                        }
                        _ => {
                            self.phase();
                            self.scenario = Some(label.clone());
                            self.window = window;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn alertname_mentions(&mut self, l: &str) {
        let mut rest = l;
        while let Some(i) = rest.find("alertname") {
            let after = rest[i + 9..].trim_start_matches([' ', '=', ':', '"', '\'', '~']);
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && !self.section.alerts.contains(&name) {
                self.section.alerts.push(name);
            }
            rest = &rest[i + 9..];
        }
    }

    fn item(&mut self, text: &str, line: usize) {
        self.alertname_mentions(text);
        if self.symptoms_mode {
            self.section.symptoms.push(strip_marks(text));
            return;
        }
        let in_mitigation = self.section.phases.last().is_some_and(|p| p.kind == PhaseKind::Mitigation);
        if let Some((label, rest)) = bold_label(text) {
            let window = time_window(&label);
            if in_mitigation {
                let label_clean = label.split('(').next().unwrap_or(&label).trim().to_string();
                self.phase().options.push(TimedOption {
                    label: label_clean,
                    window: window.clone(),
                    text: strip_marks(&rest),
                    line,
                });
                self.scenario = Some(label);
                self.window = window;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_name_their_alert_and_severity_in_the_ways_runbooks_write_them() {
        assert_eq!(severity_in_heading("Alert: `OrdersQueueBacklog` (SEV2)"), Some(Severity::P1));
        assert_eq!(severity_in_heading("[P3] Disk filling"), Some(Severity::P3));
        assert_eq!(severity_in_heading("Replica lag (critical)"), Some(Severity::P0));
        assert_eq!(severity_in_heading("High CPU on workers"), None, "a bare word is not a severity");
        assert_eq!(severity_in_heading("Pod restarts"), None);
        assert_eq!(backticked_alert("Alert: `OrdersQueueBacklog` (SEV2)").as_deref(), Some("OrdersQueueBacklog"));
        assert_eq!(
            backticked_alert("P1 - Cache hit rate falling (`RedisHitRateLow`)").as_deref(),
            Some("RedisHitRateLow")
        );
        assert_eq!(backticked_alert("Run `kubectl get pods -A`"), None, "a command is not an alert name");
    }

    #[test]
    fn plain_metadata_lines_count_but_prose_with_colons_does_not() {
        assert_eq!(plain_label("Severity: critical"), Some(("Severity".into(), "critical".into())));
        assert_eq!(
            plain_label("- Alert name: KubePodCrashLooping"),
            Some(("Alert name".into(), "KubePodCrashLooping".into()))
        );
        assert_eq!(plain_label("Note: restart the pod"), None);
    }
}
