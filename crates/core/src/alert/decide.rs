//! What one incoming alert does, given what the store already knows: open an incident, join
//! the open incident of its group, count a repeat, resolve, or only be recorded (silenced, in
//! maintenance). The caller looks up the [`AlertRecord`] by fingerprint and the group's open
//! incident, works out the context (severity, group key, silences, maintenance, inhibition)
//! and stores the returned record in the same transaction as the incident events.

use serde::{Deserialize, Serialize};

use super::{Alert, AlertSource, AlertStatus, FlapRule};
use crate::{Duration, IncidentId, Severity, Timestamp};

/// What the store keeps per fingerprint, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub fingerprint: String,
    pub source: AlertSource,
    pub status: AlertStatus,
    /// Notifications received for this fingerprint, repeats included.
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The incident the current firing is attached to. The store clears it when that
    /// incident resolves, so the next firing opens or joins afresh.
    pub incident: Option<IncidentId>,
    pub group_key: String,
    pub severity: Severity,
    /// Times of recent firing <-> resolved changes, pruned to the flap window.
    pub transitions: Vec<Timestamp>,
    pub flapping: bool,
    /// Why the current firing opened nothing, if it did not.
    pub suppressed: Option<Suppression>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suppression {
    Silenced,
    Maintenance,
}

/// Everything about the alert's situation that is not stored on its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ctx {
    /// After the severity map and any route override.
    pub severity: Severity,
    pub group_key: String,
    pub silenced: bool,
    pub in_maintenance: bool,
    /// See [`inhibited`](super::inhibited).
    pub inhibited: bool,
    pub flap: FlapRule,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertOutcome {
    /// Open a new incident. The store allocates the id and writes it into `record.incident`.
    Open { title: String, severity: Severity },
    /// Attach to the group's open incident, raising its severity when `raise_to` is set.
    Join { incident: IncidentId, raise_to: Option<Severity> },
    /// The same firing again: counted, nothing opened.
    Repeat { incident: Option<IncidentId>, raise_to: Option<Severity> },
    /// The alert stopped firing; the caller then asks [`auto_resolve`] about its incident.
    Resolved { incident: Option<IncidentId> },
    /// Recorded only.
    Suppressed(Suppression),
    /// A resolve for an alert that was never seen firing (sent after a restart of the
    /// sender, say): recorded, nothing else.
    ResolvedUnknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertDecision {
    pub record: AlertRecord,
    pub outcome: AlertOutcome,
    /// Whether to page the escalation policy.
    pub page: bool,
    /// True only on the change that made the alert flapping, so the timeline notes it once.
    pub became_flapping: bool,
}

pub fn decide(
    incoming: &Alert,
    known: Option<&AlertRecord>,
    open_incident_for_group: Option<(IncidentId, Severity)>,
    ctx: &Ctx,
    now: Timestamp,
) -> AlertDecision {
    let mut rec = known.cloned().unwrap_or_else(|| AlertRecord {
        fingerprint: incoming.fingerprint.clone(),
        source: incoming.source,
        status: incoming.status,
        count: 0,
        first_seen: now,
        last_seen: now,
        resolved_at: None,
        incident: None,
        group_key: ctx.group_key.clone(),
        severity: ctx.severity,
        transitions: Vec::new(),
        flapping: false,
        suppressed: None,
    });
    let was_flapping = rec.flapping;
    rec.count = rec.count.saturating_add(1);
    // Clocks of senders and replicas differ; never move the record backwards.
    rec.last_seen = rec.last_seen.max(now);
    let changed = known.is_some_and(|k| k.status != incoming.status);
    rec.flapping = if changed {
        ctx.flap.record(&mut rec.transitions, now)
    } else {
        ctx.flap.is_flapping(&mut rec.transitions, now)
    };
    let became_flapping = rec.flapping && !was_flapping;

    let raise = |current: Severity| Some(ctx.severity).filter(|s| s.outranks(current));
    let (outcome, page) = match (known.map(|k| k.status), incoming.status) {
        (None, AlertStatus::Resolved) => {
            rec.resolved_at = Some(now);
            (AlertOutcome::ResolvedUnknown, false)
        }
        (Some(AlertStatus::Resolved), AlertStatus::Resolved) => {
            (AlertOutcome::Repeat { incident: rec.incident, raise_to: None }, false)
        }
        (Some(AlertStatus::Firing), AlertStatus::Resolved) => {
            rec.status = AlertStatus::Resolved;
            rec.resolved_at = Some(now);
            (AlertOutcome::Resolved { incident: rec.incident }, false)
        }
        (Some(AlertStatus::Firing), AlertStatus::Firing) if rec.incident.is_some() => {
            let raise_to = match open_incident_for_group {
                Some((id, sev)) if Some(id) == rec.incident => raise(sev),
                _ => None,
            };
            if raise_to.is_some() {
                rec.severity = ctx.severity;
            }
            (AlertOutcome::Repeat { incident: rec.incident, raise_to }, raise_to.is_some() && !ctx.inhibited)
        }
        // A first firing, a re-fire after a resolve, or a firing that opened nothing before
        // (it was silenced, or its incident has since been resolved).
        (_, AlertStatus::Firing) => {
            rec.status = AlertStatus::Firing;
            rec.resolved_at = None;
            rec.severity = ctx.severity;
            rec.group_key = ctx.group_key.clone();
            rec.incident = None;
            rec.suppressed = None;
            if ctx.silenced || ctx.in_maintenance {
                let why = if ctx.silenced { Suppression::Silenced } else { Suppression::Maintenance };
                rec.suppressed = Some(why);
                (AlertOutcome::Suppressed(why), false)
            } else if let Some((id, sev)) = open_incident_for_group {
                rec.incident = Some(id);
                let raise_to = raise(sev);
                (AlertOutcome::Join { incident: id, raise_to }, raise_to.is_some() && !ctx.inhibited)
            } else {
                (AlertOutcome::Open { title: incoming.title(), severity: ctx.severity }, !ctx.inhibited)
            }
        }
    };
    AlertDecision { record: rec, outcome, page, became_flapping }
}

impl AlertDecision {
    /// Whether this decision only counts a firing alert again: nothing happens to any incident,
    /// and the new record differs from `known` in its count and last-seen time alone. Such
    /// repeats are most of any alert stream (Alertmanager re-sends every firing alert of a
    /// group each `group_interval`), so the store may log them compactly instead of rewriting
    /// the record.
    pub fn is_plain_repeat(&self, known: Option<&AlertRecord>) -> bool {
        let Some(k) = known else { return false };
        // Every field named, so a new one must be placed on one side or the other.
        let AlertRecord {
            fingerprint,
            source,
            status,
            count: _,
            first_seen,
            last_seen: _,
            resolved_at,
            incident,
            group_key,
            severity,
            transitions,
            flapping,
            suppressed,
        } = &self.record;
        matches!(self.outcome, AlertOutcome::Repeat { raise_to: None, .. })
            && !self.page
            && !self.became_flapping
            && *status == AlertStatus::Firing
            && k.status == AlertStatus::Firing
            && *fingerprint == k.fingerprint
            && *source == k.source
            && *first_seen == k.first_seen
            && *resolved_at == k.resolved_at
            && *incident == k.incident
            && *group_key == k.group_key
            && *severity == k.severity
            && *transitions == k.transitions
            && *flapping == k.flapping
            && *suppressed == k.suppressed
    }
}

/// The auto-resolve timer of one incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoResolve {
    /// Every alert has resolved: resolve the incident at this time unless one fires again.
    At(Timestamp),
    /// Something still fires (or the incident has no alerts, as when a person declared it):
    /// no timer, and any pending one is cancelled.
    Cancel,
}

/// Given the records of every alert attached to an incident, when the incident should resolve
/// by itself. The time counts from the last resolve, not from the call, so calling it again
/// (a repeated resolve notification, a retry) gives the same answer.
pub fn auto_resolve<'a>(alerts: impl IntoIterator<Item = &'a AlertRecord>, after: Duration) -> AutoResolve {
    let mut last: Option<Timestamp> = None;
    for a in alerts {
        if a.status == AlertStatus::Firing {
            return AutoResolve::Cancel;
        }
        let at = a.resolved_at.unwrap_or(a.last_seen);
        last = Some(last.map_or(at, |l| l.max(at)));
    }
    match last {
        Some(t) => AutoResolve::At(t.saturating_add(after.to_signed()).unwrap_or(t)),
        None => AutoResolve::Cancel,
    }
}
