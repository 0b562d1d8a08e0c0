//! Timeline events: the only way an incident changes. [`Event`] is what `decide` produces;
//! [`SealedEvent`] is an event placed on an incident's timeline with its sequence number and
//! its link in the hash chain (see [`crate::chain`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checklist::ChecklistEntry;
use crate::runbook_run::{RunStep, StepRisk};
use crate::{IncidentId, Severity, Status, Timestamp};

/// What happened. Serialised with a `type` tag, e.g. `{"type":"note_added","text":"..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Declared {
        title: String,
        severity: Severity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        /// The checklist copied from the policy at declaration time.
        checklist: Vec<ChecklistEntry>,
    },
    Acknowledged {},
    StatusChanged {
        from: Status,
        to: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RoleAssigned {
        role: String,
        to: String,
        /// Who held the role before: a hand-off when set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
    NoteAdded {
        text: String,
    },
    ChecklistItemChecked {
        item: String,
    },
    ChecklistItemUnchecked {
        item: String,
    },
    Resolved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_cause: Option<String>,
        /// True when resolution checklist items were still open and `--force` was given.
        #[serde(default)]
        forced: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unchecked: Vec<String>,
    },
    Closed {},
    Reopened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RunbookRunStarted {
        run: u32,
        runbook: String,
        version: i64,
        section: String,
        steps: Vec<RunStep>,
        #[serde(default)]
        vars: BTreeMap<String, String>,
        /// The scenario the run follows, when its section has scenarios.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<String>,
    },
    /// `step` numbers are 1-based, as responders see them.
    RunbookStepStarted {
        run: u32,
        step: usize,
        /// The script exactly as run: bound values assigned to variables, then the command.
        command: String,
        risk: StepRisk,
        /// `none`, `confirmed` or `typed-incident-id`.
        confirmation: String,
        /// The server ran it (at the request of the event's actor), not a responder's machine.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        on_server: bool,
    },
    RunbookStepFinished {
        run: u32,
        step: usize,
        exit_code: i32,
        duration_ms: i64,
        /// stdout and stderr as captured, at most 1 MiB.
        output: String,
        #[serde(default)]
        truncated: bool,
        /// The working directory of the run's shell session after the step.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<String>,
        /// Names (never values) of the variables the run's steps have exported so far.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exported: Vec<String>,
    },
    RunbookStepSkipped {
        run: u32,
        step: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RunbookStepInterrupted {
        run: u32,
        step: usize,
    },
    /// An alert opened or joined this incident (its first occurrence here).
    AlertAttached {
        fingerprint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        source: String,
        severity: Severity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
    },
    AlertResolved {
        fingerprint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Every alert of the incident has resolved; it resolves by itself at `auto_resolve_at`
    /// unless one fires again.
    AllAlertsResolved {
        auto_resolve_at: Timestamp,
    },
    AlertFlapping {
        fingerprint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// One step of the escalation policy fired: who was paged.
    Paged {
        policy: String,
        round: u32,
        step: usize,
        /// `user:alice (schedule default/primary)`, `channel:#incident-critical`,
        /// `unfilled:schedule:db`, ...
        targets: Vec<String>,
    },
    /// A responder asked to jump to the next escalation step now.
    EscalatedManually {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A communication went out (`comms send`): which template, the text as sent, and the
    /// channels it was addressed to (empty: those routed for the incident's severity and
    /// service). Restarts the update cadence.
    UpdatePosted {
        template: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        body: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        channels: Vec<String>,
    },
    /// An SLA deadline passed: `response`, `resolution` or `update`.
    SlaBreached {
        target: String,
        deadline: Timestamp,
        /// Who was told (`user:...`, `role:comms-lead`, ...).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notified: Vec<String>,
    },
}

impl EventKind {
    /// The `type` tag, as stored in its own column for filtering.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Declared { .. } => "declared",
            EventKind::Acknowledged {} => "acknowledged",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::SeverityChanged { .. } => "severity_changed",
            EventKind::RoleAssigned { .. } => "role_assigned",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::ChecklistItemChecked { .. } => "checklist_item_checked",
            EventKind::ChecklistItemUnchecked { .. } => "checklist_item_unchecked",
            EventKind::Resolved { .. } => "resolved",
            EventKind::Closed {} => "closed",
            EventKind::Reopened { .. } => "reopened",
            EventKind::RunbookRunStarted { .. } => "runbook_run_started",
            EventKind::RunbookStepStarted { .. } => "runbook_step_started",
            EventKind::RunbookStepFinished { .. } => "runbook_step_finished",
            EventKind::RunbookStepSkipped { .. } => "runbook_step_skipped",
            EventKind::RunbookStepInterrupted { .. } => "runbook_step_interrupted",
            EventKind::AlertAttached { .. } => "alert_attached",
            EventKind::AlertResolved { .. } => "alert_resolved",
            EventKind::AllAlertsResolved { .. } => "all_alerts_resolved",
            EventKind::AlertFlapping { .. } => "alert_flapping",
            EventKind::Paged { .. } => "paged",
            EventKind::EscalatedManually { .. } => "escalated_manually",
            EventKind::UpdatePosted { .. } => "update_posted",
            EventKind::SlaBreached { .. } => "sla_breached",
        }
    }

    /// One line for humans, used by `sevwatch timeline`.
    pub fn describe(&self) -> String {
        match self {
            EventKind::Declared { title, severity, .. } => format!("declared {severity}: {title}"),
            EventKind::Acknowledged {} => "acknowledged".into(),
            EventKind::StatusChanged { from, to, note } => match note {
                Some(n) => format!("status {from} -> {to}: {n}"),
                None => format!("status {from} -> {to}"),
            },
            EventKind::SeverityChanged { from, to, reason } => match reason {
                Some(r) => format!("severity {from} -> {to}: {r}"),
                None => format!("severity {from} -> {to}"),
            },
            EventKind::RoleAssigned { role, to, previous } => match previous {
                Some(p) => format!("{role} handed from {p} to {to}"),
                None => format!("{role} assigned to {to}"),
            },
            EventKind::NoteAdded { text } => format!("note: {text}"),
            EventKind::ChecklistItemChecked { item } => format!("checked {item}"),
            EventKind::ChecklistItemUnchecked { item } => format!("unchecked {item}"),
            EventKind::Resolved { root_cause, forced, unchecked } => {
                let mut s = "resolved".to_string();
                if let Some(rc) = root_cause {
                    s.push_str(&format!(": {rc}"));
                }
                if *forced {
                    s.push_str(&format!(
                        " (forced with {} unchecked item(s): {})",
                        unchecked.len(),
                        unchecked.join(", ")
                    ));
                }
                s
            }
            EventKind::Closed {} => "closed".into(),
            EventKind::Reopened { reason } => match reason {
                Some(r) => format!("reopened: {r}"),
                None => "reopened".into(),
            },
            EventKind::RunbookRunStarted { run, runbook, section, steps, scenario, .. } => {
                let scenario = scenario.as_ref().map(|s| format!(", scenario {s}")).unwrap_or_default();
                format!("runbook run {run} started: {runbook} / {section}{scenario} ({} steps)", steps.len())
            }
            EventKind::RunbookStepStarted { run, step, command, risk, confirmation, on_server } => {
                let place = if *on_server { " on the server" } else { "" };
                format!("run {run} step {step} started{place} ({risk}, confirmation: {confirmation}): {command}")
            }
            EventKind::RunbookStepFinished { run, step, exit_code, duration_ms, output, truncated, cwd, exported } => {
                format!(
                    "run {run} step {step} exited {exit_code} after {duration_ms} ms ({} bytes of output{}){}{}",
                    output.len(),
                    if *truncated { ", truncated" } else { "" },
                    cwd.as_ref().map(|d| format!("; shell in {d}")).unwrap_or_default(),
                    if exported.is_empty() { String::new() } else { format!("; exported: {}", exported.join(" ")) }
                )
            }
            EventKind::RunbookStepSkipped { run, step, reason } => match reason {
                Some(r) => format!("run {run} step {step} skipped: {r}"),
                None => format!("run {run} step {step} skipped"),
            },
            EventKind::RunbookStepInterrupted { run, step } => format!("run {run} step {step} interrupted"),
            EventKind::AlertAttached { fingerprint, name, source, severity, summary } => format!(
                "{source} alert {} ({severity}) attached{}",
                name.as_deref().unwrap_or(fingerprint),
                summary.as_deref().map(|s| format!(": {s}")).unwrap_or_default()
            ),
            EventKind::AlertResolved { fingerprint, name } => {
                format!("alert {} resolved", name.as_deref().unwrap_or(fingerprint))
            }
            EventKind::AllAlertsResolved { auto_resolve_at } => {
                format!("every alert has resolved; resolving by itself at {auto_resolve_at} unless one fires again")
            }
            EventKind::AlertFlapping { fingerprint, name } => {
                format!("alert {} is flapping", name.as_deref().unwrap_or(fingerprint))
            }
            EventKind::Paged { policy, round, step, targets } => {
                format!("paged ({policy} round {} step {}): {}", round + 1, step + 1, targets.join(", "))
            }
            EventKind::EscalatedManually { reason } => match reason {
                Some(r) => format!("escalated by hand: {r}"),
                None => "escalated by hand".into(),
            },
            EventKind::UpdatePosted { template, subject, channels, .. } => {
                let to = if channels.is_empty() { String::new() } else { format!(" to {}", channels.join(", ")) };
                match subject {
                    Some(s) => format!("{template} sent{to}: {s}"),
                    None => format!("{template} sent{to}"),
                }
            }
            EventKind::SlaBreached { target, deadline, notified } => {
                let who = if notified.is_empty() { String::new() } else { format!("; told {}", notified.join(", ")) };
                format!("{target} target missed (deadline {deadline}){who}")
            }
        }
    }
}

/// An event as decided: when, by whom, what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: Timestamp,
    pub actor: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// An event on the timeline of one incident, linked into its hash chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEvent {
    pub incident: IncidentId,
    /// 1 for the declaration, then 2, 3, ... without gaps.
    pub seq: i64,
    #[serde(flatten)]
    pub event: Event,
    pub prev_hash: String,
    pub hash: String,
}
