//! The current state of one incident: a fold of its timeline events. [`Incident::apply`] is the
//! only function that changes it; the store keeps the result as a cache row for queries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checklist::{ChecklistEntry, Phase};
use crate::event::{Event, EventKind};
use crate::runbook_run::{RunbookRun, StepState, StepStatus};
use crate::{IncidentId, Severity, Status, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    /// `INC-<n>`
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "INC-42"))]
    pub id: IncidentId,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub declared_by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub triggered_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub acknowledged_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub resolved_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub closed_at: Option<Timestamp>,
    /// The last moment stakeholders were told something (declaration, status or severity
    /// change, resolution, reopen): the communication cadence counts from here.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub last_update_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub updated_at: Timestamp,
    /// Role name -> who holds it.
    pub roles: BTreeMap<String, String>,
    pub checklist: Vec<ChecklistEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    pub reopen_count: u32,
    /// Number of events on the timeline (= the last sequence number).
    pub event_count: i64,
    /// Alerts attached to this incident (first occurrences; repeats are counted on the alert).
    #[serde(default)]
    pub alert_count: u32,
    /// When every alert has resolved: the moment the incident resolves by itself unless one
    /// fires again (cleared by a new alert, a resolution or a reopen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub auto_resolve_at: Option<Timestamp>,
    /// Escalation progress: steps fired, manual escalations, SLA breaches recorded.
    #[serde(default)]
    pub escalation: EscalationState,
    /// Runbook runs, oldest first (step outputs live on the timeline only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runbook_runs: Vec<RunbookRun>,
}

/// How far the incident's escalation has gone (derived from `paged`, `escalated_manually`
/// and `sla_breached` events).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationState {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub fired: Vec<crate::oncall::StepRef>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub manual: Vec<Timestamp>,
    /// SLA targets recorded as missed: `response`, `resolution`, `update` (with its deadline).
    pub breached: Vec<String>,
}

impl Incident {
    /// The state right after a `Declared` event; `None` for any other event.
    pub fn from_declared(id: IncidentId, e: &Event) -> Option<Incident> {
        let EventKind::Declared { title, severity, service, summary, checklist } = &e.kind else {
            return None;
        };
        Some(Incident {
            id,
            title: title.clone(),
            severity: *severity,
            status: Status::Triggered,
            service: service.clone(),
            summary: summary.clone(),
            declared_by: e.actor.clone(),
            triggered_at: e.at,
            acknowledged_at: None,
            resolved_at: None,
            closed_at: None,
            last_update_at: e.at,
            updated_at: e.at,
            roles: BTreeMap::new(),
            checklist: checklist.clone(),
            root_cause: None,
            reopen_count: 0,
            event_count: 1,
            alert_count: 0,
            auto_resolve_at: None,
            escalation: EscalationState::default(),
            runbook_runs: Vec::new(),
        })
    }

    /// Fold one event into the state. Events were validated by `decide`, so this never fails;
    /// an event that does not fit (a checklist key that is not there) changes nothing.
    pub fn apply(&mut self, e: &Event) {
        self.event_count += 1;
        self.updated_at = e.at;
        match &e.kind {
            EventKind::Declared { .. } => {}
            EventKind::Acknowledged {} => {
                self.status = Status::Acknowledged;
                self.acknowledged_at.get_or_insert(e.at);
            }
            EventKind::StatusChanged { to, .. } => {
                self.status = *to;
                // Working on an incident implies someone has acknowledged it.
                self.acknowledged_at.get_or_insert(e.at);
                self.last_update_at = e.at;
            }
            EventKind::SeverityChanged { to, .. } => {
                self.severity = *to;
                self.last_update_at = e.at;
            }
            EventKind::RoleAssigned { role, to, .. } => {
                self.roles.insert(role.clone(), to.clone());
            }
            EventKind::NoteAdded { .. } => {}
            EventKind::ChecklistItemChecked { item } => {
                if let Some(entry) = self.checklist.iter_mut().find(|c| &c.key == item) {
                    entry.checked_at = Some(e.at);
                    entry.checked_by = Some(e.actor.clone());
                }
            }
            EventKind::ChecklistItemUnchecked { item } => {
                if let Some(entry) = self.checklist.iter_mut().find(|c| &c.key == item) {
                    entry.checked_at = None;
                    entry.checked_by = None;
                }
            }
            EventKind::Resolved { root_cause, .. } => {
                self.status = Status::Resolved;
                self.auto_resolve_at = None;
                self.resolved_at = Some(e.at);
                if root_cause.is_some() {
                    self.root_cause = root_cause.clone();
                }
                self.last_update_at = e.at;
            }
            EventKind::Closed {} => {
                self.status = Status::Closed;
                self.closed_at = Some(e.at);
            }
            EventKind::Reopened { .. } => {
                self.status = Status::Investigating;
                self.auto_resolve_at = None;
                self.resolved_at = None;
                self.closed_at = None;
                self.reopen_count += 1;
                self.last_update_at = e.at;
            }
            EventKind::RunbookRunStarted { run, runbook, version, section, steps, vars, scenario } => {
                let blank = StepState {
                    status: StepStatus::Pending,
                    command: None,
                    started_by: None,
                    exit_code: None,
                    duration_ms: None,
                    attempts: 0,
                };
                self.runbook_runs.push(RunbookRun {
                    id: *run,
                    runbook: runbook.clone(),
                    version: *version,
                    section: section.clone(),
                    state: vec![blank; steps.len()],
                    steps: steps.clone(),
                    vars: vars.clone(),
                    scenario: scenario.clone(),
                    started_by: e.actor.clone(),
                    started_at: e.at,
                });
            }
            EventKind::RunbookStepStarted { run, step, command, .. } => {
                if let Some(s) = self.step_mut(*run, *step) {
                    s.status = StepStatus::Running;
                    s.command = Some(command.clone());
                    s.started_by = Some(e.actor.clone());
                    s.exit_code = None;
                    s.duration_ms = None;
                    s.attempts += 1;
                }
            }
            EventKind::RunbookStepFinished { run, step, exit_code, duration_ms, .. } => {
                if let Some(s) = self.step_mut(*run, *step) {
                    s.status = if *exit_code == 0 { StepStatus::Succeeded } else { StepStatus::Failed };
                    s.exit_code = Some(*exit_code);
                    s.duration_ms = Some(*duration_ms);
                }
            }
            EventKind::RunbookStepSkipped { run, step, .. } => {
                if let Some(s) = self.step_mut(*run, *step) {
                    s.status = StepStatus::Skipped;
                }
            }
            EventKind::RunbookStepInterrupted { run, step } => {
                if let Some(s) = self.step_mut(*run, *step) {
                    s.status = StepStatus::Interrupted;
                }
            }
            EventKind::AlertAttached { .. } => {
                self.alert_count += 1;
                self.auto_resolve_at = None;
            }
            EventKind::AllAlertsResolved { auto_resolve_at } => self.auto_resolve_at = Some(*auto_resolve_at),
            EventKind::Paged { round, step, .. } => {
                self.escalation.fired.push(crate::oncall::StepRef { round: *round, step: *step })
            }
            EventKind::EscalatedManually { .. } => self.escalation.manual.push(e.at),
            EventKind::UpdatePosted { .. } => self.last_update_at = e.at,
            EventKind::SlaBreached { target, deadline, .. } => {
                let key = format!("{target}@{deadline}");
                if !self.escalation.breached.contains(&key) {
                    self.escalation.breached.push(key);
                }
            }
            EventKind::AlertResolved { .. } | EventKind::AlertFlapping { .. } => {}
        }
    }

    fn step_mut(&mut self, run: u32, step: usize) -> Option<&mut StepState> {
        let r = self.runbook_runs.iter_mut().find(|r| r.id == run)?;
        step.checked_sub(1).and_then(|i| r.state.get_mut(i))
    }

    /// Rebuild the state from a whole timeline. `None` if it does not start with a declaration.
    pub fn replay(id: IncidentId, events: &[Event]) -> Option<Incident> {
        let (first, rest) = events.split_first()?;
        let mut inc = Incident::from_declared(id, first)?;
        for e in rest {
            inc.apply(e);
        }
        Some(inc)
    }

    /// Keys of the unchecked items of one phase.
    pub fn unchecked(&self, phase: Phase) -> Vec<String> {
        self.checklist.iter().filter(|c| c.phase == phase && c.checked_at.is_none()).map(|c| c.key.clone()).collect()
    }
}
