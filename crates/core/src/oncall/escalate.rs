//! The pure escalation calculator: given a policy, the incident's trigger, acknowledgement and
//! resolution times, the steps already fired, any manual "escalate now" requests and `now`, it
//! returns the steps due now (with targets resolved to the people on call at `now`) and when
//! the next step falls due, which the engine stores as a durable timer.
//!
//! Rules, in order:
//! - an acknowledged or resolved incident pages nobody and has no next step;
//! - step times come from [`EscalationPolicy::ladder`], offset from the trigger (or from the
//!   next business-hours opening when the policy has business hours);
//! - each manual escalation at `m` (taken in time order, only those before `now`) pulls the
//!   first step still in the future at `m` forward to `m`, and every later step forward by
//!   the same amount, so the gaps between the remaining steps are kept;
//! - every step whose time has come and that is not in `fired` is due. A late engine therefore
//!   fires all missed steps at once rather than skipping anyone.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::escalation::{EscalationPolicy, Target};
use super::schedule::{oncall, Schedule};

/// One step of one round of a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StepRef {
    pub round: u32,
    pub step: usize,
}

/// What the calculator needs to know about one incident's escalation.
#[derive(Clone, Debug, Default)]
pub struct EscalationInput<'a> {
    pub triggered_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// Steps already fired; never returned again.
    pub fired: &'a [StepRef],
    /// When someone pressed "escalate now", in any order.
    pub manual: &'a [Timestamp],
}

/// A target after looking up who is on call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolved {
    /// Page this user; `via` names the schedule layer that selected them, if any.
    User {
        id: String,
        via: Option<String>,
    },
    Channel {
        name: String,
    },
    /// Start the named policy as a separate escalation of the same incident.
    StartPolicy {
        id: String,
    },
    /// A schedule target with nobody on call (or an unknown schedule): the engine records it
    /// on the timeline so the gap is visible instead of silently paging no one.
    Unfilled {
        target: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DueStep {
    pub step: StepRef,
    /// When the step fell due (at or before `now`).
    pub due_at: Timestamp,
    pub targets: Vec<Resolved>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub due: Vec<DueStep>,
    /// When the next unfired step falls due (strictly after `now`); `None` when the ladder is
    /// finished or stopped.
    pub next_at: Option<Timestamp>,
}

/// The time each step of the ladder falls due, after manual escalations up to `now`.
pub fn timeline(policy: &EscalationPolicy, input: &EscalationInput<'_>, now: Timestamp) -> Vec<(StepRef, Timestamp)> {
    let start = policy.business_hours.as_ref().map_or(input.triggered_at, |b| b.next_open(input.triggered_at));
    let nominal: Vec<(StepRef, Timestamp)> = policy
        .ladder()
        .into_iter()
        .map(|(round, step, offset)| {
            (StepRef { round, step }, start.saturating_add(offset.to_signed()).unwrap_or(Timestamp::MAX))
        })
        .collect();
    let mut manual: Vec<Timestamp> = input.manual.iter().copied().filter(|m| *m <= now).collect();
    manual.sort();
    let mut advance = SignedDuration::ZERO;
    let at = |t: Timestamp, advance: SignedDuration| t.saturating_sub(advance).unwrap_or(Timestamp::MIN);
    for m in manual {
        if let Some(next) = nominal.iter().map(|(_, t)| at(*t, advance)).find(|t| *t > m) {
            advance += next.duration_since(m);
        }
    }
    nominal.into_iter().map(|(s, t)| (s, at(t, advance))).collect()
}

/// Which steps are due at `now` and when the next one is. See the module notes for the rules.
pub fn escalate(
    policy: &EscalationPolicy,
    schedules: &[Schedule],
    input: &EscalationInput<'_>,
    now: Timestamp,
) -> Escalation {
    if input.acknowledged_at.is_some() || input.resolved_at.is_some() {
        return Escalation { due: Vec::new(), next_at: None };
    }
    let mut due = Vec::new();
    let mut next_at: Option<Timestamp> = None;
    for (step, at) in timeline(policy, input, now) {
        if input.fired.contains(&step) {
            continue;
        }
        if at <= now {
            let targets = resolve(&policy.steps[step.step].targets, schedules, now);
            due.push(DueStep { step, due_at: at, targets });
        } else {
            next_at = Some(next_at.map_or(at, |n| n.min(at)));
        }
    }
    Escalation { due, next_at }
}

/// Targets of one step, each user once even when several targets name them.
pub fn resolve(targets: &[Target], schedules: &[Schedule], now: Timestamp) -> Vec<Resolved> {
    let mut out: Vec<Resolved> = Vec::new();
    let push = |r: Resolved, out: &mut Vec<Resolved>| {
        let seen = match &r {
            Resolved::User { id, .. } => out.iter().any(|o| matches!(o, Resolved::User { id: x, .. } if x == id)),
            other => out.contains(other),
        };
        if !seen {
            out.push(r);
        }
    };
    for t in targets {
        match t {
            Target::User(id) => push(Resolved::User { id: id.clone(), via: None }, &mut out),
            Target::Channel(name) => push(Resolved::Channel { name: name.clone() }, &mut out),
            Target::Policy(id) => push(Resolved::StartPolicy { id: id.clone() }, &mut out),
            Target::Schedule { schedule, layer } => {
                let on = schedules.iter().find(|s| &s.id == schedule).map(|s| oncall(s, now));
                let shifts: Vec<_> = on
                    .iter()
                    .flat_map(|o| o.layers.iter())
                    .filter(|s| layer.as_ref().is_none_or(|l| *l == s.layer))
                    .collect();
                if shifts.is_empty() {
                    push(Resolved::Unfilled { target: t.to_string() }, &mut out);
                }
                for s in shifts {
                    let via = Some(format!("{schedule}/{}", s.layer));
                    push(Resolved::User { id: s.user.clone(), via }, &mut out);
                }
            }
        }
    }
    out
}

/// How a page target is written on the timeline: `user:alice (via primary)`, `channel:#ops`,
/// `policy:db`, `unfilled:schedule:dba`.
impl std::fmt::Display for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolved::User { id, via: Some(via) } => write!(f, "user:{id} (via {via})"),
            Resolved::User { id, via: None } => write!(f, "user:{id}"),
            Resolved::Channel { name } => write!(f, "channel:{name}"),
            Resolved::StartPolicy { id } => write!(f, "policy:{id}"),
            Resolved::Unfilled { target } => write!(f, "unfilled:{target}"),
        }
    }
}
