//! Commands and the rules that accept or refuse them. [`decide`] validates a command against the
//! current state and the policy and returns the events to append; it never changes anything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checklist::{instantiate, Phase};
use crate::event::{Event, EventKind};
use crate::lifecycle::{check_transition, Via};
use crate::runbook_run::{
    branches_not_taken, check_branch_start, check_confirmation, check_session_state, find_step, Confirmation, RunStep,
    StepRisk, StepStatus, MAX_STEP_OUTPUT,
};
use crate::{DomainError, Incident, Policy, Role, Severity, Status, Timestamp};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 64 * 1024;
pub const MAX_NAME: usize = 100;

/// Something a responder (or an integration) asks of an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    Declare {
        title: String,
        severity: Severity,
        service: Option<String>,
        summary: Option<String>,
    },
    Acknowledge,
    Assign {
        role: String,
        to: String,
    },
    SetStatus {
        status: Status,
        note: Option<String>,
    },
    ChangeSeverity {
        severity: Severity,
        reason: Option<String>,
    },
    AddNote {
        text: String,
    },
    Check {
        item: String,
    },
    Uncheck {
        item: String,
    },
    Resolve {
        root_cause: Option<String>,
        force: bool,
    },
    Close,
    Reopen {
        reason: Option<String>,
    },
    /// Start walking a runbook section; `steps` are copied from the runbook version chosen.
    StartRunbookRun {
        runbook: String,
        version: i64,
        section: String,
        steps: Vec<RunStep>,
        vars: BTreeMap<String, String>,
        /// The scenario chosen, when the section has scenarios.
        scenario: Option<String>,
    },
    /// Start step `step` (1-based) of run `run`; `command` is the step with variables bound
    /// (by the edge, with the runbook crate's quoting) so the timeline records what really ran.
    StartStep {
        run: u32,
        step: usize,
        command: String,
        confirmation: Confirmation,
        /// The server runs it (the edge has checked the caller may ask for that).
        on_server: bool,
    },
    FinishStep {
        run: u32,
        step: usize,
        exit_code: i32,
        duration_ms: i64,
        output: String,
        truncated: bool,
        /// The run's shell session after the step: its working directory (unknown when the
        /// step ended the session) and the names of the variables the run has exported.
        cwd: Option<String>,
        exported: Vec<String>,
    },
    SkipStep {
        run: u32,
        step: usize,
        reason: Option<String>,
    },
    InterruptStep {
        run: u32,
        step: usize,
    },
    /// The alert effects on a timeline (the alert rules in `alert::decide` choose them).
    AttachAlert {
        fingerprint: String,
        name: Option<String>,
        source: String,
        severity: Severity,
        summary: Option<String>,
    },
    RecordAlertResolved {
        fingerprint: String,
        name: Option<String>,
    },
    RecordAllAlertsResolved {
        auto_resolve_at: Timestamp,
    },
    FlagFlapping {
        fingerprint: String,
        name: Option<String>,
    },
    /// The engine fired an escalation step (targets already resolved to people on call).
    RecordPage {
        policy: String,
        round: u32,
        step: usize,
        targets: Vec<String>,
    },
    /// "Escalate now": pull the next step of the ladder to this moment.
    EscalateNow {
        reason: Option<String>,
    },
    /// A communication was sent about the incident (`comms send`): the rendered text goes on
    /// the timeline and, for the incident's own updates, restarts the update cadence.
    PostUpdate {
        template: String,
        subject: Option<String>,
        body: String,
        /// Where it goes (channel names); empty means "the channels routed for the incident".
        channels: Vec<String>,
    },
    /// The engine saw an SLA deadline pass.
    RecordSlaBreach {
        target: String,
        deadline: Timestamp,
        notified: Vec<String>,
    },
}

fn required(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if v.contains('\0') {
        // PostgreSQL cannot store NUL in text, and no responder means to type one.
        return Err(DomainError::invalid(field, "must not contain NUL characters"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(field, format!("is longer than {max} characters")));
    }
    Ok(v.to_string())
}

fn optional(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required(field, v, max).map(Some),
    }
}

/// A one-line field (a title, a service, a name): [`required`], and no line break or hidden
/// formatting, which would forge lines in logs, tables and e-mail subjects or make the text
/// read as something it is not. Alert-derived values are escaped before they get here
/// ([`crate::text::escape`]), so no alert is refused for them.
fn one_line(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = required(field, value, max)?;
    match crate::text::single_line_problem(&v) {
        Some(why) => Err(DomainError::invalid(field, why)),
        None => Ok(v),
    }
}

fn optional_line(field: &str, value: &Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => one_line(field, v, max).map(Some),
    }
}

/// `events` followed by a skip of each branch that can no longer run, stamped like the first.
fn with_skips(
    events: Result<Vec<Event>, DomainError>,
    run: u32,
    skips: Vec<(usize, String)>,
) -> Result<Vec<Event>, DomainError> {
    let mut events = events?;
    let (at, actor) = (events[0].at, events[0].actor.clone());
    for (step, reason) in skips {
        let kind = EventKind::RunbookStepSkipped { run, step, reason: Some(reason) };
        events.push(Event { at, actor: actor.clone(), kind });
    }
    Ok(events)
}

/// Millisecond precision is what the store keeps; deciding at that precision means a replay
/// from storage gives exactly the state that was computed here.
fn truncate_to_millis(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).expect("a valid timestamp stays valid when truncated")
}

/// Validate `cmd` against `state` (`None` only for `Declare`) and return the events it causes.
pub fn decide(
    policy: &Policy,
    state: Option<&Incident>,
    cmd: &Command,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let at = truncate_to_millis(now);
    let actor = required("actor", actor, MAX_NAME)?;
    let ev = |kind| Ok(vec![Event { at, actor: actor.clone(), kind }]);
    let inc = match (state, cmd) {
        (None, Command::Declare { title, severity, service, summary }) => {
            return ev(EventKind::Declared {
                title: one_line("title", title, MAX_TITLE)?,
                severity: *severity,
                service: optional_line("service", service, MAX_NAME)?,
                summary: optional("summary", summary, MAX_TEXT)?,
                checklist: instantiate(&policy.checklist),
            });
        }
        (Some(inc), Command::Declare { .. }) => {
            return Err(DomainError::Conflict(format!("{} is already declared", inc.id)))
        }
        (None, _) => return Err(DomainError::Conflict("the incident does not exist yet".into())),
        (Some(inc), _) => inc,
    };
    // Events never go back in time on one timeline, even when concurrent requests carry clocks
    // that are slightly apart: the lifecycle invariants (resolved after acknowledged) rely on it.
    let at = at.max(inc.updated_at);
    let ev = |kind| Ok(vec![Event { at, actor: actor.clone(), kind }]);
    let closed = || DomainError::Conflict(format!("{} is closed; reopen it first", inc.id));
    match cmd {
        Command::Declare { .. } => unreachable!("handled above"),
        Command::Acknowledge => {
            if let Some(at) = inc.acknowledged_at.filter(|_| inc.status != Status::Triggered) {
                return Err(DomainError::Conflict(format!("{} was already acknowledged at {at}", inc.id)));
            }
            check_transition(inc.status, Status::Acknowledged, Via::Acknowledge)?;
            ev(EventKind::Acknowledged {})
        }
        Command::Assign { role, to } => {
            if inc.status == Status::Closed {
                return Err(closed());
            }
            let role = Role::parse(role, &policy.custom_roles).map_err(|m| DomainError::invalid("role", m))?;
            let to = one_line("to", to, MAX_NAME)?;
            let previous = inc.roles.get(role.as_str()).cloned();
            if previous.as_deref() == Some(to.as_str()) {
                return Err(DomainError::Conflict(format!("{to} already holds {role} on {}", inc.id)));
            }
            ev(EventKind::RoleAssigned { role: role.to_string(), to, previous })
        }
        Command::SetStatus { status, note } => {
            if !matches!(status, Status::Investigating | Status::Identified | Status::Monitoring) {
                return Err(DomainError::invalid(
                    "status",
                    format!("a status update moves to investigating, identified or monitoring; use the {} command for {status}", via_for(*status)),
                ));
            }
            if inc.status == *status {
                return Err(DomainError::Conflict(format!("{} is already {status}", inc.id)));
            }
            check_transition(inc.status, *status, Via::StatusUpdate)?;
            ev(EventKind::StatusChanged { from: inc.status, to: *status, note: optional("note", note, MAX_TEXT)? })
        }
        Command::ChangeSeverity { severity, reason } => {
            if inc.status == Status::Closed {
                return Err(closed());
            }
            if inc.severity == *severity {
                return Err(DomainError::Conflict(format!("{} is already {severity}", inc.id)));
            }
            ev(EventKind::SeverityChanged {
                from: inc.severity,
                to: *severity,
                reason: optional("reason", reason, MAX_TEXT)?,
            })
        }
        Command::AddNote { text } => ev(EventKind::NoteAdded { text: required("text", text, MAX_TEXT)? }),
        Command::Check { item } | Command::Uncheck { item } => {
            let checking = matches!(cmd, Command::Check { .. });
            let key = item.trim();
            let Some(entry) = inc.checklist.iter().find(|c| c.key == key) else {
                let phases: Vec<&str> = Phase::ALL.iter().map(|p| p.as_str()).collect();
                return Err(DomainError::invalid(
                    "item",
                    format!(
                        "{} has no checklist item {key:?} (items are <phase>.<id> with phase one of {})",
                        inc.id,
                        phases.join(", ")
                    ),
                ));
            };
            match (checking, entry.checked_at.is_some()) {
                (true, true) => Err(DomainError::Conflict(format!("{key} is already checked"))),
                (false, false) => Err(DomainError::Conflict(format!("{key} is not checked"))),
                (true, false) => ev(EventKind::ChecklistItemChecked { item: key.to_string() }),
                (false, true) => ev(EventKind::ChecklistItemUnchecked { item: key.to_string() }),
            }
        }
        Command::Resolve { root_cause, force } => {
            check_transition(inc.status, Status::Resolved, Via::Resolve)?;
            let unchecked = inc.unchecked(Phase::Resolution);
            if !unchecked.is_empty() && !force {
                return Err(DomainError::Conflict(format!(
                    "{} has {} unchecked resolution item(s): {}; check them or resolve with force",
                    inc.id,
                    unchecked.len(),
                    unchecked.join(", ")
                )));
            }
            let forced = !unchecked.is_empty();
            ev(EventKind::Resolved { root_cause: optional("root_cause", root_cause, MAX_TEXT)?, forced, unchecked })
        }
        Command::Close => {
            check_transition(inc.status, Status::Closed, Via::Close)?;
            ev(EventKind::Closed {})
        }
        Command::Reopen { reason } => {
            check_transition(inc.status, Status::Investigating, Via::Reopen)?;
            ev(EventKind::Reopened { reason: optional("reason", reason, MAX_TEXT)? })
        }
        Command::StartRunbookRun { runbook, version, section, steps, vars, scenario } => {
            if inc.status == Status::Closed {
                return Err(closed());
            }
            if steps.is_empty() {
                return Err(DomainError::invalid("section", format!("{section:?} has no runnable steps")));
            }
            let run = inc.runbook_runs.len() as u32 + 1;
            ev(EventKind::RunbookRunStarted {
                run,
                runbook: one_line("runbook", runbook, MAX_NAME)?,
                version: *version,
                section: one_line("section", section, MAX_TITLE * 2)?,
                steps: steps.clone(),
                vars: vars.clone(),
                scenario: optional_line("scenario", scenario, MAX_TITLE)?,
            })
        }
        Command::StartStep { run, step, command, confirmation, on_server } => {
            if inc.status == Status::Closed {
                return Err(closed());
            }
            let (r, s) = find_step(inc, *run, *step)?;
            if let Some(busy) = r.state.iter().position(|s| s.status == StepStatus::Running) {
                return Err(DomainError::Conflict(format!(
                    "step {} of run {run} is still running: record its result or interrupt it first",
                    busy + 1
                )));
            }
            if matches!(s.status, StepStatus::Succeeded | StepStatus::Skipped) {
                return Err(DomainError::Conflict(
                    format!("step {step} of run {run} is already {:?}", s.status).to_lowercase(),
                ));
            }
            check_branch_start(r, *step)?;
            let risk = r.steps[*step - 1].risk;
            check_confirmation(inc, *step, risk, confirmation)?;
            let how = match (risk, confirmation.typed_incident.is_some()) {
                (StepRisk::ReadOnly, _) => "none",
                (_, true) => "typed-incident-id",
                _ => "confirmed",
            };
            ev(EventKind::RunbookStepStarted {
                run: *run,
                step: *step,
                command: required("command", command, MAX_TEXT)?,
                risk,
                confirmation: how.to_string(),
                on_server: *on_server,
            })
        }
        Command::FinishStep { run, step, exit_code, duration_ms, output, truncated, cwd, exported } => {
            let (_, s) = find_step(inc, *run, *step)?;
            if !matches!(s.status, StepStatus::Running | StepStatus::Interrupted) {
                return Err(DomainError::Conflict(format!("step {step} of run {run} is not running")));
            }
            if output.len() > MAX_STEP_OUTPUT + 1024 {
                return Err(DomainError::invalid(
                    "output",
                    format!("is longer than {MAX_STEP_OUTPUT} bytes: cut it and set truncated"),
                ));
            }
            if output.contains('\0') {
                return Err(DomainError::invalid("output", "must not contain NUL characters"));
            }
            if *duration_ms < 0 {
                return Err(DomainError::invalid("duration_ms", "must not be negative"));
            }
            check_session_state(cwd, exported)?;
            let (r, _) = find_step(inc, *run, *step)?;
            let not_taken = branches_not_taken(r, *step, Some(*exit_code));
            with_skips(
                ev(EventKind::RunbookStepFinished {
                    run: *run,
                    step: *step,
                    exit_code: *exit_code,
                    duration_ms: *duration_ms,
                    output: output.clone(),
                    truncated: *truncated,
                    cwd: cwd.clone(),
                    exported: exported.clone(),
                }),
                *run,
                not_taken,
            )
        }
        Command::SkipStep { run, step, reason } => {
            let (_, s) = find_step(inc, *run, *step)?;
            if !matches!(s.status, StepStatus::Pending | StepStatus::Failed | StepStatus::Interrupted) {
                return Err(DomainError::Conflict(
                    format!("step {step} of run {run} cannot be skipped while {:?}", s.status).to_lowercase(),
                ));
            }
            let (r, _) = find_step(inc, *run, *step)?;
            let not_taken = branches_not_taken(r, *step, None);
            let skipped =
                EventKind::RunbookStepSkipped { run: *run, step: *step, reason: optional("reason", reason, MAX_TEXT)? };
            with_skips(ev(skipped), *run, not_taken)
        }
        Command::AttachAlert { fingerprint, name, source, severity, summary } => {
            if inc.status == Status::Closed {
                return Err(closed());
            }
            ev(EventKind::AlertAttached {
                fingerprint: fingerprint.clone(),
                name: name.clone(),
                source: source.clone(),
                severity: *severity,
                summary: summary.clone(),
            })
        }
        Command::RecordAlertResolved { fingerprint, name } => {
            ev(EventKind::AlertResolved { fingerprint: fingerprint.clone(), name: name.clone() })
        }
        Command::RecordAllAlertsResolved { auto_resolve_at } => {
            ev(EventKind::AllAlertsResolved { auto_resolve_at: *auto_resolve_at })
        }
        Command::FlagFlapping { fingerprint, name } => {
            ev(EventKind::AlertFlapping { fingerprint: fingerprint.clone(), name: name.clone() })
        }
        Command::RecordPage { policy, round, step, targets } => {
            let already = inc.escalation.fired.iter().any(|f| f.round == *round && f.step == *step);
            if already {
                return Err(DomainError::Conflict(format!("step {} of round {} already paged", step + 1, round + 1)));
            }
            ev(EventKind::Paged { policy: policy.clone(), round: *round, step: *step, targets: targets.clone() })
        }
        Command::EscalateNow { reason } => {
            if !inc.status.is_open() {
                return Err(DomainError::Conflict(format!(
                    "{} is {}: there is nobody left to escalate to",
                    inc.id, inc.status
                )));
            }
            if inc.acknowledged_at.is_some() {
                return Err(DomainError::Conflict(format!(
                    "{} is acknowledged, which stops escalation; assign a role or page someone directly",
                    inc.id
                )));
            }
            ev(EventKind::EscalatedManually { reason: optional("reason", reason, MAX_TEXT)? })
        }
        Command::PostUpdate { template, subject, body, channels } => {
            if inc.status == Status::Closed {
                return Err(closed());
            }
            let mut names = Vec::with_capacity(channels.len());
            for (i, c) in channels.iter().enumerate() {
                let c = one_line(&format!("channels[{i}]"), c, MAX_NAME)?;
                if !names.contains(&c) {
                    names.push(c);
                }
            }
            ev(EventKind::UpdatePosted {
                template: one_line("template", template, MAX_NAME)?,
                subject: optional_line("subject", subject, MAX_TITLE * 2)?,
                body: required("body", body, MAX_TEXT)?,
                channels: names,
            })
        }
        Command::RecordSlaBreach { target, deadline, notified } => {
            let key = format!("{target}@{deadline}");
            if inc.escalation.breached.contains(&key) {
                return Err(DomainError::Conflict(format!("the {target} breach at {deadline} is already recorded")));
            }
            ev(EventKind::SlaBreached { target: target.clone(), deadline: *deadline, notified: notified.clone() })
        }
        Command::InterruptStep { run, step } => {
            let (_, s) = find_step(inc, *run, *step)?;
            if s.status != StepStatus::Running {
                return Err(DomainError::Conflict(format!("step {step} of run {run} is not running")));
            }
            ev(EventKind::RunbookStepInterrupted { run: *run, step: *step })
        }
    }
}

fn via_for(s: Status) -> &'static str {
    match s {
        Status::Triggered => "declare",
        Status::Acknowledged => "ack",
        Status::Resolved => "resolve",
        Status::Closed => "close",
        _ => "status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declare(title: &str, service: Option<&str>) -> Result<Vec<Event>, DomainError> {
        let cmd = Command::Declare {
            title: title.into(),
            severity: Severity::P2,
            service: service.map(String::from),
            summary: Some("line one\nline two \u{202e} kept: a summary is many lines".into()),
        };
        decide(&Policy::default(), None, &cmd, "alice", Timestamp::UNIX_EPOCH)
    }

    fn refused_field(r: Result<Vec<Event>, DomainError>) -> String {
        match r {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn one_line_fields_refuse_line_breaks_and_bidi_overrides() {
        for bad in ["Disk full\r\nX-Injected: yes", "two\nlines", "txt.exe\u{202e}", "a\u{2066}b", "zero\u{200b}width"]
        {
            assert_eq!(refused_field(declare(bad, None)), "title", "{bad:?}");
            assert_eq!(refused_field(declare("Disk full", Some(bad))), "service", "{bad:?}");
        }
        let err = declare("evil\u{202e}fdp.exe", None).unwrap_err().to_string();
        assert!(err.contains("U+202E"), "{err}");
    }

    #[test]
    fn multi_line_fields_and_other_control_characters_are_kept_as_given() {
        let events = declare("\u{1b}]0;pwned\u{7} disk full", Some("db")).expect("accepted");
        let EventKind::Declared { title, summary, .. } = &events[0].kind else { panic!("{events:?}") };
        assert_eq!(title, "\u{1b}]0;pwned\u{7} disk full", "escaped when shown, not when stored");
        assert!(summary.as_deref().is_some_and(|s| s.contains('\n') && s.contains('\u{202e}')));
    }
}
