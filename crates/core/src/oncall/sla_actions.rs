//! What the SLA targets demand of the engine, as pure decisions. The deadlines are inputs
//! (computed by [`crate::sla`] from the policy, or by anything else), so this file depends on
//! no incident internals:
//! - the response target passed without an acknowledgement: flag the breach and escalate now
//!   (the engine feeds `now` into [`super::escalate`] as a manual escalation);
//! - the resolution target passed while unresolved: notify the incident commander;
//! - a status update is due and none was posted: remind the comms lead, or the commander when
//!   there is no comms lead.
//!
//! A target is missed once `now` is strictly after its deadline, as in [`crate::sla`]. Each
//! action carries its deadline, so the same miss is reported once (the engine passes back the
//! actions it has taken) while a new update deadline can be reminded about again.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// One incident's clocks and people, as the engine knows them at `now`.
#[derive(Clone, Debug)]
pub struct SlaInput<'a> {
    pub acknowledged_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub response_deadline: Timestamp,
    pub resolution_deadline: Timestamp,
    /// When the next status update is due; `None` for "as needed".
    pub next_update_due: Option<Timestamp>,
    pub commander: Option<&'a str>,
    pub comms_lead: Option<&'a str>,
}

/// Who receives an update reminder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "role", content = "user", rename_all = "kebab-case")]
pub enum Recipient {
    CommsLead(String),
    Commander(String),
    /// Neither role is assigned: post to the incident's channel instead.
    IncidentChannel,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SlaAction {
    /// Mark the response target breached and escalate to the next step now.
    ResponseBreached { deadline: Timestamp },
    /// Tell the commander (or, with none, the incident channel) the resolution target passed.
    ResolutionOverdue { deadline: Timestamp, notify: Recipient },
    /// A status update was due at `due` and none was posted.
    UpdateReminder { due: Timestamp, to: Recipient },
}

impl SlaAction {
    /// Same kind and same deadline: the engine already did this.
    fn same_occasion(&self, other: &SlaAction) -> bool {
        use SlaAction::*;
        match (self, other) {
            (ResponseBreached { deadline: a }, ResponseBreached { deadline: b }) => a == b,
            (ResolutionOverdue { deadline: a, .. }, ResolutionOverdue { deadline: b, .. }) => a == b,
            (UpdateReminder { due: a, .. }, UpdateReminder { due: b, .. }) => a == b,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlaDecision {
    pub actions: Vec<SlaAction>,
    /// When to look again: the first instant another action could fall due (one millisecond
    /// past the nearest deadline, since a deadline is missed only once passed and the store
    /// keeps milliseconds). `None` when nothing else can happen.
    pub next_check: Option<Timestamp>,
}

/// The actions due at `now` that are not in `taken`.
pub fn sla_actions(input: &SlaInput<'_>, taken: &[SlaAction], now: Timestamp) -> SlaDecision {
    let mut actions = Vec::new();
    let mut next: Option<Timestamp> = None;
    if input.resolved_at.is_some() {
        return SlaDecision { actions, next_check: None };
    }
    let mut consider = |deadline: Timestamp, action: SlaAction, actions: &mut Vec<SlaAction>| {
        if now > deadline {
            if !taken.iter().any(|t| t.same_occasion(&action)) {
                actions.push(action);
            }
        } else {
            let check = deadline.saturating_add(SignedDuration::from_millis(1)).unwrap_or(deadline);
            next = Some(next.map_or(check, |n| n.min(check)));
        }
    };
    let commander = || input.commander.map_or(Recipient::IncidentChannel, |c| Recipient::Commander(c.into()));
    if input.acknowledged_at.is_none() {
        consider(
            input.response_deadline,
            SlaAction::ResponseBreached { deadline: input.response_deadline },
            &mut actions,
        );
    }
    consider(
        input.resolution_deadline,
        SlaAction::ResolutionOverdue { deadline: input.resolution_deadline, notify: commander() },
        &mut actions,
    );
    if let Some(due) = input.next_update_due {
        let to = input.comms_lead.map_or_else(commander, |c| Recipient::CommsLead(c.into()));
        consider(due, SlaAction::UpdateReminder { due, to }, &mut actions);
    }
    SlaDecision { actions, next_check: next }
}

/// How a reminder's recipient is written on the timeline: `comms-lead:bob`,
/// `commander:alice`, `incident-channel`.
impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::CommsLead(u) => write!(f, "comms-lead:{u}"),
            Recipient::Commander(u) => write!(f, "commander:{u}"),
            Recipient::IncidentChannel => f.write_str("incident-channel"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn input() -> SlaInput<'static> {
        SlaInput {
            acknowledged_at: None,
            resolved_at: None,
            response_deadline: ts("2026-11-23T10:15:00Z"),
            resolution_deadline: ts("2026-11-23T14:00:00Z"),
            next_update_due: Some(ts("2026-11-23T10:30:00Z")),
            commander: Some("ann"),
            comms_lead: None,
        }
    }

    #[test]
    fn each_missed_target_produces_its_action() {
        let ack = Some(ts("2026-11-23T10:05:00Z"));
        type Case = (&'static str, SlaInput<'static>, &'static str, Vec<SlaAction>);
        let cases: Vec<Case> = vec![
            ("nothing missed yet", input(), "2026-11-23T10:15:00Z", vec![]),
            (
                "response target passed without ack",
                input(),
                "2026-11-23T10:16:00Z",
                vec![SlaAction::ResponseBreached { deadline: ts("2026-11-23T10:15:00Z") }],
            ),
            (
                "acknowledged in time, update overdue goes to the commander without a comms lead",
                SlaInput { acknowledged_at: ack, ..input() },
                "2026-11-23T10:31:00Z",
                vec![SlaAction::UpdateReminder {
                    due: ts("2026-11-23T10:30:00Z"),
                    to: Recipient::Commander("ann".into()),
                }],
            ),
            (
                "update overdue goes to the comms lead when there is one",
                SlaInput { acknowledged_at: ack, comms_lead: Some("cal"), ..input() },
                "2026-11-23T10:31:00Z",
                vec![SlaAction::UpdateReminder {
                    due: ts("2026-11-23T10:30:00Z"),
                    to: Recipient::CommsLead("cal".into()),
                }],
            ),
            (
                "resolution target passed notifies the commander",
                SlaInput { acknowledged_at: ack, next_update_due: None, ..input() },
                "2026-11-23T14:00:01Z",
                vec![SlaAction::ResolutionOverdue {
                    deadline: ts("2026-11-23T14:00:00Z"),
                    notify: Recipient::Commander("ann".into()),
                }],
            ),
            (
                "without commander or comms lead the channel is told",
                SlaInput { acknowledged_at: ack, commander: None, next_update_due: None, ..input() },
                "2026-11-23T15:00:00Z",
                vec![SlaAction::ResolutionOverdue {
                    deadline: ts("2026-11-23T14:00:00Z"),
                    notify: Recipient::IncidentChannel,
                }],
            ),
            (
                "a resolved incident needs nothing",
                SlaInput { resolved_at: Some(ts("2026-11-23T15:00:00Z")), ..input() },
                "2026-11-23T16:00:00Z",
                vec![],
            ),
        ];
        for (name, inp, now, want) in cases {
            assert_eq!(sla_actions(&inp, &[], ts(now)).actions, want, "{name}");
        }
    }

    #[test]
    fn an_action_already_taken_is_not_repeated_but_a_new_update_deadline_is() {
        let now = ts("2026-11-23T10:31:00Z");
        let first = sla_actions(&input(), &[], now).actions;
        assert_eq!(first.len(), 2, "{first:?}");
        assert!(sla_actions(&input(), &first, now).actions.is_empty());
        let later = SlaInput { next_update_due: Some(ts("2026-11-23T11:00:00Z")), ..input() };
        let again = sla_actions(&later, &first, ts("2026-11-23T11:01:00Z")).actions;
        assert_eq!(
            again,
            vec![SlaAction::UpdateReminder { due: ts("2026-11-23T11:00:00Z"), to: Recipient::Commander("ann".into()) }]
        );
    }

    #[test]
    fn the_next_check_is_just_past_the_nearest_pending_deadline() {
        let d = sla_actions(&input(), &[], ts("2026-11-23T10:00:00Z"));
        assert_eq!(d.next_check, Some(ts("2026-11-23T10:15:00.001Z")));
        let d = sla_actions(&input(), &[], ts("2026-11-23T10:20:00Z"));
        assert_eq!(d.next_check, Some(ts("2026-11-23T10:30:00.001Z")));
        let done = SlaInput { resolved_at: Some(ts("2026-11-23T10:20:00Z")), ..input() };
        assert_eq!(sla_actions(&done, &[], ts("2026-11-23T10:20:00Z")).next_check, None);
    }
}
