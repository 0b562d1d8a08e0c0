//! Incident commands: validate against the incident as the batch sees it, fold and seal the
//! events, and decide what must follow (paging on a declaration or an "escalate now", SLA
//! checks moved by a severity change or a reopen).

use sevwatch_core::chain::{seal, GENESIS};
use sevwatch_core::{decide, Command, DomainError, Incident, IncidentId, SealedEvent, Timestamp};

use crate::job::{Job, JobKind};
use crate::working::Slot;
use crate::{escalation, outbox, Rules, Working};

/// One command for one incident (`target: None` declares a new one).
#[derive(Clone, Debug)]
pub struct IncidentOp {
    pub target: Option<IncidentId>,
    pub command: Command,
    pub actor: String,
    pub now: Timestamp,
}

/// The result of an [`IncidentOp`]: the incident after it (and after what followed it), and
/// the events it sealed.
#[derive(Clone, Debug)]
pub struct Written {
    pub incident: Incident,
    pub events: Vec<SealedEvent>,
}

/// Why an operation wrote nothing.
#[derive(Debug)]
pub enum Refusal {
    NotFound(IncidentId),
    Domain(DomainError),
    /// The incident's stored state does not decode.
    Corrupt(String),
}

/// Plan an incident command and everything that follows from it.
pub fn plan_command(rules: &Rules, w: &mut Working, op: &IncidentOp) -> Result<Written, Refusal> {
    let mut events = apply(rules, w, op.target, &op.command, &op.actor, op.now)?;
    let id = events[0].incident;
    match &op.command {
        Command::Declare { .. } => escalation::start(rules, w, id, true, op.now, &mut events),
        Command::EscalateNow { .. } => escalation::fire(rules, w, id, op.now, &mut events),
        _ => {}
    }
    outbox::plan(rules, w, &events, op.now);
    let incident = w.incident(id).cloned().expect("a command's incident is in the batch");
    Ok(Written { incident, events })
}

/// Decide one command, fold and seal its events into the batch, and set the timers it moves.
/// Nothing changes when it is refused.
pub(crate) fn apply(
    rules: &Rules,
    w: &mut Working,
    target: Option<IncidentId>,
    command: &Command,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<SealedEvent>, Refusal> {
    let current = match target {
        None => None,
        Some(id) => match w.incidents.get(&id) {
            Some(Slot::Ready(inc, hash)) => Some((inc, hash)),
            Some(Slot::Corrupt(why)) => return Err(Refusal::Corrupt(why.clone())),
            Some(Slot::Missing) | None => return Err(Refusal::NotFound(id)),
        },
    };
    let decided = decide(&rules.policy, current.as_ref().map(|(i, _)| &***i), command, actor, now);
    let mut events = decided.map_err(Refusal::Domain)?.into_iter();
    let (mut incident, mut prev_hash, mut sealed) = match current {
        Some((inc, hash)) => ((**inc).clone(), hash.clone(), Vec::new()),
        None => {
            let first = events.next().expect("a declaration yields its event");
            let id = w.next_id();
            let inc = Incident::from_declared(id, &first).expect("decide(Declare) yields Declared first");
            let s = seal(id, 1, first, GENESIS);
            (inc, s.hash.clone(), vec![s])
        }
    };
    for e in events {
        incident.apply(&e);
        let s = seal(incident.id, incident.event_count, e, &prev_hash);
        prev_hash = s.hash.clone();
        sealed.push(s);
    }
    let id = incident.id;
    if matches!(command, Command::ChangeSeverity { .. } | Command::Reopen { .. }) {
        // The SLA deadlines moved: check them now.
        w.effects.schedule(Job::new(JobKind::Sla, id), now);
    }
    w.effects.events.extend(sealed.iter().cloned());
    w.effects.incidents.insert(id);
    w.incidents.insert(id, Slot::Ready(Box::new(incident), prev_hash));
    Ok(sealed)
}

/// [`apply`] for a follow-up the engine itself asks for: a refusal (already done, no longer
/// open) is not an error, it only means there is nothing to record.
pub(crate) fn follow_up(
    rules: &Rules,
    w: &mut Working,
    id: IncidentId,
    command: Command,
    actor: &str,
    now: Timestamp,
    out: &mut Vec<SealedEvent>,
) {
    if let Ok(events) = apply(rules, w, Some(id), &command, actor, now) {
        out.extend(events);
    }
}
