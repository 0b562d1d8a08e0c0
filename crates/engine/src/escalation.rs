//! Paging and SLA checks: which escalation steps are due and which targets were missed is
//! decided by the calculators in `core::oncall`; this records what they decide on the timeline
//! (through the same commands as every other change) and sets the next timer.

use sevwatch_core::oncall::{escalate, sla_actions, BreachKey, EscalationInput, SlaAction, SlaInput, SlaTarget};
use sevwatch_core::sla::clocks;
use sevwatch_core::{Command, Incident, IncidentId, SealedEvent, Timestamp};

use crate::command::follow_up;
use crate::job::{Job, JobKind};
use crate::{Rules, Working};

/// The actor the engine's own entries are recorded under.
pub const ENGINE: &str = "sevwatch";

/// A new incident: page its policy's first step now (`page` is false for an alert that an
/// open P0 on its service inhibits), and check its SLA targets from its trigger on.
pub(crate) fn start(
    rules: &Rules,
    w: &mut Working,
    id: IncidentId,
    page: bool,
    now: Timestamp,
    out: &mut Vec<SealedEvent>,
) {
    if page {
        fire(rules, w, id, now, out);
    }
    let first_check = w.incident(id).map(|i| i.triggered_at).unwrap_or(now);
    w.effects.schedule(Job::new(JobKind::Sla, id), first_check);
}

/// Page whatever steps of the incident's policy are due, and set the timer for the next.
pub(crate) fn fire(rules: &Rules, w: &mut Working, id: IncidentId, now: Timestamp, out: &mut Vec<SealedEvent>) {
    let Some(inc) = w.incident(id) else { return };
    let Some(policy) = rules.oncall.policy_for(inc.severity) else { return };
    let input = EscalationInput {
        triggered_at: inc.triggered_at,
        acknowledged_at: inc.acknowledged_at,
        resolved_at: inc.resolved_at,
        fired: &inc.escalation.fired,
        manual: &inc.escalation.manual,
    };
    let esc = escalate(policy, &rules.oncall.schedules, &input, now);
    for due in &esc.due {
        let targets = due.targets.iter().map(ToString::to_string).collect();
        let page =
            Command::RecordPage { policy: policy.id.clone(), round: due.step.round, step: due.step.step, targets };
        follow_up(rules, w, id, page, ENGINE, now, out);
    }
    if let Some(next) = esc.next_at {
        w.effects.schedule(Job::new(JobKind::Escalate, id), next);
    }
}

/// Record missed SLA targets (escalating at once on a missed response) and set the next check.
pub(crate) fn check_sla(rules: &Rules, w: &mut Working, id: IncidentId, now: Timestamp, out: &mut Vec<SealedEvent>) {
    let Some(inc) = w.incident(id) else { return };
    let decision = sla_actions(&sla_input(inc, rules), &taken(inc), now);
    for action in &decision.actions {
        let breach = action.breach();
        let notified = match action {
            SlaAction::ResponseBreached { .. } => vec![],
            SlaAction::ResolutionOverdue { notify, .. } => vec![notify.to_string()],
            SlaAction::UpdateReminder { to, .. } => vec![to.to_string()],
        };
        let record =
            Command::RecordSlaBreach { target: breach.target.to_string(), deadline: breach.deadline, notified };
        follow_up(rules, w, id, record, ENGINE, now, out);
        if breach.target == SlaTarget::Response {
            let reason = Some(format!("response target missed (deadline {})", breach.deadline));
            follow_up(rules, w, id, Command::EscalateNow { reason }, ENGINE, now, out);
            w.effects.schedule(Job::new(JobKind::Escalate, id), now);
        }
    }
    if let Some(next) = decision.next_check {
        w.effects.schedule(Job::new(JobKind::Sla, id), next);
    }
}

fn sla_input<'a>(inc: &'a Incident, rules: &Rules) -> SlaInput<'a> {
    // The clocks are computed at the trigger: deadlines do not depend on `now`.
    let c = clocks(inc, &rules.policy, inc.triggered_at);
    let level = rules.policy.level(inc.severity);
    SlaInput {
        acknowledged_at: inc.acknowledged_at,
        resolved_at: inc.resolved_at,
        response_deadline: c.response.deadline,
        resolution_deadline: c.resolution.deadline,
        next_update_due: if inc.status.is_open() {
            level.update_every.and_then(|e| inc.last_update_at.saturating_add(e.to_signed()).ok())
        } else {
            None
        },
        commander: inc.roles.get("commander").map(String::as_str),
        comms_lead: inc.roles.get("comms-lead").map(String::as_str),
    }
}

/// The actions already recorded on the incident.
fn taken(inc: &Incident) -> Vec<SlaAction> {
    inc.escalation.breached.iter().filter_map(|k| k.parse::<BreachKey>().ok()).map(SlaAction::from_breach).collect()
}
