//! The parsed shape of a runbook: the types the parser produces, the CLI prints as JSON
//! (`sevwatch runbook parse FILE --json`) and the linter and alert linker read. Nothing here
//! parses; it only names things and fixes their serialised spelling.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole runbook document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runbook {
    /// The document title (first level-one heading, else front matter `title`).
    pub title: Option<String>,
    /// Front matter keys and `**Key:** value` lines from the preamble, keys lower-cased.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Incident types and procedures, in document order.
    pub sections: Vec<Section>,
}

/// One incident type ("P0 - Service Down", "Incident: HighErrorRate") or one procedure with
/// runnable steps ("Rollback Procedure").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    pub severity: Option<Severity>,
    pub alerts: Vec<String>,
    pub phases: Vec<Phase>,
    /// True when the section describes a kind of incident rather than a general procedure.
    pub incident: bool,
    /// 1-based line of the heading.
    pub line: usize,
    /// The enclosing heading when sections are grouped ("Supervisor Incidents").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<String>,
}

impl Section {
    /// All steps of all phases, in document order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.phases.iter().flat_map(|p| p.steps.iter())
    }
}

/// What a phase is for; unrecognised headings become `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseKind {
    Diagnosis,
    Response,
    Mitigation,
    Verification,
    Prevention,
    Rollback,
    Other,
}

/// A run of steps under one sub-heading or bold label of a section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub kind: PhaseKind,
    /// The sub-heading or label the phase came from.
    pub title: String,
    pub line: usize,
    pub steps: Vec<Step>,
    /// Timed options listed in the phase ("Immediate (0-5 min): ...").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<TimedOption>,
}

/// A listed mitigation option with its time window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedOption {
    pub label: String,
    pub window: Option<String>,
    pub text: String,
    pub line: usize,
}

/// One shell command of a fenced block, with the comment or list item that titles it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub title: Option<String>,
    pub command: String,
    pub risk: Risk,
    /// 1-based line of the command's first line in the document.
    pub line: usize,
    /// Fence language as written (`bash`, `console`), or `sh` for untagged shell fences.
    pub language: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placeholders: Vec<Placeholder>,
    /// Named scenario ("Scenario A: ...") the step belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Time window of the scenario or option ("0-2 minutes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

/// How dangerous running a command is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskClass {
    ReadOnly,
    Mutating,
    /// Could not be decided; callers treat it like `Mutating`.
    Unknown,
    Destructive,
}

impl RiskClass {
    /// The kebab-case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::ReadOnly => "read-only",
            RiskClass::Mutating => "mutating",
            RiskClass::Unknown => "unknown",
            RiskClass::Destructive => "destructive",
        }
    }
}

/// A risk class with the human reason shown to the responder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub class: RiskClass,
    pub reason: String,
}

impl Risk {
    pub fn new(class: RiskClass, reason: impl Into<String>) -> Self {
        Risk { class, reason: reason.into() }
    }
}

/// Incident severity normalised to P0 (worst) .. P4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    P0,
    P1,
    P2,
    P3,
    P4,
}

impl Severity {
    pub fn from_level(level: u8) -> Option<Severity> {
        Some(match level {
            0 => Severity::P0,
            1 => Severity::P1,
            2 => Severity::P2,
            3 => Severity::P3,
            4 => Severity::P4,
            _ => return None,
        })
    }
}

/// A value the responder has to supply before a step can run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Placeholder {
    /// The text as written: `$VAR`, `${VAR}`, `<agent-id>`, `[name]`, `YYYYMMDD_HHMMSS`.
    pub text: String,
    /// The name used for binding: `VAR`, `agent-id`, `name`, `YYYYMMDD_HHMMSS`.
    pub name: String,
    pub kind: PlaceholderKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaceholderKind {
    Variable,
    /// `<pod-name>`
    Angle,
    /// `[name]`
    Bracket,
    /// `{{host}}` (template syntax) or `{host}`
    Brace,
    /// `YOUR_API_KEY`
    Yours,
    DateTemplate,
}
