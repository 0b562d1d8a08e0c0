//! Runbook runs on an incident: the steps of one runbook section, executed one at a time with
//! the confirmation their risk demands, every start and result kept on the timeline. A run is
//! part of the incident's state (a fold of its events, outputs excluded), so it survives a
//! restart exactly like everything else, and a step left running can be retried or skipped.
//!
//! Confirmation rules: read-only steps run on request; mutating and unknown steps need an
//! explicit confirmation; destructive steps need the incident id typed back.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, Incident, Timestamp};

/// Largest step output kept on the timeline; longer output is cut by the executor, which marks
/// the cut with `truncated`.
pub const MAX_STEP_OUTPUT: usize = 1024 * 1024;

/// How dangerous a step is (from the runbook classifier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepRisk {
    ReadOnly,
    Mutating,
    Destructive,
    /// Could not be decided: treated like mutating.
    Unknown,
}

impl fmt::Display for StepRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepRisk::ReadOnly => "read-only",
            StepRisk::Mutating => "mutating",
            StepRisk::Destructive => "destructive",
            StepRisk::Unknown => "unknown",
        })
    }
}

/// One step as the runbook wrote it, copied into the run when it starts (so a later import of a
/// new runbook version never changes a run in progress).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStep {
    pub title: Option<String>,
    /// The command template, before variables are bound.
    pub command: String,
    pub risk: StepRisk,
    pub reason: String,
    /// The phase the step belongs to (`diagnosis`, `response`, ...).
    pub phase: String,
    /// Set when the step is one of the alternatives after an earlier step's outcome ("if
    /// recovery succeeds: ..." / "if it fails: ...").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<RunBranch>,
}

/// When a branch step applies: after step `after` (1-based, of the same run) has this outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunBranch {
    pub after: usize,
    pub on: BranchOutcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BranchOutcome {
    /// Exit code 0.
    Success,
    /// Any other exit code.
    Failure,
}

impl fmt::Display for BranchOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BranchOutcome::Success => "succeeds",
            BranchOutcome::Failure => "fails",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
    /// It was running when its executor went away (a crash, a restart): retry or skip it.
    Interrupted,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepState {
    pub status: StepStatus,
    /// The command as run, with variables bound (set when the step starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Attempts so far (a retry after failure or interruption counts again).
    #[serde(default)]
    pub attempts: u32,
}

/// One run of one runbook section on one incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunbookRun {
    /// 1, 2, ... within the incident.
    pub id: u32,
    pub runbook: String,
    pub version: i64,
    pub section: String,
    pub steps: Vec<RunStep>,
    pub state: Vec<StepState>,
    /// Values bound into step commands (incident fields, alert labels, responder input).
    pub vars: BTreeMap<String, String>,
    /// The scenario the run follows ("B"), when its section has scenarios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    pub started_by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub started_at: Timestamp,
}

impl RunbookRun {
    /// Number (1-based) of the first step still to do (pending, failed or interrupted), if any.
    /// A failed step whose failure a branch expects is done: its failure chose the branch.
    pub fn next_step(&self) -> Option<usize> {
        (1..=self.state.len()).find(|&n| match self.state[n - 1].status {
            StepStatus::Pending | StepStatus::Interrupted => true,
            StepStatus::Failed => !self.failure_expected(n),
            _ => false,
        })
    }

    /// The alternatives that wait for step `step`'s outcome: (their number, the outcome).
    pub fn alternatives(&self, step: usize) -> impl Iterator<Item = (usize, BranchOutcome)> + '_ {
        self.steps.iter().enumerate().filter_map(move |(i, s)| match s.branch {
            Some(b) if b.after == step => Some((i + 1, b.on)),
            _ => None,
        })
    }

    /// Does a branch wait for step `step` to fail? Then its failure is an outcome, not a stop.
    pub fn failure_expected(&self, step: usize) -> bool {
        self.alternatives(step).any(|(_, on)| on == BranchOutcome::Failure)
    }
}

/// Refuses to start step `step` of `r` when it is a branch whose condition has not come true,
/// or when it is a step whose outcome already chose among its branches: so at most one outcome
/// of a step ever runs.
pub fn check_branch_start(r: &RunbookRun, step: usize) -> Result<(), DomainError> {
    if let Some(b) = r.steps[step - 1].branch {
        let outcome = match r.state.get(b.after.wrapping_sub(1)).map(|s| s.status) {
            Some(StepStatus::Succeeded) => BranchOutcome::Success,
            Some(StepStatus::Failed) => BranchOutcome::Failure,
            _ => {
                return Err(DomainError::Conflict(format!(
                    "step {step} runs only if step {} {}: run step {} first",
                    b.after, b.on, b.after
                )))
            }
        };
        if outcome != b.on {
            return Err(DomainError::Conflict(format!(
                "step {step} runs only if step {} {}, and it {}",
                b.after,
                b.on,
                if outcome == BranchOutcome::Success { "succeeded" } else { "failed" }
            )));
        }
    }
    let decided = r.alternatives(step).any(|(n, _)| r.state[n - 1].status != StepStatus::Pending);
    if decided && r.state[step - 1].status == StepStatus::Failed {
        return Err(DomainError::Conflict(format!(
            "step {step}'s outcome already chose which of its branches runs: it cannot run again"
        )));
    }
    Ok(())
}

/// The branches to skip now that step `step` has an outcome: `Some(exit code)` when it
/// finished, `None` when it was skipped (then none of its branches applies). A failure no
/// branch expects decides nothing (the step may be retried). Each with the reason to record.
pub fn branches_not_taken(r: &RunbookRun, step: usize, exit_code: Option<i32>) -> Vec<(usize, String)> {
    let pending = |n: usize| matches!(r.state[n - 1].status, StepStatus::Pending | StepStatus::Interrupted);
    let Some(code) = exit_code else {
        let why = format!("step {step} was skipped, so no branch after it applies");
        return r.alternatives(step).filter(|(n, _)| pending(*n)).map(|(n, _)| (n, why.clone())).collect();
    };
    let outcome = if code == 0 { BranchOutcome::Success } else { BranchOutcome::Failure };
    if !r.alternatives(step).any(|(_, on)| on == outcome) {
        return Vec::new();
    }
    let how = if code == 0 { "succeeded".to_string() } else { format!("failed (exit {code})") };
    r.alternatives(step)
        .filter(|(n, on)| *on != outcome && pending(*n))
        .map(|(n, on)| (n, format!("branch not taken: it runs if step {step} {on}, and step {step} {how}")))
        .collect()
}

/// The values every run can bind from its incident: `INCIDENT_ID`, `INCIDENT_TITLE`,
/// `SEVERITY`, `SERVICE` (when set), and the lower-case forms runbooks use in placeholders.
pub fn incident_vars(inc: &Incident) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("INCIDENT_ID".into(), inc.id.to_string());
    v.insert("incident-id".into(), inc.id.to_string());
    v.insert("INCIDENT_TITLE".into(), inc.title.clone());
    v.insert("SEVERITY".into(), inc.severity.to_string());
    if let Some(s) = &inc.service {
        v.insert("SERVICE".into(), s.clone());
        v.insert("service".into(), s.clone());
    }
    v
}

/// How the responder confirmed a step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    /// "Yes, run it": required for mutating and unknown steps.
    #[serde(default)]
    pub confirmed: bool,
    /// The incident id typed back: required for destructive steps.
    #[serde(default)]
    pub typed_incident: Option<String>,
}

/// Which confirmation a step of this risk needs, checked against what was given.
/// `step` is the 1-based step number shown to responders.
pub fn check_confirmation(inc: &Incident, step: usize, risk: StepRisk, c: &Confirmation) -> Result<(), DomainError> {
    match risk {
        StepRisk::ReadOnly => Ok(()),
        StepRisk::Mutating | StepRisk::Unknown if c.confirmed || c.typed_incident.is_some() => Ok(()),
        StepRisk::Mutating | StepRisk::Unknown => {
            Err(DomainError::invalid("confirm", format!("step {step} is {risk}: it runs only when confirmed")))
        }
        StepRisk::Destructive => match c.typed_incident.as_deref() {
            Some(typed) if typed.trim().eq_ignore_ascii_case(&inc.id.to_string()) => Ok(()),
            _ => Err(DomainError::invalid(
                "confirm_destructive",
                format!("step {step} is destructive: type the incident id {} to confirm it", inc.id),
            )),
        },
    }
}

/// The run and step (1-based number) a command addresses, or a 422 naming what is wrong.
pub fn find_step(inc: &Incident, run: u32, step: usize) -> Result<(&RunbookRun, &StepState), DomainError> {
    let r = inc
        .runbook_runs
        .iter()
        .find(|r| r.id == run)
        .ok_or_else(|| DomainError::invalid("run", format!("{} has no runbook run {run}", inc.id)))?;
    let s = step.checked_sub(1).and_then(|i| r.state.get(i)).ok_or_else(|| {
        DomainError::invalid("step", format!("run {run} has {} step(s); there is no step {step}", r.steps.len()))
    })?;
    Ok((r, s))
}

/// Most exported names recorded after a step, and the longest working directory.
pub const MAX_EXPORTED: usize = 512;
const MAX_CWD: usize = 4096;

/// The session state a step result reports: a working directory without NUL, and variable
/// names (`[A-Za-z_][A-Za-z0-9_]*`), never values.
pub fn check_session_state(cwd: &Option<String>, exported: &[String]) -> Result<(), DomainError> {
    if let Some(d) = cwd {
        if d.len() > MAX_CWD || d.contains('\0') {
            return Err(DomainError::invalid("cwd", format!("must be a path of at most {MAX_CWD} bytes")));
        }
    }
    if exported.len() > MAX_EXPORTED {
        return Err(DomainError::invalid("exported", format!("at most {MAX_EXPORTED} names")));
    }
    let name = |n: &str| {
        let mut b = n.bytes();
        n.len() <= 256
            && b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
    };
    match exported.iter().find(|n| !name(n)) {
        Some(bad) => Err(DomainError::invalid("exported", format!("{bad:?} is not a variable name"))),
        None => Ok(()),
    }
}
