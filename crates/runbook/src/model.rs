//! The parsed shape of a runbook: the types the parser produces, the CLI prints as JSON
//! (`sevwatch runbook parse FILE --json`), the store keeps as JSON, and the linter, the alert
//! linker and runs read. Nothing here parses; it only names things and fixes their serialised
//! spelling. Every field added since the first import is optional in JSON, so runbook versions
//! stored earlier still load. Walking a section (which steps a run takes, in which scenario,
//! which are alternatives) is `navigate.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
pub use sevwatch_core::{Duration, Severity};

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
    /// Alternative courses of action ("Scenario A: LLM API errors"); a run follows one of
    /// them. Their steps are the steps whose `scenario` is the scenario's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<Scenario>,
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

/// A listed option with its time window ("**Rollback (if unresolved after 30 min):**"): not
/// part of the normal walk of a section, but offered once `after` has passed since the run
/// started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedOption {
    /// The label without its window: "Rollback".
    pub label: String,
    /// The window as written: "if unresolved after 30 min", "0-5 min".
    pub window: Option<String>,
    /// From when the option applies: the start of the window ("5-15 min" -> 5m, "Immediate
    /// (0-2 min)" -> 0s) or the time after which it is due ("after 30 min" -> 30m). `None`
    /// when the label names no time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Duration>,
    /// The text after the label.
    pub text: String,
    pub line: usize,
    /// The option's own steps, as indexes into [`Section::steps`] order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<usize>,
}

/// An alternative course of action inside a section: "**Scenario B: Network Errors**" and
/// the steps under it, up to the next scenario or phase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// The short name a responder chooses it by: "B" for "Scenario B: Network Errors",
    /// "2" for "Option 2: Override the config".
    pub name: String,
    /// The label as written, without emphasis.
    pub title: String,
    /// What tells this scenario apart: the label after its name ("Network Errors"), or the
    /// first sentence under it when the label says nothing more.
    pub trigger: String,
    /// Alert labels the scenario's text names as matchers (`reason="OOMKilled"`,
    /// `alertname=KubePodCrashLooping`), for choosing it from a firing alert.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    pub line: usize,
}

/// A step that runs only after the outcome of an earlier one ("# If recovery succeeds, use
/// the recovered database" / "# If recovery fails, restore from backup"): alternatives with
/// the same `after` exclude each other, and exactly one of them applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Branch {
    /// The step whose outcome decides, as an index into [`Section::steps`] order.
    pub after: usize,
    pub when: Outcome,
}

/// The outcome of a step a branch waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Exit code 0, or the responder says it worked.
    Success,
    /// A non-zero exit code, or the responder says it did not work.
    Failure,
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
    /// The name of the scenario the step belongs to ([`Scenario::name`]: "A"); `None` for a
    /// step every run takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Time window of the option or labelled step group the step belongs to, as written
    /// ("0-2 min", "Step 1: Attempt Service Restart (0-2 minutes)" -> "0-2 minutes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// Set when the step is one of the alternatives after an earlier step's outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<Branch>,
    /// What the runbook shows the command printing (a block of captured output, log lines or
    /// a table after the command), kept for the responder to compare; never run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_output: Option<String>,
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
