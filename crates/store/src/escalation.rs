//! The engine's incident timers: escalation steps and SLA deadlines, fired inside the writer's
//! transaction. Which steps are due and which deadlines are missed is decided by the pure
//! calculators in `core::oncall`; this file loads the incident, feeds them, records what they
//! decide on the timeline (through the same `apply_op` as every command) and writes the next
//! timer. A job fired twice finds its effect already recorded and does nothing.

use sevwatch_core::oncall::{escalate, sla_actions, EscalationInput, Recipient, Resolved, SlaAction, SlaInput};
use sevwatch_core::sla::clocks;
use sevwatch_core::{Command, Incident, IncidentId, SealedEvent, Timestamp};

use crate::db::Tx;
use crate::jobs;
use crate::writer::{apply_op, current_state, BatchCache, Rules};
use crate::IncidentOp;

pub(crate) fn escalate_key(id: IncidentId) -> String {
    format!("escalate:{id}")
}

pub(crate) fn sla_key(id: IncidentId) -> String {
    format!("sla:{id}")
}

fn describe(r: &Resolved) -> String {
    match r {
        Resolved::User { id, via: Some(via) } => format!("user:{id} (via {via})"),
        Resolved::User { id, via: None } => format!("user:{id}"),
        Resolved::Channel { name } => format!("channel:{name}"),
        Resolved::StartPolicy { id } => format!("policy:{id}"),
        Resolved::Unfilled { target } => format!("unfilled:{target}"),
    }
}

fn recipient(r: &Recipient) -> String {
    match r {
        Recipient::CommsLead(u) => format!("comms-lead:{u}"),
        Recipient::Commander(u) => format!("commander:{u}"),
        Recipient::IncidentChannel => "incident-channel".into(),
    }
}

async fn run(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    id: IncidentId,
    command: Command,
    now: Timestamp,
    out: &mut Vec<SealedEvent>,
) -> Result<(), sqlx::Error> {
    let op = IncidentOp { target: Some(id), command, actor: "sevwatch".into(), now };
    if let Ok(w) = apply_op(tx, &rules.policy, &op, cache).await? {
        out.extend(w.events);
    }
    Ok(())
}

/// Page whatever steps of the incident's policy are due, and set the timer for the next.
pub(crate) async fn fire_escalation(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    id: IncidentId,
    now: Timestamp,
    out: &mut Vec<SealedEvent>,
) -> Result<(), sqlx::Error> {
    let Some(inc) = current_state(tx, cache, id).await? else { return Ok(()) };
    let Some(policy) = rules.oncall.policy_for(inc.severity) else { return Ok(()) };
    let input = EscalationInput {
        triggered_at: inc.triggered_at,
        acknowledged_at: inc.acknowledged_at,
        resolved_at: inc.resolved_at,
        fired: &inc.escalation.fired,
        manual: &inc.escalation.manual,
    };
    let esc = escalate(policy, &rules.oncall.schedules, &input, now);
    for due in &esc.due {
        let targets = due.targets.iter().map(describe).collect();
        let page =
            Command::RecordPage { policy: policy.id.clone(), round: due.step.round, step: due.step.step, targets };
        run(tx, rules, cache, id, page, now, out).await?;
    }
    if let Some(next) = esc.next_at {
        jobs::schedule(tx, &escalate_key(id), "escalate", Some(id), next).await?;
    }
    Ok(())
}

/// Record missed SLA targets (escalating on a missed response) and set the next check.
pub(crate) async fn fire_sla(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    id: IncidentId,
    now: Timestamp,
    out: &mut Vec<SealedEvent>,
) -> Result<(), sqlx::Error> {
    let Some(inc) = current_state(tx, cache, id).await? else { return Ok(()) };
    let decision = sla_actions(&sla_input(&inc, rules), &taken(&inc), now);
    for action in &decision.actions {
        let (target, deadline, notified) = match action {
            SlaAction::ResponseBreached { deadline } => ("response", *deadline, vec![]),
            SlaAction::ResolutionOverdue { deadline, notify } => ("resolution", *deadline, vec![recipient(notify)]),
            SlaAction::UpdateReminder { due, to } => ("update", *due, vec![recipient(to)]),
        };
        run(tx, rules, cache, id, Command::RecordSlaBreach { target: target.into(), deadline, notified }, now, out)
            .await?;
        if target == "response" {
            let reason = Some(format!("response target missed (deadline {deadline})"));
            run(tx, rules, cache, id, Command::EscalateNow { reason }, now, out).await?;
            jobs::schedule(tx, &escalate_key(id), "escalate", Some(id), now).await?;
        }
    }
    if let Some(next) = decision.next_check {
        jobs::schedule(tx, &sla_key(id), "sla", Some(id), next).await?;
    }
    Ok(())
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

/// The actions already recorded, rebuilt from `response@T`-style keys (the recipient does not
/// matter for "already done").
fn taken(inc: &Incident) -> Vec<SlaAction> {
    inc.escalation
        .breached
        .iter()
        .filter_map(|k| {
            let (target, at) = k.split_once('@')?;
            let t: Timestamp = at.parse().ok()?;
            Some(match target {
                "response" => SlaAction::ResponseBreached { deadline: t },
                "resolution" => SlaAction::ResolutionOverdue { deadline: t, notify: Recipient::IncidentChannel },
                _ => SlaAction::UpdateReminder { due: t, to: Recipient::IncidentChannel },
            })
        })
        .collect()
}

/// A new incident: page its policy's first step in the same transaction (so the page is on the
/// timeline as soon as the declaration is acknowledged), then leave timers for the later steps
/// and the SLA checks. `page` is false for an alert an open P0 on its service inhibits.
pub(crate) async fn start(
    tx: &mut Tx,
    rules: &Rules,
    cache: &mut BatchCache,
    id: IncidentId,
    page: bool,
    now: Timestamp,
    out: &mut Vec<SealedEvent>,
) -> Result<(), sqlx::Error> {
    if page {
        fire_escalation(tx, rules, cache, id, now, out).await?;
    }
    let first_check = current_state(tx, cache, id).await?.map(|i| i.triggered_at).unwrap_or(now);
    jobs::schedule(tx, &sla_key(id), "sla", Some(id), first_check).await
}

/// Timers an incident needs after a command: a severity change or a reopen moves the SLA
/// deadlines. ("Escalate now" fires in the writer right after the command.)
pub(crate) async fn after_command(
    tx: &mut Tx,
    command: &Command,
    inc: &Incident,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    if matches!(command, Command::ChangeSeverity { .. } | Command::Reopen { .. }) {
        jobs::schedule(tx, &sla_key(inc.id), "sla", Some(inc.id), now).await?;
    }
    Ok(())
}
