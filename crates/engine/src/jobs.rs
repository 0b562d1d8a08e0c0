//! Timers that fell due: each is removed in the batch that performs its effect (so a crash
//! does both or neither), then escalates, checks the SLA or resolves a quiet incident. A timer
//! fired twice finds its effect already recorded and does nothing.

use sevwatch_core::alert::{auto_resolve, AutoResolve};
use sevwatch_core::{Command, IncidentId, SealedEvent, Timestamp};

use crate::command::follow_up;
use crate::escalation::{self, ENGINE};
use crate::job::{Job, JobKind};
use crate::{outbox, Rules, Working};

#[derive(Clone, Debug, Default)]
pub struct JobsFired {
    pub fired: usize,
    pub events: Vec<SealedEvent>,
}

/// Fire `due` (claimed by the store) at `now`.
pub fn plan_jobs(rules: &Rules, w: &mut Working, due: &[Job], now: Timestamp) -> JobsFired {
    let mut out = JobsFired::default();
    for job in due {
        // Removed before its effect, so the effect may set the job's successor.
        w.effects.cancel(*job);
        out.fired += 1;
        let id = job.incident;
        match job.kind {
            JobKind::Escalate => escalation::fire(rules, w, id, now, &mut out.events),
            JobKind::Sla => escalation::check_sla(rules, w, id, now, &mut out.events),
            JobKind::AutoResolve => auto_resolve_now(rules, w, id, now, &mut out.events),
        }
    }
    outbox::plan(rules, w, &out.events, now);
    out
}

/// Resolve the incident if its alerts are still all resolved and quiet long enough. Checked
/// again at firing time: an alert may have fired since the timer was set (then nothing
/// happens), or the timer may fire a moment before the quiet period ends, since timer times
/// are whole milliseconds and the records' are not (then it is set again for that moment).
fn auto_resolve_now(rules: &Rules, w: &mut Working, id: IncidentId, now: Timestamp, out: &mut Vec<SealedEvent>) {
    match auto_resolve(w.records_of(id).iter(), rules.alerts.auto_resolve_after) {
        AutoResolve::Cancel => {}
        AutoResolve::At(t) if t > now => {
            let next = Timestamp::from_millisecond(t.as_millisecond() + 1).unwrap_or(t);
            w.effects.schedule(Job::new(JobKind::AutoResolve, id), next);
        }
        AutoResolve::At(_) => {
            let root_cause = format!(
                "resolved by itself: every alert resolved and none fired again for {}",
                rules.alerts.auto_resolve_after
            );
            // Already resolved by a person: nothing to do.
            follow_up(rules, w, id, Command::Resolve { root_cause: Some(root_cause), force: true }, ENGINE, now, out);
        }
    }
}
